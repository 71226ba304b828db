"""Regression discontinuity (sharp and fuzzy) by local polynomials, CCT robust inference.

The effect at the cutoff is estimated by local polynomials (default linear,
triangular kernel) with the MSE-optimal bandwidth of Calonico, Cattaneo &
Titiunik (2014) — common (``mserd``) or one per side (``msetwo``).  The
reported point estimate is the conventional one (as rdrobust reports it); the
confidence interval and p-value are the robust bias-corrected ones (CCT 2014)
by default.  Passing ``treatment=`` makes the design fuzzy: the local Wald
(IV) ratio of the outcome jump to the treatment jump, with the IV module's
first-stage F, weak-instrument warning and Anderson–Rubin set.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"x": rng.uniform(-1, 1, 2000)})
>>> df["y"] = 0.5 * df.x + 1.0 * (df.x >= 0) + rng.normal(0, 0.3, 2000)
>>> eff = causalkit.estimate(df, outcome="y", method="rdd", running="x", cutoff=0.0)
>>> bool(abs(eff.estimate - 1.0) < 0.15), bool(eff.ci_low > 0.5)
(True, True)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd

from ..effect import Effect
from ..errors import OptionError, RoleError
from ..inference import wald
from ..iv import ar_set_from_moments, weak_instrument_warning
from .density import density_test
from .diagnostics import bandwidth_sensitivity, covariate_continuity, placebo_cutoffs
from .estimate import rd_estimate, split_sides
from ..registry import register
from ..validation import as_column_list, check_frame, cluster_groups, weighted_rows


@register("rdd", estimand="LATE", roles=("outcome", "running", "cutoff"),
          optional_roles=("treatment", "covariates", "cluster", "weights"),
          needs_binary_treatment=False,
          uses_adjustment_set=False)
def rdd(data: pd.DataFrame, outcome: str, running: str, cutoff: float,
        treatment: str | None = None, covariates: Sequence[str] | None = None,
        cluster: str | None = None, weights: str | None = None, alpha: float = 0.05,
        p: int = 1, q: int | None = None,
        kernel: str = "triangular", bwselect: str = "mserd",
        h: float | tuple[float, float] | None = None,
        b: float | tuple[float, float] | None = None, vce: str = "nn", nnmatch: int = 3,
        ci: str = "robust", full_diagnostics: bool = False,
        sensitivity: Sequence[float] = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0),
        ) -> Effect:
    """Sharp (or, with ``treatment``, fuzzy) RD effect at ``cutoff`` of ``running``.

    Parameters
    ----------
    weights
        Column of sampling weights: they multiply the kernel weights in the
        bandwidth selection and every local-polynomial fit, as rdrobust's
        ``weights=`` (rows of zero weight are dropped; McCrary's density test
        stays unweighted).
    p, q
        Orders of the local polynomial for the estimate (default 1) and for the
        bias correction (default ``p + 1``).
    kernel
        ``triangular`` (default), ``epanechnikov`` or ``uniform``.
    bwselect
        ``mserd`` (one MSE-optimal bandwidth), ``msetwo`` (one per side), or their
        coverage-error-optimal versions ``cerrd`` / ``certwo``; ignored when ``h``
        is given (``b`` then defaults to ``h``).
    h
        Main bandwidth, one number or a ``(left, right)`` pair; ``None`` (default)
        selects it with ``bwselect``.
    b
        Bias-correction bandwidth, one number or a ``(left, right)`` pair; used only
        together with ``h`` (default ``b = h``).
    vce
        ``nn`` (nearest-neighbour residuals, ``nnmatch`` neighbours) or
        ``hc0``–``hc3``; with ``cluster=`` the variance is cluster-robust.
    nnmatch
        Number of nearest neighbours for the ``vce="nn"`` residuals (default 3, as rdrobust).
    ci
        ``robust`` (default): bias-corrected estimate and robust standard error
        (CCT 2014) for the interval and p-value; ``conventional``: the
        conventional estimate and standard error (valid only if the bias is negligible).
    full_diagnostics
        Also run placebo cutoffs and covariate continuity (each re-selects a bandwidth).
    sensitivity
        Multiples of ``h`` for the bandwidth-sensitivity table in the diagnostics.

    Notes
    -----
    ``n_treated`` / ``n_control`` count the observations above / below the cutoff
    (the whole sample; the effective numbers within ``h`` are in the diagnostics).
    The diagnostics hold the conventional and bias-corrected estimates, both
    standard errors and intervals, the bandwidths, effective sample sizes,
    McCrary's density test, the sensitivity table and, for a fuzzy design, the
    first stage (jump in treatment), its F and the Anderson–Rubin set.
    """
    if ci not in ("robust", "conventional"):
        raise OptionError(f"ci must be 'robust' or 'conventional', got {ci!r}")
    try:
        c = float(cutoff)
    except (TypeError, ValueError):
        raise RoleError(f"cutoff must be a number on the scale of {running!r}, got {cutoff!r}") \
            from None
    if not math.isfinite(c):
        raise RoleError(f"cutoff must be finite, got {cutoff!r}")
    if b is not None and h is None:
        raise OptionError("b= (the bias-correction bandwidth) is used only together with h=; "
                          "give h= as well, or leave both to bwselect")
    covs = as_column_list(covariates)
    roles: dict[str, Any] = {"outcome": outcome, "running": running, "covariates": covs}
    if treatment is not None:
        roles["treatment"] = treatment
    frame, sw = weighted_rows(data, weights)
    frame = check_frame(frame, roles=roles)
    if weights is not None and weights in (outcome, running, treatment, *covs):
        raise RoleError(f"weights column {weights!r} cannot also play another role")
    # rdrobust's cluster-robust variance is one-way: a list of two columns is refused
    groups, _ = cluster_groups(frame, cluster, max_columns=1, method="rdd")
    if running == outcome or running in covs or (treatment is not None and
                                                 running == treatment):
        raise RoleError(f"the running variable {running!r} cannot also be the outcome, "
                        "treatment or a covariate")
    x = frame[running].to_numpy(dtype=float)
    y = frame[outcome].to_numpy(dtype=float)
    right = split_sides(x, c, running)
    t = frame[treatment].to_numpy(dtype=float) if treatment is not None else None
    Z = frame[covs].to_numpy(dtype=float) if covs else None
    kw: dict[str, Any] = dict(p=p, q=q, kernel=kernel, vce=vce, nnmatch=nnmatch, alpha=alpha,
                              running=running, sample_weight=sw)
    res = rd_estimate(x, y, c, t=t, Z=Z, cluster=groups, bwselect=bwselect, h=h, b=b, **kw)
    bw = res.bandwidths

    diags: dict[str, Any] = {
        "design": "fuzzy" if res.fuzzy else "sharp",
        "estimate_conventional": res.estimate, "estimate_bias_corrected": res.estimate_bc,
        "se_conventional": res.se_conventional, "se_robust": res.se_robust,
        "ci_conventional": res.ci_conventional, "ci_robust": res.ci_robust,
        "bandwidth_selector": bw.method, "h_left": bw.h_left, "h_right": bw.h_right,
        "b_left": bw.b_left, "b_right": bw.b_right, "n_eff_left": res.n_eff_left,
        "n_eff_right": res.n_eff_right, "kernel": kernel, "p": p, "q": p + 1 if q is None else q,
    }
    try:
        dt = density_test(x, c)
        diags.update({"density_test": dt.method, "density_log_difference": dt.theta,
                      "density_p_value": dt.p_value})
    except Exception as err:  # too few bins: report it rather than fail the estimate
        diags["density_test_error"] = str(err)
    base = dict(kw, t=t, Z=Z, cluster=groups)
    diags["bandwidth_sensitivity"] = bandwidth_sensitivity(
        x, y, c, h=(bw.h_left, bw.h_right), b=(bw.b_left, bw.b_right), multiples=sensitivity,
        **base)
    if res.fuzzy:
        f_stat = ((res.first_stage / res.first_stage_se) ** 2 if res.first_stage_se > 0
                  else math.inf)  # perfect compliance: a deterministic first stage
        weak_instrument_warning(f_stat, what=f"the cutoff indicator of {running!r}")
        ar = ar_set_from_moments(res.reduced_form, res.first_stage, res.reduced_form_cov, alpha)
        diags.update({"first_stage_jump": res.first_stage, "first_stage_se": res.first_stage_se,
                      "first_stage_f": f_stat, "reduced_form_jump": res.reduced_form,
                      "anderson_rubin_ci": ar.intervals, "anderson_rubin_kind": ar.kind})
    if full_diagnostics:
        diags["placebo_cutoffs"] = placebo_cutoffs(x, y, c, **kw)
        if covs:
            diags["covariate_continuity"] = covariate_continuity(x, frame[covs], c, **kw)

    if ci == "robust":
        center, se, how = res.estimate_bc, res.se_robust, "robust bias-corrected (CCT 2014)"
    else:
        center, se, how = res.estimate, res.se_conventional, "conventional"
    w = wald(center, se, alpha)
    vce_label = "cluster-robust CR1" if groups is not None else (
        f"nearest-neighbour ({nnmatch})" if vce == "nn" else vce.upper())
    return Effect(
        method="rdd", estimand="LATE", estimate=res.estimate, std_error=se, ci_low=w.ci_low,
        ci_high=w.ci_high, alpha=alpha, p_value=w.p_value, statistic=w.statistic, df=None,
        treatment=treatment, outcome=outcome, n_treated=int(right.sum()),
        n_control=int((~right).sum()), covariates=tuple(covs),
        inference=f"{how} CI around the bias-corrected estimate; {vce_label} variance; "
                  f"local polynomial p={p}, {kernel} kernel, {bw.method} bandwidth"
                  + (f"; sampling weights {weights!r} times the kernel weights"
                     if weights is not None else ""),
        diagnostics=diags)
