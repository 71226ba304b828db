"""Gardner's (2022) two-stage difference-in-differences (``did2s``).

Stage 1 fits unit and period effects (and covariates) on the untreated rows
(never-treated units, not-yet-treated periods), exactly as ``imputation_did``.
Stage 2 regresses the residualised outcome ``y_it - a_i - l_t - X_it'b`` on all
rows on the treatment indicator (the returned ATT) and, for the event-time
table, on one indicator per event time of the eventually treated units (the
period before adoption, ``e = -1``, is the reference).  The standard errors
are the GMM ones that account for the first stage (Gardner 2022, section 3;
Butts & Gardner 2022): with ``psi_c = X2_c'e2_c - X2'X1 (X10'X10)^{-1} X10_c'e1_c``
summed within clusters, ``V = (X2'X2)^{-1} (sum_c psi_c psi_c') (X2'X2)^{-1}``,
without small-sample factor, as the R ``did2s`` and pyfixest do.

The point estimates of the post-treatment event times equal the imputation
estimator's; those of the leads are mean first-stage residuals.

Reference: J. Gardner (2022), "Two-stage differences in differences",
arXiv:2207.05943; K. Butts and J. Gardner (2022), "did2s: Two-Stage
Difference-in-Differences", The R Journal 14(3).

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n = 200; unit = np.repeat(np.arange(n), 6); t = np.tile(np.arange(6), n)
>>> g = np.repeat(rng.choice([0, 3, 4], n), 6)
>>> y = rng.normal(size=n)[unit] + 0.2 * t + np.where((g > 0) & (t >= g), 1.0, 0.0)
>>> df = pd.DataFrame({"id": unit, "t": t, "g": g, "y": y + rng.normal(size=n * 6)})
>>> eff = causalkit.estimate(df, outcome="y", method="did2s", unit="id", time="t",
...                          cohort="g")
>>> abs(eff.estimate - 1.0) < 0.3
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import EstimationError
from ..registry import register
from ._eventtime import check_random_state, event_time_diagnostics
from ._imputation import UntreatedModel
from ._staggered import cluster_cov, staggered_panel
from .imputation_did import imputable_rows


@register("did2s", estimand="ATT", roles=("outcome", "unit", "time"),
          optional_roles=("treatment", "cohort", "covariates", "cluster"),
          uses_adjustment_set=False)
def did2s(data: pd.DataFrame, outcome: str, unit: str, time: str,
          treatment: str | None = None, cohort: str | None = None,
          covariates: Sequence[str] | None = None,
          cluster: str | Sequence[str] | None = None,
          alpha: float = 0.05, random_state: int | np.random.Generator = 0) -> Effect:
    """Gardner's two-stage DiD: static ATT and event-time effects with GMM standard errors.

    Parameters
    ----------
    treatment, cohort
        Exactly one: an absorbing 0/1 treatment column, or the first treated period.
    covariates
        Time-varying controls of the first stage.
    cluster
        Column to cluster on (or a list of two, two-way); default ``unit``.
    random_state
        Seed of the simulation behind the uniform (sup-t) band.
    """
    check_random_state(random_state)
    panel = staggered_panel(data, outcome, unit, time, treatment, cohort, covariates, cluster,
                            method="did2s")
    model = UntreatedModel(panel.unit, panel.time, ~panel.treated, panel.X, panel.y,
                           panel.covariates)
    ok = imputable_rows(panel, model, "did2s")
    rows = model.mask | ok                       # stage 2 sample: every row with a residual
    y2 = np.where(rows, model.resid, 0.0)
    e = panel.event_time
    ever = panel.cohort > 0
    events = np.unique(e[rows & ever]).astype(int)
    events = events[events != -1]
    X2 = np.column_stack([ok.astype(float)] +
                         [(rows & ever & (e == h)).astype(float) for h in events])
    counts = X2.sum(axis=0)                      # X2'X2 is diagonal within each regression
    if np.any(counts == 0):
        raise EstimationError("did2s: an event-time indicator has no rows")
    beta = (X2.T @ y2) / counts
    e2 = np.column_stack([y2 - X2[:, 0] * beta[0],                    # static regression
                          y2 - X2[:, 1:] @ beta[1:]])                 # event-time regression
    e2 = np.where(rows[:, None], e2, 0.0)
    f = model.loadings(X2, rows)
    e1 = np.where(model.mask, model.resid, 0.0)
    which = np.r_[0, np.ones(len(events), int)]
    psi = (X2 * e2[:, which] - f * e1[:, None]) / counts
    cov, G = cluster_cov(psi, panel.clusters)
    se = float(np.sqrt(cov[0, 0]))
    ev = slice(1, None)
    diagnostics: dict[str, Any] = {
        **event_time_diagnostics(events, beta[ev], cov[ev, ev], alpha, reference=[-1],
                                 random_state=random_state),
        "reference_periods": [-1],
        "first_stage_coefficients": dict(zip(panel.covariates, model.beta.tolist())),
        "n_first_stage": int(model.mask.sum()), "n_treated_rows": int(ok.sum()),
        "dropped_treated_rows": int(panel.treated.sum() - ok.sum()),
        "cluster": panel.cluster_name if panel.cluster_name is not None else unit,
        "n_clusters": G,
    }
    units_treated = pd.unique(panel.unit[ok])
    return Effect.from_estimate(
        method="did2s", estimand="ATT", estimate=float(beta[0]), std_error=se, alpha=alpha,
        treatment=panel.treatment_name, outcome=outcome, n_treated=len(units_treated),
        n_control=panel.n_units - len(units_treated), n_obs=int(rows.sum()),
        covariates=tuple(panel.covariates),
        inference=f"two-stage GMM variance (Gardner 2022) clustered over {G} clusters, "
                  "normal critical values; first stage on untreated rows",
        diagnostics=diagnostics)
