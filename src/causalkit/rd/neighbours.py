"""Nearest-neighbour residuals for heteroskedasticity-robust local-polynomial variances.

Calonico, Cattaneo & Titiunik (2014, Econometrica 82(6), section S.2) estimate
the conditional variance at each observation by comparing it with the mean of
its ``J`` nearest neighbours in the running variable (at least ``matches``
of them; ties in distance and repeated values are all included):

    e_i = sqrt(J / (J + 1)) * (y_i - mean of the J neighbours of i).

This vectorised version grows a window of distinct running-variable values
around each value, at most ``matches`` steps for all values at once.

Example
-------
>>> import numpy as np
>>> x = np.arange(6.0); y = np.array([[0.], [1.], [0.], [1.], [0.], [1.]])
>>> r = nn_residuals(x, y, matches=2)
>>> round(float(r[0, 0]), 4)
-0.4082
"""

from __future__ import annotations

import numpy as np

_TOL = float(np.sqrt(np.finfo(float).eps))


def nn_residuals(x: np.ndarray, D: np.ndarray, matches: int = 3) -> np.ndarray:
    """Nearest-neighbour residuals of each column of ``D``; ``x`` must be sorted ascending."""
    x = np.asarray(x, dtype=float)
    D = np.asarray(D, dtype=float).reshape(len(x), -1)
    n = len(x)
    values, group, counts = np.unique(x, return_inverse=True, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n_groups = len(values)
    cap = min(int(matches), n - 1)
    lo = np.arange(n_groups)
    hi = lo.copy()
    total = counts.astype(int).copy()
    while True:
        active = total - 1 < cap
        if not active.any():
            break
        can_left = lo > 0
        can_right = hi < n_groups - 1
        d_left = np.where(can_left, values - values[np.maximum(lo - 1, 0)], np.inf)
        d_right = np.where(can_right, values[np.minimum(hi + 1, n_groups - 1)] - values, np.inf)
        both = can_left & can_right
        tol = np.where(both, np.maximum(d_left, d_right) * _TOL, 0.0)
        tie = both & (np.abs(d_left - d_right) <= tol)
        go_right = active & (~can_left | (both & (d_left - d_right > tol)) | tie)
        go_left = active & (~can_right | (both & (d_right - d_left > tol)) | tie)
        total = total + np.where(go_right, counts[np.minimum(hi + 1, n_groups - 1)], 0) \
            + np.where(go_left, counts[np.maximum(lo - 1, 0)], 0)
        hi = hi + go_right
        lo = lo - go_left
    a = starts[lo][group]
    b = (starts[hi] + counts[hi])[group]
    csum = np.vstack([np.zeros((1, D.shape[1])), np.cumsum(D, axis=0)])
    j = (b - a - 1).astype(float)[:, None]
    neighbour_mean = (csum[b] - csum[a] - D) / j
    return np.sqrt(j / (j + 1.0)) * (D - neighbour_mean)
