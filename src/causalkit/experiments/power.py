"""Power, sample size, minimum detectable effect and duration for means and proportions.

All calculations use the normal approximation to the test statistic.  For a
difference ``delta`` whose estimate has standard deviation ``s0`` under the
null and ``s1`` under the alternative, the power of a level-``alpha`` test is

* two-sided: ``P(Z > (c s0 - delta)/s1) + P(Z < (-c s0 - delta)/s1)``, ``c = z_{1-alpha/2}``
  (both rejection tails, as statsmodels' ``NormalIndPower``);
* ``"larger"`` / ``"smaller"``: the one tail, with ``c = z_{1-alpha}``.

The sample size is the smallest integer ``n_control`` (``n_treatment = ratio *
n_control``) whose power reaches the target, found by root finding on that
function.  The variance formulas (``method=``):

``"pooled"`` (proportions, default)
    null variance from the pooled proportion ``pbar (1 - pbar)(1/n0 + 1/n1)``,
    alternative variance ``p0 q0 / n0 + p1 q1 / n1`` (Fleiss, Levin & Paik 2003,
    without continuity correction): 10% -> 12% needs 3,841 per arm.
``"unpooled"`` (proportions)
    ``p0 q0 / n0 + p1 q1 / n1`` under both hypotheses.
``"cohen_h"`` (proportions)
    Cohen's arcsine effect size ``h = 2 asin(sqrt p1) - 2 asin(sqrt p0)`` with unit
    variance, exactly statsmodels' ``NormalIndPower``: 10% -> 12% needs 3,835.
means
    a common standard deviation ``sd`` in both arms (``NormalIndPower`` with
    ``effect_size = delta / sd``).

Example
-------
>>> sample_size_proportions(0.10, 0.12).n_control
3841
>>> sample_size_proportions(0.10, 0.12, method="cohen_h").n_control
3835
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize, stats

from ..errors import OptionError
from ..inference import check_alpha

ALTERNATIVES = ("two-sided", "larger", "smaller")
PROPORTION_METHODS = ("pooled", "unpooled", "cohen_h")


@dataclass(frozen=True)
class SampleSize:
    """Units needed per arm, the power they achieve and the formula used."""

    n_control: int
    n_treatment: int
    power: float
    method: str

    @property
    def total(self) -> int:
        """Units over both arms."""
        return self.n_control + self.n_treatment

    def duration(self, daily_units: float, traffic_fraction: float = 1.0) -> int:
        """Days needed to enrol :attr:`total` units; see :func:`duration_days`."""
        return duration_days(self.total, daily_units, traffic_fraction)


def duration_days(total_units: int, daily_units: float, traffic_fraction: float = 1.0) -> int:
    """Whole days to enrol ``total_units`` when ``daily_units`` arrive and a fraction enters.

    >>> duration_days(7682, 1000, traffic_fraction=0.5)
    16
    """
    if daily_units <= 0 or not 0 < traffic_fraction <= 1:
        raise OptionError("daily_units must be positive and traffic_fraction in (0, 1]")
    return int(math.ceil(total_units / (daily_units * traffic_fraction)))


def _check(alpha: float, power: float | None, alternative: str, ratio: float) -> None:
    check_alpha(alpha)
    if power is not None and not 0 < power < 1:
        raise OptionError(f"power must lie strictly between 0 and 1, got {power!r}")
    if alternative not in ALTERNATIVES:
        raise OptionError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    if not ratio > 0:
        raise OptionError(f"ratio (n_treatment / n_control) must be positive, got {ratio!r}")


def normal_power(delta: float, s0: float, s1: float, alpha: float = 0.05,
                 alternative: str = "two-sided") -> float:
    """Power of a z test of a difference with null / alternative SDs ``s0`` and ``s1``.

    >>> round(normal_power(0.0, 1.0, 1.0), 3)
    0.05
    """
    if alternative == "two-sided":
        c = stats.norm.isf(alpha / 2)
        return float(stats.norm.sf((c * s0 - delta) / s1) + stats.norm.cdf((-c * s0 - delta) / s1))
    c = stats.norm.isf(alpha)
    if alternative == "larger":
        return float(stats.norm.sf((c * s0 - delta) / s1))
    return float(stats.norm.cdf((-c * s0 - delta) / s1))


def power_from_se(delta: float, std_error: float, alpha: float = 0.05,
                  alternative: str = "two-sided") -> float:
    """Power of the level-``alpha`` z test to detect a true difference ``delta`` at a given SE.

    The power an experiment *achieved*: its standard error is known after the
    fact, so the power against an effect of interest needs no variance
    assumption.  (The power at the *observed* effect is a function of the
    p-value and says nothing more; Hoenig & Heisey 2001.)

    >>> round(power_from_se(2.8016, 1.0), 3)     # (z_0.975 + z_0.8) SEs away: 80%
    0.8
    """
    _check(alpha, None, alternative, 1.0)
    if not (np.isfinite(std_error) and std_error > 0):
        return math.nan
    return normal_power(delta, std_error, std_error, alpha, alternative)


def mde_from_se(std_error: float, alpha: float = 0.05, power: float = 0.8,
                alternative: str = "two-sided") -> float:
    """Smallest true difference the test detects with probability ``power`` at a given SE.

    >>> round(mde_from_se(1.0), 4)      # z_0.975 + z_0.8, less the far tail's 3e-6
    2.8016
    """
    _check(alpha, power, alternative, 1.0)
    if not (np.isfinite(std_error) and std_error > 0):
        return math.nan
    sign = -1.0 if alternative == "smaller" else 1.0
    return sign * optimize.brentq(
        lambda d: normal_power(sign * d, std_error, std_error, alpha, alternative) - power,
        1e-12 * std_error, 100 * std_error, xtol=1e-14 * std_error)


def _sds_proportions(p0: float, p1: float, n0: float, ratio: float, method: str
                     ) -> tuple[float, float, float]:
    """(effect on the test's scale, null SD, alternative SD) for ``n0`` control units."""
    n1 = ratio * n0
    if method == "cohen_h":
        h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0))
        s = math.sqrt(1 / n0 + 1 / n1)
        return h, s, s
    s1 = math.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
    if method == "unpooled":
        return p1 - p0, s1, s1
    pbar = (p0 + ratio * p1) / (1 + ratio)
    return p1 - p0, math.sqrt(pbar * (1 - pbar) * (1 / n0 + 1 / n1)), s1


def _solve_n(power_of_n: Callable[[float], float], target: float) -> int:
    if power_of_n(1e12) < target:
        raise OptionError("the effect is too small to reach the requested power with any sample size")
    lo = 2.0
    if power_of_n(lo) >= target:
        return 2
    n = optimize.brentq(lambda m: power_of_n(m) - target, lo, 1e12, xtol=1e-9, rtol=1e-14)
    return int(math.ceil(n - 1e-9))


def _check_props(p0: float, p1: float, method: str) -> None:
    if not (0 < p0 < 1 and 0 < p1 < 1):
        raise OptionError(f"proportions must lie strictly between 0 and 1, got {p0!r}, {p1!r}")
    if method not in PROPORTION_METHODS:
        raise OptionError(f"method must be one of {PROPORTION_METHODS}, got {method!r}")


def power_proportions(p0: float, p1: float, n_control: float, alpha: float = 0.05,
                      alternative: str = "two-sided", ratio: float = 1.0,
                      method: str = "pooled") -> float:
    """Power to detect ``p0 -> p1`` with ``n_control`` and ``ratio * n_control`` units.

    >>> round(power_proportions(0.10, 0.12, 3841), 3)
    0.8
    """
    _check(alpha, None, alternative, ratio)
    _check_props(p0, p1, method)
    return normal_power(*_sds_proportions(p0, p1, n_control, ratio, method), alpha, alternative)


def sample_size_proportions(p0: float, p1: float, alpha: float = 0.05, power: float = 0.8,
                            alternative: str = "two-sided", ratio: float = 1.0,
                            method: str = "pooled") -> SampleSize:
    """Units per arm to detect a change of a conversion rate from ``p0`` to ``p1``.

    ``ratio`` is ``n_treatment / n_control``; ``method`` is ``"pooled"``,
    ``"unpooled"`` or ``"cohen_h"`` (see the module docstring).
    """
    _check(alpha, power, alternative, ratio)
    _check_props(p0, p1, method)
    n0 = _solve_n(lambda n: power_proportions(p0, p1, n, alpha, alternative, ratio, method), power)
    n1 = int(math.ceil(ratio * n0 - 1e-9))
    return SampleSize(n0, n1, power_proportions(p0, p1, n0, alpha, alternative, ratio, method),
                      method)


def power_means(delta: float, sd: float, n_control: float, alpha: float = 0.05,
                alternative: str = "two-sided", ratio: float = 1.0) -> float:
    """Power to detect a mean difference ``delta`` with common standard deviation ``sd``.

    >>> round(power_means(0.2, 1.0, 393), 2)
    0.8
    """
    _check(alpha, None, alternative, ratio)
    if not sd > 0:
        raise OptionError(f"sd must be positive, got {sd!r}")
    s = sd * math.sqrt(1 / n_control + 1 / (ratio * n_control))
    return normal_power(delta, s, s, alpha, alternative)


def sample_size_means(delta: float, sd: float, alpha: float = 0.05, power: float = 0.8,
                      alternative: str = "two-sided", ratio: float = 1.0) -> SampleSize:
    """Units per arm to detect a mean difference ``delta`` (common ``sd``).

    >>> sample_size_means(0.2, 1.0).n_control
    393
    """
    _check(alpha, power, alternative, ratio)
    n0 = _solve_n(lambda n: power_means(delta, sd, n, alpha, alternative, ratio), power)
    return SampleSize(n0, int(math.ceil(ratio * n0 - 1e-9)),
                      power_means(delta, sd, n0, alpha, alternative, ratio), "normal")


def mde_means(sd: float, n_control: float, alpha: float = 0.05, power: float = 0.8,
              alternative: str = "two-sided", ratio: float = 1.0) -> float:
    """Smallest mean difference detected with the given power (positive; negated for ``smaller``).

    >>> round(mde_means(1.0, 393), 3)
    0.2
    """
    _check(alpha, power, alternative, ratio)
    sign = -1.0 if alternative == "smaller" else 1.0
    s = sd * math.sqrt(1 / n_control + 1 / (ratio * n_control))
    return sign * optimize.brentq(
        lambda d: power_means(sign * d, sd, n_control, alpha, alternative, ratio) - power,
        1e-12 * s, 100 * s, xtol=1e-14 * s)


def mde_proportions(p0: float, n_control: float, alpha: float = 0.05, power: float = 0.8,
                    alternative: str = "two-sided", ratio: float = 1.0,
                    method: str = "pooled") -> float:
    """Smallest absolute change of ``p0`` detected with the given power (upward unless ``smaller``).

    >>> round(mde_proportions(0.10, 3841), 4)
    0.02
    """
    _check(alpha, power, alternative, ratio)
    _check_props(p0, 0.5, method)
    if alternative == "smaller":
        lo, hi, sign = 1e-12, p0 - 1e-12, -1.0
    else:
        lo, hi, sign = 1e-12, 1 - p0 - 1e-12, 1.0

    def gap(d: float) -> float:
        return power_proportions(p0, p0 + sign * d, n_control, alpha, alternative, ratio,
                                 method) - power

    if gap(hi) < 0:
        raise OptionError("no change of the proportion reaches the requested power at this n")
    return sign * optimize.brentq(gap, lo, hi, xtol=1e-14)


# ---------------------------------------------------------------- ratio and CUPED metrics
def ratio_sd(mean_numerator: float, mean_denominator: float, var_numerator: float,
             var_denominator: float, cov: float) -> float:
    """Per-unit SD of a ratio metric ``sum(num) / sum(den)`` by the delta method (Deng et al. 2018).

    ``n Var(R_hat) -> (s_num^2 - 2 R s_num,den + R^2 s_den^2) / mu_den^2`` with
    ``R = mu_num / mu_den``; use it as ``sd`` in :func:`sample_size_means` /
    :func:`power_means` (the ratio's difference between arms is then a
    difference of approximately normal means).

    >>> round(ratio_sd(2.0, 4.0, 1.0, 1.0, 0.0), 4)   # sqrt(1 + 0.25) / 4
    0.2795
    """
    if not mean_denominator != 0:
        raise OptionError("the denominator's mean must be non-zero for a ratio metric")
    r = mean_numerator / mean_denominator
    v = (var_numerator - 2 * r * cov + r * r * var_denominator) / mean_denominator ** 2
    if not v > 0:
        raise OptionError("the ratio's delta-method variance is not positive: check the "
                          "variances and the covariance (their matrix must be positive definite)")
    return math.sqrt(v)


def ratio_sd_from_data(numerator: object, denominator: object) -> float:
    """:func:`ratio_sd` from per-unit pre-period numerator and denominator values."""
    import numpy as np
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    if num.shape != den.shape or num.ndim != 1 or len(num) < 3:
        raise OptionError("numerator and denominator must be 1-D arrays of one length >= 3")
    if not (np.all(np.isfinite(num)) and np.all(np.isfinite(den))):
        raise OptionError("numerator and denominator must be finite (no NaN)")
    c = np.cov(num, den)
    return ratio_sd(float(num.mean()), float(den.mean()), float(c[0, 0]), float(c[1, 1]),
                    float(c[0, 1]))


def cuped_sd(sd: float | None = None, rho: float | None = None, *, metric: object = None,
             covariate: object = None) -> float:
    """Residual SD after CUPED: ``sd sqrt(1 - rho^2)`` (given, or from pre-period data).

    Either ``sd`` and ``rho`` (the metric's correlation with its covariate),
    or the pre-period ``metric`` and ``covariate`` arrays, from which both
    are estimated.  The required sample size scales by ``1 - rho^2``.

    >>> round(cuped_sd(2.0, 0.6), 3)
    1.6
    """
    import numpy as np
    if metric is not None or covariate is not None:
        if sd is not None or rho is not None:
            raise OptionError("give sd and rho, or metric and covariate data, not both")
        y = np.asarray(metric, dtype=float)
        x = np.asarray(covariate, dtype=float)
        if y.shape != x.shape or y.ndim != 1 or len(y) < 3 or not np.all(np.isfinite(y * x)):
            raise OptionError("metric and covariate must be finite 1-D arrays of one length >= 3")
        sd, rho = float(np.std(y, ddof=1)), float(np.corrcoef(y, x)[0, 1])
    if sd is None or rho is None:
        raise OptionError("cuped_sd needs sd and rho, or metric= and covariate= data")
    if not sd > 0 or not -1 < rho < 1:
        raise OptionError(f"sd must be positive and rho in (-1, 1), got {sd!r}, {rho!r}")
    return sd * math.sqrt(1 - rho * rho)


def conditional_power(z_interim: float, information: float, alpha: float = 0.05,
                      drift: float | str = "current", alternative: str = "two-sided") -> float:
    """Probability that the final test rejects, given the interim z statistic.

    With ``t = information`` (the fraction of the planned sample observed),
    the score process ``B(t) = Z_t sqrt(t)`` is Brownian motion with drift
    ``theta`` (the expected final z; Lan & Wittes 1988), so

        CP = P(Z_1 > c | Z_t) = 1 - Phi((c - B(t) - theta (1 - t)) / sqrt(1 - t))

    (the upper tail; for ``"two-sided"`` both tails are added).  ``drift``:
    ``"current"`` (the trend so far, ``theta = Z_t / sqrt(t)``), ``"null"``
    (``theta = 0``) or a number (the planned effect in units of the final
    SE, e.g. ``z_{1-alpha/2} + z_{power}`` for the design's effect).

    >>> round(conditional_power(0.0, 0.5, drift="null"), 4)
    0.0056
    """
    check_alpha(alpha)
    if not 0 < information < 1:
        raise OptionError(f"information must be a fraction in (0, 1), got {information!r}")
    if alternative not in ALTERNATIVES:
        raise OptionError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    t = float(information)
    if drift == "current":
        theta = z_interim / math.sqrt(t)
    elif drift == "null":
        theta = 0.0
    elif isinstance(drift, (int, float)) and not isinstance(drift, bool) and math.isfinite(drift):
        theta = float(drift)
    else:
        raise OptionError(f"drift must be 'current', 'null' or a finite number, got {drift!r}")
    b, rest = z_interim * math.sqrt(t), 1.0 - t
    mean, sd = b + theta * rest, math.sqrt(rest)
    if alternative == "two-sided":
        c = stats.norm.isf(alpha / 2)
        return float(stats.norm.sf((c - mean) / sd) + stats.norm.cdf((-c - mean) / sd))
    c = stats.norm.isf(alpha)
    if alternative == "larger":
        return float(stats.norm.sf((c - mean) / sd))
    return float(stats.norm.cdf((-c - mean) / sd))


def sample_size_ratio(delta: float, numerator: object, denominator: object,
                      **options: object) -> SampleSize:
    """Units per arm to detect a change ``delta`` of a ratio metric, its SD from pre-period data.

    :func:`sample_size_means` with ``sd = ratio_sd_from_data(numerator, denominator)``.
    """
    return sample_size_means(delta, ratio_sd_from_data(numerator, denominator), **options)  # type: ignore[arg-type]


def sample_size_cuped(delta: float, sd: float | None = None, rho: float | None = None, *,
                      metric: object = None, covariate: object = None,
                      **options: object) -> SampleSize:
    """Units per arm for a CUPED-adjusted metric: :func:`sample_size_means` with :func:`cuped_sd`.

    >>> plain, adj = sample_size_means(0.1, 1.0).n_control, sample_size_cuped(0.1, 1.0, 0.5).n_control
    >>> plain, adj     # about 1 - 0.5^2 = 75% of the units
    (1570, 1178)
    """
    return sample_size_means(delta, cuped_sd(sd, rho, metric=metric, covariate=covariate),
                             **options)  # type: ignore[arg-type]
