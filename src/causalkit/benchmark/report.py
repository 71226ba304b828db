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


#: Colours of the truth lines, by estimand (others cycle through ``_EXTRA_COLOURS``).
TRUTH_COLOURS = {"ATE": "red", "ATT": "darkorange", "ATC": "purple", "LATE": "teal",
                 "CATE": "brown"}
_EXTRA_COLOURS = ("olive", "navy", "magenta")


def _truth_colour(estimand: str, seen: list[str]) -> str:
    if estimand in TRUTH_COLOURS:
        return TRUTH_COLOURS[estimand]
    others = [e for e in seen if e not in TRUTH_COLOURS]
    return _EXTRA_COLOURS[others.index(estimand) % len(_EXTRA_COLOURS)]


def _panel(ax: Any, sub: pd.DataFrame, max_points: int) -> None:
    """One dataset: a row per (method, estimand), rows grouped by estimand, a truth line each."""
    sub = sub.assign(estimand=sub["estimand"].fillna("-"))
    estimands = list(dict.fromkeys(sub["estimand"]))
    rows = [(m, e) for e in estimands
            for m in dict.fromkeys(sub.loc[sub["estimand"] == e, "method"])]
    for i, (m, e) in enumerate(rows):
        fits = sub[(sub["method"] == m) & (sub["estimand"] == e)]
        pts = fits["estimate"].to_numpy(float)[:max_points]
        jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(pts))
        ax.scatter(pts, i + jitter, s=4, alpha=0.25, color=f"C{i}")
        mean = fits["estimate"].mean()
        ax.errorbar(mean, i, color="black", capsize=3, fmt="o", ms=3,
                    xerr=[[mean - fits["ci_low"].mean()], [fits["ci_high"].mean() - mean]])
    for e in estimands:  # the truth of each estimand, across the rows that target it
        truth = sub.loc[sub["estimand"] == e, "truth"].dropna()
        if not len(truth):
            continue
        ys = [i for i, (_, re) in enumerate(rows) if re == e]
        ax.plot([truth.mean()] * 2, [min(ys) - 0.45, max(ys) + 0.45], ls="--", lw=1.2,
                color=_truth_colour(e, estimands), label=f"true {e} = {truth.mean():.3g}")
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(range(len(rows)), [f"{m} ({e})" for m, e in rows], fontsize=7)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="best", frameon=False)


def plot(results: pd.DataFrame, path: str | Path | None = None, max_points: int = 200) -> Any:
    """Estimates with their mean CI per method, one panel per dataset, truth per estimand.

    Each panel has one row per method and estimand (labelled ``method
    (ATT)``), grouped by estimand: every replication's estimate (dots) and the
    mean estimate with the average confidence interval (bar).  The true value
    of each estimand is a dashed line across the rows of the methods that
    target it, coloured by estimand (:data:`TRUTH_COLOURS`) and named in the
    panel's legend, so PSM's ATT is not read against the others' ATE.
    Returns the matplotlib figure; saves it as PNG when ``path`` is given.
    """
    import matplotlib.pyplot as plt

    ok = results[results["error"].isna()] if len(results) else results
    names = list(dict.fromkeys(ok["dataset"])) if len(ok) else []
    ncol = min(3, max(1, len(names)))
    nrow = max(1, math.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 0.5 + 2.6 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, names):
        _panel(ax, ok[ok["dataset"] == name], max_points)
        ax.set_title(name, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle("Estimates (dots), mean estimate with mean CI (bars), true value of each "
                 "estimand (dashed)", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig


def check_out_dir(out_dir: str | Path) -> Path:
    """Create ``out_dir`` if needed and make sure files can be written in it.

    Called before a benchmark runs, so that an unwritable ``--out`` fails in a
    second, not after the whole run.  Raises :class:`~causalkit.errors.DataError`
    naming the directory and the reason.

    >>> import tempfile
    >>> check_out_dir(tempfile.mkdtemp()).is_dir()
    True
    """
    import tempfile

    from ..errors import DataError

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".causalkit-write-check-"):
            pass
    except OSError as err:
        raise DataError(f"cannot write the benchmark output to {str(out_dir)!r}: "
                        f"{err.strerror or err}") from None
    return out


def save(result: Any, out_dir: str | Path, figure: bool = True) -> dict[str, str]:
    """Write ``results.csv``, ``summary.csv``, ``summary.md`` and ``benchmark.png``.

    Returns a mapping of what was written to its path.
    """
    out = check_out_dir(out_dir)
    paths = {"results": out / "results.csv", "summary": out / "summary.csv",
             "markdown": out / "summary.md"}
    result.results.to_csv(paths["results"], index=False)
    result.summary.to_csv(paths["summary"], index=False)
    paths["markdown"].write_text(to_markdown(result.summary, TABLE_COLUMNS) + "\n")
    if figure:
        paths["figure"] = out / "benchmark.png"
        plot(result.results, paths["figure"])
    return {k: str(v) for k, v in paths.items()}
