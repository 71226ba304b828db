"""dml_plr and dml_pliv against DoubleML (same models and folds), simulation, bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeRegressor

import causalkit
from causalkit import errors
from causalkit.nuisance import cluster_folds, ols_out_of_fold, repeated_folds

COVS = ["x1", "x2", "x3"]


def _plr_data(n=500, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    d = X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(size=n)
    b = (rng.uniform(size=n) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    df = pd.DataFrame(X, columns=COVS)
    df["d"], df["b"] = d, b
    df["y"] = 0.7 * d + X[:, 0] - np.sin(X[:, 2]) + rng.normal(size=n)
    df["yb"] = 0.7 * b + X[:, 0] + rng.normal(size=n)
    df["g"] = rng.integers(0, 40, n) * 3 + 100          # cluster labels, not 0..C-1
    return df


def _pliv_data(n=600, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    z = rng.normal(size=(n, 2)) + X[:, :1]
    u = rng.normal(size=n)
    d = z[:, 0] + 0.5 * z[:, 1] + X[:, 0] + u
    return pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "z1": z[:, 0], "z2": z[:, 1], "d": d,
                         "y": 0.8 * d + X[:, 1] ** 2 - u + rng.normal(size=n),
                         "g": rng.integers(0, 30, n)})


MODELS = [LinearRegression(), Lasso(alpha=0.05), DecisionTreeRegressor(max_depth=3, random_state=0)]


def _check_against(ref, eff):
    """Every split's estimate and SE to 1e-8; the aggregate is the median with the
    split-adjusted SE of Chernozhukov et al. (2018, Def. 3.3) on DoubleML's split numbers
    (DoubleML 0.11 aggregates the SE through the median upper bound instead)."""
    coefs, ses = ref.all_coef[0], ref.all_se[0]
    np.testing.assert_allclose(eff.diagnostics["split_estimates"], coefs, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(eff.diagnostics["split_std_errors"], ses, rtol=1e-8, atol=1e-12)
    centre = np.median(coefs)
    assert eff.estimate == pytest.approx(centre, rel=1e-8)
    assert eff.std_error == pytest.approx(np.sqrt(np.median(ses ** 2 + (coefs - centre) ** 2)),
                                          rel=1e-8)


def _doubleml_clusters(sources, rep_clusters):
    """Our cluster folds (over factorized codes) in DoubleML's form (over the labels)."""
    labels = [pd.factorize(s)[1] for s in sources]
    out = []
    for rep in rep_clusters:
        out.append([([np.setdiff1d(lab, lab[c]) for lab, c in zip(labels, fold)],
                     [lab[c].to_numpy() for lab, c in zip(labels, fold)]) for fold in rep])
    return out


@pytest.mark.parametrize("score", ["partialling out", "IV-type"])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_dml_plr_equals_doubleml(score, model):
    dml = pytest.importorskip("doubleml")
    df = _plr_data()
    data = dml.DoubleMLData(df, "y", "d", COVS)
    ref = dml.DoubleMLPLR(data, model, model, ml_g=model if score == "IV-type" else None,
                          score=score, n_folds=5, n_rep=3, draw_sample_splitting=False)
    ref.set_sample_splitting(repeated_folds(len(df), 5, 3, 7))
    ref.fit()
    eff = causalkit.estimate(df, "d", "y", method="dml_plr", covariates=COVS, ml_l=model,
                             ml_m=model, ml_g=model if score == "IV-type" else None,
                             score=score, n_rep=3, random_state=7)
    _check_against(ref, eff)
    key = "ml_g" if score == "IV-type" else "ml_l"
    np.testing.assert_allclose(eff.diagnostics["nuisance"][key],
                               ref.predictions[key][:, 0, 0], rtol=1e-8, atol=1e-10)


def test_dml_plr_binary_treatment_with_a_classifier_equals_doubleml():
    dml = pytest.importorskip("doubleml")
    df = _plr_data(seed=3)
    ref = dml.DoubleMLPLR(dml.DoubleMLData(df, "yb", "b", COVS), LinearRegression(),
                          LogisticRegression(), draw_sample_splitting=False)
    ref.set_sample_splitting(repeated_folds(len(df), 5, 1, 3))
    ref.fit()
    eff = causalkit.estimate(df, "b", "yb", method="dml_plr", covariates=COVS,
                             ml_l=LinearRegression(), ml_m=LogisticRegression(), random_state=3)
    _check_against(ref, eff)
    assert eff.diagnostics["treatment_type"] == "binary" and eff.n_treated == df.b.sum()


@pytest.mark.parametrize("score", ["partialling out", "IV-type"])
def test_dml_plr_cluster_robust_equals_doubleml_cluster_data(score):
    dml = pytest.importorskip("doubleml")
    df = _plr_data()
    rows, clusters = cluster_folds(pd.factorize(df.g)[0], 5, 2, 5)
    ref = dml.DoubleMLPLR(dml.DoubleMLData(df, "y", "d", COVS, cluster_cols="g"),
                          LinearRegression(), LinearRegression(),
                          ml_g=LinearRegression() if score == "IV-type" else None,
                          score=score, n_rep=2, draw_sample_splitting=False)
    ref.set_sample_splitting(rows, _doubleml_clusters([df.g], clusters))
    ref.fit()
    eff = causalkit.estimate(df, "d", "y", method="dml_plr", covariates=COVS, cluster="g",
                             score=score, n_rep=2, random_state=5)
    _check_against(ref, eff)
    plain = causalkit.estimate(df, "d", "y", method="dml_plr", covariates=COVS, score=score)
    assert "cluster-robust over 40 clusters of 'g' (one-way" in eff.inference
    assert "cluster" not in plain.inference


@pytest.mark.parametrize("method", ["dml_plr", "dml_pliv"])
def test_two_way_cluster_robust_equals_doubleml(method):
    dml = pytest.importorskip("doubleml")
    df = _plr_data(n=800, seed=6)
    rng = np.random.default_rng(9)
    df["firm"], df["year"] = rng.integers(0, 25, len(df)), rng.integers(0, 12, len(df)) + 2000
    codes = np.column_stack([pd.factorize(df.firm)[0], pd.factorize(df.year)[0]])
    rows, clusters = cluster_folds(codes, 3, 2, 8)
    lin = LinearRegression()
    iv = method == "dml_pliv"
    data = dml.DoubleMLData(df, "y", "d", COVS[:2], z_cols="x3" if iv else None,
                            cluster_cols=["firm", "year"])
    ref = (dml.DoubleMLPLIV(data, lin, lin, lin, n_folds=3, n_rep=2, draw_sample_splitting=False)
           if iv else
           dml.DoubleMLPLR(data, lin, lin, n_folds=3, n_rep=2, draw_sample_splitting=False))
    ref.set_sample_splitting(rows, _doubleml_clusters([df.firm, df.year], clusters))
    ref.fit()
    roles = {"instrument": "x3"} if iv else {}
    eff = causalkit.estimate(df, "d", "y", method=method, covariates=COVS[:2], **roles,
                             cluster=["firm", "year"], n_folds=3, n_rep=2, random_state=8)
    _check_against(ref, eff)
    assert "25 clusters of 'firm' and 12 clusters of 'year' (two-way" in eff.inference


@pytest.mark.parametrize("instruments, score", [(["z1"], "partialling out"),
                                                (["z1"], "IV-type"),
                                                (["z1", "z2"], "partialling out")])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_dml_pliv_equals_doubleml(instruments, score, model):
    dml = pytest.importorskip("doubleml")
    df = _pliv_data()
    data = dml.DoubleMLData(df, "y", "d", ["x1", "x2"], z_cols=instruments)
    ref = dml.DoubleMLPLIV(data, model, model, model, ml_g=model if score == "IV-type" else None,
                           score=score, n_rep=2, draw_sample_splitting=False)
    ref.set_sample_splitting(repeated_folds(len(df), 5, 2, 4))
    ref.fit()
    eff = causalkit.estimate(df, "d", "y", method="dml_pliv", instrument=instruments,
                             covariates=["x1", "x2"], ml_l=model, ml_m=model, ml_r=model,
                             ml_g=model if score == "IV-type" else None, score=score, n_rep=2,
                             random_state=4)
    _check_against(ref, eff)
    assert eff.estimand == "LATE"


def test_dml_pliv_cluster_robust_equals_doubleml():
    dml = pytest.importorskip("doubleml")
    df = _pliv_data()
    rows, clusters = cluster_folds(pd.factorize(df.g)[0], 5, 1, 5)
    ref = dml.DoubleMLPLIV(dml.DoubleMLData(df, "y", "d", ["x1", "x2"], z_cols="z1",
                                            cluster_cols="g"),
                           LinearRegression(), LinearRegression(), LinearRegression(),
                           draw_sample_splitting=False)
    ref.set_sample_splitting(rows, _doubleml_clusters([df.g], clusters))
    ref.fit()
    eff = causalkit.estimate(df, "d", "y", method="dml_pliv", instrument="z1",
                             covariates=["x1", "x2"], cluster="g", random_state=5)
    _check_against(ref, eff)


def test_out_of_fold_ols_equals_least_squares_per_fold_even_when_collinear():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    Y = np.column_stack([X @ [1.0, 2.0, 3.0] + rng.normal(size=300), rng.normal(size=300)])
    splits = repeated_folds(300, 4, 1, 1)[0]
    fast = ols_out_of_fold(X, Y, splits)
    for j in range(2):
        ref = np.empty(300)
        for train, test in splits:
            ref[test] = LinearRegression().fit(X[train], Y[train, j]).predict(X[test])
        np.testing.assert_allclose(fast[:, j], ref, rtol=1e-10, atol=1e-10)
    # badly scaled and exactly collinear columns: the minimum-norm least-squares fit
    # (numpy's SVD solver) on each training fold gives the same out-of-fold predictions
    Xb = X * [1.0, 1e4, 1e-3]
    Xb = np.column_stack([Xb, 2 * Xb[:, 0] - Xb[:, 2]])
    fast = ols_out_of_fold(Xb, Y, splits)
    ref = np.empty(300)
    for train, test in splits:
        design = np.column_stack([np.ones(len(Xb)), Xb])
        beta = np.linalg.lstsq(design[train], Y[train, 0], rcond=None)[0]
        ref[test] = design[test] @ beta
    np.testing.assert_allclose(fast[:, 0], ref, rtol=1e-8, atol=1e-8)


def test_dml_plr_confidence_intervals_cover_at_the_nominal_rate():
    # 300 replications of n = 400: the Monte-Carlo SE of a 95% coverage is 1.3%, so
    # [0.91, 0.99] is about 3 SEs either side
    hits = 0
    for rep in range(300):
        rng = np.random.default_rng(1000 + rep)
        x = rng.normal(size=(400, 2))
        d = x @ [0.8, -0.4] + rng.normal(size=400) * (1 + 0.5 * np.abs(x[:, 0]))
        y = 0.5 * d + x @ [1.0, 1.0] + rng.normal(size=400) * (1 + np.abs(x[:, 1]))
        df = pd.DataFrame({"d": d, "y": y, "x1": x[:, 0], "x2": x[:, 1]})
        eff = causalkit.estimate(df, "d", "y", method="dml_plr", covariates=["x1", "x2"],
                                 random_state=rep)
        hits += eff.ci_low <= 0.5 <= eff.ci_high
    assert 0.91 <= hits / 300 <= 0.99


def test_available_lists_treatment_types():
    types = causalkit.available().set_index("method").treatment_types
    assert types["dml_plr"] == "binary, continuous"
    assert types["dml_pliv"] == "binary, continuous"
    assert types["aipw_multi"] == "binary, categorical"


# ------------------------------------------------------------------ bad input
def test_bad_input_is_refused_with_a_named_error():
    df = _plr_data(n=200)
    with pytest.raises(errors.ConstantColumnError, match="treatment column 'c' is constant"):
        causalkit.estimate(df.assign(c=1.5), "c", "y", method="dml_plr", covariates=COVS)
    with pytest.raises(errors.ConstantColumnError, match="'c' is constant"):
        causalkit.estimate(df.assign(c=1.5), "c", "y", method="dml_pliv", instrument="x3",
                           covariates=["x1"])
    with pytest.raises(errors.NonNumericColumnError, match="treatment column 's'"):
        causalkit.estimate(df.assign(s=np.where(df.b == 1, "on", "off")), "s", "y",
                           method="dml_plr", covariates=COVS)
    with pytest.raises(errors.OptionError, match="ml_m=LogisticRegression is a classifier"):
        causalkit.estimate(df, "d", "y", method="dml_plr", covariates=COVS,
                           ml_m=LogisticRegression())
    for bad in ("five", 1, 2.5, True):
        with pytest.raises(errors.OptionError, match="n_folds must be an integer >= 2"):
            causalkit.estimate(df, "d", "y", method="dml_plr", covariates=COVS, n_folds=bad)
    with pytest.raises(errors.OptionError, match="n_rep must be an integer >= 1"):
        causalkit.estimate(df, "d", "y", method="dml_plr", covariates=COVS, n_rep=0)
    with pytest.raises(errors.OptionError, match="score must be one of"):
        causalkit.estimate(df, "d", "y", method="dml_plr", covariates=COVS, score="IV")
    with pytest.raises(errors.OptionError, match="at most 2 cluster columns"):
        causalkit.estimate(df.assign(h=df.g % 7, k=df.g % 5), "d", "y", method="dml_plr",
                           covariates=COVS, cluster=["g", "h", "k"])
    with pytest.raises(errors.OptionError, match="at least 5 clusters"):
        causalkit.estimate(df.assign(h=df.g % 4), "d", "y", method="dml_plr", covariates=COVS,
                           cluster="h")
    with pytest.raises(errors.OptionError, match="takes one instrument"):
        causalkit.estimate(_pliv_data(), "d", "y", method="dml_pliv", instrument=["z1", "z2"],
                           covariates=["x1"], score="IV-type")
    with pytest.raises(errors.RoleError, match="instrument 'd' is the treatment"):
        causalkit.estimate(df, "d", "y", method="dml_pliv", instrument="d", covariates=["x1"])
    with pytest.raises(errors.EstimationError, match="treatment .dx. has no variation left"):
        causalkit.estimate(df.assign(dx=2 * df.x1 - df.x2), "dx", "y", method="dml_plr",
                           covariates=COVS)
    with pytest.raises(errors.EstimationError, match="instrument 'zx' has no variation left"):
        causalkit.estimate(df.assign(zx=df.x1 + 1), "d", "y", method="dml_pliv",
                           instrument="zx", covariates=COVS)
    with pytest.raises(errors.TooFewRowsError):
        causalkit.estimate(df.iloc[:8], "d", "y", method="dml_plr", covariates=COVS)
    # a binary treatment the covariates separate has no overlap
    with pytest.raises(errors.OverlapError, match="x1"):
        causalkit.estimate(df.assign(s=(df.x1 > 0).astype(int)), "s", "y", method="dml_plr",
                           covariates=COVS)


def test_other_methods_still_refuse_a_continuous_treatment():
    df = _plr_data(n=200)
    for method in ("aipw", "ipw", "regression_adjustment"):
        with pytest.raises(errors.TreatmentNotBinaryError):
            causalkit.estimate(df, "d", "y", method=method, covariates=COVS)
