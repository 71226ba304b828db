"""Bayesian analysis, cluster/stratified designs, CUPED and regression adjustment."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special, stats

import causalkit
from causalkit.errors import DataError, EmptyArmError
from causalkit.experiments import ExperimentStats, Metric, Moments, analyze, compare
from causalkit.experiments.bayes import beta_binomial, normal_means
from causalkit.experiments.cuped import cuped, regression_adjusted
from causalkit.experiments.design import clustered, post_stratified


def _prob_b_beats_a(aa, ba, ab, bb):
    """Exact P(p_B > p_A) for Beta posteriors with integer a_B (Evan Miller's formula)."""
    total = 0.0
    for i in range(int(ab)):
        total += math.exp(special.betaln(aa + i, ba + bb) - math.log(bb + i)
                          - special.betaln(1 + i, bb) - special.betaln(aa, ba))
    return total


def test_beta_binomial_against_closed_forms():
    r = beta_binomial([40, 52], [400, 410], labels=["A", "B"])   # exact quadrature, no sampling
    exact = _prob_b_beats_a(41, 361, 53, 359)
    assert r.loc["B", "prob_best"] == pytest.approx(exact, abs=1e-10)
    assert r.loc["A", "posterior_mean"] == pytest.approx(41 / 402)
    assert r.loc["B", "ci_low"] == pytest.approx(stats.beta.ppf(0.025, 53, 359))
    assert r["prob_best"].sum() == pytest.approx(1.0)
    with pytest.raises(DataError):
        beta_binomial([5, 20], [10, 10])


def test_normal_posterior_prob_best_and_expected_loss_closed_form():
    n, m, v = [500, 500], [10.0, 10.2], [4.0, 4.0]
    r = normal_means(n, m, v, labels=["A", "B"])                 # exact quadrature, no sampling
    s = math.sqrt(4 / 500 + 4 / 500)
    mu = 0.2
    assert r.loc["B", "prob_best"] == pytest.approx(stats.norm.cdf(mu / s), abs=1e-10)
    # loss of shipping A = E[(B - A)^+] = s phi(mu/s) + mu Phi(mu/s)
    loss_a = s * stats.norm.pdf(mu / s) + mu * stats.norm.cdf(mu / s)
    assert r.loc["A", "expected_loss"] == pytest.approx(loss_a, rel=1e-9)
    assert r.loc["A", "expected_loss"] - r.loc["B", "expected_loss"] == pytest.approx(mu, abs=1e-9)
    # a conjugate prior shrinks towards the prior mean
    shrunk = normal_means(n, m, v, prior_mean=0.0, prior_var=0.01)
    assert shrunk["posterior_mean"].iloc[0] == pytest.approx(10.0 * 125 / (125 + 100))


def test_clustered_matches_statsmodels_cluster_ols():
    rng = np.random.default_rng(3)
    users = np.repeat(np.arange(300), rng.integers(1, 8, 300))
    arm = (users % 3)
    u_eff = rng.normal(size=300)[users]
    df = pd.DataFrame({"user": users, "arm": arm, "y": u_eff + 0.2 * (arm == 1) + rng.normal(size=len(users))})
    out = clustered(df, "arm", "y", "user")
    assert set(out) == {1, 2}
    sub = df[df.arm.isin([0, 1])]
    fit = sm.OLS(sub.y.to_numpy(), sm.add_constant((sub.arm == 1).to_numpy().astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": sub.user.to_numpy()})
    assert out[1].estimate == pytest.approx(fit.params[1], rel=1e-10)
    assert out[1].std_error == pytest.approx(fit.bse[1], rel=1e-10)
    # ignoring the clustering understates the SE here
    naive = analyze(df, "arm", "y").table.set_index("arm").loc[1, "std_error"]
    assert naive < out[1].std_error


def test_post_stratified_equals_saturated_regression_hc2():
    rng = np.random.default_rng(4)
    n = 3000
    s = rng.integers(0, 4, n)
    v = rng.integers(0, 2, n)
    y = s * 2.0 + v * (1 + 0.5 * s) + rng.normal(size=n) * (1 + s)
    df = pd.DataFrame({"v": v, "s": s, "y": y})
    eff = post_stratified(df, "v", "y", "s")[1]
    # Lin's interacted regression on stratum dummies (HC2) is the same estimator
    dummies = pd.get_dummies(df.s, prefix="s", drop_first=True).astype(float)
    X = dummies - dummies.mean()
    design = np.column_stack([np.ones(n), v, X, X.to_numpy() * v[:, None]])
    fit = sm.OLS(y, design).fit(cov_type="HC2")
    assert eff.estimate == pytest.approx(fit.params[1], rel=1e-10)
    assert eff.std_error == pytest.approx(fit.bse[1], rel=1e-10)
    with pytest.raises(EmptyArmError, match="stratum"):
        post_stratified(df.assign(s=np.where(np.arange(n) == 0, 9, s)), "v", "y", "s")


def test_cuped_mean_equals_ancova_and_works_from_statistics():
    rng = np.random.default_rng(5)
    n = 4000
    pre = rng.gamma(2, 2, n)
    v = rng.integers(0, 2, n)
    y = 0.8 * pre + 0.3 * v + rng.normal(size=n)
    df = pd.DataFrame({"v": v, "pre": pre, "y": y})
    row = cuped(df, "v", "y", "pre").table.iloc[0]
    # CUPED with pooled theta = OLS slope of y on pre pooled within arms: estimate equals ANCOVA
    fit = sm.OLS(y, np.column_stack([np.ones(n), v, pre])).fit()
    assert row["estimate"] == pytest.approx(fit.params[1], rel=1e-6)
    assert row["std_error"] == pytest.approx(fit.bse[1], rel=0.02)
    st = ExperimentStats.from_rows(df, "v", [Metric("y", covariate="pre")])
    again = analyze(st).table.iloc[0]
    assert again["estimate"] == pytest.approx(row["estimate"], rel=1e-12)


def test_cuped_ratio_metric_reduces_variance_and_stays_unbiased():
    rng = np.random.default_rng(6)
    sims, n = 400, 1000
    est_raw, est_cuped = [], []
    for _ in range(sims // 100):
        sess_pre = rng.poisson(20, (100, n)) + 1
        rate = rng.beta(1, 4, (100, n))                     # heterogeneous users: pre predicts post
        click_pre = rng.binomial(sess_pre, rate)
        sess = rng.poisson(20, (100, n)) + 1
        click = rng.binomial(sess, rate)
        arm = np.tile([0, 1], n // 2)
        data = np.stack([click, sess, click_pre, sess_pre], axis=-1).astype(float)
        t = Moments.from_rows(data[:, arm == 1])
        c = Moments.from_rows(data[:, arm == 0])
        m = Metric("ctr", column="c", denominator="s", covariate="cp", covariate_denominator="sp")
        r = compare(t, c, m)
        raw = compare(t.select([0, 1]), c.select([0, 1]), Metric("ctr", column="c", denominator="s"))
        est_cuped.append(r.estimate)
        est_raw.append(raw.estimate)
        reduction = r.variance_reduction
    est_cuped, est_raw = np.concatenate(est_cuped), np.concatenate(est_raw)
    assert abs(est_cuped.mean()) < 4 * est_cuped.std() / math.sqrt(sims)
    realized = 1 - np.var(est_cuped) / np.var(est_raw)
    # 400 runs: the variance ratio has a relative SE of about 0.1 * (1 - reduction)
    assert 0.3 < float(np.mean(reduction)) < 0.95
    assert realized == pytest.approx(float(np.mean(reduction)), abs=0.1)


def test_regression_adjusted_uses_registry():
    rng = np.random.default_rng(7)
    n = 1500
    df = pd.DataFrame({"arm": rng.choice(["control", "a", "b"], n), "x1": rng.normal(size=n),
                       "x2": rng.normal(size=n)})
    df["y"] = df.x1 - df.x2 + (df.arm == "a") * 0.5 + rng.normal(size=n)
    tab = regression_adjusted(df, "arm", "y", ["x1", "x2"])
    assert list(tab.arm) == ["a", "b"]
    sub = df[df.arm.isin(["control", "a"])].assign(t=lambda d: (d.arm == "a").astype(int))
    ref = causalkit.estimate(sub, "t", "y", method="regression_adjustment", covariates=["x1", "x2"])
    assert tab.loc[0, "estimate"] == pytest.approx(ref.estimate, rel=1e-12)
    assert tab.loc[0, "std_error"] == pytest.approx(ref.std_error, rel=1e-12)


def test_bayes_from_experiment_statistics():
    from causalkit.experiments.bayes import from_stats
    rng = np.random.default_rng(9)
    df = pd.DataFrame({"arm": np.repeat(["A", "B"], 2000), "c": rng.random(4000) < 0.1,
                       "y": rng.normal(5, 1, 4000)})
    res = analyze(df, "arm", [Metric("c", kind="proportion"), "y"])
    b = from_stats(res, "c")
    x = df.groupby("arm").c.sum()
    assert b.loc["B", "posterior_mean"] == pytest.approx((x["B"] + 1) / 2002)
    m = from_stats(res.stats, "y")
    assert m.loc["A", "posterior_mean"] == pytest.approx(df.y[df.arm == "A"].mean())
