"""IPW against an independent implementation: statsmodels Logit + numpy formulas.

The stacked M-estimation sandwich is checked against a sandwich built in the
test with a finite-difference Jacobian of the stacked estimating equations
(logistic score + IPW moments), so the analytic derivatives in the package are
checked by an independent route.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit
from sklearn.ensemble import RandomForestClassifier

import causalkit
from causalkit.errors import OptionError


def _data(seed=0, n=600):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.exponential(size=n)
    t = (rng.random(n) < expit(-0.4 + 0.9 * x1 - 0.5 * x2)).astype(int)
    y = 1 + 2 * t + x1 + 0.5 * x2 + t * x1 + rng.normal(size=n)
    return pd.DataFrame({"t": t, "y": y, "x1": x1, "x2": x2})


def _logit(df):
    Z = sm.add_constant(df[["x1", "x2"]].to_numpy())
    res = sm.Logit(df.t.to_numpy(), Z).fit(disp=0, tol=1e-12, maxiter=200)
    return Z, res.params


def _ipw_numpy(t, y, e, estimand, normalized):
    if estimand == "ATE":
        w1, w0 = t / e, (1 - t) / (1 - e)
        if normalized:
            return w1 @ y / w1.sum() - w0 @ y / w0.sum()
        return (w1 @ y - w0 @ y) / len(y)
    w0 = (1 - t) * e / (1 - e)
    if normalized:
        return y[t == 1].mean() - w0 @ y / w0.sum()
    return (t @ y - w0 @ y) / t.sum()


def _moments(theta, Z, t, y, estimand, normalized):
    p = Z.shape[1]
    e = expit(Z @ theta[:p])
    score = Z * (t - e)[:, None]
    if estimand == "ATE":
        a1, a0 = t / e, (1 - t) / (1 - e)
    else:
        a1, a0 = t.astype(float), (1 - t) * e / (1 - e)
    if normalized:
        mu1, mu0 = theta[p], theta[p + 1]
        own = np.column_stack([a1 * (y - mu1), a0 * (y - mu0)])
    else:
        base = np.ones_like(y) if estimand == "ATE" else t
        own = (a1 * y - a0 * y - base * theta[p])[:, None]
    return np.hstack([score, own])


def _numeric_sandwich_se(df, estimand, normalized):
    Z, beta = _logit(df)
    t, y = df.t.to_numpy().astype(float), df.y.to_numpy()
    e = expit(Z @ beta)
    if normalized:
        if estimand == "ATE":
            w1, w0 = t / e, (1 - t) / (1 - e)
        else:
            w1, w0 = t, (1 - t) * e / (1 - e)
        extra, grad = [w1 @ y / w1.sum(), w0 @ y / w0.sum()], [1.0, -1.0]
    else:
        extra, grad = [_ipw_numpy(t, y, e, estimand, False)], [1.0]
    theta = np.concatenate([beta, extra])
    n, k = len(y), len(theta)
    A = np.empty((k, k))
    for j in range(k):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        A[:, j] = (_moments(up, Z, t, y, estimand, normalized).mean(0)
                   - _moments(down, Z, t, y, estimand, normalized).mean(0)) / (2 * h)
    psi = _moments(theta, Z, t, y, estimand, normalized)
    B = psi.T @ psi / n
    Ainv = np.linalg.inv(A)
    V = Ainv @ B @ Ainv.T / n
    g = np.concatenate([np.zeros(len(beta)), grad])
    return float(np.sqrt(g @ V @ g))


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
@pytest.mark.parametrize("normalized", [True, False])
def test_point_estimate_matches_numpy_with_statsmodels_logit(estimand, normalized):
    df = _data(1)
    Z, beta = _logit(df)
    ref = _ipw_numpy(df.t.to_numpy(), df.y.to_numpy(), expit(Z @ beta), estimand, normalized)
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"],
                             estimand=estimand, normalized=normalized)
    assert eff.estimate == pytest.approx(ref, abs=1e-6)
    assert eff.estimand == estimand


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
@pytest.mark.parametrize("normalized", [True, False])
def test_sandwich_se_matches_finite_difference_sandwich(estimand, normalized):
    df = _data(2)
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"],
                             estimand=estimand, normalized=normalized)
    assert eff.std_error == pytest.approx(_numeric_sandwich_se(df, estimand, normalized),
                                          rel=1e-5)
    assert "logistic score" in eff.inference


def test_hajek_ate_equals_weighted_least_squares():
    df = _data(3)
    Z, beta = _logit(df)
    e = expit(Z @ beta)
    w = np.where(df.t == 1, 1 / e, 1 / (1 - e))
    wls = sm.WLS(df.y, sm.add_constant(df.t.astype(float)), weights=w).fit()
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"])
    assert eff.estimate == pytest.approx(wls.params.iloc[1], abs=1e-8)


def test_stabilized_weights_change_scale_not_estimate_and_ess_is_kish():
    df = _data(4)
    a = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"], stabilized=True)
    b = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"], stabilized=False)
    assert a.estimate == pytest.approx(b.estimate, abs=1e-12)
    wa, wb = a.diagnostics["weights"], b.diagnostics["weights"]
    t = df.t.to_numpy()
    p = t.mean()
    assert np.allclose(wa[t == 1], wb[t == 1] * p) and np.allclose(wa[t == 0], wb[t == 0] * (1 - p))
    w1 = wb[t == 1]
    assert a.diagnostics["ess_treated"] == pytest.approx(w1.sum() ** 2 / (w1**2).sum())
    assert a.diagnostics["ess_control"] < (t == 0).sum()


def test_user_propensity_model_treats_scores_as_known():
    df = _data(5)
    model = RandomForestClassifier(n_estimators=50, min_samples_leaf=20, random_state=0)
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"],
                             propensity_model=model, normalized=False)
    e = model.fit(df[["x1", "x2"]].to_numpy(), df.t).predict_proba(df[["x1", "x2"]].to_numpy())[:, 1]
    t, y = df.t.to_numpy(), df.y.to_numpy()
    phi = t * y / e - (1 - t) * y / (1 - e)
    assert eff.estimate == pytest.approx(phi.mean(), abs=1e-10)
    assert eff.std_error == pytest.approx(phi.std() / np.sqrt(len(y)), rel=1e-10)
    assert "treated as known" in eff.inference


def test_trim_and_clip_are_recorded_and_change_the_sample():
    df = _data(6, n=800)
    Z, beta = _logit(df)
    e = expit(Z @ beta)
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"], trim=0.1)
    kept = (e >= 0.1) & (e <= 0.9)
    assert eff.diagnostics["n_trimmed"] == int((~kept).sum()) > 0
    assert eff.n_obs == int(kept.sum())
    t, y = df.t.to_numpy()[kept], df.y.to_numpy()[kept]
    ref = _ipw_numpy(t, y, e[kept], "ATE", True)
    assert eff.estimate == pytest.approx(ref, abs=1e-6)
    clipped = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"], clip=0.1)
    assert clipped.diagnostics["n_clipped"] == int(((e < 0.1) | (e > 0.9)).sum())
    ref = _ipw_numpy(df.t.to_numpy(), df.y.to_numpy(), np.clip(e, 0.1, 0.9), "ATE", True)
    assert clipped.estimate == pytest.approx(ref, abs=1e-6)


def test_positivity_warning_reports_numbers():
    rng = np.random.default_rng(7)
    n = 500
    x = rng.normal(size=n) * 3
    t = (rng.random(n) < expit(2 * x)).astype(int)
    df = pd.DataFrame({"t": t, "x": x, "y": x + t + rng.normal(size=n)})
    with pytest.warns(UserWarning, match=r"positivity: \d+ of 500 propensity scores .* outside \[0.01, 0.99\]"):
        eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x"])
    assert eff.diagnostics["n_outside_bounds"] > 0
    assert eff.diagnostics["propensity_min"] < 0.01


def test_ipw_rejects_atc():
    with pytest.raises(OptionError):
        causalkit.estimate(_data(), "t", "y", method="ipw", covariates=["x1"], estimand="ATC")


def test_ipw_requires_covariates():
    with pytest.raises(causalkit.CausalKitError, match="covariates"):
        causalkit.estimate(_data(), "t", "y", method="ipw")


def test_balance_improves_after_weighting():
    df = _data(8, n=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "x2"])
    bal = eff.diagnostics["balance"]
    assert (bal.smd_before.abs() > 0.2).all()
    assert (bal.smd_after.abs() < 0.1).all()
