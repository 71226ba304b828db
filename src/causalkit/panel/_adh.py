"""Synthetic-control weights of Abadie, Diamond & Hainmueller (2010) with nested predictor weights.

Given standardised predictors ``X1`` (k) of the treated unit and ``X0``
(k x J) of the donors, and pre-period outcomes ``Z1`` (T0) and ``Z0`` (T0 x J):

* ``W(V) = argmin_W (X1 - X0 W)' V (X1 - X0 W)`` over the simplex, for a
  diagonal ``V >= 0`` with trace 1;
* ``V`` minimises the pre-period outcome MSPE ``||Z1 - Z0 W(V)||^2 / T0``
  (the paper's data-driven choice, as in R ``Synth``): Nelder–Mead on
  ``v = |theta| / sum |theta|`` from equal weights and from the regression-based
  start, each restarted once from its end point, the best kept.  When the predictors are exactly the
  pre-period outcomes the optimum is known in closed form (``V`` proportional to
  the predictors' squared scales, which makes the inner problem the outer one)
  and no search is needed.

Private: used by ``synthetic_control``.

Example
-------
>>> import numpy as np
>>> X0 = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]); X1 = np.array([0.3, 0.3])
>>> fit = nested_weights(X1, X0, X1, X0, np.ones(2), lags_only=True)
>>> np.round(fit.w, 3).tolist()
[0.4, 0.3, 0.3]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.optimize import minimize

from ..errors import OptionError
from ._simplex import simplex_least_squares, simplex_ls


@dataclass(frozen=True)
class ADHFit:
    """Donor weights ``w``, predictor weights ``v`` and the pre-period MSPE reached."""

    w: np.ndarray
    v: np.ndarray
    mspe: float
    search: str


def donor_weights(X1: np.ndarray, X0: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``W(V)``: the V-weighted simplex least-squares fit of the predictors."""
    s = np.sqrt(np.maximum(v, 0.0))
    return simplex_least_squares(X0 * s[:, None], X1 * s)


def _mspe(Z1: np.ndarray, Z0: np.ndarray, w: np.ndarray) -> float:
    r = Z1 - Z0 @ w
    return float(r @ r / r.size)


@njit(cache=True)
def _loss(theta: np.ndarray, X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray,
          Z0: np.ndarray) -> float:
    """Pre-period MSPE of ``W(V)`` at ``v = |theta| / sum |theta|`` (compiled)."""
    a = np.abs(theta)
    tot = a.sum()
    s = np.sqrt(a / tot) if tot > 0 else np.full(a.size, np.sqrt(1.0 / a.size))
    A = np.empty_like(X0)
    for k in range(X0.shape[0]):
        A[k] = X0[k] * s[k]
    w = simplex_ls(A, X1 * s)
    r = Z1 - Z0 @ w
    return (r @ r) / r.size


def _v_of(theta: np.ndarray) -> np.ndarray:
    a = np.abs(theta)
    s = a.sum()
    return a / s if s > 0 else np.full(a.size, 1.0 / a.size)


def _regression_start(X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray
                      ) -> np.ndarray:
    """Synth's start: squared coefficients of the pre-period outcomes regressed on the predictors."""
    X = np.column_stack([np.ones(X0.shape[1] + 1), np.column_stack([X1, X0]).T])
    Z = np.column_stack([Z1, Z0]).T
    beta = np.linalg.lstsq(X, Z, rcond=None)[0][1:]
    v = np.diag(beta @ beta.T)
    return v / v.sum() if v.sum() > 0 else np.full(X1.size, 1.0 / X1.size)


def nested_weights(X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray,
                   scale: np.ndarray, *, lags_only: bool = False,
                   v: np.ndarray | str = "nested", maxiter: int | None = None) -> ADHFit:
    """Donor and predictor weights; ``v`` is ``"nested"``, ``"equal"`` or the weights themselves.

    ``scale`` holds the predictors' standardisation (their standard deviations),
    used for the closed-form optimum when ``lags_only``.
    """
    k = X1.size
    if isinstance(v, str):
        if v == "equal":
            vv = np.full(k, 1.0 / k)
            w = donor_weights(X1, X0, vv)
            return ADHFit(w=w, v=vv, mspe=_mspe(Z1, Z0, w), search="equal")
        if v != "nested":
            raise OptionError(f"predictor_weights must be 'nested', 'equal' or k positive "
                              f"numbers, got {v!r}")
    else:
        vv = np.asarray(v, dtype=float).ravel()
        if vv.size != k or not np.all(np.isfinite(vv)) or (vv < 0).any() or vv.sum() <= 0:
            raise OptionError(f"predictor_weights must be {k} non-negative numbers (one per "
                              f"predictor) with a positive sum, got {list(vv)}")
        vv = vv / vv.sum()
        w = donor_weights(X1, X0, vv)
        return ADHFit(w=w, v=vv, mspe=_mspe(Z1, Z0, w), search="given")
    if lags_only:
        vv = scale ** 2 / np.sum(scale ** 2)
        w = donor_weights(X1, X0, vv)
        return ADHFit(w=w, v=vv, mspe=_mspe(Z1, Z0, w),
                      search="closed form (predictors = the pre-period outcomes)")
    if k == 1:
        w = donor_weights(X1, X0, np.ones(1))
        return ADHFit(w=w, v=np.ones(1), mspe=_mspe(Z1, Z0, w), search="one predictor")

    X1c, X0c = np.ascontiguousarray(X1, float), np.ascontiguousarray(X0, float)
    Z1c, Z0c = np.ascontiguousarray(Z1, float), np.ascontiguousarray(Z0, float)

    def loss(theta: np.ndarray) -> float:
        return _loss(np.asarray(theta, dtype=float), X1c, X0c, Z1c, Z0c)

    best: tuple[float, np.ndarray] | None = None
    ref = max(loss(np.full(k, 1.0 / k)), 1e-300)
    opts = {"maxiter": maxiter or 200 * k, "xatol": 1e-6, "fatol": 1e-9 * ref, "adaptive": True}
    for start in (np.full(k, 1.0 / k), _regression_start(X1, X0, Z1, Z0)):
        res = minimize(loss, start, method="Nelder-Mead", options=opts)
        # one restart from the end point (Nelder-Mead's simplex can collapse early)
        res = minimize(loss, _v_of(res.x), method="Nelder-Mead", options=opts)
        cand = (float(res.fun), _v_of(res.x))
        if best is None or cand[0] < best[0]:
            best = cand
    assert best is not None
    w = donor_weights(X1, X0, best[1])
    return ADHFit(w=w, v=best[1], mspe=_mspe(Z1, Z0, w),
                  search="nested (Nelder-Mead from equal and regression-based V)")


def hull_distance(X1: np.ndarray, X0: np.ndarray) -> float:
    """Euclidean distance of ``X1`` to the convex hull of the columns of ``X0``."""
    w = simplex_least_squares(X0, X1)
    return float(np.linalg.norm(X1 - X0 @ w))
