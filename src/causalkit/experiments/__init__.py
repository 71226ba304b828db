"""Randomized experiments: A/B and multi-arm analysis, power, SRM, sequential and Bayesian tests.

Modules: :mod:`.stats` (sufficient statistics), :mod:`.aggregates` (per-arm
statistics of an experiment, checked to be possible), :mod:`.metrics`
(comparisons: Welch, z, ratio/delta method, CUPED), :mod:`.relative` (relative
lift intervals), :mod:`.control` (which arm is the control), :mod:`.analyze`
(the tidy multi-metric, multi-arm table), :mod:`.srm`, :mod:`.multiple`,
:mod:`.power`, :mod:`.sequential` (mSPRT, alpha spending), :mod:`.bayes`,
:mod:`.design` (cluster-randomized, post-stratified), :mod:`.cuped`,
:mod:`.assignment`, :mod:`.bandits`, :mod:`.ope` (off-policy evaluation: IPS, SNIPS,
DR, Switch-DR, DR-os, sub-Gaussian IPS/DR), :mod:`.report`
(``ExperimentResult.report()``: the HTML page and PNGs).

Example
-------
>>> import numpy as np, pandas as pd
>>> from causalkit import experiments as ex
>>> df = pd.DataFrame({"v": np.repeat([0, 1], 200), "y": np.tile([0.0, 1.0], 200)})
>>> float(ex.analyze(df, "v", "y").table.loc[0, "estimate"])
0.0
"""

from .aggregates import ExperimentStats
from .analyze import Decision, ExperimentResult, UndefinedTestWarning, analyze
from .assignment import assign, block_randomize
from .bandits import UCB1, EpsilonGreedy, ThompsonSampling, off_policy_value, simulate
from .ope import (PolicyValue, dr, dr_os, ips, snips, subgaussian_dr, subgaussian_ips,
                  switch_dr)
from .bayes import beta_binomial, normal_means
from .bayes import from_stats as bayes_from_stats
from .bayes_sequential import sequential_beta_binomial, sequential_normal
from .control import resolve_control
from .cuped import cupac, cuped, regression_adjusted
from .design import clustered, post_stratified
from .interleaving import interleave, interleaving_analysis
from .novelty import daily_effects
from .switchback import switchback_analysis, switchback_schedule
from .quantiles import quantile_effect
from .segments import SimpsonsParadoxWarning, segment_effects
from .dunnett import dunnett
from .metrics import Metric, compare
from .relative import relative_lift, score_interval
from .multiple import adjust_p
from .power import (conditional_power, cuped_sd, mde_from_se, mde_means, mde_proportions,
                    power_from_se, power_means,
                    power_proportions, ratio_sd, ratio_sd_from_data, sample_size_cuped,
                    sample_size_ratio,
                    sample_size_means, sample_size_proportions)
from .sequential import classical_boundaries, group_sequential, msprt, planned_mixing_variance
from .srm import SampleRatioMismatchWarning, srm_check
from .stats import Moments, group_moments

__all__ = [
    "Decision", "EpsilonGreedy", "PolicyValue", "dr", "dr_os", "ips", "snips", "subgaussian_dr",
    "subgaussian_ips", "switch_dr", "ExperimentResult", "ExperimentStats", "Metric", "Moments",
    "SampleRatioMismatchWarning", "SimpsonsParadoxWarning", "ThompsonSampling", "UCB1", "adjust_p", "analyze", "assign",
    "bayes_from_stats", "beta_binomial", "block_randomize", "classical_boundaries", "clustered", "compare", "cupac", "cuped", "daily_effects", "dunnett", "interleave", "interleaving_analysis", "group_moments",
    "conditional_power", "cuped_sd", "mde_from_se", "power_from_se", "group_sequential", "mde_means", "ratio_sd", "ratio_sd_from_data", "sample_size_cuped", "sample_size_ratio", "mde_proportions", "msprt", "normal_means",
    "off_policy_value", "planned_mixing_variance", "post_stratified", "power_means", "quantile_effect", "power_proportions",
    "regression_adjusted", "relative_lift", "segment_effects", "resolve_control", "sample_size_means",
    "sample_size_proportions", "score_interval", "sequential_beta_binomial", "sequential_normal", "simulate", "srm_check", "switchback_analysis", "switchback_schedule", "UndefinedTestWarning",
]
