"""The experiment report: one self-contained HTML page and its PNGs, for the people who decide.

:func:`write_report` (``ExperimentResult.report()``) writes to a directory:

* ``report.html``: a page with no external resource (styles inline, figures
  as base64 ``data:`` URIs, no script), readable offline or as an attachment;
* ``forest_plot.png``: every metric's relative lift (treatment vs control,
  in % of the control) with its ``1 - alpha`` interval, one row per metric
  and arm; guardrail metrics are drawn as diamonds and labelled
  ``[guardrail]``, colours give the status of :meth:`~.analyze.ExperimentResult.decision`
  (green win / pass, red loss / fail, grey otherwise), and a non-inferiority
  margin is a red bar;
* ``srm.png``: the observed share of units per arm against the intended split,
  with the chi-square sample-ratio-mismatch test.

The page shows the decision (ship / hold / roll back per arm, with its
reason), the SRM check, the power the experiment achieved and a table of the
key numbers.  **Power achieved** is computed from each row's own standard
error (so CUPED and ratio metrics get theirs): the power of the row's
two-sided test at level ``alpha`` (before the multiplicity correction) to
detect a true relative lift of ``lift_of_interest``, and the minimum
detectable lift at ``power``.  The power at the *observed* effect is not
reported: it is a function of the p-value (Hoenig & Heisey 2001).

Example
-------
>>> import tempfile, numpy as np, pandas as pd
>>> from causalkit.experiments import analyze
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"arm": np.repeat(["control", "B"], 500), "y": rng.normal(10, 2, 1000)})
>>> files = analyze(df, "arm", "y").report(tempfile.mkdtemp())
>>> files.html.name, files.forest_plot.name, files.srm_plot.name
('report.html', 'forest_plot.png', 'srm.png')
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from ..errors import OptionError, OutputPathError
from ..htmlpage import data_uri, html_table, new_figure, png_bytes
from .power import mde_from_se, power_from_se

if TYPE_CHECKING:
    from .analyze import ExperimentResult

__all__ = ["DEFAULT_DIR", "ReportFiles", "power_table", "write_report"]

#: Where :func:`write_report` writes when no directory is given (relative to the working directory).
DEFAULT_DIR = "experiment_report"

_GOOD, _BAD, _NEUTRAL = "#1a7f37", "#c62828", "#6e7781"
_STATUS_COLOUR = {"win": _GOOD, "pass": _GOOD, "loss": _BAD, "fail": _BAD}

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
max-width: 1100px; color: #1f2328; } h1 { margin-bottom: 0.2em; } .settings { color: #57606a; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em 0; } th, td { border: 1px solid #d0d7de;
padding: 4px 8px; font-size: 13px; } th { background: #f6f8fa; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } img { max-width: 100%; }
.decision { font-size: 1.15em; padding: 0.5em 0.8em; margin: 0.3em 0; border-radius: 6px; }
.decision-ship { background: #dafbe1; } .decision-hold { background: #fff8c5; }
.decision-roll-back { background: #ffebe9; } .srm-ok { color: #1a7f37; }
.srm-mismatch { color: #c62828; font-weight: bold; } pre { background: #f6f8fa; padding: 0.8em;
overflow-x: auto; font-size: 12px; } .note { color: #57606a; font-size: 13px; }
"""


@dataclass(frozen=True)
class ReportFiles:
    """The files :func:`write_report` wrote."""

    html: Path
    forest_plot: Path
    srm_plot: Path


def _fmt(x: Any, spec: str = ".4g") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "n/a" if not math.isfinite(v) else format(v, spec)


def _pct(x: Any, spec: str = ".3g") -> str:
    """A fraction as a percentage (``n/a`` when undefined)."""
    text = _fmt(100 * float(x), spec)
    return text if text == "n/a" else text + "%"


def _label(row: Any, many_arms: bool) -> str:
    name = f"{row.metric} ({row.arm})" if many_arms else str(row.metric)
    return ("[guardrail] " if row.role == "guardrail" else "") + name


def _lifts(result: "ExperimentResult", lift_of_interest: float | Mapping[str, float]
           ) -> dict[Any, float]:
    """The relative lift of interest of every metric (NaN for one a mapping leaves out)."""
    names = list(dict.fromkeys(result.table["metric"]))
    if isinstance(lift_of_interest, Mapping):
        given = dict(lift_of_interest)
        unknown = sorted(map(str, set(given) - set(names)))
        if unknown:
            raise OptionError(f"lift_of_interest names metric(s) {unknown} that the analysis "
                              f"does not have (it has {names})")
    else:
        given = {m: lift_of_interest for m in names}
    for m, v in given.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) \
                or not (math.isfinite(v) and v > 0):
            raise OptionError(f"lift_of_interest must be a positive relative lift (0.05 is 5% "
                              f"of the control), got {v!r} for metric {m!r}")
    return {m: float(given.get(m, math.nan)) for m in names}


def power_table(result: "ExperimentResult", lift_of_interest: float | Mapping[str, float] = 0.05,
                power: float = 0.8) -> pd.DataFrame:
    """The power each row achieved, from its own standard error.

    Columns: ``metric, arm, lift_of_interest`` (relative), ``power`` (the
    two-sided level-``alpha`` test's power to detect a true lift of that size
    in the better direction), ``mde`` (the smallest true difference detected
    with probability ``power``, in the metric's units) and ``mde_relative``
    (as a fraction of the control mean).

    >>> import numpy as np, pandas as pd
    >>> from causalkit.experiments import analyze
    >>> df = pd.DataFrame({"v": np.repeat([0, 1], 400), "y": np.tile([9.0, 11.0], 400)})
    >>> round(float(power_table(analyze(df, "v", "y"), 0.02)["power"][0]), 3)  # 0.2 / SE 0.0708
    0.806
    """
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0 < power < 1:
        raise OptionError(f"power must lie strictly between 0 and 1, got {power!r}")
    lifts = _lifts(result, lift_of_interest)
    t = result.table
    rows = []
    for r in t.itertuples():
        lift = float(lifts[r.metric])
        scale = abs(float(r.control_mean))
        se = float(r.std_error)
        delta = lift * scale
        mde = mde_from_se(se, result.alpha, power)
        rows.append({"metric": r.metric, "arm": r.arm, "lift_of_interest": lift,
                     "power": power_from_se(delta, se, result.alpha) if scale > 0 else math.nan,
                     "mde": mde, "mde_relative": mde / scale if scale > 0 else math.nan})
    return pd.DataFrame(rows)


def _forest(rows: pd.DataFrame, alpha: float, many_arms: bool) -> bytes:
    n = len(rows)
    fig = new_figure(8.0, 1.6 + 0.45 * n)
    fig.set_layout_engine("constrained")
    ax = fig.subplots()
    ys = np.arange(n)[::-1]
    for y, r in zip(ys, rows.itertuples()):
        colour = _STATUS_COLOUR.get(r.status, _NEUTRAL)
        marker = "D" if r.role == "guardrail" else "o"
        est, lo, hi = (100 * float(v) for v in (r.relative, r.relative_ci_low, r.relative_ci_high))
        if math.isfinite(est):
            if math.isfinite(lo) and math.isfinite(hi):
                ax.plot([lo, hi], [y, y], color=colour, linewidth=2.2, solid_capstyle="butt")
            ax.plot([est], [y], marker=marker, color=colour, markersize=8)
        else:
            ax.annotate("relative lift undefined (control mean 0)", (0, y), fontsize=8,
                        color=_NEUTRAL, va="center")
        bound = getattr(r, "ni_bound", math.nan)
        if math.isfinite(float(bound)) and float(r.control_mean) != 0:
            ax.plot([100 * float(bound) / abs(float(r.control_mean))], [y], marker="|",
                    color=_BAD, markersize=16, markeredgewidth=2)
    ax.axvline(0, color="#444", linewidth=1)
    ax.set_yticks(ys, [_label(r, many_arms) for r in rows.itertuples()], fontsize=9)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(f"lift relative to the control (%), with {100 * (1 - alpha):g}% interval")
    ax.set_title("Lift of every metric", fontsize=11)
    ax.grid(axis="x", color="#eee")
    handles = [ax.plot([], [], "o", color=_GOOD, label="win / pass")[0],
               ax.plot([], [], "o", color=_BAD, label="loss / fail")[0],
               ax.plot([], [], "o", color=_NEUTRAL, label="flat / inconclusive")[0],
               ax.plot([], [], "D", color="#444", label="guardrail", linestyle="none")[0]]
    if "ni_bound" in rows and np.isfinite(rows["ni_bound"].to_numpy(dtype=float)).any():
        handles.append(ax.plot([], [], "|", color=_BAD, markersize=12, markeredgewidth=2,
                               label="non-inferiority margin")[0])
    fig.legend(handles=handles, fontsize=8, loc="outside lower center", ncol=len(handles),
               frameon=False)
    return png_bytes(fig)


def _srm_figure(result: "ExperimentResult") -> bytes:
    srm = result.srm
    arms = [str(a) for a in result.stats.arms]
    observed = np.asarray(srm.observed, dtype=float)
    expected = np.asarray(srm.expected, dtype=float)
    fig = new_figure(6.0, 3.0)
    ax = fig.subplots()
    x = np.arange(len(arms))
    ax.bar(x, 100 * observed / observed.sum(), color="#54aeff", label="observed")
    ax.plot(x, 100 * expected / expected.sum(), "_", color="#000", markersize=40,
            markeredgewidth=2, label="intended")
    ax.set_xticks(x, arms)
    ax.set_ylabel("share of units (%)")
    flag = "MISMATCH" if srm.mismatch else "no mismatch"
    ax.set_title(f"Sample ratio: chi2({srm.df}) = {srm.statistic:.3g}, p = {srm.p_value:.3g} "
                 f"({flag})", fontsize=10, color=_BAD if srm.mismatch else "#1f2328")
    ax.legend(fontsize=8, loc="lower right")
    return png_bytes(fig)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as err:
        raise OutputPathError(f"cannot write the report file {str(path)!r}: {err.strerror or err}"
                              ) from err


def _prepare(out_dir: str | Path) -> Path:
    if not isinstance(out_dir, (str, Path)) or str(out_dir) == "":
        raise OptionError(f"out_dir must be a directory path, got {out_dir!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"cannot write the report to {str(out)!r}: it is a file, not a "
                              "directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputPathError(f"cannot create the report directory {str(out)!r}: "
                              f"{err.strerror or err}") from err
    return out


def write_report(result: "ExperimentResult", out_dir: str | Path = DEFAULT_DIR, *,
                 lift_of_interest: float | Mapping[str, float] = 0.05, power: float = 0.8,
                 title: str = "Experiment report") -> ReportFiles:
    """Write ``report.html``, ``forest_plot.png`` and ``srm.png`` into ``out_dir``.

    ``lift_of_interest`` (a relative lift, or one per metric name) and
    ``power`` set the power section (see the module docstring).  The
    directory is created when missing; one that cannot be written (a file in
    the way, no permission) is an :class:`~causalkit.errors.OutputPathError`.
    """
    if not isinstance(title, str):
        raise OptionError(f"title must be a string, got {title!r}")
    powers = power_table(result, lift_of_interest, power)
    out = _prepare(out_dir)
    decision = result.decision()
    t = result.table.reset_index(drop=True)
    status = decision.metrics.reset_index(drop=True)
    rows = t.assign(role=status["role"].to_numpy(), status=status["status"].to_numpy())
    many_arms = t["arm"].nunique() > 1
    forest, srm_png = _forest(rows, result.alpha, many_arms), _srm_figure(result)
    files = ReportFiles(out / "report.html", out / "forest_plot.png", out / "srm.png")
    _write(files.forest_plot, forest)
    _write(files.srm_plot, srm_png)
    page = _page(result, rows, decision, powers, forest, srm_png, title, power)
    _write(files.html, page.encode("utf-8"))
    return files


def _page(result: "ExperimentResult", rows: pd.DataFrame, decision: Any, powers: pd.DataFrame,
          forest: bytes, srm_png: bytes, title: str, power: float) -> str:
    e = html.escape
    level = f"{100 * (1 - result.alpha):g}%"
    counts = dict(zip(result.stats.arms, result.srm.observed))
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}"
             f"</title><style>{_STYLE}</style></head><body>", f"<h1>{e(title)}</h1>",
             f"<p class='settings'>Control: {e(str(result.control))} ({e(result.control_rule)}); "
             f"units: " + ", ".join(f"{e(str(a))} {int(n):,}" for a, n in counts.items())
             + f"; {level} intervals; p-values adjusted by {e(str(result.correction))}.</p>"]
    parts.append("<section id='decision'><h2>Decision</h2>")
    for r in decision.arms.itertuples():
        cls = "decision-" + str(r.decision).replace(" ", "-")
        parts.append(f"<div class='decision {cls}'><b>{e(str(r.arm))}: {e(str(r.decision).upper())}"
                     f"</b> &mdash; {e(str(r.reason))}</div>")
    parts.append("<p class='note'>Roll back if a primary metric is significantly worse or a "
                 "guardrail fails; ship if a primary metric wins and every guardrail passes; "
                 "hold otherwise.</p></section>")
    parts.append("<section id='lifts'><h2>Lift of every metric</h2>"
                 f"<img id='forest-plot' alt='Forest plot of the relative lift of every metric "
                 f"with {level} intervals' src='{data_uri(forest)}'></section>")
    srm = result.srm
    verdict = ("<span class='srm-mismatch'>Sample-ratio mismatch: the split of units differs "
               "from the intended one; the assignment or logging is broken, do not trust the "
               "results below</span>" if srm.mismatch else
               "<span class='srm-ok'>No sample-ratio mismatch</span>")
    share = np.asarray(srm.expected, float) / max(float(np.sum(srm.expected)), 1.0)
    srm_rows = [[str(a), int(o), _pct(o / max(sum(srm.observed), 1), ".4g"),
                 _pct(s, ".4g")]
                for a, o, s in zip(result.stats.arms, srm.observed, share)]
    parts.append(f"<section id='srm'><h2>Sample-ratio check</h2><p>{verdict}: chi2({srm.df}) = "
                 f"{_fmt(srm.statistic)}, p = {_fmt(srm.p_value)}.</p>"
                 + html_table(["arm", "units", "observed share", "intended share"], srm_rows,
                              "srm-table", numeric=(1, 2, 3))
                 + f"<img id='srm-plot' alt='Observed and intended share of units per arm' "
                 f"src='{data_uri(srm_png)}'></section>")
    pw_rows = [[str(p.metric), str(p.arm), _pct(p.lift_of_interest),
                _pct(p.power, ".3g"), _fmt(p.mde), _pct(p.mde_relative)]
               for p in powers.itertuples()]
    parts.append(f"<section id='power'><h2>Power achieved</h2><p class='note'>From each "
                 f"comparison's standard error: the power of its two-sided test at level "
                 f"{result.alpha:g} (before the multiplicity correction) to detect a true "
                 f"lift of the given size, and the smallest lift it detects with "
                 f"{100 * power:g}% power.</p>"
                 + html_table(["metric", "arm", "lift of interest", "power",
                               f"MDE ({100 * power:g}% power)", "MDE (relative)"], pw_rows,
                              "power-table", numeric=(2, 3, 4, 5)) + "</section>")
    key = []
    for r in rows.itertuples():
        key.append([str(r.metric), str(r.arm), r.role, r.kind, int(r.n_control),
                    int(r.n_treatment), _fmt(r.control_mean), _fmt(r.treatment_mean),
                    _fmt(r.estimate), f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
                    _pct(r.relative), f"[{_pct(r.relative_ci_low)}, {_pct(r.relative_ci_high)}]",
                    _fmt(r.p_value), _fmt(r.p_adjusted), r.status])
    parts.append("<section id='numbers'><h2>Key numbers</h2>" + html_table(
        ["metric", "arm", "role", "kind", "n control", "n treatment", "control", "treatment",
         "lift", f"{level} CI", "relative lift", f"relative {level} CI", "p", "p adjusted",
         "status"], key, "key-numbers", numeric=tuple(range(4, 14))))
    notes = [f"{r.metric} / {r.arm}: {r.note}" for r in rows.itertuples() if r.note]
    if notes:
        parts.append("<p class='note'>" + "<br>".join(e(n) for n in notes) + "</p>")
    parts.append("</section>")
    if result.sql:
        parts.append("<section id='sql'><h2>SQL that ran</h2>"
                     + "".join(f"<pre>{e(q)}</pre>" for q in result.sql) + "</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
