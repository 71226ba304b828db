"""The front-door estimator: plug-in and one-step (Fulcher, Shpitser, Marealle & Tchetgen Tchetgen 2020).

The (generalized) front-door functional for a binary treatment A, mediators M
intercepting every causal path, and covariates C (possibly none) is

    ψ(a*) = E_C ∑_m f(m | a*, C) ∑_a E[Y | m, a, C] π(a | C),   ATE = ψ(1) - ψ(0).

The plug-in estimator averages the fitted functional.  The one-step estimator
adds the mean of the efficient influence function (Fulcher et al. 2020, Thm. 1)

    φ(a*) = f(M|a*,C)/f(M|A,C) (Y - μ(M,A,C)) + 1{A=a*}/π(a*|C) (ξ(M,C) - ∑_a η(a,a*,C) π(a|C))
            + η(A,a*,C) - ψ(a*),

with ξ(M,C) = ∑_a μ(M,a,C) π(a|C) and η(a,a*,C) = E[μ(M,a,C) | A=a*, C]; it is
consistent when either the outcome regression or the treatment and mediator
models are right.  Both report the influence-function standard error; the
nuisances are cross-fitted (see :mod:`causalkit.general._mediators`).

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0); n = 4000
>>> u = rng.normal(size=n); a = (u + rng.normal(size=n) > 0).astype(int)
>>> m = a + rng.normal(size=n); y = 2 * m + u + rng.normal(size=n)
>>> df = pd.DataFrame({"a": a, "m": m, "y": y})
>>> eff = causalkit.estimate(df, "a", "y", method="frontdoor", mediators="m")
>>> bool(abs(eff.estimate - 2.0) < 0.2)
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import OptionError
from ..inference import weighted_score_mean
from ..registry import register
from ._data import prepare_mediated
from ._mediators import fit_nuisances

ESTIMATORS = ("one_step", "plugin")


def frontdoor_scores(a: np.ndarray, y: np.ndarray, nu: Any, arm: int,
                     weights: np.ndarray | None = None) -> tuple[float, float, np.ndarray]:
    """(plug-in, one-step, centred influence function) for ψ(arm); sampling ``weights``
    make both means weighted (:func:`~causalkit.inference.weighted_score_mean`)."""
    pi1 = nu.pi1
    mu_obs = np.where(a == 1, nu.mu[1], nu.mu[0])
    xi = nu.mu[1] * pi1 + nu.mu[0] * (1 - pi1)
    h = nu.eta[1][arm] * pi1 + nu.eta[0][arm] * (1 - pi1)
    eta_obs = np.where(a == 1, nu.eta[1][arm], nu.eta[0][arm])
    score = (nu.ratio(a, arm) * (y - mu_obs) + (a == arm) / nu.pi(arm) * (xi - h) + eta_obs)
    one_step, influence = weighted_score_mean(score, weights)
    return float(np.average(h, weights=weights)), one_step, influence


@register("frontdoor", estimand="ATE", roles=("treatment", "outcome", "mediators"),
          optional_roles=("covariates", "weights"), uses_adjustment_set=False)
def frontdoor(data: pd.DataFrame, treatment: str, outcome: str, mediators: Any,
              covariates: Sequence[str] | None = None, weights: str | None = None,
              alpha: float = 0.05,
              estimator: str = "one_step", propensity_model: Any = None,
              mediator_model: Any = None, outcome_model: Any = None,
              pseudo_outcome_model: Any = None, cross_fitting: bool = True, n_folds: int = 5,
              random_state: Any = 0) -> Effect:
    """Front-door ATE: one-step (doubly robust) or plug-in, with influence-function SE.

    Parameters
    ----------
    mediators
        The front-door set (binary or continuous; several columns allowed).
    covariates
        Pre-treatment covariates C of the generalized front-door criterion.
    weights
        Column of sampling weights: every nuisance model is fitted weighted and
        the scores are averaged with the weights (weighted influence function).
    estimator
        ``"one_step"`` (default; Fulcher et al.'s doubly robust estimator) or ``"plugin"``.
    propensity_model, mediator_model, outcome_model, pseudo_outcome_model
        scikit-learn models for π(A | C); the mediator (a classifier of M | A, C
        for one binary mediator, else of A | M, C); E[Y | M, A, C]; and the
        regression of μ(M, a, C) on C (continuous mediators).  Defaults:
        logistic regression and OLS.
    cross_fitting, n_folds, random_state
        K-fold cross-fitting of every nuisance (``cross_fitting=False`` fits on all rows).
    """
    if estimator not in ESTIMATORS:
        raise OptionError(f"estimator={estimator!r}; use one of {', '.join(ESTIMATORS)}")
    d, m, meds = prepare_mediated(data, treatment, outcome, mediators, covariates, weights)
    nu = fit_nuisances(d.t, m, d.y, d.X, locals(), d.w)
    plug1, os1, if1 = frontdoor_scores(d.t, d.y, nu, 1, d.w)
    plug0, os0, if0 = frontdoor_scores(d.t, d.y, nu, 0, d.w)
    influence = if1 - if0
    tau = (os1 - os0) if estimator == "one_step" else (plug1 - plug0)
    se = float(np.sqrt(influence @ influence) / d.n)
    folds_text = f"{int(n_folds)}-fold cross-fitted" if cross_fitting else "full-sample"
    return Effect.from_estimate(
        method="frontdoor", estimand="ATE", estimate=tau, std_error=se, alpha=alpha,
        treatment=treatment, outcome=outcome, n_treated=d.n_treated, n_control=d.n_control,
        covariates=tuple(d.covariates),
        inference=f"front-door {estimator.replace('_', '-')} estimator, influence-function "
                  f"variance, {folds_text} nuisances"
                  + (f"; sampling weights {weights!r}" if weights is not None else ""),
        diagnostics={"mediators": tuple(meds), "plugin": plug1 - plug0,
                     "one_step": os1 - os0, "psi_1": os1, "psi_0": os0,
                     "mediator_type": "binary" if nu.binary_mediator else "continuous"})
