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

import numpy as np

from ..errors import EstimationError
from ..linear import equilibrate, require_full_rank
from ._fe import TwoWayFE


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

    def loadings(self, W: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``Z0 (Z0'Z0)^{-1} Z'_rows W`` at the untreated rows (zero elsewhere), rows x k.

        ``Z`` is the design (unit and period dummies, covariates); ``W`` (rows x k)
        is used on ``rows``.  ``-loadings(w, treated)`` are the imputation weights
        of the untreated outcomes in ``sum(w * (y - y0))`` (Borusyak et al. 2024,
        Theorem 1); ``loadings(X2, all)`` is the first-stage correction of the
        two-stage (Gardner) covariance.
        """
        W = np.asarray(W, dtype=float).reshape(len(rows), -1)
        fe = self.fe
        q = fe.evaluate(*fe.effects(*fe.sums(W, rows)))
        if self.X.shape[1]:
            r_x = self.X[rows].T @ W[rows]
            h_x = self._gram_inv @ (r_x - self.X[self.mask].T @ q[self.mask])
            q = q + self.Xr @ h_x
        q[~self.mask] = 0.0
        return q
