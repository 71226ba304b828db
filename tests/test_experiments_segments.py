"""Segment effects: Cochran's Q against statsmodels' meta-analysis, and Simpson's paradox."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from causalkit.errors import DataError
from causalkit.experiments import SimpsonsParadoxWarning, segment_effects
from causalkit.experiments.multiple import adjust_p


def _hetero(seed=0):
    rng = np.random.default_rng(seed)
    n = 6000
    seg = rng.choice(["ios", "android", "web"], n)
    arm = rng.choice(["control", "B", "C"], n)
    lift = np.select([seg == "ios", seg == "web"], [0.3, -0.1], 0.05) * (arm != "control")
    return pd.DataFrame({"arm": arm, "seg": seg, "y": rng.normal(lift, 1.0)})


def test_cochran_q_matches_statsmodels_and_segment_rows_match_subsets():
    df = _hetero()
    res = segment_effects(df, "arm", "y", "seg", control="control")
    for arm, g in res.table.groupby("arm"):
        ref = combine_effects(g.estimate.to_numpy(), g.std_error.to_numpy() ** 2)
        h = res.heterogeneity.set_index("arm").loc[arm]
        assert h.q == pytest.approx(ref.q, rel=1e-10)
        assert h.i2 == pytest.approx(max(0, ref.i2), abs=1e-10)
        np.testing.assert_allclose(g.p_adjusted, adjust_p(g.p_value, "holm"))
        # by hand: one segment's row is the Welch comparison inside the segment
        s = df[df.seg == "ios"]
        yt, yc = s.y[s.arm == arm], s.y[s.arm == "control"]
        row = g[g.segment == "ios"].iloc[0]
        assert row.estimate == pytest.approx(yt.mean() - yc.mean())
        assert row.std_error == pytest.approx(np.sqrt(yt.var() / len(yt) + yc.var() / len(yc)))
    assert (res.heterogeneity.p_value < 0.01).all()
    assert not res.simpson.alarm.any()


def test_simpsons_paradox_alarm():
    rng = np.random.default_rng(1)
    # treatment helps in both segments (+0.5) but gets mostly the low-baseline segment
    seg_t = rng.choice(["hi", "lo"], 4000, p=[0.2, 0.8])
    seg_c = rng.choice(["hi", "lo"], 4000, p=[0.8, 0.2])
    seg = np.r_[seg_t, seg_c]
    arm = np.repeat(["B", "control"], 4000)
    base = np.where(seg == "hi", 5.0, 0.0)
    df = pd.DataFrame({"arm": arm, "seg": seg,
                       "y": rng.normal(base + 0.5 * (arm == "B"), 1.0)})
    with pytest.warns(SimpsonsParadoxWarning, match="opposite signs"):
        res = segment_effects(df, "arm", "y", "seg", control="control", split=[0.5, 0.5])
    s = res.simpson.iloc[0]
    assert s.alarm and s.pooled < 0 < s.stratified
    assert (res.table.estimate > 0).all()
    w = df.seg.value_counts(normalize=True)
    by = res.table.set_index("segment").estimate
    assert s.stratified == pytest.approx(w["hi"] * by["hi"] + w["lo"] * by["lo"])


def test_single_segment_is_refused():
    df = _hetero().assign(seg="all")
    with pytest.raises(DataError, match="single value"):
        segment_effects(df, "arm", "y", "seg", control="control")
