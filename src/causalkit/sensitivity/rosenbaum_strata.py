"""Rosenbaum bounds for strata with several treated and several controls.

Matching *with* replacement reuses controls: the matched sets overlap and are
no longer the independent strata the sensitivity model of Rosenbaum (2002,
ch. 4) is stated for.  Linking every unit to the units it is matched to and
taking the connected components gives disjoint strata that were formed from
the covariates alone (a control used by several treated units is in one
stratum with all of them), so the randomization model applies to them: in
stratum ``s`` with ``n_s`` units of which ``m_s`` are treated, hidden bias of
at most Γ means ``P(Z = z) ∝ exp(γ z'u)`` over the ``z`` with ``m_s`` ones,
``u ∈ [0, 1]^{n_s}``, ``Γ = exp(γ)``.  With 1:1 matching on a continuous
score each stratum is one control with every treated unit that used it, the
structure of full matching (Hansen 2004).

The statistic is the stratified aligned-rank statistic (Hodges & Lehmann
1962): responses centred at their stratum mean, ranked over all strata, ``T``
the sum of the treated units' ranks.  Its bound uses the asymptotically
separable approximation (Gastwirth, Krieger & Rosenbaum 2000): in each
stratum the ``u`` that maximizes the expectation of the stratum's sum (ties:
the variance) is among the "``a`` highest-scored units have ``u = 1``"
patterns of Rosenbaum & Krieger (1990, JASA 85:493); under such a pattern the
number ``K`` of treated among the ``a`` units with ``u = 1`` is Fisher's
noncentral hypergeometric with odds Γ, and within the two groups the treated
are a simple random sample, which gives the stratum's mean and variance in
closed form.  The bound is the normal tail with the summed moments (as
Rosenbaum's ``senstrat`` R package does for stratified studies).  For strata
with one treated unit this is the 1:k method of
:mod:`causalkit.sensitivity.rosenbaum`.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> strata = np.repeat(np.arange(30), 3)
>>> t = np.tile([1, 1, 0], 30)
>>> y = t * 1.0 + rng.normal(size=90)
>>> table = stratified_bounds(y, t, strata, gammas=[1, 2])
>>> bool(table.p_upper[0] < table.p_upper[1]), table.attrs["n_strata"]
(True, 30)
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from ..errors import DataError
from ..inference import check_alpha

_COLUMNS = ["gamma", "p_upper", "p_lower", "hl_lower", "hl_upper"]


def noncentral_moments(n: int, m: int, a: int, gamma: float) -> tuple[float, float]:
    """Mean and variance of Fisher's noncentral hypergeometric ``K``: ``m`` draws from ``n``
    units of which ``a`` have odds ``gamma``.

    >>> noncentral_moments(4, 2, 2, 1.0)          # central: mean m a / n
    (1.0, 0.3333333333333333)
    """
    k = np.arange(max(0, m - (n - a)), min(a, m) + 1)
    logw = (special.gammaln(a + 1) - special.gammaln(k + 1) - special.gammaln(a - k + 1)
            + special.gammaln(n - a + 1) - special.gammaln(m - k + 1)
            - special.gammaln(n - a - m + k + 1) + k * math.log(gamma))
    w = np.exp(logw - logw.max())
    w /= w.sum()
    mean = float(w @ k)
    return mean, float(w @ (k - mean) ** 2)


@functools.lru_cache(maxsize=4096)
def _pattern_moments(n: int, m: int, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """``E[K]`` and ``Var[K]`` for every pattern ``a = 1 .. n - 1``."""
    out = np.array([noncentral_moments(n, m, a, gamma) for a in range(1, n)])
    return out[:, 0], out[:, 1]


def stratum_moments(q: np.ndarray, m: int, gamma: float, largest: bool = True
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Worst-case mean and variance of the sum of the ``m`` treated scores, per stratum.

    ``q`` holds strata of one size (strata x units).  For ``largest`` the pattern
    ``a`` (the ``a`` highest scores get ``u = 1``) that maximizes the mean is chosen,
    ties by the larger variance; otherwise the mean is minimized (the same on ``-q``).
    Given ``K`` (the treated among the ``a``), the treated in each group are a simple
    random sample of it, so ``Var = E[Var(T | K)] + Var(K) (mean_1 - mean_2)²``.

    >>> mean, var = stratum_moments(np.array([[3.0, 1.0, 2.0]]), 1, 1.0)
    >>> float(mean[0]), float(var[0])
    (2.0, 0.6666666666666666)
    """
    if not largest:
        mean, var = stratum_moments(-q, m, gamma, True)
        return -mean, var
    n = q.shape[1]
    qs = -np.sort(-q, axis=1)
    c1, c2 = np.cumsum(qs, axis=1)[:, :-1], np.cumsum(qs**2, axis=1)[:, :-1]
    s1, s2 = qs.sum(axis=1, keepdims=True), (qs**2).sum(axis=1, keepdims=True)
    a = np.arange(1, n, dtype=float)
    b = n - a
    m1, m2 = c1 / a, (s1 - c1) / b
    v1 = np.maximum(c2 / a - m1**2, 0.0)
    v2 = np.maximum((s2 - c2) / b - m2**2, 0.0)
    ek, vk = _pattern_moments(int(n), int(m), float(gamma))
    el = m - ek
    mean = ek * m1 + el * m2
    with np.errstate(invalid="ignore", divide="ignore"):
        w1 = np.where(a > 1, (a * ek - vk - ek**2) / (a - 1), 0.0)
        w2 = np.where(b > 1, (b * el - vk - el**2) / (b - 1), 0.0)
    var = vk * (m1 - m2) ** 2 + w1 * v1 + w2 * v2
    top = mean.max(axis=1, keepdims=True)
    tol = 1e-12 * np.maximum(1.0, np.abs(top))
    var_at_top = np.where(mean >= top - tol, var, -np.inf)
    return top[:, 0], var_at_top.max(axis=1)


class _Strata:
    """The strata grouped by shape (size, number treated), for vectorized moments."""

    def __init__(self, t: np.ndarray, stratum: np.ndarray) -> None:
        labels, inverse = np.unique(stratum, return_inverse=True)
        size = np.bincount(inverse)
        treated = np.bincount(inverse, weights=t).astype(int)
        self.n_strata = len(labels)
        self.inverse = inverse
        self.groups: list[tuple[int, np.ndarray]] = []     # (m, rows: strata x units)
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate([[0], np.cumsum(size)])
        members = [order[starts[s]:starts[s + 1]] for s in range(self.n_strata)]
        for shape in sorted(set(zip(size.tolist(), treated.tolist()))):
            n_s, m_s = shape
            if m_s == 0 or m_s == n_s:
                continue                                   # no variation: contributes nothing
            ids = [s for s in range(self.n_strata) if (size[s], treated[s]) == shape]
            self.groups.append((m_s, np.array([members[s] for s in ids])))
        if not self.groups:
            raise DataError("no stratum holds both treated and control units")

    def scores(self, y: np.ndarray) -> np.ndarray:
        """Aligned ranks: ``y`` centred at its stratum mean, ranked over all units."""
        means = np.bincount(self.inverse, weights=y) / np.bincount(self.inverse)
        return stats.rankdata(y - means[self.inverse])

    def moments(self, q: np.ndarray, gamma: float, largest: bool) -> tuple[float, float]:
        mean = var = 0.0
        for m_s, rows in self.groups:
            mu, v = stratum_moments(q[rows], m_s, gamma, largest)
            mean += float(mu.sum())
            var += float(v.sum())
        return mean, var


def stratified_bounds(y: Any, t: Any, stratum: Any, gammas: Sequence[float] = (1.0, 2.0),
                      alpha: float = 0.05) -> pd.DataFrame:
    """Rosenbaum bounds for a stratified (or overlapping-matches) design.

    Parameters
    ----------
    y, t, stratum
        Outcome, treatment (0/1) and stratum label of each unit.
    gammas, alpha
        The values of Γ >= 1, and the level of the critical Γ.

    Notes
    -----
    Strata with only treated or only control units are left out (they carry no
    information on the effect).

    Returns
    -------
    DataFrame with ``gamma, p_upper, p_lower, hl_lower, hl_upper``; ``attrs`` holds
    ``gamma_critical``, ``n_strata``, ``statistic``, ``method``, ``direction``.
    The test is one-sided in the direction of the observed effect.
    """
    from .rosenbaum import _check_gammas, _solve_tau, critical_gamma

    alpha = check_alpha(alpha)
    g = _check_gammas(gammas)
    y = np.asarray(y, dtype=float).ravel()
    t = np.asarray(t).ravel()
    stratum = np.asarray(stratum).ravel()
    if not (len(y) == len(t) == len(stratum)):
        raise DataError(f"y, t and stratum must have one entry per unit, got {len(y)}, "
                        f"{len(t)}, {len(stratum)}")
    if not np.all(np.isfinite(y)):
        raise DataError("the outcomes hold NaN or infinite values")
    if not np.isin(t, (0, 1)).all():
        raise DataError("t must be 0/1")
    t = t.astype(int)
    # strata without both arms carry no information on the effect: left out entirely
    _, inverse = np.unique(stratum, return_inverse=True)
    share = np.bincount(inverse, weights=t) / np.bincount(inverse)
    mixed = (share > 0) & (share < 1)
    keep = mixed[inverse]
    y, t, stratum = y[keep], t[keep], stratum[keep]
    strata = _Strata(t, stratum)
    if strata.n_strata < 2:
        raise DataError("fewer than two strata")
    q = strata.scores(y)
    mean1, _ = strata.moments(q, 1.0, True)
    sign = 1.0 if float(q[t == 1].sum()) >= mean1 else -1.0
    ys = sign * y
    q = strata.scores(ys)
    t_obs = float(q[t == 1].sum())

    def p_at(gamma: float, upper: bool = True) -> float:
        mean, var = strata.moments(q, gamma, upper)
        return float(stats.norm.sf((t_obs - mean) / math.sqrt(var)))

    def hl(gamma: float, largest: bool) -> float:
        def gap(tau: float) -> float:
            qq = strata.scores(ys - tau * t)
            mean, _ = strata.moments(qq, gamma, largest)
            return float(qq[t == 1].sum()) - mean

        spread = float(np.ptp(ys)) + 1.0
        return _solve_tau(gap, -2 * spread, 2 * spread, 1e-9 * spread)

    rows = []
    for gamma in g:
        est = sorted((sign * hl(gamma, True), sign * hl(gamma, False)))
        rows.append({"gamma": gamma, "p_upper": p_at(gamma), "p_lower": p_at(gamma, False),
                     "hl_lower": est[0], "hl_upper": est[1]})
    table = pd.DataFrame(rows, columns=_COLUMNS)
    method = ("stratified aligned-rank, separable normal approximation (Rosenbaum & Krieger "
              "1990; Gastwirth, Krieger & Rosenbaum 2000)")
    critical = critical_gamma(p_at, alpha)
    table.attrs.update(gamma_critical=critical, alpha=alpha, n_strata=strata.n_strata,
                       n_sets=strata.n_strata, statistic=t_obs, method=method,
                       direction="greater" if sign > 0 else "less",
                       summary_line=(f"Rosenbaum bounds ({method}): significance at "
                                     f"alpha={alpha:g} lost at Gamma = {critical:.3g}"))
    return table


def replacement_strata(score: np.ndarray, t: np.ndarray, source_arm: int, k: int,
                       width: float) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """Match sets with replacement and ties, and the strata they link units into.

    Each unit of ``source_arm`` is matched to every unit of the other arm whose
    distance ``|score_i - score_j|`` is no larger than both the ``k``-th smallest
    and ``width`` (as ``propensity_matching(replace=True)``: Abadie & Imbens 2006,
    ties kept).  Returns the stratum label of each unit (-1: in no match set) and
    the ``(source, targets)`` match sets.

    >>> labels, sets = replacement_strata(np.array([0.0, 0.1, 0.2, 5.0, 5.1]),
    ...                                   np.array([1, 0, 1, 1, 0]), 1, 1, 1.0)
    >>> labels.tolist(), [(s, c.tolist()) for s, c in sets]
    ([0, 0, 0, 1, 1], [(0, [1]), (2, [1]), (3, [4])])
    """
    src = np.flatnonzero(t == source_arm)
    tgt = np.flatnonzero(t != source_arm)
    tgt = tgt[np.argsort(score[tgt], kind="stable")]
    ts = score[tgt]
    n_t = len(tgt)
    parent = np.arange(len(score))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sets = []
    for i in src:
        v = score[i]
        p = int(np.searchsorted(ts, v))
        cand = np.arange(max(0, p - k), min(n_t, p + k))
        if not len(cand):
            continue
        dist = np.sort(np.abs(ts[cand] - v))
        threshold = min(float(dist[min(k, len(dist)) - 1]), width)
        margin = 1e-9 * (abs(v) + threshold + 1.0)
        lo = int(np.searchsorted(ts, v - threshold - margin, side="left"))
        hi = int(np.searchsorted(ts, v + threshold + margin, side="right"))
        window = np.arange(lo, hi)
        chosen = tgt[window[np.abs(ts[window] - v) <= threshold]]
        if not len(chosen):
            continue
        sets.append((int(i), chosen))
        root = find(int(i))
        for j in chosen:
            parent[find(int(j))] = root
    labels = np.full(len(score), -1)
    members = sorted({u for s, c in sets for u in (s, *c.tolist())})
    roots = {}
    for u in members:
        labels[u] = roots.setdefault(find(u), len(roots))
    return labels, sets
