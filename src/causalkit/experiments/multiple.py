"""Multiple-testing corrections (Bonferroni, Holm, Benjamini–Hochberg) via statsmodels.

Example
-------
>>> adjust_p([0.01, 0.04, 0.03], "holm").round(2).tolist()
[0.03, 0.06, 0.06]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from statsmodels.stats.multitest import multipletests

from ..errors import OptionError

#: our names -> statsmodels ``multipletests`` method names
METHODS = {"none": None, "bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh",
           "fdr_bh": "fdr_bh", "by": "fdr_by"}


def adjust_p(p_values: Any, method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family of hypotheses.

    ``method`` is ``"none"``, ``"bonferroni"``, ``"holm"`` (family-wise error),
    ``"bh"`` (Benjamini–Hochberg false discovery rate) or ``"by"``
    (Benjamini–Yekutieli).  NaN p-values are left out of the family and stay NaN.

    >>> adjust_p([.001, .008, .039, .041, .042, .060, .074, .205], "bh").round(4).tolist()
    [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.0846, 0.205]
    """
    if method not in METHODS:
        raise OptionError(f"correction must be one of {', '.join(METHODS)}, got {method!r}")
    p = np.asarray(p_values, dtype=float)
    out = p.copy()
    ok = np.isfinite(p)
    if METHODS[method] is None or ok.sum() <= 1:      # a family of one needs no adjustment
        return out
    out[ok] = multipletests(p[ok], method=METHODS[method])[1]
    return out


def holm_across_families(p_values: Any, families: list[Any]) -> np.ndarray:
    """Holm's step-down over families whose members are already adjusted within the family.

    Each family (an index array into ``p_values``) is tested by its smallest
    adjusted p-value; families are ordered by it and the ``r``-th of ``F``
    multiplies by ``F - r + 1`` (Bonferroni over the families not yet
    rejected), with the running maximum of Holm.  Every member of a family
    gets ``max(running maximum before its family, (F - r + 1) p)``.  With
    one-member families this is Holm's procedure.  NaN stays NaN.

    >>> holm_across_families([0.01, 0.04, 0.03], [[0], [1], [2]]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = p.copy()
    fams = [np.asarray(f, dtype=int) for f in families]
    fams = [f[np.isfinite(p[f])] for f in fams]
    fams = [f for f in fams if len(f)]
    order = sorted(fams, key=lambda f: float(p[f].min()))
    running = 0.0
    for r, f in enumerate(order):
        mult = len(order) - r
        out[f] = np.minimum(1.0, np.maximum(running, mult * p[f]))
        running = max(running, float(out[f].min()))
    return out
