"""Best linear projection (BLP) of the CATE on chosen covariates, with robust SEs.

Which features drive heterogeneity? Project the CATE ``tau(x)`` on a few
covariates ``Z``: ``beta = argmin E[(tau(X) - b0 - Z'b)^2]``. Following Semenova
& Chernozhukov (2021), ``beta`` is estimated by OLS of the cross-fitted doubly
robust pseudo-outcome

    phi = mu_1(X) - mu_0(X) + T (Y - mu_1(X)) / e(X) - (1 - T)(Y - mu_0(X)) / (1 - e(X))

on ``[1, Z]``: since ``E[phi | X] = tau(X)`` the projection of ``phi`` equals the
projection of ``tau``, and heteroskedasticity-robust standard errors of that
OLS are valid (the nuisance estimation error is negligible under the usual
rate conditions). The pseudo-outcomes come from the DR-learner (those of a
``dr_learner`` Effect are reused; for any other learner a DR-learner is fitted
on the same data and covariates).

Reference: V. Semenova and V. Chernozhukov (2021), "Debiased machine learning
of conditional average treatment effects and other causal functions", The
Econometrics Journal 24(2), 264-289.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> from sklearn.linear_model import LinearRegression, LogisticRegression
>>> rng = np.random.default_rng(0)
>>> n = 2000; x1, x2 = rng.normal(size=(2, n)); t = rng.integers(0, 2, n)
>>> df = pd.DataFrame({"t": t, "x1": x1, "x2": x2,
...                    "y": x2 + (1.0 + 2.0 * x1) * t + rng.normal(size=n)})
>>> eff = causalkit.estimate(df, "t", "y", method="dr_learner", covariates=["x1", "x2"],
...                          outcome_model=LinearRegression(),
...                          propensity_model=LogisticRegression(),
...                          final_model=LinearRegression())
>>> blp = cate_summary(eff, df, on=["x1", "x2"])
>>> bool(abs(blp.table.loc["x1", "estimate"] - 2.0) < 0.3)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError, RoleError
from ..inference import check_alpha, wald
from ..linear import fit_coefficient
from ..validation import as_column_list, check_frame, require_varies


@dataclass(frozen=True)
class CateSummary:
    """The BLP table (one row per term: estimate, std_error, statistic, p_value, ci_low,
    ci_high) and how it was obtained."""

    table: pd.DataFrame
    signal: str
    inference: str
    n_obs: int
    alpha: float

    def summary(self) -> str:
        """The table as text, with a header saying what was projected."""
        head = (f"Best linear projection of the CATE ({self.signal}), n = {self.n_obs}\n"
                f"Inference: {self.inference}\n")
        return head + self.table.to_string(float_format=lambda v: f"{v:.4f}")

    def __str__(self) -> str:
        return self.summary()


def _signal(effect: Any, frame: pd.DataFrame, signal: str, **dr_options: Any
            ) -> tuple[np.ndarray, str]:
    n = len(frame)
    if signal == "cate":
        if effect.cate is None or len(effect.cate) != n:
            raise DataError("signal='cate' needs an Effect whose cate was fitted on these rows "
                            f"({n} rows given)")
        return np.asarray(effect.cate, dtype=float), (
            f"{effect.method} fitted CATE (SEs ignore the CATE model's own estimation error)")
    pseudo = effect.diagnostics.get("dr_pseudo_outcome")
    if pseudo is not None:
        if len(pseudo) != n:
            raise DataError(f"the Effect was fitted on {len(pseudo)} rows but data has {n}: "
                            "pass the data the effect was estimated on")
        return np.asarray(pseudo, dtype=float), "cross-fitted DR pseudo-outcomes of dr_learner"
    from .dr_learner import dr_learner

    dr = dr_learner(frame, effect.treatment, effect.outcome, list(effect.covariates),
                    **dr_options)
    return (np.asarray(dr.diagnostics["dr_pseudo_outcome"], dtype=float),
            "cross-fitted DR pseudo-outcomes of a dr_learner refitted on the same data")


def cate_summary(effect: Any, data: pd.DataFrame, on: str | Sequence[str] | None = None,
                 alpha: float = 0.05, cov_type: str = "HC2", signal: str = "dr",
                 **dr_options: Any) -> CateSummary:
    """Best linear projection of the CATE on the covariates ``on`` with robust SEs.

    Parameters
    ----------
    effect
        A fitted heterogeneous-effect :class:`~causalkit.effect.Effect` (its
        treatment, outcome and covariates say how to refit the DR-learner when
        needed).
    data
        The rows the effect was estimated on.
    on
        Covariates to project on (default: the effect's covariates). They need
        not be among the learner's covariates.
    cov_type
        ``HC0``-``HC3`` robust covariance (default ``HC2``) or ``nonrobust``.
    signal
        ``"dr"`` (default): regress DR pseudo-outcomes, as Semenova &
        Chernozhukov. ``"cate"``: regress the fitted CATE itself (descriptive
        only; its SEs ignore the CATE model's estimation error).
    **dr_options
        Passed to ``dr_learner`` when it must be refitted (models, cv, ...).
    """
    alpha = check_alpha(alpha)
    if signal not in ("dr", "cate"):
        raise OptionError(f"signal must be 'dr' or 'cate', got {signal!r}")
    if cov_type == "cluster":
        raise OptionError("cate_summary supports HC0-HC3 or nonrobust covariances")
    if effect.treatment is None or effect.outcome is None:
        raise RoleError("cate_summary needs an Effect that records its treatment and outcome")
    terms = as_column_list(on) if on is not None else list(effect.covariates)
    if not terms:
        raise RoleError("cate_summary needs at least one covariate to project on (on=[...])")
    frame = check_frame(data, roles={"covariates": terms})
    require_varies(frame, terms)
    phi, source = _signal(effect, frame, signal, **dr_options)
    Z = np.column_stack([np.ones(len(frame)), frame[terms].to_numpy(dtype=float)])
    coef = fit_coefficient(phi, Z, index=0, cov_type=cov_type)
    params, bse = np.asarray(coef.results.params), np.asarray(coef.results.bse)
    rows = []
    for name, b, se in zip(["intercept", *terms], params, bse):
        w = wald(b, se, alpha=alpha, df=coef.df)
        rows.append({"term": name, "estimate": float(b), "std_error": float(se),
                     "statistic": w.statistic, "p_value": w.p_value, "ci_low": w.ci_low,
                     "ci_high": w.ci_high})
    table = pd.DataFrame(rows).set_index("term")
    return CateSummary(table=table, signal=source, inference=f"OLS, {coef.inference}",
                       n_obs=len(frame), alpha=alpha)


__all__ = ["CateSummary", "cate_summary"]
