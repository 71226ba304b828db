"""Rosenbaum bounds for matched designs (Rosenbaum 2002, Observational Studies, ch. 4).

Within a matched set, hidden bias of at most Γ means two units' odds of
treatment differ by at most a factor Γ.  For each Γ the p-value of the test of
no effect, and the Hodges-Lehmann estimate of an additive effect, are bounded:

* matched pairs: Wilcoxon's signed-rank statistic ``T`` (average ranks for
  ties).  A zero difference is ranked with the others and then contributes
  nothing (``zeros="pratt"``, Pratt 1959: the convention of Rosenbaum 2002,
  Sec. 4.3, and of his ``DOS2::senWilcox``, where ``rank(|d|) * (|d| > 0)`` are
  the scores), or is dropped before ranking (``zeros="wilcox"``: R's
  ``wilcox.test`` and ``rbounds::psens``); without zeros the two agree.  Its
  worst case is a sum of independent
  ``rank_i * Bernoulli(Γ / (1 + Γ))`` (best case ``1 / (1 + Γ)``); the bound is
  computed exactly (a convolution over the rank sums) up to
  :data:`EXACT_MAX_PAIRS` pairs and from the normal approximation above;
* one treated unit with ``k`` controls (1:k, or one control with ``k`` treated
  for the ATC): the aligned-rank statistic (responses centred at their set
  mean, ranked over all sets; ``T`` is the sum of the treated units' ranks)
  with the asymptotically separable approximation of Gastwirth, Krieger &
  Rosenbaum (2000): in each set the unobserved ``u`` that maximizes the
  expectation of the set's score (ties: the variance) is one of the
  "top-a units have u = 1" patterns, and the bound is the normal tail with the
  summed means and variances;
* matching with replacement (controls reused across matched sets): the units
  linked by the matches form disjoint strata, analysed by
  :mod:`causalkit.sensitivity.rosenbaum_strata` (stratified aligned ranks).

The Hodges-Lehmann bounds solve ``T(τ) = E_Γ(τ)`` for the statistic of the
responses with ``τ`` removed from the treated, at the largest and smallest
expectation (found by bisection on ``τ``, O(n log n) per step).  The critical
Γ is the smallest at which the upper bound on the one-sided p-value exceeds
``alpha``.

Example
-------
>>> import numpy as np
>>> from causalkit.sensitivity.rosenbaum import rosenbaum_bounds
>>> rng = np.random.default_rng(0)
>>> control = rng.normal(size=40); treated = control + 1.0 + rng.normal(size=40)
>>> table = rosenbaum_bounds(treated, control, gammas=[1, 2, 3])
>>> list(table.columns)
['gamma', 'p_upper', 'p_lower', 'hl_lower', 'hl_upper']
>>> bool(table.p_upper.is_monotonic_increasing), table.attrs["gamma_critical"] > 1
(True, True)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, OptionError, SensitivityNotApplicableError
from ..inference import check_alpha
from ._common import unweighted_call_of, check_same_fit, require_data, require_method

#: Pairs up to this many use the exact worst-case distribution of the signed-rank statistic.
EXACT_MAX_PAIRS = 300

DEFAULT_GAMMAS: tuple[float, ...] = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)


# ---------------------------------------------------------------- pairs: signed rank
#: How zero pair differences are ranked (see the module docstring).
ZERO_CONVENTIONS = ("pratt", "wilcox")


def signed_ranks(d: np.ndarray, zeros: str = "pratt") -> tuple[np.ndarray, float]:
    """The ranks of the non-zero ``|d|`` (average ranks for ties) and the signed-rank
    statistic ``T``; zeros are ranked with the others and then dropped (``"pratt"``) or
    dropped first (``"wilcox"``).

    >>> signed_ranks(np.array([1.0, -2.0, 3.0, 0.0]))
    (array([2., 3., 4.]), 6.0)
    >>> signed_ranks(np.array([1.0, -2.0, 3.0, 0.0]), zeros="wilcox")
    (array([1., 2., 3.]), 4.0)
    """
    if zeros not in ZERO_CONVENTIONS:
        raise OptionError(f"zeros must be one of {ZERO_CONVENTIONS}, got {zeros!r}")
    if zeros == "wilcox":
        d = d[d != 0]
    ranks = stats.rankdata(np.abs(d))
    nonzero = d != 0
    ranks, d = ranks[nonzero], d[nonzero]
    return ranks, float(ranks[d > 0].sum())


def exact_tail(ranks: np.ndarray, p: float, t_obs: float) -> float:
    """``P(sum_i ranks_i B_i >= t_obs)`` for independent ``B_i ~ Bernoulli(p)``, exactly.

    Average ranks are multiples of 1/2, so the sum runs over the integers ``2 r``.

    >>> exact_tail(np.array([1.0, 2.0]), 0.5, 2.0)
    0.5
    """
    r2 = np.rint(2 * ranks).astype(np.int64)
    dist = np.zeros(int(r2.sum()) + 1)
    dist[0] = 1.0
    top = 0
    for r in r2:
        new = dist[: top + r + 1] * 0.0
        new[: top + 1] += (1 - p) * dist[: top + 1]
        new[r: top + r + 1] += p * dist[: top + 1]
        top += int(r)
        dist[: top + 1] = new
    k = int(math.ceil(2 * t_obs - 1e-9))
    return float(min(1.0, max(0.0, dist[k:].sum())))


def _pair_p(ranks: np.ndarray, t_obs: float, p: float, exact: bool) -> float:
    if exact:
        return exact_tail(ranks, p, t_obs)
    mean, var = p * ranks.sum(), p * (1 - p) * (ranks**2).sum()
    return float(stats.norm.sf((t_obs - mean) / math.sqrt(var)))


# ---------------------------------------------------------------- 1:k: aligned ranks
def aligned_scores(y: np.ndarray) -> np.ndarray:
    """Aligned ranks: ``y`` (sets x units) centred at each set's mean, ranked over all sets."""
    aligned = y - y.mean(axis=1, keepdims=True)
    return stats.rankdata(aligned.ravel()).reshape(y.shape)


def separable_moments(q: np.ndarray, gamma: float, largest: bool = True
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per-set mean and variance of the treated unit's score at the worst-case ``u``.

    ``q`` holds each set's scores (sets x units).  For ``largest`` the ``a``
    highest-scored units get ``u = 1`` with the ``a`` (0 < a < size) that
    maximizes the mean, ties broken by the larger variance (Gastwirth, Krieger &
    Rosenbaum 2000); otherwise the same on ``-q``, minimizing the mean.
    """
    if not largest:
        mean, var = separable_moments(-q, gamma, True)
        return -mean, var
    qs = -np.sort(-q, axis=1)
    size = q.shape[1]
    best_mean = np.full(q.shape[0], -np.inf)
    best_var = np.zeros(q.shape[0])
    c1, c2 = np.cumsum(qs, axis=1), np.cumsum(qs**2, axis=1)
    s1, s2 = c1[:, -1], c2[:, -1]
    for a in range(1, size):
        denom = a * gamma + size - a
        mean = (gamma * c1[:, a - 1] + (s1 - c1[:, a - 1])) / denom
        var = (gamma * c2[:, a - 1] + (s2 - c2[:, a - 1])) / denom - mean**2
        tol = 1e-12 * np.maximum(1.0, np.abs(mean))
        better = (mean > best_mean + tol) | ((np.abs(mean - best_mean) <= tol)
                                             & (var > best_var))
        best_mean = np.where(better, mean, best_mean)
        best_var = np.where(better, var, best_var)
    return best_mean, best_var


def _sets_p(y_sets: np.ndarray, treated_col: int, gamma: float, largest: bool) -> float:
    q = aligned_scores(y_sets)
    t_obs = float(q[:, treated_col].sum())
    mean, var = separable_moments(q, gamma, largest)
    return float(stats.norm.sf((t_obs - mean.sum()) / math.sqrt(var.sum())))


# ---------------------------------------------------------------- Hodges-Lehmann
def _solve_tau(gap: Any, lo: float, hi: float, tol: float) -> float:
    """The crossing of the non-increasing ``gap(τ)``: midpoint of sup{gap > 0} and inf{gap < 0}."""
    def edge(strict_positive: bool) -> float:
        a, b = lo, hi
        for _ in range(200):
            if b - a <= tol:
                break
            mid = 0.5 * (a + b)
            g = gap(mid)
            if (g > 0) if strict_positive else (g >= 0):
                a = mid
            else:
                b = mid
        return 0.5 * (a + b)

    return 0.5 * (edge(True) + edge(False))


def _hl_pairs(d: np.ndarray, p: float) -> float:
    """HL estimate at the expectation ``p * sum(ranks)``: solve ``T(d - τ) = p n(n+1)/2``."""
    n = len(d)
    target = p * n * (n + 1) / 2

    def gap(tau: float) -> float:
        e = d - tau
        ranks = stats.rankdata(np.abs(e))
        return float(ranks[e > 0].sum() + 0.5 * ranks[e == 0].sum()) - target

    span = float(np.ptp(d)) + 1.0
    return _solve_tau(gap, float(d.min()) - span, float(d.max()) + span, 1e-9 * span)


def _hl_sets(y_sets: np.ndarray, treated_col: int, gamma: float, largest: bool) -> float:
    def gap(tau: float) -> float:
        shifted = y_sets.copy()
        shifted[:, treated_col] -= tau
        q = aligned_scores(shifted)
        mean, _ = separable_moments(q, gamma, largest)
        return float(q[:, treated_col].sum() - mean.sum())

    spread = float(np.ptp(y_sets)) + 1.0
    return _solve_tau(gap, -2 * spread, 2 * spread, 1e-9 * spread)


# ---------------------------------------------------------------- the table
def _check_gammas(gammas: Sequence[float]) -> np.ndarray:
    g = np.atleast_1d(np.asarray(gammas, dtype=float))
    if not len(g) or not np.all(np.isfinite(g)) or np.any(g < 1):
        raise OptionError(f"gammas must be finite numbers >= 1, got {list(gammas)!r}")
    return np.unique(g)


def rosenbaum_bounds(treated: Any, control: Any, gammas: Sequence[float] = DEFAULT_GAMMAS,
                     alpha: float = 0.05, method: str = "auto", zeros: str = "pratt"
                     ) -> pd.DataFrame:
    """Rosenbaum bounds from matched outcomes.

    Parameters
    ----------
    treated
        The treated unit's outcome in each matched set (length ``S``).
    control
        The controls' outcomes: length ``S`` for pairs, or ``S x k`` for 1:k sets.
    gammas
        The values of Γ >= 1.
    alpha
        Level at which the critical Γ is reported (``table.attrs["gamma_critical"]``).
    method
        Pairs only: ``"exact"``, ``"normal"``, or ``"auto"`` (exact up to
        :data:`EXACT_MAX_PAIRS` pairs).
    zeros
        Pairs only: how zero differences are ranked, ``"pratt"`` (Rosenbaum's
        convention) or ``"wilcox"`` (R's ``wilcox.test``); see the module docstring.
        The Hodges-Lehmann bounds do not depend on it (``d - tau`` has no zeros at
        the crossing).

    Returns
    -------
    DataFrame with ``gamma, p_upper, p_lower, hl_lower, hl_upper``; ``attrs``
    holds ``gamma_critical``, ``alpha``, ``n_sets``, ``statistic``, ``method``.
    The test is one-sided in the direction of the observed effect.
    """
    alpha = check_alpha(alpha)
    g = _check_gammas(gammas)
    yt = np.asarray(treated, dtype=float).ravel()
    yc = np.asarray(control, dtype=float)
    if yc.ndim == 1:
        yc = yc[:, None]
    if yc.ndim != 2 or yc.shape[0] != len(yt):
        raise DataError(f"control must have one row per matched set ({len(yt)}), got shape "
                        f"{np.shape(control)}")
    if not (np.all(np.isfinite(yt)) and np.all(np.isfinite(yc))):
        raise DataError("matched outcomes hold NaN or infinite values")
    if method not in ("auto", "exact", "normal"):
        raise OptionError(f"method must be 'auto', 'exact' or 'normal', got {method!r}")
    if zeros not in ZERO_CONVENTIONS:
        raise OptionError(f"zeros must be one of {ZERO_CONVENTIONS}, got {zeros!r}")
    pairs = yc.shape[1] == 1
    diff = yt - yc.mean(axis=1)
    sign = 1.0 if np.median(diff) >= 0 else -1.0          # test in the effect's direction
    if pairs:
        d = sign * (yt - yc[:, 0])
        ranks, t_obs = signed_ranks(d, zeros)
        if len(ranks) < 2:
            raise DataError("fewer than two matched pairs with a non-zero difference")
        exact = method == "exact" or (method == "auto" and len(ranks) <= EXACT_MAX_PAIRS)

        def p_at(gamma: float, upper: bool = True) -> float:
            p = gamma / (1 + gamma) if upper else 1 / (1 + gamma)
            return _pair_p(ranks, t_obs, p, exact)

        def hl_at(gamma: float) -> tuple[float, float]:
            lo = _hl_pairs(d, gamma / (1 + gamma))
            hi = _hl_pairs(d, 1 / (1 + gamma))
            return lo, hi
        used = ("exact" if exact else "normal") + f" signed-rank (zeros: {zeros})"
        statistic = t_obs
    else:
        if len(yt) < 2:
            raise DataError("fewer than two matched sets")
        y_sets = np.column_stack([sign * yt, sign * yc])

        def p_at(gamma: float, upper: bool = True) -> float:
            return _sets_p(y_sets, 0, gamma, largest=upper)

        def hl_at(gamma: float) -> tuple[float, float]:
            return (_hl_sets(y_sets, 0, gamma, largest=True),
                    _hl_sets(y_sets, 0, gamma, largest=False))
        used = "aligned-rank, separable normal approximation"
        statistic = float(aligned_scores(y_sets)[:, 0].sum())
    rows = []
    for gamma in g:
        lo, hi = hl_at(gamma)
        hl = sorted((sign * lo, sign * hi))
        rows.append({"gamma": gamma, "p_upper": p_at(gamma), "p_lower": p_at(gamma, False),
                     "hl_lower": hl[0], "hl_upper": hl[1]})
    table = pd.DataFrame(rows, columns=["gamma", "p_upper", "p_lower", "hl_lower", "hl_upper"])
    critical = critical_gamma(p_at, alpha)
    table.attrs.update(gamma_critical=critical, alpha=alpha, n_sets=len(yt),
                       statistic=statistic, method=used, direction="greater" if sign > 0
                       else "less",
                       summary_line=(f"Rosenbaum bounds ({used}): significance at "
                                     f"alpha={alpha:g} lost at Gamma = {critical:.3g}"))
    return table


def critical_gamma(p_at: Any, alpha: float, top: float = 1e4) -> float:
    """The smallest Γ whose upper-bound p-value exceeds ``alpha`` (bisection on log Γ).

    1 when the effect is not significant without bias; ``inf`` beyond ``top``.
    """
    if p_at(1.0) > alpha:
        return 1.0
    if p_at(top) <= alpha:
        return math.inf
    lo, hi = 0.0, math.log(top)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if p_at(math.exp(mid)) > alpha:
            hi = mid
        else:
            lo = mid
    return float(math.exp(hi))


# ---------------------------------------------------------------- from a matching Effect
def greedy_matched_sets(score: np.ndarray, t: np.ndarray, source_arm: int, k: int,
                        width: float) -> list[tuple[int, list[int]]]:
    """Greedy nearest-neighbour matching without replacement on ``score``, as
    ``propensity_matching(replace=False)`` does: ``k`` rounds, in each every source
    unit still matching (highest score first, ties by order) takes its nearest
    still-free target within ``width`` (the higher one on a tie).

    Returns ``(source index, [target indices])`` for the sources with a match.

    >>> greedy_matched_sets(np.array([0.0, 0.1, 1.0, 0.9]), np.array([1, 0, 1, 0]), 1, 1, 5.0)
    [(0, [1]), (2, [3])]
    """
    src = np.flatnonzero(t == source_arm)
    tgt = np.flatnonzero(t != source_arm)
    src = src[np.argsort(score[src], kind="stable")]
    tgt = tgt[np.argsort(score[tgt], kind="stable")]
    ts = score[tgt]
    m = len(tgt)
    start = np.searchsorted(ts, score[src])
    right = list(range(m + 1))
    left = list(range(m + 1))

    def find(parent: list[int], i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    order = sorted(range(len(src)), key=lambda i: (-score[src[i]], i))
    chosen: dict[int, list[int]] = {i: [] for i in order}
    active = order
    for _ in range(k):
        still = []
        for i in active:
            v = score[src[i]]
            r = find(right, int(start[i]))
            lft = find(left, int(start[i])) - 1
            dr = ts[r] - v if r < m else math.inf
            dl = v - ts[lft] if lft >= 0 else math.inf
            j, dj = (r, dr) if dr <= dl else (lft, dl)
            if dj > width or j < 0 or j >= m:
                continue
            right[j] = j + 1
            left[j + 1] = j
            chosen[i].append(j)
            still.append(i)
        active = still
    return [(int(src[i]), [int(tgt[j]) for j in chosen[i]]) for i in sorted(chosen)
            if chosen[i]]


def rosenbaum(effect: Any, gammas: Sequence[float] = DEFAULT_GAMMAS, *, data: Any = None,
              alpha: float = 0.05, method: str = "auto", zeros: str = "pratt"
              ) -> pd.DataFrame:
    """Rosenbaum bounds for a ``propensity_matching`` effect (ATT or ATC).

    The matched sets are rebuilt from the effect's recorded logit scores,
    caliper and options (and checked to reproduce its estimate); ``data`` is the
    DataFrame it was estimated on.

    * Without replacement: pairs (``n_neighbors=1``) use the signed-rank
      statistic, 1:k sets the aligned-rank statistic.
    * With replacement (controls reused across matched sets, ties kept): units
      linked by a match form one stratum (a reused control with every unit that
      used it; :mod:`causalkit.sensitivity.rosenbaum_strata`), and the stratified
      aligned-rank statistic is bounded (Rosenbaum & Krieger 1990; Gastwirth,
      Krieger & Rosenbaum 2000).  When no control is reused every stratum is a
      pair and the signed-rank method above applies.  The test and the
      Hodges-Lehmann estimate refer to these strata, not to the matching
      estimator's weights.  The ATE (both arms matched) chains the strata into
      few large ones and is refused.

    ``method`` and ``zeros`` (how zero pair differences are ranked) are those of
    :func:`rosenbaum_bounds`.  See it and
    :func:`~causalkit.sensitivity.rosenbaum_strata.stratified_bounds` for
    matched outcomes you have yourself.
    """
    require_method(effect, "rosenbaum")
    call = unweighted_call_of(effect, "Rosenbaum's sensitivity analysis")
    replace = bool(call.get("replace", True))
    if replace and effect.estimand == "ATE":
        raise SensitivityNotApplicableError(
            "Rosenbaum bounds after matching with replacement stratify the units linked by "
            "the matches of one arm (ATT or ATC); for the ATE both arms are matched and the "
            "strata chain into a few large ones. Refit propensity_matching with "
            "estimand='ATT' or 'ATC' (with or without replacement), or use evalue")
    data = require_data(data, "rosenbaum")
    from ..validation import prepare

    d = prepare(data, call["treatment"], call["outcome"], call["covariates"], min_per_arm=1)
    diag = effect.diagnostics
    if "logit_score" in diag:
        full = np.asarray(diag["logit_score"], dtype=float)
        keep = np.isfinite(full)
        score = np.where(keep, full, 0.0)
    else:
        raw = diag["propensity"]["score"].to_numpy(dtype=float)
        keep = np.ones(len(raw), dtype=bool)
        if call.get("trim") is not None:
            keep = (raw >= call["trim"]) & (raw <= 1 - call["trim"])
        raw = np.clip(raw, 1e-12, 1 - 1e-12)
        score = np.log(raw) - np.log1p(-raw)
    idx = np.flatnonzero(keep)
    source_arm = 1 if effect.estimand == "ATT" else 0
    k = int(call.get("n_neighbors", 1))
    width = float(diag["caliper_width_logit"])
    y, t = d.y[idx], d.t[idx]
    if replace:
        return _with_replacement(effect, score[idx], y, t, source_arm, k, width, gammas, alpha,
                                 method, zeros)
    sets = greedy_matched_sets(score[idx], t, source_arm, k, width)
    if any(len(c) != k for _, c in sets):
        sets = [(s, c) for s, c in sets if len(c) == k]     # complete sets only
        partial = True
    else:
        partial = False
    own = np.array([y[s] for s, _ in sets])
    others = np.array([[y[j] for j in c] for _, c in sets])
    if not partial:
        est = float(np.mean(own - others.mean(axis=1)))
        check_same_fit(effect, est if source_arm == 1 else -est, "rosenbaum", tol=1e-8)
    table = _bounds_of_sets(own, others, source_arm, gammas, alpha, method, zeros)
    table.attrs["partial_sets_dropped"] = partial
    return table


def _bounds_of_sets(own: np.ndarray, others: np.ndarray, source_arm: int,
                    gammas: Sequence[float], alpha: float, method: str,
                    zeros: str = "pratt") -> pd.DataFrame:
    if source_arm == 1:
        return rosenbaum_bounds(own, others, gammas, alpha=alpha, method=method, zeros=zeros)
    # ATC: one control with k treated.  The sensitivity model is symmetric in the
    # labels, so the control is the set's distinguished unit on the negated outcome,
    # whose "single minus others" difference is again treated minus control.
    return rosenbaum_bounds(-own, -others, gammas, alpha=alpha, method=method, zeros=zeros)


def _with_replacement(effect: Any, score: np.ndarray, y: np.ndarray, t: np.ndarray,
                      source_arm: int, k: int, width: float, gammas: Sequence[float],
                      alpha: float, method: str, zeros: str = "pratt") -> pd.DataFrame:
    from .rosenbaum_strata import replacement_strata, stratified_bounds

    labels, sets = replacement_strata(score, t, source_arm, k, width)
    if not sets:
        raise DataError("no matched set to analyse")
    est = float(np.mean([y[s] - y[c].mean() for s, c in sets]))
    check_same_fit(effect, est if source_arm == 1 else -est, "rosenbaum", tol=1e-8)
    inside = labels >= 0
    sizes = np.bincount(labels[inside])
    if np.all(sizes == 2):                     # no control reused, no ties: matched pairs
        pairs = sorted(sets)
        own = np.array([y[s] for s, _ in pairs])
        other = np.array([y[c[0]] for _, c in pairs])
        table = _bounds_of_sets(own, other, source_arm, gammas, alpha, method, zeros)
    else:
        if method == "exact":
            raise OptionError("method='exact' is for matched pairs; matching with "
                              "replacement reused controls, so the strata are analysed "
                              "with the separable normal approximation (method='auto')")
        table = stratified_bounds(y[inside], t[inside], labels[inside], gammas, alpha)
    table.attrs.update(partial_sets_dropped=False, replace=True,
                       n_strata=int(len(sizes)), n_matched_sets=len(sets),
                       largest_stratum=int(sizes.max()))
    return table
