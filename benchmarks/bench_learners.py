"""Benchmark of the heterogeneous-effect learners against econml's own estimators.

Part 1 (accuracy): a design with known CATE (5 uniform covariates, about 12%
treated with a propensity depending on x0, strong non-linear baseline,
tau(x) = 1 + 3 x0 + 3 x1), ``--reps`` replications (default 50) at ``--n``
(default 5,000). For each learner: mean sqrt(PEHE), mean ATE bias and ATE RMSE
(against the sample mean of tau), for causalkit and for econml's corresponding
estimator fitted with the same base models on the same data; for the learners
with analytic inference (DR-learner, causal forest) also the 95% CI coverage.

Part 2 (speed): n = 100,000 rows and 10 covariates; each learner's fit +
predict time (CATE on the 100,000 training rows and on 10,000 new rows, plus
the per-row intervals for the causal forest, i.e. the outputs our Effect
holds) next to econml's same estimator producing the same outputs, in the same
run, interleaved, best of ``--repeats``. Bootstrap standard errors are off
(``n_bootstrap=0``) on both sides; they are the same refits either way.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/bench_learners.py [--quick]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from econml.dml import CausalForestDML, NonParamDML
from econml.dr import DRLearner
from econml.metalearners import SLearner, TLearner, XLearner

import causalkit
from causalkit.cate._metalearners import (default_classifier, default_effect_regressor,
                                                default_regressor)

LEARNERS = ["s_learner", "t_learner", "x_learner", "dr_learner", "r_learner", "causal_forest"]
warnings.filterwarnings("ignore")


def simulate(n: int, d: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The known-CATE design (columns x0..x{d-1}, t, y) and the true CATE."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, d))
    t = rng.binomial(1, 1 / (1 + np.exp(2.0 - 0.5 * X[:, 0])))
    tau = 1 + 3 * X[:, 0] + 3 * X[:, 1]
    base = 4 * X[:, 0] + 3 * np.sin(np.pi * X[:, 2]) + 2 * X[:, 3] ** 2
    covs = [f"x{j}" for j in range(d)]
    df = pd.DataFrame(X, columns=covs).assign(t=t, y=base + t * tau + rng.normal(size=n))
    return df, tau, covs


def econml_estimator(method: str):
    """econml's estimator with the same models and settings as our default."""
    reg, clf, eff = default_regressor, default_classifier, default_effect_regressor
    return {
        "s_learner": lambda: SLearner(overall_model=reg()),
        "t_learner": lambda: TLearner(models=reg()),
        "x_learner": lambda: XLearner(models=reg(), cate_models=eff(), propensity_model=clf()),
        "dr_learner": lambda: DRLearner(model_regression=reg(), model_propensity=clf(),
                                        model_final=eff(), cv=5, min_propensity=0.01,
                                        random_state=0),
        "r_learner": lambda: NonParamDML(model_y=reg(), model_t=clf(), model_final=eff(),
                                         discrete_treatment=True, cv=5, random_state=0),
        "causal_forest": lambda: CausalForestDML(model_y=reg(), model_t=clf(),
                                                 discrete_treatment=True, cv=5,
                                                 n_estimators=100, min_samples_leaf=10,
                                                 random_state=0, n_jobs=1),
    }[method]()


def ours(method: str, df: pd.DataFrame, covs: list[str]):
    return causalkit.estimate(df, "t", "y", method=method, covariates=covs, n_bootstrap=0)


def one_replication(rep: int, n: int, with_econml: bool = True) -> list[dict]:
    """Every learner (and econml's, when ``with_econml``) on replication ``rep``."""
    warnings.filterwarnings("ignore")
    df, tau, covs = simulate(n, 5, 1000 + rep)
    X, sate = df[covs].to_numpy(), tau.mean()
    rows = []
    for method in LEARNERS:
        eff = ours(method, df, covs)
        ref_cate, ref_ate = np.full(n, np.nan), np.nan
        if with_econml:
            ref = econml_estimator(method)
            ref.fit(df.y.to_numpy(), df.t.to_numpy(), X=X)
            ref_cate = np.ravel(ref.effect(X))
            ref_ate = (float(np.ravel(ref.ate_)[0]) if method == "causal_forest"
                       else float(ref_cate.mean()))
        rows.append({"method": method, "rep": rep,
                     "pehe": np.sqrt(np.mean((eff.cate - tau) ** 2)),
                     "econml_pehe": np.sqrt(np.mean((ref_cate - tau) ** 2)),
                     "ate_err": eff.estimate - sate, "econml_ate_err": ref_ate - sate,
                     "covered": (eff.ci_low < sate < eff.ci_high)
                     if np.isfinite(eff.std_error) else np.nan})
    print(f"  replication {rep + 1} done", flush=True)
    return rows


def accuracy(reps: int, n: int, jobs: int = 1, econml_reps: int | None = None) -> pd.DataFrame:
    """Summary table; econml's estimators are refitted on the first ``econml_reps``
    replications (all by default) and their columns average over those."""
    from joblib import Parallel, delayed

    k = reps if econml_reps is None else econml_reps
    per_rep = Parallel(n_jobs=jobs)(delayed(one_replication)(rep, n, rep < k)
                                    for rep in range(reps))
    res = pd.DataFrame([row for rows in per_rep for row in rows])
    summary = res.groupby("method", sort=False).agg(
        sqrt_pehe=("pehe", "mean"), econml_sqrt_pehe=("econml_pehe", "mean"),
        pehe_sd=("pehe", "std"), ate_bias=("ate_err", "mean"),
        econml_ate_bias=("econml_ate_err", "mean"),
        ate_rmse=("ate_err", lambda v: float(np.sqrt(np.mean(v ** 2)))),
        ci_coverage=("covered", "mean"))
    both = res.dropna(subset=["econml_pehe"])
    summary["econml_reps"] = both.groupby("method", sort=False).rep.count()
    summary["pehe_same_reps"] = both.groupby("method", sort=False).pehe.mean()
    summary["max_abs_pehe_diff"] = both.assign(
        d=(both.pehe - both.econml_pehe).abs()).groupby("method", sort=False).d.max()
    return summary


def timing(n: int, d: int, repeats: int, methods: list[str] = LEARNERS) -> pd.DataFrame:
    df, _, covs = simulate(n, d, 7)
    new, _, _ = simulate(10_000, d, 8)
    X, Xn, y, t = df[covs].to_numpy(), new[covs].to_numpy(), df.y.to_numpy(), df.t.to_numpy()
    ours("s_learner", df.iloc[:500], covs)  # warm-up: registry import, first-call costs
    rows = []
    for method in methods:
        best_ours = best_ref = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            eff = ours(method, df, covs)
            eff.predict_cate(new)
            best_ours = min(best_ours, time.perf_counter() - start)
            start = time.perf_counter()
            ref = econml_estimator(method)
            ref.fit(y, t, X=X)
            ref.effect(X)
            if method == "causal_forest":
                ref.effect_interval(X)
            ref.effect(Xn)
            best_ref = min(best_ref, time.perf_counter() - start)
        rows.append({"method": method, "causalkit_s": best_ours, "econml_s": best_ref,
                     "overhead_pct": 100 * (best_ours / best_ref - 1)})
        print(f"  {method}: causalkit {best_ours:.2f}s, econml {best_ref:.2f}s", flush=True)
    return pd.DataFrame(rows).set_index("method")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 reps at n=2000; timing n=20000")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--timing-n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1, help="processes for the replications")
    parser.add_argument("--econml-reps", type=int, default=None,
                        help="refit econml on only the first K replications (default: all)")
    parser.add_argument("--methods", nargs="+", default=LEARNERS, choices=LEARNERS,
                        help="learners to time")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.n, args.timing_n, args.repeats = 3, 2000, 20_000, 1
    pd.set_option("display.width", 160)
    if not args.skip_accuracy:
        print(f"Known-CATE design: {args.reps} replications, n = {args.n}")
        print(accuracy(args.reps, args.n, args.jobs, args.econml_reps).round(4).to_string())
    if not args.skip_timing:
        print(f"\nFit + predict time, n = {args.timing_n}, 10 covariates "
              f"(best of {args.repeats}, same run)")
        print(timing(args.timing_n, 10, args.repeats, args.methods).round(3).to_string())


if __name__ == "__main__":
    main()
