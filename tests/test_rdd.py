"""Regression discontinuity: numbers against rdrobust (the reference implementation by
Calonico, Cattaneo, Farrell & Titiunik) on its own Senate data and on simulated designs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import EmptyArmError, NotIdentifiableError, RoleError, TooFewRowsError
from causalkit.rd import rd_estimate, select_bandwidth
from causalkit.rd.neighbours import nn_residuals

rdrobust = pytest.importorskip("rdrobust")


@pytest.fixture(scope="module")
def senate() -> pd.DataFrame:
    from rdrobust.datasets import rdrobust_RDsenate

    return rdrobust_RDsenate().dropna(subset=["margin", "vote"]).reset_index(drop=True)


def _reference(out) -> dict[str, float]:
    coef = out.coef.to_numpy().ravel()
    se = out.se.to_numpy().ravel()
    ci = out.ci.to_numpy()
    bws = out.bws.to_numpy()
    return {"estimate": coef[0], "estimate_bc": coef[1], "se_cl": se[0], "se_rb": se[2],
            "ci_low": ci[2, 0], "ci_high": ci[2, 1], "h_l": bws[0, 0], "h_r": bws[0, 1],
            "b_l": bws[1, 0], "b_r": bws[1, 1]}


def _ours(res) -> dict[str, float]:
    bw = res.bandwidths
    return {"estimate": res.estimate, "estimate_bc": res.estimate_bc,
            "se_cl": res.se_conventional, "se_rb": res.se_robust, "ci_low": res.ci_robust[0],
            "ci_high": res.ci_robust[1], "h_l": bw.h_left, "h_r": bw.h_right,
            "b_l": bw.b_left, "b_r": bw.b_right}


def test_senate_matches_rdrobust_defaults(senate):
    eff = causalkit.estimate(senate, outcome="vote", method="rdd", running="margin", cutoff=0)
    ref = _reference(rdrobust.rdrobust(senate["vote"], senate["margin"]))
    d = eff.diagnostics
    assert eff.estimate == pytest.approx(ref["estimate"], abs=1e-4)
    assert d["h_left"] == pytest.approx(ref["h_l"], abs=1e-4)
    assert d["b_left"] == pytest.approx(ref["b_l"], abs=1e-4)
    assert eff.ci_low == pytest.approx(ref["ci_low"], abs=1e-4)
    assert eff.ci_high == pytest.approx(ref["ci_high"], abs=1e-4)
    assert eff.std_error == pytest.approx(ref["se_rb"], abs=1e-4)
    assert d["se_conventional"] == pytest.approx(ref["se_cl"], abs=1e-4)
    # published: Cattaneo, Frandsen & Titiunik (2015) / rdrobust docs, about 7.4 points
    assert 7.3 < eff.estimate < 7.5


@pytest.mark.parametrize("opts", [
    {"bwselect": "msetwo"},
    {"kernel": "epanechnikov"},
    {"kernel": "uniform", "bwselect": "msetwo"},
    {"p": 2},
    {"vce": "hc2"},
])
def test_senate_options_match_rdrobust(senate, opts):
    res = rd_estimate(senate["margin"].to_numpy(), senate["vote"].to_numpy(), 0.0, **opts)
    ref_opts = {"epanechnikov": "epa", "uniform": "uni"}
    kw = {k: ref_opts.get(v, v) for k, v in opts.items()}
    ref = _reference(rdrobust.rdrobust(senate["vote"], senate["margin"], **kw))
    ours = _ours(res)
    for key, value in ref.items():
        assert ours[key] == pytest.approx(value, abs=1e-6), key


def test_senate_covariates_and_cluster_match_rdrobust(senate):
    data = senate.dropna(subset=["presdemvoteshlag1", "population"])
    Z = data[["presdemvoteshlag1"]].to_numpy()
    res = rd_estimate(data["margin"].to_numpy(), data["vote"].to_numpy(), 0.0, Z=Z,
                      cluster=data["state"].to_numpy())
    ref = _reference(rdrobust.rdrobust(data["vote"], data["margin"], covs=Z,
                                       cluster=data["state"]))
    ours = _ours(res)
    for key, value in ref.items():
        assert ours[key] == pytest.approx(value, abs=1e-6), key


def test_fuzzy_matches_rdrobust_and_uses_iv_diagnostics():
    rng = np.random.default_rng(7)
    n = 3000
    x = rng.uniform(-1, 1, n)
    t = (rng.uniform(size=n) < 0.2 + 0.6 * (x >= 0)).astype(float)
    y = 0.5 * x + 2.0 * t + rng.normal(0, 0.5, n)
    df = pd.DataFrame({"x": x, "t": t, "y": y})
    eff = causalkit.estimate(df, "t", "y", method="rdd", running="x", cutoff=0.0)
    ref = _reference(rdrobust.rdrobust(y, x, fuzzy=t))
    assert eff.estimate == pytest.approx(ref["estimate"], abs=1e-6)
    assert eff.diagnostics["h_left"] == pytest.approx(ref["h_l"], abs=1e-6)
    assert (eff.ci_low, eff.ci_high) == pytest.approx((ref["ci_low"], ref["ci_high"]), abs=1e-6)
    d = eff.diagnostics
    assert d["design"] == "fuzzy"
    # first stage F is the squared t of the treatment jump (closed form from the diagnostics)
    assert d["first_stage_f"] == pytest.approx((d["first_stage_jump"] / d["first_stage_se"]) ** 2)
    # the exact AR set for one instrument contains the Wald estimate and is bounded here
    (lo, hi), = d["anderson_rubin_ci"]
    assert lo < eff.estimate < hi


def test_nn_residuals_match_rdrobust_kernel():
    from rdrobust.funs import _nn_residuals_jit

    rng = np.random.default_rng(3)
    x = np.sort(np.round(rng.uniform(0, 1, 400), 2))  # many ties
    D = rng.normal(size=(400, 2))
    s = pd.Series(np.ones(400)).groupby(x)
    dups = s.transform("sum").to_numpy().astype(np.int64)
    dupsid = s.transform("cumsum").to_numpy().astype(np.int64)
    ref = _nn_residuals_jit(x, D[:, 0].copy(), D[:, 1].copy(), np.zeros((400, 0)), dups,
                            dupsid, 3, 1, 0, 400)
    np.testing.assert_allclose(nn_residuals(x, D, 3), ref, atol=1e-12)


def test_mass_points_bandwidth_matches_rdrobust():
    rng = np.random.default_rng(11)
    x = np.round(rng.uniform(-1, 1, 1500), 1)  # 21 distinct values: mass points
    x[x == 0] = 0.05
    y = x + 0.5 * (x >= 0) + rng.normal(0, 0.3, 1500)
    order = np.argsort(x, kind="stable")
    bw = select_bandwidth(x[order], y[order], 0.0)
    ref = rdrobust.rdbwselect(y, x).bws.to_numpy()[0]
    assert (bw.h_left, bw.b_left) == pytest.approx((ref[0], ref[2]), rel=1e-8)


def test_sharp_rd_robust_ci_coverage():
    """Coverage of the robust bias-corrected 95% CI (mserd bandwidth, rdrobust defaults).

    Design: x ~ U(-1, 1), m(x) = 0.48 + 1.27 x - 0.5 x^2 + 0.04 1(x >= 0), noise sd
    0.1295 (CCT 2014's), n = 1000.  1000 replications give a Monte-Carlo SE of 0.007
    for coverage near 0.95, so the [0.93, 0.97] band is about 3 SE on each side.
    (In CCT's strongly curved Lee design the same intervals, identical to rdrobust's,
    cover about 0.90 at this n: a finite-sample property of the method.)
    """
    rng = np.random.default_rng(7)
    reps, n, truth = 1000, 1000, 0.04
    X = rng.uniform(-1, 1, size=(reps, n))
    Y = 0.48 + 1.27 * X - 0.5 * X**2 + truth * (X >= 0) + rng.normal(0, 0.1295, (reps, n))
    cis = [rd_estimate(x, y, 0.0).ci_robust for x, y in zip(X, Y)]
    coverage = np.mean([lo <= truth <= hi for lo, hi in cis])
    assert 0.93 <= coverage <= 0.97


def test_density_test_size_and_power():
    rng = np.random.default_rng(5)
    from causalkit.rd import density_test

    # size: 300 smooth samples; MC SE of a 5% rejection rate is 0.013
    pvals = np.array([density_test(rng.normal(size=2000), 0.0).p_value for _ in range(300)])
    assert 0.01 <= np.mean(pvals < 0.05) <= 0.10
    # power: 10% of the mass heaped just above the cutoff
    x = np.r_[rng.normal(size=3000), rng.uniform(0, 0.1, 300)]
    assert density_test(x, 0.0).p_value < 1e-4


def test_diagnostics_tables(senate):
    eff = causalkit.estimate(senate, outcome="vote", method="rdd", running="margin", cutoff=0,
                             covariates=None, full_diagnostics=True)
    tab = eff.diagnostics["bandwidth_sensitivity"]
    row = tab.loc[tab["multiple"] == 1.0].iloc[0]
    assert row["estimate"] == pytest.approx(eff.estimate, abs=1e-10)
    # at a fixed bandwidth, the table equals rdrobust with that manual h
    h2 = 2 * eff.diagnostics["h_left"]
    b2 = 2 * eff.diagnostics["b_left"]
    ref = rdrobust.rdrobust(senate["vote"], senate["margin"], h=h2, b=b2)
    row2 = tab.loc[tab["multiple"] == 2.0].iloc[0]
    assert row2["estimate"] == pytest.approx(ref.coef.to_numpy()[0, 0], abs=1e-8)
    plac = eff.diagnostics["placebo_cutoffs"]
    assert len(plac) == 2 and plac["cutoff"].iloc[0] < 0 < plac["cutoff"].iloc[1]
    from causalkit.rd import covariate_continuity

    cc = covariate_continuity(senate["margin"].to_numpy(), senate[["population"]].fillna(0),
                              0.0)
    ref = rdrobust.rdrobust(senate["population"].fillna(0), senate["margin"])
    assert cc["estimate"].iloc[0] == pytest.approx(ref.coef.to_numpy()[0, 0], rel=1e-8)


def test_plot_rdd(senate):
    from causalkit.rd import plot_rdd

    ax = plot_rdd(senate, "vote", "margin", 0.0, n_bins=10)
    assert len(ax.collections) == 2 and len(ax.lines) == 3


def test_no_data_on_one_side():
    df = pd.DataFrame({"x": np.linspace(0.1, 1, 50), "y": np.arange(50.0)})
    with pytest.raises(EmptyArmError, match="no observations below the cutoff"):
        causalkit.estimate(df, outcome="y", method="rdd", running="x", cutoff=0.0)


def test_too_few_values_on_one_side_and_bad_roles():
    df = pd.DataFrame({"x": np.r_[-0.5, -0.2, np.linspace(0, 1, 40)],
                       "y": np.arange(42.0)})
    with pytest.raises(TooFewRowsError, match="distinct value"):
        causalkit.estimate(df, outcome="y", method="rdd", running="x", cutoff=0.0)
    with pytest.raises(RoleError):
        causalkit.estimate(df, outcome="y", method="rdd", running="x", cutoff="middle")


def test_fuzzy_without_jump_is_not_identified():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 500)
    df = pd.DataFrame({"x": x, "t": np.ones(500), "y": rng.normal(size=500)})
    with pytest.raises(NotIdentifiableError):
        causalkit.estimate(df, "t", "y", method="rdd", running="x", cutoff=0.0, h=0.5)


def test_estimator_with_covariates_cluster_and_conventional_ci(senate):
    data = senate.dropna(subset=["presdemvoteshlag1"])
    eff = causalkit.estimate(data, outcome="vote", method="rdd", running="margin", cutoff=0,
                             covariates=["presdemvoteshlag1"], cluster="state",
                             ci="conventional")
    ref = rdrobust.rdrobust(data["vote"], data["margin"], covs=data[["presdemvoteshlag1"]],
                            cluster=data["state"])
    assert eff.estimate == pytest.approx(ref.coef.to_numpy()[0, 0], abs=1e-6)
    assert (eff.ci_low, eff.ci_high) == pytest.approx(tuple(ref.ci.to_numpy()[0]), abs=1e-6)
    assert eff.covariates == ("presdemvoteshlag1",)


def test_bad_options():
    from causalkit.errors import OptionError

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.uniform(-1, 1, 300), "y": rng.normal(size=300)})
    for opts in ({"kernel": "gaussian"}, {"bwselect": "ik"}, {"vce": "hc9"}, {"p": 2, "q": 1},
                 {"ci": "bootstrap"}):
        with pytest.raises(OptionError):
            causalkit.estimate(df, outcome="y", method="rdd", running="x", cutoff=0.0, **opts)


def test_fuzzy_with_perfect_compliance_equals_sharp():
    """With t = 1(x >= c) the first stage is exactly 1, so the fuzzy (IV) estimate and its
    robust CI must equal the sharp ones."""
    rng = np.random.default_rng(12)
    x = rng.uniform(-1, 1, 1500)
    df = pd.DataFrame({"x": x, "t": (x >= 0).astype(float),
                       "y": x + 0.4 * (x >= 0) + rng.normal(0, 0.3, 1500)})
    sharp = causalkit.estimate(df, outcome="y", method="rdd", running="x", cutoff=0.0)
    fuzzy = causalkit.estimate(df, "t", "y", method="rdd", running="x", cutoff=0.0)
    assert fuzzy.diagnostics["first_stage_jump"] == pytest.approx(1.0, abs=1e-12)
    assert fuzzy.estimate == pytest.approx(sharp.estimate, abs=1e-10)
    assert fuzzy.ci == pytest.approx(sharp.ci, abs=1e-10)


def test_fuzzy_weak_first_stage_warns():
    rng = np.random.default_rng(13)
    x = rng.uniform(-1, 1, 600)
    t = (rng.uniform(size=600) < 0.45 + 0.05 * (x >= 0)).astype(float)
    df = pd.DataFrame({"x": x, "t": t, "y": t + rng.normal(size=600)})
    with pytest.warns(UserWarning, match="weak instrument"):
        eff = causalkit.estimate(df, "t", "y", method="rdd", running="x", cutoff=0.0)
    assert eff.diagnostics["first_stage_f"] < 10
    assert eff.diagnostics["anderson_rubin_kind"] in ("real line", "two rays")


def test_a_bias_bandwidth_without_a_main_bandwidth_is_refused_not_ignored():
    """b= alone used to be dropped silently: the answer was the bwselect one."""
    from causalkit.datasets import sharp_rd
    from causalkit.errors import OptionError
    ds = sharp_rd(n=500, seed=3)
    with pytest.raises(OptionError, match="b=.*only together with h="):
        causalkit.estimate(ds.data, outcome="y", method="rdd", running="x", cutoff=0.0, b=0.5)
