"""Natural direct and indirect effects: the multiply robust estimator of Tchetgen Tchetgen & Shpitser (2012).

For binary A, mediators M, covariates C and ψ(a, b) = E[Y(a, M(b))] =
E_C ∫ E[Y | a, m, C] f(m | b, C) dm, the efficient influence function is

    φ(a, b) = 1{A=a}/π(a|C) · f(M|b,C)/f(M|a,C) · (Y - μ(M,a,C))
              + 1{A=b}/π(b|C) · (μ(M,a,C) - η(a,b,C)) + η(a,b,C) - ψ(a, b),

η(a, b, C) = E[μ(M, a, C) | A = b, C].  The estimator is the mean of φ + ψ; it is
consistent when any two of (outcome, mediator, treatment) models are right.
NDE = ψ(1,0) - ψ(0,0), NIE = ψ(1,1) - ψ(1,0), TE = ψ(1,1) - ψ(0,0); standard
errors from the influence functions.  Identification needs C to block the
A–Y, A–M and M–Y confounding and no mediator–outcome confounder affected by A;
``estimate(..., dag=)`` checks this on the DAG and refuses, naming the
confounder, when it fails.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(1); n = 4000
>>> c = rng.normal(size=n); a = (c + rng.normal(size=n) > 0).astype(int)
>>> m = a + c + rng.normal(size=n); y = 1.5 * a + 2 * m + c + rng.normal(size=n)
>>> df = pd.DataFrame({"a": a, "m": m, "c": c, "y": y})
>>> nde = causalkit.estimate(df, "a", "y", method="mediation", mediators="m",
...                          covariates=["c"], estimand="NDE")
>>> bool(abs(nde.estimate - 1.5) < 0.2)
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import OptionError
from ..inference import weighted_score_mean
from ..registry import register
from ._data import prepare_mediated
from ._mediators import fit_nuisances

ESTIMANDS = ("NDE", "NIE", "TE")


def psi_scores(a: np.ndarray, y: np.ndarray, nu: Any, x: int, b: int) -> np.ndarray:
    """Per-unit uncentred scores whose mean estimates ψ(x, b) = E[Y(x, M(b))]."""
    eta = nu.eta[x][b]
    return ((a == x) / nu.pi(x) * nu.ratio(x, b) * (y - nu.mu[x])
            + (a == b) / nu.pi(b) * (nu.mu[x] - eta) + eta)


@register("mediation", estimand=ESTIMANDS, roles=("treatment", "outcome", "mediators"),
          optional_roles=("covariates", "weights"), uses_adjustment_set=False)
def mediation(data: pd.DataFrame, treatment: str, outcome: str, mediators: Any,
              covariates: Sequence[str] | None = None, weights: str | None = None,
              alpha: float = 0.05,
              estimand: str = "NDE", propensity_model: Any = None, mediator_model: Any = None,
              outcome_model: Any = None, pseudo_outcome_model: Any = None,
              cross_fitting: bool = True, n_folds: int = 5, random_state: Any = 0) -> Effect:
    """Natural direct / indirect / total effect, multiply robust, influence-function SE.

    Parameters
    ----------
    weights
        Column of sampling weights: every nuisance model is fitted weighted and
        the scores are averaged with the weights (weighted influence function).
    estimand
        ``"NDE"`` (default), ``"NIE"`` or ``"TE"``; all three are in the diagnostics.
    propensity_model, mediator_model, outcome_model, pseudo_outcome_model
        As for :func:`causalkit.general.frontdoor.frontdoor`.
    cross_fitting
        ``True`` (default) fits each nuisance model out of fold; ``False`` on all rows.
    n_folds
        Number of cross-fitting folds (default 5).
    random_state
        Seed of the fold split (default 0, fixed: the same call gives the same number).
    """
    if estimand not in ESTIMANDS:
        raise OptionError(f"mediation estimates {', '.join(ESTIMANDS)}, not {estimand!r}")
    d, m, meds = prepare_mediated(data, treatment, outcome, mediators, covariates, weights)
    nu = fit_nuisances(d.t, m, d.y, d.X, locals(), d.w)
    s = {(x, b): psi_scores(d.t, d.y, nu, x, b) for x, b in ((1, 1), (1, 0), (0, 0))}
    contrasts = {"NDE": s[(1, 0)] - s[(0, 0)], "NIE": s[(1, 1)] - s[(1, 0)],
                 "TE": s[(1, 1)] - s[(0, 0)]}
    summary = {}
    for name, phi in contrasts.items():
        est, influence = weighted_score_mean(phi, d.w)
        summary[name] = est
        summary[f"{name}_se"] = float(np.sqrt(influence @ influence) / d.n)
    folds_text = f"{int(n_folds)}-fold cross-fitted" if cross_fitting else "full-sample"
    return Effect.from_estimate(
        method="mediation", estimand=estimand, estimate=summary[estimand],
        std_error=summary[f"{estimand}_se"], alpha=alpha, treatment=treatment,
        outcome=outcome, n_treated=d.n_treated, n_control=d.n_control,
        covariates=tuple(d.covariates),
        inference=f"multiply robust (Tchetgen Tchetgen & Shpitser 2012), influence-function "
                  f"variance, {folds_text} nuisances"
                  + (f"; sampling weights {weights!r}" if weights is not None else ""),
        diagnostics={"mediators": tuple(meds), **summary,
                     "mediator_type": "binary" if nu.binary_mediator else "continuous"})
