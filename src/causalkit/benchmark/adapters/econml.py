"""EconML estimators as registry entries: ``econml.LinearDML``, ``econml.CausalForestDML``, ...

Every adapter fits the econml class with causalkit's nuisance models (unless
``outcome_model=`` / ``propensity_model=`` are given), the covariates as
``X`` (effect modifiers and controls), and reports econml's own ATE inference:
``ate_inference(X)`` for the DML and DR learners (the final stage's
standard error of the mean effect), econml's ``BootstrapInference`` for the
meta-learners when ``n_bootstrap > 0`` (they have no analytic inference; with
``n_bootstrap=0`` the interval is NaN and coverage is not scored).

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0); x = rng.normal(size=400); t = rng.integers(0, 2, 400)
>>> df = pd.DataFrame({"x": x, "t": t, "y": x + 2.0 * t + rng.normal(size=400)})
>>> eff = causalkit.estimate(df, "t", "y", method="econml.LinearDML", covariates=["x"])
>>> bool(abs(eff.estimate - 2.0) < 0.4), "econml" in eff.inference
(True, True)
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ...effect import Effect
from ...registry import register
from ._common import (check_estimand, nuisance, peer_effect, peer_import, predictor, prepared,
                      with_parameters)

ROLES = dict(roles=("treatment", "outcome", "covariates"), tags=("cate", "peer", "econml"))


def _fit(name: str, build: Callable[[Any, Any, Any], Any], data: pd.DataFrame, treatment: str,
         outcome: str, covariates: Sequence[str] | None, alpha: float, outcome_model: Any,
         propensity_model: Any, random_state: int, estimand: str, n_bootstrap: int | None
         ) -> Effect:
    method = f"econml.{name}"
    check_estimand(method, estimand, ("ATE", "CATE"))
    d = prepared(data, treatment, outcome, covariates)
    inference_mod = peer_import("econml.inference")
    reg, clf = nuisance(outcome_model, "regressor"), nuisance(propensity_model, "classifier")
    est = build(reg, clf, random_state)
    kwargs: dict[str, Any] = {}
    if n_bootstrap is not None and n_bootstrap > 0:
        kwargs["inference"] = inference_mod.BootstrapInference(
            n_bootstrap_samples=int(n_bootstrap), n_jobs=1)
    est.fit(d.y, d.t, X=d.X, **kwargs)
    cate = np.asarray(est.effect(d.X), dtype=float).ravel()
    if n_bootstrap == 0:  # a meta-learner without inference
        estimate, se, ci = float(cate.mean()), math.nan, None
        how = f"econml {name}: no inference (n_bootstrap=0); point estimate only"
    else:
        inf = est.ate_inference(X=d.X)
        estimate, se = float(inf.mean_point), float(inf.stderr_mean)
        low, high = inf.conf_int_mean(alpha=alpha)
        ci = (float(low), float(high))
        how = (f"econml {name}'s own ATE inference ("
               + (f"BootstrapInference, {n_bootstrap} refits" if n_bootstrap else
                  "ate_inference: final-stage standard error of the mean effect") + ")")
    return peer_effect(method=method, estimand=estimand, estimate=estimate, std_error=se,
                       ci=ci, alpha=alpha, d=d, inference=how, cate=cate,
                       cate_predictor=predictor(d.covariates, est.effect))


def _dml(cls: str) -> Callable[[Any, Any, int], Any]:
    def build(reg: Any, clf: Any, seed: int) -> Any:
        return getattr(peer_import("econml.dml"), cls)(
            model_y=reg, model_t=clf, discrete_treatment=True, cv=5, random_state=seed)
    return build


@register("econml.LinearDML", estimand=("ATE", "CATE"), **ROLES)
@with_parameters
def linear_dml(data: pd.DataFrame, treatment: str, outcome: str,
               covariates: Sequence[str] | None = None, alpha: float = 0.05,
               outcome_model: Any = None, propensity_model: Any = None, random_state: int = 0,
               estimand: str = "ATE") -> Effect:
    """EconML LinearDML (double ML, CATE linear in the covariates), econml's own inference."""
    return _fit("LinearDML", _dml("LinearDML"), data, treatment, outcome, covariates, alpha,
                outcome_model, propensity_model, random_state, estimand, None)


@register("econml.CausalForestDML", estimand=("ATE", "CATE"), **ROLES)
@with_parameters
def causal_forest_dml(data: pd.DataFrame, treatment: str, outcome: str,
                      covariates: Sequence[str] | None = None, alpha: float = 0.05,
                      outcome_model: Any = None, propensity_model: Any = None,
                      n_estimators: int = 200, random_state: int = 0,
                      estimand: str = "ATE") -> Effect:
    """EconML CausalForestDML (generalized random forest on DML residuals), econml's inference."""
    def build(reg: Any, clf: Any, seed: int) -> Any:
        return peer_import("econml.dml").CausalForestDML(
            model_y=reg, model_t=clf, discrete_treatment=True, cv=5,
            n_estimators=int(n_estimators), random_state=seed, n_jobs=1)
    return _fit("CausalForestDML", build, data, treatment, outcome, covariates, alpha,
                outcome_model, propensity_model, random_state, estimand, None)


@register("econml.DRLearner", estimand=("ATE", "CATE"), **ROLES)
@with_parameters
def dr_learner(data: pd.DataFrame, treatment: str, outcome: str,
               covariates: Sequence[str] | None = None, alpha: float = 0.05,
               outcome_model: Any = None, propensity_model: Any = None, random_state: int = 0,
               estimand: str = "ATE") -> Effect:
    """EconML DRLearner (doubly robust pseudo-outcomes, linear final stage), econml's inference."""
    def build(reg: Any, clf: Any, seed: int) -> Any:
        return peer_import("econml.dr").DRLearner(
            model_regression=reg, model_propensity=clf, cv=5, random_state=seed)
    return _fit("DRLearner", build, data, treatment, outcome, covariates, alpha,
                outcome_model, propensity_model, random_state, estimand, None)


def _meta(name: str, make: Callable[[Any, Any], Any], doc: str) -> None:
    def fit(data: pd.DataFrame, treatment: str, outcome: str,
            covariates: Sequence[str] | None = None, alpha: float = 0.05,
            outcome_model: Any = None, propensity_model: Any = None, n_bootstrap: int = 0,
            random_state: int = 0, estimand: str = "ATE") -> Effect:
        def build(reg: Any, clf: Any, seed: int) -> Any:
            return make(reg, clf)
        return _fit(name, build, data, treatment, outcome, covariates, alpha, outcome_model,
                    propensity_model, random_state, estimand, int(n_bootstrap))

    fit.__doc__ = doc
    fit.__name__ = fit.__qualname__ = name.lower()
    register(f"econml.{name}", estimand=("ATE", "CATE"), **ROLES)(with_parameters(fit))


def _metalearners() -> Any:
    return peer_import("econml.metalearners")


_meta("XLearner", lambda reg, clf: _metalearners().XLearner(models=reg, propensity_model=clf),
      "EconML XLearner (Künzel et al. 2019); econml BootstrapInference when n_bootstrap > 0.")
_meta("TLearner", lambda reg, clf: _metalearners().TLearner(models=reg),
      "EconML TLearner (one outcome model per arm); BootstrapInference when n_bootstrap > 0.")
_meta("SLearner", lambda reg, clf: _metalearners().SLearner(overall_model=reg),
      "EconML SLearner (one outcome model with the treatment); BootstrapInference if asked.")
