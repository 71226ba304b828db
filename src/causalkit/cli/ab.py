"""``causalkit ab``: analyze an A/B or multi-arm experiment from a CSV file and print the table.

Example: ``causalkit ab --data exp.csv --variant arm --metric revenue converted
--ratio ctr=clicks/sessions --cuped revenue=revenue_pre --correction bh``
"""

from __future__ import annotations

import argparse

import pandas as pd

from ..errors import DataError, OptionError
from ..experiments.analyze import analyze
from ..experiments.metrics import Metric
from ..experiments.relative import METHODS as RELATIVE_CIS
from ..validation import suggest_column
from ._io import parse_pairs, read_csv


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ab", help="analyze an A/B or multi-arm experiment from a CSV file",
        description="Compare every arm with the control on each metric (Welch t for means, "
                    "z for proportions, delta method for ratios), with relative lifts, "
                    "multiple-testing correction and a sample-ratio-mismatch check.")
    p.add_argument("--data", required=True, help="CSV file, one row per randomized unit")
    p.add_argument("--variant", required=True, help="column with each unit's arm")
    p.add_argument("--metric", nargs="*", default=[], help="mean or 0/1 metric columns")
    p.add_argument("--ratio", action="append", default=[], metavar="NAME=NUM/DEN",
                   help="ratio metric, e.g. ctr=clicks/sessions")
    p.add_argument("--cuped", action="append", default=[], metavar="METRIC=PRE",
                   help="CUPED pre-period covariate for a --metric column (not a --ratio)")
    p.add_argument("--control", default=None, help="label of the control arm")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--correction", default="holm", help="holm, bonferroni, bh, by, dunnett or none")
    p.add_argument("--across", default="all", help="correction family: all, metrics, arms, none")
    p.add_argument("--split", nargs="*", type=float, default=None,
                   help="intended allocation weights for the SRM check (sorted arm order)")
    p.add_argument("--relative-ci", default="fieller", choices=RELATIVE_CIS,
                   help="relative-lift interval: fieller (inverts the row's test; default) or delta")
    p.add_argument("--unpooled", action="store_true",
                   help="two-proportion z test with the unpooled variance (default: pooled)")
    p.add_argument("--csv", action="store_true", help="print the full table as CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data = read_csv(args.data)
    cuped = parse_pairs(args.cuped, "--cuped")
    ratios = parse_pairs(args.ratio, "--ratio")
    _check_cuped(cuped, args.metric, ratios)
    metrics = [Metric(m, covariate=cuped.get(m)) for m in args.metric]
    for name, spec in ratios.items():
        if "/" not in spec:
            raise DataError(f"--ratio {name}={spec!r} must look like NAME=NUMERATOR/DENOMINATOR")
        num, den = (s.strip() for s in spec.split("/", 1))
        metrics.append(Metric(name, kind="ratio", column=num, denominator=den))
    if not metrics:
        raise DataError("give at least one --metric or --ratio")
    control = args.control
    if control is not None and args.variant in data \
            and pd.api.types.is_numeric_dtype(data[args.variant]):
        control = pd.to_numeric(control)
    res = analyze(data, args.variant, metrics, control=control, alpha=args.alpha,
                  correction=args.correction, correct_across=args.across, split=args.split,
                  relative_ci=args.relative_ci, pooled=not args.unpooled)
    print(res.table.to_csv(index=False) if args.csv else res.summary())
    return 0


def _check_cuped(cuped: dict[str, str], metrics: list[str], ratios: dict[str, str]) -> None:
    """Every ``--cuped`` names a ``--metric`` column: a misspelt or ratio metric is an error."""
    for name in cuped:
        if name in ratios:
            raise OptionError(
                f"--cuped {name}=...: {name!r} is a --ratio metric, and CUPED for a ratio needs a "
                "pre-period numerator and denominator; the command line adjusts plain --metric "
                "columns only (use experiments.Metric(covariate=, covariate_denominator=) in Python)")
        if name not in metrics:
            hint = suggest_column(name, metrics)
            raise OptionError(f"--cuped {name}=...: {name!r} is not one of the --metric columns "
                              f"{metrics}" + (f"; did you mean {hint!r}?" if hint else ""))
