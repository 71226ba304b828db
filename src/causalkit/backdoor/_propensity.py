"""Propensity scores shared by matching, IPW and AIPW.

One job each: fit a propensity model (any scikit-learn classifier, default an
unpenalized logistic regression on standardized covariates, fitted by a lean
Newton–Raphson in numpy, :func:`logistic_newton`), check positivity with the
core diagnosis every covariate-adjusting estimator shares (:mod:`causalkit.overlap`:
warn with numbers when scores leave [0.01, 0.99], refuse when the arms do not
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

from ..errors import EstimationError, OptionError, OverlapError, SingularInformationError
from ..nuisance import (check_classifier, fit_weighted, folds, median_aggregate,  # noqa: F401
                        model_or_default, repeated_folds)
from ..formula import formula_part
from ..validation import PreparedData, prepare
from ..logistic import Design, StandardizedDesign, fit_logistic, logistic_newton
from ..overlap import (CHECK_RIDGE, POSITIVITY_BOUND, check_separation, converged_logistic,
                       independent_columns, positivity)


def default_propensity_model() -> Any:
    """The default propensity model as a sklearn pipeline (unpenalized logistic regression on
    standardized covariates); the estimators fit the same MLE with :func:`logistic_newton`."""
    return make_pipeline(StandardScaler(), LogisticRegression(
        C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=1000))


def default_outcome_model() -> Any:
    """Ordinary least squares on standardized covariates (``StandardScaler`` then
    ``LinearRegression``).

    The scaling is canonical (each column to mean 0, SD 1 in the training rows),
    so the fit, and every estimate and standard error built on it, does not change
    with the units of a covariate: unscaled, ``LinearRegression``'s least-squares
    solver treats small singular values (a dummy beside income squared in dollars)
    differently with the units, and rank-deficient arms get a minimum-norm solution
    that depends on them.

    >>> import numpy as np
    >>> X = np.column_stack([np.arange(6.0), np.arange(6.0) ** 2 * 1e6])
    >>> y = X[:, 0] + X[:, 1] / 1e6
    >>> a = default_outcome_model().fit(X, y).predict(X)
    >>> b = default_outcome_model().fit(X * [1.0, 1e-6], y).predict(X * [1.0, 1e-6])
    >>> bool(np.allclose(a, b, rtol=0, atol=1e-10))
    True
    """
    return make_pipeline(StandardScaler(), LinearRegression())


@dataclass
class PropensityFit:
    """Fitted propensity scores and what is needed for inference and diagnostics.

    ``scores`` are the scores used by the estimator (after clipping);
    ``raw_scores`` those the model predicted; ``keep`` marks units kept after
    trimming; ``moving`` is 1 where the score responds to the logistic
    coefficients (0 where it was clipped); ``design`` is ``[1, standardized X]``
    (a :class:`~causalkit.logistic.StandardizedDesign`) for the logistic
    score equations and ``linear_index`` the fitted logit ``Z @ beta`` (both only for
    the default logistic model); ``sample_weight`` the sampling weights the model was
    fitted with (``None``: unweighted).
    """

    scores: np.ndarray
    raw_scores: np.ndarray
    keep: np.ndarray
    moving: np.ndarray
    is_default_logistic: bool
    design: Design | None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    linear_index: np.ndarray | None = None
    sample_weight: np.ndarray | None = None


def prepare_observational(data: Any, treatment: str, outcome: str,
                          covariates: Sequence[str], weights: Any = None) -> PreparedData:
    """:func:`causalkit.validation.prepare` with the settings the propensity estimators share."""
    return prepare(data, treatment, outcome, covariates, min_per_arm=2, weights=weights)


def nuisance_design(d: PreparedData, formula: str | None, option: str,
                    allow_treatment: bool = False) -> tuple[np.ndarray, list[str]]:
    """The design of one nuisance model: the covariates, or ``formula`` built on the data.

    ``formula`` is a right-hand side (``"C(g) + x + I(x**2)"``; a left-hand side
    ``outcome ~`` is allowed in the outcome model's).  It may not read the outcome,
    nor the treatment unless ``allow_treatment`` (:class:`OptionError`).

    >>> import pandas as pd
    >>> d = prepare(pd.DataFrame({"t": [0, 1, 0, 1, 1], "y": [1., 2., 3., 4., 5.],
    ...                           "x": [1., 3., 2., 5., 4.]}), "t", "y", ["x"])
    >>> nuisance_design(d, "x + I(x**2)", "propensity_formula")[1]
    ['x', 'I(x ** 2)']
    """
    if formula is None:
        return d.X, list(d.covariates)
    if not isinstance(formula, str):
        raise OptionError(f"{option} must be a formula string, got {type(formula).__name__}")
    rhs = formula
    if "~" in formula:
        lhs, rhs = formula.split("~", 1)
        if lhs.strip() not in ("", str(d.outcome)) or option == "propensity_formula":
            raise OptionError(f"{option}={formula!r}: the left-hand side must be the outcome "
                              f"{d.outcome!r} (or give the right-hand side only)"
                              if option != "propensity_formula" else
                              f"{option}={formula!r}: give the right-hand side only (the "
                              f"treatment {d.treatment!r} is the modelled variable)")
    part, cols = formula_part(rhs, d.frame, role=option)
    used = set(part.variables)
    banned = {d.outcome} | (set() if allow_treatment else {d.treatment})
    if used & banned:
        raise OptionError(f"{option}={formula!r} reads {sorted(used & banned, key=str)[0]!r}: "
                          "a nuisance model may not use the outcome"
                          + ("" if allow_treatment else " or the treatment"))
    return cols.to_numpy(dtype=float), list(cols.columns)


def _check_bound(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not 0.0 < value < 0.5:
        raise OptionError(f"{name} must lie in (0, 0.5), got {value!r}")
    return value


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


#: The ridge penalty of a cross-fitting fold's logistic fit whose information matrix is
#: singular (the overlap check's penalty).
FOLD_RIDGE = CHECK_RIDGE


def default_logistic_scores(X_train: np.ndarray, t_train: np.ndarray,
                            X_new: np.ndarray, sample_weight: np.ndarray | None = None
                            ) -> np.ndarray:
    """The default model (unpenalized logistic, standardized covariates) fitted by Newton
    on the training rows (weighted by ``sample_weight``), its scores on new rows (for
    cross-fitting).

    A training fold can be rank-deficient where the whole sample is not (a rare
    category's dummy constant in the fold): the fit then uses a maximal set of linearly
    independent columns of the fold, as R's ``glm`` leaves aliased coefficients out
    (the fold's fitted scores are the same; the dropped columns get coefficient 0).

    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([rng.normal(size=60), np.r_[np.zeros(50), np.ones(10)]])
    >>> t = rng.binomial(1, 0.5, 60)
    >>> s = default_logistic_scores(X[:50], t[:50], X[50:])   # column 2 is constant in the fold
    >>> bool(np.all((s > 0) & (s < 1)))
    True
    """
    columns = independent_columns(X_train)
    train = StandardizedDesign(X_train[:, columns])
    try:
        beta, _ = converged_logistic(train, t_train, sample_weight=sample_weight)
    except SingularInformationError:
        # the information matrix turns singular on the way (scores of a small group running
        # to 0 or 1 without separating the arms): this fold's model is ridge-penalized
        beta, ok = fit_logistic(train, np.asarray(t_train, float), sample_weight=sample_weight,
                                ridge=FOLD_RIDGE)
        if not ok:
            raise
        warnings.warn(f"a cross-fitting fold's logistic propensity model is singular "
                      f"(quasi-separation in {len(t_train)} training rows); that fold uses a "
                      f"ridge-penalized logistic fit (lambda = {FOLD_RIDGE:g} on standardized "
                      "covariates)", UserWarning, stacklevel=4)
    return expit(StandardizedDesign(X_new[:, columns], train.mean, train.scale).dot(beta))


def fit_propensity(X: np.ndarray, t: np.ndarray, names: Sequence[str],
                   model: Any = None, *, trim: float | None = None,
                   clip: float | None = None, warn: bool = True,
                   sample_weight: np.ndarray | None = None) -> PropensityFit:
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
    sample_weight
        Sampling weights: the weighted (pseudo-)likelihood is maximized
        (:func:`~causalkit.nuisance.fit_weighted` for a user model).
    """
    if model is not None:
        check_classifier(model)
    trim, clip = _check_bound("trim", trim), _check_bound("clip", clip)
    is_default = model is None
    design, index = None, None
    if is_default:
        # a covariate that (quasi-)separates the arms leaves the logistic MLE
        # undefined: Newton fails or drives scores to 0 / 1.  The separation
        # check (a full pass over X) only runs then, to name the covariate
        design = StandardizedDesign(X)
        try:
            _, index = converged_logistic(design, t, names, sample_weight)
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
            fit_weighted(estimator, features, t, sample_weight, role="propensity_model")
        except OptionError:
            raise
        except (ValueError, np.linalg.LinAlgError) as err:
            raise EstimationError(f"the propensity model could not be fitted: {err}") from err
        raw = _predict_proba(estimator, features)
        fit = finish_scores(raw, t, trim=trim, clip=clip, warn=warn)
    fit.is_default_logistic = is_default
    fit.sample_weight = sample_weight
    fit.design = design
    fit.linear_index = index
    fit.diagnostics["propensity_model"] = ("logistic regression (unpenalized, standardized "
                                           "covariates)" if is_default else repr(model))
    fit.diagnostics["overlap"]["model"] = fit.diagnostics["propensity_model"]
    return fit


def finish_scores(raw: np.ndarray, t: np.ndarray, *, trim: float | None = None,
                  clip: float | None = None, warn: bool = True) -> PropensityFit:
    """Positivity check, then trimming and clipping, of already predicted scores."""
    trim, clip = _check_bound("trim", trim), _check_bound("clip", clip)
    overlap = positivity(raw, t, warn=warn, bounded=trim is not None or clip is not None)
    diag: dict[str, Any] = dict(overlap, overlap=overlap)
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
              propensity_model: Any = None, outcome_model: Any = None,
              sample_weight: np.ndarray | None = None, X_outcome: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold propensity ``e`` and per-arm outcome predictions ``mu1``, ``mu0``.

    A model that is not a scikit-learn estimator is an :class:`OptionError` naming
    the option, before any fit.

    With ``splits=None`` every model is fitted on all rows (no cross-fitting).
    The outcome model is fitted separately on treated and control rows of each
    training fold, on ``X_outcome`` when given (its own design), else on ``X``.
    With ``sample_weight`` every model is fitted weighted
    (:func:`~causalkit.nuisance.fit_weighted`).
    """
    if propensity_model is not None:
        check_classifier(propensity_model)
    if outcome_model is not None:
        model_or_default(outcome_model, lambda: None, "outcome_model")
    sw = sample_weight
    n = len(t)
    e, mu1, mu0 = np.empty(n), np.empty(n), np.empty(n)
    features = model_features(X)
    out_features = features if X_outcome is None else model_features(X_outcome)
    pairs = splits if splits is not None else [(np.arange(n), np.arange(n))]
    for train, test in pairs:
        tt = t[train]
        if tt.min() == tt.max():
            raise EstimationError("a cross-fitting training fold has only one treatment arm; "
                                  "use fewer folds")
        if propensity_model is None:
            try:
                e[test] = default_logistic_scores(X[train], tt, X[test],
                                                  None if sw is None else sw[train])
            except (EstimationError, OverlapError) as err:     # same kind, with the fold named
                raise type(err)(
                    f"in a cross-fitting training fold of {len(train)} rows: {err}; use fewer "
                    "folds, more data or cross_fitting=False") from err
        else:
            ps = fit_weighted(clone(propensity_model), features[train], tt,
                              None if sw is None else sw[train], role="propensity_model")
            e[test] = _predict_proba(ps, features[test])
        for arm, target in ((1, mu1), (0, mu0)):
            rows = train[tt == arm]
            om = default_outcome_model() if outcome_model is None else clone(outcome_model)
            fit_weighted(om, out_features[rows], y[rows], None if sw is None else sw[rows],
                         role="outcome_model")
            target[test] = np.asarray(om.predict(out_features[test]), dtype=float).ravel()
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

    Uses the raw (unclipped) scores: the model is the maximum-likelihood fit; with
    sampling weights the equations are ``Z w (t - e)`` and the curvature ``w e (1 - e)``.
    """
    Z, e = fit.design, fit.raw_scores
    assert Z is not None
    curvature = e * (1.0 - e)
    if fit.sample_weight is not None:
        curvature = curvature * fit.sample_weight
    return -Z.gram(curvature) / len(e)


def score_derivative(fit: PropensityFit) -> np.ndarray:
    """Per-unit ``d e_i / d(linear index)``: ``e(1-e)``, zero where the score was clipped."""
    e = fit.raw_scores
    return e * (1 - e) * fit.moving


__all__ = ["PropensityFit", "POSITIVITY_BOUND", "check_separation", "cross_fit",
           "prepare_observational", "nuisance_design",
           "default_outcome_model", "default_propensity_model", "finish_scores",
           "fit_propensity", "fitted_logit", "folds", "median_aggregate", "repeated_folds", "model_features", "logistic_jacobian", "logistic_newton", "logit_scores", "positivity",
           "sandwich_variance", "score_derivative", "expit"]
