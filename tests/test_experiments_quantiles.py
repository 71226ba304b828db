"""Quantile treatment effects: against statsmodels QuantReg, a brute-force bootstrap, coverage."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from causalkit.errors import EmptyArmError, MissingValueError, OptionError
from causalkit.experiments import quantile_effect


def _data(n=3001, shift=0.2, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"arm": np.repeat([0, 1], n),
                         "y": np.r_[rng.normal(0, 1, n), rng.normal(shift, 1, n)]})


@pytest.mark.parametrize("q", [0.25, 0.5, 0.9])
def test_matches_quantreg_on_arm_indicator(q):
    df = _data()
    row = quantile_effect(df, "arm", "y", q=q).table.iloc[0]
    fit = sm.QuantReg(df.y.to_numpy(), sm.add_constant(df.arm.to_numpy())).fit(q=q)
    assert row.estimate == pytest.approx(fit.params[1], abs=1e-6)   # QuantReg's IRLS tolerance
    # location-shift data: QuantReg's pooled density and our per-arm densities estimate the same f
    assert row.std_error == pytest.approx(fit.bse[1], rel=0.05)


def test_bootstrap_matches_brute_force_resampling():
    rng = np.random.default_rng(2)
    n0, n1, q, reps = 150, 120, 0.5, 4000
    df = pd.DataFrame({"arm": np.repeat(["control", "B"], [n0, n1]),
                       "y": np.r_[rng.exponential(1.0, n0), rng.exponential(1.4, n1)]})
    row = quantile_effect(df, "arm", "y", q=q, control="control", n_boot=reps).table.iloc[0]
    x0, x1 = df.y[df.arm == "control"].to_numpy(), df.y[df.arm == "B"].to_numpy()
    k0, k1 = int(np.ceil(n0 * q)), int(np.ceil(n1 * q))
    b = np.random.default_rng(9)
    d = np.array([np.sort(b.choice(x1, n1))[k1 - 1] - np.sort(b.choice(x0, n0))[k0 - 1]
                  for _ in range(reps)])
    # SE of a bootstrap SE from 4000 replicates is ~1.1%; a 2.5% percentile from 4000 draws has
    # MC SD ~0.045 SE (0.06 SE for the difference of two runs): 0.25 SE is ~4 SD
    assert row.boot_se == pytest.approx(d.std(ddof=1), rel=0.06)
    assert row.boot_ci_low == pytest.approx(np.quantile(d, 0.025), abs=0.25 * row.boot_se)
    assert row.boot_ci_high == pytest.approx(np.quantile(d, 0.975), abs=0.25 * row.boot_se)


def test_asymptotic_and_bootstrap_coverage():
    rng = np.random.default_rng(3)
    reps, n, true = 300, 400, np.log(2) * (1.5 - 1.0)   # medians of Exp(1) and Exp(1.5)
    hit_a = hit_b = 0
    for r in range(reps):
        df = pd.DataFrame({"arm": np.repeat([0, 1], n),
                           "y": np.r_[rng.exponential(1.0, n), rng.exponential(1.5, n)]})
        row = quantile_effect(df, "arm", "y", n_boot=200, random_state=r).table.iloc[0]
        hit_a += row.ci_low <= true <= row.ci_high
        hit_b += row.boot_ci_low <= true <= row.boot_ci_high
    # 300 replicates: Monte-Carlo SE of a 95% coverage is 1.3%; tolerance ~3.5 SE
    assert abs(hit_a / reps - 0.95) < 0.045
    assert abs(hit_b / reps - 0.95) < 0.045


def test_reproducible_and_bad_input():
    df = _data(200)
    a = quantile_effect(df, "arm", "y", random_state=5).table
    b = quantile_effect(df, "arm", "y", random_state=5).table
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(OptionError, match="q must"):
        quantile_effect(df, "arm", "y", q=1.0)
    with pytest.raises(OptionError, match="n_boot"):
        quantile_effect(df, "arm", "y", n_boot=10)
    with pytest.raises(OptionError, match="random_state"):
        quantile_effect(df, "arm", "y", random_state=None)
    bad = df.copy()
    bad.loc[3, "y"] = np.nan
    with pytest.raises(MissingValueError, match="'y'"):
        quantile_effect(bad, "arm", "y")
    one = pd.DataFrame({"arm": [0, 0, 0, 1], "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(EmptyArmError, match="arm 1"):
        quantile_effect(one, "arm", "y")


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_matches_tea_tasting_quantile_metric(q):
    """Against tea-tasting's ``Quantile`` metric (scipy's percentile bootstrap) on the same data.

    tea-tasting's point estimate is ``np.quantile`` (linear interpolation at
    position ``(n - 1) q``); with ``n = 10 m + 1`` units per arm that position is
    the order statistic ``ceil(n q)`` that ours takes, for q = 0.5 and 0.9, so
    the estimates are equal, and so is the law of the bootstrap statistic.  Its
    percentile interval comes from 2,000 resamples, ours from 2,000 Beta draws:
    an endpoint at the 2.5% point of a near-normal bootstrap law has Monte-Carlo
    SD ``sqrt(.025 * .975 / R) / (phi(1.96) / se) = 0.060 se`` for R = 2,000, so
    the two runs' endpoints differ with SD 0.085 se; the tolerance 0.35 se is ~4 SD.
    """
    tt = pytest.importorskip("tea_tasting", reason="tea-tasting (the reference) is not "
                             "installed; pip install tea-tasting (in the test extra)")
    rng = np.random.default_rng(11)
    n0, n1 = 2001, 3001
    df = pd.DataFrame({"arm": np.repeat([0, 1], [n0, n1]),
                       "y": np.r_[rng.exponential(1.0, n0), rng.exponential(1.25, n1)]})
    row = quantile_effect(df, "arm", "y", q=q, n_boot=2000, random_state=1).table.iloc[0]
    exp = tt.Experiment(y=tt.Quantile("y", q, n_resamples=2000, method="percentile", rng=42),
                        variant="arm")
    ref = exp.analyze(df, control=0).to_pandas().iloc[0]
    assert row.control_quantile == pytest.approx(ref["control"], rel=1e-12)
    assert row.treatment_quantile == pytest.approx(ref["treatment"], rel=1e-12)
    assert row.estimate == pytest.approx(ref["effect_size"], rel=1e-12)
    tol = 0.35 * row.boot_se
    assert row.boot_ci_low == pytest.approx(ref["effect_size_ci_lower"], abs=tol)
    assert row.boot_ci_high == pytest.approx(ref["effect_size_ci_upper"], abs=tol)
    # the asymptotic (kernel-density) interval is as wide as the bootstrap one (here within 3%)
    assert row.ci_high - row.ci_low == pytest.approx(
        ref["effect_size_ci_upper"] - ref["effect_size_ci_lower"], rel=0.15)
