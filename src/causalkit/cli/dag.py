"""``causalkit dag adjust``: adjustment sets, back-door paths and identification of a DAG.

Example
-------
>>> from causalkit.cli import main
>>> main(["dag", "adjust", "dag { X [exposure]; Y [outcome]; Z -> X -> Y <- Z }"])
Effect of X on Y
minimal adjustment sets: {Z}
optimal adjustment set: {Z}
back-door paths (given the optimal set):
  X <- Z -> Y: blocked by Z (non-collider in the set)
Identification of the effect of X on Y: backdoor
adjusting for {Z} (optimal set) blocks every back-door path from X to Y and includes no descendant of a causal path
estimand: P(Y | do(X)) = ∑_{Z} P(Y | X, Z) P(Z)
minimal adjustment sets: {Z}
0
"""

from __future__ import annotations

import argparse

from ..errors import GraphError
from ..dags import CausalDAG
from ..dags.adjustment import KINDS
from ..dags.graph import names
from ._io import non_negative_int, positive_int, read_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dag", help="query a causal DAG (adjustment sets, identification)",
                              description="Query a causal DAG written in DAGitty syntax.")
    sub = p.add_subparsers(dest="dag_command", metavar="SUBCOMMAND")
    sub.required = True
    a = sub.add_parser("adjust", help="adjustment sets, back-door paths and identification",
                       description="Print the adjustment sets, the back-door paths and the "
                                   "identification of the effect, in words.")
    a.add_argument("text", nargs="?", help='the DAG, e.g. "dag { X [exposure]; ... }"')
    a.add_argument("--file", help="read the DAG from this file instead")
    a.add_argument("--exposure", "-x", action="append", help="treatment node (repeatable)")
    a.add_argument("--outcome", "-y", action="append", help="outcome node (repeatable)")
    a.add_argument("--kind", choices=KINDS, default="optimal",
                   help="which set identify() uses (default: optimal)")
    a.add_argument("--max-paths", type=non_negative_int, default=50, help="back-door paths to list")
    a.add_argument("--max-sets", type=positive_int, default=100, help="minimal sets to list")
    a.set_defaults(func=run)


def _fmt(sets: list) -> str:
    if not sets:
        return "none (no valid adjustment set exists)"
    return ", ".join(names(s) if s else "{} (the empty set: no adjustment needed)"
                     for s in sets)


def run(args: argparse.Namespace) -> int:
    if args.file:
        text = read_text(args.file, "the DAG file")
    elif args.text:
        text = args.text
    else:
        raise GraphError("give the DAG as an argument or with --file")
    dag = CausalDAG.from_dagitty(text)
    x, y = args.exposure, args.outcome
    xs, ys = dag._treatment_outcome(x, y)
    print(f"Effect of {', '.join(sorted(map(str, xs)))} on {', '.join(sorted(map(str, ys)))}")
    minimal = dag.adjustment_sets(xs, ys, kind="minimal", limit=args.max_sets)
    more = f" (first {args.max_sets} found)" if len(minimal) == args.max_sets else ""
    print(f"minimal adjustment sets{more}: {_fmt(minimal)}")
    opt = dag.adjustment_sets(xs, ys, kind="optimal")
    print(f"optimal adjustment set: {_fmt(opt)}")
    given = opt[0] if opt else frozenset()
    paths = dag.backdoor_paths(xs, ys, given=given, max_paths=args.max_paths)
    label = "the optimal set" if opt else "no adjustment"
    print(f"back-door paths (given {label}):" if paths else "back-door paths: none")
    for p in paths:
        print(f"  {p}")
    print(dag.identify(xs, ys, kind=args.kind))
    return 0
