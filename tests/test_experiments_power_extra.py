"""Power for ratio and CUPED metrics, and conditional power: closed forms, statsmodels, simulation."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from causalkit.errors import OptionError
from causalkit.experiments import (conditional_power, cuped_sd, ratio_sd, ratio_sd_from_data,
                                   sample_size_cuped, sample_size_means, sample_size_ratio)


def test_ratio_sd_matches_simulated_variance_of_the_ratio_estimator():
    rng = np.random.default_rng(0)
    n, reps = 400, 3000
    den = rng.poisson(5, size=(reps, n)) + 1.0
    num = rng.binomial(den.astype(int), 0.3) + rng.normal(0, 0.5, size=(reps, n))
    sim_sd = np.std(num.sum(1) / den.sum(1), ddof=1) * math.sqrt(n)
    sd = ratio_sd_from_data(num[0], den[0])
    # one sample of 400 estimates the SD to ~4%; the simulation's SD has ~1.3% MC error
    assert sd == pytest.approx(sim_sd, rel=0.12)
    pooled = ratio_sd_from_data(num.ravel(), den.ravel())
    assert pooled == pytest.approx(sim_sd, rel=0.04)


def test_ratio_sample_size_is_normal_ind_power_with_the_delta_sd():
    rng = np.random.default_rng(1)
    den = rng.poisson(4, 5000) + 1.0
    num = rng.binomial(den.astype(int), 0.2).astype(float)
    sd = ratio_sd_from_data(num, den)
    n = NormalIndPower().solve_power(effect_size=0.01 / sd, alpha=0.05, power=0.8)
    assert sample_size_ratio(0.01, num, den).n_control == math.ceil(n)


@pytest.mark.parametrize("rho", [0.3, 0.7, -0.5])
def test_cuped_sample_size_scales_by_one_minus_rho_squared(rho):
    n = NormalIndPower().solve_power(effect_size=0.05 / (2.0 * math.sqrt(1 - rho ** 2)),
                                     alpha=0.05, power=0.9)
    assert sample_size_cuped(0.05, 2.0, rho, power=0.9).n_control == math.ceil(n)
    ratio = sample_size_cuped(0.05, 2.0, rho).n_control / sample_size_means(0.05, 2.0).n_control
    assert ratio == pytest.approx(1 - rho ** 2, rel=1e-3)


def test_cuped_sd_from_pre_period_data():
    rng = np.random.default_rng(2)
    x = rng.normal(size=3000)
    y = 2 * x + rng.normal(size=3000)
    r = np.corrcoef(x, y)[0, 1]
    assert cuped_sd(metric=y, covariate=x) == pytest.approx(np.std(y, ddof=1) * math.sqrt(1 - r * r))
    with pytest.raises(OptionError):
        cuped_sd(1.0, 0.5, metric=y, covariate=x)
    with pytest.raises(OptionError):
        cuped_sd(1.0, 1.0)


def test_conditional_power_closed_form_and_simulation():
    # closed form of Jennison & Turnbull (2000, sec. 10.1): at t = 1/2, Z_t = 1, current trend
    t, z = 0.5, 1.0
    theta = z / math.sqrt(t)
    c = stats.norm.isf(0.025)
    ref = stats.norm.sf((c - z * math.sqrt(t) - theta * (1 - t)) / math.sqrt(1 - t))
    got = conditional_power(z, t, drift="current", alternative="larger", alpha=0.025)
    assert got == pytest.approx(ref, rel=1e-12)
    # simulation: an experiment halfway through; continue it under the planned effect many times
    rng = np.random.default_rng(3)
    n_half, delta, sd = 500, 0.12, 1.0
    yt, yc = rng.normal(delta, sd, n_half), rng.normal(0, sd, n_half)
    se_final = sd * math.sqrt(2 / (2 * n_half))
    z_t = (yt.mean() - yc.mean()) / (sd * math.sqrt(2 / n_half))
    reps = 20000
    mt = (yt.sum() + rng.normal(delta * n_half, sd * math.sqrt(n_half), reps)) / (2 * n_half)
    mc = (yc.sum() + rng.normal(0, sd * math.sqrt(n_half), reps)) / (2 * n_half)
    sim = np.mean(np.abs((mt - mc) / se_final) > stats.norm.isf(0.025))
    cp = conditional_power(z_t, 0.5, drift=delta / se_final)
    assert cp == pytest.approx(sim, abs=0.015)     # MC SE <= 0.0035
    with pytest.raises(OptionError, match="information"):
        conditional_power(1.0, 1.0)
    with pytest.raises(OptionError, match="drift"):
        conditional_power(1.0, 0.5, drift="planned")


def test_ratio_sd_bad_input():
    with pytest.raises(OptionError, match="non-zero"):
        ratio_sd(1.0, 0.0, 1.0, 1.0, 0.0)
    with pytest.raises(OptionError, match="positive"):
        ratio_sd(1.0, 1.0, 1.0, 1.0, 1.0)
