"""``causalkit estimate``: fit a registered estimator on a CSV file and print the summary."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from ..api import estimate
from ..errors import DataError


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


def _parse_value(text: str) -> Any:
    for caster in (int, float):
        try:
            return caster(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    return text


def _pairs(items: list[str], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise DataError(f"{what} {item!r} must look like KEY=VALUE")
        key, value = item.split("=", 1)
        out[key.strip()] = _parse_value(value.strip())
    return out


def run(args: argparse.Namespace) -> int:
    try:
        data = pd.read_csv(args.data)
    except (OSError, pd.errors.ParserError) as err:
        raise DataError(f"cannot read CSV file {args.data!r}: {err}") from None
    options = _pairs(args.option, "option")
    options.update({k: (str(v) if k != "cutoff" else v)
                    for k, v in _pairs(args.role, "role").items()})
    if args.estimand:
        options["estimand"] = args.estimand
    effect = estimate(data, args.treatment, args.outcome, method=args.method,
                      covariates=args.covariates, alpha=args.alpha, dag=args.dag, **options)
    print(effect.summary())
    return 0
