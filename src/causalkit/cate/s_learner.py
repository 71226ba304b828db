"""S-learner: one outcome model on covariates and treatment (econml ``SLearner``).

The single ("S") model ``mu(x, t)`` is fitted on the covariates with the
treatment as one more feature; the CATE is ``mu(x, 1) - mu(x, 0)``. Regularized
base models may shrink the effect of the treatment feature towards zero, which
is why the S-learner is biased when effects are heterogeneous and one arm is
small (Künzel, Sekhon, Bickel & Yu 2019, PNAS 116(10), 4156-4165).

The ATE is the mean CATE; its standard error is bootstrapped (the learner is
refitted on ``n_bootstrap`` arm-stratified resamples drawn with
``random_state``).

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> from sklearn.linear_model import LinearRegression
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=300); t = rng.integers(0, 2, 300)
>>> df = pd.DataFrame({"t": t, "x": x, "y": x + 2.0 * t + rng.normal(size=300)})
>>> eff = causalkit.estimate(df, "t", "y", method="s_learner", covariates=["x"],
...                          model=LinearRegression(), n_bootstrap=10)
>>> abs(eff.estimate - 2.0) < 0.3, eff.cate.shape
(True, (300,))
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd
from econml.metalearners import SLearner

from ..effect import Effect
from ..registry import register
from ._metalearners import (
    DEFAULT_BOOTSTRAP, LearnerPlan, default_regressor, fit_learner, model_or_default,
)


@register("s_learner", estimand=("ATE", "CATE"), roles=("treatment", "outcome", "covariates"),
          optional_roles=("weights",), tags=("cate",))
def s_learner(data: pd.DataFrame, treatment: str, outcome: str,
              covariates: Sequence[str] | None = None, weights: str | None = None,
              alpha: float = 0.05, model: Any = None,
              n_bootstrap: int = DEFAULT_BOOTSTRAP, random_state: int | None = 0,
              estimand: str = "ATE") -> Effect:
    """S-learner (one model with the treatment as a feature), wrapping econml's SLearner.

    Parameters
    ----------
    weights
        Column of sampling weights: econml's ``fit`` takes no ``sample_weight``
        here, so the models are fitted unweighted and the ATE is the weighted
        average of the CATE (bootstrap SE of the weighted mean); said in
        ``Effect.inference``.
    model
        Any scikit-learn regressor for ``E[Y | X, T]``; default fast histogram
        gradient boosting.
    n_bootstrap, random_state
        Bootstrap refits for the ATE standard error (0 to skip) and their seed.
    estimand
        ``"ATE"`` (default) or ``"CATE"``; only the label changes (the estimate is the
        average effect either way, the per-unit CATE is in ``Effect.cate``).
    """
    base = model_or_default(model, default_regressor, "model")
    plan = LearnerPlan("s_learner", lambda: SLearner(overall_model=base),
                       f"econml SLearner({type(base).__name__})")
    return fit_learner(plan, data, treatment, outcome, covariates, alpha, n_bootstrap,
                       random_state, estimand, weights=weights)
