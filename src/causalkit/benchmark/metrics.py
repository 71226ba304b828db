"""Per-fit scores beyond the estimate: sqrt(PEHE) in and out of sample, policy risk, ATE error.

* ``sqrt(PEHE)`` (Hill 2011): the root mean squared error of the estimated
  conditional effects, ``sqrt(mean((tau_hat(x) - tau(x))**2))``, on the rows
  fitted (in sample) and on the held-out rows (out of sample; IHDP's 10% test
  split, the CATE design's holdout).
* policy risk: the regret of treating where ``tau_hat(x) > 0`` against the
  oracle policy that treats where ``tau(x) > 0``, ``mean((1[tau > 0] -
  1[tau_hat > 0]) tau)``, in outcome units (with known potential outcomes it
  is the loss in mean outcome of the estimated policy; Shalit et al. 2017
  report ``1 -`` the policy value on Jobs, where only one outcome is seen).
* ATE error: the estimated average effect minus the true ATE of the sample
  (``epsilon_ATE`` when averaged in absolute value).

Example
-------
>>> import numpy as np
>>> sqrt_pehe(np.array([1.0, 3.0]), np.array([1.0, 1.0]))
1.4142135623730951
>>> policy_risk(np.array([1.0, -1.0]), np.array([2.0, -0.5]))
0.0
>>> policy_risk(np.array([-1.0, -1.0]), np.array([2.0, -0.5]))
1.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The CATE scores each fit gets (NaN when the method or dataset has no CATE).
CATE_COLUMNS = ("pehe_in", "pehe_out", "policy_risk_in", "policy_risk_out", "ate_error")


def sqrt_pehe(estimated: np.ndarray, true: np.ndarray) -> float:
    """``sqrt(mean((estimated - true)**2))``."""
    est, tau = np.asarray(estimated, float).ravel(), np.asarray(true, float).ravel()
    return float(np.sqrt(np.mean((est - tau) ** 2)))


def policy_risk(estimated: np.ndarray, true: np.ndarray) -> float:
    """Regret of the policy ``tau_hat > 0`` against the oracle ``tau > 0`` (outcome units)."""
    est, tau = np.asarray(estimated, float).ravel(), np.asarray(true, float).ravel()
    return float(np.mean(((tau > 0).astype(float) - (est > 0).astype(float)) * tau))


def _holdout_cate(effect: Any, dataset: Any) -> np.ndarray | None:
    if dataset.holdout is None or dataset.holdout_cate is None or not len(dataset.holdout):
        return None
    if getattr(effect, "cate_predictor", None) is None:
        return None
    return np.asarray(effect.predict_cate(dataset.holdout), dtype=float).ravel()


def cate_scores(effect: Any, dataset: Any) -> dict[str, float]:
    """The :data:`CATE_COLUMNS` of one fit (NaN where they cannot be computed)."""
    out = dict.fromkeys(CATE_COLUMNS, math.nan)
    ate = dataset.truth.get("ATE")
    if ate is not None and effect.estimand in ("ATE", "CATE"):
        out["ate_error"] = float(effect.estimate) - float(ate)
    cate = getattr(effect, "cate", None)
    if dataset.cate is not None and cate is not None and len(cate) == len(dataset.cate):
        out["pehe_in"] = sqrt_pehe(cate, dataset.cate)
        out["policy_risk_in"] = policy_risk(cate, dataset.cate)
    held = _holdout_cate(effect, dataset)
    if held is not None and len(held) == len(dataset.holdout_cate):
        out["pehe_out"] = sqrt_pehe(held, dataset.holdout_cate)
        out["policy_risk_out"] = policy_risk(held, dataset.holdout_cate)
    return out
