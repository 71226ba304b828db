"""Switchback: schedule, Horvitz-Thompson lag-m effect and its conservative variance, by simulation."""

import numpy as np
import pytest

from causalkit.errors import DataError, OptionError
from causalkit.experiments import switchback_analysis, switchback_schedule


def test_schedule_blocks():
    s = switchback_schedule(20, 4, p=0.3, random_state=2)
    assert (s.groupby("block").treatment.nunique() == 1).all() and s.block.max() == 4
    # p: share of treated blocks over many schedules (MC SE 0.005)
    share = np.mean([switchback_schedule(40, 4, p=0.3, random_state=r).treatment.mean()
                     for r in range(1000)])
    assert share == pytest.approx(0.3, abs=0.02)


def test_unbiased_and_conservative_with_carryover():
    T, L, m, tau, reps = 60, 3, 1, 1.0, 300
    est, se, naive = [], [], []
    for r in range(reps):
        s = switchback_schedule(T, L, random_state=r)
        w = s.treatment.to_numpy()
        rng = np.random.default_rng(10_000 + r)
        # carryover of order 1: half the effect comes from the previous period's assignment
        y = 2 * np.sin(np.arange(T) / 10) + tau * (w + np.r_[0, w[:-1]]) / 2 + rng.normal(0, 1, T)
        res = switchback_analysis(s.assign(y=y), block_length=L, carryover=m)
        est.append(res.estimate), se.append(res.std_error)
        naive.append(y[w == 1].mean() - y[w == 0].mean())
    est, se = np.array(est), np.array(se)
    sd = est.std(ddof=1)
    assert abs(est.mean() - tau) < 3.5 * sd / np.sqrt(reps)           # unbiased
    assert np.sqrt(np.mean(se ** 2)) > 0.95 * sd                        # a bound (SD's MC error ~4%)
    cover = np.mean(np.abs(est - tau) <= 1.96 * se)
    assert cover > 0.95 - 0.04                                          # MC SE 1.3%
    # ignoring carryover is biased: half the effect is lost right after a switch (1/3 of the
    # periods, half of them switches): bias about tau / 6
    assert tau - np.mean(naive) > 3 * np.std(naive) / np.sqrt(reps)


def test_bad_input():
    s = switchback_schedule(12, 3, random_state=0).assign(y=1.0)
    with pytest.raises(DataError, match="within a block"):
        switchback_analysis(s, block_length=2)
    with pytest.raises(OptionError, match="carryover"):
        switchback_analysis(s, block_length=3, carryover=-1)
    with pytest.raises(DataError, match="0..T-1"):
        switchback_analysis(s.iloc[1:], block_length=3)
