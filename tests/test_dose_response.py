"""Continuous treatments: dose-response curves (Kennedy et al. 2017; Hirano & Imbens 2004)
and the marginal structural model of What If Program 12.4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import causalkit
from causalkit.backdoor.dose_response import DoseResponseCurve, local_linear
from causalkit.errors import OptionError, PointMassError, TreatmentNotContinuousError


def _truth(a):
    return 1 + a - 0.25 * a * a


def _draw(n, seed):
    """Known curve theta(a) = 1 + a - a^2/4; the dose is confounded by x1 and x2."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=(2, n))
    a = 0.5 * x1 + 0.3 * x2 + rng.normal(size=n)
    y = _truth(a) + x1 + 0.5 * x1 * a + rng.normal(size=n)
    return pd.DataFrame({"a": a, "x1": x1, "x2": x2, "y": y})


DOSES = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])


def test_pointwise_coverage_small_simulation():
    """40 replications of n = 400 (pooled over 5 doses: 200 intervals).

    benchmarks/bench_dose_response.py runs 300 replications of n = 500 (pointwise coverage
    0.930-0.950 per dose, 0.941 pooled; uniform band 0.930).  Here the per-dose binomial
    Monte-Carlo SE is sqrt(.95 * .05 / 40) = 0.034, and the pooled one at most that (the
    doses of one replication are correlated), so [0.85, 1.0] is a 3-SE acceptance region
    around 0.95 that still fails for intervals without bias correction (0.59-0.96 per dose
    in this design, the local-linear bias at the risk-minimizing bandwidth).
    """
    covered = []
    for r in range(40):
        curve = causalkit.dose_response(_draw(400, 100 + r), "a", "y", ["x1", "x2"],
                                        grid=DOSES, n_folds=2, n_bootstrap=200,
                                        random_state=r)
        t = _truth(DOSES)
        covered.append((curve.ci_low <= t) & (t <= curve.ci_high))
    assert 0.85 <= np.mean(covered) <= 1.0


def test_local_linear_fit_and_se_equal_statsmodels_wls():
    """The fit is the intercept of the WLS of the pseudo-outcomes on [1, A - a] with kernel
    weights.  Without covariates mu(X, t) - m(t) is only the fold-to-fold variation of the
    cross-fitted outcome model, so the sandwich is WLS's HC0 up to that small integral term
    (0.3% here)."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=300)
    df = pd.DataFrame({"a": a, "y": np.sin(a) + rng.normal(size=300)})
    eff = causalkit.estimate(df, "a", "y", method="dose_response", grid=[-0.5, 0.0, 0.7],
                             bandwidth=0.4, ci="conventional", n_bootstrap=100)
    curve = eff.diagnostics["curve"]
    xi = eff.diagnostics["pseudo_outcome"]
    for dose, est, se in zip(curve.dose, curve.estimate, curve.std_error):
        w = stats.norm.pdf((a - dose) / 0.4) / 0.4
        fit = sm.WLS(xi, sm.add_constant(a - dose), weights=w).fit()
        # statsmodels' WLS HC0 is sum(w^2 x x' e^2) in the bread (X'WX)^-1: the same sandwich
        hc0 = fit.get_robustcov_results(cov_type="HC0")
        assert est == pytest.approx(fit.params[0], rel=1e-9)
        assert se == pytest.approx(hc0.bse[0], rel=1e-2)
    fit, _ = local_linear(a, 2 * a + 1, np.array([0.3]), 0.5)
    assert fit[0] == pytest.approx(1.6, abs=1e-12)          # exact for a line


def test_gps_curve_equals_an_independent_hirano_imbens_computation():
    df = _draw(800, 3)
    curve = causalkit.dose_response(df, "a", "y", ["x1", "x2"], estimator="gps",
                                    grid=DOSES, n_bootstrap=50)
    # Hirano & Imbens (2004) step by step with statsmodels
    Xc = sm.add_constant(df[["x1", "x2"]].to_numpy())
    first = sm.OLS(df.a.to_numpy(), Xc).fit()
    sigma = np.sqrt(first.scale)                    # residual SD with n - k - 1 df
    r = stats.norm.pdf(df.a, first.fittedvalues, sigma)
    a = df.a.to_numpy()
    second = sm.OLS(df.y.to_numpy(), np.column_stack([np.ones_like(a), a, a ** 2, r, r ** 2,
                                                      a * r])).fit()
    expected = []
    for t in DOSES:
        rt = stats.norm.pdf(t, first.fittedvalues, sigma)
        expected.append(np.mean(second.params @ np.vstack([np.ones_like(rt), np.full_like(rt, t),
                                                           np.full_like(rt, t * t), rt, rt ** 2,
                                                           t * rt])))
    assert curve.estimate.to_numpy() == pytest.approx(np.array(expected), rel=1e-9)
    assert np.all(curve.std_error > 0) and np.all(curve.band_high >= curve.ci_high)


def test_point_mass_is_refused_excluded_or_ignored_explicitly():
    df = _draw(500, 4)
    df.loc[: 199, "a"] = 0.0                        # 40% zeros
    with pytest.raises(PointMassError, match="40.0% of the units take the value 0"):
        causalkit.estimate(df, "a", "y", method="dose_response", covariates=["x1", "x2"])
    eff = causalkit.estimate(df, "a", "y", method="dose_response", covariates=["x1", "x2"],
                             point_mass="exclude", n_folds=2, n_bootstrap=100)
    assert eff.n_obs == 300 and "excluded the 200 units at 0" in \
        eff.diagnostics["point_mass_action"]
    eff = causalkit.estimate(df, "a", "y", method="dose_response", covariates=["x1", "x2"],
                             point_mass="ignore", n_folds=2, n_bootstrap=100)
    assert eff.n_obs == 500 and eff.diagnostics["point_mass_share"] == pytest.approx(0.4)
    with pytest.raises(OptionError, match="point_mass"):
        causalkit.estimate(df, "a", "y", method="dose_response", covariates=["x1"],
                           point_mass="drop")


def test_a_binary_or_few_level_treatment_is_refused_with_a_pointer():
    df = _draw(300, 5)
    df["t"] = (df.a > 0).astype(int)
    for method in ("dose_response", "msm_continuous"):
        with pytest.raises(TreatmentNotContinuousError, match="method='aipw'"):
            causalkit.estimate(df, "t", "y", method=method, covariates=["x1"])
    df["k"] = np.round(df.a.clip(-1, 1))
    with pytest.raises(TreatmentNotContinuousError, match="multi-valued"):
        causalkit.estimate(df, "k", "y", method="dose_response", covariates=["x1"])
    with pytest.raises(OptionError, match="outside the observed doses"):
        causalkit.dose_response(df, "a", "y", ["x1"], grid=[100.0])


def test_the_curve_frame_plots_and_the_effect_is_a_contrast():
    import matplotlib
    matplotlib.use("Agg")
    df = _draw(400, 6)
    eff = causalkit.estimate(df, "a", "y", method="dose_response", covariates=["x1", "x2"],
                             contrast=(-0.5, 0.5), grid=9, n_folds=2, n_bootstrap=200)
    curve = eff.diagnostics["curve"]
    assert isinstance(curve, DoseResponseCurve) and len(curve) == 9
    assert curve.attrs["treatment"] == "a"
    ax = curve.plot()
    assert ax.get_xlabel() == "a" and len(ax.collections) == 2
    # the true contrast theta(0.5) - theta(-0.5) = 1
    assert abs(eff.estimate - 1.0) < 4 * eff.std_error
    assert "theta(0.5) - theta(-0.5)" in eff.inference
    sub = curve.iloc[:3]
    assert isinstance(sub, DoseResponseCurve)


def test_available_lists_the_continuous_methods():
    table = causalkit.available().set_index("method")
    assert table.loc["dose_response", "treatment_types"] == "continuous"
    assert table.loc["msm_continuous", "treatment_types"] == "continuous"


# ------------------------------------------------------------------ What If, NHEFS
def _nhefs():
    causaldata = pytest.importorskip("causaldata")
    d = causaldata.nhefs.load_pandas().data
    s = d[d.wt82.notna() & (d.smokeintensity <= 25)].copy()     # Program 12.4's sample
    X = pd.get_dummies(s[["sex", "race", "education", "exercise", "active"]].astype("category"),
                       drop_first=True).astype(float)
    for c in ["age", "smokeintensity", "smokeyrs", "wt71"]:
        X[c], X[c + "_sq"] = s[c], s[c] ** 2
    return pd.concat([X, s[["smkintensity82_71", "wt82_71"]]], axis=1), list(X.columns)


def test_what_if_program_12_4_msm_with_stabilized_weights():
    """Hernán & Robins, What If, Program 12.4 (geeglm output, R code of the book by Behrman):
    b0 2.00452 (SE 0.29512), b1 -0.10899 (0.03154; 95% CI -0.17080, -0.04718),
    b2 0.00269 (0.00242); stabilized weights from 0.19 to 5.10, mean 1.00.  The book's text
    rounds them to 2.005, -0.109 and 0.003."""
    df, covs = _nhefs()
    assert len(df) == 1162
    eff = causalkit.estimate(df, "smkintensity82_71", "wt82_71", method="msm_continuous",
                             covariates=covs)
    table = eff.diagnostics["coefficients"]
    assert table.estimate.to_numpy() == pytest.approx([2.00452, -0.10899, 0.00269], abs=6e-6)
    assert table.std_error.to_numpy() == pytest.approx([0.29512, 0.03154, 0.00242], abs=6e-6)
    assert (round(eff.ci_low, 5), round(eff.ci_high, 5)) == (-0.17080, -0.04718)
    assert eff.estimate == pytest.approx(-0.109, abs=5e-4)
    assert round(eff.diagnostics["weight_min"], 2) == 0.19
    assert round(eff.diagnostics["weight_max"], 2) == 5.10
    assert round(eff.diagnostics["weight_mean"], 2) == 1.00
    # the 24% who did not change their intensity are reported, not refused
    assert eff.diagnostics["point_mass_value"] == 0.0
    assert eff.diagnostics["point_mass_share"] == pytest.approx(278 / 1162)


def test_what_if_nhefs_dose_response_agrees_with_the_books_msm():
    """dose_response refuses NHEFS's 24% point mass at 0 (no change); told the dose is
    continuous (point_mass='ignore'), the doubly robust kernel curve agrees with the book's
    quadratic MSM curve within two combined SEs over the central doses."""
    df, covs = _nhefs()
    with pytest.raises(PointMassError, match="23.9%"):
        causalkit.dose_response(df, "smkintensity82_71", "wt82_71", covs)
    doses = [-20.0, -10.0, 0.0, 10.0]
    curve = causalkit.dose_response(df, "smkintensity82_71", "wt82_71", covs,
                                    point_mass="ignore", grid=doses, n_bootstrap=200)
    msm = causalkit.estimate(df, "smkintensity82_71", "wt82_71", method="msm_continuous",
                             covariates=covs, grid=doses).diagnostics["curve"]
    gap = np.abs(curve.estimate.to_numpy() - msm.estimate.to_numpy())
    assert np.all(gap < 2 * np.hypot(curve.std_error, msm.std_error))
    assert curve.estimate.iloc[0] > curve.estimate.iloc[-1]      # less smoking, more weight


def test_kernel_density_of_residuals_recovers_the_curve_with_skewed_doses():
    """A dose with skewed (exponential) noise: the normal density is wrong, the kernel
    density of the residuals is not; the curve is still recovered within 4 SEs."""
    rng = np.random.default_rng(8)
    n = 1500
    x = rng.normal(size=n)
    a = 0.5 * x + rng.exponential(size=n) - 1.0
    y = _truth(a) + x + 0.5 * x * a + rng.normal(size=n)
    df = pd.DataFrame({"a": a, "x": x, "y": y})
    doses = np.array([-0.5, 0.0, 0.5])
    curve = causalkit.dose_response(df, "a", "y", ["x"], density="kernel", grid=doses,
                                    n_folds=2, n_bootstrap=200)
    assert np.all(np.abs(curve.ci_centre - _truth(doses)) < 4 * curve.std_error)
    with pytest.raises(OptionError, match="density"):
        causalkit.dose_response(df, "a", "y", ["x"], density="gamma")


def test_msm_with_numerator_covariates_equals_statsmodels_wls():
    """Stabilizing by V = x1: SW = f(A | x1) / f(A | x1, x2), the MSM has x1 as a main
    effect; the fit is statsmodels' WLS with HC0, the weights from scipy's normal pdf."""
    df = _draw(800, 9)
    eff = causalkit.estimate(df, "a", "y", method="msm_continuous", covariates=["x1", "x2"],
                             numerator_covariates=["x1"])
    a = df.a.to_numpy()

    def density(design):
        fit = sm.OLS(a, sm.add_constant(design)).fit()
        return stats.norm.pdf(a, fit.fittedvalues, np.sqrt(fit.scale))

    sw = density(df[["x1"]].to_numpy()) / density(df[["x1", "x2"]].to_numpy())
    wls = sm.WLS(df.y.to_numpy(), np.column_stack([np.ones_like(a), a, a * a, df.x1]),
                 weights=sw).fit(cov_type="HC0")
    table = eff.diagnostics["coefficients"]
    assert list(table.index) == ["intercept", "a", "a^2", "x1"]
    assert table.estimate.to_numpy() == pytest.approx(wls.params, rel=1e-8)
    assert table.std_error.to_numpy() == pytest.approx(wls.bse, rel=1e-8)
    assert eff.diagnostics["weights"] == pytest.approx(sw, rel=1e-10)
    assert "MSM" in eff.summary()


def test_gps_is_unbiased_when_its_outcome_model_is_right():
    """Y = theta(A) + 2 R + noise with R the true GPS phi(A - m(X)), m(X) = 0.5 x1 + 0.3 x2:
    E[Y | A, R] is in Hirano & Imbens' quadratic family, and E[Y(t)] = theta(t) +
    2 E[phi(t - m(X))] = theta(t) + 2 N(t; 0, 1.34) in closed form.  (Where the family is
    wrong the GPS curve is biased: on the design of benchmarks/bench_dose_response.py,
    run with ``gps``, its pointwise coverage is 0.00-0.93.)"""
    rng = np.random.default_rng(12)
    n = 3000
    x1, x2 = rng.normal(size=(2, n))
    m = 0.5 * x1 + 0.3 * x2
    a = m + rng.normal(size=n)
    y = _truth(a) + 2 * stats.norm.pdf(a - m) + rng.normal(scale=0.5, size=n)
    df = pd.DataFrame({"a": a, "x1": x1, "x2": x2, "y": y})
    curve = causalkit.dose_response(df, "a", "y", ["x1", "x2"], estimator="gps", grid=DOSES,
                                    n_bootstrap=100)
    truth = _truth(DOSES) + 2 * stats.norm.pdf(DOSES, scale=np.sqrt(1.34))
    assert np.all(np.abs(curve.estimate - truth) < 4 * curve.std_error)
