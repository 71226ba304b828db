"""Causal forest (generalized random forest on DML residuals), econml ``CausalForestDML``.

Outcome and treatment are residualised on the covariates with cross-fitted
nuisance models, and an honest causal forest fits the CATE on the residuals
(Wager & Athey 2018, JASA 113(523), 1228-1242; Athey, Tibshirani & Wager 2019,
Annals of Statistics 47(2), 1148-1178). econml's out-of-bag doubly robust
scores give the ATE and its standard error (``ate_``, ``ate_stderr_``), and
its bootstrap-of-little-bags gives per-row CATE intervals, kept in
``diagnostics["cate_ci_low"]`` / ``["cate_ci_high"]``.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=600); t = rng.binomial(1, 0.5, 600)
>>> df = pd.DataFrame({"t": t, "x": x, "y": x + (1.0 + x) * t + rng.normal(size=600)})
>>> eff = causalkit.estimate(df, "t", "y", method="causal_forest", covariates=["x"],
...                          n_estimators=100)
>>> abs(eff.estimate - 1.0) < 0.4, eff.diagnostics["cate_ci_low"].shape
(True, (600,))
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from econml.dml import CausalForestDML

from ..effect import Effect
from ..errors import OptionError
from ..registry import register
from ._metalearners import (
    AteResult, LearnerPlan, cross_fit_models, dr_score_ate, fit_learner,
)


def _ate(est: CausalForestDML, weights: np.ndarray | None = None) -> AteResult:
    if weights is not None:      # econml's own ate_ is the unweighted mean of these scores
        scores = np.asarray(est.rlearner_model_final_._oob_preds, dtype=float).reshape(-1)
        return dr_score_ate(scores, "econml CausalForestDML's out-of-bag DR scores", weights)
    return AteResult(float(np.ravel(est.ate_)[0]), float(np.ravel(est.ate_stderr_)[0]),
                     "doubly robust: econml CausalForestDML ate_ / ate_stderr_ (mean of "
                     "out-of-bag DR scores, SE sd / sqrt(n))")


@register("causal_forest", estimand=("ATE", "CATE"),
          roles=("treatment", "outcome", "covariates"),
          optional_roles=("weights",), tags=("cate",))
def causal_forest(data: pd.DataFrame, treatment: str, outcome: str,
                  covariates: Sequence[str] | None = None, weights: str | None = None,
              alpha: float = 0.05,
                  outcome_model: Any = None, propensity_model: Any = None,
                  n_estimators: int = 100, min_samples_leaf: int = 10, cv: int = 5,
                  random_state: int | None = 0, n_jobs: int | None = 1,
                  estimand: str = "ATE") -> Effect:
    """Causal forest on DML residuals, wrapping econml's CausalForestDML.

    Parameters
    ----------
    weights
        Column of sampling weights: passed to econml's ``fit`` as ``sample_weight``
        (every nuisance and final model is fitted weighted) and the ATE is the
        weighted average (see :mod:`causalkit.cate._metalearners`).
    outcome_model, propensity_model
        Nuisance models for ``E[Y | X]`` and ``P(T = 1 | X)``.
    n_estimators
        Number of trees (a multiple of 4, econml's subforest size).
    min_samples_leaf
        Minimum units per leaf.
    cv
        Cross-fitting folds for the nuisance models (default 5).
    random_state, n_jobs
        Seed (folds and forest) and parallel jobs for the forest.
    estimand
        ``"ATE"`` (default) or ``"CATE"``; only the label changes (the estimate is the
        average effect either way, the per-unit CATE is in ``Effect.cate``).
    """
    if not isinstance(n_estimators, (int, np.integer)) or n_estimators < 4 \
            or n_estimators % 4:
        raise OptionError(f"n_estimators must be a positive multiple of 4, got {n_estimators!r}")
    m, g, _, cv = cross_fit_models(outcome_model, propensity_model, None, cv, with_final=False)

    def build() -> CausalForestDML:
        return CausalForestDML(model_y=m, model_t=g, discrete_treatment=True, cv=cv,
                               n_estimators=n_estimators, min_samples_leaf=min_samples_leaf,
                               random_state=random_state, n_jobs=n_jobs)

    plan = LearnerPlan("causal_forest", build,
                       f"econml CausalForestDML({type(m).__name__}, propensity "
                       f"{type(g).__name__}, {n_estimators} trees)",
                       analytic_ate=_ate, takes_sample_weight=True,
                       has_cate_intervals=True)
    return fit_learner(plan, data, treatment, outcome, covariates, alpha, 0, random_state,
                       estimand, weights=weights)
