"""Difference-in-differences for the 2x2 design (group x period) as OLS with an interaction.

The outcome is regressed on the treated-group indicator ``D``, the post-period
indicator ``P``, their product and optional covariates::

    y = a + b D + c P + tau D*P + X'g + e

``tau`` is the DiD estimate of the ATT under parallel trends.  Standard errors
are cluster-robust by ``cluster`` when given, else by ``unit`` when a unit
identifier is given (the serial correlation of a unit's outcomes is the
reason clustering matters, Bertrand, Duflo & Mullainathan 2004), else
heteroskedasticity-robust HC1 (the Stata ``robust`` default).  For more than two
periods or staggered treatment see ``twfe``, ``event_study`` and
``callaway_santanna``.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(1)
>>> n = 200
>>> g = np.repeat(rng.integers(0, 2, n), 2); p = np.tile([0, 1], n)
>>> y = 1.0 + 0.5 * g + 0.3 * p + 2.0 * g * p + rng.normal(size=2 * n)
>>> df = pd.DataFrame({"unit": np.repeat(np.arange(n), 2), "g": g, "p": p, "y": y})
>>> eff = causalkit.estimate(df, "g", "y", method="did", post="p", unit="unit")
>>> abs(eff.estimate - 2.0) < 0.3, eff.estimand
(True, 'ATT')
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import DataError, EmptyArmError, RoleError
from ..linear import fit_coefficient
from ..registry import register
from ..validation import (as_column_list, prepare, require_columns, require_finite,
                          weighted_rows)
from ..wild_bootstrap import bootstrap_effect, check_options, document_options
from ._panel import check_panel, cluster_codes


def _post_indicator(frame: pd.DataFrame, post: str) -> np.ndarray:
    require_columns(frame, post, role="post")
    require_finite(frame, [post], role="post")
    col = frame[post]
    values = col.to_numpy(dtype=float) if (pd.api.types.is_numeric_dtype(col)
                                           or pd.api.types.is_bool_dtype(col)) else None
    if values is None or not np.all(np.isin(values, (0.0, 1.0))):
        raise DataError(f"post column {post!r} must be a 0/1 (or boolean) indicator of the "
                        "post-treatment period")
    return values.astype(int)


def _cells(t: np.ndarray, p: np.ndarray, y: np.ndarray, treatment: str, post: str,
           w: np.ndarray | None = None) -> dict[str, Any]:
    """Counts and (weighted) outcome means of the four group x period cells; every cell
    must be filled."""
    counts, means = {}, {}
    for gi, gname in ((1, "treated"), (0, "control")):
        for pi, pname in ((0, "pre"), (1, "post")):
            mask = (t == gi) & (p == pi)
            key = f"{gname}_{pname}"
            counts[key] = int(mask.sum())
            if counts[key] == 0:
                what = ("no units treated in the post period" if key == "treated_post"
                        else f"the {gname} group has no rows in the {pname} period")
                raise EmptyArmError(f"2x2 difference-in-differences needs all four cells: {what} "
                                    f"({treatment}={gi}, {post}={pi})")
            means[key] = float(np.average(y[mask], weights=None if w is None else w[mask]))
    return {"cell_counts": counts, "cell_means": means}


@register("did", estimand="ATT", roles=("treatment", "outcome", "post"),
          optional_roles=("covariates", "cluster", "unit", "weights"))
@document_options
def did(data: pd.DataFrame, treatment: str, outcome: str, post: str,
        covariates: Sequence[str] | None = None, cluster: str | Sequence[str] | None = None,
        unit: str | None = None, weights: str | None = None, alpha: float = 0.05,
        cov_type: str = "HC1", bootstrap: str | None = None, n_bootstrap: int = 9999,
        bootstrap_weights: str = "rademacher", impose_null: bool = True,
        random_state: int = 0) -> Effect:
    """2x2 difference-in-differences: OLS of outcome on group, post and group x post.

    Parameters
    ----------
    treatment
        Treated-group indicator (0/1, constant over periods within a unit).
    post
        Post-period indicator (0/1).
    covariates
        Optional controls added linearly.
    cluster
        Column to cluster on, or a list of two for two-way clustering (Cameron,
        Gelbach & Miller 2011).  Default: ``unit`` when given, otherwise no
        clustering and ``cov_type`` (HC1) robust errors.
    unit
        Unit identifier; rows must be unique per (unit, post).
    weights
        Column of sampling weights: weighted least squares (statsmodels ``WLS``, as
        pyfixest's ``feols(..., weights=)``), weighted cell means; rows of zero
        weight are dropped.
    cov_type
        Robust covariance used when there is no cluster (``HC0``–``HC3``).
    """
    if post in (treatment, outcome):
        raise RoleError(f"post column {post!r} cannot also be the treatment or the outcome")
    frame, _ = weighted_rows(data, weights)
    if unit is not None:
        frame = check_panel(frame, outcome=outcome, unit=unit, time=post)
    d = prepare(frame, treatment, outcome, covariates, min_per_arm=1,
                min_rows=len(as_column_list(covariates)) + 5, weights=weights)
    codes, cluster_used = cluster_codes(d.frame, cluster, unit, method="did")
    check_options(bootstrap, n_bootstrap, bootstrap_weights, codes, weights=weights)
    p = _post_indicator(d.frame, post)
    if post in d.covariates:
        raise RoleError(f"post column {post!r} cannot also be a covariate")
    if unit is not None and (pd.Series(d.t).groupby(d.frame[unit].to_numpy()).nunique() > 1).any():
        raise DataError(f"treatment column {treatment!r} changes within a unit; for a 2x2 DiD "
                        "it is the treated-group indicator (constant per unit), not the "
                        "treated-period dummy")
    cells = _cells(d.t, p, d.y, treatment, post, d.w)
    X = np.column_stack([np.ones(d.n), d.t, p, d.t * p, d.X])
    names = ["intercept", str(treatment), str(post), f"{treatment} x {post}",
             *map(str, d.covariates)]
    coef = fit_coefficient(d.y, X, index=3, cov_type=cov_type, groups=codes, names=names,
                           weights=d.w)
    m = cells["cell_means"]
    diagnostics = {
        **cells,
        "unadjusted_did": (m["treated_post"] - m["treated_pre"])
        - (m["control_post"] - m["control_pre"]),
        "cluster": cluster_used if cluster_used is not None else "(none)",
        "r_squared": float(coef.results.rsquared),
    }
    effect = Effect.from_estimate(
        method="did", estimand="ATT", estimate=coef.estimate, std_error=coef.std_error,
        alpha=alpha, df=coef.df, treatment=treatment, outcome=outcome,
        n_treated=int(d.t.sum()), n_control=int(d.n - d.t.sum()), n_obs=d.n,
        covariates=tuple(d.covariates),
        inference=f"{coef.inference}; "
                  + ("OLS" if d.w is None else f"WLS (sampling weights {weights!r})")
                  + " with group x post interaction",
        diagnostics=diagnostics)
    if bootstrap is None:
        return effect
    return bootstrap_effect(effect, d.y, X, np.eye(X.shape[1])[3], codes,
                            n_bootstrap=n_bootstrap, weights=bootstrap_weights,
                            impose_null=impose_null, random_state=random_state, names=names)
