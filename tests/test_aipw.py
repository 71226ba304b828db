"""AIPW against an independent numpy implementation with the same nuisance models.

Same folds (``KFold(5, shuffle=True, random_state)``), same scikit-learn models
fitted in the test, then the AIPW formulas written out in numpy: the point
estimates and influence-function standard errors must agree to 1e-6.
"""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold

import causalkit
from causalkit.errors import OptionError


def _data(seed=0, n=800):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.uniform(-1, 1, size=n)
    t = (rng.random(n) < expit(-0.3 + 0.8 * x1 - 0.6 * x2)).astype(int)
    y = 1 + 2 * t + x1 + x2 + 0.5 * t * x1 + rng.normal(size=n)
    return pd.DataFrame({"t": t, "y": y, "x1": x1, "x2": x2})


def _reference(df, splits, ps_model, out_model, estimand):
    X, t, y = df[["x1", "x2"]].to_numpy(), df.t.to_numpy(), df.y.to_numpy()
    n = len(y)
    e, m1, m0 = np.zeros(n), np.zeros(n), np.zeros(n)
    for train, test in splits:
        e[test] = ps_model().fit(X[train], t[train]).predict_proba(X[test])[:, 1]
        tr1, tr0 = train[t[train] == 1], train[t[train] == 0]
        m1[test] = out_model().fit(X[tr1], y[tr1]).predict(X[test])
        m0[test] = out_model().fit(X[tr0], y[tr0]).predict(X[test])
    if estimand == "ATE":
        phi = m1 - m0 + t * (y - m1) / e - (1 - t) * (y - m0) / (1 - e)
        tau = phi.mean()
        infl = phi - tau
    else:
        p = t.mean()
        num = t * (y - m0) - (1 - t) * e / (1 - e) * (y - m0)
        tau = num.sum() / t.sum()
        infl = (num - t * tau) / p
    return tau, np.sqrt(np.mean(infl**2) / n)


def _logreg():
    return LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000)


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_cross_fitted_estimate_matches_numpy(estimand):
    df = _data(1)
    splits = list(KFold(5, shuffle=True, random_state=3).split(df))
    ref, ref_se = _reference(df, splits, _logreg, LinearRegression, estimand)
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"],
                             estimand=estimand, random_state=3, propensity_model=_logreg())
    assert eff.estimate == pytest.approx(ref, abs=1e-6)
    assert eff.std_error == pytest.approx(ref_se, abs=1e-6)
    assert eff.diagnostics["n_folds"] == 5
    assert "5-fold cross-fitted" in eff.inference


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_default_models_match_statsmodels_full_sample(estimand):
    """cross_fitting=False: statsmodels Logit and OLS per arm, independent of sklearn."""
    df = _data(2)
    X = sm.add_constant(df[["x1", "x2"]].to_numpy())
    t, y = df.t.to_numpy(), df.y.to_numpy()
    e = sm.Logit(t, X).fit(disp=0, tol=1e-12).predict(X)
    m1 = sm.OLS(y[t == 1], X[t == 1]).fit().predict(X)
    m0 = sm.OLS(y[t == 0], X[t == 0]).fit().predict(X)
    if estimand == "ATE":
        ref = np.mean(m1 - m0 + t * (y - m1) / e - (1 - t) * (y - m0) / (1 - e))
    else:
        ref = np.sum(t * (y - m0) - (1 - t) * e / (1 - e) * (y - m0)) / t.sum()
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"],
                             estimand=estimand, cross_fitting=False)
    assert eff.estimate == pytest.approx(ref, abs=1e-6)


def test_any_sklearn_models_work_and_are_reported():
    df = _data(3, n=1500)
    eff = causalkit.estimate(
        df, "t", "y", method="aipw", covariates=["x1", "x2"], random_state=0,
        propensity_model=RandomForestClassifier(n_estimators=60, min_samples_leaf=25,
                                                random_state=0),
        outcome_model=GradientBoostingRegressor(n_estimators=60, max_depth=2, random_state=0),
        clip=0.02)
    assert abs(eff.estimate - 2.0) < 4 * eff.std_error
    assert "RandomForestClassifier" in eff.diagnostics["propensity_model"]
    assert "GradientBoostingRegressor" in eff.diagnostics["outcome_model"]
    assert eff.diagnostics["clip"] == 0.02


def test_random_state_makes_folds_reproducible():
    df = _data(4)
    a = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"], random_state=9)
    b = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"], random_state=9)
    assert a.estimate == b.estimate


def test_trimming_drops_units_and_is_recorded():
    df = _data(5)
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"],
                             random_state=0, trim=0.15)
    assert eff.diagnostics["n_trimmed"] > 0
    assert eff.n_obs == len(df) - eff.diagnostics["n_trimmed"]


def test_bad_options():
    df = _data(6)
    with pytest.raises(OptionError):
        causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1"], n_folds=1)
    with pytest.raises(OptionError):
        causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1"], estimand="ATC")
    with pytest.raises(OptionError):
        causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1"], trim=0.7)
