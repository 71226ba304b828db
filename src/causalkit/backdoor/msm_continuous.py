"""Marginal structural model for a continuous treatment, fitted by stabilized IPW.

Hernán & Robins, *Causal Inference: What If* (2020), section 12.4 and Program 12.4.
The stabilized weight of unit ``i`` is

    SW_i = f(A_i | V_i) / f(A_i | X_i),

both densities normal with a linear mean (OLS) and the residual standard deviation
(``summary(glm)$sigma``): the denominator given the confounders ``X``, the numerator
given the (optional) stabilizing covariates ``V`` (none by default: the marginal
normal density of ``A``).  The MSM ``E[Y^a] = b0 + b1 a + ... + b_d a^d`` is a weighted
least-squares fit of ``Y`` on the powers of ``A`` with those weights; its standard
errors are the HC0 sandwich, as the book's ``geeglm(..., corstr="independence")``.
They treat the weights as known, which is conservative for IPW (Robins et al. 2000).

The headline ``estimate`` is ``b1``, the coefficient of the linear term; the whole
coefficient table is in ``diagnostics["coefficients"]`` and the implied curve
``E[Y^a]`` on a grid of doses, with delta-method intervals, in
``diagnostics["curve"]``.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=2000); a = x + rng.normal(size=2000)
>>> df = pd.DataFrame({"a": a, "x": x, "y": 1 + 0.5 * a + x + rng.normal(size=2000)})
>>> eff = causalkit.estimate(df, "a", "y", method="msm_continuous", covariates=["x"], degree=1)
>>> bool(abs(eff.estimate - 0.5) < 3 * eff.std_error)
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import OptionError, RoleError
from ..inference import check_alpha, critical_value, wald
from ..linear import fit_coefficient
from ..nuisance import TreatmentDensity
from ..registry import register
from ..validation import as_column_list, prepare_continuous, require_columns, require_finite


def stabilized_weights(a: np.ndarray, X: np.ndarray, V: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(SW, numerator density, denominator density)`` with normal linear densities.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 1)); a = X[:, 0] + rng.normal(size=500)
    >>> sw, num, den = stabilized_weights(a, X)
    >>> bool(abs(sw.mean() - 1) < 0.1)
    True
    """
    den = TreatmentDensity(None, "normal").fit(X, a)
    V = np.empty((len(a), 0)) if V is None else V
    num = TreatmentDensity(None, "normal").fit(V, a)
    f_den = den.density(a, X, den._fitted_mean)
    f_num = num.density(a, V, num._fitted_mean)
    return f_num / f_den, f_num, f_den


def _powers(a: np.ndarray, degree: int) -> np.ndarray:
    return np.column_stack([a ** k for k in range(degree + 1)])


@register("msm_continuous", estimand="MSM", roles=("treatment", "outcome", "covariates"),
          treatment_types=("continuous",))
def msm_continuous(data: pd.DataFrame, treatment: str, outcome: str,
                   covariates: Sequence[str], alpha: float = 0.05, degree: int = 2,
                   numerator_covariates: Sequence[str] | None = None,
                   grid: int | Sequence[float] = 25) -> Effect:
    """Marginal structural model E[Y^a] = b0 + b1 a + ... of a continuous treatment, stabilized IPW.

    Parameters
    ----------
    degree
        Degree of the polynomial MSM in the dose (default 2, What If Program 12.4).
    numerator_covariates
        Covariates ``V`` of the numerator density ``f(A | V)`` (default none); a
        non-empty ``V`` makes the MSM conditional on ``V``, so they are added to the
        MSM as main effects.
    grid
        Doses at which the curve ``E[Y^a]`` is reported: a number of points between
        the 5th and 95th percentiles of the treatment (default 25), or the doses.

    Notes
    -----
    The treatment's point mass (if any) is reported in the diagnostics but not
    refused: the normal density is the book's model.  Use ``dose_response`` for a
    curve that does not assume a polynomial.
    """
    alpha = check_alpha(alpha)
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) \
            or not 1 <= degree <= 5:
        raise OptionError(f"degree must be an integer from 1 to 5, got {degree!r}")
    if not as_column_list(covariates):
        raise RoleError("msm_continuous needs covariates (the confounders of the denominator "
                        "density); with none the weights are 1 and the MSM is a regression")
    d = prepare_continuous(data, treatment, outcome, covariates, method="msm_continuous",
                           point_mass_action="ignore", point_mass_threshold=1.0)
    vnames = as_column_list(numerator_covariates)
    if vnames:
        require_columns(d.frame, vnames, role="numerator covariate")
        require_finite(d.frame, vnames, role="numerator covariate")
    V = d.frame[vnames].to_numpy(float) if vnames else None
    sw, _, _ = stabilized_weights(d.a, d.X, V)
    names = ["intercept"] + [treatment if k == 1 else f"{treatment}^{k}"
                             for k in range(1, degree + 1)] + list(vnames)
    design = _powers(d.a, degree) if V is None else np.column_stack([_powers(d.a, degree), V])
    coef = fit_coefficient(d.y, design, index=1, cov_type="HC0", weights=sw, names=names)
    params, cov = coef.results.params, coef.results.cov_params()
    rows = []
    for name, b, se in zip(names, params, np.sqrt(np.diag(cov))):
        w = wald(b, se, alpha=alpha)
        rows.append({"term": name, "estimate": float(b), "std_error": float(se),
                     "ci_low": w.ci_low, "ci_high": w.ci_high, "p_value": w.p_value})
    lo_q, hi_q = np.quantile(d.a, [0.05, 0.95])
    doses = (np.linspace(float(lo_q), float(hi_q), int(grid))
             if isinstance(grid, (int, np.integer)) and not isinstance(grid, bool)
             else np.asarray(grid, dtype=float))
    if doses.ndim != 1 or doses.size < 1 or not np.all(np.isfinite(doses)):
        raise OptionError("grid must be a number of points (>= 1) or a list of finite doses")
    P = _powers(doses, degree)
    k = degree + 1
    curve_v = np.zeros(len(doses)) if V is None else np.full(len(doses), V.mean(0) @ params[k:])
    value = P @ params[:k] + curve_v
    G = P if V is None else np.column_stack([P, np.tile(V.mean(0), (len(doses), 1))])
    se_curve = np.sqrt(np.einsum("ij,jk,ik->i", G, cov, G))
    z = critical_value(alpha)
    curve = pd.DataFrame({"dose": doses, "estimate": value, "std_error": se_curve,
                          "ci_low": value - z * se_curve, "ci_high": value + z * se_curve})
    diagnostics: dict[str, Any] = dict(
        d.diagnostics, coefficients=pd.DataFrame(rows).set_index("term"), curve=curve,
        weights=sw, weight_mean=float(sw.mean()), weight_sd=float(sw.std(ddof=1)),
        weight_min=float(sw.min()), weight_max=float(sw.max()), degree=int(degree))
    return Effect.from_estimate(
        method="msm_continuous", estimand="MSM", estimate=coef.estimate,
        std_error=coef.std_error, alpha=alpha, treatment=treatment, outcome=outcome,
        n_obs=d.n, covariates=tuple(d.covariates),
        inference=(f"coefficient of {treatment} in the degree-{degree} MSM; stabilized normal "
                   "density weights; HC0 sandwich (weights treated as known)"),
        diagnostics=diagnostics)
