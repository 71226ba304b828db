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
