"""Exact Beta–Binomial decisions and the unpooled two-proportion test (issue 13, item 7)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from statsmodels.stats import proportion as smprop

from causalkit.errors import OptionError
from causalkit.experiments import Metric, Moments, analyze, beta_binomial, compare, normal_means


def _p_b_beats_a(aa, ba, ab, bb):
    """P(p_B > p_A) for Beta(aa, ba) and Beta(ab, bb) with integer ab (Evan Miller's closed form)."""
    return math.fsum(math.exp(special.betaln(aa + i, ba + bb) - math.log(bb + i)
                              - special.betaln(1 + i, bb) - special.betaln(aa, ba))
                     for i in range(int(ab)))


def _loss_of_a(aa, ba, ab, bb):
    """E[(p_B - p_A)^+] in closed form: E[p_B 1{p_B > p_A}] - E[p_A 1{p_B > p_A}], each a size-biased
    Beta (E[p g(p)] = mean * E[g(p')] with p' ~ Beta(a + 1, b)) fed to Evan Miller's formula."""
    mean_a, mean_b = aa / (aa + ba), ab / (ab + bb)
    return mean_b * _p_b_beats_a(aa, ba, ab + 1, bb) - mean_a * (1 - _p_b_beats_a(ab, bb, aa + 1, ba))


@pytest.mark.parametrize("x,n", [([40, 52], [400, 410]), ([1000, 1100], [10000, 10000]),
                                 ([3, 0], [10, 12]), ([5000, 4950], [50000, 50000])])
def test_two_arm_prob_best_and_loss_match_closed_forms(x, n):
    r = beta_binomial(x, n, labels=["A", "B"])
    aa, ba, ab, bb = 1 + x[0], 1 + n[0] - x[0], 1 + x[1], 1 + n[1] - x[1]
    exact = _p_b_beats_a(aa, ba, ab, bb)
    assert r.loc["B", "prob_best"] == pytest.approx(exact, abs=1e-10)
    assert r.loc["A", "prob_best"] == pytest.approx(1 - exact, abs=1e-10)
    assert r.loc["A", "expected_loss"] == pytest.approx(_loss_of_a(aa, ba, ab, bb), abs=1e-10)
    assert r.loc["B", "expected_loss"] == pytest.approx(_loss_of_a(ab, bb, aa, ba), abs=1e-10)
    # E[max] - E[p_k] is the same loss: the two losses differ by the posterior means
    assert r.loc["A", "expected_loss"] - r.loc["B", "expected_loss"] == pytest.approx(
        r.loc["B", "posterior_mean"] - r.loc["A", "posterior_mean"], abs=1e-10)
    again = beta_binomial(x, n, labels=["A", "B"])
    pd.testing.assert_frame_equal(r, again)                       # deterministic: no sampling


def test_k_arms_against_high_precision_monte_carlo():
    x, n, prior = [120, 131, 109, 140], [1000, 1010, 990, 1020], (0.5, 0.5)
    r = beta_binomial(x, n, prior=prior)
    a = prior[0] + np.asarray(x, float)
    b = prior[1] + np.asarray(n, float) - np.asarray(x, float)
    draws = np.random.default_rng(20240613).beta(a, b, size=(1_000_000, 4))
    best = draws.argmax(axis=1)
    p_mc = np.bincount(best, minlength=4) / len(draws)
    loss_draws = draws.max(axis=1, keepdims=True) - draws
    se_p = np.sqrt(p_mc * (1 - p_mc) / len(draws))                # MC SE <= 5e-4
    se_loss = loss_draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(r["prob_best"].to_numpy() - p_mc) <= 4 * se_p + 1e-12)
    assert np.all(np.abs(r["expected_loss"].to_numpy() - loss_draws.mean(axis=0)) <= 4 * se_loss)
    assert r["prob_best"].sum() == pytest.approx(1.0, abs=1e-12)
    # lower is better: the best arm is the one with the lowest rate, by reflection
    low = beta_binomial(x, n, prior=prior, higher_is_better=False)
    p_low = np.bincount(draws.argmin(axis=1), minlength=4) / len(draws)
    assert np.all(np.abs(low["prob_best"].to_numpy() - p_low) <= 4 * np.sqrt(p_low * (1 - p_low) / len(draws)) + 1e-12)
    loss_low = (draws - draws.min(axis=1, keepdims=True)).mean(axis=0)
    assert np.all(np.abs(low["expected_loss"].to_numpy() - loss_low) <= 4 * se_loss)


def test_normal_means_exact_three_arms():
    n, m, v = [400, 500, 450], [10.0, 10.1, 10.05], [4.0, 5.0, 4.5]
    r = normal_means(n, m, v)
    sd = np.sqrt(np.asarray(v) / np.asarray(n))
    # P(arm 1 best) = int phi_1(x) Phi_0(x) Phi_2(x) dx, by a fine independent trapezoid rule
    grid = np.linspace(m[1] - 12 * sd[1], m[1] + 12 * sd[1], 400_001)
    dens = stats.norm.pdf(grid, m[1], sd[1]) * stats.norm.cdf(grid, m[0], sd[0]) * stats.norm.cdf(grid, m[2], sd[2])
    assert r.loc[1, "prob_best"] == pytest.approx(np.trapezoid(dens, grid), abs=1e-9)
    with pytest.raises(TypeError):
        normal_means(n, m, v, random_state=0)                    # no sampling, so no seed


def test_unpooled_two_proportion_z_test():
    x1, n1, x0, n0 = 1100, 10000, 1000, 10000
    df = pd.DataFrame({"arm": ["B"] * n1 + ["A"] * n0,
                       "c": np.r_[np.ones(x1), np.zeros(n1 - x1), np.ones(x0), np.zeros(n0 - x0)]})
    row = analyze(df, "arm", "c", pooled=False).table.iloc[0]
    p1, p0 = x1 / n1, x0 / n0
    z = (p1 - p0) / math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)   # by hand
    assert row["statistic"] == pytest.approx(z, rel=1e-12)
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(z), rel=1e-12)
    ref = smprop.test_proportions_2indep(x1, n1, x0, n0, method="wald", compare="diff")  # statsmodels
    assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    pooled = analyze(df, "arm", "c").table.iloc[0]
    assert pooled["p_value"] == pytest.approx(smprop.proportions_ztest([x1, x0], [n1, n0])[1], rel=1e-10)
    assert pooled["p_value"] != pytest.approx(row["p_value"], rel=1e-6)
    # the same interval either way (unpooled Wald), the test differs
    assert pooled["ci_low"] == pytest.approx(row["ci_low"], rel=1e-12)
    with pytest.raises(OptionError, match="none of the metrics"):
        analyze(df.assign(c=df.c * 2.5), "arm", "c", pooled=False)
    m1, m0 = Moments.from_sums(n1, [x1], [[x1]]), Moments.from_sums(n0, [x0], [[x0]])
    assert float(compare(m1, m0, Metric("c", kind="proportion"), pooled=False).statistic) == \
        pytest.approx(z, rel=1e-12)
