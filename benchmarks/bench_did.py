"""Benchmark of the difference-in-differences estimators: agreement and speed.

* Callaway–Sant'Anna (``callaway_santanna``) against the ``csdid`` package (a Python
  port of R ``did``) on mpdta and on a synthetic staggered panel: estimates, analytic
  standard errors and the time ratio.  Skipped gracefully when csdid is not installed.
* ``twfe`` against the statsmodels dummy-variable (LSDV) regression: time ratio.
* The wild cluster bootstrap (``bootstrap="wild"``, 9999 Rademacher draws, 50 state
  clusters) of ``did`` on a panel of 10^5 units x 20 periods against ``wildboottest`` on
  the same regression: p-values and the time ratio (ours includes the test-inversion CI,
  which wildboottest does not compute).
* ``honest_did`` against the ``honestdid`` port on an event study: robust sets and time.
* ``dcdh`` (DID_M and DID_1..3 with placebos, 200 bootstrap draws) against diff-diff's
  ``ChaisemartinDHaultfoeuille`` (analytic SEs) on a panel of 10^5 units x 20 periods
  whose treatment switches on and off.

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


def compare_wild(n_units: int, n_periods: int, repeat: int) -> None:
    from causalkit.panel.did import did

    rng = np.random.default_rng(1)
    state = rng.integers(0, 50, n_units)
    treated = (state < 20).astype(int)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    post = (t >= n_periods // 2).astype(int)
    g = treated[unit]
    y = (rng.normal(size=50)[state][unit] + 0.1 * t + 0.02 * g * post
         + rng.normal(size=unit.size))
    df = pd.DataFrame({"g": g, "post": post, "y": y, "state": state[unit]})
    print(f"\nwild cluster bootstrap: did on {n_units} units x {n_periods} periods "
          f"({len(df)} rows), 50 state clusters, 9999 Rademacher draws")
    ours = did(df, "g", "y", post="post", cluster="state", bootstrap="wild")
    ours_t = best_time(lambda: did(df, "g", "y", post="post", cluster="state",
                                   bootstrap="wild"), repeat)
    line = f"  causalkit p = {ours.p_value:.4f} CI [{ours.ci_low:.4f}, {ours.ci_high:.4f}]"
    try:
        import statsmodels.api as sm
        from wildboottest.wildboottest import wildboottest
    except ImportError:
        print(line + f", {ours_t:.2f} s; wildboottest not installed: reference skipped")
        return
    X = pd.DataFrame({"const": 1.0, "g": df.g, "post": df.post, "gp": df.g * df.post})

    def ref():
        return wildboottest(sm.OLS(df.y, X), B=9999, cluster=df.state.to_numpy(),
                            param="gp", seed=0, show=False)

    from causalkit.wild_bootstrap import wild_cluster_bootstrap

    ref_p = float(ref()["p-value"].iloc[0])
    ref_t = best_time(ref, repeat)
    arrays = (df.y.to_numpy(), X.to_numpy(), [0, 0, 0, 1.0], df.state.to_numpy())
    core_t = best_time(lambda: wild_cluster_bootstrap(*arrays, check_rank=False), repeat)
    print(line + f"; wildboottest p = {ref_p:.4f}")
    print(f"  time: the bootstrap (p-value and test-inversion CI) {core_t:.2f} s, wildboottest "
          f"(p-value) {ref_t:.2f} s, ratio wildboottest/causalkit {ref_t / core_t:.1f}x; the "
          f"whole did call with bootstrap='wild' {ours_t:.2f} s")


def compare_honest(repeat: int) -> None:
    from causalkit.panel.event_study import event_study
    from causalkit.panel.honest import event_study_inputs, honest_did

    rng = np.random.default_rng(21)                  # the example of tests/test_honest_did.py
    n, T = 400, 6
    unit, t = np.repeat(np.arange(n), T), np.tile(np.arange(T), n)
    g = np.repeat(np.where(np.arange(n) < 200, 4, 0), T)
    y = (rng.normal(size=n)[unit] + 0.1 * t + 0.03 * (g > 0) * t
         + np.where((g > 0) & (t >= g), 0.5, 0.0) + rng.normal(size=n * T))
    df = pd.DataFrame({"id": unit, "t": t, "g": g, "y": y})
    eff = event_study(df, "y", "id", "t", cohort="g")
    beta, sigma, n_pre, _ = event_study_inputs(eff)
    n_post = beta.size - n_pre
    ours_t = best_time(lambda: honest_did(eff, Mbar=[0.5, 1.0], method="conditional",
                                          breakdown=False), repeat)
    ours = honest_did(eff, Mbar=[0.5, 1.0], method="conditional", breakdown=False).table
    print(f"\nhonest_did (relative magnitudes, conditional) on {n_pre} leads, {n_post} lags:")
    try:
        import honestdid as hd
    except ImportError:
        print(f"  causalkit {ours.to_dict('list')}, {ours_t:.2f} s; honestdid not installed")
        return

    def ref():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return hd.createSensitivityResults_relativeMagnitudes(
                beta, sigma, n_pre, n_post, method="Conditional", Mbarvec=[0.5, 1.0])

    start = time.perf_counter()
    try:
        out = ref()
    except Exception as err:                       # noqa: BLE001 - report the reference's failure
        print(f"  causalkit {ours.to_dict('list')}, {ours_t:.2f} s; honestdid failed: "
              f"{type(err).__name__}: {err}")
        return
    ref_t = time.perf_counter() - start
    for (m, lo, hi), (rlo, rhi) in zip(ours.itertuples(index=False), zip(out.lb, out.ub)):
        print(f"  Mbar {m}: causalkit [{lo:.4f}, {hi:.4f}]  honestdid [{rlo:.4f}, {rhi:.4f}]")
    print(f"  time causalkit {ours_t:.2f} s, honestdid {ref_t:.2f} s, "
          f"ratio honestdid/causalkit {ref_t / ours_t:.1f}x")


def compare_dcdh(n_units: int, n_periods: int, repeat: int) -> None:
    from causalkit.panel.dcdh import dcdh

    rng = np.random.default_rng(3)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    start = rng.integers(1, n_periods + 5, n_units)[unit]
    stop = rng.integers(1, n_periods, n_units)[unit]
    d = ((t >= start) & (t < start + stop)).astype(int)
    y = rng.normal(size=n_units)[unit] + 0.1 * t + d + rng.normal(size=unit.size)
    df = pd.DataFrame({"id": unit, "t": t, "d": d, "y": y})
    print(f"\ndcdh on {n_units} units x {n_periods} periods (switching on and off):")
    ours = dcdh(df, "d", "y", "id", "t", effects=3)
    ours_t = best_time(lambda: dcdh(df, "d", "y", "id", "t", effects=3), repeat)
    line = f"  causalkit DID_M {ours.estimate:.5f} (SE {ours.std_error:.5f}), {ours_t:.2f} s"
    try:
        from diff_diff.chaisemartin_dhaultfoeuille import ChaisemartinDHaultfoeuille
    except ImportError:
        print(line + "; diff-diff not installed")
        return

    def ref():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ChaisemartinDHaultfoeuille(drop_larger_lower=False, twfe_diagnostic=False
                                              ).fit(df, outcome="y", unit="id", time="t",
                                                    treatment="d", L_max=3)

    start = time.perf_counter()
    out = ref()
    ref_t = time.perf_counter() - start
    print(line + f"; diff-diff DID_M {out.overall_att:.5f} (SE {out.overall_se:.5f}), "
          f"{ref_t:.2f} s; ratio diff-diff/causalkit {ref_t / ours_t:.1f}x")


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
    compare_wild(2000 if args.quick else 100_000, 20, repeat)
    compare_honest(repeat)
    compare_dcdh(2000 if args.quick else 100_000, 20, repeat)


if __name__ == "__main__":
    main()
