"""`frontdoor`, `mediation` and `id_plugin` against closed forms, hand-coded plug-ins and simulation.

Simulation designs (binary treatment A, covariate C, binary or continuous M):

* front-door: C ~ N(0,1); A ~ Bern(expit(C/2)); a latent U | A, C ~ N(A - 1/2, 1)
  confounds A and Y; M = 1/2 + A + C/2 + N(0,1) or M ~ Bern(expit(A - 1/2 + C/2));
  Y = 1 + 2M + C/2 + U + N(0,1).  ATE = 2 E[M(1) - M(0)] (2, or by quadrature).
* mediation: no latent; Y = 1 + 1.5A + 2M + C/2 + N(0,1): NDE = 1.5, NIE = 2 E[M(1) - M(0)].

Every nuisance model is correctly specified (logistic / linear), so the
influence-function intervals should cover at 95%.  500 replications: the Monte
Carlo SE of a coverage of 0.95 is sqrt(.95 * .05 / 500) = 0.0097, so [0.93, 0.97]
is ±2 MC SE; bias is compared with 2 MC SE of the mean, sd / sqrt(500).
n = 400 per replication and full-sample nuisances keep the test to seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import causalkit
from causalkit.dags import CausalDAG
from causalkit.errors import CausalKitError, DataError, NotIdentifiableError, RoleError

REPS, N = 500, 400
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(80)
WEIGHTS = WEIGHTS / WEIGHTS.sum()


def binary_m_gap() -> float:
    """E_C[P(M=1 | A=1, C) - P(M=1 | A=0, C)], C ~ N(0, 1), by Gauss-Hermite quadrature."""
    return float(WEIGHTS @ (expit(0.5 + 0.5 * NODES) - expit(-0.5 + 0.5 * NODES)))


def simulate(rng, n, binary_m, latent):
    c = rng.normal(size=n)
    a = (rng.random(n) < expit(0.5 * c)).astype(int)
    if binary_m:
        m = (rng.random(n) < expit(a - 0.5 + 0.5 * c)).astype(float)
    else:
        m = 0.5 + a + 0.5 * c + rng.normal(size=n)
    if latent:
        u = rng.normal(a - 0.5, 1.0)
        y = 1 + 2 * m + 0.5 * c + u + rng.normal(size=n)
    else:
        y = 1 + 1.5 * a + 2 * m + 0.5 * c + rng.normal(size=n)
    return pd.DataFrame({"a": a, "m": m, "c": c, "y": y})


def _check_simulation(estimates, ses, truth):
    est, se = np.asarray(estimates), np.asarray(ses)
    mc_se = est.std(ddof=1) / np.sqrt(len(est))
    assert abs(est.mean() - truth) < 2 * mc_se, (est.mean(), truth, mc_se)
    cover = np.mean(np.abs(est - truth) <= 1.959964 * se)
    assert 0.93 <= cover <= 0.97, cover


@pytest.mark.parametrize("binary_m", [False, True])
def test_frontdoor_one_step_bias_and_coverage(binary_m):
    rng = np.random.default_rng(2020 + binary_m)
    truth = 2.0 * (binary_m_gap() if binary_m else 1.0)
    ests, ses = [], []
    for _ in range(REPS):
        df = simulate(rng, N, binary_m, latent=True)
        eff = causalkit.estimate(df, "a", "y", method="frontdoor", mediators="m",
                                 covariates=["c"], cross_fitting=False)
        ests.append(eff.estimate)
        ses.append(eff.std_error)
    _check_simulation(ests, ses, truth)


@pytest.mark.parametrize("binary_m", [False, True])
def test_mediation_nde_nie_bias_and_coverage(binary_m):
    rng = np.random.default_rng(2012 + binary_m)
    nie_truth = 2.0 * (binary_m_gap() if binary_m else 1.0)
    out = {"NDE": ([], []), "NIE": ([], [])}
    for _ in range(REPS):
        df = simulate(rng, N, binary_m, latent=False)
        eff = causalkit.estimate(df, "a", "y", method="mediation", mediators="m",
                                 covariates=["c"], cross_fitting=False)
        for k in out:
            out[k][0].append(eff.diagnostics[k])
            out[k][1].append(eff.diagnostics[f"{k}_se"])
    _check_simulation(*out["NDE"], 1.5)
    _check_simulation(*out["NIE"], nie_truth)


def test_frontdoor_plugin_equals_hand_coded_formula_binary_mediator():
    from sklearn.tree import DecisionTreeRegressor

    df = simulate(np.random.default_rng(5), 3000, binary_m=True, latent=True)
    eff = causalkit.estimate(df, "a", "y", method="frontdoor", mediators="m",
                             estimator="plugin", cross_fitting=False,
                             outcome_model=DecisionTreeRegressor())   # saturated in (m, a)
    # Pearl's formula with cell frequencies: sum_m P(m|a*) sum_a' E[Y|m,a'] P(a')
    pa = df["a"].value_counts(normalize=True)
    ey = df.groupby(["m", "a"])["y"].mean()
    pm = df.groupby("a")["m"].value_counts(normalize=True)

    def psi(arm):
        return sum(pm[(arm, m)] * sum(ey[(m, a)] * pa[a] for a in (0, 1)) for m in (0.0, 1.0))

    assert eff.estimate == pytest.approx(psi(1) - psi(0), abs=1e-10)
    assert eff.diagnostics["one_step"] == pytest.approx(psi(1) - psi(0), abs=1e-8)


def test_mediation_equals_hand_coded_mediation_formula_binary_mediator():
    from sklearn.tree import DecisionTreeRegressor

    df = simulate(np.random.default_rng(6), 3000, binary_m=True, latent=False)
    eff = causalkit.estimate(df, "a", "y", method="mediation", mediators="m",
                             cross_fitting=False, outcome_model=DecisionTreeRegressor())
    ey = df.groupby(["a", "m"])["y"].mean()
    pm = df.groupby("a")["m"].value_counts(normalize=True)

    def psi(a, b):
        return sum(ey[(a, m)] * pm[(b, m)] for m in (0.0, 1.0))

    # saturated nuisances: the multiply robust estimator equals the mediation formula
    assert eff.diagnostics["NDE"] == pytest.approx(psi(1, 0) - psi(0, 0), abs=1e-8)
    assert eff.diagnostics["NIE"] == pytest.approx(psi(1, 1) - psi(1, 0), abs=1e-8)
    assert eff.diagnostics["TE"] == pytest.approx(df.groupby("a")["y"].mean().diff().iloc[-1],
                                                  abs=1e-8)


def test_frontdoor_takes_the_mediators_from_the_dag():
    dag = CausalDAG([("a", "m"), ("m", "y")], bidirected=[("a", "y")])
    rng = np.random.default_rng(1)
    u = rng.normal(size=2000)
    a = (u + rng.normal(size=2000) > 0).astype(int)
    m = a + rng.normal(size=2000)
    df = pd.DataFrame({"a": a, "m": m, "y": 2 * m + u + rng.normal(size=2000)})
    eff = causalkit.estimate(df, "a", "y", method="frontdoor", dag=dag)
    assert eff.diagnostics["mediators"] == ("m",)
    assert abs(eff.estimate - 2.0) < 4 * eff.std_error


def test_mediation_refuses_a_treatment_induced_confounder():
    dag = CausalDAG([("a", "l"), ("l", "m"), ("l", "y"), ("m", "y"), ("a", "y")])
    df = pd.DataFrame(np.random.default_rng(0).integers(0, 2, (50, 4)),
                      columns=["a", "l", "m", "y"])
    with pytest.raises(NotIdentifiableError, match="l"):
        causalkit.estimate(df, "a", "y", method="mediation", mediators="m", dag=dag)


def test_mediation_refuses_unblockable_mediator_outcome_confounding():
    dag = CausalDAG([("a", "m"), ("m", "y"), ("a", "y")], bidirected=[("m", "y")])
    df = pd.DataFrame(np.random.default_rng(0).integers(0, 2, (50, 3)), columns=["a", "m", "y"])
    with pytest.raises(NotIdentifiableError, match="m <-> y"):
        causalkit.estimate(df, "a", "y", method="mediation", mediators="m", dag=dag)


def test_mediation_covariates_from_the_dag():
    dag = CausalDAG([("c", "a"), ("c", "m"), ("c", "y"), ("a", "m"), ("m", "y"), ("a", "y")])
    df = simulate(np.random.default_rng(2), 3000, binary_m=False, latent=False)
    eff = causalkit.estimate(df, "a", "y", method="mediation", dag=dag, estimand="NIE")
    assert eff.covariates == ("c",) and eff.diagnostics["mediators"] == ("m",)
    assert abs(eff.estimate - 2.0) < 4 * eff.std_error


def test_mediator_roles_are_checked():
    df = simulate(np.random.default_rng(3), 100, binary_m=False, latent=False)
    with pytest.raises(RoleError):
        causalkit.estimate(df, "a", "y", method="frontdoor")
    with pytest.raises(CausalKitError, match="nope"):
        causalkit.estimate(df, "a", "y", method="mediation", mediators="nope")


# ---------------------------------------------------------------------- id_plugin
def _napkin_data(rng, n):
    u1, u2 = rng.random(n) < 0.5, rng.random(n) < 0.5
    w1 = (rng.random(n) < 0.2 + 0.5 * u1 + 0.2 * u2).astype(int)
    w2 = (rng.random(n) < 0.3 + 0.4 * w1).astype(int)
    x = (rng.random(n) < 0.1 + 0.5 * w2 + 0.3 * u1).astype(int)
    y = (rng.random(n) < 0.1 + 0.4 * x + 0.4 * u2).astype(int)
    return pd.DataFrame({"W1": w1, "W2": w2, "X": x, "Y": y})


NAPKIN = CausalDAG([("W1", "W2"), ("W2", "X"), ("X", "Y")],
                   bidirected=[("W1", "X"), ("W1", "Y")])


def test_id_plugin_napkin_recovers_the_effect_and_its_formula():
    df = _napkin_data(np.random.default_rng(0), 20000)
    eff = causalkit.estimate(df, "X", "Y", method="id_plugin", graph=NAPKIN, n_bootstrap=50)
    assert abs(eff.estimate - 0.4) < 3 * eff.std_error + 0.01     # true ATE 0.4
    assert "W2" in eff.diagnostics["formula"] and eff.diagnostics["strategy"] == "id"
    # plug-in = the formula evaluated on the empirical distribution, by hand
    p = df.value_counts(normalize=True)

    def prob(**fix):
        keep = p
        for k, v in fix.items():
            keep = keep[keep.index.get_level_values(k) == v]
        return keep.sum()

    def do(xv):  # napkin: sum_w2 P(w2) [sum_w1 P(w1) P(x,y|w1,w2)] / [sum_w1 P(w1) P(x|w1,w2)]
        out = 0.0
        for w2 in (0, 1):
            num = sum(prob(W1=w1) * prob(W1=w1, W2=w2, X=xv, Y=1) / prob(W1=w1, W2=w2)
                      for w1 in (0, 1))
            den = sum(prob(W1=w1) * prob(W1=w1, W2=w2, X=xv) / prob(W1=w1, W2=w2)
                      for w1 in (0, 1))
            out += prob(W2=w2) * num / den
        return out

    assert eff.estimate == pytest.approx(do(1) - do(0), abs=1e-12)


def test_id_plugin_refuses_continuous_variables_by_name():
    df = _napkin_data(np.random.default_rng(1), 500).astype(float)
    df["W1"] = df["W1"] + np.random.default_rng(1).normal(size=500)
    with pytest.raises(DataError, match="W1"):
        causalkit.estimate(df, "X", "Y", method="id_plugin", graph=NAPKIN)


def test_id_plugin_refuses_non_identified_effects():
    bow = CausalDAG([("X", "Y")], bidirected=[("X", "Y")])
    df = _napkin_data(np.random.default_rng(1), 100)
    with pytest.raises(NotIdentifiableError, match="hedge"):
        causalkit.estimate(df, "X", "Y", method="id_plugin", graph=bow)
