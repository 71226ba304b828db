"""What every peer adapter shares: the lazy import, the data, the nuisance models, the Effect.

Example
-------
>>> peer_status()["econml"].startswith("installed")
True
"""

from __future__ import annotations

import importlib
import math
from importlib import metadata
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone

from ...effect import Effect
from ...errors import CausalKitError, OptionError
from ...validation import PreparedData, prepare

#: Peer library -> the PyPI package its adapters need.
PEER_PACKAGES = {"econml": "econml", "doubleml": "doubleml", "dowhy": "dowhy",
                 "causalml": "causalml"}


class PeerUnavailableError(CausalKitError, ImportError):
    """The peer library an adapter wraps is not installed (or cannot be imported)."""


def peer_status() -> dict[str, str]:
    """``library -> "installed <version>"`` or ``"not installed"`` (without importing it)."""
    out = {}
    for library, package in PEER_PACKAGES.items():
        try:
            out[library] = f"installed {metadata.version(package)}"
        except metadata.PackageNotFoundError:
            out[library] = "not installed"
    return out


def peer_import(module: str) -> Any:
    """Import ``module`` of a peer library, or raise :class:`PeerUnavailableError`."""
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except Exception as err:  # ImportError, or a peer that breaks on import
        what = ("is not installed" if isinstance(err, ModuleNotFoundError) and
                (err.name or "").split(".")[0] == top else
                f"cannot be imported ({type(err).__name__}: {err})")
        raise PeerUnavailableError(
            f"the {top} adapters need the {PEER_PACKAGES.get(top, top)!r} package, which "
            f"{what}: pip install {PEER_PACKAGES.get(top, top)} (or causalkit[peers])") from None


def nuisance(model: Any, kind: str) -> Any:
    """A fresh copy of ``model``, or causalkit's learners' default ``kind`` model.

    ``kind`` is ``"regressor"`` (outcome) or ``"classifier"`` (propensity): the
    histogram gradient boosting the causalkit learners use by default, so peers
    and causalkit are scored with the same nuisance models.
    """
    # the learners' defaults, so both sides of the scoreboard share them
    from ...nuisance import default_classifier, default_regressor

    if model is None:
        return default_regressor() if kind == "regressor" else default_classifier()
    if not hasattr(model, "fit"):
        raise OptionError(f"the {kind} must be a scikit-learn estimator with fit(), got "
                          f"{model!r}")
    return clone(model)


def prepared(data: Any, treatment: str, outcome: str,
             covariates: Sequence[str] | None) -> PreparedData:
    """Validated arrays (causalkit's own checks, so bad input fails the same way)."""
    return prepare(data, treatment, outcome, covariates)


def check_estimand(method: str, estimand: str, allowed: Sequence[str]) -> str:
    if estimand not in allowed:
        raise OptionError(f"method {method!r} estimates {', '.join(allowed)}, not {estimand!r}")
    return estimand


def peer_effect(*, method: str, estimand: str, estimate: float, std_error: float,
                ci: tuple[float, float] | None, alpha: float, d: PreparedData, inference: str,
                p_value: float | None = None, cate: np.ndarray | None = None,
                cate_predictor: Callable[[Any], np.ndarray] | None = None,
                diagnostics: dict[str, Any] | None = None) -> Effect:
    """An :class:`Effect` carrying the peer's own SE and interval (NaN when it gives none)."""
    estimate, std_error = float(estimate), float(std_error)
    low, high = (float(ci[0]), float(ci[1])) if ci is not None else (math.nan, math.nan)
    statistic = estimate / std_error if std_error > 0 and math.isfinite(std_error) else math.nan
    if p_value is None:
        p_value = (float(2 * stats.norm.sf(abs(statistic))) if math.isfinite(statistic)
                   else math.nan)
    return Effect(method=method, estimand=estimand, estimate=estimate, std_error=std_error,
                  ci_low=low, ci_high=high, alpha=float(alpha), p_value=float(p_value),
                  statistic=statistic, treatment=d.treatment, outcome=d.outcome,
                  n_treated=d.n_treated, n_control=d.n_control, covariates=tuple(d.covariates),
                  inference=inference, diagnostics=diagnostics or {}, cate=cate,
                  cate_predictor=cate_predictor)


def predictor(covariates: Sequence[str], effect: Callable[[np.ndarray], Any]
              ) -> Callable[[Any], np.ndarray]:
    """``new_data -> CATE`` on the fitted covariates, for ``Effect.predict_cate``."""
    cols = list(covariates)

    def predict(new_data: Any) -> np.ndarray:
        frame = new_data if isinstance(new_data, pd.DataFrame) else pd.DataFrame(new_data)
        return np.asarray(effect(frame[cols].to_numpy(dtype=float)), dtype=float).ravel()

    return predict


def z_value(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


#: numpydoc help of the options the adapters share (``causalkit methods NAME`` prints it).
OPTION_HELP = {
    "outcome_model": "scikit-learn regressor for the outcome (default: causalkit's learners' "
                     "histogram gradient boosting)",
    "propensity_model": "scikit-learn classifier for the propensity (default: causalkit's "
                        "learners' histogram gradient boosting)",
    "random_state": "seed of the peer's cross-fitting, forests and bootstraps",
    "estimand": "the estimand reported (CATE: the same average, per-unit effects in "
                "Effect.cate)",
    "n_bootstrap": "bootstrap refits for the peer's own interval (0: no interval)",
    "n_estimators": "number of trees of the forest",
    "n_folds": "cross-fitting folds",
}


def with_parameters(func: Callable[..., Any]) -> Callable[..., Any]:
    """Append a numpydoc Parameters section for the shared options ``func`` takes.

    >>> def f(data, outcome_model=None):
    ...     "Fit."
    >>> with_parameters(f).__doc__.splitlines()[-2]
    'outcome_model'
    """
    import inspect

    names = [n for n in inspect.signature(func).parameters if n in OPTION_HELP]
    func.__doc__ = ((inspect.getdoc(func) or "") + "\n\nParameters\n----------\n"
                    + "\n".join(f"{n}\n    {OPTION_HELP[n]}" for n in names))
    return func
