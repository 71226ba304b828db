"""Wall time of propensity matching, IPW and AIPW, and the ratio against DoWhy.

Data: n rows, 10 standard-normal covariates, logistic propensity, linear outcome
with a constant effect of 1.  causalkit runs at n = 1,000,000 (``--quick``:
100,000).  Matching is also timed on the same design with binary covariates
(1,024 distinct scores, so each match set holds about a thousand tied controls):
ties must not cost more than the sort.  DoWhy's ``backdoor.propensity_score_matching`` and
``backdoor.propensity_score_weighting`` run at increasing n (10^4, 10^5, 10^6)
until the next size is predicted (linear extrapolation of the last time, x10)
to exceed ``--dowhy-budget`` seconds; the ratio is taken at the largest n DoWhy
finished, against causalkit at that same n, in the same run.

Run with the reference environment, which has DoWhy::

    OMP_NUM_THREADS=1 /tmp/refenv/bin/python benchmarks/bench_observational.py [--quick]

Every timing is the best of ``--repeat`` runs (default 3) for both libraries,
and the load average is printed, since the machine is shared.
Without DoWhy the DoWhy columns are skipped.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

import causalkit

P = 10


def make_data(n: int, seed: int = 0, tied: bool = False) -> pd.DataFrame:
    """The benchmark design; ``tied``: binary covariates (2^P cells of tied scores)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(n, P)) * 2.0 - 1.0 if tied else rng.normal(size=(n, P))
    beta = np.linspace(-0.5, 0.5, P)
    t = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ beta)))).astype(int)
    y = 1.0 * t + X @ np.linspace(1.0, 0.1, P) + rng.normal(size=n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(P)])
    df["t"], df["y"] = t, y
    return df


COVS = [f"x{j}" for j in range(P)]

CK_RUNS = {
    "matching (ATT, k=1)": ("propensity_matching", {}),
    "matching (ATE, k=1)": ("propensity_matching", {"estimand": "ATE"}),
    "matching (ATT, no repl.)": ("propensity_matching", {"replace": False}),
    "ipw (ATE, Hajek)": ("ipw", {}),
    "aipw (ATE, 5-fold)": ("aipw", {"random_state": 0}),
}
TIED_RUNS = {
    "matching (ATT, k=1)": ("propensity_matching", {}),
    "matching (ATE, k=1)": ("propensity_matching", {"estimand": "ATE"}),
    "matching (ATT, no repl.)": ("propensity_matching", {"replace": False}),
}
DOWHY_RUNS = {
    "matching (ATT, k=1)": ("backdoor.propensity_score_matching", "att"),
    "ipw (ATE, Hajek)": ("backdoor.propensity_score_weighting", "ate"),
}


REPEAT = 1


def best_of(run):
    """Run ``run()`` REPEAT times; the fastest wall time (least disturbed by other load)."""
    results = [run() for _ in range(REPEAT)]
    return min(r[0] for r in results), results[0][1]


def time_causalkit(df: pd.DataFrame, method: str, options: dict) -> tuple[float, float]:
    return time_effect(df, method, options)[:2]


def time_effect(df: pd.DataFrame, method: str, options: dict) -> tuple[float, float, dict]:
    """Best wall time, estimate and diagnostics of one causalkit call."""
    def run() -> tuple[float, tuple[float, dict]]:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eff = causalkit.estimate(df, "t", "y", method=method, covariates=COVS, **options)
        return time.perf_counter() - start, (eff.estimate, eff.diagnostics)
    seconds, (estimate, diagnostics) = best_of(run)
    return seconds, estimate, diagnostics


def time_dowhy(df: pd.DataFrame, method: str, target: str) -> tuple[float, float]:
    from dowhy import CausalModel

    data = df.assign(t=df["t"].astype(bool))

    def run() -> tuple[float, float]:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = CausalModel(data=data, treatment="t", outcome="y", common_causes=COVS)
            estimand = model.identify_effect(proceed_when_unidentifiable=True)
            params = ({"weighting_scheme": "ips_normalized_weight"} if "weighting" in method
                      else {})
            est = model.estimate_effect(estimand, method_name=method, target_units=target,
                                        method_params=params)
        return time.perf_counter() - start, float(est.value)
    return best_of(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n = 100,000 and a small budget")
    parser.add_argument("--n", type=int, default=None, help="rows for causalkit")
    parser.add_argument("--dowhy-budget", type=float, default=None,
                        help="seconds one DoWhy call may take (default 120; quick 20)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timings are the best of this many runs, for both libraries "
                             "(default 3; quick 1)")
    args = parser.parse_args()
    global REPEAT
    REPEAT = args.repeat or (1 if args.quick else 3)
    n = args.n or (100_000 if args.quick else 1_000_000)
    print("load average (1, 5, 15 min) at start: "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg()) + f"; best of {REPEAT} run(s)")
    budget = args.dowhy_budget or (20.0 if args.quick else 120.0)

    warm = make_data(2_000)
    for method, options in CK_RUNS.values():     # imports and first-call costs out of the timings
        time_causalkit(warm, method, options)
    df = make_data(n)
    print(f"causalkit at n = {n:,}, {P} covariates (true effect 1.0); every causalkit time "
          "includes validation, the propensity fit, standard errors and the balance table")
    ck = {}
    for label, (method, options) in CK_RUNS.items():
        seconds, est = time_causalkit(df, method, options)
        ck[label] = seconds
        print(f"  {label:<24} {seconds:8.2f} s   estimate {est:.4f}")
    tied = make_data(n, tied=True)
    print(f"same design, binary covariates ({2**P:,} distinct scores: ties everywhere)")
    for label, (method, options) in TIED_RUNS.items():
        seconds, est, diag = time_effect(tied, method, options)
        if "largest_match_set" in diag:
            sets = (f"   (largest match set {diag['largest_match_set']:,}, "
                    f"{diag['n_match_sets_enlarged_by_ties']:,} sets enlarged by ties)")
        elif "n_ties_settled_by_rule" in diag:
            sets = f"   ({diag['n_ties_settled_by_rule']:,} ties settled by rule)"
        else:
            sets = ""
        print(f"  {label:<24} {seconds:8.2f} s   estimate {est:.4f}{sets}")

    try:
        import dowhy  # noqa: F401
    except ImportError:
        print("DoWhy not importable here: skipping the reference columns "
              "(run with /tmp/refenv/bin/python)")
        return
    print(f"\nDoWhy {dowhy.__version__}: largest n finishing within {budget:.0f} s per call "
          "(DoWhy computes no standard error unless asked; its time is the point estimate)")
    for label, (method, target) in DOWHY_RUNS.items():
        done_n, done_t, last = None, None, 0.0
        for size in (10_000, 100_000, 1_000_000):
            predicted = last * size / done_n if done_n else 0.0   # linear extrapolation
            if size > n or predicted > budget:
                if size <= n:
                    print(f"  {label:<22} DoWhy n={size:>9,} skipped: predicted "
                          f"{predicted:.0f} s > budget")
                break
            seconds, est = time_dowhy(make_data(size), method, target)
            done_n, done_t, last = size, seconds, seconds
            print(f"  {label:<22} DoWhy n={size:>9,} {seconds:8.2f} s   estimate {est:.4f}")
            if seconds > budget:
                break
        if done_n is None:
            continue
        ours, _ = time_causalkit(make_data(done_n), *CK_RUNS[label])
        print(f"  {label:<22} causalkit n={done_n:>9,} {ours:8.2f} s   "
              f"ratio DoWhy/causalkit = {done_t / ours:6.1f}x  (same n, same run)")
    print("load average at end: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
