"""Statistical claims checked by vectorized simulation (10,000 experiments each).

With 10,000 A/A tests the Monte Carlo SE of a 5% false-positive rate is
sqrt(0.05 * 0.95 / 10000) = 0.0022, so the acceptance band [0.043, 0.057] is
+-3.2 SE: a correct test fails it with probability ~0.1%, seeds are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalkit.experiments import Metric, Moments, compare
from causalkit.experiments.sequential import group_sequential, msprt, planned_mixing_variance

SIMS = 10_000


def test_aa_false_positive_rate_means_skewed_data():
    rng = np.random.default_rng(10)
    y = rng.exponential(1.0, size=(SIMS, 2, 200, 1))         # skewed metric, n = 200 per arm
    m = Moments.from_rows(y)                                   # batch (SIMS, 2)
    r = compare(m.take(1, axis=1), m.take(0, axis=1), Metric("y", kind="mean"))
    fpr = float(np.mean(r.p_value < 0.05))
    assert 0.043 <= fpr <= 0.057, fpr


def test_aa_false_positive_rate_proportions():
    rng = np.random.default_rng(11)
    n = 2000
    x = rng.binomial(n, 0.1, size=(SIMS, 2)).astype(float)    # conversions per arm
    m = Moments.from_sums(np.full((SIMS, 2), n), x[..., None], x[..., None, None])
    r = compare(m.take(1, axis=1), m.take(0, axis=1), Metric("c", kind="proportion"))
    fpr = float(np.mean(r.p_value < 0.05))
    assert 0.043 <= fpr <= 0.057, fpr


def _peeking_moments(rng, looks=10, batch=100):
    """Per-look batches of N(0,1) data per arm, as sufficient statistics, merged cumulatively."""
    shape = (SIMS, looks)
    arms = []
    for _ in range(2):
        mean = rng.normal(0.0, 1.0 / np.sqrt(batch), size=shape)
        m2 = rng.chisquare(batch - 1, size=shape)              # (n-1) s^2 for sd 1
        mom = Moments(np.full(shape, float(batch)), mean[..., None], m2[..., None, None])
        arms.append(mom.cumulative(axis=1))
    return arms


def test_peeking_inflates_fixed_horizon_but_not_always_valid_p():
    rng = np.random.default_rng(12)
    control, treat = _peeking_moments(rng)
    r = compare(treat, control, Metric("y"))                   # fixed-horizon Welch at each look
    final_only = float(np.mean(r.p_value[:, -1] < 0.05))
    peeking = float(np.mean((r.p_value < 0.05).any(axis=1)))
    assert 0.043 <= final_only <= 0.057
    assert peeking > 0.12            # ~0.19 in theory for 10 equally spaced looks
    # mixing variance fixed in advance from the plan: sd 1, 1000 units per arm at the end
    av = msprt(r.estimate, r.std_error ** 2, alpha=0.05,
               mixing_variance=planned_mixing_variance(1.0, 1000))
    av_rate = float(np.mean((av.p_value <= 0.05).any(axis=1)))
    assert av_rate <= 0.05
    # the confidence sequence covers the true effect 0 at all looks simultaneously
    covered = np.all((av.ci_low <= 0) & (av.ci_high >= 0), axis=1)
    assert float(np.mean(covered)) >= 0.95
    # the always-valid p-value is a running minimum: it can only decrease
    assert np.all(np.diff(av.p_value, axis=1) <= 0)


def test_always_valid_p_has_power_under_an_effect():
    rng = np.random.default_rng(13)
    control, treat = _peeking_moments(rng)
    shifted = Moments(treat.n, treat.mean + 0.25, treat.comoment)
    r = compare(shifted, control, Metric("y"))
    av = msprt(r.estimate, r.std_error ** 2, mixing_variance=planned_mixing_variance(1.0, 1000))
    assert float(np.mean(av.p_value[:, -1] <= 0.05)) > 0.8
    # the retrospective default (tuned on the last look given) is the same tuning here
    default = msprt(r.estimate, r.std_error ** 2)
    assert float(np.median(default.mixing_variance)) == pytest.approx(
        planned_mixing_variance(1.0, 1000), rel=0.05)


def test_group_sequential_boundaries_keep_alpha_by_brownian_simulation():
    design = group_sequential(5, alpha=0.05, spending="obrien_fleming")
    # published Lan-DeMets O'Brien-Fleming boundaries, K = 5, two-sided 0.05 (gsDesign/rpact)
    np.testing.assert_allclose(design.boundaries, [4.8769, 3.3569, 2.6803, 2.2898, 2.0310],
                               atol=2e-4)
    poc = group_sequential(5, alpha=0.05, spending="pocock")
    np.testing.assert_allclose(poc.boundaries, [2.4380, 2.4268, 2.4102, 2.3966, 2.3860], atol=2e-4)
    rng = np.random.default_rng(14)
    paths = 200_000                                            # MC SE of 0.05: 0.0005
    incr = rng.standard_normal((paths, 5)) * np.sqrt(0.2)
    z = np.cumsum(incr, axis=1) / np.sqrt(np.arange(1, 6) * 0.2)
    for d in (design, poc):
        crossed = np.mean((np.abs(z) >= d.boundaries).any(axis=1))
        assert abs(crossed - 0.05) < 0.0025
    # unequal looks: the first boundary is the closed-form quantile of the first spend
    from scipy import stats
    uneq = group_sequential([0.3, 0.7, 1.0], spending="obrien_fleming")
    first = stats.norm.isf(2 * stats.norm.sf(stats.norm.isf(0.0125) / np.sqrt(0.3)))
    assert uneq.boundaries[0] == pytest.approx(first, rel=1e-9)
    assert uneq.first_crossing([1.0, 2.5, 1.0]) == 1


def test_cuped_keeps_fpr_and_shrinks_variance_by_one_minus_rho_squared():
    rng = np.random.default_rng(15)
    rho, n = 0.7, 100
    x = rng.standard_normal((SIMS, 2, n))
    y = rho * x + np.sqrt(1 - rho ** 2) * rng.standard_normal((SIMS, 2, n)) + 5.0
    m = Moments.from_rows(np.stack([y, x], axis=-1))
    cuped = compare(m.take(1, axis=1), m.take(0, axis=1), Metric("y", covariate="x"))
    raw = compare(m.take(1, axis=1).select([0]), m.take(0, axis=1).select([0]), Metric("y"))
    fpr = float(np.mean(cuped.p_value < 0.05))
    assert 0.043 <= fpr <= 0.057, fpr
    target = 1 - rho ** 2
    # reported variance ratio and the realized variance ratio of the estimates across runs
    assert float(np.mean(cuped.std_error ** 2 / raw.std_error ** 2)) == pytest.approx(target, abs=0.02)
    assert float(np.var(cuped.estimate) / np.var(raw.estimate)) == pytest.approx(target, abs=0.04)
    assert float(np.mean(cuped.variance_reduction)) == pytest.approx(rho ** 2, abs=0.02)
