"""DR-learner: regress doubly robust pseudo-outcomes on covariates (econml ``DRLearner``).

With cross-fitted outcome models ``mu_t(x)`` and propensity ``e(x)``, each unit
gets the doubly robust (AIPW) pseudo-outcome

    phi = mu_1(X) - mu_0(X) + T (Y - mu_1(X)) / e(X) - (1 - T) (Y - mu_0(X)) / (1 - e(X)),

and the CATE is a regression of ``phi`` on the covariates (Kennedy 2023,
"Towards optimal doubly robust estimation of heterogeneous causal effects",
Electronic Journal of Statistics 17(2), 3008-3049). The ATE is the mean of the
pseudo-outcomes, with the influence-function standard error ``sd(phi) / sqrt(n)``
(econml gives no ATE inference for a non-parametric final model, but its
cross-fitted pseudo-outcomes give this one directly). The pseudo-outcomes are
kept in ``diagnostics["dr_pseudo_outcome"]`` for :func:`causalkit.cate.cate_summary.cate_summary`,
and the cross-fitted nuisances they are made of (propensity ``e``, outcome
regressions ``mu1``, ``mu0``) in ``diagnostics["nuisance"]``, for the
omitted-variable-bias bounds of :func:`causalkit.sensitivity.ovb_dml`.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> from sklearn.linear_model import LinearRegression, LogisticRegression
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=400); t = rng.binomial(1, 0.4, 400)
>>> df = pd.DataFrame({"t": t, "x": x, "y": x + (1.0 + x) * t + rng.normal(size=400)})
>>> eff = causalkit.estimate(df, "t", "y", method="dr_learner", covariates=["x"],
...                          outcome_model=LinearRegression(), final_model=LinearRegression(),
...                          propensity_model=LogisticRegression())
>>> bool(abs(eff.estimate - 1.0) < 4 * eff.std_error)
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from econml.dr import DRLearner

from ..effect import Effect
from ..errors import OptionError
from ..registry import register
from ._metalearners import (
    AteResult, LearnerPlan, cross_fit_models, dr_score_ate, fit_learner,
)


def pseudo_outcomes(est: DRLearner) -> np.ndarray:
    """The cross-fitted DR pseudo-outcomes ``phi`` of a DRLearner fitted with ``cache_values=True``."""
    y_pred = np.asarray(est._cached_values.nuisances[0], dtype=float)
    y_pred = y_pred.reshape(y_pred.shape[0], -1)
    return y_pred[:, 1] - y_pred[:, 0]


def cross_fitted_nuisances(est: DRLearner) -> pd.DataFrame:
    """The out-of-fold ``e``, ``mu1``, ``mu0`` behind the pseudo-outcomes of a fitted DRLearner.

    econml caches, per unit, ``Y_pred[:, a] = mu_a + 1[T = a] (Y - mu_a) / e_a`` and the
    clipped propensities ``e_a``; for the arm a unit is not in that is ``mu_a`` itself,
    and for its own arm ``mu_a = (e_a Y_pred[:, a] - Y) / (e_a - 1)``.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> e = np.array([0.5, 0.25]); y = np.array([3.0, 1.0]); t = np.array([1, 0])
    >>> mu1, mu0 = np.array([2.0, 2.5]), np.array([1.5, 0.5])
    >>> y_pred = np.column_stack([mu0 + (1 - t) * (y - mu0) / (1 - e), mu1 + t * (y - mu1) / e])
    >>> est = SimpleNamespace(_cached_values=SimpleNamespace(
    ...     nuisances=(y_pred, np.column_stack([1 - e, e])), Y=y, T=t))
    >>> cross_fitted_nuisances(est).round(12).to_dict("list")["mu0"]
    [1.5, 0.5]
    """
    cached = est._cached_values
    nuis, y, t = cached.nuisances, np.asarray(cached.Y, float).ravel(), np.ravel(cached.T)
    y_pred = np.asarray(nuis[0], dtype=float).reshape(len(y), -1)
    prop = np.asarray(nuis[1], dtype=float).reshape(len(y), -1)
    e1, e0 = prop[:, 1], prop[:, 0]
    treated = t == 1
    mu1 = np.where(treated, (e1 * y_pred[:, 1] - y) / (e1 - 1), y_pred[:, 1])
    mu0 = np.where(treated, y_pred[:, 0], (e0 * y_pred[:, 0] - y) / (e0 - 1))
    return pd.DataFrame({"e": e1, "mu1": mu1, "mu0": mu0, "used": np.ones(len(y), bool)})


def _ate(est: DRLearner, weights: np.ndarray | None = None) -> AteResult:
    return dr_score_ate(pseudo_outcomes(est), "econml's cross-fitted DR pseudo-outcomes",
                        weights)


@register("dr_learner", estimand=("ATE", "CATE"), roles=("treatment", "outcome", "covariates"),
          optional_roles=("weights",), tags=("cate",))
def dr_learner(data: pd.DataFrame, treatment: str, outcome: str,
               covariates: Sequence[str] | None = None, weights: str | None = None,
              alpha: float = 0.05,
               outcome_model: Any = None, propensity_model: Any = None, final_model: Any = None,
               cv: int = 5, min_propensity: float = 0.01, random_state: int | None = 0,
               estimand: str = "ATE") -> Effect:
    """DR-learner (doubly robust pseudo-outcome regression), wrapping econml's DRLearner.

    Parameters
    ----------
    weights
        Column of sampling weights: passed to econml's ``fit`` as ``sample_weight``
        (every nuisance and final model is fitted weighted) and the ATE is the
        weighted average (see :mod:`causalkit.cate._metalearners`).
    outcome_model
        Regressor for ``E[Y | X, T]`` (fitted on covariates plus treatment).
    propensity_model
        Classifier for ``P(T = 1 | X)``.
    final_model
        Regressor of the pseudo-outcomes on the covariates (the CATE model).
    cv
        Number of cross-fitting folds (default 5: each nuisance model sees 80% of
        the data, which keeps the noisy final-stage targets in check).
    min_propensity
        Propensities are clipped to ``[min_propensity, 1 - min_propensity]``.
    random_state
        Seed of the fold split.
    estimand
        ``"ATE"`` (default) or ``"CATE"``; only the label changes (the estimate is the
        average effect either way, the per-unit CATE is in ``Effect.cate``).
    """
    if not 0.0 <= float(min_propensity) < 0.5:
        raise OptionError(f"min_propensity must be in [0, 0.5), got {min_propensity!r}")
    mu, g, final, cv = cross_fit_models(outcome_model, propensity_model, final_model, cv)

    def build() -> DRLearner:
        return DRLearner(model_propensity=g, model_regression=mu, model_final=final, cv=cv,
                         min_propensity=min_propensity, random_state=random_state)

    plan = LearnerPlan("dr_learner", build,
                       f"econml DRLearner({type(mu).__name__}, propensity {type(g).__name__}, "
                       f"final {type(final).__name__}, cv={cv})",
                       fit_kwargs={"cache_values": True}, analytic_ate=_ate,
                       takes_sample_weight=True,
                       extra_diagnostics=lambda est: {
                           "dr_pseudo_outcome": pseudo_outcomes(est),
                           "nuisance": cross_fitted_nuisances(est)})
    return fit_learner(plan, data, treatment, outcome, covariates, alpha, 0, random_state,
                       estimand, weights=weights)
