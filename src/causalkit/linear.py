"""Least squares with robust and cluster-robust covariances, shared by estimators.

A thin layer over :class:`statsmodels.regression.linear_model.OLS` (and WLS)
that returns one coefficient with its standard error, reference distribution
and the fitted results, so estimators never repeat covariance code.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.column_stack([np.ones(100), rng.normal(size=100)])
>>> y = X @ [1.0, 2.0] + rng.normal(size=100)
>>> c = fit_coefficient(y, X, index=1, cov_type="HC2")
>>> abs(c.estimate - 2.0) < 0.3
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import statsmodels.api as sm

from .errors import EstimationError, OptionError

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")


@dataclass(frozen=True)
class Coefficient:
    """One regression coefficient with its inference ingredients."""

    estimate: float
    std_error: float
    df: float | None
    inference: str
    results: Any


def require_full_rank(X: np.ndarray, what: str = "the design matrix") -> None:
    """Raise :class:`EstimationError` when the columns of ``X`` are linearly dependent.

    >>> require_full_rank(np.column_stack([np.ones(3), [1.0, 2.0, 3.0]]))
    """
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        raise EstimationError(
            f"{what} has {X.shape[1]} columns but rank {rank}: some covariates are "
            "collinear (or duplicate the treatment); drop the redundant ones")


def fit_coefficient(y: np.ndarray, X: np.ndarray, index: int, cov_type: str = "HC2",
                    groups: np.ndarray | None = None, weights: np.ndarray | None = None
                    ) -> Coefficient:
    """Fit OLS (or WLS when ``weights``) and return coefficient ``index`` with its SE.

    ``cov_type`` is one of ``nonrobust``, ``HC0``–``HC3`` or ``cluster`` (which
    needs ``groups``).  Heteroskedasticity-robust errors use the normal
    reference distribution, as statsmodels does; clustered errors use t with
    G - 1 degrees of freedom (G clusters) and the usual small-sample factor;
    classical errors use t with n - k degrees of freedom.
    """
    if cov_type not in COV_TYPES:
        raise OptionError(f"cov_type must be one of {', '.join(COV_TYPES)}, got {cov_type!r}")
    if cov_type == "cluster" and groups is None:
        raise OptionError("cov_type='cluster' needs a cluster column")
    if groups is not None:
        cov_type = "cluster"
    require_full_rank(X)
    model = sm.WLS(y, X, weights=weights) if weights is not None else sm.OLS(y, X)
    if cov_type == "cluster":
        codes = np.unique(np.asarray(groups), return_inverse=True)[1]
        n_groups = int(codes.max()) + 1
        if n_groups < 2:
            raise OptionError("clustered standard errors need at least 2 clusters")
        res = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        df: float | None = float(n_groups - 1)
        label = f"cluster-robust ({n_groups} clusters, t with G-1 df)"
    elif cov_type == "nonrobust":
        res = model.fit()
        df = float(res.df_resid)
        label = "classical OLS (homoskedastic)"
    else:
        res = model.fit(cov_type=cov_type)
        df = None
        label = f"{cov_type} heteroskedasticity-robust"
    se = float(np.asarray(res.bse)[index])
    if not np.isfinite(se):
        raise EstimationError("the standard error is not finite: the design is degenerate "
                              "(e.g. a covariate perfectly predicts treatment)")
    return Coefficient(estimate=float(np.asarray(res.params)[index]), std_error=se, df=df,
                       inference=label, results=res)
