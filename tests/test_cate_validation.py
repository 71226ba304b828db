"""CATE validation (BLP calibration, GATES, RATE) against statsmodels and brute force."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalkit
from causalkit.cate import calibration, gates, rate
from causalkit.cate._scores import effect_scores
from causalkit.cate.validation import quantile_groups, rate_estimate, toc_curve
from causalkit.errors import DataError, OptionError

COVS = ["x1", "x2"]


def _draw(n, seed):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=(2, n))
    t = rng.binomial(1, 1 / (1 + np.exp(-0.4 * x2)))
    return pd.DataFrame({"x1": x1, "x2": x2, "t": t,
                         "y": x2 + t * (1.0 + x1) + rng.normal(size=n)})


@pytest.fixture(scope="module")
def fitted():
    train, test = _draw(1500, 0), _draw(1500, 1)
    eff = causalkit.estimate(train, "t", "y", method="dr_learner", covariates=COVS,
                             outcome_model=LinearRegression(), final_model=LinearRegression(),
                             propensity_model=LogisticRegression(), cv=2)
    return eff, test


def test_blp_equals_statsmodels_on_the_same_scores(fitted):
    eff, test = fitted
    res = calibration(eff, test)
    scores = effect_scores(eff, test)
    tau = eff.predict_cate(test)
    ols = sm.OLS(scores.psi, sm.add_constant(tau - tau.mean())).fit(cov_type="HC2")
    assert res.table["estimate"].to_numpy() == pytest.approx(ols.params, rel=1e-9)
    assert res.table["std_error"].to_numpy() == pytest.approx(ols.bse, rel=1e-9)
    # a well-specified learner is calibrated: beta_2 near 1, heterogeneity detected
    assert abs(res.table.loc["HTE", "estimate"] - 1) < 3 * res.table.loc["HTE", "std_error"]
    assert res.p_value_heterogeneity < 1e-6
    assert abs(res.table.loc["ATE", "estimate"] - 1) < 0.2
    assert "HTE" in str(res)


def test_blp_of_noise_predictions_finds_no_heterogeneity():
    test = _draw(1500, 2)
    rng = np.random.default_rng(3)
    noise = rng.normal(size=len(test))
    eff = causalkit.Effect.from_estimate(method="t_learner", estimand="ATE", estimate=1.0,
                                         std_error=0.1, treatment="t", outcome="y",
                                         covariates=tuple(COVS),
                                         cate_predictor=lambda d: noise[: len(d)])
    res = calibration(eff, test)
    assert abs(res.table.loc["HTE", "estimate"]) < 3 * res.table.loc["HTE", "std_error"]


def test_gates_equal_statsmodels_group_regression(fitted):
    eff, test = fitted
    res = gates(eff, test, n_groups=4)
    scores = effect_scores(eff, test)
    tau = eff.predict_cate(test)
    group = pd.qcut(tau, 4, labels=False)          # independent quantile grouping
    assert np.array_equal(group, quantile_groups(tau, 4))
    dummies = pd.get_dummies(group).to_numpy(float)
    ols = sm.OLS(scores.psi, dummies).fit(cov_type="HC2")
    assert res.table["estimate"].to_numpy() == pytest.approx(ols.params, rel=1e-9)
    assert res.table["std_error"].to_numpy() == pytest.approx(ols.bse, rel=1e-9)
    contrast = np.r_[-1, 0, 0, 1]
    assert res.difference["estimate"] == pytest.approx(contrast @ ols.params, rel=1e-9)
    assert res.difference["std_error"] == pytest.approx(
        np.sqrt(contrast @ ols.cov_params() @ contrast), rel=1e-9)
    assert res.table["estimate"].is_monotonic_increasing   # tau = 1 + x1 sorted by groups


def _rate_brute(psi, priority, target):
    """TOC by explicit top-k means at every q = k/n, then the (weighted) average."""
    n = len(psi)
    order = sorted(range(n), key=lambda i: -priority[i])
    total = 0.0
    for k in range(1, n + 1):
        top = [psi[i] for i in order[:k]]
        toc = sum(top) / k - sum(psi) / n
        total += toc * (1.0 if target == "AUTOC" else k / n)
    return total / n


@pytest.mark.parametrize("target", ["AUTOC", "QINI"])
def test_rate_equals_brute_force(target):
    rng = np.random.default_rng(5)
    psi, prio = rng.normal(size=150), rng.normal(size=150)
    assert rate_estimate(psi, prio, target) == pytest.approx(
        _rate_brute(list(psi), list(prio), target), abs=1e-12)


@pytest.mark.parametrize("target", ["AUTOC", "QINI"])
def test_rate_with_ties_is_the_mean_over_tie_orderings(target):
    psi = np.array([2.0, -1.0, 0.5, 3.0, -2.0, 1.0, 0.0])
    prio = np.array([5.0, 3.0, 3.0, 3.0, 1.0, 0.0, 4.0])     # a tie block of three
    tied = [1, 2, 3]
    values = []
    for perm in itertools.permutations(tied):
        p = prio.copy()
        for rank, i in enumerate(perm):
            p[i] = 3.0 + 0.01 * rank                          # one ordering of the block
        values.append(_rate_brute(list(psi), list(p), target))
    assert rate_estimate(psi, prio, target) == pytest.approx(np.mean(values), abs=1e-12)


def test_rate_of_an_effect_with_bootstrap_se(fitted):
    eff, test = fitted
    res = rate(eff, test, n_bootstrap=100)
    scores = effect_scores(eff, test)
    tau = eff.predict_cate(test)
    assert res.estimate == pytest.approx(rate_estimate(scores.psi, tau), abs=1e-12)
    # the bootstrap SE by hand, with the same generator
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(100):
        idx = rng.integers(0, len(tau), len(tau))
        draws.append(rate_estimate(scores.psi[idx], tau[idx]))
    assert res.std_error == pytest.approx(np.std(draws, ddof=1), rel=1e-12)
    assert res.estimate > 3 * res.std_error                 # a real signal is detected
    qini = rate(eff, test, target="QINI", n_bootstrap=50)
    assert 0 < qini.estimate < res.estimate
    assert toc_curve(scores.psi, tau).shape == (len(tau), 2)


def test_in_sample_validation_warns_and_bad_options_are_refused(fitted):
    eff, test = fitted
    with pytest.warns(UserWarning, match="optimistic"):
        calibration(eff)
    with pytest.raises(OptionError, match="target"):
        rate(eff, test, target="AUC")
    with pytest.raises(OptionError, match="n_groups"):
        gates(eff, test, n_groups=1)
    const = causalkit.Effect.from_estimate(method="s_learner", estimand="ATE", estimate=1.0,
                                           std_error=0.1, treatment="t", outcome="y",
                                           covariates=tuple(COVS),
                                           cate_predictor=lambda d: np.ones(len(d)))
    with pytest.raises(DataError, match="constant"):
        calibration(const, test)
    with pytest.raises(DataError, match="fewer than 2"):
        gates(const, test)
    with pytest.raises(DataError, match="no per-unit CATE"):
        rate(const)
