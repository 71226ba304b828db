"""Frequentist guarantees of the randomized baseline, checked by simulation.

4,000 completely randomized experiments per scenario: the Monte-Carlo standard
error of a rate near 0.05 is sqrt(0.05 * 0.95 / 4000) = 0.0034, so the issue's
windows [0.04, 0.06] and [0.94, 0.96] are about +/- 2.9 Monte-Carlo SE.
"""

import numpy as np
import pandas as pd
import pytest

import causalkit

REPS = 4000
N = 200


def _experiments(effect, seed):
    rng = np.random.default_rng(seed)
    for _ in range(REPS):
        x = rng.normal(size=N)
        t = rng.permutation(np.repeat([0, 1], N // 2))
        y = 2.0 * x + effect * t + rng.normal(size=N) * (1.0 + 0.5 * t)
        yield pd.DataFrame({"t": t, "x": x, "y": y})


def _run(effect, seed):
    rejections = {"difference_in_means": 0, "regression_adjustment": 0}
    covered = dict.fromkeys(rejections, 0)
    se_sum = dict.fromkeys(rejections, 0.0)
    for df in _experiments(effect, seed):
        for method in rejections:
            covs = ["x"] if method == "regression_adjustment" else None
            eff = causalkit.estimate(df, "t", "y", method=method, covariates=covs)
            rejections[method] += eff.p_value < 0.05
            covered[method] += eff.ci_low <= effect <= eff.ci_high
            se_sum[method] += eff.std_error
    return ({k: v / REPS for k, v in rejections.items()},
            {k: v / REPS for k, v in covered.items()},
            {k: v / REPS for k, v in se_sum.items()})


@pytest.fixture(scope="module")
def null_runs():
    return _run(0.0, seed=2024)


@pytest.fixture(scope="module")
def effect_runs():
    return _run(0.7, seed=2025)


@pytest.mark.parametrize("method", ["difference_in_means", "regression_adjustment"])
def test_false_positive_rate_is_nominal(null_runs, method):
    fpr = null_runs[0][method]
    assert 0.04 <= fpr <= 0.06, fpr


@pytest.mark.parametrize("method", ["difference_in_means", "regression_adjustment"])
def test_confidence_interval_coverage_is_nominal(effect_runs, method):
    coverage = effect_runs[1][method]
    assert 0.94 <= coverage <= 0.96, coverage


def test_lin_is_more_precise_when_covariates_predict_outcome(effect_runs):
    se = effect_runs[2]
    # x explains 4/5 of the outcome variance: Lin's SE should be about half the DiM one.
    assert se["regression_adjustment"] < 0.7 * se["difference_in_means"], se
