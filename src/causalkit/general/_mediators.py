"""Nuisance functions of mediator functionals, cross-fitted (front-door and mediation).

For a binary treatment A, mediator(s) M, outcome Y and covariates C, one pass
over the folds returns, for every unit i (out of fold):

* ``pi1``: π(1 | C_i) = P(A = 1 | C_i);
* ``mu[a]``: μ(M_i, a, C_i) = E[Y | M = M_i, A = a, C = C_i];
* ``dens[a]``: f(M_i | a, C_i) up to a factor common to both arms: P(M = M_i | a, C_i)
  for one binary mediator, else P(A = a | M_i, C_i) / π(a | C_i) (Bayes' rule, so
  continuous and multivariate mediators need only a classifier of A);
* ``eta[a][b]``: η(a, b, C_i) = E[μ(M, a, C) | A = b, C = C_i], exactly
  ∑_m μ(m, a, C_i) f(m | b, C_i) for one binary mediator, else a regression of
  μ(M, a, C) on C among the units with A = b.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a = rng.integers(0, 2, 400); m = rng.integers(0, 2, 400)
>>> y = m + rng.normal(size=400)
>>> nu = mediator_nuisances(a, m.reshape(-1, 1), y, np.zeros((400, 0)), cross_fitting=False)
>>> bool(np.allclose(nu.ratio(1, 1), 1.0)), nu.binary_mediator
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import OverlapError
from ..nuisance import fit_predict, fit_predict_proba, fit_predict_proba_many, splits_or_full

#: scores and density ratios are clipped into [BOUND, 1 - BOUND] before dividing
BOUND = 1e-3


@dataclass
class MediatorNuisances:
    """Out-of-fold nuisance values, one entry per unit (see the module docstring)."""

    pi1: np.ndarray
    mu: dict
    dens: dict
    eta: dict
    binary_mediator: bool

    def pi(self, a: int) -> np.ndarray:
        return self.pi1 if a == 1 else 1.0 - self.pi1

    def ratio(self, a: np.ndarray | int, b: int) -> np.ndarray:
        """f(M | b, C) / f(M | a, C) for each unit (``a`` may be the observed treatment)."""
        a_arr = np.broadcast_to(np.asarray(a), self.pi1.shape)
        den = np.where(a_arr == 1, self.dens[1], self.dens[0])
        return self.dens[b] / den


def is_binary_mediator(m: np.ndarray) -> bool:
    return m.shape[1] == 1 and set(np.unique(m[:, 0])) <= {0.0, 1.0}


def mediator_nuisances(a: np.ndarray, m: np.ndarray, y: np.ndarray, c: np.ndarray, *,
                       propensity_model: Any = None, mediator_model: Any = None,
                       outcome_model: Any = None, pseudo_outcome_model: Any = None,
                       cross_fitting: bool = True, n_folds: int = 5,
                       random_state: Any = 0,
                       sample_weight: np.ndarray | None = None) -> MediatorNuisances:
    """Fit every nuisance over the folds (see the module docstring); with sampling
    weights every model is fitted weighted (``sample_weight``)."""
    n = len(a)
    binary = is_binary_mediator(m)
    pi1 = np.empty(n)
    mu = {0: np.empty(n), 1: np.empty(n)}
    dens = {0: np.empty(n), 1: np.empty(n)}
    eta = {x: {0: np.empty(n), 1: np.empty(n)} for x in (0, 1)}
    ones, zeros = np.ones((n, 1)), np.zeros((n, 1))
    for train, test in splits_or_full(n, cross_fitting, n_folds, random_state):
        at, ct, mt, yt = a[train], c[train], m[train], y[train]
        wt = None if sample_weight is None else sample_weight[train]
        pi1[test] = fit_predict_proba(propensity_model, ct, at, c[test], wt)
        feats = np.column_stack([mt, at, ct])
        pred = fit_predict(outcome_model, feats, yt, [
            np.column_stack([m[test], arm[test], c[test]]) for arm in (zeros, ones)]
            + [np.column_stack([mt, arm[train], ct]) for arm in (zeros, ones)]
            + ([np.column_stack([np.full((len(test), 1), v), arm[test], c[test]])
                for v in (0.0, 1.0) for arm in (zeros, ones)] if binary else []), wt)
        mu[0][test], mu[1][test] = pred[0], pred[1]
        mu_train = {0: pred[2], 1: pred[3]}
        if binary:
            p_m = dict(zip((0, 1), fit_predict_proba_many(
                mediator_model, np.column_stack([at, ct]), mt[:, 0],
                [np.column_stack([arm[test], c[test]]) for arm in (zeros, ones)], wt)))
            for b in (0, 1):
                dens[b][test] = np.where(m[test, 0] == 1, p_m[b], 1.0 - p_m[b])
            mu_at = {(v, x): pred[4 + 2 * k + x] for k, v in enumerate((0.0, 1.0)) for x in (0, 1)}
            for x in (0, 1):
                for b in (0, 1):
                    eta[x][b][test] = mu_at[(1.0, x)] * p_m[b] + mu_at[(0.0, x)] * (1 - p_m[b])
        else:
            rho = fit_predict_proba(mediator_model, np.column_stack([mt, ct]), at,
                                    np.column_stack([m[test], c[test]]), wt)
            rho = np.clip(rho, BOUND, 1 - BOUND)
            p1 = np.clip(pi1[test], BOUND, 1 - BOUND)
            dens[1][test], dens[0][test] = rho / p1, (1 - rho) / (1 - p1)
            for x in (0, 1):
                for b in (0, 1):
                    rows = at == b
                    eta[x][b][test] = fit_predict(pseudo_outcome_model, ct[rows],
                                                  mu_train[x][rows], [c[test]],
                                                  None if wt is None else wt[rows])[0]
    if pi1.min() <= BOUND or pi1.max() >= 1 - BOUND:
        raise OverlapError(f"estimated propensity scores reach {pi1.min():.2g} / "
                           f"{pi1.max():.2g}: the treatment arms do not overlap")
    return MediatorNuisances(pi1, mu, dens, eta, binary)


def fit_nuisances(a: np.ndarray, m: np.ndarray, y: np.ndarray, c: np.ndarray,
                  options: dict, sample_weight: np.ndarray | None = None) -> MediatorNuisances:
    """:func:`mediator_nuisances` with the estimators' keyword options (model names, folds)."""
    keys = ("propensity_model", "mediator_model", "outcome_model", "pseudo_outcome_model",
            "cross_fitting", "n_folds", "random_state")
    return mediator_nuisances(a, m, y, c, **{k: options[k] for k in keys},
                              sample_weight=sample_weight)
