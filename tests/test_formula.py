"""Formulas, categorical covariates and the whole-model form (issue 19).

References: What If (Hernan & Robins 2020), Programs 12.2 and 13.2 on NHEFS (IPW 3.4
[2.4, 4.5] from the GEE robust SE; standardization 3.5, bootstrap [2.6, 4.5]);
statsmodels (Logit, WLS with HC0, OLS through its own formula interface) on the same
data; pandas.get_dummies for the one-hot coding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit import errors
from causalkit.formula import covariate_design
from causalkit.model_formula import parse_model_formula

sm = pytest.importorskip("statsmodels.api")
smf = pytest.importorskip("statsmodels.formula.api")

NHEFS_COVS = ("C(sex) + C(race) + age + I(age**2) + C(education) + smokeintensity + "
              "I(smokeintensity**2) + smokeyrs + I(smokeyrs**2) + C(exercise) + C(active) + "
              "wt71 + I(wt71**2)")


@pytest.fixture(scope="module")
def nhefs() -> pd.DataFrame:
    causaldata = pytest.importorskip("causaldata", reason="causaldata ships nhefs_complete")
    return causaldata.nhefs_complete.load_pandas().data


@pytest.fixture(scope="module")
def nhefs_ipw(nhefs):
    return causalkit.estimate(nhefs, f"wt82_71 ~ qsmk | {NHEFS_COVS}", method="ipw",
                              variance="fixed_weights")


def _statsmodels_ipw(nhefs):
    """What If Program 12.2: logistic propensity, weighted regression, robust (HC0) SE."""
    rhs = NHEFS_COVS.replace("I(age**2)", "I(age**2)")
    ps = smf.logit(f"qsmk ~ {rhs}", data=nhefs).fit(disp=0).predict(nhefs)
    w = np.where(nhefs.qsmk == 1, 1 / ps, 1 / (1 - ps))
    return sm.WLS(nhefs.wt82_71, sm.add_constant(nhefs.qsmk), weights=w).fit(cov_type="HC0")


def test_nhefs_ipw_formula_reproduces_what_if_program_12_2(nhefs, nhefs_ipw):
    eff = nhefs_ipw
    # the book: 3.4 (95% CI 2.4 to 4.5), a GEE with independence working correlation
    assert round(eff.estimate, 1) == 3.4
    assert (round(eff.ci_low, 1), round(eff.ci_high, 1)) == (2.4, 4.5)
    ref = _statsmodels_ipw(nhefs)
    assert eff.estimate == pytest.approx(ref.params["qsmk"], rel=1e-8)
    assert eff.std_error == pytest.approx(ref.bse["qsmk"], rel=1e-6)
    assert "C(education)[T.5]" in eff.covariates and "I(wt71 ** 2)" in eff.covariates
    assert "one-hot encoded" in eff.inference and "C(education) (reference '1')" in eff.inference
    balance = eff.diagnostics["balance"]
    assert "C(exercise)[T.2]" in balance.index


def test_nhefs_ipw_default_stacked_se_is_smaller_than_the_books(nhefs, nhefs_ipw):
    stacked = causalkit.estimate(nhefs, f"wt82_71 ~ qsmk | {NHEFS_COVS}", method="ipw")
    assert stacked.estimate == pytest.approx(nhefs_ipw.estimate, rel=1e-10)
    # estimating the score can only reduce the ATE variance (Lunceford & Davidian 2004)
    assert stacked.std_error < nhefs_ipw.std_error


def test_nhefs_standardization_reproduces_what_if_program_13_2(nhefs):
    model = f"qsmk + {NHEFS_COVS} + qsmk:smokeintensity"
    eff = causalkit.estimate(nhefs, f"wt82_71 ~ qsmk | {NHEFS_COVS}",
                             method="regression_adjustment", outcome_formula=model)
    ols = smf.ols(f"wt82_71 ~ {model}", data=nhefs).fit(cov_type="HC2")
    diff = ols.predict(nhefs.assign(qsmk=1.0)) - ols.predict(nhefs.assign(qsmk=0.0))
    assert round(eff.estimate, 1) == 3.5
    assert eff.estimate == pytest.approx(diff.mean(), rel=1e-8)
    # delta method from statsmodels' HC2 covariance plus the variance of the predictions
    c = (ols.model.exog - 0).mean(axis=0) * 0
    names = list(ols.params.index)
    c[names.index("qsmk")] = 1.0
    c[names.index("qsmk:smokeintensity")] = nhefs.smokeintensity.mean()
    var = c @ ols.cov_params().to_numpy() @ c + diff.var(ddof=0) / len(nhefs)
    assert eff.std_error == pytest.approx(np.sqrt(var), rel=1e-6)
    # the book's bootstrap interval is [2.6, 4.5]
    assert (round(eff.ci_low, 1), round(eff.ci_high, 1)) == (2.6, 4.5)
    assert "standardization" in eff.inference


def _categorical_data(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(["north", "south", "west"], n)
    x = rng.normal(size=n)
    shift = pd.Series(g).map({"north": 0.0, "south": 0.8, "west": -0.5}).to_numpy()
    t = rng.binomial(1, 1 / (1 + np.exp(-(0.5 * x + shift))))
    y = 1.5 * t + x + 2 * shift + rng.normal(size=n)
    return pd.DataFrame({"t": t, "y": y, "x": x, "g": pd.Categorical(g),
                         "g_text": g.astype(object), "flag": x > 0})


def _dummied(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    d = pd.get_dummies(df["g_text"], prefix="g", drop_first=True, dtype=float)
    return pd.concat([df[["t", "y", "x"]], d], axis=1), ["x", *d.columns]


@pytest.mark.parametrize("column", ["g", "g_text"])
def test_a_categorical_or_object_covariate_is_one_hot_encoded(column):
    df = _categorical_data()
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates=["x", column], interacted=False)
    ref_df, ref_covs = _dummied(df)
    ols = sm.OLS(ref_df.y, sm.add_constant(ref_df[["t", *ref_covs]])).fit(cov_type="HC2")
    assert eff.estimate == pytest.approx(ols.params["t"], rel=1e-9)
    assert eff.std_error == pytest.approx(ols.bse["t"], rel=1e-7)
    assert eff.covariates == ("x", f"{column}[T.south]", f"{column}[T.west]")
    assert f"{column} (reference 'north')" in eff.inference
    assert eff.diagnostics["covariate_design"]["terms"] == ["x", column]


def test_the_formula_string_gives_the_same_fit_as_the_column_list():
    df = _categorical_data()
    by_list = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x", "g"])
    by_formula = causalkit.estimate(df, "t", "y", method="ipw", covariates="x + C(g)")
    by_model = causalkit.estimate(df, "y ~ t | x + C(g)", method="ipw")
    for eff in (by_formula, by_model):
        assert eff.estimate == pytest.approx(by_list.estimate, rel=1e-10)
        assert eff.std_error == pytest.approx(by_list.std_error, rel=1e-8)


def test_a_boolean_covariate_is_used_as_0_1():
    df = _categorical_data()
    a = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["flag", "x"])
    b = causalkit.estimate(df.assign(flag=df.flag.astype(float)), "t", "y",
                           method="regression_adjustment", covariates=["flag", "x"])
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)


def test_splines_and_interactions_in_covariates():
    df = _categorical_data()
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates="bs(x, df=3) + C(g) + C(g):flag", interacted=False)
    ols = smf.ols("y ~ t + bs(x, df=3) + C(g) + C(g):flag", data=df).fit(cov_type="HC2")
    assert eff.estimate == pytest.approx(ols.params["t"], rel=1e-7)
    assert eff.std_error == pytest.approx(ols.bse["t"], rel=1e-6)
    assert len(eff.covariates) == len(ols.params) - 2


def test_unused_categories_are_dropped_not_a_zero_column():
    df = _categorical_data()
    df["g"] = df["g"].cat.add_categories(["east"])
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x", "g"])
    assert not any("east" in c for c in eff.covariates)
    eff2 = causalkit.estimate(df, "t", "y", method="ipw", covariates="x + C(g)")
    assert eff2.estimate == pytest.approx(eff.estimate, rel=1e-10)


@pytest.mark.parametrize("covariates, error, words", [
    (["x", "g_missing"], errors.MissingValueError, "g_missing"),
    ("x + C(g_missing)", errors.MissingValueError, "g_missing"),
    ("x + C(gg)", errors.ColumnNotFoundError, "did you mean 'g'"),
    ("x + C(g", errors.FormulaError, "cannot"),
    ("y ~ x", errors.FormulaError, "right-hand side"),
    (["x", "ident"], errors.NonNumericColumnError, "ident"),
    (["x", "one_level"], errors.ConstantColumnError, "one_level"),
    ("x + np.log(x)", errors.MissingValueError, "np.log(x)"),
])
def test_bad_covariate_designs_are_clear_errors(covariates, error, words):
    df = _categorical_data()
    df["g_missing"] = df["g"].astype(object).where(np.arange(len(df)) != 5)
    df["ident"] = [f"id{i}" for i in range(len(df))]
    df["one_level"] = "a"
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        causalkit.estimate(df, "t", "y", method="ipw", covariates=covariates)


def test_predict_cate_builds_the_design_on_new_rows_and_refuses_unseen_levels():
    from sklearn.linear_model import LinearRegression

    df = _categorical_data(400)
    fast = {"n_bootstrap": 0, "model": LinearRegression()}
    eff = causalkit.estimate(df, "t", "y", method="t_learner", covariates="x + C(g)", **fast)
    ref_df, ref_covs = _dummied(df)
    ref = causalkit.estimate(ref_df, "t", "y", method="t_learner", covariates=ref_covs, **fast)
    new = df.head(10)
    assert np.allclose(eff.predict_cate(new), ref.predict_cate(ref_df.head(10)))
    assert np.allclose(eff.predict_cate(new[["x", "g"]]), ref.predict_cate(ref_df.head(10)))
    bad = new.assign(g=new["g"].astype(object).where(np.arange(10) != 2, "east"))
    with pytest.raises(errors.UnseenLevelError, match="C\\(g\\)"):
        eff.predict_cate(bad)
    with pytest.raises(errors.ColumnNotFoundError):
        eff.predict_cate(new[["x"]])
    plain = causalkit.estimate(df, "t", "y", method="s_learner", covariates=["x", "g_text"],
                               **fast)
    with pytest.raises(errors.UnseenLevelError, match="g_text.*'east'"):
        plain.predict_cate(bad.assign(g_text=bad["g"].astype(object)))


def test_the_recorded_call_keeps_the_terms_so_refuters_refit():
    df = _categorical_data()
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                             covariates="x + C(g)")
    assert list(eff.call["covariates"]) == ["x", "C(g)"]
    res = causalkit.refute(eff, df, "random_common_cause", n_refits=3)
    assert res.n_failed == 0 and np.isfinite(res.estimates).all()
    # an independent noise covariate moves the estimate by a small fraction of its SE
    assert np.abs(res.estimates - eff.estimate).max() < 0.2 * eff.std_error


def test_whole_model_form_for_iv_panel_and_rd():
    rng = np.random.default_rng(3)
    n = 800
    z = rng.normal(size=n)
    u = rng.normal(size=n)
    g = rng.choice(["a", "b"], n)
    d = z + u + rng.normal(size=n)
    df = pd.DataFrame({"z": z, "d": d, "g": g, "y": 2 * d + u + (g == "b") + rng.normal(size=n)})
    a = causalkit.estimate(df, "y ~ d | C(g) | z", method="iv_2sls")
    df["gb"] = (df.g == "b").astype(float)
    b = causalkit.estimate(df, "d", "y", method="iv_2sls", instrument="z", covariates=["gb"])
    assert a.estimate == pytest.approx(b.estimate, rel=1e-10)
    assert a.std_error == pytest.approx(b.std_error, rel=1e-8)

    from causalkit.datasets import catalog
    ds = catalog.load("did_2x2", seed=1, n_units=200)
    did = causalkit.estimate(ds.data, "y ~ treated | | post", method="did")
    ref = causalkit.estimate(ds.data, "treated", "y", method="did", post="post")
    assert did.estimate == pytest.approx(ref.estimate, rel=1e-12)
    st = catalog.load("staggered_did_panel", seed=1, n_units=60).data
    twfe = causalkit.estimate(st, "y ~ d | | unit + time", method="twfe")
    ref = causalkit.estimate(st, "d", "y", method="twfe", unit="unit", time="time")
    assert twfe.estimate == pytest.approx(ref.estimate, rel=1e-12)
    cs = causalkit.estimate(st, "y ~ cohort | | unit + time", method="callaway_santanna")
    ref = causalkit.estimate(st, outcome="y", method="callaway_santanna", cohort="cohort",
                             unit="unit", time="time")
    assert cs.estimate == pytest.approx(ref.estimate, rel=1e-12)

    rd = catalog.load("sharp_rd", seed=1, n=600)
    r = rd.roles
    by_formula = causalkit.estimate(rd.data, f"{r['outcome']} ~ {r['running']}", method="rdd",
                                    cutoff=r["cutoff"])
    by_keywords = causalkit.estimate(rd.data, outcome=r["outcome"], method="rdd",
                                     running=r["running"], cutoff=r["cutoff"])
    assert by_formula.estimate == pytest.approx(by_keywords.estimate, rel=1e-12)


@pytest.mark.parametrize("model, kwargs, error, words", [
    ("y ~ t | x", {"outcome": "y"}, errors.RoleError, "names the outcome"),
    ("y ~ t | x", {"covariates": ["x"]}, errors.RoleError, "covariates is given both"),
    ("y ~ t + x", {}, errors.FormulaError, "one column"),
    ("y ~ t | x | z", {}, errors.RoleError, "third part"),
    ("y ~ t ~ x", {}, errors.FormulaError, "exactly one"),
    ("log(y) ~ t", {}, errors.FormulaError, "left-hand side"),
])
def test_bad_model_formulas_are_clear_errors(model, kwargs, error, words):
    df = _categorical_data()
    df["z"] = 1.0
    with pytest.raises(error, match=words):
        causalkit.estimate(df, model, method="ipw", **kwargs)


def test_nuisance_formulas_may_not_read_the_treatment_or_outcome():
    df = _categorical_data()
    with pytest.raises(errors.OptionError, match="'t'"):
        causalkit.estimate(df, "y ~ t | x", method="ipw", propensity_formula="x + t")
    with pytest.raises(errors.OptionError, match="'t'"):
        causalkit.estimate(df, "y ~ t | x", method="aipw", outcome_formula="t * x")
    with pytest.raises(errors.OptionError, match="does not contain the treatment"):
        causalkit.estimate(df, "y ~ t | x", method="regression_adjustment",
                           outcome_formula="x + C(g)")


def test_aipw_with_formula_nuisances_equals_aipw_on_the_built_columns():
    df = _categorical_data()
    a = causalkit.estimate(df, "y ~ t | x + C(g)", method="aipw",
                           propensity_formula="x + I(x**2) + C(g)", outcome_formula="x + C(g)",
                           n_folds=2)
    built = df.assign(x2=df.x ** 2)
    ref_df, ref_covs = _dummied(built)
    ref_df["x2"] = built.x2
    # the same columns through the plain path: propensity on (x, x^2, g), outcome on (x, g)
    b = causalkit.estimate(ref_df, "t", "y", method="aipw", covariates=ref_covs, n_folds=2,
                           propensity_formula="x + x2 + g_south + g_west")
    assert a.estimate == pytest.approx(b.estimate, rel=1e-9)
    assert a.std_error == pytest.approx(b.std_error, rel=1e-7)


def test_parse_model_formula_respects_parentheses_and_backticks():
    f = parse_model_formula("`my y` ~ t | I(a | b) + C(g)")
    assert f.outcome == "my y" and f.covariates == "I(a | b) + C(g)"


def test_numeric_covariates_are_not_copied():
    df = _categorical_data()
    design = covariate_design(df, ["x"])
    assert design.frame is df and not design.expanded


def test_cli_estimate_with_a_formula(tmp_path, capsys):
    from causalkit.cli import main

    df = _categorical_data()
    path = tmp_path / "d.csv"
    df[["t", "y", "x", "g_text"]].to_csv(path, index=False)
    code = main(["estimate", "--data", str(path), "--formula", "y ~ t | x + C(g_text)",
                 "--method", "ipw"])
    out = capsys.readouterr().out
    assert code == 0
    ref = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x", "g"])
    assert f"{ref.estimate:.4f}" in out and "C(g_text)[T.south]" in out
    code = main(["estimate", "--data", str(path), "--formula", "y ~ t | x",
                 "--treatment", "t"])
    assert code == 2 and "--formula names the model" in capsys.readouterr().err


def test_a_direct_call_with_positional_covariates_builds_the_design():
    from causalkit.iv.iv_2sls import iv_2sls

    rng = np.random.default_rng(4)
    n = 500
    df = pd.DataFrame({"z": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n)})
    df["d"] = df.z + rng.normal(size=n)
    df["y"] = df.d + (df.g == "b") + rng.normal(size=n)
    direct = iv_2sls(df, "d", "y", "z", "C(g)")
    ref = causalkit.estimate(df, "y ~ d | C(g) | z", method="iv_2sls")
    assert direct.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert direct.covariates == ("C(g)[T.b]", "C(g)[T.c]")


def test_interacted_given_with_an_outcome_formula_is_an_option_error():
    # outcome_formula replaces the Lin/additive model, so interacted=False was silently ignored
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"t": rng.integers(0, 2, 200), "x": rng.normal(size=200)})
    df["y"] = df.t + df.x + rng.normal(size=200)
    with pytest.raises(errors.OptionError, match="interacted=False"):
        causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"],
                           outcome_formula="x", interacted=False)
