"""Cluster-randomized and stratified experiments, on the registry's estimators.

* :func:`clustered` — units randomized in clusters (by user) but analyzed at a
  finer level (per session): the difference in means with cluster-robust
  standard errors (CR1, t with G - 1 df), through the registry's
  ``difference_in_means`` estimator with ``cluster=``.
* :func:`post_stratified` — the post-stratified (or stratified/blocked)
  estimator ``sum_s w_s (ybar_1s - ybar_0s)`` with stratum shares ``w_s`` and
  Neyman variance ``sum_s w_s^2 (s_1s^2 / n_1s + s_0s^2 / n_0s)`` (Miratrix,
  Sekhon & Yu 2013), computed from per-stratum sufficient statistics.

Both compare each treatment arm with the control (given, or unambiguous from
the labels: :func:`~.control.resolve_control`) and return one
:class:`~causalkit.effect.Effect` per arm, whose ``diagnostics["control"]``
names the control.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"v": np.tile([0, 1], 200), "s": np.repeat([0, 1], 200)})
>>> df["y"] = df.v * 1.0 + df.s * 3.0 + rng.normal(size=400)
>>> eff = post_stratified(df, "v", "y", "s")[1]
>>> abs(eff.estimate - 1.0) < 0.3
True
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..api import estimate
from ..effect import Effect
from ..errors import EmptyArmError
from ..inference import check_alpha
from ..validation import check_frame, require_columns
from .control import resolve_control
from .stats import factorize, group_moments


def _arms(data: pd.DataFrame, variant: str, control: Any) -> tuple[np.ndarray, list[Any], int]:
    """Codes, labels and the control's index (:func:`~.control.resolve_control`)."""
    require_columns(data, variant, role="variant")
    codes, labels = factorize(data[variant], name=f"variant {variant!r}")
    if len(labels) < 2:
        raise EmptyArmError(f"variant column {variant!r} has a single arm {labels[0]!r}")
    return codes, labels, resolve_control(labels, control)[0]


def clustered(data: pd.DataFrame, variant: str, metric: str, cluster: str, control: Any = None,
              alpha: float = 0.05) -> dict[Any, Effect]:
    """Difference in means per treatment arm with cluster-robust SEs (registry estimator).

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> users = np.repeat(np.arange(100), 5)
    >>> df = pd.DataFrame({"user": users, "v": users % 2, "y": rng.normal(size=500)})
    >>> clustered(df, "v", "y", "user")[1].df
    99.0
    """
    codes, labels, c = _arms(data, variant, control)
    require_columns(data, [metric], role="metric")
    require_columns(data, [cluster], role="cluster")
    out = {}
    for a, arm in enumerate(labels):
        if a == c:
            continue
        keep = (codes == a) | (codes == c)
        sub = pd.DataFrame({"_t": (codes[keep] == a).astype(int),
                            metric: data[metric].to_numpy()[keep],
                            cluster: data[cluster].to_numpy()[keep]})
        eff = estimate(sub, "_t", metric, method="difference_in_means", cluster=cluster,
                       alpha=alpha)
        out[arm] = replace(eff, diagnostics={**eff.diagnostics, "control": labels[c]})
    return out


def post_stratified(data: pd.DataFrame, variant: str, metric: str, strata: str,
                    control: Any = None, alpha: float = 0.05) -> dict[Any, Effect]:
    """Post-stratified difference in means per treatment arm, with its Neyman variance."""
    alpha = check_alpha(alpha)
    codes, labels, c = _arms(data, variant, control)
    check_frame(data, roles={"metric": [metric]})
    require_columns(data, strata, role="strata")
    scodes, slabels = factorize(data[strata], name=f"strata {strata!r}")
    n_s = len(slabels)
    cell = codes * n_s + scodes
    mom = group_moments_allow_empty(cell, data[metric].to_numpy(dtype=float), len(labels) * n_s)
    n = mom[0].reshape(len(labels), n_s)
    mean = mom[1].reshape(len(labels), n_s)
    var = mom[2].reshape(len(labels), n_s)
    out = {}
    for a, arm in enumerate(labels):
        if a == c:
            continue
        pair = n[[a, c]]
        if np.any(pair < 2):
            a_i, s_i = np.argwhere(pair < 2)[0]
            raise EmptyArmError(
                f"stratum {slabels[s_i]!r} has {int(pair[a_i, s_i])} unit(s) in arm "
                f"{[arm, labels[c]][a_i]!r}; post-stratification needs at least 2 per arm and "
                "stratum (merge small strata)")
        w = pair.sum(axis=0) / pair.sum()
        est = float(np.sum(w * (mean[a] - mean[c])))
        se = float(np.sqrt(np.sum(w ** 2 * (var[a] / n[a] + var[c] / n[c]))))
        extra = dict(method="post_stratified", estimand="ATE", estimate=est, std_error=se,
                     alpha=alpha, treatment=f"{variant}={arm}", outcome=metric,
                     n_treated=int(n[a].sum()), n_control=int(n[c].sum()), covariates=(strata,),
                     inference="Neyman variance within strata, normal")
        diagnostics = {"n_strata": n_s, "control": labels[c]}
        if se > 0 and np.isfinite(se):
            out[arm] = Effect.from_estimate(**extra, diagnostics=diagnostics)
        else:                              # no variation in any cell: no test, never p = 0
            nan = float("nan")
            out[arm] = Effect(**extra, ci_low=nan, ci_high=nan, p_value=nan, statistic=nan,
                              diagnostics={**diagnostics, "note": f"the standard error is {se}: "
                                           "no variation within any stratum and arm, no test"})
    return out


def group_moments_allow_empty(codes: np.ndarray, y: np.ndarray, groups: int
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(count, mean, variance) per group; empty groups give zeros (callers check counts)."""
    m = group_moments(codes, y, groups, allow_empty=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(m.n > 1, m.var()[:, 0], 0.0)
    return m.n, m.mean[:, 0], var
