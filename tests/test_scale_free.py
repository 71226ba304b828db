"""Rank checks and fits do not depend on the units of the covariates (issue 13, item 1).

Multiplying a covariate by c leaves the estimate of a treatment effect unchanged
(the covariate's coefficient becomes beta / c): a closed-form invariance.  The
data have two covariates on different natural scales (``x1`` in the thousands,
``x2`` in the ten-thousandths, as income in dollars beside a rate); each
estimator that checks a design for collinearity is run with ``x1`` rescaled by
1e6 and ``x2`` by 1e-6 (numpy's rank tolerance, relative to the largest column,
used to call these designs "collinear") and must reproduce the unscaled
estimate and standard error to a relative 1e-8; a truly collinear covariate is
still refused with a message that names the columns involved.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import causalkit
from causalkit.errors import EstimationError, OverlapError
from causalkit.linear import equilibrate, rank_deficiency, require_full_rank

#: (factor on x1, factor on x2): each covariate alone, and both at once
SCALES = [(1e6, 1.0), (1.0, 1e-6), (1e6, 1e-6)]

#: natural scales of the two covariates
X1_SCALE, X2_SCALE = 1e3, 1e-4


@pytest.fixture(scope="module")
def cross_section() -> pd.DataFrame:
    rng = np.random.default_rng(13)
    n = 6000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    z = rng.integers(0, 2, n)
    t = (rng.random(n) < 0.2 + 0.5 * z + 0.1 * (x1 > 0)).astype(int)
    post = rng.integers(0, 2, n)
    y = 1.0 + 2.0 * t + x1 - 0.5 * x2 + 0.7 * post + 0.4 * t * post + rng.normal(size=n)
    return pd.DataFrame({"t": t, "z": z, "post": post, "x1": X1_SCALE * x1,
                         "x2": X2_SCALE * x2, "y": y})


def _rescaled(df: pd.DataFrame, s1: float, s2: float) -> pd.DataFrame:
    return df.assign(x1=df.x1 * s1, x2=df.x2 * s2)


CROSS_SECTION_METHODS = {
    "regression_adjustment": {},
    "did": {"post": "post"},
    "iv_2sls": {"instrument": "z"},
}


@pytest.mark.parametrize("method", list(CROSS_SECTION_METHODS))
@pytest.mark.parametrize("s1,s2", SCALES)
def test_rescaled_covariates_give_the_same_estimate(cross_section, method, s1, s2):
    kw = dict(method=method, covariates=["x1", "x2"], **CROSS_SECTION_METHODS[method])
    base = causalkit.estimate(cross_section, "t", "y", **kw)
    scaled = causalkit.estimate(_rescaled(cross_section, s1, s2), "t", "y", **kw)
    assert scaled.estimate == pytest.approx(base.estimate, rel=1e-8)
    assert scaled.std_error == pytest.approx(base.std_error, rel=1e-8)


def test_rescaled_regression_adjustment_matches_statsmodels(cross_section):
    """The rescaled additive fit against statsmodels on the unscaled design."""
    df = _rescaled(cross_section, 1e6, 1e-6)
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["x1", "x2"], interacted=False)
    X = sm.add_constant(cross_section[["t", "x1", "x2"]].astype(float))
    ref = sm.OLS(cross_section["y"], X).fit(cov_type="HC2")
    assert eff.estimate == pytest.approx(ref.params["t"], rel=1e-10)
    assert eff.std_error == pytest.approx(ref.bse["t"], rel=1e-10)


def test_rescaled_iv_first_stage_and_anderson_rubin(cross_section):
    """The first-stage coefficient scales with the instrument; F and the AR set do not move."""
    kw = dict(method="iv_2sls", instrument="z", covariates=["x1", "x2"])
    base = causalkit.estimate(cross_section, "t", "y", **kw)
    df = _rescaled(cross_section, 1e6, 1e-6).assign(z=cross_section.z * 1e-7)
    scaled = causalkit.estimate(df, "t", "y", **kw)
    assert scaled.estimate == pytest.approx(base.estimate, rel=1e-8)
    b, s = base.diagnostics, scaled.diagnostics
    assert s["first_stage_f"] == pytest.approx(b["first_stage_f"], rel=1e-8)
    assert s["first_stage_coefficients"]["z"] * 1e-7 == pytest.approx(
        b["first_stage_coefficients"]["z"], rel=1e-8)
    assert np.allclose(np.ravel(s["anderson_rubin_ci"]), np.ravel(b["anderson_rubin_ci"]),
                       rtol=1e-8)


@pytest.fixture(scope="module")
def staggered() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n_units, periods = 1500, np.arange(1, 5)
    g = rng.choice([0, 3, 4], n_units)
    x1, x2 = rng.normal(size=n_units), rng.normal(size=n_units)
    unit = np.repeat(np.arange(n_units), len(periods))
    t = np.tile(periods, n_units)
    gg = np.repeat(g, len(periods))
    y = (rng.normal(size=n_units)[unit] + 0.2 * t + 0.3 * x1[unit] * t - 0.2 * x2[unit] * t
         + np.where((gg > 0) & (t >= gg), 1.0, 0.0) + rng.normal(0, 0.5, len(unit)))
    return pd.DataFrame({"id": unit, "t": t, "g": gg, "x1": X1_SCALE * x1[unit],
                         "x2": X2_SCALE * x2[unit], "y": y})


@pytest.mark.parametrize("est_method", ["dr", "reg", "ipw"])
@pytest.mark.parametrize("s1,s2", SCALES)
def test_callaway_santanna_rescaled_covariates(staggered, est_method, s1, s2):
    kw = dict(outcome="y", method="callaway_santanna", unit="id", time="t", cohort="g",
              covariates=["x1", "x2"], est_method=est_method)
    base = causalkit.estimate(staggered, **kw)
    scaled = causalkit.estimate(_rescaled(staggered, s1, s2), **kw)
    assert scaled.estimate == pytest.approx(base.estimate, rel=1e-8)
    assert scaled.std_error == pytest.approx(base.std_error, rel=1e-8)
    pd.testing.assert_series_equal(scaled.diagnostics["att_gt"]["att"],
                                   base.diagnostics["att_gt"]["att"], rtol=1e-8)


@pytest.mark.parametrize("method", ["twfe", "event_study"])
def test_twfe_and_event_study_rescaled_covariates(staggered, method):
    rng = np.random.default_rng(3)
    df = staggered.assign(w1=X1_SCALE * rng.normal(size=len(staggered)),
                          w2=X2_SCALE * rng.normal(size=len(staggered)))
    kw = dict(outcome="y", method=method, unit="id", time="t", cohort="g",
              covariates=["w1", "w2"])
    base = causalkit.estimate(df, **kw)
    scaled = causalkit.estimate(df.assign(w1=df.w1 * 1e6, w2=df.w2 * 1e-6), **kw)
    assert scaled.estimate == pytest.approx(base.estimate, rel=1e-8)
    assert scaled.std_error == pytest.approx(base.std_error, rel=1e-8)


# ------------------------------------------------------------ truly collinear: refused
@pytest.mark.parametrize("method,extra", [("regression_adjustment", {}),
                                          ("did", {"post": "post"}),
                                          ("iv_2sls", {"instrument": "z"})])
def test_truly_collinear_covariate_is_refused_by_name(cross_section, method, extra):
    df = cross_section.assign(x3=1e3 * cross_section.x1 - 3e10 * cross_section.x2)
    with pytest.raises(EstimationError, match=r"'x1', 'x2', 'x3'.*collinear"):
        causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "x2", "x3"], **extra)


@pytest.mark.parametrize("est_method", ["dr", "reg"])
def test_callaway_santanna_collinear_covariate_is_refused_by_name(staggered, est_method):
    df = staggered.assign(x3=2e6 * staggered.x1 + 1.0)
    with pytest.raises(EstimationError, match=r"'x1', 'x3'.*collinear"):
        causalkit.estimate(df, outcome="y", method="callaway_santanna", unit="id", time="t",
                           cohort="g", covariates=["x1", "x2", "x3"], est_method=est_method)


def test_covariate_duplicating_the_treatment_is_refused_by_name(cross_section):
    """A (rescaled) copy of the treatment separates the arms perfectly: the shared overlap
    check names it before any fit; the rank check alone names both columns."""
    df = cross_section.assign(tt=cross_section.t * 1e-6)
    with pytest.raises(OverlapError, match=r"'tt' perfectly separates"):
        causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["tt"],
                           interacted=False)
    design = np.column_stack([np.ones(len(df)), df.t, df.tt])
    with pytest.raises(EstimationError, match=r"'t', 'tt'.*collinear"):
        require_full_rank(design, "the design", names=["const", "t", "tt"])


# ------------------------------------------------------------ the rank check itself
def test_rank_is_invariant_to_column_scaling():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(5000), rng.normal(size=(5000, 3))])
    for scales in ([1, 1e-9, 1e9, 1], [1, 1e12, 1e-12, 1e6], [1e-8, 1, 1, 1e8]):
        Xs = X * np.array(scales)
        assert rank_deficiency(Xs) == (4, [])
        assert np.linalg.matrix_rank(Xs) < 4           # numpy's absolute check refuses them
    a, b = 1e-9 * X[:, 1], 1e9 * X[:, 2]
    dependent = np.column_stack([X[:, 0], a, b, X[:, 3], 3e9 * a + 2e-9 * b])
    assert rank_deficiency(dependent) == (4, [1, 2, 4])
    with pytest.raises(EstimationError, match="5 columns but rank 4: the columns 'a', 'b', 'e'"):
        require_full_rank(dependent, names=["c", "a", "b", "d", "e"])


def test_equilibrate_is_exact():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3)) * [1e-7, 1.0, 3e8]
    Xs, s = equilibrate(X)
    assert np.array_equal(Xs * s, X)                    # powers of two: no rounding
    assert np.all(np.log2(s) == np.round(np.log2(s)))
    rms = np.sqrt((Xs ** 2).mean(axis=0))
    assert np.all((rms > 2 ** -0.5) & (rms < 2 ** 0.5))


def test_no_warning_from_rescaled_designs(cross_section):
    df = _rescaled(cross_section, 1e6, 1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x1", "x2"])
