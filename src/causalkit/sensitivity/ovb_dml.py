"""Omitted-variable bias for AIPW / DML (Chernozhukov, Cinelli, Newey, Sharma & Syrgkanis 2022).

With the cross-fitted outcome regressions ``g`` (``mu1``, ``mu0``) and
propensity ``e``, the target is a linear functional of ``g`` with Riesz
representer ``alpha``:

* ATE: ``alpha = t/e - (1-t)/(1-e)``, ``m(W, alpha) = 1/e + 1/(1-e)``;
* ATT: ``alpha = (e/p) (t/e - (1-t)/(1-e))``, ``m(W, alpha) = t / (p² (1-e))``,
  ``p = P(T = 1)`` (the estimand ``E[g(1,X) - g(0,X) | T = 1]``).

With

    sigma² = E[(Y - g(T, X))²],   nu² = E[2 m(W, alpha) - alpha²]

a latent confounder that explains a share ``cf_y`` of the outcome's residual
variation and for which ``cf_d`` measures the gain in the Riesz
representer's variation (``cf_d / (1 - cf_d)``) moves the estimate by at most

    |bias| <= |rho| sqrt(cf_y cf_d / (1 - cf_d)) sqrt(sigma² nu²).

(When the orthogonal estimate of ``nu²`` is not positive the plain
``E[alpha²]`` is used, with a warning, as DoubleML does.)

The bounds' standard errors come from the influence function shifted by the
bias's own influence function ``(sigma² psi_nu² + nu² psi_sigma²) / (2 S)``,
and the bounds' confidence limits are one-sided at ``1 - alpha`` (as DoubleML's
``sensitivity_analysis``).  The robustness value ``RV`` is the ``cf_y = cf_d``
that moves the bound to the null; ``RV_a`` moves its confidence limit there.
Benchmarks leave out observed covariates and refit (DoubleML's
``sensitivity_benchmark`` statistics).

It applies to ``aipw`` (ATE and ATT) and to ``dr_learner`` (its ATE is the
mean of the same doubly robust score; the learner keeps the cross-fitted
nuisances in ``diagnostics["nuisance"]``).  The other learners' ATE is not
the mean of a doubly robust score with these nuisances (plug-in means of
CATE models, or the residual-on-residual forest of ``causal_forest``), so
the bound does not apply to them.

Reference: V. Chernozhukov, C. Cinelli, W. Newey, A. Sharma and V. Syrgkanis
(2022), "Long story short: omitted variable bias in causal machine learning",
NBER Working Paper 30302.

Example
-------
>>> import causalkit
>>> from causalkit.datasets import linear_confounding
>>> from causalkit.sensitivity import ovb_dml
>>> ds = linear_confounding(800, n_covariates=2, seed=0)
>>> eff = causalkit.estimate(ds.data, "t", "y", method="aipw", covariates=ds.covariates)
>>> res = ovb_dml(eff, cf_y=0.03, cf_d=0.03, data=ds.data)
>>> bool(res.theta_lower < eff.estimate < res.theta_upper), bool(0 < res.robustness_value < 1)
(True, True)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import OptionError, SensitivityNotApplicableError
from ..inference import check_alpha
from ..validation import prepare
from ._common import unweighted_call_of, check_same_fit, refit, require_data, require_method


@dataclass(frozen=True)
class RieszElements:
    """The sensitivity elements of one fit: estimate, influence function, sigma², nu² and
    their influence functions."""

    theta: float
    influence: np.ndarray
    sigma2: float
    nu2: float
    psi_sigma2: np.ndarray
    psi_nu2: np.ndarray
    var_y: float

    @property
    def max_bias(self) -> float:
        """``S = sqrt(sigma² nu²)``."""
        return math.sqrt(self.sigma2 * self.nu2)

    @property
    def psi_max_bias(self) -> np.ndarray:
        """Influence function of ``S``."""
        return (self.sigma2 * self.psi_nu2 + self.nu2 * self.psi_sigma2) / (2 * self.max_bias)


def riesz_elements(y: np.ndarray, t: np.ndarray, e: np.ndarray, mu1: np.ndarray,
                   mu0: np.ndarray, estimand: str = "ATE") -> RieszElements:
    """The sensitivity elements of the ATE or ATT from the outcome, treatment and
    cross-fitted nuisances.

    >>> el = riesz_elements(np.array([1.0, 0.0]), np.array([1, 0]), np.array([0.5, 0.5]),
    ...                     np.array([1.0, 1.0]), np.array([0.0, 0.0]))
    >>> el.theta, el.sigma2, el.nu2
    (1.0, 0.0, 4.0)
    >>> riesz_elements(np.array([1.0, 0.0]), np.array([1, 0]), np.array([0.5, 0.5]),
    ...                np.array([1.0, 1.0]), np.array([0.0, 0.0]), "ATT").nu2
    4.0
    """
    tf = t.astype(float)
    if estimand == "ATT":
        p = float(tf.mean())
        resid0 = y - mu0
        num = (tf * resid0 - (1 - tf) * e / (1 - e) * resid0) / p
        theta = float(num.mean())
        influence = num - tf / p * theta
        rr = e / p * (tf / e - (1 - tf) / (1 - e))
        m_alpha = tf / (p * p * (1 - e))
    elif estimand == "ATE":
        phi = mu1 - mu0 + tf * (y - mu1) / e - (1 - tf) * (y - mu0) / (1 - e)
        theta = float(phi.mean())
        influence = phi - theta
        rr = tf / e - (1 - tf) / (1 - e)
        m_alpha = 1 / e + 1 / (1 - e)
    else:
        raise SensitivityNotApplicableError(
            f"ovb_dml bounds the ATE or the ATT, not the {estimand}")
    s_el = (y - tf * mu1 - (1 - tf) * mu0) ** 2
    n_el = 2 * m_alpha - rr**2
    if n_el.mean() <= 0:
        warnings.warn("ovb_dml: the orthogonal estimate of nu^2 is not positive; using the "
                      "plain mean of the squared Riesz representer (as DoubleML)",
                      UserWarning, stacklevel=2)
        n_el = rr**2
    return RieszElements(theta, influence, float(s_el.mean()), float(n_el.mean()),
                         s_el - s_el.mean(), n_el - n_el.mean(), float(np.var(y)))


@dataclass(frozen=True)
class DMLSensitivity:
    """Bounds on the ATE or ATT under confounding of strength ``(cf_y, cf_d, rho)``.

    Attributes
    ----------
    theta, theta_lower, theta_upper
        The estimate and its bounds; ``se_lower``/``se_upper`` their standard errors.
    ci_lower, ci_upper
        One-sided ``1 - alpha`` confidence limits of the bounds.
    robustness_value, robustness_value_alpha
        ``RV`` and ``RV_a`` (``cf_y = cf_d``, ``rho`` as given) for the null ``null``.
    sigma2, nu2
        The sensitivity elements.
    benchmarks
        ``cf_y, cf_d, rho, delta_theta`` for each left-out covariate group.
    estimand
        ``"ATE"`` or ``"ATT"``.
    elements
        The :class:`RieszElements` the bounds come from, one per cross-fitting split
        (for :meth:`plot`).
    """

    theta: float
    theta_lower: float
    theta_upper: float
    se_lower: float
    se_upper: float
    ci_lower: float
    ci_upper: float
    cf_y: float
    cf_d: float
    rho: float
    alpha: float
    null: float
    robustness_value: float
    robustness_value_alpha: float
    sigma2: float
    nu2: float
    benchmarks: pd.DataFrame
    estimand: str = "ATE"
    elements: tuple[RieszElements, ...] | None = field(default=None, repr=False,
                                                       compare=False)

    @property
    def bounds(self) -> pd.DataFrame:
        """The bounds as a one-row-per-side DataFrame (estimate, se, confidence limit)."""
        return pd.DataFrame({"theta": [self.theta_lower, self.theta_upper],
                             "se": [self.se_lower, self.se_upper],
                             "ci": [self.ci_lower, self.ci_upper]}, index=["lower", "upper"])

    def plot(self, value: str = "theta", ax: Any = None, **kwargs: Any) -> Any:
        """Contours of the bound (or its confidence limit) over ``cf_d`` and ``cf_y``,
        benchmarks marked; see :func:`causalkit.sensitivity.plots.dml_contour`."""
        from .plots import dml_contour

        return dml_contour(self, value=value, ax=ax, **kwargs)

    def summary_line(self) -> str:
        """One line for :meth:`causalkit.Effect.summary`."""
        return (f"DML robustness value ({self.estimand}) {100 * self.robustness_value:.2f}%, at alpha="
                f"{self.alpha:g} {100 * self.robustness_value_alpha:.2f}%; bounds at cf_y="
                f"{self.cf_y:g}, cf_d={self.cf_d:g}: [{self.theta_lower:.4g}, "
                f"{self.theta_upper:.4g}] (Chernozhukov et al. 2022)")


def _bounds(el: RieszElements, cf_y: float, cf_d: float, rho: float, alpha: float
            ) -> tuple[float, float, float, float, float, float]:
    strength = abs(rho) * math.sqrt(cf_y * cf_d / (1 - cf_d))
    n = len(el.influence)
    lo = el.theta - strength * el.max_bias
    hi = el.theta + strength * el.max_bias
    se_lo = math.sqrt(float(np.mean((el.influence - strength * el.psi_max_bias) ** 2)) / n)
    se_hi = math.sqrt(float(np.mean((el.influence + strength * el.psi_max_bias) ** 2)) / n)
    z = stats.norm.ppf(1 - alpha)
    return lo, hi, se_lo, se_hi, lo - z * se_lo, hi + z * se_hi


def _aggregate(els: Sequence[RieszElements], cf_y: float, cf_d: float, rho: float,
               alpha: float) -> tuple[float, float, float, float, float, float]:
    """The bounds of one split, or (repeated cross-fitting) the medians over the splits of
    the bounds and of their confidence limits (as DoubleML), with the SEs aggregated as
    the estimate's: ``sqrt(median(se_s² + (b_s - median)²))`` (Chernozhukov et al. 2018)."""
    if len(els) == 1:
        return _bounds(els[0], cf_y, cf_d, rho, alpha)
    per = np.array([_bounds(el, cf_y, cf_d, rho, alpha) for el in els])
    lo, hi = float(np.median(per[:, 0])), float(np.median(per[:, 1]))
    se_lo = math.sqrt(float(np.median(per[:, 2] ** 2 + (per[:, 0] - lo) ** 2)))
    se_hi = math.sqrt(float(np.median(per[:, 3] ** 2 + (per[:, 1] - hi) ** 2)))
    return lo, hi, se_lo, se_hi, float(np.median(per[:, 4])), float(np.median(per[:, 5]))


def _check_strength(cf_y: float, cf_d: float, rho: float) -> None:
    if not (0 <= cf_y < 1 and 0 <= cf_d < 1):
        raise OptionError(f"cf_y and cf_d must lie in [0, 1), got cf_y={cf_y!r}, cf_d={cf_d!r}")
    if not -1 <= rho <= 1:
        raise OptionError(f"rho must lie in [-1, 1], got {rho!r}")


def _robustness(els: Sequence[RieszElements], rho: float, alpha: float, null: float
                ) -> tuple[float, float]:
    theta = float(np.median([el.theta for el in els]))
    side = 1 if null > theta else 0                  # the bound that moves towards the null

    def gap(v: float, which: int) -> float:
        b = _aggregate(els, v, v, rho, alpha)
        return (b[1] if side else b[0]) if which == 0 else (b[5] if side else b[4])

    out = []
    for which in (0, 1):
        f0 = gap(0.0, which) - null
        if (f0 >= 0) != (theta >= null) or f0 == 0:
            out.append(0.0)                    # already at or beyond the null
            continue
        top = 1 - 1e-12
        if (gap(top, which) - null >= 0) == (f0 >= 0):
            out.append(1.0)
            continue
        out.append(float(optimize.brentq(lambda v: gap(v, which) - null, 0.0, top,
                                         xtol=1e-12)))
    return out[0], out[1]


#: What each method's Effect keeps for the bounds, and the estimands they cover.
_SUPPORTED = {"aipw": ("ATE", "ATT"), "dr_learner": ("ATE", "CATE")}


def _elements_of(effect: Any, data: Any) -> list[RieszElements]:
    """The sensitivity elements of each cross-fitting split of the effect."""
    call = unweighted_call_of(effect, "the DML omitted-variable-bias bound")
    if effect.estimand not in _SUPPORTED[effect.method]:
        raise SensitivityNotApplicableError(
            f"ovb_dml bounds the ATE or the ATT; this {effect.method} effect targets the "
            f"{effect.estimand}; use evalue")
    nuis = effect.diagnostics.get("nuisance")
    if nuis is None:
        raise SensitivityNotApplicableError(
            f"this {effect.method} effect does not record its cross-fitted nuisances "
            "(diagnostics['nuisance']); refit it with this version of causalkit")
    splits = effect.diagnostics.get("nuisance_splits") or [nuis]
    covariates = call.get("covariates") or list(effect.covariates)
    d = prepare(data, call["treatment"], call["outcome"], covariates)
    estimand = "ATT" if effect.estimand == "ATT" else "ATE"
    out = []
    for frame in splits:
        used = frame["used"].to_numpy(dtype=bool)
        if len(used) != len(d.y):
            raise OptionError("ovb_dml: data= has a different number of rows from the fit; "
                              "pass the DataFrame the effect was estimated on")
        out.append(riesz_elements(d.y[used], d.t[used], frame["e"].to_numpy(float)[used],
                                  frame["mu1"].to_numpy(float)[used],
                                  frame["mu0"].to_numpy(float)[used], estimand))
    return out


def sensitivity_from_elements(el: RieszElements | Sequence[RieszElements], cf_y: float = 0.03,
                              cf_d: float = 0.03, rho: float = 1.0, alpha: float = 0.05,
                              null: float = 0.0, estimand: str = "ATE",
                              benchmarks: pd.DataFrame | None = None) -> DMLSensitivity:
    """Bounds, their confidence limits and the robustness values from sensitivity elements
    (one split's, or a list of repeated cross-fitting splits', aggregated by the median).

    >>> el = riesz_elements(np.array([1.0, 0.2, 0.9, 0.1]), np.array([1, 0, 1, 0]),
    ...                     np.full(4, 0.5), np.full(4, 1.0), np.full(4, 0.0))
    >>> res = sensitivity_from_elements(el, cf_y=0.1, cf_d=0.1)
    >>> round(res.theta_upper - res.theta, 6) == round(res.theta - res.theta_lower, 6)
    True
    """
    els = tuple([el] if isinstance(el, RieszElements) else el)
    alpha = check_alpha(alpha)
    _check_strength(cf_y, cf_d, rho)
    lo, hi, se_lo, se_hi, ci_lo, ci_hi = _aggregate(els, cf_y, cf_d, rho, alpha)
    rv, rva = _robustness(els, rho, alpha, null)
    if benchmarks is None:
        benchmarks = pd.DataFrame(columns=_BENCHMARK_COLUMNS)
    theta = float(np.median([e.theta for e in els]))
    sigma2 = float(np.median([e.sigma2 for e in els]))
    nu2 = float(np.median([e.nu2 for e in els]))
    return DMLSensitivity(theta, lo, hi, se_lo, se_hi, ci_lo, ci_hi, float(cf_y),
                          float(cf_d), float(rho), alpha, float(null), rv, rva, sigma2,
                          nu2, benchmarks, estimand, els)


def ovb_dml(effect: Any, cf_y: float = 0.03, cf_d: float = 0.03, rho: float = 1.0,
            alpha: float = 0.05, *, data: Any = None, null: float = 0.0,
            benchmark_covariates: str | Sequence[str] | dict[str, Sequence[str]] | None = None
            ) -> DMLSensitivity:
    """Chernozhukov et al. (2022) bounds for an ``aipw`` ATE or ATT, or a ``dr_learner`` ATE.

    Parameters
    ----------
    effect
        An ``aipw`` effect (ATE or ATT, ``n_rep=1``) or a ``dr_learner`` effect (its ATE).
    cf_y, cf_d, rho
        Confounding strength: the share of the outcome's residual variation the
        confounder explains, its gain in the Riesz representer's variation, and
        the correlation of the two (``|rho| <= 1``; 1 is the worst case).
    alpha
        One-sided level of the bounds' confidence limits and of ``RV_a``.
    data
        The estimation DataFrame (outcome and treatment for the elements, and
        the refits of the benchmarks).
    null
        The value the robustness values refer to (default 0).
    benchmark_covariates
        A covariate, a list (each its own benchmark) or a dict of groups: each is
        left out, the method refitted with the same options, and the implied
        ``cf_y, cf_d, rho`` reported.
    """
    require_method(effect, "ovb_dml")
    data = require_data(data, "ovb_dml")
    alpha = check_alpha(alpha)
    _check_strength(cf_y, cf_d, rho)
    el = _elements_of(effect, data)
    check_same_fit(effect, float(np.median([e.theta for e in el])), "ovb_dml", tol=1e-8)
    return sensitivity_from_elements(el, cf_y, cf_d, rho, alpha, null,
                                     "ATT" if effect.estimand == "ATT" else "ATE",
                                     _benchmarks(effect, data, el, benchmark_covariates))


_BENCHMARK_COLUMNS = ["benchmark", "cf_y", "cf_d", "rho", "delta_theta"]


def gain_statistics(long: RieszElements, short: RieszElements) -> dict[str, float]:
    """Benchmark ``cf_y``, ``cf_d``, ``rho`` and the change in estimate from the long fit and
    the short fit without the benchmark covariates (Chernozhukov et al. 2022, sec. 6; as
    DoubleML's ``gain_statistics``).

    >>> long = RieszElements(1.0, np.zeros(2), 1.0, 4.0, np.zeros(2), np.zeros(2), 2.0)
    >>> short = RieszElements(1.2, np.zeros(2), 1.5, 2.0, np.zeros(2), np.zeros(2), 2.0)
    >>> {k: round(v, 4) for k, v in gain_statistics(long, short).items()}
    {'cf_y': 0.5, 'cf_d': 1.0, 'rho': 0.2, 'delta_theta': 0.2}
    """
    r2_long = 1 - long.sigma2 / long.var_y
    r2_short = 1 - short.sigma2 / short.var_y
    r2_riesz = short.nu2 / long.nu2
    delta = short.theta - long.theta
    var_g, var_r = short.sigma2 - long.sigma2, long.nu2 - short.nu2
    denom = math.sqrt(var_g * var_r) if var_g > 0 and var_r > 0 else 0.0
    rho = float(np.sign(delta) * (min(1.0, abs(delta) / denom) if denom else 1.0))
    return {"cf_y": float(np.clip((r2_long - r2_short) / (1 - r2_long), 0, 1)),
            "cf_d": float(np.clip((1 - r2_riesz) / r2_riesz, 0, 1)),
            "rho": rho, "delta_theta": float(delta)}


def _benchmarks(effect: Any, data: Any, long: Sequence[RieszElements], benchmark: Any
                ) -> pd.DataFrame:
    """Leave each group out, refit with the same options (and splits), and take the
    per-split gain statistics' medians (as DoubleML does over repetitions)."""
    from .ovb_regression import _benchmark_groups

    groups = _benchmark_groups(benchmark, list(effect.covariates))
    rows = []
    for label, group in groups.items():
        rest = [c for c in effect.covariates if c not in group]
        if not rest:
            raise OptionError(f"benchmark {label!r} leaves out every covariate; "
                              f"{effect.method} needs at least one to refit")
        short = _elements_of(refit(effect, data, covariates=rest), data)
        gains = pd.DataFrame([gain_statistics(a, b) for a, b in zip(long, short)])
        rows.append({"benchmark": label, **gains.median().to_dict()})
    return pd.DataFrame(rows, columns=_BENCHMARK_COLUMNS)
