"""Least squares over the probability simplex: the two solvers of the synthetic-control methods.

* :func:`frank_wolfe` minimises ``||A x - b||^2 + eta ||x||^2`` over the simplex by
  Frank–Wolfe (conditional gradient) steps with exact line search, stopping when
  the objective ``(eta ||x||^2 + ||A x - b||^2) / m`` falls by less than
  ``min_decrease**2`` in an iteration: the solver of Arkhangelsky et al. (2021)
  for the synthetic-DiD unit and time weights (as in the R package synthdid).
* :func:`simplex_least_squares` solves ``min ||A x - b||^2`` over the simplex
  (a Lawson–Hanson-type active-set method with the adding-up constraint kept
  exactly): the inner problem of Abadie, Diamond & Hainmueller's (2010)
  synthetic control.

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
def _equality_ls(A: np.ndarray, b: np.ndarray, idx: np.ndarray, pivot: int) -> np.ndarray:
    """``argmin ||A[:, idx] z - b||`` subject to ``sum(z) = 1`` (signs free).

    The constraint is eliminated exactly: ``z_pivot = 1 - sum(others)``, so the
    others solve ``(A_o - a_pivot 1') y = b - a_pivot`` (minimum-norm least squares).
    """
    k = idx.size
    z = np.empty(k)
    if k == 1:
        z[0] = 1.0
        return z
    m = A.shape[0]
    a_p = A[:, idx[pivot]]
    D = np.empty((m, k - 1))
    c = 0
    for q in range(k):
        if q != pivot:
            D[:, c] = A[:, idx[q]] - a_p
            c += 1
    y = np.linalg.lstsq(D, b - a_p, rcond=1e-12)[0]
    c = 0
    total = 0.0
    for q in range(k):
        if q != pivot:
            z[q] = y[c]
            total += y[c]
            c += 1
    z[pivot] = 1.0 - total
    return z


@njit(cache=True)
def simplex_ls(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Compiled core of :func:`simplex_least_squares` (float64 arrays).

    A primal active-set method on the simplex itself (Lawson & Hanson's scheme
    with the adding-up constraint kept exactly): start at the best vertex; add the
    coordinate whose gradient ``g_j = A_j'(Ax - b)`` lies furthest below the
    multiplier ``mu = x'g`` of the constraint; solve the equality-constrained least
    squares on the support and step back to the simplex when a weight would turn
    negative.  Each pass costs O(m n) for the gradient, and the iterate stays
    feasible, so the objective falls monotonically.  An entering coordinate that the
    subproblem gives no positive weight means the gradient test was rounding noise:
    the iterate is then optimal to working precision and the search stops (this is
    what keeps ten thousands of near-tied donors from cycling).
    """
    m, n = A.shape
    x = np.zeros(n)
    if n == 1:
        x[0] = 1.0
        return x
    start, best_val = 0, np.inf
    for j in range(n):
        d = 0.0
        for k in range(m):
            e = A[k, j] - b[k]
            d += e * e
        if d < best_val:
            best_val, start = d, j
    x[start] = 1.0
    passive = np.zeros(n, dtype=np.bool_)
    passive[start] = True
    r = A[:, start] - b                                  # A x - b
    scale = max(np.abs(A).max(), np.abs(b).max(), 1e-300)
    tol = 1e-12 * max(m, 1) * scale * scale
    max_iter = 30 * (n + m) + 100
    it = 0
    while it < max_iter:
        g = A.T @ r
        mu = 0.0
        for j in range(n):
            if passive[j]:
                mu += x[j] * g[j]
        enter, g_min = -1, mu - tol
        for j in range(n):
            if not passive[j] and g[j] < g_min:
                g_min, enter = g[j], j
        if enter < 0:
            break
        passive[enter] = True
        first, stalled = True, False
        while it < max_iter:
            it += 1
            idx = np.flatnonzero(passive)
            pivot = int(np.argmax(x[idx]))
            z = _equality_ls(A, b, idx, pivot)
            if np.all(z > 0):
                x[idx] = z
                break
            if first and z[np.searchsorted(idx, enter)] <= 0:
                passive[enter] = False               # no descent through `enter`: optimal
                stalled = True
                break
            first = False
            alpha = 1.0
            for q in range(idx.size):
                if z[q] <= 0:
                    xq = x[idx[q]]
                    alpha = min(alpha, xq / (xq - z[q]))
            for q in range(idx.size):
                x[idx[q]] += alpha * (z[q] - x[idx[q]])
                if x[idx[q]] <= 1e-15:
                    x[idx[q]] = 0.0
                    passive[idx[q]] = False
        if stalled:
            break
        r = -b.copy()
        for j in np.flatnonzero(passive):
            r += A[:, j] * x[j]
    x = np.maximum(x, 0.0)
    return x / x.sum()


def simplex_least_squares(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``argmin ||A x - b||^2`` over ``x >= 0, sum(x) = 1``.

    A compiled primal active-set method on the simplex (see :func:`simplex_ls`);
    the adding-up constraint holds exactly on every iterate.
    """
    return simplex_ls(np.ascontiguousarray(A, dtype=float), np.ascontiguousarray(b, dtype=float))
