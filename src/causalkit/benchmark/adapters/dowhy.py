"""DoWhy's backdoor estimators as registry entries: ``dowhy.backdoor.<method>``.

``dowhy.backdoor.propensity_score_matching``, ``..._weighting``,
``..._stratification`` and ``dowhy.backdoor.linear_regression`` run DoWhy's
own pipeline (``CausalModel`` with the covariates as common causes,
``identify_effect``, ``estimate_effect``) and report DoWhy's own interval:
analytic for linear regression, DoWhy's bootstrap (``n_bootstrap``
simulations, seeded) for the propensity-score methods, whose interval is NaN
with ``n_bootstrap=0``.  DoWhy fits its own logistic propensity model (it does
not take a nuisance model), which ``Effect.inference`` states.

Example
-------
>>> from causalkit import registry
>>> registry.get("dowhy.backdoor.propensity_score_matching").estimands
('ATT', 'ATE', 'ATC')
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...effect import Effect
from ...registry import register
from ._common import with_parameters, check_estimand, peer_effect, peer_import, prepared

ESTIMANDS = ("ATT", "ATE", "ATC")


def _fit(short: str, data: pd.DataFrame, treatment: str, outcome: str,
         covariates: Sequence[str] | None, alpha: float, estimand: str, n_bootstrap: int,
         random_state: int) -> Effect:
    method = f"dowhy.backdoor.{short}"
    check_estimand(method, estimand, ESTIMANDS)
    d = prepared(data, treatment, outcome, covariates)
    CausalModel = peer_import("dowhy").CausalModel
    cols = [f"w{j}" for j in range(d.X.shape[1])]
    frame = pd.DataFrame(d.X, columns=cols)
    frame["t"], frame["y"] = d.t.astype(bool), d.y
    model = CausalModel(data=frame, treatment="t", outcome="y", common_causes=cols)
    estimand_obj = model.identify_effect(proceed_when_unidentifiable=True)
    analytic = short == "linear_regression"
    want_ci = analytic or n_bootstrap > 0
    params: dict[str, Any] = {"confidence_level": 1 - alpha}
    if want_ci and not analytic:
        params["num_simulations"] = int(n_bootstrap)
        params["sample_size_fraction"] = 1.0
    state = np.random.get_state()
    np.random.seed(random_state)  # DoWhy's bootstrap and matching use numpy's global state
    try:
        est = model.estimate_effect(estimand_obj, method_name=f"backdoor.{short}",
                                    target_units=estimand.lower(),
                                    confidence_intervals=want_ci,
                                    method_params={"init_params": params})
        ci = None
        if want_ci:
            low, high = np.asarray(est.get_confidence_intervals(), dtype=float).ravel()[:2]
            ci = (float(low), float(high))
    finally:
        np.random.set_state(state)
    z = 2 * float(np.abs(np.asarray(peer_import("scipy.stats").norm.ppf(1 - alpha / 2))))
    se = (ci[1] - ci[0]) / z if ci is not None else math.nan
    how = ("DoWhy's own interval: " + ("analytic (statsmodels OLS)" if analytic else
           f"bootstrap, {n_bootstrap} simulations" if want_ci else "none (n_bootstrap=0)")
           + "; DoWhy's own logistic propensity model" * (not analytic)
           + "; SE = interval width / (2 z)")
    return peer_effect(method=method, estimand=estimand, estimate=float(est.value),
                       std_error=se, ci=ci, alpha=alpha, d=d, inference=how)


def _register(short: str, doc: str, estimands: Sequence[str] = ESTIMANDS,
              bootstrap: int = 0) -> None:
    def fit(data: pd.DataFrame, treatment: str, outcome: str,
            covariates: Sequence[str] | None = None, alpha: float = 0.05,
            estimand: str = estimands[0], n_bootstrap: int = bootstrap,
            random_state: int = 0) -> Effect:
        return _fit(short, data, treatment, outcome, covariates, alpha, estimand,
                    int(n_bootstrap), random_state)

    fit.__doc__ = doc
    fit.__name__ = fit.__qualname__ = short
    register(f"dowhy.backdoor.{short}", estimand=tuple(estimands),
             roles=("treatment", "outcome", "covariates"), tags=("peer", "dowhy"))(
        with_parameters(fit))


_register("propensity_score_matching",
          "DoWhy propensity-score matching (nearest neighbour); DoWhy's bootstrap interval.")
_register("propensity_score_weighting",
          "DoWhy inverse propensity weighting; DoWhy's bootstrap interval.",
          estimands=("ATE", "ATT", "ATC"))
_register("propensity_score_stratification",
          "DoWhy propensity-score stratification; DoWhy's bootstrap interval.",
          estimands=("ATE", "ATT", "ATC"))
_register("linear_regression", "DoWhy linear regression on treatment and common causes; "
          "DoWhy's analytic interval.", estimands=("ATE",))
