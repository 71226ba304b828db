"""The untreated-outcome model that ``imputation_did`` and ``did2s`` share.

Both fit ``y_it = a_i + l_t + X_it'b + e_it`` on the untreated rows only
(never-treated units and the not-yet-treated periods of the others), impute
``Y_it(0)`` at every row, and need the weights by which a linear functional of
the treated rows loads on the untreated outcomes through that fit.  Covariates
enter by Frisch–Waugh–Lovell on top of the exact two-way solver of ``_fe``.

Example
-------
>>> import numpy as np
>>> u = np.repeat(np.arange(3), 2); t = np.tile(np.arange(2), 3)
>>> y = np.array([1.0, 2.0, 3.0, 4.0, 0.0, 9.0])
>>> m = UntreatedModel(u, t, np.array([1, 1, 1, 1, 1, 0], bool), np.empty((6, 0)), y)
>>> round(float(m.y0[-1]), 9), round(float(y[-1] - m.y0[-1]), 9)
(1.0, 8.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import EstimationError
from ..linear import equilibrate, require_full_rank
from ._fe import TwoWayFE
from ._staggered import group_matrix


class UntreatedModel:
    """The two-way fixed-effects (+ covariates) fit on the rows in ``untreated``.

    Attributes: ``y0`` (imputed untreated outcome at every row), ``resid`` (``y -
    y0``; the first-stage residual on the untreated rows), ``beta`` (covariate
    slopes), ``fe`` (the :class:`~causalkit.panel._fe.TwoWayFE` solver).
    """

    def __init__(self, unit: np.ndarray, time: np.ndarray, untreated: np.ndarray,
                 X: np.ndarray, y: np.ndarray, covariates: list[str] | None = None) -> None:
        self.fe = TwoWayFE(unit, time, untreated)
        self.mask = self.fe.mask
        self.X = X
        if X.shape[1]:
            self.Xr = self.fe.residualize(X)
            self._x_unit, self._x_time = self.fe.sums(X)
            Xs, scales = equilibrate(self.Xr[self.mask])
            require_full_rank(Xs, "the covariates after removing the unit and period effects "
                              "(on the untreated rows)", covariates or list(range(X.shape[1])))
            self._gram_inv = np.linalg.inv(Xs.T @ Xs) / np.outer(scales, scales)
            yr = self.fe.residualize(y)
            self.beta = self._gram_inv @ (self.Xr[self.mask].T @ yr[self.mask])
            self.y0 = self.fe.fitted(y - X @ self.beta) + X @ self.beta
        else:
            self.Xr = X
            self.beta = np.empty(0)
            self.y0 = self.fe.fitted(y)
        if not np.all(np.isfinite(self.y0)):
            raise EstimationError("the untreated-outcome model gave non-finite imputations")
        self.resid = y - self.y0

    def loading_coefs(self, blocks: Sequence["Indicators"]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coefficients of ``Z0 (Z0'Z0)^{-1} Z'W`` for the columns ``W`` of ``blocks``.

        ``Z`` is the design (unit and period dummies, covariates).  The loading of
        column j at an untreated row is ``alpha[unit, j] + lam[time, j] + Xr_row h[:, j]``
        (:meth:`loading_cluster_sums` sums them).  ``-loading`` are the imputation
        weights of the untreated outcomes in ``sum(w * (y - y0))`` (Borusyak et al.
        2024, Theorem 1); the loadings of the second-stage regressors are the
        first-stage correction of the two-stage (Gardner) covariance.
        """
        fe = self.fe
        b = np.hstack([blk.group_sums(fe.unit, fe.n_units) for blk in blocks])
        c = np.hstack([blk.group_sums(fe.time, fe.n_periods) for blk in blocks])
        alpha, lam = fe.effects(b, c)
        if not self.X.shape[1]:
            return alpha, lam, np.zeros((0, alpha.shape[1]))
        r_x = np.hstack([blk.moments(self.X) for blk in blocks])          # X'W, p x k
        x0_q = self._x_unit.T @ alpha + self._x_time.T @ lam               # X0' q
        return alpha, lam, self._gram_inv @ (r_x - x0_q)

    def loading_cluster_sums(self, coefs: tuple[np.ndarray, np.ndarray, np.ndarray],
                             resid: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """``sum over untreated rows r in cluster c of resid_r * loading_r`` (G x k)."""
        alpha, lam, h_x = coefs
        m = self.mask
        G = int(codes.max()) + 1
        out = (group_matrix(codes[m], resid[m], self.fe.unit[m], (G, self.fe.n_units)) @ alpha
               + group_matrix(codes[m], resid[m], self.fe.time[m], (G, self.fe.n_periods))
               @ lam)
        if self.X.shape[1]:
            out = out + group_matrix(codes[m], shape=(G, int(m.sum()))) \
                @ (self.Xr[m] * resid[m, None]) @ h_x
        return out


@dataclass(frozen=True)
class Indicators:
    """``k`` columns with at most one nonzero per row: row r holds ``value[r]`` in column
    ``code[r]`` (``-1``: none).  Event-time dummies and their averaging weights."""

    code: np.ndarray
    value: np.ndarray
    k: int

    def group_sums(self, groups: np.ndarray, n_groups: int,
                   weights: np.ndarray | None = None) -> np.ndarray:
        """``sum_r value_r * weights_r`` by (group of r, column of r): n_groups x k."""
        on = self.code >= 0
        v = self.value[on] if weights is None else self.value[on] * weights[on]
        idx = groups[on].astype(np.int64) * self.k + self.code[on]
        return np.bincount(idx, v, minlength=n_groups * self.k).reshape(n_groups, self.k)

    def totals(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Column sums of ``value * weights`` (length k)."""
        return self.group_sums(np.zeros(len(self.code), np.int64), 1, weights)[0]

    def moments(self, X: np.ndarray) -> np.ndarray:
        """``X' W`` (p x k)."""
        return np.column_stack([self.totals(X[:, j]) for j in range(X.shape[1])]).T \
            if X.shape[1] else np.zeros((0, self.k))
