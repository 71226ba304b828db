"""Event study: coefficients and the pre-trend F test against statsmodels' LSDV regression,
size and power of the pre-trend test by simulation, binning, and the plot."""

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import causalkit
from causalkit.errors import DataError, DuplicatePanelRowError, EmptyArmError, OptionError
from causalkit.panel.event_study import event_study, plot_event_study


def panel(seed, n_units=80, n_periods=6, cohorts=(0, 2, 4), pretrend=0.0):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    g = np.repeat(rng.choice(cohorts, n_units), n_periods)
    rel = t - g
    effect = np.where((g > 0) & (rel >= 0), 1.0 + 0.5 * rel, 0.0)
    trend = pretrend * np.where(g > 0, t, 0)  # treated units drift: parallel trends fail
    y = rng.normal(size=n_units)[unit] + 0.2 * t + effect + trend + rng.normal(size=unit.size)
    return pd.DataFrame({"id": unit, "t": t, "g": g, "y": y,
                         "d": ((g > 0) & (rel >= 0)).astype(int)})


def _lsdv(df):
    rel = np.where(df.g > 0, df.t - df.g, -1).astype(int)  # never treated -> reference
    dummies = pd.get_dummies(pd.Series(rel), prefix="", prefix_sep="", dtype=float)
    dummies = dummies.drop(columns="-1")
    names = {c: f"e{int(c) + 100}" for c in dummies.columns}  # formula-safe names
    data = pd.concat([df.reset_index(drop=True), dummies.rename(columns=names)], axis=1)
    formula = "y ~ " + " + ".join(names.values()) + " + C(id) + C(t)"
    ref = smf.ols(formula, data=data).fit(cov_type="cluster",
                                          cov_kwds={"groups": data["id"]}, use_t=True)
    return ref, {int(c): n for c, n in names.items()}


def test_coefficients_and_pretrend_test_match_lsdv():
    df = panel(0)
    eff = causalkit.estimate(df, outcome="y", method="event_study", unit="id", time="t",
                             cohort="g")
    ref, names = _lsdv(df)
    table = eff.diagnostics["event_study"].set_index("event_time")
    for e, name in names.items():
        assert table.loc[e, "att"] == pytest.approx(ref.params[name], abs=1e-8)
    assert table.loc[-1, "att"] == 0.0
    # same CR1 rescaling as twfe: unit effects nested in clusters not counted
    scale = ref.df_resid / (len(df) - len(names) - df.t.nunique())
    for e, name in names.items():
        assert table.loc[e, "std_error"] == pytest.approx(ref.bse[name] * np.sqrt(scale),
                                                          rel=1e-8)
    pre = [names[e] for e in sorted(names) if e < 0]
    f_ref = ref.f_test(", ".join(f"{p} = 0" for p in pre))
    assert eff.diagnostics["pretrend_F"] == pytest.approx(float(f_ref.fvalue) / scale, rel=1e-8)
    assert eff.diagnostics["pretrend_df"] == len(pre)
    post = [names[e] for e in sorted(names) if e >= 0]
    assert eff.estimate == pytest.approx(np.mean([ref.params[p] for p in post]), abs=1e-8)


def test_treatment_column_gives_same_result_as_cohort():
    df = panel(1)
    a = event_study(df, "y", "id", "t", cohort="g")
    b = event_study(df, "y", "id", "t", treatment="d")
    assert a.estimate == pytest.approx(b.estimate, abs=1e-12)


def test_pretrend_test_size_and_power():
    # size: 60 panels under parallel trends, 5% test; the MC SE of the rejection rate is
    # 0.028, so <= 0.13 is a ~3-SE band (clustered Wald tests over-reject slightly with ~20
    # units per cohort: 0.057 in 300 separate runs).  Power: a clear violation.
    rejections = [event_study(panel(s, n_units=60), "y", "id", "t", cohort="g")
                  .diagnostics["pretrend_p_value"] < 0.05 for s in range(60)]
    assert np.mean(rejections) <= 0.13
    bad = event_study(panel(7, pretrend=0.8), "y", "id", "t", cohort="g")
    assert bad.diagnostics["pretrend_p_value"] < 1e-4


def test_leads_lags_binning_and_no_never_treated():
    df = panel(2, cohorts=(0, 2, 4))
    eff = event_study(df, "y", "id", "t", cohort="g", leads=2, lags=1)
    assert sorted(eff.diagnostics["event_study"].event_time) == [-2, -1, 0, 1]
    only_treated = panel(3, cohorts=(2, 3, 4))
    eff = event_study(only_treated, "y", "id", "t", cohort="g")
    assert eff.diagnostics["reference_periods"] == [-1, -4]


def test_plot_event_study_for_event_study_and_callaway_santanna():
    df = panel(4)
    ax = plot_event_study(event_study(df, "y", "id", "t", cohort="g"))
    assert isinstance(ax, matplotlib.axes.Axes) and len(ax.containers) == 2
    cs = causalkit.estimate(df, outcome="y", method="callaway_santanna", unit="id",
                            time="t", cohort="g")
    ax = plot_event_study(cs, title="CS")
    assert ax.get_title() == "CS"
    with pytest.raises(OptionError):
        plot_event_study(causalkit.estimate(df, "d", "y", method="difference_in_means"))


def test_bad_inputs():
    df = panel(5)
    with pytest.raises(DuplicatePanelRowError):
        event_study(pd.concat([df, df.iloc[[3]]]), "y", "id", "t", cohort="g")
    with pytest.raises(EmptyArmError):
        event_study(df.assign(g=0), "y", "id", "t", cohort="g")
    switching = df.assign(d=np.where((df.g > 0) & (df.t == df.t.max()), 0, df.d))
    with pytest.raises(DataError, match="switches off"):
        event_study(switching, "y", "id", "t", treatment="d")
    with pytest.raises(OptionError):
        event_study(df, "y", "id", "t", cohort="g", leads=1)


@pytest.mark.parametrize("method", ["event_study", "sun_abraham"])
def test_a_unit_treated_from_period_zero_is_not_counted_as_never_treated(method):
    """Cohort 0 codes never treated units; a unit first treated in period 0 used to be
    counted as a control silently (the estimate came out)."""
    rng = np.random.default_rng(0)
    rows = [(u, t, int(t >= g), rng.normal() + (t >= g))
            for u, g in zip(range(60), [0, 3, np.inf] * 20) for t in range(6)]
    df = pd.DataFrame(rows, columns=["u", "t", "d", "y"])
    with pytest.raises(causalkit.errors.DataError, match="first treated in period 0"):
        causalkit.estimate(df, "d", "y", method=method, unit="u", time="t")
