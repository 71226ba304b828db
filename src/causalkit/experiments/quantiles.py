"""Quantile treatment effects: the difference of an arm's quantile from the control's.

The ``q``-quantile of an arm is its order statistic ``x_(k)``, ``k = ceil(n q)``
(the inverse of the empirical CDF, which is also what a quantile regression on
the arm indicator returns).  Two intervals are reported:

* **asymptotic**: ``Var(xi_hat) = q (1 - q) / (n f(xi)^2)`` per arm (Koenker
  2005, sec. 3.4), with the density ``f`` at the quantile from an
  Epanechnikov kernel on the arm's values and the Hall–Sheather (1988)
  bandwidth in quantile space, scaled by ``min(sd, IQR / 1.34)`` (the rule
  statsmodels' ``QuantReg`` uses, applied per arm so that arms with
  different spreads get their own density); z test and Wald interval;
* **bootstrap** (percentile interval and bootstrap SE, fixed ``random_state``):
  the bootstrap ``k``-th order statistic of a resample of ``n`` values is
  drawn exactly as ``x_(ceil(n B))`` with ``B ~ Beta(k, n - k + 1)`` (the
  ``k``-th of ``n`` uniform order statistics), so ``n_boot`` replicates cost
  ``O(n_boot)`` after one sort, whatever the number of rows; the arms are
  resampled independently.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"arm": np.repeat([0, 1], 2000),
...                    "y": np.r_[rng.exponential(1, 2000), rng.exponential(1.3, 2000)]})
>>> t = quantile_effect(df, "arm", "y", q=[0.5, 0.9]).table
>>> t[["q", "estimate"]].round(2).values.tolist()
[[0.5, 0.21], [0.9, 0.72]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EmptyArmError, OptionError
from ..inference import check_alpha, p_values
from ..validation import check_frame
from .control import resolve_control
from .stats import factorize

__all__ = ["QuantileEffect", "quantile_effect", "quantile_density"]


def _hall_sheather(n: int, q: float, alpha: float = 0.05) -> float:
    z = stats.norm.ppf(q)
    return float(n ** (-1 / 3) * stats.norm.ppf(1 - alpha / 2) ** (2 / 3)
                 * (1.5 * stats.norm.pdf(z) ** 2 / (2 * z * z + 1)) ** (1 / 3))


def _order_quantile(sorted_x: np.ndarray, q: float) -> float:
    k = max(1, int(math.ceil(len(sorted_x) * q - 1e-12)))
    return float(sorted_x[k - 1])


def quantile_density(sorted_x: np.ndarray, q: float) -> float:
    """Kernel density (Epanechnikov, Hall–Sheather bandwidth) of a sample at its ``q``-quantile.

    >>> x = np.sort(np.random.default_rng(1).normal(size=20000))
    >>> round(quantile_density(x, 0.5), 2)   # 1 / sqrt(2 pi) = 0.399
    0.4
    """
    n = len(sorted_x)
    hq = _hall_sheather(n, q)
    hq = min(hq, q * 0.999, (1 - q) * 0.999)
    iqr = _order_quantile(sorted_x, 0.75) - _order_quantile(sorted_x, 0.25)
    scale = min(float(np.std(sorted_x)), iqr / 1.34) if iqr > 0 else float(np.std(sorted_x))
    h = scale * (stats.norm.ppf(q + hq) - stats.norm.ppf(q - hq))
    xi = _order_quantile(sorted_x, q)
    lo, hi = np.searchsorted(sorted_x, [xi - h, xi + h])
    u = (sorted_x[lo:hi] - xi) / h
    return float(np.sum(0.75 * (1 - u * u)) / (n * h)) if h > 0 else math.inf


def _boot(sorted_x: np.ndarray, q: float, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    n = len(sorted_x)
    k = max(1, int(math.ceil(n * q - 1e-12)))
    b = rng.beta(k, n - k + 1, size=n_boot)
    idx = np.clip(np.ceil(n * b).astype(np.int64), 1, n) - 1
    return sorted_x[idx]


@dataclass(frozen=True)
class QuantileEffect:
    """``table``: one row per treatment arm and quantile (asymptotic and bootstrap inference)."""

    table: pd.DataFrame
    control: Any
    alpha: float
    n_boot: int
    random_state: int


def quantile_effect(data: pd.DataFrame, variant: str, column: str,
                    q: float | Sequence[float] = 0.5, control: Any = None, *,
                    alpha: float = 0.05, n_boot: int = 2000, random_state: int = 0
                    ) -> QuantileEffect:
    """Difference in the ``q``-quantile(s) of ``column`` between each arm and the control.

    Returns a :class:`QuantileEffect` whose table has ``estimate``,
    ``std_error`` / ``ci_low`` / ``ci_high`` / ``p_value`` (asymptotic, kernel
    density) and ``boot_se`` / ``boot_ci_low`` / ``boot_ci_high`` (percentile
    bootstrap), plus the relative change of the quantile.
    """
    alpha = check_alpha(alpha)
    qs = [q] if np.isscalar(q) else list(q)  # type: ignore[arg-type]
    for v in qs:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not 0 < v < 1:
            raise OptionError(f"q must be a quantile strictly between 0 and 1, got {v!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise OptionError(f"n_boot must be an integer >= 100, got {n_boot!r}")
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise OptionError(f"random_state must be an integer, got {random_state!r}")
    frame = check_frame(data, roles={"outcome": column}, min_rows=4)
    frame = check_frame(frame, roles={"variant": variant}, numeric=False)
    codes, labels = factorize(frame[variant], variant)
    c, _ = resolve_control(labels, control)
    y = frame[column].to_numpy(dtype=float)
    arms = []
    for g, lab in enumerate(labels):
        x = np.sort(y[codes == g])
        if len(x) < 2:
            raise EmptyArmError(f"arm {lab!r} of {variant!r} has {len(x)} unit(s); "
                                "a quantile comparison needs at least 2 per arm")
        arms.append(x)
    rng = np.random.default_rng(random_state)
    z = stats.norm.isf(alpha / 2)
    rows = []
    for v in qs:
        v = float(v)
        boots = [_boot(x, v, n_boot, rng) for x in arms]
        qc = _order_quantile(arms[c], v)
        vc = v * (1 - v) / (len(arms[c]) * quantile_density(arms[c], v) ** 2)
        for g, lab in enumerate(labels):
            if g == c:
                continue
            qt = _order_quantile(arms[g], v)
            vt = v * (1 - v) / (len(arms[g]) * quantile_density(arms[g], v) ** 2)
            est, se = qt - qc, math.sqrt(vt + vc)
            diff = boots[g] - boots[c]
            stat = est / se if se > 0 else math.nan
            rows.append({"arm": lab, "control": labels[c], "q": v, "n_control": len(arms[c]),
                         "n_treatment": len(arms[g]), "control_quantile": qc,
                         "treatment_quantile": qt, "estimate": est, "std_error": se,
                         "ci_low": est - z * se, "ci_high": est + z * se,
                         "statistic": stat, "p_value": float(p_values(stat)),
                         "boot_se": float(np.std(diff, ddof=1)),
                         "boot_ci_low": float(np.quantile(diff, alpha / 2)),
                         "boot_ci_high": float(np.quantile(diff, 1 - alpha / 2)),
                         "relative": est / qc if qc != 0 else math.nan})
    return QuantileEffect(pd.DataFrame(rows), labels[c], alpha, int(n_boot), int(random_state))
