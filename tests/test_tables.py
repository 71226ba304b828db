"""causalkit.table: several effects side by side (Markdown, LaTeX booktabs, HTML, frame).

The LaTeX is compiled when a TeX engine (pdflatex) is on the PATH; otherwise (as on the
CI machine) it is checked structurally: booktabs rules, one cell per column in every
row, balanced braces, escaped special characters.  The HTML is parsed by the standard
library's parser and must be well formed.
"""

from __future__ import annotations

import html.parser
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit import errors
from causalkit.datasets import linear_confounding


@pytest.fixture(scope="module")
def three():
    ds = linear_confounding(400, n_covariates=2, seed=0)
    df = ds.data.rename(columns={"y": "wt82_71"})
    df["grp"] = pd.Categorical(np.where(df[ds.covariates[0]] > 0, "a&b", "c_d"))
    covs = ds.covariates
    e1 = causalkit.estimate(df, "t", "wt82_71", method="difference_in_means")
    e2 = causalkit.estimate(df, "t", "wt82_71", method="regression_adjustment",
                            covariates=f"{covs[0]} + I({covs[1]}**2) + C(grp)")
    e3 = causalkit.estimate(df, "t", "wt82_71", method="ipw", covariates=covs)
    return [e1, e2, e3]


def test_frame_cells_are_the_effects_numbers(three):
    frame = causalkit.table(three, "frame", stat="ci", stars=True, digits=4,
                            diagnostics={"r_squared": "R2", "ess_treated": "ESS (treated)"})
    assert list(frame.columns) == ["(1)", "(2)", "(3)"]
    for col, e in zip(frame.columns, three):
        est = frame.loc["Estimate", col]
        assert est.rstrip("*") == f"{e.estimate:.4f}"
        stars = len(est) - len(est.rstrip("*"))
        assert stars == sum(e.p_value < c for c in (0.1, 0.05, 0.01))
        assert frame.loc["", col] == f"[{e.ci_low:.4f}, {e.ci_high:.4f}]"
        assert frame.loc["N", col] == f"{e.n_obs:,}"
        assert frame.loc["Method", col] == e.method
    assert frame.loc["R2", "(2)"] == f"{three[1].diagnostics['r_squared']:.4f}"
    assert frame.loc["R2", "(1)"] == "-" and frame.loc["ESS (treated)", "(2)"] == "-"
    assert "I(x2**2)" in frame.loc["Covariates", "(2)"]      # the terms as written
    assert frame.loc["Covariates", "(1)"] == "(none)"


def test_markdown_is_a_pipe_table_with_a_note(three):
    text = causalkit.table(three, stars=True, names=["DiM", "RA", "IPW"])
    lines = text.splitlines()
    body = [ln for ln in lines if ln.startswith("|")]
    assert all(ln.count("|") == 5 for ln in body)
    assert body[0].split("|")[2].strip() == "DiM"
    assert lines[-1].startswith("Standard errors in parentheses.")
    assert f"({three[0].std_error:.3f})" in text


def _latex_rows(tex: str) -> list[str]:
    inside = tex.split(r"\midrule", 1)[1].split(r"\bottomrule")[0]
    return [r for r in inside.replace(r"\midrule", "").split(r"\\") if r.strip()]


def test_latex_is_booktabs_and_escaped(three, tmp_path):
    tex = causalkit.table(three, "latex", stars=True, caption="NHEFS & more", label="tab:x",
                          rows=("estimand", "method", "outcome", "n", "covariates"))
    assert r"\begin{tabular}{lccc}" in tex
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
    for row in _latex_rows(tex):
        cells = re.split(r"(?<!\\)&", row)
        assert len(cells) == 4, row
    assert r"wt82\_71" in tex and "wt82_71" not in tex.replace(r"wt82\_71", "")
    assert r"NHEFS \& more" in tex and "$^{***}$" in tex
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    engine = shutil.which("pdflatex")
    if engine is None:
        return                                  # no TeX engine: the structure above is the check
    doc = ("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n" + tex
           + "\n\\end{document}\n")
    (tmp_path / "t.tex").write_text(doc)
    run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


class _Checker(html.parser.HTMLParser):
    VOID = {"br", "hr", "img", "meta", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.rows: list[int] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "tr":
            self.rows.append(0)
        if tag in ("td", "th") and self.rows:
            self.rows[-1] += 1

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert not checker.stack
    return checker


def test_html_is_well_formed_and_escaped(three):
    page = causalkit.table(three, "html", stars=True)
    parsed = _parse(page)
    assert parsed.rows[:-1] == [4] * (len(parsed.rows) - 1)   # the note spans the columns
    assert "a&amp;b" in page or "C(grp)" in page
    assert "<td>(none)</td>" in page


def test_repr_html_of_an_effect_and_an_experiment(three):
    page = three[1]._repr_html_()
    parsed = _parse(page)
    assert f"{three[1].estimate:.3f}" in "".join(parsed.text)
    from causalkit.experiments import analyze

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"arm": np.repeat(["control", "B"], 200),
                       "m": rng.normal(size=400)})
    result = analyze(df, "arm", ["m"], control="control")
    parsed = _parse(result._repr_html_())
    assert "SRM" in "".join(parsed.text) or "ratio" in "".join(parsed.text).lower()


@pytest.mark.parametrize("kwargs, words", [
    ({"format": "docx"}, "format"), ({"stat": "t"}, "stat"), ({"rows": ("r2",)}, "row"),
    ({"names": ["a"]}, "names"),
])
def test_bad_table_arguments_are_option_errors(three, kwargs, words):
    with pytest.raises(errors.OptionError, match=words):
        causalkit.table(three, **kwargs)


def test_table_needs_effects():
    with pytest.raises(errors.OptionError):
        causalkit.table([])
    with pytest.raises(errors.OptionError, match="Effect"):
        causalkit.table([1.0])
