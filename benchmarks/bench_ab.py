"""Benchmark: raw rows to a full A/B result, causalkit vs statsmodels OLS vs tea-tasting.

10,000,000 rows (``--quick``: 1,000,000), two arms, one mean metric.  Each
contender goes from the pandas DataFrame of raw rows to the treatment effect
with its standard error and p-value:

* causalkit: ``experiments.analyze`` (Welch t, relative lift, SRM check, table);
* statsmodels: OLS of the metric on an intercept and the arm indicator with HC2
  errors (the HC2 SE of a binary regressor equals the Welch/Neyman SE), and
  plain OLS (classical pooled-variance SE) as the cheapest statsmodels path;
* tea-tasting: ``Experiment(y=Mean("y")).analyze``, run by the reference
  interpreter (``/tmp/refenv/bin/python`` or ``$CAUSALKIT_REFENV_PYTHON``) on
  the same data in the same run; skipped with a note when unavailable.

Every timing is the best of ``--repeat`` runs after one warm-up; the script
also checks that the three agree on the estimate and the p-value.

``--busy`` times causalkit's ``analyze`` quiet and then beside ``--busy-procs``
(2) busy background processes (pure-Python spin loops, one per process), and
reports both (best and median of the repeats, with the load average at each
phase) and their ratio; the reduction does not depend on the BLAS thread
pool, so the two should stay within 1.5x.  "Quiet" means without *our* busy
processes: on a shared machine other work may be running, which the load
averages show.

``--warehouse`` times the database path instead: a DuckDB table of ``--rows``
rows (default 10^7; ``--rows 100000000`` for 10^8) is generated *inside*
DuckDB (two arms; a mean metric ``y``, a CUPED metric on ``y`` with the
pre-period ``y_pre``, and a ratio metric ``clicks / sessions``), and
causalkit's ``analyze`` on the Ibis table (aggregates computed in DuckDB,
:mod:`causalkit.experiments.warehouse`) is timed next to tea-tasting's Ibis
path (``Experiment(...).analyze(ibis_table)``: its aggregates are also
computed in DuckDB) in the same process, on the same connection (DuckDB
``--threads``, default 1), with both times, the ratio, the estimates and
p-values of both, and the peak Python memory (tracemalloc) of causalkit's run.

Usage: ``python benchmarks/bench_ab.py [--quick] [--rows N] [--repeat R] [--busy | --warehouse
[--threads T] [--database FILE]]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

REFENV = os.environ.get("CAUSALKIT_REFENV_PYTHON", "/tmp/refenv/bin/python")


def make_data(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    variant = rng.integers(0, 2, rows)
    y = rng.normal(10.0, 3.0, rows) + 0.01 * variant
    return pd.DataFrame({"variant": variant, "y": y})


def timings(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    out = fn()  # warm-up (imports, page faults)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = timings(fn, repeat)
    return min(times), out


def run_causalkit(df: pd.DataFrame) -> dict[str, float]:
    from causalkit.experiments import analyze

    row = analyze(df, "variant", "y", control=0).table.iloc[0]
    return {"estimate": float(row["estimate"]), "std_error": float(row["std_error"]),
            "p_value": float(row["p_value"])}


def run_statsmodels(df: pd.DataFrame, cov_type: str = "HC2") -> dict[str, float]:
    import statsmodels.api as sm

    t = df["variant"].to_numpy(dtype=float)
    X = np.column_stack([np.ones(len(t)), t])
    fit = sm.OLS(df["y"].to_numpy(), X).fit(cov_type=cov_type)
    return {"estimate": float(fit.params[1]), "std_error": float(fit.bse[1]),
            "p_value": float(fit.pvalues[1])}


def run_tea(df: pd.DataFrame) -> dict[str, float]:
    import tea_tasting as tt

    res = tt.Experiment(y=tt.Mean("y"), variant="variant").analyze(df).to_pandas().iloc[0]
    return {"estimate": float(res["effect_size"]), "std_error": float("nan"),
            "p_value": float(res["pvalue"])}


def tea_in_subprocess(path: str, repeat: int) -> dict[str, Any] | str:
    """Time tea-tasting with the reference interpreter on the saved data."""
    if not Path(REFENV).exists():
        return f"skipped: {REFENV} not found"
    code = (
        "import sys, json, numpy as np, pandas as pd\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "import bench_ab as b\n"
        f"d = np.load({path!r})\n"
        "df = pd.DataFrame({'variant': d['variant'], 'y': d['y']})\n"
        f"t, out = b.best_time(lambda: b.run_tea(df), {repeat})\n"
        "print(json.dumps({'seconds': t, **out}))\n")
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    proc = subprocess.run([REFENV, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return "skipped: tea-tasting failed: " + proc.stderr.strip().splitlines()[-1]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _spin(stop: Any) -> None:
    """A busy background process: a pure-Python loop until told to stop."""
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def reference_workload(df: pd.DataFrame) -> float:
    """A single-threaded, BLAS-free pass over the metric of similar cost (the scheduler's baseline)."""
    y = df["y"].to_numpy()
    return float(np.square(y - y[0]).sum() + np.abs(y).sum())


def quiet_vs_busy(df: pd.DataFrame, repeat: int, procs: int = 2) -> dict[str, Any]:
    """Time ``analyze`` (and the reference workload) without, then beside, busy processes.

    Quiet and busy repeats are interleaved in pairs (busy processes started and
    stopped around each busy repeat), so a change in the machine's other load
    during the run affects both phases alike.
    """
    out: dict[str, Any] = {"quiet": [], "busy": [], "ref_quiet": [], "ref_busy": [],
                           "quiet_load": [], "busy_load": [], "procs": procs}
    run_causalkit(df)                                          # warm-up
    for _ in range(repeat):
        for phase in ("quiet", "busy"):
            stop = multiprocessing.Event()
            workers = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
                       for _ in range(procs if phase == "busy" else 0)]
            for w in workers:
                w.start()
            try:
                time.sleep(0.5)                                # let them take the CPUs
                out[phase + "_load"].append(os.getloadavg()[0])
                start = time.perf_counter()
                run_causalkit(df)
                out[phase].append(time.perf_counter() - start)
                start = time.perf_counter()
                reference_workload(df)
                out["ref_" + phase].append(time.perf_counter() - start)
            finally:
                stop.set()
                for w in workers:
                    w.join(timeout=10)
    return out


def report_busy(r: dict[str, Any], rows: int) -> None:
    import threadpoolctl

    pools = ", ".join(f"{i['internal_api']} {i['num_threads']} threads"
                      for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")
    print(f"causalkit analyze on {rows:,} rows, {len(r['quiet'])} interleaved repeats per phase; "
          f"{os.cpu_count()} cpus; BLAS: {pools or 'none'}")
    for phase in ("quiet", "busy"):
        t, ref = np.asarray(r[phase]), np.asarray(r["ref_" + phase])
        label = "quiet" if phase == "quiet" else f"beside {r['procs']} busy processes"
        print(f"  {label:<28} analyze best {t.min():.3f} s, median {np.median(t):.3f} s; "
              f"reference best {ref.min():.3f} s (load average {np.mean(r[phase + '_load']):.2f})")
    ratio = min(r["busy"]) / min(r["quiet"])
    ref_ratio = min(r["ref_busy"]) / min(r["ref_quiet"])
    verdict = "within" if ratio <= 1.5 else "OUTSIDE"
    print(f"  busy / quiet: analyze {ratio:.2f}x ({verdict} 1.5x); the single-threaded reference "
          f"{ref_ratio:.2f}x, so analyze's own slowdown beyond the CPU share is "
          f"{ratio / ref_ratio:.2f}x")


# ---------------------------------------------------------------- the warehouse path (Ibis / DuckDB)
WAREHOUSE_SQL = """
CREATE OR REPLACE TABLE ab AS
WITH r AS (SELECT i, random() AS u1, random() AS u2, random() AS u3, random() AS u4,
                  random() AS u5 FROM range({rows}) t(i))
SELECT CAST(i % 2 AS INTEGER) AS variant,
       10 + 3 * sqrt(-2 * ln(1 - u1)) * cos(2 * pi() * u2) AS y_pre,
       CAST(1 + floor(-ln(1 - u3) * 4) AS DOUBLE) AS sessions,
       u4 AS u, u5 AS v
FROM r;
CREATE OR REPLACE TABLE ab AS
SELECT variant, y_pre,
       0.6 * y_pre + 4 + 2.4 * sqrt(-2 * ln(1 - u)) * cos(2 * pi() * v) + 0.01 * variant AS y,
       sessions, floor(sessions * (0.3 + 0.0005 * variant) + u) AS clicks
FROM ab;
"""


def warehouse_table(rows: int, threads: int, seed: float = 0.25, database: str = ":memory:",
                    memory_limit: str = "4GB") -> Any:
    """An Ibis table over a DuckDB table of ``rows`` rows generated inside DuckDB.

    ``database`` a file keeps a 10^8-row table on disk (DuckDB spills past
    ``memory_limit``) instead of in memory.
    """
    import ibis

    con = ibis.duckdb.connect(database=database, threads=threads, memory_limit=memory_limit)
    con.raw_sql(f"SELECT setseed({seed})")
    for stmt in WAREHOUSE_SQL.format(rows=int(rows)).split(";"):
        if stmt.strip():
            con.raw_sql(stmt)
    return con.table("ab")


def run_causalkit_ibis(table: Any) -> dict[str, dict[str, float]]:
    from causalkit.experiments import Metric, analyze

    res = analyze(table, "variant", ["y", Metric("y_cuped", column="y", covariate="y_pre"),
                                      Metric("ctr", column="clicks", denominator="sessions")],
                  control=0, correction="none")
    return {r.metric: {"estimate": float(r.estimate), "p_value": float(r.p_value)}
            for r in res.table.itertuples()}


def run_tea_ibis(table: Any) -> dict[str, dict[str, float]]:
    import tea_tasting as tt

    exp = tt.Experiment(y=tt.Mean("y"), y_cuped=tt.Mean("y", covariate="y_pre"),
                        ctr=tt.RatioOfMeans("clicks", "sessions"), variant="variant")
    res = exp.analyze(table, control=0).to_pandas()
    return {r.metric: {"estimate": float(r.effect_size), "p_value": float(r.pvalue)}
            for r in res.itertuples()}


def warehouse(rows: int, repeat: int, threads: int, database: str = ":memory:") -> int:
    import tracemalloc

    start = time.perf_counter()
    table = warehouse_table(rows, threads, database=database)
    made = time.perf_counter() - start
    print(f"A/B warehouse benchmark: DuckDB table of {rows:,} rows generated inside DuckDB in "
          f"{made:.1f} s (DuckDB threads = {threads}; 2 arms; metrics y, y CUPED on y_pre, "
          f"clicks / sessions); best of {repeat} after a warm-up")
    t_ck, out_ck = best_time(lambda: run_causalkit_ibis(table), repeat)
    tracemalloc.start()
    run_causalkit_ibis(table)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    try:
        t_tea, out_tea = best_time(lambda: run_tea_ibis(table), repeat)
    except ImportError:
        print(f"causalkit analyze(Ibis table): {t_ck:.3f} s (peak Python memory "
              f"{peak / 2**20:.1f} MiB); tea-tasting: skipped, not installed "
              "(pip install tea-tasting)")
        return 0
    print(f"{'contender':<34}{'seconds':>10}{'vs causalkit':>14}")
    print(f"{'causalkit analyze (Ibis)':<34}{t_ck:>10.3f}{1.0:>13.2f}x")
    print(f"{'tea-tasting Experiment (Ibis)':<34}{t_tea:>10.3f}{t_tea / t_ck:>13.2f}x")
    print(f"ratio tea-tasting / causalkit = {t_tea / t_ck:.2f}; causalkit peak Python memory "
          f"{peak / 2**20:.1f} MiB")
    print(f"{'metric':<10}{'causalkit est.':>16}{'tea est.':>16}{'causalkit p':>14}{'tea p':>14}")
    for name in out_ck:
        a, b = out_ck[name], out_tea[name]
        flag = "" if abs(a["estimate"] - b["estimate"]) <= 1e-4 * max(1e-3, abs(a["estimate"])) \
            and abs(a["p_value"] - b["p_value"]) <= max(1e-6, 0.02 * a["p_value"]) else "  DIFFERS"
        print(f"{name:<10}{a['estimate']:>16.8g}{b['estimate']:>16.8g}{a['p_value']:>14.6g}"
              f"{b['p_value']:>14.6g}{flag}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000 rows, 2 repeats")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--busy", action="store_true",
                        help="time causalkit quiet and beside busy background processes")
    parser.add_argument("--busy-procs", type=int, default=2)
    parser.add_argument("--warehouse", action="store_true",
                        help="time analyze on an Ibis/DuckDB table next to tea-tasting's Ibis path")
    parser.add_argument("--threads", type=int, default=1, help="DuckDB threads (--warehouse)")
    parser.add_argument("--database", default=":memory:",
                        help="DuckDB file for the generated table (--warehouse; default in memory)")
    args = parser.parse_args(argv)
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    repeat = args.repeat or (2 if args.quick else 3)
    if args.warehouse:
        return warehouse(rows, repeat, args.threads, args.database)
    df = make_data(rows)
    if args.busy:
        report_busy(quiet_vs_busy(df, max(repeat, 5), args.busy_procs), rows)
        return 0
    print(f"A/B benchmark: {rows:,} rows, 2 arms, 1 metric; best of {repeat} "
          f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, {os.cpu_count()} cpus)")

    results: dict[str, dict[str, Any]] = {}
    t, out = best_time(lambda: run_causalkit(df), repeat)
    results["causalkit analyze"] = {"seconds": t, **out}
    t, out = best_time(lambda: run_statsmodels(df), repeat)
    results["statsmodels OLS HC2"] = {"seconds": t, **out}
    t, out = best_time(lambda: run_statsmodels(df, "nonrobust"), repeat)
    results["statsmodels OLS plain"] = {"seconds": t, **out}   # pooled SE: not Welch
    try:
        import tea_tasting  # noqa: F401
        t, out = best_time(lambda: run_tea(df), repeat)
        results["tea-tasting Mean"] = {"seconds": t, **out}
    except ImportError:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ab.npz")
            np.savez(path, variant=df["variant"].to_numpy(), y=df["y"].to_numpy())
            tea = tea_in_subprocess(path, repeat)
        if isinstance(tea, str):
            print(f"tea-tasting: {tea}")
        else:
            results["tea-tasting Mean"] = tea

    base = results["causalkit analyze"]
    print(f"{'contender':<22}{'seconds':>10}{'vs causalkit':>14}{'estimate':>14}{'p-value':>12}")
    for name, r in results.items():
        print(f"{name:<22}{r['seconds']:>10.3f}{r['seconds'] / base['seconds']:>13.1f}x"
              f"{r['estimate']:>14.6g}{r['p_value']:>12.6g}")
    for name, r in results.items():
        if abs(r["estimate"] - base["estimate"]) > 1e-9 * max(1.0, abs(base["estimate"])) or \
                abs(r["p_value"] - base["p_value"]) > max(1e-6, 0.01 * base["p_value"]):
            print(f"WARNING: {name} disagrees with causalkit")
    target = 0.3 if rows >= 10_000_000 else None
    if target is not None:
        verdict = "meets" if base["seconds"] < target else "MISSES"
        print(f"causalkit {verdict} the {target} s target at {rows:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
