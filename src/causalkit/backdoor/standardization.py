"""Standardization (g-computation) with an outcome model written as a formula.

The outcome regression ``E[Y | T, X] = m(T, X)`` is any linear model in the terms of
``outcome_formula`` (interactions of the treatment with covariates included, as in
What If's Program 13.2: ``qsmk + ... + qsmk:smokeintensity``).  It is fitted once by
OLS; every unit's outcome is predicted with the treatment set to 1 and to 0, and the
effect is the mean difference over the estimand's population (all units for the ATE,
the treated for the ATT, the controls for the ATC): ``tau = c' beta`` with ``c`` the
mean difference of the two counterfactual design rows.

Inference (delta method): ``Var(tau) = c' V c + var(delta_i) / n_pop``, with ``V`` the
robust (or clustered) covariance of ``beta`` and ``delta_i`` the per-unit predicted
differences; the second term is the sampling variation of the covariate distribution
the predictions are averaged over (zero for a model without treatment interactions).

Example
-------
>>> import numpy as np, pandas as pd
>>> from causalkit.validation import prepare
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=500); t = rng.integers(0, 2, 500)
>>> df = pd.DataFrame({"t": t, "x": x, "y": t * (1 + x) + x + rng.normal(size=500)})
>>> res = standardize(prepare(df, "t", "y"), "t * x")
>>> bool(abs(res.estimate - 1.0) < 0.2)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..formula import formula_matrix, formula_part
from ..linear import fit_coefficient
from ..validation import PreparedData, require_rows


@dataclass(frozen=True)
class Standardized:
    """The standardized effect, its SE and the fitted outcome model."""

    estimate: float
    std_error: float
    df: float | None
    inference: str
    r_squared: float
    columns: list[str]
    treatment_free: pd.DataFrame
    coefficients: pd.Series


def _set_treatment(frame: pd.DataFrame, treatment: Any, value: int) -> pd.DataFrame:
    col = frame[treatment]
    filled = np.full(len(frame), bool(value)) if pd.api.types.is_bool_dtype(col) else \
        np.full(len(frame), value, dtype=col.dtype if col.dtype.kind in "iuf" else float)
    return frame.assign(**{treatment: filled})


def standardize(d: PreparedData, outcome_formula: str, estimand: str = "ATE",
                cov_type: str = "HC2") -> Standardized:
    """Fit ``outcome_formula`` by OLS and standardize it (see the module docstring)."""
    rhs = outcome_formula
    if "~" in outcome_formula:
        lhs, rhs = outcome_formula.split("~", 1)
        if lhs.strip() != str(d.outcome):
            raise OptionError(f"outcome_formula={outcome_formula!r}: the left-hand side must "
                              f"be the outcome {d.outcome!r}")
    part, X = formula_part(rhs, d.frame, role="outcome_formula", keep_intercept=True)
    if d.treatment not in part.variables:
        raise OptionError(f"outcome_formula={outcome_formula!r} does not contain the treatment "
                          f"{d.treatment!r}: the standardized effect would be zero by "
                          "construction")
    if d.outcome in part.variables:
        raise OptionError(f"outcome_formula={outcome_formula!r} uses the outcome "
                          f"{d.outcome!r} on its right-hand side")
    names = list(X.columns)
    require_rows(d.n, len(names) + 2, what=f"an outcome model with {len(names)} terms")
    X1 = formula_matrix(part, _set_treatment(d.frame, d.treatment, 1)).to_numpy(dtype=float)
    X0 = formula_matrix(part, _set_treatment(d.frame, d.treatment, 0)).to_numpy(dtype=float)
    coef = fit_coefficient(d.y, X.to_numpy(dtype=float), index=0, cov_type=cov_type,
                           groups=d.cluster, names=names)
    beta, V = coef.results.params, coef.results.cov_params()
    rows = {"ATE": np.ones(d.n, dtype=bool), "ATT": d.t == 1, "ATC": d.t == 0}[estimand]
    diff = (X1 - X0)[rows]
    delta = diff @ beta
    c = diff.mean(axis=0)
    tau = float(c @ beta)
    var = float(c @ V @ c) + float(np.var(delta)) / int(rows.sum())
    free = [j for j, name in enumerate(names)
            if name != "Intercept" and np.array_equal(X1[:, j], X0[:, j])]
    return Standardized(
        estimate=tau, std_error=float(np.sqrt(var)), df=coef.df,
        inference=(f"standardization (g-computation) of the OLS outcome model "
                   f"{d.outcome} ~ {rhs.strip()}; delta-method SE from the {coef.inference} "
                   "covariance plus the variance of the per-unit predicted effects"),
        r_squared=coef.results.rsquared, columns=names,
        treatment_free=X.iloc[:, free], coefficients=pd.Series(beta, index=names))


__all__ = ["Standardized", "standardize"]
