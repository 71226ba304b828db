"""HonestDiD (issue 16): ``causalkit.panel.honest_did`` against the PyPI ``honestdid`` port on a
shared example (a causalkit event study: the same coefficients and covariance go to both), the
FLCI at M = 0 against its closed form, and the breakdown value against the sets around it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalkit
from causalkit.errors import CausalKitError, OptionError
from causalkit.panel import honest_did, honest_did_arrays
from causalkit.panel.honest import event_study_inputs, sd_flci


@pytest.fixture(scope="module")
def event_effect():
    """A TWFE event study with 3 leads (ref -1) and 2 lags, a small pre-trend."""
    rng = np.random.default_rng(21)
    n, T = 400, 6
    unit, t = np.repeat(np.arange(n), T), np.tile(np.arange(T), n)
    g = np.repeat(np.where(np.arange(n) < 200, 4, 0), T)
    treated = g > 0
    y = (rng.normal(size=n)[unit] + 0.1 * t + 0.03 * treated * t
         + np.where(treated & (t >= g), 0.5, 0.0) + rng.normal(size=n * T))
    df = pd.DataFrame({"id": unit, "t": t, "g": g, "y": y})
    return causalkit.estimate(df, outcome="y", method="event_study", unit="id", time="t",
                              cohort="g")


def test_inputs_are_the_event_study_coefficients(event_effect):
    beta, sigma, n_pre, times = event_study_inputs(event_effect)
    assert times.tolist() == [-4, -3, -2, 0, 1] and n_pre == 3
    table = event_effect.diagnostics["event_study"].set_index("event_time")
    assert np.allclose(beta, table.loc[times, "att"])
    assert np.allclose(np.sqrt(np.diag(sigma)), table.loc[times, "std_error"])


def _hd():
    return pytest.importorskip("honestdid", reason="honestdid (PyPI) not installed")


def test_relative_magnitudes_conditional_equals_honestdid(event_effect):
    """The package tests a 250-point grid on +-20 SE: its ends are within one step of ours."""
    hd = _hd()
    beta, sigma, n_pre, _ = event_study_inputs(event_effect)
    n_post = beta.size - n_pre
    mbar = [0.5, 1.0]
    ours = honest_did(event_effect, Mbar=mbar, method="conditional", breakdown=False).table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = hd.createSensitivityResults_relativeMagnitudes(
            beta, sigma, n_pre, n_post, method="Conditional", Mbarvec=mbar, gridPoints=250)
    step = 40 * np.sqrt(sigma[n_pre, n_pre]) / 249
    assert np.allclose(ours.ci_low, ref.lb, atol=1.01 * step)
    assert np.allclose(ours.ci_high, ref.ub, atol=1.01 * step)


def test_relative_magnitudes_hybrid_equals_honestdid(event_effect):
    """C-LF: the least-favourable critical value is a 1 - kappa quantile of simulated LP
    values (theirs from 1000 draws, ours from 10000), so the ends may differ by that
    Monte-Carlo error besides the grid step (0.16 SE); 0.25 SE covers both."""
    hd = _hd()
    beta, sigma, n_pre, _ = event_study_inputs(event_effect)
    n_post = beta.size - n_pre
    ours = honest_did(event_effect, Mbar=[1.0], breakdown=False)
    assert ours.method == "C-LF"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = hd.createSensitivityResults_relativeMagnitudes(
            beta, sigma, n_pre, n_post, method="C-LF", Mbarvec=[1.0], gridPoints=250)
    se = np.sqrt(sigma[n_pre, n_pre])
    assert ours.table.ci_low.iloc[0] == pytest.approx(ref.lb.iloc[0], abs=0.25 * se)
    assert ours.table.ci_high.iloc[0] == pytest.approx(ref.ub.iloc[0], abs=0.25 * se)


def test_smoothness_flci_equals_honestdid(event_effect):
    """The package simulates the folded-normal critical value (10^6 draws, ~0.1% error)."""
    hd = _hd()
    beta, sigma, n_pre, _ = event_study_inputs(event_effect)
    n_post = beta.size - n_pre
    M = [0.0, 0.05]
    ours = honest_did(event_effect, restriction="smoothness", M=M, breakdown=False).table
    for m, lo, hi in ours.itertuples(index=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = hd.find_optimal_flci(beta, sigma, M=m, numPrePeriods=n_pre,
                                       numPostPeriods=n_post, l_vec=np.eye(n_post)[0])
        half = (hi - lo) / 2
        assert lo == pytest.approx(ref["FLCI"][0], abs=2e-3 * half)
        assert hi == pytest.approx(ref["FLCI"][1], abs=2e-3 * half)


def test_flci_at_m_zero_is_the_closed_form():
    """M = 0: the trend is exactly linear, the FLCI is v'beta +- z sd(v) with v the
    minimum-variance weights orthogonal to a linear trend (v_post = l)."""
    rng = np.random.default_rng(4)
    n_pre, n_post = 3, 2
    L = rng.normal(size=(5, 5))
    sigma = L @ L.T / 50 + np.eye(5) * 0.01
    beta = rng.normal(size=5) * 0.1
    l_vec = np.array([0.5, 0.5])
    times = np.array([-3.0, -2.0, -1.0, 1.0, 2.0])       # relative to the reference period
    # minimise v' Sigma v  s.t.  v_post = l, v' times = 0: a quadratic with one constraint
    Spp, Spq = sigma[:n_pre, :n_pre], sigma[:n_pre, n_pre:]
    tp = times[:n_pre]
    Sinv = np.linalg.inv(Spp)
    c = -float(l_vec @ times[n_pre:])
    lam = (c + tp @ Sinv @ Spq @ l_vec) / (tp @ Sinv @ tp)
    w = Sinv @ (-Spq @ l_vec + lam * tp)
    v = np.concatenate([w, l_vec])
    assert v @ times == pytest.approx(0.0, abs=1e-12)
    centre, half = v @ beta, stats.norm.ppf(0.975) * np.sqrt(v @ sigma @ v)
    lo, hi = sd_flci(beta, sigma, n_pre, l_vec, 0.0, 0.05)
    assert lo == pytest.approx(centre - half, rel=1e-6, abs=1e-9)
    assert hi == pytest.approx(centre + half, rel=1e-6, abs=1e-9)


def test_breakdown_value_separates_excluding_and_covering_sets():
    beta = np.array([0.02, -0.01, 0.015, 0.30, 0.35])
    sigma = np.diag([0.02, 0.02, 0.02, 0.05, 0.06]) ** 2
    res = honest_did_arrays(beta, sigma, 3, Mbar=[0.5, 1.0], method="conditional",
                            grid_points=60)
    b = res.breakdown
    assert 0 < b < np.inf
    below = honest_did_arrays(beta, sigma, 3, Mbar=[b * 0.97], method="conditional",
                              breakdown=False, grid_points=60).table
    above = honest_did_arrays(beta, sigma, 3, Mbar=[b * 1.03], method="conditional",
                              breakdown=False, grid_points=60).table
    assert below.ci_low.iloc[0] > 0 and above.ci_low.iloc[0] <= 0
    # the robust sets grow with Mbar and contain the original one's centre
    assert res.table.ci_low.iloc[1] <= res.table.ci_low.iloc[0]
    ax = res.plot()
    assert len(ax.collections) >= 2


def test_callaway_santanna_effect_is_accepted():
    """The CS dynamic aggregation with a universal base period has the same event-time frame."""
    rng = np.random.default_rng(2)
    n, T = 300, 6
    unit, t = np.repeat(np.arange(n), T), np.tile(np.arange(1, T + 1), n)
    g = np.repeat(rng.choice([0, 4, 5], n), T)
    y = rng.normal(size=n)[unit] + 0.2 * t + np.where((g > 0) & (t >= g), 1.0, 0.0)
    df = pd.DataFrame({"id": unit, "t": t, "g": g, "y": y + rng.normal(size=n * T)})
    eff = causalkit.estimate(df, outcome="y", method="callaway_santanna", unit="id", time="t",
                             cohort="g", base_period="universal")
    vcov = eff.diagnostics["event_study_vcov"]
    table = eff.diagnostics["event_study"].set_index("event_time")
    est = table[table.std_error > 0]
    assert np.allclose(np.sqrt(np.diag(vcov.loc[est.index, est.index])), est.std_error)
    res = honest_did(eff, restriction="smoothness", M=[0.0], breakdown=False)
    assert res.table.ci_low.iloc[0] < 1.0 < res.table.ci_high.iloc[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"restriction": "linear"}, "restriction must be"),
    ({"Mbar": [-1.0]}, ">= 0"),
    ({"method": "FLCI"}, "method must be"),
    ({"restriction": "smoothness", "Mbar": [1.0]}, "takes M="),
    ({"l_vec": [1.0, 0.0, 0.0]}, "l_vec"),
])
def test_bad_options_are_option_errors(event_effect, kwargs, match):
    with pytest.raises(OptionError, match=match):
        honest_did(event_effect, breakdown=False, **kwargs)


def test_an_effect_without_event_times_is_refused():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"t": rng.integers(0, 2, 100), "y": rng.normal(size=100)})
    eff = causalkit.estimate(df, "t", "y")
    with pytest.raises(CausalKitError, match="event-study Effect"):
        honest_did(eff)
