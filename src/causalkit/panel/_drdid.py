"""Two-period panel DiD estimators of the ATT with their influence functions.

The building block of Callaway & Sant'Anna (2021): for one group-time cell, the
change in outcome ``dy = Y_t - Y_base`` of each unit, a treated indicator ``d`` and
base-period covariates ``X`` (first column the intercept) give the ATT by

* ``"dr"``  — the doubly robust estimator of Sant'Anna & Zhao (2020, J. Econometrics
  219(1), eq. 3.1): a logit propensity score and a linear outcome regression for
  the change among controls, with its influence function (their Theorem 3.1 and
  the linear representations of the two nuisance fits);
* ``"reg"`` — outcome regression (Heckman, Ichimura & Todd 1997);
* ``"ipw"`` — normalized (Hajek) inverse probability weighting (Abadie 2005).

Each returns the estimate and the influence function per unit, scaled so that
``var(att) ~= mean(inf**2) / n``.  Sampling weights (``weights``, of mean one as
the R ``DRDID`` package's ``i.weights``) weight the logit, the control outcome
regression and every mean, as in ``DRDID::drdid_panel``.  Without covariates all three equal the
difference of mean changes.  All three are invariant to affine changes of the
covariates, so they are computed on the standardized design
``[1, (X - mean) / sd]`` (:func:`standardize`): the units of a covariate change
neither the numbers nor the rank check, which refuses a design that is singular
among the controls (or the whole cell) and names the covariates involved.

Example
-------
>>> import numpy as np
>>> dy = np.array([3.0, 5.0, 1.0, 2.0]); d = np.array([1, 1, 0, 0])
>>> att, inf = att_two_period(dy, d, np.ones((4, 1)), "dr")
>>> float(att)
2.5
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import EstimationError, OptionError
from ..linear import require_full_rank
from ..logistic import MatrixDesign, column_sd, expit, logistic_newton

METHODS = ("dr", "reg", "ipw")


def standardize(X: np.ndarray, names: Sequence[Any] | None = None,
                where: str = "a group-time cell") -> np.ndarray:
    """``[1, (X[:, 1:] - mean) / sd]`` for a design ``X`` whose first column is the intercept.

    A covariate constant in the cell is an :class:`EstimationError` naming it.

    >>> standardize(np.array([[1.0, 10.0], [1.0, 30.0]])).tolist()
    [[1.0, -1.0], [1.0, 1.0]]
    """
    body = X[:, 1:]
    mean = body.mean(axis=0)
    sd = column_sd(body, mean)
    flat = ~(sd > 0)
    if flat.any():
        which = ", ".join(repr(names[j]) if names is not None else f"#{j}"
                          for j in np.flatnonzero(flat))
        raise EstimationError(f"covariate(s) {which} are constant in {where}: the "
                              "propensity score and outcome regression are singular")
    return np.column_stack([np.ones(len(X)), (body - mean) / sd])


def logit(X: np.ndarray, d: np.ndarray, weights: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood logit (the package's Newton fit,
    :func:`~causalkit.logistic.logistic_newton`; weighted likelihood with ``weights``):
    fitted probabilities and the influence representation of the coefficients
    (``score_i @ inv(mean Hessian)``), n x k.  ``X`` includes the intercept column."""
    design = MatrixDesign(X)
    sw = np.ones(len(d)) if weights is None else weights
    p = expit(design.dot(logistic_newton(design, d, sample_weight=weights)))
    try:
        hess_inv = np.linalg.inv(design.gram(sw * p * (1 - p)) / len(d))
    except np.linalg.LinAlgError as err:
        raise EstimationError("the propensity-score logit is singular: a covariate is "
                              "constant or collinear within a group-time cell") from err
    return p, ((sw * (d - p))[:, None] * X) @ hess_inv


def subset_ols(y: np.ndarray, mask: np.ndarray, X: np.ndarray,
               weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(Weighted) least squares of ``y`` on ``X`` among the rows with ``mask`` 1: fitted
    values for every row and the coefficients' influence representation (n x k, zero
    outside the subset)."""
    n = len(y)
    w = np.asarray(mask, dtype=float) * (1.0 if weights is None else weights)
    xtx = (X * w[:, None]).T @ X / n
    root = np.sqrt(w[w > 0])
    coef = np.linalg.lstsq(X[w > 0] * root[:, None], y[w > 0] * root, rcond=None)[0]
    fitted = X @ coef
    return fitted, ((w * (y - fitted))[:, None] * X) @ np.linalg.inv(xtx)


def att_two_period(dy: np.ndarray, d: np.ndarray, X: np.ndarray, method: str = "dr",
                   names: Sequence[Any] | None = None,
                   weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """ATT of a two-period panel and its influence function (see the module docstring).

    ``X`` has the intercept first; ``names`` label its other columns in errors;
    ``weights`` are sampling weights (``None``: unweighted).
    """
    if method not in METHODS:
        raise OptionError(f"est_method must be one of {', '.join(METHODS)}, got {method!r}")
    if X.shape[1] > 1:
        X = standardize(X, names)
        labels = ["intercept", *(names if names is not None
                                 else [f"#{j}" for j in range(1, X.shape[1])])]
        require_full_rank(X, "the covariate design of a group-time cell", labels)
        if method != "ipw":
            require_full_rank(X[d == 0], "the outcome regression among the controls of a "
                              "group-time cell", labels)
    d = d.astype(float)
    sw = np.ones(len(d)) if weights is None else np.asarray(weights, dtype=float)
    w_treat = sw * d
    if method == "reg":
        fitted, lin_ols = subset_ols(dy, 1 - d, X, weights)
        eta_treat = np.mean(w_treat * dy) / w_treat.mean()
        eta_cont = np.mean(w_treat * fitted) / w_treat.mean()
        inf_treat = (w_treat * dy - w_treat * eta_treat) / w_treat.mean()
        m1 = np.mean(w_treat[:, None] * X, axis=0)
        inf_cont = (w_treat * fitted - w_treat * eta_cont + lin_ols @ m1) / w_treat.mean()
        return float(eta_treat - eta_cont), inf_treat - inf_cont

    ps, lin_ps = logit(X, d, weights)
    ps = np.minimum(ps, 1 - 1e-6)
    w_cont = sw * ps * (1 - d) / (1 - ps)
    if method == "ipw":
        fitted, lin_ols = np.zeros_like(dy), None
    else:
        fitted, lin_ols = subset_ols(dy, 1 - d, X, weights)
    resid = dy - fitted
    eta_treat = np.mean(w_treat * resid) / w_treat.mean()
    eta_cont = np.mean(w_cont * resid) / w_cont.mean()
    inf_treat = w_treat * resid - w_treat * eta_treat
    inf_cont = w_cont * resid - w_cont * eta_cont
    inf_cont = inf_cont + lin_ps @ np.mean((w_cont * (resid - eta_cont))[:, None] * X, axis=0)
    if lin_ols is not None:
        inf_treat = inf_treat - lin_ols @ np.mean(w_treat[:, None] * X, axis=0)
        inf_cont = inf_cont - lin_ols @ np.mean(w_cont[:, None] * X, axis=0)
    return (float(eta_treat - eta_cont),
            inf_treat / w_treat.mean() - inf_cont / w_cont.mean())
