"""aipw_multi against DoubleML's DoubleMLAPOS (same nuisances and folds), brute force, bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalkit
from causalkit import errors
from causalkit.nuisance import repeated_folds


def _data(n=1500, seed=3, labels=("a", "b", "c")):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    logits = np.column_stack([np.zeros(n), 0.5 * X[:, 0], -0.5 * X[:, 1]])
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    codes = (rng.uniform(size=n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    y = X[:, 0] + np.array([0.0, 1.0, 2.5])[codes] + rng.normal(size=n)
    return pd.DataFrame({"t": np.array(labels, dtype=object)[codes], "x1": X[:, 0],
                         "x2": X[:, 1], "y": y}), codes


def test_equals_doubleml_apos_on_the_same_nuisances_and_folds():
    dml = pytest.importorskip("doubleml")
    df, codes = _data()
    eff = causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x1", "x2"],
                             random_state=2)
    nu = eff.diagnostics["nuisance"]
    ref = dml.DoubleMLAPOS(dml.DoubleMLData(df.assign(t=codes), "y", "t", ["x1", "x2"]),
                           LinearRegression(), LogisticRegression(), treatment_levels=[0, 1, 2],
                           draw_sample_splitting=False)
    ref.set_sample_splitting(repeated_folds(len(df), 5, 1, 2, strata=codes))
    ref.fit(external_predictions={
        k: {"ml_m": nu[f"e_{a}"].to_numpy()[:, None],
            "ml_g_d_lvl1": nu[f"mu_{a}"].to_numpy()[:, None],
            "ml_g_d_lvl0": nu[f"mu_{a}"].to_numpy()[:, None]}
        for k, a in enumerate("abc")})
    apo = eff.diagnostics["apo"]
    np.testing.assert_allclose(apo.estimate, ref.coef, rtol=1e-10)
    np.testing.assert_allclose(apo.std_error, ref.se, rtol=1e-8)
    contrasts = ref.causal_contrast(reference_levels=[0, 1])
    assert contrasts.treatment_names == ["1 vs 0", "2 vs 0", "2 vs 1"]
    table = eff.diagnostics["contrasts"]
    assert list(table.index) == ["b vs a", "c vs a", "c vs b"]
    np.testing.assert_allclose(table.estimate, contrasts.thetas, rtol=1e-10)
    np.testing.assert_allclose(table.std_error, contrasts.ses, rtol=1e-8)
    # the joint covariance of the contrasts is that of DoubleML's scaled scores
    psi = contrasts.scaled_psi[:, :, 0]
    np.testing.assert_allclose(eff.diagnostics["contrast_covariance"].to_numpy(),
                               psi.T @ psi / len(df) ** 2, rtol=1e-8)
    # simultaneous CIs: DoubleML's multiplier bootstrap (20,000 draws) has a Monte-Carlo
    # error of about 0.01 in the critical value
    np.random.seed(0)
    contrasts.bootstrap(n_rep_boot=20000)
    joint = contrasts.confint(joint=True).to_numpy()
    np.testing.assert_allclose(table[["ci_low_joint", "ci_high_joint"]].to_numpy(), joint,
                               atol=0.01 * table.std_error.max() * 3)
    # the headline: "b vs a" (second arm vs first) by default
    assert eff.estimate == pytest.approx(contrasts.thetas[0], rel=1e-10)
    assert eff.estimand == "ATE" and eff.n_treated == (codes == 1).sum()


def test_equals_doubleml_apos_fitting_the_same_models_per_arm():
    """multinomial=False fits one classifier per arm, as DoubleMLAPOS: the whole pipeline
    (nuisance fits included) then agrees with the same learners and folds."""
    dml = pytest.importorskip("doubleml")
    df, codes = _data(n=800, seed=4)
    ref = dml.DoubleMLAPOS(dml.DoubleMLData(df.assign(t=codes), "y", "t", ["x1", "x2"]),
                           LinearRegression(), LogisticRegression(), treatment_levels=[0, 1, 2],
                           draw_sample_splitting=False)
    ref.set_sample_splitting(repeated_folds(len(df), 5, 1, 6, strata=codes))
    ref.fit()
    eff = causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x1", "x2"],
                             propensity_model=LogisticRegression(),
                             outcome_model=LinearRegression(), multinomial=False,
                             estimand="APO", level="b", random_state=6)
    np.testing.assert_allclose(eff.diagnostics["apo"].estimate, ref.coef, rtol=1e-8)
    np.testing.assert_allclose(eff.diagnostics["apo"].std_error, ref.se, rtol=1e-8)
    contrasts = ref.causal_contrast(reference_levels=[0, 1])
    np.testing.assert_allclose(eff.diagnostics["contrasts"].estimate, contrasts.thetas,
                               rtol=1e-8)
    np.testing.assert_allclose(eff.diagnostics["contrasts"].std_error, contrasts.ses, rtol=1e-8)
    assert eff.estimate == pytest.approx(ref.coef[1], rel=1e-8)


def test_propensities_are_the_multinomial_logit_fitted_on_each_training_fold():
    df, codes = _data(n=600)
    eff = causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x1", "x2"],
                             estimand="APO", level="c", random_state=1)
    X, y = df[["x1", "x2"]].to_numpy(), df.y.to_numpy()
    e, mu = np.empty((600, 3)), np.empty((600, 3))
    for train, test in repeated_folds(600, 5, 1, 1, strata=codes)[0]:
        model = LogisticRegression(C=np.inf, max_iter=5000, tol=1e-12).fit(X[train], codes[train])
        e[test] = model.predict_proba(X[test])
        for k in range(3):
            rows = train[codes[train] == k]
            mu[test, k] = LinearRegression().fit(X[rows], y[rows]).predict(X[test])
    nu = eff.diagnostics["nuisance"]
    np.testing.assert_allclose(nu[["e_a", "e_b", "e_c"]], e, rtol=1e-5)
    np.testing.assert_allclose(nu[["mu_a", "mu_b", "mu_c"]], mu, rtol=1e-8)
    ec = np.clip(e[:, 2], 0.01, 0.99)
    phi = mu[:, 2] + (codes == 2) * (y - mu[:, 2]) / ec
    assert eff.estimate == pytest.approx(phi.mean(), rel=1e-6)
    assert eff.std_error == pytest.approx(phi.std() / np.sqrt(600), rel=1e-5)
    assert eff.estimand == "APO"


def test_simultaneous_intervals_are_wider_and_diagnostics_per_arm():
    df, _ = _data(n=900)
    eff = causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x1", "x2"],
                             propensity_model=RandomForestClassifier(n_estimators=30,
                                                                     min_samples_leaf=20,
                                                                     random_state=0))
    table = eff.diagnostics["contrasts"]
    assert (table.ci_high_joint - table.ci_low_joint > table.ci_high - table.ci_low).all()
    # three contrasts of rank 2: the max-|t| value lies between the pointwise 1.96 and
    # the Bonferroni value for 3 tests, 2.394
    assert 1.96 < eff.diagnostics["critical_value_joint"] < 2.394
    assert list(eff.diagnostics["overlap"].index) == ["a", "b", "c"]
    assert set(eff.diagnostics["balance"]) == {"a", "b", "c"}
    assert "smd_after" in eff.diagnostics["balance"]["b"].columns


def test_bad_input_names_the_arm_or_the_problem():
    df, _ = _data(n=600)
    few = df.copy()
    few.loc[:3, "t"] = "rare"
    with pytest.raises(errors.EmptyArmError, match="arm 'rare' \\(4 units\\)"):
        causalkit.estimate(few, "t", "y", method="aipw_multi", covariates=["x1"])
    with pytest.raises(errors.TreatmentNotBinaryError, match="continuous"):
        causalkit.estimate(df, "x2", "y", method="aipw_multi", covariates=["x1"])
    with pytest.raises(errors.ConstantColumnError, match="treatment column 't' is constant"):
        causalkit.estimate(df.assign(t="a"), "t", "y", method="aipw_multi", covariates=["x1"])
    with pytest.raises(errors.OptionError, match="level='d' is not an arm"):
        causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x1"], level="d")
    with pytest.raises(errors.OptionError, match="n_folds must be an integer"):
        causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x1"], n_folds="5")
    with pytest.raises(errors.OptionError, match="n_draws"):
        causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x1"], n_draws=10)
    with pytest.raises(errors.OptionError, match="estimates ATE"):
        causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x1"], estimand="ATT")
    with pytest.raises(errors.MissingValueError, match="treatment column 't'"):
        causalkit.estimate(df.assign(t=df.t.where(df.index != 5)), "t", "y",
                           method="aipw_multi", covariates=["x1"])
    separated = df.assign(t=np.where(df.x1 > 1, "top", df.t))
    with pytest.raises(errors.OverlapError, match="arm 'top' of the treatment: covariate 'x1'"):
        causalkit.estimate(separated, "t", "y", method="aipw_multi", covariates=["x1", "x2"])
    # the binary-only estimators still refuse a multi-valued treatment
    with pytest.raises(errors.TreatmentNotBinaryError):
        causalkit.estimate(df.assign(t=df.t.map({"a": 0, "b": 1, "c": 2})), "t", "y",
                           method="aipw", covariates=["x1"])


def test_weak_overlap_of_an_arm_is_a_warning_naming_it():
    rng = np.random.default_rng(5)
    n = 2000
    x = rng.normal(size=n)
    p_rare = 1 / (1 + np.exp(-(-4.5 + 2.0 * x)))
    t = np.where(rng.uniform(size=n) < p_rare, "rare",
                 np.where(rng.uniform(size=n) < 0.5, "a", "b"))
    df = pd.DataFrame({"t": t, "x": x, "y": x + rng.normal(size=n)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eff = causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x"])
    assert any("arm 'rare' of the treatment: positivity" in str(w.message) for w in caught)
    assert eff.diagnostics["overlap"].loc["rare", "status"] == "weak"


def test_max_t_critical_value_matches_closed_forms():
    from scipy import stats

    from causalkit.inference import max_t_critical_value

    # independent statistics: P(max |Z_j| <= c) = (2 Phi(c) - 1)^m
    m = 4
    exact = stats.norm.ppf((1 + 0.95 ** (1 / m)) / 2)
    assert max_t_critical_value(np.eye(m), np.eye(m), 0.05, 200_000) == pytest.approx(exact,
                                                                                      abs=0.01)
    # perfectly correlated statistics: the pointwise value
    ones = np.ones((3, 3))
    assert max_t_critical_value(ones, np.eye(3), 0.05, 200_000) == pytest.approx(1.95996,
                                                                                  abs=0.01)


def test_simultaneous_intervals_cover_every_contrast_at_the_nominal_rate():
    # 150 replications: the Monte-Carlo SE of a 95% joint coverage is 1.8%, so the
    # band [0.89, 1.0] is about 3 SEs below; pointwise intervals would cover all three
    # contrasts jointly noticeably less often (about 0.88 here)
    truth = np.array([1.0, 2.5, 1.5])                     # b-a, c-a, c-b
    hits = 0
    for rep in range(150):
        df, _ = _data(n=450, seed=100 + rep)
        eff = causalkit.estimate(df, "t", "y", method="aipw_multi", covariates=["x1", "x2"],
                                 n_draws=5000, random_state=rep)
        table = eff.diagnostics["contrasts"]
        hits += bool(((table.ci_low_joint <= truth) & (truth <= table.ci_high_joint)).all())
    assert 0.89 <= hits / 150 <= 1.0
