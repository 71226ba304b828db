"""A standard error that cannot be computed is never a p-value (issue 13, item 1).

The three named sources of a NaN standard error (aggregates whose sum of
squares is too small, ``kind="proportion"`` forced on a continuous column,
values near 1e200) each gave ``p = 0`` on the starting commit.  Now the input
is refused with a DataError naming the metric, and at the source (``compare``)
an SE that is NaN, infinite or zero gives NaN with the reason in ``note``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalkit.errors import DataError
from causalkit.experiments import (ExperimentStats, Metric, Moments, UndefinedTestWarning, analyze,
                                   compare)


def _welch(df: pd.DataFrame, arm, control):
    return stats.ttest_ind(df.y[df.arm == arm], df.y[df.arm == control], equal_var=False)


def test_too_small_sum_of_squares_never_gives_p_zero():
    # arm B: sum 1100 over 100 units, so sum of squares >= 1100^2 / 100 = 12100; 5000 is impossible
    treat = Moments.from_sums(100, [1100.0], [[5000.0]])
    ctrl = Moments.from_sums(100, [1000.0], [[11000.0]])
    r = compare(treat, ctrl, Metric("y"))
    assert np.isnan(r.p_value) and np.isnan(r.statistic)
    assert np.isnan(r.ci_low) and np.isnan(r.relative_ci_low)
    assert "not finite" in str(r.note)
    agg = pd.DataFrame({"arm": ["control", "B"], "n": [100, 100], "s": [1000.0, 1100.0],
                        "ss": [11000.0, 5000.0]})
    with pytest.raises(DataError, match=r"metric 'y': arm 'B' has sum of squares 5000 .*negative"):
        ExperimentStats.from_aggregates(agg, "arm", "n", {"y": ("s", "ss")})


def test_proportion_forced_on_a_continuous_column():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"arm": np.repeat(["control", "B"], 500), "y": rng.normal(10, 2, 1000)})
    with pytest.raises(DataError, match="declared kind='proportion' but column 'y' is not 0/1"):
        analyze(df, "arm", Metric("y", kind="proportion"))
    # at the source: the pooled variance p (1 - p) of a "proportion" of 10 is negative
    m = Moments.from_rows(df.y.to_numpy().reshape(2, 500, 1))
    r = compare(m.take(1), m.take(0), Metric("y"), kind="proportion")
    assert np.isnan(r.p_value) and "outside [0, 1]" in str(r.note)
    # a 0/1 column declared a proportion is accepted, and values in (0, 1) are not 0/1
    ok = df.assign(y=(df.y > 10).astype(float))
    assert analyze(ok, "arm", Metric("y", kind="proportion")).table.kind[0] == "proportion"
    with pytest.raises(DataError, match="not 0/1"):
        analyze(df.assign(y=stats.norm.cdf(df.y - 10)), "arm", Metric("y", kind="proportion"))


def test_values_near_1e200_are_refused_and_large_or_tiny_scales_are_exact():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"arm": np.repeat(["control", "B"], 500), "y": rng.normal(10, 2, 1000)})
    with pytest.raises(DataError, match="overflow float64 when squared"):
        analyze(df.assign(y=df.y * 1e200), "arm", "y")
    with pytest.raises(DataError, match="underflow"):
        analyze(df.assign(y=df.y * 1e-200), "arm", "y")
    ref = _welch(df, "B", "control")
    base = analyze(df, "arm", "y").table.iloc[0]
    assert base["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    for scale in (1e100, 1e150, 1e-100, 1e-150):   # a scale-free test: same p, df, relative CI
        row = analyze(df.assign(y=df.y * scale), "arm", "y").table.iloc[0]
        assert row["kind"] == "mean"
        assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-9), scale
        assert row["df"] == pytest.approx(base["df"], rel=1e-9), scale
        for col in ("relative", "relative_ci_low", "relative_ci_high"):
            assert row[col] == pytest.approx(base[col], rel=1e-9, abs=1e-12), (scale, col)
        assert row["std_error"] == pytest.approx(base["std_error"] * scale, rel=1e-9)


def test_zero_standard_error_with_a_difference_is_no_test():
    # control and B constant (1.0 and 2.0), C varies: B vs control has SE 0 and a difference
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"arm": np.repeat(["control", "B", "C"], 50),
                       "y": np.r_[np.ones(50), np.full(50, 2.0), rng.normal(1.5, 1.0, 50)]})
    with pytest.warns(UndefinedTestWarning, match="B: the standard error is 0"):
        res = analyze(df, "arm", "y", correction="bonferroni")
    t = res.table.set_index("arm")
    assert np.isnan(t.loc["B", "p_value"]) and np.isnan(t.loc["B", "p_adjusted"])
    assert np.isnan(t.loc["B", "ci_low"]) and np.isnan(t.loc["B", "statistic"])
    assert "no variation within the arms" in t.loc["B", "note"]
    assert t.loc["B", "estimate"] == 1.0                      # the difference itself is known
    # the other arm's test is computed (Welch; a family of one computed test: no adjustment)
    c = df.y[df.arm == "C"]
    ref = stats.ttest_ind_from_stats(c.mean(), c.std(), 50, 1.0, 0.0, 50, equal_var=False)
    assert t.loc["C", "p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert t.loc["C", "p_adjusted"] == t.loc["C", "p_value"] and t.loc["C", "note"] == ""
    assert "no variation within the arms" in res.summary()


def test_zero_standard_error_at_the_source_and_constant_equal_arms():
    same = Moments.from_mean_cov(10, [3.0], [[0.0]])
    other = Moments.from_mean_cov(10, [4.0], [[0.0]])
    for t, c, text in ((other, same, "non-zero difference"), (same, same, "difference is 0")):
        r = compare(t, c, Metric("y"))
        assert np.isnan(r.p_value) and np.isnan(r.statistic) and text in str(r.note)
    # a batch: only the undefined entries are NaN
    batch = Moments(np.array([10.0, 10.0]), np.array([[4.0], [4.0]]), np.array([[[0.0]], [[9.0]]]))
    ctrl = Moments(np.array([10.0, 10.0]), np.array([[3.0], [3.0]]), np.array([[[0.0]], [[9.0]]]))
    r = compare(batch, ctrl, Metric("y"))
    assert np.isnan(r.p_value[0]) and r.note[1] == ""
    ref = stats.ttest_ind_from_stats(4.0, 1.0, 10, 3.0, 1.0, 10, equal_var=False)
    assert r.p_value[1] == pytest.approx(ref.pvalue, rel=1e-10)


def test_all_zero_proportions_are_no_test_and_valid_rows_warn_nothing():
    zeros = Moments.from_sums(100, [0.0], [[0.0]])
    r = compare(zeros, zeros, Metric("c", kind="proportion"))
    assert np.isnan(r.p_value) and "standard error is 0" in str(r.note)
    df = pd.DataFrame({"v": np.repeat([0, 1], 100), "y": np.tile([0.0, 1.0, 3.0, 2.0], 50)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert analyze(df, "v", "y").table.note[0] == ""


def test_post_stratified_zero_standard_error_is_no_test():
    from causalkit.experiments import post_stratified

    df = pd.DataFrame({"v": np.tile([0, 1], 20), "s": np.repeat([0, 1], 20)})
    df["y"] = df.v * 1.0 + df.s                      # constant within every stratum and arm
    eff = post_stratified(df, "v", "y", "s")[1]
    assert eff.estimate == 1.0 and eff.std_error == 0.0
    assert np.isnan(eff.p_value) and np.isnan(eff.statistic) and np.isnan(eff.ci_low)
    assert "no variation" in eff.diagnostics["note"]
