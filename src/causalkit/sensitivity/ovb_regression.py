"""Omitted-variable bias for linear regression (Cinelli & Hazlett 2020).

For the OLS coefficient of the treatment ``D`` in ``Y ~ D + X``, an omitted
confounder ``Z`` with partial R² ``R²_{D~Z|X}`` (with the treatment) and
``R²_{Y~Z|D,X}`` (with the outcome) changes the estimate by

    |bias| = se * sqrt(df) * sqrt(R²_{Y~Z|D,X} R²_{D~Z|X} / (1 - R²_{D~Z|X}))

and its standard error to ``se * sqrt((1 - R²_{Y~Z|D,X}) / (1 - R²_{D~Z|X}) * df/(df-1))``.
Summaries: the partial R² of the treatment with the outcome, ``t² / (t² + df)``;
the robustness value ``RV_q``, the strength (equal on both partial R²) that
reduces the estimate by ``100 q``%, and ``RV_{q,alpha}``, the strength that
makes the reduced estimate no longer significant at ``alpha``.  Benchmarking
(Section 6) bounds a confounder ``k_D`` / ``k_Y`` times as strong as an
observed covariate (or group of covariates) ``X_j``:

    R²_{D~Z|X} = k_D f²_{D~X_j|X_-j}
    R²_{Y~Z|D,X} <= ((sqrt(k_Y) + sqrt(r)) / sqrt(1 - r))² f²_{Y~X_j|D,X_-j},
    r = k_D R²_{D~X_j|X_-j}² / ((1 - k_D R²_{D~X_j|X_-j}) (1 - R²_{D~X_j|X_-j}))

with ``f² = R² / (1 - R²)``.  The analysis uses the classical OLS standard
error of the additive regression, as the paper does.

Reference: C. Cinelli and C. Hazlett (2020), "Making sense of sensitivity:
extending omitted variable bias", JRSS-B 82(1), 39-67.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> from causalkit.sensitivity import ovb
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=500); t = (x + rng.normal(size=500) > 0).astype(int)
>>> df = pd.DataFrame({"t": t, "x": x, "y": 0.5 * t + x + rng.normal(size=500)})
>>> eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"],
...                          interacted=False)
>>> res = ovb(eff, benchmark_covariates="x", kd=0.5, data=df)
>>> bool(0 < res.robustness_value_alpha < res.robustness_value < 1)
True
>>> list(res.bounds.columns)[:3]
['bound_label', 'benchmark', 'kd']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, OptionError, SensitivityNotApplicableError
from ..inference import check_alpha
from ..linear import require_full_rank
from ..validation import prepare
from ._common import unweighted_call_of, check_same_fit, require_data, require_method


# ---------------------------------------------------------------- closed forms
def partial_r2(t_statistic: float, df: float) -> float:
    """Partial R² of a regressor from its t statistic: ``t² / (t² + df)``.

    >>> round(partial_r2(4.18445, 783), 5)
    0.02187
    """
    return float(t_statistic**2 / (t_statistic**2 + df))


def robustness_value(t_statistic: float, df: float, q: float = 1.0,
                     alpha: float | None = None) -> float:
    """``RV_q`` (``alpha=None``) or ``RV_{q,alpha}`` of Cinelli & Hazlett (2020), eqs 18-19.

    With ``f_q = q |t| / sqrt(df)`` and, for ``RV_{q,alpha}``, the critical
    ``f* = t*_{alpha, df-1} / sqrt(df - 1)``: ``RV = (sqrt(g^4 + 4g^2) - g^2) / 2``
    with ``g = f_q - f*``; 0 when ``f_q <= f*``; and ``(f_q² - f*²)/(1 + f_q²)``
    when ``f_q > 1/f*`` (where only the treatment's partial R² constraint binds).

    >>> round(robustness_value(4.18445, 783), 4)
    0.1388
    """
    if not q > 0:
        raise OptionError(f"q must be positive, got {q!r}")
    fq = q * abs(t_statistic) / math.sqrt(df)
    f_crit = 0.0 if alpha is None else abs(stats.t.ppf(alpha / 2, df - 1)) / math.sqrt(df - 1)
    g = fq - f_crit
    if g <= 0:
        return 0.0
    if f_crit > 0 and fq > 1.0 / f_crit:
        return float((fq**2 - f_crit**2) / (1 + fq**2))
    return float(0.5 * (math.sqrt(g**4 + 4 * g**2) - g**2))


def bias_factor(r2dz_x: Any, r2yz_dx: Any) -> np.ndarray:
    """``sqrt(R²_{Y~Z|D,X} R²_{D~Z|X} / (1 - R²_{D~Z|X}))``, the bias per ``se sqrt(df)``."""
    r2dz_x, r2yz_dx = np.asarray(r2dz_x, float), np.asarray(r2yz_dx, float)
    return np.sqrt(r2yz_dx * r2dz_x / (1 - r2dz_x))


def benchmark_bounds(r2dxj_x: float, r2yxj_dx: float, kd: float, ky: float
                     ) -> tuple[float, float]:
    """Partial R² of a confounder ``kd`` / ``ky`` times as strong as covariate ``X_j``.

    Cinelli & Hazlett (2020), Section 6.1 (``Z`` orthogonal to ``X``); an
    outcome bound above 1 is set to 1.

    >>> r2dz, r2yz = benchmark_bounds(0.00917, 0.109, 1, 1)    # 'female' in Darfur
    >>> round(r2dz, 4), round(r2yz, 3)
    (0.0093, 0.125)
    """
    if not (kd > 0 and ky > 0):
        raise OptionError(f"kd and ky must be positive, got kd={kd!r}, ky={ky!r}")
    r2dz = kd * r2dxj_x / (1 - r2dxj_x)
    r = kd * r2dxj_x**2 / ((1 - kd * r2dxj_x) * (1 - r2dxj_x))
    if r2dz >= 1 or not 0 <= r < 1:
        raise OptionError(f"kd={kd!r} is impossible for this benchmark: a confounder "
                          f"{kd} times as strong would explain all of the treatment "
                          "(implied partial R2 >= 1); use a smaller kd")
    r2yz = ((math.sqrt(ky) + math.sqrt(r)) / math.sqrt(1 - r)) ** 2 * r2yxj_dx / (1 - r2yxj_dx)
    return float(r2dz), float(min(r2yz, 1.0))


# ---------------------------------------------------------------- the fit
@dataclass(frozen=True)
class _OLS:
    coef: np.ndarray
    cov: np.ndarray
    df: int

    def t(self, j: int) -> float:
        return float(self.coef[j] / math.sqrt(self.cov[j, j]))

    def group_partial_r2(self, idx: Sequence[int]) -> float:
        """Partial R² of the columns ``idx`` (``F k / (F k + df)``, one column: ``t²/(t²+df)``)."""
        b = self.coef[list(idx)]
        wald = float(b @ np.linalg.solve(self.cov[np.ix_(idx, idx)], b))
        return wald / (wald + self.df)


def _ols(y: np.ndarray, X: np.ndarray) -> _OLS:
    """Classical OLS: coefficients, their covariance ``s² (X'X)^-1`` and residual df."""
    require_full_rank(X)
    q, r = np.linalg.qr(X)
    coef = np.linalg.solve(r, q.T @ y)
    resid = y - X @ coef
    df = X.shape[0] - X.shape[1]
    if df < 2:
        raise DataError(f"the regression has {df} residual degrees of freedom; the "
                        "sensitivity analysis needs at least 2")
    rinv = np.linalg.solve(r, np.eye(r.shape[0]))
    cov = float(resid @ resid) / df * (rinv @ rinv.T)
    return _OLS(coef, cov, df)


def _benchmark_groups(benchmark: Any, covariates: Sequence[str]) -> dict[str, list[str]]:
    if benchmark is None:
        return {}
    if isinstance(benchmark, str):
        groups = {benchmark: [benchmark]}
    elif isinstance(benchmark, Mapping):
        groups = {str(k): ([v] if isinstance(v, str) else list(v)) for k, v in benchmark.items()}
    else:
        groups = {str(b): [b] for b in benchmark}
    for label, cols in groups.items():
        missing = [c for c in cols if c not in covariates]
        if missing or not cols:
            raise OptionError(f"benchmark covariate(s) {missing or label!r} are not among the "
                              f"effect's covariates: {', '.join(covariates) or '(none)'}")
    return groups


# ---------------------------------------------------------------- the result
@dataclass(frozen=True)
class OVBResult:
    """Cinelli-Hazlett sensitivity of a regression estimate.

    Attributes
    ----------
    estimate, std_error, t_statistic, df
        The OLS estimate, its classical standard error, t and residual df.
    partial_r2
        ``R²_{Y~D|X}``: the share of the outcome's residual variance the
        treatment explains; a confounder explaining all of the outcome must
        explain this much of the treatment to explain the estimate away.
    robustness_value, robustness_value_alpha
        ``RV_q`` and ``RV_{q,alpha}``.
    bounds
        One row per benchmark and multiple: ``bound_label``, ``r2dz_x``,
        ``r2yz_dx``, ``adjusted_estimate``, ``adjusted_se``, ``adjusted_t``,
        ``adjusted_lower_ci``, ``adjusted_upper_ci``.
    benchmarks
        The observed partial R² of each benchmark with treatment and outcome.
    """

    treatment: str
    estimate: float
    std_error: float
    t_statistic: float
    df: int
    q: float
    alpha: float
    partial_r2: float
    robustness_value: float
    robustness_value_alpha: float
    bounds: pd.DataFrame
    benchmarks: pd.DataFrame
    reduce: bool = True
    notes: tuple[str, ...] = field(default=())

    def adjusted_estimate(self, r2dz_x: Any, r2yz_dx: Any) -> np.ndarray:
        """The estimate adjusted for a confounder of the given partial R² (towards 0 if reduce)."""
        bias = bias_factor(r2dz_x, r2yz_dx) * self.std_error * math.sqrt(self.df)
        sign = 1.0 if self.estimate >= 0 else -1.0
        return sign * (abs(self.estimate) - bias) if self.reduce else sign * (
            abs(self.estimate) + bias)

    def adjusted_se(self, r2dz_x: Any, r2yz_dx: Any) -> np.ndarray:
        """The standard error had the confounder been included."""
        r2dz_x, r2yz_dx = np.asarray(r2dz_x, float), np.asarray(r2yz_dx, float)
        return np.sqrt((1 - r2yz_dx) / (1 - r2dz_x) * self.df / (self.df - 1)) * self.std_error

    def adjusted_t(self, r2dz_x: Any, r2yz_dx: Any, h0: float = 0.0) -> np.ndarray:
        """The t statistic (against ``h0``) had the confounder been included."""
        with np.errstate(divide="ignore"):     # a confounder explaining all of Y: se 0
            return ((self.adjusted_estimate(r2dz_x, r2yz_dx) - h0)
                    / self.adjusted_se(r2dz_x, r2yz_dx))

    def adjusted_ci(self, r2dz_x: Any, r2yz_dx: Any) -> tuple[np.ndarray, np.ndarray]:
        """The ``1 - alpha`` interval had the confounder been included (t with df - 1)."""
        est, se = self.adjusted_estimate(r2dz_x, r2yz_dx), self.adjusted_se(r2dz_x, r2yz_dx)
        crit = stats.t.ppf(1 - self.alpha / 2, self.df - 1)
        return est - crit * se, est + crit * se

    def summary_line(self) -> str:
        """One line for :meth:`causalkit.Effect.summary`."""
        return (f"robustness value RV_q={self.q:g} {100 * self.robustness_value:.2f}%, "
                f"RV at alpha={self.alpha:g} {100 * self.robustness_value_alpha:.2f}%, "
                f"partial R2 of treatment {100 * self.partial_r2:.2f}% (Cinelli-Hazlett)")

    def plot(self, kind: str = "contour", sensitivity_of: str = "estimate", ax: Any = None,
             **kwargs: Any) -> Any:
        """The contour plot (``kind="contour"``, benchmarks marked) or the extreme-scenario plot."""
        from .plots import ovb_contour, ovb_extreme

        if kind == "contour":
            return ovb_contour(self, sensitivity_of=sensitivity_of, ax=ax, **kwargs)
        if kind == "extreme":
            return ovb_extreme(self, ax=ax, **kwargs)
        raise OptionError(f"kind must be 'contour' or 'extreme', got {kind!r}")


def ovb_from_fit(treatment: str, estimate: float, std_error: float, df: int, *,
                 q: float = 1.0, alpha: float = 0.05, benchmarks: pd.DataFrame | None = None,
                 kd: Any = (1, 2, 3), ky: Any = None, reduce: bool = True,
                 notes: tuple[str, ...] = ()) -> OVBResult:
    """The Cinelli-Hazlett analysis from the estimate, its classical SE and df.

    ``benchmarks`` has columns ``benchmark``, ``r2dxj_x``, ``r2yxj_dx``.

    >>> r = ovb_from_fit("d", 0.0973, 0.0232, 783)
    >>> round(r.partial_r2, 3), round(r.robustness_value, 3)
    (0.022, 0.139)
    """
    alpha = check_alpha(alpha)
    t_stat = estimate / std_error
    kds = np.atleast_1d(np.asarray(kd, float))
    kys = kds if ky is None else np.atleast_1d(np.asarray(ky, float))
    if len(kys) != len(kds):
        raise OptionError(f"ky must have as many values as kd ({len(kds)}), got {len(kys)}")
    bench = benchmarks if benchmarks is not None else pd.DataFrame(
        columns=["benchmark", "r2dxj_x", "r2yxj_dx"])
    rows = []
    for _, b in bench.iterrows():
        for k_d, k_y in zip(kds, kys):
            r2dz, r2yz = benchmark_bounds(b["r2dxj_x"], b["r2yxj_dx"], float(k_d), float(k_y))
            label = (f"{k_d:g}x {b['benchmark']}" if k_d == k_y
                     else f"{k_d:g}/{k_y:g}x {b['benchmark']}")
            rows.append({"bound_label": label, "benchmark": b["benchmark"], "kd": k_d,
                         "ky": k_y, "r2dz_x": r2dz, "r2yz_dx": r2yz})
    result = OVBResult(
        treatment=treatment, estimate=float(estimate), std_error=float(std_error),
        t_statistic=float(t_stat), df=int(df), q=float(q), alpha=alpha,
        partial_r2=partial_r2(t_stat, df), robustness_value=robustness_value(t_stat, df, q),
        robustness_value_alpha=robustness_value(t_stat, df, q, alpha),
        bounds=pd.DataFrame(rows, columns=["bound_label", "benchmark", "kd", "ky", "r2dz_x",
                                           "r2yz_dx"]),
        benchmarks=bench.reset_index(drop=True), reduce=reduce, notes=notes)
    b = result.bounds
    if len(b):
        lo, hi = result.adjusted_ci(b["r2dz_x"], b["r2yz_dx"])
        b["adjusted_estimate"] = result.adjusted_estimate(b["r2dz_x"], b["r2yz_dx"])
        b["adjusted_se"] = result.adjusted_se(b["r2dz_x"], b["r2yz_dx"])
        b["adjusted_t"] = result.adjusted_t(b["r2dz_x"], b["r2yz_dx"])
        b["adjusted_lower_ci"], b["adjusted_upper_ci"] = lo, hi
    else:
        for col in ("adjusted_estimate", "adjusted_se", "adjusted_t", "adjusted_lower_ci",
                    "adjusted_upper_ci"):
            b[col] = pd.Series(dtype=float)
    return result


def ovb(effect: Any, benchmark_covariates: str | Sequence[str] | Mapping[str, Sequence[str]]
        | None = None, kd: float | Sequence[float] = (1, 2, 3), q: float = 1.0,
        alpha: float = 0.05, *, data: Any = None, ky: float | Sequence[float] | None = None,
        reduce: bool = True) -> OVBResult:
    """Cinelli-Hazlett omitted-variable-bias analysis of a ``regression_adjustment`` effect.

    Parameters
    ----------
    effect
        An additive (``interacted=False``) ``regression_adjustment`` effect.
    benchmark_covariates
        A covariate, a list of covariates (each its own benchmark) or a dict
        ``label -> [covariates]`` (each group one benchmark).
    kd, ky
        Multiples of the benchmark's strength with the treatment and the
        outcome (``ky`` defaults to ``kd``).
    q, alpha
        The fraction of the estimate the robustness value refers to, and the
        level of ``RV_{q,alpha}`` and of the adjusted intervals.
    data
        The DataFrame the effect was estimated on (the regression is refitted
        with its recorded roles and checked to reproduce the estimate).
    reduce
        Whether the confounder is taken to bias the estimate away from zero
        (so adjusting reduces it; default), or towards it.
    """
    require_method(effect, "ovb")
    call = unweighted_call_of(effect, "the Cinelli-Hazlett omitted-variable-bias analysis")
    data = require_data(data, "ovb")
    covariates = list(call.get("covariates") or ())
    if call.get("interacted", True) and covariates:
        raise SensitivityNotApplicableError(
            "the Cinelli-Hazlett bounds are derived for the additive regression y ~ t + X; "
            "this effect is Lin's interacted regression. Refit with interacted=False for "
            "ovb, or use evalue; ovb_dml applies to aipw and dr_learner")
    d = prepare(data, call["treatment"], call["outcome"], covariates,
                cluster=call.get("cluster"))
    X = np.column_stack([np.ones(d.n_treated + d.n_control), d.t.astype(float), d.X])
    out = _ols(d.y, X)
    check_same_fit(effect, float(out.coef[1]), "ovb")
    groups = _benchmark_groups(benchmark_covariates, d.covariates)
    rows = []
    if groups:
        rest = np.delete(X, 1, axis=1)                     # [1, X]: the treatment model
        treat = _ols(d.t.astype(float), rest)
        for label, cols in groups.items():
            idx = [d.covariates.index(c) for c in cols]
            rows.append({"benchmark": label,
                         "r2dxj_x": treat.group_partial_r2([1 + i for i in idx]),
                         "r2yxj_dx": out.group_partial_r2([2 + i for i in idx])})
    notes = ()
    if call.get("cov_type", "HC2") != "nonrobust" or call.get("cluster") is not None:
        notes = ("the analysis uses the classical OLS standard error, as Cinelli & Hazlett "
                 "(2020); the effect reports a robust one",)
    return ovb_from_fit(call["treatment"], float(out.coef[1]), math.sqrt(out.cov[1, 1]),
                        out.df, q=q, alpha=alpha,
                        benchmarks=pd.DataFrame(rows, columns=["benchmark", "r2dxj_x",
                                                               "r2yxj_dx"]),
                        kd=kd, ky=ky, reduce=reduce, notes=notes)
