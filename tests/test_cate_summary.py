"""cate_summary (best linear projection of the CATE) against econml and statsmodels."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from econml.dr import LinearDRLearner
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalkit
from causalkit.cate.cate_summary import cate_summary
from causalkit.errors import ColumnNotFoundError, DataError, OptionError

COVS = ["x0", "x1", "x2"]


def _data(seed, n=2000):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    t = rng.binomial(1, 1 / (1 + np.exp(-0.5 * X[:, 2])))
    tau = 1.0 + 2.0 * X[:, 0] - X[:, 1]
    y = X[:, 2] + np.abs(X[:, 0]) + t * tau + rng.normal(size=n)
    return pd.DataFrame(X, columns=COVS).assign(t=t, y=y)


def _models():
    return dict(outcome_model=HistGradientBoostingRegressor(max_iter=30, early_stopping=False),
                propensity_model=HistGradientBoostingClassifier(max_iter=20,
                                                                early_stopping=False),
                cv=2)


def test_blp_equals_econml_linear_dr_learner():
    # LinearDRLearner fits OLS of the same cross-fitted pseudo-outcomes on [1, X]
    # (nuisances on [X, W] = the same columns in the same order); econml's "HC0"
    # includes the n / (n - k) factor, i.e. statsmodels' HC1.
    df = _data(0)
    m = _models()
    eff = causalkit.estimate(df, "t", "y", method="dr_learner", covariates=COVS, **m)
    blp = cate_summary(eff, df, on=["x0", "x1"], cov_type="HC1")
    ref = LinearDRLearner(model_regression=m["outcome_model"],
                          model_propensity=m["propensity_model"], cv=2, random_state=0,
                          min_propensity=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(df.y.to_numpy(), df.t.to_numpy(), X=df[["x0", "x1"]].to_numpy(),
                W=df[["x2"]].to_numpy())
    coef_inf = ref.coef__inference(T=1)
    icpt_inf = ref.intercept__inference(T=1)
    np.testing.assert_allclose(blp.table.loc[["x0", "x1"], "estimate"], ref.coef_(T=1),
                               atol=1e-8)
    np.testing.assert_allclose(blp.table.loc[["x0", "x1"], "std_error"],
                               np.ravel(coef_inf.stderr), rtol=1e-6)
    assert blp.table.loc["intercept", "estimate"] == pytest.approx(float(ref.intercept_(T=1)),
                                                                    abs=1e-8)
    assert blp.table.loc["intercept", "std_error"] == pytest.approx(float(icpt_inf.stderr),
                                                                     rel=1e-6)


def test_blp_recovers_linear_cate_with_valid_intervals():
    df = _data(1, n=4000)
    eff = causalkit.estimate(df, "t", "y", method="dr_learner", covariates=COVS, **_models())
    tab = cate_summary(eff, df, on=COVS).table
    truth = {"intercept": 1.0, "x0": 2.0, "x1": -1.0, "x2": 0.0}
    for term, value in truth.items():
        assert abs(tab.loc[term, "estimate"] - value) < 4 * tab.loc[term, "std_error"], term
    assert tab.loc["x0", "p_value"] < 1e-6 and tab.loc["x2", "p_value"] > 1e-4


def test_other_learners_reuse_a_refitted_dr_learner():
    df = _data(2, n=1000)
    m = _models()
    dr = causalkit.estimate(df, "t", "y", method="dr_learner", covariates=COVS, **m)
    t_eff = causalkit.estimate(df, "t", "y", method="t_learner", covariates=COVS,
                               model=LinearRegression(), n_bootstrap=0)
    a = cate_summary(dr, df, on=["x0"])
    b = cate_summary(t_eff, df, on=["x0"], **m)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert "refitted" in b.signal and "x0" in b.summary()


def test_signal_cate_is_ols_of_fitted_cate_hc2():
    df = _data(3, n=500)
    eff = causalkit.estimate(df, "t", "y", method="t_learner", covariates=COVS,
                             model=LinearRegression(), n_bootstrap=0)
    tab = cate_summary(eff, df, on=["x0", "x2"], signal="cate").table
    ref = sm.OLS(eff.cate, sm.add_constant(df[["x0", "x2"]])).fit(cov_type="HC2")
    np.testing.assert_allclose(tab.estimate, ref.params, atol=1e-10)
    np.testing.assert_allclose(tab.std_error, ref.bse, atol=1e-10)
    np.testing.assert_allclose(tab.p_value, ref.pvalues, atol=1e-10)


def test_errors():
    df = _data(4, n=300)
    eff = causalkit.estimate(df, "t", "y", method="dr_learner", covariates=COVS,
                             outcome_model=LinearRegression(),
                             propensity_model=LogisticRegression(),
                             final_model=LinearRegression(), cv=2)
    with pytest.raises(DataError, match="300 rows"):
        cate_summary(eff, df.iloc[:200], on=["x0"])
    with pytest.raises(ColumnNotFoundError, match="x7"):
        cate_summary(eff, df, on=["x7"])
    with pytest.raises(OptionError, match="signal"):
        cate_summary(eff, df, signal="ipw")
