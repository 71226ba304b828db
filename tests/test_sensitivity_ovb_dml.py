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


# ---------------------------------------------------------------- ATT, dr_learner, benchmarks
def _heterogeneous(n=1000, seed=3):
    df = _data(n, seed)
    df["y"] = df["y"] + 0.7 * df["x1"] * df["t"]             # ATT != ATE
    return df


def _doubleml_irm(df, nu, score, covariates=("x1", "x2")):
    """DoubleMLIRM fitted on our cross-fitted nuisances (no clipping of its own)."""
    import doubleml as dml
    from sklearn.linear_model import LinearRegression, LogisticRegression

    data = dml.DoubleMLData(df, y_col="y", d_cols="t", x_cols=list(covariates))
    irm = dml.DoubleMLIRM(data, ml_g=LinearRegression(), ml_m=LogisticRegression(),
                          n_folds=5, score=score, ps_processor_config=dml.utils.PSProcessorConfig(
                              clipping_threshold=1e-12))
    irm.fit(external_predictions=_external(nu))
    return irm


def _external(nu):
    return {"t": {"ml_g0": nu.mu0.to_numpy()[:, None], "ml_g1": nu.mu1.to_numpy()[:, None],
                  "ml_m": nu.e.to_numpy()[:, None]}}


def _doubleml_convention(eff, df, estimand):
    """Our elements with the influence functions of sigma^2 and nu^2 negated.

    DoubleML 0.11 adds c * psi_max_bias to its scaled score, which is minus the influence
    function of theta (score / mean(psi_a), mean(psi_a) = -1): its lower bound's standard
    error is that of theta - c S with the bias term's sign flipped.  Negating psi_sigma2 and
    psi_nu2 reproduces that convention exactly, so the same code gives DoubleML's CI and
    RV_a, and our own (delta-method) limits are checked against econml below.
    """
    import dataclasses

    from causalkit.sensitivity.ovb_dml import riesz_elements

    nu = eff.diagnostics["nuisance"]
    el = riesz_elements(df.y.to_numpy(), df.t.to_numpy(), nu.e.to_numpy(), nu.mu1.to_numpy(),
                        nu.mu0.to_numpy(), estimand)
    return dataclasses.replace(el, psi_sigma2=-el.psi_sigma2, psi_nu2=-el.psi_nu2)


def _assert_equals_doubleml(eff, df, score, estimand, cf_y=0.03, cf_d=0.05, rho=0.8):
    from causalkit.sensitivity.ovb_dml import sensitivity_from_elements

    irm = _doubleml_irm(df, eff.diagnostics["nuisance"], score)
    assert float(irm.coef[0]) == pytest.approx(eff.estimate, rel=1e-10)
    irm.sensitivity_analysis(cf_y=cf_y, cf_d=cf_d, rho=rho, level=0.95)
    ref = irm.sensitivity_params
    res = ovb_dml(eff, cf_y=cf_y, cf_d=cf_d, rho=rho, alpha=0.05, data=df)
    assert res.estimand == estimand
    assert res.sigma2 == pytest.approx(float(irm.sensitivity_elements["sigma2"].ravel()[0]),
                                       rel=1e-10)
    assert res.nu2 == pytest.approx(float(irm.sensitivity_elements["nu2"].ravel()[0]), rel=1e-10)
    assert res.theta_lower == pytest.approx(float(ref["theta"]["lower"][0]), rel=1e-10)
    assert res.theta_upper == pytest.approx(float(ref["theta"]["upper"][0]), rel=1e-10)
    # DoubleML's RV comes from minimize_scalar(bounded) with its default xatol 1e-5.
    assert res.robustness_value == pytest.approx(float(ref["rv"][0]), abs=2e-5)
    # Same standard errors, assigned to the other side (see _doubleml_convention) ...
    assert res.se_lower == pytest.approx(float(ref["se"]["upper"][0]), rel=1e-10)
    assert res.se_upper == pytest.approx(float(ref["se"]["lower"][0]), rel=1e-10)
    # ... and in DoubleML's convention our code gives its confidence limits and RV_a.
    theirs = sensitivity_from_elements(_doubleml_convention(eff, df, estimand), cf_y, cf_d, rho,
                                       0.05)
    assert theirs.ci_lower == pytest.approx(float(ref["ci"]["lower"][0]), rel=1e-10)
    assert theirs.ci_upper == pytest.approx(float(ref["ci"]["upper"][0]), rel=1e-10)
    assert theirs.robustness_value_alpha == pytest.approx(float(ref["rva"][0]), abs=2e-5)
    return res, irm


def test_att_equals_doubleml_atte_on_the_same_nuisances():
    pytest.importorskip("doubleml")
    df = _heterogeneous()
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"],
                             estimand="ATT", random_state=11)
    res, _ = _assert_equals_doubleml(eff, df, "ATTE", "ATT")
    assert "DML robustness value (ATT)" in res.summary_line()


def test_att_bounds_in_closed_form():
    df = _heterogeneous(seed=5)
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"],
                             estimand="ATT")
    nu = eff.diagnostics["nuisance"]
    e, mu1, mu0 = nu.e.to_numpy(), nu.mu1.to_numpy(), nu.mu0.to_numpy()
    t, y = df.t.to_numpy(float), df.y.to_numpy()
    p = t.mean()
    # Riesz representer of the ATT and m(W, alpha) = alpha(1, X) - alpha(0, X) weighted by t/p
    alpha_1, alpha_0 = 1 / p, -e / ((1 - e) * p)
    rr = np.where(t == 1, alpha_1, alpha_0)
    nu2 = np.mean(2 * t / p * (alpha_1 - alpha_0) - rr**2)
    sigma2 = np.mean((y - np.where(t == 1, mu1, mu0)) ** 2)
    res = ovb_dml(eff, cf_y=0.02, cf_d=0.04, data=df)
    bias = math.sqrt(0.02 * 0.04 / 0.96 * sigma2 * nu2)
    assert res.theta_lower == pytest.approx(eff.estimate - bias, rel=1e-12)
    assert res.theta_upper == pytest.approx(eff.estimate + bias, rel=1e-12)


def _dr_learner(df, covariates=("x1", "x2")):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    return causalkit.estimate(df, "t", "y", method="dr_learner", covariates=list(covariates),
                              outcome_model=LinearRegression(),
                              propensity_model=LogisticRegression(),
                              final_model=LinearRegression(), random_state=2)


def test_dr_learner_equals_doubleml_and_econml():
    pytest.importorskip("doubleml")
    df = _heterogeneous(seed=7)
    eff = _dr_learner(df)
    res, _ = _assert_equals_doubleml(eff, df, "ATE", "ATE")
    # econml's own sensitivity analysis of the fitted DRLearner (its nuisances, its
    # delta-method limits, two-sided alpha): bounds, confidence limits and RV_a.
    est = eff.diagnostics["model"]
    lo, hi = est.sensitivity_interval(T=1, c_y=0.03, c_t=0.05, rho=0.8, interval_type="theta")
    assert (res.theta_lower, res.theta_upper) == pytest.approx((lo, hi), rel=1e-10)
    lo, hi = est.sensitivity_interval(T=1, alpha=0.10, c_y=0.03, c_t=0.05, rho=0.8,
                                      interval_type="ci")
    assert (res.ci_lower, res.ci_upper) == pytest.approx((lo, hi), rel=1e-10)
    full = ovb_dml(eff, cf_y=0.03, cf_d=0.05, rho=1.0, alpha=0.05, data=df)
    assert full.robustness_value_alpha == pytest.approx(
        est.robustness_value(T=1, alpha=0.10, interval_type="ci"), abs=1e-6)
    assert full.robustness_value == pytest.approx(
        est.robustness_value(T=1, interval_type="theta"), abs=1e-6)


@pytest.mark.parametrize("method, score", [("aipw_att", "ATTE"), ("dr_learner", "ATE")])
def test_benchmarks_equal_doubleml_sensitivity_benchmark(method, score):
    pytest.importorskip("doubleml")
    df = _heterogeneous(seed=9)
    if method == "dr_learner":
        eff, short = _dr_learner(df), _dr_learner(df, ["x2"])
    else:
        kw = dict(method="aipw", estimand="ATT", random_state=4)
        eff = causalkit.estimate(df, "t", "y", covariates=["x1", "x2"], **kw)
        short = causalkit.estimate(df, "t", "y", covariates=["x2"], **kw)
    res = ovb_dml(eff, data=df, benchmark_covariates=["x1"])
    irm = _doubleml_irm(df, eff.diagnostics["nuisance"], score)
    ref = irm.sensitivity_benchmark(["x1"], fit_args={
        "external_predictions": _external(short.diagnostics["nuisance"])})
    row = res.benchmarks.iloc[0]
    for col in ("cf_y", "cf_d", "rho", "delta_theta"):
        assert row[col] == pytest.approx(float(ref[col].iloc[0]), rel=1e-9, abs=1e-12), col


def test_learners_without_a_doubly_robust_score_are_refused():
    from sklearn.linear_model import LinearRegression

    df = _data(n=300, seed=1)
    eff = causalkit.estimate(df, "t", "y", method="t_learner", covariates=["x1", "x2"],
                             n_bootstrap=0, model=LinearRegression())
    with pytest.raises(SensitivityNotApplicableError, match="dr_learner"):
        eff.sensitivity("ovb_dml", data=df)
    forest = causalkit.Effect.from_estimate(method="causal_forest", estimand="ATE",
                                            estimate=1.0, std_error=0.1)
    with pytest.raises(SensitivityNotApplicableError, match="partially linear"):
        ovb_dml(forest, data=df)
    one = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1"])
    with pytest.raises(causalkit.CausalKitError, match="every covariate"):
        ovb_dml(one, data=df, benchmark_covariates="x1")


def test_dml_contour_plot_draws_the_bounds():
    import matplotlib

    matplotlib.use("Agg")
    df = _data(seed=4)
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x1", "x2"])
    res = ovb_dml(eff, cf_y=0.05, cf_d=0.05, data=df, benchmark_covariates="x2")
    ax = res.plot(n_grid=15)
    assert ax.get_xlabel().startswith("cf_d") and len(ax.collections) >= 1
    assert res.plot(value="ci", n_grid=10).get_ylabel().startswith("cf_y")
    with pytest.raises(causalkit.CausalKitError, match="value"):
        res.plot(value="t")


def test_repeated_cross_fitting_equals_doubleml_with_n_rep():
    dml = pytest.importorskip("doubleml")
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit.sensitivity.ovb_dml import sensitivity_from_elements

    df = _heterogeneous(n=600, seed=12)
    kw = dict(method="aipw", estimand="ATT", n_rep=3, random_state=1)
    eff = causalkit.estimate(df, "t", "y", covariates=["x1", "x2"], **kw)
    short = causalkit.estimate(df, "t", "y", covariates=["x2"], **kw)

    def stacked(e):
        splits = e.diagnostics["nuisance_splits"]
        return {"t": {name: np.column_stack([f[col].to_numpy() for f in splits])
                      for name, col in (("ml_g0", "mu0"), ("ml_g1", "mu1"), ("ml_m", "e"))}}

    data = dml.DoubleMLData(df, y_col="y", d_cols="t", x_cols=["x1", "x2"])
    irm = dml.DoubleMLIRM(data, ml_g=LinearRegression(), ml_m=LogisticRegression(),
                          n_folds=5, n_rep=3, score="ATTE",
                          ps_processor_config=dml.utils.PSProcessorConfig(
                              clipping_threshold=1e-12))
    irm.fit(external_predictions=stacked(eff))
    assert float(irm.coef[0]) == pytest.approx(eff.estimate, rel=1e-10)
    irm.sensitivity_analysis(cf_y=0.04, cf_d=0.03, rho=0.9)
    ref = irm.sensitivity_params
    res = ovb_dml(eff, cf_y=0.04, cf_d=0.03, rho=0.9, data=df, benchmark_covariates="x1")
    assert res.theta_lower == pytest.approx(float(ref["theta"]["lower"][0]), rel=1e-10)
    assert res.theta_upper == pytest.approx(float(ref["theta"]["upper"][0]), rel=1e-10)
    assert res.robustness_value == pytest.approx(float(ref["rv"][0]), abs=2e-5)
    # DoubleML's confidence limits and RV_a: the median over splits, in its convention
    flipped = [_doubleml_convention(
        type("E", (), {"diagnostics": {"nuisance": f}})(), df, "ATT")
        for f in eff.diagnostics["nuisance_splits"]]
    theirs = sensitivity_from_elements(flipped, 0.04, 0.03, 0.9, 0.05)
    assert theirs.ci_lower == pytest.approx(float(ref["ci"]["lower"][0]), rel=1e-10)
    assert theirs.ci_upper == pytest.approx(float(ref["ci"]["upper"][0]), rel=1e-10)
    assert theirs.robustness_value_alpha == pytest.approx(float(ref["rva"][0]), abs=2e-5)
    bench = irm.sensitivity_benchmark(["x1"], fit_args={"external_predictions": stacked(short)})
    row = res.benchmarks.iloc[0]
    for col in ("cf_y", "cf_d", "rho", "delta_theta"):
        assert row[col] == pytest.approx(float(bench[col].iloc[0]), rel=1e-9, abs=1e-12), col
