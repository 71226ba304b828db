"""First-stage strength: the F statistic and the effective F of Montiel Olea & Pflueger.

After partialling the exogenous covariates ``W`` out of the treatment ``d``
and the instruments ``Z`` (Frisch–Waugh–Lovell), the first stage regresses
``d`` on ``Z``.  Its F statistic is the Wald statistic of ``pi = 0`` divided by
the number of instruments ``k`` (classical, heteroskedasticity-robust HC0 or
cluster-robust).  The effective F (Montiel Olea & Pflueger 2013, "A robust
test for weak instruments", JBES 31(3)) is ``pi' Q pi / tr(V Q)`` with
``Q = Z'Z`` and ``V`` the (robust) covariance of ``pi``; it equals the
classical F under homoskedasticity and the robust F with one instrument.
Below 10 (Staiger & Stock's rule of thumb) a :class:`UserWarning` is issued.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> z = rng.normal(size=(500, 1)); d = 0.5 * z[:, 0] + rng.normal(size=500)
>>> fs = first_stage_strength(d, z)
>>> fs.f_stat > 50 and abs(fs.f_stat - fs.f_effective) < 1e-9
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError

COV_TYPES = ("robust", "unadjusted", "clustered")


@dataclass(frozen=True)
class FirstStage:
    """First-stage coefficients of the instruments and their strength."""

    coefficients: np.ndarray
    cov: np.ndarray
    f_stat: float
    f_effective: float
    partial_r2: float
    n_instruments: int
    cov_type: str


def partial_out(W: np.ndarray | None, *arrays: np.ndarray) -> list[np.ndarray]:
    """Residuals of each array (column-wise) after least squares on ``[1, W]``.

    >>> partial_out(None, np.array([1.0, 3.0]))[0].round(9).tolist()
    [-1.0, 1.0]
    """
    n = len(arrays[0])
    X = np.ones((n, 1)) if W is None or W.size == 0 else np.column_stack([np.ones(n), W])
    out = []
    for a in arrays:
        a2 = np.asarray(a, dtype=float).reshape(n, -1)
        coef = np.linalg.lstsq(X, a2, rcond=None)[0]
        res = a2 - X @ coef
        out.append(res if np.ndim(a) > 1 else res[:, 0])
    return out


def sandwich(Zt: np.ndarray, res_a: np.ndarray, res_b: np.ndarray, cov_type: str,
             groups: np.ndarray | None = None, dof: int | None = None) -> np.ndarray:
    """``Q^-1 S Q^-1`` for coefficients on ``Zt``; ``S`` pairs residuals ``a`` and ``b``.

    ``unadjusted`` uses ``mean(a * b) * Q`` (scaled by ``n / dof`` when given),
    ``robust`` the HC0 sum and ``clustered`` the sum of cluster scores.
    """
    Q = Zt.T @ Zt
    Qi = np.linalg.inv(Q)
    if cov_type == "unadjusted":
        n = len(res_a)
        return float(res_a @ res_b) / (dof if dof else n) * Qi
    if cov_type == "robust":
        S = (Zt * (res_a * res_b)[:, None]).T @ Zt
    elif cov_type == "clustered":
        if groups is None:
            raise OptionError("cov_type='clustered' needs a cluster column")
        codes = np.unique(groups, return_inverse=True)[1]
        sa = np.zeros((codes.max() + 1, Zt.shape[1]))
        sb = np.zeros_like(sa)
        np.add.at(sa, codes, Zt * res_a[:, None])
        np.add.at(sb, codes, Zt * res_b[:, None])
        S = sa.T @ sb
    else:
        raise OptionError(f"cov_type must be one of {', '.join(COV_TYPES)}, got {cov_type!r}")
    return Qi @ S @ Qi


def first_stage_strength(d: np.ndarray, Z: np.ndarray, W: np.ndarray | None = None,
                         cov_type: str = "robust", groups: np.ndarray | None = None
                         ) -> FirstStage:
    """First-stage F, effective F and partial R-squared of instruments ``Z`` for ``d``."""
    Z = np.asarray(Z, dtype=float).reshape(len(d), -1)
    dt, Zt = partial_out(W, d, Z)
    k = Zt.shape[1]
    Q = Zt.T @ Zt
    pi = np.linalg.solve(Q, Zt.T @ dt)
    e = dt - Zt @ pi
    n_exog = 1 + (0 if W is None else np.asarray(W).reshape(len(d), -1).shape[1])
    V = sandwich(Zt, e, e, cov_type, groups, dof=len(d) - n_exog - k)
    f_stat = float(pi @ np.linalg.solve(V, pi)) / k
    f_eff = float(pi @ Q @ pi) / float(np.trace(V @ Q))
    tss = float(dt @ dt)
    r2 = 1.0 - float(e @ e) / tss if tss > 0 else 0.0
    return FirstStage(pi, V, f_stat, f_eff, r2, k, cov_type)


def weak_instrument_warning(f_stat: float, threshold: float = 10.0,
                            what: str = "the instrument(s)") -> None:
    """Warn (``UserWarning``) when the first-stage F is below ``threshold``."""
    if f_stat < threshold:
        warnings.warn(
            f"weak instrument: first-stage F = {f_stat:.2f} < {threshold:g} for {what}; the "
            "Wald confidence interval can badly under-cover, use the Anderson-Rubin set in "
            "diagnostics['anderson_rubin_ci']", UserWarning, stacklevel=3)
