"""Compiled inner loops of propensity-score matching (numba, already a dependency of econml).

Every loop works on scores sorted once in increasing order.  Units with equal
scores form a *run*: they are at the same distance from any other unit, so a
nearest-neighbour set either holds the whole run or none of it.  The nearest
neighbours of a value are found by walking outwards over the runs from its
insertion point, taking the nearer of the two frontier runs at each step, until
``k`` units are held; then every further run at exactly that ``k``-th distance
joins (the match set of Abadie & Imbens 2006, ``#J_M(i) >= M``, which R's
``Matching`` (``ties=TRUE``) and Stata's ``teffects`` use).  A match set is thus a
contiguous range of runs found in O(k) steps after the O(n log n) sort, however
large the runs are: sums over a run are formed once (:func:`score_runs`) and
per-unit match counts ``K_M`` are accumulated per run.  Distances are the
computed doubles ``v - s`` and ``s - v``; two distances tie when those doubles are
equal (equal scores always do).  No n x m distance matrix and no n x k arrays of
neighbours are formed.  Compiled functions are cached on disk (``cache=True``).

>>> import numpy as np
>>> runs = score_runs(np.array([0.0, 1.0, 1.0, 3.0]), np.array([10.0, 20.0, 40.0, 30.0]))
>>> runs[1].tolist(), runs[2].tolist()      # run sizes and outcome sums
([1, 2, 1], [10.0, 60.0, 30.0])
>>> imputed, n_matched = np.empty(2), np.empty(2, dtype=np.intp)
>>> K, Q = np.zeros(4), np.zeros(4)
>>> match_sorted(np.array([0.9, 3.2]), *runs, np.arange(4), 1, np.inf, imputed, n_matched, K, Q,
...              np.ones(2))
>>> imputed.tolist(), n_matched.tolist(), K.tolist()  # 0.9: both units at 1.0, each 1/2
([30.0, 30.0], [2, 1], [0.0, 0.5, 0.5, 1.0])
"""

from __future__ import annotations

import numpy as np
from numba import njit


#: Bits per digit of the radix sort (8 passes over 64-bit keys, 256 buckets each).
RADIX_BITS = 8


@njit(cache=True, nogil=True)
def radix_argsort(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable argsort of finite float64 ``values`` and the sorted values: LSD radix sort.

    Each float is mapped to an unsigned 64-bit key with the same order (flip all
    bits of negatives, the sign bit of the rest; ``-0.0`` counts as ``0.0``), then
    sorted by ``RADIX_BITS``-bit digits from the least significant, each pass a
    stable counting sort; a digit that all keys share is skipped.  O(n) and
    stable: the permutation equals ``numpy.argsort(values, kind="stable")``.
    """
    n = values.shape[0]
    bits = (values + 0.0).view(np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    keys = np.empty(n, dtype=np.uint64)
    for i in range(n):
        b = bits[i]
        keys[i] = ~b if b & sign else b | sign
    n_buckets = 1 << RADIX_BITS
    n_pass = 64 // RADIX_BITS
    mask = np.uint64(n_buckets - 1)
    counts = np.zeros((n_pass, n_buckets), dtype=np.intp)
    for i in range(n):                      # every pass's histogram in one read
        key = keys[i]
        for p in range(n_pass):
            counts[p, (key >> np.uint64(p * RADIX_BITS)) & mask] += 1
    order = np.arange(n)
    key_buffer = np.empty(n, dtype=np.uint64)
    order_buffer = np.empty(n, dtype=np.intp)
    for p in range(n_pass):
        count = counts[p]
        shared = False
        for d in range(n_buckets):
            if count[d] != 0:
                shared = count[d] == n
                break
        if shared:
            continue
        total = 0
        for d in range(n_buckets):          # bucket counts -> first output position
            c = count[d]
            count[d] = total
            total += c
        shift = np.uint64(p * RADIX_BITS)
        for i in range(n):
            key = keys[i]
            d = (key >> shift) & mask
            j = count[d]
            count[d] = j + 1
            key_buffer[j] = key
            order_buffer[j] = order[i]
        keys, key_buffer = key_buffer, keys
        order, order_buffer = order_buffer, order
    for i in range(n):                      # keys back to floats: the sorted values
        key = keys[i]
        keys[i] = key ^ sign if key & sign else ~key
    return order, keys.view(np.float64)


@njit(cache=True, nogil=True, inline="always")
def _mix(h: np.uint64) -> np.uint64:
    """The splitmix64 finaliser: a bijection of 64-bit words that scatters every bit."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


@njit(cache=True, nogil=True, inline="always")
def _fold(keys: np.ndarray, row: int, value: float, buffer: np.ndarray, bits: np.ndarray
          ) -> None:
    """Mix the bits of ``value`` (``-0.0`` as ``0.0``) into ``keys[row]``."""
    buffer[0] = value + 0.0
    keys[row] = _mix(keys[row] ^ bits[0])


@njit(cache=True, nogil=True)
def _hash_rows(X: np.ndarray, y: np.ndarray, t: np.ndarray, wanted: np.ndarray,
               keys: np.ndarray) -> None:
    """:func:`row_keys` of the rows where ``wanted`` is set, into ``keys``; column by
    column, so that every read of ``X`` (either memory order) walks down a column."""
    buffer = np.empty(1)
    bits = buffer.view(np.uint64)
    n = y.shape[0]
    for row in range(n):
        if wanted[row]:
            keys[row] = np.uint64(0x9E3779B97F4A7C15)
            _fold(keys, row, t[row], buffer, bits)
            _fold(keys, row, y[row], buffer, bits)
    for c in range(X.shape[1]):
        for row in range(n):
            if wanted[row]:
                _fold(keys, row, X[row, c], buffer, bits)


@njit(cache=True, nogil=True)
def row_keys(X: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's own data: ``t``, ``y`` and the row of ``X`` (``-0.0``
    hashed as ``0.0``).  The key orders tied units (:func:`order_ties`): a function of
    the row alone, so it moves with the row, and pseudo-random, so it is unrelated
    to the size of any value.

    >>> k = row_keys(np.array([[1.0], [2.0], [1.0]]), np.array([5.0, 5.0, 5.0]), np.array([1, 1, 1]))
    >>> bool(k[0] == k[2]), bool(k[0] == k[1])
    (True, False)
    """
    keys = np.empty(y.shape[0], dtype=np.uint64)
    _hash_rows(X, y, t, np.ones(y.shape[0], dtype=np.bool_), keys)
    return keys


@njit(cache=True, nogil=True)
def order_ties(order: np.ndarray, sorted_values: np.ndarray, X: np.ndarray, y: np.ndarray,
               t: np.ndarray) -> int:
    """Reorder, in place, each run of equal ``sorted_values`` by :func:`row_keys`.

    ``order[i]`` is the row at sorted position ``i``.  Within a run of equal values the
    rows are put in increasing order of their key, so the order of tied rows depends
    on what they hold, never on where they stood in the input.  Rows with identical
    content keep their input order (they are interchangeable).  O(n) when no values
    tie (keys are computed for tied rows only); a run of r rows costs O(r log r).
    Returns the number of rows in runs.
    """
    n = order.shape[0]
    wanted = np.zeros(y.shape[0], dtype=np.bool_)         # by row, as order's entries
    in_runs = 0
    for i in range(1, n):
        if sorted_values[i] == sorted_values[i - 1]:
            if not wanted[order[i - 1]]:
                wanted[order[i - 1]] = True
                in_runs += 1
            wanted[order[i]] = True
            in_runs += 1
    if in_runs == 0:
        return 0
    keys = np.empty(y.shape[0], dtype=np.uint64)
    _hash_rows(X, y, t, wanted, keys)
    i = 0
    while i < n:
        j = i + 1
        while j < n and sorted_values[j] == sorted_values[i]:
            j += 1
        if j - i > 1:
            block = order[i:j].copy()
            run_keys = np.empty(j - i, dtype=np.uint64)
            for q in range(j - i):
                run_keys[q] = keys[block[q]]
            perm = np.argsort(run_keys, kind="mergesort")
            for q in range(j - i):
                order[i + q] = block[perm[q]]
        i = j
    return in_runs


@njit(cache=True, nogil=True)
def score_runs(values: np.ndarray, y: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal ``values`` (sorted): each run's value, size and sum of ``y``, and
    ``run_of[i]``, the run of position ``i``.  O(n); without ties the values and
    outcomes themselves are the runs' (not copied)."""
    n = values.shape[0]
    tied = False
    for i in range(1, n):
        if values[i] == values[i - 1]:
            tied = True
            break
    if not tied:
        return values, np.ones(n, dtype=np.intp), y, np.arange(n)
    run_value = np.empty(n)
    run_count = np.empty(n, dtype=np.intp)
    run_ysum = np.empty(n)
    run_of = np.empty(n, dtype=np.intp)
    r = -1
    for i in range(n):
        if i == 0 or values[i] != values[i - 1]:
            r += 1
            run_value[r] = values[i]
            run_count[r] = 0
            run_ysum[r] = 0.0
        run_of[i] = r
        run_count[r] += 1
        run_ysum[r] += y[i]
    return run_value[:r + 1].copy(), run_count[:r + 1].copy(), run_ysum[:r + 1].copy(), run_of


@njit(cache=True, nogil=True, inline="always")
def _grow(run_value: np.ndarray, run_count: np.ndarray, run_ysum: np.ndarray, v: float,
          left: int, right: int, count: int, total: float, need: int, width: float
          ) -> tuple[int, int, int, float]:
    """Take runs outwards from the frontiers ``left`` / ``right`` (runs not yet held)
    until ``count >= need`` units are held, nearer frontier first (the lower one when
    both are at the same distance), never beyond ``width``; then every further run at
    exactly the distance of the last one taken (the ties at the ``need``-th distance).
    Returns the new frontiers (held runs: ``left + 1 .. right - 1``), count and outcome
    sum.  A ``count`` already ``>= need`` on entry (the own run) means a 0th distance."""
    n_runs = run_value.shape[0]
    last = 0.0
    while count < need:
        if left < 0 and right >= n_runs:
            break
        dl = v - run_value[left] if left >= 0 else np.inf
        dr = run_value[right] - v if right < n_runs else np.inf
        if dl <= dr:
            if dl > width:
                break
            count += run_count[left]
            total += run_ysum[left]
            left -= 1
            last = dl
        else:
            if dr > width:
                break
            count += run_count[right]
            total += run_ysum[right]
            right += 1
            last = dr
    if count >= need:
        while left >= 0 and v - run_value[left] == last:
            count += run_count[left]
            total += run_ysum[left]
            left -= 1
        while right < n_runs and run_value[right] - v == last:
            count += run_count[right]
            total += run_ysum[right]
            right += 1
    return left, right, count, total


@njit(cache=True, nogil=True)
def match_sorted(source: np.ndarray, run_value: np.ndarray, run_count: np.ndarray,
                 run_ysum: np.ndarray, run_of: np.ndarray, target_ids: np.ndarray, k: int,
                 width: float, imputed: np.ndarray, n_matched: np.ndarray, K: np.ndarray,
                 Q: np.ndarray, source_weight: np.ndarray) -> None:
    """Match each source unit to its ``k`` nearest targets and every target tied with
    the ``k``-th, within ``width``, with replacement.

    ``source`` are scores in increasing order, so every insertion point among the
    target runs (:func:`score_runs`; ``run_of[p]`` the run of target ``p``) comes from
    one merge pass.  The match set of source ``i`` is every target at a distance ``<=``
    both the ``k``-th smallest distance and ``width`` (fewer than ``k`` when the caliper
    binds; none: no match).  ``imputed[i]`` is the mean outcome over the set and
    ``n_matched[i]`` its size ``#J(i)``; each member ``p`` adds ``v_i / #J(i)`` to
    ``K[target_ids[p]]`` and its square to ``Q[target_ids[p]]`` (Abadie–Imbens ``K_M``
    and ``K'_M``; ``v = source_weight``, all ones without sampling weights),
    accumulated per run and handed to the members at the end.
    """
    n = source.shape[0]
    n_runs = run_value.shape[0]
    K_run = np.zeros(n_runs)
    Q_run = np.zeros(n_runs)
    start = 0
    for i in range(n):
        v = source[i]
        while start < n_runs and run_value[start] < v:      # searchsorted (left), merged
            start += 1
        left, right, count, total = _grow(run_value, run_count, run_ysum, v, start - 1,
                                          start, 0, 0.0, k, width)
        n_matched[i] = count
        if count == 0:
            imputed[i] = np.nan
            continue
        imputed[i] = total / count
        w = source_weight[i] / count
        for r in range(left + 1, right):
            K_run[r] += w
            Q_run[r] += w * w
    for p in range(run_of.shape[0]):
        K[target_ids[p]] += K_run[run_of[p]]
        Q[target_ids[p]] += Q_run[run_of[p]]


@njit(cache=True, nogil=True)
def within_arm_variance(run_value: np.ndarray, run_count: np.ndarray, run_ysum: np.ndarray,
                        run_of: np.ndarray, y: np.ndarray, J: int, out: np.ndarray) -> int:
    """``out[i] = H/(H+1) (y_i - mean of H_i)^2`` with ``H_i`` the ``J`` nearest other
    units of the arm and every unit tied with the ``J``-th, ``H = #H_i >= J``
    (Abadie–Imbens; ``H/(H+1)`` makes it unbiased for ``Var(y | x)``).

    One arm: its runs (:func:`score_runs`), ``run_of`` and outcomes ``y`` in score
    order (more than ``J`` units).  The other units of a unit's own run are at
    distance 0 and come first.  Returns the number of units with ``#H_i > J``.
    """
    m = y.shape[0]
    enlarged = 0
    for i in range(m):
        r = run_of[i]
        left, right, count, total = _grow(run_value, run_count, run_ysum, run_value[r],
                                          r - 1, r + 1, run_count[r] - 1,
                                          run_ysum[r] - y[i], J, np.inf)
        resid = y[i] - total / count
        out[i] = count / (count + 1.0) * resid * resid
        if count > J:
            enlarged += 1
    return enlarged


@njit(cache=True, nogil=True)
def arm_covariance_weights(scores: np.ndarray, in_arm: np.ndarray, run_value: np.ndarray,
                           run_count: np.ndarray, run_ysum: np.ndarray, run_of: np.ndarray,
                           arm_y: np.ndarray, weight: np.ndarray, L: int, k: int,
                           acc: np.ndarray, imputed: np.ndarray) -> None:
    """One arm's part of the Abadie–Imbens (2016) estimated-score adjustment.

    For every unit ``i`` (``scores`` sorted; ``in_arm`` marks the arm's members, whose
    runs are given and whose outcomes in score order are ``arm_y``), its set ``H_i``:
    the ``L`` nearest members and every member tied with the ``L``-th (a member's own
    run, itself included, at distance 0 first).  With ``ybar_i`` the mean outcome over
    ``H_i`` and ``w_i = weight[i] / (#H_i - 1)``, member ``j`` gets
    ``acc[j] = sum_i w_i (y_j - ybar_i)`` over the ``i`` whose set holds it, so that
    ``cov(i) = sum_j Z_j (y_j - ybar_i) / (#H_i - 1)`` for all ``i`` at once is one
    product of ``Z'`` with ``acc``.  Per run ``r`` (mean ``ybar_r``) that is
    ``A_r (y_j - ybar_r) + C_r`` with ``A_r = sum w_i`` and ``C_r = sum w_i (ybar_r -
    ybar_i)``: O(L) per unit however large the runs, with no cancellation.  For units
    outside the arm, ``imputed[i]`` is the mean outcome of their match set in the arm
    (``k`` nearest and ties, no caliper); members get their own outcome.
    """
    n = scores.shape[0]
    n_runs = run_value.shape[0]
    A_run = np.zeros(n_runs)
    C_run = np.zeros(n_runs)
    start = 0
    before = 0                             # members strictly before position i
    for i in range(n):
        v = scores[i]
        while start < n_runs and run_value[start] < v:
            start += 1
        left, right, count, total = _grow(run_value, run_count, run_ysum, v, start - 1,
                                          start, 0, 0.0, L, np.inf)
        ybar = total / count
        w = weight[i] / (count - 1)
        for r in range(left + 1, right):
            A_run[r] += w
            C_run[r] += w * (run_ysum[r] / run_count[r] - ybar)
        if in_arm[i]:
            imputed[i] = arm_y[before]
            before += 1
        else:
            left, right, count, total = _grow(run_value, run_count, run_ysum, v, start - 1,
                                              start, 0, 0.0, k, np.inf)
            imputed[i] = total / count
    for p in range(arm_y.shape[0]):
        r = run_of[p]
        acc[p] = A_run[r] * (arm_y[p] - run_ysum[r] / run_count[r]) + C_run[r]


@njit(cache=True, nogil=True, inline="always")
def _record(i: int, chosen: np.ndarray, count: int, target_ids: np.ndarray, y: np.ndarray,
            imputed: np.ndarray, n_matched: np.ndarray, K: np.ndarray, Q: np.ndarray,
            source_weight: np.ndarray) -> None:
    """Source unit ``i`` matched to targets ``chosen[:count]`` (positions among the
    targets): its imputed outcome and match count, and each target's ``K_M`` (weight
    ``v_i / count``, ``v = source_weight``) and squared weight.  ``imputed[i]`` is NaN
    without a match."""
    n_matched[i] = count
    if count == 0:
        imputed[i] = np.nan
        return
    w = source_weight[i] / count
    total = 0.0
    for step in range(count):
        unit = target_ids[chosen[step]]
        total += y[unit]
        K[unit] += w
        Q[unit] += w * w
    imputed[i] = total / count


@njit(cache=True, nogil=True)
def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:          # path compression
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


@njit(cache=True, nogil=True)
def match_greedy(source: np.ndarray, targets: np.ndarray, target_ids: np.ndarray,
                 y: np.ndarray, k: int, width: float, imputed: np.ndarray,
                 n_matched: np.ndarray, K: np.ndarray, Q: np.ndarray,
                 source_weight: np.ndarray) -> int:
    """Greedy nearest-neighbour matching without replacement; the outputs of
    :func:`_record` (each target is used at most once, so ``K`` is 0 or ``1/count``).

    ``source`` and ``targets`` are scores in increasing order, tied scores in the
    order of :func:`order_ties`.  ``k`` rounds; in each, every source unit still
    matching takes its nearest still-available target within ``width``, the highest
    score first (equal scores: earlier in the sorted order first).  Between two
    available targets at the same distance it takes the one above (higher score) over
    the one below, and within one side the one nearest in the sorted order.
    Available targets are found through two union-find structures over target
    positions ("next free at or right of / left of"), so each query is near O(1).
    Returns the number of matches for which another available target was at the
    same distance (ties settled by that rule).
    """
    m = targets.shape[0]
    n = source.shape[0]
    start = np.searchsorted(targets, source)
    active = np.empty(n, dtype=np.intp)        # descending score, ties in ascending order
    filled, hi = 0, n - 1
    while hi >= 0:
        lo = hi
        while lo > 0 and source[lo - 1] == source[hi]:
            lo -= 1
        for i in range(lo, hi + 1):
            active[filled] = i
            filled += 1
        hi = lo - 1
    right = np.arange(m + 1)           # right[i]: next free position >= i (m = none)
    left = np.arange(m + 1)            # left[i + 1]: next free position <= i, shifted (0 = none)
    chosen = np.empty((n, k), dtype=np.intp)
    count = np.zeros(n, dtype=np.intp)
    n_active = n
    settled = 0
    for _ in range(k):
        still = 0
        for a_idx in range(n_active):
            i = active[a_idx]
            v = source[i]
            r = _find(right, start[i])
            lft = _find(left, start[i]) - 1
            dr = targets[r] - v if r < m else np.inf
            dl = v - targets[lft] if lft >= 0 else np.inf
            j, dj = (r, dr) if dr <= dl else (lft, dl)
            if dj > width or j < 0 or j >= m:    # too far, or no target left
                continue
            if dr == dl:
                settled += 1
            elif j == r:
                nxt = _find(right, r + 1)
                if nxt < m and targets[nxt] - v == dj:
                    settled += 1
            else:
                nxt = _find(left, lft) - 1
                if nxt >= 0 and v - targets[nxt] == dj:
                    settled += 1
            right[j] = j + 1
            left[j + 1] = j
            chosen[i, count[i]] = j
            count[i] += 1
            active[still] = i
            still += 1
        n_active = still
    for i in range(n):
        _record(i, chosen[i], count[i], target_ids, y, imputed, n_matched, K, Q, source_weight)
    return settled


__all__ = ["arm_covariance_weights", "match_greedy", "match_sorted", "order_ties",
           "radix_argsort", "row_keys", "score_runs", "within_arm_variance"]
