"""Least squares over the probability simplex: the two solvers of the synthetic-control methods.

* :func:`frank_wolfe` minimises ``||A x - b||^2 + eta ||x||^2`` over the simplex by
  Frank–Wolfe (conditional gradient) steps with exact line search, stopping when
  the objective ``(eta ||x||^2 + ||A x - b||^2) / m`` falls by less than
  ``min_decrease**2`` in an iteration: the solver of Arkhangelsky et al. (2021)
  for the synthetic-DiD unit and time weights (as in the R package synthdid).
* :func:`simplex_least_squares` solves ``min ||A x - b||^2`` over the simplex
  (Lawson–Hanson non-negative least squares with the adding-up constraint as
  a heavily weighted extra row): the inner problem
  of Abadie, Diamond & Hainmueller's (2010) synthetic control.

Both loops are compiled with numba (a dependency through econml).
Private: used by ``synthetic_did`` and ``synthetic_control``.

Example
-------
>>> import numpy as np
>>> A = np.array([[1.0, 0.0], [0.0, 1.0]]); b = np.array([0.25, 0.75])
>>> x, _ = frank_wolfe(A, b, eta=0.0, x0=np.array([0.5, 0.5]), min_decrease=1e-8,
...                    max_iter=1000)
>>> np.round(x, 4).tolist(), np.round(simplex_least_squares(A, b), 4).tolist()
([0.25, 0.75], [0.25, 0.75])
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _line_step(num: float, den_err: float, eta: float, dx2: float) -> float:
    """Exact line-search step along d = e_best - x, clipped to [0, 1] (0 when d = 0)."""
    if dx2 <= 0.0:
        return 0.0
    den = den_err + eta * dx2
    return min(1.0, max(0.0, num / den)) if den > 0.0 else 0.0


@njit(cache=True)
def _fw_columns(At: np.ndarray, b: np.ndarray, eta: float, x: np.ndarray,
                min_decrease_sq: float, max_iter: int) -> tuple[np.ndarray, int]:
    """Frank–Wolfe with ``At = A'`` (n x m, rows contiguous): O(mn) per step."""
    n, m = At.shape
    x = x.copy()
    Ax = np.zeros(m)
    for j in range(n):
        if x[j] != 0.0:
            for k in range(m):
                Ax[k] += At[j, k] * x[j]
    r = np.empty(m)
    prev2 = np.inf
    prev1 = np.inf
    it = 0
    while it < max_iter and (it < 2 or prev2 - prev1 > min_decrease_sq):
        it += 1
        for k in range(m):
            r[k] = Ax[k] - b[k]
        best = 0
        best_val = np.inf
        xx = 0.0
        for j in range(n):
            g = eta * x[j]
            for k in range(m):
                g += At[j, k] * r[k]
            if g < best_val:
                best_val = g
                best = j
            xx += x[j] * x[j]
        # line search along d = e_best - x: A d = A_best - Ax
        num = 0.0
        den_err = 0.0
        for k in range(m):
            de = At[best, k] - Ax[k]
            num -= r[k] * de
            den_err += de * de
        num -= eta * (x[best] - xx)
        step = _line_step(num, den_err, eta, xx - 2.0 * x[best] + 1.0)
        for j in range(n):
            x[j] *= 1.0 - step
        x[best] += step
        for k in range(m):
            Ax[k] += step * (At[best, k] - Ax[k])
        err = 0.0
        for k in range(m):
            e = Ax[k] - b[k]
            err += e * e
        xx = 0.0
        for j in range(n):
            xx += x[j] * x[j]
        prev2 = prev1
        prev1 = (eta * xx + err) / m
    return x, it


@njit(cache=True)
def _fw_gram(G: np.ndarray, c: np.ndarray, bb: float, m: int, eta: float, x: np.ndarray,
             min_decrease_sq: float, max_iter: int) -> tuple[np.ndarray, int]:
    """The same iterations from ``G = A'A``, ``c = A'b``, ``bb = b'b``: O(n) per step (m >> n)."""
    n = G.shape[0]
    x = x.copy()
    Gx = G @ x
    prev2 = np.inf
    prev1 = np.inf
    it = 0
    while it < max_iter and (it < 2 or prev2 - prev1 > min_decrease_sq):
        it += 1
        best = 0
        best_val = np.inf
        xx = 0.0
        xGx = 0.0
        cx = 0.0
        for j in range(n):
            g = Gx[j] - c[j] + eta * x[j]
            if g < best_val:
                best_val = g
                best = j
            xx += x[j] * x[j]
            xGx += x[j] * Gx[j]
            cx += c[j] * x[j]
        # r'A d = (Gx - c)'(e_best - x); ||A d||^2 = G_bb - 2 (Gx)_b + x'Gx
        rAd = (Gx[best] - c[best]) - (xGx - cx)
        num = -rAd - eta * (x[best] - xx)
        den_err = G[best, best] - 2.0 * Gx[best] + xGx
        step = _line_step(num, den_err, eta, xx - 2.0 * x[best] + 1.0)
        for j in range(n):
            x[j] *= 1.0 - step
            Gx[j] = (1.0 - step) * Gx[j] + step * G[j, best]
        x[best] += step
        xx = 0.0
        xGx = 0.0
        cx = 0.0
        for j in range(n):
            xx += x[j] * x[j]
            xGx += x[j] * Gx[j]
            cx += c[j] * x[j]
        err = max(xGx - 2.0 * cx + bb, 0.0)
        prev2 = prev1
        prev1 = (eta * xx + err) / m
    return x, it


def frank_wolfe(A: np.ndarray, b: np.ndarray, eta: float, x0: np.ndarray,
                min_decrease: float, max_iter: int) -> tuple[np.ndarray, int]:
    """Frank–Wolfe for ``min ||A x - b||^2 + eta ||x||^2`` over the simplex, from ``x0``.

    Returns the weights and the number of iterations run.  The stopping rule is
    synthdid's: stop once an iteration lowers ``(eta ||x||^2 + ||Ax - b||^2) / m``
    (``m`` rows of ``A``) by at most ``min_decrease**2`` (after at least two steps),
    or after ``max_iter`` steps.  With many more rows than columns the steps are
    taken on the Gram matrix ``A'A`` (the same iterates, O(n) each).
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    x0 = np.asarray(x0, dtype=float)
    m, n = A.shape
    if m > 4 * n:
        return _fw_gram(A.T @ A, A.T @ b, float(b @ b), m, float(eta), x0,
                        float(min_decrease) ** 2, int(max_iter))
    return _fw_columns(np.ascontiguousarray(A.T), b, float(eta), x0,
                       float(min_decrease) ** 2, int(max_iter))


@njit(cache=True)
def _nnls(A: np.ndarray, b: np.ndarray, max_iter: int) -> np.ndarray:
    """Lawson–Hanson active-set non-negative least squares (compiled)."""
    m, n = A.shape
    x = np.zeros(n)
    passive = np.zeros(n, dtype=np.bool_)
    tol = 1e-12 * max(1.0, np.abs(A).max()) * max(m, n)
    w = A.T @ b
    it = 0
    while it < max_iter:
        j_best = -1
        w_best = tol
        for j in range(n):
            if not passive[j] and w[j] > w_best:
                w_best = w[j]
                j_best = j
        if j_best < 0:
            break
        passive[j_best] = True
        while it < max_iter:
            it += 1
            idx = np.flatnonzero(passive)
            z = np.linalg.lstsq(A[:, idx], b)[0]
            if np.all(z > 0):
                x[:] = 0.0
                x[idx] = z
                break
            alpha = 1.0
            for k in range(idx.size):
                if z[k] <= 0:
                    xk = x[idx[k]]
                    a = xk / (xk - z[k]) if xk - z[k] > 0 else 0.0
                    alpha = min(alpha, a)
            for k in range(idx.size):
                x[idx[k]] += alpha * (z[k] - x[idx[k]])
                if x[idx[k]] <= tol:
                    x[idx[k]] = 0.0
                    passive[idx[k]] = False
        w = A.T @ (b - A @ x)
    return x


@njit(cache=True)
def simplex_ls(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Compiled core of :func:`simplex_least_squares` (float64 arrays)."""
    m, n = A.shape
    if n == 1:
        return np.ones(1)
    scale = max(np.abs(A).max(), np.abs(b).max(), 1e-300)
    big = 1e4 * scale * np.sqrt(m)
    Aa = np.empty((m + 1, n))
    Aa[:m] = A
    Aa[m] = big
    ba = np.empty(m + 1)
    ba[:m] = b
    ba[m] = big
    x = _nnls(Aa, ba, 30 * (n + m) + 100)
    total = x.sum()
    return x / total if total > 0 else np.full(n, 1.0 / n)


def simplex_least_squares(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``argmin ||A x - b||^2`` over ``x >= 0, sum(x) = 1``.

    Lawson–Hanson NNLS (compiled) on ``A`` with the row ``M 1'`` (target ``M``)
    appended, ``M`` large against the scale of ``A`` and ``b``, so that the
    adding-up constraint holds to about ``1e-8`` before the final normalisation.
    """
    return simplex_ls(np.ascontiguousarray(A, dtype=float), np.ascontiguousarray(b, dtype=float))
