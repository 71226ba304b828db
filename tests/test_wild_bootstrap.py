"""Wild cluster bootstrap (``bootstrap="wild"``, issue 16): the fast algorithm of Roodman et
al. (2019) equals a brute-force bootstrap that refits OLS (statsmodels, every fixed effect
as a dummy) for each of the 2^G Rademacher sign vectors, and the ``wildboottest`` package on
the same data and seed (p-values; at our CI ends its p-value is alpha)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import causalkit
from causalkit.errors import OptionError
from causalkit.wild_bootstrap import wild_cluster_bootstrap


def _crv1_t(X, y, R, codes, centre):
    """OLS by least squares and the CRV1 t statistic of R'b = centre, from scratch."""
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    u = y - X @ b
    scores = np.zeros((codes.max() + 1, X.shape[1]))
    np.add.at(scores, codes, X * u[:, None])
    bread = np.linalg.inv(X.T @ X)
    V = bread @ scores.T @ scores @ bread
    return (R @ b - centre) / np.sqrt(R @ V @ R), b


def brute_force_p(y, X, R, clusters, r, impose_null=True):
    """Share of the 2^G sign vectors whose refitted CRV1 |t*| exceeds |t| (ties excluded).

    Each sign vector's bootstrap sample is refitted by least squares with every fixed effect
    as a dummy; the original t is checked against statsmodels' cluster-robust fit."""
    X, R, y = np.asarray(X, float), np.asarray(R, float), np.asarray(y, float)
    codes, uniq = pd.factorize(clusters, sort=True)
    t0, b = _crv1_t(X, y, R, codes, r)
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": codes})
    G, (n, k) = len(uniq), X.shape
    ssc = G / (G - 1) * (n - 1) / (n - k)
    t_sm = (R @ fit.params - r) / np.sqrt(R @ fit.cov_params() @ R)
    assert t_sm * np.sqrt(ssc) == pytest.approx(t0, rel=1e-8)
    A = np.linalg.inv(X.T @ X)
    b_dgp = b - A @ R * (R @ b - r) / (R @ A @ R) if impose_null else b
    u = y - X @ b_dgp
    centre = r if impose_null else R @ b
    count = total = 0
    for signs in itertools.product([-1.0, 1.0], repeat=len(uniq)):
        tstar, _ = _crv1_t(X, X @ b_dgp + u * np.asarray(signs)[codes], R, codes, centre)
        count += abs(tstar) > abs(t0) * (1 + 1e-10)
        total += 1
    return count / total


@pytest.fixture(scope="module")
def panel():
    """8 states x 4 units x 6 periods; treatment from period 3 in states 0-3."""
    rng = np.random.default_rng(11)
    state = np.repeat(np.arange(8), 4 * 6)
    unit = np.repeat(np.arange(32), 6)
    t = np.tile(np.arange(6), 32)
    g = np.where(state < 4, 3, 0)
    d = ((g > 0) & (t >= g)).astype(int)
    y = (rng.normal(size=32)[unit] + 0.3 * t + 0.4 * d + rng.normal(size=8)[state] * 0.8
         + rng.normal(size=8)[state] * 0.3 * t / 5 + rng.normal(size=unit.size))
    x = rng.normal(size=unit.size)
    return pd.DataFrame({"state": state, "id": unit, "t": t, "g": g, "d": d, "y": y + 0.5 * x,
                         "x": x, "post": (t >= 3).astype(int), "treated": (g > 0).astype(int)})


def _lsdv(df, regressors):
    dummies = pd.get_dummies(df[["id", "t"]].astype(str), drop_first=True, dtype=float)
    return np.column_stack([np.ones(len(df)), df[regressors].to_numpy(float), dummies])


def _check_against_brute_force(eff, y, X, R, clusters):
    """Our p-value at 0 and at points around both CI ends equals the brute-force one."""
    assert eff.diagnostics["wild_bootstrap"]["enumerated"]
    assert eff.diagnostics["wild_bootstrap"]["n_draws"] == 2 ** pd.Series(clusters).nunique()
    assert brute_force_p(y, X, R, clusters, 0.0) == pytest.approx(eff.p_value, abs=1e-12)
    width = eff.ci_high - eff.ci_low
    for end, out in ((eff.ci_low, -1), (eff.ci_high, 1)):
        assert np.isfinite(end)
        assert brute_force_p(y, X, R, clusters, end - out * 1e-6 * width) > eff.alpha
        assert brute_force_p(y, X, R, clusters, end + out * 1e-6 * width) <= eff.alpha


def test_did_enumeration_equals_brute_force(panel):
    df = panel
    eff = causalkit.estimate(df, "treated", "y", method="did", post="post", covariates=["x"],
                             cluster="state", bootstrap="wild")
    X = np.column_stack([np.ones(len(df)), df.treated, df.post, df.treated * df.post, df.x])
    _check_against_brute_force(eff, df.y.to_numpy(), X, np.eye(5)[3], df.state.to_numpy())
    assert "wild cluster bootstrap" in eff.inference


def test_twfe_enumeration_equals_brute_force_lsdv(panel):
    """Unit effects nested in the state clusters are partialled out; the LSDV has them all."""
    df = panel
    eff = causalkit.estimate(df, "d", "y", method="twfe", unit="id", time="t",
                             covariates=["x"], cluster="state", bootstrap="wild")
    X = _lsdv(df, ["d", "x"])
    R = np.zeros(X.shape[1])
    R[1] = 1.0
    _check_against_brute_force(eff, df.y.to_numpy(), X, R, df.state.to_numpy())


def test_twfe_clustered_by_period_absorbs_the_period_effects():
    rng = np.random.default_rng(2)
    n, T = 12, 8
    unit, t = np.repeat(np.arange(n), T), np.tile(np.arange(T), n)
    d = ((unit < 6) & (t >= 4)).astype(int)
    y = rng.normal(size=n)[unit] + rng.normal(size=T)[t] + 0.5 * d + rng.normal(size=n * T)
    df = pd.DataFrame({"id": unit, "t": t, "d": d, "y": y})
    eff = causalkit.estimate(df, "d", "y", method="twfe", unit="id", time="t", cluster="t",
                             bootstrap="wild")
    X = _lsdv(df, ["d"])
    _check_against_brute_force(eff, y, X, np.eye(X.shape[1])[1], t)


def test_event_study_enumeration_equals_brute_force(panel):
    """The tested restriction is the mean of the post-treatment event-time coefficients."""
    df = panel
    eff = causalkit.estimate(df, outcome="y", method="event_study", unit="id", time="t",
                             cohort="g", cluster="state", bootstrap="wild")
    table = eff.diagnostics["event_study"]
    events = [e for e in table.event_time if e != -1]
    cols = [((df.g > 0) & (df.t - df.g == e)).astype(float).rename(f"e{e}") for e in events]
    ev = pd.concat(cols, axis=1)
    X = np.column_stack([np.ones(len(df)), ev,
                         pd.get_dummies(df[["id", "t"]].astype(str), drop_first=True,
                                        dtype=float)])
    R = np.zeros(X.shape[1])
    post = np.array(events) >= 0
    R[1:1 + len(events)] = post / post.sum()
    _check_against_brute_force(eff, df.y.to_numpy(), X, R, df.state.to_numpy())


@pytest.mark.parametrize("impose_null", [True, False])
def test_regression_adjustment_enumeration_equals_brute_force(panel, impose_null):
    df = panel
    eff = causalkit.estimate(df, "d", "y", method="regression_adjustment", covariates=["x"],
                             cluster="state", bootstrap="wild", impose_null=impose_null)
    xc = df.x - df.x.mean()
    X = np.column_stack([np.ones(len(df)), df.d, xc, xc * df.d])
    y, cl = df.y.to_numpy(), df.state.to_numpy()
    assert brute_force_p(y, X, np.eye(4)[1], cl, 0.0, impose_null) == pytest.approx(
        eff.p_value, abs=1e-12)
    assert eff.diagnostics["wild_bootstrap"]["impose_null"] is impose_null


@pytest.fixture(scope="module")
def clustered():
    """40 clusters of unequal size: too many to enumerate."""
    rng = np.random.default_rng(8)
    sizes = rng.integers(5, 40, 40)
    cl = np.repeat(np.arange(40), sizes)
    n = cl.size
    x = rng.normal(size=n) + rng.normal(size=40)[cl]
    t = (rng.random(n) < 0.3 + 0.4 * (rng.random(40)[cl] > 0.5)).astype(int)
    y = 1 + 0.6 * t + x + rng.normal(size=40)[cl] + rng.normal(size=n)
    return pd.DataFrame({"cl": cl, "x": x, "t": t, "y": y})


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
def test_regression_adjustment_equals_wildboottest(clustered, weights):
    """Same data, same seed: wildboottest's draws are the same G x B matrix, so the p-values
    agree up to floating point (the allowed gap, 3 Monte-Carlo SEs of the difference of two
    independent bootstraps, sqrt(2 p (1-p) / B) ~ 0.003 at B=9999, is never needed); at our
    CI ends wildboottest's p-value of the shifted null is alpha up to one draw."""
    wbt = pytest.importorskip("wildboottest.wildboottest", reason="wildboottest not installed")
    df = clustered
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"],
                             interacted=False, cluster="cl", bootstrap="wild",
                             bootstrap_weights=weights, random_state=5)
    X = pd.DataFrame({"const": 1.0, "t": df.t.astype(float), "x": df.x})
    B = 9999

    def ref_p(r):
        model = sm.OLS(df.y - r * df.t, X)
        out = wbt.wildboottest(model, B=B, cluster=df.cl.to_numpy(), param="t",
                               weights_type=weights, seed=5, show=False)
        return float(out["p-value"].iloc[0])

    p = eff.p_value
    mc = 3 * np.sqrt(2 * p * (1 - p) / B) + 1e-12
    assert abs(ref_p(0.0) - p) <= mc
    assert 0.001 < p < 0.5                      # a case where the p-value is informative
    for end in (eff.ci if weights == "rademacher" else ()):   # each call compiles (5 s)
        assert ref_p(end) == pytest.approx(eff.alpha, abs=2 / B + 3 * np.sqrt(2 * 0.05 * 0.95 / B))


def test_did_without_clusters_is_the_heteroskedastic_wild_bootstrap():
    """Rows as clusters: equal to wildboottest's heteroskedastic (HC1) wild bootstrap up to
    Monte-Carlo error (its draws differ: one weight vector per iteration); B = 9999."""
    wbt = pytest.importorskip("wildboottest.wildboottest", reason="wildboottest not installed")
    rng = np.random.default_rng(3)
    n = 400
    g, p = rng.integers(0, 2, n), rng.integers(0, 2, n)
    y = 0.3 * g * p + g + p + rng.normal(size=n) * (1 + g)
    df = pd.DataFrame({"g": g, "p": p, "y": y})
    eff = causalkit.estimate(df, "g", "y", method="did", post="p", bootstrap="wild",
                             random_state=1)
    X = pd.DataFrame({"c": 1.0, "g": g, "p": p, "gp": g * p})
    ref = wbt.wildboottest(sm.OLS(y, X), B=9999, param="gp", seed=1, show=False)
    q = float(ref["p-value"].iloc[0])
    assert abs(eff.p_value - q) <= 3 * np.sqrt(2 * q * (1 - q) / 9999)
    assert eff.diagnostics["wild_bootstrap"]["n_clusters"] == n


def test_the_fast_ci_is_the_inverted_test():
    """At the CI ends the bootstrap p-value crosses alpha (the core function directly)."""
    rng = np.random.default_rng(0)
    cl = np.repeat(np.arange(25), 8)
    x = rng.normal(size=200) + rng.normal(size=25)[cl]
    y = 0.2 * x + rng.normal(size=25)[cl] + rng.normal(size=200)
    X = np.column_stack([np.ones(200), x])
    res = wild_cluster_bootstrap(y, X, [0, 1], cl, n_bootstrap=999, weights="webb")
    eps = 1e-7 * (res.ci_high - res.ci_low)
    for end, out in ((res.ci_low, -eps), (res.ci_high, eps)):
        p_in = wild_cluster_bootstrap(y, X, [0, 1], cl, r=end - out, n_bootstrap=999,
                                      weights="webb").p_value
        p_out = wild_cluster_bootstrap(y, X, [0, 1], cl, r=end + out, n_bootstrap=999,
                                       weights="webb").p_value
        assert p_in > 0.05 >= p_out


@pytest.mark.parametrize("options, match", [
    ({"bootstrap": "pairs"}, "bootstrap must be None or 'wild'"),
    ({"bootstrap": "wild", "bootstrap_weights": "mammen"}, "bootstrap_weights"),
    ({"bootstrap": "wild", "n_bootstrap": 10}, "n_bootstrap"),
    ({"bootstrap": "wild", "cluster": ["state", "t"]}, "clusters one way"),
])
@pytest.mark.parametrize("method", ["did", "twfe", "event_study", "regression_adjustment"])
def test_bad_bootstrap_options_are_option_errors(panel, method, options, match):
    roles = {"did": dict(treatment="treated", outcome="y", post="post"),
             "twfe": dict(treatment="d", outcome="y", unit="id", time="t"),
             "event_study": dict(outcome="y", unit="id", time="t", cohort="g"),
             "regression_adjustment": dict(treatment="d", outcome="y")}[method]
    with pytest.raises(OptionError, match=match):
        causalkit.estimate(panel, method=method, **roles, **options)
