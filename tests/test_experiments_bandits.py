"""Assignment (hash bucketing, blocked randomization), bandit policies and off-policy evaluation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalkit.errors import ColumnNotFoundError, DataError, OptionError
from causalkit.experiments.assignment import assign, block_randomize, hash_unit
from causalkit.experiments.bandits import (UCB1, EpsilonGreedy, ThompsonSampling,
                                           off_policy_value, simulate)

IDS = [f"user-{i}" for i in range(40_000)]


def test_hash_bucketing_is_deterministic_uniform_and_salted():
    u = hash_unit(IDS, "exp1")
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    np.testing.assert_array_equal(u, hash_unit(IDS, "exp1"))
    a1 = assign(IDS, salt="exp1")
    a2 = assign(IDS, salt="exp2")
    # different salts are independent: agreement ~ 50% (binomial SD 0.0025)
    assert abs(np.mean(a1 == a2) - 0.5) < 0.0125
    # a 20/30/50 split: chi-square goodness of fit
    arms = assign(IDS, ["a", "b", "c"], weights=[2, 3, 5], salt="s")
    counts = pd.Series(arms).value_counts().reindex(["a", "b", "c"]).to_numpy()
    assert stats.chisquare(counts, np.array([.2, .3, .5]) * len(IDS)).pvalue > 1e-3


def test_traffic_allocation_ramps_without_moving_units():
    low = assign(IDS, salt="ramp", traffic=0.1)
    high = assign(IDS, salt="ramp", traffic=0.5)
    in_low = low != None  # noqa: E711 - object array comparison
    in_high = high != None  # noqa: E711
    assert abs(in_low.mean() - 0.1) < 4 * math.sqrt(.09 / len(IDS))
    assert np.all(in_high[in_low])                       # ramp-up only adds units
    np.testing.assert_array_equal(low[in_low], high[in_low])  # ... and never reassigns them
    # inclusion is independent of the arm: the split among included units stays 50/50
    assert abs(np.mean(high[in_high] == "treatment") - 0.5) < 4 * math.sqrt(.25 / in_high.sum())
    with pytest.raises(OptionError):
        assign(IDS[:3], traffic=0.0)


def test_block_randomization_balances_every_stratum():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"country": rng.choice(list("abcde"), 5001), "device": rng.integers(0, 3, 5001)})
    arm = block_randomize(df, ["country", "device"], ["c", "t1", "t2"], weights=[2, 1, 1], random_state=1)
    for _, grp in arm.groupby([df.country, df.device]):
        counts = grp.value_counts().reindex(["c", "t1", "t2"], fill_value=0).to_numpy()
        assert np.all(np.abs(counts - len(grp) * np.array([.5, .25, .25])) < 1)
    again = block_randomize(df, ["country", "device"], ["c", "t1", "t2"], weights=[2, 1, 1], random_state=1)
    assert arm.equals(again)
    with pytest.raises(ColumnNotFoundError):
        block_randomize(df, "contry")


def test_ucb1_regret_within_auer_bound_and_thompson_beats_epsilon_greedy():
    mu = [0.3, 0.5, 0.55]
    T = 2000
    ucb = simulate(UCB1, mu, horizon=T, runs=100, random_state=2)
    gaps = [0.25, 0.05]
    bound = sum(8 * math.log(T) / d for d in gaps) + (1 + math.pi ** 2 / 3) * sum(gaps)
    assert ucb.cumulative_regret[-1] < bound            # Auer et al. (2002), Theorem 1
    ts = simulate(ThompsonSampling, mu, horizon=T, runs=100, random_state=3)
    eg = simulate(EpsilonGreedy, mu, horizon=T, runs=100, random_state=4, epsilon=0.2)
    uniform_regret = T * (0.55 - np.mean(mu))
    for res in (ucb, ts, eg):
        assert res.cumulative_regret[-1] < 0.6 * uniform_regret
        assert res.pulls.sum() == pytest.approx(T)
    assert ts.cumulative_regret[-1] + 3 * ts.regret_se < eg.cumulative_regret[-1]
    # sublinear regret: the second half adds less than the first half
    for res in (ucb, ts):
        half = res.cumulative_regret[T // 2 - 1]
        assert res.cumulative_regret[-1] - half < half
    # epsilon-greedy keeps exploring: regret grows at least epsilon * mean gap per step
    eg_slope = (eg.cumulative_regret[-1] - eg.cumulative_regret[T // 2 - 1]) / (T / 2)
    assert eg_slope > 0.2 * np.mean(0.55 - np.array(mu)) * 0.8


def _logged(rng, n):
    x = rng.normal(size=n)
    true_q = np.column_stack([0.3 + 0.1 * x, 0.5 - 0.1 * x, 0.4 + 0 * x])
    logging = np.full((n, 3), 1 / 3)
    a = rng.integers(0, 3, n)
    r = true_q[np.arange(n), a] + rng.normal(scale=0.5, size=n)
    target = np.zeros((n, 3))
    target[np.arange(n), np.where(x > 0, 0, 1)] = 1.0    # play arm 0 when x > 0, else arm 1
    return r, a, logging[np.arange(n), a], target, true_q


def test_off_policy_estimators_cover_the_true_value():
    rng = np.random.default_rng(5)
    truth_exact = 0.4 + 0.1 * math.sqrt(2 / math.pi)   # E[0.3+0.1x | x>0]/2 + E[0.5-0.1x | x<0]/2
    cover = {"ips": 0, "snips": 0, "dr": 0}
    reps = 200
    for _ in range(reps):
        r, a, p, target, q = _logged(rng, 1500)
        tab = off_policy_value(r, a, p, target, reward_predictions=q)
        for m in cover:
            cover[m] += tab.loc[m, "ci_low"] <= truth_exact <= tab.loc[m, "ci_high"]
    # 200 replications: a 95% interval covers with SD 0.015; require >= 0.90
    for m, c in cover.items():
        assert c / reps >= 0.90, (m, c / reps)
    r, a, p, target, q = _logged(rng, 3000)
    tab = off_policy_value(r, a, p, target, reward_predictions=q)
    ips = np.mean(target[np.arange(3000), a] / p * r)     # closed form of IPS
    assert tab.loc["ips", "estimate"] == pytest.approx(ips, rel=1e-12)
    assert tab.loc["dr", "std_error"] < tab.loc["ips", "std_error"]   # a good model helps
    assert tab.attrs["effective_sample_size"] == pytest.approx(1000, rel=0.1)
    with pytest.raises(DataError, match="propensities"):
        off_policy_value(r, a, np.zeros_like(p), target)
