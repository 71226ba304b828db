"""``causalkit methods``: the table of registered estimators."""

from __future__ import annotations

import argparse

import pandas as pd

from ..registry import available


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("methods", help="list the registered estimators",
                              description="List every registered estimator, its estimands "
                                          "and the roles it needs.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    table = available()
    with pd.option_context("display.max_colwidth", 70, "display.width", 200,
                           "display.max_rows", 500):
        print(table.to_string(index=False))
    return 0
