"""Impossible statistics, the control arm, empty arms in SRM, metric names (issue 13, items 2, 3, 5, 6)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import math
from scipy import stats

from causalkit.errors import CausalKitError, DataError, EmptyArmError, OptionError
from causalkit.experiments import (ExperimentStats, Metric, Moments, SampleRatioMismatchWarning,
                                   analyze, srm_check)
from causalkit.experiments import stats as ekstats
from causalkit.experiments.design import clustered, post_stratified


def _agg(n, s, ss, arms=("control", "B")):
    return pd.DataFrame({"arm": list(arms), "n": n, "s": s, "ss": ss})


@pytest.mark.parametrize("n,s,ss,kind,match", [
    ([50, 50], [60.0, 20.0], [60.0, 20.0], "proportion", r"arm 'control' has 60 successes out of 50"),
    ([50, 50], [-3.0, 20.0], [-3.0, 20.0], "proportion", r"arm 'control' has -3 successes"),
    ([50, 50], [10.5, 20.0], [10.5, 20.0], "proportion", r"has 10.5 successes"),
    ([50, 50], [10.0, 20.0], [12.0, 20.0], "proportion", r"sum of squares 12.*not 0/1"),
    ([-50, 50], [10.0, 20.0], [10.0, 20.0], "mean", r"arm 'control' has a negative count \(-50\)"),
    ([50.5, 50], [10.0, 20.0], [10.0, 20.0], "mean", r"arm 'control' has a fractional count \(50.5\)"),
    ([100, 100], [1000.0, 1100.0], [11000.0, 5000.0], "mean", r"arm 'B' .*a negative variance"),
    ([0, 50], [3.0, 20.0], [9.0, 20.0], "mean", r"arm 'control' has 0 units but a non-zero sum"),
])
def test_from_aggregates_refuses_impossible_inputs(n, s, ss, kind, match):
    with pytest.raises(DataError, match=match):
        ExperimentStats.from_aggregates(_agg(n, s, ss), "arm", "n", {"c": ("s", "ss")},
                                        kinds={"c": kind})


def test_from_aggregates_lost_precision_and_kinds_names():
    # mean 1e8, sd 1: sum(x^2) = n (1e16 + 1) is 1e16-dominated; the variance is lost to rounding
    n = 1000
    s, ss = n * 1e8, n * (1e16 + 1.0)
    with pytest.raises(DataError, match="lost to rounding"):
        ExperimentStats.from_aggregates(_agg([n, n], [s, s], [ss, ss]), "arm", "n", {"y": ("s", "ss")})
    good = _agg([4, 4], [14.0, 18.0], [70.0, 90.0])
    with pytest.raises(OptionError, match="did you mean 'y'"):
        ExperimentStats.from_aggregates(good, "arm", "n", {"y": ("s", "ss")}, kinds={"Y": "proportion"})
    with pytest.raises(OptionError, match="'mean' or 'proportion'"):
        ExperimentStats.from_aggregates(good, "arm", "n", {"y": ("s", "ss")}, kinds={"y": "ratio"})


def test_constructed_statistics_are_checked_too():
    bad = Moments(np.array([10.0, 10.0]), np.array([[1.0], [2.0]]), np.array([[[-4.0]], [[9.0]]]))
    with pytest.raises(DataError, match="arm 0 has a negative variance"):
        ExperimentStats((0, 1), {"y": bad}, {"y": Metric("y", kind="mean")})
    frac = Moments(np.array([10.5, 10.0]), np.array([[1.0], [2.0]]), np.array([[[4.0]], [[9.0]]]))
    with pytest.raises(DataError, match="fractional count"):
        ExperimentStats((0, 1), {"y": frac}, {"y": Metric("y", kind="mean")})
    prop = Moments(np.array([10.0, 10.0]), np.array([[1.2], [0.2]]), np.array([[[0.0]], [[1.6]]]))
    with pytest.raises(DataError, match="12 successes out of 10"):
        ExperimentStats((0, 1), {"c": prop}, {"c": Metric("c", kind="proportion")})


def test_srm_of_no_units_and_of_fractional_counts():
    with pytest.raises(DataError, match="every arm has 0 units"):
        srm_check([0, 0])
    with pytest.raises(DataError, match="whole"):
        srm_check([10.5, 10])


def test_empty_categorical_arm_counts_in_srm():
    rng = np.random.default_rng(0)
    arm = pd.Categorical(np.repeat(["control", "B"], 500), categories=["control", "B", "C"])
    df = pd.DataFrame({"arm": arm, "y": rng.normal(size=1000)})
    st = ExperimentStats.from_rows(df, "arm", "y")
    assert st.arms == ("control", "B", "C") and st.counts().tolist() == [500, 500, 0]
    with pytest.warns(SampleRatioMismatchWarning, match=r"\[500, 500, 0\]"):
        with pytest.raises(EmptyArmError, match=r"arm 'C' has 0 unit\(s\).*MISMATCH"):
            analyze(df, "arm", "y")
    chi = stats.chisquare([500, 500, 0])                        # the mismatch it reports
    with pytest.warns(SampleRatioMismatchWarning):
        r = srm_check(st.counts(), labels=st.arms)
    assert r.mismatch and r.statistic == pytest.approx(chi.statistic) and r.df == 2
    # dropping the unused category explicitly analyzes the two arms, without a mismatch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = analyze(df.assign(arm=df.arm.cat.remove_unused_categories()), "arm", "y")
    assert list(res.table.arm) == ["B"] and not res.srm.mismatch


def test_control_must_be_given_unless_unambiguous():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"arm": np.repeat(["old", "new"], 200),
                       "y": np.r_[rng.normal(10, 1, 200), rng.normal(11, 1, 200)]})
    with pytest.raises(OptionError, match=r"which arm is the control.*pass control="):
        analyze(df, "arm", "y")
    res = analyze(df, "arm", "y", control="old")
    row = res.table.iloc[0]
    assert row["arm"] == "new" and row["control"] == "old" and res.control == "old"
    assert row["estimate"] == pytest.approx(df.y[df.arm == "new"].mean() - df.y[df.arm == "old"].mean())
    assert row["estimate"] > 0 and "control = 'old': given" in res.summary()
    # the unambiguous cases, and the result says which rule chose the control
    cases = [(["control", "B", "C"], "control", "named 'control'"), (["Baseline", "x"], "Baseline", "named"),
             ([1, 0, 2], 0, "integer arms 0..2"), ([True, False], 0, "integer arms 0..1"),
             (["B", "A"], "A", "letter arms")]
    for labels, expected, rule in cases:
        d = pd.DataFrame({"arm": np.repeat(labels, 30), "y": rng.normal(size=30 * len(labels))})
        r = analyze(d, "arm", "y")
        assert r.control == expected and rule in r.control_rule, labels
        assert set(r.table["control"]) == {expected}
    for labels in (["control", "ctrl"], [1, 2], ["A", "C"], ["treatment", "holdout"]):
        d = pd.DataFrame({"arm": np.repeat(labels, 30), "y": rng.normal(size=30 * len(labels))})
        with pytest.raises(OptionError, match="control"):
            analyze(d, "arm", "y")
    # the design estimators share the rule and name the control
    df["user"] = np.arange(len(df))
    with pytest.raises(OptionError, match="which arm is the control"):
        clustered(df, "arm", "y", "user")
    eff = clustered(df, "arm", "y", "user", control="old")["new"]
    assert eff.diagnostics["control"] == "old" and eff.estimate == pytest.approx(row["estimate"])
    assert post_stratified(df.assign(s=df.user % 2), "arm", "y", "s", control="old")["new"] \
        .diagnostics["control"] == "old"


def test_unknown_metric_of_statistics_is_a_named_error():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"v": np.repeat([0, 1], 100), "revenue": rng.normal(size=200),
                       "clicks": rng.poisson(3, 200)})
    st = ExperimentStats.from_rows(df, "v", ["revenue", "clicks"])
    with pytest.raises(CausalKitError, match=r"metric 'revenu' is not in the experiment statistics; "
                                             r"did you mean 'revenue'\?"):
        analyze(st, metrics=["revenu"])
    with pytest.raises(OptionError, match="'unknown' is not in the experiment statistics"):
        analyze(st, metrics=["unknown"])
    assert list(analyze(st, metrics="clicks").table.metric) == ["clicks"]
    with pytest.raises(OptionError, match="variant= is for raw rows"):
        analyze(st, "v", ["clicks"])
    with pytest.raises(OptionError, match="computed for"):          # cannot add CUPED afterwards
        analyze(st, metrics=[Metric("revenue", covariate="clicks")])


def test_reduction_is_one_compiled_pass_per_chunk(monkeypatch):
    # the reduction once ran as thousands of tiny threaded BLAS products, whose speed depended on
    # the thread pool (seconds instead of tens of milliseconds on a busy machine); it is now one
    # single-threaded compiled kernel call per chunk, which never touches BLAS
    from numba.core.registry import CPUDispatcher
    assert isinstance(ekstats.accumulate_chunk, CPUDispatcher)
    calls = []
    inner = ekstats.accumulate_chunk

    def spy(codes, x, *totals):
        calls.append(x.shape)
        return inner(codes, x, *totals)

    monkeypatch.setattr(ekstats, "accumulate_chunk", spy)
    rng = np.random.default_rng(3)
    n_rows, groups = 10_000, 40
    codes = rng.integers(0, groups, n_rows)
    x = np.column_stack([1e8 + rng.normal(size=n_rows), rng.normal(size=n_rows),
                         rng.poisson(3, n_rows).astype(float)])
    m = ekstats.group_moments(codes, x, groups, chunk_rows=3_000)
    assert calls == [(3, 3_000)] * 3 + [(3, 1_000)]
    for g in (0, 17, 39):                                # exact reference: math.fsum two-pass
        rows = x[codes == g]
        mean = [math.fsum(c) / len(c) for c in rows.T]
        dev = rows - mean
        com = [[math.fsum(dev[:, j] * dev[:, l]) for l in range(3)] for j in range(3)]
        assert m.n[g] == len(rows)
        assert m.mean[g] == pytest.approx(mean, rel=1e-15, abs=1e-15)
        assert m.comoment[g] == pytest.approx(np.array(com), rel=1e-9)


def test_constant_arm_has_exactly_zero_variance():
    # the group sum of arm 0 is formed by difference from the chunk total: without the exact
    # check a constant arm got a ~1e-16 variance (and a zero SE looked like an infinite statistic)
    rng = np.random.default_rng(4)
    codes = np.repeat([0, 1, 2], 300)
    y = np.r_[np.full(300, 0.1), rng.normal(5, 3, 300), np.full(300, 2.0)]
    m = ekstats.group_moments(codes, y, 3)
    assert m.comoment[0, 0, 0] == 0.0 and m.comoment[2, 0, 0] == 0.0
    assert m.mean[0, 0] == 0.1 and m.mean[2, 0] == 2.0
    assert m.var()[1, 0] == pytest.approx(y[codes == 1].var(ddof=1), rel=1e-12)
    assert m.mean[1, 0] == pytest.approx(y[codes == 1].mean(), rel=1e-14)


def test_small_spread_group_is_recomputed_from_its_rows():
    # group 0's sums by difference from a chunk total dominated by group 1 (sd 1e6): its mean
    # was off by 2.5e-9, more than its standard error (1e-7 / sqrt(5000) = 1.4e-9); a group of
    # so small a spread is now recomputed from its own rows
    rng = np.random.default_rng(5)
    codes = np.repeat([0, 1], 5000)
    y = np.r_[2.0 + 1e-7 * rng.standard_normal(5000), rng.normal(0, 1e6, 5000)]
    m = ekstats.group_moments(codes, y, 2)
    assert m.var()[0, 0] == pytest.approx(y[:5000].var(ddof=1), rel=1e-6)
    assert m.mean[0, 0] == pytest.approx(y[:5000].mean(), rel=1e-15)
