"""Panel-data helpers shared by the difference-in-differences estimators.

Validation of unit/period panels (no duplicate unit-period rows, cohorts constant
within a unit, someone treated after treatment starts), conversion of a binary
treatment path to a cohort (period of first treatment), and a two-way
fixed-effects least-squares fit on :class:`linearmodels.PanelOLS` with
cluster-robust covariance.  Private: used by ``did``, ``twfe``,
``event_study`` and ``callaway_santanna``.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"i": [1, 1, 2, 2], "t": [1, 2, 1, 2], "d": [0, 1, 0, 0]})
>>> cohort_from_treatment(df, "d", "i", "t").tolist()
[2.0, 2.0, 0.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import (DataError, DuplicatePanelRowError, EmptyArmError, EstimationError,
                      RoleError)
from ..linear import equilibrate, factorize_clusters, require_full_rank
from ..validation import as_column_list, binary_treatment, check_frame, cluster_groups, \
    require_columns, require_finite


def check_panel(data: Any, *, outcome: str, unit: str, time: str,
                numeric_roles: dict[str, str | Sequence[str] | None] | None = None,
                unique_rows: bool = True) -> pd.DataFrame:
    """Validate a long unit-period panel and return it as a DataFrame.

    ``outcome``, ``time`` and every column in ``numeric_roles`` must exist, be
    numeric and finite; ``unit`` must exist and have no missing values (it may be
    a string).  Each (unit, time) pair may appear only once (unless ``unique_rows``
    is False: repeated cross-sections whose ``unit`` is a cluster id).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"i": [1, 1], "t": [1, 1], "y": [0.0, 1.0]})
    >>> try:
    ...     check_panel(df, outcome="y", unit="i", time="t")
    ... except DuplicatePanelRowError as err:
    ...     print(str(err)[:45])
    the panel has 1 duplicate unit-period row(s):
    """
    roles: dict[str, Any] = {"outcome": outcome, "time": time}
    roles.update(numeric_roles or {})
    frame = check_frame(data, roles=roles)
    require_columns(frame, unit, role="unit")
    require_finite(frame, [unit], role="unit")
    if unit == time:
        raise RoleError(f"unit and time are the same column {unit!r}")
    dup = frame.duplicated([unit, time], keep="first") if unique_rows else np.zeros(1, bool)
    if dup.any():
        first = frame.loc[dup, [unit, time]].iloc[0]
        raise DuplicatePanelRowError(
            f"the panel has {int(dup.sum())} duplicate unit-period row(s): e.g. "
            f"{unit}={first[unit]!r}, {time}={first[time]!r} appears more than once; "
            "each unit may have one row per period (aggregate or drop the duplicates)")
    return frame


def cohort_from_treatment(frame: pd.DataFrame, treatment: str, unit: str, time: str,
                          absorbing: bool = True, zero_is_never: bool = True) -> np.ndarray:
    """Per-row cohort (first period with treatment 1; 0 for never treated units).

    With ``absorbing`` a unit whose treatment switches back to 0 is an error,
    because event-time and cohort methods assume treatment stays on.  With
    ``zero_is_never`` (the callers that use the codes) a unit first treated in
    period 0 is an error, since its cohort code would read as never treated.
    """
    d = binary_treatment(frame, treatment)
    times = frame[time].to_numpy(dtype=float)
    first = pd.Series(np.where(d == 1, times, np.inf)).groupby(
        frame[unit].to_numpy()).transform("min").to_numpy()
    if absorbing:
        should = (times >= first).astype(int)
        bad = should != d
        if bad.any():
            units = frame[unit].to_numpy()
            who = units[bad][0]
            n_bad = len(pd.unique(units[bad]))
            raise DataError(
                f"treatment column {treatment!r} switches off again for unit {who!r} "
                f"({n_bad} of {len(pd.unique(units))} units, {int(bad.sum())} rows treated "
                "0 after a 1); this method needs staggered adoption (once treated, always "
                "treated); for treatments that switch on and off use dcdh")
    if zero_is_never and np.any(first == 0):
        who = frame[unit].to_numpy()[first == 0][0]
        who = who.item() if hasattr(who, "item") else who
        raise DataError(
            f"unit {who!r} is first treated in period 0 of {time!r}, but cohort 0 is the code "
            "for never treated units, so it would be counted as a control; recode the time "
            "column so that no treated unit starts in period 0 (e.g. number periods from 1)")
    return np.where(np.isfinite(first), first, 0.0)


def cohort_column(frame: pd.DataFrame, cohort: str, unit: str) -> np.ndarray:
    """Per-row cohort from a cohort column (0, missing or infinite = never treated).

    The cohort must be constant within each unit (a cohort that varies points to
    ``dcdh``, the estimator for treatments that switch on and off).
    """
    require_columns(frame, cohort, role="cohort")
    col = frame[cohort]
    if not pd.api.types.is_numeric_dtype(col):
        raise DataError(f"cohort column {cohort!r} must be numeric (the period of first "
                        f"treatment, 0 for never treated), but has dtype {col.dtype}")
    g = col.to_numpy(dtype=float)
    g = np.where(np.isfinite(g), g, 0.0)
    spread = pd.Series(g).groupby(frame[unit].to_numpy()).nunique()
    if (spread > 1).any():
        raise DataError(f"cohort column {cohort!r} varies within unit {spread.idxmax()!r}; "
                        "it must be the (constant) period in which the unit is first treated "
                        "(for a treatment that switches on and off use method='dcdh')")
    return g


def require_treated_after_start(treated_post: np.ndarray, what: str) -> None:
    """Raise :class:`EmptyArmError` unless some row is treated in an observed post period.

    ``treated_post`` flags the rows (or units) treated in an observed period.
    """
    if not np.any(treated_post):
        raise EmptyArmError(
            f"no unit is treated in any observed post-treatment period ({what}); the effect "
            "is not identified: check the treatment/cohort coding and the time range")


def cluster_codes(frame: pd.DataFrame, cluster: Any, unit: Any, max_columns: int = 2,
                  method: str = "this method") -> tuple[np.ndarray | None, Any]:
    """Integer cluster codes from ``cluster`` (or ``unit`` by default) and the column(s) used.

    ``cluster`` may be a list of two columns (two-way clustering): the codes are
    then an n x 2 array and the column used is the list.
    """
    codes, names = cluster_groups(frame, cluster if cluster is not None else unit,
                                  max_columns=max_columns, method=method)
    if codes is None:
        return None, None
    return codes, names[0] if len(names) == 1 else names


@dataclass(frozen=True)
class PanelFit:
    """Coefficients, their clustered covariance and the fitted linearmodels results.

    ``n_clusters`` is the number of clusters, a pair for two-way clustering.
    """

    params: pd.Series
    cov: pd.DataFrame
    n_clusters: int | tuple[int, int]
    df: float
    inference: str
    results: Any


def fit_twfe(frame: pd.DataFrame, outcome: Any, regressors: pd.DataFrame, unit: Any,
             time: Any, clusters: np.ndarray, weights: np.ndarray | None = None) -> PanelFit:
    """OLS (WLS with sampling ``weights``) with unit and period fixed effects (linearmodels
    ``PanelOLS``), clustered SE.

    The covariance is the cluster-robust sandwich with the CR1 factor
    G/(G-1) * (n-1)/(n-K); with two cluster columns (``clusters`` n x 2) it is
    the two-way sandwich of Cameron, Gelbach & Miller (2011), each of its three
    terms with its own G/(G-1).  When every unit lies within one cluster (the
    default, clustering by unit) the unit effects are nested in the clusters and
    are not counted in K = slopes + periods (as in Stata's ``xtreg, fe
    vce(cluster)`` and ``reghdfe``); with two-way clustering the same holds when
    the units nest in either cluster dimension (the period effects are always
    counted).  Otherwise K counts every absorbed effect, as the LSDV
    regression in statsmodels does.  Inference uses t with G-1 degrees of
    freedom (the smaller G for two-way).  The regressors are equilibrated
    (:func:`~causalkit.linear.equilibrate`) before the fit, so their units do
    not matter, and a collinear set of regressors is refused by name.
    """
    from linearmodels.panel import PanelOLS
    from linearmodels.panel.utility import AbsorbingEffectError

    codes, counts = factorize_clusters(clusters)
    if min(counts) < 2:
        raise EstimationError("clustered standard errors need at least 2 clusters"
                              + (" in each dimension" if len(counts) > 1 else ""))
    names = list(regressors.columns)
    # a constant beside the effects (reported by linearmodels as the grand mean) makes a
    # covariate that is collinear only after the effects are removed show up as absorbed
    Xs, scales = equilibrate(np.column_stack([np.ones(len(frame)),
                                              regressors.to_numpy(dtype=float)]))
    require_full_rank(Xs, "the two-way fixed-effects design (treatment and covariates)",
                      ["intercept", *names])
    index = pd.MultiIndex.from_arrays([frame[unit].to_numpy(), frame[time].to_numpy()],
                                      names=["unit", "time"])
    labels = [str(c) for c in names]                       # linearmodels wants text labels
    if len(set(labels)) < len(labels) or "const" in labels:
        labels = [f"{c} (#{j})" for j, c in enumerate(labels)]
    exog = pd.DataFrame(Xs, index=index, columns=["const", *labels])
    dep = pd.Series(frame[outcome].to_numpy(dtype=float), index=index, name="y")
    cluster_frame = pd.DataFrame(np.asarray(codes).reshape(len(frame), -1), index=index)
    sample_weights = None if weights is None else pd.Series(weights, index=index, name="w")
    try:
        model = PanelOLS(dep, exog, entity_effects=True, time_effects=True,
                         drop_absorbed=False, check_rank=True, weights=sample_weights)
        res = model.fit(cov_type="clustered", clusters=cluster_frame,
                        debiased=True, group_debias=True, count_effects=False)
    except (ValueError, AbsorbingEffectError) as err:  # absorbed or collinear regressors
        raise EstimationError(f"the two-way fixed-effects regression failed: {err}") from err
    slopes = slice(1, None)
    scales = scales[slopes]
    params = pd.Series(res.params.to_numpy()[slopes] / scales, index=regressors.columns)
    n_obs, n_slopes = len(frame), regressors.shape[1]
    unit_codes = frame[unit].to_numpy()
    nested = any(bool((pd.Series(c).groupby(unit_codes).nunique() == 1).all())
                 for c in np.asarray(codes).reshape(len(frame), -1).T)
    n_counted = n_slopes + frame[time].nunique() if nested else n_obs - int(res.df_resid)
    # linearmodels always divides by n - slopes - all absorbed effects; undo for nested ones
    cov = pd.DataFrame(res.cov.to_numpy()[slopes, slopes] / np.outer(scales, scales)
                       * (float(res.df_resid) / (n_obs - n_counted)),
                       index=regressors.columns, columns=regressors.columns)
    if not np.all(np.isfinite(params)) or not np.all(np.isfinite(np.diag(cov))):
        raise EstimationError("the two-way fixed-effects regression gave non-finite estimates: "
                              "a regressor is collinear with the unit and period effects")
    two_way = len(counts) == 2
    what = (f"two-way cluster-robust ({counts[0]} x {counts[1]} clusters, CR1 "
            "Cameron-Gelbach-Miller, t with min(G)-1 df)" if two_way else
            f"cluster-robust ({counts[0]} clusters, CR1, t with G-1 df)")
    if weights is not None:
        what = f"weighted least squares (sampling weights); {what}"
    return PanelFit(params=params, cov=cov,
                    n_clusters=(counts[0], counts[1]) if two_way else counts[0],
                    df=float(min(counts) - 1),
                    inference=f"{what}; unit and period fixed effects (linearmodels PanelOLS)",
                    results=res)


def covariate_columns(frame: pd.DataFrame, covariates: str | Sequence[str] | None,
                      reserved: Sequence[str]) -> list[str]:
    """Validated covariate names, none of which may be one of the ``reserved`` role columns."""
    covs = as_column_list(covariates)
    clash = [c for c in covs if c in reserved]
    if clash:
        raise RoleError(f"column {clash[0]!r} is used in another role and cannot be a covariate")
    check_frame(frame, roles={"covariates": covs})
    return covs


def wild_twfe(effect: Any, frame: pd.DataFrame, outcome: Any, regressors: pd.DataFrame,
              R: np.ndarray, unit: Any, time: Any, clusters: np.ndarray | None, *,
              bootstrap: str | None, n_bootstrap: int, bootstrap_weights: str,
              impose_null: bool, random_state: int, max_dummies: int = 5000) -> Any:
    """``effect`` with the wild cluster bootstrap of ``R'beta`` in the two-way FE regression.

    The fixed effects nested in the clusters (the unit effects when clustering by
    unit or a coarser group; else the period effects when those nest) are
    partialled out exactly; the other set enters as dummies.  Without
    ``bootstrap`` the effect is returned as it is.
    """
    from ..wild_bootstrap import bootstrap_effect, check_options

    check_options(bootstrap, n_bootstrap, bootstrap_weights, clusters)
    if bootstrap is None:
        return effect
    cl = pd.factorize(np.asarray(clusters))[0]

    def nested(col: Any) -> bool:
        return bool((pd.Series(cl).groupby(frame[col].to_numpy()).nunique() == 1).all())

    absorbed, other = (unit, time) if nested(unit) else (time, unit) if nested(time) else (None,
                                                                                           None)
    if absorbed is None:
        raise EstimationError("the wild cluster bootstrap with unit and period fixed effects "
                              "needs the units (or the periods) nested within the clusters")
    dummies = pd.get_dummies(frame[other].to_numpy(), drop_first=True, dtype=float)
    if dummies.shape[1] > max_dummies:
        raise EstimationError(f"the wild bootstrap would need {dummies.shape[1]} {other!r} "
                              f"dummies (more than {max_dummies}); cluster on {unit!r} or a "
                              "coarser group in which the units are nested")
    X = np.column_stack([regressors.to_numpy(dtype=float), dummies.to_numpy()])
    names = [*map(str, regressors.columns), *[f"{other}={c}" for c in dummies.columns]]
    return bootstrap_effect(effect, frame[outcome].to_numpy(dtype=float), X,
                            np.concatenate([R, np.zeros(dummies.shape[1])]), cl,
                            n_bootstrap=n_bootstrap, weights=bootstrap_weights,
                            impose_null=impose_null, random_state=random_state,
                            absorb=frame[absorbed].to_numpy(), names=names)


def unit_clusters(frame: pd.DataFrame, cluster: Any, unit: Any, units: np.ndarray,
                  method: str = "this method") -> np.ndarray:
    """Cluster codes per unit (in the order of ``units``): the units themselves by default,
    else each cluster column, which must be constant within units (units x 1 or x 2).

    >>> df = pd.DataFrame({"i": [1, 1, 2, 2], "s": ["a", "a", "b", "b"]})
    >>> unit_clusters(df, "s", "i", np.array([2, 1])).tolist()
    [0, 1]
    """
    if cluster is None:
        return np.arange(len(units))
    codes, used = cluster_codes(frame, cluster, unit, method=method)
    names = as_column_list(used)
    by_unit = pd.DataFrame(np.asarray(codes).reshape(len(frame), -1)).groupby(
        frame[unit].to_numpy())
    varies = by_unit.nunique().max(axis=0) > 1
    if varies.any():
        raise DataError(f"cluster column {names[int(np.argmax(varies.to_numpy()))]!r} must be "
                        "constant within each unit")
    per_unit = by_unit.first().loc[units].to_numpy()
    out = np.column_stack([pd.factorize(c)[0] for c in per_unit.T])
    return out[:, 0] if out.shape[1] == 1 else out


def balanced_grid(frame: pd.DataFrame, unit: str, time: str, advice: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Units, each row's unit index, periods and each row's period index of a balanced
    panel with at least two periods; an unbalanced one is a :class:`DataError` ending
    in ``advice`` (what the method offers instead)."""
    units, u_idx = np.unique(frame[unit].to_numpy(), return_inverse=True)
    periods, t_idx = np.unique(frame[time].to_numpy(dtype=float), return_inverse=True)
    if len(frame) != len(units) * len(periods):
        raise DataError(
            f"the panel is unbalanced: {len(units)} units x {len(periods)} periods would be "
            f"{len(units) * len(periods)} rows, but there are {len(frame)}; {advice}")
    if len(periods) < 2:
        raise DataError(f"time column {time!r} has a single period; DiD needs at least two")
    return units, u_idx, periods, t_idx
