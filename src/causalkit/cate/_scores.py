"""Doubly robust scores of a binary treatment, the input of policy learning and CATE validation.

For each unit the cross-fitted AIPW scores of both arms,

    Gamma_1 = mu_1(X) + T (Y - mu_1(X)) / e(X),
    Gamma_0 = mu_0(X) + (1 - T)(Y - mu_0(X)) / (1 - e(X)),

whose difference ``psi = Gamma_1 - Gamma_0`` has ``E[psi | X] = tau(X)`` when either
nuisance is right (Athey & Wager 2021; Chernozhukov et al. 2018).  They come from a
``dr_learner`` Effect's own cross-fitted nuisances when the Effect carries them and no
new data are given, and are otherwise cross-fitted on the data given (the
:mod:`causalkit.nuisance` folds and models: default logistic propensity and OLS per
arm, propensities clipped to ``[clip, 1 - clip]``).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=400); t = rng.integers(0, 2, 400)
>>> df = pd.DataFrame({"x": x, "t": t, "y": x + t * (1 + x) + rng.normal(size=400)})
>>> s = scores_from_data(df, "t", "y", ["x"])
>>> s.gamma.shape, bool(abs(s.psi.mean() - 1) < 0.3)
((400, 2), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError, RoleError
from ..nuisance import fit_predict, fit_predict_proba, folds
from ..validation import as_column_list, prepare


@dataclass(frozen=True)
class DRScores:
    """Per-unit DR scores ``gamma`` (n x 2: control, treated), the covariate matrix ``X``
    with its column names, the observed ``y``, ``t`` and ``propensity``, and where the
    scores came from (``source``)."""

    gamma: np.ndarray
    X: np.ndarray
    covariates: tuple[Any, ...]
    source: str
    y: np.ndarray | None = None
    t: np.ndarray | None = None
    propensity: np.ndarray | None = None

    @property
    def psi(self) -> np.ndarray:
        """``Gamma_1 - Gamma_0``, the DR score of the effect."""
        return self.gamma[:, 1] - self.gamma[:, 0]

    @property
    def n(self) -> int:
        """Number of units."""
        return int(self.gamma.shape[0])


def scores_from_data(data: Any, treatment: Any, outcome: Any, covariates: Sequence[Any],
                     propensity_model: Any = None, outcome_model: Any = None,
                     n_folds: int = 5, clip: float = 0.01, random_state: Any = 0) -> DRScores:
    """Cross-fitted DR scores on ``data`` (see the module docstring)."""
    if not 0.0 < float(clip) < 0.5:
        raise OptionError(f"clip must lie in (0, 0.5), got {clip!r}")
    d = prepare(data, treatment, outcome, covariates, min_per_arm=2 * n_folds)
    n = d.n
    e, mu1, mu0 = np.empty(n), np.empty(n), np.empty(n)
    for train, test in folds(n, n_folds, random_state):
        Xtr, ttr, ytr = d.X[train], d.t[train], d.y[train]
        e[test] = fit_predict_proba(propensity_model, Xtr, ttr, d.X[test])
        for arm, target in ((1, mu1), (0, mu0)):
            rows = ttr == arm
            target[test] = fit_predict(outcome_model, Xtr[rows], ytr[rows], [d.X[test]])[0]
    e = np.clip(e, clip, 1 - clip)
    t, y = d.t, d.y
    gamma = np.column_stack([mu0 + (1 - t) * (y - mu0) / (1 - e), mu1 + t * (y - mu1) / e])
    return DRScores(gamma, d.X, tuple(d.covariates),
                    f"AIPW scores cross-fitted on the data given ({n_folds} folds)", y, t, e)


def effect_scores(effect: Any, data: Any = None, covariates: Any = None,
                  **options: Any) -> DRScores:
    """The DR scores for ``effect``: its own (a ``dr_learner`` with ``data=None``) or
    cross-fitted on ``data`` with the effect's treatment and outcome.

    ``covariates`` are the columns of ``X`` returned (default: the effect's); the
    nuisance models always adjust for the effect's covariates (and these).
    """
    if effect.treatment is None or effect.outcome is None:
        raise RoleError("this needs an Effect that records its treatment and outcome")
    own = list(effect.covariates)
    wanted = as_column_list(covariates) if covariates is not None else own
    if data is None:
        model = effect.diagnostics.get("model")
        cached = getattr(model, "_cached_values", None)
        if cached is None or effect.method != "dr_learner" or wanted != own:
            raise DataError(
                f"pass data=: the {effect.method} Effect carries no cross-fitted doubly "
                "robust scores of its own (only a dr_learner Effect does, for its own "
                "covariates); the scores are then cross-fitted on the data given")
        if options:
            raise OptionError(f"options {sorted(options)} only apply when data= is given")
        pred = np.asarray(cached.nuisances[0], dtype=float)
        pred = pred.reshape(pred.shape[0], -1)
        X = np.asarray(cached.X, dtype=float)
        return DRScores(pred[:, :2], X, tuple(own),
                        "the dr_learner's own cross-fitted DR scores (its training rows)",
                        np.asarray(cached.Y, float).ravel(),
                        np.asarray(cached.T).ravel().astype(int), None)
    adjust = own + [c for c in wanted if c not in own]
    scores = scores_from_data(data, effect.treatment, effect.outcome, adjust, **options)
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    X = frame[wanted].to_numpy(dtype=float) if wanted else np.empty((scores.n, 0))
    return DRScores(scores.gamma, X, tuple(wanted), scores.source, scores.y, scores.t,
                    scores.propensity)
