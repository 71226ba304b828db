"""Two-way clustering (``cluster=[a, b]``, issue 13 item 2): the estimators that can
cluster two ways match statsmodels / linearmodels run directly on the same data, the
Callaway–Sant'Anna influence-function variance obeys the Cameron–Gelbach–Miller identity
``V_ab = V_a + V_b - V_(a x b)``, and three columns (or two for rdd) are a clear error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from linearmodels.iv import IV2SLS

import causalkit
from causalkit.errors import CausalKitError, ConstantColumnError, OptionError


@pytest.fixture(scope="module")
def cross_section() -> pd.DataFrame:
    rng = np.random.default_rng(31)
    n = 1200
    firm, year = rng.integers(0, 40, n), rng.integers(0, 15, n)
    shock = rng.normal(size=40)[firm] + rng.normal(size=15)[year]
    x = rng.normal(size=n) + 0.5 * shock
    z = rng.integers(0, 2, n)
    t = (rng.random(n) < 0.2 + 0.5 * z + 0.1 * (x > 0)).astype(int)
    post = rng.integers(0, 2, n)
    y = 1.0 + 2.0 * t + x + 0.7 * post + 0.5 * t * post + shock + rng.normal(size=n)
    return pd.DataFrame({"t": t, "z": z, "post": post, "x": x, "y": y,
                         "firm": firm, "year": np.array([f"y{v}" for v in year])})


def _two_way(y, X, groups):
    return sm.OLS(np.asarray(y, float), np.asarray(X, float)).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)


def _codes(df):
    return np.column_stack([pd.factorize(df.firm)[0], pd.factorize(df.year)[0]])


def test_regression_adjustment_two_way_matches_statsmodels(cross_section):
    df = cross_section
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"],
                             cluster=["firm", "year"])
    xc = df.x - df.x.mean()
    X = np.column_stack([np.ones(len(df)), df.t, xc, xc * df.t])
    ref = _two_way(df.y, X, _codes(df))
    assert eff.estimate == pytest.approx(ref.params[1], rel=1e-10)
    assert eff.std_error == pytest.approx(ref.bse[1], rel=1e-9)
    assert eff.df == min(df.firm.nunique(), df.year.nunique()) - 1
    assert eff.p_value == pytest.approx(ref.pvalues[1], rel=1e-7)
    assert "two-way" in eff.inference


def test_did_two_way_matches_statsmodels(cross_section):
    df = cross_section
    eff = causalkit.estimate(df, "t", "y", method="did", post="post", covariates=["x"],
                             cluster=["firm", "year"])
    X = np.column_stack([np.ones(len(df)), df.t, df.post, df.t * df.post, df.x])
    ref = _two_way(df.y, X, _codes(df))
    assert eff.estimate == pytest.approx(ref.params[3], rel=1e-10)
    assert eff.std_error == pytest.approx(ref.bse[3], rel=1e-9)
    assert eff.diagnostics["cluster"] == ["firm", "year"]


def test_difference_in_means_two_way_matches_statsmodels(cross_section):
    df = cross_section
    eff = causalkit.estimate(df, "t", "y", cluster=["firm", "year"])
    ref = _two_way(df.y, np.column_stack([np.ones(len(df)), df.t]), _codes(df))
    assert eff.std_error == pytest.approx(ref.bse[1], rel=1e-9)


@pytest.mark.parametrize("small_sample", [False, True])
def test_iv_2sls_two_way_matches_linearmodels(cross_section, small_sample):
    df = cross_section
    eff = causalkit.estimate(df, "t", "y", method="iv_2sls", instrument="z", covariates=["x"],
                             cluster=["firm", "year"], small_sample=small_sample)
    exog = sm.add_constant(df[["x"]])
    ref = IV2SLS(df.y, exog, df[["t"]], df[["z"]]).fit(
        cov_type="clustered", clusters=pd.DataFrame(_codes(df), index=df.index),
        debiased=small_sample)
    assert eff.estimate == pytest.approx(ref.params["t"], rel=1e-10)
    assert eff.std_error == pytest.approx(ref.std_errors["t"], rel=1e-9)
    fs = ref.first_stage.diagnostics.loc["t"]
    assert eff.diagnostics["first_stage_f"] == pytest.approx(fs["f.stat"], rel=1e-9)
    assert eff.df == (min(df.firm.nunique(), df.year.nunique()) - 1 if small_sample else None)


#: statsmodels' two-way LSDV covariance can be negative for some dummy coefficients
LSDV_SQRT_WARNING = pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt")


def _panel(seed=5, n_units=90, n_periods=6):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    g = np.repeat(rng.choice([0, 2, 4], n_units), n_periods)
    d = ((g > 0) & (t >= g)).astype(int)
    x = rng.normal(size=unit.size)
    y = (rng.normal(size=n_units)[unit] + rng.normal(size=n_periods)[t] + 1.5 * d + 0.5 * x
         + rng.normal(size=unit.size))
    return pd.DataFrame({"id": unit, "t": t, "g": g, "d": d, "x": x, "y": y,
                         "a": rng.integers(0, 12, unit.size), "b": rng.integers(0, 9, unit.size),
                         "state": unit % 11})


def _event_dummies(df):
    """One indicator per event time of the treated (the reference -1 left out), named e2/em2."""
    e = np.where(df.g > 0, df.t - df.g, -99)
    return {f"e{'m' if k < 0 else ''}{abs(k)}": (int(k), ((df.g > 0) & (e == k)).astype(float))
            for k in sorted(set(e[df.g > 0])) if k != -1}


@LSDV_SQRT_WARNING
def test_twfe_two_way_non_nested_equals_statsmodels_lsdv():
    """Neither cluster dimension nests the units: every effect is counted, as the LSDV."""
    df = _panel()
    eff = causalkit.estimate(df, "d", "y", method="twfe", unit="id", time="t",
                             covariates=["x"], cluster=["a", "b"])
    ref = smf.ols("y ~ d + x + C(id) + C(t)", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df[["a", "b"]].to_numpy()}, use_t=True)
    assert eff.estimate == pytest.approx(ref.params["d"], rel=1e-9)
    assert eff.std_error == pytest.approx(ref.bse["d"], rel=1e-8)
    assert eff.df == min(df.a.nunique(), df.b.nunique()) - 1
    assert eff.diagnostics["n_clusters"] == (df.a.nunique(), df.b.nunique())


@LSDV_SQRT_WARNING
def test_twfe_two_way_nested_unit_effects_are_not_counted():
    """Clustering by unit and period: the unit effects are nested in the unit clusters and
    leave K (= slopes + periods, as for one-way clustering by unit), so the SE is
    statsmodels' LSDV SE times sqrt((n - K_lsdv) / (n - K_nested))."""
    df = _panel(6)
    eff = causalkit.estimate(df, "d", "y", method="twfe", unit="id", time="t",
                             covariates=["x"], cluster=["id", "t"])
    ref = smf.ols("y ~ d + x + C(id) + C(t)", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df[["id", "t"]].to_numpy()}, use_t=True)
    n = len(df)
    expected = ref.bse["d"] * np.sqrt(ref.df_resid / (n - 2 - df.t.nunique()))
    assert eff.std_error == pytest.approx(expected, rel=1e-8)


@LSDV_SQRT_WARNING
def test_event_study_two_way_equals_statsmodels_lsdv():
    df = _panel(7)
    eff = causalkit.estimate(df, outcome="y", method="event_study", unit="id", time="t",
                             cohort="g", cluster=["a", "b"])
    table = eff.diagnostics["event_study"].set_index("event_time")
    dummies = _event_dummies(df)
    design = df.assign(**{name: col for name, (_, col) in dummies.items()})
    ref = smf.ols(f"y ~ {' + '.join(dummies)} + C(id) + C(t)", data=design).fit(
        cov_type="cluster", cov_kwds={"groups": df[["a", "b"]].to_numpy()}, use_t=True)
    for name, (k, _) in dummies.items():
        assert table.loc[k, "att"] == pytest.approx(ref.params[name], rel=1e-8)
        assert table.loc[k, "std_error"] == pytest.approx(ref.bse[name], rel=1e-8)


def test_callaway_santanna_two_way_is_the_cgm_combination():
    df = _panel(8).assign(region=lambda f: f.id % 5)
    kw = dict(outcome="y", method="callaway_santanna", unit="id", time="t", cohort="g")
    both = causalkit.estimate(df, cluster=["state", "region"], **kw)
    se = {c: causalkit.estimate(df, cluster=c, **kw).std_error for c in ("state", "region")}
    inter = causalkit.estimate(df.assign(sr=df.state.astype(str) + "/" + df.region.astype(str)),
                               cluster="sr", **kw).std_error
    assert both.std_error ** 2 == pytest.approx(se["state"] ** 2 + se["region"] ** 2
                                                - inter ** 2, rel=1e-10)
    assert both.estimate == causalkit.estimate(df, **kw).estimate
    with pytest.raises(OptionError, match="analytic standard errors only"):
        causalkit.estimate(df, cluster=["state", "region"], n_bootstrap=99, **kw)


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("method,roles", [
    ("regression_adjustment", dict(treatment="t", outcome="y")),
    ("difference_in_means", dict(treatment="t", outcome="y")),
    ("did", dict(treatment="t", outcome="y", post="post")),
    ("iv_2sls", dict(treatment="t", outcome="y", instrument="z")),
])
def test_three_cluster_columns_are_refused(cross_section, method, roles):
    df = cross_section.assign(c3=cross_section.firm % 3)
    with pytest.raises(OptionError, match=r"at most 2 cluster columns.*'firm', 'year', 'c3'"):
        causalkit.estimate(df, method=method, cluster=["firm", "year", "c3"], **roles)


@pytest.mark.parametrize("method", ["twfe", "event_study", "callaway_santanna"])
def test_three_cluster_columns_are_refused_in_panels(method):
    df = _panel(9)
    kw = dict(treatment="d") if method == "twfe" else dict(cohort="g")
    with pytest.raises(OptionError, match="at most 2 cluster columns"):
        causalkit.estimate(df, outcome="y", method=method, unit="id", time="t",
                           cluster=["a", "b", "state"], **kw)


def test_rdd_refuses_two_cluster_columns():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 500)
    df = pd.DataFrame({"x": x, "y": x + (x >= 0) + rng.normal(size=500),
                       "a": rng.integers(0, 20, 500), "b": rng.integers(0, 20, 500)})
    with pytest.raises(OptionError, match="rdd supports one cluster column, got 2"):
        causalkit.estimate(df, outcome="y", method="rdd", running="x", cutoff=0.0,
                           cluster=["a", "b"])


def test_empty_cluster_list_and_missing_cluster_column(cross_section):
    with pytest.raises(CausalKitError, match="empty list"):
        causalkit.estimate(cross_section, "t", "y", method="regression_adjustment", cluster=[])
    with pytest.raises(CausalKitError, match="cluster column 'frim'.*did you mean 'firm'"):
        causalkit.estimate(cross_section, "t", "y", method="did", post="post",
                           cluster=["frim", "year"])


@pytest.mark.parametrize("method,roles", [
    ("iv_2sls", dict(treatment="t", outcome="y", instrument="z")),
    ("regression_adjustment", dict(treatment="t", outcome="y")),
    ("did", dict(treatment="t", outcome="y", post="post")),
])
@pytest.mark.parametrize("cluster", ["one", ["firm", "one"]])
def test_a_single_cluster_is_refused(cross_section, method, roles, cluster):
    """linearmodels used to raise a raw ValueError for iv_2sls with one cluster."""
    with pytest.raises(ConstantColumnError, match="cluster column 'one' has a single cluster"):
        causalkit.estimate(cross_section.assign(one=1), method=method, cluster=cluster, **roles)


@pytest.mark.parametrize("method", ["twfe", "event_study"])
def test_two_way_panel_clustering_equals_pyfixest(method):
    """pyfixest's feols with both effects absorbed and CRV1 on two non-nesting columns: with
    every effect counted in K (fixef_k='full') and each of the three CGM terms with its own
    G/(G-1) (cluster_df='conventional') it is the same sandwich as ours."""
    pf = pytest.importorskip("pyfixest", reason="pyfixest not installed")
    df = _panel(9)
    if method == "twfe":
        eff = causalkit.estimate(df, "d", "y", method="twfe", unit="id", time="t",
                                 covariates=["x"], cluster=["a", "b"])
        fit = pf.feols("y ~ d + x | id + t", data=df, vcov={"CRV1": "a+b"},
                       ssc=pf.ssc(fixef_k="full", cluster_df="conventional"))
        pairs = [(eff.estimate, eff.std_error, "d")]
    else:
        eff = causalkit.estimate(df, outcome="y", method="event_study", unit="id", time="t",
                                 cohort="g", cluster=["a", "b"])
        table = eff.diagnostics["event_study"].set_index("event_time")
        dummies = _event_dummies(df)
        fit = pf.feols(f"y ~ {' + '.join(dummies)} | id + t",
                       data=df.assign(**{n: col for n, (_, col) in dummies.items()}),
                       vcov={"CRV1": "a+b"},
                       ssc=pf.ssc(fixef_k="full", cluster_df="conventional"))
        pairs = [(table.loc[k, "att"], table.loc[k, "std_error"], n)
                 for n, (k, _) in dummies.items()]
    coef, se = fit.coef(), fit.se()
    for est, ours_se, name in pairs:
        assert est == pytest.approx(coef[name], rel=1e-8)
        assert ours_se == pytest.approx(se[name], rel=1e-6)
