"""Event study: leads and lags of treatment in a two-way fixed-effects regression.

For treated units with cohort ``g`` (first treated period) the event time is
``e = t - g``.  The outcome is regressed on one indicator per event time (the
period before treatment, ``e = -1``, is the reference and omitted) with unit
and period fixed effects (linearmodels ``PanelOLS``) and standard errors
clustered by unit.  Event times beyond ``leads`` / ``lags`` are binned into the
end points.  Without never-treated units the earliest lead is also omitted,
since unit, period and event-time effects are otherwise collinear.

Reported: every coefficient with its CI (``diagnostics["event_study"]``), a joint
Wald F test that all pre-treatment coefficients are zero (a test of parallel
pre-trends), and as the estimate the average of the post-treatment
coefficients (``e >= 0``).  :func:`plot_event_study` draws the coefficients,
their pointwise intervals and the uniform (sup-t) band.

.. warning::
   Like ``twfe``, the TWFE event study mixes cohorts with possibly negative
   weights when effects differ across cohorts (Sun & Abraham 2021), and the
   leads can then show spurious pre-trends.  Under staggered adoption use
   ``callaway_santanna``, whose ``diagnostics["event_study"]`` is the clean
   dynamic aggregation and is plotted the same way.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n = 120; unit = np.repeat(np.arange(n), 6); t = np.tile(np.arange(6), n)
>>> g = np.repeat(np.where(np.arange(n) < 60, 3, 0), 6)
>>> y = rng.normal(size=n)[unit] + 0.2 * t + np.where((g > 0) & (t >= g), 1.0, 0.0)
>>> df = pd.DataFrame({"id": unit, "t": t, "g": g, "y": y + rng.normal(size=n * 6)})
>>> eff = causalkit.estimate(df, outcome="y", method="event_study", unit="id", time="t",
...                          cohort="g")
>>> abs(eff.estimate - 1.0) < 0.3, eff.diagnostics["pretrend_p_value"] > 0.01
(True, True)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..effect import Effect
from ..errors import EstimationError, OptionError
from ..registry import register
from ..validation import weighted_rows
from ..wild_bootstrap import check_options, document_options
from ._eventtime import check_random_state, event_time_diagnostics, plot_event_study
from ._panel import (check_panel, cluster_codes, cohort_column, cohort_from_treatment,
                     covariate_columns, fit_twfe, require_treated_after_start, wild_twfe)
from .twfe import treatment_path


def event_dummies(event_time: np.ndarray, treated: np.ndarray, leads: int | None,
                  lags: int | None, drop: Sequence[int]) -> pd.DataFrame:
    """One 0/1 column per event time (named ``e-2``, ``e+0``...), end points binned."""
    e = event_time.astype(float).copy()
    if leads is not None:
        e = np.where(e < -leads, -leads, e)
    if lags is not None:
        e = np.where(e > lags, lags, e)
    values = sorted(int(v) for v in np.unique(e[treated]) if int(v) not in drop)
    return pd.DataFrame({f"e{v:+d}": (treated & (e == v)).astype(float) for v in values})


def wald_pretrend(params: np.ndarray, cov: np.ndarray, df: float) -> dict[str, float]:
    """Joint F test that the given (pre-treatment) coefficients are all zero."""
    q = len(params)
    if q == 0:
        return {"pretrend_F": float("nan"), "pretrend_df": 0, "pretrend_p_value": float("nan")}
    stat = float(params @ np.linalg.solve(cov, params)) / q
    return {"pretrend_F": stat, "pretrend_df": q,
            "pretrend_p_value": float(stats.f.sf(stat, q, df))}


@register("event_study", estimand="ATT", roles=("outcome", "unit", "time"),
          optional_roles=("treatment", "cohort", "covariates", "cluster", "weights"),
          uses_adjustment_set=False)
@document_options
def event_study(data: pd.DataFrame, outcome: str, unit: str, time: str,
                treatment: str | None = None, cohort: str | None = None,
                covariates: Sequence[str] | None = None,
                cluster: str | Sequence[str] | None = None, weights: str | None = None,
                alpha: float = 0.05, leads: int | None = None, lags: int | None = None,
                bootstrap: str | None = None, n_bootstrap: int = 9999,
                bootstrap_weights: str = "rademacher", impose_null: bool = True,
                random_state: int | np.random.Generator = 0) -> Effect:
    """TWFE event study with leads/lags, a joint pre-trend test, clustered by unit.

    Parameters
    ----------
    treatment, cohort
        Exactly one: an absorbing 0/1 treatment column, or the first treated period
        (0 or missing for never treated).
    leads, lags
        Largest number of pre / post periods with their own coefficient; event
        times beyond are binned into the end point.  ``None`` keeps them all.
    cluster
        Column to cluster on, or a list of two for two-way clustering; default ``unit``.
    random_state
        Seed of the simulation behind the uniform (sup-t) band.

    Notes
    -----
    ``diagnostics["event_study"]`` is the tidy event-time frame shared by the
    family (pointwise intervals and the uniform band,
    :mod:`causalkit.panel._eventtime`).
    weights
        Column of sampling weights (e.g. population): weighted least squares with the
        fixed effects, as pyfixest's ``feols(..., weights=)`` and Stata's ``[aweight=]``;
        rows of zero weight are dropped.
    """
    check_random_state(random_state)
    for name, value in (("leads", leads), ("lags", lags)):
        if value is not None and (int(value) != value or value < (2 if name == "leads" else 0)):
            raise OptionError(f"{name} must be an integer >= {2 if name == 'leads' else 0} "
                              f"or None, got {value!r}")
    frame, w = weighted_rows(data, weights)
    frame = check_panel(frame, outcome=outcome, unit=unit, time=time)
    covs = covariate_columns(frame, covariates, reserved=[
        c for c in (outcome, unit, time, treatment, cohort, weights) if c is not None])
    d, name = treatment_path(frame, treatment, cohort, unit, time)
    g = (cohort_column(frame, cohort, unit) if cohort is not None
         else cohort_from_treatment(frame, treatment, unit, time))
    times = frame[time].to_numpy(dtype=float)
    require_treated_after_start((g > 0) & (times >= g), f"column {name!r}")
    treated = g > 0
    event_time = np.where(treated, times - g, 0.0)
    drop = [-1]
    if not (~treated).any():
        drop.append(int((event_time if leads is None else
                          np.maximum(event_time, -leads)).min()))
    dummies = event_dummies(event_time, treated, leads, lags, drop)
    if dummies.empty:
        raise EstimationError("no event-time indicator is left to estimate")
    regressors = dummies.copy()
    for c in covs:
        regressors[c] = frame[c].to_numpy(dtype=float)
    codes, cluster_used = cluster_codes(frame, cluster, unit, method="event_study")
    check_options(bootstrap, n_bootstrap, bootstrap_weights, codes, weights=weights)
    fit = fit_twfe(frame, outcome, regressors, unit, time, codes, weights=w)

    cols = list(dummies.columns)
    e_vals = np.array([int(c[1:]) for c in cols])
    b = fit.params[cols].to_numpy()
    V = fit.cov.loc[cols, cols].to_numpy()
    post = e_vals >= 0
    if not post.any():
        raise EstimationError("no post-treatment event time is left to estimate")
    w = post / post.sum()
    pre = e_vals < 0
    diagnostics: dict[str, Any] = {
        **event_time_diagnostics(e_vals, b, V, alpha, fit.df, drop, random_state),
        "reference_periods": drop,
        "event_study_vcov": pd.DataFrame(V, index=e_vals, columns=e_vals),
        **wald_pretrend(b[pre], V[np.ix_(pre, pre)], fit.df),
        "cluster": cluster_used, "n_clusters": fit.n_clusters,
    }
    effect = Effect.from_estimate(
        method="event_study", estimand="ATT", estimate=float(b @ w),
        std_error=float(np.sqrt(w @ V @ w)), alpha=alpha, df=fit.df, treatment=name,
        outcome=outcome, n_treated=int(frame.loc[treated, unit].nunique()),
        n_control=int(frame.loc[~treated, unit].nunique()), n_obs=len(frame),
        covariates=tuple(covs),
        inference=f"{fit.inference}; estimate = mean of post-treatment event-time coefficients",
        diagnostics=diagnostics)
    R = np.concatenate([w, np.zeros(len(covs))])
    return wild_twfe(effect, frame, outcome, regressors, R, unit, time, codes,
                     bootstrap=bootstrap, n_bootstrap=n_bootstrap,
                     bootstrap_weights=bootstrap_weights, impose_null=impose_null,
                     random_state=random_state)


__all__ = ["event_study", "event_dummies", "plot_event_study", "wald_pretrend"]
