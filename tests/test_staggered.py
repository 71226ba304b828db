"""Callaway & Sant'Anna (2021) staggered DiD: the R `did` package's published mpdta
results, closed-form cells, the doubly robust cell against a statsmodels build, its
influence-function SE against a bootstrap, and CS vs TWFE by simulation."""


import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import causalkit
from causalkit.errors import DataError, DuplicatePanelRowError, EmptyArmError, OptionError
from causalkit.panel._drdid import att_two_period
from causalkit.panel.callaway_santanna import callaway_santanna
from causalkit.panel.twfe import twfe

@pytest.fixture(scope="module")
def mpdta(shared_csv):
    return shared_csv("mpdta.csv")


def _cs(df, **kw):
    return callaway_santanna(df, "lemp", "countyreal", "year", "first.treat", **kw)


# ATT(g,t) of the R `did` package on mpdta (att_gt(yname="lemp", gname="first.treat",
# idname="countyreal", tname="year", xformla=~1, data=mpdta)), as published in the
# package's "Getting started" vignette.
PUBLISHED_ATT_GT = {
    (2004, 2004): -0.0105, (2004, 2005): -0.0704, (2004, 2006): -0.1373,
    (2004, 2007): -0.1008, (2006, 2004): 0.0065, (2006, 2005): -0.0028,
    (2006, 2006): -0.0046, (2006, 2007): -0.0412, (2007, 2004): 0.0305,
    (2007, 2005): -0.0027, (2007, 2006): -0.0311, (2007, 2007): -0.0261,
}


def test_mpdta_reproduces_published_did_package_aggregations(mpdta):
    # Published outputs of did::aggte on the object above (dr, never-treated controls):
    # simple -0.0400 (bootstrap SE 0.0118), group -0.0310, dynamic -0.0772.
    eff = causalkit.estimate(mpdta, outcome="lemp", method="callaway_santanna",
                             unit="countyreal", time="year", cohort="first.treat")
    diag = eff.diagnostics
    assert round(eff.estimate, 4) == -0.0400
    assert round(diag["simple_att"], 4) == -0.0400
    assert round(diag["group_att"], 4) == -0.0310
    assert round(diag["dynamic_att"], 4) == -0.0772
    # did's SE comes from a 1000-draw multiplier bootstrap, whose IQR-based SE has a
    # relative Monte-Carlo error of about 4%; allow twice that.
    assert eff.std_error == pytest.approx(0.0118, rel=0.08)
    table = diag["att_gt"]
    for (g, t), published in PUBLISHED_ATT_GT.items():
        row = table[(table.group == g) & (table.time == t)]
        assert round(float(row.att.iloc[0]), 4) == published
    for aggregation in ("group", "dynamic"):
        other = _cs(mpdta, aggregation=aggregation)
        assert other.estimate == diag[f"{aggregation}_att"]
        assert other.std_error == diag[f"{aggregation}_se"]


def _mean_change(df, mask_units, t, base):
    wide = df.pivot(index="countyreal", columns="year", values="lemp")
    return (wide.loc[mask_units, t] - wide.loc[mask_units, base]).mean()


def test_cells_and_simple_aggregation_equal_closed_form(mpdta):
    # without covariates every ATT(g,t) is a difference of mean changes (closed form)
    eff = _cs(mpdta, control_group="not_yet_treated")
    cohort = mpdta.groupby("countyreal")["first.treat"].first()
    table = eff.diagnostics["att_gt"]
    for row in table.itertuples():
        g, t, base = row.group, row.time, row.base_period
        treated = cohort.index[cohort == g]
        control = cohort.index[(cohort == 0) | ((cohort > max(t, base)) & (cohort != g))]
        expected = (_mean_change(mpdta, treated, t, base)
                    - _mean_change(mpdta, control, t, base))
        assert row.att == pytest.approx(expected, abs=1e-12)
        assert base == (t - 1 if t < g else g - 1)
    post = table[table.time >= table.group]
    size = post.group.map(cohort.value_counts())
    assert eff.estimate == pytest.approx((post.att * size).sum() / size.sum(), abs=1e-12)
    universal = _cs(mpdta, base_period="universal").diagnostics["att_gt"]
    assert (universal.base_period == universal.group - 1).all()


def _dr_by_statsmodels(dy, d, x):
    """Sant'Anna & Zhao (2020) eq. (3.1) built from statsmodels Logit and OLS fits."""
    X = sm.add_constant(x)
    ps = sm.Logit(d, X).fit(disp=0).predict(X)
    mu = X @ sm.OLS(dy[d == 0], X[d == 0]).fit().params
    w1 = d / d.mean()
    w0 = ps * (1 - d) / (1 - ps)
    w0 = w0 / w0.mean()
    return np.mean((w1 - w0) * (dy - mu))


def _two_period(seed, n=400):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    d = (rng.uniform(size=n) < 1 / (1 + np.exp(-0.8 * x))).astype(int)
    y0 = x + rng.normal(size=n)
    y1 = y0 + 0.5 + 0.7 * x + 1.0 * d + rng.normal(size=n) * (1 + 0.5 * d)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "t": np.tile([1, 2], n),
                       "g": np.repeat(2 * d, 2), "y": np.column_stack([y0, y1]).ravel(),
                       "x": np.repeat(x, 2)})
    return df, y1 - y0, d, x


def test_doubly_robust_cell_matches_statsmodels_construction():
    df, dy, d, x = _two_period(0)
    eff = callaway_santanna(df, "y", "id", "t", "g", covariates=["x"])
    assert eff.estimate == pytest.approx(_dr_by_statsmodels(dy, d, x), abs=1e-8)
    reg = callaway_santanna(df, "y", "id", "t", "g", covariates=["x"], est_method="reg")
    X = sm.add_constant(x)
    mu = X @ sm.OLS(dy[d == 0], X[d == 0]).fit().params
    assert reg.estimate == pytest.approx(np.mean((dy - mu)[d == 1]), abs=1e-8)


def test_influence_function_se_matches_pairs_bootstrap():
    # 400 unit resamples of the two-period estimator (the same computation as the
    # public call, checked above): the bootstrap SE has ~3.5% relative MC error
    df, dy, d, x = _two_period(1)
    X = np.column_stack([np.ones(d.size), x])
    rng = np.random.default_rng(5)
    picks = rng.integers(0, d.size, size=(400, d.size))
    for method in ("dr", "ipw", "reg"):
        eff = callaway_santanna(df, "y", "id", "t", "g", covariates=["x"], est_method=method)
        assert eff.estimate == pytest.approx(att_two_period(dy, d, X, method)[0], abs=1e-12)
        draws = [att_two_period(dy[i], d[i], X[i], method)[0] for i in picks]
        assert eff.std_error == pytest.approx(np.std(draws, ddof=1), rel=0.12)


def test_multiplier_bootstrap_is_seeded_and_agrees_with_analytic(mpdta):
    a = _cs(mpdta, n_bootstrap=2000, random_state=11)
    b = _cs(mpdta, n_bootstrap=2000, random_state=11)
    analytic = _cs(mpdta)
    assert a.std_error == b.std_error
    for agg in ("simple", "group", "dynamic"):
        assert a.diagnostics[f"{agg}_se"] == pytest.approx(analytic.diagnostics[f"{agg}_se"],
                                                           rel=0.1)
    assert "bootstrap" in a.inference


def simulate_staggered(rng, reps, n_units=90, n_periods=6):
    """Panels with cohorts 0, 3 and 5 (a third each) and effects that grow with time since
    treatment at cohort-specific rates: outcomes (reps x rows), the long-format columns
    and the true simple ATT."""
    g_unit = np.repeat([0, 3, 5], n_units // 3)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(1, n_periods + 1), n_units)
    g = g_unit[unit]
    e = t - g
    post = (g > 0) & (e >= 0)
    effect = np.where(g == 3, 2.0 + 1.0 * e, 0.5 + 0.2 * e) * post
    truth = effect[post].mean()  # cohort sizes are equal, so this is the simple ATT
    y = (rng.normal(size=(reps, n_units))[:, unit] + 0.3 * t + effect
         + rng.normal(size=(reps, unit.size)))
    return y, pd.DataFrame({"id": unit, "t": t, "g": g, "d": post.astype(float)}), truth


def twfe_balanced(y, frame, n_units, n_periods):
    """TWFE slope on a balanced panel for many outcome vectors at once (double demeaning)."""
    def within(v):
        v = v.reshape(-1, n_units, n_periods)
        return (v - v.mean(axis=2, keepdims=True) - v.mean(axis=1, keepdims=True)
                + v.mean(axis=(1, 2), keepdims=True)).reshape(v.shape[0], -1)
    d = within(frame["d"].to_numpy()[None, :])[0]
    return within(y) @ d / (d @ d)


def test_callaway_santanna_unbiased_where_twfe_is_not():
    reps, n_units, n_periods = 200, 90, 6
    y, frame, truth = simulate_staggered(np.random.default_rng(2021), reps)
    cs = [callaway_santanna(frame.assign(y=y[r]), "y", "id", "t", "g") for r in range(reps)]
    tw = twfe_balanced(y, frame, n_units, n_periods)
    for r in range(2):  # the vectorized TWFE is the registered estimator
        assert twfe(frame.assign(y=y[r]), "y", "id", "t", cohort="g").estimate == \
            pytest.approx(tw[r], abs=1e-10)
    est = np.array([c.estimate for c in cs])
    mc_se = est.std(ddof=1) / np.sqrt(reps)
    assert abs(est.mean() - truth) < 2 * mc_se
    tw_mc_se = tw.std(ddof=1) / np.sqrt(reps)
    assert abs(tw.mean() - truth) > 10 * tw_mc_se and abs(tw.mean() - truth) > 0.5
    # analytic CIs cover: 200 reps give an MC SE of 0.015 around 0.95
    covered = np.mean([c.ci_low <= truth <= c.ci_high for c in cs])
    assert 0.90 <= covered <= 0.99


def test_cluster_option(mpdta):
    base = _cs(mpdta)
    assert _cs(mpdta, cluster="countyreal").std_error == pytest.approx(base.std_error, rel=1e-12)
    # clustering on a coarser, unit-constant grouping sums influence functions within it
    state = mpdta.assign(state=mpdta.countyreal // 1000)
    eff = callaway_santanna(state, "lemp", "countyreal", "year", "first.treat", cluster="state")
    assert eff.std_error != pytest.approx(base.std_error, rel=1e-3)
    assert "clustered (" in eff.inference
    with pytest.raises(DataError, match="constant within each unit"):
        callaway_santanna(state, "lemp", "countyreal", "year", "first.treat", cluster="year")


def test_bad_inputs(mpdta):
    with pytest.raises(DuplicatePanelRowError, match="duplicate unit-period"):
        _cs(pd.concat([mpdta, mpdta.iloc[[10]]]))
    with pytest.raises(EmptyArmError, match="no unit is treated"):
        _cs(mpdta.assign(**{"first.treat": 0}))
    with pytest.raises(EmptyArmError, match="no unit is treated"):
        _cs(mpdta.assign(**{"first.treat": np.where(mpdta["first.treat"] > 0, 2010, 0)}))
    with pytest.raises(EmptyArmError, match="not_yet_treated"):
        _cs(mpdta[mpdta["first.treat"] > 0])
    with pytest.raises(DataError, match="unbalanced"):
        _cs(mpdta.iloc[1:])
    varying = mpdta.assign(**{"first.treat": np.where(mpdta.year == 2003, 2004,
                                                      mpdta["first.treat"])})
    with pytest.raises(DataError, match="varies within unit"):
        _cs(varying)
    with pytest.raises(OptionError, match="control_group"):
        _cs(mpdta, control_group="everyone")
    with pytest.raises(OptionError, match="aggregation"):
        _cs(mpdta, aggregation="weekly")
