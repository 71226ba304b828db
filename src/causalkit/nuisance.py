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

import itertools
from typing import Any, Callable

import numpy as np
from scipy.special import expit
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

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


def model_or_default(model: Any, default: Callable[[], Any], role: str) -> Any:
    """A fresh clone of ``model`` (checked to look like a scikit-learn estimator), or the default.

    >>> from sklearn.linear_model import LinearRegression
    >>> type(model_or_default(LinearRegression(), default_regressor, "outcome_model")).__name__
    'LinearRegression'
    """
    if model is None:
        return default()
    if not (hasattr(model, "fit") and (hasattr(model, "predict")
                                       or hasattr(model, "predict_proba"))):
        raise OptionError(f"{role} must be a scikit-learn estimator with fit and predict, "
                          f"got {type(model).__name__}")
    return clone(model)


def check_classifier(model: Any, role: str = "propensity_model") -> Any:
    """Like :func:`model_or_default` for a classifier: it must have ``predict_proba``."""
    model = model_or_default(model, default_classifier, role)
    if not hasattr(model, "predict_proba"):
        raise OptionError(f"{role} must be a classifier with predict_proba, "
                          f"got {type(model).__name__}")
    return model


def folds(n: int, n_folds: int, random_state: Any = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``KFold(n_folds, shuffle=True, random_state)`` train/test index pairs.

    >>> [len(test) for _, test in folds(10, 5, 0)]
    [2, 2, 2, 2, 2]
    """
    return repeated_folds(n, n_folds, 1, random_state)[0]


def repeated_folds(n: int, n_folds: int, n_rep: int, random_state: Any = None,
                   strata: np.ndarray | None = None
                   ) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """``n_rep`` K-fold splits: ``RepeatedKFold(n_splits=n_folds, n_repeats=n_rep,
    random_state)``, grouped by repetition.  The first equals :func:`folds`.
    With ``strata`` (one label per row) ``RepeatedStratifiedKFold``: every fold
    holds each stratum in proportion (the arms of a multi-valued treatment).

    >>> splits = repeated_folds(10, 5, 3, 0)
    >>> len(splits), [len(test) for _, test in splits[2]]
    (3, [2, 2, 2, 2, 2])
    >>> bool(all((a[1] == b[1]).all() for a, b in zip(splits[0], folds(10, 5, 0))))
    True
    """
    check_fold_counts(n_folds, n_rep)
    k = int(n_folds)
    if strata is not None:
        pairs = list(RepeatedStratifiedKFold(n_splits=k, n_repeats=int(n_rep),
                                             random_state=random_state).split(np.zeros(n), strata))
        return [pairs[r * k:(r + 1) * k] for r in range(int(n_rep))]
    pairs = list(RepeatedKFold(n_splits=k, n_repeats=int(n_rep),
                               random_state=random_state).split(np.zeros(n)))
    return [pairs[r * k:(r + 1) * k] for r in range(int(n_rep))]


def check_fold_counts(n_folds: Any, n_rep: Any = 1) -> None:
    """An :class:`OptionError` unless ``n_folds >= 2`` and ``n_rep >= 1`` are whole numbers.

    >>> check_fold_counts(5, 1)
    >>> try:
    ...     check_fold_counts("five")
    ... except OptionError as err:
    ...     print(err)
    n_folds must be an integer >= 2, got 'five'
    """
    for name, value, least in (("n_folds", n_folds, 2), ("n_rep", n_rep, 1)):
        if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer))
                or int(value) != value or value < least):
            raise OptionError(f"{name} must be an integer >= {least}, got {value!r}")


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
def cluster_folds(groups: np.ndarray, n_folds: int, n_rep: int = 1, random_state: Any = None
                  ) -> tuple[list[list[tuple[np.ndarray, np.ndarray]]],
                             list[list[tuple[np.ndarray, ...]]]]:
    """Cluster-based K-fold splits: no cluster is split between training and test rows.

    ``groups`` holds integer cluster codes, ``(n,)`` for one-way or ``(n, 2)`` for
    two-way clustering.  Each cluster variable's distinct codes are split by
    :func:`repeated_folds` (the second with seed ``random_state + 1``); with two
    variables the folds are the ``K^2`` pairs of a fold of each, the test rows those
    whose both clusters are in the pair's test sets and the training rows those
    whose both clusters are in neither (Chiang, Kato, Ma & Sasaki 2022; DoubleML's
    cluster data).  Returns the row splits and, per fold, the test clusters of each
    variable, both by repetition.

    >>> splits, test_clusters = cluster_folds(np.array([0, 0, 1, 1, 2, 2]), 3, 1, 0)
    >>> [sorted(test.tolist()) for _, test in splits[0]] == \\
    ...     [sorted(np.flatnonzero(np.isin([0, 0, 1, 1, 2, 2], c)).tolist())
    ...      for c, in test_clusters[0]]
    True
    """
    G = np.asarray(groups).reshape(len(groups), -1)
    labels = [np.unique(G[:, j]) for j in range(G.shape[1])]
    for j, lab in enumerate(labels):
        if len(lab) < n_folds:
            raise OptionError(f"n_folds={n_folds} cluster-based folds need at least {n_folds} "
                              f"clusters{f' in cluster column {j + 1}' if G.shape[1] > 1 else ''}"
                              f", got {len(lab)}")
    per_var = [repeated_folds(len(lab), n_folds, n_rep,
                              random_state + j if isinstance(random_state, (int, np.integer))
                              and not isinstance(random_state, bool) else random_state)
               for j, lab in enumerate(labels)]
    rows_by_rep, clusters_by_rep = [], []
    for r in range(int(n_rep)):
        rows, clusters = [], []
        for combo in itertools.product(range(int(n_folds)), repeat=G.shape[1]):
            train = np.ones(len(G), dtype=bool)
            test = np.ones(len(G), dtype=bool)
            tests = []
            for j, k in enumerate(combo):
                tr, te = per_var[j][r][k]
                train &= np.isin(G[:, j], labels[j][tr])
                test &= np.isin(G[:, j], labels[j][te])
                tests.append(labels[j][te])
            rows.append((np.flatnonzero(train), np.flatnonzero(test)))
            clusters.append(tuple(tests))
        rows_by_rep.append(rows)
        clusters_by_rep.append(clusters)
    return rows_by_rep, clusters_by_rep


def is_plain_ols(model: Any) -> bool:
    """Whether ``model`` is ordinary least squares with an intercept: ``None`` (the default)
    or a scikit-learn ``LinearRegression`` with its default settings.

    >>> from sklearn.linear_model import LinearRegression
    >>> is_plain_ols(None), is_plain_ols(LinearRegression())
    (True, True)
    >>> is_plain_ols(LinearRegression(positive=True))
    False
    """
    from sklearn.linear_model import LinearRegression

    if model is None:
        return True
    if type(model) is not LinearRegression:
        return False
    params = model.get_params()
    return bool(params.get("fit_intercept", True)) and not params.get("positive", False)


def ols_out_of_fold(X: np.ndarray, Y: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]]
                    ) -> np.ndarray:
    """Out-of-fold OLS predictions (with an intercept) of every column of ``Y`` at once.

    Each fold's training Gram matrix is the full one minus the test rows' own,
    so all folds cost one O(n p^2) pass over the (standardized) data instead of
    one least-squares fit per fold and target.  The predictions are those of
    ``LinearRegression().fit(X[train], y[train]).predict(X[test])``; collinear
    columns get the minimum-norm solution (the same fitted values).  Needs the
    test sets to partition the rows and each training set to be the rest.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2)); Y = X @ [[1.0], [2.0]] + rng.normal(size=(50, 1))
    >>> from sklearn.linear_model import LinearRegression
    >>> sp = folds(50, 5, 0)
    >>> ref = np.empty(50)
    >>> for tr, te in sp:
    ...     ref[te] = LinearRegression().fit(X[tr], Y[tr, 0]).predict(X[te])
    >>> bool(np.allclose(ols_out_of_fold(X, Y, sp)[:, 0], ref, rtol=0, atol=1e-10))
    True
    """
    Y = np.asarray(Y, dtype=float).reshape(len(Y), -1)
    order = np.concatenate([te for _, te in splits])   # the test folds as contiguous blocks
    bounds = np.cumsum([0] + [len(te) for _, te in splits])
    Xo = X[order]
    mean, sd = Xo.mean(axis=0), Xo.std(axis=0)
    sd[sd == 0] = 1.0
    Z = np.empty((Xo.shape[0], Xo.shape[1] + 1))
    Z[:, 0] = 1.0
    np.subtract(Xo, mean, out=Z[:, 1:])
    Z[:, 1:] /= sd
    ymean = Y.mean(axis=0)
    Yc = Y[order] - ymean
    blocks = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    gram_tests = [Z[b].T @ Z[b] for b in blocks]
    cross_tests = [Z[b].T @ Yc[b] for b in blocks]
    gram, cross = sum(gram_tests), sum(cross_tests)
    out = np.empty_like(Y)
    for (_, te), b, g_te, c_te in zip(splits, blocks, gram_tests, cross_tests):
        g, c = gram - g_te, cross - c_te
        scale = np.sqrt(np.maximum(np.diag(g), 1e-300))
        gs = g / scale[:, None] / scale[None, :]     # unit diagonal: a well-scaled solve
        try:
            low = np.linalg.cholesky(gs)
            if np.min(np.abs(np.diag(low))) ** 2 < 1e-10:
                raise np.linalg.LinAlgError
            beta = np.linalg.solve(low.T, np.linalg.solve(low, c / scale[:, None]))
        except np.linalg.LinAlgError:                # collinear columns: minimum norm
            beta = np.linalg.lstsq(gs, c / scale[:, None], rcond=1e-10)[0]
        out[te] = Z[b] @ (beta / scale[:, None]) + ymean
    return out


def cross_predict(model: Any, X: np.ndarray, targets: list[np.ndarray],
                  splits: list[tuple[np.ndarray, np.ndarray]], classifier: bool = False
                  ) -> list[np.ndarray]:
    """Out-of-fold predictions of ``model`` for each target (one model per target and fold).

    ``classifier=True`` gives ``P(target = 1 | x)`` by :func:`fit_predict_proba`;
    otherwise predictions by :func:`fit_predict`, with the folds of plain OLS
    (:func:`is_plain_ols`) computed all at once by :func:`ols_out_of_fold`.

    >>> X = np.arange(8.0)[:, None]; y = 2 * X[:, 0] + 1
    >>> cross_predict(None, X, [y], folds(8, 2, 0))[0][:3].round(6).tolist()
    [1.0, 3.0, 5.0]
    """
    n = X.shape[0]
    complements = all(len(tr) + len(te) == n for tr, te in splits)   # train = not test
    if not classifier and is_plain_ols(model) and X.shape[1] and complements:
        cols = ols_out_of_fold(X, np.column_stack(targets), splits)
        return [cols[:, j] for j in range(len(targets))]
    outs = [np.empty(n) for _ in targets]
    for train, test in splits:
        for target, out in zip(targets, outs):
            if classifier:
                out[test] = fit_predict_proba(model, X[train], target[train], X[test])
            else:
                out[test] = fit_predict(model, X[train], target[train], [X[test]])[0]
    return outs
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
