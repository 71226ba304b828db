"""One positivity diagnosis for every covariate-adjusting estimator (causalkit.overlap).

Without overlap the learners and regression adjustment used to extrapolate and report
confident numbers (``s_learner`` gave 0.000, CI [-0.016, 0.016], truth 1, under perfect
separation).  Now: separation is an OverlapError for every estimator that adjusts for
covariates, weak overlap a warning whose count of scores outside [0.01, 0.99] is checked
against statsmodels' logistic fit of the same propensity model, and well-overlapping
(randomized) data raise and warn nothing.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalkit
from causalkit.errors import OverlapError
from causalkit.overlap import check_overlap, independent_columns

#: every estimator that adjusts for covariates, with linear nuisance models and no
#: bootstrap to keep it fast (the overlap check depends on neither)
_OLS, _LOGIT = LinearRegression(), LogisticRegression()
ADJUSTING = {
    "regression_adjustment": {},
    "s_learner": {"model": _OLS, "n_bootstrap": 0},
    "t_learner": {"model": _OLS, "n_bootstrap": 0},
    "x_learner": {"outcome_model": _OLS, "cate_model": _OLS, "propensity_model": _LOGIT,
                  "n_bootstrap": 0},
    "dr_learner": {"outcome_model": _OLS, "propensity_model": _LOGIT, "final_model": _OLS,
                   "cv": 2},
    "r_learner": {"outcome_model": _OLS, "propensity_model": _LOGIT, "final_model": _OLS,
                  "cv": 2, "n_bootstrap": 0},
    "causal_forest": {"outcome_model": _OLS, "propensity_model": _LOGIT, "n_estimators": 20,
                      "cv": 2},
    "ipw": {},
    "aipw": {},
}
#: the estimators that fit no propensity model of their own: the check fits one
OUTCOME_MODELLING = ["regression_adjustment", "s_learner", "t_learner", "x_learner",
                     "dr_learner", "r_learner", "causal_forest"]


def _frame(t_rule, n=600, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = t_rule(x1, x2, rng).astype(int)
    return pd.DataFrame({"t": t, "x1": x1, "x2": x2, "y": x1 + t + rng.normal(size=n)})


def _fit(df, method, **extra):
    return causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "x2"],
                              **ADJUSTING[method], **extra)


@pytest.mark.parametrize("method", list(ADJUSTING))
def test_a_separating_covariate_is_an_overlap_error_naming_it(method):
    df = _frame(lambda x1, x2, rng: x2 > 0.2)
    with pytest.raises(OverlapError, match="covariate 'x2' perfectly separates"):
        _fit(df, method)


@pytest.mark.parametrize("method", list(ADJUSTING))
def test_separation_by_a_combination_is_an_overlap_error_naming_both(method):
    """Neither covariate separates on its own, x1 + x2 does: the logistic fit diverges,
    its treated and control scores do not overlap, and the message names the direction."""
    df = _frame(lambda x1, x2, rng: x1 + x2 > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(OverlapError, match=r"no overlap.*loads on 'x\d' \(\d+%\), 'x\d'"):
            _fit(df, method)


def _weak(n=500, seed=1):
    """Strong confounding, no separation: some true scores are beyond 0.01 / 0.99."""
    return _frame(lambda x1, x2, rng: rng.random(len(x1)) < expit(-0.5 + 2.8 * x1 + 0.3 * x2),
                  n=n, seed=seed)


@pytest.mark.parametrize("method", list(ADJUSTING))
def test_weak_overlap_warns_with_the_extent(method):
    df = _weak()
    X = sm.add_constant(df[["x1", "x2"]].to_numpy())
    scores = sm.Logit(df.t.to_numpy(), X).fit(disp=0, tol=1e-12).predict(X)
    outside = int(((scores < 0.01) | (scores > 0.99)).sum())
    assert 10 < outside < 100          # the design is what the test needs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eff = _fit(df, method)
    messages = [str(w.message) for w in caught if "positivity" in str(w.message)]
    assert len(messages) == 1, messages
    found = re.search(r"positivity: (\d+) of 500 propensity scores \((\d+\.\d\d)%\) lie outside "
                      r"\[0.01, 0.99\] \(min ([\d.e-]+), max ([\d.e-]+)\)", messages[0])
    assert found, messages[0]
    count = int(found.group(1))
    assert float(found.group(2)) == pytest.approx(100 * count / 500, abs=0.005)
    diagnosis = eff.diagnostics["overlap"]
    assert diagnosis["status"] == "weak"
    assert diagnosis["n_outside_bounds"] == count
    assert diagnosis["share_outside_bounds"] == pytest.approx(count / 500)
    if method in OUTCOME_MODELLING:
        # the check's own logistic fit: the same count and range as statsmodels'
        assert count == outside
        assert diagnosis["propensity_min"] == pytest.approx(scores.min(), rel=1e-6)
        assert diagnosis["propensity_max"] == pytest.approx(scores.max(), rel=1e-6)
        assert float(found.group(3)) == pytest.approx(scores.min(), rel=1e-2)
    elif method == "ipw":
        assert count == outside    # the full-sample fit; aipw counts out-of-fold scores


@pytest.mark.parametrize("method", list(ADJUSTING))
def test_randomized_assignment_with_covariates_has_complete_overlap(method):
    df = _frame(lambda x1, x2, rng: rng.random(len(x1)) < 0.4)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*(positivity|separat|overlap).*")
        eff = _fit(df, method)
    assert eff.diagnostics["overlap"]["status"] == "complete"
    assert eff.diagnostics["overlap"]["n_outside_bounds"] == 0
    assert 0.2 < eff.diagnostics["overlap"]["propensity_min"] < 0.4


def test_regression_adjustment_without_covariates_needs_no_overlap():
    """The empty adjustment set: a difference in means, complete overlap by definition,
    even when the arms are very unequal in size (2% treated)."""
    rng = np.random.default_rng(4)
    t = (rng.random(1000) < 0.02).astype(int)
    df = pd.DataFrame({"t": t, "y": t + rng.normal(size=1000)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eff = causalkit.estimate(df, "t", "y", method="regression_adjustment")
    assert eff.estimate == pytest.approx(df.y[t == 1].mean() - df.y[t == 0].mean(), abs=1e-12)
    assert eff.diagnostics["overlap"]["status"] == "complete"
    assert eff.diagnostics["overlap"]["model"].startswith("none")


def test_s_learner_no_longer_reports_a_confident_zero_under_separation():
    """The issue's case: one confounder decides treatment; the S-learner's trees never
    split on t and used to report 0.000 with a tight CI, the truth being 1."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 2000)
    t = (x > 0).astype(int)
    df = pd.DataFrame({"t": t, "x": x, "y": 3 * (x > 0) + t + 0.1 * rng.normal(size=2000)})
    with pytest.raises(OverlapError, match="covariate 'x' perfectly separates"):
        causalkit.estimate(df, "t", "y", method="s_learner", covariates=["x"],
                           n_bootstrap=0)


def test_check_overlap_is_unaffected_by_collinear_covariates():
    """A duplicated (rescaled) column spans the same space: the same scores, no singular
    information matrix in the check."""
    df = _weak(seed=2)
    X = df[["x1", "x2"]].to_numpy()
    t = df.t.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = check_overlap(X, t, ["x1", "x2"])
        doubled = check_overlap(np.column_stack([X, 3 * X[:, 0] - X[:, 1]]), t,
                                ["x1", "x2", "x3"])
    assert independent_columns(np.column_stack([X, 3 * X[:, 0] - X[:, 1]])).size == 2
    assert doubled["propensity_min"] == pytest.approx(plain["propensity_min"], rel=1e-8)
    assert doubled["n_outside_bounds"] == plain["n_outside_bounds"]


def _quasi_separated(seed: int = 0, n: int = 673, p: int = 12):
    """A level of a dummy (24 units) holds controls only; the arms overlap elsewhere."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    t = rng.binomial(1, expit(-1.5 + 0.4 * X[:, 0] - 0.3 * X[:, 1]))
    d = np.ones(n)
    d[np.flatnonzero(t == 0)[:24]] = 0.0
    return np.column_stack([X, d]), t


def test_quasi_separation_is_not_reported_as_no_overlap():
    """IHDP-B replication 34 (24 controls with prenatal = 0, no treated) was an OverlapError
    with treated scores "[0.5, 0.5]": one Newton step ran the separating coefficient to 3e17
    and the standardized index cancelled to 0.  The fit must stop at a sane iterate whose
    scores on the overlapping units equal statsmodels' (BFGS, which stops there too)."""
    X, t = _quasi_separated()
    names = [f"x{j}" for j in range(X.shape[1] - 1)] + ["dummy"]
    with pytest.warns(UserWarning):
        diag = check_overlap(X, t, names)
    assert diag["n_single_arm"] == 24      # the dummy's controls-only level, at score 0
    ref = sm.Logit(t, sm.add_constant(X)).fit(disp=0, method="bfgs", maxiter=2000,
                                              gtol=1e-10).predict()
    assert diag["propensity_min_treated"] == pytest.approx(ref[t == 1].min(), rel=1e-3)
    assert diag["propensity_max_control"] == pytest.approx(ref[t == 0].max(), rel=1e-3)


@pytest.mark.parametrize("method", ["aipw", "ipw"])
def test_estimators_run_under_quasi_separation_and_say_so(method):
    X, t = _quasi_separated(1)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]).assign(t=t)
    df["y"] = 1.0 * t + df["x0"] + np.random.default_rng(2).normal(size=len(df))
    with pytest.warns(UserWarning, match="quasi-separat"):
        effect = causalkit.estimate(df, "t", "y", method=method,
                                    covariates=[c for c in df if c.startswith("x")])
    assert np.isfinite(effect.estimate) and np.isfinite(effect.std_error)


def test_exact_zero_scores_are_clipped_when_asked_and_refused_otherwise():
    """A fully grown tree gives scores of exactly 0 and 1: an infinite inverse weight.  AIPW
    clips to [0.01, 0.99] by default, which bounds it (a warning with the count, as DoubleML
    clips); with clip=None nothing bounds it, so it is an OverlapError."""
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(5)
    n = 600
    x = rng.normal(size=(n, 2))
    t = rng.binomial(1, expit(0.5 * x[:, 0]))
    df = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "t": t})
    df["y"] = t + x[:, 0] + rng.normal(size=n)
    tree = DecisionTreeClassifier(random_state=0)
    with pytest.warns(UserWarning, match="exactly 0"):
        effect = causalkit.estimate(df, "t", "y", method="aipw", covariates=["x0", "x1"],
                                    propensity_model=tree)
    assert np.isfinite(effect.estimate) and effect.diagnostics["overlap"]["n_degenerate"] > 0
    with pytest.raises(OverlapError, match="exactly 0"):
        causalkit.estimate(df, "t", "y", method="aipw", covariates=["x0", "x1"],
                           propensity_model=tree, clip=None)
