"""Wall time of the benchmark runner itself: 8 estimators x 6 datasets x 50 reps.

Runs the same grid with ``n_jobs=1`` and ``n_jobs=2`` (joblib's loky backend;
the second time with its workers already started) and prints the wall times
and the speed-ups.  On a machine shared with other work the speed-up says more
about the load than about the runner: the load average is printed too.  The results of the two runs are
checked to be identical (seeding does not depend on the number of jobs).

    python benchmarks/bench_runner.py            # 50 replications
    python benchmarks/bench_runner.py --quick    # 5 replications
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one BLAS thread per worker

import numpy as np  # noqa: E402

from causalkit import registry  # noqa: E402
from causalkit.benchmark import run  # noqa: E402

PREFERRED = ["difference_in_means", "regression_adjustment", "ipw", "aipw",
             "propensity_matching", "iv_2sls", "rdd", "did"]
FILLERS = ["t_learner", "s_learner", "twfe", "callaway_santanna"]
DATASETS = {"randomized": {"n": 500}, "linear_confounding": {"n": 500}, "m_bias": {"n": 500},
            "iv_unobserved_confounder": {"n": 500}, "sharp_rd": {"n": 1000},
            "did_2x2": {"n_units": 300}}


def methods() -> list[str]:
    names = set(registry.names())
    chosen = [m for m in PREFERRED if m in names]
    chosen += [m for m in FILLERS if m in names][: max(0, 8 - len(chosen))]
    return chosen[:8]


def timed(n_jobs: int, reps: int, chosen: list[str]):
    start = time.perf_counter()
    res = run(chosen, DATASETS, reps=reps, n_jobs=n_jobs, seed=0, progress=False)
    return time.perf_counter() - start, res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 replications instead of 50")
    parser.add_argument("--reps", type=int, default=None)
    args = parser.parse_args()
    reps = args.reps or (5 if args.quick else 50)
    chosen = methods()
    print(f"estimators ({len(chosen)}): {', '.join(chosen)}")
    print(f"datasets ({len(DATASETS)}): {', '.join(DATASETS)}; replications: {reps}")
    t1, r1 = timed(1, reps, chosen)
    t2, r2 = timed(2, reps, chosen)      # cold: includes starting the loky workers
    t2w, _ = timed(2, reps, chosen)      # warm: loky reuses its workers
    same = np.allclose(r1.results["estimate"], r2.results["estimate"], equal_nan=True)
    n_fits = len(r1.results)
    print(f"compatible (estimator, dataset) pairs: {r1.summary.shape[0]}; fits per run: {n_fits}; "
          f"failed fits: {int(r1.results['error'].notna().sum())}")
    print(f"n_jobs=1: {t1:7.1f} s  ({1000 * t1 / n_fits:.1f} ms per fit)")
    print(f"n_jobs=2: {t2:7.1f} s cold (worker start-up included), {t2w:.1f} s warm")
    print(f"speed-up n_jobs=2 vs 1: {t1 / t2:.2f}x cold, {t1 / t2w:.2f}x warm   "
          f"(identical results: {same})")
    print(f"machine: {os.cpu_count()} logical CPUs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
