"""Array forms of the Wald helpers in :mod:`causalkit.inference`, for batches of tests.

:func:`causalkit.inference.wald` works on one scalar; the experiment code
analyzes thousands of simulated (or many real) comparisons at once, so these
apply the same formulas elementwise: survival functions for p-values (so
``|z| = 12`` gives a tiny positive p), Student's t where degrees of freedom are
finite and the normal distribution where they are ``inf``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..inference import check_alpha


def p_values(statistic: np.ndarray, df: np.ndarray | float = np.inf) -> np.ndarray:
    """Two-sided p-values of z (``df=inf``) or t statistics, elementwise.

    >>> p_values(np.array([1.959963984540054]))[0].round(6)
    np.float64(0.05)
    """
    z = np.abs(np.asarray(statistic, dtype=float))
    df = np.broadcast_to(np.asarray(df, dtype=float), z.shape)
    finite = np.isfinite(df)
    out = 2.0 * stats.norm.sf(z)
    if np.any(finite):
        out = np.where(finite, 2.0 * stats.t.sf(z, np.where(finite, df, 1.0)), out)
    return out


def critical_values(alpha: float, df: np.ndarray | float = np.inf) -> np.ndarray:
    """Two-sided critical values at level ``alpha``, elementwise in ``df``.

    >>> critical_values(0.05).round(6)
    np.float64(1.959964)
    """
    alpha = check_alpha(alpha)
    df = np.asarray(df, dtype=float)
    finite = np.isfinite(df)
    z = stats.norm.isf(alpha / 2)
    if not np.any(finite):
        return np.full(df.shape, z)[()]
    return np.where(finite, stats.t.isf(alpha / 2, np.where(finite, df, 1.0)), z)[()]


def welch_dfs(v1: np.ndarray, n1: np.ndarray, v0: np.ndarray, n0: np.ndarray) -> np.ndarray:
    """Welch–Satterthwaite df from the *squared standard errors* ``v = s^2/n`` of two arms.

    >>> float(welch_dfs(np.array(0.1), 10, np.array(0.2), 20).round(4))
    27.9818
    """
    num = (v1 + v0) ** 2
    den = v1 ** 2 / (np.asarray(n1, float) - 1) + v0 ** 2 / (np.asarray(n0, float) - 1)
    return np.divide(num, den, out=np.full(np.shape(num), np.inf), where=den > 0)
