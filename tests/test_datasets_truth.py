"""Each synthetic generator's stated truth, checked by a large-sample estimate.

Each check uses a correctly specified estimator for the design at a sample size
where its standard error is small, and asserts |estimate - truth| < 3 SE (a
false failure rate of 0.27% per check if the truth is right).
"""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS

import causalkit
from causalkit import datasets
from causalkit.errors import NotIdentifiableError, OptionError


def within(estimate, truth, se, k=3.0):
    assert abs(estimate - truth) < k * se, f"{estimate} vs truth {truth} (SE {se})"


def test_randomized_difference_in_means_at_one_million():
    ds = datasets.randomized(n=1_000_000, effect=0.7, seed=1)
    eff = causalkit.estimate(ds.data, "t", "y", method="difference_in_means")
    within(eff.estimate, ds.truth["ATE"], eff.std_error)
    assert ds.truth["ATE"] == ds.truth["ATT"] == 0.7


def test_linear_confounding_regression_recovers_truth_and_naive_is_biased():
    ds = datasets.linear_confounding(n=300_000, effect=1.5, confounding=1.0, seed=2)
    eff = causalkit.estimate(ds.data, "t", "y", method="regression_adjustment",
                             covariates=ds.adjustment_set(), interacted=False)
    within(eff.estimate, ds.truth["ATE"], eff.std_error)
    naive = causalkit.estimate(ds.data, "t", "y", method="difference_in_means")
    assert naive.estimate - ds.truth["ATE"] > 20 * naive.std_error


@pytest.mark.parametrize("make, features", [
    (datasets.nonlinear_heterogeneous, ["s1", "x1", "x2", "x2sq", "x34", "x3sq"]),
    (datasets.weak_overlap, ["x1", "x2", "x3", "x3sq"]),
])
def test_heterogeneous_designs_ate_and_att(make, features):
    n, h = 200_000, 0.8
    ds = make(n=n, effect=1.0, heterogeneity=h, seed=3)
    df = ds.data.assign(s1=np.sin(ds.data["x1"]), x2sq=ds.data["x2"] ** 2,
                        x34=ds.data["x3"] * ds.data["x4"], x3sq=ds.data["x3"] ** 2)
    # Lin's interacted regression on the true basis is correctly specified; its SE
    # treats covariate means as fixed, so add the variance of the mean of
    # tau(X) = 1 + h (x1 + x3^2 - 1): Var = h^2 (1 + 2) (closed form).
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=features)
    within(eff.estimate, ds.truth["ATE"], np.sqrt(eff.std_error**2 + 3 * h**2 / n))
    # the ATT (by quadrature) against the treated units' mean true effect
    treated = ds.data["t"].to_numpy() == 1
    cate_t = ds.cate[treated]
    within(cate_t.mean(), ds.truth["ATT"], cate_t.std() / np.sqrt(treated.sum()))
    assert ds.truth["ATT"] > ds.truth["ATE"] + 0.1


def test_m_bias_minimal_set_recovers_truth_all_covariates_do_not():
    ds = datasets.m_bias(n=200_000, effect=1.0, seed=4)
    assert ds.adjustment_set("minimal") == ["x"]
    assert sorted(ds.covariates) == ["m", "x"]
    good = causalkit.estimate(ds.data, "t", "y", method="regression_adjustment",
                              covariates=ds.adjustment_set("minimal"), interacted=False)
    within(good.estimate, ds.truth["ATE"], good.std_error)
    bad = causalkit.estimate(ds.data, "t", "y", method="regression_adjustment",
                             covariates=ds.covariates, interacted=False)
    assert abs(bad.estimate - ds.truth["ATE"]) > 10 * bad.std_error


def test_m_bias_dag_has_latent_collider_parents():
    ds = datasets.m_bias(n=50, seed=0)
    if ds.dag is None:
        pytest.skip("causalkit.dags is not importable")
    assert ("U1", "m") in ds.edges and ("U2", "m") in ds.edges
    assert set(ds.latent) == {"U1", "U2"}
    assert sorted(ds.dag.adjustment_set("t", "y", kind="minimal")) == ["x"]
    # estimate(dag=...) adjusts for the DAG's set, which recovers the truth
    big = datasets.m_bias(n=200_000, seed=5)
    eff = causalkit.estimate(big.data, "t", "y", method="regression_adjustment", dag=big.dag,
                             interacted=False)
    assert "m" not in eff.covariates
    within(eff.estimate, big.truth["ATE"], eff.std_error)


def test_iv_two_stage_least_squares_recovers_effect():
    ds = datasets.iv_unobserved_confounder(n=200_000, effect=2.0, seed=6)
    df = ds.data.assign(const=1.0)
    res = IV2SLS(df["y"], df[["const", "x"]], df["d"], df["z"]).fit(cov_type="robust")
    within(res.params["d"], ds.truth["LATE"], res.std_errors["d"])
    with pytest.raises(NotIdentifiableError):
        ds.adjustment_set()


def _wide(ds):
    return ds.data.pivot(index="unit", columns="time", values="y")


def test_staggered_panel_att_by_group_time_comparisons():
    """ATT(g, t) against never-treated units from period g - 1, aggregated by cell count."""
    ds = datasets.staggered_did_panel(n_units=60_000, n_periods=6, effect=1.0, dynamic=0.5,
                                      seed=7)
    y = _wide(ds).to_numpy()
    g = ds.data.groupby("unit")["cohort"].first().to_numpy()
    never = g == 0
    estimate, var = 0.0, 0.0
    parts = []
    for c in sorted(set(g[g > 0])):
        post = y[:, c - 1:].mean(axis=1) - y[:, c - 2]   # mean post minus base period
        cells = y.shape[1] - c + 1
        att_c = post[g == c].mean() - post[never].mean()
        parts.append((att_c, cells * (g == c).sum(), post, c))
    weights = np.array([w for _, w, _, _ in parts], float)
    weights /= weights.sum()
    estimate = sum(w * a for w, (a, _, _, _) in zip(weights, parts))
    # variance: independent cohorts, plus the shared never-treated term
    var = sum(w**2 * p[g == c].var() / (g == c).sum() for w, (_, _, p, c) in zip(weights, parts))
    combo = sum(w * p[never] for w, (_, _, p, _) in zip(weights, parts))
    var += combo.var() / never.sum()
    within(estimate, ds.truth["ATT"], np.sqrt(var))
    assert ds.truth["ATT"] == pytest.approx(14 / 9)


def test_did_2x2_difference_of_mean_changes():
    ds = datasets.did_2x2(n_units=200_000, effect=0.5, seed=8)
    y = _wide(ds)
    change = (y[2] - y[1]).to_numpy()
    g = ds.data.groupby("unit")["treated"].first().to_numpy() == 1
    est = change[g].mean() - change[~g].mean()
    se = np.sqrt(change[g].var() / g.sum() + change[~g].var() / (~g).sum())
    within(est, ds.truth["ATT"], se)


def test_sharp_rd_correct_global_polynomial():
    ds = datasets.sharp_rd(n=400_000, effect=1.2, cutoff=0.5, seed=9)
    r = ds.data["x"].to_numpy() - 0.5
    t = (r >= 0).astype(float)
    X = np.column_stack([np.ones_like(r), t, r, r**2, r**3, t * r])
    res = sm.OLS(ds.data["y"].to_numpy(), X).fit(cov_type="HC1")
    within(res.params[1], ds.truth["LATE"], res.bse[1])
    assert "treatment" not in ds.roles and ds.roles["cutoff"] == 0.5


def test_fuzzy_rd_two_stage_least_squares():
    ds = datasets.fuzzy_rd(n=300_000, effect=1.0, jump=0.5, seed=10)
    r = ds.data["x"]
    exog = pd.DataFrame({"const": 1.0, "r": r, "r2": r**2, "r3": r**3})
    res = IV2SLS(ds.data["y"], exog, ds.data["t"], (r >= 0).astype(float)).fit(cov_type="robust")
    within(res.params["t"], ds.truth["LATE"], res.std_errors["t"])
    take_up = ds.data.groupby(r >= 0)["t"].mean()
    assert take_up[True] - take_up[False] == pytest.approx(0.5, abs=0.005)


def test_generators_are_reproducible_and_validate_parameters():
    a = datasets.linear_confounding(n=100, seed=11).data
    b = datasets.linear_confounding(n=100, seed=11).data
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(OptionError, match="n must be an integer"):
        datasets.randomized(n=3)
    with pytest.raises(OptionError, match="effect must be a finite"):
        datasets.m_bias(effect=float("nan"))
    with pytest.raises(OptionError, match="cohorts"):
        datasets.staggered_did_panel(cohorts=(1, 3))
    with pytest.raises(OptionError, match="did you mean 'm_bias'"):
        datasets.load("m_bais")


@pytest.mark.parametrize("name", sorted(datasets.SYNTHETIC))
def test_every_generator_has_dag_truth_and_roles(name):
    ds = datasets.load(name, seed=0)
    assert ds.truth and ds.edges
    assert ds.outcome in ds.data
    for role in ("treatment", "instrument", "running", "unit", "time", "cohort", "post"):
        if role in ds.roles:
            assert ds.roles[role] in ds.data.columns
    observed = {n for e in ds.edges for n in e} - set(ds.latent)
    assert observed <= set(ds.data.columns)
    if ds.dag is not None and ds.design == "backdoor":
        assert sorted(ds.dag.adjustment_set(ds.treatment, ds.outcome, kind="minimal")) == \
            sorted(ds.adjustment)


def test_weak_overlap_share_of_extreme_propensities():
    """P(e(X) outside [0.05, 0.95]) = P(|N(0, c^2)| > logit(0.95)) in closed form."""
    from scipy import special, stats

    c, n = 4.0, 200_000
    ds = datasets.weak_overlap(n=n, confounding=c, seed=12)
    e = special.expit(c / np.sqrt(2) * (ds.data["x1"] + ds.data["x2"]))
    share = float(((e < 0.05) | (e > 0.95)).mean())
    expected = 2 * stats.norm.sf(special.logit(0.95) / c)
    within(share, expected, np.sqrt(expected * (1 - expected) / n))
    # and the treatment really follows that propensity: mean of t equals mean of e
    within(ds.data["t"].mean(), e.mean(), np.sqrt(np.mean(e * (1 - e)) / n))
