"""Relative lift ``f1 / f0 - 1`` and its confidence interval: delta method, Fieller, score.

``f1`` and ``f0`` are the treatment and control estimates (means, proportions,
ratios, CUPED-adjusted means) with variances ``v1``, ``v0`` and covariance
``c`` (non-zero for CUPED, whose adjusted means share the pooled covariate
mean).  Every interval uses the reference distribution of its row: Student's
t with the row's degrees of freedom ``df``, or the normal when ``df = inf``.

* **delta**: ``rho_hat +- q * se`` with
  ``se^2 = v1 / f0^2 + f1^2 v0 / f0^4 - 2 f1 c / f0^3``;
* **Fieller** (1954): the set of ``rho`` with
  ``(f1 - rho f0)^2 <= q^2 (v1 - 2 rho c + rho^2 v0)``.  It is the inversion of
  the Wald tests of ``f1 = rho f0``; at ``rho = 1`` that test is the row's own
  test of ``f1 - f0 = 0`` (variance ``v1 - 2c + v0``), so the interval excludes
  a zero lift exactly when the row's p-value is below alpha.  It is bounded
  only when the control estimate is itself significantly non-zero
  (``f0^2 > q^2 v0``); otherwise it is the whole line (reported as
  ``(-inf, inf)``) or two half-lines (reported as NaN bounds);
* **score** (Koopman 1984): for the pooled two-proportion z test, the set of
  risk ratios ``rho`` not rejected by the score test of ``p1 = rho p0``, whose
  variance is taken at the maximum-likelihood estimates restricted to
  ``p1 = rho p0`` (Miettinen & Nurminen 1985, without their ``N / (N - 1)``
  factor).  At ``rho = 1`` the restricted estimate is the pooled proportion,
  so this is Fieller's construction for the pooled test: again the interval
  excludes 0 exactly when the row's p < alpha.

Example
-------
>>> r, se, lo, hi = relative_lift(1.1, 1.0, 0.0004, 0.0004, method="fieller")
>>> round(float(r), 4), round(float(lo), 4), round(float(hi), 4)
(0.1, 0.0433, 0.16)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import OptionError
from ..inference import critical_values

METHODS = ("fieller", "delta")
_BISECTIONS = 80                     # halves a bracket of width 120 in log(rho) below 1e-22


def relative_lift(f1: Any, f0: Any, v1: Any, v0: Any, alpha: float = 0.05,
                  method: str = "delta", cov: Any = 0.0, df: Any = math.inf
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Relative lift ``f1 / f0 - 1``, its delta-method SE and a delta or Fieller CI.

    ``v1`` and ``v0`` are the variances of ``f1`` and ``f0``, ``cov`` their
    covariance and ``df`` the degrees of freedom of the reference t
    distribution (``inf``: normal).

    >>> r, se, lo, hi = relative_lift(1.1, 1.0, 0.0004, 0.0004)
    >>> round(float(r), 4), round(float(se), 4), round(float(hi - r), 4)
    (0.1, 0.0297, 0.0583)
    """
    if method not in METHODS:
        raise OptionError(f"relative_ci must be one of {METHODS}, got {method!r}")
    f1, f0, v1, v0, c = (np.asarray(a, dtype=float) for a in (f1, f0, v1, v0, cov))
    q = critical_values(alpha, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        # every formula is homogeneous of degree 0: work in units of max(|f0|, |f1|), so
        # that f0^4 neither overflows (values ~1e100) nor underflows (values ~1e-100)
        unit = np.maximum(np.abs(f0), np.abs(f1))
        unit = np.where((unit > 0) & np.isfinite(unit), unit, 1.0)
        f1, f0, v1, v0, c = f1 / unit, f0 / unit, v1 / unit ** 2, v0 / unit ** 2, c / unit ** 2
        rel = f1 / f0 - 1.0
        se = np.sqrt(v1 / f0 ** 2 + f1 ** 2 * v0 / f0 ** 4 - 2.0 * f1 * c / f0 ** 3)
        if method == "delta":
            return rel, se, rel - q * se, rel + q * se
        a = f0 ** 2 - q ** 2 * v0
        b = f1 * f0 - q ** 2 * c
        disc = b ** 2 - a * (f1 ** 2 - q ** 2 * v1)
        bounded = a > 0
        root = np.sqrt(np.where(bounded, np.maximum(disc, 0.0), 0.0))
        everything = ~bounded & (disc < 0)             # the whole real line
        lo = np.where(bounded, (b - root) / a - 1.0, np.where(everything, -np.inf, np.nan))
        hi = np.where(bounded, (b + root) / a - 1.0, np.where(everything, np.inf, np.nan))
    return rel, se, lo, hi


def _restricted_score(log_rho: np.ndarray, x1: np.ndarray, n1: np.ndarray, x0: np.ndarray,
                      n0: np.ndarray) -> np.ndarray:
    """Score statistic of ``p1 = rho p0`` with the variance at the restricted MLE (decreasing in rho)."""
    rho = np.exp(log_rho)
    big_b = rho * n1 + x1 + n0 + rho * x0             # -B of A p^2 + B p + C = 0
    disc = np.sqrt(np.maximum(big_b ** 2 - 4.0 * rho * (n1 + n0) * (x1 + x0), 0.0))
    p0 = np.clip(2.0 * (x1 + x0) / (big_b + disc), 0.0, 1.0)   # the smaller root, stably
    p1 = np.clip(rho * p0, 0.0, 1.0)
    var = p1 * (1.0 - p1) / n1 + rho ** 2 * p0 * (1.0 - p0) / n0
    num = x1 / n1 - rho * x0 / n0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, num / np.sqrt(var), np.where(num == 0, 0.0, np.sign(num) * np.inf))


def score_interval(x1: Any, n1: Any, x0: Any, n0: Any, alpha: float = 0.05
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Koopman's score interval for the relative lift ``p1 / p0 - 1`` of two proportions.

    The bounds solve ``S(rho) = +-z`` for the restricted-MLE score statistic
    ``S`` (decreasing in ``rho``) by bisection in ``log rho``, vectorized over
    any batch shape.  No successes in the treatment gives the lower bound -1;
    none in the control an upper bound of ``inf``.

    >>> lo, hi = score_interval(110, 1000, 100, 1000)
    >>> round(float(lo), 6), round(float(hi), 6)
    (-0.147986, 0.420448)
    """
    x1, n1, x0, n0 = (np.asarray(a, dtype=float) for a in (x1, n1, x0, n0))
    x1, n1, x0, n0 = np.broadcast_arrays(x1, n1, x0, n0)
    z = float(critical_values(alpha))
    center = np.log((np.maximum(x1, 0.5) / n1) / (np.maximum(x0, 0.5) / n0))
    bounds = []
    for target in (z, -z):
        lo, hi = center - 60.0, center + 60.0          # S(lo) > target > S(hi) when a root exists
        for _ in range(_BISECTIONS):
            mid = 0.5 * (lo + hi)
            above = _restricted_score(mid, x1, n1, x0, n0) > target
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        bounds.append(0.5 * (lo + hi))
    s_low = _restricted_score(center - 60.0, x1, n1, x0, n0)
    s_high = _restricted_score(center + 60.0, x1, n1, x0, n0)
    lower = np.where(s_low > z, np.exp(bounds[0]), 0.0) - 1.0
    upper = np.where(s_high < -z, np.exp(bounds[1]), np.inf) - 1.0
    undefined = (x1 + x0 == 0) | (x1 + x0 == n1 + n0)
    return np.where(undefined, np.nan, lower)[()], np.where(undefined, np.nan, upper)[()]
