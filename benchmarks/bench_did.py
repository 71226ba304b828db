"""Benchmark of the difference-in-differences estimators: agreement and speed.

* Callaway–Sant'Anna (``callaway_santanna``) against the ``csdid`` package (a Python
  port of R ``did``) on mpdta and on a synthetic staggered panel: estimates, analytic
  standard errors and the time ratio.  Skipped gracefully when csdid is not installed.
* ``twfe`` against the statsmodels dummy-variable (LSDV) regression: time ratio.

Run ``python benchmarks/bench_did.py`` (or ``--quick`` for small sizes).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from causalkit.panel.callaway_santanna import callaway_santanna
from causalkit.panel.twfe import twfe

MPDTA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mpdta.csv"


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def staggered_panel(n_units: int, n_periods: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohorts = rng.choice([0, 3, 5, 7], n_units)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(1, n_periods + 1), n_units)
    g = cohorts[unit]
    x = rng.normal(size=n_units)[unit]
    e = t - g
    effect = np.where((g > 0) & (e >= 0), 1.0 + 0.3 * e, 0.0)
    y = rng.normal(size=n_units)[unit] + 0.2 * t + 0.5 * x * t / n_periods + effect \
        + rng.normal(size=unit.size)
    return pd.DataFrame({"id": unit, "t": t, "g": g, "x": x, "y": y})


def csdid_fit(df, y, g, i, t, covariate, control_group, method):
    from csdid.att_gt import ATTgt

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ATTgt(yname=y, gname=g, idname=i, tname=t, data=df,
                    xformla=f"{y}~{covariate or 1}", control_group=control_group
                    ).fit(est_method=method, bstrap=False)
        out.aggte(typec="simple")
    return float(out.atte["overall_att"]), float(out.atte["overall_se"])


def compare_cs(df, cols, label, repeat):
    y, g, i, t, covariate_name = cols
    try:
        import csdid  # noqa: F401
        have = True
    except ImportError:
        have = False
        print("  csdid not installed: reference column skipped")
    print(f"\n{label}: {df[i].nunique()} units x {df[t].nunique()} periods")
    print(f"  {'setting':<34}{'causalkit':>11}{'csdid':>11}{'|diff|':>10}"
          f"{'SE ck':>9}{'SE csdid':>10}")
    for covariate in (None, covariate_name):
        for control in ("nevertreated", "notyettreated"):
            for method in ("dr", "reg", "ipw"):
                if covariate is None and method != "dr":
                    continue
                ours = callaway_santanna(
                    df, y, i, t, g, covariates=[covariate] if covariate else None,
                    control_group="never_treated" if control == "nevertreated"
                    else "not_yet_treated", est_method=method)
                setting = f"{method}, {control}, x={covariate or '-'}"
                if have:
                    ref, ref_se = csdid_fit(df, y, g, i, t, covariate, control, method)
                    print(f"  {setting:<34}{ours.estimate:>11.6f}{ref:>11.6f}"
                          f"{abs(ours.estimate - ref):>10.1e}{ours.std_error:>9.5f}"
                          f"{ref_se:>10.5f}")
                else:
                    print(f"  {setting:<34}{ours.estimate:>11.6f}{'-':>11}{'-':>10}"
                          f"{ours.std_error:>9.5f}{'-':>10}")
    ours_t = best_time(lambda: callaway_santanna(df, y, i, t, g), repeat)
    line = f"  time (dr, never treated, no covariates): causalkit {ours_t * 1e3:.1f} ms"
    if have:
        ref_t = best_time(lambda: csdid_fit(df, y, g, i, t, None, "nevertreated", "dr"),
                          repeat)
        line += f", csdid {ref_t * 1e3:.1f} ms, ratio csdid/causalkit {ref_t / ours_t:.1f}x"
    print(line)


def compare_twfe(df, repeat):
    df = df.assign(d=((df.g > 0) & (df.t >= df.g)).astype(int))
    ours = twfe(df, "y", "id", "t", treatment="d")
    ref = smf.ols("y ~ d + C(id) + C(t)", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["id"]})
    ours_t = best_time(lambda: twfe(df, "y", "id", "t", treatment="d"), repeat)
    ref_t = best_time(lambda: smf.ols("y ~ d + C(id) + C(t)", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["id"]}), repeat)
    print(f"\nTWFE on {df.id.nunique()} units: estimate {ours.estimate:.6f} vs statsmodels "
          f"LSDV {ref.params['d']:.6f} (|diff| {abs(ours.estimate - ref.params['d']):.1e}); "
          f"time causalkit {ours_t * 1e3:.1f} ms, LSDV {ref_t * 1e3:.1f} ms, "
          f"ratio {ref_t / ours_t:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    if MPDTA.exists():
        compare_cs(pd.read_csv(MPDTA), ("lemp", "first.treat", "countyreal", "year", "lpop"),
                   "mpdta", repeat)
    else:
        print(f"mpdta not found at {MPDTA}: skipped")
    n_units = 300 if args.quick else 3000
    panel = staggered_panel(n_units, 8)
    compare_cs(panel, ("y", "g", "id", "t", "x"), "synthetic staggered panel", repeat)
    compare_twfe(staggered_panel(200 if args.quick else 1000, 8), repeat)


if __name__ == "__main__":
    main()
