"""regression_adjustment against statsmodels OLS with HC2, plain and Lin forms."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import causalkit


def _data(seed, n=300):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.exponential(size=n)
    t = rng.integers(0, 2, n)
    y = 1.0 + 2.0 * t + 1.5 * x1 - x2 + 0.8 * t * x1 + rng.normal(size=n) * (1 + x2)
    return pd.DataFrame({"t": t, "x1": x1, "x2": x2, "y": y})


@pytest.mark.parametrize("seed", range(4))
def test_plain_form_matches_statsmodels_hc2(seed):
    df = _data(seed)
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["x1", "x2"], interacted=False)
    ref = smf.ols("y ~ t + x1 + x2", data=df).fit(cov_type="HC2")
    assert eff.estimate == pytest.approx(ref.params["t"], abs=1e-8)
    assert eff.std_error == pytest.approx(ref.bse["t"], abs=1e-8)
    assert eff.p_value == pytest.approx(ref.pvalues["t"], abs=1e-8)
    lo, hi = ref.conf_int().loc["t"]
    assert (eff.ci_low, eff.ci_high) == pytest.approx((lo, hi), abs=1e-8)


@pytest.mark.parametrize("seed", range(4))
def test_lin_form_matches_statsmodels_hc2(seed):
    df = _data(seed)
    df = df.assign(c1=df.x1 - df.x1.mean(), c2=df.x2 - df.x2.mean())
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["x1", "x2"])
    ref = smf.ols("y ~ t * (c1 + c2)", data=df).fit(cov_type="HC2")
    assert eff.estimate == pytest.approx(ref.params["t"], abs=1e-8)
    assert eff.std_error == pytest.approx(ref.bse["t"], abs=1e-8)
    assert eff.p_value == pytest.approx(ref.pvalues["t"], abs=1e-8)
    assert eff.covariates == ("x1", "x2")


def test_lin_att_centres_at_treated_means():
    df = _data(7)
    treated = df[df.t == 1]
    df = df.assign(c1=df.x1 - treated.x1.mean(), c2=df.x2 - treated.x2.mean())
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["x1", "x2"], estimand="ATT")
    ref = smf.ols("y ~ t * (c1 + c2)", data=df).fit(cov_type="HC2")
    assert eff.estimand == "ATT"
    assert eff.estimate == pytest.approx(ref.params["t"], abs=1e-8)


def test_no_covariates_equals_difference_in_means_point_estimate():
    df = _data(8)
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment")
    assert eff.estimate == pytest.approx(df.y[df.t == 1].mean() - df.y[df.t == 0].mean(),
                                         abs=1e-10)


def test_cluster_option_matches_statsmodels():
    df = _data(9).assign(g=np.arange(300) % 30)
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["x1"], interacted=False, cluster="g")
    ref = smf.ols("y ~ t + x1", data=df).fit(cov_type="cluster",
                                              cov_kwds={"groups": df.g}, use_t=True)
    assert eff.std_error == pytest.approx(ref.bse["t"], abs=1e-8)
    assert eff.p_value == pytest.approx(ref.pvalues["t"], abs=1e-8)
