"""Compiled inner loops of propensity-score matching (numba, already a dependency of econml).

Every loop works on scores sorted once in increasing order.  The ``k`` nearest
targets of a value are found by walking outwards from its insertion point and
taking the nearer of the two frontiers at each step (the left one on a tie):
O(k) per query after the O(n log n) sort, no distance matrix.  The walks run
once per unit and accumulate what the estimator needs on the fly, so no n x k
arrays of neighbours or gathered outcomes are formed.  Compiled functions are
cached on disk (``cache=True``): only the first call on a machine compiles.

>>> import numpy as np
>>> imputed, n_matched, K, Q = np.empty(2), np.empty(2, dtype=np.intp), np.zeros(3), np.zeros(3)
>>> match_sorted(np.array([0.9, 3.2]), np.array([0.0, 1.0, 3.0]), np.array([0, 1, 2]),
...              np.array([10.0, 20.0, 30.0]), 1, np.inf, imputed, n_matched, K, Q)
>>> imputed.tolist(), K.tolist()     # 0.9 is matched to 1.0, 3.2 to 3.0
([20.0, 30.0], [0.0, 1.0, 1.0])
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
def _record(i: int, chosen: np.ndarray, count: int, target_ids: np.ndarray, y: np.ndarray,
            imputed: np.ndarray, n_matched: np.ndarray, K: np.ndarray, Q: np.ndarray) -> None:
    """Source unit ``i`` matched to targets ``chosen[:count]`` (positions among the
    targets): its imputed outcome and match count, and each target's ``K_M`` (weight
    ``1 / count``) and squared weight.  ``imputed[i]`` is NaN without a match."""
    n_matched[i] = count
    if count == 0:
        imputed[i] = np.nan
        return
    w = 1.0 / count
    total = 0.0
    for step in range(count):
        unit = target_ids[chosen[step]]
        total += y[unit]
        K[unit] += w
        Q[unit] += w * w
    imputed[i] = total * w


@njit(cache=True, nogil=True)
def match_sorted(source: np.ndarray, targets: np.ndarray, target_ids: np.ndarray,
                 y: np.ndarray, k: int, width: float, imputed: np.ndarray,
                 n_matched: np.ndarray, K: np.ndarray, Q: np.ndarray) -> None:
    """Match each source unit to its ``k`` nearest targets within ``width``, with replacement.

    ``source`` and ``targets`` are scores in increasing order, so every insertion
    point comes from one merge pass (no binary search).  The walk stops early at
    the first target beyond ``width`` (the distances it meets never decrease) or
    when the targets run out.  For source unit ``i``: ``imputed[i]`` is the mean
    outcome ``y[target_ids[j]]`` of its matches and ``n_matched[i]`` their number;
    each match ``j`` adds ``1 / n_matched[i]`` to ``K[target_ids[j]]`` and its square
    to ``Q[target_ids[j]]`` (Abadie–Imbens match counts ``K_M`` and their squares).
    """
    n = source.shape[0]
    m = targets.shape[0]
    nearest = np.empty(k, dtype=np.intp)
    start = 0
    for i in range(n):
        v = source[i]
        while start < m and targets[start] < v:      # searchsorted (left), merged
            start += 1
        left, right = start - 1, start
        count = 0
        for _ in range(k):
            if left < 0 and right >= m:
                break
            dl = v - targets[left] if left >= 0 else np.inf
            dr = targets[right] - v if right < m else np.inf
            if dr < dl:
                if dr > width:
                    break
                nearest[count] = right
                right += 1
            else:
                if dl > width:
                    break
                nearest[count] = left
                left -= 1
            count += 1
        _record(i, nearest, count, target_ids, y, imputed, n_matched, K, Q)


@njit(cache=True, nogil=True)
def within_arm_variance(scores: np.ndarray, y: np.ndarray, J: int, out: np.ndarray) -> None:
    """``out[i] = J/(J+1) (y_i - mean of its J nearest other units)^2`` (Abadie–Imbens).

    ``scores`` are one arm's scores in increasing order (more than ``J`` of them)
    and ``y`` its outcomes in that order.
    """
    m = scores.shape[0]
    factor = J / (J + 1.0)
    for i in range(m):
        v = scores[i]
        left, right = i - 1, i + 1
        total = 0.0
        for _ in range(J):
            dl = v - scores[left] if left >= 0 else np.inf
            dr = scores[right] - v if right < m else np.inf
            if dr < dl:
                total += y[right]
                right += 1
            else:
                total += y[left]
                left -= 1
        resid = y[i] - total / J
        out[i] = factor * resid * resid


@njit(cache=True, nogil=True)
def arm_covariance_weights(scores: np.ndarray, in_arm: np.ndarray, arm_scores: np.ndarray,
                           arm_y: np.ndarray, weight: np.ndarray, L: int, k: int,
                           acc: np.ndarray, imputed: np.ndarray) -> None:
    """One arm's part of the Abadie–Imbens (2016) estimated-score adjustment.

    For every unit ``i`` (``scores`` sorted; ``in_arm`` marks the arm's members,
    whose scores and outcomes in the same order are ``arm_scores`` / ``arm_y``),
    walk to its ``max(L, k)`` nearest members (the unit itself first when it is
    a member and has no tie).  The first ``L`` give the local covariance of the
    outcome with the design: ``acc[member] += weight[i] (y_member - ybar_i)``
    over those ``L`` (then ``cov(i) = sum_l Z_l (y_l - ybar_i) / (L - 1)`` and
    one product of ``Z'`` with ``acc`` sums them all).  For units outside the
    arm, ``imputed[i]`` is the mean outcome of their first ``k`` members (their
    matches in the arm); members get their own outcome.
    """
    n = scores.shape[0]
    m = arm_scores.shape[0]
    width = max(L, k)
    nearest = np.empty(width, dtype=np.intp)
    before = 0                             # members strictly before position i
    for i in range(n):
        v = scores[i]
        right = before
        left = right - 1
        for step in range(width):
            dl = v - arm_scores[left] if left >= 0 else np.inf
            dr = arm_scores[right] - v if right < m else np.inf
            if dr < dl:
                nearest[step] = right
                right += 1
            else:
                nearest[step] = left
                left -= 1
        total = 0.0
        for step in range(L):
            total += arm_y[nearest[step]]
        ybar = total / L
        w = weight[i]
        for step in range(L):
            j = nearest[step]
            acc[j] += w * (arm_y[j] - ybar)
        if in_arm[i]:
            imputed[i] = arm_y[before]
            before += 1
        else:
            total = 0.0
            for step in range(k):
                total += arm_y[nearest[step]]
            imputed[i] = total / k


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
                 n_matched: np.ndarray, K: np.ndarray, Q: np.ndarray) -> None:
    """Greedy nearest-neighbour matching without replacement; the outputs of
    :func:`match_sorted` (each target is used at most once, so ``K`` is 0 or ``1/count``).

    ``source`` and ``targets`` are scores in increasing order.  ``k`` rounds; in
    each, every source unit still matching takes its nearest still-available target
    within ``width``, the highest score first (ties: the earlier unit first, as
    MatchIt's ``m.order = "largest"``).  Available targets are found through two
    union-find structures over target positions ("next free at or right of / left
    of"), so each query is near O(1).
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
            right[j] = j + 1
            left[j + 1] = j
            chosen[i, count[i]] = j
            count[i] += 1
            active[still] = i
            still += 1
        n_active = still
    for i in range(n):
        _record(i, chosen[i], count[i], target_ids, y, imputed, n_matched, K, Q)


__all__ = ["arm_covariance_weights", "match_greedy", "match_sorted", "radix_argsort",
           "within_arm_variance"]
