"""Least squares with robust and cluster-robust covariances, shared by estimators.

A thin layer over :class:`statsmodels.regression.linear_model.OLS` (and WLS)
that returns one coefficient with its standard error, reference distribution
and the fitted results, so estimators never repeat covariance code.

Every design is first *equilibrated*: each column is divided by a power of two
near its root mean square (:func:`equilibrate`), which is exact in floating
point.  The rank check (:func:`require_full_rank`) and the fit then do not
depend on the units of the covariates: a covariate in dollars or in millions of
dollars gives the same estimate and is never mistaken for a collinear one,
while a truly collinear design is refused with the names of the columns
involved.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.column_stack([np.ones(100), rng.normal(size=100)])
>>> y = X @ [1.0, 2.0] + rng.normal(size=100)
>>> c = fit_coefficient(y, X, index=1, cov_type="HC2")
>>> abs(c.estimate - 2.0) < 0.3
True
>>> c2 = fit_coefficient(y, X * [1.0, 1e-9], index=1, cov_type="HC2")
>>> bool(np.isclose(c2.estimate * 1e-9, c.estimate, rtol=1e-12))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .errors import EstimationError, OptionError

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")


def equilibrate(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(X / scales, scales)`` with ``scales`` powers of two near each column's RMS.

    Dividing by a power of two is exact, so ``X / scales * scales == X`` bit for
    bit; an all-zero column keeps scale 1.  Coefficients of the scaled design are
    ``scales * beta`` and their covariance ``diag(scales) V diag(scales)``.

    >>> Xs, s = equilibrate(np.array([[1.0, 3e6], [1.0, -1e6]]))
    >>> s.tolist(), bool(np.all(np.abs(Xs) < 2))
    ([1.0, 2097152.0], True)
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError("equilibrate needs a 2-D design matrix")
    rms = np.sqrt(np.einsum("ij,ij->j", X, X) / max(X.shape[0], 1))
    scales = np.ones(X.shape[1])
    good = np.isfinite(rms) & (rms > 0)
    scales[good] = np.exp2(np.round(np.log2(rms[good])))
    return X / scales, scales


def rank_deficiency(X: np.ndarray) -> tuple[int, list[int]]:
    """Scale-free rank of ``X`` and the indices of the columns in its linear dependencies.

    The rank is that of ``X`` with unit-norm columns, from its singular values with
    numpy's relative tolerance (``max(n, k) * eps * largest``), so it does not
    change when a column is multiplied by any nonzero number.  The dependent
    columns are those with a weight above 1e-6 in the (unit-norm) null space:
    a column whose part in the dependency is smaller is not needed for it.

    >>> x = np.arange(5.0)
    >>> rank_deficiency(np.column_stack([np.ones(5), x, 1e8 * x + 3e8]))
    (2, [0, 1, 2])
    >>> rank_deficiency(np.column_stack([np.ones(5), x, 1e-8 * x ** 2]))
    (3, [])
    """
    X = np.asarray(X, dtype=float)
    n, k = X.shape
    if k == 0:
        return 0, []
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    zero = ~(norms > 0)
    unit = X / np.where(zero, 1.0, norms)
    if n > 4 * k:        # tall: the triangular factor has the same singular values, fast
        unit = np.linalg.qr(unit, mode="r")
    _, sv, vt = np.linalg.svd(unit, full_matrices=n < k)   # the whole null space when n < k
    sv = np.concatenate([sv, np.zeros(k - len(sv))])
    tol = sv.max() * max(n, k) * np.finfo(float).eps if sv.size else 0.0
    null = sv <= tol
    rank = int(k - null.sum())
    if rank == k:
        return rank, []
    weight = np.sqrt((vt[null] ** 2).sum(axis=0))
    involved = np.flatnonzero((weight > 1e-6) | zero)
    return rank, involved.tolist()


def require_full_rank(X: np.ndarray, what: str = "the design matrix",
                      names: Sequence[Any] | None = None) -> None:
    """Raise :class:`EstimationError` when the columns of ``X`` are linearly dependent.

    The check is scale-free (:func:`rank_deficiency`): it looks at the design with
    unit-norm columns, so covariates on very different scales are never refused.
    The message names the columns involved (``names``, one per column of ``X``).

    >>> require_full_rank(np.column_stack([np.ones(3), [1.0, 2.0, 3.0]]))
    >>> try:
    ...     require_full_rank(np.column_stack([np.ones(3), [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]),
    ...                       names=["intercept", "x", "x2"])
    ... except EstimationError as err:
    ...     print(err)
    the design matrix has 3 columns but rank 2: the columns 'x', 'x2' are collinear (one is a linear combination of the others); drop the redundant ones
    """
    rank, involved = rank_deficiency(X)
    k = np.shape(X)[1]
    if rank < k:
        named = names is not None and len(names) == k
        listed = ", ".join(repr(names[j]) if named else f"#{j}" for j in involved)
        raise EstimationError(
            f"{what} has {k} columns but rank {rank}: the columns {listed} are collinear "
            "(one is a linear combination of the others); drop the redundant ones")


def factorize_clusters(groups: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Integer codes of one cluster column (n,) or two (n, 2), and each column's cluster count.

    >>> codes, counts = factorize_clusters(np.array([["a", "x"], ["b", "x"], ["a", "y"]]))
    >>> codes.tolist(), counts
    ([[0, 0], [1, 0], [0, 1]], [2, 2])
    """
    g = np.asarray(groups)
    if g.ndim == 1:
        codes = pd.factorize(g)[0]
        return codes, [int(codes.max()) + 1 if codes.size else 0]
    if g.ndim != 2 or g.shape[1] > 2:
        raise OptionError(f"clustering supports one or two cluster columns (two-way), got "
                          f"{g.shape[1] if g.ndim == 2 else g.ndim}")
    codes = np.column_stack([pd.factorize(g[:, j])[0] for j in range(g.shape[1])])
    if codes.shape[1] == 1:
        codes = codes[:, 0]
        return codes, [int(codes.max()) + 1 if codes.size else 0]
    return codes, [int(c.max()) + 1 if c.size else 0 for c in codes.T]


@dataclass(frozen=True)
class OLSFit:
    """An OLS/WLS fit on the equilibrated design, reported in the original units.

    ``params``, ``bse`` and ``cov_params()`` refer to the columns of the design
    as given; ``scaled`` is the statsmodels results of the fit on
    ``X / scales`` (its coefficients are ``scales * params``).
    """

    params: np.ndarray
    bse: np.ndarray
    cov: np.ndarray
    scales: np.ndarray
    scaled: Any

    def cov_params(self) -> np.ndarray:
        """Covariance of ``params``."""
        return self.cov

    @property
    def rsquared(self) -> float:
        """R-squared (the same for the scaled and the original design)."""
        return float(self.scaled.rsquared)

    @property
    def nobs(self) -> float:
        """Number of observations."""
        return float(self.scaled.nobs)

    @property
    def df_resid(self) -> float:
        """Residual degrees of freedom ``n - k``."""
        return float(self.scaled.df_resid)

    @property
    def resid(self) -> np.ndarray:
        """Residuals."""
        return np.asarray(self.scaled.resid)


@dataclass(frozen=True)
class Coefficient:
    """One regression coefficient with its inference ingredients."""

    estimate: float
    std_error: float
    df: float | None
    inference: str
    results: OLSFit


def fit_coefficient(y: np.ndarray, X: np.ndarray, index: int, cov_type: str = "HC2",
                    groups: np.ndarray | None = None, weights: np.ndarray | None = None,
                    names: Sequence[Any] | None = None) -> Coefficient:
    """Fit OLS (or WLS when ``weights``) and return coefficient ``index`` with its SE.

    ``cov_type`` is one of ``nonrobust``, ``HC0``–``HC3`` or ``cluster`` (which
    needs ``groups``: one cluster column, or an n x 2 array for two-way
    clustering, Cameron, Gelbach & Miller 2011).  Heteroskedasticity-robust
    errors use the normal reference distribution, as statsmodels does;
    clustered errors use t with G - 1 degrees of freedom (the smaller G for
    two-way) and the usual small-sample factor; classical errors use t with
    n - k degrees of freedom.  ``names`` label the columns of ``X`` in the
    error raised for a collinear design.
    """
    if cov_type not in COV_TYPES:
        raise OptionError(f"cov_type must be one of {', '.join(COV_TYPES)}, got {cov_type!r}")
    if cov_type == "cluster" and groups is None:
        raise OptionError("cov_type='cluster' needs a cluster column")
    if groups is not None:
        cov_type = "cluster"
    require_full_rank(X, names=names)
    Xs, scales = equilibrate(X)
    model = sm.WLS(y, Xs, weights=weights) if weights is not None else sm.OLS(y, Xs)
    if cov_type == "cluster":
        codes, counts = factorize_clusters(groups)
        if min(counts) < 2:
            raise OptionError("clustered standard errors need at least 2 clusters"
                              + (" in each dimension" if len(counts) > 1 else ""))
        res = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        df: float | None = float(min(counts) - 1)
        label = (f"cluster-robust ({counts[0]} clusters, t with G-1 df)" if len(counts) == 1
                 else f"two-way cluster-robust ({counts[0]} x {counts[1]} clusters, "
                      "Cameron-Gelbach-Miller, t with min(G)-1 df)")
    elif cov_type == "nonrobust":
        res = model.fit()
        df = float(res.df_resid)
        label = "classical OLS (homoskedastic)"
    else:
        res = model.fit(cov_type=cov_type)
        df = None
        label = f"{cov_type} heteroskedasticity-robust"
    params = np.asarray(res.params) / scales
    cov = np.asarray(res.cov_params()) / np.outer(scales, scales)
    bse = np.asarray(res.bse) / scales
    se = float(bse[index])
    if not np.isfinite(se):
        raise EstimationError("the standard error is not finite: the design is degenerate "
                              "(e.g. a covariate perfectly predicts treatment)")
    fit = OLSFit(params=params, bse=bse, cov=cov, scales=scales, scaled=res)
    return Coefficient(estimate=float(params[index]), std_error=se, df=df, inference=label,
                       results=fit)
