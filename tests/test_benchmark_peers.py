"""Peer adapters give the peer's own numbers on the same data (checked against direct calls)."""

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.cate._metalearners import default_classifier, default_regressor


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(4)
    n = 400
    x = rng.normal(size=(n, 3))
    t = (rng.random(n) < 1 / (1 + np.exp(-x[:, 0]))).astype(int)
    y = x[:, 0] + x[:, 1] + t * (1.0 + 0.5 * x[:, 2]) + rng.normal(size=n)
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "t": t, "y": y})


COVS = ["x1", "x2", "x3"]


def test_econml_linear_dml_is_econmls_own_fit(data):
    from econml.dml import LinearDML

    eff = causalkit.estimate(data, "t", "y", method="econml.LinearDML", covariates=COVS,
                             random_state=7)
    ref = LinearDML(model_y=default_regressor(), model_t=default_classifier(),
                    discrete_treatment=True, cv=5, random_state=7)
    X = data[COVS].to_numpy()
    ref.fit(data["y"].to_numpy(), data["t"].to_numpy(), X=X)
    inf = ref.ate_inference(X=X)
    assert eff.estimate == pytest.approx(inf.mean_point, rel=1e-10)
    assert eff.std_error == pytest.approx(inf.stderr_mean, rel=1e-10)
    assert eff.ci == pytest.approx(tuple(inf.conf_int_mean(alpha=0.05)), rel=1e-10)
    assert "econml LinearDML's own" in eff.inference
    assert np.allclose(eff.predict_cate(data.head(5)), ref.effect(X[:5]))


def test_doubleml_irm_is_doublemls_own_fit(data):
    dml = pytest.importorskip("doubleml", reason="doubleml not installed (causalkit[peers])")
    from sklearn.model_selection import KFold

    eff = causalkit.estimate(data, "t", "y", method="doubleml.DoubleMLIRM", covariates=COVS,
                             random_state=3)
    obj = dml.DoubleMLData(data, y_col="y", d_cols="t", x_cols=COVS)
    ref = dml.DoubleMLIRM(obj, ml_g=default_regressor(), ml_m=default_classifier(), n_folds=5,
                          draw_sample_splitting=False)
    ref.set_sample_splitting(list(KFold(5, shuffle=True, random_state=3).split(data)))
    ref.fit()
    assert eff.estimate == pytest.approx(ref.coef[0], rel=1e-10)
    assert eff.std_error == pytest.approx(ref.se[0], rel=1e-10)
    assert "DoubleML" in eff.inference


def test_dowhy_linear_regression_is_dowhys_own_fit(data):
    dowhy = pytest.importorskip("dowhy", reason="dowhy not installed (causalkit[peers])")
    eff = causalkit.estimate(data, "t", "y", method="dowhy.backdoor.linear_regression",
                             covariates=COVS)
    import statsmodels.api as sm
    ols = sm.OLS(data["y"], sm.add_constant(data[["t"] + COVS])).fit()
    assert eff.estimate == pytest.approx(ols.params["t"], rel=1e-8)   # DoWhy's OLS is OLS
    assert "DoWhy" in eff.inference and dowhy is not None


def test_causalml_t_regressor_is_causalmls_own_fit(data):
    meta = pytest.importorskip("causalml.inference.meta",
                               reason="causalml not installed (causalkit[peers])")
    eff = causalkit.estimate(data, "t", "y", method="causalml.BaseTRegressor", covariates=COVS)
    ref = meta.BaseTRegressor(learner=default_regressor(), ate_alpha=0.05)
    X, t, y = data[COVS].to_numpy(), data["t"].to_numpy(), data["y"].to_numpy()
    ref.fit(X, treatment=t, y=y)
    ate, low, high = ref.estimate_ate(X, treatment=t, y=y)
    assert eff.estimate == pytest.approx(float(np.ravel(ate)[0]), rel=1e-10)
    assert eff.ci == pytest.approx((float(np.ravel(low)[0]), float(np.ravel(high)[0])), rel=1e-10)


def test_peers_are_registered_in_a_fresh_interpreter():
    """The adapters family is a built-in family: a new process lists the peers (a merge once lost it)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c",
                          "import causalkit; print(' '.join(causalkit.registry.names()))"],
                         capture_output=True, text=True, check=True).stdout.split()
    for name in ("econml.LinearDML", "econml.CausalForestDML", "doubleml.DoubleMLIRM",
                 "dowhy.backdoor.linear_regression"):
        assert name in out
