"""The ``causalkit`` command line.

Each module in this package adds one sub-command: it defines
``add_parser(subparsers)`` which creates its parser and sets ``func`` (called
with the parsed arguments, returning an exit code).  Modules are discovered
automatically, so a new command is a new file.

Example
-------
>>> from causalkit.cli import build_parser
>>> build_parser().parse_args(["methods"]).command
'methods'
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Sequence

from ..errors import CausalKitError


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered sub-command."""
    parser = argparse.ArgumentParser(
        prog="causalkit",
        description="Causal inference from DAG to estimate: identification, estimation, "
                    "experiments and benchmarks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{module.name}")
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``causalkit`` script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CausalKitError as err:
        print(f"causalkit: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
