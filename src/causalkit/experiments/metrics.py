"""Metric definitions and the two-arm comparison engine (Welch, z, delta method, CUPED).

A metric is a smooth function of an arm's mean vector: a mean ``E[y]``, a
proportion (a mean of 0/1), or a ratio ``E[num] / E[den]`` per unit (clicks per
session: sum of clicks over sum of sessions, with the delta-method variance of
Deng et al. 2018).  :func:`compare` takes the :class:`~.stats.Moments` of a
treatment and a control arm (with any leading batch dimensions) and returns
the absolute and relative lift with their inference:

* means: Welch t test (Student's t with Welch–Satterthwaite df);
* proportions: two-proportion z test with the pooled null variance, and an
  unpooled (Wald) interval (with CUPED, the z test uses the unpooled adjusted
  variance: the pooled null variance of the raw proportions no longer applies);
* ratios: z test with delta-method variances;
* relative lift ``treatment / control - 1``: delta-method interval, or
  Fieller's (1954) interval with ``relative_ci="fieller"``;
* CUPED (Deng, Xu, Kohavi & Walker 2013): with a pre-period covariate the
  metric is ``f - theta * (h - h_pooled)`` with ``theta`` the pooled regression
  slope of the metric's linearization on the covariate's, also for ratios.

Example
-------
>>> import numpy as np
>>> from causalkit.experiments.stats import Moments
>>> a = Moments.from_rows(np.array([12.1, 9.8, 11.4, 10.2, 13.5, 9.1, 10.8, 12.7]))
>>> b = Moments.from_rows(np.array([13.2, 14.1, 11.9, 15.3, 12.8, 14.6, 13.0, 16.2, 12.4, 14.9]))
>>> r = compare(b, a, Metric("y"))
>>> round(float(r.statistic), 4), round(float(r.df), 3)
(3.8154, 14.555)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import OptionError
from ..inference import check_alpha, critical_value, critical_values, p_values, welch_dfs
from .stats import Moments

KINDS = ("auto", "mean", "proportion", "ratio")


@dataclass(frozen=True)
class Metric:
    """What to measure.

    Parameters
    ----------
    name
        Label in the result table; also the column of a mean/proportion metric.
    kind
        ``"mean"``, ``"proportion"``, ``"ratio"`` or ``"auto"`` (proportion when
        the column is 0/1, ratio when ``denominator`` is given, else mean).
    column
        Outcome column (defaults to ``name``); the numerator of a ratio.
    denominator
        Denominator column of a ratio metric (e.g. sessions per user).
    covariate
        Pre-period column for CUPED; for a ratio, ``covariate_denominator`` too.

    >>> Metric("ctr", column="clicks", denominator="sessions").columns
    ('clicks', 'sessions')
    """

    name: str
    kind: str = "auto"
    column: str | None = None
    denominator: str | None = None
    covariate: str | None = None
    covariate_denominator: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise OptionError(f"metric {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "ratio" and self.denominator is None:
            raise OptionError(f"ratio metric {self.name!r} needs a denominator column")
        if self.denominator is not None and self.covariate is not None \
                and self.covariate_denominator is None:
            raise OptionError(f"ratio metric {self.name!r}: CUPED needs covariate_denominator too")

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def columns(self) -> tuple[str, ...]:
        """The per-unit columns the metric's moments are computed from, in order."""
        main = (self.column or self.name,) + ((self.denominator,) if self.is_ratio else ())
        if self.covariate is None:
            return main  # type: ignore[return-value]
        cov = (self.covariate,) + ((self.covariate_denominator,) if self.is_ratio else ())
        return main + cov  # type: ignore[return-value]


@dataclass(frozen=True)
class Comparison:
    """Treatment-vs-control result arrays (all with the batch shape of the inputs)."""

    control: np.ndarray
    treatment: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    df: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    relative: np.ndarray
    relative_se: np.ndarray
    relative_ci_low: np.ndarray
    relative_ci_high: np.ndarray
    var_treatment: np.ndarray
    var_control: np.ndarray
    theta: np.ndarray | None = None
    variance_reduction: np.ndarray | None = None


def _value_and_gradient(mean: np.ndarray, start: int, ratio: bool, k: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Value of a mean/ratio functional of ``mean[start:]`` and its gradient in all k variables."""
    grad = np.zeros(mean.shape[:-1] + (k,))
    if ratio:
        num, den = mean[..., start], mean[..., start + 1]
        grad[..., start] = 1.0 / den
        grad[..., start + 1] = -num / den ** 2
        return num / den, grad
    grad[..., start] = 1.0
    return mean[..., start].copy(), grad


def _quad(g: np.ndarray, comoment: np.ndarray, h: np.ndarray | None = None) -> np.ndarray:
    return np.einsum("...j,...jl,...l->...", g, comoment, g if h is None else h)


def compare(treatment: Moments, control: Moments, metric: Metric, alpha: float = 0.05,
            kind: str | None = None, relative_ci: str = "delta") -> Comparison:
    """Compare a treatment arm with the control on ``metric`` from their moments.

    The moments hold the variables of ``metric.columns`` in order.  ``kind``
    overrides ``metric.kind`` (``"auto"`` resolves to ``"mean"`` here; the
    caller resolves proportions from the data).
    """
    alpha = check_alpha(alpha)
    if relative_ci not in ("delta", "fieller"):
        raise OptionError(f"relative_ci must be 'delta' or 'fieller', got {relative_ci!r}")
    kind = kind or metric.kind
    kind = "mean" if kind == "auto" else kind
    ratio = metric.is_ratio
    cuped = metric.covariate is not None
    k = treatment.mean.shape[-1]
    p = 2 if ratio else 1
    f1, g1 = _value_and_gradient(treatment.mean, 0, ratio, k)
    f0, g0 = _value_and_gradient(control.mean, 0, ratio, k)
    theta = reduction = None
    ddof = 0 if kind == "proportion" else 1  # p(1-p)/n for proportions, s^2/n for means
    if cuped:
        h1, gh1 = _value_and_gradient(treatment.mean, p, ratio, k)
        h0, gh0 = _value_and_gradient(control.mean, p, ratio, k)
        pooled = treatment.merge(control)
        hbar, _ = _value_and_gradient(pooled.mean, p, ratio, k)
        cov_fh = _quad(g1, treatment.comoment, gh1) + _quad(g0, control.comoment, gh0)
        var_h = _quad(gh1, treatment.comoment) + _quad(gh0, control.comoment)
        theta = np.divide(cov_fh, var_h, out=np.zeros_like(cov_fh), where=var_h > 0)
        raw_v = (_quad(g1, treatment.cov(ddof)) / treatment.n
                 + _quad(g0, control.cov(ddof)) / control.n)
        f1 = f1 - theta * (h1 - hbar)
        f0 = f0 - theta * (h0 - hbar)
        g1 = g1 - theta[..., None] * gh1
        g0 = g0 - theta[..., None] * gh0
    v1 = _quad(g1, treatment.cov(ddof)) / treatment.n
    v0 = _quad(g0, control.cov(ddof)) / control.n
    diff = f1 - f0
    se = np.sqrt(v1 + v0)
    if cuped:
        reduction = 1.0 - (v1 + v0) / raw_v
    if kind == "proportion" and not cuped:
        pooled_p = (f1 * treatment.n + f0 * control.n) / (treatment.n + control.n)
        se_null = np.sqrt(pooled_p * (1 - pooled_p) * (1 / treatment.n + 1 / control.n))
        statistic = _ratio(diff, se_null)
        df = np.full(np.shape(diff), np.inf)
    else:
        statistic = _ratio(diff, se)
        df = welch_dfs(v1, treatment.n, v0, control.n) if kind == "mean" and not ratio \
            else np.full(np.shape(diff), np.inf)
    pval = p_values(statistic, df)
    crit = critical_values(alpha, df)
    rel, rel_se, rlo, rhi = relative_lift(f1, f0, v1, v0, alpha, relative_ci)
    return Comparison(control=f0, treatment=f1, estimate=diff, std_error=se,
                      statistic=statistic, p_value=pval, df=df, ci_low=diff - crit * se,
                      ci_high=diff + crit * se, relative=rel, relative_se=rel_se,
                      relative_ci_low=rlo, relative_ci_high=rhi, var_treatment=v1,
                      var_control=v0, theta=theta, variance_reduction=reduction)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(num / den, dtype=float)
        return np.where(den > 0, out, np.where(num == 0, np.nan, np.copysign(np.inf, num)))


def relative_lift(f1: Any, f0: Any, v1: Any, v0: Any, alpha: float = 0.05,
                  method: str = "delta") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Relative lift ``f1 / f0 - 1`` of independent estimates, its delta-method SE and CI.

    ``v1`` and ``v0`` are the variances of ``f1`` and ``f0``.  With
    ``method="fieller"`` the interval is Fieller's: the set of ``rho`` with
    ``(f1 - rho f0)^2 <= z^2 (v1 + rho^2 v0)``; it is ``(-inf, inf)`` when the
    control mean is not significantly different from zero.

    >>> r, se, lo, hi = relative_lift(1.1, 1.0, 0.0004, 0.0004)
    >>> round(float(r), 4), round(float(se), 4)
    (0.1, 0.0297)
    """
    f1, f0, v1, v0 = (np.asarray(a, dtype=float) for a in (f1, f0, v1, v0))
    z = critical_value(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = f1 / f0 - 1.0
        se = np.sqrt(v1 / f0 ** 2 + f1 ** 2 * v0 / f0 ** 4)
        if method == "delta":
            return rel, se, rel - z * se, rel + z * se
        a = f0 ** 2 - z ** 2 * v0
        b = f1 * f0
        c = f1 ** 2 - z ** 2 * v1
        disc = b ** 2 - a * c
        ok = (a > 0) & (disc >= 0)
        root = np.sqrt(np.where(ok, disc, 0.0))
        lo = np.where(ok, (b - root) / a - 1.0, -np.inf)
        hi = np.where(ok, (b + root) / a - 1.0, np.inf)
    return rel, se, lo, hi
