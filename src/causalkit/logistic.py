"""The default propensity model: unpenalized logistic regression fitted by Newton–Raphson.

The fit, the IPW sandwich and the Abadie–Imbens (2016) matching adjustment need
four things of the design ``Z``: ``Z @ v``, ``Z' a``, the weighted information
``Z' diag(w) Z`` and subsets of rows.  A *design* object provides exactly these.
:class:`StandardizedDesign` is ``Z = [1, (X - mean) / scale]`` computed from the
raw covariates on the fly, so the n x (p + 1) matrix is never formed: products
with vectors are BLAS products with ``X`` itself (block by block on exactly centred
rows when a column's mean lies far from zero), and the information matrix is
accumulated over cache-sized blocks of centred rows, so a covariate with a large
mean loses no precision.  :class:`MatrixDesign` wraps an
explicit matrix (intercept included by the caller).

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(400, 2)) * [1.0, 50.0] + [0.0, 1000.0]
>>> t = (rng.random(400) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
>>> design = StandardizedDesign(X)
>>> beta = logistic_newton(design, t)
>>> bool(np.allclose(design.matrix() @ beta, design.dot(beta)))
True
>>> bool(np.allclose(design.tdot(t - expit(design.dot(beta))), 0, atol=1e-8))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from ._blocks import BLOCK_ROWS, row_blocks
from .errors import EstimationError, SingularInformationError

#: Above 4x this many rows, the Newton fit is warm-started on a subsample of this size.
WARM_START_ROWS = 50_000

#: A standardized coefficient this large means the arms (nearly) separate: the MLE is
#: running off to infinity, not converging.
DIVERGENT_COEFFICIENT = 20.0


class Design:
    """The operations on a design matrix ``Z`` (n x q) that the estimators use."""

    shape: tuple[int, int]

    def dot(self, beta: np.ndarray) -> np.ndarray:
        """``Z @ beta`` for a coefficient vector ``beta``."""
        raise NotImplementedError

    def tdot(self, a: np.ndarray) -> np.ndarray:
        """``Z' a`` for ``a`` of shape (n,) or (n, m)."""
        raise NotImplementedError

    def gram(self, w: np.ndarray) -> np.ndarray:
        """``Z' diag(w) Z`` for non-negative weights ``w``."""
        raise NotImplementedError

    def rows(self, index: Any) -> Design:
        """The design of a subset of rows (a slice, boolean mask or index array)."""
        raise NotImplementedError

    def matrix(self) -> np.ndarray:
        """The explicit n x q matrix (for small designs and tests)."""
        raise NotImplementedError


class MatrixDesign(Design):
    """An explicit design matrix.

    >>> d = MatrixDesign(np.array([[1.0, 2.0], [1.0, -1.0]]))
    >>> d.gram(np.array([1.0, 4.0])).tolist()
    [[5.0, -2.0], [-2.0, 8.0]]
    """

    def __init__(self, Z: np.ndarray):
        self.Z = np.asarray(Z, dtype=float)
        self.shape = self.Z.shape

    def dot(self, beta: np.ndarray) -> np.ndarray:
        return self.Z @ beta

    def tdot(self, a: np.ndarray) -> np.ndarray:
        return self.Z.T @ a

    def gram(self, w: np.ndarray) -> np.ndarray:
        root = self.Z * np.sqrt(w)[:, None]
        return root.T @ root              # one symmetric BLAS product

    def rows(self, index: Any) -> MatrixDesign:
        return MatrixDesign(self.Z[index])

    def matrix(self) -> np.ndarray:
        return self.Z


class StandardizedDesign(Design):
    """``Z = [1, (X - mean) / scale]`` without forming ``Z``.

    ``mean`` and ``scale`` default to the column means and (population) standard
    deviations of ``X``; a constant column gets scale 1.  Pass the training
    design's ``mean`` and ``scale`` to score new rows on the same scale.

    >>> X = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0]])
    >>> d = StandardizedDesign(X)
    >>> bool(np.allclose(d.gram(np.ones(3)), d.matrix().T @ d.matrix()))
    True
    """

    def __init__(self, X: np.ndarray, mean: np.ndarray | None = None,
                 scale: np.ndarray | None = None):
        self.X = np.asarray(X, dtype=float)
        if mean is None:
            mean = self.X.mean(axis=0)
        if scale is None:
            scale = column_sd(self.X, mean)
            scale = np.where(scale > 0, scale, 1.0)
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.shape = (self.X.shape[0], self.X.shape[1] + 1)
        #: some column's mean is over 1,000 SDs from zero: products with X' centre exactly
        self.far_from_zero = bool(np.any(np.abs(self.mean) > 1e3 * self.scale))

    def dot(self, beta: np.ndarray) -> np.ndarray:
        slope = beta[1:] / self.scale
        return self.X @ slope + (beta[0] - self.mean @ slope)

    def tdot(self, a: np.ndarray) -> np.ndarray:
        total = a.sum(axis=0)                         # the intercept row
        if self.far_from_zero:
            # X' a - mean * sum(a) would cancel digits: centre the rows block by block
            body = np.zeros((self.X.shape[1],) + a.shape[1:])
            for lo, hi in row_blocks(len(a)):
                body += (self.X[lo:hi] - self.mean).T @ a[lo:hi]
        else:
            body = self.X.T @ a - np.multiply.outer(self.mean, total)
        body /= self.scale.reshape((-1,) + (1,) * (body.ndim - 1))
        return np.concatenate([np.reshape(total, (1,) + body.shape[1:]), body])

    def gram(self, w: np.ndarray) -> np.ndarray:
        n, p = self.X.shape
        out = np.zeros((p + 1, p + 1))
        root = np.sqrt(w)
        inverse = 1.0 / self.scale
        block = np.empty((min(BLOCK_ROWS, n), p + 1), order="F")   # in cache, reused
        for lo, hi in row_blocks(n):
            z = block[:hi - lo]
            z[:, 0] = 1.0
            np.subtract(self.X[lo:hi], self.mean, out=z[:, 1:])    # exact centring first
            z[:, 1:] *= inverse
            z *= root[lo:hi, None]
            out += z.T @ z
        return out

    def rows(self, index: Any) -> StandardizedDesign:
        return StandardizedDesign(np.ascontiguousarray(self.X[index]), self.mean, self.scale)

    def matrix(self) -> np.ndarray:
        Z = np.empty(self.shape)
        Z[:, 0] = 1.0
        Z[:, 1:] = (self.X - self.mean) / self.scale
        return Z


def column_sd(X: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Population standard deviation of each column (``X.std(axis=0)``) given its ``mean``,
    from centred blocks of rows: no n x p temporary.

    >>> column_sd(np.array([[1.0, 0.0], [3.0, 0.0]]), np.array([2.0, 0.0])).tolist()
    [1.0, 0.0]
    """
    n, p = X.shape
    squares = np.zeros(p)
    block = np.empty((min(BLOCK_ROWS, max(n, 1)), p), order="F")
    for lo, hi in row_blocks(n):
        centred = block[:hi - lo]
        np.subtract(X[lo:hi], mean, out=centred)
        squares += np.einsum("ij,ij->j", centred, centred)
    return np.sqrt(squares / max(n, 1))


def as_design(Z: Design | np.ndarray) -> Design:
    """``Z`` itself if it is a :class:`Design`, else a :class:`MatrixDesign` of it."""
    return Z if isinstance(Z, Design) else MatrixDesign(Z)


def logistic_newton(Z: Design | np.ndarray, t: np.ndarray, tol: float = 1e-9,
                    max_iter: int = 50, raise_on_failure: bool = True,
                    sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Unpenalized logistic-regression MLE by Newton–Raphson (IRLS), started at zero.

    ``Z`` is the full design (a :class:`Design` or a matrix that includes the
    intercept column).  A Newton step forms the information ``Z' W Z`` and
    solves the small q x q system; far from the optimum a step that lowers the
    log-likelihood is halved.  Above ``4 * WARM_START_ROWS`` rows the fit starts
    from the MLE on an evenly spaced subsample and reuses its (rescaled)
    information matrix: near the optimum such chord steps cost one pass over the
    data and shrink the error by a factor of about ``1/sqrt(subsample)`` each; a
    fresh information matrix is formed whenever a step does not at least halve.
    It stops after a step whose largest coefficient change is below ``tol`` and
    raises :class:`EstimationError` if it does not converge (with
    ``raise_on_failure=False`` it returns the last iterate instead).  With
    ``sample_weight`` it maximizes the weighted (pseudo-)likelihood
    ``sum w_i log p_i``, as ``statsmodels.GLM(..., freq_weights=w)`` and scikit-learn's
    ``fit(..., sample_weight=w)`` do.

    >>> Z = np.column_stack([np.ones(6), [-2., -1., 0., 1., 2., 0.5]])
    >>> beta = logistic_newton(Z, np.array([0, 1, 0, 1, 1, 0]))
    >>> bool(np.allclose(Z.T @ (np.array([0, 1, 0, 1, 1, 0]) - expit(Z @ beta)), 0, atol=1e-9))
    True
    """
    beta, ok = fit_logistic(as_design(Z), t, tol, max_iter, sample_weight)
    if not ok and raise_on_failure:
        raise EstimationError(f"the logistic propensity model did not converge in {max_iter} "
                              "Newton steps (near-separation?); pass propensity_model=")
    return beta


#: Below this median curvature ``e (1 - e)`` a singular information matrix means the
#: scores have run to 0 and 1 (separation), not collinear covariates.
SEPARATED_CURVATURE = 1e-10

#: A standardized coefficient beyond which an iterate has run away (quasi-separation:
#: the information matrix is near-singular in the separating direction, so one Newton
#: step can jump by 1e17 and the linear index then cancels to garbage).  The fit stops
#: at the last sane iterate, reported as not converged.
RUNAWAY_COEFFICIENT = 1e4


def fit_logistic(design: Design, t: np.ndarray, tol: float = 1e-9,
                 max_iter: int = 50, sample_weight: np.ndarray | None = None,
                 ridge: float = 0.0) -> tuple[np.ndarray, bool]:
    """:func:`logistic_newton` on a design: the last iterate and whether it converged.

    ``ridge > 0`` maximizes ``loglik - ridge / 2 * |beta_slopes|^2`` instead (the
    intercept unpenalized; on a standardized design the usual ridge-logistic
    regression, scikit-learn's ``LogisticRegression(C=1 / ridge)``).

    >>> Z = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> beta, ok = fit_logistic(MatrixDesign(Z), np.array([0, 0, 1, 1]), ridge=1.0)
    >>> ok, bool(0 < beta[1] < 5)                 # separated data: finite under the penalty
    (True, True)
    """
    tf = np.asarray(t, dtype=float)
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    q = design.shape[1]
    beta, info = np.zeros(q), None
    stride = len(tf) // WARM_START_ROWS
    if stride >= 4:
        every = slice(None, None, stride)
        sub_w = None if sw is None else sw[every]
        sub_beta, sub_info, ok = _newton(design.rows(every), tf[every], np.zeros(q),
                                         None, 1e-6, max_iter, sub_w,
                                         ridge * len(tf[every]) / len(tf))
        if (ok and sub_info is not None
                and float(np.max(np.abs(sub_beta))) < DIVERGENT_COEFFICIENT):
            ratio = (len(tf) / len(tf[every]) if sw is None or sub_w is None
                     else float(sw.sum()) / max(float(sub_w.sum()), 1e-300))
            beta, info = sub_beta, sub_info * ratio
    beta, _, ok = _newton(design, tf, beta, info, tol, max_iter, sw, ridge)
    return beta, ok


def _newton(design: Design, tf: np.ndarray, beta: np.ndarray, info: np.ndarray | None,
            tol: float, max_iter: int, sw: np.ndarray | None = None, ridge: float = 0.0
            ) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Newton / chord iterations from ``beta``; ``info`` a starting information matrix;
    ``sw`` optional sample weights of the log-likelihood terms; ``ridge`` a penalty
    ``ridge / 2 * |beta[1:]|^2`` subtracted from the log-likelihood.

    Returns ``(beta, last information matrix, converged)``.
    """
    eta = design.dot(beta)

    def loglik(eta: np.ndarray, b: np.ndarray) -> float:
        # sum w (t * eta - log(1 + exp(eta))), stably, less the penalty
        terms = tf * eta - np.logaddexp(0.0, eta)
        value = float(terms.sum() if sw is None else sw @ terms)
        return value - 0.5 * ridge * float(b[1:] @ b[1:]) if ridge else value

    penalty = np.full(len(beta), ridge)
    penalty[0] = 0.0

    current: float | None = None
    previous = np.inf
    fresh = False
    for _ in range(max_iter):
        e = expit(eta)
        grad = design.tdot(tf - e if sw is None else sw * (tf - e)) - penalty * beta
        for _attempt in range(2):
            if info is None:
                curvature = e * (1.0 - e)
                info = design.gram(curvature if sw is None else sw * curvature)
                info[np.diag_indices_from(info)] += penalty
                fresh = True
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError as err:
                if float(np.median(e * (1.0 - e))) < SEPARATED_CURVATURE:
                    return beta, None, False     # the fit diverges (separation): not converged
                raise SingularInformationError("the logistic propensity model is singular (collinear "
                                      "covariates?)") from err
            size = float(np.max(np.abs(step)))
            if fresh or size <= 0.5 * previous:
                break
            info = None                   # a stale information matrix stalls: refresh it
        if not np.isfinite(size) or float(np.max(np.abs(beta + step))) > RUNAWAY_COEFFICIENT:
            return beta, info, False
        if size < tol:
            return beta + step, info, True
        if size > 0.1:
            if current is None:
                current = loglik(eta, beta)
            for _half in range(30):       # far from the optimum: keep the likelihood increasing
                new_eta = design.dot(beta + step)
                new = loglik(new_eta, beta + step)
                if new >= current - 1e-12 * abs(current):
                    break
                step = step / 2
            current = new
        else:
            new_eta, current = design.dot(beta + step), None
        beta, eta, previous = beta + step, new_eta, size
        if size > 1e-2:
            info = None                   # far from the optimum: a fresh Newton step next
        fresh = False
    return beta, info, False


def mean_score(design: Design, t: np.ndarray, scores: np.ndarray,
               sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Mean logistic score ``Z' w (t - e) / sum(w)``: zero at the maximum-likelihood fit."""
    if sample_weight is None:
        return design.tdot(t - scores) / len(t)
    return design.tdot(sample_weight * (t - scores)) / float(np.sum(sample_weight))


__all__ = ["DIVERGENT_COEFFICIENT", "Design", "MatrixDesign", "StandardizedDesign", "WARM_START_ROWS",
           "as_design", "column_sd", "expit", "fit_logistic", "logistic_newton", "mean_score"]
