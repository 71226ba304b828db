"""Randomized experiments: A/B and multi-arm analysis, power, SRM, sequential and Bayesian tests.

Example
-------
>>> import numpy as np, pandas as pd
>>> from causalkit import experiments as ex
>>> df = pd.DataFrame({"v": np.repeat([0, 1], 200), "y": np.tile([0.0, 1.0], 200)})
>>> float(ex.analyze(df, "v", "y").table.loc[0, "estimate"])
0.0
"""

from .analyze import ExperimentResult, ExperimentStats, analyze
from .metrics import Metric, compare, relative_lift
from .multiple import adjust_p
from .srm import SampleRatioMismatchWarning, srm_check
from .stats import Moments, group_moments

__all__ = ["ExperimentResult", "ExperimentStats", "Metric", "Moments",
           "SampleRatioMismatchWarning", "adjust_p", "analyze", "compare", "group_moments",
           "relative_lift", "srm_check"]
