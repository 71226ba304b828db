"""Synthetic designs identified by backdoor adjustment, each with its DAG and truth.

Every generator takes the sample size ``n``, the effect size ``effect``, a
confounding strength where it applies and a ``seed``; it returns a
:class:`~causalkit.datasets.CausalDataset` whose ``truth`` holds the population
ATE and ATT and whose ``cate`` holds each row's true conditional effect.

Example
-------
>>> ds = linear_confounding(n=500, effect=2.0, seed=0)
>>> ds.truth["ATE"], ds.roles["treatment"], ds.adjustment_set()
(2.0, 't', ['x1', 'x2', 'x3', 'x4', 'x5'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ._base import CausalDataset
from ._simulate import (bernoulli, check_finite, check_size, covariate_names, edges_into,
                        logistic_index_mean_x, rng_from)


def _frame(X: np.ndarray, names: list[str], t: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(X, columns=names)
    df["t"] = t
    df["y"] = y
    return df


def randomized(n: int = 1000, effect: float = 1.0, n_covariates: int = 3,
               p_treat: float = 0.5, seed=None) -> CausalDataset:
    """A completely randomized experiment with prognostic covariates.

    ``T ~ Bernoulli(p_treat)`` independently of ``X ~ N(0, I)``;
    ``Y = 1 + X'beta + effect * T + e``.  The empty set identifies the effect
    (the DAG has no backdoor path); the covariates only add precision.

    >>> ds = randomized(n=200, seed=1)
    >>> ds.truth == {"ATE": 1.0, "ATT": 1.0}, ds.adjustment_set()
    (True, [])
    """
    n = check_size(n)
    check_finite(effect=effect, p_treat=p_treat)
    rng = rng_from(seed)
    names = covariate_names(n_covariates)
    X = rng.standard_normal((n, n_covariates))
    beta = np.linspace(1.0, 0.5, n_covariates) if n_covariates else np.zeros(0)
    t = bernoulli(rng, np.full(n, p_treat))
    y = 1.0 + X @ beta + effect * t + rng.standard_normal(n)
    return CausalDataset(
        name="randomized", data=_frame(X, names, t, y),
        roles={"treatment": "t", "outcome": "y", "covariates": names},
        truth={"ATE": float(effect), "ATT": float(effect)}, cate=np.full(n, float(effect)),
        edges=tuple(edges_into(names + ["t"], "y")), adjustment=(),
        description="Completely randomized experiment; covariates are prognostic only.",
        params={"n": n, "effect": effect, "n_covariates": n_covariates, "p_treat": p_treat})


def linear_confounding(n: int = 1000, effect: float = 1.0, confounding: float = 1.0,
                       n_covariates: int = 5, seed=None) -> CausalDataset:
    """Observed confounders with a logistic propensity and a linear outcome.

    ``X ~ N(0, I_p)``, ``P(T=1|X) = expit(confounding * 1'X / sqrt(p))``,
    ``Y = 1 + X'beta + effect * T + e`` with ``beta_j > 0``, so the naive
    difference in means is biased upward.  Every ``X_j`` is a confounder: the
    minimal adjustment set is all of them, and both the regression and the
    logistic propensity model are correctly specified.
    """
    n = check_size(n)
    check_finite(effect=effect, confounding=confounding)
    rng = rng_from(seed)
    names = covariate_names(n_covariates)
    X = rng.standard_normal((n, n_covariates))
    gamma = np.full(n_covariates, confounding / np.sqrt(n_covariates))
    beta = np.linspace(1.0, 0.5, n_covariates)
    t = bernoulli(rng, special.expit(X @ gamma))
    y = 1.0 + X @ beta + effect * t + rng.standard_normal(n)
    return CausalDataset(
        name="linear_confounding", data=_frame(X, names, t, y),
        roles={"treatment": "t", "outcome": "y", "covariates": names},
        truth={"ATE": float(effect), "ATT": float(effect)}, cate=np.full(n, float(effect)),
        edges=tuple(edges_into(names, "t") + edges_into(names + ["t"], "y")),
        adjustment=tuple(names),
        description="Linear outcome, logistic propensity, constant effect; all covariates "
                    "confound.",
        params={"n": n, "effect": effect, "confounding": confounding,
                "n_covariates": n_covariates})


def _heterogeneous(n: int, effect: float, confounding: float, heterogeneity: float,
                   nonlinear: bool, rng: np.random.Generator):
    """Shared core of the nonlinear and weak-overlap designs.

    Five covariates ``X ~ N(0, I)``; propensity ``expit(confounding * (x1 + x2) / sqrt 2)``;
    effect ``tau(x) = effect + heterogeneity * (x1 + x3**2 - 1)``, so ATE = effect and
    ATT = effect + heterogeneity * E[x1 | T = 1] (exact, by quadrature).
    """
    X = rng.standard_normal((n, 5))
    x1, x2, x3, x4 = X[:, 0], X[:, 1], X[:, 2], X[:, 3]
    a = confounding / np.sqrt(2.0)
    t = bernoulli(rng, special.expit(a * (x1 + x2)))
    if nonlinear:
        mu0 = 2.0 * np.sin(x1) + 0.5 * x2**2 + 0.5 * x3 * x4 + x2
    else:
        mu0 = 1.0 + x1 + 0.5 * x2 + 0.5 * x3
    tau = effect + heterogeneity * (x1 + x3**2 - 1.0)
    y = mu0 + tau * t + rng.standard_normal(n)
    att = effect + heterogeneity * a * logistic_index_mean_x(abs(a) * np.sqrt(2.0))
    return X, t, y, tau, att


def _heterogeneous_dataset(name: str, description: str, n, effect, confounding,
                           heterogeneity, nonlinear, seed) -> CausalDataset:
    n = check_size(n)
    check_finite(effect=effect, confounding=confounding, heterogeneity=heterogeneity)
    X, t, y, tau, att = _heterogeneous(n, effect, confounding, heterogeneity, nonlinear,
                                       rng_from(seed))
    names = covariate_names(5)
    return CausalDataset(
        name=name, data=_frame(X, names, t, y),
        roles={"treatment": "t", "outcome": "y", "covariates": names},
        truth={"ATE": float(effect), "ATT": float(att)}, cate=tau,
        edges=tuple(edges_into(["x1", "x2"], "t") + edges_into(["x1", "x2", "x3", "x4", "t"], "y")),
        adjustment=("x1", "x2"), description=description,
        params={"n": n, "effect": effect, "confounding": confounding,
                "heterogeneity": heterogeneity})


def nonlinear_heterogeneous(n: int = 1000, effect: float = 1.0, confounding: float = 1.0,
                            heterogeneity: float = 1.0, seed=None) -> CausalDataset:
    """Nonlinear confounding with heterogeneous effects.

    ``X ~ N(0, I_5)``; ``P(T=1|X) = expit(confounding (x1 + x2)/sqrt 2)``;
    ``Y = 2 sin(x1) + x2 + x2^2/2 + x3 x4/2 + tau(X) T + e`` with
    ``tau(X) = effect + heterogeneity (x1 + x3^2 - 1)``.  ATE = ``effect``;
    ATT is larger (treated units have larger x1) and is computed exactly.
    ``x5`` is noise; the minimal set is {x1, x2}.

    >>> ds = nonlinear_heterogeneous(n=300, seed=0)
    >>> ds.truth["ATT"] > ds.truth["ATE"], ds.adjustment_set()
    (True, ['x1', 'x2'])
    """
    return _heterogeneous_dataset(
        "nonlinear_heterogeneous",
        "Nonlinear outcome surface, logistic propensity, effect varying in x1 and x3^2.",
        n, effect, confounding, heterogeneity, True, seed)


def weak_overlap(n: int = 1000, effect: float = 1.0, confounding: float = 4.0,
                 heterogeneity: float = 0.5, seed=None) -> CausalDataset:
    """Strong confounding that pushes propensity scores towards 0 and 1.

    The design of :func:`nonlinear_heterogeneous` with a linear outcome and a
    large ``confounding`` (default 4: nearly half of the propensities are
    below 0.05 or above 0.95), so weighting estimators are unstable while the
    (correctly specified) regression still works.
    """
    return _heterogeneous_dataset(
        "weak_overlap",
        "Linear outcome with strong confounding: many propensities near 0 or 1.",
        n, effect, confounding, heterogeneity, False, seed)


def m_bias(n: int = 1000, effect: float = 1.0, confounding: float = 2.0,
           seed=None) -> CausalDataset:
    """The M-bias trap: a pre-treatment collider among the observed covariates.

    Latent ``U1 -> T`` and ``U2 -> Y``; the observed ``m = U1 + U2 + e`` is a
    collider on the path ``T <- U1 -> m <- U2 -> Y``, which is closed unless one
    adjusts for ``m``.  The observed ``x`` is a true confounder.  The minimal
    adjustment set is ``{x}``; adjusting for all covariates ``{x, m}`` opens the
    path and biases the estimate.  ``confounding`` scales ``U1 -> T`` and ``U2 -> Y``.

    >>> ds = m_bias(n=100, seed=0)
    >>> ds.covariates, ds.adjustment_set()
    (['x', 'm'], ['x'])
    """
    n = check_size(n)
    check_finite(effect=effect, confounding=confounding)
    rng = rng_from(seed)
    u1, u2, x, e_m = rng.standard_normal((4, n))
    m = u1 + u2 + 0.3 * e_m
    t = bernoulli(rng, special.expit(confounding * u1 + 0.5 * x))
    y = effect * t + confounding * u2 + x + rng.standard_normal(n)
    data = pd.DataFrame({"x": x, "m": m, "t": t, "y": y})
    return CausalDataset(
        name="m_bias", data=data,
        roles={"treatment": "t", "outcome": "y", "covariates": ["x", "m"]},
        truth={"ATE": float(effect), "ATT": float(effect)}, cate=np.full(n, float(effect)),
        edges=(("U1", "m"), ("U2", "m"), ("U1", "t"), ("U2", "y"), ("x", "t"), ("x", "y"),
               ("t", "y")),
        latent=("U1", "U2"), adjustment=("x",),
        description="M-bias: m is a pre-treatment collider of two latent causes; adjust "
                    "for x only.",
        params={"n": n, "effect": effect, "confounding": confounding})
