"""Borusyak–Jaravel–Spiess imputation and Gardner's two-stage DiD: a hand computation with
statsmodels and dense linear algebra (estimates, the conservative variance, the pre-trend
test against PanelOLS), pyfixest's did2s on mpdta and castle, and bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import causalkit
from staggered_data import castle_with_cohorts
from causalkit.errors import DataError, EmptyArmError, OptionError, RoleError
from causalkit.panel._panel import fit_twfe
from causalkit.panel.did2s import did2s
from causalkit.panel.event_study import wald_pretrend
from causalkit.panel.imputation_did import imputation_did


def panel(seed, n_units=60, n_periods=6, cohorts=(0, 3, 4, 5), drop=0, covariate=False):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(1, n_periods + 1), n_units)
    g = np.repeat(rng.choice(cohorts, n_units), n_periods)
    e = t - g
    x = rng.normal(size=unit.size)
    effect = np.where((g > 0) & (e >= 0), 1.0 + 0.4 * e, 0.0)
    y = rng.normal(size=n_units)[unit] + 0.2 * t + effect + 0.5 * x + rng.normal(size=unit.size)
    df = pd.DataFrame({"id": unit, "t": t, "g": g, "x": x, "y": y,
                       "d": ((g > 0) & (e >= 0)).astype(int), "state": unit % 13})
    if drop:
        df = df.drop(index=rng.choice(len(df), drop, replace=False)).reset_index(drop=True)
    return df


def _hand(df, covs=(), cluster="id"):
    """Imputation by statsmodels OLS on the untreated rows; the Theorem-3 variance with the
    imputation weights from dense normal equations."""
    rhs = " + ".join(["C(id)", "C(t)", *covs])
    untreated = df[df.d == 0]
    fit = smf.ols(f"y ~ {rhs}", data=untreated).fit()
    treated = df[df.d == 1]
    tau = treated.y - fit.predict(treated)
    e = (treated.t - treated.g).to_numpy()
    # dense design with every unit and period dummy (pinv handles the redundancy)
    Z = np.column_stack([pd.get_dummies(df.id).to_numpy(float),
                         pd.get_dummies(df.t).to_numpy(float),
                         df[list(covs)].to_numpy(float)])
    z0, z1 = Z[df.d.to_numpy() == 0], Z[df.d.to_numpy() == 1]
    resid0 = untreated.y - fit.fittedvalues
    cell = tau.groupby([treated.g, treated.t - treated.g]).transform("mean")
    out = {}
    targets = {h: (e == h) / (e == h).sum() for h in np.unique(e)}
    targets["overall"] = np.full(len(tau), 1.0 / len(tau))
    bread = np.linalg.pinv(z0.T @ z0)
    for key, w1 in targets.items():
        v0 = -z0 @ bread @ (z1.T @ w1)
        score = pd.concat([pd.Series(v0 * resid0.to_numpy(), index=untreated.index),
                           pd.Series(w1 * (tau - cell).to_numpy(), index=treated.index)])
        per_unit = score.groupby(df.loc[score.index, cluster]).sum()
        out[key] = (float(w1 @ tau), float(np.sqrt((per_unit ** 2).sum())))
    return out


@pytest.mark.parametrize("covs", [(), ("x",)])
def test_imputation_equals_hand_computation_on_an_unbalanced_panel(covs):
    df = panel(0, drop=17)
    eff = imputation_did(df, "y", "id", "t", cohort="g", covariates=list(covs) or None)
    ref = _hand(df, covs)
    assert eff.estimate == pytest.approx(ref["overall"][0], abs=1e-10)
    assert eff.std_error == pytest.approx(ref["overall"][1], rel=1e-8)
    table = eff.diagnostics["event_study"].set_index("event_time")
    for h in range(0, 4):
        assert table.loc[h, "att"] == pytest.approx(ref[h][0], abs=1e-10)
        assert table.loc[h, "std_error"] == pytest.approx(ref[h][1], rel=1e-8)


def test_pretrend_test_equals_panelols_on_the_untreated_rows():
    df = panel(1, n_units=90)
    eff = imputation_did(df, "y", "id", "t", cohort="g", pretrend_leads=3)
    untreated = df[df.d == 0].reset_index(drop=True)
    rel = np.where(untreated.g > 0, untreated.t - untreated.g, 99)
    leads = pd.DataFrame({f"lead{k}": (rel == -k).astype(float) for k in (1, 2, 3)})
    fit = fit_twfe(untreated, "y", leads, "id", "t", untreated.id.to_numpy())
    ref = wald_pretrend(fit.params.to_numpy(), fit.cov.to_numpy(), fit.df)
    assert eff.diagnostics["pretrend_F"] == pytest.approx(ref["pretrend_F"], rel=1e-8)
    assert eff.diagnostics["pretrend_p_value"] == pytest.approx(ref["pretrend_p_value"],
                                                                rel=1e-8)
    table = eff.diagnostics["event_study"].set_index("event_time")
    for k in (1, 2, 3):
        assert table.loc[-k, "att"] == pytest.approx(fit.params[f"lead{k}"], abs=1e-10)
        assert table.loc[-k, "std_error"] == pytest.approx(
            np.sqrt(fit.cov.loc[f"lead{k}", f"lead{k}"]), rel=1e-8)


def test_did2s_post_effects_equal_the_imputation_estimates():
    df = panel(2, drop=9)
    imp = imputation_did(df, "y", "id", "t", treatment="d")
    two = did2s(df, "y", "id", "t", treatment="d")
    assert two.estimate == pytest.approx(imp.estimate, abs=1e-12)
    a = imp.diagnostics["event_study"].set_index("event_time")
    b = two.diagnostics["event_study"].set_index("event_time")
    for h in range(4):
        assert a.loc[h, "att"] == pytest.approx(b.loc[h, "att"], abs=1e-12)


def _pyfixest_did2s(data, y, i, t, g):
    pf = pytest.importorskip("pyfixest", reason="pyfixest (test extra) is not installed")
    d = data.assign(is_treated=((data[g] > 0) & (data[t] >= data[g])).astype(int))
    d["dd"] = d.is_treated.astype(float)
    d["rel"] = np.where(d[g] > 0, d[t] - d[g], np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        static = pf.did2s(d, yname=y, first_stage=f"~0|{i}+{t}", second_stage="~0+dd",
                          treatment="is_treated", cluster=i).tidy()
        event = pf.did2s(d, yname=y, first_stage=f"~0|{i}+{t}",
                         second_stage="~i(rel, ref=-1.0)", treatment="is_treated",
                         cluster=i).tidy()
    return static, event


@pytest.fixture(scope="module")
def castle():
    return castle_with_cohorts()


def _check_did2s(eff, static, event):
    # pyfixest's first stage stops its alternating projections at ~1e-6 relative, hence
    # the tolerances (its never-treated dummy comes out 1e-6 instead of 0)
    assert eff.estimate == pytest.approx(static.loc["dd", "Estimate"], abs=2e-5)
    assert eff.std_error == pytest.approx(static.loc["dd", "Std. Error"], rel=1e-3)
    table = eff.diagnostics["event_study"].set_index("event_time")
    for name, row in event.iterrows():
        e = float(name.split("::")[1])
        if not np.isfinite(e):
            continue
        assert table.loc[int(e), "att"] == pytest.approx(row["Estimate"], abs=2e-5)
        assert table.loc[int(e), "std_error"] == pytest.approx(row["Std. Error"], rel=1e-3)


def test_did2s_equals_pyfixest_on_mpdta(shared_csv):
    mpdta = shared_csv("mpdta.csv")
    # pyfixest's did2s fails on the 2004 cohort (a single untreated row per unit): compare
    # without it
    data = mpdta[mpdta["first.treat"] != 2004]
    eff = did2s(data, "lemp", "countyreal", "year", cohort="first.treat")
    _check_did2s(eff, *_pyfixest_did2s(data, "lemp", "countyreal", "year", "first.treat"))


def test_did2s_equals_pyfixest_on_castle(castle):
    eff = causalkit.estimate(castle, outcome="l_homicide", method="did2s", unit="sid",
                             time="year", cohort="g")
    _check_did2s(eff, *_pyfixest_did2s(castle, "l_homicide", "sid", "year", "g"))


def test_clustering_on_a_coarser_column():
    df = panel(3, n_units=130)
    eff = imputation_did(df, "y", "id", "t", cohort="g", cluster="state", covariates=["x"])
    assert eff.diagnostics["n_clusters"] == 13
    ref = _hand(df, ("x",), cluster="state")
    assert eff.std_error == pytest.approx(ref["overall"][1], rel=1e-8)
    two = did2s(df, "y", "id", "t", cohort="g", cluster="state")
    assert two.diagnostics["n_clusters"] == 13
    by_unit = did2s(df, "y", "id", "t", cohort="g")
    assert two.estimate == by_unit.estimate and two.std_error != by_unit.std_error


def test_no_untreated_rows_in_late_periods_are_dropped_with_counts():
    df = panel(4, cohorts=(3, 5))          # no never treated: periods 5, 6 are all treated
    n_late = int(((df.t >= 5) & (df.d == 1)).sum())
    with pytest.warns(UserWarning, match=rf"{n_late} of {int(df.d.sum())} treated rows cannot "
                                         r"be imputed.*period\(s\) 5, 6 where every unit"):
        eff = imputation_did(df, "y", "id", "t", cohort="g")
    assert eff.diagnostics["dropped_treated_rows"] == n_late
    with pytest.warns(UserWarning, match="cannot be imputed"):
        did2s(df, "y", "id", "t", cohort="g")


def test_bad_input():
    df = panel(5)
    always = df.assign(g=np.where(df.g > 0, 1, 0))
    always["d"] = (always.g > 0).astype(int)
    with pytest.raises(EmptyArmError, match="no treated row can be imputed"):
        imputation_did(always, "y", "id", "t", treatment="d")
    switching = df.copy()
    who = switching.id[switching.g == 3].iloc[0]
    switching.loc[(switching.id == who) & (switching.t == 4), "d"] = 0     # on, off, on
    with pytest.raises(DataError, match="switches off again"):
        did2s(switching, "y", "id", "t", treatment="d")
    with pytest.raises(OptionError, match="horizons must be an integer"):
        imputation_did(df, "y", "id", "t", cohort="g", horizons=-1)
    with pytest.raises(RoleError, match="exactly one of treatment"):
        imputation_did(df, "y", "id", "t")
    for method in ("imputation_did", "did2s"):
        with pytest.raises(RoleError, match="weights"):
            causalkit.estimate(df.assign(w=1.0), outcome="y", method=method, unit="id",
                               time="t", cohort="g", weights="w")
