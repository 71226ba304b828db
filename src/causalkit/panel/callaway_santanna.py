"""Callaway & Sant'Anna (2021) difference-in-differences with staggered adoption.

Units belong to cohorts ``g`` (the period they are first treated; 0 or missing for
never treated).  For every cohort ``g`` and period ``t`` the group-time effect
``ATT(g, t)`` is a two-period DiD of cohort ``g`` against a clean comparison group
(never-treated units, or units not yet treated by ``max(t, base)``), between ``t``
and a base period (``g - 1`` for post-treatment cells; for pre-treatment cells the
previous period with ``base_period="varying"`` or ``g - 1`` with ``"universal"``).
Each cell uses the doubly robust estimator of Sant'Anna & Zhao (2020) (or outcome
regression / IPW), with base-period covariates.  The cells are then aggregated:

* ``simple``  — average of post-treatment ``ATT(g, t)`` weighted by cohort size;
* ``group``   — average over cohorts of each cohort's mean post-treatment effect;
* ``dynamic`` — average over event times ``e = t - g >= 0`` of the cohort-size
  weighted ``ATT`` at each ``e`` (the event-study aggregation);
* ``calendar`` — average over periods of the cohort-size weighted post-treatment
  ``ATT(g, t)`` at each period.

Repeated cross-sections (``panel=False``) and unbalanced panels
(``allow_unbalanced_panel=True``) use the observation-level estimators of
Sant'Anna & Zhao (2020) for repeated cross-sections in each cell (the rows of
its two periods), clustered by unit, as R ``did``.

Standard errors come from the influence functions (the cohort-share weights'
own estimation error included), clustered by unit, or from the multiplier
bootstrap with Rademacher weights (``n_bootstrap``, ``random_state``).  Unlike
two-way fixed effects (``twfe``) this is unbiased when effects differ across
cohorts or grow over time.

Reference: B. Callaway and P. H. C. Sant'Anna (2021), "Difference-in-differences
with multiple time periods", Journal of Econometrics 225(2), 200–230.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n, periods = 300, np.arange(1, 6)
>>> g = rng.choice([0, 3, 4], n)
>>> unit = np.repeat(np.arange(n), 5); t = np.tile(periods, n); gg = np.repeat(g, 5)
>>> y = rng.normal(size=n)[unit] + 0.2 * t + np.where((gg > 0) & (t >= gg), 1.0, 0.0)
>>> df = pd.DataFrame({"id": unit, "t": t, "g": gg, "y": y + rng.normal(0, .5, n * 5)})
>>> eff = causalkit.estimate(df, outcome="y", method="callaway_santanna",
...                          unit="id", time="t", cohort="g")
>>> abs(eff.estimate - 1.0) < 0.2
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..effect import Effect
from ..errors import DataError, EmptyArmError, EstimationError, OptionError
from ..inference import critical_value
from ..registry import register
from ..validation import as_column_list, weighted_rows
from ._drdid import METHODS, att_two_period
from ._drdid_rc import att_repeated_cross_section
from ._eventtime import event_time_diagnostics
from ._panel import (balanced_grid, check_panel, cluster_codes, cohort_column,
                     covariate_columns, require_treated_after_start, unit_clusters)

AGGREGATIONS = ("simple", "group", "dynamic", "calendar")
CONTROL_GROUPS = ("never_treated", "not_yet_treated")


@dataclass
class GroupTime:
    """Group-time ATTs with their influence functions (units x cells; observations x
    cells for repeated cross-sections, ``unit_cohort`` / ``unit_weight`` then per row)."""

    group: np.ndarray
    time: np.ndarray
    att: np.ndarray
    inf: np.ndarray
    info: list[dict[str, Any]]
    unit_cohort: np.ndarray
    unit_weight: np.ndarray         # per-unit sampling weights, mean one (ones: unweighted)


def _wide(frame: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str,
          covariates: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                           np.ndarray]:
    """Units x periods outcome array, per-unit cohort, periods, covariates and unit ids."""
    g_rows = cohort_column(frame, cohort, unit)
    units, u_idx, periods, t_idx = balanced_grid(
        frame, unit, time, "callaway_santanna needs every unit observed in every period: "
        "pass allow_unbalanced_panel=True (observation-level cells clustered by unit, as R "
        "did) or panel=False for repeated cross-sections")
    Y = np.empty((len(units), len(periods)))
    Y[u_idx, t_idx] = frame[outcome].to_numpy(dtype=float)
    Xc = np.empty((len(units), len(periods), len(covariates)))
    if covariates:
        Xc[u_idx, t_idx, :] = frame[covariates].to_numpy(dtype=float)
    g = np.zeros(len(units))
    g[u_idx] = g_rows
    return Y, g, periods, Xc, units


#: A cell estimator: (treated, control, period index, base index) -> (ATT, influence
#: on the full n-unit / n-row scale), or the reason the cell is skipped.
CellFit = Callable[[np.ndarray, np.ndarray, int, int], "tuple[float, np.ndarray] | str"]


def panel_cell(Y: np.ndarray, Xc: np.ndarray, est_method: str,
               covariates: Sequence[Any] | None, weights: np.ndarray | None) -> CellFit:
    """Cell estimator of a balanced panel: the two-period DiD on the units' changes
    (base-period covariates, :func:`~._drdid.att_two_period`)."""
    def fit(treated: np.ndarray, control: np.ndarray, ti: int, bi: int
            ) -> tuple[float, np.ndarray] | str:
        if int(control.sum()) < 2:
            return "fewer than 2 comparison units"
        keep = treated | control
        X = np.column_stack([np.ones(int(keep.sum())), Xc[keep, bi, :]])
        att, inf_sub = att_two_period(Y[keep, ti] - Y[keep, bi], treated[keep].astype(int),
                                      X, est_method, names=covariates,
                                      weights=None if weights is None else weights[keep])
        column = np.zeros(len(treated))
        column[keep] = inf_sub * len(treated) / keep.sum()
        return att, column
    return fit


def cross_section_cell(y: np.ndarray, t_idx: np.ndarray, X_rows: np.ndarray, est_method: str,
                       covariates: Sequence[Any] | None, weights: np.ndarray | None
                       ) -> CellFit:
    """Cell estimator of repeated cross-sections / unbalanced panels: the observations of
    the two periods (:func:`~._drdid_rc.att_repeated_cross_section`, row covariates)."""
    def fit(treated: np.ndarray, control: np.ndarray, ti: int, bi: int
            ) -> tuple[float, np.ndarray] | str:
        at = {ti: t_idx == ti, bi: t_idx == bi}
        for when in (ti, bi):
            if int((control & at[when]).sum()) < 2 or not (treated & at[when]).any():
                return "fewer than 2 comparison or no treated observations in a period"
        keep = (treated | control) & (at[ti] | at[bi])
        X = np.column_stack([np.ones(int(keep.sum())), X_rows[keep]])
        att, inf_sub = att_repeated_cross_section(
            y[keep], treated[keep].astype(int), at[ti][keep].astype(int), X, est_method,
            names=covariates, weights=None if weights is None else weights[keep])
        column = np.zeros(len(treated))
        column[keep] = inf_sub * len(treated) / keep.sum()
        return att, column
    return fit


def group_time_att(g: np.ndarray, periods: np.ndarray, cell: CellFit,
                   control_group: str = "never_treated", base_period: str = "varying",
                   weights: np.ndarray | None = None, anticipation: int = 0) -> GroupTime:
    """Every estimable ATT(g, t) and its influence function on the full set of units
    (or observations: ``g`` is the cohort of each, ``cell`` the two-period estimator).

    ``weights`` are the per-unit (per-row) sampling weights of mean one (``None``:
    unweighted), used by the aggregations' cohort shares.  With
    ``anticipation`` = a, effects may start a periods before ``g``: the
    (universal) base period is the last one before ``g - a`` and not-yet-treated
    comparison units must be untreated until ``max(t, base) + a``.
    """
    cohorts = np.unique(g[(g - anticipation > periods[0]) & (g <= periods[-1])])
    cells_g, cells_t, atts, infs, info = [], [], [], [], []
    for gv in cohorts:
        before = np.flatnonzero(periods < gv - anticipation)
        for ti in range(1, len(periods)):
            t = periods[ti]
            if t < gv - anticipation and base_period == "varying":
                bi = ti - 1
            else:
                bi = before[-1]
                if bi == ti:
                    continue
            treated = g == gv
            if control_group == "never_treated":
                control = g == 0
            else:
                control = (g == 0) | ((g > max(t, periods[bi]) + anticipation) & (g != gv))
            out = cell(treated, control, ti, bi)
            if isinstance(out, str):
                info.append({"group": gv, "time": t, "skipped": out})
                continue
            cells_g.append(gv), cells_t.append(t), atts.append(out[0]), infs.append(out[1])
            info.append({"group": gv, "time": t, "base_period": periods[bi],
                         "n_treated": int(treated.sum()), "n_control": int(control.sum())})
    if not atts:
        raise EmptyArmError("no group-time effect could be estimated: every cohort lacks "
                            "comparison units (try control_group='not_yet_treated')")
    return GroupTime(np.array(cells_g), np.array(cells_t), np.array(atts),
                     np.column_stack(infs), info, g,
                     np.ones(len(g)) if weights is None else np.asarray(weights, dtype=float))


def _weight_inf(keep: np.ndarray, pg: np.ndarray, cell_group: np.ndarray,
                unit_cohort: np.ndarray, unit_weight: np.ndarray) -> np.ndarray:
    """Influence function of the estimated weights pg[k] / sum(pg[keep]) (units x |keep|);
    ``pg`` are the (sampling-weighted) cohort shares."""
    indic = (unit_weight[:, None] * (unit_cohort[:, None] == cell_group[keep][None, :])
             - pg[keep])
    total = pg[keep].sum()
    return indic / total - np.outer(indic.sum(axis=1), pg[keep] / total ** 2)


def _combine(gt: GroupTime, keep: np.ndarray, pg: np.ndarray | None
             ) -> tuple[float, np.ndarray]:
    """Weighted average of cells ``keep`` (cohort-share weights, or equal when pg is None)."""
    att = gt.att[keep]
    if pg is None:
        w = np.full(len(att), 1.0 / len(att))
        return float(att @ w), gt.inf[:, keep] @ w
    w = pg[keep] / pg[keep].sum()
    inf = gt.inf[:, keep] @ w + _weight_inf(keep, pg, gt.group, gt.unit_cohort,
                                            gt.unit_weight) @ att
    return float(att @ w), inf


def aggregate(gt: GroupTime) -> dict[str, Any]:
    """The simple, group, dynamic and calendar aggregations with their influence functions.

    Calendar (R ``did``'s ``type="calendar"``): at each period t the cohort-share
    weighted average of the post-treatment ATT(g, t), and their mean over t.
    Cohort shares are weighted by the sampling weights (if any).
    """
    pg_cohort = {gv: np.mean(gt.unit_weight * (gt.unit_cohort == gv))
                 for gv in np.unique(gt.group)}
    pg = np.array([pg_cohort[gv] for gv in gt.group])
    post = gt.time >= gt.group
    if not post.any():
        raise EmptyArmError("no post-treatment group-time cell could be estimated")
    out: dict[str, Any] = {"simple": _combine(gt, post, pg)}

    cohorts = np.unique(gt.group[post])
    by_g = [_combine(gt, post & (gt.group == gv), None) for gv in cohorts]
    att_g = np.array([a for a, _ in by_g])
    inf_g = np.column_stack([f for _, f in by_g])
    sub = GroupTime(cohorts, cohorts, att_g, inf_g, [], gt.unit_cohort, gt.unit_weight)
    pgc = np.array([pg_cohort[gv] for gv in cohorts])
    out["group"] = _combine(sub, np.ones(len(cohorts), bool), pgc)
    out["by_group"] = (cohorts, att_g, inf_g)

    event = gt.time - gt.group
    e_values = np.unique(event)
    by_e = [_combine(gt, event == e, pg) for e in e_values]
    att_e = np.array([a for a, _ in by_e])
    inf_e = np.column_stack([f for _, f in by_e])
    pos = e_values >= 0
    out["dynamic"] = (float(att_e[pos].mean()), inf_e[:, pos].mean(axis=1))
    out["by_event"] = (e_values, att_e, inf_e)

    times = np.unique(gt.time[post])                 # calendar: cohort-share weights per t
    by_t = [_combine(gt, post & (gt.time == tv), pg) for tv in times]
    att_t = np.array([a for a, _ in by_t])
    inf_t = np.column_stack([f for _, f in by_t])
    out["calendar"] = (float(att_t.mean()), inf_t.mean(axis=1))
    out["by_time"] = (times, att_t, inf_t)
    return out


def _cluster_sums(inf: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Influence functions summed within clusters (clusters x m)."""
    summed = np.zeros((int(clusters.max()) + 1, inf.shape[1]))
    np.add.at(summed, clusters, inf)
    return summed


def _covariance(inf: np.ndarray, clusters: np.ndarray, diagonal: bool = False
                ) -> np.ndarray:
    """Analytic covariance of the columns of an influence-function matrix (units x m).

    One way: (summed influence)'(summed influence) / n^2 over clusters; with two
    cluster columns (``clusters`` units x 2) the two-way covariance of Cameron,
    Gelbach & Miller (2011), ``V_a + V_b - V_ab`` (``ab`` the intersection
    clusters).  ``diagonal``: only the variances (a vector).
    """
    inf = np.atleast_2d(inf.T).T
    n = inf.shape[0]

    def cross(c: np.ndarray) -> np.ndarray:
        summed = _cluster_sums(inf, c)
        return (summed ** 2).sum(axis=0) if diagonal else summed.T @ summed

    if clusters.ndim == 2:
        both = pd.factorize(pd.MultiIndex.from_arrays(clusters.T))[0]
        cov = cross(clusters[:, 0]) + cross(clusters[:, 1]) - cross(both)
    else:
        cov = cross(clusters)
    return cov / n ** 2


def _std_errors(inf: np.ndarray, clusters: np.ndarray, n_bootstrap: int,
                rng: np.random.Generator | None) -> np.ndarray:
    """Standard errors of columns of an influence-function matrix (units x m).

    Analytic: the root of the diagonal of :func:`_covariance` (NaN where a
    two-way variance is negative).  Bootstrap: the multiplier bootstrap with
    one Rademacher weight per cluster, the SE being the interquartile range of
    the draws over that of the standard normal.
    """
    if clusters.ndim == 2 or not n_bootstrap:
        var = _covariance(inf, clusters, diagonal=True)
        return np.sqrt(np.where(var >= 0, var, np.nan))      # NaN: a negative variance
    inf = np.atleast_2d(inf.T).T
    n = inf.shape[0]
    summed = _cluster_sums(inf, clusters)
    n_cl = summed.shape[0]
    assert rng is not None
    v = rng.choice([-1.0, 1.0], size=(n_bootstrap, n_cl))
    draws = v @ summed / n
    q75, q25 = np.percentile(draws, [75, 25], axis=0)
    return (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))


def _event_cov(inf: np.ndarray, clusters: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Covariance of the event-time effects: the clustered influence-function correlation
    scaled by the standard errors ``se`` (analytic or bootstrap)."""
    cov = _covariance(inf, clusters)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(np.outer(sd, sd) > 0, cov / np.outer(sd, sd), 0.0)
    np.fill_diagonal(corr, 1.0)
    return corr * np.outer(se, se)


def _table(keys: np.ndarray, att: np.ndarray, se: np.ndarray, alpha: float,
           key_name: str) -> pd.DataFrame:
    crit = critical_value(alpha)
    return pd.DataFrame({key_name: keys, "att": att, "std_error": se,
                         "ci_low": att - crit * se, "ci_high": att + crit * se})


def _pretrend_test(gt: GroupTime, se_source: np.ndarray) -> dict[str, float]:
    """Wald test that every pre-treatment ATT(g, t) is zero (influence-function covariance)."""
    pre = gt.time < gt.group
    k = int(pre.sum())
    if k == 0:
        return {"pretrend_chi2": float("nan"), "pretrend_df": 0, "pretrend_p_value": float("nan")}
    psi = se_source[:, pre]
    cov = psi.T @ psi / psi.shape[0] ** 2
    a = gt.att[pre]
    stat = float(a @ np.linalg.pinv(cov) @ a)
    rank = int(np.linalg.matrix_rank(cov))
    return {"pretrend_chi2": stat, "pretrend_df": rank,
            "pretrend_p_value": float(stats.chi2.sf(stat, rank))}


def _unit_weights(frame: pd.DataFrame, row_w: np.ndarray, unit: Any, units: np.ndarray,
                  weights: Any) -> np.ndarray:
    """Per-unit sampling weights (in the order of ``units``); they must not vary within a
    unit (a :class:`DataError` naming the column)."""
    by_unit = pd.Series(row_w).groupby(frame[unit].to_numpy())
    if (by_unit.nunique() > 1).any():
        raise DataError(f"weights column {weights!r} varies within unit "
                        f"{(by_unit.nunique() > 1).idxmax()!r}; callaway_santanna takes one "
                        "sampling weight per unit")
    return by_unit.first().loc[units].to_numpy(dtype=float)


def _rows(frame: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str,
          covariates: list[str], cluster: Any, periods: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observation-level inputs: cohort, unit id, period index, outcome and covariates per
    row, and the cluster codes per row (``cluster``, else ``unit``)."""
    g = cohort_column(frame, cohort, unit)
    t_idx = np.searchsorted(periods, frame[time].to_numpy(dtype=float))
    y = frame[outcome].to_numpy(dtype=float)
    X = frame[covariates].to_numpy(dtype=float).reshape(len(frame), len(covariates))
    codes, _ = cluster_codes(frame, cluster, unit, method="callaway_santanna")
    codes = np.asarray(codes).reshape(len(frame), -1)
    clusters = np.column_stack([pd.factorize(c)[0] for c in codes.T])
    return (g, frame[unit].to_numpy(), t_idx, np.column_stack([y, X]),
            clusters[:, 0] if clusters.shape[1] == 1 else clusters)


def _to_units(gt: GroupTime, units: np.ndarray) -> tuple[GroupTime, np.ndarray]:
    """An unbalanced panel's observation-level cells as a units x cells influence matrix
    (each unit's rows summed, on the n-unit scale) with per-unit cohorts and weights, so
    the aggregations' cohort shares count units, as R ``did``; and the unit ids."""
    codes, ids = pd.factorize(units)
    inf = np.zeros((len(ids), gt.inf.shape[1]))
    np.add.at(inf, codes, gt.inf)
    first = np.unique(codes, return_index=True)[1]
    w = gt.unit_weight[first]
    return (GroupTime(gt.group, gt.time, gt.att, inf * len(ids) / len(units), gt.info,
                      gt.unit_cohort[first], w / w.mean()), np.asarray(ids))


@register("callaway_santanna", estimand="ATT", roles=("outcome", "unit", "time", "cohort"),
          optional_roles=("covariates", "cluster", "weights"), needs_binary_treatment=False,
          uses_adjustment_set=False)
def callaway_santanna(data: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str,
                      covariates: Sequence[str] | None = None,
                      cluster: str | Sequence[str] | None = None,
                      weights: str | None = None, alpha: float = 0.05,
                      control_group: str = "never_treated",
                      est_method: str = "dr", aggregation: str = "simple",
                      base_period: str = "varying", anticipation: int = 0,
                      panel: bool = True, allow_unbalanced_panel: bool = False,
                      n_bootstrap: int = 0,
                      random_state: int | np.random.Generator | None = None,
                      ) -> Effect:
    """Callaway–Sant'Anna (2021) staggered-adoption DiD: ATT(g, t) and its aggregations.

    Parameters
    ----------
    unit
        Unit id; with ``panel=False`` the id of each row's cluster (rows need not be
        unique per unit and period; a row id gives unclustered SEs, as R ``did``).
    cohort
        Period of first treatment per unit (constant within unit); 0, NaN or inf
        marks never-treated units.  Units treated in the first period are dropped.
    covariates
        Time-varying columns are taken at each cell's base period.
    cluster
        Column constant within units to cluster on (units are always clusters), or
        a list of two such columns for two-way clustering (analytic SEs only).
    weights
        Column of per-unit sampling weights (constant within each unit; per row with
        ``panel=False``), as the R
        ``did`` package's ``weightsname`` (Python ``csdid``'s ``weights_name``):
        normalized to mean one over the units, they weight every cell's
        estimator (weighted logit, weighted outcome regression) and the cohort
        shares of the aggregations.  Units of zero weight are dropped.
    control_group
        ``"never_treated"`` (default) or ``"not_yet_treated"``.
    est_method
        ``"dr"`` (doubly robust, default), ``"reg"`` or ``"ipw"``.
    aggregation
        Which aggregation is the returned estimate: ``"simple"`` (default),
        ``"group"``, ``"dynamic"`` or ``"calendar"``.  All four are in ``diagnostics``.
    base_period
        ``"varying"`` (default, as the R ``did`` package) or ``"universal"``.
    anticipation
        Number of periods before ``cohort`` in which treatment may already act (the
        base period and the not-yet-treated controls move back by as many; R ``did``).
    panel
        ``False`` for repeated cross-sections (each row its own observation): each
        cell uses the repeated cross-section estimators of Sant'Anna & Zhao (2020)
        on the rows of its two periods, with the rows' own covariates.
    allow_unbalanced_panel
        With ``True`` an unbalanced panel is estimated at the observation level as
        with ``panel=False``, clustered by unit (R ``did``'s
        ``allow_unbalanced_panel=TRUE``); a balanced panel is unaffected.  Without
        it an unbalanced panel is a :class:`DataError` naming this option.
    n_bootstrap
        0 for analytic influence-function SEs; otherwise the number of multiplier
        bootstrap draws (seeded by ``random_state``).
    random_state
        Seed (or ``numpy`` Generator) of the multiplier bootstrap; unused when
        ``n_bootstrap=0``.

    Notes
    -----
    Diagnostics: ``att_gt`` (table of every cell), ``event_study`` and
    ``group_effects`` tables, each aggregation's estimate and SE, and a Wald
    pre-trend test on the pre-treatment cells.
    """
    for name, value, allowed in (("control_group", control_group, CONTROL_GROUPS),
                                 ("est_method", est_method, METHODS),
                                 ("aggregation", aggregation, AGGREGATIONS),
                                 ("base_period", base_period, ("varying", "universal"))):
        if value not in allowed:
            raise OptionError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    if isinstance(anticipation, bool) or int(anticipation) != anticipation or anticipation < 0:
        raise OptionError(f"anticipation must be an integer >= 0, got {anticipation!r}")
    if int(n_bootstrap) < 0:
        raise OptionError(f"n_bootstrap must be >= 0, got {n_bootstrap!r}")
    for name, flag in (("panel", panel), ("allow_unbalanced_panel", allow_unbalanced_panel)):
        if not isinstance(flag, (bool, np.bool_)):
            raise OptionError(f"{name} must be True or False, got {flag!r}")
    frame, row_w = weighted_rows(data, weights)
    frame = check_panel(frame, outcome=outcome, unit=unit, time=time, unique_rows=panel)
    covs = covariate_columns(frame, covariates, reserved=[
        c for c in (outcome, unit, time, cohort, weights) if c is not None])
    periods = np.unique(frame[time].to_numpy(dtype=float))
    if len(periods) < 2:
        raise DataError(f"time column {time!r} has a single period; DiD needs at least two")
    balanced = len(frame) == frame[unit].nunique() * len(periods)
    rows = not panel or (allow_unbalanced_panel and not balanced)
    if rows:
        g, units, t_idx, yx, clusters = _rows(frame, outcome, unit, time, cohort, covs,
                                              cluster, periods)
        unit_w = row_w if row_w is None or not panel else _unit_weights(
            frame, row_w, unit, units, weights)
    else:
        Y, g, periods, Xc, units = _wide(frame, outcome, unit, time, cohort, covs)
        unit_w = None if row_w is None else _unit_weights(frame, row_w, unit, units, weights)
    require_treated_after_start((g > 0) & (g <= periods[-1]), f"cohort column {cohort!r}")
    always = (g > 0) & (g <= periods[0])
    if always.all():
        raise EmptyArmError("every treated unit is treated from the first period on; there "
                            "is no pre-treatment period to compare with")
    g, units = g[~always], units[~always]
    if unit_w is not None:
        unit_w = unit_w[~always] / unit_w[~always].mean()
    if control_group == "never_treated" and not (g == 0).any():
        raise EmptyArmError(f"cohort column {cohort!r} has no never-treated units (0 or NaN); "
                            "use control_group='not_yet_treated'")
    if rows:
        yx, clusters = yx[~always], clusters[~always]
        cell = cross_section_cell(yx[:, 0], t_idx[~always], yx[:, 1:], est_method, covs,
                                  unit_w)
        n_obs = len(g)
    else:
        Y, Xc = Y[~always], Xc[~always]
        clusters = unit_clusters(frame, cluster, unit, units, method="callaway_santanna")
        cell = panel_cell(Y, Xc, est_method, covs, unit_w)
        n_obs = Y.size
    if clusters.ndim == 2 and n_bootstrap:
        raise OptionError("two-way clustering (cluster= a list of two columns) is available "
                          "with analytic standard errors only (n_bootstrap=0)")

    gt = group_time_att(g, periods, cell, control_group, base_period, unit_w,
                        int(anticipation))
    if rows and panel:                       # unbalanced panel: aggregate over units
        gt, unit_ids = _to_units(gt, units)
        clusters = unit_clusters(frame, cluster, unit, unit_ids, method="callaway_santanna")
    agg = aggregate(gt)
    rng = np.random.default_rng(random_state) if n_bootstrap else None
    e_vals, att_e, inf_e = agg["by_event"]
    g_vals, att_g, inf_g = agg["by_group"]
    t_vals, att_t, inf_t = agg["by_time"]
    everything = np.column_stack([agg[a][1] for a in AGGREGATIONS]
                                 + [gt.inf, inf_e, inf_g, inf_t])
    se_all = _std_errors(everything, clusters, int(n_bootstrap), rng)
    se_agg, rest = se_all[:len(AGGREGATIONS)], se_all[len(AGGREGATIONS):]
    se_gt, rest = rest[:len(gt.att)], rest[len(gt.att):]
    se_e, rest = rest[:len(e_vals)], rest[len(e_vals):]
    se_g, se_t = rest[:len(g_vals)], rest[len(g_vals):]

    att_gt = pd.DataFrame([c for c in gt.info if "skipped" not in c])
    att_gt = att_gt.assign(att=gt.att, std_error=se_gt)
    crit = critical_value(alpha)
    att_gt["ci_low"] = att_gt.att - crit * att_gt.std_error
    att_gt["ci_high"] = att_gt.att + crit * att_gt.std_error
    diagnostics: dict[str, Any] = {}
    for i, name in enumerate(AGGREGATIONS):
        diagnostics[f"{name}_att"] = agg[name][0]
        diagnostics[f"{name}_se"] = float(se_agg[i])
    diagnostics.update(_pretrend_test(gt, gt.inf))
    diagnostics.update({
        "control_group": control_group, "est_method": est_method, "base_period": base_period,
        "n_units": len(pd.unique(units)), "n_periods": len(periods),
        "estimator": "repeated cross-sections" if rows else "panel",
        "dropped_always_treated": int(always.sum()),
        "skipped_cells": [c for c in gt.info if "skipped" in c],
        "att_gt": att_gt,
        **event_time_diagnostics(e_vals, att_e, _event_cov(inf_e, clusters, se_e), alpha,
                                 random_state=0 if random_state is None else random_state),
        "event_study_vcov": pd.DataFrame(_covariance(inf_e, clusters), index=e_vals,
                                         columns=e_vals),
        "group_effects": _table(g_vals, att_g, se_g, alpha, "group"),
        "calendar_effects": _table(t_vals, att_t, se_t, alpha, "time"),
        "anticipation": int(anticipation),
    })
    def count(mask: np.ndarray) -> int:                 # units (rows of cross-sections)
        return len(pd.unique(units[mask])) if panel else int(mask.sum())

    idx = AGGREGATIONS.index(aggregation)
    if not np.isfinite(se_agg[idx]):
        raise EstimationError(f"the two-way cluster-robust variance of the {aggregation} "
                              "aggregation is negative (too few clusters); cluster on one "
                              "column")
    how = (f"multiplier bootstrap ({int(n_bootstrap)} Rademacher draws)" if n_bootstrap
           else "analytic influence function")
    n_clusters = " x ".join(str(len(np.unique(c)))
                            for c in clusters.reshape(len(clusters), -1).T)
    return Effect.from_estimate(
        method="callaway_santanna", estimand="ATT", estimate=agg[aggregation][0],
        std_error=float(se_agg[idx]), alpha=alpha, treatment=cohort, outcome=outcome,
        n_treated=count(g > 0), n_control=count(g == 0), n_obs=n_obs,
        covariates=tuple(covs),
        inference=f"{how}, clustered ({n_clusters} clusters); {aggregation} aggregation of "
                  f"ATT(g,t), {est_method} estimator, {control_group} controls"
                  + (f"; sampling weights {weights!r}" if weights is not None else ""),
        diagnostics=diagnostics)
