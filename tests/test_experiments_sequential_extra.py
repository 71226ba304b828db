"""Power-family spending, classical Pocock / O'Brien-Fleming tables, Bayesian look-by-look rule."""

import numpy as np
import pytest
from scipy import stats

from causalkit.errors import DataError, OptionError
from causalkit.experiments import (classical_boundaries, group_sequential,
                                   sequential_beta_binomial, sequential_normal)


def test_classical_boundaries_match_jennison_turnbull_tables():
    # Jennison & Turnbull (2000), Table 2.1 (Pocock C_P) and 2.3 (O'Brien-Fleming C_B), alpha=0.05
    for k, cp, cb in [(2, 2.178, 1.977), (3, 2.289, 2.004), (4, 2.361, 2.024), (5, 2.413, 2.040)]:
        assert classical_boundaries(k, kind="pocock")[0] == pytest.approx(cp, abs=1e-3)
        obf = classical_boundaries(k, kind="obrien_fleming")
        assert obf[-1] == pytest.approx(cb, abs=1e-3)
        np.testing.assert_allclose(obf, cb * np.sqrt(k / np.arange(1, k + 1)), atol=2e-3)


@pytest.mark.parametrize("rho", [1.0, 2.0, 3.0])
def test_power_spending_by_simulation(rho):
    d = group_sequential(5, spending="power", rho=rho)
    # closed form at the first look, then the cumulative alpha t^rho by Brownian-motion simulation
    assert d.boundaries[0] == pytest.approx(stats.norm.isf(0.025 * 0.2 ** rho), rel=1e-9)
    rng = np.random.default_rng(int(rho))
    z = np.cumsum(rng.normal(size=(400_000, 5)), axis=1) / np.sqrt(np.arange(1, 6))
    crossed = np.abs(z) >= d.boundaries
    first = np.where(crossed.any(1), crossed.argmax(1), 99)
    cum = np.array([(first <= k).mean() for k in range(5)])
    # MC SE of a cumulative crossing probability <= 0.05 from 400k paths is <= 3.5e-4
    np.testing.assert_allclose(cum, 0.05 * (np.arange(1, 6) / 5) ** rho, atol=1.4e-3)
    with pytest.raises(OptionError, match="rho"):
        group_sequential(5, spending="power", rho=0)


def test_beta_binomial_looks_update_and_expected_loss():
    x = [[10, 14], [22, 31], [35, 52]]
    n = [[100, 100], [200, 200], [300, 300]]
    res = sequential_beta_binomial(x, n, threshold=0.002, prior=(2.0, 3.0), labels=["A", "B"])
    rng = np.random.default_rng(0)
    for k in range(3):
        t = res.table[res.table.look == k + 1].set_index("arm")
        a = 2.0 + np.array(x[k])
        b = 3.0 + np.array(n[k]) - np.array(x[k])
        np.testing.assert_allclose(t.posterior_mean, a / (a + b))
        draws = rng.beta(a, b, size=(400_000, 2))
        loss = np.maximum(draws.max(1, keepdims=True) - draws, 0).mean(0)
        # MC SE of these losses is < 2e-5
        np.testing.assert_allclose(t.expected_loss, loss, atol=1e-4)
    first = next(k for k in range(3) if res.table[res.table.look == k + 1].expected_loss.min() < 0.002)
    assert res.stopped_at == first + 1


def test_normal_looks_and_bad_input():
    res = sequential_normal([[100, 100], [400, 400]], [[1.0, 1.1], [1.0, 1.2]],
                            [[1.0, 1.0], [1.0, 1.0]], threshold=1e-3, labels=["A", "B"])
    t = res.table[res.table.look == 2].set_index("arm")
    assert t.posterior_mean["B"] == pytest.approx(1.2)
    assert res.choice == "B" and res.stopped_at == 2
    with pytest.raises(DataError, match="cumulative"):
        sequential_beta_binomial([[5, 5], [4, 6]], [[10, 10], [20, 20]], threshold=0.01)
    with pytest.raises(OptionError, match="threshold"):
        sequential_beta_binomial([[5, 5]], [[10, 10]], threshold=0)
