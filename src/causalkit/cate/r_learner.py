"""R-learner: Robinson residual-on-residual CATE (econml ``NonParamDML``).

With cross-fitted ``m(x) = E[Y | X]`` and ``e(x) = P(T = 1 | X)``, the R-learner
minimises ``sum ((Y - m(X)) - tau(X) (T - e(X)))^2`` over ``tau`` (Nie & Wager
2021, "Quasi-oracle estimation of heterogeneous treatment effects",
Biometrika 108(2), 299-319). econml's ``NonParamDML`` solves it with any
regressor by fitting ``(Y - m) / (T - e)`` with weights ``(T - e)^2``. The ATE is
the mean CATE with a bootstrap standard error (econml offers no inference for a
non-parametric final model).

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> from sklearn.linear_model import LinearRegression, LogisticRegression
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=400); t = rng.binomial(1, 0.5, 400)
>>> df = pd.DataFrame({"t": t, "x": x, "y": x + (1.0 + x) * t + rng.normal(size=400)})
>>> eff = causalkit.estimate(df, "t", "y", method="r_learner", covariates=["x"],
...                          outcome_model=LinearRegression(), final_model=LinearRegression(),
...                          propensity_model=LogisticRegression(), n_bootstrap=0)
>>> abs(eff.estimate - 1.0) < 0.3
True
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd
from econml.dml import NonParamDML

from ..effect import Effect
from ..registry import register
from ._metalearners import (
    DEFAULT_BOOTSTRAP, LearnerPlan, cross_fit_models, fit_learner,
)


@register("r_learner", estimand=("ATE", "CATE"), roles=("treatment", "outcome", "covariates"),
          optional_roles=("weights",), tags=("cate",))
def r_learner(data: pd.DataFrame, treatment: str, outcome: str,
              covariates: Sequence[str] | None = None, weights: str | None = None,
              alpha: float = 0.05,
              outcome_model: Any = None, propensity_model: Any = None, final_model: Any = None,
              cv: int = 5, n_bootstrap: int = DEFAULT_BOOTSTRAP, random_state: int | None = 0,
              estimand: str = "ATE") -> Effect:
    """R-learner (Nie & Wager residual regression), wrapping econml's NonParamDML.

    Parameters
    ----------
    weights
        Column of sampling weights: passed to econml's ``fit`` as ``sample_weight``
        (every nuisance and final model is fitted weighted) and the ATE is the
        weighted average (see :mod:`causalkit.cate._metalearners`).
    outcome_model
        Regressor for ``E[Y | X]``.
    propensity_model
        Classifier for ``P(T = 1 | X)``.
    final_model
        Regressor for the CATE; must accept ``sample_weight``.
    cv
        Number of cross-fitting folds (default 5: each nuisance model sees 80% of
        the data, which keeps the noisy final-stage targets in check).
    n_bootstrap, random_state
        Bootstrap refits for the ATE standard error (0 to skip); seed of the folds
        and of the resamples.
    estimand
        ``"ATE"`` (default) or ``"CATE"``; only the label changes (the estimate is the
        average effect either way, the per-unit CATE is in ``Effect.cate``).
    """
    m, g, final, cv = cross_fit_models(outcome_model, propensity_model, final_model, cv)

    def build() -> NonParamDML:
        return NonParamDML(model_y=m, model_t=g, model_final=final, discrete_treatment=True,
                           cv=cv, random_state=random_state)

    plan = LearnerPlan("r_learner", build,
                       f"econml NonParamDML({type(m).__name__}, propensity {type(g).__name__}, "
                       f"final {type(final).__name__}, cv={cv})", takes_sample_weight=True)
    return fit_learner(plan, data, treatment, outcome, covariates, alpha, n_bootstrap,
                       random_state, estimand, weights=weights)
