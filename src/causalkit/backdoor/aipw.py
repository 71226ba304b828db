"""Augmented IPW (doubly robust) with K-fold cross-fitting and influence-function SE.

Nuisances: a propensity score ``e(x)`` and per-arm outcome regressions
``mu1(x)``, ``mu0(x)``, each any scikit-learn estimator, predicted out of fold
(Chernozhukov et al. 2018, "Double/debiased machine learning").  Scores:

* ATE: ``phi = mu1 - mu0 + t (y - mu1)/e - (1-t)(y - mu0)/(1-e)``, estimate
  ``mean(phi)``, variance ``var(phi)/n``.
* ATT: ``tau = sum[t (y - mu0) - (1-t) e/(1-e) (y - mu0)] / n1``, influence
  function ``[t (y - mu0) - (1-t) e/(1-e)(y - mu0) - t tau] / p`` with
  ``p = n1/n`` (Hahn 1998; Kennedy 2023 review).

The estimate is consistent when either the propensity or the outcome model is
correct (double robustness).

Example
-------
>>> import causalkit
>>> from causalkit.datasets import linear_confounding
>>> ds = linear_confounding(2000, n_covariates=2, seed=0)   # confounded, true effect 1
>>> df = ds.data
>>> eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=ds.covariates,
...                          random_state=0)
>>> bool(abs(eff.estimate - 1.0) < 0.2)
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .balance import balance_table, propensity_frame
from ..effect import Effect
from ..errors import OptionError
from ..registry import register
from ._propensity import (check_separation, cross_fit, finish_scores, folds,
                          prepare_observational)
from .ipw import ipw_weights


def aipw_scores(t: np.ndarray, y: np.ndarray, e: np.ndarray, mu1: np.ndarray,
                mu0: np.ndarray, estimand: str = "ATE") -> tuple[float, np.ndarray]:
    """Point estimate and per-unit influence function of the AIPW estimator.

    >>> t = np.array([1, 0]); y = np.array([3.0, 1.0]); e = np.array([0.5, 0.5])
    >>> tau, phi = aipw_scores(t, y, e, np.array([3.0, 3.0]), np.array([1.0, 1.0]))
    >>> tau
    2.0
    """
    if estimand == "ATT":
        p = t.mean()
        resid0 = y - mu0
        num = t * resid0 - (1 - t) * e / (1 - e) * resid0
        tau = float(num.sum() / t.sum())
        return tau, (num - t * tau) / p
    phi = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
    tau = float(phi.mean())
    return tau, phi - tau


@register("aipw", estimand=("ATE", "ATT"), roles=("treatment", "outcome", "covariates"))
def aipw(data: pd.DataFrame, treatment: str, outcome: str, covariates: Sequence[str],
         alpha: float = 0.05, estimand: str = "ATE", propensity_model: Any = None,
         outcome_model: Any = None, n_folds: int = 5, cross_fitting: bool = True,
         trim: float | None = None, clip: float | None = None, random_state: Any = None,
         ) -> Effect:
    """Doubly robust AIPW with K-fold cross-fitting and influence-function SE.

    Parameters
    ----------
    estimand
        ``"ATE"`` (default) or ``"ATT"``.
    propensity_model, outcome_model
        Any scikit-learn classifier / regressor; defaults are logistic
        regression on standardized covariates and OLS.  The outcome model is
        fitted separately in each arm.
    n_folds
        Number of cross-fitting folds (default 5), split by
        ``KFold(n_folds, shuffle=True, random_state=random_state)``.
    cross_fitting
        ``False`` fits every nuisance model on all rows (for parametric models).
    trim, clip
        Drop units whose (out-of-fold) score lies outside ``[trim, 1 - trim]``;
        clip scores into ``[clip, 1 - clip]``.  Recorded in the diagnostics.
    random_state
        Seed of the cross-fitting fold split (any ``KFold`` ``random_state``); ``None``
        (default) draws a different split on every call.
    """
    if estimand not in ("ATE", "ATT"):
        raise OptionError(f"aipw estimates ATE or ATT, not {estimand!r}")
    d = prepare_observational(data, treatment, outcome, covariates)
    check_separation(d.X, d.t, d.covariates)
    splits = folds(d.n, n_folds, random_state) if cross_fitting else None
    e_raw, mu1, mu0 = cross_fit(d.X, d.t, d.y, splits, propensity_model, outcome_model)
    fit = finish_scores(e_raw, d.t, trim=trim, clip=clip)
    keep = fit.keep
    t, y, e = d.t[keep], d.y[keep], fit.scores[keep]
    tau, influence = aipw_scores(t, y, e, mu1[keep], mu0[keep], estimand)
    n = len(t)
    se = float(np.sqrt(influence @ influence / n / n))
    w = ipw_weights(d.t, fit.scores, estimand) * keep
    diagnostics = dict(fit.diagnostics)
    diagnostics.update(
        n_folds=int(n_folds) if cross_fitting else 0,
        propensity_model=repr(propensity_model) if propensity_model is not None
        else "logistic regression (unpenalized, standardized covariates)",
        outcome_model=repr(outcome_model) if outcome_model is not None
        else "linear regression per arm",
        balance=balance_table(d.X, d.t, d.covariates, weights=w, estimand=estimand),
        propensity=propensity_frame(fit.scores, d.t, d.frame.index),
        nuisance=pd.DataFrame({"e": fit.scores, "mu1": mu1, "mu0": mu0, "used": keep},
                              index=d.frame.index))
    folds_text = f"{int(n_folds)}-fold cross-fitted" if cross_fitting else "full-sample"
    return Effect.from_estimate(
        method="aipw", estimand=estimand, estimate=tau, std_error=se, alpha=alpha,
        treatment=treatment, outcome=outcome, n_treated=int((t == 1).sum()),
        n_control=int((t == 0).sum()), covariates=tuple(d.covariates),
        inference=f"influence-function variance, {folds_text} nuisances",
        diagnostics=diagnostics, cate=None)
