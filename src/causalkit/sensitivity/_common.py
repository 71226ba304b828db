"""What the sensitivity analyses share: which methods each applies to, and the refit.

Every analysis that needs more than the estimate recomputes it from the
effect's recorded call (:attr:`causalkit.Effect.call`: roles, options, alpha)
on the data the user passes, through public functions, and checks that the
recomputation reproduces the recorded estimate before using it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..errors import OptionError, SensitivityNotApplicableError

#: The methods each model-based analysis applies to (the E-value applies to any estimate).
APPLIES_TO: dict[str, tuple[str, ...]] = {
    "ovb": ("regression_adjustment",),
    "ovb_dml": ("aipw", "dr_learner"),
    "rosenbaum": ("propensity_matching",),
}

#: In words, for the error messages.
WHAT: dict[str, str] = {
    "evalue": "evalue (any estimate; E-values, VanderWeele & Ding 2017)",
    "ovb": "ovb (Cinelli & Hazlett 2020) for linear regression: regression_adjustment",
    "ovb_dml": "ovb_dml (Chernozhukov et al. 2022) for a doubly robust score with its "
               "cross-fitted nuisances: aipw (ATE, ATT) and dr_learner (ATE)",
    "rosenbaum": "rosenbaum (Rosenbaum 2002) for matched designs: propensity_matching "
                 "(ATT or ATC; pairs, 1:k, or with replacement as strata of reused controls)",
}


#: Why an analysis does not apply to a method that looks close to those it applies to.
WHY_NOT: dict[tuple[str, str], str] = {
    ("ovb_dml", "causal_forest"): "its ATE is econml's forest average of residual-on-residual "
                                  "scores, not the mean of an AIPW score with per-arm outcome "
                                  "regressions and a propensity; econml's own "
                                  "CausalForestDML.sensitivity_interval bounds the partially "
                                  "linear coefficient E[y_res t_res] / E[t_res^2], a different "
                                  "number",
    ("ovb_dml", "r_learner"): "its ATE is the mean of a CATE fitted on residuals, with no "
                              "per-arm outcome regressions",
    ("ovb_dml", "s_learner"): "its ATE is a plug-in mean of outcome models (no propensity, no "
                              "doubly robust score)",
    ("ovb_dml", "t_learner"): "its ATE is a plug-in mean of outcome models (no propensity, no "
                              "doubly robust score)",
    ("ovb_dml", "x_learner"): "its ATE is a propensity-weighted mean of imputed effects, not a "
                              "doubly robust score",
    ("ovb_dml", "ipw"): "IPW has no outcome regression (the bound needs sigma^2 from it); "
                        "use aipw",
}


def applicable(method: str) -> list[str]:
    """The sensitivity analyses that apply to ``method``.

    >>> applicable("ipw")
    ['evalue']
    >>> applicable("regression_adjustment")
    ['evalue', 'ovb']
    """
    return ["evalue"] + [k for k, methods in APPLIES_TO.items() if method in methods]


def require_method(effect: Any, kind: str) -> None:
    """Raise :class:`SensitivityNotApplicableError` unless ``kind`` applies to the effect."""
    if effect.method in APPLIES_TO[kind]:
        return
    fits = applicable(effect.method)
    why = WHY_NOT.get((kind, effect.method))
    raise SensitivityNotApplicableError(
        f"{WHAT[kind]}; it does not apply to a {effect.method!r} effect"
        + (f" ({why})" if why else "") + f". For "
        f"{effect.method!r} use: " + "; ".join(WHAT[k] for k in fits))


def call_of(effect: Any) -> Mapping[str, Any]:
    """The recorded call of the effect (roles, options, alpha), or a clear error."""
    if effect.call is None:
        raise OptionError(f"this {effect.method!r} effect does not record the call that made "
                          "it (Effect.call); estimate it with causalkit.estimate or the "
                          "registered estimator so that it can be refitted")
    return effect.call


def unweighted_call_of(effect: Any, analysis: str) -> Mapping[str, Any]:
    """:func:`call_of` for an analysis derived for unweighted data only: an effect fitted
    with sampling weights (``weights=``) is a :class:`SensitivityNotApplicableError`, not
    an analysis of the unweighted refit."""
    call = call_of(effect)
    if call.get("weights") is not None:
        raise SensitivityNotApplicableError(
            f"{analysis} is not derived for sampling weights, and this {effect.method!r} "
            f"effect was fitted with weights={call['weights']!r}; the E-value "
            "(causalkit.sensitivity.evalue) works from the weighted estimate itself")
    return call


def refit(effect: Any, data: Any, **overrides: Any) -> Any:
    """Re-run the effect's method with its recorded roles and options on ``data``.

    ``overrides`` replace recorded arguments (e.g. ``outcome=`` for a placebo
    outcome, ``covariates=`` for a leave-one-out benchmark).
    """
    from .. import registry

    call = dict(call_of(effect))
    call.update(overrides)
    spec = registry.get(effect.method)
    return registry.call_estimator(spec.func, (data,), call)


def require_data(data: Any, kind: str) -> Any:
    """``data`` as given, or an error saying the analysis needs the estimation data."""
    if data is None:
        raise OptionError(f"{kind} recomputes the fit: pass data= (the DataFrame the effect "
                          "was estimated on)")
    return data


def check_same_fit(effect: Any, estimate: float, kind: str, tol: float = 1e-6) -> None:
    """Refuse to go on when recomputing the fit does not reproduce the effect's estimate."""
    scale = max(1.0, abs(effect.estimate))
    if not math.isfinite(estimate) or abs(estimate - effect.estimate) > tol * scale:
        raise OptionError(
            f"{kind}: recomputing the {effect.method!r} fit on the data given gives "
            f"{estimate:.8g}, not the effect's estimate {effect.estimate:.8g}; pass the "
            "same data the effect was estimated on")
