"""CausalML meta-learners as registry entries: ``causalml.BaseXRegressor``, ...

``causalml.BaseSRegressor``, ``BaseTRegressor``, ``BaseXRegressor``,
``BaseRRegressor`` and ``BaseDRRegressor`` with causalkit's outcome model
(``outcome_model=``) as the learner and, where CausalML takes one, the
propensity from causalkit's ``propensity_model`` (cross-fitted predictions
passed as ``p``).  The ATE and its interval are CausalML's own
``estimate_ate`` (its analytic approximation), the CATE ``predict``.

>>> from causalkit import registry
>>> registry.get("causalml.BaseXRegressor").estimands
('ATE', 'CATE')
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import cross_val_predict, StratifiedKFold

from ...effect import Effect
from ...registry import register
from ._common import (with_parameters, check_estimand, nuisance, peer_effect, peer_import, predictor, prepared,
                      z_value)

USES_PROPENSITY = {"BaseXRegressor", "BaseRRegressor", "BaseDRRegressor"}


def _fit(name: str, data: pd.DataFrame, treatment: str, outcome: str,
         covariates: Sequence[str] | None, alpha: float, outcome_model: Any,
         propensity_model: Any, random_state: int, estimand: str) -> Effect:
    method = f"causalml.{name}"
    check_estimand(method, estimand, ("ATE", "CATE"))
    d = prepared(data, treatment, outcome, covariates)
    cls = getattr(peer_import("causalml.inference.meta"), name)
    reg = nuisance(outcome_model, "regressor")
    kwargs: dict[str, Any] = {"ate_alpha": alpha}
    if name == "BaseRRegressor":
        kwargs["random_state"] = random_state
    model = cls(learner=reg, **kwargs)
    fit_args: dict[str, Any] = {}
    how = f"CausalML {name}'s own estimate_ate interval"
    if name in USES_PROPENSITY:
        folds = StratifiedKFold(5, shuffle=True, random_state=random_state)
        p = cross_val_predict(nuisance(propensity_model, "classifier"), d.X, d.t, cv=folds,
                              method="predict_proba")[:, 1]
        fit_args["p"] = np.clip(p, 1e-3, 1 - 1e-3)
        how += "; propensity: causalkit's propensity_model, 5-fold cross-fitted"
    model.fit(d.X, treatment=d.t, y=d.y, **fit_args)
    ate, low, high = (np.asarray(v, dtype=float).ravel()[0]
                      for v in model.estimate_ate(d.X, treatment=d.t, y=d.y, **fit_args))
    cate = np.asarray(model.predict(d.X, **({"p": fit_args["p"]} if name in
                      ("BaseXRegressor",) else {})), dtype=float).ravel()
    se = (high - low) / (2 * z_value(alpha))

    def effect(X: np.ndarray) -> np.ndarray:
        if name == "BaseXRegressor":  # needs a propensity for new rows
            clf = nuisance(propensity_model, "classifier").fit(d.X, d.t)
            return model.predict(X, p=np.clip(clf.predict_proba(X)[:, 1], 1e-3, 1 - 1e-3))
        return model.predict(X)

    return peer_effect(method=method, estimand=estimand, estimate=float(ate), std_error=se,
                       ci=(float(low), float(high)), alpha=alpha, d=d, inference=how,
                       cate=cate, cate_predictor=predictor(d.covariates, effect))


def _register(name: str, doc: str) -> None:
    def fit(data: pd.DataFrame, treatment: str, outcome: str,
            covariates: Sequence[str] | None = None, alpha: float = 0.05,
            outcome_model: Any = None, propensity_model: Any = None, random_state: int = 0,
            estimand: str = "ATE") -> Effect:
        return _fit(name, data, treatment, outcome, covariates, alpha, outcome_model,
                    propensity_model, random_state, estimand)

    fit.__doc__ = doc
    fit.__name__ = fit.__qualname__ = name
    register(f"causalml.{name}", estimand=("ATE", "CATE"),
             roles=("treatment", "outcome", "covariates"), tags=("cate", "peer", "causalml"))(
        with_parameters(fit))


for _name, _doc in [("BaseSRegressor", "CausalML S-learner; CausalML's own ATE interval."),
                    ("BaseTRegressor", "CausalML T-learner; CausalML's own ATE interval."),
                    ("BaseXRegressor", "CausalML X-learner; CausalML's own ATE interval."),
                    ("BaseRRegressor", "CausalML R-learner; CausalML's own ATE interval."),
                    ("BaseDRRegressor", "CausalML DR-learner; CausalML's own ATE interval.")]:
    _register(_name, _doc)
