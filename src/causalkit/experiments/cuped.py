"""Variance reduction: CUPED with a pre-period covariate, and regression adjustment.

* :func:`cuped` — Deng, Xu, Kohavi & Walker (2013): analyze ``y - theta (x -
  mean x)`` with ``theta`` the pooled slope of the metric on its pre-period
  value; also for ratio metrics (through their delta-method linearization,
  Deng et al. 2018).  It is :func:`~.analyze.analyze` with a
  :class:`~.metrics.Metric` carrying the covariate, and works from sufficient
  statistics too (it needs only the cross-products of metric and covariate).
  The variance shrinks by about ``1 - rho^2``.
* :func:`regression_adjusted` — several covariates: each treatment arm against
  the control through the registry's ``regression_adjustment`` estimator (Lin
  2013 interacted OLS with HC2 standard errors).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=2000)
>>> df = pd.DataFrame({"v": np.tile([0, 1], 1000), "pre": x,
...                    "y": x + 0.5 * rng.normal(size=2000)})
>>> row = cuped(df, "v", "y", "pre").table.iloc[0]
>>> bool(row["variance_reduction"] > 0.7)
True
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from ..api import estimate
from ..effect import Effect, effects_to_frame
from .analyze import ExperimentResult, analyze
from .design import _arms
from .metrics import Metric


def cuped(data: pd.DataFrame, variant: str, metric: str, covariate: str, control: Any = None,
          denominator: str | None = None, covariate_denominator: str | None = None,
          **options: Any) -> ExperimentResult:
    """CUPED-adjusted analysis of one metric (a ratio when ``denominator`` is given)."""
    m = Metric(metric, kind="ratio" if denominator else "auto", column=metric,
               denominator=denominator, covariate=covariate,
               covariate_denominator=covariate_denominator)
    return analyze(data, variant, [m], control=control, **options)


def regression_adjusted(data: pd.DataFrame, variant: str, metric: str,
                        covariates: str | Sequence[str], control: Any = None,
                        alpha: float = 0.05, **options: Any) -> pd.DataFrame:
    """Each arm vs control by Lin's regression adjustment (registry), one row per arm.

    ``options`` go to the estimator (``interacted=``, ``cov_type=``).
    """
    codes, labels, c = _arms(data, variant, control)
    effects: list[Effect] = []
    arms = []
    for a, arm in enumerate(labels):
        if a == c:
            continue
        keep = (codes == a) | (codes == c)
        sub = data.loc[keep].assign(_treated=(codes[keep] == a).astype(int))
        effects.append(estimate(sub, "_treated", metric, method="regression_adjustment",
                                covariates=covariates, alpha=alpha, **options))
        arms.append(arm)
    table = effects_to_frame(effects)
    table.insert(0, "arm", arms)
    table.insert(1, "control", labels[c])
    return table
