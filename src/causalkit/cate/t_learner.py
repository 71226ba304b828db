"""T-learner: separate outcome models per arm (econml ``TLearner``).

Two ("T") models ``mu_1(x)`` and ``mu_0(x)`` are fitted on the treated and the
control units; the CATE is ``mu_1(x) - mu_0(x)`` (Künzel et al. 2019, PNAS
116(10), 4156-4165). The ATE is the mean CATE, with a bootstrap standard error
(``n_bootstrap`` arm-stratified refits, seed ``random_state``).

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> from sklearn.linear_model import LinearRegression
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=300); t = rng.integers(0, 2, 300)
>>> df = pd.DataFrame({"t": t, "x": x, "y": x + (1.0 + x) * t + rng.normal(size=300)})
>>> eff = causalkit.estimate(df, "t", "y", method="t_learner", covariates=["x"],
...                          model=LinearRegression(), n_bootstrap=10)
>>> bool(abs(eff.predict_cate(pd.DataFrame({"x": [1.0]}))[0] - 2.0) < 0.4)
True
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd
from econml.metalearners import TLearner

from ..effect import Effect
from ..registry import register
from ._metalearners import (
    DEFAULT_BOOTSTRAP, LearnerPlan, default_regressor, fit_learner, model_or_default,
)


@register("t_learner", estimand=("ATE", "CATE"), roles=("treatment", "outcome", "covariates"),
          optional_roles=("weights",), tags=("cate",))
def t_learner(data: pd.DataFrame, treatment: str, outcome: str,
              covariates: Sequence[str] | None = None, weights: str | None = None,
              alpha: float = 0.05, model: Any = None,
              n_bootstrap: int = DEFAULT_BOOTSTRAP, random_state: int | None = 0,
              estimand: str = "ATE") -> Effect:
    """T-learner (one outcome model per arm), wrapping econml's TLearner.

    Parameters
    ----------
    weights
        Column of sampling weights: econml's ``fit`` takes no ``sample_weight``
        here, so the models are fitted unweighted and the ATE is the weighted
        average of the CATE (bootstrap SE of the weighted mean); said in
        ``Effect.inference``.
    model
        Any scikit-learn regressor, fitted once per arm; default fast histogram
        gradient boosting.
    n_bootstrap, random_state
        Bootstrap refits for the ATE standard error (0 to skip) and their seed.
    estimand
        ``"ATE"`` (default) or ``"CATE"``; only the label changes (the estimate is the
        average effect either way, the per-unit CATE is in ``Effect.cate``).
    """
    base = model_or_default(model, default_regressor, "model")
    plan = LearnerPlan("t_learner", lambda: TLearner(models=base),
                       f"econml TLearner({type(base).__name__})")
    return fit_learner(plan, data, treatment, outcome, covariates, alpha, n_bootstrap,
                       random_state, estimand, weights=weights)
