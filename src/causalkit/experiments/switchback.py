"""Switchback experiments (Bojinov, Simchi-Levi & Zhao 2023): schedule, carryover, HT estimate.

A whole system (a city's marketplace) alternates between treatment and
control over time.  :func:`switchback_schedule` splits ``n_periods`` into
blocks of ``block_length`` periods and flips a ``p``-coin per block.  With
carryover of order ``m`` (a period's outcome depends on the current and the
``m`` previous assignments), the estimand is the lag-``m`` effect
``tau = 1/(T - m) sum_{t >= m} [Y_t(1, ..., 1) - Y_t(0, ..., 0)]``, and
:func:`switchback_analysis` uses only periods whose last ``m + 1``
assignments agree (a burn-in of ``m`` periods after every switch), weighted
by the inverse of their exact design probability (Horvitz–Thompson):

    tau_hat = 1/(T - m) sum_t [Y_t 1{W_{t-m:t} = 1} / pi1_t - Y_t 1{W_{t-m:t} = 0} / pi0_t]

with ``pi1_t = p^{b_t}``, ``pi0_t = (1 - p)^{b_t}`` and ``b_t`` the number of
blocks the window ``t-m..t`` touches.  The variance is estimated
conservatively: the treated-treated and control-control terms without bias
from the exact joint probabilities (``p^{|blocks(t) u blocks(s)|}``), and the
treated-control terms, which pair periods that can never be observed
together when their windows share a block, bounded by ``2ab <= a^2 + b^2``
(Aronow & Samii 2017; the bound of Bojinov et al. has this form), so the
interval's coverage is at least nominal when ``m`` is the true carryover.

Example
-------
>>> sch = switchback_schedule(8, block_length=2, random_state=0)
>>> sch.treatment.tolist()
[0, 0, 1, 1, 1, 1, 1, 1]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, OptionError
from ..inference import check_alpha
from ..validation import check_frame

__all__ = ["switchback_analysis", "switchback_schedule"]


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise OptionError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p < 1:
        raise OptionError(f"p (the probability of treatment per block) must be in (0, 1), got {p!r}")
    return float(p)


def switchback_schedule(n_periods: int, block_length: int, p: float = 0.5,
                        random_state: int = 0) -> pd.DataFrame:
    """Randomized switchback schedule: one ``p``-coin per block of ``block_length`` periods.

    Returns ``period``, ``block`` and ``treatment`` (0/1) per period.  Bojinov
    et al. recommend blocks at least as long as the carryover ``m``.
    """
    n = _positive_int(n_periods, "n_periods", 2)
    L = _positive_int(block_length, "block_length")
    p = _check_p(p)
    rng = np.random.default_rng(random_state)
    block = np.arange(n) // L
    w = (rng.random(int(block[-1]) + 1) < p).astype(int)
    return pd.DataFrame({"period": np.arange(n), "block": block, "treatment": w[block]})


def switchback_analysis(data: pd.DataFrame, treatment: str = "treatment", outcome: str = "y",
                        *, block_length: int, carryover: int = 0, p: float = 0.5,
                        period: str = "period", alpha: float = 0.05) -> pd.Series:
    """Horvitz–Thompson lag-``carryover`` effect of a switchback experiment, conservative CI.

    ``data`` has one row per period (sorted by ``period`` here; periods must
    be ``0..T-1``), the schedule's ``treatment`` and the ``outcome``; the
    design (``block_length``, ``p``) gives the exact probabilities.
    """
    alpha = check_alpha(alpha)
    L = _positive_int(block_length, "block_length")
    m = _positive_int(carryover, "carryover", 0)
    p = _check_p(p)
    frame = check_frame(data, roles={"treatment": treatment, "outcome": outcome,
                                     "period": period}).sort_values(period)
    per = frame[period].to_numpy()
    if not np.array_equal(per, np.arange(len(per))):
        raise DataError(f"column {period!r} must hold each period 0..T-1 exactly once")
    w = frame[treatment].to_numpy()
    if not np.isin(w, (0, 1)).all():
        raise DataError(f"treatment column {treatment!r} must be 0/1")
    block = per // L
    if (pd.Series(w).groupby(block).nunique() > 1).any():
        raise DataError(f"treatment changes within a block of {L} periods: not this design")
    y = frame[outcome].to_numpy(dtype=float)
    T = len(y)
    if T <= m:
        raise DataError(f"{T} periods leave none after a carryover of {m}")
    t = np.arange(m, T)
    lo, hi = block[t - m], block[t]
    nb = hi - lo + 1
    pi1, pi0 = p ** nb, (1 - p) ** nb
    win = np.lib.stride_tricks.sliding_window_view(w, m + 1)
    e1, e0 = win.all(axis=1).astype(float), (~win.astype(bool)).all(axis=1).astype(float)
    yt = y[t]
    N = len(t)
    est = float(np.sum(yt * e1 / pi1 - yt * e0 / pi0) / N)
    inter = np.maximum(0, np.minimum(hi[:, None], hi[None, :]) - np.maximum(lo[:, None], lo[None, :]) + 1)
    union = nb[:, None] + nb[None, :] - inter
    var = 0.0
    for q, e, pi in ((p, e1, pi1), (1 - p, e0, pi0)):
        joint = q ** union
        a = yt * e / pi
        var += float(a @ (((joint - np.outer(pi, pi)) / joint) @ a))
    overlap = inter > 0
    var += float(np.sum(overlap.sum(1) * yt ** 2 * e1 / pi1) + np.sum(overlap.sum(0) * yt ** 2 * e0 / pi0))
    var /= N * N
    se = math.sqrt(max(var, 0.0))
    z = stats.norm.isf(alpha / 2)
    return pd.Series({"estimate": est, "std_error": se, "ci_low": est - z * se,
                      "ci_high": est + z * se,
                      "p_value": float(2 * stats.norm.sf(abs(est / se))) if se > 0 else np.nan,
                      "periods_used": int((e1 + e0).sum()), "periods": N, "carryover": m})
