"""AIPW for a multi-valued (categorical) treatment: average potential outcomes and contrasts.

For a treatment with arms ``k = 1..K`` the average potential outcome
``theta_k = E[Y(k)]`` is estimated by the doubly robust score (Robins, Rotnitzky
& Zhao 1994; Cattaneo 2010 for multi-valued treatments)::

    phi_k = mu_k(X) + 1{T = k} (Y - mu_k(X)) / e_k(X),   theta_k = mean(phi_k)

with a multinomial propensity model ``e_k(X) = P(T = k | X)`` and per-arm
outcome regressions ``mu_k(X) = E[Y | T = k, X]``, both predicted out of fold
(K-fold cross-fitting, folds stratified by arm).  The influence functions
``phi_k - theta_k`` give the joint covariance of all APOs, hence of every
pairwise contrast ``theta_j - theta_k``, and simultaneous (sup-t, max-|t|)
confidence intervals over the contrasts.  With the same nuisance predictions
and folds the APOs, contrasts and SEs equal DoubleML's ``DoubleMLAPOS``.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n = 3000; x = rng.normal(size=n)
>>> t = rng.choice(["a", "b", "c"], size=n)
>>> y = x + np.select([t == "b", t == "c"], [1.0, 2.0], 0.0) + rng.normal(size=n)
>>> eff = causalkit.estimate(pd.DataFrame({"t": t, "x": x, "y": y}), "t", "y",
...                          method="aipw_multi", covariates=["x"], level="c")
>>> bool(abs(eff.estimate - 2.0) < 0.2), list(eff.diagnostics["contrasts"].index)
(True, ['b vs a', 'c vs a', 'c vs b'])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .balance import balance_table
from ..effect import Effect
from ..errors import EstimationError, OptionError, RoleError
from ..inference import critical_value, max_t_critical_value, p_values
from ..nuisance import check_fold_counts, fit_predict, fit_predict_proba, repeated_folds
from ..overlap import arm_overlap, check_arm_separation, independent_columns
from ..registry import register
from ..validation import (as_column_list, as_dataframe, categorical_treatment, check_frame,
                          require_columns, require_rows, require_varies)


def default_multinomial_model() -> Any:
    """Unpenalized multinomial logistic regression on standardized covariates."""
    return make_pipeline(StandardScaler(), LogisticRegression(
        C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=1000))


def cross_fit_arms(X: np.ndarray, codes: np.ndarray, y: np.ndarray, n_arms: int, splits: Any,
                   propensity_model: Any, outcome_model: Any, multinomial: bool = True
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold ``(n, K)`` propensities ``e_k`` and outcome predictions ``mu_k``.

    The propensity model is fitted on all arms at once (its ``predict_proba``
    columns are the arms, in code order), or with ``multinomial=False`` once per
    arm on the indicator of that arm (:func:`causalkit.nuisance.fit_predict_proba`,
    as DoubleML's ``DoubleMLAPOS``); the outcome model once per arm on that arm's
    training rows (:func:`causalkit.nuisance.fit_predict`).
    """
    n = len(codes)
    e, mu = np.empty((n, n_arms)), np.empty((n, n_arms))
    columns = independent_columns(X) if X.shape[1] and propensity_model is None else None
    features = X if X.shape[1] else np.zeros((n, 1))
    for train, test in splits:
        present = np.unique(codes[train])
        if len(present) < n_arms:
            raise EstimationError("a cross-fitting training fold lacks an arm; use fewer folds")
        if X.shape[1] == 0:
            e[test] = np.bincount(codes[train], minlength=n_arms) / len(train)
        elif not multinomial:
            for k in range(n_arms):
                e[test, k] = fit_predict_proba(propensity_model, X[train],
                                               (codes[train] == k).astype(int), X[test])
        else:
            model = (default_multinomial_model() if propensity_model is None
                     else clone(propensity_model))
            fx = features[:, columns] if columns is not None else features
            try:
                model.fit(fx[train], codes[train])
            except (ValueError, np.linalg.LinAlgError) as err:
                raise EstimationError(f"the propensity model could not be fitted: {err}") from err
            if not hasattr(model, "predict_proba"):
                raise OptionError(f"propensity_model {type(model).__name__} has no "
                                  "predict_proba; pass a scikit-learn classifier")
            proba = np.asarray(model.predict_proba(fx[test]), dtype=float)
            classes = list(getattr(model, "classes_", range(n_arms)))
            e[test] = proba[:, [classes.index(k) for k in range(n_arms)]]
        for k in range(n_arms):
            rows = train[codes[train] == k]
            mu[test, k] = fit_predict(outcome_model, X[rows], y[rows], [X[test]])[0]
    return e, mu


def _pairs(labels: list[Any]) -> tuple[list[str], np.ndarray]:
    """Every pairwise contrast ``"j vs k"`` (j after k) and its row of the contrast matrix."""
    names, rows = [], []
    for k in range(len(labels)):
        for j in range(k + 1, len(labels)):
            row = np.zeros(len(labels))
            row[j], row[k] = 1.0, -1.0
            names.append(f"{labels[j]} vs {labels[k]}")
            rows.append(row)
    return names, np.array(rows)


def _table(estimates: np.ndarray, cov: np.ndarray, names: list[str], alpha: float,
           crit_joint: float) -> pd.DataFrame:
    se = np.sqrt(np.diag(cov))
    z = critical_value(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = estimates / se
    return pd.DataFrame({"estimate": estimates, "std_error": se, "statistic": stat,
                         "p_value": p_values(stat), "ci_low": estimates - z * se,
                         "ci_high": estimates + z * se,
                         "ci_low_joint": estimates - crit_joint * se,
                         "ci_high_joint": estimates + crit_joint * se}, index=names)


@register("aipw_multi", estimand=("ATE", "APO"), roles=("treatment", "outcome", "covariates"),
          needs_binary_treatment=False, treatment_types=("binary", "categorical"))
def aipw_multi(data: pd.DataFrame, treatment: str, outcome: str, covariates: Sequence[str],
               alpha: float = 0.05, estimand: str = "ATE", level: Any = None,
               reference: Any = None, propensity_model: Any = None, outcome_model: Any = None,
               multinomial: bool = True, n_folds: int = 5, clip: float | None = 0.01,
               max_levels: int = 10, n_draws: int = 100_000,
               random_state: int | None = 0) -> Effect:
    """AIPW for a multi-valued treatment: APOs, all pairwise contrasts, simultaneous CIs.

    Parameters
    ----------
    estimand
        The headline number: ``"ATE"`` (default), the contrast ``E[Y(level)] -
        E[Y(reference)]``, or ``"APO"``, ``E[Y(level)]``.  Every APO and contrast is
        in ``diagnostics["apo"]`` and ``diagnostics["contrasts"]`` (estimate, SE,
        p-value, pointwise and simultaneous CIs) with their covariances
        ``diagnostics["apo_covariance"]`` / ``["contrast_covariance"]``.
    level, reference
        Arms (treatment values) of the headline; default the second and the first
        arm in sorted order.
    propensity_model
        Any scikit-learn classifier with ``predict_proba`` over the arms; default an
        unpenalized multinomial logistic regression on standardized covariates.
    outcome_model
        Any scikit-learn regressor, fitted per arm; default OLS.
    multinomial
        ``True`` (default): one propensity model over all arms (the scores sum to
        one).  ``False``: one binary model per arm on the indicator of that arm
        (``None``: unpenalized logistic regression), as DoubleML's ``DoubleMLAPOS``.
    n_folds
        Cross-fitting folds, stratified by arm (``StratifiedKFold(n_folds,
        shuffle=True, random_state)``); every arm needs ``2 * n_folds`` units.
    clip
        Clip each arm's propensity into ``[clip, 1 - clip]`` (default 0.01, as
        DoubleML); ``None`` for none.
    max_levels
        Most arms accepted (default 10): a numeric column with more distinct values
        is a continuous treatment and refused.
    n_draws
        Monte Carlo draws for the sup-t critical value of the simultaneous CIs.
    random_state
        Seed of the folds and of the sup-t draws (default 0, fixed).
    """
    if estimand not in ("ATE", "APO"):
        raise OptionError(f"aipw_multi estimates ATE (a contrast) or APO, not {estimand!r}")
    if clip is not None and not 0.0 < float(clip) < 0.5:
        raise OptionError(f"clip must lie in (0, 0.5) or be None, got {clip!r}")
    if (isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer))
            or n_draws < 1000):
        raise OptionError(f"n_draws must be an integer >= 1000, got {n_draws!r}")
    covs = as_column_list(covariates)
    frame = as_dataframe(data)
    require_columns(frame, treatment, role="treatment")
    frame = check_frame(frame, roles={"outcome": outcome, "covariates": covs})
    if treatment in covs or outcome in covs or treatment == outcome:
        raise RoleError("the treatment, the outcome and the covariates must be different columns")
    check_fold_counts(n_folds)
    codes, labels = categorical_treatment(frame, treatment, max_levels=max_levels,
                                          min_per_arm=2 * int(n_folds))
    require_rows(len(frame), len(covs) + 3, what=f"estimation with {len(covs)} covariate(s)")
    require_varies(frame, covs)
    level_code = _arm_code(labels, level, 1, "level")
    reference_code = _arm_code(labels, reference, 0, "reference")
    if estimand == "ATE" and level_code == reference_code:
        raise OptionError(f"level and reference are the same arm {labels[level_code]!r}")
    y = frame[outcome].to_numpy(dtype=float)
    X = frame[covs].to_numpy(dtype=float) if covs else np.empty((len(frame), 0))
    check_arm_separation(X, codes, labels, covs)
    n_arms, n = len(labels), len(y)
    splits = repeated_folds(n, n_folds, 1, random_state, strata=codes)[0]
    if not isinstance(multinomial, (bool, np.bool_)):
        raise OptionError(f"multinomial must be True or False, got {multinomial!r}")
    e_raw, mu = cross_fit_arms(X, codes, y, n_arms, splits, propensity_model, outcome_model,
                               bool(multinomial))
    overlap = arm_overlap(e_raw, codes, labels)
    e = np.clip(e_raw, clip, 1 - clip) if clip is not None else e_raw
    onehot = codes[:, None] == np.arange(n_arms)[None, :]
    phi = mu + onehot * (y[:, None] - mu) / e
    apo = phi.mean(axis=0)
    influence = phi - apo
    cov = influence.T @ influence / n / n
    names, C = _pairs([str(v) for v in labels])
    contrast, contrast_cov = C @ apo, C @ cov @ C.T
    crit_contrasts = max_t_critical_value(cov, C, alpha, n_draws, random_state)
    crit_apo = max_t_critical_value(cov, np.eye(n_arms), alpha, n_draws, random_state)
    apo_table = _table(apo, cov, [str(v) for v in labels], alpha, crit_apo)
    apo_table.insert(0, "n", np.bincount(codes, minlength=n_arms))
    contrast_table = _table(contrast, contrast_cov, names, alpha, crit_contrasts)
    if estimand == "APO":
        estimate, se = apo[level_code], float(np.sqrt(cov[level_code, level_code]))
    else:
        row = np.zeros(n_arms)
        row[level_code], row[reference_code] = 1.0, -1.0
        estimate, se = float(row @ apo), float(np.sqrt(row @ cov @ row))
    clipped = int((e != e_raw).sum())
    balance = {label: balance_table(X, onehot[:, k].astype(int), covs,
                                    weights=np.where(onehot[:, k], 1 / e[:, k], 1 / (1 - e[:, k])))
               for k, label in enumerate(labels)} if covs else {}
    arm_names = [str(v) for v in labels]
    diagnostics = {
        "levels": list(labels), "level": labels[level_code], "reference": labels[reference_code],
        "apo": apo_table, "contrasts": contrast_table,
        "apo_covariance": pd.DataFrame(cov, index=arm_names, columns=arm_names),
        "contrast_covariance": pd.DataFrame(contrast_cov, index=names, columns=names),
        "critical_value_joint": crit_contrasts, "critical_value_joint_apo": crit_apo,
        "overlap": overlap, "balance": balance, "n_clipped": clipped, "clip": clip,
        "n_folds": int(n_folds), "random_state": random_state,
        "propensity_model": _propensity_text(propensity_model, bool(multinomial)),
        "outcome_model": repr(outcome_model) if outcome_model is not None
        else "linear regression per arm (OLS)",
        "propensity": pd.DataFrame(e, index=frame.index, columns=arm_names),
        "nuisance": pd.DataFrame(np.column_stack([e, mu]), index=frame.index,
                                 columns=[f"e_{a}" for a in arm_names]
                                 + [f"mu_{a}" for a in arm_names]),
        "influence": influence,
    }
    clip_text = (f"propensities clipped to [{clip:g}, {1 - clip:g}] ({clipped} of {n * n_arms})"
                 if clip is not None else "propensities unclipped (clip=None)")
    inference = (f"influence-function variance, {int(n_folds)}-fold cross-fitted nuisances "
                 f"(folds stratified by arm), {n_arms} arms; {clip_text}; simultaneous CIs "
                 f"over the {len(names)} contrasts by the max-|t| critical value "
                 f"{crit_contrasts:.3f} ({int(n_draws)} draws)")
    return Effect.from_estimate(
        method="aipw_multi", estimand=estimand, estimate=float(estimate), std_error=se,
        alpha=alpha, treatment=treatment, outcome=outcome,
        n_treated=int((codes == level_code).sum()),
        n_control=int((codes == reference_code).sum()) if estimand == "ATE" else None,
        n_obs=n, covariates=tuple(covs),
        inference=inference, diagnostics=diagnostics)


def _propensity_text(model: Any, multinomial: bool) -> str:
    """How the propensity model is named in the diagnostics."""
    text = repr(model) if model is not None else (
        ("multinomial logistic regression" if multinomial else "logistic regression")
        + " (unpenalized, standardized covariates)")
    return text if multinomial else text + ", one per arm (arm vs rest)"


def _arm_code(labels: list[Any], value: Any, default: int, name: str) -> int:
    """The code of arm ``value`` (``None``: the ``default``-th arm), or an OptionError."""
    if value is None:
        return default
    for k, label in enumerate(labels):
        if label == value or str(label) == str(value):
            return k
    raise OptionError(f"{name}={value!r} is not an arm of the treatment; arms: "
                      f"{', '.join(map(repr, labels))}")


__all__ = ["aipw_multi", "cross_fit_arms", "default_multinomial_model"]
