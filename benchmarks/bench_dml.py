"""Speed of dml_plr / dml_pliv against DoubleML's DoubleMLPLR / DoubleMLPLIV at n = 10^6.

Same data, same scikit-learn models (passed to both), same folds (ours, given to
DoubleML by ``set_sample_splitting``), in the same run, interleaved; best of
``--repeats`` wall-clock times of the full fit (nuisances, score, SE).  Each
row also prints the largest difference between the two estimates and SEs, so
the speed is for the same numbers.  Cases: the partialling-out and IV-type PLR
and the PLIV with ``LinearRegression`` everywhere, the PLR with a binary
treatment and ``LogisticRegression`` for ``ml_m`` and, with ``--hgb``, a small
``HistGradientBoostingRegressor`` (20 trees).

Where the gain comes from: with OLS nuisances (``LinearRegression()`` with its
defaults, or the default ``None``) every fold's fit is solved from the full
Gram matrix minus the test fold's (one O(n p^2) pass for all folds and all
targets, :func:`causalkit.nuisance.ols_out_of_fold`), where DoubleML refits
``LinearRegression`` per fold and target; other models are fitted as DoubleML
does, and the ratio is then near 1.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/bench_dml.py [--n 1000000] [--repeats 2] [--hgb]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import doubleml as dml
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalkit
from causalkit.nuisance import repeated_folds

warnings.filterwarnings("ignore")


def make_data(n: int, p: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    z = X[:, 0] + rng.normal(size=n)
    u = rng.normal(size=n)
    d = 0.5 * z + X[:, :3].sum(axis=1) + u
    b = (rng.uniform(size=n) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["z"], df["d"], df["b"] = z, d, b
    df["y"] = 0.7 * d + X[:, 1] - X[:, 2] + 0.5 * u + rng.normal(size=n)
    df["yb"] = 0.7 * b + X[:, 1] + rng.normal(size=n)
    return df


def timed(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--hgb", action="store_true")
    args = parser.parse_args()
    df = make_data(args.n)
    covs = [c for c in df.columns if c.startswith("x")]
    splits = repeated_folds(len(df), 5, 1, 0)
    lin, logit = LinearRegression(), LogisticRegression()
    cases = [
        ("PLR partialling out, LinearRegression", "dml_plr", "y", "d", None,
         dict(ml_l=lin, ml_m=lin), dict(ml_l=lin, ml_m=lin)),
        ("PLR IV-type, LinearRegression", "dml_plr", "y", "d", None,
         dict(ml_l=lin, ml_m=lin, ml_g=lin, score="IV-type"),
         dict(ml_l=lin, ml_m=lin, ml_g=lin, score="IV-type")),
        ("PLR binary d, Linear + LogisticRegression", "dml_plr", "yb", "b", None,
         dict(ml_l=lin, ml_m=logit), dict(ml_l=lin, ml_m=logit)),
        ("PLIV partialling out, LinearRegression", "dml_pliv", "y", "d", "z",
         dict(ml_l=lin, ml_m=lin, ml_r=lin), dict(ml_l=lin, ml_m=lin, ml_r=lin)),
    ]
    if args.hgb:
        hgb = HistGradientBoostingRegressor(max_iter=20, random_state=0)
        cases.append(("PLR partialling out, HistGradientBoosting(20)", "dml_plr", "y", "d", None,
                      dict(ml_l=hgb, ml_m=hgb), dict(ml_l=hgb, ml_m=hgb)))
    small = make_data(2000)                 # warm-up: imports and the registry, both sides
    causalkit.estimate(small, "d", "y", method="dml_plr", covariates=covs)
    dml.DoubleMLPLR(dml.DoubleMLData(small, "y", "d", covs), lin, lin).fit()
    print(f"n = {len(df):,}, {len(covs)} covariates, 5 folds, best of {args.repeats}")
    print(f"{'case':48s} {'causalkit s':>11s} {'DoubleML s':>11s} {'ratio':>7s} "
          f"{'|d est|':>9s} {'|d se|':>9s}")
    for name, method, y, d, z, ours_kw, ref_kw in cases:
        roles = {"instrument": z} if z else {}

        def ours():
            return causalkit.estimate(df, d, y, method=method, covariates=covs, **roles,
                                      random_state=0, **ours_kw)

        def theirs():
            data = dml.DoubleMLData(df, y, d, covs, z_cols=z)
            cls = dml.DoubleMLPLIV if z else dml.DoubleMLPLR
            kw = dict(ref_kw)
            args_ = [kw.pop("ml_l"), kw.pop("ml_m")] + ([kw.pop("ml_r")] if z else [])
            model = cls(data, *args_, draw_sample_splitting=False, **kw)
            model.set_sample_splitting(splits)
            return model.fit(store_predictions=True)

        t_ours, eff = timed(ours, args.repeats)
        t_ref, ref = timed(theirs, args.repeats)
        print(f"{name:48s} {t_ours:11.2f} {t_ref:11.2f} {t_ref / t_ours:6.1f}x "
              f"{abs(eff.estimate - ref.coef[0]):9.1e} {abs(eff.std_error - ref.se[0]):9.1e}",
              flush=True)


if __name__ == "__main__":
    main()
