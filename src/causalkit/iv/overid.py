"""Over-identification test of the instruments' exclusion (more instruments than treatments).

Sargan's (1958) ``n R^2`` test under homoskedasticity and Wooldridge's (1995)
heteroskedasticity-robust score test otherwise, as computed by linearmodels
on a fitted IV model.  A small p-value says that not every instrument can be
valid; it has no power against all instruments being invalid the same way.

Example
-------
>>> import numpy as np, pandas as pd
>>> from linearmodels.iv import IV2SLS
>>> rng = np.random.default_rng(0); n = 400
>>> z = rng.normal(size=(n, 2)); d = z.sum(1) + rng.normal(size=n); y = d + rng.normal(size=n)
>>> res = IV2SLS(y, np.ones((n, 1)), d, z).fit()
>>> t = overidentification_test(res, robust=True)
>>> t["df"], 0 <= t["p_value"] <= 1
(1, True)
"""

from __future__ import annotations

from typing import Any


def overidentification_test(results: Any, robust: bool = True) -> dict[str, Any]:
    """Statistic, p-value, degrees of freedom and name of the over-identification test."""
    test = results.wooldridge_overid if robust else results.sargan
    return {"statistic": float(test.stat), "p_value": float(test.pval), "df": int(test.df),
            "name": "Wooldridge robust score" if robust else "Sargan"}
