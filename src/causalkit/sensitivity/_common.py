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
    "ovb_dml": ("aipw",),
    "rosenbaum": ("propensity_matching",),
}

#: In words, for the error messages.
WHAT: dict[str, str] = {
    "evalue": "evalue (any estimate; E-values, VanderWeele & Ding 2017)",
    "ovb": "ovb (Cinelli & Hazlett 2020) for linear regression: regression_adjustment",
    "ovb_dml": "ovb_dml (Chernozhukov et al. 2022) for the doubly robust ATE: aipw",
    "rosenbaum": "rosenbaum (Rosenbaum 2002) for matched designs: propensity_matching "
                 "without replacement",
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
    raise SensitivityNotApplicableError(
        f"{WHAT[kind]}; it does not apply to a {effect.method!r} effect. For "
        f"{effect.method!r} use: " + "; ".join(WHAT[k] for k in fits))


def call_of(effect: Any) -> Mapping[str, Any]:
    """The recorded call of the effect (roles, options, alpha), or a clear error."""
    if effect.call is None:
        raise OptionError(f"this {effect.method!r} effect does not record the call that made "
                          "it (Effect.call); estimate it with causalkit.estimate or the "
                          "registered estimator so that it can be refitted")
    return effect.call


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
