"""Anderson–Rubin confidence sets for the effect of one endogenous treatment.

The AR test of ``beta = b0`` regresses ``y - b0 d`` on the instruments (after
partialling the exogenous covariates) and tests that their coefficients are
zero; its size does not depend on instrument strength (Anderson & Rubin 1949,
Ann. Math. Statist. 20(1)).  Inverting it gives a confidence set that may be
an interval, the union of two rays, or the whole line (when the instruments
are weak, as it should be).  With coefficient vectors ``pi_y`` (outcome) and
``pi_d`` (treatment) and their joint covariance, the statistic is

    AR(b0) = (pi_y - b0 pi_d)' [V_yy - 2 b0 V_yd + b0^2 V_dd]^-1 (pi_y - b0 pi_d),

compared with a chi-square(k) quantile, or in small samples (``small_sample=True``)
with ``k`` times the ``F(k, n - K)`` quantile, the variances then dividing by
``n - K`` (``K`` = intercept, covariates and instruments) exactly as the
first-stage F does (one :class:`~causalkit.iv.first_stage.VarianceRule`); under
homoskedasticity ``AR(b0) / k`` is then the textbook F statistic of the
instruments in the regression of ``y - b0 d`` on ``[1, W, Z]``, an exact test
with normal errors.  With one instrument the set solves a
quadratic inequality exactly; with several it is found on a grid over the
whole real line (``b0 = tan(theta)``) refined by root finding.

Example
-------
>>> import numpy as np
>>> cs = ar_set_from_moments(2.0, 1.0, np.array([[0.01, 0.0], [0.0, 0.01]]), 0.05)
>>> cs.kind, [round(v, 3) for v in cs.intervals[0]]
('interval', [1.626, 2.534])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ..linear import equilibrate
from .first_stage import VarianceRule, n_exogenous, partial_out, sandwich


@dataclass(frozen=True)
class ARConfidenceSet:
    """A confidence set as a list of closed intervals (``inf`` ends for rays)."""

    intervals: tuple[tuple[float, float], ...]
    kind: str  # "interval", "two rays", "real line" or "empty"
    alpha: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the set."""
        return any(lo <= value <= hi for lo, hi in self.intervals)

    @property
    def bounded(self) -> bool:
        """True for a finite interval (or the empty set)."""
        return self.kind in ("interval", "empty")


def _kind(intervals: list[tuple[float, float]]) -> str:
    if not intervals:
        return "empty"
    if len(intervals) == 1 and intervals[0] == (-math.inf, math.inf):
        return "real line"
    if any(math.isinf(lo) or math.isinf(hi) for lo, hi in intervals):
        return "two rays" if len(intervals) == 2 else "unbounded"
    return "interval" if len(intervals) == 1 else "union of intervals"


def ar_set_from_moments(a: float, b: float, V: np.ndarray, alpha: float = 0.05,
                        df: float | None = None) -> ARConfidenceSet:
    """Exact AR set for one instrument from the reduced form ``a``, first stage ``b``
    and their 2x2 covariance ``V`` (order: ``a``, ``b``).

    The cutoff is the chi-square(1) quantile, or with ``df`` that of ``F(1, df)``
    (the square of the t(df) quantile)."""
    crit = float(stats.chi2.isf(alpha, 1) if df is None else stats.f.isf(alpha, 1, df))
    A = b * b - crit * V[1, 1]
    B = -2.0 * a * b + 2.0 * crit * V[0, 1]
    C = a * a - crit * V[0, 0]
    disc = B * B - 4.0 * A * C
    if A > 0:
        if disc < 0:
            return ARConfidenceSet((), "empty", alpha)
        r = sorted((float((-B - math.sqrt(disc)) / (2 * A)),
                    float((-B + math.sqrt(disc)) / (2 * A))))
        ivs = [(r[0], r[1])]
    elif A < 0 and disc > 0:
        r = sorted((float((-B - math.sqrt(disc)) / (2 * A)),
                    float((-B + math.sqrt(disc)) / (2 * A))))
        ivs = [(-math.inf, r[0]), (r[1], math.inf)]
    else:
        ivs = [(-math.inf, math.inf)]
    return ARConfidenceSet(tuple(ivs), _kind(ivs), alpha)


def anderson_rubin_set(y: np.ndarray, d: np.ndarray, Z: np.ndarray, W: np.ndarray | None = None,
                       alpha: float = 0.05, cov_type: str = "robust",
                       groups: np.ndarray | None = None, n_grid: int = 4001,
                       small_sample: bool = False,
                       weights: np.ndarray | None = None) -> ARConfidenceSet:
    """AR confidence set for the coefficient of ``d`` with instruments ``Z``, covariates ``W``.

    ``cov_type`` is ``robust`` (HC0), ``unadjusted`` or ``clustered`` (with ``groups``,
    one or two cluster columns); ``small_sample`` as in the module docstring;
    ``weights`` sampling weights (weighted reduced forms, :func:`partial_out`).
    """
    Z = np.asarray(Z, dtype=float).reshape(len(y), -1)
    yt, dt, Zt = partial_out(W, y, d, Z, weights=weights)
    Zt = equilibrate(Zt)[0]              # the statistic does not depend on Z's units
    k = Zt.shape[1]
    rule = VarianceRule(cov_type, len(y), n_exogenous(W, len(y)) + k, small_sample, groups)
    Q = Zt.T @ Zt
    pi_y = np.linalg.solve(Q, Zt.T @ yt)
    pi_d = np.linalg.solve(Q, Zt.T @ dt)
    ey, ed = yt - Zt @ pi_y, dt - Zt @ pi_d
    V_yy = sandwich(Zt, ey, ey, rule)
    V_yd = sandwich(Zt, ey, ed, rule)
    V_dd = sandwich(Zt, ed, ed, rule)
    if k == 1:
        return ar_set_from_moments(float(pi_y[0]), float(pi_d[0]),
                                   np.array([[V_yy[0, 0], V_yd[0, 0]],
                                             [V_yd[0, 0], V_dd[0, 0]]]), alpha, df=rule.df)
    crit = rule.wald_critical(alpha, k)
    V_yd = 0.5 * (V_yd + V_yd.T)

    def excess(theta: np.ndarray | float) -> np.ndarray:
        th = np.atleast_1d(np.asarray(theta, dtype=float))
        b0 = np.tan(np.clip(th, -math.pi / 2 + 1e-12, math.pi / 2 - 1e-12))
        g = pi_y[None, :] - b0[:, None] * pi_d[None, :]
        M = V_yy[None] - 2 * b0[:, None, None] * V_yd[None] + (b0 ** 2)[:, None, None] * V_dd[None]
        stat = np.einsum("ij,ij->i", g, np.linalg.solve(M, g[..., None])[..., 0])
        at_inf = np.abs(np.abs(th) - math.pi / 2) < 1e-12  # the limit b0 -> +-inf
        stat[at_inf] = float(pi_d @ np.linalg.solve(V_dd, pi_d))
        return stat - crit

    thetas = np.linspace(-math.pi / 2, math.pi / 2, n_grid)
    vals = excess(thetas)
    inside = vals <= 0
    if inside.all():
        return ARConfidenceSet(((-math.inf, math.inf),), "real line", alpha)
    edges = []
    for i in np.flatnonzero(inside[1:] != inside[:-1]):
        edges.append(optimize.brentq(lambda th: float(excess(th)[0]), thetas[i],
                                     thetas[i + 1], xtol=1e-14))
    # walk the circle of theta values and collect the accepted stretches
    bounds = [-math.pi / 2] + edges + [math.pi / 2]
    stretches = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if excess(0.5 * (lo + hi))[0] <= 0:
            stretches.append((lo, hi))
    ivs = [(-math.inf if lo <= -math.pi / 2 else math.tan(lo),
            math.inf if hi >= math.pi / 2 else math.tan(hi)) for lo, hi in stretches]
    return ARConfidenceSet(tuple(ivs), _kind(ivs), alpha)
