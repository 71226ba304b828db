"""Callaway–Sant'Anna completed (issue 16): anticipation periods (every ATT(g, t) and its SE
equal diff-diff's CallawaySantAnna(anticipation=1) on mpdta), the calendar aggregation
(R did's type="calendar": the cohort-share weighted post-treatment cells of each period,
averaged over periods, checked by hand from the cells), repeated cross-sections
(``panel=False``) and unbalanced panels (``allow_unbalanced_panel=True``): every ATT(g, t),
its SE and the four aggregations equal csdid's ATTgt (the Python port of R did) on mpdta
rows, with and without sampling weights and clustering; a closed form of the RC DR
estimator by statsmodels; hand cell means; the coverage of the RC influence-function SE;
moderndid's att_gt when installed."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import DataError, OptionError
from causalkit.panel.callaway_santanna import callaway_santanna

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


# ------------------------------------------------ repeated cross-sections, unbalanced panels
@pytest.fixture(scope="module")
def mpdta_rows(mpdta):
    """85% of mpdta's rows: an unbalanced panel, or repeated cross-sections by row id."""
    rows = mpdta.sample(frac=0.85, random_state=3).reset_index(drop=True)
    rng = np.random.default_rng(0)
    unit_w = dict(zip(rows.countyreal.unique(), rng.uniform(0.5, 2, rows.countyreal.nunique())))
    return rows.assign(rid=np.arange(len(rows)), w_row=rng.uniform(0.5, 2, len(rows)),
                       w_unit=rows.countyreal.map(unit_w))


def _csdid(data, idname, est_method="dr", **kw):
    """csdid's ATTgt: cells, cell SEs and the four aggregations (analytic SEs)."""
    import contextlib
    import io

    att_gt = pytest.importorskip("csdid.att_gt", reason="csdid not installed")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        ref = att_gt.ATTgt(yname="lemp", gname="first.treat", idname=idname, tname="year",
                           data=data, control_group="nevertreated", **kw).fit(
            est_method=est_method, bstrap=False)
        overall = {}
        for kind in ("simple", "group", "dynamic", "calendar"):
            ref.aggte(typec=kind, bstrap=False)
            overall[kind] = (ref.atte["overall_att"], ref.atte["overall_se"])
    return (np.asarray(ref.results["att"], float), np.asarray(ref.results["se"], float),
            overall)


def _same_as_csdid(eff, ref):
    cells, (att, se, overall) = eff.diagnostics["att_gt"], ref
    np.testing.assert_allclose(cells.att, att, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cells.std_error, se, rtol=1e-9)
    for kind, (a, s) in overall.items():
        assert eff.diagnostics[f"{kind}_att"] == pytest.approx(a, rel=1e-9), kind
        assert eff.diagnostics[f"{kind}_se"] == pytest.approx(s, rel=1e-9), kind


@pytest.mark.parametrize("est_method, weights", [("dr", None), ("ipw", None), ("reg", "w_row"),
                                                 ("dr", "w_row")])
def test_repeated_cross_sections_equal_csdid(mpdta_rows, est_method, weights):
    ref = _csdid(mpdta_rows, "rid", est_method, panel=False, xformla="lemp~lpop",
                 weights_name=weights)
    eff = _cs(mpdta_rows.drop(columns="countyreal").rename(columns={"rid": "countyreal"}),
              panel=False, covariates=["lpop"], est_method=est_method, weights=weights)
    assert eff.diagnostics["estimator"] == "repeated cross-sections"
    _same_as_csdid(eff, ref)


def test_repeated_cross_sections_clustered_equal_csdid(mpdta_rows):
    """``unit`` of a repeated cross-section is the cluster: several rows per unit and period
    are allowed; the clustered SEs equal csdid's clustervar (and cluster= on a row id)."""
    ref = _csdid(mpdta_rows, "rid", panel=False, xformla="lemp~lpop", clustervar="countyreal")
    stacked = pd.concat([mpdta_rows, mpdta_rows.iloc[:50]])       # repeated (county, year)
    by_unit = _cs(mpdta_rows, panel=False, covariates=["lpop"])
    _same_as_csdid(by_unit, ref)
    by_cluster = causalkit.estimate(mpdta_rows, outcome="lemp", method="callaway_santanna",
                                    unit="rid", time="year", cohort="first.treat",
                                    cluster="countyreal", panel=False, covariates=["lpop"])
    assert by_cluster.std_error == pytest.approx(by_unit.std_error, rel=1e-12)
    assert np.isfinite(_cs(stacked, panel=False).estimate)


@pytest.mark.parametrize("est_method, covariates, weights", [("dr", ["lpop"], None),
                                                             ("reg", None, None),
                                                             ("dr", ["lpop"], "w_unit")])
def test_unbalanced_panel_equals_csdid(mpdta_rows, est_method, covariates, weights):
    """R did's allow_unbalanced_panel=TRUE: observation-level cells, influence summed by
    county, cohort shares over counties."""
    ref = _csdid(mpdta_rows, "countyreal", est_method, allow_unbalanced_panel=True,
                 xformla="lemp~lpop" if covariates else None, weights_name=weights)
    eff = _cs(mpdta_rows, allow_unbalanced_panel=True, covariates=covariates,
              est_method=est_method, weights=weights)
    _same_as_csdid(eff, ref)
    assert eff.diagnostics["n_units"] == mpdta_rows.countyreal.nunique()
    assert eff.n_obs == len(mpdta_rows)


def test_unbalanced_panel_cells_are_differences_of_four_cell_means(mpdta, mpdta_rows):
    # without covariates each ATT(g,t) is a difference of four means of levels
    assert _cs(mpdta, allow_unbalanced_panel=True).estimate == _cs(mpdta).estimate
    eff = _cs(mpdta_rows, allow_unbalanced_panel=True)
    assert eff.diagnostics["estimator"] == "repeated cross-sections"
    y = mpdta_rows.set_index(["first.treat", "year"]).lemp.sort_index()
    for row in eff.diagnostics["att_gt"].itertuples():
        g, t, b = row.group, row.time, row.base_period
        treated = y.loc[(g, t)].mean() - y.loc[(g, b)].mean()
        control = y.loc[(0, t)].mean() - y.loc[(0, b)].mean()
        assert row.att == pytest.approx(treated - control, abs=1e-12)


def test_unbalanced_panel_without_the_option_is_an_error_naming_it(mpdta, mpdta_rows):
    with pytest.raises(DataError, match="unbalanced.*allow_unbalanced_panel=True"):
        _cs(mpdta_rows)
    # a balanced panel given as repeated cross-sections is fine (each row an observation)
    rc = _cs(mpdta, panel=False, covariates=["lpop"], est_method="reg")
    assert rc.diagnostics["estimator"] == "repeated cross-sections" and np.isfinite(rc.estimate)
    with pytest.raises(DataError, match="varies within unit"):
        _cs(mpdta_rows.assign(w_unit=mpdta_rows.w_row), allow_unbalanced_panel=True,
            weights="w_unit")
    for option in ("panel", "allow_unbalanced_panel"):
        with pytest.raises(OptionError, match=option):
            _cs(mpdta, **{option: "yes"})


def _rc_sample(seed, n=1200):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    d = (rng.uniform(size=n) < 1 / (1 + np.exp(-0.6 * x))).astype(int)
    post = rng.integers(0, 2, n)
    y = 1 + x + post * (0.5 + 0.4 * x) + d * (0.3 + x) + post * d * 1.0 + rng.normal(size=n)
    return pd.DataFrame({"id": np.arange(n), "t": 1 + post, "g": 2 * d, "y": y, "x": x})


def _drdid_rc_by_statsmodels(df):
    """Sant'Anna & Zhao (2020) locally efficient repeated cross-section DR (eq. 3.4)."""
    sm = pytest.importorskip("statsmodels.api")
    X = sm.add_constant(df.x.to_numpy())
    y, d, p = df.y.to_numpy(), (df.g > 0).to_numpy(float), (df.t == 2).to_numpy(float)
    ps = sm.Logit(d, X).fit(disp=0).predict(X)

    def m(mask):
        return X @ sm.OLS(y[mask > 0], X[mask > 0]).fit().params
    m0p, m0b, m1p, m1b = m((1 - d) * p), m((1 - d) * (1 - p)), m(d * p), m(d * (1 - p))
    r = y - p * m0p - (1 - p) * m0b
    odds = ps * (1 - d) / (1 - ps)

    def h(w, z):
        return np.sum(w * z) / np.sum(w)
    return (h(d * p, r) - h(d * (1 - p), r) - h(odds * p, r) + h(odds * (1 - p), r)
            + h(d, m1p - m0p) - h(d * p, m1p - m0p) - h(d, m1b - m0b) + h(d * (1 - p), m1b - m0b))


def test_repeated_cross_section_dr_matches_statsmodels_and_covers():
    df = _rc_sample(0)
    eff = callaway_santanna(df, "y", "id", "t", "g", covariates=["x"], panel=False)
    assert eff.estimate == pytest.approx(_drdid_rc_by_statsmodels(df), abs=1e-10)
    # no covariates: the SE is the textbook one of a difference of four independent means
    plain = callaway_santanna(df, "y", "id", "t", "g", panel=False, est_method="reg")
    cells = df.groupby([df.g, df.t]).y
    se = np.sqrt((cells.var(ddof=0) / cells.size()).sum())
    assert plain.std_error == pytest.approx(se, rel=1e-10)
    # coverage of the influence-function SE (dr, ipw, reg with a covariate): 60 samples per
    # method, true ATT 1; a 95% interval missing more than 9 of 60 has probability < 1%
    for method in ("dr", "ipw", "reg"):
        miss = sum(not (e.ci_low <= 1.0 <= e.ci_high) for e in (
            callaway_santanna(_rc_sample(s, 600), "y", "id", "t", "g", covariates=["x"],
                              panel=False, est_method=method) for s in range(60)))
        assert miss <= 9, method


def test_moderndid_reference_repeated_cross_sections(mpdta_rows):
    """moderndid's att_gt / aggte (another Python port of R did) on the same data (its
    allow_unbalanced_panel=True fails inside moderndid 0.2.0: csdid is the reference above)."""
    moderndid = pytest.importorskip("moderndid", reason="moderndid not installed")
    rows = mpdta_rows.drop(columns=["w_row", "w_unit"])
    # moderndid's SEs of the locally efficient RC dr estimator differ from csdid's (equal to
    # ours above, to 1e-9) by up to 0.4% on these data; ipw and reg agree to rounding
    for method, se_tol in (("dr", 0.01), ("ipw", 1e-6), ("reg", 1e-6)):
        ref = moderndid.att_gt(rows, yname="lemp", tname="year", idname="rid",
                               gname="first.treat", xformla="~lpop", panel=False,
                               est_method=method)
        ours = callaway_santanna(rows, "lemp", "rid", "year", "first.treat",
                                 covariates=["lpop"], panel=False, est_method=method)
        np.testing.assert_allclose(ours.diagnostics["att_gt"].att, np.asarray(ref.att_gt),
                                   rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(ours.diagnostics["att_gt"].std_error,
                                   np.asarray(ref.se_gt), rtol=se_tol)
        simple = moderndid.aggte(ref, type="simple")
        assert ours.estimate == pytest.approx(simple.overall_att, rel=1e-8)
