"""Sun & Abraham (2021) interaction-weighted event study: equal to pyfixest's saturated
event study on mpdta and castle, the closed-form path equal to PanelOLS, the
no-never-treated fallback equal to its brute-force definition, bias of the TWFE event
study that the IW estimator removes (simulation), bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest

import causalkit
from staggered_data import castle_with_cohorts
from causalkit.errors import DataError, EmptyArmError, RoleError
from causalkit.panel._panel import fit_twfe
from causalkit.panel._staggered import staggered_panel
from causalkit.panel.event_study import event_study
from causalkit.panel.sun_abraham import _cells, _fit_cells, sun_abraham


def _pyfixest():
    return pytest.importorskip("pyfixest", reason="pyfixest (test extra) is not installed")


@pytest.fixture(scope="module")
def mpdta(shared_csv):
    return shared_csv("mpdta.csv")


@pytest.fixture(scope="module")
def castle():
    return castle_with_cohorts()


def staggered(seed, n_units=300, n_periods=8, cohorts=(0, 3, 5), dynamic=0.5, noise=1.0):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(1, n_periods + 1), n_units)
    g = np.repeat(rng.choice(cohorts, n_units), n_periods)
    e = t - g
    # effects grow with time since treatment and differ by cohort
    effect = np.where((g > 0) & (e >= 0), 1.0 + dynamic * e + 0.3 * (g == cohorts[-1]), 0.0)
    y = rng.normal(size=n_units)[unit] + 0.3 * t + effect + noise * rng.normal(size=unit.size)
    return pd.DataFrame({"id": unit, "t": t, "g": g, "y": y,
                         "d": ((g > 0) & (e >= 0)).astype(int)})


def _compare_to_pyfixest(eff, data, y, i, t, g):
    pf = _pyfixest()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.event_study(data, yname=y, idname=i, tname=t, gname=g, estimator="saturated")
        agg = fit.aggregate()
    tidy = fit.tidy()
    cohort = eff.diagnostics["cohort_effects"]
    assert len(cohort) == len(tidy)
    for row in cohort.itertuples():
        name = f"rel_time::{row.event_time:.1f}:first_treated_period::{int(row.cohort)}"
        assert row.att == pytest.approx(tidy.loc[name, "Estimate"], abs=1e-10)
        assert row.std_error == pytest.approx(tidy.loc[name, "Std. Error"], rel=1e-8)
    table = eff.diagnostics["event_study"].set_index("event_time")
    assert sorted(table.index) == sorted([int(p) for p in agg.index] + [-1])
    for period, ref in agg.iterrows():
        assert table.loc[int(period), "att"] == pytest.approx(float(ref["Estimate"]), abs=1e-10)
        assert table.loc[int(period), "std_error"] == pytest.approx(
            float(ref["Std. Error"]), rel=1e-8)


def test_mpdta_equals_pyfixest_saturated_event_study(mpdta):
    eff = causalkit.estimate(mpdta, outcome="lemp", method="sun_abraham",
                             unit="countyreal", time="year", cohort="first.treat")
    _compare_to_pyfixest(eff, mpdta, "lemp", "countyreal", "year", "first.treat")
    # the IW weights are the cohorts' row shares at each relative period
    cells = eff.diagnostics["cohort_effects"]
    assert np.allclose(cells.groupby("event_time").weight.sum(), 1.0)
    # ATT: row-weighted mean of the post-treatment cohort effects
    post = cells[cells.event_time >= 0]
    assert eff.estimate == pytest.approx(np.average(post.att, weights=post.n_obs), abs=1e-12)


def test_castle_equals_pyfixest_saturated_event_study(castle):
    eff = sun_abraham(castle, "l_homicide", "sid", "year", cohort="g")
    _compare_to_pyfixest(eff, castle, "l_homicide", "sid", "year", "g")
    assert eff.diagnostics["n_clusters"] == 50


def test_closed_form_on_cells_equals_panelols():
    df = staggered(0, n_units=120, n_periods=6, cohorts=(0, 3, 4, 5))
    panel = staggered_panel(df, "y", "id", "t", cohort="g")
    cells = _cells(panel, 0.0)
    beta, V, G = _fit_cells(panel, cells)
    dummies = pd.DataFrame({f"c{j}": ((panel.cohort == g) & (panel.event_time == e)).astype(float)
                            for j, (g, e) in enumerate(zip(cells.cohort, cells.event_time))})
    fit = fit_twfe(df, "y", dummies, "id", "t", panel.clusters)
    assert np.allclose(beta, fit.params.to_numpy(), atol=1e-10)
    assert np.allclose(V, fit.cov.to_numpy(), rtol=1e-8, atol=1e-14)
    assert G == fit.n_clusters


def test_unbalanced_panel_takes_the_panelols_path_and_matches_pyfixest():
    rough = staggered(0, n_units=120, n_periods=6, cohorts=(0, 3, 4, 5))
    rough = rough.drop(index=[3, 50, 51]).reset_index(drop=True)
    eff = sun_abraham(rough, "y", "id", "t", cohort="g")
    assert "PanelOLS" in eff.inference
    _compare_to_pyfixest(eff, rough, "y", "id", "t", "g")


def test_always_treated_units_are_dropped_with_a_warning():
    df = staggered(5, n_units=100, cohorts=(0, 1, 3, 5))
    n_always = int((df.drop_duplicates("id").g == 1).sum())
    with pytest.warns(UserWarning, match=rf"{n_always} unit\(s\) treated from the first "
                                         rf"period on \(cohort <= 1\).*{n_always * 8} rows"):
        eff = sun_abraham(df, "y", "id", "t", cohort="g")
    ref = sun_abraham(df[df.g != 1], "y", "id", "t", cohort="g")
    assert eff.estimate == pytest.approx(ref.estimate, abs=1e-12)
    assert eff.diagnostics["dropped_always_treated_units"] == n_always


def test_treatment_column_equals_cohort_column():
    df = staggered(1, n_units=100)
    a = sun_abraham(df, "y", "id", "t", cohort="g")
    b = sun_abraham(df, "y", "id", "t", treatment="d")
    assert a.estimate == pytest.approx(b.estimate, abs=1e-12)
    assert a.std_error == pytest.approx(b.std_error, rel=1e-12)


def test_iw_removes_the_contamination_of_the_twfe_event_study():
    # one large panel with dynamic, cohort-specific effects: the truth at e = 0..2 is the
    # cohort-share average of 1 + 0.5 e + 0.3 [g = 5]; the IW estimate is within 4 SE
    # of it, while the TWFE event study is contaminated by the other periods' effects.
    df = staggered(2, n_units=3000, n_periods=8, noise=0.5)
    eff = sun_abraham(df, "y", "id", "t", cohort="g")
    tab = eff.diagnostics["event_study"].set_index("event_time")
    units = df.drop_duplicates("id")
    for e in (0, 1, 2):
        share5 = (units.g == 5).sum() / (units.g > 0).sum()
        truth = 1.0 + 0.5 * e + 0.3 * share5
        assert abs(tab.loc[e, "att"] - truth) < 4 * tab.loc[e, "std_error"]
    # leads: no pre-trend in the data; the IW leads show none, while the TWFE event
    # study's leads pick up the cohorts' heterogeneous dynamics (Sun & Abraham, section 3)
    assert eff.diagnostics["pretrend_p_value"] > 0.001
    tw = event_study(df, "y", "id", "t", cohort="g").diagnostics["event_study"]
    tw = tw.set_index("event_time")
    assert abs(tw.loc[-4, "att"]) > 4 * tw.loc[-4, "std_error"]
    assert abs(tab.loc[-4, "att"]) < 3 * tab.loc[-4, "std_error"]


def test_no_never_treated_uses_the_last_cohort_as_control():
    df = staggered(3, n_units=150, n_periods=8, cohorts=(3, 5, 7))
    with pytest.warns(UserWarning, match=r"last-treated cohort \(first treated in 7.*the \d+ "
                                         r"rows from 7 on are dropped"):
        eff = sun_abraham(df, "y", "id", "t", cohort="g")
    # brute force: the same regression with cohort 7 recoded as never treated, late rows cut
    manual = df[df.t < 7].assign(g=lambda d: d.g.where(d.g != 7, 0))
    ref = sun_abraham(manual, "y", "id", "t", cohort="g")
    assert eff.estimate == pytest.approx(ref.estimate, abs=1e-12)
    assert eff.diagnostics["control_cohort"] == 7.0
    a = eff.diagnostics["event_study"]
    b = ref.diagnostics["event_study"]
    assert np.allclose(a[["att", "std_error"]], b[["att", "std_error"]], atol=1e-12)


def test_bad_input():
    df = staggered(4, n_units=60)
    single = df.assign(g=np.where(df.g > 0, 3, 3))
    with pytest.raises(EmptyArmError, match="every unit is in the same cohort"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sun_abraham(single, "y", "id", "t", cohort="g")
    switching = df.copy()
    switching.loc[(switching.id == switching.id[switching.d == 1].iloc[0])
                  & (switching.t == 8), "d"] = 0
    with pytest.raises(DataError, match=r"switches off again .*\(1 of 60 units, 1 rows"):
        sun_abraham(switching, "y", "id", "t", treatment="d")
    with pytest.raises(RoleError, match="exactly one of treatment"):
        sun_abraham(df, "y", "id", "t", treatment="d", cohort="g")
    with pytest.raises(RoleError, match="weights"):
        causalkit.estimate(df.assign(w=1.0), outcome="y", method="sun_abraham", unit="id",
                           time="t", cohort="g", weights="w")
