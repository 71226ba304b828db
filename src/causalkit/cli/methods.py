"""``causalkit methods [NAME]``: the table of registered estimators, or one method's options.

Example
-------
>>> from causalkit.cli import main
>>> main(["methods", "difference_in_means"])  # doctest: +ELLIPSIS
difference_in_means: Difference in mean outcomes between arms, with Neyman (Welch) standard error.
  estimands: ATE
  roles: treatment, outcome (optional: cluster, weights)
  treatment types: binary
  options:
    use_t: bool = True  ...
0
"""

from __future__ import annotations

import argparse

import pandas as pd

from ..registry import available, describe


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("methods", help="list the registered estimators",
                              description="List every registered estimator, its estimands "
                                          "and the roles it needs; with a NAME, that method's "
                                          "estimands, roles and options (type, default, "
                                          "one line of help each).")
    p.add_argument("name", nargs="?", default=None, metavar="NAME",
                   help="a registered estimator: print its options")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.name is not None:
        print(describe(args.name))
        return 0
    table = available()
    with pd.option_context("display.max_colwidth", 70, "display.width", 200,
                           "display.max_rows", 500):
        print(table.to_string(index=False))
    return 0
