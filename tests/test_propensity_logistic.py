"""The default propensity model's Newton fit against statsmodels' Logit MLE."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import expit

from causalkit.errors import EstimationError
from causalkit.backdoor import _propensity as P


@pytest.mark.parametrize("seed", [0, 1])
def test_newton_fit_equals_statsmodels_logit(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    X = rng.normal(size=(n, 4)) * np.array([1.0, 5.0, 0.2, 30.0]) + np.array([0, 2, -1, 100])
    eta = -0.4 + X @ np.array([0.8, -0.1, 2.0, 0.01]) - 1.0
    t = (rng.random(n) < expit(eta)).astype(int)
    fit = P.fit_propensity(X, t, ["a", "b", "c", "d"], warn=False)
    ref = sm.Logit(t, sm.add_constant(X)).fit(disp=0, tol=1e-14, maxiter=100)
    np.testing.assert_allclose(fit.raw_scores, ref.predict(), rtol=0, atol=1e-8)
    # coefficients on the standardized design map back to statsmodels' raw-scale ones
    beta = P.logistic_newton(fit.design, t)
    scale = X.std(axis=0)
    np.testing.assert_allclose(beta[1:] / scale, ref.params[1:], rtol=1e-8)
    assert fit.is_default_logistic


def test_newton_fit_reports_nonconvergence_on_separation():
    Z = np.column_stack([np.ones(6), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]])
    with pytest.raises(EstimationError, match="converge"):
        P.logistic_newton(Z, np.array([0, 0, 0, 1, 1, 1]), max_iter=25)


@pytest.mark.parametrize("offset", [3.0, 1e6])
def test_standardized_design_products_equal_the_explicit_matrix(offset):
    """dot, tdot (vector and matrix), gram and rows of the implicit design [1, (X - m) / s]
    against the explicit matrix, with a covariate whose mean is 10^6 times its SD (the
    blockwise gram centres exactly, so it loses no precision)."""
    from causalkit.logistic import StandardizedDesign

    rng = np.random.default_rng(4)
    n = 70_000                                   # more than one block of rows
    X = np.column_stack([rng.normal(size=n), offset + rng.normal(size=n),
                         rng.exponential(size=n) * 50])
    design = StandardizedDesign(X)
    assert design.far_from_zero == (offset > 1e3)
    Z = np.column_stack([np.ones(n), (X - X.mean(axis=0)) / X.std(axis=0)])
    beta, a, A = rng.normal(size=4), rng.normal(size=n), rng.normal(size=(n, 2))
    w = rng.random(n)
    np.testing.assert_allclose(design.matrix(), Z, rtol=0, atol=1e-9)
    np.testing.assert_allclose(design.dot(beta), Z @ beta, rtol=0, atol=1e-8)
    np.testing.assert_allclose(design.tdot(a), Z.T @ a, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(design.tdot(A), Z.T @ A, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(design.gram(w), (Z * w[:, None]).T @ Z, rtol=1e-10)
    keep = rng.random(n) < 0.3
    np.testing.assert_allclose(design.rows(keep).matrix(), Z[keep], rtol=0, atol=1e-9)


def test_warm_started_newton_equals_statsmodels(monkeypatch):
    """The subsample warm start and chord steps reach the same MLE (forced here at n = 4,000
    by shrinking the subsample size)."""
    from causalkit import logistic as _logistic

    monkeypatch.setattr(_logistic, "WARM_START_ROWS", 300)
    rng = np.random.default_rng(7)
    n = 4000
    X = rng.normal(size=(n, 3)) * np.array([1.0, 3.0, 0.5]) + np.array([0.0, 10.0, -2.0])
    t = (rng.random(n) < expit(0.3 + X @ np.array([0.7, -0.2, 1.1]) + 2.0)).astype(int)
    design = _logistic.StandardizedDesign(X)
    beta = _logistic.logistic_newton(design, t)
    ref = sm.Logit(t, sm.add_constant(X)).fit(disp=0, tol=1e-14, maxiter=100)
    np.testing.assert_allclose(expit(design.dot(beta)), ref.predict(), rtol=0, atol=1e-9)


def test_a_singular_fold_falls_back_to_the_ridge_logistic(monkeypatch):
    """When a training fold's information matrix turns singular (forced here), the fold's
    scores are the ridge-penalized logistic's: equal to scikit-learn's LogisticRegression(C=1)
    on the fold's standardized columns (population SD, as StandardizedDesign)."""
    import warnings as _warnings

    import numpy as _np
    from sklearn.linear_model import LogisticRegression as _LR

    import causalkit.backdoor._propensity as prop
    from causalkit.errors import SingularInformationError as _EE

    rng = _np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    t = rng.binomial(1, 1 / (1 + _np.exp(-X[:, 0])))

    def singular(*args, **kwargs):
        raise _EE("the logistic propensity model is singular (collinear covariates?)")

    monkeypatch.setattr(prop, "converged_logistic", singular)
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        ours = prop.default_logistic_scores(X[:300], t[:300], X[300:])
    assert any("ridge-penalized" in str(w.message) for w in caught)
    mu, sd = X[:300].mean(axis=0), X[:300].std(axis=0)
    ref = _LR(C=1.0, tol=1e-12, max_iter=10_000).fit((X[:300] - mu) / sd, t[:300])
    _np.testing.assert_allclose(ours, ref.predict_proba((X[300:] - mu) / sd)[:, 1], atol=1e-6)
