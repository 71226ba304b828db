"""Reference fits for ``bench_did.py``: the Python ``synthdid`` and ``pysyncon`` packages.

Run by ``bench_did.py`` as a subprocess in the environment where the reference is
installed (``synthdid`` pins numpy 1.23 / pandas 1.5), one fit per call; prints one JSON
line with the estimate and the seconds taken.  It imports no causalkit code.

    python synth_reference.py synthdid panel.csv unit time treatment outcome [--se placebo]
    python synth_reference.py pysyncon panel.csv unit time treatment outcome
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd


def run_synthdid(df: pd.DataFrame, args: argparse.Namespace) -> dict:
    from synthdid.synthdid import Synthdid

    start = time.perf_counter()
    model = Synthdid(df, args.unit, args.time, args.treatment, args.outcome).fit(
        did=args.estimator == "did")
    out = {"estimate": float(model.att), "seconds": time.perf_counter() - start}
    if args.se:
        np.random.seed(0)
        start = time.perf_counter()
        model.vcov(method=args.se)
        out.update(se=float(model.se), se_seconds=time.perf_counter() - start)
    return out


def run_pysyncon(df: pd.DataFrame, args: argparse.Namespace) -> dict:
    """Synthetic control of the (one) treated unit on every pre-period outcome."""
    from pysyncon import Synth

    start = time.perf_counter()
    wide = df.pivot(index=args.time, columns=args.unit, values=args.outcome)
    treat = df.pivot(index=args.time, columns=args.unit, values=args.treatment)
    treated = [c for c in treat.columns if treat[c].max() == 1]
    if len(treated) != 1:
        raise SystemExit("pysyncon's Synth takes exactly one treated unit")
    first = treat.index[treat[treated[0]] == 1][0]
    pre = wide.loc[wide.index < first]
    post = wide.loc[wide.index >= first]
    controls = [c for c in wide.columns if c != treated[0]]
    fit = Synth()
    fit.fit(X0=pre[controls], X1=pre[treated[0]], Z0=pre[controls], Z1=pre[treated[0]])
    w = np.asarray(fit.W)
    estimate = float((post[treated[0]] - post[controls].to_numpy() @ w).mean())
    return {"estimate": estimate, "mspe": float(fit.loss_V),
            "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", choices=["synthdid", "pysyncon"])
    parser.add_argument("csv")
    parser.add_argument("unit")
    parser.add_argument("time")
    parser.add_argument("treatment")
    parser.add_argument("outcome")
    parser.add_argument("--sep", default=",")
    parser.add_argument("--estimator", default="sdid", choices=["sdid", "did"])
    parser.add_argument("--se", default=None, choices=["placebo", "bootstrap"])
    args = parser.parse_args()
    df = pd.read_csv(args.csv, sep=args.sep)
    run = run_synthdid if args.package == "synthdid" else run_pysyncon
    print(json.dumps(run(df, args)))


if __name__ == "__main__":
    main()
