"""Uniform (sup-t) bands and the shared event-time frame: closed forms of the critical
value, simultaneous coverage by simulation, one layout and one plot for every
event-study estimator of the panel family."""

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalkit
from causalkit.panel import EVENT_COLUMNS, plot_event_study
from causalkit.panel._eventtime import sup_t_critical_value
from causalkit.panel.imputation_did import imputation_did

# the critical value is a quantile of 20000 simulated maxima: its Monte-Carlo relative error
# is about 0.3% at alpha = 0.05, so 1.5% is a 5-SE tolerance


@pytest.mark.parametrize("k", [2, 5, 12])
def test_independent_coefficients_give_the_sidak_value(k):
    cov = np.diag(np.linspace(0.5, 3.0, k))
    sidak = stats.norm.ppf((1 + 0.95 ** (1 / k)) / 2)
    assert sup_t_critical_value(cov, 0.05) == pytest.approx(sidak, rel=0.015)


def test_perfectly_correlated_coefficients_give_the_pointwise_value():
    v = np.array([1.0, 2.0, 0.5])
    cov = np.outer(v, v)
    assert sup_t_critical_value(cov, 0.05) == pytest.approx(1.959964, rel=0.015)
    # a correlated pair lies strictly in between (bivariate normal, rho = 0.6, closed
    # form: P(|Z1| <= c, |Z2| <= c) = 0.95 solved with scipy's bivariate normal cdf)
    rho = 0.6
    mvn = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]])

    def joint(c):
        return (mvn.cdf([c, c]) - 2 * mvn.cdf([c, -c]) + mvn.cdf([-c, -c]))

    from scipy.optimize import brentq
    exact = brentq(lambda c: joint(c) - 0.95, 1.9, 2.5)
    got = sup_t_critical_value(np.array([[1.0, rho], [rho, 1.0]]) * 4.0, 0.05)
    assert got == pytest.approx(exact, rel=0.015)
    # multivariate t with df: larger than normal, Sidak with t quantiles for independence
    t_sidak = stats.t.ppf((1 + 0.95 ** (1 / 3)) / 2, 9)
    assert sup_t_critical_value(np.eye(3), 0.05, df=9) == pytest.approx(t_sidak, rel=0.015)


def _panel(seed, n_units=150, n_periods=6):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    g = np.repeat(rng.choice([0, 2, 3], n_units), n_periods)
    e = t - g
    effect = np.where((g > 0) & (e >= 0), 1.0 + 0.5 * e, 0.0)
    y = rng.normal(size=n_units)[unit] + 0.1 * t + effect + rng.normal(size=unit.size)
    return pd.DataFrame({"id": unit, "t": t, "g": g, "y": y})


def test_band_covers_all_event_times_jointly():
    # 200 panels; truth 1 + 0.5 e at e = 0..3.  The MC SE of a 95% coverage rate is 0.015,
    # so [0.90, 0.99] is a band of about 3 SE; pointwise intervals jointly cover
    # clearly less often (4 correlated effects: about 0.85).
    band, pointwise, overall = [], [], []
    for seed in range(200):
        eff = imputation_did(_panel(seed), "y", "id", "t", cohort="g", pretrend_leads=0,
                             random_state=seed)
        tab = eff.diagnostics["event_study"].set_index("event_time").loc[[0, 1, 2, 3]]
        truth = 1.0 + 0.5 * tab.index.to_numpy()
        band.append(bool(np.all((tab.band_low <= truth) & (truth <= tab.band_high))))
        pointwise.append(bool(np.all((tab.ci_low <= truth) & (truth <= tab.ci_high))))
        # the overall ATT averages the treated rows: its truth is their mean effect
        df = _panel(seed)
        treated = (df.g > 0) & (df.t >= df.g)
        truth_all = (1.0 + 0.5 * (df.t - df.g))[treated].mean()
        overall.append(eff.ci_low <= truth_all <= eff.ci_high)
    assert 0.90 <= np.mean(band) <= 0.99
    assert np.mean(pointwise) < np.mean(band) - 0.03
    assert 0.90 <= np.mean(overall) <= 0.99


@pytest.fixture(scope="module")
def staggered():
    return _panel(0, n_units=90)


@pytest.mark.parametrize("method", ["event_study", "callaway_santanna", "sun_abraham",
                                    "imputation_did", "did2s"])
def test_every_event_study_estimator_shares_the_frame_and_the_plot(staggered, method):
    eff = causalkit.estimate(staggered, outcome="y", method=method, unit="id", time="t",
                             cohort="g")
    tab = eff.diagnostics["event_study"]
    assert list(tab.columns[:len(EVENT_COLUMNS)]) == list(EVENT_COLUMNS)
    assert tab.event_time.is_monotonic_increasing
    est = tab[tab.std_error > 0]
    crit = eff.diagnostics["band_critical_value"]
    assert np.allclose(est.band_high - est.att, crit * est.std_error)
    assert crit > stats.norm.ppf(0.975) * 0.999
    assert (est.band_low <= est.ci_low + 1e-12).all() and (est.ci_high <= est.band_high + 1e-12).all()
    cov = eff.diagnostics["event_study_cov"]
    assert np.allclose(np.sqrt(np.diag(cov)), est.std_error.to_numpy())
    # the same seed gives the same band; the default is fixed
    again = causalkit.estimate(staggered, outcome="y", method=method, unit="id", time="t",
                               cohort="g")
    assert again.diagnostics["band_critical_value"] == crit
    assert isinstance(plot_event_study(eff), matplotlib.axes.Axes)
