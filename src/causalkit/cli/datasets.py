"""``causalkit datasets``: list the datasets with sizes, truth and reference estimates.

Example
-------
>>> from causalkit.cli import build_parser
>>> build_parser().parse_args(["datasets", "--synthetic-only"]).synthetic_only
True
"""

from __future__ import annotations

import argparse

import pandas as pd

from ..datasets.catalog import list_datasets
from ..datasets.real import INSTALL_HINT


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "datasets", help="list synthetic and real datasets",
        description="List the synthetic generators (default size, design, true effects) and "
                    "the real datasets (size, published reference estimate, licence).  Real "
                    f"data need {INSTALL_HINT}.")
    p.add_argument("--synthetic-only", action="store_true", help="skip the real datasets")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    table = list_datasets(include_real=not args.synthetic_only)
    with pd.option_context("display.max_colwidth", 60, "display.width", 220,
                           "display.max_rows", 200):
        print(table.fillna("").to_string(index=False))
    return 0
