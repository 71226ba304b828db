"""Callaway–Sant'Anna completed (issue 16): anticipation periods (every ATT(g, t) and its SE
equal diff-diff's CallawaySantAnna(anticipation=1) on mpdta) and the calendar aggregation
(R did's type="calendar": the cohort-share weighted post-treatment cells of each period,
averaged over periods, checked by hand from the cells)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import OptionError

MPDTA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mpdta.csv"


@pytest.fixture(scope="module")
def mpdta():
    if not MPDTA.exists():
        pytest.skip(f"mpdta.csv not found at {MPDTA} (needs ../shared/data beside the clone)")
    return pd.read_csv(MPDTA)


def _cs(df, **kw):
    return causalkit.estimate(df, outcome="lemp", method="callaway_santanna",
                              unit="countyreal", time="year", cohort="first.treat", **kw)


@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_anticipation_cells_equal_diff_diff(mpdta, control_group):
    dd = pytest.importorskip("diff_diff.staggered", reason="diff-diff not installed")
    eff = _cs(mpdta, anticipation=1, control_group=control_group, est_method="reg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = dd.CallawaySantAnna(anticipation=1, control_group=control_group,
                                  estimation_method="reg").fit(
            mpdta, outcome="lemp", unit="countyreal", time="year", first_treat="first.treat")
    cells = eff.diagnostics["att_gt"]
    assert 2004 not in set(cells.group)          # no period before 2004 - 1: dropped
    for row in cells.itertuples():
        theirs = ref.group_time_effects[(int(row.group), int(row.time))]
        assert row.att == pytest.approx(theirs["effect"], rel=1e-9, abs=1e-12)
        assert row.std_error == pytest.approx(theirs["se"], rel=1e-7)
    assert eff.diagnostics["anticipation"] == 1


def test_calendar_aggregation_by_hand(mpdta):
    eff = _cs(mpdta, aggregation="calendar")
    cells = eff.diagnostics["att_gt"]
    share = mpdta.groupby("countyreal")["first.treat"].first().value_counts(normalize=True)
    post = cells[cells.time >= cells.group]
    by_t = {t: float(np.average(c.att, weights=share.loc[c.group].to_numpy()))
            for t, c in post.groupby("time")}
    table = eff.diagnostics["calendar_effects"].set_index("time")
    for t, value in by_t.items():
        assert table.loc[t, "att"] == pytest.approx(value, rel=1e-12)
    assert eff.estimate == pytest.approx(np.mean(list(by_t.values())), rel=1e-12)
    assert eff.diagnostics["calendar_att"] == eff.estimate
    assert 0 < eff.std_error == eff.diagnostics["calendar_se"]
    # with no anticipation the simple aggregation is unchanged (equal to diff-diff's too)
    assert _cs(mpdta, anticipation=0).estimate == pytest.approx(
        eff.diagnostics["simple_att"], rel=1e-12)


@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_bad_anticipation_is_an_option_error(mpdta, value):
    with pytest.raises(OptionError, match="anticipation"):
        _cs(mpdta, anticipation=value)
