"""Effects by segment: per-segment lifts, a heterogeneity test and a Simpson's-paradox alarm.

:func:`segment_effects` runs :func:`~.analyze.analyze` within every segment
(country, platform, new vs returning), adjusts the segments' p-values for
multiplicity (per arm, across segments), and tests whether the effect differs
between segments with Cochran's Q: ``Q = sum_s w_s (theta_s - theta_bar)^2``,
``w_s = 1 / se_s^2``, ``theta_bar`` the inverse-variance mean, ``Q ~ chi2(S -
1)`` under homogeneity, and ``I^2 = max(0, (Q - (S - 1)) / Q)``.

**Simpson's-paradox alarm.**  The pooled comparison mixes segments in the
proportions each arm happened to get.  When those shares differ between arms
(a chi-square test of segment x arm counts with ``p < share_threshold``) the
pooled effect can have the opposite sign of every within-segment effect.  The
alarm is raised (and :class:`SimpsonsParadoxWarning` issued) when the shares
changed and the pooled estimate's sign disagrees with the sign of the
*stratified* estimate (segment effects weighted by the segments' overall
shares: what the pooled effect would be had both arms seen the same mix).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"arm": np.tile([0, 1], 2000), "seg": np.repeat(["a", "b"], 2000)})
>>> df["y"] = rng.normal(0.2 * df.arm * (df.seg == "b"), 1.0)
>>> res = segment_effects(df, "arm", "y", "seg")
>>> bool(res.heterogeneity.loc[0, "p_value"] < 0.05)
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, OptionError
from ..validation import check_frame
from .analyze import analyze
from .multiple import adjust_p

__all__ = ["SegmentResult", "SimpsonsParadoxWarning", "cochran_q", "segment_effects"]


class SimpsonsParadoxWarning(UserWarning):
    """The pooled effect and the segment-mix-corrected effect disagree in sign."""


def cochran_q(estimates: Any, std_errors: Any) -> tuple[float, int, float, float]:
    """Cochran's Q, its degrees of freedom, p-value and I^2 for independent estimates.

    >>> q, df, p, i2 = cochran_q([0.0, 1.0], [0.5, 0.5])
    >>> round(q, 3), df, round(i2, 3)
    (2.0, 1, 0.5)
    """
    est = np.asarray(estimates, dtype=float)
    se = np.asarray(std_errors, dtype=float)
    ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
    est, w = est[ok], 1.0 / se[ok] ** 2
    k = len(est)
    if k < 2:
        return np.nan, max(k - 1, 0), np.nan, np.nan
    mean = float(np.sum(w * est) / np.sum(w))
    q = float(np.sum(w * (est - mean) ** 2))
    i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    return q, k - 1, float(stats.chi2.sf(q, k - 1)), i2


@dataclass(frozen=True)
class SegmentResult:
    """``table`` (segment x arm rows with ``p_adjusted`` across segments), ``heterogeneity``
    (Cochran's Q per arm), ``pooled`` (the unsegmented analysis table) and ``simpson``
    (pooled vs stratified estimate, the segment-share test and the alarm, per arm)."""

    table: pd.DataFrame
    heterogeneity: pd.DataFrame
    pooled: pd.DataFrame
    simpson: pd.DataFrame


def segment_effects(data: pd.DataFrame, variant: str, metric: Any, segment: str,
                    control: Any = None, *, alpha: float = 0.05, correction: str = "holm",
                    share_threshold: float = 0.001, **options: Any) -> SegmentResult:
    """Per-segment effects of one metric, Cochran's Q per arm and the Simpson's-paradox alarm.

    ``metric`` is a column name or a :class:`~.metrics.Metric`; ``options``
    go to :func:`~.analyze.analyze` (every segment's own SRM check is
    skipped: arms' segment shares are tested here instead).
    """
    frame = check_frame(data, roles={"segment": segment}, numeric=False)
    if segment == variant:
        raise OptionError("segment and variant must be different columns")
    if not 0 < share_threshold < 1:
        raise OptionError(f"share_threshold must be in (0, 1), got {share_threshold!r}")
    pooled = analyze(frame, variant, metric, control, alpha=alpha, correction="none", **options)
    ctrl = pooled.control
    levels = list(pd.unique(frame[segment]))
    if len(levels) < 2:
        raise DataError(f"segment column {segment!r} has a single value; nothing to compare")
    parts = []
    for lev in levels:
        sub = frame[frame[segment] == lev]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # the shares are tested below, once
            t = analyze(sub, variant, metric, ctrl, alpha=alpha, correction="none",
                        srm_threshold=1e-300, **options).table
        parts.append(t.assign(segment=lev))
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "segment", table.pop("segment"))
    table["p_adjusted"] = np.nan
    for _, idx in table.groupby("arm", sort=False).indices.items():
        table.loc[table.index[idx], "p_adjusted"] = adjust_p(table["p_value"].to_numpy()[idx],
                                                            correction)
    counts = pd.crosstab(frame[segment], frame[variant])
    share = counts.sum(axis=1) / counts.to_numpy().sum()
    het, simp = [], []
    for arm, g in table.groupby("arm", sort=False):
        q, df, p, i2 = cochran_q(g["estimate"], g["std_error"])
        het.append({"arm": arm, "q": q, "df": df, "p_value": p, "i2": i2})
        sub = counts[[ctrl, arm]].to_numpy()
        share_p = float(stats.chi2_contingency(sub, correction=False)[1])
        w = share.loc[g["segment"]].to_numpy()
        strat = float(np.sum(w * g["estimate"].to_numpy()) / np.sum(w))
        pooled_est = float(pooled.table.loc[pooled.table["arm"] == arm, "estimate"].iloc[0])
        alarm = bool(share_p < share_threshold and np.sign(pooled_est) != np.sign(strat)
                     and strat != 0)
        simp.append({"arm": arm, "pooled": pooled_est, "stratified": strat,
                     "share_p_value": share_p, "alarm": alarm})
        if alarm:
            warnings.warn(f"Simpson's paradox for arm {arm!r}: the pooled effect ({pooled_est:.4g}) "
                          f"and the segment-mix-corrected effect ({strat:.4g}) have opposite "
                          f"signs, and the {segment!r} shares differ between arms "
                          f"(p = {share_p:.2g}); trust the within-segment effects",
                          SimpsonsParadoxWarning, stacklevel=2)
    return SegmentResult(table, pd.DataFrame(het), pooled.table, pd.DataFrame(simp))
