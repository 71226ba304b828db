"""Several effects side by side, as a paper table: Markdown, LaTeX (booktabs), HTML or a frame.

One column per :class:`~causalkit.Effect` (model), rows: the estimate (with optional
significance stars), its standard error or confidence interval below it, then the
estimand, method, outcome, treatment, the number of observations, the covariates and
any diagnostics asked for, in the style of R's modelsummary / stargazer and pyfixest's
``etable``.

Example
-------
>>> from causalkit import Effect, table
>>> a = Effect.from_estimate(method="ipw", estimand="ATE", estimate=3.44, std_error=0.53,
...                          n_obs=1566, covariates=("age", "sex[T.1]"))
>>> b = Effect.from_estimate(method="aipw", estimand="ATE", estimate=3.38, std_error=0.47,
...                          n_obs=1566)
>>> print(table([a, b], stars=True))
|            | (1)           | (2)      |
|:-----------|:--------------|:---------|
| Estimate   | 3.440***      | 3.380*** |
|            | (0.530)       | (0.470)  |
| Estimand   | ATE           | ATE      |
| Method     | ipw           | aipw     |
| N          | 1,566         | 1,566    |
| Covariates | age, sex[T.1] | (none)   |
<BLANKLINE>
Standard errors in parentheses. * p<0.1, ** p<0.05, *** p<0.01
"""

from __future__ import annotations

import html
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .effect import _num as format_number, _pval as format_pvalue
from .errors import OptionError

FORMATS = ("markdown", "latex", "html", "frame")

#: Significance thresholds of the stars (stargazer's defaults).
STARS: tuple[tuple[float, str], ...] = ((0.01, "***"), (0.05, "**"), (0.1, "*"))

_ROWS = ("estimand", "method", "outcome", "treatment", "n", "covariates")
_ROW_LABELS = {"estimand": "Estimand", "method": "Method", "outcome": "Outcome",
               "treatment": "Treatment", "n": "N", "covariates": "Covariates"}


def _number(value: Any, digits: int) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return f"{int(value):,}"
    return format_number(value, digits)


def stars_for(p: float, thresholds: Sequence[tuple[float, str]] = STARS) -> str:
    """The stars of a p-value (none for NaN).

    >>> stars_for(0.03), stars_for(0.2), stars_for(float("nan"))
    ('**', '', '')
    """
    if p is None or not np.isfinite(p):
        return ""
    for cut, mark in sorted(thresholds):
        if p < cut:
            return mark
    return ""


def _covariate_text(effect: Any) -> str:
    design = effect.diagnostics.get("covariate_design") if effect.diagnostics else None
    terms = design["terms"] if isinstance(design, Mapping) else list(effect.covariates)
    return ", ".join(map(str, terms)) if terms else "(none)"


def _cells(effect: Any, row: str) -> str:
    if row == "n":
        return "-" if effect.n_obs is None else f"{int(effect.n_obs):,}"
    if row == "covariates":
        return _covariate_text(effect)
    value = getattr(effect, row)
    return "-" if value is None else str(value)


def _diagnostic(effect: Any, key: str, digits: int) -> str:
    value = effect.diagnostics.get(key) if effect.diagnostics else None
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_, str)):
        return str(value)
    if isinstance(value, (int, float, np.number)):
        return _number(value, digits)
    return "-"                                  # tables, arrays: not a cell


def table_frame(effects: Sequence[Any], *, names: Sequence[str] | None = None,
                stat: str = "se", stars: bool | Sequence[tuple[float, str]] = False,
                digits: int = 3, rows: Sequence[str] = ("estimand", "method", "n", "covariates"),
                diagnostics: Sequence[str] | Mapping[str, str] = ()) -> pd.DataFrame:
    """The table as a DataFrame of formatted cells (index: the row labels)."""
    effects = list(effects)
    if not effects:
        raise OptionError("table() needs at least one Effect")
    from .effect import Effect

    bad = [i for i, e in enumerate(effects) if not isinstance(e, Effect)]
    if bad:
        raise OptionError(f"table() takes Effect objects; item {bad[0]} is a "
                          f"{type(effects[bad[0]]).__name__}")
    if stat not in ("se", "ci", "none"):
        raise OptionError(f"stat must be 'se', 'ci' or 'none', got {stat!r}")
    unknown = [r for r in rows if r not in _ROWS]
    if unknown:
        raise OptionError(f"unknown table row {unknown[0]!r}; rows are {', '.join(_ROWS)}")
    if names is None:
        names = [f"({i + 1})" for i in range(len(effects))]
    names = [str(n) for n in names]
    if len(names) != len(effects):
        raise OptionError(f"names has {len(names)} entries for {len(effects)} effects")
    thresholds = STARS if stars is True else (tuple(stars) if stars else ())
    diag = dict(diagnostics) if isinstance(diagnostics, Mapping) else {d: d for d in diagnostics}
    body: dict[str, list[str]] = {"Estimate": []}
    second = {"se": "", "ci": "", "none": None}[stat]
    seconds: list[str] = []
    for e in effects:
        body["Estimate"].append(_number(e.estimate, digits) + stars_for(e.p_value, thresholds))
        if stat == "se":
            seconds.append(f"({_number(e.std_error, digits)})")
        elif stat == "ci":
            seconds.append(f"[{_number(e.ci_low, digits)}, {_number(e.ci_high, digits)}]")
    labels = ["Estimate"]
    cells = [body["Estimate"]]
    if second is not None:
        labels.append("")
        cells.append(seconds)
    for r in rows:
        labels.append(_ROW_LABELS[r])
        cells.append([_cells(e, r) for e in effects])
    for key, label in ((k, v) for k, v in diag.items()):
        labels.append(str(label))
        cells.append([_diagnostic(e, key, digits) for e in effects])
    frame = pd.DataFrame(cells, index=labels, columns=names)
    frame.attrs["note"] = _note(stat, thresholds, effects)
    return frame


def _note(stat: str, thresholds: Sequence[tuple[float, str]], effects: Sequence[Any]) -> str:
    parts = []
    if stat == "se":
        parts.append("Standard errors in parentheses.")
    elif stat == "ci":
        levels = sorted({round(100 * (1 - e.alpha), 6) for e in effects})
        parts.append(f"{'/'.join(f'{lv:g}' for lv in levels)}% confidence intervals in brackets.")
    if thresholds:
        parts.append(", ".join(f"{mark} p<{cut:g}" for cut, mark in sorted(thresholds,
                                                                          reverse=True)))
    return " ".join(parts)


def _markdown(frame: pd.DataFrame) -> str:
    header = [""] + list(frame.columns)
    rows = [[str(i)] + list(r) for i, r in zip(frame.index, frame.to_numpy())]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    widths = [max(w, 3) for w in widths]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    out = [line(header), "|" + "|".join(":" + "-" * (w + 1) for w in widths) + "|"]
    out += [line(r) for r in rows]
    note = frame.attrs.get("note")
    return "\n".join(out) + (f"\n\n{note}" if note else "")


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    r"""Escape LaTeX's special characters.

    >>> latex_escape("I(age ** 2)_x & 5%")
    'I(age ** 2)\\_x \\& 5\\%'
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _latex_cell(text: str) -> str:
    stripped = text.rstrip("*")
    marks = text[len(stripped):]
    return latex_escape(stripped) + (f"$^{{{marks}}}$" if marks else "")


def _latex(frame: pd.DataFrame, caption: str | None, label: str | None) -> str:
    k = frame.shape[1]
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{l{'c' * k}}}", r"\toprule",
              " & ".join([""] + [latex_escape(c) for c in frame.columns]) + r" \\",
              r"\midrule"]
    n_stat = 2 if len(frame.index) > 1 and frame.index[1] == "" else 1
    for i, (name, row) in enumerate(zip(frame.index, frame.to_numpy())):
        if i == n_stat:
            lines.append(r"\midrule")
        lines.append(" & ".join([latex_escape(name)] + [_latex_cell(c) for c in row]) + r" \\")
    lines.append(r"\bottomrule")
    lines.append(r"\end{tabular}")
    note = frame.attrs.get("note")
    if note:
        lines.append(rf"\par\smallskip{{\footnotesize {_latex_note(note)}}}")
    lines.append(r"\end{table}")
    return "\n".join(lines)


def _latex_note(note: str) -> str:
    out = latex_escape(note)
    for mark in ("***", "**", "*"):
        out = out.replace(f"{mark} p<", f"$^{{{mark}}}$ p$<$")
    return out


def _html(frame: pd.DataFrame) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns)
    lines = ['<table class="causalkit-table">', f"<thead><tr><th></th>{head}</tr></thead>",
             "<tbody>"]
    for name, row in zip(frame.index, frame.to_numpy()):
        cells = "".join(f"<td>{esc(str(c))}</td>" for c in row)
        lines.append(f"<tr><th>{esc(str(name))}</th>{cells}</tr>")
    lines.append("</tbody>")
    note = frame.attrs.get("note")
    if note:
        lines.append(f'<tfoot><tr><td colspan="{frame.shape[1] + 1}">{esc(note)}</td></tr>'
                     "</tfoot>")
    lines.append("</table>")
    return "\n".join(lines)


def table(effects: Sequence[Any], format: str = "markdown", *,
          names: Sequence[str] | None = None, stat: str = "se",
          stars: bool | Sequence[tuple[float, str]] = False, digits: int = 3,
          rows: Sequence[str] = ("estimand", "method", "n", "covariates"),
          diagnostics: Sequence[str] | Mapping[str, str] = (),
          caption: str | None = None, label: str | None = None) -> str | pd.DataFrame:
    """A table of several effects side by side, one column each.

    Parameters
    ----------
    effects
        The :class:`~causalkit.Effect` objects, one column each.
    format
        ``"markdown"`` (default), ``"latex"`` (booktabs: needs ``\\usepackage{booktabs}``),
        ``"html"`` or ``"frame"`` (a DataFrame of formatted cells).
    names
        Column headers; default ``(1), (2), ...``.
    stat
        Below each estimate: ``"se"`` (in parentheses, default), ``"ci"`` (the
        confidence interval in brackets) or ``"none"``.
    stars
        ``True`` for stars at p < 0.1 / 0.05 / 0.01, or a list of ``(threshold, mark)``.
    digits
        Decimals of the numbers.
    rows
        Which of ``estimand``, ``method``, ``outcome``, ``treatment``, ``n``,
        ``covariates`` to show, in order (the covariates as given: formula terms).
    diagnostics
        Keys of ``Effect.diagnostics`` to add as rows (scalars), or a mapping
        ``key -> row label``; a model without the key shows ``-``.
    caption, label
        LaTeX caption and label.
    """
    if format not in FORMATS:
        raise OptionError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    frame = table_frame(effects, names=names, stat=stat, stars=stars, digits=digits, rows=rows,
                        diagnostics=diagnostics)
    if format == "frame":
        return frame
    if format == "markdown":
        return _markdown(frame)
    if format == "latex":
        return _latex(frame, caption, label)
    return _html(frame)


def effect_html(effect: Any) -> str:
    """The HTML of one effect for Jupyter (``Effect._repr_html_``)."""
    frame = table_frame([effect], names=[effect.estimand], stat="ci",
                        rows=("method", "outcome", "treatment", "n", "covariates"))
    extra = pd.DataFrame([[_number(effect.std_error, 4)], [format_pvalue(effect.p_value)]],
                         index=["Std. error", "p-value"], columns=frame.columns)
    frame = pd.concat([frame.iloc[:2], extra, frame.iloc[2:]])
    frame.attrs["note"] = effect.inference
    return _html(frame)


__all__ = ["FORMATS", "STARS", "effect_html", "latex_escape", "stars_for", "table",
           "table_frame"]
