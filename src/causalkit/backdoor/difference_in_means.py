"""Difference in means with Neyman/Welch inference (the randomized baseline).

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> df = pd.DataFrame({"t": [0, 0, 0, 1, 1, 1], "y": [1.0, 2.0, 3.0, 3.0, 4.0, 6.0]})
>>> eff = causalkit.estimate(df, "t", "y", method="difference_in_means")
>>> round(eff.estimate, 4), round(eff.std_error, 4)
(2.3333, 1.0541)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..effect import Effect
from ..inference import welch_df
from ..linear import fit_coefficient
from ..registry import register
from ..validation import prepare


@register("difference_in_means", estimand="ATE", roles=("treatment", "outcome"),
          optional_roles=("cluster", "weights"))
def difference_in_means(data: pd.DataFrame, treatment: str, outcome: str,
                        cluster: str | None = None, weights: str | None = None,
                        alpha: float = 0.05, use_t: bool = True) -> Effect:
    """Difference in mean outcomes between arms, with Neyman (Welch) standard error.

    The standard error is the conservative Neyman variance
    ``sqrt(s1^2/n1 + s0^2/n0)``; with ``use_t=True`` (default) the reference
    distribution is Student's t with Welch–Satterthwaite degrees of freedom,
    exactly as ``scipy.stats.ttest_ind(equal_var=False)``; binary outcomes use
    the same formula.  With ``cluster=`` (units randomized in clusters) the
    estimate is the same and the standard error is cluster-robust (CR1, t with
    G - 1 df) from the regression of the outcome on the treatment.

    With ``weights=`` (sampling weights) the estimate is the difference of the
    weighted arm means, the coefficient of the weighted least-squares regression
    of the outcome on the treatment, and the standard error is that regression's
    HC2 robust one (which is the Neyman variance above when all weights are equal)
    or its cluster-robust one with ``cluster=``, exactly as statsmodels'
    ``WLS(...).fit(cov_type="HC2", use_t=use_t)`` (t with n - 2 df).

    Parameters
    ----------
    weights
        Column of sampling (survey) weights (WLS, HC2 robust or clustered SE).
    use_t
        ``True`` (default) for Student's t with Welch–Satterthwaite degrees of freedom,
        ``False`` for the normal reference distribution.
    """
    d = prepare(data, treatment, outcome, cluster=cluster, min_per_arm=2, weights=weights)
    y1, y0 = d.y[d.t == 1], d.y[d.t == 0]
    w1, w0 = (None, None) if d.w is None else (d.w[d.t == 1], d.w[d.t == 0])
    m1, m0 = float(np.average(y1, weights=w1)), float(np.average(y0, weights=w0))
    estimate = m1 - m0
    diagnostics: dict[str, Any] = {"mean_treated": m1, "mean_control": m0}
    if cluster is not None or d.w is not None:
        X = np.column_stack([np.ones(d.n), d.t])
        coef = fit_coefficient(d.y, X, index=1, cov_type="cluster" if cluster else "HC2",
                               groups=d.cluster, weights=d.w)
        estimate = coef.estimate
        std_error, df, label = coef.std_error, coef.df, coef.inference
        if cluster is None:
            df = float(coef.results.df_resid) if use_t else None
            label += ", t with n - 2 df" if use_t else ", normal"
        if d.w is not None:
            label = f"weighted least squares (sampling weights {weights!r}); {label}"
            diagnostics["sampling_weights"] = weights
    else:
        v1, v0 = float(y1.var(ddof=1)), float(y0.var(ddof=1))
        std_error = float(np.sqrt(v1 / len(y1) + v0 / len(y0)))
        df = welch_df(v1, len(y1), v0, len(y0)) if use_t else None
        label = "Neyman variance, Welch t" if use_t else "Neyman variance, normal"
    return Effect.from_estimate(
        method="difference_in_means", estimand="ATE", estimate=estimate, std_error=std_error,
        alpha=alpha, df=df, treatment=treatment, outcome=outcome, n_treated=d.n_treated,
        n_control=d.n_control, inference=label, diagnostics=diagnostics)
