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
>>> rng = np.random.default_rng(1)
>>> n, T = 150, 5
>>> first = rng.choice([0, 2, 3], n)                     # first treated period, 0: never
>>> df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(T), n)})
>>> df["d"] = ((first[df.id] > 0) & (df.t >= first[df.id])).astype(int)
>>> df["y"] = rng.normal(size=n)[df.id] + 0.5 * df.t + 2.0 * df.d + rng.normal(size=n * T)
>>> two = causalkit.estimate(df, "d", "y", method="did2s", unit="id", time="t")
>>> imp = causalkit.estimate(df, "d", "y", method="imputation_did", unit="id", time="t")
>>> abs(two.estimate - 2.0) < 0.3, abs(two.estimate - imp.estimate) < 1e-12
(True, True)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import EstimationError
from ..registry import register
from ._eventtime import check_random_state, event_time_diagnostics
from ._imputation import Indicators, UntreatedModel
from ._staggered import cluster_cov_from, staggered_panel
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
    on = rows & ever & np.isin(e, events)
    code = np.where(on, np.searchsorted(events, np.where(on, e, events[0])), -1)
    blocks = [Indicators(np.where(ok, 0, -1), np.ones(len(ok)), 1),        # static: D_it
              Indicators(code, np.ones(len(ok)), len(events))]             # event times
    counts = np.concatenate([blk.totals() for blk in blocks])   # X2'X2 is diagonal per block
    if np.any(counts == 0):
        raise EstimationError("did2s: an event-time indicator has no rows")
    beta = np.concatenate([blk.totals(y2) for blk in blocks]) / counts
    e2 = [np.where(rows, y2 - np.where(ok, beta[0], 0.0), 0.0),
          np.where(rows, y2 - np.where(on, beta[1:][np.maximum(code, 0)], 0.0), 0.0)]
    coefs = model.loading_coefs(blocks)
    e1 = np.where(model.mask, model.resid, 0.0)

    def score_sums(codes: np.ndarray) -> np.ndarray:
        G = int(codes.max()) + 1
        second = np.hstack([blk.group_sums(codes, G, r) for blk, r in zip(blocks, e2)])
        return (second - model.loading_cluster_sums(coefs, e1, codes)) / counts

    cov, G = cluster_cov_from(score_sums, panel.clusters)
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
