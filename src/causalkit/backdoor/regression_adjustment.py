"""Regression adjustment: OLS of outcome on treatment and covariates, robust SE.

By default the fully interacted form of Lin (2013): the outcome is regressed on
the treatment, the covariates centred at their sample means, and their
interactions with the treatment.  The treatment coefficient is then the ATE, and
its HC2 standard error is consistent (and asymptotically never larger than that
of the difference in means) in a randomized experiment.

Reference: W. Lin (2013), "Agnostic notes on regression adjustments to
experimental data: reexamining Freedman's critique", Annals of Applied
Statistics 7(1), 295–318.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n = 400
>>> x = rng.normal(size=n); t = rng.integers(0, 2, n)
>>> df = pd.DataFrame({"t": t, "x": x, "y": 1.0 + 2.0 * t + 3.0 * x + rng.normal(size=n)})
>>> eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"])
>>> abs(eff.estimate - 2.0) < 0.3
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import OptionError, WeightsNotSupportedError
from ..linear import fit_coefficient
from ..overlap import check_overlap
from ..registry import register
from ..validation import prepare
from ..wild_bootstrap import bootstrap_effect, check_options, document_options
from .standardization import standardize


def design_matrix(t: np.ndarray, X: np.ndarray, interacted: bool,
                  estimand: str = "ATE", weights: np.ndarray | None = None) -> np.ndarray:
    """Columns ``[1, t, Xc, t * Xc]`` (Lin) or ``[1, t, X]`` (plain).

    For the interacted form the covariates are centred at the mean of the
    population the estimand refers to (all units for ATE, the treated for ATT,
    the controls for ATC; weighted means with sampling ``weights``), so the
    treatment coefficient is that estimand.
    """
    if not interacted:
        return np.column_stack([np.ones(len(t)), t, X])
    rows = {"ATT": t == 1, "ATC": t == 0}.get(estimand, np.ones(len(t), dtype=bool))
    centre = np.average(X[rows], axis=0, weights=None if weights is None else weights[rows])
    Xc = X - centre
    return np.column_stack([np.ones(len(t)), t, Xc, Xc * t[:, None]])


def design_names(treatment: Any, covariates: Sequence[Any], interacted: bool) -> list[str]:
    """Names of the columns of :func:`design_matrix`, for error messages.

    >>> design_names("t", ["x"], True)
    ['intercept', 't', 'x', 't x x']
    """
    names = ["intercept", str(treatment), *map(str, covariates)]
    return names + ([f"{treatment} x {c}" for c in covariates] if interacted else [])


@register("regression_adjustment", estimand=("ATE", "ATT", "ATC"),
          roles=("treatment", "outcome"), optional_roles=("covariates", "cluster", "weights"))
@document_options
def regression_adjustment(data: pd.DataFrame, treatment: str, outcome: str,
                          covariates: Sequence[str] | None = None,
                          cluster: str | Sequence[str] | None = None,
                          weights: str | None = None,
                          alpha: float = 0.05, interacted: bool = True, cov_type: str = "HC2",
                          estimand: str = "ATE", outcome_formula: str | None = None,
                          bootstrap: str | None = None,
                          n_bootstrap: int = 9999, bootstrap_weights: str = "rademacher",
                          impose_null: bool = True, random_state: int = 0) -> Effect:
    """OLS regression adjustment (Lin 2013 interacted form by default) with HC2 robust SE.

    Parameters
    ----------
    weights
        Column of sampling (survey) weights: weighted least squares (covariates
        centred at their weighted means), with the robust or clustered
        covariance of statsmodels' ``WLS``.
    interacted
        ``True`` (default) for Lin's fully interacted regression on centred
        covariates; ``False`` for the plain additive regression ``y ~ t + X``.
    cov_type
        Covariance estimator: ``HC2`` (default), ``HC0``, ``HC1``, ``HC3``,
        ``nonrobust``; with ``cluster=`` it is cluster-robust (a list of two
        columns: two-way clustered).
    estimand
        ``ATE`` (default), ``ATT`` or ``ATC``; only the interacted form
        distinguishes them (the plain form assumes a constant effect).
    outcome_formula
        The outcome model as a formula that contains the treatment
        (``"qsmk * smokeintensity + C(sex) + age + I(age**2)"``, optionally with
        ``outcome ~`` in front): it is fitted by OLS and standardized
        (g-computation, :mod:`causalkit.backdoor.standardization`) over the
        estimand's population, with a delta-method SE.  It replaces the Lin /
        additive regression (so ``interacted=False`` with it is an error); the covariates, if
        given, are those whose overlap is checked.

    Notes
    -----
    The standard error treats the covariate means as fixed, as Lin (2013)
    and statsmodels do.

    Overlap is checked first (:func:`causalkit.overlap.check_overlap`): covariates
    that separate the arms are an :class:`~causalkit.errors.OverlapError` (the
    regression would extrapolate each arm's fit where that arm has no data),
    propensity scores outside ``[0.01, 0.99]`` a warning; the diagnosis is in
    ``diagnostics["overlap"]``.  Without covariates there is nothing to check.
    """
    if estimand not in ("ATE", "ATT", "ATC"):
        raise OptionError(f"estimand must be ATE, ATT or ATC, got {estimand!r}")
    if outcome_formula is not None:
        if weights is not None:
            raise WeightsNotSupportedError(
                "regression_adjustment with outcome_formula= (standardization) does not take "
                "weights= yet; drop outcome_formula (weighted least squares on the covariates) "
                "or the weights")
        if bootstrap is not None:
            raise OptionError("bootstrap='wild' is for the regression on the covariates; "
                              "with outcome_formula= (standardization) drop one of them")
        if not interacted:
            raise OptionError("interacted=False chooses the Lin or additive regression on the "
                              "covariates; outcome_formula= replaces that model (write the "
                              "interactions in the formula instead)")
        return _standardized(data, treatment, outcome, covariates, cluster, alpha, cov_type,
                             estimand, outcome_formula)
    d = prepare(data, treatment, outcome, covariates, cluster=cluster, min_per_arm=2,
                min_rows=(2 if interacted else 1) * len(covariates or ()) + 3, weights=weights)
    check_options(bootstrap, n_bootstrap, bootstrap_weights, d.cluster, weights=weights)
    overlap = check_overlap(d.X, d.t, d.covariates)
    X = design_matrix(d.t.astype(float), d.X, interacted and d.X.shape[1] > 0, estimand, d.w)
    names = design_names(treatment, d.covariates, interacted and d.X.shape[1] > 0)
    coef = fit_coefficient(d.y, X, index=1, cov_type=cov_type, groups=d.cluster, weights=d.w,
                           names=names)
    form = "Lin (2013) interacted" if interacted and d.covariates else "additive"
    fitted = "OLS" if d.w is None else f"weighted least squares (sampling weights {weights!r})"
    effect = Effect.from_estimate(
        method="regression_adjustment", estimand=estimand, estimate=coef.estimate,
        std_error=coef.std_error, alpha=alpha, df=coef.df, treatment=treatment,
        outcome=outcome, n_treated=d.n_treated, n_control=d.n_control,
        covariates=tuple(d.covariates), inference=f"{coef.inference}; {form} {fitted}",
        diagnostics={"r_squared": float(coef.results.rsquared), "form": form,
                     "sampling_weights": weights,
                     "overlap": overlap})
    if bootstrap is None:
        return effect
    return bootstrap_effect(effect, d.y, X, np.eye(X.shape[1])[1], d.cluster,
                            n_bootstrap=n_bootstrap, weights=bootstrap_weights,
                            impose_null=impose_null, random_state=random_state, names=names)


def _standardized(data: pd.DataFrame, treatment: str, outcome: str, covariates: Any,
                  cluster: Any, alpha: float, cov_type: str, estimand: str,
                  outcome_formula: str) -> Effect:
    """Regression adjustment with an outcome model given as a formula (standardization)."""
    if not isinstance(outcome_formula, str):
        raise OptionError(f"outcome_formula must be a formula string, got "
                          f"{type(outcome_formula).__name__}")
    d = prepare(data, treatment, outcome, covariates, cluster=cluster, min_per_arm=2)
    res = standardize(d, outcome_formula, estimand, cov_type)
    if d.covariates:
        X, names = d.X, list(d.covariates)
    else:
        X, names = res.treatment_free.to_numpy(), list(res.treatment_free.columns)
    overlap = check_overlap(X, d.t, names)
    return Effect.from_estimate(
        method="regression_adjustment", estimand=estimand, estimate=res.estimate,
        std_error=res.std_error, alpha=alpha, df=res.df, treatment=treatment,
        outcome=outcome, n_treated=d.n_treated, n_control=d.n_control,
        covariates=tuple(names), inference=res.inference,
        diagnostics={"r_squared": res.r_squared, "form": "standardization (outcome_formula)",
                     "overlap": overlap, "outcome_model": res.coefficients})
