"""Speed of causalkit's RD and IV against the reference libraries, in the same run.

    python benchmarks/bench_rd_iv.py [--quick]

Prints, for each sample size, the median wall time of ``causalkit.rd.rd_estimate``
(bandwidth selection + robust inference) and of ``rdrobust.rdrobust`` on the same
simulated data, their ratio and the largest absolute difference of the
estimates; then the same for ``iv_2sls`` against a bare linearmodels ``IV2SLS``
fit (causalkit also computes the first-stage F, effective F and AR set).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def _median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def bench_rd(sizes, repeats):
    from causalkit.rd import rd_estimate

    try:
        import rdrobust
    except ImportError:
        rdrobust = None
    if rdrobust is not None:  # warm-up (numba compilation of rdrobust's kernel)
        rdrobust.rdrobust(np.arange(100.0), np.linspace(-1, 1, 100))
    print(f"{'n':>8} {'causalkit s':>12} {'rdrobust s':>11} {'ratio':>7} {'max |diff|':>11}")
    for n in sizes:
        rng = np.random.default_rng(n)
        x = rng.uniform(-1, 1, n)
        y = 0.5 * x + 0.3 * (x >= 0) + rng.normal(0, 0.3, n)
        t_ck, ours = _median_time(lambda: rd_estimate(x, y, 0.0), repeats)
        if rdrobust is None:
            print(f"{n:>8} {t_ck:>12.4f} {'-':>11} {'-':>7} {'-':>11}")
            continue
        t_rd, ref = _median_time(lambda: rdrobust.rdrobust(y, x), repeats)
        diff = max(abs(ours.estimate - ref.coef.to_numpy()[0, 0]),
                   abs(ours.se_robust - ref.se.to_numpy()[2, 0]))
        print(f"{n:>8} {t_ck:>12.4f} {t_rd:>11.4f} {t_ck / t_rd:>7.2f} {diff:>11.2e}")


def bench_iv(sizes, repeats):
    import causalkit
    from linearmodels.iv import IV2SLS

    print(f"{'n':>8} {'causalkit s':>12} {'linearmodels s':>15} {'ratio':>7} {'max |diff|':>11}")
    for n in sizes:
        rng = np.random.default_rng(n)
        z = rng.normal(size=(n, 2))
        u = rng.normal(size=n)
        d = z @ [0.5, 0.3] + u + rng.normal(size=n)
        df = pd.DataFrame({"z1": z[:, 0], "z2": z[:, 1], "d": d, "y": d + u,
                           "w": rng.normal(size=n)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ck, eff = _median_time(lambda: causalkit.estimate(
                df, "d", "y", method="iv_2sls", instrument=["z1", "z2"], covariates=["w"]),
                repeats)
        exog = np.column_stack([np.ones(n), df["w"]])
        t_lm, ref = _median_time(lambda: IV2SLS(df["y"], exog, df["d"], z).fit(
            cov_type="robust"), repeats)
        diff = abs(eff.estimate - float(ref.params.iloc[-1]))
        print(f"{n:>8} {t_ck:>12.4f} {t_lm:>15.4f} {t_ck / t_lm:>7.2f} {diff:>11.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    args = parser.parse_args()
    sizes = [1_000, 5_000] if args.quick else [1_000, 10_000, 100_000]
    repeats = 2 if args.quick else 5
    print("Regression discontinuity (sharp, mserd, robust CI)")
    bench_rd(sizes, repeats)
    print("\n2SLS (two instruments, one covariate, robust SE)")
    bench_iv(sizes, repeats)


if __name__ == "__main__":
    main()
