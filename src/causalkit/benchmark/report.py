"""Benchmark output: a Markdown table, CSV files and a PNG figure.

Example
-------
>>> import pandas as pd
>>> print(to_markdown(pd.DataFrame({"method": ["dim"], "bias": [0.01234]})))
| method | bias |
|:--|--:|
| dim | 0.0123 |
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

#: Columns of the printed summary table.
TABLE_COLUMNS = ["dataset", "method", "estimand", "n_fits", "n_failed", "truth", "mean_estimate",
                 "bias", "rmse", "coverage", "coverage_mcse", "mean_ci_width", "median_time_s"]


def _cell(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        if abs(value) >= 10 ** digits:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value).replace("|", "\\|")


def to_markdown(table: pd.DataFrame, columns: Sequence[str] | None = None,
                digits: int = 3) -> str:
    """A pipe table of ``table`` (numbers right-aligned, ``digits`` significant digits)."""
    cols = [c for c in (columns or table.columns) if c in table.columns]
    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in cols]
    lines = ["| " + " | ".join(cols) + " |",
             "|" + "|".join("--:" if num else ":--" for num in numeric) + "|"]
    for _, row in table[cols].iterrows():
        lines.append("| " + " | ".join(_cell(row[c], digits) for c in cols) + " |")
    return "\n".join(lines)


def plot(results: pd.DataFrame, path: str | Path | None = None, max_points: int = 200) -> Any:
    """Estimates with their mean CI per method, one panel per dataset, truth marked.

    Each panel shows every replication's estimate (dots), the mean estimate
    with the average confidence interval (bar) and the true value of the
    method's estimand (red dashed segment).
    Returns the matplotlib figure; saves it as PNG when ``path`` is given.
    """
    import matplotlib.pyplot as plt

    ok = results[results["error"].isna()] if len(results) else results
    names = list(dict.fromkeys(ok["dataset"])) if len(ok) else []
    ncol = min(3, max(1, len(names)))
    nrow = max(1, math.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 0.5 + 2.6 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, names):
        sub = ok[ok["dataset"] == name]
        methods = list(dict.fromkeys(sub["method"]))
        for i, m in enumerate(methods):
            fits = sub[sub["method"] == m]
            pts = fits["estimate"].to_numpy(float)[:max_points]
            jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(pts))
            ax.scatter(pts, i + jitter, s=4, alpha=0.25, color=f"C{i}")
            ax.errorbar(fits["estimate"].mean(), i, color="black", capsize=3, fmt="o", ms=3,
                        xerr=[[fits["estimate"].mean() - fits["ci_low"].mean()],
                              [fits["ci_high"].mean() - fits["estimate"].mean()]])
            truth = fits["truth"].dropna()
            if len(truth):  # the truth of this method's estimand (ATE, ATT, ...)
                ax.plot([truth.mean()] * 2, [i - 0.4, i + 0.4], color="red", ls="--", lw=1.2)
        ax.set_ylim(-0.6, len(methods) - 0.4)
        ax.set_yticks(range(len(methods)), methods, fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle("Estimates (dots), mean estimate with mean CI (bars), truth (red)", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig


def save(result: Any, out_dir: str | Path, figure: bool = True) -> dict[str, str]:
    """Write ``results.csv``, ``summary.csv``, ``summary.md`` and ``benchmark.png``.

    Returns a mapping of what was written to its path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"results": out / "results.csv", "summary": out / "summary.csv",
             "markdown": out / "summary.md"}
    result.results.to_csv(paths["results"], index=False)
    result.summary.to_csv(paths["summary"], index=False)
    paths["markdown"].write_text(to_markdown(result.summary, TABLE_COLUMNS) + "\n")
    if figure:
        paths["figure"] = out / "benchmark.png"
        plot(result.results, paths["figure"])
    return {k: str(v) for k, v in paths.items()}
