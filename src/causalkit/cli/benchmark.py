"""``causalkit benchmark``: score registered estimators on datasets with known truth.

Example
-------
>>> from causalkit.cli import build_parser
>>> args = build_parser().parse_args(["benchmark", "--reps", "5", "--datasets", "randomized"])
>>> args.reps, args.datasets
(5, ['randomized'])
"""

from __future__ import annotations

import argparse
import time


from ..benchmark import report
from ..benchmark.defaults import DEFAULT_DATASETS, DEFAULT_REPS
from ..benchmark.runner import run as run_benchmark
from ..datasets import catalog


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "benchmark", help="benchmark estimators on datasets with known truth",
        description="Fit every compatible registered estimator on fresh draws of synthetic "
                    "datasets and print bias, RMSE, CI coverage, CI width and time per "
                    "method and dataset.  With no options: the cheap registered estimators x "
                    f"{', '.join(DEFAULT_DATASETS)}, {DEFAULT_REPS} replications.")
    p.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                   help="registered estimators (default: the cheap ones registered)")
    p.add_argument("--datasets", nargs="+", default=None, metavar="DATASET",
                   help=f"dataset names (default: {' '.join(DEFAULT_DATASETS)}); "
                        "see `causalkit datasets`")
    p.add_argument("--reps", type=int, default=DEFAULT_REPS, help="replications per dataset")
    p.add_argument("--n", type=int, default=None,
                   help="sample size (units) for every synthetic dataset (default per dataset)")
    p.add_argument("--n-jobs", type=int, default=-1, help="parallel jobs (default: all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--adjustment", choices=("optimal", "minimal"), default="optimal",
                   help="which DAG adjustment set backdoor estimators get")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write results.csv, summary.csv, summary.md and benchmark.png here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _dataset_grid(names: list[str] | None, n: int | None) -> dict[str, dict]:
    grid = {name: dict(DEFAULT_DATASETS.get(name, {})) for name in (names or DEFAULT_DATASETS)}
    for name, params in grid.items():
        catalog.generator(name)  # unknown names fail early with a suggestion
        if n is not None and name in catalog.SYNTHETIC:
            key = "n_units" if name in ("staggered_did_panel", "did_2x2") else "n"
            params[key] = n
    return grid


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    result = run_benchmark(methods=args.methods, datasets=_dataset_grid(args.datasets, args.n),
                           reps=args.reps, n_jobs=args.n_jobs, seed=args.seed, alpha=args.alpha,
                           adjustment=args.adjustment,
                           progress=False if args.no_progress else None)
    elapsed = time.perf_counter() - start
    print(report.to_markdown(result.summary, report.TABLE_COLUMNS))
    failed = result.summary[result.summary["n_failed"] > 0]
    if len(failed):
        print("\nFailures:")
        for _, row in failed.iterrows():
            print(f"- {row['method']} on {row['dataset']}: {row['failures']}")
    n_fits = len(result.results)
    print(f"\n{n_fits} fits in {elapsed:.1f} s (alpha = {args.alpha}; coverage Monte Carlo SE "
          f"~ {((1 - args.alpha) * args.alpha / max(args.reps, 1)) ** 0.5:.3f} at {args.reps} "
          "replications of a synthetic dataset; real datasets are fitted once)")
    if args.out:
        paths = result.save(args.out)
        print("wrote " + ", ".join(paths.values()))
    return 0


