"""``causalkit ab``: analyze an A/B or multi-arm experiment from a CSV file and print the table.

Example: ``causalkit ab --data exp.csv --variant arm --metric revenue converted
--ratio ctr=clicks/sessions --cuped revenue=revenue_pre --correction bh``

The data may also be a Parquet file (``--data events.parquet``) or a table of a
DuckDB database (``--duckdb warehouse.duckdb --table events``): both are
aggregated inside DuckDB (through Ibis), so only per-arm statistics are read;
``--sql`` prints the queries that ran.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

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
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="CSV or Parquet (.parquet, .pq) file, one row per "
                                       "randomized unit (or per event, with --unit)")
    source.add_argument("--duckdb", metavar="FILE", help="DuckDB database file (with --table)")
    p.add_argument("--table", help="table (or view) of the --duckdb database")
    p.add_argument("--unit", default=None,
                   help="rows are events of this unit column: summed per unit first")
    p.add_argument("--sql", action="store_true", help="print the SQL run in the database")
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


def _open(args: argparse.Namespace) -> Any:
    """The rows: a pandas frame from a CSV, or an Ibis table over Parquet or a DuckDB table."""
    if args.duckdb is None:
        if args.table is not None:
            raise OptionError("--table names a table of a --duckdb database; give --duckdb FILE")
        if not args.data.lower().endswith((".parquet", ".pq")):
            return read_csv(args.data)
    elif args.table is None:
        raise OptionError("--duckdb FILE needs --table NAME (the table or view to analyze)")
    try:
        import ibis
    except ImportError:
        raise OptionError("Parquet files and DuckDB databases are read through Ibis: "
                          "pip install 'ibis-framework[duckdb]'") from None
    path = args.data or args.duckdb
    if not os.path.exists(path):
        raise DataError(f"no such file: {path!r}")
    try:
        if args.duckdb is None:
            return ibis.duckdb.connect().read_parquet(path)
        con = ibis.duckdb.connect(path, read_only=True)
    except Exception as err:  # duckdb's own errors: not a database / not Parquet
        raise DataError(f"cannot open {path!r}: {type(err).__name__}: {err}") from None
    if args.table not in con.list_tables():
        hint = suggest_column(args.table, con.list_tables())
        raise DataError(f"database {path!r} has no table {args.table!r}"
                        + (f"; did you mean {hint!r}?" if hint else
                           f"; it has {sorted(con.list_tables())}"))
    return con.table(args.table)


def _numeric_variant(data: Any, variant: str) -> bool:
    if isinstance(data, pd.DataFrame):
        return variant in data and pd.api.types.is_numeric_dtype(data[variant])
    schema = data.schema()
    return variant in schema.names and schema[variant].is_numeric()


def run(args: argparse.Namespace) -> int:
    data = _open(args)
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
    if control is not None and _numeric_variant(data, args.variant):
        control = pd.to_numeric(control)
    res = analyze(data, args.variant, metrics, control=control, alpha=args.alpha,
                  correction=args.correction, correct_across=args.across, split=args.split,
                  relative_ci=args.relative_ci, pooled=not args.unpooled, unit=args.unit)
    print(res.table.to_csv(index=False) if args.csv else res.summary())
    if args.sql:
        print("\n-- SQL run in the database:\n" + ";\n\n".join(res.sql) + ";" if res.sql else
              "-- no SQL: the rows were analyzed in memory")
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
