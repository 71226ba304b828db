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
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import RepeatedKFold

from .errors import EstimationError, OptionError
from .logistic import logistic_newton


#: The default nuisance models (learners and the benchmark's peer adapters share them).
_HGB = dict(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
            early_stopping=False)
_HGB_PROPENSITY = dict(max_iter=50, learning_rate=0.1, max_leaf_nodes=7, min_samples_leaf=50,
                       early_stopping=False)
_HGB_EFFECT = dict(max_iter=100, learning_rate=0.05, max_depth=2, min_samples_leaf=50,
                   early_stopping=False)


def default_regressor() -> HistGradientBoostingRegressor:
    """Fast histogram gradient boosting regressor used when no model is given.

    100 boosting rounds of trees with at most 15 leaves and no early stopping
    (so fits are deterministic and need no validation split).

    >>> default_regressor().max_leaf_nodes
    15
    """
    return HistGradientBoostingRegressor(**_HGB)


def default_classifier() -> HistGradientBoostingClassifier:
    """Fast histogram gradient boosting classifier (propensity model default).

    Smoother than the outcome model (50 rounds, at most 7 leaves of >= 50
    units), since extreme fitted propensities inflate inverse weights.

    >>> default_classifier().early_stopping
    False
    """
    return HistGradientBoostingClassifier(**_HGB_PROPENSITY)


def default_effect_regressor() -> HistGradientBoostingRegressor:
    """Fast, strongly regularized boosting for the CATE stage (noisy pseudo-outcomes).

    100 rounds at learning rate 0.05 of depth-2 trees with leaves of >= 50
    units: the targets of the final stage (imputed effects, DR pseudo-outcomes,
    R-learner ratios) are far noisier than outcomes.

    >>> default_effect_regressor().max_depth
    2
    """
    return HistGradientBoostingRegressor(**_HGB_EFFECT)


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
                      X_test: np.ndarray) -> np.ndarray:
    """P(y = 1 | x) on ``X_test`` from ``model`` (a classifier) fitted on the training rows."""
    return fit_predict_proba_many(model, X_train, y_train, [X_test])[0]


def fit_predict_proba_many(model: Any, X_train: np.ndarray, y_train: np.ndarray,
                           X_tests: list[np.ndarray]) -> list[np.ndarray]:
    """:func:`fit_predict_proba` for several test matrices from one fit."""
    y_train = np.asarray(y_train)
    if y_train.min() == y_train.max():
        raise EstimationError("a nuisance classifier was given one class only in a training "
                              "fold; use fewer folds or more data")
    if X_train.shape[1] == 0:
        return [np.full(len(x), float(np.mean(y_train))) for x in X_tests]
    if model is None:
        mean, sd = X_train.mean(axis=0), X_train.std(axis=0)
        sd[sd == 0] = 1.0

        def design(x: np.ndarray) -> np.ndarray:
            return np.column_stack([np.ones(len(x)), (x - mean) / sd])

        beta = logistic_newton(design(X_train), y_train.astype(float))
        return [expit(design(x) @ beta) for x in X_tests]
    m = clone(model)
    m.fit(X_train, y_train)
    if not hasattr(m, "predict_proba"):
        raise OptionError(f"{type(m).__name__} has no predict_proba; pass a classifier")
    classes = list(getattr(m, "classes_", [0, 1]))
    col = classes.index(1) if 1 in classes else -1
    return [np.asarray(m.predict_proba(x))[:, col] for x in X_tests]


def fit_predict(model: Any, X_train: np.ndarray, y_train: np.ndarray,
                X_tests: list[np.ndarray]) -> list[np.ndarray]:
    """Predictions of ``model`` (a regressor) fitted on the training rows, for each test matrix."""
    if X_train.shape[1] == 0:
        return [np.full(len(x), float(np.mean(y_train))) for x in X_tests]
    if model is None:
        design = np.column_stack([np.ones(len(X_train)), X_train])
        beta = np.linalg.lstsq(design, y_train, rcond=None)[0]
        return [np.column_stack([np.ones(len(x)), x]) @ beta for x in X_tests]
    m = clone(model)
    m.fit(X_train, y_train)
    return [np.asarray(m.predict(x), dtype=float).ravel() for x in X_tests]


# ------------------------------------------------------------------ treatment densities
DENSITIES = ("normal", "kernel")


class TreatmentDensity:
    """A conditional density of a continuous treatment, ``pi(a | x)``, fitted on training rows.

    ``a = m(x) + sigma * e``: the mean ``m(x)`` is any scikit-learn regressor
    (``None``: OLS, the normal linear model of Hirano & Imbens 2004 and What If
    Program 12.4); ``sigma`` is the residual standard deviation (with the OLS
    degrees-of-freedom correction ``n - k - 1`` for the default model, as R's
    ``summary(glm)$sigma``); the standardized residual ``e`` is standard normal
    (``kind="normal"``) or has the Gaussian kernel density of the training
    residuals (``kind="kernel"``, Silverman's bandwidth, evaluated on a 512-point
    grid and interpolated, as R's ``density``; Kennedy et al. 2017, section 4).

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 1)); a = 2 * X[:, 0] + rng.normal(size=400)
    >>> d = TreatmentDensity(None, "normal").fit(X, a)
    >>> bool(abs(d.sigma - 1) < 0.1), round(float(d.density(np.zeros(1), X[:1] * 0)[0]), 1)
    (True, 0.4)
    """

    def __init__(self, model: Any = None, kind: str = "normal") -> None:
        if kind not in DENSITIES:
            raise OptionError(f"density must be one of {', '.join(DENSITIES)}, got {kind!r}")
        self.model, self.kind = model, kind

    def fit(self, X: np.ndarray, a: np.ndarray) -> "TreatmentDensity":
        """Fit the mean model and the residual scale (and residual density) on ``(X, a)``."""
        self._train = X
        self._a = np.asarray(a, dtype=float)
        self._fitted_mean = self.mean(X)
        resid = self._a - self._fitted_mean
        k = X.shape[1] if self.model is None else 0
        dof = max(len(resid) - k - 1, 1)
        self.sigma = float(np.sqrt(resid @ resid / dof))
        if not self.sigma > 0:
            raise EstimationError("the treatment is a deterministic function of the "
                                  "covariates (zero residual variance): no overlap")
        if self.kind == "kernel":
            from scipy.stats import gaussian_kde

            e = resid / self.sigma
            kde = gaussian_kde(e, bw_method="silverman")
            pad = 3 * kde.factor * e.std()
            self._grid = np.linspace(e.min() - pad, e.max() + pad, 512)
            self._values = kde(self._grid)
        return self

    def mean(self, X: np.ndarray) -> np.ndarray:
        """``m(x)`` for new rows (the model refitted on the training rows once)."""
        if not hasattr(self, "_mean_fn"):
            train, a = self._train, self._a
            if self.model is None:
                design = np.column_stack([np.ones(len(train)), train])
                beta = np.linalg.lstsq(design, a, rcond=None)[0]
                self._mean_fn = lambda Z: np.column_stack([np.ones(len(Z)), Z]) @ beta
            else:
                m = clone(self.model).fit(train if train.shape[1] else np.zeros((len(a), 1)), a)
                self._mean_fn = lambda Z: np.asarray(
                    m.predict(Z if Z.shape[1] else np.zeros((len(Z), 1))), float).ravel()
        return self._mean_fn(X)

    def standard_density(self, e: np.ndarray) -> np.ndarray:
        """Density of the standardized residual at ``e``."""
        if self.kind == "normal":
            return np.exp(-0.5 * e * e) / np.sqrt(2 * np.pi)
        return np.interp(e, self._grid, self._values, left=0.0, right=0.0)

    def density(self, a: np.ndarray, X: np.ndarray, mean: np.ndarray | None = None
                ) -> np.ndarray:
        """``pi(a_i | x_i)`` elementwise (``mean``: precomputed ``m(x_i)``; ``a`` broadcasts)."""
        m = self.mean(X) if mean is None else mean
        return self.standard_density((np.asarray(a, float) - m) / self.sigma) / self.sigma
