"""Validation of any learner's CATE: the BLP calibration test, GATES and RATE.

All three regress or rank the doubly robust scores ``psi = Gamma_1 - Gamma_0``
(:mod:`causalkit.cate._scores`: the ``dr_learner``'s own, or cross-fitted on the data
given), whose conditional mean is the true CATE, against the learner's predictions
``tau_hat(X)``:

* :func:`calibration` -- the best linear predictor of Chernozhukov, Demirer, Duflo &
  Fernández-Val ("Generic machine learning inference on heterogeneous treatment
  effects in randomized experiments", NBER WP 24678, 2018), in its doubly robust
  score form: OLS of ``psi`` on ``[1, tau_hat - mean(tau_hat)]``.  The first
  coefficient is the ATE, the second (``beta_2``) is 1 for a well-calibrated CATE and
  0 when the predictions carry no signal of heterogeneity; heteroskedasticity-robust SEs.
* :func:`gates` -- sorted group average treatment effects: OLS of ``psi`` on the
  indicators of the quantile groups of ``tau_hat`` (same paper), with the
  top-minus-bottom difference.
* :func:`rate` -- the rank-weighted average treatment effect of Yadlowsky, Fleming,
  Shah, Brunskill & Wager ("Evaluating treatment prioritization rules via
  rank-weighted average treatment effects", JASA 2024): with the targeting operator
  characteristic ``TOC(q) = E[psi | top q by tau_hat] - E[psi]``, ``AUTOC = int_0^1
  TOC(q) dq`` and ``QINI = int_0^1 q TOC(q) dq``, estimated at ``q = k/n``; units
  with tied predictions share their mean score; bootstrap SEs.

Inference is valid when the predictions were fitted on other rows (pass held-out
``data``); on the learner's own training rows (``data=None``) the tests are
optimistic, and a warning says so.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> from sklearn.linear_model import LinearRegression, LogisticRegression
>>> rng = np.random.default_rng(0)
>>> def draw(n):
...     x = rng.normal(size=n); t = rng.integers(0, 2, n)
...     return pd.DataFrame({"x": x, "t": t, "y": x + t * (1 + x) + rng.normal(size=n)})
>>> train, test = draw(1000), draw(1000)
>>> eff = causalkit.estimate(train, "t", "y", method="dr_learner", covariates=["x"],
...                          outcome_model=LinearRegression(), final_model=LinearRegression(),
...                          propensity_model=LogisticRegression())
>>> blp = calibration(eff, test)
>>> bool(abs(blp.table.loc["HTE", "estimate"] - 1) < 0.3)
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..inference import check_alpha, two_sided_p_value, wald
from ..linear import fit_coefficient
from ._scores import DRScores, effect_scores


def _inputs(effect: Any, data: Any, options: dict[str, Any]) -> tuple[DRScores, np.ndarray]:
    """The DR scores and the effect's predicted CATE on the same rows."""
    if data is None:
        if effect.cate is None:
            raise DataError(f"the {effect.method} Effect has no per-unit CATE to validate")
        warnings.warn("validating the CATE on the learner's own training rows: the tests "
                      "are optimistic; pass held-out data= for valid inference", stacklevel=3)
        scores = effect_scores(effect, None, **options)
        tau = np.asarray(effect.cate, dtype=float)
    else:
        scores = effect_scores(effect, data, **options)
        tau = np.asarray(effect.predict_cate(data), dtype=float).ravel()
    if tau.size != scores.n:
        raise DataError(f"{tau.size} CATE predictions for {scores.n} rows")
    if not np.all(np.isfinite(tau)):
        raise DataError("the CATE predictions hold NaN or infinite values")
    return scores, tau


def _table(names: list[str], params: np.ndarray, bse: np.ndarray, alpha: float) -> pd.DataFrame:
    rows = []
    for name, b, se in zip(names, params, bse):
        w = wald(b, se, alpha=alpha)
        rows.append({"term": name, "estimate": float(b), "std_error": float(se),
                     "statistic": w.statistic, "p_value": w.p_value, "ci_low": w.ci_low,
                     "ci_high": w.ci_high})
    return pd.DataFrame(rows).set_index("term")


@dataclass(frozen=True)
class Calibration:
    """The BLP table (rows ``ATE`` and ``HTE``), the one-sided p-value of ``beta_2 <= 0``
    (no detectable heterogeneity) and where the scores came from."""

    table: pd.DataFrame
    p_value_heterogeneity: float
    source: str
    inference: str
    n_obs: int

    def summary(self) -> str:
        """The table as text."""
        return (f"Best linear predictor calibration test, n = {self.n_obs}\n"
                f"Scores: {self.source}; {self.inference}\n"
                + self.table.to_string(float_format=lambda v: f"{v:.4f}")
                + f"\nH0 beta_2 <= 0 (no heterogeneity): one-sided p = "
                  f"{self.p_value_heterogeneity:.4g}")

    def __str__(self) -> str:
        return self.summary()


def calibration(effect: Any, data: Any = None, alpha: float = 0.05, cov_type: str = "HC2",
                **options: Any) -> Calibration:
    """BLP calibration test of a CATE Effect: OLS of DR scores on ``[1, tau_hat - mean]``.

    ``options`` go to the DR score fit (``propensity_model``, ``outcome_model``,
    ``n_folds``, ``clip``, ``random_state``).
    """
    alpha = check_alpha(alpha)
    if cov_type not in ("HC0", "HC1", "HC2", "HC3", "nonrobust"):
        raise OptionError(f"cov_type must be HC0-HC3 or nonrobust, got {cov_type!r}")
    scores, tau = _inputs(effect, data, options)
    if np.ptp(tau) == 0:
        raise DataError("the CATE predictions are constant: there is no heterogeneity to "
                        "calibrate (beta_2 is not identified)")
    design = np.column_stack([np.ones(scores.n), tau - tau.mean()])
    coef = fit_coefficient(scores.psi, design, index=1, cov_type=cov_type,
                           names=["ATE", "HTE"])
    table = _table(["ATE", "HTE"], coef.results.params, coef.results.bse, alpha)
    z = table.loc["HTE", "statistic"]
    one_sided = float(two_sided_p_value(z) / 2 if z > 0 else 1 - two_sided_p_value(z) / 2)
    return Calibration(table, one_sided, scores.source, f"OLS, {coef.inference}", scores.n)


@dataclass(frozen=True)
class Gates:
    """Group average treatment effects by quantile group of the predicted CATE (group 1 =
    lowest), and the top-minus-bottom difference."""

    table: pd.DataFrame
    difference: pd.Series
    source: str
    inference: str

    def __str__(self) -> str:
        return (f"GATES ({self.source}; {self.inference})\n"
                + self.table.to_string(float_format=lambda v: f"{v:.4f}")
                + f"\ntop - bottom: {self.difference['estimate']:.4f} "
                  f"(SE {self.difference['std_error']:.4f})")


def quantile_groups(tau: np.ndarray, n_groups: int) -> np.ndarray:
    """Group 0..n_groups-1 of each unit by quantile of ``tau`` (ties share a group).

    >>> quantile_groups(np.array([5.0, 1.0, 3.0, 2.0]), 2).tolist()
    [1, 0, 1, 0]
    """
    cuts = np.quantile(tau, np.arange(1, n_groups) / n_groups)
    return np.searchsorted(cuts, tau, side="left")


def gates(effect: Any, data: Any = None, n_groups: int = 5, alpha: float = 0.05,
          cov_type: str = "HC2", **options: Any) -> Gates:
    """GATES: OLS of DR scores on the quantile-group indicators of the predicted CATE."""
    alpha = check_alpha(alpha)
    if isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)) \
            or n_groups < 2:
        raise OptionError(f"n_groups must be an integer >= 2, got {n_groups!r}")
    if cov_type not in ("HC0", "HC1", "HC2", "HC3", "nonrobust"):
        raise OptionError(f"cov_type must be HC0-HC3 or nonrobust, got {cov_type!r}")
    scores, tau = _inputs(effect, data, options)
    group = quantile_groups(tau, int(n_groups))
    counts = np.bincount(group, minlength=int(n_groups))
    if np.any(counts < 2):
        raise DataError(f"quantile group(s) {list(np.flatnonzero(counts < 2) + 1)} of the "
                        "predicted CATE have fewer than 2 units (many tied predictions); "
                        "use fewer groups")
    design = (group[:, None] == np.arange(int(n_groups))[None, :]).astype(float)
    names = [f"G{g + 1}" for g in range(int(n_groups))]
    coef = fit_coefficient(scores.psi, design, index=0, cov_type=cov_type, names=names)
    params, cov = coef.results.params, coef.results.cov_params()
    table = _table(names, params, coef.results.bse, alpha)
    table["n"] = counts
    table["mean_predicted_cate"] = [float(tau[group == g].mean()) for g in range(int(n_groups))]
    diff = float(params[-1] - params[0])
    diff_se = float(np.sqrt(cov[-1, -1] + cov[0, 0] - 2 * cov[0, -1]))
    w = wald(diff, diff_se, alpha=alpha)
    difference = pd.Series({"estimate": diff, "std_error": diff_se, "p_value": w.p_value,
                            "ci_low": w.ci_low, "ci_high": w.ci_high})
    return Gates(table, difference, scores.source, f"OLS, {coef.inference}")


# ------------------------------------------------------------------ RATE
TARGETS = ("AUTOC", "QINI")


def _tie_averaged(psi: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """``psi`` sorted by decreasing priority, each tie block replaced by its mean."""
    order = np.argsort(-priority, kind="mergesort")
    s, p = psi[order], priority[order]
    starts = np.r_[0, np.flatnonzero(np.diff(p) != 0) + 1]
    sizes = np.diff(np.r_[starts, s.size])
    means = np.add.reduceat(s, starts) / sizes
    return np.repeat(means, sizes)


def rate_estimate(psi: np.ndarray, priority: np.ndarray, target: str = "AUTOC") -> float:
    """RATE of ``priority`` from DR scores ``psi`` at ``q = k/n`` (closed form, O(n log n)).

    ``AUTOC = (1/n) sum_k TOC(k/n)``, ``QINI = (1/n) sum_k (k/n) TOC(k/n)`` with
    ``TOC(k/n) = mean(top-k psi) - mean(psi)``.

    >>> rate_estimate(np.array([3.0, 1.0, -1.0]), np.array([3.0, 2.0, 1.0]), "AUTOC")
    1.0
    """
    s = _tie_averaged(np.asarray(psi, float), np.asarray(priority, float))
    n = s.size
    k = np.arange(1, n + 1)
    toc = np.cumsum(s) / k - s.mean()
    weights = np.ones(n) if target == "AUTOC" else k / n
    return float(np.mean(weights * toc))


def toc_curve(psi: np.ndarray, priority: np.ndarray) -> pd.DataFrame:
    """The estimated targeting operator characteristic ``TOC(k/n)`` for ``k = 1..n``."""
    s = _tie_averaged(np.asarray(psi, float), np.asarray(priority, float))
    k = np.arange(1, s.size + 1)
    return pd.DataFrame({"q": k / s.size, "toc": np.cumsum(s) / k - s.mean()})


@dataclass(frozen=True)
class Rate:
    """A RATE estimate with its bootstrap SE, Wald CI and p-value, and the TOC curve."""

    target: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    toc: pd.DataFrame
    source: str
    n_bootstrap: int

    def __str__(self) -> str:
        return (f"RATE ({self.target}) = {self.estimate:.4f} (bootstrap SE "
                f"{self.std_error:.4f}, {self.n_bootstrap} resamples), 95%-level CI "
                f"[{self.ci_low:.4f}, {self.ci_high:.4f}], p = {self.p_value:.4g}")


def rate(effect: Any, data: Any = None, target: str = "AUTOC", n_bootstrap: int = 200,
         alpha: float = 0.05, random_state: Any = 0, **options: Any) -> Rate:
    """RATE (AUTOC or QINI) of the Effect's CATE predictions as a prioritization rule.

    The SE is the standard deviation of the estimate over ``n_bootstrap`` resamples of
    the rows (scores and predictions held fixed), drawn from
    ``numpy.random.default_rng(random_state)``; ``options`` go to the DR score fit.
    """
    alpha = check_alpha(alpha)
    if target not in TARGETS:
        raise OptionError(f"target must be 'AUTOC' or 'QINI', got {target!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) \
            or n_bootstrap < 20:
        raise OptionError(f"n_bootstrap must be an integer >= 20, got {n_bootstrap!r}")
    scores, tau = _inputs(effect, data, dict(options, random_state=random_state)
                          if data is not None else options)
    psi = scores.psi
    est = rate_estimate(psi, tau, target)
    rng = np.random.default_rng(random_state)
    draws = np.empty(int(n_bootstrap))
    for b in range(int(n_bootstrap)):
        idx = rng.integers(0, psi.size, psi.size)
        draws[b] = rate_estimate(psi[idx], tau[idx], target)
    se = float(np.std(draws, ddof=1))
    w = wald(est, se, alpha=alpha)
    return Rate(target, est, se, w.ci_low, w.ci_high, w.p_value, toc_curve(psi, tau),
                scores.source, int(n_bootstrap))


__all__ = ["Calibration", "Gates", "Rate", "calibration", "gates", "quantile_groups", "rate",
           "rate_estimate", "toc_curve"]
