"""Sufficient statistics of an experiment: counts, means and co-moments, merged stably.

An arm of an experiment is summarized by :class:`Moments`: the number of units
``n``, the mean vector of the per-unit variables (metric, ratio numerator and
denominator, CUPED covariate, ...) and the matrix of centred cross-products
``M[j, l] = sum_i (x_ij - mean_j)(x_il - mean_l)``.  Everything the analysis
needs (Welch and z tests, ratio metrics by the delta method, CUPED) is a
function of these, so an experiment aggregated elsewhere (SQL over 10^9 rows,
a stream, a map-reduce job) is analyzed without the rows.

Moments are combined with the pairwise update of Chan, Golub & LeVeque (1979),
which, unlike raw sums of squares, keeps full precision when the mean is large
relative to the standard deviation.  Raw rows are reduced per group in one
vectorized two-pass sweep (:func:`group_moments`).  Every array may carry
leading batch dimensions, so thousands of simulated experiments are handled
at once.

Example
-------
>>> import numpy as np
>>> x = np.array([[1.0], [2.0], [4.0], [7.0]])
>>> a, b = Moments.from_rows(x[:2]), Moments.from_rows(x[2:])
>>> merged = a.merge(b)
>>> float(merged.mean[0]), float(merged.var()[0])
(3.5, 7.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, EmptyArmError
from ._moment_kernels import accumulate_chunk


@dataclass(frozen=True)
class Moments:
    """Count, mean vector and centred cross-product matrix of ``k`` per-unit variables.

    Attributes
    ----------
    n
        Number of units, shape ``batch``.
    mean
        Means, shape ``batch + (k,)``.
    comoment
        Centred sums of cross-products, shape ``batch + (k, k)``.
    names
        Names of the ``k`` variables (optional, for bookkeeping).
    """

    n: np.ndarray
    mean: np.ndarray
    comoment: np.ndarray
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", np.asarray(self.n, dtype=float))
        object.__setattr__(self, "mean", np.asarray(self.mean, dtype=float))
        object.__setattr__(self, "comoment", np.asarray(self.comoment, dtype=float))
        object.__setattr__(self, "names", tuple(self.names))

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_rows(cls, x: Any, names: Sequence[str] = ()) -> "Moments":
        """Moments of the rows of ``x`` (shape ``batch + (n, k)``), by the two-pass formula.

        >>> m = Moments.from_rows(np.array([[1.0, 2.0], [3.0, 6.0]]))
        >>> m.cov().tolist()
        [[2.0, 4.0], [4.0, 8.0]]
        """
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        n = x.shape[-2]
        mean = x.mean(axis=-2)
        d = x - mean[..., None, :]
        comoment = np.einsum("...ij,...il->...jl", d, d)
        return cls(np.full(x.shape[:-2], float(n)), mean, comoment, names)

    @classmethod
    def from_sums(cls, n: Any, sums: Any, cross_sums: Any, names: Sequence[str] = ()) -> "Moments":
        """Moments from SQL-style aggregates ``n``, ``sum(x_j)`` and ``sum(x_j * x_l)``.

        ``sums`` has shape ``batch + (k,)`` and ``cross_sums`` ``batch + (k, k)``
        (for one variable, ``sum(x^2)`` as a ``(1, 1)`` array).  Raw sums of
        squares lose precision when ``|mean| >> sd``; aggregate centred or
        shifted values (or per-group means and variances, see
        :meth:`from_mean_cov`) when that is the case.

        >>> m = Moments.from_sums(4, [14.0], [[70.0]])
        >>> float(m.mean[0]), float(m.var()[0])
        (3.5, 7.0)
        """
        n = np.asarray(n, dtype=float)
        sums = np.asarray(sums, dtype=float)
        cross = np.asarray(cross_sums, dtype=float)
        mean = sums / n[..., None]
        comoment = cross - n[..., None, None] * mean[..., :, None] * mean[..., None, :]
        return cls(n, mean, comoment, names)

    @classmethod
    def from_mean_cov(cls, n: Any, mean: Any, cov: Any, names: Sequence[str] = ()) -> "Moments":
        """Moments from counts, means and sample covariances (``ddof=1``).

        >>> float(Moments.from_mean_cov(4, [3.5], [[7.0]]).comoment[0, 0])
        21.0
        """
        n = np.asarray(n, dtype=float)
        cov = np.asarray(cov, dtype=float)
        return cls(n, np.asarray(mean, dtype=float), cov * (n[..., None, None] - 1.0), names)

    # ------------------------------------------------------------------ algebra
    def merge(self, other: "Moments") -> "Moments":
        """Moments of the union of two disjoint samples (Chan et al. pairwise update).

        >>> a = Moments.from_rows(np.array([1e8 + 1.0, 1e8 - 1.0]))
        >>> float(a.merge(a).var()[0])
        1.3333333333333333
        """
        n = self.n + other.n
        w = np.divide(other.n, n, out=np.zeros_like(n), where=n > 0)
        delta = other.mean - self.mean
        mean = self.mean + delta * w[..., None]
        outer = delta[..., :, None] * delta[..., None, :]
        comoment = self.comoment + other.comoment + outer * (self.n * w)[..., None, None]
        return Moments(n, mean, comoment, self.names or other.names)

    def cumulative(self, axis: int = -1) -> "Moments":
        """Running merge along a batch ``axis`` (e.g. looks of a sequential test).

        >>> m = Moments.from_rows(np.arange(6.0).reshape(3, 2, 1))   # 3 batches of 2 rows
        >>> m.cumulative(axis=0).n.tolist()
        [2.0, 4.0, 6.0]
        """
        axis = axis % self.n.ndim
        parts = [self.take(i, axis) for i in range(self.n.shape[axis])]
        out = [parts[0]]
        for part in parts[1:]:
            out.append(out[-1].merge(part))
        return Moments(np.stack([o.n for o in out], axis=axis),
                       np.stack([o.mean for o in out], axis=axis),
                       np.stack([o.comoment for o in out], axis=axis), self.names)

    def take(self, index: Any, axis: int = 0) -> "Moments":
        """Select batch entries ``index`` along batch ``axis``."""
        return Moments(np.take(self.n, index, axis=axis), np.take(self.mean, index, axis=axis),
                       np.take(self.comoment, index, axis=axis), self.names)

    def select(self, variables: Sequence[int]) -> "Moments":
        """Moments of a subset of the variables (by position)."""
        idx = list(variables)
        names = tuple(self.names[i] for i in idx) if self.names else ()
        return Moments(self.n, self.mean[..., idx],
                       self.comoment[..., idx, :][..., :, idx], names)

    # ------------------------------------------------------------------ views
    def cov(self, ddof: int = 1) -> np.ndarray:
        """Sample covariance matrix (``ddof=1``) of the variables."""
        return self.comoment / (self.n - ddof)[..., None, None]

    def var(self, ddof: int = 1) -> np.ndarray:
        """Sample variances of the variables, shape ``batch + (k,)``."""
        return np.diagonal(self.cov(ddof), axis1=-2, axis2=-1)

    @property
    def sums(self) -> np.ndarray:
        """``sum(x_j)``, as a SQL aggregate would report it."""
        return self.mean * self.n[..., None]


def factorize(values: Any, name: str = "variant") -> tuple[np.ndarray, list[Any]]:
    """Integer codes ``0..G-1`` and the labels of a grouping column, fast.

    Labels are sorted, except for a pandas ``Categorical``, whose labels are its
    declared categories in their declared order, *including categories no row
    has* (an arm that received no units is an arm with 0 units, not a missing
    arm: the sample-ratio check must see it).  Small non-negative integer
    columns (the usual 0/1 variant) are used as codes directly, without hashing
    or sorting 10^7 values.

    >>> factorize(np.array([1, 0, 1]))
    (array([1, 0, 1]), [0, 1])
    >>> factorize(pd.Series(["b", "a", "b"]))[1]
    ['a', 'b']
    >>> factorize(pd.Categorical(["b", "b"], categories=["a", "b"]))
    (array([1, 1]), ['a', 'b'])
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        if np.any(codes < 0):
            raise DataError(f"{name} column has {int(np.sum(codes < 0))} missing value(s); "
                            "every unit must have an assigned arm")
        return codes.astype(np.intp, copy=False), list(series.cat.categories)
    if pd.api.types.is_bool_dtype(series) and series.dtype == bool:
        series = series.astype(np.int8)
    if not (pd.api.types.is_integer_dtype(series) and series.dtype.kind in "iu") \
            and series.isna().any():
        raise DataError(f"{name} column has {int(series.isna().sum())} missing value(s); "
                        "every unit must have an assigned arm")
    if pd.api.types.is_integer_dtype(series) and series.dtype.kind in "iu":
        arr = series.to_numpy()
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo == 1:                                 # the usual 0/1 variant: both present
            return (arr if lo == 0 else arr - lo), [lo, hi]
        if hi - lo < 1_000_000:
            codes = arr if lo == 0 else arr - lo
            present = np.flatnonzero(np.bincount(codes, minlength=hi - lo + 1))
            if len(present) == hi - lo + 1:
                return codes.astype(np.intp, copy=False), [int(v) + lo for v in present]
            remap = np.full(hi - lo + 1, -1, dtype=np.intp)
            remap[present] = np.arange(len(present))
            return remap[codes], [int(v) + lo for v in present]
    codes, uniques = pd.factorize(series, sort=True)
    return codes.astype(np.intp, copy=False), list(uniques)


CHUNK_ROWS = 1 << 16


def group_moments(codes: np.ndarray, x: Any, n_groups: int, names: Sequence[str] = (),
                  chunk_rows: int = CHUNK_ROWS, allow_empty: bool = False) -> Moments:
    """Per-group :class:`Moments` of the columns of ``x`` in one streaming pass.

    ``x`` is an ``(N, k)`` array or a list of ``k`` 1-D columns.  The rows are
    processed in cache-sized chunks by a compiled kernel
    (:func:`~causalkit.experiments._moment_kernels.accumulate_chunk`): within a
    chunk, the group means, then the sums of products of deviations from them
    (the two-pass algorithm); chunks are combined with the Chan et al. update.
    This keeps full precision for a metric of mean 1e8 and sd 1, allocates no
    row-sized temporaries, and runs in one thread without BLAS, so its speed
    does not depend on a thread pool (on a busy machine the tiny threaded BLAS
    products it once used made 10^7 rows take seconds instead of tens of
    milliseconds).

    A group without rows raises :class:`EmptyArmError` unless ``allow_empty``,
    when its moments are ``n = 0``, mean 0 and co-moments 0 (callers check
    the counts).

    >>> m = group_moments(np.array([0, 0, 1, 1]), np.array([[1.0], [3.0], [5.0], [9.0]]), 2)
    >>> m.mean[:, 0].tolist(), m.var()[:, 0].tolist()
    ([2.0, 7.0], [2.0, 8.0])
    """
    if isinstance(x, np.ndarray) and x.ndim == 2:
        cols = [np.ascontiguousarray(x[:, j], dtype=float) for j in range(x.shape[1])]
    elif isinstance(x, np.ndarray):
        cols = [np.asarray(x, dtype=float)]
    else:
        cols = [np.ascontiguousarray(c, dtype=float) for c in x]
    codes = np.asarray(codes)
    k, n_rows = len(cols), len(codes)
    n, mean, comoment = np.zeros(n_groups), np.zeros((n_groups, k)), np.zeros((n_groups, k, k))
    buffer = np.empty((k, min(chunk_rows, max(n_rows, 1))))     # C-contiguous: vectorized loops
    for start in range(0, n_rows, chunk_rows):
        stop = min(start + chunk_rows, n_rows)
        chunk = buffer if stop - start == buffer.shape[1] else np.empty((k, stop - start))
        for j, col in enumerate(cols):
            chunk[j] = col[start:stop]
        accumulate_chunk(codes[start:stop].astype(np.intp, copy=False), chunk, n, mean, comoment)
    total = Moments(n, mean, comoment, names)
    if not allow_empty and np.any(total.n == 0):
        empty = int(np.flatnonzero(total.n == 0)[0])
        raise EmptyArmError(f"group {empty} has no rows")
    return _exact_constants(total, codes, cols)


#: A group whose standard deviation is below this fraction of its scale is recomputed directly.
_SMALL_SPREAD = 1e-6


def _exact_constants(m: Moments, codes: np.ndarray, cols: list[np.ndarray]) -> Moments:
    """Recompute groups of (near) zero spread directly; give constant columns exact zeros.

    Group sums formed by difference from the chunk total carry an absolute
    error of rounding size relative to the *other* groups, which for a group
    of tiny or zero spread can be a spurious (even negative) variance; and any
    floating-point sum of ``n`` equal values can leave one too, which would
    make a zero standard error look like a huge statistic.  Groups whose
    standard deviation is below ``1e-6`` of their scale are recomputed from
    their own rows by the two-pass formula, and a column whose values in the
    group are all equal (exact min/max) gets its value as the mean and zero
    co-moments.
    """
    var = np.diagonal(m.comoment, axis1=-2, axis2=-1) / np.maximum(m.n - 1.0, 1.0)[:, None]
    scale = np.abs(m.mean) + np.sqrt(np.max(np.abs(var), axis=0))[None, :]
    small = (m.n[:, None] > 1) & (np.abs(var) <= (_SMALL_SPREAD * scale) ** 2)
    if not np.any(small):
        return m
    mean, comoment = m.mean.copy(), m.comoment.copy()
    for g in np.flatnonzero(small.any(axis=1)):
        rows = np.column_stack([c[codes == g] for c in cols])
        direct = Moments.from_rows(rows)
        mean[g], comoment[g] = direct.mean, direct.comoment
        for j in np.flatnonzero(rows.min(axis=0) == rows.max(axis=0)):
            mean[g, j] = rows[0, j]
            comoment[g, j, :] = comoment[g, :, j] = 0.0
    return Moments(m.n, mean, comoment, m.names)
