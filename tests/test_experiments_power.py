"""Power and sample size against statsmodels and closed forms."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (proportion_effectsize,
                                          samplesize_proportions_2indep_onetail)

from causalkit.errors import OptionError
from causalkit.experiments import power as pw


def test_sample_size_vector_pooled_3841_and_cohen_h_3835():
    pooled = pw.sample_size_proportions(0.10, 0.12, alpha=0.05, power=0.8)
    assert pooled.n_control == pooled.n_treatment == 3841
    # closed form of Fleiss et al. without continuity correction, and statsmodels' helper
    za, zb = stats.norm.isf(0.025), stats.norm.isf(0.2)
    closed = (za * math.sqrt(2 * .11 * .89) + zb * math.sqrt(.1 * .9 + .12 * .88)) ** 2 / .02 ** 2
    sm = samplesize_proportions_2indep_onetail(0.02, 0.10, 0.8, ratio=1, alpha=0.05,
                                               alternative="two-sided")
    assert math.ceil(closed) == math.ceil(sm) == 3841
    h = pw.sample_size_proportions(0.10, 0.12, method="cohen_h")
    ref = NormalIndPower().solve_power(proportion_effectsize(0.12, 0.10), alpha=0.05, power=0.8)
    assert h.n_control == math.ceil(ref) == 3835


@pytest.mark.parametrize("alternative", ["two-sided", "larger"])
@pytest.mark.parametrize("ratio", [1.0, 2.0, 0.5])
def test_means_power_and_n_match_normal_ind_power(alternative, ratio):
    es = 0.15
    ref_n = NormalIndPower().solve_power(es, alpha=0.05, power=0.9, ratio=ratio,
                                         alternative=alternative)
    ours = pw.sample_size_means(0.3, 2.0, power=0.9, ratio=ratio, alternative=alternative)
    assert ours.n_control == math.ceil(ref_n)
    ref_p = NormalIndPower().power(es, nobs1=500, alpha=0.05, ratio=ratio, alternative=alternative)
    assert pw.power_means(0.3, 2.0, 500, ratio=ratio, alternative=alternative) == \
        pytest.approx(ref_p, rel=1e-10)
    mde = pw.mde_means(2.0, 500, power=0.9, ratio=ratio, alternative=alternative)
    # statsmodels' own effect-size solver stops at ~1e-6; check its power at our MDE instead
    assert NormalIndPower().power(mde / 2.0, nobs1=500, alpha=0.05, ratio=ratio,
                                  alternative=alternative) == pytest.approx(0.9, rel=1e-9)


def test_smaller_alternative_and_unequal_allocation_proportions():
    ref = NormalIndPower().power(proportion_effectsize(0.08, 0.10), nobs1=2000, alpha=0.05,
                                 ratio=3, alternative="smaller")
    ours = pw.power_proportions(0.10, 0.08, 2000, ratio=3, alternative="smaller", method="cohen_h")
    assert ours == pytest.approx(ref, rel=1e-10)
    n = pw.sample_size_proportions(0.10, 0.12, ratio=3)
    assert n.n_treatment == math.ceil(3 * n.n_control - 1e-9)
    assert pw.power_proportions(0.10, 0.12, n.n_control, ratio=3) >= 0.8 > \
        pw.power_proportions(0.10, 0.12, n.n_control - 1, ratio=3)


def test_mde_inverts_power_and_duration():
    d = pw.mde_proportions(0.10, 3841)
    assert pw.power_proportions(0.10, 0.10 + d, 3841) == pytest.approx(0.8, abs=1e-9)
    assert 0.0199 < d < 0.0201
    n = pw.sample_size_proportions(0.10, 0.12)
    assert n.duration(daily_units=1000) == 8          # 7682 units at 1000 a day
    assert n.duration(daily_units=1000, traffic_fraction=0.25) == 31


def test_power_bad_options():
    with pytest.raises(OptionError):
        pw.sample_size_proportions(0.1, 1.2)
    with pytest.raises(OptionError):
        pw.sample_size_means(0.1, 1.0, power=1.5)
    with pytest.raises(OptionError):
        pw.sample_size_means(0.1, 1.0, alternative="bigger")
