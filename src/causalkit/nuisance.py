"""Nuisance models shared by the estimator families: folds, fitted classifiers and regressions.

Any scikit-learn classifier or regressor may be passed; ``None`` selects the
default: unpenalized logistic regression on standardized features, fitted by
the core Newton solver (:func:`causalkit.logistic.logistic_newton`), and
ordinary least squares by ``numpy.linalg.lstsq`` (the same fits as scikit-learn's
``LogisticRegression(C=inf)`` and ``LinearRegression``, without their overhead).  With no
feature columns the "model" is the sample mean of the training rows, so a
design without covariates needs no special case.

Example
-------
>>> import numpy as np
>>> X = np.zeros((4, 0)); y = np.array([0, 1, 1, 1])
>>> fit_predict_proba(None, X, y, X).tolist()
[0.75, 0.75, 0.75, 0.75]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import clone
from sklearn.model_selection import RepeatedKFold

from .errors import EstimationError, OptionError
from .logistic import logistic_newton


def folds(n: int, n_folds: int, random_state: Any = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``KFold(n_folds, shuffle=True, random_state)`` train/test index pairs.

    >>> [len(test) for _, test in folds(10, 5, 0)]
    [2, 2, 2, 2, 2]
    """
    return repeated_folds(n, n_folds, 1, random_state)[0]


def repeated_folds(n: int, n_folds: int, n_rep: int, random_state: Any = None
                   ) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """``n_rep`` K-fold splits: ``RepeatedKFold(n_splits=n_folds, n_repeats=n_rep,
    random_state)``, grouped by repetition.  The first equals :func:`folds`.

    >>> splits = repeated_folds(10, 5, 3, 0)
    >>> len(splits), [len(test) for _, test in splits[2]]
    (3, [2, 2, 2, 2, 2])
    >>> bool(all((a[1] == b[1]).all() for a, b in zip(splits[0], folds(10, 5, 0))))
    True
    """
    if isinstance(n_folds, bool) or int(n_folds) != n_folds or n_folds < 2:
        raise OptionError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    if isinstance(n_rep, bool) or int(n_rep) != n_rep or n_rep < 1:
        raise OptionError(f"n_rep must be an integer >= 1, got {n_rep!r}")
    k = int(n_folds)
    pairs = list(RepeatedKFold(n_splits=k, n_repeats=int(n_rep),
                               random_state=random_state).split(np.zeros(n)))
    return [pairs[r * k:(r + 1) * k] for r in range(int(n_rep))]


def median_aggregate(estimates: np.ndarray, std_errors: np.ndarray) -> tuple[float, float]:
    """Aggregate repeated cross-fitting: the median estimate and the split-adjusted SE
    ``sqrt(median(se_s^2 + (theta_s - median)^2))``.

    Chernozhukov et al. (2018), "Double/debiased machine learning for treatment and
    structural parameters", Econometrics Journal 21(1), C1-C68, Definition 3.3 (the
    median method), with the variances on the scale of the estimate: the spread of
    the per-split estimates around their median is added to each split's sampling
    variance before the median is taken, so the SE also covers the randomness of the
    sample split.

    >>> median_aggregate(np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0, 1.0]))
    (2.0, 1.4142135623730951)
    """
    estimates, std_errors = np.asarray(estimates, float), np.asarray(std_errors, float)
    centre = float(np.median(estimates))
    return centre, float(np.sqrt(np.median(std_errors ** 2 + (estimates - centre) ** 2)))


def splits_or_full(n: int, cross_fitting: bool, n_folds: int, random_state: Any
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-fitting folds, or one "fold" that trains and predicts on every row."""
    if cross_fitting:
        return folds(n, n_folds, random_state)
    every = np.arange(n)
    return [(every, every)]


def fit_predict_proba(model: Any, X_train: np.ndarray, y_train: np.ndarray,
                      X_test: np.ndarray, sample_weight: np.ndarray | None = None
                      ) -> np.ndarray:
    """P(y = 1 | x) on ``X_test`` from ``model`` (a classifier) fitted on the training rows."""
    return fit_predict_proba_many(model, X_train, y_train, [X_test], sample_weight)[0]


def fit_predict_proba_many(model: Any, X_train: np.ndarray, y_train: np.ndarray,
                           X_tests: list[np.ndarray], sample_weight: np.ndarray | None = None
                           ) -> list[np.ndarray]:
    """:func:`fit_predict_proba` for several test matrices from one fit (weighted by
    ``sample_weight`` when given, :func:`fit_weighted`)."""
    y_train = np.asarray(y_train)
    if y_train.min() == y_train.max():
        raise EstimationError("a nuisance classifier was given one class only in a training "
                              "fold; use fewer folds or more data")
    if X_train.shape[1] == 0:
        return [np.full(len(x), float(np.average(y_train, weights=sample_weight)))
                for x in X_tests]
    if model is None:
        mean, sd = X_train.mean(axis=0), X_train.std(axis=0)
        sd[sd == 0] = 1.0

        def design(x: np.ndarray) -> np.ndarray:
            return np.column_stack([np.ones(len(x)), (x - mean) / sd])

        beta = logistic_newton(design(X_train), y_train.astype(float),
                               sample_weight=sample_weight)
        return [expit(design(x) @ beta) for x in X_tests]
    m = fit_weighted(clone(model), X_train, y_train, sample_weight, role="classifier")
    if not hasattr(m, "predict_proba"):
        raise OptionError(f"{type(m).__name__} has no predict_proba; pass a classifier")
    classes = list(getattr(m, "classes_", [0, 1]))
    col = classes.index(1) if 1 in classes else -1
    return [np.asarray(m.predict_proba(x))[:, col] for x in X_tests]


def fit_predict(model: Any, X_train: np.ndarray, y_train: np.ndarray,
                X_tests: list[np.ndarray], sample_weight: np.ndarray | None = None
                ) -> list[np.ndarray]:
    """Predictions of ``model`` (a regressor) fitted on the training rows, for each test
    matrix (weighted least squares / ``sample_weight`` when given)."""
    if X_train.shape[1] == 0:
        return [np.full(len(x), float(np.average(y_train, weights=sample_weight)))
                for x in X_tests]
    if model is None:
        design = np.column_stack([np.ones(len(X_train)), X_train])
        root = 1.0 if sample_weight is None else np.sqrt(sample_weight)
        beta = np.linalg.lstsq(design * np.reshape(root, (-1, 1)), y_train * root,
                               rcond=None)[0]
        return [np.column_stack([np.ones(len(x)), x]) @ beta for x in X_tests]
    m = fit_weighted(clone(model), X_train, y_train, sample_weight, role="regressor")
    return [np.asarray(m.predict(x), dtype=float).ravel() for x in X_tests]


def fit_weighted(model: Any, X: np.ndarray, y: np.ndarray,
                 sample_weight: np.ndarray | None = None, role: str = "model") -> Any:
    """``model.fit(X, y)``, with ``sample_weight`` passed where the model takes it; returns it.

    A :class:`~sklearn.pipeline.Pipeline` gets the weights in its final step
    (``<step>__sample_weight``; the preprocessing steps are fitted unweighted).  A
    model whose ``fit`` has no ``sample_weight`` cannot honour sampling weights:
    that is an :class:`~causalkit.errors.OptionError` naming it (``role``), never an
    unweighted fit.

    >>> from sklearn.neighbors import KNeighborsRegressor
    >>> X, y = np.arange(4.0)[:, None], np.arange(4.0)
    >>> try:
    ...     fit_weighted(KNeighborsRegressor(2), X, y, np.ones(4), role="outcome_model")
    ... except OptionError as err:
    ...     print(str(err)[:63])
    outcome_model KNeighborsRegressor takes no sample_weight in fit
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import has_fit_parameter

    if sample_weight is None:
        return model.fit(X, y)
    if isinstance(model, Pipeline):
        name, final = model.steps[-1]
        if final is not None and final != "passthrough" and has_fit_parameter(final,
                                                                              "sample_weight"):
            return model.fit(X, y, **{f"{name}__sample_weight": sample_weight})
        what = type(final).__name__
    elif has_fit_parameter(model, "sample_weight"):
        return model.fit(X, y, sample_weight=sample_weight)
    else:
        what = type(model).__name__
    raise OptionError(f"{role} {what} takes no sample_weight in fit, so it cannot be fitted "
                      "with weights=; pass a model that does (e.g. LogisticRegression, "
                      "LinearRegression, a random forest or gradient boosting)")
