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
import sys
import time
from typing import Any

from .. import registry
from ..benchmark import report
from ..benchmark.defaults import DEFAULT_DATASETS, DEFAULT_REPS
from ..benchmark.runner import ADJUSTMENTS, run as run_benchmark
from ..datasets import catalog
from ..errors import OptionError
from ._io import method_options, non_negative_int, parse_pairs, positive_int


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "benchmark", help="benchmark estimators on datasets with known truth",
        description="Fit every compatible registered estimator on fresh draws of synthetic "
                    "datasets and print bias, RMSE, CI coverage, CI width and time per "
                    "method and dataset.  With no options: the cheap registered estimators x "
                    f"{', '.join(DEFAULT_DATASETS)}, {DEFAULT_REPS} replications.  Exits 1 "
                    "when every fit failed, 2 when no fit ran or on a usage error.")
    p.add_argument("--list", action="store_true",
                   help="list the benchmark suites and every registered method (peers too)")
    p.add_argument("--suite", nargs="+", default=None, metavar="SUITE",
                   help="benchmark suite(s): ihdp_a, ihdp_b, acic2016, lalonde, cate, synthetic "
                        "(several run as one); not together with --datasets")
    p.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                   help="registered estimators, peers included (econml.CausalForestDML, ...); "
                        "default: the cheap ones registered")
    p.add_argument("--datasets", nargs="+", default=None, metavar="DATASET",
                   help=f"dataset names (default: {' '.join(DEFAULT_DATASETS)}); "
                        "see `causalkit datasets`")
    p.add_argument("--reps", type=positive_int, default=None,
                   help=f"replications per dataset (default {DEFAULT_REPS}, or the suite's)")
    p.add_argument("--n", type=positive_int, default=None,
                   help="sample size (units) for every synthetic dataset (default per dataset)")
    p.add_argument("--n-jobs", type=int, default=-1,
                   help="parallel jobs (default -1: all cores; -2: all but one; never 0)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--adjustment", choices=ADJUSTMENTS, default="optimal",
                   help="which DAG adjustment set backdoor estimators get")
    p.add_argument("--option", action="append", default=[], metavar="METHOD.KEY=VALUE",
                   help="an option of one method, parsed by its type as in `causalkit "
                        "estimate`, e.g. --option ipw.trim=0.01 (see `causalkit methods NAME`)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="store every fit in DIR/fits.csv as it finishes (rerunning the same "
                        "command skips stored fits) and write summary.csv, summary.md, "
                        "benchmark.png, leaderboard.md and leaderboard.html (checked to be "
                        "writable before anything runs)")
    p.add_argument("--backend", choices=("loky", "threading", "dask", "ray"), default=None,
                   help="joblib backend (dask: a local dask.distributed cluster unless "
                        "DASK_SCHEDULER_ADDRESS is set; ray: ray's joblib backend)")
    p.add_argument("--no-progress", action="store_true", help="no progress line")
    p.add_argument("--memory", choices=("on", "off"), default=None,
                   help="record each fit's peak memory (tracemalloc, which slows every fit "
                        "and so inflates its time); default on with --suite, off otherwise")
    p.set_defaults(func=run)


def _dataset_grid(names: list[str] | None, n: int | None) -> dict[str, dict]:
    grid = {name: dict(DEFAULT_DATASETS.get(name, {})) for name in (names or DEFAULT_DATASETS)}
    for name, params in grid.items():
        catalog.generator(name)  # unknown names fail early with a suggestion
        if n is not None and name in catalog.SYNTHETIC:
            key = "n_units" if name in ("staggered_did_panel", "did_2x2") else "n"
            params[key] = n
    return grid


def method_option_grid(items: list[str]) -> dict[str, dict[str, Any]]:
    """``METHOD.KEY=VALUE`` flags as ``{method: {key: typed value}}``.

    >>> method_option_grid(["ipw.trim=0.01", "regression_adjustment.interacted=no"])
    {'ipw': {'trim': 0.01}, 'regression_adjustment': {'interacted': False}}
    """
    grouped: dict[str, dict[str, str]] = {}
    for key, text in parse_pairs(items, "--option").items():
        method, dot, name = key.partition(".")
        if not dot or not method or not name:
            raise OptionError(f"--option {key}={text} must look like METHOD.KEY=VALUE, "
                              "e.g. ipw.trim=0.01")
        grouped.setdefault(method, {})[name] = text
    return {method: method_options(registry.get(method), pairs, f"--option {method}.")
            for method, pairs in grouped.items()}


def list_all() -> int:
    """Print the suites and every registered method with its library and availability."""
    from ..benchmark import suites
    from ..benchmark.adapters import peer_status

    print("Suites:")
    print(report.to_markdown(suites.list_suites()))
    status = peer_status()
    rows = []
    for name in registry.names():
        spec = registry.get(name)
        library = name.split(".")[0] if "." in name else "causalkit"
        rows.append({"method": name, "library": library, "estimands": ", ".join(spec.estimands),
                     "available": status.get(library, "built in")})
    print("\nMethods:")
    import pandas as pd

    print(report.to_markdown(pd.DataFrame(rows)))
    return 0


def _backend(name: str | None) -> Any:
    """A context manager for the joblib backend ``name`` (a no-op for None)."""
    import contextlib
    import os

    import joblib

    if name is None:
        return contextlib.nullcontext()
    if name == "dask":
        from distributed import Client

        stack = contextlib.ExitStack()
        address = os.environ.get("DASK_SCHEDULER_ADDRESS")
        stack.enter_context(Client(address) if address else
                            Client(processes=False, dashboard_address=None))
        stack.enter_context(joblib.parallel_backend("dask"))
        return stack
    if name == "ray":
        from ray.util.joblib import register_ray

        register_ray()
    return joblib.parallel_backend(name)


def run(args: argparse.Namespace) -> int:
    if args.list:
        return list_all()
    start = time.perf_counter()
    if args.suite and args.datasets:
        raise OptionError("give either --suite or --datasets, not both")
    if args.out:
        report.check_out_dir(args.out)   # before the run, not after it
    reps = args.reps if args.reps is not None else (None if args.suite else DEFAULT_REPS)
    datasets = None if args.suite else _dataset_grid(args.datasets, args.n)
    params = {"n": args.n} if args.suite and args.n is not None else None
    with _backend(args.backend):
        result = run_benchmark(methods=args.methods, datasets=datasets, reps=reps,
                               n_jobs=None if args.backend in ("dask", "ray") else args.n_jobs,
                               seed=args.seed, alpha=args.alpha, adjustment=args.adjustment,
                               options=method_option_grid(args.option),
                               progress=False if args.no_progress else None,
                               suite=args.suite, suite_params=params, out=args.out,
                               memory=(args.memory == "on") if args.memory else bool(args.suite))
    elapsed = time.perf_counter() - start
    if not len(result.results):
        reasons = "; ".join(result.skipped["reason"].drop_duplicates()) or "nothing to fit"
        raise OptionError(f"no fit ran: no method is compatible with the datasets ({reasons})")
    if args.suite:
        from ..benchmark.leaderboard import to_markdown_leaderboard

        print(to_markdown_leaderboard(result.summary, result.suite))
    else:
        print(report.to_markdown(result.summary, report.TABLE_COLUMNS))
    failed = result.summary[result.summary["n_failed"] > 0]
    if len(failed):
        print("\nFailures:")
        for _, row in failed.iterrows():
            print(f"- {row['method']} on {row['dataset']}: {row['failures']}")
    n_fits = len(result.results)
    n_failed = int(result.results["error"].notna().sum())
    shown = reps if reps is not None else max(int(result.results["rep"].max()) + 1, 1)
    import pandas as pd

    stored = float(pd.to_numeric(result.results.get("time_s"), errors="coerce").sum()) \
        if "time_s" in result.results else float("nan")
    from_store = ", stored ones included" if args.out else ""
    print(f"\n{n_fits} fits in {elapsed:.1f} s of wall time (the fits themselves: {stored:.1f} s"
          f"{from_store}; alpha = {args.alpha}; coverage Monte Carlo SE "
          f"~ {((1 - args.alpha) * args.alpha / shown) ** 0.5:.3f} at {shown} "
          "replications of a synthetic dataset; real datasets are fitted once)")
    if args.out:
        from ..benchmark import leaderboard

        paths = result.save(args.out)
        paths.update(leaderboard.write(result, args.out, elapsed))
        print("wrote " + ", ".join(dict.fromkeys(paths.values())))
    if n_failed == n_fits:
        print(f"causalkit: error: every one of the {n_fits} fits failed (see Failures above)",
              file=sys.stderr)
        return 1
    return 0
