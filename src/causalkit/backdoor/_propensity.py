"""Propensity scores shared by matching, IPW and AIPW.

One job each: fit a propensity model (any scikit-learn classifier, default an
unpenalized logistic regression on standardized covariates, fitted by a lean
Newton–Raphson in numpy, :func:`logistic_newton`), check positivity
(warn with numbers when scores leave [0.01, 0.99], refuse when the arms do not
overlap at all or a covariate separates them), trim or clip scores, cross-fit
nuisance models over K folds, and compute M-estimation sandwich variances.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(500, 2))
>>> t = (rng.random(500) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
>>> fit = fit_propensity(X, t, ["a", "b"])
>>> bool(0 < fit.scores.min() and fit.scores.max() < 1), fit.is_default_logistic
(True, True)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy.special import expit, logit
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import EstimationError, OptionError, OverlapError
from ..nuisance import folds  # noqa: F401  (re-exported: the families' shared folds)
from ..validation import PreparedData, prepare
from ..logistic import (DIVERGENT_COEFFICIENT, Design, StandardizedDesign, fit_logistic,
                        logistic_newton, mean_score)

#: Scores outside [POSITIVITY_BOUND, 1 - POSITIVITY_BOUND] trigger a warning.
POSITIVITY_BOUND = 0.01


def default_propensity_model() -> Any:
    """The default propensity model as a sklearn pipeline (unpenalized logistic regression on
    standardized covariates); the estimators fit the same MLE with :func:`logistic_newton`."""
    return make_pipeline(StandardScaler(), LogisticRegression(
        C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=1000))


def default_outcome_model() -> Any:
    """Ordinary least squares (``sklearn.linear_model.LinearRegression``)."""
    return LinearRegression()


@dataclass
class PropensityFit:
    """Fitted propensity scores and what is needed for inference and diagnostics.

    ``scores`` are the scores used by the estimator (after clipping);
    ``raw_scores`` those the model predicted; ``keep`` marks units kept after
    trimming; ``moving`` is 1 where the score responds to the logistic
    coefficients (0 where it was clipped); ``design`` is ``[1, standardized X]``
    (a :class:`~causalkit.logistic.StandardizedDesign`) for the logistic
    score equations and ``linear_index`` the fitted logit ``Z @ beta`` (both only for
    the default logistic model).
    """

    scores: np.ndarray
    raw_scores: np.ndarray
    keep: np.ndarray
    moving: np.ndarray
    is_default_logistic: bool
    design: Design | None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    linear_index: np.ndarray | None = None


def prepare_observational(data: Any, treatment: str, outcome: str,
                          covariates: Sequence[str]) -> PreparedData:
    """:func:`causalkit.validation.prepare` with the settings the propensity estimators share."""
    return prepare(data, treatment, outcome, covariates, min_per_arm=2)


def check_separation(X: np.ndarray, t: np.ndarray, names: Sequence[str]) -> None:
    """Refuse a covariate that perfectly separates the arms; warn on quasi-separation.

    >>> import numpy as np
    >>> try:
    ...     check_separation(np.array([[0.], [1.], [2.], [3.]]), np.array([0, 0, 1, 1]), ["x"])
    ... except OverlapError as err:
    ...     print(str(err)[:37])
    covariate 'x' perfectly separates the
    """
    if X.shape[1] == 0:
        return
    on = t == 1
    X1, X0 = X[on], X[~on]
    max_t, min_t = X1.max(axis=0), X1.min(axis=0)
    max_c, min_c = X0.max(axis=0), X0.min(axis=0)
    for j, name in enumerate(names):
        if max_t[j] < min_c[j] or max_c[j] < min_t[j]:
            raise OverlapError(
                f"covariate {name!r} perfectly separates the treatment arms (treated range "
                f"[{min_t[j]:.4g}, {max_t[j]:.4g}], control range [{min_c[j]:.4g}, "
                f"{max_c[j]:.4g}]): there is no overlap, so the effect is not identified "
                "without extrapolation; drop or coarsen it, or restrict the sample")
        if max_t[j] == min_c[j] or max_c[j] == min_t[j]:
            warnings.warn(
                f"covariate {name!r} quasi-separates the treatment arms (the arms overlap only "
                f"at the single value {max_t[j] if max_t[j] == min_c[j] else max_c[j]:.4g}): "
                "propensity scores will approach 0 or 1 there", UserWarning, stacklevel=3)


def _check_bound(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not 0.0 < value < 0.5:
        raise OptionError(f"{name} must lie in (0, 0.5), got {value!r}")
    return value


def positivity(scores: np.ndarray, t: np.ndarray, bound: float = POSITIVITY_BOUND,
               warn: bool = True) -> dict[str, Any]:
    """Range of the scores; raise if the arms do not overlap, warn when outside the bound.

    >>> import numpy as np
    >>> d = positivity(np.array([0.2, 0.5, 0.6, 0.7]), np.array([0, 1, 0, 1]))
    >>> d["n_outside_bounds"], d["propensity_min"]
    (0, 0.2)
    """
    if not np.all(np.isfinite(scores)):
        raise EstimationError("the propensity model returned non-finite scores")
    on = t == 1
    s1, s0 = scores[on], scores[~on]
    min1, max1, min0, max0 = s1.min(), s1.max(), s0.min(), s0.max()
    # disjoint (or merely touching) ranges: no overlap; a constant score (no covariates)
    # is the opposite, complete overlap
    if min(min1, min0) < max(max1, max0) and (min1 >= max0 or min0 >= max1):
        raise OverlapError(
            f"no overlap: treated propensity scores span [{min1:.4g}, {max1:.4g}] and "
            f"control scores [{min0:.4g}, {max0:.4g}]; the covariates separate the "
            "arms, so the effect cannot be estimated without extrapolation")
    bad = int((on & (scores <= 0)).sum() + (~on & (scores >= 1)).sum()) if (
        min1 <= 0 or max0 >= 1) else 0
    if bad:
        raise OverlapError(
            f"{bad} unit(s) have a propensity score of exactly 0 (treated) or 1 (control): "
            "their inverse weights are infinite; use clip= or trim=, or a smoother model")
    lowest, highest = min(min1, min0), max(max1, max0)
    n_out = (int(((scores < bound) | (scores > 1 - bound)).sum())
             if lowest < bound or highest > 1 - bound else 0)
    diag = {"propensity_min": float(lowest), "propensity_max": float(highest),
            "propensity_min_treated": float(min1), "propensity_max_control": float(max0),
            "n_outside_bounds": n_out}
    if n_out and warn:
        warnings.warn(
            f"positivity: {n_out} of {len(scores)} propensity scores ({100 * n_out / len(scores):.2f}%) "
            f"lie outside [{bound}, {1 - bound}] (min {scores.min():.3g}, max {scores.max():.3g}); "
            "estimates may be unstable; consider trim= or clip=", UserWarning, stacklevel=3)
    return diag


def model_features(X: np.ndarray) -> np.ndarray:
    """The feature matrix handed to scikit-learn nuisance models: ``X`` itself, or with no
    covariates one constant column (sklearn refuses zero features; every model then
    predicts a constant, the empty adjustment set).

    >>> model_features(np.empty((3, 0))).tolist()
    [[0.0], [0.0], [0.0]]
    """
    return X if X.shape[1] else np.zeros((X.shape[0], 1))


def _predict_proba(model: Any, X: np.ndarray) -> np.ndarray:
    if not hasattr(model, "predict_proba"):
        raise OptionError(f"propensity_model {type(model).__name__} has no predict_proba; "
                          "pass a scikit-learn classifier")
    proba = np.asarray(model.predict_proba(X))
    classes = list(getattr(model, "classes_", [0, 1]))
    return proba[:, classes.index(1)].astype(float)


def default_logistic_scores(X_train: np.ndarray, t_train: np.ndarray,
                            X_new: np.ndarray) -> np.ndarray:
    """The default model (unpenalized logistic, standardized covariates) fitted by Newton
    on the training rows, its scores on new rows (for cross-fitting)."""
    train = StandardizedDesign(X_train)
    beta, _ = _converged_logistic(train, t_train)
    return expit(StandardizedDesign(X_new, train.mean, train.scale).dot(beta))


def _converged_logistic(design: Design, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`logistic_newton` and its linear index ``Z @ beta``; if the fit diverges
    because the arms separate, say "no overlap"."""
    beta, converged = fit_logistic(design, t)
    index = design.dot(beta)
    scores = expit(index)
    # a fit that stalled short of the tolerance is still accepted at a zero mean score,
    # unless its coefficients run off (separation drives the mean score to zero too)
    stalled_at_optimum = (np.all(np.abs(mean_score(design, t, scores)) < 1e-6)
                          and float(np.max(np.abs(beta))) < DIVERGENT_COEFFICIENT)
    if not converged and not stalled_at_optimum:
        positivity(scores, t, warn=False)   # diverging under separation: name it "no overlap"
        raise EstimationError("the logistic propensity model did not converge "
                              "(near-separation?); pass propensity_model=")
    return beta, index


def fit_propensity(X: np.ndarray, t: np.ndarray, names: Sequence[str],
                   model: Any = None, *, trim: float | None = None,
                   clip: float | None = None, warn: bool = True) -> PropensityFit:
    """Fit the propensity model on all rows and apply the positivity options.

    Parameters
    ----------
    model
        Any scikit-learn classifier with ``predict_proba`` (fitted by sklearn);
        ``None`` for the default unpenalized logistic regression on
        standardized covariates, fitted by :func:`logistic_newton`.
    trim
        Drop (``keep = False``) units whose score lies outside ``[trim, 1 - trim]``
        (Crump et al. 2009 use 0.1).
    clip
        Clip scores into ``[clip, 1 - clip]``.
    """
    trim, clip = _check_bound("trim", trim), _check_bound("clip", clip)
    is_default = model is None
    design, index = None, None
    if is_default:
        # a covariate that (quasi-)separates the arms leaves the logistic MLE
        # undefined: Newton fails or drives scores to 0 / 1.  The separation
        # check (a full pass over X) only runs then, to name the covariate
        design = StandardizedDesign(X)
        try:
            _, index = _converged_logistic(design, t)
            raw = expit(index)
            if raw.min() < 1e-6 or raw.max() > 1 - 1e-6:     # the symptom of separation
                check_separation(X, t, names)
            fit = finish_scores(raw, t, trim=trim, clip=clip, warn=warn)
        except (EstimationError, OverlapError):
            check_separation(X, t, names)
            raise
    else:
        check_separation(X, t, names)
        estimator = clone(model)
        features = model_features(X)
        try:
            estimator.fit(features, t)
        except (ValueError, np.linalg.LinAlgError) as err:
            raise EstimationError(f"the propensity model could not be fitted: {err}") from err
        raw = _predict_proba(estimator, features)
        fit = finish_scores(raw, t, trim=trim, clip=clip, warn=warn)
    fit.is_default_logistic = is_default
    fit.design = design
    fit.linear_index = index
    fit.diagnostics["propensity_model"] = ("logistic regression (unpenalized, standardized "
                                           "covariates)" if is_default else repr(model))
    return fit


def finish_scores(raw: np.ndarray, t: np.ndarray, *, trim: float | None = None,
                  clip: float | None = None, warn: bool = True) -> PropensityFit:
    """Positivity check, then trimming and clipping, of already predicted scores."""
    trim, clip = _check_bound("trim", trim), _check_bound("clip", clip)
    diag = positivity(raw, t, warn=warn)
    keep = np.ones(len(t), dtype=bool)
    scores = raw
    moving = np.ones(len(t))
    if trim is not None:
        keep = (raw >= trim) & (raw <= 1 - trim)
        diag.update(trim=trim, n_trimmed=int((~keep).sum()))
        if not (t[keep] == 1).any() or not (t[keep] == 0).any():
            raise OverlapError(f"trimming at {trim} leaves an empty treatment arm")
    if clip is not None:
        scores = np.clip(raw, clip, 1 - clip)
        clipped = scores != raw
        moving = (~clipped).astype(float)
        diag.update(clip=clip, n_clipped=int(clipped.sum()))
    return PropensityFit(scores=scores, raw_scores=raw, keep=keep, moving=moving,
                         is_default_logistic=False, design=None, diagnostics=diag)


def logit_scores(scores: np.ndarray) -> np.ndarray:
    """The logit of the scores, with scores first bounded away from 0 and 1 by 1e-12."""
    return logit(np.clip(scores, 1e-12, 1 - 1e-12))


def fitted_logit(fit: PropensityFit) -> np.ndarray:
    """The logit of the raw scores: the default logistic model's linear index itself (no
    round trip through ``expit``), else :func:`logit_scores`; bounded as there."""
    if fit.linear_index is None:
        return logit_scores(fit.raw_scores)
    bound = float(logit(1e-12))
    return np.clip(fit.linear_index, bound, -bound)


# ------------------------------------------------------------------ cross-fitting
def cross_fit(X: np.ndarray, t: np.ndarray, y: np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]] | None,
              propensity_model: Any = None, outcome_model: Any = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold propensity ``e`` and per-arm outcome predictions ``mu1``, ``mu0``.

    With ``splits=None`` every model is fitted on all rows (no cross-fitting).
    The outcome model is fitted separately on treated and control rows of each
    training fold.
    """
    n = len(t)
    e, mu1, mu0 = np.empty(n), np.empty(n), np.empty(n)
    features = model_features(X)
    pairs = splits if splits is not None else [(np.arange(n), np.arange(n))]
    for train, test in pairs:
        tt = t[train]
        if tt.min() == tt.max():
            raise EstimationError("a cross-fitting training fold has only one treatment arm; "
                                  "use fewer folds")
        if propensity_model is None:
            try:
                e[test] = default_logistic_scores(X[train], tt, X[test])
            except (EstimationError, OverlapError) as err:     # same kind, with the fold named
                raise type(err)(
                    f"in a cross-fitting training fold of {len(train)} rows: {err}; use fewer "
                    "folds, more data or cross_fitting=False") from err
        else:
            ps = clone(propensity_model)
            ps.fit(features[train], tt)
            e[test] = _predict_proba(ps, features[test])
        for arm, target in ((1, mu1), (0, mu0)):
            rows = train[tt == arm]
            om = default_outcome_model() if outcome_model is None else clone(outcome_model)
            om.fit(features[rows], y[rows])
            target[test] = np.asarray(om.predict(features[test]), dtype=float).ravel()
    return e, mu1, mu0


# ------------------------------------------------------------------ sandwich
def sandwich_variance(psi: np.ndarray, jacobian: np.ndarray, gradient: np.ndarray) -> float:
    """Variance of ``gradient @ theta`` for the M-estimator solving ``sum psi_i(theta) = 0``.

    ``psi`` is the n x p matrix of per-unit estimating functions at the
    estimate, ``jacobian`` the p x p matrix ``mean(d psi_i / d theta)``.  The
    variance is ``g' A^-1 B A^-T g / n`` with ``A = jacobian`` and
    ``B = psi' psi / n`` (Stefanski & Boos 2002).

    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0, 6.0])
    >>> v = sandwich_variance((x - x.mean())[:, None], -np.eye(1), np.ones(1))
    >>> bool(abs(v - x.var() / 4) < 1e-12)
    True
    """
    n = psi.shape[0]
    try:
        a_inv_g = np.linalg.solve(jacobian.T, gradient)
    except np.linalg.LinAlgError as err:
        raise EstimationError("the M-estimation Jacobian is singular") from err
    influence = psi @ a_inv_g
    return float(influence @ influence) / n / n


def logistic_jacobian(fit: PropensityFit) -> np.ndarray:
    """Mean derivative of the logistic score equations ``Z (t - e)``: ``-mean(e(1-e) Z Z')``.

    Uses the raw (unclipped) scores: the model is the maximum-likelihood fit.
    """
    Z, e = fit.design, fit.raw_scores
    assert Z is not None
    return -Z.gram(e * (1.0 - e)) / len(e)


def score_derivative(fit: PropensityFit) -> np.ndarray:
    """Per-unit ``d e_i / d(linear index)``: ``e(1-e)``, zero where the score was clipped."""
    e = fit.raw_scores
    return e * (1 - e) * fit.moving


__all__ = ["PropensityFit", "POSITIVITY_BOUND", "check_separation", "cross_fit",
           "prepare_observational",
           "default_outcome_model", "default_propensity_model", "finish_scores",
           "fit_propensity", "fitted_logit", "folds", "model_features", "logistic_jacobian", "logistic_newton", "logit_scores", "positivity",
           "sandwich_variance", "score_derivative", "expit"]
