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
from ..validation import as_column_list, binary_treatment, check_frame, require_columns, \
    require_finite


def check_panel(data: Any, *, outcome: str, unit: str, time: str,
                numeric_roles: dict[str, str | Sequence[str] | None] | None = None
                ) -> pd.DataFrame:
    """Validate a long unit-period panel and return it as a DataFrame.

    ``outcome``, ``time`` and every column in ``numeric_roles`` must exist, be
    numeric and finite; ``unit`` must exist and have no missing values (it may be
    a string).  Each (unit, time) pair may appear only once.

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
    dup = frame.duplicated([unit, time], keep="first")
    if dup.any():
        first = frame.loc[dup, [unit, time]].iloc[0]
        raise DuplicatePanelRowError(
            f"the panel has {int(dup.sum())} duplicate unit-period row(s): e.g. "
            f"{unit}={first[unit]!r}, {time}={first[time]!r} appears more than once; "
            "each unit may have one row per period (aggregate or drop the duplicates)")
    return frame


def cohort_from_treatment(frame: pd.DataFrame, treatment: str, unit: str, time: str,
                          absorbing: bool = True) -> np.ndarray:
    """Per-row cohort (first period with treatment 1; 0 for never treated units).

    With ``absorbing`` a unit whose treatment switches back to 0 is an error,
    because event-time and cohort methods assume treatment stays on.
    """
    d = binary_treatment(frame, treatment)
    times = frame[time].to_numpy(dtype=float)
    first = pd.Series(np.where(d == 1, times, np.inf)).groupby(
        frame[unit].to_numpy()).transform("min").to_numpy()
    if absorbing:
        should = (times >= first).astype(int)
        bad = should != d
        if bad.any():
            who = frame[unit].to_numpy()[bad][0]
            raise DataError(
                f"treatment column {treatment!r} switches off again for unit {who!r}; "
                "this method needs staggered adoption (once treated, always treated)")
    return np.where(np.isfinite(first), first, 0.0)


def cohort_column(frame: pd.DataFrame, cohort: str, unit: str) -> np.ndarray:
    """Per-row cohort from a cohort column (0, missing or infinite = never treated).

    The cohort must be constant within each unit.
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
                        "it must be the (constant) period in which the unit is first treated")
    return g


def require_treated_after_start(treated_post: np.ndarray, what: str) -> None:
    """Raise :class:`EmptyArmError` unless some row is treated in an observed post period.

    ``treated_post`` flags the rows (or units) treated in an observed period.
    """
    if not np.any(treated_post):
        raise EmptyArmError(
            f"no unit is treated in any observed post-treatment period ({what}); the effect "
            "is not identified: check the treatment/cohort coding and the time range")


def cluster_codes(frame: pd.DataFrame, cluster: str | None, unit: str | None
                  ) -> tuple[np.ndarray | None, str | None]:
    """Integer cluster codes from ``cluster`` (or ``unit`` by default) and the column used."""
    name = cluster if cluster is not None else unit
    if name is None:
        return None, None
    require_columns(frame, name, role="cluster")
    require_finite(frame, [name], role="cluster")
    return pd.factorize(frame[name])[0], name


@dataclass(frozen=True)
class PanelFit:
    """Coefficients, their clustered covariance and the fitted linearmodels results."""

    params: pd.Series
    cov: pd.DataFrame
    n_clusters: int
    df: float
    inference: str
    results: Any


def fit_twfe(frame: pd.DataFrame, outcome: str, regressors: pd.DataFrame, unit: str,
             time: str, clusters: np.ndarray) -> PanelFit:
    """OLS with unit and period fixed effects (linearmodels ``PanelOLS``), clustered SE.

    The covariance is the one-way cluster-robust sandwich with the CR1 factor
    G/(G-1) * (n-1)/(n-K).  When every unit lies within one cluster (the default,
    clustering by unit) the unit effects are nested in the clusters and are not
    counted in K = slopes + periods (as in Stata's ``xtreg, fe vce(cluster)`` and
    ``reghdfe``); otherwise K counts every absorbed effect, as the LSDV regression
    in statsmodels does.  Inference uses t with G-1 degrees of freedom.
    """
    from linearmodels.panel import PanelOLS
    from linearmodels.panel.utility import AbsorbingEffectError

    n_clusters = int(np.unique(clusters).size)
    if n_clusters < 2:
        raise EstimationError("clustered standard errors need at least 2 clusters")
    index = pd.MultiIndex.from_arrays([frame[unit].to_numpy(), frame[time].to_numpy()],
                                      names=[unit, time])
    exog = regressors.set_axis(index)
    dep = pd.Series(frame[outcome].to_numpy(dtype=float), index=index, name=outcome)
    model = PanelOLS(dep, exog, entity_effects=True, time_effects=True,
                     drop_absorbed=False, check_rank=True)
    try:
        res = model.fit(cov_type="clustered", clusters=pd.Series(clusters, index=index),
                        debiased=True, group_debias=True, count_effects=False)
    except (ValueError, AbsorbingEffectError) as err:  # absorbed or collinear regressors
        raise EstimationError(f"the two-way fixed-effects regression failed: {err}") from err
    params = res.params
    n_obs, n_slopes = len(frame), regressors.shape[1]
    nested = bool((pd.Series(clusters).groupby(frame[unit].to_numpy()).nunique() == 1).all())
    n_counted = n_slopes + frame[time].nunique() if nested else n_obs - int(res.df_resid)
    # linearmodels always divides by n - slopes - all absorbed effects; undo for nested ones
    cov = res.cov * (float(res.df_resid) / (n_obs - n_counted))
    if not np.all(np.isfinite(params)) or not np.all(np.isfinite(np.diag(cov))):
        raise EstimationError("the two-way fixed-effects regression gave non-finite estimates: "
                              "a regressor is collinear with the unit and period effects")
    return PanelFit(params=params, cov=cov, n_clusters=n_clusters,
                    df=float(n_clusters - 1),
                    inference=f"cluster-robust ({n_clusters} clusters, CR1, t with G-1 df); "
                              "unit and period fixed effects (linearmodels PanelOLS)",
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
