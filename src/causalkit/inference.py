"""Inference from an estimate and its standard error, in one place.

Every estimator computes a point estimate and a standard error and hands both
to :func:`wald`, which returns the test statistic, the two-sided p-value and
the confidence interval, from the normal distribution or from Student's t when
degrees of freedom are given.  The array forms (:func:`p_values`,
:func:`critical_values`, :func:`welch_dfs`) serve batches of tests, such as the
experiment analyses and simulations.  p-values come from survival functions, so a
statistic of 12 gives a tiny positive p-value rather than 0.

Example
-------
>>> w = wald(2.0, 0.5, alpha=0.05)
>>> round(w.statistic, 3), round(w.ci_low, 4), round(w.ci_high, 4)
(4.0, 1.02, 2.98)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .errors import OptionError


@dataclass(frozen=True)
class WaldResult:
    """Statistic, two-sided p-value and (1 - alpha) confidence interval."""

    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    critical_value: float
    df: float | None


def check_alpha(alpha: float) -> float:
    """Return ``alpha`` as a float, or raise :class:`OptionError` unless 0 < alpha < 1.

    >>> check_alpha(0.05)
    0.05
    """
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise OptionError(f"alpha must be a number in (0, 1), got {alpha!r}") from None
    if not 0.0 < value < 1.0:
        raise OptionError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    return value


def critical_value(alpha: float, df: float | None = None) -> float:
    """Two-sided critical value: the (1 - alpha/2) quantile of N(0,1) or t(df).

    >>> round(critical_value(0.05), 6)
    1.959964
    """
    return float(critical_values(alpha, math.inf if df is None else df))


def critical_values(alpha: float, df: np.ndarray | float = math.inf) -> np.ndarray:
    """Two-sided critical values at level ``alpha``, elementwise in ``df`` (``inf`` = normal).

    >>> critical_values(0.05, np.array([np.inf, 10.0])).round(4).tolist()
    [1.96, 2.2281]
    """
    alpha = check_alpha(alpha)
    df = np.asarray(df, dtype=float)
    finite = np.isfinite(df)
    z = stats.norm.isf(alpha / 2)
    if not np.any(finite):
        return np.full(df.shape, z)[()]
    return np.where(finite, stats.t.isf(alpha / 2, np.where(finite, df, 1.0)), z)[()]


def two_sided_p_value(statistic: float, df: float | None = None) -> float:
    """Two-sided p-value of a normal (``df=None``) or t statistic, via survival functions.

    >>> two_sided_p_value(12.0) > 0
    True
    """
    return float(p_values(statistic, math.inf if df is None else df))


def p_values(statistic: np.ndarray | float, df: np.ndarray | float = math.inf) -> np.ndarray:
    """Two-sided p-values of z (``df=inf``) or t statistics, elementwise, via survival functions.

    >>> p = p_values(np.array([1.959963984540054, 12.0]))
    >>> round(float(p[0]), 6), bool(p[1] > 0)
    (0.05, True)
    """
    z = np.abs(np.asarray(statistic, dtype=float))
    df = np.broadcast_to(np.asarray(df, dtype=float), z.shape)
    finite = np.isfinite(df)
    out = 2.0 * stats.norm.sf(z)
    if np.any(finite):
        out = np.where(finite, 2.0 * stats.t.sf(z, np.where(finite, df, 1.0)), out)
    return out


def wald(estimate: float, std_error: float, alpha: float = 0.05,
         df: float | None = None, null: float = 0.0) -> WaldResult:
    """Wald test of ``estimate == null`` and the matching confidence interval.

    Parameters
    ----------
    estimate, std_error
        Point estimate and its standard error.
    alpha
        One minus the confidence level.
    df
        Degrees of freedom for a t reference distribution; ``None`` for normal.
    null
        Value under the null hypothesis.

    Notes
    -----
    A standard error that is not a finite positive number (NaN, infinite, zero
    or negative) gives no test: statistic, p-value and interval are NaN, never
    an infinite statistic with p = 0 (see :func:`undefined_inference_reason`).

    Examples
    --------
    >>> w = wald(1.0, 0.5, df=10)
    >>> round(w.p_value, 6)
    0.073388
    >>> wald(1.0, 0.0).p_value
    nan
    """
    crit = critical_value(alpha, df)
    estimate = float(estimate)
    std_error = float(std_error)
    if undefined_inference_reason(estimate, std_error) is not None:
        return WaldResult(statistic=math.nan, p_value=math.nan, ci_low=math.nan,
                          ci_high=math.nan, critical_value=crit, df=df)
    statistic = (estimate - null) / std_error
    p_value = two_sided_p_value(statistic, df)
    half = crit * std_error
    return WaldResult(statistic=statistic, p_value=p_value, ci_low=estimate - half,
                      ci_high=estimate + half, critical_value=crit, df=df)


def undefined_inference_reason(estimate: float, std_error: float) -> str | None:
    """Why a Wald test of ``estimate`` with ``std_error`` cannot be computed, or ``None``.

    >>> undefined_inference_reason(1.0, 0.0)
    'the standard error is zero (a degenerate design: no sampling variation), so there is no test'
    >>> undefined_inference_reason(1.0, 0.2) is None
    True
    """
    if not math.isfinite(estimate):
        return f"the estimate is {estimate}, so there is no test"
    if math.isnan(std_error):
        return "the standard error could not be computed (NaN), so there is no test"
    if std_error == 0:
        return ("the standard error is zero (a degenerate design: no sampling variation), "
                "so there is no test")
    if not math.isfinite(std_error) or std_error < 0:
        return f"the standard error is {std_error}, so there is no test"
    return None


def welch_df(var1: float, n1: int, var0: float, n0: int) -> float:
    """Welch–Satterthwaite degrees of freedom for two sample variances.

    >>> round(welch_df(1.0, 10, 4.0, 20), 4)
    27.9818
    """
    return float(welch_dfs(np.asarray(var1 / n1), n1, np.asarray(var0 / n0), n0))


def welch_dfs(v1: np.ndarray, n1: np.ndarray | int, v0: np.ndarray,
              n0: np.ndarray | int) -> np.ndarray:
    """Welch–Satterthwaite df from the *squared standard errors* ``v = s^2/n`` of two arms.

    ``inf`` where both variances are zero.

    >>> float(welch_dfs(np.array(0.1), 10, np.array(0.2), 20).round(4))
    27.9818
    """
    num = (v1 + v0) ** 2
    den = v1 ** 2 / (np.asarray(n1, float) - 1) + v0 ** 2 / (np.asarray(n0, float) - 1)
    return np.divide(num, den, out=np.full(np.shape(num), np.inf), where=den > 0)


def max_t_critical_value(cov: np.ndarray, contrasts: np.ndarray, alpha: float = 0.05,
                         n_draws: int = 100_000, random_state: int | None = 0) -> float:
    """The ``1 - alpha`` quantile of ``max_j |(C z)_j| / se_j`` for ``z ~ N(0, cov)``: the
    critical value of simultaneous (sup-t) confidence intervals for the linear
    combinations ``C theta`` (rows of ``contrasts``) of an estimate with covariance
    ``cov`` (Hothorn, Bretz & Westfall 2008).  Monte Carlo with ``n_draws`` draws
    from a fixed seed; ``cov`` may be singular.

    >>> c = max_t_critical_value(np.eye(1), np.eye(1), 0.05)
    >>> bool(abs(c - 1.96) < 0.02)
    True
    """
    cov = np.asarray(cov, dtype=float)
    contrasts = np.atleast_2d(np.asarray(contrasts, dtype=float))
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    se = np.sqrt(np.einsum("ij,jk,ik->i", contrasts, cov, contrasts))
    if not np.all(se > 0):
        return math.nan
    draws = np.random.default_rng(random_state).standard_normal((int(n_draws), len(values)))
    t = np.abs(draws @ (contrasts @ root).T) / se
    return float(np.quantile(t.max(axis=1), 1.0 - check_alpha(alpha)))
def weighted_score_mean(scores: np.ndarray, weights: np.ndarray | None = None
                        ) -> tuple[float, np.ndarray]:
    """Mean of per-unit scores and the centred influence function, with sampling weights.

    Returns ``(tau, influence)`` with ``tau = sum w s / sum w`` and ``influence =
    w (s - tau) / mean(w)``, so that the standard error is
    ``sqrt(influence @ influence) / n`` (the linearization variance of a weighted
    mean; ``weights=None`` is the plain mean and ``s - tau``).

    >>> tau, inf = weighted_score_mean(np.array([1.0, 3.0]), np.array([1.0, 3.0]))
    >>> tau, inf.tolist()
    (2.5, [-0.75, 0.75])
    """
    s = np.asarray(scores, dtype=float)
    if weights is None:
        tau = float(s.mean())
        return tau, s - tau
    w = np.asarray(weights, dtype=float)
    tau = float(w @ s / w.sum())
    return tau, w * (s - tau) / w.mean()
