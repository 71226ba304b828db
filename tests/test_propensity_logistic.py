"""The default propensity model's Newton fit against statsmodels' Logit MLE."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import expit

from causalkit.errors import EstimationError
from causalkit.estimators import _propensity as P


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
