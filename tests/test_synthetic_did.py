"""synthetic_did: Arkhangelsky et al. (2021) Table 1 on Proposition 99, solver and SE checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

import causalkit
from causalkit import errors
from causalkit.panel._simplex import frank_wolfe

PROP99 = Path(__file__).resolve().parents[2] / "shared" / "data" / "california_prop99.csv"
#: Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021, AER), Table 1: estimate (placebo SE)
TABLE1 = {"sdid": (-15.6, 8.4), "sc": (-19.6, 9.9), "did": (-27.3, 17.7)}


@pytest.fixture(scope="module")
def prop99() -> pd.DataFrame:
    if not PROP99.exists():
        pytest.skip(f"{PROP99} is absent (the Proposition 99 panel from the synthdid repository)")
    return pd.read_csv(PROP99, sep=";")


def _fit(df, **options):
    return causalkit.estimate(df, "treated", "PacksPerCapita", method="synthetic_did",
                              unit="State", time="Year", **options)


@pytest.fixture(scope="module")
def table1_fits(prop99):
    return {k: _fit(prop99, estimator=k) for k in TABLE1}


@pytest.mark.parametrize("kind", sorted(TABLE1))
def test_prop99_matches_table1_estimates(table1_fits, kind):
    assert round(table1_fits[kind].estimate, 1) == TABLE1[kind][0]


@pytest.mark.parametrize("kind", sorted(TABLE1))
def test_prop99_placebo_se_is_consistent_with_table1(table1_fits, kind):
    """With one treated unit the placebo has 38 possible assignments; we use each once.

    The paper's SE is one draw of synthdid's 200 random placebo assignments from those 38:
    it must lie within the central 99% of that draw's distribution (simulated from our 38
    placebo estimates, 4000 draws: the quantiles' Monte-Carlo error is below 1%).
    """
    eff = table1_fits[kind]
    reps = eff.diagnostics["replicates"]
    assert reps.size == 38 and eff.diagnostics["n_replications"] == 38
    assert eff.std_error == pytest.approx(np.sqrt(np.mean((reps - reps.mean()) ** 2)))
    rng = np.random.default_rng(1)
    sims = np.array([np.std(rng.choice(reps, 200)) for _ in range(4000)])
    lo, hi = np.quantile(sims, [0.005, 0.995])
    assert lo <= TABLE1[kind][1] <= hi, (lo, TABLE1[kind][1], hi)


def test_prop99_weights_are_sparse_and_time_weights_late(table1_fits):
    """The paper (Fig. 1 and sect. 2): few pre-periods get time weight, all just before 1989."""
    eff = table1_fits["sdid"]
    lam = eff.diagnostics["time_weights"]
    assert lam.sum() == pytest.approx(1.0) and eff.diagnostics["unit_weights"].sum() == \
        pytest.approx(1.0)
    assert set(lam[lam > 0].index) <= {1985, 1986, 1987, 1988}
    sc = table1_fits["sc"].diagnostics["time_weights"]
    assert (sc == 0).all()


def test_did_estimator_equals_two_way_fixed_effects(prop99):
    """In a balanced block design the uniform-weight DiD is the TWFE coefficient."""
    ours = _fit(prop99, estimator="did", se_method="jackknife")
    twfe = causalkit.estimate(prop99, "treated", "PacksPerCapita", method="twfe",
                              unit="State", time="Year")
    assert ours.estimate == pytest.approx(twfe.estimate, rel=1e-9)
    assert np.isnan(ours.std_error)       # the jackknife needs two treated units


def _panel(n_units=40, n_periods=10, treated=(36, 37, 38, 39), adopt=7, seed=0,
           effect=2.0, cohorts=None):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n_periods).cumsum()
    load = rng.uniform(0.5, 1.5, n_units)
    unit, t = np.repeat(np.arange(n_units), n_periods), np.tile(np.arange(n_periods), n_units)
    g = np.full(n_units, -1)
    for i, u in enumerate(treated):
        g[u] = adopt if cohorts is None else cohorts[i]
    d = ((g[unit] >= 0) & (t >= g[unit])).astype(int)
    y = rng.normal(size=n_units)[unit] + load[unit] * f[t] + effect * d \
        + 0.3 * rng.normal(size=unit.size)
    return pd.DataFrame({"i": unit, "t": t, "d": d, "y": y})


def test_jackknife_of_did_equals_a_hand_computation():
    df = _panel()
    eff = causalkit.estimate(df, "d", "y", method="synthetic_did", unit="i", time="t",
                             estimator="did", se_method="jackknife")
    Y = df.pivot(index="i", columns="t", values="y").to_numpy()
    tr = np.isin(np.arange(40), (36, 37, 38, 39))

    def did(keep):
        yt, yc = Y[keep & tr].mean(0), Y[keep & ~tr].mean(0)
        return (yt - yc)[7:].mean() - (yt - yc)[:7].mean()

    u = np.array([did(np.arange(40) != i) for i in range(40)])
    assert eff.estimate == pytest.approx(did(np.ones(40, bool)), rel=1e-12)
    assert eff.std_error == pytest.approx(np.sqrt(39 / 40 * np.sum((u - u.mean()) ** 2)),
                                          rel=1e-10)


def test_staggered_att_is_the_weighted_average_of_cohort_fits():
    """Clarke et al. (2023): each cohort against the never-treated, weights N_tr x T_post."""
    df = _panel(n_units=40, treated=(34, 35, 36, 37, 38, 39), cohorts=(5, 5, 5, 8, 8, 8))
    eff = causalkit.estimate(df, "d", "y", method="synthetic_did", unit="i", time="t",
                             se_method="jackknife")
    parts = []
    for units, post in (((34, 35, 36), 5), ((37, 38, 39), 2)):
        sub = df[(df.i < 34) | df.i.isin(units)]
        parts.append((causalkit.estimate(sub, "d", "y", method="synthetic_did", unit="i",
                                         time="t", se_method="jackknife").estimate, 3 * post))
    want = sum(e * w for e, w in parts) / sum(w for _, w in parts)
    assert eff.estimate == pytest.approx(want, rel=1e-10)
    table = eff.diagnostics["cohorts"]
    assert table["adoption_period"].tolist() == [5, 8]
    assert table["weight"].tolist() == pytest.approx([15 / 21, 6 / 21])


def test_bootstrap_and_placebo_are_reproducible_and_close():
    """Same seed, same SE; placebo and bootstrap SEs agree within their Monte-Carlo error."""
    df = _panel(seed=3)
    kw = dict(unit="i", time="t", method="synthetic_did", n_replications=100)
    a = causalkit.estimate(df, "d", "y", se_method="bootstrap", random_state=5, **kw)
    b = causalkit.estimate(df, "d", "y", se_method="bootstrap", random_state=5, **kw)
    p = causalkit.estimate(df, "d", "y", se_method="placebo", **kw)
    assert a.std_error == b.std_error
    # 100 replications: each SE has a relative Monte-Carlo error of about 7%
    assert 0.5 < a.std_error / p.std_error < 2.0
    assert abs(a.estimate - 2.0) < 4 * p.std_error
    ev = p.diagnostics["event_study"]
    post = ev[ev.event_time >= 0]
    assert post["att"].mean() == pytest.approx(p.estimate)
    assert np.isfinite(post["std_error"]).all()


def test_frank_wolfe_reaches_the_penalised_simplex_optimum():
    rng = np.random.default_rng(2)
    A, b, eta = rng.normal(size=(12, 30)), rng.normal(size=12), 0.5
    x, _ = frank_wolfe(A, b, eta, np.full(30, 1 / 30), 1e-12, 100_000)
    obj = lambda w: np.sum((A @ w - b) ** 2) + eta * np.sum(w ** 2)  # noqa: E731
    ref = minimize(obj, np.full(30, 1 / 30), method="SLSQP", bounds=[(0, 1)] * 30,
                   constraints={"type": "eq", "fun": lambda w: w.sum() - 1},
                   options={"ftol": 1e-15, "maxiter": 2000})
    # Frank-Wolfe's objective gap shrinks like 1/iterations: 1e-4 after 10^5 steps
    assert obj(x) == pytest.approx(ref.fun, rel=1e-4) and obj(x) >= ref.fun - 1e-9
    assert x.min() >= 0 and x.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------- bad input

def test_unbalanced_panel_is_refused_with_the_numbers():
    df = _panel().drop(index=[3, 17])
    with pytest.raises(errors.DataError, match=r"balanced panel.*2 of 40 units"):
        causalkit.estimate(df, "d", "y", method="synthetic_did", unit="i", time="t")


def test_treatment_switching_off_is_refused():
    df = _panel()
    df.loc[(df.i == 39) & (df.t == 9), "d"] = 0
    with pytest.raises(errors.DataError, match=r"switches off again for unit .*39"):
        causalkit.estimate(df, "d", "y", method="synthetic_did", unit="i", time="t")


@pytest.mark.parametrize("adopt, match", [(1, "at least 2 pre-treatment periods"),
                                          (0, "treated from the first period")])
def test_too_few_pre_periods(adopt, match):
    with pytest.raises(errors.TooFewRowsError, match=match):
        causalkit.estimate(_panel(adopt=adopt), "d", "y", method="synthetic_did",
                           unit="i", time="t")


def test_too_few_donors_and_no_donors():
    df = _panel(n_units=5, treated=(1, 2, 3, 4))
    with pytest.raises(errors.TooFewRowsError, match="at least 2 never-treated donor"):
        causalkit.estimate(df, "d", "y", method="synthetic_did", unit="i", time="t")
    df = _panel(n_units=4, treated=(0, 1, 2, 3))
    with pytest.raises(errors.EmptyArmError, match="never-treated"):
        causalkit.estimate(df, "d", "y", method="synthetic_did", unit="i", time="t")


def test_undefined_standard_errors_say_why(prop99):
    jk = _fit(prop99, se_method="jackknife")
    assert np.isnan(jk.std_error) and np.isnan(jk.p_value)
    assert "at least 2 treated units" in jk.inference
    bs = _fit(prop99, se_method="bootstrap")
    assert np.isnan(bs.std_error) and "single treated unit" in bs.inference
    many = _panel(n_units=10, treated=tuple(range(3, 10)))
    pl = causalkit.estimate(many, "d", "y", method="synthetic_did", unit="i", time="t",
                            se_method="placebo")
    assert np.isnan(pl.std_error) and "more control units (3) than treated units (7)" \
        in pl.inference


@pytest.mark.parametrize("option, value", [("estimator", "synth"), ("se_method", "wild"),
                                           ("n_replications", 1)])
def test_bad_option_values(option, value):
    with pytest.raises(errors.OptionError, match=option):
        causalkit.estimate(_panel(), "d", "y", method="synthetic_did", unit="i", time="t",
                           **{option: value})


@pytest.mark.parametrize("method", ["synthetic_did", "synthetic_control"])
def test_weights_are_refused(method):
    df = _panel().assign(w=1.0)
    with pytest.raises(errors.RoleError, match="weights"):
        causalkit.estimate(df, "d", "y", method=method, unit="i", time="t", weights="w")


def test_gram_steps_equal_column_steps():
    """With many more rows than columns the steps run on A'A: the same iterates."""
    from causalkit.panel._simplex import _fw_columns

    rng = np.random.default_rng(5)
    A, b = rng.normal(size=(300, 10)), rng.normal(size=300)
    x, it = frank_wolfe(A, b, 0.5, np.full(10, 0.1), 1e-8, 1000)
    z, it2 = _fw_columns(np.ascontiguousarray(A.T), b, 0.5, np.full(10, 0.1), 1e-16, 1000)
    assert it == it2 and np.abs(x - z).max() < 1e-12
