"""Cinelli & Hazlett (2020) omitted-variable bias: the Darfur example and pysensemakr."""

import math

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import SensitivityNotApplicableError
from causalkit.sensitivity import ovb
from causalkit.sensitivity.ovb_regression import partial_r2, robustness_value

COVARIATES = ["female", "age", "farmer_dar", "herder_dar", "pastvoted", "hhsize_darfur"]


@pytest.fixture(scope="module")
def darfur():
    sensemakr = pytest.importorskip("sensemakr", reason="the Darfur data ship with pysensemakr")
    raw = sensemakr.load_darfur()
    dummies = pd.get_dummies(raw["village"], prefix="v", drop_first=True, dtype=float)
    return raw, pd.concat([raw, dummies], axis=1), COVARIATES + list(dummies.columns)


def test_closed_forms_give_the_papers_numbers():
    # Cinelli & Hazlett (2020), Darfur: t = 4.18445 on 783 df -> partial R2 2.19%,
    # RV 13.88%, RV(alpha=0.05) 7.63%.
    assert round(100 * partial_r2(4.18445, 783), 2) == 2.19
    assert round(100 * robustness_value(4.18445, 783), 2) == 13.88
    assert round(100 * robustness_value(4.18445, 783, alpha=0.05), 2) == 7.63


def test_darfur_published_numbers(darfur):
    _, df, covs = darfur
    eff = causalkit.estimate(df, "directlyharmed", "peacefactor", method="regression_adjustment",
                             covariates=covs, interacted=False, cov_type="nonrobust")
    # Most villages hold one arm only: the overlap check gives their respondents (but those
    # of the reference village, whose dummy is dropped) the limiting score 0 / 1 (it used
    # to fail on the singular logistic fit) and warns.
    share = df.groupby("village").directlyharmed.transform("mean")
    one_arm = ((share == 0) | (share == 1)) & (df.village != sorted(df.village.unique())[0])
    overlap = eff.diagnostics["overlap"]
    assert overlap["n_single_arm"] == int(one_arm.sum())
    assert overlap["status"] == "weak" and overlap["n_outside_bounds"] >= one_arm.sum()
    res = eff.sensitivity("ovb", data=df, benchmark_covariates="female", kd=[1, 2, 3])
    assert round(res.estimate, 3) == 0.097 and round(res.std_error, 3) == 0.023
    assert res.df == 783
    assert round(100 * res.partial_r2, 2) == 2.19
    assert round(100 * res.robustness_value, 2) == 13.88
    assert round(100 * res.robustness_value_alpha, 2) == 7.63
    # The paper's Table / sensemakr print: 1x, 2x, 3x female.
    b = res.bounds.round(4)
    assert list(b["r2dz_x"]) == [0.0092, 0.0183, 0.0275]
    assert list(b["r2yz_dx"]) == [0.1246, 0.2493, 0.3741]
    assert list(b["adjusted_estimate"]) == [0.0752, 0.0529, 0.0304]
    assert "robustness value" in eff.summary()


def test_darfur_equals_pysensemakr(darfur):
    # pysensemakr 0.0.8's model-object path fails under pandas 3 (positional Series
    # indexing), so its statistics are fed the t statistics of statsmodels fits of the
    # outcome and treatment regressions (an independent OLS), through its documented
    # t_statistic/dof and r2 interfaces.
    sensemakr = pytest.importorskip("sensemakr")
    import statsmodels.formula.api as smf

    raw, df, covs = darfur
    rhs = "age + farmer_dar + herder_dar + pastvoted + hhsize_darfur + female + village"
    fit = smf.ols("peacefactor ~ directlyharmed + " + rhs, data=raw).fit()
    treat = smf.ols("directlyharmed ~ " + rhs, data=raw).fit()
    t_d, dof = float(fit.tvalues["directlyharmed"]), int(fit.df_resid)
    r2yxj = float(sensemakr.partial_r2(t_statistic=float(fit.tvalues["female"]), dof=dof))
    r2dxj = float(sensemakr.partial_r2(t_statistic=float(treat.tvalues["female"]),
                                       dof=int(treat.df_resid)))
    ref = sensemakr.ovb_partial_r2_bound(r2dxj_x=r2dxj, r2yxj_dx=r2yxj, kd=[1, 2, 3])
    est, se = float(fit.params["directlyharmed"]), float(fit.bse["directlyharmed"])
    kw = dict(estimate=est, se=se, dof=dof, r2dz_x=ref["r2dz_x"].to_numpy(),
              r2yz_dx=ref["r2yz_dx"].to_numpy())

    eff = causalkit.estimate(df, "directlyharmed", "peacefactor", method="regression_adjustment",
                             covariates=covs, interacted=False, cov_type="nonrobust")
    res = ovb(eff, "female", kd=(1, 2, 3), data=df)
    assert res.df == dof
    assert res.partial_r2 == pytest.approx(
        float(sensemakr.partial_r2(t_statistic=t_d, dof=dof)), rel=1e-8)
    assert res.robustness_value == pytest.approx(
        float(sensemakr.robustness_value(t_statistic=t_d, dof=dof)[0]), rel=1e-8)
    assert res.robustness_value_alpha == pytest.approx(
        float(sensemakr.robustness_value(t_statistic=t_d, dof=dof, alpha=0.05)[0]), rel=1e-8)
    assert res.benchmarks.loc[0, "r2dxj_x"] == pytest.approx(r2dxj, rel=1e-8)
    assert res.benchmarks.loc[0, "r2yxj_dx"] == pytest.approx(r2yxj, rel=1e-8)
    np.testing.assert_allclose(res.bounds["r2dz_x"], ref["r2dz_x"], rtol=1e-8)
    np.testing.assert_allclose(res.bounds["r2yz_dx"], ref["r2yz_dx"], rtol=1e-8)
    np.testing.assert_allclose(res.bounds["adjusted_estimate"],
                               sensemakr.adjusted_estimate(**kw), rtol=1e-8)
    np.testing.assert_allclose(res.bounds["adjusted_se"],
                               sensemakr.adjusted_se(**{k: v for k, v in kw.items()
                                                        if k != "estimate"}), rtol=1e-8)
    np.testing.assert_allclose(res.bounds["adjusted_t"], sensemakr.adjusted_t(**kw), rtol=1e-8)


def _simulated(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (0.8 * x1 + rng.normal(size=n) > 0).astype(int)
    return pd.DataFrame({"t": t, "x1": x1, "x2": x2,
                         "y": 0.4 * t + x1 + 0.5 * x2 + rng.normal(size=n)})


def test_brute_force_partial_r2_and_group_benchmark():
    df = _simulated()
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["x1", "x2"], interacted=False)
    res = ovb(eff, {"both": ["x1", "x2"]}, kd=1, data=df)

    def resid(v, cols):
        X = np.column_stack([np.ones(len(df))] + [df[c] for c in cols])
        return v - X @ np.linalg.lstsq(X, v, rcond=None)[0]

    # Partial R2 of the treatment with the outcome by FWL residuals.
    ry, rt = resid(df.y.to_numpy(), ["x1", "x2"]), resid(df.t.to_numpy(float), ["x1", "x2"])
    assert res.partial_r2 == pytest.approx(np.corrcoef(ry, rt)[0, 1] ** 2, rel=1e-10)
    # Group partial R2 of (x1, x2) with the treatment: 1 - RSS(full) / RSS(without them).
    full = resid(df.t.to_numpy(float), ["x1", "x2"])
    r2 = 1 - (full @ full) / ((df.t - df.t.mean()) ** 2).sum()
    assert res.benchmarks.loc[0, "r2dxj_x"] == pytest.approx(r2, rel=1e-10)


def test_the_omitted_confounder_is_within_the_bound_it_implies():
    # Omit x1 from the regression; the adjusted estimate at x1's true partial R2 recovers
    # the estimate of the regression that includes it (the OVB formula is exact in-sample).
    df = _simulated(seed=2)
    short = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                               covariates=["x2"], interacted=False)
    long = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                              covariates=["x1", "x2"], interacted=False)
    full = ovb(long, "x1", kd=1, data=df)
    res = ovb(short, data=df)

    def resid(v, cols):
        X = np.column_stack([np.ones(len(df))] + [df[c] for c in cols])
        return v - X @ np.linalg.lstsq(X, v, rcond=None)[0]

    rx = resid(df.x1.to_numpy(), ["x2"])
    rt = resid(df.t.to_numpy(float), ["x2"])
    ryd = resid(resid(df.y.to_numpy(), ["x2"]), [])
    r2dz = np.corrcoef(rx, rt)[0, 1] ** 2
    rx_d = rx - rt * (rx @ rt) / (rt @ rt)
    ry_d = ryd - rt * (ryd @ rt) / (rt @ rt)
    r2yz = np.corrcoef(rx_d, ry_d)[0, 1] ** 2
    assert float(res.adjusted_estimate(r2dz, r2yz)) == pytest.approx(long.estimate, rel=1e-8)
    assert full.robustness_value > 0


def test_not_applicable_names_what_applies():
    df = _simulated()
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"])
    with pytest.raises(SensitivityNotApplicableError, match="regression_adjustment"):
        ovb(eff, data=df)
    lin = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x1"])
    with pytest.raises(SensitivityNotApplicableError, match="interacted=False"):
        lin.sensitivity("ovb", data=df)
    add = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x1"],
                             interacted=False)
    with pytest.raises(causalkit.CausalKitError, match="same data"):
        ovb(add, data=df.assign(y=df.y + df.t))
    with pytest.raises(causalkit.CausalKitError, match="not among"):
        ovb(add, "x2", data=df)


def test_plots_draw(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    df = _simulated()
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["x1", "x2"], interacted=False)
    res = ovb(eff, "x2", kd=(1, 2), data=df)
    ax = res.plot()
    assert len(ax.collections) > 0 and "treatment" in ax.get_xlabel()
    assert len(res.plot(kind="extreme").lines) >= 3
    res.plot(sensitivity_of="t").figure.savefig(tmp_path / "c.png")
