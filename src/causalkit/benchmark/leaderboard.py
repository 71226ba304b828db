"""The leaderboard: Markdown and a self-contained HTML page, with the published figures.

The HTML page has no external resource: sortable tables (a few lines of inline
JavaScript; click a header), and three figures as inline PNG (base64):
sqrt(PEHE) box plots per method, coverage bars with their Monte Carlo error
(+-2 MCSE), and estimate strips with the truth.  The published figures of a
suite (Shalit et al. 2017 Table 1 for IHDP, the experimental benchmark for
LaLonde) are printed beside causalkit's, with the citation.

Example
-------
>>> import pandas as pd
>>> table = pd.DataFrame({"dataset": ["d"], "method": ["m"], "estimand": ["ATE"], "n_fits": [2],
...                       "n_failed": [0], "rmse": [0.1]})
>>> "| d | m | ATE | 2 | 0 | 0.1 |" in to_markdown_leaderboard(table)
True
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .report import to_markdown

#: Columns of the leaderboard tables (those present in the summary).
LEADERBOARD_COLUMNS = ["dataset", "method", "estimand", "n_fits", "n_failed", "truth",
                       "mean_estimate", "bias", "rmse", "coverage", "coverage_mcse",
                       "mean_ci_width", "pehe_in", "pehe_out", "pehe_out_se", "policy_risk_out",
                       "abs_ate_error", "median_time_s", "peak_mem_mb"]


def _group(summary: pd.DataFrame) -> pd.DataFrame:
    """ACIC's settings (``acic2016_<k>``) pooled into one row per method (settings averaged)."""
    acic = summary["dataset"].astype(str).str.startswith("acic2016_")
    if not acic.any():
        return summary
    rows = []
    for (method, estimand), g in summary[acic].groupby(["method", "estimand"], sort=False):
        row = {"dataset": f"acic2016 ({len(g)} settings)", "method": method,
               "estimand": estimand, "n_fits": int(g["n_fits"].sum()),
               "n_failed": int(g["n_failed"].sum())}
        ok = g[g["n_failed"] < g["n_fits"]]
        for col in ("bias", "coverage", "mean_ci_width", "pehe_in", "policy_risk_in",
                    "abs_ate_error", "median_time_s", "peak_mem_mb"):
            if col in ok:
                row[col] = float(ok[col].mean()) if ok[col].notna().any() else np.nan
        if "rmse" in ok:  # RMSE over the settings' single estimates
            row["rmse"] = float(np.sqrt((ok["rmse"] ** 2).mean())) if len(ok) else np.nan
        if "coverage" in ok and ok["coverage"].notna().any():
            c, n = row["coverage"], int(ok["coverage"].notna().sum())
            row["coverage_mcse"] = float(np.sqrt(c * (1 - c) / n))
        rows.append(row)
    return pd.concat([summary[~acic], pd.DataFrame(rows)], ignore_index=True)


def leaderboard_table(summary: pd.DataFrame, rank_by: Sequence[str] = ("pehe_out", "rmse")
                      ) -> pd.DataFrame:
    """The summary ranked within each dataset by the first ``rank_by`` column it has."""
    table = _group(summary)
    key = next((c for c in rank_by if c in table and table[c].notna().any()), "rmse")
    table = table.assign(_k=table[key].abs() if key in table else 0.0)
    table = table.sort_values(["dataset", "_k"], kind="stable", na_position="last")
    cols = [c for c in LEADERBOARD_COLUMNS if c in table
            and (c in ("dataset", "method", "n_fits", "n_failed") or table[c].notna().any())]
    return table[cols].reset_index(drop=True)


def _suites(result: Any) -> list[Any]:
    suites = getattr(result, "suite", None) or []
    return list(suites) if isinstance(suites, (list, tuple)) else [suites]


def _published_md(suite: Any) -> str:
    if suite.published is None:
        return ""
    return (f"\nPublished figures ({suite.citation}):\n\n"
            + to_markdown(suite.published) + "\n")


def timing_line(results: pd.DataFrame, elapsed: float) -> str:
    """How long the fits took: this run's wall time, and the fits' own times summed over
    every row (the stored ones too, so a resumed run still reports the whole work).

    >>> timing_line(pd.DataFrame({"time_s": [1.5, 2.5]}), 3.0)
    '2 fits: this run 3 s of wall time; the fits themselves took 4 s (summed over every fit, stored ones included)'
    """
    total = float(pd.to_numeric(results.get("time_s"), errors="coerce").sum()) \
        if "time_s" in results else float("nan")
    return (f"{len(results)} fits: this run {elapsed:,.0f} s of wall time; the fits themselves "
            f"took {total:,.0f} s (summed over every fit, stored ones included)")


def to_markdown_leaderboard(summary: pd.DataFrame, suites: Sequence[Any] = (),
                            elapsed: float | None = None, rank_by: Sequence[str] | None = None,
                            results: pd.DataFrame | None = None) -> str:
    """The leaderboard as Markdown: our table, then each suite's published figures."""
    rank = rank_by or next((s.rank_by for s in suites), ("pehe_out", "rmse"))
    parts = [to_markdown(leaderboard_table(summary, rank))]
    if elapsed is not None:
        if results is not None:
            parts.append(f"\n{timing_line(results, elapsed)}.")
        else:
            n = int(summary["n_fits"].sum()) if "n_fits" in summary else 0
            parts.append(f"\n{n} fits in {elapsed:,.0f} s.")
    parts += [_published_md(s) for s in suites]
    return "\n".join(p for p in parts if p)


# ---------------------------------------------------------------- figures
def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _pehe_boxes(results: pd.DataFrame) -> str | None:
    import matplotlib.pyplot as plt

    ok = results[results["error"].isna() & results["pehe_in"].notna()]
    if not len(ok):
        return None
    col = "pehe_out" if ok["pehe_out"].notna().any() else "pehe_in"
    methods = list(dict.fromkeys(ok["method"]))
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.35 * len(methods)))
    ax.boxplot([ok.loc[ok["method"] == m, col].dropna() for m in methods], vert=False)
    ax.set_yticks(range(1, len(methods) + 1), methods, fontsize=8)
    ax.set_xlabel(f"sqrt(PEHE), {'out of' if col == 'pehe_out' else 'in'} sample")
    ax.set_title("sqrt(PEHE) per method (all replications)", fontsize=9)
    return _png(fig)


def _coverage_bars(summary: pd.DataFrame) -> str | None:
    import matplotlib.pyplot as plt

    s = summary[summary["coverage"].notna()]
    if not len(s):
        return None
    labels = [f"{m} | {d}" for d, m in zip(s["dataset"], s["method"])]
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.3 * len(s)))
    ax.barh(range(len(s)), s["coverage"], xerr=2 * s["coverage_mcse"].fillna(0), color="C0",
            capsize=2)
    level = 1 - float(summary.attrs.get("alpha", 0.05))
    ax.axvline(level, color="red", ls="--", lw=1, label=f"nominal {level:.0%}")
    ax.set_yticks(range(len(s)), labels, fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("CI coverage (bars: +-2 Monte Carlo SE)")
    ax.legend(fontsize=7, frameon=False)
    return _png(fig)


def _estimate_strips(results: pd.DataFrame) -> str | None:
    from .report import plot

    ok = results[results["error"].isna()]
    if not len(ok):
        return None
    return _png(plot(results))


def _table_html(table: pd.DataFrame, table_id: str) -> str:
    head = "".join(f"<th onclick=\"sortTable('{table_id}', {i})\">{html.escape(c)}</th>"
                   for i, c in enumerate(table.columns))
    body = []
    for _, row in table.iterrows():
        cells = []
        for c in table.columns:
            v = row[c]
            if isinstance(v, (float, np.floating)):
                text = "" if np.isnan(v) else f"{v:.4g}"
                cells.append(f"<td class='num' data-v='{'' if np.isnan(v) else repr(float(v))}'>"
                             f"{text}</td>")
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table id='{table_id}' class='sortable'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


_SCRIPT = """
function sortTable(id, col) {
  const table = document.getElementById(id), body = table.tBodies[0];
  const rows = Array.from(body.rows), asc = table.dataset.col == col && table.dataset.dir != 'asc';
  const key = r => { const c = r.cells[col]; const v = c.dataset.v;
                     return v === undefined ? c.textContent : (v === '' ? Infinity : +v); };
  rows.sort((a, b) => { const x = key(a), y = key(b);
                        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
  rows.forEach(r => body.appendChild(r));
  table.dataset.col = col; table.dataset.dir = asc ? 'asc' : 'desc';
}
"""

_STYLE = """
body { font-family: sans-serif; margin: 2em; } table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 6px; font-size: 13px; } th { cursor: pointer;
background: #eee; } td.num { text-align: right; } figure { margin: 1em 0; } .cite { color: #555;
font-size: 12px; }
"""


def to_html(result: Any, elapsed: float | None = None, title: str = "causalkit leaderboard"
            ) -> str:
    """The self-contained HTML leaderboard of a :class:`BenchmarkResult`."""
    suites = _suites(result)
    rank = next((s.rank_by for s in suites), ("pehe_out", "rmse"))
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    if suites:
        parts.append("<p>Suites: " + "; ".join(html.escape(f"{s.name}: {s.description}")
                                              for s in suites) + "</p>")
    if elapsed is not None:
        parts.append(f"<p>{html.escape(timing_line(result.results, elapsed))}.</p>")
    parts.append(_table_html(leaderboard_table(result.summary, rank), "leaderboard"))
    for i, s in enumerate(suites):
        if s.published is not None:
            parts.append(f"<h2>Published figures: {html.escape(s.name)}</h2>"
                         + _table_html(s.published, f"published{i}")
                         + f"<p class='cite'>{html.escape(s.citation)}</p>")
    for name, png in (("sqrt(PEHE) per method", _pehe_boxes(result.results)),
                      ("Coverage with Monte Carlo error", _coverage_bars(result.summary)),
                      ("Estimates and the truth", _estimate_strips(result.results))):
        if png:
            parts.append(f"<figure><figcaption>{html.escape(name)}</figcaption>"
                         f"<img alt='{html.escape(name)}' src='data:image/png;base64,{png}'>"
                         "</figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(result: Any, out_dir: str | Path, elapsed: float | None = None) -> dict[str, str]:
    """Write ``leaderboard.md`` and ``leaderboard.html`` (plus the summary CSV) in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"leaderboard_md": out / "leaderboard.md", "leaderboard_html": out / "leaderboard.html",
             "summary": out / "summary.csv"}
    suites = _suites(result)
    paths["leaderboard_md"].write_text(
        to_markdown_leaderboard(result.summary, suites, elapsed, results=result.results) + "\n",
        encoding="utf-8")
    paths["leaderboard_html"].write_text(to_html(result, elapsed), encoding="utf-8")
    result.summary.to_csv(paths["summary"], index=False)
    return {k: str(v) for k, v in paths.items()}
