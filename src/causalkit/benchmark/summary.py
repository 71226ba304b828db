"""Summaries of benchmark fits: bias, RMSE, coverage, CI width, time, failures.

Example
-------
>>> import pandas as pd
>>> fits = pd.DataFrame({"dataset": ["d"] * 2, "method": ["m"] * 2, "estimand": ["ATE"] * 2,
...     "truth": [1.0, 1.0], "estimate": [1.5, 0.5], "ci_low": [0.0, 0.9], "ci_high": [2.0, 1.1],
...     "covered": [1.0, 0.0], "ci_width": [2.0, 0.2], "time_s": [0.1, 0.3],
...     "error": [None, None], "error_type": [None, None]})
>>> row = summarize(fits).iloc[0]
>>> float(row["bias"]), float(row["rmse"]), float(row["coverage"])
(0.0, 0.5, 0.5)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["dataset", "method", "estimand", "n_fits", "n_failed", "truth",
                   "mean_estimate", "bias", "rmse", "coverage", "coverage_mcse",
                   "mean_ci_width", "median_time_s", "failures"]


def _group_summary(g: pd.DataFrame) -> dict:
    ok = g[g["error"].isna()]
    failed = g[g["error"].notna()]
    est, truth = ok["estimate"].astype(float), ok["truth"].astype(float)
    err = est - truth
    cov = ok["covered"].astype(float).dropna()
    n_cov = len(cov)
    coverage = float(cov.mean()) if n_cov else np.nan
    messages = failed["error_type"].fillna("") + ": " + failed["error"].astype(str)
    top = messages.value_counts()
    return {
        "n_fits": len(g), "n_failed": len(failed),
        "truth": float(truth.mean()) if len(ok) else np.nan,
        "mean_estimate": float(est.mean()) if len(ok) else np.nan,
        "bias": float(err.mean()) if err.notna().any() else np.nan,
        "rmse": float(np.sqrt((err**2).mean())) if err.notna().any() else np.nan,
        "coverage": coverage,
        "coverage_mcse": float(np.sqrt(coverage * (1 - coverage) / n_cov)) if n_cov else np.nan,
        "mean_ci_width": float(ok["ci_width"].astype(float).mean()) if len(ok) else np.nan,
        "median_time_s": float(g["time_s"].astype(float).median()),
        "failures": "; ".join(f"{m} (x{c})" for m, c in top.head(3).items()) or "",
    }


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, method, estimand) of a benchmark's per-fit table.

    ``bias`` and ``rmse`` are of estimate minus truth over successful fits;
    ``coverage`` is the share of intervals containing the truth, with its Monte
    Carlo standard error ``sqrt(c (1 - c) / n)``; ``failures`` lists the most
    frequent error messages with their counts.
    """
    if results is None or len(results) == 0:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    frame = results.copy()
    frame["estimand"] = frame["estimand"].fillna("-")
    rows = []
    for (dataset, method, estimand), g in frame.groupby(["dataset", "method", "estimand"],
                                                        sort=False, dropna=False):
        rows.append({"dataset": dataset, "method": method, "estimand": estimand,
                     **_group_summary(g)})
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    return out.sort_values(["dataset", "method"], kind="stable").reset_index(drop=True)
