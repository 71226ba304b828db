"""Bad inputs to matching, IPW and AIPW: clear CausalKitErrors or named warnings."""

import warnings

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import ConstantColumnError, EmptyArmError, OptionError, OverlapError

METHODS = ["propensity_matching", "ipw", "aipw"]


def _frame(seed=0, n=300):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (rng.random(n) < 0.5).astype(int)
    return pd.DataFrame({"t": t, "y": x1 + t + rng.normal(size=n), "x1": x1, "x2": x2})


@pytest.mark.parametrize("method", METHODS)
def test_no_overlap_in_the_score_raises(method):
    df = _frame(1)
    df["t"] = (df.x1 + df.x2 > 0).astype(int)   # separated by a combination, not one column
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(OverlapError, match="no overlap"):
            causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "x2"])


@pytest.mark.parametrize("method", METHODS)
def test_separating_covariate_is_named(method):
    df = _frame(2)
    df["t"] = (df.x2 > 0.1).astype(int)
    with pytest.raises(OverlapError, match="covariate 'x2' perfectly separates"):
        causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "x2"])


@pytest.mark.parametrize("method", METHODS)
def test_constant_treatment_raises(method):
    df = _frame(3).assign(t=1)
    with pytest.raises(EmptyArmError, match="'t'"):
        causalkit.estimate(df, "t", "y", method=method, covariates=["x1"])


@pytest.mark.parametrize("method", METHODS)
def test_constant_covariate_is_named(method):
    df = _frame(4).assign(c=3.0)
    with pytest.raises(ConstantColumnError, match="'c'"):
        causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "c"])


def test_quasi_separating_covariate_warns_with_its_name():
    df = _frame(5)
    df["d"] = np.where(df.t == 1, (np.arange(len(df)) % 2), 0).astype(float)  # d=1 -> treated
    with pytest.warns(UserWarning, match="covariate 'd' quasi-separates"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "d"])
            except causalkit.CausalKitError:
                pass  # refusing afterwards is also acceptable; the warning must name it


def test_estimates_are_never_silently_nan():
    df = _frame(6)
    for method in METHODS:
        seed = {"random_state": 0} if "random_state" in causalkit.get(method).option_names \
            else {}
        eff = causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "x2"], **seed)
        assert np.isfinite(eff.estimate) and np.isfinite(eff.std_error)
        assert np.isfinite(eff.ci_low) and np.isfinite(eff.ci_high)


def _no_confounding(seed=3, n=400):
    rng = np.random.default_rng(seed)
    t = (rng.random(n) < 0.3).astype(int)
    return pd.DataFrame({"t": t, "y": 1.5 * t + rng.normal(size=n) * (1 + t)})


def test_ipw_with_the_empty_adjustment_set_is_the_difference_in_means():
    """No covariates (e.g. a DAG whose adjustment set is empty): the score is constant,
    which is complete overlap, not none; Hajek IPW is then the difference in means with
    the (population-variance) Neyman SE, closed forms computed here."""
    df = _no_confounding()
    y1, y0 = df.y[df.t == 1].to_numpy(), df.y[df.t == 0].to_numpy()
    for kw in ({"covariates": []}, {"dag": "dag { t -> y }"}):
        eff = causalkit.estimate(df, "t", "y", method="ipw", **kw)
        assert eff.estimate == pytest.approx(y1.mean() - y0.mean(), abs=1e-12)
        assert eff.std_error == pytest.approx(np.sqrt(y1.var() / len(y1) + y0.var() / len(y0)),
                                              rel=1e-12)


def test_aipw_with_no_covariates_uses_constant_nuisance_models():
    """With no covariates every nuisance model predicts its training fold's arm mean or
    treated share; the cross-fitted AIPW estimate and SE equal that computed by hand."""
    from sklearn.model_selection import KFold

    df = _no_confounding()
    t, y, n = df.t.to_numpy(), df.y.to_numpy(), len(df)
    phi = np.empty(n)
    for train, test in KFold(5, shuffle=True, random_state=0).split(np.zeros(n)):
        p = t[train].mean()
        m1, m0 = y[train][t[train] == 1].mean(), y[train][t[train] == 0].mean()
        phi[test] = (m1 - m0 + t[test] * (y[test] - m1) / p
                     - (1 - t[test]) * (y[test] - m0) / (1 - p))
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=[], random_state=0)
    assert eff.estimate == pytest.approx(phi.mean(), abs=1e-12)
    assert eff.std_error == pytest.approx(np.sqrt(((phi - phi.mean()) ** 2).sum()) / n,
                                          rel=1e-10)


def test_matching_without_covariates_is_refused():
    from causalkit.errors import RoleError

    with pytest.raises(RoleError, match="at least one covariate"):
        causalkit.estimate(_no_confounding(), "t", "y", method="propensity_matching",
                           covariates=[])


def test_aipw_refuses_a_fold_whose_logistic_fit_separates():
    """Six rows, leave-one-out folds: the fold without the second unit is perfectly
    separated by x, its logistic MLE runs off (standardized coefficient ~140 after 50
    Newton steps) and the left-out treated unit's score is ~1e-62.  Such fits used to be
    accepted: with random five-fold splits the estimate came out near 8e60, with only a
    warning."""
    x = [0.125730, -0.132105, 0.640423, 0.104900, -0.535669, 0.361595]
    df = pd.DataFrame({"x": x, "t": [0, 1, 1, 0, 0, 1],
                       "y": [-1.757, 0.188, 2.976, -0.452, 0.252, 1.358]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(OverlapError, match="in a cross-fitting training fold.*no overlap"):
            causalkit.estimate(df, "t", "y", method="aipw", covariates=["x"], n_folds=6,
                               random_state=0)


@pytest.mark.parametrize("method, option", [("ipw", "propensity_model"),
                                            ("aipw", "propensity_model"),
                                            ("aipw", "outcome_model")])
def test_a_model_that_is_not_an_estimator_is_an_option_error(method, option):
    # it was scikit-learn's raw TypeError from clone()
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=200), "t": rng.integers(0, 2, 200)})
    df["y"] = df.x + df.t + rng.normal(size=200)
    for bad in ("foo", 3):
        with pytest.raises(OptionError, match=option):
            causalkit.estimate(df, "t", "y", method=method, covariates=["x"], **{option: bad})
