"""HonestDiD: confidence sets robust to violations of parallel trends (Rambachan & Roth 2023).

The event-study coefficients are ``beta = tau + delta``: the effects ``tau``
(zero before treatment) plus the bias ``delta`` from a violation of parallel
trends.  Instead of assuming ``delta = 0`` the analysis bounds ``delta``:

* relative magnitudes ``Delta^RM(Mbar)``: no post-treatment change of the
  violation (first difference) is larger than ``Mbar`` times the largest
  pre-treatment one.  The confidence set is the union, over which
  pre-treatment difference is largest and its sign, of the conditional test of
  moment inequalities with nuisance parameters of Andrews, Roth & Pakes (2023),
  by default in its least-favourable hybrid (``method="C-LF"``; ``"conditional"``
  for the plain conditional test);
* smoothness ``Delta^SD(M)``: the slope of the violation changes by at most
  ``M`` between consecutive periods (``M = 0``: a linear trend); the
  confidence interval is the optimal fixed-length (FLCI) one of Armstrong &
  Kolesár, the affine estimator ``v'beta_hat`` whose half-length
  ``sd * cv_alpha(maxbias / sd)`` is smallest.

The moment inequalities' LP is solved exactly by enumerating the vertices of
its dual polytope (a few hundred for up to 10 post-treatment periods), so the
test of every candidate value, its conditioning bounds and the
least-favourable critical value are matrix products.

The target is ``l'tau_post`` (``l_vec``; default the first post-treatment
period, as the reference implementation).  The input is any event-study Effect
of the panel family: its ``diagnostics["event_study"]`` table and
``diagnostics["event_study_vcov"]`` covariance, with the reference period
(coefficient fixed at 0) just before treatment.

Example
-------
>>> import numpy as np
>>> beta = np.array([0.05, -0.02, 0.01, 0.5, 0.6])   # event times -4..-2, 0, 1 (ref -1)
>>> sigma = np.diag([0.02, 0.02, 0.02, 0.03, 0.04]) ** 2
>>> res = honest_did_arrays(beta, sigma, n_pre=3, Mbar=[0.0, 1.0], breakdown=False)
>>> bool(res.table.ci_low.iloc[0] > 0), bool(res.table.ci_low.iloc[1] <= res.table.ci_low.iloc[0])
(True, True)
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import EstimationError, OptionError

RESTRICTIONS = ("relative_magnitude", "smoothness")
METHODS = ("C-LF", "conditional", "FLCI")
_MAX_VERTICES = 250_000


@dataclass(frozen=True)
class HonestDiD:
    """Robust confidence sets over a grid of ``M`` (or ``Mbar``) values.

    ``table`` has columns ``M``, ``ci_low``, ``ci_high`` (one row per value);
    ``original`` is the ``(low, high)`` CI under exact parallel trends;
    ``breakdown`` the smallest ``M`` whose robust set contains 0 (``inf`` when
    none up to the search bound does, 0 when the original CI contains 0).
    """

    restriction: str
    method: str
    table: pd.DataFrame
    original: tuple[float, float]
    breakdown: float
    alpha: float
    l_vec: np.ndarray = field(repr=False)

    def plot(self, ax: Any = None, title: str | None = None) -> Any:
        """The sensitivity plot: the original CI and the robust CI at each ``M``."""
        return plot_sensitivity(self, ax=ax, title=title)


# ---------------------------------------------------------------------------- inputs
def event_study_inputs(effect: Any) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """``(beta, sigma, n_pre, event_times)`` from an event-study Effect of the panel family.

    The coefficients are those of ``diagnostics["event_study"]`` other than the
    reference period (standard error 0), in event-time order; the covariance is
    ``diagnostics["event_study_vcov"]`` (a DataFrame indexed by event time).
    """
    diag = getattr(effect, "diagnostics", {})
    table, vcov = diag.get("event_study"), diag.get("event_study_vcov")
    if table is None or vcov is None:
        raise OptionError("honest_did needs an event-study Effect of the panel family (its "
                          "diagnostics 'event_study' and 'event_study_vcov'), e.g. from "
                          "method='event_study' or 'callaway_santanna'")
    est = table[table.std_error > 0].sort_values("event_time")
    times = est.event_time.to_numpy()
    missing = set(times) - set(vcov.index)
    if missing:
        raise EstimationError(f"event_study_vcov lacks event times {sorted(missing)}")
    sigma = vcov.loc[times, times].to_numpy(dtype=float)
    n_pre = int((times < 0).sum())
    if n_pre < 1 or n_pre == len(times):
        raise EstimationError("honest_did needs at least one pre-treatment and one "
                              f"post-treatment event-time coefficient (got event times "
                              f"{times.tolist()})")
    expected = [*range(-n_pre - 1, -1), *range(0, len(times) - n_pre)]
    if [int(e) for e in times] != expected:
        raise EstimationError("honest_did needs consecutive event times with the reference "
                              f"period -1 left out (expected {expected}, got "
                              f"{[int(e) for e in times]})")
    return est.att.to_numpy(dtype=float), sigma, n_pre, times


# ---------------------------------------------------------------------------- restrictions
def _first_differences(n_pre: int, n_post: int) -> np.ndarray:
    """Rows ``delta_{r+1} - delta_r`` over the periods with the reference (0) dropped."""
    T = n_pre + n_post
    D = np.zeros((T, T + 1))
    D[np.arange(T), np.arange(T)] = -1.0
    D[np.arange(T), np.arange(T) + 1] = 1.0
    return np.delete(D, n_pre, axis=1)


def rm_constraints(n_pre: int, n_post: int, Mbar: float, s: int, positive: bool
                   ) -> np.ndarray:
    """``A`` of ``A delta <= 0`` for the post-treatment moments of ``Delta^RM`` at (s, sign).

    The pre-treatment first difference ``s`` (0 = the one ending at the
    reference, -1 the one before...) is the largest, with the given sign; every
    post-treatment first difference is at most ``Mbar`` times it in absolute value.
    """
    D = _first_differences(n_pre, n_post)
    top = D[n_pre - 1 + s] * (1.0 if positive else -1.0)
    post = D[n_pre:]
    return np.vstack([post - Mbar * top, -post - Mbar * top])


def _dual_vertices(sd: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Vertices of ``{g >= 0 : g'sd = 1, X'g = 0}`` (rows), the dual of the ARP LP."""
    m, p = X.shape[0], X.shape[1] + 1
    W = np.column_stack([sd, X])
    n_sets = int(np.prod(range(m - p + 1, m + 1)) // np.prod(range(1, p + 1)))
    if n_sets > _MAX_VERTICES:
        raise EstimationError(f"too many post-treatment periods for the exact LP ({n_sets} "
                              "bases); bin the event times (leads=/lags=) or give fewer")
    subsets = np.array(list(itertools.combinations(range(m), p)))
    WB = W[subsets]                                   # (K, p, p): the rows of each basis
    rhs = np.zeros(p)
    rhs[0] = 1.0
    ok = np.abs(np.linalg.det(WB)) > 1e-12 * np.max(np.abs(W)) ** p
    gB = np.linalg.solve(np.transpose(WB[ok], (0, 2, 1)),
                         np.broadcast_to(rhs[:, None], (int(ok.sum()), p, 1)))[..., 0]
    feasible = np.all(gB >= -1e-12, axis=1)
    G = np.zeros((int(feasible.sum()), m))
    rows = np.repeat(np.arange(G.shape[0]), p)
    G[rows, subsets[ok][feasible].ravel()] = np.maximum(gB[feasible], 0.0).ravel()
    return np.unique(np.round(G, 12), axis=0)


def _arp_accepts(Y: np.ndarray, a1: np.ndarray, Sigma: np.ndarray, G: np.ndarray,
                 thetas: np.ndarray, alpha: float, lf_cv: float | None, kappa: float
                 ) -> np.ndarray:
    """For each theta: does the conditional (or LF hybrid) test accept E[Y - a1 theta - X t] <= 0?

    ``G`` holds the vertices of the dual of the LP ``min eta: Y - a1 theta - X t <= eta sd``,
    so the LP value is ``max_k G_k (Y - a1 theta)``; conditioning on the optimal vertex
    ``g``, the statistic is a truncated normal on ``[vlo, vup]``, the values of
    ``g'y`` along ``y = s + b c`` for which ``g`` stays optimal (ARP 2023, section 5).
    """
    GY, Ga = G @ Y, G @ a1
    values = GY[:, None] - Ga[:, None] * thetas[None, :]             # K x n_theta
    best = np.argmax(values, axis=0)
    eta = values[best, np.arange(thetas.size)]
    accept = np.ones(thetas.size, dtype=bool)
    size = alpha if lf_cv is None else (alpha - kappa) / (1 - kappa)
    for k in np.unique(best):
        idx = np.flatnonzero(best == k)
        g = G[k]
        var = float(g @ Sigma @ g)
        if var <= 1e-300:
            accept[idx] = eta[idx] <= 0
            continue
        sd_b = np.sqrt(var)
        slope = G @ (Sigma @ g) / var                                # K
        h = values[:, idx] - slope[:, None] * eta[idx][None, :]      # K x n_idx
        below, above = slope < 1 - 1e-10, slope > 1 + 1e-10
        ratio = h / (1 - np.where(below | above, slope, 0.0))[:, None]
        vlo = ratio[below].max(axis=0) if below.any() else np.full(idx.size, -np.inf)
        vup = ratio[above].min(axis=0) if above.any() else np.full(idx.size, np.inf)
        e = eta[idx]
        if lf_cv is not None:
            vup = np.minimum(vup, lf_cv)
        stat, zlo, zup = e / sd_b, vlo / sd_b, vup / sd_b
        inside = (zlo - 1e-9 <= stat) & (stat <= zup + 1e-9) & (zlo < zup)
        cval = np.zeros(idx.size)
        if inside.any():
            lo, hi = zlo[inside], zup[inside]
            cval[inside] = np.where(np.isneginf(lo) & np.isposinf(hi), stats.norm.ppf(1 - size),
                                    stats.truncnorm.ppf(1 - size, lo, hi))
        ok = ~inside | (stat <= np.maximum(cval, 0.0))               # numerically outside: kept
        if lf_cv is not None:
            ok &= e <= lf_cv
        accept[idx] = ok
    return accept


def _rm_setup(beta: np.ndarray, sigma: np.ndarray, n_pre: int, l_vec: np.ndarray,
              Mbar: float, method: str, random_state: int, alpha: float
              ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float | None]]:
    """For every (s, sign) of Delta^RM(Mbar): the moments, their covariance, the dual
    vertices and (C-LF) the least-favourable critical value."""
    n_post = beta.size - n_pre
    Gam = np.vstack([l_vec, np.delete(np.eye(n_post), int(np.argmax(np.abs(l_vec))), 0)])
    Ginv = np.linalg.inv(Gam)
    rng = np.random.default_rng(random_state)
    draws = rng.standard_normal((10_000, 2 * n_post)) if method == "C-LF" else None
    out = []
    for s in range(-(n_pre - 1), 1):
        for positive in (True, False):
            A = rm_constraints(n_pre, n_post, Mbar, s, positive)
            Sigma = A @ sigma @ A.T
            AG = A[:, n_pre:] @ Ginv
            sd = np.sqrt(np.diag(Sigma))
            if np.any(sd <= 0):
                raise EstimationError("a moment of the relative-magnitude bound has zero "
                                      "variance; check the event-study covariance")
            G = _dual_vertices(sd, AG[:, 1:])
            lf_cv = None
            if draws is not None:
                w, U = np.linalg.eigh(Sigma)
                root = U * np.sqrt(np.maximum(w, 0.0))
                lf_cv = float(np.quantile((draws @ root.T @ G.T).max(axis=1), 1 - alpha / 10))
            out.append((A @ beta, AG[:, 0], Sigma, G, lf_cv))
    return out


def _rm_interval(beta: np.ndarray, sigma: np.ndarray, n_pre: int, l_vec: np.ndarray,
                 Mbar: float, alpha: float, method: str, random_state: int,
                 grid_points: int) -> tuple[float, float]:
    """The robust set's hull: a grid around the estimate, widened while open, ends refined."""
    post = slice(n_pre, None)
    centre = float(l_vec @ beta[post])
    sd = float(np.sqrt(l_vec @ sigma[post, post] @ l_vec))
    setup = _rm_setup(beta, sigma, n_pre, l_vec, Mbar, method, random_state, alpha)

    def accepts(thetas: np.ndarray) -> np.ndarray:
        thetas = np.atleast_1d(thetas)
        ok = np.zeros(thetas.size, dtype=bool)
        for Y, a1, Sigma, G, lf_cv in setup:               # the union over (s, sign)
            ok |= _arp_accepts(Y, a1, Sigma, G, thetas, alpha, lf_cv, alpha / 10)
        return ok

    half = 20 * sd
    for _ in range(8):
        grid = np.linspace(centre - half, centre + half, grid_points)
        ok = accepts(grid)
        if not ok.any():
            return np.nan, np.nan
        if not (ok[0] or ok[-1]):
            break
        half *= 4
    else:
        return (-np.inf if ok[0] else grid[ok][0]), (np.inf if ok[-1] else grid[ok][-1])
    idx = np.flatnonzero(ok)
    ends = []
    for inside, outside in ((grid[idx[0]], grid[idx[0] - 1]), (grid[idx[-1]], grid[idx[-1] + 1])):
        for _ in range(24):
            mid = 0.5 * (inside + outside)
            if accepts(np.array([mid]))[0]:
                inside = mid
            else:
                outside = mid
        ends.append(inside)
    return float(ends[0]), float(ends[1])


# ---------------------------------------------------------------------------- FLCI (SD)
def _folded_cv(bias: float, alpha: float) -> float:
    """The 1 - alpha quantile of |N(bias, 1)|, by Newton's method (exact to 1e-14).

    >>> round(_folded_cv(0.0, 0.05), 6), round(_folded_cv(10.0, 0.05) - 10.0, 4)
    (1.959964, 1.6449)
    """
    b = abs(bias)
    root2 = math.sqrt(2.0)
    c = b + float(stats.norm.ppf(1 - alpha)) if b > 3 else float(stats.norm.ppf(1 - alpha / 2)) + b
    for _ in range(100):
        f = 0.5 * (math.erfc(-(c - b) / root2) - math.erfc((c + b) / root2)) - (1 - alpha)
        df = (math.exp(-0.5 * (c - b) ** 2) + math.exp(-0.5 * (c + b) ** 2)) / math.sqrt(2 * math.pi)
        step = f / df
        c -= step
        if abs(step) < 1e-14 * max(1.0, c):
            break
    return c


def sd_flci(beta: np.ndarray, sigma: np.ndarray, n_pre: int, l_vec: np.ndarray, M: float,
            alpha: float) -> tuple[float, float]:
    """The optimal FLCI for ``l'tau_post`` under ``Delta^SD(M)``.

    Affine estimators ``v'beta_hat`` with ``v_post = l`` have worst-case bias
    ``M * ||lambda||_1``, where ``lambda`` solves ``S'lambda = v`` (``S`` the
    second differences): the dual of the bias LP, uniquely solved since ``S``
    has full row rank (and only when ``v`` is orthogonal to linear trends).  The
    half-length ``sd(v) cv_alpha(bias / sd(v))`` is minimised over ``v_pre``.
    """
    n_post = beta.size - n_pre
    T = n_pre + n_post
    D = _first_differences(n_pre, n_post)
    S = np.vstack([D[r + 1] - D[r] for r in range(T - 1)])       # second differences
    Lmap = np.linalg.solve(S @ S.T, S)                            # lambda = Lmap v
    times = np.concatenate([np.arange(-n_pre, 0), np.arange(1, n_post + 1)]).astype(float)
    # v = (w, l): w orthogonal-to-trend part  w = w0 + N z
    trend_pre, trend_post = times[:n_pre], times[n_pre:]
    w0 = -trend_pre * float(l_vec @ trend_post) / float(trend_pre @ trend_pre)
    N = np.linalg.svd(trend_pre[None, :])[2][1:].T                # n_pre x (n_pre - 1)

    def parts(z: np.ndarray) -> tuple[float, float, np.ndarray]:
        v = np.concatenate([w0 + N @ z, l_vec])
        return float(np.abs(Lmap @ v).sum()) * M, float(np.sqrt(v @ sigma @ v)), v

    def half_length(z: np.ndarray) -> float:
        bias, sd, _ = parts(z)
        return sd * _folded_cv(bias / sd, alpha)

    z = np.zeros(N.shape[1])
    if N.shape[1]:
        best = None
        for start in (z, np.linalg.lstsq(N, -w0, rcond=None)[0]):
            res = optimize.minimize(half_length, start, method="Nelder-Mead",
                                    options={"xatol": 1e-10, "fatol": 1e-13,
                                             "maxiter": 20000, "maxfev": 40000})
            res = optimize.minimize(half_length, res.x, method="Powell",
                                    options={"xtol": 1e-10, "ftol": 1e-13})
            if best is None or res.fun < best.fun:
                best = res
        z = best.x
    _, _, v = parts(z)
    centre = float(v @ beta)
    hl = half_length(z)
    return centre - hl, centre + hl


# ---------------------------------------------------------------------------- front ends
def honest_did_arrays(beta: np.ndarray, sigma: np.ndarray, n_pre: int, *,
                      restriction: str = "relative_magnitude",
                      Mbar: Sequence[float] | float | None = None,
                      M: Sequence[float] | float | None = None, method: str | None = None,
                      l_vec: Sequence[float] | None = None, alpha: float = 0.05,
                      random_state: int = 0, grid_points: int = 200,
                      breakdown: bool = True) -> HonestDiD:
    """:func:`honest_did` on raw event-study coefficients (reference period excluded).

    ``beta`` has the ``n_pre`` pre-treatment coefficients (in time order, the
    last one two periods before treatment) followed by the post-treatment ones.
    """
    beta = np.asarray(beta, dtype=float).ravel()
    sigma = np.asarray(sigma, dtype=float)
    n_post = beta.size - n_pre
    if restriction not in RESTRICTIONS:
        raise OptionError(f"restriction must be one of {', '.join(RESTRICTIONS)}, got "
                          f"{restriction!r}")
    if sigma.shape != (beta.size, beta.size) or not np.all(np.isfinite(sigma)):
        raise EstimationError("the event-study covariance must be a finite square matrix "
                              "matching the coefficients")
    if n_pre < 1 or n_post < 1:
        raise EstimationError("honest_did needs pre- and post-treatment coefficients")
    if not 0 < alpha < 1:
        raise OptionError(f"alpha must be in (0, 1), got {alpha!r}")
    lv = np.zeros(n_post) if l_vec is None else np.asarray(l_vec, dtype=float).ravel()
    if l_vec is None:
        lv[0] = 1.0
    if lv.size != n_post or not np.any(lv != 0):
        raise OptionError(f"l_vec must have one weight per post-treatment period ({n_post}), "
                          "not all zero")
    post = slice(n_pre, None)
    centre = float(lv @ beta[post])
    sd = float(np.sqrt(lv @ sigma[post, post] @ lv))
    crit = stats.norm.ppf(1 - alpha / 2)
    original = (centre - crit * sd, centre + crit * sd)
    if restriction == "relative_magnitude":
        method = method or "C-LF"
        if method not in ("C-LF", "conditional"):
            raise OptionError("for restriction='relative_magnitude' method must be 'C-LF' "
                              f"(the hybrid, default) or 'conditional', got {method!r}")
        values = np.atleast_1d(np.linspace(0, 2, 10) if Mbar is None else Mbar).astype(float)
        if M is not None:
            raise OptionError("restriction='relative_magnitude' takes Mbar=, not M=")

        def interval(m: float) -> tuple[float, float]:
            return _rm_interval(beta, sigma, n_pre, lv, m, alpha, method, random_state,
                                grid_points)
    else:
        method = method or "FLCI"
        if method != "FLCI":
            raise OptionError(f"for restriction='smoothness' method must be 'FLCI', got "
                              f"{method!r}")
        if Mbar is not None:
            raise OptionError("restriction='smoothness' takes M=, not Mbar=")
        values = np.atleast_1d(np.linspace(0, 5 * sd, 10) if M is None else M).astype(float)

        def interval(m: float) -> tuple[float, float]:
            return sd_flci(beta, sigma, n_pre, lv, m, alpha)
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise OptionError("the bounds M / Mbar must be finite and >= 0")
    rows = [(m, *interval(m)) for m in values]
    table = pd.DataFrame(rows, columns=["M", "ci_low", "ci_high"])
    value = _breakdown(interval, original, values) if breakdown else np.nan
    return HonestDiD(restriction=restriction, method=method, table=table, original=original,
                     breakdown=value, alpha=alpha, l_vec=lv)


def _breakdown(interval: Any, original: tuple[float, float], values: np.ndarray) -> float:
    """Smallest bound whose robust set contains 0, by bisection (the sets grow with it)."""
    if original[0] <= 0 <= original[1]:
        return 0.0

    def covers(m: float) -> bool:
        lo, hi = interval(m)
        return not (lo > 0 or hi < 0)

    hi = max(float(values.max()), 1e-8)
    for _ in range(6):
        if covers(hi):
            break
        hi *= 2
    else:
        return np.inf
    lo = 0.0
    for _ in range(12):                                   # 2^-12 of the bracket
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if covers(mid) else (mid, hi)
    return hi


def honest_did(effect: Any, *, restriction: str = "relative_magnitude",
               Mbar: Sequence[float] | float | None = None,
               M: Sequence[float] | float | None = None, method: str | None = None,
               l_vec: Sequence[float] | None = None, alpha: float = 0.05,
               random_state: int = 0, grid_points: int = 200,
               breakdown: bool = True) -> HonestDiD:
    """Rambachan & Roth (2023) robust confidence sets for an event-study Effect.

    Parameters
    ----------
    effect
        The Effect of ``event_study`` or ``callaway_santanna`` (any panel-family
        estimator with ``diagnostics["event_study"]`` and ``["event_study_vcov"]``).
    restriction
        ``"relative_magnitude"`` (``Delta^RM(Mbar)``, default) or ``"smoothness"``
        (``Delta^SD(M)``).
    Mbar, M
        The bound(s): ``Mbar`` for relative magnitudes (default 0, 2/9, ..., 2),
        ``M`` for smoothness (default 10 values from 0 to 5 SEs of the target).
    method
        ``"C-LF"`` (hybrid, default for RM) or ``"conditional"`` for RM; ``"FLCI"``
        for smoothness.
    l_vec
        Weights of the post-treatment effects in the target (default: the first).
    random_state
        Seed of the least-favourable critical value's normal draws.
    grid_points
        Size of the grid of candidate values before the ends are refined.
    breakdown
        Also compute the breakdown value (the smallest bound whose set contains 0).

    Examples
    --------
    >>> import numpy as np, pandas as pd, causalkit
    >>> rng = np.random.default_rng(0)
    >>> n = 300; unit = np.repeat(np.arange(n), 6); t = np.tile(np.arange(6), n)
    >>> g = np.repeat(np.where(np.arange(n) < 150, 3, 0), 6)
    >>> y = rng.normal(size=n)[unit] + np.where((g > 0) & (t >= g), 1.0, 0.0)
    >>> df = pd.DataFrame({"id": unit, "t": t, "g": g, "y": y + rng.normal(size=6 * n)})
    >>> eff = causalkit.estimate(df, outcome="y", method="event_study", unit="id", time="t",
    ...                          cohort="g")
    >>> res = honest_did(eff, Mbar=[0.5, 1.0], breakdown=False)
    >>> bool((res.table.ci_low > 0).all())
    True
    """
    beta, sigma, n_pre, _ = event_study_inputs(effect)
    return honest_did_arrays(beta, sigma, n_pre, restriction=restriction, Mbar=Mbar, M=M,
                             method=method, l_vec=l_vec, alpha=alpha,
                             random_state=random_state, grid_points=grid_points,
                             breakdown=breakdown)


def plot_sensitivity(result: HonestDiD, ax: Any = None, title: str | None = None) -> Any:
    """Sensitivity plot: the original CI, then the robust CI at each bound; returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    tab = result.table
    step = float(np.diff(tab.M).min()) if len(tab) > 1 else 1.0
    x0 = float(tab.M.min()) - step
    ax.vlines(x0, *result.original, color="tab:red", linewidth=2, label="original")
    ax.vlines(tab.M, tab.ci_low, tab.ci_high, color="tab:blue", linewidth=2,
              label="robust (" + result.method + ")")
    ax.axhline(0.0, color="black", linewidth=0.8)
    if np.isfinite(result.breakdown) and result.breakdown > 0:
        ax.axvline(result.breakdown, color="tab:gray", linestyle="--",
                   label=f"breakdown {result.breakdown:.3g}")
    ax.set_xlabel("Mbar" if result.restriction == "relative_magnitude" else "M")
    ax.set_ylabel("confidence set")
    ax.set_title(title or f"HonestDiD sensitivity ({result.restriction})")
    ax.legend(loc="best")
    return ax
