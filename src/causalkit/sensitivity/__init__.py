"""How robust an estimate is to unmeasured confounding, and refuters that refit it.

* :func:`evalue` — E-values (VanderWeele & Ding 2017) for RR, OR, HR and SMD;
* :func:`ovb` — omitted-variable bias for linear regression (Cinelli & Hazlett 2020);
* :func:`ovb_dml` — omitted-variable bias for AIPW / DML (Chernozhukov et al. 2022);
* :func:`rosenbaum` — Rosenbaum bounds for matched designs (Rosenbaum 2002);
* :func:`refute` — placebo, random common cause, subset, bootstrap, dummy and
  negative-control refuters that refit the same method with the same options;
* :mod:`~causalkit.sensitivity.plots` — figures for all of them.

:meth:`causalkit.Effect.sensitivity` dispatches to these by name.

Example
-------
>>> import causalkit
>>> from causalkit.sensitivity import evalue
>>> round(evalue(0.80, 0.71, 0.91).point, 2)
1.81
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import OptionError
from ._common import APPLIES_TO, applicable
from .evalue import EValue, effect_evalue, evalue
from .ovb_dml import DMLSensitivity, ovb_dml
from .ovb_regression import OVBResult, ovb
from .refute import Refutation, RefuteResult, refute
from .rosenbaum import rosenbaum, rosenbaum_bounds

__all__ = ["DMLSensitivity", "ovb_dml", "EValue", "OVBResult", "RefuteResult", "Refutation", "refute", "APPLIES_TO", "applicable", "dispatch", "evalue", "ovb", "rosenbaum",
           "rosenbaum_bounds"]


def _kinds() -> dict[str, Callable[..., Any]]:
    return {"evalue": effect_evalue, "ovb": ovb, "ovb_dml": ovb_dml, "rosenbaum": rosenbaum}


def dispatch(effect: Any, kind: str, *args: Any, **kwargs: Any) -> Any:
    """Run the sensitivity analysis ``kind`` on ``effect`` (what :meth:`Effect.sensitivity` calls).

    >>> from causalkit import Effect
    >>> e = Effect.from_estimate(method="ipw", estimand="ATE", estimate=1.0, std_error=0.2)
    >>> round(dispatch(e, "evalue", outcome_sd=2.0).point, 3)
    2.529
    """
    kinds = _kinds()
    if kind not in kinds:
        raise OptionError(f"unknown sensitivity kind {kind!r}; choose from "
                          f"{', '.join(kinds)} (for {effect.method!r}: "
                          f"{', '.join(applicable(effect.method))})")
    return kinds[kind](effect, *args, **kwargs)
