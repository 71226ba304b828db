"""Acceptance vectors of the experiments toolkit: z, Welch, SRM, BH, sufficient statistics."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

import causalkit
from causalkit.errors import ColumnNotFoundError, DataError, MissingValueError, OptionError
from causalkit.experiments import (ExperimentStats, Metric, Moments, SampleRatioMismatchWarning,
                                   adjust_p, analyze, compare, srm_check)
from causalkit.experiments.stats import group_moments

A = [12.1, 9.8, 11.4, 10.2, 13.5, 9.1, 10.8, 12.7]
B = [13.2, 14.1, 11.9, 15.3, 12.8, 14.6, 13.0, 16.2, 12.4, 14.9]


def _conversions(x1, n1, x0, n0):
    return pd.DataFrame({"arm": ["B"] * n1 + ["A"] * n0,
                         "conv": np.r_[np.ones(x1), np.zeros(n1 - x1), np.ones(x0), np.zeros(n0 - x0)]})


def test_two_proportions_pooled_z_vector():
    res = analyze(_conversions(1100, 10000, 1000, 10000), "arm", "conv", control="A")
    row = res.table.iloc[0]
    assert row["kind"] == "proportion"
    assert row["statistic"] == pytest.approx(2.3066348, abs=1e-7)
    assert row["p_value"] == pytest.approx(0.0210752, abs=1e-7)
    z, p = proportions_ztest([1100, 1000], [10000, 10000])  # independent reference
    assert row["statistic"] == pytest.approx(z, rel=1e-12)
    assert row["p_value"] == pytest.approx(p, rel=1e-10)
    # the interval uses the unpooled standard error
    se = np.sqrt(.11 * .89 / 1e4 + .1 * .9 / 1e4)
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * 1.959963984540054 * se, rel=1e-12)


def test_welch_vector_and_registry_agreement():
    df = pd.DataFrame({"t": [0] * len(A) + [1] * len(B), "y": A + B})
    row = analyze(df, "t", "y").table.iloc[0]
    assert row["statistic"] == pytest.approx(3.8153851, abs=1e-7)
    assert row["df"] == pytest.approx(14.555490, abs=1e-6)
    assert row["p_value"] == pytest.approx(0.00177448, abs=1e-8)
    ref = stats.ttest_ind(B, A, equal_var=False)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    eff = causalkit.estimate(df, "t", "y", method="difference_in_means")
    for ours, theirs in [("estimate", eff.estimate), ("std_error", eff.std_error),
                         ("ci_low", eff.ci_low), ("ci_high", eff.ci_high),
                         ("p_value", eff.p_value), ("df", eff.df)]:
        assert row[ours] == pytest.approx(theirs, rel=1e-12)


def test_srm_vector_and_loud_warning():
    r = srm_check([50000, 50600])
    assert r.statistic == pytest.approx(3.5785288, abs=1e-7)
    assert r.p_value == pytest.approx(0.0585310, abs=1e-7)
    assert not r.mismatch
    with pytest.warns(SampleRatioMismatchWarning, match="SAMPLE RATIO MISMATCH"):
        bad = srm_check([50000, 51500])
    assert bad.mismatch and issubclass(SampleRatioMismatchWarning, UserWarning)
    # three arms, unequal intended split: scipy chisquare on explicit expectations
    r3 = srm_check([2000, 1010, 990], split=[2, 1, 1])
    ref = stats.chisquare([2000, 1010, 990], [2000, 1000, 1000])
    assert r3.p_value == pytest.approx(ref.pvalue, rel=1e-12) and r3.df == 2


def test_analyze_reports_srm_on_every_analysis():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"v": np.r_[np.zeros(5000, int), np.ones(5600, int)],
                       "y": rng.normal(size=10600)})
    with pytest.warns(SampleRatioMismatchWarning):
        res = analyze(df, "v", "y")
    assert res.srm.mismatch and "MISMATCH" in res.summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not analyze(df, "v", "y", split=[5000, 5600]).srm.mismatch


def test_bh_vector_and_other_corrections():
    p = [.001, .008, .039, .041, .042, .060, .074, .205]
    expected = [.008, .032, .0672, .0672, .0672, .08, .084571, .205]
    np.testing.assert_allclose(adjust_p(p, "bh"), expected, atol=1e-6)
    for ours, theirs in [("holm", "holm"), ("bonferroni", "bonferroni")]:
        np.testing.assert_allclose(adjust_p(p, ours), multipletests(p, method=theirs)[1])
    with pytest.raises(OptionError):
        adjust_p(p, "magic")


def test_correction_families():
    rng = np.random.default_rng(2)
    n = 3000
    df = pd.DataFrame({"v": rng.integers(0, 3, n), "a": rng.normal(size=n),
                       "b": rng.normal(size=n) + 0.1 * (rng.integers(0, 2, n))})
    tab = analyze(df, "v", ["a", "b"], correction="bonferroni", correct_across="metrics").table
    for arm, grp in tab.groupby("arm"):
        np.testing.assert_allclose(grp["p_adjusted"], np.minimum(2 * grp["p_value"], 1))
    tab = analyze(df, "v", ["a", "b"], correction="bonferroni", correct_across="all").table
    np.testing.assert_allclose(tab["p_adjusted"], np.minimum(4 * tab["p_value"], 1))
    assert len(tab) == 4 and set(tab["arm"]) == {1, 2}


def test_p_value_uses_survival_function():
    a = Moments.from_mean_cov(10000, [0.0], [[1.0]])
    b = Moments.from_mean_cov(10000, [12 * np.sqrt(2 / 10000)], [[1.0]])
    r = compare(b, a, Metric("y"))
    assert float(r.statistic) == pytest.approx(12.0)
    assert 0 < float(r.p_value) < 1e-30


def test_raw_rows_and_sufficient_statistics_agree():
    rng = np.random.default_rng(3)
    n = 20000
    df = pd.DataFrame({"arm": rng.choice(["control", "B", "C"], n),
                       "y": rng.gamma(2.0, 5.0, n) + 40, "c": rng.integers(0, 2, n)})
    raw = analyze(df, "arm", ["y", Metric("c", kind="proportion")]).table
    g = df.assign(y2=df.y ** 2, c2=df.c ** 2).groupby("arm").agg(
        n=("y", "size"), sy=("y", "sum"), syy=("y2", "sum"), sc=("c", "sum"), scc=("c2", "sum"))
    agg = g.reset_index()
    st = ExperimentStats.from_aggregates(agg, "arm", "n", {"y": ("sy", "syy"), "c": ("sc", "scc")},
                                         kinds={"c": "proportion"})
    fromstats = analyze(st).table.sort_values(["metric", "arm"]).reset_index(drop=True)
    raw = raw.sort_values(["metric", "arm"]).reset_index(drop=True)
    for col in ["estimate", "std_error", "statistic", "p_value", "ci_low", "relative", "df"]:
        np.testing.assert_allclose(fromstats[col], raw[col], rtol=1e-9, atol=1e-12)


def test_large_mean_variance_precision():
    rng = np.random.default_rng(4)
    n = 5_000_000
    z = rng.standard_normal(n)
    y = 1e8 + z
    codes = np.zeros(n, dtype=np.intp)
    codes[n // 2:] = 1
    m = group_moments(codes, y, 2)
    exact = np.array([z[: n // 2].var(ddof=1), z[n // 2:].var(ddof=1)])  # shift is exact
    np.testing.assert_allclose(m.var()[:, 0], exact, rtol=1e-6)
    naive = (np.sum(y[: n // 2] ** 2) - np.sum(y[: n // 2]) ** 2 / (n // 2)) / (n // 2 - 1)
    assert abs(naive - exact[0]) > 1e-2  # why the stable algorithm matters
    # Chan merge of chunks equals the one-shot statistics
    chunks = [Moments.from_rows(y[i:i + 1_000_000]) for i in range(0, n, 1_000_000)]
    merged = chunks[0]
    for ch in chunks[1:]:
        merged = merged.merge(ch)
    assert float(merged.var()[0]) == pytest.approx(float(z.var(ddof=1)), rel=1e-6)


def test_ratio_metric_delta_method_matches_cluster_regression_and_bootstrap():
    rng = np.random.default_rng(5)
    n = 4000
    sessions = rng.poisson(3, n) + 1
    arm = rng.integers(0, 2, n)
    clicks = rng.binomial(sessions, 0.2 + 0.02 * arm)
    df = pd.DataFrame({"arm": arm, "clicks": clicks, "sessions": sessions})
    row = analyze(df, "arm", Metric("ctr", column="clicks", denominator="sessions")).table.iloc[0]
    r1 = clicks[arm == 1].sum() / sessions[arm == 1].sum()
    r0 = clicks[arm == 0].sum() / sessions[arm == 0].sum()
    assert row["estimate"] == pytest.approx(r1 - r0, rel=1e-12)
    # delta method == per-session regression with user-clustered HC0 errors (Deng et al. 2018)
    import statsmodels.api as sm
    long = df.loc[df.index.repeat(df.sessions)].copy()
    long["click"] = np.concatenate([np.r_[np.ones(c), np.zeros(s - c)]
                                    for c, s in zip(clicks, sessions)])
    fit = sm.OLS(long.click.to_numpy(), sm.add_constant(long.arm.to_numpy().astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": long.index.to_numpy(), "use_correction": False})
    assert row["std_error"] == pytest.approx(fit.bse[1], rel=2e-3)


def test_relative_lift_delta_and_fieller():
    df = _conversions(1100, 10000, 1000, 10000)
    d = analyze(df, "arm", "conv", control="A", relative_ci="delta").table.iloc[0]
    # Fieller's interval inverts the Wald test: the unpooled z test here
    f = analyze(df, "arm", "conv", control="A", relative_ci="fieller", pooled=False).table.iloc[0]
    assert d["relative"] == pytest.approx(0.1)
    v1, v0 = .11 * .89 / 1e4, .1 * .9 / 1e4
    se = np.sqrt(v1 / .01 + .0121 * v0 / 1e-4)
    assert d["relative_ci_high"] - d["relative"] == pytest.approx(1.959963984540054 * se)
    # Fieller bounds solve (f1 - rho f0)^2 = z^2 (v1 + rho^2 v0) exactly
    z = 1.959963984540054
    for bound in (f["relative_ci_low"], f["relative_ci_high"]):
        rho = bound + 1
        assert (0.11 - rho * 0.1) ** 2 == pytest.approx(z ** 2 * (v1 + rho ** 2 * v0), rel=1e-9)
    assert f["relative_ci_low"] < 0.1 < f["relative_ci_high"]
    # with the pooled test (the default) the interval is Koopman's score interval (statsmodels)
    s = analyze(df, "arm", "conv", control="A").table.iloc[0]
    lo, hi = confint_proportions_2indep(1100, 10000, 1000, 10000, method="score", compare="ratio",
                                        correction=False)
    assert s["relative_ci_low"] == pytest.approx(lo - 1, abs=1e-8)
    assert s["relative_ci_high"] == pytest.approx(hi - 1, abs=1e-8)


def test_bad_input_raises_specific_errors():
    df = pd.DataFrame({"v": [0, 1, 0, 1], "y": [1.0, 2.0, np.nan, 3.0]})
    with pytest.raises(MissingValueError, match="'y'"):
        analyze(df, "v", "y")
    with pytest.raises(ColumnNotFoundError, match="did you mean 'v'"):
        analyze(df, "V", "y")
    with pytest.raises(DataError, match="only one arm"):
        analyze(pd.DataFrame({"v": [1, 1], "y": [1.0, 2.0]}), "v", "y")
    with pytest.raises(OptionError, match="control arm"):
        analyze(df.fillna(0), "v", "y", control="zzz")
    with pytest.raises(OptionError):
        Metric("r", kind="ratio")


def test_ratio_and_cuped_from_sql_cross_products_equal_raw_rows():
    rng = np.random.default_rng(8)
    n = 6000
    df = pd.DataFrame({"arm": rng.integers(0, 2, n), "sess": rng.poisson(4, n) + 1})
    df["clicks"] = rng.binomial(df.sess, 0.3)
    df["pre"] = df.clicks + rng.poisson(2, n)
    metrics = [Metric("ctr", column="clicks", denominator="sess"), Metric("clicks", covariate="pre")]
    raw = analyze(df, "arm", metrics).table
    moments = {}
    for m in metrics:
        cols = list(m.columns)
        g = df.groupby("arm")
        sums = g[cols].sum().to_numpy()                                  # SUM(col)
        cross = np.stack([np.stack([g.apply(lambda d, a=a, b=b: (d[a] * d[b]).sum(),
                                            include_groups=False).to_numpy()
                                    for b in cols], axis=-1) for a in cols], axis=-2)
        moments[m.name] = Moments.from_sums(g.size().to_numpy(), sums, cross, names=cols)
    st = ExperimentStats((0, 1), moments, {m.name: m for m in metrics})
    agg = analyze(st).table
    for col in ["estimate", "std_error", "p_value", "relative_ci_low"]:
        np.testing.assert_allclose(agg[col], raw[col], rtol=1e-9)
    assert agg.loc[1, "variance_reduction"] == pytest.approx(raw.loc[1, "variance_reduction"], rel=1e-9)
