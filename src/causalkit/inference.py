"""Inference from an estimate and its standard error, in one place.

Every estimator computes a point estimate and a standard error and hands both
to :func:`wald`, which returns the test statistic, the two-sided p-value and
the confidence interval, from the normal distribution or from Student's t when
degrees of freedom are given.  p-values come from survival functions, so a
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
    alpha = check_alpha(alpha)
    if df is None or not math.isfinite(df):
        return float(stats.norm.isf(alpha / 2))
    return float(stats.t.isf(alpha / 2, df))


def two_sided_p_value(statistic: float, df: float | None = None) -> float:
    """Two-sided p-value of a normal (``df=None``) or t statistic, via survival functions.

    >>> two_sided_p_value(12.0) > 0
    True
    """
    if math.isnan(statistic):
        return math.nan
    if df is None or not math.isfinite(df):
        return float(2.0 * stats.norm.sf(abs(statistic)))
    return float(2.0 * stats.t.sf(abs(statistic), df))


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

    >>> w = wald(1.0, 0.5, df=10)
    >>> round(w.p_value, 6)
    0.073388
    """
    crit = critical_value(alpha, df)
    estimate = float(estimate)
    std_error = float(std_error)
    if std_error > 0 and math.isfinite(std_error):
        statistic = (estimate - null) / std_error
    elif std_error == 0 and estimate == null:
        statistic = math.nan
    else:
        statistic = math.copysign(math.inf, estimate - null) if std_error == 0 else math.nan
    p_value = two_sided_p_value(statistic, df)
    half = crit * std_error
    return WaldResult(statistic=statistic, p_value=p_value, ci_low=estimate - half,
                      ci_high=estimate + half, critical_value=crit, df=df)


def welch_df(var1: float, n1: int, var0: float, n0: int) -> float:
    """Welch–Satterthwaite degrees of freedom for two sample variances.

    >>> round(welch_df(1.0, 10, 4.0, 20), 4)
    27.9818
    """
    a = var1 / n1
    b = var0 / n0
    denom = a * a / (n1 - 1) + b * b / (n0 - 1)
    if denom == 0:
        return math.inf
    return (a + b) ** 2 / denom
