"""Two-way fixed-effects (TWFE) difference-in-differences on a unit-period panel.

Regresses the outcome on the treatment indicator ``D_it`` (and optional
covariates) with unit and period fixed effects, by linearmodels' ``PanelOLS``,
with standard errors clustered by unit (or ``cluster``)::

    y_it = a_i + l_t + tau D_it + X_it'g + e_it

.. warning::
   With staggered adoption and effects that differ across cohorts or change with
   time since treatment, ``tau`` is a weighted average of group-time effects with
   weights that can be negative (Goodman-Bacon 2021; de Chaisemartin &
   D'Haultfœuille 2020): it is biased for the ATT and can even have the wrong
   sign, because already-treated units serve as controls.  Use
   ``callaway_santanna`` (method ``"callaway_santanna"``) for staggered designs;
   TWFE is fine for a common treatment date or a constant effect.

The treatment may be given as a 0/1 column (``treatment``) or as a ``cohort``
column (first treated period, 0 or missing for never treated), from which
``D_it = 1[t >= cohort]`` is built.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n = 100; unit = np.repeat(np.arange(n), 4); t = np.tile(np.arange(4), n)
>>> d = ((unit < 50) & (t >= 2)).astype(int)
>>> y = rng.normal(size=n)[unit] + 0.3 * t + 1.5 * d + rng.normal(size=4 * n)
>>> df = pd.DataFrame({"id": unit, "t": t, "d": d, "y": y})
>>> eff = causalkit.estimate(df, "d", "y", method="twfe", unit="id", time="t")
>>> abs(eff.estimate - 1.5) < 0.3
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import ConstantColumnError, RoleError
from ..registry import register
from ..validation import weighted_rows
from ..validation import binary_treatment
from ..wild_bootstrap import check_options, document_options
from ._panel import (check_panel, cluster_codes, cohort_column, covariate_columns, fit_twfe,
                     require_treated_after_start, wild_twfe)


def treatment_path(frame: pd.DataFrame, treatment: str | None, cohort: str | None,
                   unit: str, time: str) -> tuple[np.ndarray, str]:
    """The 0/1 treatment of every row, from ``treatment`` or built from ``cohort``."""
    if (treatment is None) == (cohort is None):
        raise RoleError("give exactly one of treatment= (a 0/1 column) or cohort= "
                        "(the period of first treatment)")
    if treatment is not None:
        d = binary_treatment(frame, treatment)
        name = treatment
    else:
        g = cohort_column(frame, cohort, unit)
        d = ((g > 0) & (frame[time].to_numpy(dtype=float) >= g)).astype(int)
        name = str(cohort)
    require_treated_after_start(d == 1, f"column {name!r}")
    if (pd.Series(d).groupby(frame[unit].to_numpy()).nunique() == 1).all():
        raise ConstantColumnError(
            f"treatment {name!r} never changes within a unit, so the unit effects absorb it; "
            "give the treatment status of each unit-period (or cohort=), not a treated-group "
            "indicator (for a group x period design use method='did' with post=)")
    return d, name


@register("twfe", estimand="ATT", roles=("outcome", "unit", "time"),
          optional_roles=("treatment", "cohort", "covariates", "cluster", "weights"),
          uses_adjustment_set=False)
@document_options
def twfe(data: pd.DataFrame, outcome: str, unit: str, time: str,
         treatment: str | None = None, cohort: str | None = None,
         covariates: Sequence[str] | None = None,
         cluster: str | Sequence[str] | None = None, weights: str | None = None,
         alpha: float = 0.05, bootstrap: str | None = None, n_bootstrap: int = 9999,
         bootstrap_weights: str = "rademacher", impose_null: bool = True,
         random_state: int = 0) -> Effect:
    """Two-way fixed-effects DiD (unit and period effects, PanelOLS), clustered by unit.

    Biased under staggered adoption with cohort-varying effects: see the module
    docstring and use ``callaway_santanna`` there.

    Parameters
    ----------
    treatment, cohort
        Exactly one: a 0/1 treatment column, or the period of first treatment.
    covariates
        Time-varying controls.
    cluster
        Column to cluster on, or a list of two for two-way clustering; default ``unit``.
    weights
        Column of sampling weights (e.g. population): weighted least squares with the
        fixed effects, as pyfixest's ``feols(..., weights=)`` and Stata's ``[aweight=]``;
        rows of zero weight are dropped.
    """
    frame, w = weighted_rows(data, weights)
    frame = check_panel(frame, outcome=outcome, unit=unit, time=time)
    covs = covariate_columns(frame, covariates, reserved=[
        c for c in (outcome, unit, time, treatment, cohort, weights) if c is not None])
    d, name = treatment_path(frame, treatment, cohort, unit, time)
    codes, cluster_used = cluster_codes(frame, cluster, unit, method="twfe")
    check_options(bootstrap, n_bootstrap, bootstrap_weights, codes, weights=weights)
    regressors = pd.DataFrame({"treatment": d.astype(float)})
    for c in covs:
        regressors[c] = frame[c].to_numpy(dtype=float)
    fit = fit_twfe(frame, outcome, regressors, unit, time, codes, weights=w)
    units_treated = frame.loc[d == 1, unit].nunique()
    effect = Effect.from_estimate(
        method="twfe", estimand="ATT", estimate=float(fit.params["treatment"]),
        std_error=float(np.sqrt(fit.cov.loc["treatment", "treatment"])), alpha=alpha,
        df=fit.df, treatment=name, outcome=outcome, n_treated=int(units_treated),
        n_control=int(frame[unit].nunique() - units_treated), n_obs=len(frame),
        covariates=tuple(covs), inference=fit.inference,
        diagnostics={"cluster": cluster_used, "n_clusters": fit.n_clusters,
                     "within_r_squared": float(fit.results.rsquared_within),
                     "warning": "biased under staggered adoption with heterogeneous "
                                "effects; see callaway_santanna"})
    R = np.eye(regressors.shape[1])[0]
    return wild_twfe(effect, frame, outcome, regressors, R, unit, time, codes,
                     bootstrap=bootstrap, n_bootstrap=n_bootstrap,
                     bootstrap_weights=bootstrap_weights, impose_null=impose_null,
                     random_state=random_state)
