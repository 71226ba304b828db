"""DoubleML estimators as registry entries: ``doubleml.DoubleMLPLR``, ``doubleml.DoubleMLIRM``.

Both take causalkit's nuisance models (``outcome_model=`` for ``ml_l`` /
``ml_g``, ``propensity_model=`` for ``ml_m``) and report DoubleML's own
standard error and interval (``se``, ``confint``).  The cross-fitting folds
are drawn with ``KFold(n_folds, shuffle=True, random_state=random_state)`` and
given to DoubleML (``set_sample_splitting``), so a fit is reproducible without
touching numpy's global random state.  The PLR's coefficient is a
variance-weighted average effect (the ATE when the effect is constant); the
IRM targets the ATE or, with ``estimand="ATT"``, DoubleML's ATTE score.

Example
-------
>>> import numpy as np, pandas as pd, causalkit   # doctest: +SKIP
>>> eff = causalkit.estimate(df, "t", "y", method="doubleml.DoubleMLIRM",
...                          covariates=["x"])    # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from ...effect import Effect
from ...registry import register
from ._common import (check_estimand, nuisance, peer_effect, peer_import, prepared,
                      with_parameters)

ROLES = dict(roles=("treatment", "outcome", "covariates"), tags=("peer", "doubleml"))


def _fit(name: str, data: pd.DataFrame, treatment: str, outcome: str,
         covariates: Sequence[str] | None, alpha: float, outcome_model: Any,
         propensity_model: Any, n_folds: int, random_state: int, estimand: str) -> Effect:
    method = f"doubleml.{name}"
    allowed = ("ATE", "ATT") if name == "DoubleMLIRM" else ("ATE",)
    check_estimand(method, estimand, allowed)
    d = prepared(data, treatment, outcome, covariates)
    dml = peer_import("doubleml")
    frame = pd.DataFrame(d.X, columns=[f"x{j}" for j in range(d.X.shape[1])])
    frame["y"], frame["d"] = d.y, d.t.astype(float)
    obj = dml.DoubleMLData(frame, y_col="y", d_cols="d", x_cols=list(frame.columns[:-2]))
    reg, clf = nuisance(outcome_model, "regressor"), nuisance(propensity_model, "classifier")
    if name == "DoubleMLPLR":
        model = dml.DoubleMLPLR(obj, ml_l=reg, ml_m=clf, n_folds=int(n_folds),
                                draw_sample_splitting=False)
    else:
        model = dml.DoubleMLIRM(obj, ml_g=reg, ml_m=clf, n_folds=int(n_folds),
                                score="ATE" if estimand == "ATE" else "ATTE",
                                draw_sample_splitting=False)
    folds = KFold(int(n_folds), shuffle=True, random_state=random_state).split(d.X)
    model.set_sample_splitting([(np.asarray(tr), np.asarray(te)) for tr, te in folds])
    model.fit()
    ci = model.confint(level=1 - alpha).iloc[0]
    return peer_effect(method=method, estimand=estimand, estimate=float(model.coef[0]),
                       std_error=float(model.se[0]), ci=(float(ci.iloc[0]), float(ci.iloc[1])),
                       alpha=alpha, d=d, p_value=float(model.pval[0]),
                       inference=f"DoubleML {name}'s own inference (score-based standard "
                                 f"error, {n_folds}-fold cross-fitting)")


@register("doubleml.DoubleMLPLR", estimand="ATE", **ROLES)
@with_parameters
def doubleml_plr(data: pd.DataFrame, treatment: str, outcome: str,
                 covariates: Sequence[str] | None = None, alpha: float = 0.05,
                 outcome_model: Any = None, propensity_model: Any = None, n_folds: int = 5,
                 random_state: int = 0) -> Effect:
    """DoubleML partially linear regression (Chernozhukov et al. 2018), DoubleML's inference."""
    return _fit("DoubleMLPLR", data, treatment, outcome, covariates, alpha, outcome_model,
                propensity_model, n_folds, random_state, "ATE")


@register("doubleml.DoubleMLIRM", estimand=("ATE", "ATT"), **ROLES)
@with_parameters
def doubleml_irm(data: pd.DataFrame, treatment: str, outcome: str,
                 covariates: Sequence[str] | None = None, alpha: float = 0.05,
                 outcome_model: Any = None, propensity_model: Any = None, n_folds: int = 5,
                 random_state: int = 0, estimand: str = "ATE") -> Effect:
    """DoubleML interactive regression model (AIPW score; ATE or ATTE), DoubleML's inference."""
    return _fit("DoubleMLIRM", data, treatment, outcome, covariates, alpha, outcome_model,
                propensity_model, n_folds, random_state, estimand)
