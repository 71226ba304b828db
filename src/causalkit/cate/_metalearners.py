"""Shared machinery of the heterogeneous-effect learners (wrappers around econml).

Every learner module (``s_learner``, ``t_learner``, ``x_learner``, ``dr_learner``,
``r_learner``, ``causal_forest``) only says how to build its econml estimator and
how its average effect is inferred; this module validates the data, fits the
estimator, computes the per-row CATE, obtains the ATE with a standard error and
builds the :class:`~causalkit.effect.Effect` with ``cate=`` and
``cate_predictor=``.

ATE inference comes from one of two places, stated in ``Effect.inference``:

* ``doubly robust``: econml's cross-fitted doubly robust scores (DR-learner
  pseudo-outcomes, causal forest out-of-bag DR predictions); the ATE is their
  mean and its standard error their standard deviation over ``sqrt(n)``.
* ``bootstrap``: the whole learner is refitted on ``n_bootstrap`` resamples
  (stratified by arm, drawn from ``numpy.random.default_rng(random_state)``) and
  the standard error is the standard deviation of the resampled mean CATE.

With sampling weights (``weights=``) the learners whose econml ``fit`` takes
``sample_weight`` (DR-learner, R-learner, causal forest) get it, so every nuisance
and final model is fitted weighted; the S-, T- and X-learners' ``fit`` takes none,
so their models are fitted unweighted and only the averaging is weighted (said in
``Effect.inference``).  The ATE is then the weighted mean, ``sum w s / sum w``, of
the doubly robust scores (SE ``sqrt(n/(n-1) sum w^2 (s - ate)^2) / sum w``) or of
the CATE (bootstrap SE of the weighted mean, weights resampled with their rows).

Example
-------
>>> default_regressor().max_iter
100
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.base import clone

from ..effect import Effect
from ..errors import DataError, EstimationError, OptionError, RoleError
from ..nuisance import (check_classifier, default_classifier, default_effect_regressor,  # noqa: F401
                        default_regressor, model_or_default)
from ..overlap import check_overlap
from ..validation import as_dataframe, check_frame, prepare

#: Default number of bootstrap refits for learners without analytic ATE inference.
DEFAULT_BOOTSTRAP = 100
def cross_fit_models(outcome_model: Any, propensity_model: Any, final_model: Any, cv: Any,
                     with_final: bool = True) -> tuple[Any, Any, Any, int]:
    """Checked ``(outcome, propensity, final, cv)`` for the cross-fitted learners.

    Defaults: :func:`default_regressor`, :func:`default_classifier` and
    :func:`default_effect_regressor`; ``final`` is ``None`` when not ``with_final``.

    >>> m, g, f, cv = cross_fit_models(None, None, None, 5)
    >>> type(g).__name__, f.max_depth, cv
    ('HistGradientBoostingClassifier', 2, 5)
    """
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2:
        raise OptionError(f"cv must be an integer >= 2, got {cv!r}")
    outcome = model_or_default(outcome_model, default_regressor, "outcome_model")
    final = (model_or_default(final_model, default_effect_regressor, "final_model")
             if with_final else None)
    return outcome, check_classifier(propensity_model), final, int(cv)


@dataclass(frozen=True)
class AteResult:
    """An ATE with its standard error and how the latter was obtained."""

    estimate: float
    std_error: float
    inference: str


@dataclass(frozen=True)
class LearnerPlan:
    """What a learner module tells :func:`fit_learner`.

    ``build`` returns a fresh, unfitted econml estimator; ``fit_kwargs`` are
    passed to its ``fit``; ``analytic_ate`` (optional) maps the fitted estimator and
    the sampling weights (or ``None``) to its ATE with econml's inference; when it is
    ``None`` the ATE is the mean CATE and its standard error is bootstrapped. ``extra_diagnostics`` maps the
    fitted estimator to more diagnostics. ``has_cate_intervals`` says whether
    ``effect_interval`` gives per-row intervals; ``takes_sample_weight`` whether the
    estimator's ``fit`` takes ``sample_weight``.
    """

    method: str
    build: Callable[[], Any]
    description: str
    fit_kwargs: dict[str, Any] | None = None
    analytic_ate: Callable[[Any, np.ndarray | None], AteResult] | None = None
    extra_diagnostics: Callable[[Any], dict[str, Any]] | None = None
    has_cate_intervals: bool = False
    takes_sample_weight: bool = False


def dr_score_ate(scores: np.ndarray, source: str,
                 weights: np.ndarray | None = None) -> AteResult:
    """Mean of doubly robust scores with the influence-function standard error.

    With sampling ``weights`` the weighted mean ``sum w s / sum w`` and the SE
    ``sqrt(n / (n - 1) sum w^2 (s - mean)^2) / sum w`` (``sd / sqrt(n)`` when all
    weights are equal).  Non-finite scores are left out.

    >>> r = dr_score_ate(np.array([0.0, 2.0, 1.0, 1.0]), "x")
    >>> r.estimate, round(r.std_error, 4)
    (1.0, 0.4082)
    >>> r = dr_score_ate(np.array([0.0, 2.0, 1.0, 1.0]), "x", np.full(4, 3.0))
    >>> r.estimate, round(r.std_error, 4)
    (1.0, 0.4082)
    """
    scores = np.asarray(scores, dtype=float).reshape(-1)
    finite = np.isfinite(scores)
    scores = scores[finite]
    if scores.size < 2:
        raise EstimationError("too few finite doubly robust scores to estimate the ATE")
    if weights is None:
        se = float(np.std(scores, ddof=1) / math.sqrt(scores.size))
        return AteResult(float(scores.mean()), se,
                         f"doubly robust: mean of {source} with influence-function SE "
                         f"(sd / sqrt(n), n = {scores.size})")
    w = np.asarray(weights, dtype=float)[finite]
    n = scores.size
    ate = float(w @ scores / w.sum())
    se = float(np.sqrt(n / (n - 1) * np.sum(w * w * (scores - ate) ** 2)) / w.sum())
    return AteResult(ate, se, f"doubly robust: sampling-weighted mean of {source} with "
                     f"influence-function SE (n = {n})")


def bootstrap_ate(build: Callable[[], Any], y: np.ndarray, t: np.ndarray, X: np.ndarray,
                  n_bootstrap: int, random_state: int | None,
                  fit_kwargs: dict[str, Any] | None = None,
                  weights: np.ndarray | None = None,
                  fit_weighted: bool = False) -> tuple[float, np.ndarray]:
    """Bootstrap standard error of the mean CATE: refit the learner on resamples.

    Resampling is stratified by arm (each arm keeps its size, so every resample
    can be fitted) with ``numpy.random.default_rng(random_state)``. Returns the
    standard error and the resampled ATEs.  With sampling ``weights`` each
    resample's ATE is the weighted mean CATE (weights drawn with their rows) and,
    when ``fit_weighted``, each refit gets them as ``sample_weight``.

    >>> from econml.metalearners import TLearner
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 1)); t = rng.integers(0, 2, 200)
    >>> y = X[:, 0] + t + rng.normal(size=200)
    >>> se, draws = bootstrap_ate(lambda: TLearner(models=LinearRegression()), y, t, X, 20, 0)
    >>> 0.05 < se < 0.3, draws.shape
    (True, (20,))
    """
    rng = np.random.default_rng(random_state)
    treated, control = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
    draws = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        idx = np.concatenate([rng.choice(treated, treated.size),
                              rng.choice(control, control.size)])
        est = build()
        kwargs = dict(fit_kwargs or {})
        if weights is not None and fit_weighted:
            kwargs["sample_weight"] = weights[idx]
        est.fit(y[idx], t[idx], X=X[idx], **kwargs)
        draws[b] = float(np.average(np.ravel(est.effect(X[idx])),
                                    weights=None if weights is None else weights[idx]))
    return float(np.std(draws, ddof=1)), draws


def covariate_matrix(new_data: Any, covariates: Sequence[str]) -> np.ndarray:
    """Covariate matrix of new rows: a DataFrame holding the columns, or a 2-D array.

    >>> import pandas as pd
    >>> covariate_matrix(pd.DataFrame({"a": [1.0], "b": [2.0]}), ["b"])
    array([[2.]])
    """
    if isinstance(new_data, np.ndarray):
        arr = np.asarray(new_data, dtype=float)
        if arr.ndim == 1 and len(covariates) == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != len(covariates):
            raise DataError(f"new data must have {len(covariates)} covariate column(s) "
                            f"({', '.join(covariates)}), got an array of shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise DataError("new data hold NaN or infinite covariate values")
        return arr
    frame = check_frame(as_dataframe(new_data), roles={"covariates": list(covariates)})
    return frame[list(covariates)].to_numpy(dtype=float)


def make_predictor(estimator: Any, covariates: Sequence[str]) -> Callable[[Any], np.ndarray]:
    """A ``cate_predictor`` for :class:`Effect`: new rows -> CATE from the fitted model."""
    cols = tuple(covariates)

    def predict_cate(new_data: Any) -> np.ndarray:
        X = covariate_matrix(new_data, cols)
        return np.asarray(estimator.effect(X), dtype=float).reshape(-1)

    return predict_cate


def _check_options(n_bootstrap: Any, random_state: Any) -> int:
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) \
            or n_bootstrap < 0 or n_bootstrap == 1:
        raise OptionError(f"n_bootstrap must be 0 (no standard error) or an integer >= 2, "
                          f"got {n_bootstrap!r}")
    if random_state is not None and not isinstance(random_state, (int, np.integer)):
        raise OptionError(f"random_state must be an integer or None, got {random_state!r}")
    return int(n_bootstrap)


def fit_learner(plan: LearnerPlan, data: Any, treatment: str, outcome: str,
                covariates: Sequence[str] | None, alpha: float, n_bootstrap: int,
                random_state: int | None, estimand: str = "ATE",
                min_per_arm: int = 10, weights: str | None = None) -> Effect:
    """Validate, fit ``plan.build()`` on the data and return the :class:`Effect`.

    ``estimand="ATE"`` (default) or ``"CATE"`` only changes the label: the
    headline number is the average effect either way, and the per-row CATE is in
    ``Effect.cate``.

    Before fitting, overlap is checked (:func:`causalkit.overlap.check_overlap`):
    without it every learner extrapolates one arm's outcome model into the other
    arm's region and returns a confident number; covariates that separate the
    arms are an :class:`~causalkit.errors.OverlapError`, scores outside
    ``[0.01, 0.99]`` a warning, the diagnosis is in ``diagnostics["overlap"]``.
    ``weights``: a column of sampling weights (see the module docstring).
    """
    if estimand not in ("ATE", "CATE"):
        raise OptionError(f"{plan.method} estimates ATE or CATE, not {estimand!r}")
    n_bootstrap = _check_options(n_bootstrap, random_state)
    if not covariates:
        raise RoleError(f"{plan.method} needs covariates: the CATE is a function of them "
                        "(pass covariates=[...])")
    d = prepare(data, treatment, outcome, covariates, min_per_arm=min_per_arm,
                min_rows=2 * min_per_arm, weights=weights)
    y, t, X, w = d.y, d.t, d.X, d.w
    overlap = check_overlap(X, t, d.covariates)
    est = plan.build()
    kwargs = dict(plan.fit_kwargs or {})
    if w is not None and plan.takes_sample_weight:
        kwargs["sample_weight"] = w
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="econml")
        try:
            est.fit(y, t, X=X, **kwargs)
            cate = np.asarray(est.effect(X), dtype=float).reshape(-1)
            diagnostics: dict[str, Any] = {}
            if plan.extra_diagnostics is not None:
                diagnostics.update(plan.extra_diagnostics(est))
            mean_cate = float(np.average(cate, weights=w))
            if plan.analytic_ate is not None:
                ate = plan.analytic_ate(est, w)
            elif n_bootstrap:
                base = {k: v for k, v in kwargs.items() if k != "sample_weight"}
                se, draws = bootstrap_ate(plan.build, y, t, X, n_bootstrap, random_state,
                                          base, w, plan.takes_sample_weight)
                ate = AteResult(mean_cate, se,
                                f"bootstrap: SE of the {'weighted ' if w is not None else ''}"
                                f"mean CATE over {n_bootstrap} refits on arm-stratified "
                                f"resamples (random_state={random_state})")
                diagnostics["bootstrap_ates"] = draws
            else:
                ate = AteResult(mean_cate, math.nan,
                                "none: n_bootstrap=0, so no standard error was computed")
            if plan.has_cate_intervals:
                lo, hi = est.effect_interval(X, alpha=alpha)
                diagnostics["cate_ci_low"] = np.asarray(lo, dtype=float).reshape(-1)
                diagnostics["cate_ci_high"] = np.asarray(hi, dtype=float).reshape(-1)
        except (ValueError, AttributeError, np.linalg.LinAlgError) as err:
            raise EstimationError(f"{plan.method}: econml could not fit the model: {err}") from err
    if not np.all(np.isfinite(cate)):
        raise EstimationError(f"{plan.method} produced non-finite CATE predictions")
    diagnostics.update({
        "mean_cate": float(cate.mean()),
        "sd_cate": float(cate.std()),
        "learner": plan.description,
        "model": est,
        "overlap": overlap,
    })
    inference = ate.inference
    if w is not None:
        diagnostics["sampling_weights"] = weights
        inference += (f"; sampling weights {weights!r}: "
                      + ("passed to econml's fit as sample_weight (nuisance and final "
                         "models) and used in the average" if plan.takes_sample_weight else
                         "econml's fit takes no sample_weight, so the models are fitted "
                         "unweighted and only the average over units is weighted"))
    return Effect.from_estimate(
        method=plan.method, estimand=estimand, estimate=ate.estimate,
        std_error=ate.std_error, alpha=alpha, treatment=treatment, outcome=outcome,
        n_treated=d.n_treated, n_control=d.n_control, covariates=tuple(d.covariates),
        inference=inference, diagnostics=diagnostics, cate=cate,
        cate_predictor=make_predictor(est, d.covariates))


__all__ = ["AteResult", "DEFAULT_BOOTSTRAP", "LearnerPlan", "bootstrap_ate", "check_classifier",
           "covariate_matrix", "cross_fit_models", "default_classifier", "default_effect_regressor",
           "default_regressor", "dr_score_ate",
           "fit_learner", "make_predictor", "model_or_default"]
