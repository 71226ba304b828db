"""Sample-ratio mismatch: is the observed split of units the one that was intended?

A chi-square goodness-of-fit test of the arm counts against the intended
allocation (any number of arms, any split).  A mismatch usually means broken
assignment or logging, which biases every metric, so :func:`srm_check` warns
loudly (a :class:`UserWarning`) when the p-value is below ``threshold``
(0.001 by default, the usual convention: SRM checks run on every experiment).

Example
-------
>>> r = srm_check([50000, 50600])
>>> round(r.statistic, 4), round(r.p_value, 5)
(3.5785, 0.05853)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy import stats

from ..errors import DataError, OptionError


class SampleRatioMismatchWarning(UserWarning):
    """The observed allocation of units differs from the intended one."""


@dataclass(frozen=True)
class SRMResult:
    """Chi-square test of the observed arm counts against the intended split."""

    statistic: float
    p_value: float
    df: int
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    mismatch: bool

    def __str__(self) -> str:
        flag = "MISMATCH" if self.mismatch else "ok"
        return (f"SRM chi2({self.df}) = {self.statistic:.4f}, p = {self.p_value:.4g} [{flag}]; "
                f"observed {list(self.observed)}, expected {[round(e, 1) for e in self.expected]}")


def srm_check(counts: Sequence[int], split: Sequence[float] | None = None,
              threshold: float = 0.001, warn: bool = True, labels: Sequence[Any] | None = None
              ) -> SRMResult:
    """Chi-square sample-ratio-mismatch test; warns when ``p < threshold``.

    Parameters
    ----------
    counts
        Units observed in each arm, whole numbers; an arm that received no
        units is a 0 here (and is a mismatch), never left out.
    split
        Intended allocation (any positive weights, normalized); equal by default.
    threshold
        p-value below which the split is declared a mismatch (0.001).
    warn
        Emit a :class:`SampleRatioMismatchWarning` on a mismatch.
    """
    obs = np.asarray(counts, dtype=float)
    if obs.ndim != 1 or len(obs) < 2:
        raise DataError("SRM check needs the counts of at least two arms")
    if np.any(obs < 0) or not np.all(np.isfinite(obs)) or np.any(obs != np.round(obs)):
        raise DataError(f"arm counts must be whole non-negative numbers, got {list(counts)}")
    if obs.sum() == 0:
        raise DataError(f"every arm has 0 units ({list(counts)}): there is no allocation to check")
    weights = np.ones(len(obs)) if split is None else np.asarray(split, dtype=float)
    if weights.shape != obs.shape:
        raise OptionError(f"split has {weights.size} entries but there are {len(obs)} arms")
    if np.any(weights <= 0):
        raise OptionError(f"split weights must be positive, got {list(weights)}")
    expected = obs.sum() * weights / weights.sum()
    res = stats.chisquare(obs, expected)
    result = SRMResult(statistic=float(res.statistic), p_value=float(res.pvalue),
                       df=len(obs) - 1, observed=tuple(int(c) for c in obs),
                       expected=tuple(float(e) for e in expected),
                       mismatch=bool(res.pvalue < threshold))
    if result.mismatch and warn:
        names = list(labels) if labels is not None else list(range(len(obs)))
        warnings.warn(
            f"SAMPLE RATIO MISMATCH: arms {names} have {list(result.observed)} units but the "
            f"intended split expects {[round(e) for e in expected]} (chi2 = {result.statistic:.2f}, "
            f"p = {result.p_value:.2e} < {threshold}). Assignment or logging is likely broken; "
            "do not trust the metric results until it is explained.",
            SampleRatioMismatchWarning, stacklevel=2)
    return result
