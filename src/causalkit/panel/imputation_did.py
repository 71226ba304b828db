"""Borusyak, Jaravel & Spiess (2024) imputation estimator for staggered adoption.

1. Fit ``y_it = a_i + l_t (+ X_it'b)`` by least squares on the untreated rows only
   (never-treated units and the not-yet-treated periods of the others).
2. Impute ``Y_it(0)`` for every treated row and take ``tau_it = y_it - Y_it(0)``.
3. Average: the overall ATT is the mean of ``tau_it`` over all treated rows, the
   event-time effect at horizon ``h`` its mean over treated rows ``h = t - g``
   periods after adoption.

Each estimate is a linear functional ``sum_it v_it y_it`` (Theorem 1); its
conservative standard error (Theorem 3) is
``sqrt(sum_c (sum_{it in c} v_it e_it)^2)`` over clusters ``c`` (units by
default), with ``e_it`` the first-step residual on untreated rows and
``tau_it`` minus its cohort x horizon mean on treated rows.  The pre-trend test
(Test 1) regresses the untreated outcomes on the effects and on indicators of
the ``pretrend_leads`` periods before adoption (by default all but the farthest
ones that are collinear with the unit effects), and tests the leads jointly
(cluster-robust CR1 F, as ``event_study``); their coefficients are the
pre-period rows of ``diagnostics["event_study"]``.

Treated rows whose unit or period has no untreated row (units treated from the
first period on, periods in which every unit is treated) cannot be imputed:
they are dropped with a warning that counts them.

Reference: K. Borusyak, X. Jaravel and J. Spiess (2024), "Revisiting event-study
designs: robust and efficient estimation", Review of Economic Studies 91(6),
3253-3285.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n = 200; unit = np.repeat(np.arange(n), 6); t = np.tile(np.arange(6), n)
>>> g = np.repeat(rng.choice([0, 3, 4], n), 6)
>>> y = rng.normal(size=n)[unit] + 0.2 * t + np.where((g > 0) & (t >= g), 1.0, 0.0)
>>> df = pd.DataFrame({"id": unit, "t": t, "g": g, "y": y + rng.normal(size=n * 6)})
>>> eff = causalkit.estimate(df, outcome="y", method="imputation_did", unit="id",
...                          time="t", cohort="g")
>>> abs(eff.estimate - 1.0) < 0.3, eff.diagnostics["pretrend_p_value"] > 0.01
(True, True)
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..effect import Effect
from ..errors import EmptyArmError, EstimationError, OptionError
from ..registry import register
from ._eventtime import check_random_state, event_time_diagnostics
from ._imputation import Indicators, UntreatedModel
from ._staggered import StaggeredPanel, cluster_cov_from, group_matrix, staggered_panel


def imputable_rows(panel: StaggeredPanel, model: UntreatedModel, method: str) -> np.ndarray:
    """Treated rows whose untreated outcome can be imputed; warns with the count of the rest.

    Raises :class:`EmptyArmError` when no treated row can be imputed.
    """
    ok = panel.treated & model.fe.identified()
    lost = panel.treated & ~ok
    if lost.any():
        no_period = lost & (model.fe.period_count[panel.time] == 0)
        no_unit = lost & (model.fe.unit_count[panel.unit] == 0)
        periods = panel.periods[np.unique(panel.time[no_period])]
        parts = []
        if no_period.any():
            parts.append(f"{int(no_period.sum())} in period(s) "
                         f"{', '.join(f'{p:g}' for p in periods[:6])}"
                         f"{' ...' if len(periods) > 6 else ''} where every unit is treated "
                         "(no never-treated or not-yet-treated unit to compare with)")
        if no_unit.any():
            parts.append(f"{int(no_unit.sum())} of {len(np.unique(panel.unit[no_unit]))} "
                         "unit(s) treated in every observed period (no untreated row to "
                         "estimate their unit effect)")
        if not ok.any():
            raise EmptyArmError(f"{method}: no treated row can be imputed: "
                                + "; ".join(parts))
        warnings.warn(f"{method}: {int(lost.sum())} of {int(panel.treated.sum())} treated rows "
                      f"cannot be imputed and are dropped: " + "; ".join(parts), stacklevel=3)
    return ok


def _pretrend(panel: StaggeredPanel, model: UntreatedModel, leads: int | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                         Callable[[np.ndarray, int], np.ndarray], dict[str, Any]]:
    """Test 1 of Borusyak et al. on the untreated rows: the lead coefficients, their
    covariance, a function giving their score sums by cluster (codes of the untreated rows,
    number of clusters; scaled to carry the small-sample factor) and the F test.

    The leads are indicators, so the Frisch–Waugh steps are done on group sums, never
    on rows x leads matrices.
    """
    m = model.mask
    fe = model.fe
    e = panel.event_time[m]
    unit, time = fe.unit[m], fe.time[m]
    available = np.unique(e[np.isfinite(e)]).astype(int)
    available = available[available < 0][::-1]          # -1, -2, ...
    if leads is not None:
        available = available[:int(leads)]
    yr = model.fe.residualize(panel.y)[m]
    Xr = model.Xr[m]
    p = Xr.shape[1]
    while len(available):
        L = len(available)
        on = np.isin(e, available)
        code = np.where(on, L - 1 - np.searchsorted(available[::-1], np.where(on, e, -1)), -1)
        D = Indicators(code, np.ones(len(e)), L)
        alpha, lam = fe.effects(D.group_sums(unit, fe.n_units), D.group_sums(time, fe.n_periods))
        dpd = (group_matrix(code[on], None, unit[on], (L, fe.n_units)) @ alpha
               + group_matrix(code[on], None, time[on], (L, fe.n_periods)) @ lam)
        dx = D.moments(Xr).T                              # D'Xr = Dr'Xr (Xr is residualised)
        gram = np.block([[np.diag(D.totals()) - dpd, dx], [dx.T, Xr.T @ Xr]])
        gram = (gram + gram.T) / 2
        scale = np.sqrt(np.clip(np.diag(gram), 1e-300, None))
        eig = np.linalg.eigvalsh(gram / np.outer(scale, scale))
        if eig.min() > 1e-10 * max(eig.max(), 1.0):
            break
        # every pre-period of every cohort is a lead: their sum is the unit effects'
        available = available[:-1]
    empty = {"pretrend_F": float("nan"), "pretrend_df": 0, "pretrend_p_value": float("nan")}
    if not len(available):
        return available, np.empty(0), np.empty((0, 0)), \
            (lambda codes, G: np.zeros((G, 0))), empty
    bread = np.linalg.inv(gram)
    coef = bread @ np.concatenate([D.totals(yr), Xr.T @ yr])
    b_d, b_x = coef[:L], coef[L:]
    u = yr - (np.where(on, b_d[np.maximum(code, 0)], 0.0) - (alpha @ b_d)[unit]
              - (lam @ b_d)[time]) - Xr @ b_x

    def sums(codes: np.ndarray, G: int) -> np.ndarray:
        s_d = D.group_sums(codes, G, u) - (
            group_matrix(codes, u, unit, (G, fe.n_units)) @ alpha
            + group_matrix(codes, u, time, (G, fe.n_periods)) @ lam)
        s_x = group_matrix(codes, shape=(G, len(codes))) @ (Xr * u[:, None])
        return np.hstack([s_d, s_x]) @ bread

    n0, k = len(e), L + p
    clusters = panel.clusters[m]
    nested = any(bool((pd.Series(c).groupby(unit).nunique() == 1).all())
                 for c in clusters.reshape(n0, -1).T)
    counted = k + panel.n_periods if nested else k + panel.n_units + panel.n_periods - 1
    meat, G = cluster_cov_from(lambda codes: sums(codes, int(codes.max()) + 1), clusters,
                               small_sample=True)
    factor = (n0 - 1) / (n0 - counted)
    V = meat[:L, :L] * factor
    df = float(min(np.atleast_1d(G)) - 1)
    F = float(b_d @ np.linalg.solve(V, b_d)) / L
    Gmin = min(np.atleast_1d(G))
    scaled = np.sqrt(factor * Gmin / (Gmin - 1))
    return available, b_d, V, (lambda codes, G: sums(codes, G)[:, :L] * scaled), {
        "pretrend_F": F, "pretrend_df": L, "pretrend_p_value": float(stats.f.sf(F, L, df))}


@register("imputation_did", estimand="ATT", roles=("outcome", "unit", "time"),
          optional_roles=("treatment", "cohort", "covariates", "cluster"),
          uses_adjustment_set=False)
def imputation_did(data: pd.DataFrame, outcome: str, unit: str, time: str,
                   treatment: str | None = None, cohort: str | None = None,
                   covariates: Sequence[str] | None = None,
                   cluster: str | Sequence[str] | None = None,
                   alpha: float = 0.05, horizons: int | None = None,
                   pretrend_leads: int | None = None,
                   random_state: int | np.random.Generator = 0) -> Effect:
    """Borusyak–Jaravel–Spiess imputation DiD: overall and event-time ATT, pre-trend test.

    Parameters
    ----------
    treatment, cohort
        Exactly one: an absorbing 0/1 treatment column, or the first treated period
        (0 or missing for never treated).
    covariates
        Time-varying controls in the untreated-outcome model.
    cluster
        Column to cluster on (or a list of two, two-way); default ``unit``.
    horizons
        Largest event time reported in the event-time table (``None``: all);
        the overall ATT always averages every treated row.
    pretrend_leads
        Number of pre-adoption periods tested (``None``: all that are identified).
    random_state
        Seed of the simulation behind the uniform (sup-t) band.
    """
    check_random_state(random_state)
    for name, value, low in (("horizons", horizons, 0), ("pretrend_leads", pretrend_leads, 0)):
        if value is not None and (int(value) != value or value < low):
            raise OptionError(f"{name} must be an integer >= {low} or None, got {value!r}")
    panel = staggered_panel(data, outcome, unit, time, treatment, cohort, covariates, cluster,
                            method="imputation_did")
    model = UntreatedModel(panel.unit, panel.time, ~panel.treated, panel.X, panel.y,
                           panel.covariates)
    ok = imputable_rows(panel, model, "imputation_did")
    tau = np.where(ok, model.resid, 0.0)
    e = panel.event_time
    h_all = np.unique(e[ok]).astype(int)
    h_vals = h_all if horizons is None else h_all[h_all <= horizons]
    n1 = int(ok.sum())
    in_h = ok & np.isin(e, h_vals)
    code = np.where(in_h, np.searchsorted(h_vals, np.where(in_h, e, h_vals[0])), -1)
    n_h = np.bincount(code[in_h], minlength=len(h_vals))
    blocks = [Indicators(code, np.where(in_h, 1.0 / n_h[np.maximum(code, 0)], 0.0),
                         len(h_vals)),
              Indicators(np.where(ok, 0, -1), np.full(len(ok), 1.0 / n1), 1)]
    est = np.concatenate([blk.totals(tau) for blk in blocks])
    coefs = model.loading_coefs(blocks)
    # residuals: first step on untreated rows; tau minus its cohort x horizon mean on treated
    cell = pd.Series(tau[ok]).groupby([panel.cohort[ok], e[ok]]).transform("mean")
    resid = np.where(model.mask, model.resid, 0.0)
    resid[ok] = tau[ok] - cell.to_numpy()

    leads, b_pre, V_pre, pre_sums, pre_test = _pretrend(panel, model, pretrend_leads)

    def score_sums(codes: np.ndarray) -> np.ndarray:
        G = int(codes.max()) + 1
        imp = np.hstack([blk.group_sums(codes, G, resid) for blk in blocks]) \
            - model.loading_cluster_sums(coefs, resid, codes)
        return np.hstack([pre_sums(codes[model.mask], G), imp])

    joint, G = cluster_cov_from(score_sums, panel.clusters)
    L = len(leads)
    joint[:L, :L] = V_pre
    cov_imp = joint[L:, L:]
    se_all = float(np.sqrt(cov_imp[-1, -1]))
    keep = list(range(L)) + [L + j for j in range(len(h_vals))]
    event_t = np.concatenate([leads, h_vals])
    event_b = np.concatenate([b_pre, est[:-1]])
    diagnostics: dict[str, Any] = {
        **event_time_diagnostics(event_t, event_b, joint[np.ix_(keep, keep)], alpha,
                                 random_state=random_state),
        **pre_test, "pretrend_leads": [int(x) for x in leads],
        "n_imputed": n1, "dropped_treated_rows": int(panel.treated.sum()) - n1,
        "cluster": panel.cluster_name if panel.cluster_name is not None else unit,
        "n_clusters": G,
        "cohort_effects": pd.DataFrame({"cohort": panel.cohort[ok], "event_time": e[ok],
                                        "tau": tau[ok]}).groupby(
            ["cohort", "event_time"], as_index=False).agg(att=("tau", "mean"),
                                                          n_obs=("tau", "size")),
    }
    if not np.isfinite(se_all) or se_all <= 0:
        raise EstimationError("the imputation estimator's variance is not positive")
    units_treated = pd.unique(panel.unit[ok])
    return Effect.from_estimate(
        method="imputation_did", estimand="ATT", estimate=float(est[-1]), std_error=se_all,
        alpha=alpha, treatment=panel.treatment_name, outcome=outcome,
        n_treated=len(units_treated), n_control=panel.n_units - len(units_treated),
        n_obs=int(model.mask.sum()) + n1, covariates=tuple(panel.covariates),
        inference="conservative clustered variance of Borusyak, Jaravel & Spiess (2024, "
                  f"Theorem 3) over {G} clusters, normal critical values; overall ATT = "
                  "mean imputed effect over all treated rows",
        diagnostics=diagnostics)
