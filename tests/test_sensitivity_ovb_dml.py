"""Chernozhukov et al. (2022) bounds for AIPW, against DoubleML on the same nuisances."""

import math

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import SensitivityNotApplicableError
from causalkit.sensitivity import ovb_dml


def _data(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.6 * x1 - 0.4 * x2)))).astype(int)
    return pd.DataFrame({"t": t, "x1": x1, "x2": x2,
                         "y": 1.0 * t + x1 + 0.5 * x2 + rng.normal(size=n)})


def test_closed_forms_of_the_bounds():
    df = _data()
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"])
    res = ovb_dml(eff, cf_y=0.04, cf_d=0.03, data=df)
    nu = eff.diagnostics["nuisance"]
    e, mu1, mu0 = nu.e.to_numpy(), nu.mu1.to_numpy(), nu.mu0.to_numpy()
    t, y = df.t.to_numpy(float), df.y.to_numpy()
    sigma2 = np.mean((y - t * mu1 - (1 - t) * mu0) ** 2)
    rr = t / e - (1 - t) / (1 - e)
    nu2 = np.mean(2 * (1 / e + 1 / (1 - e)) - rr**2)
    bias = math.sqrt(0.04 * 0.03 / 0.97) * math.sqrt(sigma2 * nu2)
    assert res.theta_lower == pytest.approx(eff.estimate - bias, rel=1e-12)
    assert res.theta_upper == pytest.approx(eff.estimate + bias, rel=1e-12)
    # RV: the cf_y = cf_d = v with sqrt(v^2 / (1 - v)) S = |theta|, in closed form.
    a2 = (eff.estimate / math.sqrt(sigma2 * nu2)) ** 2
    assert res.robustness_value == pytest.approx((-a2 + math.sqrt(a2**2 + 4 * a2)) / 2, rel=1e-8)
    assert 0 < res.robustness_value_alpha < res.robustness_value
    eff.sensitivity("ovb_dml", data=df)
    assert "DML robustness value" in eff.summary()


def test_equals_doubleml_sensitivity_analysis_on_the_same_nuisances_and_folds():
    dml = pytest.importorskip("doubleml")
    from sklearn.linear_model import LinearRegression, LogisticRegression

    df = _data(seed=3)
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"],
                             random_state=11)
    nu = eff.diagnostics["nuisance"]
    data = dml.DoubleMLData(df, y_col="y", d_cols="t", x_cols=["x1", "x2"])
    irm = dml.DoubleMLIRM(data, ml_g=LinearRegression(), ml_m=LogisticRegression(),
                          n_folds=5, score="ATE", ps_processor_config=dml.utils.PSProcessorConfig(
                              clipping_threshold=1e-12))
    irm.fit(external_predictions={"t": {"ml_g0": nu.mu0.to_numpy()[:, None],
                                        "ml_g1": nu.mu1.to_numpy()[:, None],
                                        "ml_m": nu.e.to_numpy()[:, None]}})
    assert float(irm.coef[0]) == pytest.approx(eff.estimate, rel=1e-10)
    irm.sensitivity_analysis(cf_y=0.03, cf_d=0.05, rho=0.8, level=0.95)
    ref = irm.sensitivity_params
    res = ovb_dml(eff, cf_y=0.03, cf_d=0.05, rho=0.8, alpha=0.05, data=df)
    assert res.theta_lower == pytest.approx(float(ref["theta"]["lower"][0]), rel=1e-10)
    assert res.theta_upper == pytest.approx(float(ref["theta"]["upper"][0]), rel=1e-10)
    assert res.robustness_value == pytest.approx(float(ref["rv"][0]), abs=1e-5)
    # DoubleML 0.11 scales the IRM score by mean(psi_a) = -1, so its "scaled_psi" is minus
    # the influence function, and psi_lower = scaled_psi - c * psi_max_bias is minus the
    # influence function of the *upper* bound: its bounds' standard errors are ours swapped.
    # Ours follow the delta method (IF of theta - c S is IF_theta - c IF_S); with the swap
    # the confidence limits agree to rounding.
    from scipy import stats

    z = stats.norm.ppf(0.95)
    assert res.theta_lower - z * res.se_upper == pytest.approx(float(ref["ci"]["lower"][0]),
                                                                rel=1e-8)
    assert res.theta_upper + z * res.se_lower == pytest.approx(float(ref["ci"]["upper"][0]),
                                                                rel=1e-8)


def test_benchmark_by_leaving_out_a_covariate_and_bad_input():
    df = _data(seed=4)
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"],
                             random_state=5)
    res = ovb_dml(eff, data=df, benchmark_covariates="x1")
    short = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x2"], random_state=5)
    row = res.benchmarks.iloc[0]
    assert row["delta_theta"] == pytest.approx(short.estimate - eff.estimate, rel=1e-10)
    assert 0 < row["cf_y"] <= 1 and 0 <= row["cf_d"] <= 1 and -1 <= row["rho"] <= 1
    ra = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x1"])
    with pytest.raises(SensitivityNotApplicableError, match="aipw"):
        ovb_dml(ra, data=df)
    with pytest.raises(causalkit.CausalKitError, match="cf_y"):
        ovb_dml(eff, cf_y=1.5, data=df)
