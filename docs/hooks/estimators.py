"""MkDocs hook: the estimator reference lists every registered built-in estimator.

``docs/api/estimators.md`` holds the marker ``<!-- estimators -->``; this hook replaces it,
before the page is converted, with one section per built-in family (in
``causalkit.registry.BUILTIN_FAMILIES`` order, the peer adapters left out): the
family's summary line, a mkdocstrings block for each estimator the registry holds from
it, then the family's other public functions and classes (its ``__all__``).  A new
estimator is therefore documented, and its docstring checked by the strict build, with
no edit of the docs.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

MARKER = "<!-- estimators -->"
SKIP_FAMILIES = ("causalkit.benchmark.adapters",)   # peers' estimators, not causalkit's own


def _path(obj: Any) -> str | None:
    """Import path of a function or class defined in causalkit, else None."""
    obj = inspect.unwrap(obj)
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return None
    module = getattr(obj, "__module__", "") or ""
    return f"{module}.{obj.__qualname__}" if module.startswith("causalkit.") else None


def _block(path: str) -> str:
    return f"::: {path}\n    options:\n      heading_level: 3\n"


def estimator_sections() -> str:
    """The Markdown of every family section."""
    from causalkit import registry

    registry._load_builtins()
    specs = list(registry._REGISTRY.values())
    out = []
    for family in registry.BUILTIN_FAMILIES:
        if family in SKIP_FAMILIES:
            continue
        package = importlib.import_module(family)
        summary = (inspect.getdoc(package) or family).split("\n\n", 1)[0].replace("\n", " ")
        out.append(f"## `{family}`\n\n{summary}\n")
        mine = sorted({p for s in specs if (p := _path(s.func)) and p.startswith(family + ".")})
        out.extend(_block(p) for p in mine)
        tools = []
        for name in getattr(package, "__all__", ()):
            path = _path(getattr(package, name))
            if path and name in vars(package):       # imported into the package: its public path
                path = f"{family}.{name}"
            if path and path not in mine and path not in tools:
                tools.append(path)
        if tools:
            out.append(f"### Diagnostics and tools of `{family}`\n")
            out.extend(_block(p).replace("heading_level: 3", "heading_level: 4") for p in tools)
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Expand the marker on the estimator page."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, estimator_sections())
