"""Novelty / primacy: daily lifts and their WLS trend against statsmodels."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import statsmodels.api as sm  # noqa: E402

from causalkit.errors import DataError, OptionError  # noqa: E402
from causalkit.experiments import daily_effects  # noqa: E402


def _data(slope=-0.03, days=14, n=400, seed=0):
    rng = np.random.default_rng(seed)
    d = np.repeat(np.arange(days), n)
    arm = rng.choice(["control", "B", "C"], len(d))
    lift = np.where(arm == "B", 0.5 + slope * d, np.where(arm == "C", 0.1, 0.0))
    return pd.DataFrame({"day": pd.Timestamp("2026-01-01") + pd.to_timedelta(d, "D"),
                         "arm": arm, "y": rng.normal(lift, 1.0)})


@pytest.mark.parametrize("scale,cov", [("estimated", "nonrobust"), ("fixed", "fixed scale")])
def test_trend_matches_statsmodels_wls(scale, cov):
    res = daily_effects(_data(), "arm", "y", "day", control="control", scale=scale)
    for arm, g in res.table.groupby("arm"):
        fit = sm.WLS(g.estimate.to_numpy(), sm.add_constant(g.period_index.to_numpy()),
                     weights=1 / g.std_error.to_numpy() ** 2).fit(cov_type=cov)
        tr = res.trends.set_index("arm").loc[arm]
        assert tr.slope == pytest.approx(fit.params[1], rel=1e-9)
        assert tr.std_error == pytest.approx(fit.bse[1], rel=1e-9)
        assert tr.p_value == pytest.approx(fit.pvalues[1], rel=1e-7)
        # a day's row is the Welch comparison on that day's units
    df = _data()
    d0 = df[df.day == df.day.min()]
    yt, yc = d0.y[d0.arm == "B"], d0.y[d0.arm == "control"]
    row = res.table[(res.table.arm == "B") & (res.table.period_index == 0)].iloc[0]
    assert row.estimate == pytest.approx(yt.mean() - yc.mean())
    tr = res.trends.set_index("arm")
    assert tr.loc["B", "p_value"] < 0.01 and tr.loc["B", "slope"] < 0


def test_trend_level_under_constant_effect():
    # 2000 experiments of 7 days (daily lifts from 150 + 150 units, unequal daily SDs) with a
    # constant lift: MC SE of a 5% level is 0.5%; tolerance ~3 SE
    from causalkit.experiments.novelty import weighted_trend
    rng = np.random.default_rng(5)
    reps, days, n = 2000, 7, 150
    sd = np.linspace(0.5, 2.0, days)
    yt = rng.normal(0.2, sd[None, :, None], (reps, days, n))
    yc = rng.normal(0.0, sd[None, :, None], (reps, days, n))
    est = yt.mean(-1) - yc.mean(-1)
    se = np.sqrt(yt.var(-1, ddof=1) / n + yc.var(-1, ddof=1) / n)
    rej = np.mean([weighted_trend(np.arange(days), est[r], se[r])["p_value"] < 0.05
                   for r in range(reps)])
    assert abs(rej - 0.05) < 0.016


def test_plot_and_bad_input(tmp_path):
    res = daily_effects(_data(days=5), "arm", "y", "day", control="control")
    fig = res.plot(tmp_path / "daily.png")
    assert (tmp_path / "daily.png").stat().st_size > 1000 and len(fig.axes) == 1
    with pytest.raises(DataError, match="at least 3 periods"):
        daily_effects(_data(days=2), "arm", "y", "day", control="control")
    with pytest.raises(OptionError, match="scale"):
        daily_effects(_data(days=4), "arm", "y", "day", control="control", scale="robust")
    bad = _data(days=4).assign(day="x")
    with pytest.raises(OptionError, match="numeric or datetime"):
        daily_effects(bad, "arm", "y", "day", control="control")
