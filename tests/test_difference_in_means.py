"""difference_in_means against scipy's Welch t-test, and its frequentist guarantees."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import causalkit


@pytest.mark.parametrize("seed", range(6))
def test_matches_scipy_welch_ttest(seed):
    rng = np.random.default_rng(seed)
    n1, n0 = rng.integers(5, 200, size=2)
    y1 = rng.normal(1.0, rng.uniform(0.5, 3), n1)
    y0 = rng.normal(0.0, rng.uniform(0.5, 3), n0)
    df = pd.DataFrame({"t": np.r_[np.ones(n1), np.zeros(n0)], "y": np.r_[y1, y0]})
    eff = causalkit.estimate(df, "t", "y", method="difference_in_means")
    ref = stats.ttest_ind(y1, y0, equal_var=False)
    assert eff.estimate == pytest.approx(y1.mean() - y0.mean(), abs=1e-10)
    assert eff.statistic == pytest.approx(ref.statistic, abs=1e-10)
    assert eff.p_value == pytest.approx(ref.pvalue, abs=1e-10)
    assert eff.df == pytest.approx(ref.df, abs=1e-10)
    ci = ref.confidence_interval(0.95)
    assert (eff.ci_low, eff.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-10)
    assert (eff.n_treated, eff.n_control) == (n1, n0)


def test_binary_outcome_uses_the_same_neyman_variance():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 2, 5000)
    y = rng.binomial(1, 0.10 + 0.02 * t)
    eff = causalkit.estimate(pd.DataFrame({"t": t, "y": y}), "t", "y")
    ref = stats.ttest_ind(y[t == 1], y[t == 0], equal_var=False)
    assert eff.p_value == pytest.approx(ref.pvalue, abs=1e-10)


def test_normal_reference_option():
    rng = np.random.default_rng(4)
    t = rng.integers(0, 2, 100)
    df = pd.DataFrame({"t": t, "y": rng.normal(size=100)})
    eff = causalkit.estimate(df, "t", "y", use_t=False)
    assert eff.df is None
    assert eff.p_value == pytest.approx(2 * stats.norm.sf(abs(eff.statistic)), abs=1e-14)


def test_cluster_robust_matches_statsmodels():
    rng = np.random.default_rng(5)
    clusters = np.repeat(np.arange(40), 5)
    t = np.repeat(rng.integers(0, 2, 40), 5)
    y = 0.5 * t + np.repeat(rng.normal(size=40), 5) + rng.normal(size=200)
    df = pd.DataFrame({"t": t, "y": y, "g": clusters})
    eff = causalkit.estimate(df, "t", "y", cluster="g")
    ref = sm.OLS(y, sm.add_constant(t.astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True)
    assert eff.estimate == pytest.approx(ref.params[1], abs=1e-10)
    assert eff.std_error == pytest.approx(ref.bse[1], abs=1e-10)
    assert eff.p_value == pytest.approx(ref.pvalues[1], abs=1e-10)
    assert eff.df == 39
