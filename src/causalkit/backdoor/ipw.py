"""Inverse probability weighting (Horvitz–Thompson and Hájek) with sandwich inference.

Weights: ATE ``t/e + (1-t)/(1-e)``; ATT ``t + (1-t) e/(1-e)``.  The
Horvitz–Thompson form divides weighted sums by the sample size (ATE) or the
number treated (ATT); the Hájek form normalizes the weights to sum to one in
each arm.  With the default logistic propensity model the standard error is the
M-estimation sandwich of the stacked estimating equations (logistic score
equations plus the IPW moments), so it accounts for the estimated propensity
score (Lunceford & Davidian 2004, Stat. Med. 23:2937; Stefanski & Boos 2002).
With a user-supplied propensity model the scores are treated as known.

Example
-------
>>> import causalkit
>>> from causalkit.datasets import linear_confounding
>>> ds = linear_confounding(2000, n_covariates=2, seed=0)   # confounded, true effect 1
>>> df = ds.data
>>> eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=ds.covariates)
>>> bool(abs(eff.estimate - 1.0) < 0.3)
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .balance import balance_table, effective_sample_size, propensity_frame
from ..effect import Effect
from ..errors import EstimationError, OptionError
from ..registry import register
from ._propensity import (fit_propensity, logistic_jacobian, nuisance_design,
                          prepare_observational, sandwich_variance, score_derivative)


def ipw_weights(t: np.ndarray, e: np.ndarray, estimand: str, stabilized: bool = False,
                sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Unit weights for the ATE or ATT; stabilized ones are multiplied by the arm share.

    With ``sample_weight`` (survey weights) the weights are their product with the
    inverse-propensity weights, and the arm shares are weighted.

    >>> ipw_weights(np.array([1, 0]), np.array([0.5, 0.5]), "ATE")
    array([2., 2.])
    """
    sw = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight, float)
    p = float(sw @ t / sw.sum())
    if estimand == "ATT":
        w = np.where(t == 1, 1.0, e / (1 - e))
        if stabilized:
            w = np.where(t == 1, 1.0, w * (1 - p) / p)
        return w * sw
    w = np.where(t == 1, 1 / e, 1 / (1 - e))
    if stabilized:
        w = w * np.where(t == 1, p, 1 - p)
    return w * sw


def _moments(t: np.ndarray, y: np.ndarray, e: np.ndarray, g: np.ndarray, keep: np.ndarray,
             estimand: str, normalized: bool, sample_weight: np.ndarray | None = None
             ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Point estimate, IPW moments, their derivative in the propensity index and Jacobian block.

    Returns ``(tau, psi, dpsi_deta, jac_own, grad)``: ``psi`` n x q per-unit
    moments, ``dpsi_deta`` n x q derivatives with respect to the linear index
    (multiply by the design to get the derivative in the logistic
    coefficients), ``jac_own`` the q x q mean derivative in the own parameters,
    ``grad`` the gradient of the estimand in those parameters.  Sampling weights
    multiply every unit's moments (and so its part in the sums).
    """
    k = keep.astype(float)
    if sample_weight is not None:
        k = k * sample_weight
    t1, t0 = t * k, (1 - t) * k
    if estimand == "ATE":
        a1, a0 = t1 / e, t0 / (1 - e)              # weights
        d1, d0 = -t1 * g / e**2, t0 * g / (1 - e) ** 2  # their derivatives in the index
    else:
        a1, a0 = t1, t0 * e / (1 - e)
        d1, d0 = np.zeros_like(e), t0 * g / (1 - e) ** 2
    n = len(t)
    if normalized:
        mu1 = float(a1 @ y / a1.sum())
        mu0 = float(a0 @ y / a0.sum())
        psi = np.column_stack([a1 * (y - mu1), a0 * (y - mu0)])
        dpsi = np.column_stack([d1 * (y - mu1), d0 * (y - mu0)])
        jac = np.diag([-a1.sum() / n, -a0.sum() / n])
        return mu1 - mu0, psi, dpsi, jac, np.array([1.0, -1.0])
    denom = float(k @ np.ones(n)) if estimand == "ATE" else float(t1.sum())
    tau = float((a1 @ y - a0 @ y) / denom)
    base = k if estimand == "ATE" else t1
    psi = (a1 * y - a0 * y - base * tau)[:, None]
    dpsi = (d1 * y - d0 * y)[:, None]
    jac = np.array([[-base.sum() / n]])
    return tau, psi, dpsi, jac, np.array([1.0])


def ipw_estimate(t: np.ndarray, y: np.ndarray, fit: Any, estimand: str = "ATE",
                 normalized: bool = True, known_scores: bool = False) -> tuple[float, float]:
    """IPW point estimate and sandwich standard error from a :class:`PropensityFit`.

    With the default logistic model the logistic score equations are stacked
    with the IPW moments; otherwise (or with ``known_scores``) the scores are
    treated as known.  The sampling weights of ``fit`` (if any) weight both sets
    of equations: the sandwich is then the linearization variance of the
    survey-weighted estimator.
    """
    e, g = fit.scores, score_derivative(fit)
    sw = fit.sample_weight
    tau, psi, dpsi, jac, grad = _moments(t, y, e, g, fit.keep, estimand, normalized, sw)
    if known_scores or not fit.is_default_logistic:
        return tau, float(np.sqrt(sandwich_variance(psi, jac, grad)))
    # stacked M-estimator: theta = (logistic coefficients, IPW parameters); the
    # sandwich g' A^-1 B A^-T g / n is mean(IF^2) / n with IF = psi_stacked @ A^-T g,
    # computed block by block so no n x (p + q) matrix is formed
    Z = fit.design
    n, p, q = len(t), Z.shape[1], psi.shape[1]
    full_jac = np.zeros((p + q, p + q))
    full_jac[:p, :p] = logistic_jacobian(fit)
    full_jac[p:, :p] = Z.tdot(dpsi).T / n
    full_jac[p:, p:] = jac
    full_grad = np.concatenate([np.zeros(p), grad])
    try:
        v = np.linalg.solve(full_jac.T, full_grad)
    except np.linalg.LinAlgError as err:
        raise EstimationError("the stacked M-estimation Jacobian is singular (collinear "
                              "covariates?)") from err
    score = t - fit.raw_scores if sw is None else sw * (t - fit.raw_scores)
    influence = score * Z.dot(v[:p]) + psi @ v[p:]
    return tau, float(np.sqrt(influence @ influence) / n)


@register("ipw", estimand=("ATE", "ATT"), roles=("treatment", "outcome", "covariates"),
          optional_roles=("weights",))
def ipw(data: pd.DataFrame, treatment: str, outcome: str, covariates: Sequence[str],
        weights: str | None = None,
        alpha: float = 0.05, estimand: str = "ATE", normalized: bool = True,
        stabilized: bool = True, propensity_model: Any = None, trim: float | None = None,
        clip: float | None = None, propensity_formula: str | None = None,
        variance: str = "stacked") -> Effect:
    """Inverse probability weighting (Hájek or Horvitz–Thompson) with sandwich SE.

    Parameters
    ----------
    weights
        Column of sampling (survey) weights: the propensity model is fitted by
        weighted likelihood, each unit's weight is its survey weight times its
        inverse-propensity weight, and the sandwich weights every estimating
        equation (the linearization variance for the weighted population).
    estimand
        ``"ATE"`` (default) or ``"ATT"``.
    normalized
        ``True`` (default) for the Hájek estimator (weights normalized within
        each arm), ``False`` for Horvitz–Thompson.
    stabilized
        Report stabilized weights (multiplied by the marginal arm shares) in
        the diagnostics.  Neither point estimate changes: the Hájek form is
        invariant to a constant per arm, and stabilized HT weights divided by
        the arm size give the unstabilized HT sums over n.
    propensity_model
        Any scikit-learn classifier; default logistic regression.
    trim, clip
        Drop units whose score lies outside ``[trim, 1 - trim]``; clip scores
        into ``[clip, 1 - clip]``.  Both are recorded in the diagnostics.
    propensity_formula
        Right-hand side of the propensity model as a formula (``"C(sex) + age +
        I(age**2)"``, :mod:`causalkit.formula`); default: the covariates.  The
        balance table still compares the covariates.
    variance
        ``"stacked"`` (default): the sandwich of the logistic score equations
        stacked with the IPW moments.  ``"fixed_weights"``: the robust sandwich
        with the weights treated as known, which for the Hajek form is the HC0
        (GEE independence) standard error of the weighted regression of the
        outcome on the treatment; What If (Hernan & Robins, Program 12.2) reports
        it; it is conservative for the ATE (Lunceford & Davidian 2004).
    """
    if estimand not in ("ATE", "ATT"):
        raise OptionError(f"ipw estimates ATE or ATT, not {estimand!r}")
    if variance not in ("stacked", "fixed_weights"):
        raise OptionError(f"variance must be 'stacked' or 'fixed_weights', got {variance!r}")
    d = prepare_observational(data, treatment, outcome, covariates, weights=weights)
    Xp, names_p = nuisance_design(d, propensity_formula, "propensity_formula")
    fit = fit_propensity(Xp, d.t, names_p, propensity_model, trim=trim, clip=clip,
                         sample_weight=d.w)
    tau, se = ipw_estimate(d.t, d.y, fit, estimand, normalized,
                           known_scores=variance == "fixed_weights")
    w = ipw_weights(d.t, fit.scores, estimand, stabilized, d.w) * fit.keep
    kept = fit.keep
    diagnostics = dict(fit.diagnostics)
    diagnostics.update(
        form="Hajek (normalized)" if normalized else "Horvitz-Thompson",
        weights_stabilized=bool(stabilized), weights=w,
        ess_treated=effective_sample_size(w[d.t == 1]),
        ess_control=effective_sample_size(w[d.t == 0]),
        max_weight=float(w.max()),
        balance=balance_table(d.X, d.t, d.covariates, weights=w, estimand=estimand),
        propensity=propensity_frame(fit.scores, d.t, d.frame.index))
    how = ("M-estimation sandwich stacking the logistic score equations with the IPW "
           "moments (accounts for the estimated propensity score)"
           if fit.is_default_logistic and variance == "stacked" else
           "robust sandwich with the weights treated as known (variance='fixed_weights'; "
           "the GEE / weighted-regression HC0 SE, conservative)"
           if variance == "fixed_weights" else
           "M-estimation sandwich of the IPW moments with the propensity scores treated "
           "as known (user propensity_model)")
    if weights is not None:
        how += f"; survey weights {weights!r} times inverse-propensity weights"
        diagnostics["sampling_weights"] = weights
    return Effect.from_estimate(
        method="ipw", estimand=estimand, estimate=tau, std_error=se, alpha=alpha,
        treatment=treatment, outcome=outcome, n_treated=int((d.t[kept] == 1).sum()),
        n_control=int((d.t[kept] == 0).sum()), covariates=tuple(d.covariates),
        inference=how, diagnostics=diagnostics)
