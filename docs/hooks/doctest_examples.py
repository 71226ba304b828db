"""Griffe extension: a docstring's doctests are its Examples; Sphinx roles are code.

causalkit's docstrings follow one convention: the short example is a doctest placed
after the summary (or after the free text of a Notes section) without an ``Examples``
header; the doctests run in the test suite.  Griffe's numpy parser treats a doctest as
code only inside an ``Examples`` section, so elsewhere Markdown would turn its ``>>>``
into nested block quotes.  This extension gives such a doctest block an ``Examples``
header before the docstring is parsed.  Doctests inside Parameters, Returns, Raises and
similar sections are left alone, so the parser still reports them.

The docstrings also name objects with Sphinx roles (``:func:`causalkit.estimate```,
``:class:`~causalkit.errors.OptionError```), which Markdown does not know; they are shown
as code, with Sphinx's meaning of ``~`` (only the last component).

For example ``headed("Summary.\\n\\n>>> 1 + 1\\n2")`` puts the two lines
``Examples`` / ``--------`` between the summary and the doctest.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

#: Sections whose content is a list of items: a doctest there is a mistake to report.
ITEM_SECTIONS = {"Parameters", "Other Parameters", "Returns", "Yields", "Receives", "Raises",
                 "Warns", "Attributes", "Methods", "Functions", "Classes", "Modules",
                 "Examples", "Example"}
_RULE = re.compile(r"-{3,}")
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const|ref):`(~?)([^`]+)`")


def _role_as_code(match: re.Match[str]) -> str:
    target = match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"


def headed(text: str) -> str:
    """``text`` with an Examples header before each doctest block outside one."""
    lines = text.split("\n")
    out: list[str] = []
    section = None
    previous_blank = True
    for i, line in enumerate(lines):
        if (line.strip() and not line[0].isspace() and i + 1 < len(lines)
                and _RULE.fullmatch(lines[i + 1].strip())):
            section = line.strip()
        elif line.startswith(">>>") and previous_blank and section not in ITEM_SECTIONS:
            out += ["Examples", "--------"]
            section = "Examples"
        out.append(line)
        previous_blank = not line.strip()
    return "\n".join(out)


class DoctestExamples(griffe.Extension):
    """Head every doctest block outside a section with ``Examples``; roles become code."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the docstring's text before it is parsed."""
        if obj.docstring is None:
            return
        text = _ROLE.sub(_role_as_code, obj.docstring.value)
        obj.docstring.value = headed(text) if ">>>" in text else text
