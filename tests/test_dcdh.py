"""``dcdh`` (issue 16): de Chaisemartin & D'Haultfœuille DID_M (2020) with its joiners/leavers
parts and placebo, and the event-study DID_l with placebos (2024).

Checked against closed forms on tiny panels, brute-force re-computations of the papers'
formulas (balanced and unbalanced), ``diff-diff``'s ``ChaisemartinDHaultfoeuille`` (point
estimates and analytic SEs equal), ``moderndid.did_multiplegt`` (the port of R/Stata
``did_multiplegt_dyn``; by direction of the switch), the cluster bootstrap against the
analytic SE, the coverage of the analytic interval, and the bad inputs."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import CausalKitError, DataError, EmptyArmError, OptionError, RoleError


@pytest.fixture(scope="module")
def switching():
    """Treatment switches on and later off again; effects differ across units."""
    rng = np.random.default_rng(0)
    n, T = 200, 6
    unit, t = np.repeat(np.arange(n), T), np.tile(np.arange(T), n)
    start, stop = rng.integers(1, T + 3, n)[unit], rng.integers(1, 9, n)[unit]
    d = ((t >= start) & (t < start + stop)).astype(int)
    y = (rng.normal(size=n)[unit] + 0.2 * t + (1.0 + 0.5 * (unit % 3)) * d
         + rng.normal(size=n * T))
    return pd.DataFrame({"id": unit, "t": t, "d": d, "y": y})


def _long(D, Y):
    n, T = D.shape
    return pd.DataFrame({"i": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                         "d": D.ravel(), "y": Y.ravel()})


def _fit(df, **kw):
    return causalkit.estimate(df, treatment="d", outcome="y", method="dcdh", unit="i",
                              time="t", **kw)


def _switching_panel(n=300, T=6, seed=0):
    """Both directions: 30% treated in period one, 15% flip each period."""
    rng = np.random.default_rng(seed)
    D = np.zeros((n, T), dtype=int)
    D[:, 0] = rng.random(n) < 0.3
    for t in range(1, T):
        flip = rng.random(n) < 0.15
        D[:, t] = np.where(flip, 1 - D[:, t - 1], D[:, t - 1])
    Y = rng.normal(size=(n, 1)) + 0.3 * np.arange(T) + (1.0 + 0.5 * rng.normal(size=(n, 1))) * D \
        + rng.normal(size=(n, T))
    return D, Y


# ------------------------------------------------------------------ closed forms, brute force
def _hand_did_m(df, unit="id"):
    """DID_M from the paper's formula, one loop over consecutive periods (units observed at
    both dates)."""
    total = n_s = 0.0
    wide_y = df.pivot(index=unit, columns="t", values="y")
    wide_d = df.pivot(index=unit, columns="t", values="d")
    for a, b in zip(wide_y.columns[:-1], wide_y.columns[1:]):
        dy = (wide_y[b] - wide_y[a]).to_numpy()
        prev, cur = wide_d[a].to_numpy(), wide_d[b].to_numpy()
        for switch, stay, sign in (((prev == 0) & (cur == 1), (prev == 0) & (cur == 0), 1),
                                   ((prev == 1) & (cur == 0), (prev == 1) & (cur == 1), -1)):
            if switch.any() and stay.any():
                total += switch.sum() * sign * (dy[switch].mean() - dy[stay].mean())
                n_s += switch.sum()
    return total / n_s


def test_did_m_is_the_paper_formula(switching):
    eff = causalkit.estimate(switching, "d", "y", method="dcdh", unit="id", time="t")
    assert eff.estimate == pytest.approx(_hand_did_m(switching), rel=1e-12)
    assert eff.method == "dcdh" and np.isfinite(eff.std_error) and eff.std_error > 0


def test_unbalanced_panel_did_m_is_the_paper_formula(switching):
    """Rows missing at random: each comparison uses the units seen at both of its dates."""
    rows = switching.sample(frac=0.85, random_state=1)
    eff = causalkit.estimate(rows, "d", "y", method="dcdh", unit="id", time="t", effects=2)
    assert eff.estimate == pytest.approx(_hand_did_m(rows), rel=1e-12)
    assert np.isfinite(eff.std_error) and eff.n_obs == len(rows)


def test_did_m_closed_form_on_a_tiny_panel():
    # units: joiner at 2, never treated, leaver at 3, always treated
    D = np.array([[0, 1, 1], [0, 0, 0], [1, 1, 0], [1, 1, 1]])
    Y = np.array([[0., 3., 4.], [0., 1., 2.], [5., 6., 6.], [5., 7., 9.]])
    eff = _fit(_long(D, Y), effects=2, placebo=1)
    # t=2: joiner 3-0 minus stable-untreated 1-0 = 2 (1 switcher)
    # t=3: stable treated {0, 3} mean change ((4-3)+(9-7))/2 = 1.5 minus leaver 6-6 = 0 -> 1.5
    assert eff.estimate == pytest.approx((2 + 1.5) / 2)
    assert eff.diagnostics["did_plus"] == pytest.approx(2.0)
    assert eff.diagnostics["did_minus"] == pytest.approx(1.5)
    # placebo at t=3 (stable from 1 to 2), backward change Y1 - Y2: leaver 2 vs stable
    # treated 3, sign -1: -((5-6) - (5-7)) = -1; no joiner at 3
    assert eff.diagnostics["placebo"] == pytest.approx(-1.0)
    es = eff.diagnostics["event_study"].set_index("event_time")
    # DID_1 (event time 0): joiner (F=2) vs unit 1: 2; leaver (F=3) vs unit 3 (base 1, never
    # switches): -((6-6) - (9-7)) = 2  -> mean 2
    assert es.loc[0, "att"] == pytest.approx(2.0)
    # DID_2 (event time 1): only the joiner: (4-0) - (2-0) = 2
    assert es.loc[1, "att"] == pytest.approx(2.0) and es.loc[1, "n_switchers"] == 1
    # placebo 1 (event time -2): the joiner has no period F-2; the leaver: -((5-6) - (5-7))
    assert es.loc[-2, "att"] == pytest.approx(-1.0)
    assert es.loc[-1, "att"] == 0.0 and es.loc[-1, "std_error"] == 0.0      # the reference


def _brute_did_m(df):
    """DID_M of the 2020 paper, eq. (3), by groupby on the long frame."""
    df = df.sort_values(["i", "t"]).copy()
    g = df.groupby("i")
    df["d0"], df["dy"] = g.d.shift(), g.y.diff()
    num = den = 0.0
    for _, cur in df.dropna().groupby("t"):
        cell = cur.groupby([cur.d0, cur.d]).dy
        mean, size = cell.mean(), cell.size()
        if (0, 1) in size and (0, 0) in size:
            num += size[(0, 1)] * (mean[(0, 1)] - mean[(0, 0)])
            den += size[(0, 1)]
        if (1, 0) in size and (1, 1) in size:
            num += size[(1, 0)] * (mean[(1, 1)] - mean[(1, 0)])
            den += size[(1, 0)]
    return num / den


def _brute_did_l(D, Y, lag, placebo=False):
    """DID_l / placebo l of the 2024 paper, unit by unit."""
    n, T = D.shape
    F = [next((t for t in range(T) if D[u, t] != D[u, 0]), None) for u in range(n)]
    terms = []
    for u in range(n):
        f = F[u]
        if f is None or f - 1 + lag > T - 1 or (placebo and f - 1 - lag < 0):
            continue
        ctrl = [v for v in range(n) if D[v, 0] == D[u, 0]
                and (F[v] is None or F[v] > f - 1 + lag)]
        if not ctrl:
            continue
        at = f - 1 - lag if placebo else f - 1 + lag
        diff = (Y[u, at] - Y[u, f - 1]) - np.mean([Y[v, at] - Y[v, f - 1] for v in ctrl])
        terms.append(diff if D[u, 0] == 0 else -diff)
    return np.mean(terms)


def test_matches_brute_force_formulas_on_a_random_switching_panel():
    D, Y = _switching_panel()
    df = _long(D, Y)
    eff = _fit(df, effects=3, placebo=2)
    assert eff.estimate == pytest.approx(_brute_did_m(df), rel=1e-10)
    es = eff.diagnostics["event_study"].set_index("event_time")
    for lag in (1, 2, 3):
        assert es.loc[lag - 1, "att"] == pytest.approx(_brute_did_l(D, Y, lag), rel=1e-10)
    for lag in (1, 2):
        assert es.loc[-lag - 1, "att"] == pytest.approx(_brute_did_l(D, Y, lag, True),
                                                        abs=1e-12)
    # true effect 1: DID_M within a few SEs
    assert abs(eff.estimate - 1.0) < 4 * eff.std_error


# ------------------------------------------------------------------ diff-diff (PyPI)
def _diff_diff(df, unit="id", **kw):
    dd = pytest.importorskip("diff_diff.chaisemartin_dhaultfoeuille",
                             reason="diff-diff not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dd.ChaisemartinDHaultfoeuille(drop_larger_lower=False, twfe_diagnostic=False
                                             ).fit(df, outcome="y", unit=unit, time="t",
                                                   treatment="d", **kw)


def test_did_m_joiners_leavers_and_placebo_equal_diff_diff(switching):
    """Point estimates and the analytic (cohort-recentered) SEs equal diff-diff's; the
    bootstrap SE (400 draws: MC error of an SE about 1/sqrt(800) = 3.5%) within 20%."""
    ref = _diff_diff(switching)
    eff = causalkit.estimate(switching, "d", "y", method="dcdh", unit="id", time="t")
    assert eff.estimate == pytest.approx(ref.overall_att, rel=1e-10)
    assert eff.diagnostics["did_plus"] == pytest.approx(ref.joiners_att, rel=1e-10)
    assert eff.diagnostics["did_minus"] == pytest.approx(ref.leavers_att, rel=1e-10)
    assert eff.diagnostics["placebo"] == pytest.approx(ref.placebo_effect, rel=1e-10)
    assert eff.std_error == pytest.approx(ref.overall_se, rel=1e-9)
    assert eff.diagnostics["did_plus_se"] == pytest.approx(ref.joiners_se, rel=1e-9)
    assert eff.diagnostics["did_minus_se"] == pytest.approx(ref.leavers_se, rel=1e-9)
    boot = causalkit.estimate(switching, "d", "y", method="dcdh", unit="id", time="t",
                              n_bootstrap=400)
    assert boot.estimate == eff.estimate
    assert boot.std_error == pytest.approx(ref.overall_se, rel=0.2)


def test_event_study_did_l_and_placebos_equal_diff_diff(switching):
    ref = _diff_diff(switching, L_max=3)
    eff = causalkit.estimate(switching, "d", "y", method="dcdh", unit="id", time="t",
                             effects=3)
    table = eff.diagnostics["event_study"].set_index("event_time")
    for h, row in ref.event_study_effects.items():
        assert table.loc[h - 1, "att"] == pytest.approx(row["effect"], rel=1e-10)
        assert table.loc[h - 1, "std_error"] == pytest.approx(row["se"], rel=1e-9)
    for h, row in ref.placebo_event_study.items():
        if np.isfinite(row["effect"]):
            assert table.loc[h - 1, "att"] == pytest.approx(row["effect"], rel=1e-10)
            assert table.loc[h - 1, "std_error"] == pytest.approx(row["se"], rel=1e-9)
        else:
            assert h - 1 not in table.index
    vcov = eff.diagnostics["event_study_vcov"]
    est = table[table.std_error > 0]
    assert np.allclose(np.sqrt(np.diag(vcov.loc[est.index, est.index])), est.std_error)
    # bootstrap event study (400 draws): within 20% of the analytic SEs
    boot = causalkit.estimate(switching, "d", "y", method="dcdh", unit="id", time="t",
                              effects=3, n_bootstrap=400)
    b = boot.diagnostics["event_study"].set_index("event_time").loc[est.index, "std_error"]
    np.testing.assert_allclose(b, est.std_error, rtol=0.2)


def test_both_directions_equal_diff_diff():
    """Switchers in and out, effects and placebos (diff-diff flips the switchers-out sign,
    as the papers and we do)."""
    D, Y = _switching_panel()
    df = _long(D, Y)
    ref = _diff_diff(df, unit="i", L_max=3)
    table = _fit(df, effects=3, placebo=2).diagnostics["event_study"].set_index("event_time")
    for h, row in [*ref.event_study_effects.items(), *ref.placebo_event_study.items()]:
        if np.isfinite(row["effect"]) and h - 1 in table.index:
            assert table.loc[h - 1, "att"] == pytest.approx(row["effect"], rel=1e-10)
            assert table.loc[h - 1, "std_error"] == pytest.approx(row["se"], rel=1e-9)


def test_unbalanced_panel_with_attrition_equals_diff_diff(switching):
    """Units leaving the panel early (diff-diff needs every unit in the first period and drops
    units with interior gaps; with attrition only, both use the same comparisons)."""
    last = np.random.default_rng(4).integers(3, 7, switching.id.nunique())
    rows = switching[switching.t < last[switching.id]]
    ref, ref_l = _diff_diff(rows), _diff_diff(rows, L_max=2)
    eff = causalkit.estimate(rows, "d", "y", method="dcdh", unit="id", time="t", effects=2)
    assert eff.estimate == pytest.approx(ref.overall_att, rel=1e-10)
    assert eff.std_error == pytest.approx(ref.overall_se, rel=1e-9)
    assert eff.diagnostics["placebo"] == pytest.approx(ref.placebo_effect, rel=1e-10)
    table = eff.diagnostics["event_study"].set_index("event_time")
    for h, row in [*ref_l.event_study_effects.items(), *ref_l.placebo_event_study.items()]:
        assert table.loc[h - 1, "att"] == pytest.approx(row["effect"], rel=1e-10)
        assert table.loc[h - 1, "std_error"] == pytest.approx(row["se"], rel=1e-9)


# ------------------------------------------------------------------ moderndid (PyPI)
def test_moderndid_reference():
    """moderndid's did_multiplegt (the port of R/Stata did_multiplegt_dyn) on the same panel.

    moderndid reports switchers-out effects as the raw DID (actual minus status quo, -1 here)
    and pools them unsigned; we follow the papers' S_g sign (effect of being treated), so the
    comparison is by direction: switchers in equal, switchers out equal up to sign.  Its SEs
    are R did_multiplegt_dyn's variant (each switcher's and control's change demeaned within
    finer cohorts with degrees-of-freedom corrections), not the paper's cohort-recentered
    plug-in that we and diff-diff compute (equal above); on this panel they differ by 0.2-6%,
    so they are compared within 8%.
    """
    moderndid = pytest.importorskip("moderndid", reason="moderndid not installed")
    D, Y = _switching_panel()
    df = _long(D, Y)
    for direction, sign in (("in", 1.0), ("out", -1.0)):
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = moderndid.did_multiplegt(df, yname="y", tname="t", idname="i", dname="d",
                                           effects=3, placebo=2, switchers=direction)
        ours = _fit(df, effects=3, placebo=2, switchers=direction)
        es = ours.diagnostics["event_study"].set_index("event_time")
        np.testing.assert_allclose(es.loc[[0, 1, 2], "att"], sign * ref.effects.estimates,
                                   rtol=1e-8)
        np.testing.assert_array_equal(es.loc[[0, 1, 2], "n_switchers"],
                                      ref.effects.n_switchers)
        np.testing.assert_allclose(es.loc[[-2, -3], "att"], sign * ref.placebos.estimates,
                                   rtol=1e-8)
        for rows, theirs in (([0, 1, 2], ref.effects.std_errors),
                             ([-2, -3], ref.placebos.std_errors)):
            np.testing.assert_allclose(es.loc[rows, "std_error"], theirs, rtol=0.08)
    # switchers="in" keeps the joiners: DID_M is then DID_+
    both = _fit(df)
    only_in = _fit(df, switchers="in")
    assert only_in.estimate == pytest.approx(both.diagnostics["did_plus"], rel=1e-12)
    assert only_in.std_error == pytest.approx(both.diagnostics["did_plus_se"], rel=1e-12)


# ------------------------------------------------------------------ inference
def test_analytic_se_agrees_with_the_cluster_bootstrap():
    D, Y = _switching_panel(n=400, seed=3)
    df = _long(D, Y)
    analytic = _fit(df, effects=2, placebo=1)
    boot = _fit(df, effects=2, placebo=1, n_bootstrap=200, random_state=5)
    assert boot.estimate == analytic.estimate
    # 200 draws: the bootstrap SD has relative MC error ~ 1/sqrt(400) = 5%; the analytic SE is
    # conservative by construction only with heterogeneous effects; allow 25%
    assert boot.std_error == pytest.approx(analytic.std_error, rel=0.25)
    a = analytic.diagnostics["event_study"].std_error.to_numpy()
    b = boot.diagnostics["event_study"].std_error.to_numpy()
    np.testing.assert_allclose(b, a, rtol=0.25)
    again = _fit(df, n_bootstrap=20, random_state=5)
    assert again.std_error == _fit(df, n_bootstrap=20, random_state=5).std_error
    # the row order does not matter
    shuffled = _fit(df.sample(frac=1.0, random_state=0), n_bootstrap=20, random_state=5)
    assert shuffled.std_error == pytest.approx(again.std_error, rel=1e-12)


def test_analytic_se_covers_in_simulation():
    # 100 replications: the coverage estimate has MC SE ~ 2.2 points around 95%; the bound
    # 0.88 is three of them below
    hits = 0
    for rep in range(100):
        D, Y = _switching_panel(n=120, T=4, seed=100 + rep)
        eff = _fit(_long(D, Y))
        hits += eff.ci_low <= 1.0 <= eff.ci_high
    assert hits / 100 >= 0.88


def test_event_study_feeds_honest_did():
    """Event times -l-1 (placebos), -1 (reference), l-1 (effects): the family's convention."""
    D, Y = _switching_panel()
    eff = _fit(_long(D, Y), effects=3, placebo=2)
    assert eff.diagnostics["event_study"].event_time.tolist() == [-3, -2, -1, 0, 1, 2]
    res = causalkit.panel.honest_did(eff, Mbar=[0.0, 1.0], breakdown=False)
    assert res is not None


# ------------------------------------------------------------------ bad inputs
def test_no_switch_is_an_empty_arm_error(switching):
    df = switching.assign(d=(switching.id < 50).astype(int))
    with pytest.raises(EmptyArmError, match="no unit switches"):
        causalkit.estimate(df, "d", "y", method="dcdh", unit="id", time="t")


@pytest.mark.parametrize("options, match", [({"effects": -1}, "effects"),
                                            ({"effects": 99}, "exceeds"),
                                            ({"n_bootstrap": 1}, "n_bootstrap"),
                                            ({"placebo": -1}, "placebo"),
                                            ({"switchers": "up"}, "switchers")])
def test_bad_options(switching, options, match):
    with pytest.raises(OptionError, match=match):
        causalkit.estimate(switching, "d", "y", method="dcdh", unit="id", time="t", **options)


def test_a_non_binary_treatment_is_refused(switching):
    with pytest.raises(CausalKitError):
        causalkit.estimate(switching.assign(d=switching.d * 2.5), "d", "y", method="dcdh",
                           unit="id", time="t")


def test_switching_treatment_is_refused_by_absorbing_methods_pointing_to_dcdh():
    D, Y = _switching_panel(n=60, T=4)
    df = _long(D, Y)
    with pytest.raises(DataError, match="dcdh"):
        causalkit.estimate(df, treatment="d", outcome="y", method="event_study", unit="i",
                           time="t")
    # a "cohort" that changes within a unit (a switching treatment coded as cohorts)
    with pytest.raises(DataError, match="dcdh"):
        causalkit.estimate(df.assign(g=np.where(df.d == 1, df.t, 0)), outcome="y",
                           method="callaway_santanna", unit="i", time="t", cohort="g")


def test_bad_inputs():
    D = np.array([[0, 1, 1], [0, 1, 1]])
    with pytest.raises(EmptyArmError, match="comparison"):
        _fit(_long(D, np.zeros((2, 3))))
    with pytest.raises(EmptyArmError, match="never changes"):
        _fit(_long(np.zeros((3, 3), int), np.zeros((3, 3))))
    D, Y = _switching_panel(n=40, T=3)
    with pytest.raises(OptionError, match="effects=3"):
        _fit(_long(D, Y), effects=3)
    with pytest.raises(OptionError, match="placebo=2"):
        _fit(_long(D, Y), placebo=2)
    with pytest.raises(OptionError, match="period"):
        _fit(_long(D[:, :1], Y[:, :1]))
    with pytest.raises(RoleError, match="weights"):
        _fit(_long(D, Y).assign(w=1.0), weights="w")
    df = _long(D, Y)
    with pytest.raises(DataError, match="constant within each unit"):
        _fit(df.assign(c=np.arange(len(df))), cluster="c")
