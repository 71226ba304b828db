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
correct (double robustness).  Defaults: scores clipped to [0.01, 0.99] (as
DoubleML), a fixed ``random_state=0``, one split (``n_rep=1``; more splits are
aggregated by the median, Chernozhukov et al. 2018), nuisance models on
standardized covariates.

Example
-------
>>> import causalkit
>>> from causalkit.datasets import linear_confounding
>>> ds = linear_confounding(2000, n_covariates=2, seed=0)   # confounded, true effect 1
>>> df = ds.data
>>> eff = causalkit.estimate(df, "t", "y", method="aipw", covariates=ds.covariates)
>>> bool(abs(eff.estimate - 1.0) < 0.2)
True
>>> eff.estimate == causalkit.estimate(df, "t", "y", method="aipw",
...                                    covariates=ds.covariates).estimate   # random_state=0
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .balance import balance_table, propensity_frame
from ..effect import Effect
from ..errors import OptionError
from ..registry import register
from ..validation import PreparedData
from ..overlap import check_overlap
from ._propensity import (PropensityFit, cross_fit, finish_scores, median_aggregate,
                          nuisance_design, prepare_observational, repeated_folds)
from .ipw import ipw_weights


def aipw_scores(t: np.ndarray, y: np.ndarray, e: np.ndarray, mu1: np.ndarray,
                mu0: np.ndarray, estimand: str = "ATE",
                sample_weight: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Point estimate and per-unit influence function of the AIPW estimator.

    With ``sample_weight`` (survey weights ``w``) the estimate is the weighted mean
    of the per-unit scores, ``sum w phi / sum w`` (ATT: over the weighted treated),
    and the influence function is ``w (phi - tau) / mean(w)``, as DoubleML's
    ``DoubleMLIRM(weights=w)`` with weights of mean one.

    >>> t = np.array([1, 0]); y = np.array([3.0, 1.0]); e = np.array([0.5, 0.5])
    >>> tau, phi = aipw_scores(t, y, e, np.array([3.0, 3.0]), np.array([1.0, 1.0]))
    >>> tau
    2.0
    """
    sw = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight, float)
    if estimand == "ATT":
        p = float((sw * t).mean())
        resid0 = y - mu0
        num = t * resid0 - (1 - t) * e / (1 - e) * resid0
        tau = float(sw @ num / (sw @ t))
        return tau, sw * (num - t * tau) / p
    phi = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
    if sample_weight is None:
        tau = float(phi.mean())
        return tau, phi - tau
    tau = float(sw @ phi / sw.sum())
    return tau, sw * (phi - tau) / sw.mean()


@dataclass
class _Split:
    """One cross-fitting split's AIPW estimate, its SE and its propensity fit."""

    estimate: float
    std_error: float
    fit: PropensityFit
    mu1: np.ndarray
    mu0: np.ndarray


def _fit_split(d: PreparedData, splits: Any, estimand: str, propensity_model: Any,
               outcome_model: Any, trim: float | None, clip: float | None,
               warn: bool, designs: tuple[np.ndarray, np.ndarray]) -> _Split:
    e_raw, mu1, mu0 = cross_fit(designs[0], d.t, d.y, splits, propensity_model, outcome_model,
                                sample_weight=d.w, X_outcome=designs[1])
    fit = finish_scores(e_raw, d.t, trim=trim, clip=clip, warn=warn)
    keep = fit.keep
    tau, influence = aipw_scores(d.t[keep], d.y[keep], fit.scores[keep], mu1[keep],
                                 mu0[keep], estimand, None if d.w is None else d.w[keep])
    n = int(keep.sum())
    return _Split(tau, float(np.sqrt(influence @ influence / n / n)), fit, mu1, mu0)


@register("aipw", estimand=("ATE", "ATT"), roles=("treatment", "outcome", "covariates"),
          optional_roles=("weights",))
def aipw(data: pd.DataFrame, treatment: str, outcome: str, covariates: Sequence[str],
         weights: str | None = None, alpha: float = 0.05, estimand: str = "ATE",
         propensity_model: Any = None,
         outcome_model: Any = None, n_folds: int = 5, n_rep: int = 1,
         cross_fitting: bool = True, trim: float | None = None, clip: float | None = 0.01,
         random_state: int | None = 0, propensity_formula: str | None = None,
         outcome_formula: str | None = None) -> Effect:
    """Doubly robust AIPW with K-fold cross-fitting and influence-function SE.

    Parameters
    ----------
    weights
        Column of sampling (survey) weights: every nuisance model is fitted
        weighted (``sample_weight``; a model that takes none is an error), the
        estimate is the weighted mean of the AIPW scores and the influence
        function is weighted (as DoubleML's ``DoubleMLIRM(weights=)``).
    estimand
        ``"ATE"`` (default) or ``"ATT"``.
    propensity_model, outcome_model
        Any scikit-learn classifier / regressor; defaults are an unpenalized
        logistic regression and OLS, both on standardized covariates, so that no
        estimate or SE depends on the units of a covariate.  The outcome model is
        fitted separately in each arm.
    n_folds
        Number of cross-fitting folds (default 5), split by
        ``KFold(n_folds, shuffle=True, random_state=random_state)``.
    n_rep
        Repeated cross-fitting (default 1): the whole estimate is computed on
        ``n_rep`` different K-fold splits (``RepeatedKFold``; the first is the
        single split above); the estimate is the median of the per-split estimates
        and the SE ``sqrt(median(se_s^2 + (theta_s - median)^2))`` (Chernozhukov et
        al. 2018, Definition 3.3), which adds the variation due to the split.
        The diagnostics (scores, balance, clipping, trimming and the sample sizes)
        are those of the first split; ``split_estimates`` / ``split_std_errors``
        hold every split's, ``nuisance_splits`` every split's nuisances.
    cross_fitting
        ``False`` fits every nuisance model on all rows (for parametric models).
    trim
        Drop units whose (out-of-fold) score lies outside ``[trim, 1 - trim]``
        (Crump et al. 2009 use 0.1); this changes the estimand to the overlap
        population.  Default ``None``.
    clip
        Clip (truncate) the scores into ``[clip, 1 - clip]`` (default 0.01, as
        DoubleML's ``DoubleMLIRM`` ``trimming_rule="truncate"``,
        ``trimming_threshold=0.01``); ``None`` for unclipped scores.  Clipping
        keeps every unit and so the estimand, and bounds each inverse weight by
        ``1 / clip``: a handful of out-of-fold scores near 0 or 1 can no longer
        turn the estimate into a number of arbitrary size.  The count of clipped
        scores is in ``diagnostics["n_clipped"]`` and in ``Effect.inference``.
    random_state
        Seed of the fold splits (default 0, fixed: the same call gives the same
        number).
    propensity_formula, outcome_formula
        The design of the propensity / outcome model as a formula right-hand side
        (``"C(sex) + age + I(age**2)"``, :mod:`causalkit.formula`); default the
        covariates.  The outcome model is fitted in each arm, so its formula
        leaves the treatment out (its interactions with the treatment are implied).
    """
    if estimand not in ("ATE", "ATT"):
        raise OptionError(f"aipw estimates ATE or ATT, not {estimand!r}")
    if not cross_fitting and n_rep != 1:
        raise OptionError(f"n_rep={n_rep!r} repeats the cross-fitting split, but "
                          "cross_fitting=False draws none")
    d = prepare_observational(data, treatment, outcome, covariates, weights=weights)
    designs = (nuisance_design(d, propensity_formula, "propensity_formula")[0],
               nuisance_design(d, outcome_formula, "outcome_formula")[0])
    # the full-sample diagnosis first: separation is named before any fold is fitted;
    # the warning about weak overlap comes from the cross-fitted scores below
    check_overlap(d.X, d.t, d.covariates, warn=False)
    split_sets = (repeated_folds(d.n, n_folds, n_rep, random_state) if cross_fitting
                  else [None])
    results = [_fit_split(d, splits, estimand, propensity_model, outcome_model, trim, clip,
                          warn=r == 0, designs=designs) for r, splits in enumerate(split_sets)]
    first = results[0]
    fit, keep = first.fit, first.fit.keep
    diagnostics = dict(fit.diagnostics)
    if len(results) > 1:
        estimates = np.array([r.estimate for r in results])
        std_errors = np.array([r.std_error for r in results])
        tau, se = median_aggregate(estimates, std_errors)
        diagnostics.update(split_estimates=estimates, split_std_errors=std_errors,
                           n_clipped_per_split=[r.fit.diagnostics.get("n_clipped", 0)
                                                for r in results],
                           nuisance_splits=[_nuisance_frame(r, d) for r in results])
    else:
        tau, se = first.estimate, first.std_error
    w = ipw_weights(d.t, fit.scores, estimand, sample_weight=d.w) * keep
    ps_text = (repr(propensity_model) if propensity_model is not None
               else "logistic regression (unpenalized, standardized covariates)")
    diagnostics["overlap"] = dict(fit.diagnostics["overlap"], model=(
        f"out-of-fold scores of {ps_text}" if cross_fitting else ps_text))
    diagnostics.update(
        n_folds=int(n_folds) if cross_fitting else 0, n_rep=len(results),
        random_state=random_state,
        propensity_model=ps_text,
        outcome_model=repr(outcome_model) if outcome_model is not None
        else "linear regression per arm (OLS on standardized covariates)",
        balance=balance_table(d.X, d.t, d.covariates, weights=w, estimand=estimand),
        propensity=propensity_frame(fit.scores, d.t, d.frame.index),
        nuisance=_nuisance_frame(first, d))
    return Effect.from_estimate(
        method="aipw", estimand=estimand, estimate=tau, std_error=se, alpha=alpha,
        treatment=treatment, outcome=outcome, n_treated=int((d.t[keep] == 1).sum()),
        n_control=int((d.t[keep] == 0).sum()), covariates=tuple(d.covariates),
        inference=_inference_text(results, n_folds, cross_fitting, clip, trim)
        + (f"; sampling weights {weights!r} (weighted nuisance fits and scores)"
           if weights is not None else ""),
        diagnostics=diagnostics, cate=None)


def _nuisance_frame(split: _Split, d: PreparedData) -> pd.DataFrame:
    """One split's cross-fitted nuisances (for :func:`causalkit.sensitivity.ovb_dml`)."""
    return pd.DataFrame({"e": split.fit.scores, "mu1": split.mu1, "mu0": split.mu0,
                         "used": split.fit.keep}, index=d.frame.index)


def _inference_text(results: list[_Split], n_folds: int, cross_fitting: bool,
                    clip: float | None, trim: float | None) -> str:
    """How the SE was obtained, with the clipping (and trimming) applied."""
    folds_text = f"{int(n_folds)}-fold cross-fitted" if cross_fitting else "full-sample"
    text = f"influence-function variance, {folds_text} nuisances"
    if len(results) > 1:
        text += (f"; median over {len(results)} cross-fitting splits, SE sqrt(median(se_s^2 "
                 "+ (estimate_s - median)^2)) (Chernozhukov et al. 2018, Def. 3.3)")
    diag = results[0].fit.diagnostics
    n = len(results[0].fit.scores)
    if clip is not None:
        text += (f"; propensity scores clipped to [{clip:g}, {1 - clip:g}] "
                 f"({diag['n_clipped']} of {n} clipped")
        text += ", first split)" if len(results) > 1 else ")"
    else:
        text += "; propensity scores unclipped (clip=None)"
    if trim is not None:
        text += f"; units with scores outside [{trim:g}, {1 - trim:g}] dropped " \
                f"({diag['n_trimmed']})"
    return text
