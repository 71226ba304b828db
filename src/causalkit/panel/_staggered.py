"""The staggered-adoption panel that the event-study estimators share, and clustered
covariances from per-row scores.

:func:`staggered_panel` validates the panel (roles as in ``event_study``: unit,
time, and a ``cohort`` column or an absorbing 0/1 ``treatment``), codes units
and periods as 0..N-1 and 0..T-1, and gives every row its cohort, treatment
and event time.  :func:`cluster_cov` turns per-row score contributions into a
one-way or two-way (Cameron, Gelbach & Miller 2011) cluster-robust covariance.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"i": [1, 1, 2, 2], "t": [1, 2, 1, 2], "g": [2, 2, 0, 0],
...                    "y": [0.0, 1.0, 0.5, 0.4]})
>>> p = staggered_panel(df, "y", "i", "t", cohort="g", method="demo")
>>> p.treated.tolist(), p.event_time.tolist()
([False, True, False, False], [-1.0, 0.0, nan, nan])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, EstimationError, RoleError
from ._panel import (check_panel, cluster_codes, cohort_column, cohort_from_treatment,
                     covariate_columns, require_treated_after_start)


@dataclass
class StaggeredPanel:
    """A validated staggered-adoption panel, one entry per row."""

    frame: pd.DataFrame
    y: np.ndarray
    unit: np.ndarray          #: unit codes 0..N-1
    time: np.ndarray          #: period codes 0..T-1 (in time order)
    periods: np.ndarray       #: the period values, sorted
    cohort: np.ndarray        #: first treated period (0 = never treated)
    treated: np.ndarray       #: treated in this row (t >= cohort > 0)
    event_time: np.ndarray    #: t - cohort in periods (NaN for never treated)
    clusters: np.ndarray      #: cluster codes (n,) or (n, 2)
    cluster_name: Any
    X: np.ndarray             #: covariates (n x p)
    covariates: list[str]
    treatment_name: str

    @property
    def n_units(self) -> int:
        return int(self.unit.max()) + 1

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    def balanced(self) -> bool:
        return len(self.y) == self.n_units * self.n_periods

    def require_balanced(self, method: str) -> None:
        """Raise :class:`DataError` with the counts unless every unit has every period."""
        if not self.balanced():
            per_unit = np.bincount(self.unit, minlength=self.n_units)
            short = int((per_unit < self.n_periods).sum())
            raise DataError(
                f"the panel is unbalanced: {self.n_units} units x {self.n_periods} periods "
                f"would be {self.n_units * self.n_periods} rows, but there are {len(self.y)} "
                f"({short} unit(s) miss at least one period); {method} needs every unit "
                "observed in every period (drop the incomplete units or use imputation_did)")


def staggered_panel(data: Any, outcome: str, unit: str, time: str,
                    treatment: str | None = None, cohort: str | None = None,
                    covariates: Sequence[str] | None = None,
                    cluster: str | Sequence[str] | None = None,
                    method: str = "this method", max_clusters: int = 2) -> StaggeredPanel:
    """Validate and code a staggered-adoption panel (see the module docstring).

    Event time is counted in periods of the time column (``t - cohort``), so the
    time values should be equally spaced (years, quarters, ...).
    """
    if (treatment is None) == (cohort is None):
        raise RoleError("give exactly one of treatment= (an absorbing 0/1 column) or cohort= "
                        "(the period of first treatment, 0 or missing for never treated)")
    frame = check_panel(data, outcome=outcome, unit=unit, time=time)
    covs = covariate_columns(frame, covariates,
                             reserved=[c for c in (outcome, unit, time, treatment, cohort) if c])
    g = (cohort_column(frame, cohort, unit) if cohort is not None
         else cohort_from_treatment(frame, treatment, unit, time))
    times = frame[time].to_numpy(dtype=float)
    treated = (g > 0) & (times >= g)
    name = str(cohort if cohort is not None else treatment)
    require_treated_after_start(treated, f"column {name!r}")
    periods, t_codes = np.unique(times, return_inverse=True)
    if len(periods) < 2:
        raise DataError(f"time column {time!r} has a single period; DiD needs at least two")
    u_codes = pd.factorize(frame[unit])[0]
    codes, used = cluster_codes(frame, cluster, unit, max_columns=max_clusters, method=method)
    return StaggeredPanel(
        frame=frame, y=frame[outcome].to_numpy(dtype=float), unit=u_codes, time=t_codes,
        periods=periods, cohort=g, treated=treated,
        event_time=np.where(g > 0, times - g, np.nan), clusters=np.asarray(codes),
        cluster_name=used,
        X=frame[covs].to_numpy(dtype=float) if covs else np.empty((len(frame), 0)),
        covariates=covs, treatment_name=name)


def group_matrix(codes: np.ndarray, values: np.ndarray | None = None,
                 columns: np.ndarray | None = None, shape: tuple[int, int] | None = None
                 ) -> Any:
    """Sparse G x m matrix with ``values`` (default 1) at (``codes[r]``, ``columns[r]``)
    (default ``r``): its product with a matrix sums rows within groups."""
    from scipy import sparse

    n = len(codes)
    cols = np.arange(n) if columns is None else columns
    vals = np.ones(n) if values is None else values
    if shape is None:
        shape = (int(codes.max()) + 1 if n else 0, n if columns is None else int(cols.max()) + 1)
    return sparse.csr_matrix((vals, (codes, cols)), shape=shape)


def sum_by(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sums of the rows of ``values`` (n x k) within the groups ``codes`` (0..G-1)."""
    n = len(codes)
    return np.asarray(group_matrix(codes) @ values.reshape(n, -1))


def cluster_cov(scores: np.ndarray, clusters: np.ndarray, small_sample: bool = False
                ) -> tuple[np.ndarray, int | tuple[int, int]]:
    """``sum_c s_c s_c'`` of per-row scores summed within clusters, and the cluster count(s).

    ``clusters`` is (n,) or (n, 2); with two columns the Cameron–Gelbach–Miller
    combination ``V_a + V_b - V_ab``.  With ``small_sample`` each term carries its
    own ``G / (G - 1)``.
    """
    scores = np.asarray(scores, dtype=float).reshape(len(scores), -1)
    return cluster_cov_from(lambda codes: sum_by(codes, scores), clusters, small_sample)


def cluster_cov_from(cluster_sums: Callable[[np.ndarray], np.ndarray], clusters: np.ndarray,
                     small_sample: bool = False) -> tuple[np.ndarray, int | tuple[int, int]]:
    """As :func:`cluster_cov`, from a function giving the G x k score sums for cluster codes
    0..G-1 (so that scores need never be formed row by row)."""

    def one(codes: np.ndarray) -> tuple[np.ndarray, int]:
        codes = pd.factorize(codes)[0]
        s = np.asarray(cluster_sums(codes), dtype=float)
        G = int(codes.max()) + 1
        return s.T @ s * (G / (G - 1) if small_sample and G > 1 else 1.0), G

    if clusters.ndim == 1:
        return one(clusters)
    if clusters.shape[1] != 2:
        raise EstimationError("clustering supports one or two cluster columns")
    va, ga = one(clusters[:, 0])
    vb, gb = one(clusters[:, 1])
    vab, _ = one(pd.factorize(pd.MultiIndex.from_arrays(clusters.T))[0])
    return va + vb - vab, (ga, gb)


def cluster_count(clusters: np.ndarray) -> int | tuple[int, int]:
    """The number of clusters (a pair for two-way clustering)."""
    if clusters.ndim == 1:
        return int(len(np.unique(clusters)))
    return int(len(np.unique(clusters[:, 0]))), int(len(np.unique(clusters[:, 1])))
