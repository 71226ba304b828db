"""X-learner of Künzel, Sekhon, Bickel & Yu (2019), wrapping econml ``XLearner``.

Stage 1 fits outcome models ``mu_0``, ``mu_1`` per arm. Stage 2 imputes effects,
``D1 = Y - mu_0(X)`` on the treated and ``D0 = mu_1(X) - Y`` on the controls, and
regresses them on the covariates, giving ``tau_1(x)`` and ``tau_0(x)``. The CATE
is the propensity-weighted average

    tau(x) = g(x) * tau_0(x) + (1 - g(x)) * tau_1(x),   g(x) = P(T = 1 | X = x),

so where treated units are rare (small ``g``) the estimate leans on ``tau_1``,
which was fitted with the well-estimated control model. With a constant
propensity (e.g. ``propensity_model=DummyClassifier(strategy="prior")``)
``g`` is the treated share ``e = n_1 / n`` and ``tau = e tau_0 + (1 - e) tau_1``.

Reference: S. R. Künzel, J. S. Sekhon, P. J. Bickel and B. Yu (2019),
"Metalearners for estimating heterogeneous treatment effects using machine
learning", PNAS 116(10), 4156-4165.

The ATE is the mean CATE with a bootstrap standard error.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> from sklearn.linear_model import LinearRegression, LogisticRegression
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=400); t = rng.binomial(1, 0.3, 400)
>>> df = pd.DataFrame({"t": t, "x": x, "y": x + (1.0 + x) * t + rng.normal(size=400)})
>>> eff = causalkit.estimate(df, "t", "y", method="x_learner", covariates=["x"],
...                          outcome_model=LinearRegression(),
...                          propensity_model=LogisticRegression(), n_bootstrap=10)
>>> abs(eff.estimate - 1.0) < 0.3
True
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd
from econml.metalearners import XLearner

from ..effect import Effect
from ..registry import register
from ._metalearners import (
    DEFAULT_BOOTSTRAP, LearnerPlan, check_classifier, default_effect_regressor,
    default_regressor, fit_learner, model_or_default,
)


@register("x_learner", estimand=("ATE", "CATE"), roles=("treatment", "outcome", "covariates"),
          optional_roles=("weights",), tags=("cate",))
def x_learner(data: pd.DataFrame, treatment: str, outcome: str,
              covariates: Sequence[str] | None = None, weights: str | None = None,
              alpha: float = 0.05,
              outcome_model: Any = None, cate_model: Any = None, propensity_model: Any = None,
              n_bootstrap: int = DEFAULT_BOOTSTRAP, random_state: int | None = 0,
              estimand: str = "ATE") -> Effect:
    """X-learner with the propensity weighting of Künzel et al. (2019), via econml's XLearner.

    Parameters
    ----------
    weights
        Column of sampling weights: econml's ``fit`` takes no ``sample_weight``
        here, so the models are fitted unweighted and the ATE is the weighted
        average of the CATE (bootstrap SE of the weighted mean); said in
        ``Effect.inference``.
    outcome_model
        Regressor for the per-arm outcome models (stage 1).
    cate_model
        Regressor for the imputed effects (stage 2); default strongly regularized
        boosting (:func:`default_effect_regressor`).
    propensity_model
        Classifier for ``g(x) = P(T=1 | x)`` used as the weight; default
        histogram gradient boosting.
    n_bootstrap, random_state
        Bootstrap refits for the ATE standard error (0 to skip) and their seed.
    estimand
        ``"ATE"`` (default) or ``"CATE"``; only the label changes (the estimate is the
        average effect either way, the per-unit CATE is in ``Effect.cate``).
    """
    mu = model_or_default(outcome_model, default_regressor, "outcome_model")
    tau = model_or_default(cate_model, default_effect_regressor, "cate_model")
    g = check_classifier(propensity_model)
    plan = LearnerPlan("x_learner",
                       lambda: XLearner(models=mu, cate_models=tau, propensity_model=g),
                       f"econml XLearner({type(mu).__name__}, cate {type(tau).__name__}, "
                       f"propensity {type(g).__name__})")
    return fit_learner(plan, data, treatment, outcome, covariates, alpha, n_bootstrap,
                       random_state, estimand, weights=weights)
