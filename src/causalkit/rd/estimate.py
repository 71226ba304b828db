"""Sharp and fuzzy RD effects by local polynomials with robust bias-corrected inference.

The conventional estimate is the difference of the two one-sided local
polynomial intercepts; the bias-corrected estimate subtracts the estimated
leading bias, and the robust standard error accounts for the bias estimate
(Calonico, Cattaneo & Titiunik 2014).  A fuzzy design divides the outcome jump
by the treatment jump (a local Wald/IV ratio, linearised with
:func:`causalkit.iv.ratio_gradient`).

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x = rng.uniform(-1, 1, 2000); y = 0.5 * x + 1.0 * (x >= 0) + rng.normal(0, .2, 2000)
>>> res = rd_estimate(x, y, 0.0)
>>> abs(res.estimate - 1.0) < 0.1 and res.ci_robust[0] < 1.0 < res.ci_robust[1]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import EmptyArmError, NotIdentifiableError, OptionError, TooFewRowsError
from ..inference import wald
from ..iv.ratio import ratio_gradient, wald_ratio
from .bandwidth import Bandwidths, select_bandwidth
from .combination import covariate_gamma, outcome_combination
from .kernels import kernel_name
from .local_poly import VCE_OPTIONS, SideFit, fit_side


@dataclass(frozen=True)
class RDResult:
    """Everything an RD fit produces (conventional and robust bias-corrected)."""

    estimate: float
    estimate_bc: float
    se_conventional: float
    se_robust: float
    ci_conventional: tuple[float, float]
    ci_robust: tuple[float, float]
    p_value_robust: float
    bandwidths: Bandwidths
    n_left: int
    n_right: int
    n_eff_left: int
    n_eff_right: int
    fuzzy: bool
    first_stage: float | None = None
    first_stage_se: float | None = None
    reduced_form: float | None = None
    reduced_form_cov: np.ndarray | None = field(default=None, repr=False)
    gamma: np.ndarray | None = field(default=None, repr=False)
    fits: tuple[SideFit, SideFit] | None = field(default=None, repr=False)


def split_sides(x: np.ndarray, cutoff: float, running: str = "running") -> np.ndarray:
    """Boolean mask of the right side (``x >= cutoff``); errors if a side is empty."""
    right = x >= cutoff
    n_r = int(right.sum())
    if n_r == 0 or n_r == len(x):
        side = "above" if n_r == 0 else "below"
        raise EmptyArmError(
            f"running variable {running!r} has no observations {side} the cutoff {cutoff!r} "
            f"(range {x.min():.4g} to {x.max():.4g}); an RD needs data on both sides")
    return right


def rd_estimate(x: np.ndarray, y: np.ndarray, cutoff: float, t: np.ndarray | None = None,
                Z: np.ndarray | None = None, cluster: np.ndarray | None = None, p: int = 1,
                q: int | None = None, kernel: str = "triangular", bwselect: str = "mserd",
                h: float | tuple[float, float] | None = None,
                b: float | tuple[float, float] | None = None, vce: str = "nn",
                nnmatch: int = 3, alpha: float = 0.05, running: str = "running",
                sample_weight: np.ndarray | None = None) -> RDResult:
    """Local-polynomial RD estimate at ``cutoff`` (fuzzy when ``t`` is given).

    ``h``/``b`` fix the bandwidths (a number or a (left, right) pair; ``b``
    defaults to ``h``); otherwise they are selected with ``bwselect``
    (``"mserd"``, ``"msetwo"``, ``"cerrd"`` or ``"certwo"``).  With a cluster the variance is CR1
    cluster-robust (rdrobust's default with clusters) unless ``vce`` says otherwise.
    ``sample_weight`` (sampling weights) multiply the kernel weights in the
    bandwidth selection and the fits, as rdrobust's ``weights=``.
    """
    q = p + 1 if q is None else q
    if not (isinstance(p, (int, np.integer)) and isinstance(q, (int, np.integer))
            and 0 <= p < q <= 10):
        raise OptionError(f"polynomial orders must be integers with 0 <= p < q <= 10, got "
                          f"p={p!r}, q={q!r}")
    if vce not in VCE_OPTIONS:
        raise OptionError(f"vce must be one of {', '.join(VCE_OPTIONS)}, got {vce!r}")
    kernel = kernel_name(kernel)
    order = np.argsort(x, kind="stable")
    x = np.asarray(x, dtype=float)[order]
    y = np.asarray(y, dtype=float)[order]
    t = None if t is None else np.asarray(t, dtype=float)[order]
    Z = None if Z is None or Z.shape[1] == 0 else np.asarray(Z, dtype=float)[order]
    cluster = None if cluster is None else np.asarray(cluster)[order]
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)[order]
    if cluster is not None and vce == "nn":
        vce = "hc1"
    right = split_sides(x, cutoff, running)
    for mask, side in ((~right, "below"), (right, "above")):
        if len(np.unique(x[mask])) < q + 1:
            raise TooFewRowsError(
                f"running variable {running!r} has only {len(np.unique(x[mask]))} distinct "
                f"value(s) {side} the cutoff; a polynomial of order q={q} needs {q + 1}")
    if h is None:
        bw = select_bandwidth(x, y, cutoff, t=t, Z=Z, cluster=cluster, p=p, q=q,
                              kernel=kernel, method=bwselect, vce=vce, nnmatch=nnmatch,
                              sample_weight=sw)
    else:
        h_l, h_r = (h, h) if np.isscalar(h) else h
        b_l, b_r = (h_l, h_r) if b is None else ((b, b) if np.isscalar(b) else b)
        bw = Bandwidths(float(h_l), float(h_r), float(b_l), float(b_r), "manual")
    fuzzy = t is not None
    n_cov = 0 if Z is None else Z.shape[1]
    D = np.column_stack([y] + ([t] if fuzzy else []) + ([Z] if n_cov else []))
    fits = tuple(
        fit_side(x[m] - cutoff, D[m], hh, bb, p=p, q=q, kernel=kernel, vce=vce,
                 nnmatch=nnmatch, cluster=None if cluster is None else cluster[m],
                 n_covariates=n_cov, sample_weight=None if sw is None else sw[m])
        for m, hh, bb in ((~right, bw.h_left, bw.b_left), (right, bw.h_right, bw.b_right)))
    left, rgt = fits
    n_lead = 1 + int(fuzzy)
    gamma = covariate_gamma([left.Z_part, rgt.Z_part], n_lead) if n_cov else None
    jump_p = rgt.beta_p[0] - left.beta_p[0]
    jump_bc = rgt.beta_bc[0] - left.beta_bc[0]
    s, s_y, s_t = outcome_combination(jump_p, gamma, fuzzy, n_cov)
    first = first_se = reduced = rf_cov = None
    if fuzzy:
        reduced, first = float(s_y @ jump_p), float(s_t @ jump_p)
        if abs(first) < 1e-8 * max(1.0, float(np.abs(t).max())):
            raise NotIdentifiableError(
                "the treatment does not jump at the cutoff (first-stage jump "
                f"{first:.2e}): a fuzzy RD is not identified")
        tau_cl = wald_ratio(reduced, first)
        bias = np.array([reduced - s_y @ jump_bc, first - s_t @ jump_bc])
        tau_bc = tau_cl - float(ratio_gradient(reduced, first) @ bias)  # linearised
        v_y, v_t = _var(fits, s_y, False), _var(fits, s_t, False)
        cov_yt = 0.5 * (_var(fits, s_y + s_t, False) - v_y - v_t)
        first_se = float(np.sqrt(v_t))
        rf_cov = np.array([[v_y, cov_yt], [cov_yt, v_t]])
    else:
        tau_cl, tau_bc = float(s @ jump_p), float(s @ jump_bc)
    se_cl = float(np.sqrt(_var(fits, s, False)))
    se_rb = float(np.sqrt(_var(fits, s, True)))
    w_cl, w_rb = wald(tau_cl, se_cl, alpha), wald(tau_bc, se_rb, alpha)
    return RDResult(
        estimate=float(tau_cl), estimate_bc=float(tau_bc), se_conventional=se_cl,
        se_robust=se_rb, ci_conventional=(w_cl.ci_low, w_cl.ci_high),
        ci_robust=(w_rb.ci_low, w_rb.ci_high), p_value_robust=w_rb.p_value, bandwidths=bw,
        n_left=int((~right).sum()), n_right=int(right.sum()),
        n_eff_left=left.n_eff_h, n_eff_right=rgt.n_eff_h, fuzzy=fuzzy, first_stage=first,
        first_stage_se=first_se, reduced_form=reduced, reduced_form_cov=rf_cov, gamma=gamma,
        fits=fits)


def _var(fits: tuple[SideFit, SideFit], s: np.ndarray, robust: bool) -> float:
    """Variance of the ``s``-combination of the jump (sum over the independent sides)."""
    return float(sum(f.variance(s, robust)[0, 0] for f in fits))
