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
                   "mean_estimate", "bias", "abs_bias", "rmse", "coverage", "coverage_mcse",
                   "mean_ci_width", "pehe_in", "pehe_in_se", "pehe_out", "pehe_out_se",
                   "policy_risk_in", "policy_risk_out", "abs_ate_error", "abs_ate_error_se",
                   "median_time_s", "peak_mem_mb", "failures"]


def _mean_se(values: pd.Series) -> tuple[float, float]:
    """Mean and its standard error (``sd / sqrt(n)``) of the finite values; NaN if none."""
    v = pd.to_numeric(values, errors="coerce").astype(float)
    v = v[np.isfinite(v)]
    if not len(v):
        return np.nan, np.nan
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else np.nan


def _cate_summary(ok: pd.DataFrame) -> dict:
    out = {}
    for col in ("pehe_in", "pehe_out"):
        out[col], out[f"{col}_se"] = _mean_se(ok[col]) if col in ok else (np.nan, np.nan)
    for col in ("policy_risk_in", "policy_risk_out"):
        out[col] = _mean_se(ok[col])[0] if col in ok else np.nan
    errors = ok["ate_error"].abs() if "ate_error" in ok else pd.Series(dtype=float)
    out["abs_ate_error"], out["abs_ate_error_se"] = _mean_se(errors)
    return out


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
        "abs_bias": float(abs(err.mean())) if err.notna().any() else np.nan,
        "rmse": float(np.sqrt((err**2).mean())) if err.notna().any() else np.nan,
        "coverage": coverage,
        "coverage_mcse": float(np.sqrt(coverage * (1 - coverage) / n_cov)) if n_cov else np.nan,
        "mean_ci_width": float(ok["ci_width"].astype(float).mean()) if len(ok) else np.nan,
        **_cate_summary(ok),
        "median_time_s": float(g["time_s"].astype(float).median()),
        "peak_mem_mb": (float(pd.to_numeric(ok["peak_mem_mb"]).max())
                        if "peak_mem_mb" in ok and ok["peak_mem_mb"].notna().any() else np.nan),
        "failures": "; ".join(f"{m} (x{c})" for m, c in top.head(3).items()) or "",
    }


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, method, estimand) of a benchmark's per-fit table.

    ``bias`` and ``rmse`` are of estimate minus truth over successful fits;
    ``coverage`` is the share of intervals containing the truth, with its Monte
    Carlo standard error ``sqrt(c (1 - c) / n)``; ``pehe_in`` / ``pehe_out``
    are the mean sqrt(PEHE) in and out of sample with their standard errors,
    ``policy_risk_*`` the mean policy regret, ``abs_ate_error`` the mean
    absolute error of the average effect (Shalit et al.'s epsilon_ATE),
    ``peak_mem_mb`` the largest traced peak of a fit; ``n_fits`` and
    ``n_failed`` count fits and failures, ``failures`` lists the most frequent
    error messages with their counts.
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
