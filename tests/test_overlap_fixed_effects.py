"""The overlap check on a design of many category dummies (fixed effects).

Cinelli & Hazlett's Darfur regression adjusts for 486 village dummies; most villages hold
one arm only, so each such dummy quasi-separates the arms and the unpenalized logistic MLE
of the overlap check does not exist (its information matrix was singular and the check
raised before the regression ran).  The check now gives the units of one-arm categories
their limiting score (0 or 1: the extended MLE, Albert & Anderson 1984), fits the logistic
to the other units, and reports weak overlap; a design whose categories leave no unit with
both arms is still an OverlapError.  References: statsmodels' OLS with the categories as
fixed effects and statsmodels' Logit on the units of mixed categories.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import causalkit
from causalkit.errors import OverlapError
from causalkit.overlap import check_overlap, single_arm_units


def _villages(seed=0, n_villages=40, size=6, one_arm=True):
    """Villages of ``size`` units: village 0 and a third of the others mixed (3 treated,
    3 control), the rest all treated or all control (``one_arm=False``: all mixed)."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 3, n_villages) if one_arm else np.full(n_villages, 2)
    kind[0] = 2
    t = np.concatenate([np.full(size, 1) if k == 0 else np.full(size, 0) if k == 1
                        else rng.permutation(np.arange(size) % 2) for k in kind])
    village = np.repeat(np.arange(n_villages), size)
    x = rng.normal(size=len(t))
    y = 0.5 * t + x + rng.normal(size=n_villages)[village] + rng.normal(size=len(t))
    df = pd.DataFrame({"t": t, "x": x, "y": y, "village": village})
    dummies = pd.get_dummies(df.village, prefix="v", drop_first=True, dtype=float)
    return pd.concat([df, dummies], axis=1), ["x"] + list(dummies.columns)


def test_one_arm_categories_get_their_limiting_score_and_the_rest_the_logistic_mle():
    df, covs = _villages()
    X, t = df[covs].to_numpy(), df.t.to_numpy()
    share = df.groupby("village").t.transform("mean")
    one_arm = ((share == 0) | (share == 1)).to_numpy()
    n_one_arm_villages = int(df[one_arm].village.nunique())
    assert 10 < n_one_arm_villages < 35                        # the design the test needs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diag = check_overlap(X, t, covs)
    messages = [str(w.message) for w in caught]
    quasi = [m for m in messages if "quasi-separate" in m]
    assert len(quasi) == 1 and quasi[0].startswith(f"{n_one_arm_villages} covariates")
    assert sum("positivity" in m for m in messages) == 1
    assert diag["n_single_arm"] == one_arm.sum()
    assert sorted(diag["single_arm_covariates"]) == sorted(
        f"v_{v}" for v in df[one_arm].village.unique())
    assert diag["status"] == "weak" and diag["n_outside_bounds"] >= one_arm.sum()
    assert diag["propensity_min"] == 0.0 and diag["propensity_max"] == 1.0
    mask, _ = single_arm_units(X, t)
    assert (mask == one_arm).all()
    # the other units: statsmodels' logistic MLE on the mixed villages
    rest = df[~one_arm]
    Z = sm.add_constant(pd.get_dummies(rest.village, prefix="v", drop_first=True,
                                       dtype=float).assign(x=rest.x))
    ref = sm.Logit(rest.t, Z).fit(disp=0, tol=1e-12).predict(Z)
    on = rest.t.to_numpy() == 1
    assert diag["propensity_min_treated"] == pytest.approx(ref[on].min(), rel=1e-6)
    assert diag["propensity_max_control"] == pytest.approx(ref[~on].max(), rel=1e-6)


def test_fixed_effects_regression_runs_and_equals_statsmodels():
    df, covs = _villages(seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=covs,
                                 interacted=False, cov_type="nonrobust")
    ref = smf.ols("y ~ t + x + C(village)", data=df).fit()
    assert eff.estimate == pytest.approx(ref.params["t"], rel=1e-9)
    assert eff.std_error == pytest.approx(ref.bse["t"], rel=1e-9)
    assert eff.diagnostics["overlap"]["n_single_arm"] > 0


def test_all_mixed_categories_need_no_special_handling():
    df, covs = _villages(seed=2, one_arm=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*quasi-separate.*")
        diag = check_overlap(df[covs].to_numpy(), df.t.to_numpy(), covs, warn=False)
    assert diag["n_single_arm"] == 0 and "limiting score" not in diag["model"]


def test_categories_that_leave_no_mixed_unit_are_still_no_overlap():
    """Every village holds one arm only: the dummies together separate the arms."""
    rng = np.random.default_rng(3)
    village = np.repeat(np.arange(30), 5)
    arm = rng.integers(0, 2, 30)
    arm[:2] = [1, 0]
    df = pd.DataFrame({"t": arm[village], "x": rng.normal(size=150), "village": village})
    dummies = pd.get_dummies(df.village, prefix="v", drop_first=True, dtype=float)
    df = pd.concat([df, dummies], axis=1).assign(y=lambda d: d.t + d.x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(OverlapError, match=r"no overlap: the covariates 'v_\d+'"):
            causalkit.estimate(df, "t", "y", method="regression_adjustment",
                               covariates=["x"] + list(dummies.columns), interacted=False)


def test_the_ridge_fallback_is_scikit_learns_penalized_logistic():
    """The check's fallback when the unpenalized information is singular: ridge-logistic
    regression on standardized covariates, scikit-learn's ``C = 1 / ridge``."""
    from sklearn.linear_model import LogisticRegression

    from causalkit.logistic import StandardizedDesign, fit_logistic

    df, covs = _villages(seed=4)
    X, t = df[covs].to_numpy(), df.t.to_numpy()
    design = StandardizedDesign(X)
    beta, ok = fit_logistic(design, t, ridge=2.0)
    assert ok
    ref = LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(design.matrix()[:, 1:], t)
    np.testing.assert_allclose(beta[1:], ref.coef_[0], atol=1e-6)
    assert beta[0] == pytest.approx(ref.intercept_[0], abs=1e-6)


def test_a_covariate_separating_what_the_one_arm_categories_leave_is_no_overlap():
    """x1 = 1 holds treated units only; among the others x2 separates the arms (but not
    overall): every unit is where one arm only occurs."""
    rng = np.random.default_rng(5)
    n = 200
    x1 = (rng.random(n) < 0.3).astype(float)
    x2 = rng.normal(size=n)
    t = np.where(x1 == 1, 1, (x2 < 0).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(OverlapError, match="no overlap: the covariates 'x1', 'x2'"):
            check_overlap(np.column_stack([x1, x2]), t, ["x1", "x2"])
