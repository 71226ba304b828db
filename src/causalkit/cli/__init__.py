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
import os
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


#: Set this environment variable (to anything) to see the traceback of an unexpected error.
DEBUG_ENV = "CAUSALKIT_DEBUG"


def _fail(message: str, code: int) -> int:
    print(f"causalkit: error: {message}", file=sys.stderr)
    return code


def _os_message(err: OSError) -> str:
    if err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    return str(err) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``causalkit`` script; returns the exit code.

    Every sub-command's errors end here, as one line on stderr and no
    traceback: a :class:`~causalkit.errors.CausalKitError` (bad data, option,
    role, graph, method) or a file that cannot be read or written exits 2, the
    usage-error code argparse uses too; any other exception exits 1 with its
    type and message (set ``CAUSALKIT_DEBUG=1`` for the traceback).

    >>> main(["methods", "no_such_method"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CausalKitError as err:
        return _fail(str(err), 2)
    except (OSError, UnicodeError) as err:   # input that cannot be read, output not written
        return _fail(_os_message(err) if isinstance(err, OSError) else str(err), 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as err:  # noqa: BLE001 - a CLI reports, it does not dump a traceback
        if os.environ.get(DEBUG_ENV):
            raise
        return _fail(f"unexpected {type(err).__name__}: {err} (set {DEBUG_ENV}=1 to see the "
                     "traceback; please report it if the input looks valid)", 1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
