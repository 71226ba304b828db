"""``causalkit estimate``: fit a registered estimator on a CSV file and print the summary."""

from __future__ import annotations

import argparse
from typing import Any

from ..api import estimate
from ._io import parse_pairs, parse_value, read_csv


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "estimate", help="estimate an effect from a CSV file",
        description="Fit a registered estimator on a CSV file and print its summary. "
                    "Example: causalkit estimate --data df.csv --treatment t --outcome y "
                    "--covariates x1 x2 --method regression_adjustment")
    p.add_argument("--data", required=True, help="path to a CSV file")
    p.add_argument("--treatment", help="treatment column")
    p.add_argument("--outcome", help="outcome column")
    p.add_argument("--method", default="difference_in_means", help="registered estimator")
    p.add_argument("--covariates", nargs="*", default=None, help="adjustment columns")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--estimand", default=None, help="ATE, ATT, ... where the method offers several")
    p.add_argument("--dag", default=None, help="DAG in DAGitty syntax (adjusts for its set)")
    p.add_argument("--role", action="append", default=[], metavar="ROLE=COLUMN",
                   help="further roles, e.g. --role instrument=z --role cluster=school")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="method options, e.g. --option cov_type=HC1")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data = read_csv(args.data)
    options: dict[str, Any] = {k: parse_value(v)
                               for k, v in parse_pairs(args.option, "--option").items()}
    for role, column in parse_pairs(args.role, "--role").items():
        options[role] = parse_value(column) if role == "cutoff" else column
    if args.estimand:
        options["estimand"] = args.estimand
    effect = estimate(data, args.treatment, args.outcome, method=args.method,
                      covariates=args.covariates, alpha=args.alpha, dag=args.dag, **options)
    print(effect.summary())
    return 0
