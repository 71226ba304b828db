"""Dunnett's many-to-one comparison: every treatment arm against one control, jointly.

With ``K`` treatment arms compared with one control, the comparisons share the
control's estimate, so their statistics ``T_i = (Y_i - Y_0) / se_i`` are
correlated with ``corr(T_i, T_j) = lambda_i lambda_j``, where ``lambda_i^2 =
v_0 / (v_i + v_0)`` is the control's share of comparison ``i``'s variance
(Dunnett 1955; for equal-variance means ``lambda_i^2 = n_i / (n_i + n_0)``).
The adjusted p-value of comparison ``i`` is ``P(max_j |T_j| >= |t_i|)`` under
the joint null, and the simultaneous intervals use the ``1 - alpha`` quantile
of ``max_j |T_j|``: less conservative than Bonferroni and exact (not a bound)
for the max-statistic.

That one-factor correlation makes the probability a two-dimensional integral
(the shared normal factor ``Z_0`` and, with ``df`` degrees of freedom, the
chi scale ``S``):

    P(max_j |T_j| < c) = E_S E_Z0  prod_j [Phi((c S - lambda_j Z0) / sqrt(1 - lambda_j^2))
                                          - Phi((-c S - lambda_j Z0) / sqrt(1 - lambda_j^2))]

computed here deterministically by Gauss–Hermite (``Z_0``) and Gauss–Legendre
quadrature over the chi-square quantile (``S``); ``scipy.stats.dunnett``
integrates the same multivariate t by randomized quasi-Monte Carlo.

:func:`dunnett` is the classical test on raw means (pooled variance with
``N - K - 1`` df, as scipy); :func:`dunnett_adjust` adjusts any set of
many-to-one z/t statistics given each comparison's control share, which is how
``analyze(..., correction="dunnett")`` applies it to proportions, ratio and
CUPED metrics (large-sample, unequal-variance Dunnett: ``df = inf``).

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> ctrl, a, b = rng.normal(0, 1, 30), rng.normal(0.1, 1, 30), rng.normal(1.0, 1, 30)
>>> res = dunnett(a, b, control=ctrl)
>>> [bool(p < 0.05) for p in res.p_value]
[False, True]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..errors import DataError, OptionError
from ..inference import check_alpha
from .stats import Moments

__all__ = ["DunnettResult", "dunnett", "dunnett_adjust", "max_t_probability"]

ALTERNATIVES = ("two-sided", "greater", "less")
_NODES = 64


@lru_cache(maxsize=None)
def _hermite() -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(_NODES)
    return z, w / math.sqrt(2 * math.pi)


@lru_cache(maxsize=64)
def _chi_scale(df: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``S = sqrt(chi2_df / df)`` and weights of the chi scale (one node for df = inf)."""
    if not math.isfinite(df) or df > 1e7:
        return np.ones(1), np.ones(1)
    u, w = np.polynomial.legendre.leggauss(_NODES)
    u = (u + 1) / 2
    return np.sqrt(stats.chi2.ppf(u, df) / df), w / 2


def max_t_probability(c: float, lam: np.ndarray, df: float = math.inf,
                      alternative: str = "two-sided") -> float:
    """``P(max_j |T_j| < c)`` (two-sided) or ``P(max_j T_j < c)`` (one-sided) under the null.

    ``T`` is multivariate t with ``df`` degrees of freedom and correlation
    ``lam_i lam_j`` off the diagonal.

    >>> round(max_t_probability(1.959964, np.array([0.0])), 4)   # one test: 1 - alpha
    0.95
    """
    lam = np.clip(np.asarray(lam, dtype=float), 0.0, 1.0 - 1e-12)
    z, wz = _hermite()
    s, ws = _chi_scale(df)
    root = np.sqrt(1.0 - lam ** 2)
    cs = c * s[:, None, None]
    shift = lam[None, None, :] * z[None, :, None]
    upper = special.ndtr((cs - shift) / root)
    if alternative == "two-sided":
        upper = upper - special.ndtr((-cs - shift) / root)
    inner = np.prod(upper, axis=-1) @ wz
    return float(np.clip(inner @ ws, 0.0, 1.0))


def _critical(alpha: float, lam: np.ndarray, df: float, alternative: str) -> float:
    def gap(c: float) -> float:
        return max_t_probability(c, lam, df, alternative) - (1 - alpha)
    return float(optimize.brentq(gap, 0.0, 50.0, xtol=1e-10))


def dunnett_adjust(statistic: Any, control_share: Any, df: float = math.inf,
                   alternative: str = "two-sided") -> np.ndarray:
    """Dunnett-adjusted p-values of many-to-one statistics.

    ``control_share[i]`` is ``v_0 / (v_i + v_0)``: the control's part of the
    variance of comparison ``i`` (so ``corr(T_i, T_j) = sqrt(share_i share_j)``).
    NaN statistics are left out of the family and stay NaN.

    >>> dunnett_adjust([2.0], [0.5]).round(4).tolist()     # one comparison: unadjusted
    [0.0455]
    """
    t = np.asarray(statistic, dtype=float)
    share = np.asarray(control_share, dtype=float)
    if alternative not in ALTERNATIVES:
        raise OptionError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    out = np.full(t.shape, np.nan)
    ok = np.isfinite(t) & np.isfinite(share)
    lam = np.sqrt(np.clip(share[ok], 0.0, 1.0))
    tt = {"two-sided": np.abs(t[ok]), "greater": t[ok], "less": -t[ok]}[alternative]
    out[ok] = [1.0 - max_t_probability(x, lam, df, alternative) for x in tt]
    return np.clip(out, 0.0, 1.0)


@dataclass(frozen=True)
class DunnettResult:
    """Dunnett's test: per-arm differences from the control, adjusted p-values and joint CIs."""

    arms: tuple[Any, ...]
    control: Any
    estimate: np.ndarray
    std_error: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    critical_value: float
    df: float
    alpha: float
    alternative: str

    def table(self) -> pd.DataFrame:
        """One row per treatment arm."""
        return pd.DataFrame({"arm": list(self.arms), "control": self.control,
                             "estimate": self.estimate, "std_error": self.std_error,
                             "statistic": self.statistic, "p_value": self.p_value,
                             "ci_low": self.ci_low, "ci_high": self.ci_high})


def dunnett(*samples: Any, control: Any, alpha: float = 0.05,
            alternative: str = "two-sided", labels: Any = None) -> DunnettResult:
    """Dunnett's test of each sample's mean against ``control`` (pooled variance, as scipy).

    ``samples`` are 1-D arrays (or one :class:`~.stats.Moments` of the
    treatment arms with a leading arm dimension, ``control`` then a
    :class:`~.stats.Moments` too: the test needs only the moments).  The
    intervals are simultaneous: all contain their true differences with
    probability ``1 - alpha`` (one-sided bounds for ``"greater"``/``"less"``).
    """
    alpha = check_alpha(alpha)
    if alternative not in ALTERNATIVES:
        raise OptionError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    if len(samples) == 1 and isinstance(samples[0], Moments):
        treat = samples[0]
        if not isinstance(control, Moments):
            raise OptionError("with Moments of the treatment arms, control must be Moments too")
        n, mean, ss = treat.n.ravel(), treat.mean[..., 0].ravel(), treat.comoment[..., 0, 0].ravel()
        n0, m0, ss0 = float(control.n), float(control.mean[..., 0]), float(control.comoment[..., 0, 0])
    else:
        if not samples:
            raise OptionError("dunnett needs at least one treatment sample")
        arrs = [_sample(x, f"sample {i + 1}") for i, x in enumerate(samples)]
        c = _sample(control, "control")
        n = np.array([len(a) for a in arrs], dtype=float)
        mean = np.array([a.mean() for a in arrs])
        ss = np.array([((a - a.mean()) ** 2).sum() for a in arrs])
        n0, m0, ss0 = float(len(c)), float(c.mean()), float(((c - c.mean()) ** 2).sum())
    df = float(n.sum() + n0 - len(n) - 1)
    s2 = (ss.sum() + ss0) / df
    if not s2 > 0:
        raise DataError("dunnett: every sample is constant (zero pooled variance); no test")
    se = np.sqrt(s2 * (1 / n + 1 / n0))
    est = mean - m0
    t = est / se
    share = n / (n + n0)                      # v_0 / (v_i + v_0) with a common variance
    p = dunnett_adjust(t, share, df, alternative)
    crit = _critical(alpha, np.sqrt(share), df, alternative)
    lo = est - crit * se if alternative != "less" else np.full_like(est, -np.inf)
    hi = est + crit * se if alternative != "greater" else np.full_like(est, np.inf)
    arms = tuple(labels) if labels is not None else tuple(range(1, len(n) + 1))
    return DunnettResult(arms, "control", est, se, t, p, lo, hi, crit, df, alpha, alternative)


def _sample(x: Any, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=float).ravel()
    if len(a) < 2:
        raise DataError(f"dunnett: {what} has {len(a)} value(s); every sample needs at least 2")
    if not np.all(np.isfinite(a)):
        raise DataError(f"dunnett: {what} has missing or infinite values")
    return a
