"""``dcdh`` (issue 16): de Chaisemartin & D'Haultfœuille DID_M (2020) with its joiners/leavers
parts and placebo, and the event-study DID_l with placebos (2024), against ``diff-diff``
(``ChaisemartinDHaultfoeuille``, PyPI) on the same panel, and a hand computation of DID_M."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import CausalKitError, EmptyArmError, OptionError


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


def _hand_did_m(df):
    """DID_M from the paper's formula, one loop over periods and units."""
    wide_y = df.pivot(index="id", columns="t", values="y").to_numpy()
    wide_d = df.pivot(index="id", columns="t", values="d").to_numpy()
    total = n_s = 0.0
    for t in range(1, wide_y.shape[1]):
        dy = wide_y[:, t] - wide_y[:, t - 1]
        prev, cur = wide_d[:, t - 1], wide_d[:, t]
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


def _reference(df, **kw):
    dd = pytest.importorskip("diff_diff.chaisemartin_dhaultfoeuille",
                             reason="diff-diff not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dd.ChaisemartinDHaultfoeuille(drop_larger_lower=False, twfe_diagnostic=False
                                             ).fit(df, outcome="y", unit="id", time="t",
                                                   treatment="d", **kw)


def test_did_m_joiners_leavers_and_placebo_equal_diff_diff(switching):
    """Point estimates agree to rounding; SEs (our unit bootstrap, 400 draws: MC error of an
    SE about 1/sqrt(800) = 3.5%, vs their analytic plug-in) within 20%."""
    ref = _reference(switching)
    eff = causalkit.estimate(switching, "d", "y", method="dcdh", unit="id", time="t",
                             n_bootstrap=400)
    assert eff.estimate == pytest.approx(ref.overall_att, rel=1e-10)
    assert eff.diagnostics["did_plus"] == pytest.approx(ref.joiners_att, rel=1e-10)
    assert eff.diagnostics["did_minus"] == pytest.approx(ref.leavers_att, rel=1e-10)
    assert eff.diagnostics["placebo"] == pytest.approx(ref.placebo_effect, rel=1e-10)
    assert eff.std_error == pytest.approx(ref.overall_se, rel=0.2)


def test_event_study_did_l_and_placebos_equal_diff_diff(switching):
    ref = _reference(switching, L_max=3)
    eff = causalkit.estimate(switching, "d", "y", method="dcdh", unit="id", time="t",
                             effects=3, n_bootstrap=400)
    table = eff.diagnostics["event_study"].set_index("event_time")
    for h, row in ref.event_study_effects.items():
        assert table.loc[h - 1, "att"] == pytest.approx(row["effect"], rel=1e-10)
        assert table.loc[h - 1, "std_error"] == pytest.approx(row["se"], rel=0.2)
    for h, row in ref.placebo_event_study.items():
        if np.isfinite(row["effect"]):
            assert table.loc[h - 1, "att"] == pytest.approx(row["effect"], rel=1e-10)
        else:
            assert h - 1 not in table.index
    vcov = eff.diagnostics["event_study_vcov"]
    est = table[table.std_error > 0]
    assert np.allclose(np.sqrt(np.diag(vcov.loc[est.index, est.index])), est.std_error)


def test_no_switch_is_an_empty_arm_error(switching):
    df = switching.assign(d=(switching.id < 50).astype(int))
    with pytest.raises(EmptyArmError, match="no unit switches"):
        causalkit.estimate(df, "d", "y", method="dcdh", unit="id", time="t")


@pytest.mark.parametrize("options, match", [({"effects": -1}, "effects"),
                                            ({"effects": 99}, "exceeds"),
                                            ({"n_bootstrap": 1}, "n_bootstrap")])
def test_bad_options(switching, options, match):
    with pytest.raises(OptionError, match=match):
        causalkit.estimate(switching, "d", "y", method="dcdh", unit="id", time="t", **options)


def test_a_non_binary_treatment_is_refused(switching):
    with pytest.raises(CausalKitError):
        causalkit.estimate(switching.assign(d=switching.d * 2.5), "d", "y", method="dcdh",
                           unit="id", time="t")


def test_absorbing_estimators_refuse_a_treatment_that_switches_off(switching):
    """The same data are refused by the estimators that assume staggered adoption."""
    with pytest.raises(CausalKitError, match="switches off"):
        causalkit.estimate(switching, outcome="y", method="event_study", unit="id", time="t",
                           treatment="d")


def test_weights_are_refused(switching):
    """dcdh needs unit and time, so the registry-wide weights check cannot reach it."""
    from causalkit.errors import RoleError

    with pytest.raises(RoleError, match="weights"):
        causalkit.estimate(switching.assign(w=1.0), "d", "y", method="dcdh", unit="id",
                           time="t", weights="w")
