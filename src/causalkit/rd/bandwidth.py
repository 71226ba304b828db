"""MSE-optimal bandwidths for local-polynomial RD (Calonico, Cattaneo & Titiunik 2014).

``mserd`` picks one bandwidth common to both sides that minimises the
asymptotic MSE of the RD effect; ``msetwo`` picks one per side; ``cerrd`` and
``certwo`` shrink them to the coverage-error-optimal rate of Calonico,
Cattaneo & Farrell (2020), better suited to the robust confidence interval.  Each
bandwidth is ``(V / (B**2 + R))**(1 / (2 o + 3))`` with the variance constant
``V`` from a pilot fit, the bias constant ``B`` from a higher-order fit, and
the regularisation ``R`` (the variance of the bias estimate) of CCT.  The
chain is: pilot rule of thumb -> ``d`` (for the bias of the bias fit) -> ``b``
(bias-correction bandwidth) -> ``h`` (main bandwidth).  As in rdrobust the
computations run on the running variable and outcome divided by their
standard deviations, and nearest-neighbour residuals give the variances.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.sort(rng.uniform(-1, 1, 1000)); y = x + (x >= 0) + rng.normal(0, .3, 1000)
>>> bw = select_bandwidth(x, y, 0.0)
>>> bool(0.1 < bw.h_left < 1.0 and bw.h_left == bw.h_right)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import EstimationError, OptionError
from .combination import outcome_combination
from .kernels import PILOT_CONSTANT, kernel_name, kernel_weights
from .local_poly import _hc_residuals, _meat, sym_inv, vander
from .neighbours import nn_residuals

BW_SELECTORS = ("mserd", "msetwo", "cerrd", "certwo")
_EPS = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class Bandwidths:
    """Main (``h``) and bias-correction (``b``) bandwidths on each side."""

    h_left: float
    h_right: float
    b_left: float
    b_right: float
    method: str


@dataclass
class _Side:
    x: np.ndarray          # centred, standardised, sorted running variable
    D: np.ndarray          # [y, (t), Z]
    cluster: np.ndarray | None
    fuzzy: bool
    n_cov: int
    sw: np.ndarray | None = None   # sampling weights (multiply the kernel weights)


def _window(side: _Side, h: float, kernel: str):
    w = kernel_weights(side.x, h, kernel)
    if side.sw is not None:
        w = w * side.sw
    keep = w > 0
    cl = None if side.cluster is None else side.cluster[keep]
    return side.x[keep], side.D[keep], w[keep], cl


def _residuals(x, D, R, W, inv_gram, vce, nnmatch, clustered):
    if vce == "nn":
        return nn_residuals(x, D, nnmatch)
    return _hc_residuals(D, R, W, inv_gram, vce, clustered)


def _pilot_combination(side: _Side, beta: np.ndarray, RW: np.ndarray, inv_gram: np.ndarray,
                       x_w: np.ndarray, D_w: np.ndarray, W: np.ndarray, nu: int) -> np.ndarray:
    gamma = None
    n_lead = 1 + int(side.fuzzy)
    if side.n_cov:
        U = RW.T @ D_w
        Z = D_w[:, n_lead:]
        part = (Z * W[:, None]).T @ D_w - U[:, n_lead:].T @ inv_gram @ U
        gamma = np.linalg.pinv(part[:, n_lead:]) @ part[:, :n_lead]
    return outcome_combination(math.factorial(nu) * beta[nu], gamma, side.fuzzy, side.n_cov)[0]


def _fit(side: _Side, h: float, order: int, kernel: str):
    """Weighted polynomial fit of order ``order`` within ``h``; ``None`` if not identified."""
    x, D, W, cl = _window(side, h, kernel)
    if len(np.unique(x)) < order + 1:
        return None
    R = vander(x, order)
    RW = R * W[:, None]
    inv_g = sym_inv(R.T @ RW)
    return x, D, W, cl, R, RW, inv_g, inv_g @ RW.T @ D


def _constants(side: _Side, o: int, nu: int, o_b: int, h_v: float, h_b: float, scale: float,
               kernel: str, vce: str, nnmatch: int) -> tuple[float, float, float]:
    """Variance, bias and regularisation constants (V, B, R) of one side."""
    pilot = _fit(side, h_v, o, kernel)
    fit_b = _fit(side, h_b, o_b, kernel) if np.isfinite(h_b) and h_b > 0 else None
    if pilot is None or fit_b is None:
        return math.nan, math.nan, math.nan
    x, D, W, cl, R, RW, inv_g, beta = pilot
    s = _pilot_combination(side, beta, RW, inv_g, x, D, W, nu)
    res = _residuals(x, D, R, W, inv_g, vce, nnmatch, cl is not None) @ s
    v_v = (inv_g @ _meat(RW, res, cl, o + 1) @ inv_g)[nu, nu]
    b_const = (h_v ** np.arange(o + 1) * (inv_g @ (RW.T @ (x / h_v) ** (o + 1))))[nu]
    xb, Db, Wb, clb, RB, RWB, inv_b, beta_b = fit_b
    reg = 0.0
    if scale > 0:
        res_b = _residuals(xb, Db, RB, Wb, inv_b, vce, nnmatch, clb is not None) @ s
        v_b = (inv_b @ _meat(RWB, res_b, clb, o_b + 1) @ inv_b)[-1, -1]
        reg = 3.0 * b_const ** 2 * v_b
    bias = math.sqrt(2 * (o + 1 - nu)) * b_const * float(s @ beta_b[-1])
    var = (2 * nu + 1) * h_v ** (2 * nu + 1) * v_v
    return var, bias, scale * 2 * (o + 1 - nu) * reg


def _type2_iqr(x: np.ndarray) -> float:
    q25, q75 = np.quantile(x, [0.25, 0.75], method="averaged_inverted_cdf")
    return float(q75 - q25)


def select_bandwidth(x: np.ndarray, y: np.ndarray, cutoff: float, t: np.ndarray | None = None,
                     Z: np.ndarray | None = None, cluster: np.ndarray | None = None, p: int = 1,
                     q: int = 2, deriv: int = 0, kernel: str = "triangular",
                     method: str = "mserd", vce: str = "nn", nnmatch: int = 3,
                     scaleregul: float = 1.0, masspoints: bool = True,
                     standardize: bool = True,
                     sample_weight: np.ndarray | None = None) -> Bandwidths:
    """MSE-optimal bandwidths; ``x`` must be sorted ascending (``y``, ``t``, ``Z`` aligned).

    ``sample_weight`` multiply the kernel weights of every pilot fit (rdrobust's
    ``rdbwselect(weights=)``).

    ``masspoints=True`` counts distinct running-variable values for the pilot
    rule and, when 20% or more of a side repeats, keeps at least 10 distinct
    values inside every bandwidth (rdrobust's ``masspoints="adjust"``).
    """
    if method not in BW_SELECTORS:
        raise OptionError(f"bandwidth selector must be one of {', '.join(BW_SELECTORS)}, "
                          f"got {method!r}")
    kernel = kernel_name(kernel)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x_sd = float(np.std(x, ddof=1)) if standardize else 1.0
    y_sd = float(np.std(y, ddof=1)) if standardize else 1.0
    iqr = _type2_iqr(x)
    bw_p = min(1.0, iqr / x_sd / 1.349) if standardize else min(float(np.std(x, ddof=1)),
                                                                   iqr / 1.349)
    xs, c = x / x_sd, cutoff / x_sd
    left = x < cutoff
    cols = [y / y_sd]
    fuzzy = t is not None and np.var(t[left]) > 0 and np.var(t[~left]) > 0
    if fuzzy:
        cols.append(np.asarray(t, dtype=float))
    n_cov = 0 if Z is None else Z.shape[1]
    D = np.column_stack(cols + ([Z] if n_cov else []))
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    sides = [_Side(xs[m] - c, D[m], None if cluster is None else np.asarray(cluster)[m],
                   fuzzy, n_cov, None if sw is None else sw[m]) for m in (left, ~left)]
    n_unique = [len(np.unique(s.x)) for s in sides]
    n_count = n_unique if masspoints else [len(s.x) for s in sides]
    pilot = PILOT_CONSTANT[kernel] * bw_p * sum(n_count) ** (-0.2)
    bw_max = [abs(c - xs.min()), abs(c - xs.max())]
    pilot = min(pilot, max(bw_max))
    bw_min = [0.0, 0.0]
    if masspoints and any(1 - u / len(s.x) >= 0.2 for u, s in zip(n_unique, sides)):
        for i, s in enumerate(sides):
            dist = np.unique(np.abs(s.x))
            bw_min[i] = dist[min(10, len(dist)) - 1] * (1 + _EPS)
        pilot = max(pilot, *bw_min)

    def consts(o, nu, o_b, h_b, scale):
        return [_constants(s, o, nu, o_b, pilot, hb, scale, kernel, vce, nnmatch)
                for s, hb in zip(sides, h_b)]

    if method.startswith("cer"):
        # coverage-error-optimal h (Calonico, Cattaneo & Farrell 2020): shrink the MSE-optimal h
        n_units = len(np.unique(cluster)) if cluster is not None else len(x)
        mse = select_bandwidth(x, y, cutoff, t=t, Z=Z, cluster=cluster, p=p, q=q, deriv=deriv,
                               kernel=kernel, method=method.replace("cer", "mse"), vce=vce,
                               nnmatch=nnmatch, scaleregul=scaleregul, masspoints=masspoints,
                               standardize=standardize, sample_weight=sample_weight)
        shrink = n_units ** (-p / ((3 + p) * (3 + 2 * p)))
        return Bandwidths(mse.h_left * shrink, mse.h_right * shrink, mse.b_left, mse.b_right,
                          method)
    if method == "mserd":
        cd = consts(q + 1, q + 1, q + 2, [bw_max[0] * (1 + _EPS), bw_max[1] * (1 + _EPS)], 0)
        d = ((cd[0][0] + cd[1][0]) / (cd[1][1] - cd[0][1]) ** 2) ** (1 / (2 * q + 5))
        d = max(min(d, max(bw_max)), *bw_min)
        cb = consts(q, p + 1, q + 1, [d, d], scaleregul)
        b = ((cb[0][0] + cb[1][0]) / ((cb[1][1] - cb[0][1]) ** 2
                                     + scaleregul * (cb[0][2] + cb[1][2]))) ** (1 / (2 * q + 3))
        b = min(b, max(bw_max))
        ch = consts(p, deriv, q, [b, b], scaleregul)
        h = ((ch[0][0] + ch[1][0]) / ((ch[1][1] - ch[0][1]) ** 2
                                     + scaleregul * (ch[0][2] + ch[1][2]))) ** (1 / (2 * p + 3))
        h = min(h, max(bw_max))
        return _checked(Bandwidths(h * x_sd, h * x_sd, b * x_sd, b * x_sd, method))
    cd = consts(q + 1, q + 1, q + 2, [bw_max[0] * (1 + _EPS), bw_max[1] * (1 + _EPS)], 0)
    d = [max(min((v / bb ** 2) ** (1 / (2 * q + 5)), mx), mn)
         for (v, bb, _), mx, mn in zip(cd, bw_max, bw_min)]
    cb = consts(q, p + 1, q + 1, d, scaleregul)
    b = [min((v / (bb ** 2 + scaleregul * r)) ** (1 / (2 * q + 3)), mx)
         for (v, bb, r), mx in zip(cb, bw_max)]
    ch = consts(p, deriv, q, b, scaleregul)
    h = [min((v / (bb ** 2 + scaleregul * r)) ** (1 / (2 * p + 3)), mx)
         for (v, bb, r), mx in zip(ch, bw_max)]
    return _checked(Bandwidths(h[0] * x_sd, h[1] * x_sd, b[0] * x_sd, b[1] * x_sd, method))


def _checked(bw: Bandwidths) -> Bandwidths:
    values = (bw.h_left, bw.h_right, bw.b_left, bw.b_right)
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise EstimationError(
            "bandwidth selection failed (a pilot fit had too few distinct running-variable "
            "values, or the estimated bias is zero); pass a bandwidth with h=")
    return bw
