"""Sun & Abraham (2021) interaction-weighted (IW) event study.

Step 1 is a saturated two-way fixed-effects regression: one indicator per
treated cohort ``g`` and relative period ``e = t - g`` (``e = -1`` omitted for
every cohort), unit and period effects, the never-treated units as the
control cohort (or, when there are none, the last-treated cohort, with the
periods from its adoption on dropped).  Its coefficients ``delta_{g,e}`` are
the cohort-specific effects (``diagnostics["cohort_effects"]``), each free of
the contamination by other periods' effects that biases the ordinary TWFE event
study.  Step 2 averages them over cohorts with the cohorts' shares of the
rows at each relative period, ``w_{g,e} = n_{g,e} / sum_g' n_{g',e}``, giving
the IW event-time effects (``diagnostics["event_study"]``); the returned ATT
is the average of the post-treatment ``delta_{g,e}`` weighted by their row
counts (the mean effect over all treated rows).  Standard errors are the
clustered (CR1) sandwich of step 1 propagated through the weights, treated as
fixed as in fixest's ``sunab`` and pyfixest's saturated event study.

Balanced panels without covariates use an exact closed form (all regressors
vary by cohort and period only, so the within transformation is done on cohort x
period cells); otherwise the regression runs on linearmodels ``PanelOLS`` as
``event_study`` does.  Both give the same numbers.

Reference: L. Sun and S. Abraham (2021), "Estimating dynamic treatment effects in
event studies with heterogeneous treatment effects", Journal of Econometrics
225(2), 175-199.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(2)
>>> cohort = np.repeat(rng.choice([0, 4, 6], 240), 8)     # 240 units x 8 periods
>>> df = pd.DataFrame({"id": np.repeat(np.arange(240), 8), "t": np.tile(np.arange(8), 240),
...                    "g": cohort})
>>> e = df.t - df.g
>>> df["y"] = np.where((df.g > 0) & (e >= 0), 1.0 + 0.5 * e, 0.0) + rng.normal(size=len(df))
>>> eff = causalkit.estimate(df, outcome="y", method="sun_abraham", unit="id", time="t",
...                          cohort="g")
>>> iw = eff.diagnostics["event_study"].set_index("event_time")
>>> bool(abs(iw.loc[1, "att"] - 1.5) < 4 * iw.loc[1, "std_error"])
True
>>> eff.diagnostics["cohort_effects"].groupby("event_time").weight.sum().round(9).unique()
array([1.])
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import EmptyArmError, EstimationError
from ..linear import equilibrate, require_full_rank
from ..registry import register
from ._eventtime import check_random_state, event_time_diagnostics
from ._panel import fit_twfe
from ._staggered import StaggeredPanel, cluster_cov, staggered_panel, sum_by
from .event_study import wald_pretrend


def _restrict(panel: StaggeredPanel, keep: np.ndarray) -> StaggeredPanel:
    """The panel on the rows ``keep`` (units and periods recoded)."""
    fields = {k: v[keep] if isinstance(v, np.ndarray) and len(v) == len(keep) else v
              for k, v in panel.__dict__.items()}
    fields["frame"] = panel.frame.loc[keep]
    fields["unit"] = pd.factorize(panel.unit[keep])[0]
    periods, fields["time"] = np.unique(panel.periods[panel.time[keep]], return_inverse=True)
    fields["periods"] = periods
    return StaggeredPanel(**fields)


def _sample(panel: StaggeredPanel) -> tuple[StaggeredPanel, float, dict[str, Any]]:
    """Drop always-treated units and pick the control cohort (warning with the counts)."""
    notes: dict[str, Any] = {}
    first = panel.periods[0]
    always = (panel.cohort > 0) & (panel.cohort <= first)
    if always.any():
        n_u = len(np.unique(panel.unit[always]))
        warnings.warn(f"sun_abraham: {n_u} unit(s) treated from the first period on (cohort <= "
                      f"{first:g}) have no pre-treatment period and are dropped "
                      f"({int(always.sum())} rows)", stacklevel=3)
        notes["dropped_always_treated_units"] = n_u
        panel = _restrict(panel, ~always)
    if (panel.cohort == 0).any():
        return panel, 0.0, notes
    cohorts = np.unique(panel.cohort)
    if len(cohorts) < 2:
        raise EmptyArmError(
            "sun_abraham: every unit is in the same cohort "
            f"(first treated in {cohorts[0]:g}) and none is never treated: there is no "
            "control cohort")
    last = cohorts[-1]
    times = panel.periods[panel.time]
    late = times >= last
    warnings.warn(f"sun_abraham: no never-treated units; the last-treated cohort (first "
                  f"treated in {last:g}, {len(np.unique(panel.unit[panel.cohort == last]))} "
                  f"units) is the control cohort and the {int(late.sum())} rows from "
                  f"{last:g} on are dropped", stacklevel=3)
    notes["control_cohort"] = float(last)
    notes["dropped_late_rows"] = int(late.sum())
    return _restrict(panel, ~late), float(last), notes


def _cells(panel: StaggeredPanel, control: float) -> pd.DataFrame:
    """The (cohort, relative period) cells that get an indicator, with their row counts."""
    ev = (panel.cohort > 0) & (panel.cohort != control)
    cells = pd.DataFrame({"cohort": panel.cohort[ev], "event_time": panel.event_time[ev]})
    cells = cells.groupby(["cohort", "event_time"], as_index=False).size()
    cells = cells[cells.event_time != -1].rename(columns={"size": "n_obs"})
    if cells.empty:
        raise EmptyArmError("sun_abraham: no treated cohort has a relative period to estimate")
    return cells.reset_index(drop=True)


def _fit_cells(panel: StaggeredPanel, cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray,
                                                                    int]:
    """Closed-form saturated TWFE on a balanced panel, regressors varying by (cohort, period).

    Returns the coefficients, their CR1 clustered covariance (units nested in
    clusters: K = indicators + periods, as ``fit_twfe``) and the cluster count.
    """
    N, T = panel.n_units, panel.n_periods
    Y = np.empty((N, T))
    Y[panel.unit, panel.time] = panel.y
    unit_cohort = np.zeros(N)
    unit_cohort[panel.unit] = panel.cohort
    cohorts, c_of_unit = np.unique(unit_cohort, return_inverse=True)
    n_c = np.bincount(c_of_unit).astype(float)
    K = len(cells)
    X = np.zeros((len(cohorts), T, K))                  # indicators by cohort x period
    c_idx = np.searchsorted(cohorts, cells.cohort.to_numpy())
    t_idx = np.searchsorted(panel.periods, cells.cohort.to_numpy() + cells.event_time.to_numpy())
    X[c_idx, t_idx, np.arange(K)] = 1.0
    share = n_c / N
    Xt = (X - X.mean(axis=1, keepdims=True) - np.tensordot(share, X, 1)[None]
          + np.tensordot(share, X.mean(axis=1), 1)[None, None])
    Yt = Y - Y.mean(axis=1, keepdims=True) - Y.mean(axis=0) + Y.mean()
    S = sum_by(c_of_unit, Yt)                           # cohort x period sums of y
    stacked = (Xt * np.sqrt(n_c)[:, None, None]).reshape(-1, K)
    Xs, scales = equilibrate(stacked)
    names = [f"cohort {g:g}, e{int(e):+d}" for g, e in zip(cells.cohort, cells.event_time)]
    require_full_rank(Xs, "the saturated cohort x relative-period design", names)
    gram = stacked.T @ stacked
    beta = np.linalg.solve(gram, np.einsum("ctk,ct->k", Xt, S))
    fitted = Xt @ beta                                  # cohort x period
    E = Yt - fitted[c_of_unit]
    scores = np.empty((N, K))
    for c in range(len(cohorts)):                       # per cohort: its rows x Xt[c]
        members = c_of_unit == c
        scores[members] = E[members] @ Xt[c]
    unit_clusters = np.zeros(N, dtype=np.int64)
    unit_clusters[panel.unit] = panel.clusters
    meat, G = cluster_cov(scores, unit_clusters, small_sample=True)
    n = N * T
    bread = np.linalg.inv(gram)
    cov = bread @ meat @ bread * (n - 1) / (n - K - T)
    return beta, cov, int(G)


def _nested_one_way(panel: StaggeredPanel) -> bool:
    c = panel.clusters
    return c.ndim == 1 and bool((pd.Series(c).groupby(panel.unit).nunique() == 1).all())


@register("sun_abraham", estimand="ATT", roles=("outcome", "unit", "time"),
          optional_roles=("treatment", "cohort", "covariates", "cluster"),
          uses_adjustment_set=False)
def sun_abraham(data: pd.DataFrame, outcome: str, unit: str, time: str,
                treatment: str | None = None, cohort: str | None = None,
                covariates: Sequence[str] | None = None,
                cluster: str | Sequence[str] | None = None,
                alpha: float = 0.05, random_state: int | np.random.Generator = 0) -> Effect:
    """Sun–Abraham interaction-weighted event study: cohort effects, IW event-time effects.

    Parameters
    ----------
    treatment, cohort
        Exactly one: an absorbing 0/1 treatment column, or the first treated period
        (0 or missing for never treated).
    covariates
        Time-varying controls in the saturated regression.
    cluster
        Column to cluster on, or a list of two for two-way clustering; default ``unit``.
    random_state
        Seed of the simulation behind the uniform (sup-t) band.

    Notes
    -----
    Diagnostics: ``event_study`` (IW effects, pointwise CI and sup-t band),
    ``cohort_effects`` (every ``delta_{g,e}`` with its SE, row count and IW
    weight), the joint pre-trend F test on the IW leads, ``control_cohort``.
    """
    check_random_state(random_state)
    panel = staggered_panel(data, outcome, unit, time, treatment, cohort, covariates, cluster,
                            method="sun_abraham")
    panel, control, notes = _sample(panel)
    cells = _cells(panel, control)
    if panel.balanced() and not panel.covariates and _nested_one_way(panel):
        beta, V, G = _fit_cells(panel, cells)
        n_clusters: Any = G
        df = float(G - 1)
        how = (f"cluster-robust ({G} clusters, CR1, t with G-1 df); unit and period fixed "
               "effects (closed form on cohort x period cells)")
    else:
        dummies = pd.DataFrame({
            f"c{j}": ((panel.cohort == g) & (panel.event_time == e)).astype(float)
            for j, (g, e) in enumerate(zip(cells.cohort, cells.event_time))})
        regressors = dummies.copy()
        for c in panel.covariates:
            regressors[c] = panel.frame[c].to_numpy(dtype=float)
        frame = panel.frame.reset_index(drop=True)
        fit = fit_twfe(frame, outcome, regressors, unit, time, panel.clusters)
        beta = fit.params[list(dummies.columns)].to_numpy()
        V = fit.cov.loc[dummies.columns, dummies.columns].to_numpy()
        n_clusters, df, how = fit.n_clusters, fit.df, fit.inference
    se = np.sqrt(np.diag(V))
    cells = cells.assign(att=beta, std_error=se)
    cells["weight"] = cells.n_obs / cells.groupby("event_time").n_obs.transform("sum")
    e_vals = np.sort(cells.event_time.unique())
    Wm = np.zeros((len(e_vals), len(cells)))
    Wm[np.searchsorted(e_vals, cells.event_time.to_numpy()), np.arange(len(cells))] = \
        cells.weight.to_numpy()
    iw, iw_cov = Wm @ beta, Wm @ V @ Wm.T
    post = (cells.event_time >= 0).to_numpy()
    if not post.any():
        raise EstimationError("sun_abraham: no post-treatment relative period to estimate")
    w_att = np.where(post, cells.n_obs, 0.0) / cells.n_obs[post].sum()
    pre = e_vals < 0
    diagnostics: dict[str, Any] = {
        **event_time_diagnostics(e_vals, iw, iw_cov, alpha, df, reference=[-1],
                                 random_state=random_state),
        "reference_periods": [-1],
        "cohort_effects": cells[["cohort", "event_time", "att", "std_error", "n_obs",
                                 "weight"]],
        **wald_pretrend(iw[pre], iw_cov[np.ix_(pre, pre)], df),
        "control_cohort": control if control else "never treated",
        "cluster": panel.cluster_name if panel.cluster_name is not None else unit,
        "n_clusters": n_clusters, **notes,
    }
    treated_units = len(np.unique(panel.unit[(panel.cohort > 0) & (panel.cohort != control)]))
    return Effect.from_estimate(
        method="sun_abraham", estimand="ATT", estimate=float(w_att @ beta),
        std_error=float(np.sqrt(w_att @ V @ w_att)), alpha=alpha, df=df,
        treatment=panel.treatment_name, outcome=outcome, n_treated=treated_units,
        n_control=panel.n_units - treated_units, n_obs=len(panel.y),
        covariates=tuple(panel.covariates),
        inference=f"{how}; interaction-weighted (Sun & Abraham 2021) with cohort-share "
                  "weights held fixed; ATT = row-weighted mean of post-treatment cohort effects",
        diagnostics=diagnostics)
