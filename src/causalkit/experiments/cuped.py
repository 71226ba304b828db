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
* :func:`cupac` — CUPED on a cross-fitted prediction of the metric from
  pre-period features by any scikit-learn model.

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

import numpy as np
import pandas as pd

from ..api import estimate
from ..effect import Effect, effects_to_frame
from ..errors import OptionError
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


def cupac(data: pd.DataFrame, variant: str, metric: str, features: str | Sequence[str],
          model: Any = None, control: Any = None, *, n_folds: int = 5, cross_fit: bool = True,
          random_state: int = 0, **options: Any) -> ExperimentResult:
    """CUPAC (Tang et al. 2020, DoorDash): CUPED on a machine-learned prediction of the metric.

    The covariate is the prediction of ``metric`` from the pre-period
    ``features`` by ``model`` (any scikit-learn regressor; ``None`` is OLS),
    cross-fitted over ``n_folds`` folds (:func:`causalkit.nuisance.folds`):
    each unit's prediction comes from a model that never saw it, so the
    prediction is a pre-treatment function of the features and the CUPED
    estimate stays unbiased (the variant is never a feature).  The table's
    ``variance_reduction`` is ``1 - Var(adjusted) / Var(raw)``.  With
    ``cross_fit=False`` the model is fitted once on all units; a linear model
    on one feature then gives exactly CUPED on that feature (CUPED is
    invariant to affine maps of its covariate).  ``options`` go to
    :func:`~.analyze.analyze`.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 2))
    >>> df = pd.DataFrame({"v": np.tile([0, 1], 1000), "a": x[:, 0], "b": x[:, 1],
    ...                    "y": x[:, 0] + x[:, 1] ** 2 + 0.5 * rng.normal(size=2000)})
    >>> bool(cupac(df, "v", "y", ["a", "b"]).table.loc[0, "variance_reduction"] > 0.2)
    True
    """
    from ..nuisance import fit_predict, folds
    from ..validation import as_column_list, check_frame

    cols = as_column_list(features)
    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or n_folds < 2:
        raise OptionError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    if not isinstance(cross_fit, bool):
        raise OptionError(f"cross_fit must be True or False, got {cross_fit!r}")
    if metric in cols or variant in cols:
        raise OptionError(f"features must be pre-period columns; {metric!r} / {variant!r} "
                          "(the outcome and the variant) cannot be features")
    frame = check_frame(data, roles={"features": cols, "outcome": metric}, min_rows=2 * n_folds)
    X = frame[cols].to_numpy(dtype=float)
    y = frame[metric].to_numpy(dtype=float)
    pred = np.empty(len(y))
    if cross_fit:
        for train, test in folds(len(y), n_folds, random_state):
            pred[test] = fit_predict(model, X[train], y[train], [X[test]])[0]
    else:
        pred[:] = fit_predict(model, X, y, [X])[0]
    name = "_cupac_prediction"
    m = Metric(metric, column=metric, covariate=name)
    return analyze(frame.assign(**{name: pred}), variant, [m], control=control, **options)
