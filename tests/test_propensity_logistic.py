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
