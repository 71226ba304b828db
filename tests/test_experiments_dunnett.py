"""Dunnett's many-to-one test: against scipy.stats.dunnett and a multivariate-t integral."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalkit.errors import DataError, OptionError
from causalkit.experiments import analyze
from causalkit.experiments.dunnett import dunnett, dunnett_adjust
from causalkit.experiments.multiple import adjust_p
from causalkit.experiments.stats import Moments


def _samples(seed=3):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 1, 40), [rng.normal(0.3, 1, 25), rng.normal(0.6, 1, 60),
                                   rng.normal(0.1, 1, 33)])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_dunnett_matches_scipy(alternative):
    c, arms = _samples()
    ours = dunnett(*arms, control=c, alternative=alternative)
    ref = stats.dunnett(*arms, control=c, alternative=alternative, rng=0)
    np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=1e-12)
    # scipy integrates the multivariate t by randomized QMC (error ~1e-5 in p)
    np.testing.assert_allclose(ours.p_value, ref.pvalue, atol=1e-4)
    ci = ref.confidence_interval(0.95)
    for a, b in ((ours.ci_low, np.asarray(ci.low)), (ours.ci_high, np.asarray(ci.high))):
        fin = np.isfinite(b)
        assert np.array_equal(np.isfinite(a), fin)
        np.testing.assert_allclose(a[fin], b[fin], atol=2e-3)   # scipy's allowance is QMC too


def test_dunnett_from_moments_equals_arrays():
    c, arms = _samples(5)
    treat = Moments.from_rows(np.stack([a[:25] for a in arms])[..., None])
    ours = dunnett(treat, control=Moments.from_rows(c[:, None]))
    ref = dunnett(*[a[:25] for a in arms], control=c)
    np.testing.assert_allclose(ours.p_value, ref.p_value, rtol=1e-10)
    np.testing.assert_allclose(ours.ci_low, ref.ci_low, rtol=1e-10)


def test_dunnett_adjust_single_comparison_is_unadjusted():
    assert dunnett_adjust([1.7], [0.4])[0] == pytest.approx(2 * stats.norm.sf(1.7), abs=1e-9)


SPLIT = [1, 2, 4, 2]     # arms in label order: B, C, D, control


def _experiment(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    arm = np.repeat(["control", "B", "C", "D"], [n, n // 2, n, 2 * n])
    lift = pd.Series(arm).map({"control": 0, "B": 0.05, "C": 0.09, "D": 0.0}).to_numpy()
    sd = pd.Series(arm).map({"control": 1.0, "B": 1.5, "C": 0.8, "D": 1.2}).to_numpy()
    return pd.DataFrame({"arm": arm, "y": rng.normal(lift, sd),
                         "conv": (rng.random(len(arm)) < 0.2 + lift).astype(int)})


def _mvn_p(t, share):
    """1 - P(max|Z| < |t|) by Genz's algorithm (scipy's multivariate normal cdf)."""
    lam = np.sqrt(share)
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    dist = stats.multivariate_normal(cov=r, seed=1)
    return np.array([1 - dist.cdf(np.full(len(t), x), lower_limit=np.full(len(t), -x))
                     for x in np.abs(t)])


def test_analyze_dunnett_per_metric_matches_multivariate_t():
    df = _experiment()
    res = analyze(df, "arm", ["y", "conv"], control="control", correction="dunnett", split=SPLIT,
                  correct_across="arms")
    t = res.table
    for name, g in t.groupby("metric"):
        # the control's share of each comparison's variance, by hand from the rows
        ctrl = df.loc[df.arm == "control", name]
        ddof = 0 if name == "conv" else 1
        vc = ctrl.var(ddof=ddof) / len(ctrl)
        share = vc / g["std_error"].to_numpy() ** 2
        # Welch df > 700 here: t and normal max-probabilities differ by < 5e-4
        ref = _mvn_p(g["statistic"].to_numpy(), share)
        np.testing.assert_allclose(g["p_adjusted"].to_numpy(), ref, atol=2e-3)
        # Dunnett is between the raw p and Bonferroni
        assert np.all(g["p_adjusted"] >= g["p_value"] - 1e-12)
        assert np.all(g["p_adjusted"] <= np.minimum(1, 3 * g["p_value"]) + 1e-12)


def test_analyze_dunnett_all_is_holm_over_metrics():
    df = _experiment(seed=4)
    per = analyze(df, "arm", ["y", "conv"], control="control", correction="dunnett", split=SPLIT,
                  correct_across="arms").table
    allt = analyze(df, "arm", ["y", "conv"], control="control", correction="dunnett", split=SPLIT,
                   correct_across="all").table
    mins = per.groupby("metric", sort=False)["p_adjusted"].min()
    first, second = mins.sort_values().index
    step1 = np.minimum(1, 2 * per.loc[per.metric == first, "p_adjusted"].to_numpy())
    np.testing.assert_allclose(allt.loc[allt.metric == first, "p_adjusted"], step1)
    step2 = np.maximum(step1.min(), per.loc[per.metric == second, "p_adjusted"].to_numpy())
    np.testing.assert_allclose(allt.loc[allt.metric == second, "p_adjusted"], step2)
    # one-member families: Holm itself
    np.testing.assert_allclose(
        __import__("causalkit.experiments.multiple", fromlist=["x"]).holm_across_families(
            per["p_value"], [[i] for i in range(len(per))]), adjust_p(per["p_value"], "holm"))


def test_dunnett_bad_input():
    df = _experiment(200)
    with pytest.raises(OptionError, match="correct_across"):
        analyze(df, "arm", "y", control="control", correction="dunnett", split=SPLIT, correct_across="metrics")
    with pytest.raises(OptionError, match="alternative"):
        dunnett([1.0, 2.0], control=[1.0, 3.0], alternative="up")
    with pytest.raises(DataError, match="sample 1"):
        dunnett([1.0], control=[1.0, 3.0])
    with pytest.raises(DataError, match="constant"):
        dunnett([1.0, 1.0], control=[1.0, 1.0])
