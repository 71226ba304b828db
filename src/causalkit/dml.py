"""Double machine learning with a score linear in the parameter (the partially linear models).

The estimators ``dml_plr`` and ``dml_pliv`` (Chernozhukov, Chetverikov, Demirer,
Duflo, Hansen, Newey & Robins 2018, "Double/debiased machine learning for
treatment and structural parameters", Econometrics Journal 21(1), C1-C68) solve
a Neyman-orthogonal moment ``mean(psi_a) theta + mean(psi_b) = 0`` whose
elements ``psi_a``, ``psi_b`` are built from nuisances predicted out of fold
(K-fold cross-fitting, the "DML2" estimator).  This module holds what both
share: the validated data, the folds (by row or by cluster), the solution of
the score with its standard error (heteroskedasticity-robust, or cluster-robust
by the Chiang, Kato, Ma & Sasaki (2022) formula DoubleML uses), repeated
cross-fitting with median aggregation, and the ``Effect``.

Example
-------
>>> import numpy as np
>>> psi_a = -np.ones(4); psi_b = np.array([1.0, 2.0, 3.0, 6.0])
>>> theta, se, psi = solve_linear_score(psi_a, psi_b, folds(4, 2, 0))
>>> theta, round(se, 6)
(3.0, 0.935414)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.base import is_classifier

from .effect import Effect
from .errors import EstimationError, OptionError, RoleError
from .nuisance import check_fold_counts, cluster_folds, folds, median_aggregate, repeated_folds
from .overlap import check_overlap
from .validation import (as_column_list, as_dataframe, check_frame, cluster_groups,
                         numeric_treatment, require_columns, require_rows, require_varies)

Splits = list[tuple[np.ndarray, np.ndarray]]

#: The two Neyman-orthogonal scores of the partially linear models.
SCORES = ("partialling out", "IV-type")


@dataclass
class DMLData:
    """Validated arrays of a partially linear model: outcome ``y``, treatment ``d`` (floats),
    covariates ``X``, instruments ``Z`` (``(n, 0)`` without), cluster codes or ``None``."""

    frame: pd.DataFrame
    treatment: str
    outcome: str
    y: np.ndarray
    d: np.ndarray
    X: np.ndarray
    covariates: list[str]
    Z: np.ndarray
    instruments: list[str]
    groups: np.ndarray | None
    cluster: list[str] | None = None
    binary: bool = field(init=False)

    def __post_init__(self) -> None:
        self.binary = bool(np.isin(self.d, (0.0, 1.0)).all())

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.y)


def prepare_dml(data: Any, treatment: Any, outcome: Any, covariates: Any,
                instrument: Any = None, cluster: Any = None, n_folds: int = 5,
                check_binary_overlap: bool = True) -> DMLData:
    """Validate the roles of ``dml_plr`` / ``dml_pliv`` and return their arrays.

    The treatment may be continuous or binary (numeric, finite, not constant); the
    outcome, covariates and instruments numeric and finite; at most two cluster
    columns.  A binary treatment must overlap in the covariates (``check_binary_overlap``;
    not for an instrumented treatment).  Raises the specific
    :class:`~causalkit.errors.CausalKitError` naming the column.

    >>> df = pd.DataFrame({"d": [0.1, 0.5, 0.2, 0.9, 0.4, 0.3], "y": np.arange(6.0),
    ...                    "x": [1.0, 0.0, 2.0, 1.0, 3.0, 0.5]})
    >>> p = prepare_dml(df, "d", "y", ["x"], n_folds=2)
    >>> p.n, p.binary, p.X.shape
    (6, False, (6, 1))
    """
    check_fold_counts(n_folds)
    covs, instruments = as_column_list(covariates), as_column_list(instrument)
    frame = as_dataframe(data)
    require_columns(frame, treatment, role="treatment")
    d = numeric_treatment(frame, treatment)
    frame = check_frame(frame, roles={"outcome": outcome, "covariates": covs,
                                      "instruments": instruments})
    if treatment == outcome:
        raise RoleError(f"treatment and outcome are the same column {treatment!r}")
    for name in covs:
        if name in (treatment, outcome) or name in instruments:
            raise RoleError(f"column {name!r} cannot be both a covariate and the "
                            f"{'instrument' if name in instruments else 'treatment or outcome'}")
    for name in instruments:
        if name in (treatment, outcome):
            role = "treatment" if name == treatment else "outcome"
            raise RoleError(f"the instrument {name!r} is the {role} itself; an instrument "
                            "must be a different variable")
    groups, cluster_names = cluster_groups(frame, cluster, max_columns=2,
                                           method="double machine learning")
    require_rows(len(frame), max(2 * int(n_folds), len(covs) + 3),
                 what=f"{n_folds}-fold cross-fitting with {len(covs)} covariate(s)")
    require_varies(frame, covs)
    require_varies(frame, instruments, role="instrument")
    X = frame[covs].to_numpy(dtype=float) if covs else np.empty((len(frame), 0))
    Z = frame[instruments].to_numpy(dtype=float) if instruments else np.empty((len(frame), 0))
    prepared = DMLData(frame, treatment, outcome, frame[outcome].to_numpy(dtype=float), d, X,
                       covs, Z, instruments, groups,
                       [str(c) for c in cluster_names] or None)
    if check_binary_overlap and prepared.binary and X.shape[1]:
        check_overlap(X, d.astype(int), covs, warn=False)   # a binary treatment must overlap
    return prepared


def check_score(score: str) -> str:
    """The score name, or an :class:`OptionError` listing :data:`SCORES`."""
    if score not in SCORES:
        raise OptionError(f"score must be one of {', '.join(map(repr, SCORES))}, got {score!r}")
    return score


def is_classifier_model(model: Any, name: str, d: DMLData) -> bool:
    """Whether the treatment model ``name`` is a classifier (it then predicts ``P(d = 1 | x)``,
    which needs a binary treatment)."""
    if model is None or not is_classifier(model):
        return False
    if not d.binary:
        raise OptionError(f"{name}={type(model).__name__} is a classifier, but treatment "
                          f"{d.treatment!r} is not binary (0/1); pass a regressor")
    return True


def check_residual(residual: np.ndarray, target: np.ndarray, what: str) -> float:
    """The share ``var(residual) / var(target)`` of a partialled-out variable; an
    :class:`EstimationError` when (next to) nothing is left: the variable is a function
    of the covariates, so the score does not identify the effect.

    >>> check_residual(np.array([1.0, -1.0]), np.array([2.0, -2.0]), "treatment 'd'")
    0.25
    """
    share = float(np.var(residual) / np.var(target))
    if not share > 1e-10:
        raise EstimationError(f"{what} has no variation left after partialling out the "
                              f"covariates (residual variance share {share:.2g}): it is "
                              "(nearly) a function of them, so the effect is not identified")
    return share


def draw_folds(d: DMLData, n_folds: int, n_rep: int, random_state: Any
               ) -> tuple[list[Splits], list[list[tuple[np.ndarray, ...]]] | None]:
    """``n_rep`` K-fold splits of the rows, or of the clusters when there are any."""
    if d.groups is None:
        return repeated_folds(d.n, n_folds, n_rep, random_state), None
    return cluster_folds(d.groups, n_folds, n_rep, random_state)


def solve_linear_score(psi_a: np.ndarray, psi_b: np.ndarray, splits: Splits,
                       groups: np.ndarray | None = None,
                       test_clusters: list[tuple[np.ndarray, ...]] | None = None
                       ) -> tuple[float, float, np.ndarray]:
    """Root ``theta`` of ``sum psi_a theta + psi_b = 0``, its SE and the score ``psi``.

    Without clusters ``theta = -mean(psi_b) / mean(psi_a)`` and
    ``se^2 = mean(psi^2) / (n J^2)`` with ``J = mean(psi_a)``.  With clusters and
    cluster-based folds (:func:`~causalkit.nuisance.cluster_folds`; Chiang, Kato, Ma
    & Sasaki 2022, as DoubleML) each fold's sums are weighted by one over its
    number of test clusters, ``|I_k|`` (one-way) or ``|I_k| |J_l|`` (two-way):
    one-way, ``J = sum_k sum_{i in k} psi_a / (K |I_k|)``,
    ``gamma = sum_k sum_{c in I_k} (sum_{i in c} psi_i)^2 / (K |I_k|)`` and
    ``se^2 = gamma / (C J^2)`` over ``C`` clusters; two-way, ``gamma`` sums the
    squared within-fold cluster sums of both dimensions with weight
    ``min(|I|, |J|) / (|I| |J|)^2``, both divided by ``K^2``, and ``C`` is the
    smaller number of clusters.
    """
    if groups is None:
        j = float(np.mean(psi_a))
        if not np.isfinite(j) or j == 0.0:
            raise EstimationError("the DML score does not identify the effect: mean(psi_a) "
                                  "is zero")
        theta = -float(np.mean(psi_b)) / j
        psi = psi_a * theta + psi_b
        return theta, float(np.sqrt(np.mean(psi ** 2) / (len(psi) * j * j))), psi
    assert test_clusters is not None
    G = groups.reshape(len(groups), -1)
    sizes = [float(np.prod([len(c) for c in fold])) for fold in test_clusters]
    num = sum(float(np.sum(psi_b[te])) / s for (_, te), s in zip(splits, sizes))
    den = sum(float(np.sum(psi_a[te])) / s for (_, te), s in zip(splits, sizes))
    if den == 0.0 or not np.isfinite(den):
        raise EstimationError("the DML score does not identify the effect: its derivative "
                              "is zero")
    theta = -num / den
    psi = psi_a * theta + psi_b
    n_folds = round(len(splits) ** (1 / G.shape[1]))
    gamma = 0.0
    for (_, te), fold, size in zip(splits, test_clusters, sizes):
        weight = (1.0 / size if G.shape[1] == 1
                  else min(len(fold[0]), len(fold[1])) / size ** 2)
        for j in range(G.shape[1]):
            gamma += weight * float(np.sum(np.bincount(G[te, j], weights=psi[te]) ** 2))
    scale = n_folds ** G.shape[1]
    jac, gamma = den / scale, gamma / scale
    n_clusters = min(len(np.unique(G[:, j])) for j in range(G.shape[1]))
    return theta, float(np.sqrt(gamma / (n_clusters * jac * jac))), psi


@dataclass
class DMLFit:
    """One cross-fitting split: the estimate, its SE, the score and the nuisance predictions."""

    estimate: float
    std_error: float
    psi: np.ndarray
    predictions: dict[str, np.ndarray]


NuisanceFn = Callable[[Splits], tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]


def fit_repeated(d: DMLData, nuisance: NuisanceFn, n_folds: int, n_rep: int,
                 random_state: Any) -> list[DMLFit]:
    """Cross-fit ``nuisance`` (splits -> ``psi_a``, ``psi_b``, predictions) on ``n_rep``
    K-fold splits and solve the score on each."""
    split_sets, cluster_sets = draw_folds(d, n_folds, n_rep, random_state)
    fits = []
    for r, splits in enumerate(split_sets):
        psi_a, psi_b, preds = nuisance(splits)
        theta, se, psi = solve_linear_score(psi_a, psi_b, splits, d.groups,
                                            None if cluster_sets is None else cluster_sets[r])
        fits.append(DMLFit(theta, se, psi, preds))
    return fits


def model_text(model: Any, default: str = "OLS (linear regression)") -> str:
    """How a nuisance model is named in the diagnostics."""
    return default if model is None else repr(model)


def dml_effect(method: str, estimand: str, d: DMLData, fits: list[DMLFit], *, score: str,
               alpha: float,
               n_folds: int, random_state: Any, models: dict[str, Any],
               extra: dict[str, Any] | None = None) -> Effect:
    """The ``Effect`` of a partially linear DML fit: the median over the splits with the
    split-adjusted SE (:func:`~causalkit.nuisance.median_aggregate`) when ``n_rep > 1``."""
    estimates = np.array([f.estimate for f in fits])
    std_errors = np.array([f.std_error for f in fits])
    if len(fits) > 1:
        theta, se = median_aggregate(estimates, std_errors)
    else:
        theta, se = float(estimates[0]), float(std_errors[0])
    first = fits[0]
    diagnostics: dict[str, Any] = {
        "score": score, "n_folds": int(n_folds), "n_rep": len(fits),
        "random_state": random_state,
        "split_estimates": estimates, "split_std_errors": std_errors,
        "nuisance": pd.DataFrame(first.predictions, index=d.frame.index),
        "psi": first.psi,
        "treatment_type": "binary" if d.binary else "continuous",
        **{name: model_text(m) for name, m in models.items()},
    }
    rmse = {name: float(np.sqrt(np.mean((target - first.predictions[name]) ** 2)))
            for name, target in _targets(d).items() if name in first.predictions}
    diagnostics["nuisance_rmse"] = rmse
    diagnostics.update(extra or {})
    clusters = "" if d.groups is None or d.cluster is None else (
        ", cluster-robust over " + " and ".join(
            f"{len(np.unique(d.groups.reshape(d.n, -1)[:, j]))} clusters of {name!r}"
            for j, name in enumerate(d.cluster))
        + f" ({'two' if len(d.cluster) > 1 else 'one'}-way; cluster-based folds; "
        "Chiang et al. 2022)")
    text = (f"{score} score, {int(n_folds)}-fold cross-fitted nuisances, "
            f"influence-function SE{clusters}")
    if len(fits) > 1:
        text += (f"; median over {len(fits)} splits, SE sqrt(median(se_s^2 + (estimate_s - "
                 "median)^2)) (Chernozhukov et al. 2018, Def. 3.3)")
    return Effect.from_estimate(
        method=method, estimand=estimand, estimate=theta, std_error=se, alpha=alpha,
        treatment=d.treatment, outcome=d.outcome,
        n_treated=int((d.d == 1).sum()) if d.binary else None,
        n_control=int((d.d == 0).sum()) if d.binary else None, n_obs=d.n,
        covariates=tuple(d.covariates), inference=text, diagnostics=diagnostics)


def _targets(d: DMLData) -> dict[str, np.ndarray]:
    """What each nuisance predicts (for the out-of-fold RMSE)."""
    out = {"ml_l": d.y}
    if d.instruments:
        out["ml_r"] = d.d
        if d.Z.shape[1] == 1:
            out["ml_m"] = d.Z[:, 0]
    else:
        out["ml_m"] = d.d
    return out


__all__ = ["DMLData", "DMLFit", "SCORES", "check_residual", "check_score", "dml_effect",
           "draw_folds",
           "fit_repeated", "folds", "is_classifier_model", "prepare_dml",
           "solve_linear_score"]
