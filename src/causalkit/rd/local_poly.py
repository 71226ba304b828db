"""Local-polynomial fits on one side of the cutoff, with bias correction and variances.

For one side, with running variable centred at the cutoff, this fits a
weighted polynomial of order ``p`` (bandwidth ``h``) to every column of ``D``
(outcome, and for a fuzzy design the treatment, and covariates), and the
bias-corrected fit of Calonico, Cattaneo & Titiunik (2014, CCT), whose
leading bias term is estimated with a polynomial of order ``q`` (bandwidth
``b``).  The robust variance of CCT accounts for the variability of that bias
estimate: it uses the score matrix ``Q_q`` in place of ``R_p W_h``.

Variances are asked for a linear combination ``s`` of the columns of ``D``
(``s = (1,)`` for a sharp design; the covariate adjustment and the fuzzy
ratio are such combinations).

Reference: S. Calonico, M. D. Cattaneo and R. Titiunik (2014), "Robust
nonparametric confidence intervals for regression-discontinuity designs",
Econometrica 82(6), 2295–2326.

Example
-------
>>> import numpy as np
>>> x = np.linspace(0.01, 1, 200); y = (1 + 2 * x)[:, None]
>>> fit = fit_side(x, y, h=0.5, b=0.8)
>>> round(float(fit.beta_p[0, 0]), 6), round(float(fit.beta_bc[0, 0]), 6)
(1.0, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import OptionError, TooFewRowsError
from .kernels import kernel_weights
from .neighbours import nn_residuals

VCE_OPTIONS = ("nn", "hc0", "hc1", "hc2", "hc3")


def vander(x: np.ndarray, order: int) -> np.ndarray:
    """Columns ``1, x, ..., x**order``.

    >>> vander(np.array([2.0]), 2).tolist()
    [[1.0, 2.0, 4.0]]
    """
    return np.power.outer(np.asarray(x, dtype=float), np.arange(order + 1))


def sym_inv(G: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite matrix (pseudo-inverse if singular)."""
    try:
        L = np.linalg.cholesky(G)
        Linv = np.linalg.inv(L)
        return Linv.T @ Linv
    except np.linalg.LinAlgError:
        return np.linalg.pinv(G)


@dataclass(frozen=True)
class SideFit:
    """Local-polynomial fit on one side of the cutoff (running variable centred)."""

    beta_p: np.ndarray       # (p+1, m) conventional coefficients, one column per column of D
    beta_bc: np.ndarray      # (p+1, m) bias-corrected coefficients
    inv_gram: np.ndarray     # (R_p' W_h R_p)^-1
    score_p: np.ndarray      # R_p * W_h, rows of the effective sample
    score_q: np.ndarray      # CCT robust score Q_q
    res_p: np.ndarray        # residuals for the conventional variance
    res_q: np.ndarray        # residuals for the robust variance
    cluster: np.ndarray | None
    p: int
    q: int
    n_eff_h: int             # observations with positive weight under h
    n_eff_b: int
    D_eff: np.ndarray        # D restricted to the effective sample
    Z_part: np.ndarray | None  # (dZ, m) partialled Z'W D for the covariate adjustment

    def variance(self, s: np.ndarray, robust: bool) -> np.ndarray:
        """Covariance matrix of the ``s``-combination of the coefficients (conventional or robust)."""
        score = self.score_q if robust else self.score_p
        res = (self.res_q if robust else self.res_p) @ np.asarray(s, dtype=float)
        k = self.q + 1 if robust else self.p + 1
        meat = _meat(score, res, self.cluster, k)
        return self.inv_gram @ meat @ self.inv_gram


def _meat(score: np.ndarray, res: np.ndarray, cluster: np.ndarray | None, k: int) -> np.ndarray:
    u = score * res[:, None]
    if cluster is None:
        return u.T @ u
    codes = np.unique(cluster, return_inverse=True)[1]
    g = int(codes.max()) + 1
    sums = np.zeros((g, u.shape[1]))
    np.add.at(sums, codes, u)
    n = len(res)
    factor = (n - 1) / (n - k) * g / (g - 1) if g > 1 else np.nan
    return factor * (sums.T @ sums)


def _hc_residuals(D: np.ndarray, R: np.ndarray, W: np.ndarray, inv_gram: np.ndarray,
                  vce: str, clustered: bool) -> np.ndarray:
    beta = inv_gram @ (R * W[:, None]).T @ D
    e = D - R @ beta
    n, k = R.shape
    if vce == "hc0" or (vce == "hc1" and clustered):
        return e
    if vce == "hc1":
        return e * np.sqrt(n / (n - k))
    lev = np.einsum("ij,jk,ik->i", R, inv_gram, R * W[:, None])
    factor = 1.0 / np.maximum(1.0 - lev, 1e-8)
    return e * (np.sqrt(factor) if vce == "hc2" else factor)[:, None]


def fit_side(x: np.ndarray, D: np.ndarray, h: float, b: float, p: int = 1, q: int = 2,
             kernel: str = "triangular", vce: str = "nn", nnmatch: int = 3,
             cluster: np.ndarray | None = None, n_covariates: int = 0,
             sample_weight: np.ndarray | None = None) -> SideFit:
    """Fit one side.  ``x`` is the running variable minus the cutoff, sorted ascending.

    ``sample_weight`` (sampling weights, aligned with ``x``) multiply the kernel
    weights, as rdrobust's ``weights=`` does.

    The last ``n_covariates`` columns of ``D`` are covariates; for them the
    partialled cross-products needed by the covariate adjustment are kept.
    """
    if vce not in VCE_OPTIONS:
        raise OptionError(f"vce must be one of {', '.join(VCE_OPTIONS)}, got {vce!r}")
    x = np.asarray(x, dtype=float)
    D = np.asarray(D, dtype=float).reshape(len(x), -1)
    w_h_all = kernel_weights(x, h, kernel)
    w_b_all = kernel_weights(x, b, kernel)
    if sample_weight is not None:
        w_h_all, w_b_all = w_h_all * sample_weight, w_b_all * sample_weight
    keep = (w_h_all > 0) if h > b else (w_b_all > 0)
    n_h, n_b = int((w_h_all > 0).sum()), int((w_b_all > 0).sum())
    xe, De = x[keep], D[keep]
    if len(np.unique(xe[w_h_all[keep] > 0])) < p + 1 or \
            len(np.unique(xe[w_b_all[keep] > 0])) < q + 1:
        raise TooFewRowsError(
            f"not enough distinct running-variable values within the bandwidth on one side of "
            f"the cutoff to fit polynomials of order p={p} and q={q}; widen the bandwidth")
    W_h, W_b = w_h_all[keep], w_b_all[keep]
    R_q = vander(xe, q)
    R_p = R_q[:, : p + 1]
    RW_p = R_p * W_h[:, None]
    inv_p = sym_inv(R_p.T @ RW_p)
    inv_q = sym_inv(R_q.T @ (R_q * W_b[:, None]))
    L = RW_p.T @ (xe / h) ** (p + 1)
    m = (R_q @ inv_q[p + 1]) * W_b
    Q_q = RW_p - h ** (p + 1) * m[:, None] * L[None, :]
    beta_p = inv_p @ RW_p.T @ De
    beta_bc = inv_p @ Q_q.T @ De
    ce = None if cluster is None else np.asarray(cluster)[keep]
    if vce == "nn":
        res_p = res_q = nn_residuals(xe, De, nnmatch)
    else:
        res_p = _hc_residuals(De, R_p, W_h, inv_p, vce, ce is not None)
        res_q = _hc_residuals(De, R_q, W_b, inv_q, vce, ce is not None)
    Z_part = None
    if n_covariates:
        U = RW_p.T @ De
        Ze = De[:, -n_covariates:]
        Z_part = (Ze * W_h[:, None]).T @ De - U[:, -n_covariates:].T @ inv_p @ U
    return SideFit(beta_p=beta_p, beta_bc=beta_bc, inv_gram=inv_p, score_p=RW_p, score_q=Q_q,
                   res_p=res_p, res_q=res_q, cluster=ce, p=p, q=q, n_eff_h=n_h, n_eff_b=n_b,
                   D_eff=De, Z_part=Z_part)
