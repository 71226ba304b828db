"""Non-inferiority margins, guardrails and the ship / hold / roll-back decision."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import proportion as smprop
from statsmodels.stats.weightstats import ttest_ind

from causalkit.errors import OptionError
from causalkit.experiments import ExperimentStats, Metric, analyze


def _frame(n=3000, lift=0.0, lat=0.0, conv=0.0, seed=0):
    rng = np.random.default_rng(seed)
    arm = np.repeat(["control", "B"], [n, n + 200])
    t = arm == "B"
    return pd.DataFrame({"arm": arm, "rev": rng.normal(10 + lift * t, 3),
                         "lat": rng.normal(100 + lat * t, 10),
                         "conv": (rng.random(len(arm)) < 0.1 + conv * t).astype(int)})


@pytest.mark.parametrize("direction,alt,sign", [("higher", "larger", -1), ("lower", "smaller", 1)])
def test_absolute_margin_mean_matches_statsmodels(direction, alt, sign):
    df = _frame(lift=-0.1, seed=1)
    res = analyze(df, "arm", Metric("rev", margin=0.25, direction=direction), control="control")
    row = res.table.iloc[0]
    xt, xc = df.rev[df.arm == "B"], df.rev[df.arm == "control"]
    ref = ttest_ind(xt, xc, alternative=alt, usevar="unequal", value=sign * 0.25)
    assert row.ni_statistic == pytest.approx(-sign * ref[0], rel=1e-10)  # ours: > 0 favours NI
    assert row.p_noninferiority == pytest.approx(ref[1], rel=1e-9)
    assert row.ni_bound == pytest.approx(sign * 0.25)


def test_absolute_margin_proportion_matches_statsmodels_wald():
    df = _frame(conv=-0.005, seed=2)
    res = analyze(df, "arm", Metric("conv", margin=0.02), control="control")
    row = res.table.iloc[0]
    ct, nt = df.conv[df.arm == "B"].sum(), (df.arm == "B").sum()
    cc, nc = df.conv[df.arm == "control"].sum(), (df.arm == "control").sum()
    ref = smprop.test_proportions_2indep(ct, nt, cc, nc, value=-0.02, method="wald", compare="diff",
                                  alternative="larger", correction=False)
    assert row.ni_statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert row.p_noninferiority == pytest.approx(ref.pvalue, rel=1e-9)


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_relative_margin_closed_form(direction):
    df = _frame(lat=0.8, seed=3)
    res = analyze(df, "arm", Metric("lat", margin=0.01, margin_kind="relative",
                                    direction=direction), control="control")
    row = res.table.iloc[0]
    xt, xc = df.lat[df.arm == "B"], df.lat[df.arm == "control"]
    s = 1 if direction == "higher" else -1
    k = 1 - s * 0.01                  # H0: mean_t <= k mean_c (higher) / >= (lower)
    z = s * (xt.mean() - k * xc.mean()) / np.sqrt(xt.var() / len(xt) + k * k * xc.var() / len(xc))
    assert row.ni_statistic == pytest.approx(z, rel=1e-10)
    assert row.p_noninferiority == pytest.approx(stats.t.sf(z, row.df), rel=1e-9)
    assert row.ni_bound == pytest.approx((k - 1) * xc.mean())


def test_harm_p_is_the_one_sided_tail_of_the_row_test():
    df = _frame(lift=-0.3, seed=4)
    row = analyze(df, "arm", Metric("rev", guardrail=True), control="control").table.iloc[0]
    xt, xc = df.rev[df.arm == "B"], df.rev[df.arm == "control"]
    assert row.p_harm == pytest.approx(ttest_ind(xt, xc, alternative="smaller",
                                                 usevar="unequal")[1], rel=1e-9)


def _decide(df, metrics):
    return analyze(df, "arm", metrics, control="control").decision()


def test_decision_rule():
    guards = [Metric("lat", direction="lower", guardrail=True, margin=0.02, margin_kind="relative"),
              Metric("conv", guardrail=True, margin=0.02)]
    ship = _decide(_frame(lift=0.5, seed=5), [Metric("rev")] + guards)
    assert ship.arms.decision.tolist() == ["ship"]
    assert ship.metrics.status.tolist() == ["win", "pass", "pass"]
    # latency 5% worse: the guardrail fails -> roll back
    back = _decide(_frame(lift=0.5, lat=5.0, seed=5), [Metric("rev")] + guards)
    assert back.arms.decision.tolist() == ["roll back"] and "lat" in back.arms.reason[0]
    # a tight margin that the data cannot show: hold
    hold = _decide(_frame(lift=0.5, seed=5), [Metric("rev"), Metric("conv", guardrail=True,
                                                                     margin=0.001)])
    assert hold.arms.decision.tolist() == ["hold"]
    assert hold.metrics.status.tolist() == ["win", "inconclusive"]
    # primary significantly worse: roll back; flat primary: hold
    assert _decide(_frame(lift=-0.5, seed=5), ["rev"]).arms.decision.tolist() == ["roll back"]
    assert _decide(_frame(lift=0.0, seed=6), ["rev"]).arms.decision.tolist() == ["hold"]
    # lower is better for a primary: a drop is a win
    assert _decide(_frame(lat=-3.0, seed=5),
                   [Metric("lat", direction="lower")]).arms.decision.tolist() == ["ship"]


def test_margins_with_experiment_stats_input():
    df = _frame(seed=7)
    st = ExperimentStats.from_rows(df, "arm", ["rev", "conv"])
    a = analyze(st, metrics=[Metric("rev", margin=0.3)], control="control").table
    b = analyze(df, "arm", [Metric("rev", margin=0.3)], control="control").table
    assert a.p_noninferiority[0] == pytest.approx(b.p_noninferiority[0], rel=1e-12)


@pytest.mark.parametrize("kw,match", [({"margin": -0.1}, "margin"), ({"margin": np.nan}, "margin"),
                                      ({"direction": "up"}, "direction"),
                                      ({"margin": 1.0, "margin_kind": "relative"}, "below 1"),
                                      ({"margin_kind": "pct"}, "margin_kind"),
                                      ({"guardrail": "yes"}, "guardrail")])
def test_bad_policy(kw, match):
    with pytest.raises(OptionError, match=match):
        Metric("y", **kw)
