"""Meta-learners and causal forest: agreement with econml, CATE prediction, inference, errors."""

import warnings

import numpy as np
import pandas as pd
import pytest
from econml.dml import CausalForestDML, NonParamDML
from econml.dr import DRLearner, LinearDRLearner
from econml.metalearners import SLearner, TLearner, XLearner
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalkit
from causalkit.errors import (ColumnNotFoundError, DataError, EstimationError, MissingValueError,
                              OptionError, RoleError, TreatmentNotBinaryError)

LEARNERS = ["s_learner", "t_learner", "x_learner", "dr_learner", "r_learner", "causal_forest"]
COVS = ["x0", "x1", "x2"]


def _data(seed, n=800, p_treat=0.4):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    e = 1 / (1 + np.exp(-(np.log(p_treat / (1 - p_treat)) + 0.5 * X[:, 0])))
    t = rng.binomial(1, e)
    tau = 1.0 + X[:, 0] + 0.5 * X[:, 1]
    y = 2 * X[:, 0] + np.sin(np.pi * X[:, 2]) + t * tau + rng.normal(size=n)
    df = pd.DataFrame(X, columns=COVS).assign(t=t, y=y)
    return df, tau


def _hgb():
    return HistGradientBoostingRegressor(max_iter=30, max_leaf_nodes=7, early_stopping=False)


def _hgbc():
    return HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=7, early_stopping=False)


def _fit_econml(est, df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(df.y.to_numpy(), df.t.to_numpy(), X=df[COVS].to_numpy(), **kw)
    return est


# --------------------------------------------------------------- agreement with econml
@pytest.mark.parametrize("method", LEARNERS)
def test_cate_and_prediction_equal_econml_same_models(method):
    df, _ = _data(1)
    new = _data(2, n=50)[0]
    opts, ref = {
        "s_learner": ({"model": _hgb()}, SLearner(overall_model=_hgb())),
        "t_learner": ({"model": _hgb()}, TLearner(models=_hgb())),
        "x_learner": ({"outcome_model": _hgb(), "cate_model": _hgb(),
                       "propensity_model": _hgbc()},
                      XLearner(models=_hgb(), cate_models=_hgb(), propensity_model=_hgbc())),
        "dr_learner": ({"outcome_model": _hgb(), "propensity_model": _hgbc(),
                        "final_model": _hgb(), "min_propensity": 0.01, "cv": 2},
                       DRLearner(model_regression=_hgb(), model_propensity=_hgbc(),
                                 model_final=_hgb(), min_propensity=0.01, cv=2,
                                 random_state=0)),
        "r_learner": ({"outcome_model": _hgb(), "propensity_model": _hgbc(),
                       "final_model": _hgb(), "cv": 2},
                      NonParamDML(model_y=_hgb(), model_t=_hgbc(), model_final=_hgb(),
                                  discrete_treatment=True, cv=2, random_state=0)),
        "causal_forest": ({"outcome_model": _hgb(), "propensity_model": _hgbc(),
                           "n_estimators": 40, "cv": 2},
                          CausalForestDML(model_y=_hgb(), model_t=_hgbc(),
                                          discrete_treatment=True, cv=2, n_estimators=40,
                                          min_samples_leaf=10, random_state=0, n_jobs=1)),
    }[method]
    if "n_bootstrap" in causalkit.get(method).option_names:
        opts["n_bootstrap"] = 0                      # the bootstrap SE is not compared here
    eff = causalkit.estimate(df, "t", "y", method=method, covariates=COVS, **opts)
    _fit_econml(ref, df)
    np.testing.assert_allclose(eff.cate, ref.effect(df[COVS].to_numpy()), rtol=0, atol=1e-10)
    np.testing.assert_allclose(eff.predict_cate(new), ref.effect(new[COVS].to_numpy()),
                               rtol=0, atol=1e-10)
    assert eff.diagnostics["mean_cate"] == pytest.approx(float(ref.ate(df[COVS].to_numpy())),
                                                         abs=1e-10)
    assert eff.method == method and eff.estimand == "ATE" and eff.cate.shape == (len(df),)
    assert eff.n_treated + eff.n_control == len(df)


def test_dr_learner_ate_and_se_equal_econml_linear_dr_intercept():
    # LinearDRLearner with no X regresses the same cross-fitted pseudo-outcomes on a
    # constant; its intercept and (small-sample corrected) HC0 standard error are the
    # AIPW mean and sd/sqrt(n).
    df, _ = _data(3, n=1000)
    opts = dict(outcome_model=_hgb(), propensity_model=_hgbc(), min_propensity=0.01, cv=2)
    eff = causalkit.estimate(df, "t", "y", method="dr_learner", covariates=COVS, **opts)
    ref = LinearDRLearner(model_regression=_hgb(), model_propensity=_hgbc(),
                          min_propensity=0.01, cv=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(df.y.to_numpy(), df.t.to_numpy(), X=None, W=df[COVS].to_numpy())
    inf = ref.intercept__inference(T=1)
    assert eff.estimate == pytest.approx(float(ref.intercept_(T=1)), abs=1e-10)
    assert eff.std_error == pytest.approx(float(inf.stderr), rel=1e-8)
    assert "doubly robust" in eff.inference


def test_causal_forest_ate_inference_and_intervals_equal_econml():
    df, _ = _data(4, n=1000)
    eff = causalkit.estimate(df, "t", "y", method="causal_forest", covariates=COVS,
                             outcome_model=_hgb(), propensity_model=_hgbc(), n_estimators=40,
                             cv=2, alpha=0.1)
    ref = _fit_econml(CausalForestDML(model_y=_hgb(), model_t=_hgbc(), discrete_treatment=True,
                                      cv=2, n_estimators=40, min_samples_leaf=10,
                                      random_state=0, n_jobs=1), df)
    assert eff.estimate == pytest.approx(float(np.ravel(ref.ate_)[0]), abs=1e-12)
    assert eff.std_error == pytest.approx(float(np.ravel(ref.ate_stderr_)[0]), abs=1e-12)
    lo, hi = ref.effect_interval(df[COVS].to_numpy(), alpha=0.1)
    np.testing.assert_allclose(eff.diagnostics["cate_ci_low"], lo, atol=1e-10)
    np.testing.assert_allclose(eff.diagnostics["cate_ci_high"], hi, atol=1e-10)
    assert eff.ci_high - eff.ci_low == pytest.approx(2 * 1.6448536 * eff.std_error, rel=1e-6)


# --------------------------------------------------------------- X-learner closed form
def test_x_learner_constant_propensity_is_documented_weighted_average():
    df, _ = _data(5, n=600, p_treat=0.25)
    X, t, y = df[COVS].to_numpy(), df.t.to_numpy(), df.y.to_numpy()
    eff = causalkit.estimate(df, "t", "y", method="x_learner", covariates=COVS,
                             outcome_model=LinearRegression(), cate_model=LinearRegression(),
                             propensity_model=DummyClassifier(strategy="prior"), n_bootstrap=0)
    # Independent computation: stage 1 per arm, imputed effects, stage 2, weights e, 1 - e.
    b1 = np.linalg.lstsq(np.c_[np.ones(t.sum()), X[t == 1]], y[t == 1], rcond=None)[0]
    b0 = np.linalg.lstsq(np.c_[np.ones((t == 0).sum()), X[t == 0]], y[t == 0], rcond=None)[0]
    Z = np.c_[np.ones(len(y)), X]
    d1 = y[t == 1] - Z[t == 1] @ b0
    d0 = Z[t == 0] @ b1 - y[t == 0]
    g1 = np.linalg.lstsq(Z[t == 1], d1, rcond=None)[0]
    g0 = np.linalg.lstsq(Z[t == 0], d0, rcond=None)[0]
    e = t.mean()
    expected = e * (Z @ g0) + (1 - e) * (Z @ g1)
    np.testing.assert_allclose(eff.cate, expected, atol=1e-10)
    assert eff.estimate == pytest.approx(expected.mean(), abs=1e-10)


# --------------------------------------------------------------- inference
def test_bootstrap_is_reproducible_and_seed_dependent():
    df, _ = _data(6, n=300)
    kw = dict(covariates=COVS, model=LinearRegression(), n_bootstrap=30)
    a = causalkit.estimate(df, "t", "y", method="t_learner", random_state=3, **kw)
    b = causalkit.estimate(df, "t", "y", method="t_learner", random_state=3, **kw)
    c = causalkit.estimate(df, "t", "y", method="t_learner", random_state=4, **kw)
    assert a.std_error == b.std_error and a.std_error != c.std_error
    assert "bootstrap" in a.inference and "30 refits" in a.inference
    assert a.diagnostics["bootstrap_ates"].shape == (30,)


def test_bootstrap_se_matches_sampling_sd_of_t_learner():
    # 20 replications: the Monte Carlo sd has ~16% relative error, the mean of the
    # bootstrap SEs less; a 45% band (~3 sd) fails only if the bootstrap is off by that much.
    ests, ses = [], []
    for rep in range(20):
        df, _ = _data(100 + rep, n=300)
        eff = causalkit.estimate(df, "t", "y", method="t_learner", covariates=COVS,
                                 model=LinearRegression(), n_bootstrap=30, random_state=rep)
        ests.append(eff.estimate)
        ses.append(eff.std_error)
    assert np.mean(ses) == pytest.approx(np.std(ests, ddof=1), rel=0.45)


def test_dr_learner_ci_coverage():
    # 120 replications: binomial sd of the coverage is 2%, so [0.88, 1] is a > 3 sd band
    # below the nominal 0.95; the target is the sample ATE's population value E[tau] = 1.
    cover = []
    for rep in range(120):
        df, _ = _data(500 + rep, n=500)
        eff = causalkit.estimate(df, "t", "y", method="dr_learner", covariates=COVS,
                                 outcome_model=LinearRegression(),
                                 propensity_model=LogisticRegression(),
                                 final_model=LinearRegression(), cv=2)
        cover.append(eff.ci_low < 1.0 < eff.ci_high)
    assert 0.88 <= np.mean(cover) <= 1.0


def test_no_bootstrap_says_so():
    df, _ = _data(7, n=200)
    eff = causalkit.estimate(df, "t", "y", method="s_learner", covariates=COVS,
                             model=LinearRegression(), n_bootstrap=0)
    assert np.isnan(eff.std_error) and "n_bootstrap=0" in eff.inference


# --------------------------------------------------------------- API and errors
def test_registered_with_cate_estimand_and_roles():
    table = causalkit.available().set_index("method")
    for name in LEARNERS:
        spec = causalkit.get(name)
        assert spec.estimands == ("ATE", "CATE")
        assert spec.roles == ("treatment", "outcome", "covariates")
        assert name in table.index
    df, _ = _data(8, n=200)
    eff = causalkit.estimate(df, "t", "y", method="t_learner", covariates=COVS,
                             model=LinearRegression(), n_bootstrap=0, estimand="CATE")
    assert eff.estimand == "CATE"


def test_predict_cate_accepts_arrays_and_checks_columns():
    df, _ = _data(9, n=200)
    eff = causalkit.estimate(df, "t", "y", method="t_learner", covariates=COVS,
                             model=LinearRegression(), n_bootstrap=0)
    np.testing.assert_allclose(eff.predict_cate(df[COVS].to_numpy()), eff.cate)
    np.testing.assert_allclose(eff.predict_cate(df[COVS[::-1] + ["y"]]), eff.cate)
    with pytest.raises(ColumnNotFoundError, match="x2"):
        eff.predict_cate(df[["x0", "x1"]])
    with pytest.raises(DataError, match="3 covariate"):
        eff.predict_cate(np.zeros((2, 2)))
    with pytest.raises(MissingValueError, match="x1"):
        eff.predict_cate(df.assign(x1=np.nan))


@pytest.mark.parametrize("method", LEARNERS)
def test_bad_input_raises_specific_errors(method):
    df, _ = _data(10, n=100)
    with pytest.raises(RoleError):
        causalkit.estimate(df, "t", "y", method=method)
    with pytest.raises(ColumnNotFoundError, match="x9"):
        causalkit.estimate(df, "t", "y", method=method, covariates=["x0", "x9"])
    with pytest.raises(TreatmentNotBinaryError):
        causalkit.estimate(df.assign(t=df.t * 2), "t", "y", method=method, covariates=COVS)
    with pytest.raises(MissingValueError):
        causalkit.estimate(df.assign(y=np.where(df.index == 3, np.nan, df.y)), "t", "y",
                           method=method, covariates=COVS)
    with pytest.raises(OptionError):
        causalkit.estimate(df, "t", "y", method=method, covariates=COVS, estimand="ATT")


def test_option_errors():
    df, _ = _data(11, n=100)
    with pytest.raises(OptionError, match="n_bootstrap"):
        causalkit.estimate(df, "t", "y", method="s_learner", covariates=COVS, n_bootstrap=1)
    with pytest.raises(OptionError, match="predict"):
        causalkit.estimate(df, "t", "y", method="t_learner", covariates=COVS, model="hgb")
    with pytest.raises(OptionError, match="predict_proba"):
        causalkit.estimate(df, "t", "y", method="x_learner", covariates=COVS,
                           propensity_model=LinearRegression())
    with pytest.raises(OptionError, match="multiple of 4"):
        causalkit.estimate(df, "t", "y", method="causal_forest", covariates=COVS,
                           n_estimators=10)
    with pytest.raises(OptionError, match="min_propensity"):
        causalkit.estimate(df, "t", "y", method="dr_learner", covariates=COVS,
                           min_propensity=0.7)


def test_econml_failure_becomes_estimation_error():
    class Broken(LinearRegression):
        def fit(self, X, y, sample_weight=None):
            raise ValueError("boom")

    df, _ = _data(12, n=100)
    with pytest.raises(EstimationError, match="boom"):
        causalkit.estimate(df, "t", "y", method="t_learner", covariates=COVS, model=Broken(),
                           n_bootstrap=0)
