"""Speed of adjustment-set search on random sparse DAGs, next to DoWhy and pgmpy.

For random DAGs of 100, 500 and 2,000 nodes (expected degree 3; a random
topological order, each pair joined with probability 3 / (n - 1)), with X a
random node in the middle third of the order and Y a random descendant of X, it times

* causalkit: the first minimal adjustment set (polynomial-delay listing) and the
  optimal set O(X, Y), each checked for validity with the generalized adjustment
  criterion through ``networkx.is_d_separator``;
* DoWhy ``identify_effect_auto`` (default backdoor search) and pgmpy
  ``CausalInference.get_minimal_adjustment_set``, each in a forked subprocess
  with a per-call timeout; their returned set is checked the same way.

It also times reading DAGitty text: ``CausalDAG.from_dagitty`` on models of 10,000
and 100,000 nodes (two parents per node, one ``a -> b`` statement per edge) next to
building the same graph from its edge list, ``CausalDAG(edges)``, in the same run.

Run: ``python benchmarks/bench_dag.py`` (DoWhy/pgmpy need /tmp/refenv/bin/python;
the columns are skipped when the import fails), ``--quick`` for a short run,
``--parse-only`` for the DAGitty timing alone.

Section "ID algorithm" (:func:`bench_id_algorithm`, ``--id-only`` to run just it):
random sparse ADMGs of 100, 500 and 2,000 nodes (expected directed degree 3,
expected bidirected degree 1.5, a random topological order), Y the node with the
most ancestors among 20 random late nodes and X a random ancestor of Y; times
causalkit's ``identify_id`` (latent projection included) and, when y0 imports,
y0's ``identify_outcomes`` on the same graph in a forked subprocess with a
timeout, and checks that both give the same yes/no.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
import warnings

import networkx as nx
import numpy as np

from causalkit.dags import CausalDAG
from causalkit.dags.adjustment import AdjustmentProblem, iter_minimal_sets

warnings.filterwarnings("ignore")


def random_dag(n: int, degree: float, rng: np.random.Generator) -> tuple[nx.DiGraph, str, str]:
    p = degree / (n - 1)
    order = rng.permutation(n)
    g = nx.DiGraph()
    g.add_nodes_from(f"v{i}" for i in range(n))
    for i in range(n - 1):
        js = i + 1 + np.flatnonzero(rng.random(n - i - 1) < p)
        g.add_edges_from((f"v{order[i]}", f"v{order[j]}") for j in js)
    while True:
        x = f"v{order[rng.integers(n // 3, 2 * n // 3)]}"
        desc = sorted(nx.descendants(g, x))
        if desc:
            return g, x, desc[rng.integers(0, len(desc))]


def is_valid(dag: CausalDAG, x: str, y: str, z) -> bool:
    return z is not None and bool(dag.is_valid_adjustment(x, y, set(z)))


def _dowhy(g, x, y, q):
    from dowhy.causal_identifier import EstimandType, identify_effect_auto

    t = time.perf_counter()
    est = identify_effect_auto(g, [x], [y], list(g.nodes), EstimandType.NONPARAMETRIC_ATE)
    q.put((time.perf_counter() - t, est.get_backdoor_variables()))


def _pgmpy(g, x, y, q):
    from pgmpy.base import DAG
    from pgmpy.inference import CausalInference

    model = DAG(g.edges)
    model.add_nodes_from(g.nodes)
    t = time.perf_counter()
    z = CausalInference(model).get_minimal_adjustment_set(x, y)
    q.put((time.perf_counter() - t, z))


def run_reference(fn, g, x, y, timeout):
    """(seconds, answer) or (None, 'timeout'/'error: ...') from a forked subprocess."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=fn, args=(g, x, y, q))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None, "timeout"
    if proc.exitcode != 0 or q.empty():
        return None, f"error (exit {proc.exitcode})"
    return q.get()


def available(module: str) -> bool:
    try:
        __import__(module)
        return True
    except Exception:
        return False


def dagitty_text(n: int, rng: np.random.Generator) -> tuple[list, str]:
    """A DAG of n nodes, each with (up to) two random earlier parents, and its DAGitty text."""
    edges = [(f"v{i}", f"v{j}") for j in range(1, n)
             for i in rng.choice(j, size=min(j, 2), replace=False)]
    return edges, "dag {\n" + "\n".join(f"{a} -> {b}" for a, b in edges) + "\n}"


def best_of(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_parse(sizes: tuple[int, ...] = (10_000, 100_000), repeat: int = 3) -> None:
    """Seconds to read DAGitty text vs to build from the edge list (best of ``repeat``)."""
    rng = np.random.default_rng(13)
    print(f"{'nodes':>8} {'edges':>8} {'text MB':>8} {'from_dagitty s':>15} "
          f"{'CausalDAG(edges) s':>19} {'ratio':>6}")
    for n in sizes:
        edges, text = dagitty_text(n, rng)
        assert CausalDAG.from_dagitty(text) == CausalDAG(edges)
        t_text = best_of(lambda: CausalDAG.from_dagitty(text), repeat)
        t_edges = best_of(lambda: CausalDAG(edges), repeat)
        print(f"{n:>8} {len(edges):>8} {len(text) / 1e6:>8.2f} {t_text:>15.3f} "
              f"{t_edges:>19.3f} {t_text / t_edges:>6.1f}", flush=True)


def random_admg(n: int, degree: float, bi_degree: float, rng: np.random.Generator
                ) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]], str, str]:
    """Random ADMG in a random topological order, and a query (x, y) with y late and x in An(y)."""
    names = [f"v{i}" for i in rng.permutation(n)]
    directed, bidirected = [], []
    for i in range(n - 1):
        for j in i + 1 + np.flatnonzero(rng.random(n - i - 1) < degree / (n - 1)):
            directed.append((names[i], names[j]))
        for j in i + 1 + np.flatnonzero(rng.random(n - i - 1) < bi_degree / (n - 1)):
            bidirected.append((names[i], names[j]))
    g = nx.DiGraph(directed)
    g.add_nodes_from(names)
    late = [names[int(k)] for k in rng.integers(int(0.8 * n), n, size=20)]
    y = max(late, key=lambda v: len(nx.ancestors(g, v)))
    anc = sorted(nx.ancestors(g, y)) or [names[0]]
    return names, directed, bidirected, anc[int(rng.integers(0, len(anc)))], y


def _y0(names, directed, bidirected, x, y, q):
    from y0.algorithm.identify.api import identify_outcomes
    from y0.dsl import Variable
    from y0.graph import NxMixedGraph

    g = NxMixedGraph()
    for v in names:
        g.add_node(Variable(v))
    for a, b in directed:
        g.add_directed_edge(a, b)
    for a, b in bidirected:
        g.add_undirected_edge(a, b)
    t = time.perf_counter()
    out = identify_outcomes(g, {Variable(x)}, {Variable(y)})
    q.put((time.perf_counter() - t, out is not None))


def bench_id_algorithm(sizes: tuple[int, ...], n_graphs: int, timeout: float) -> None:
    """The ID algorithm section (see the module docstring)."""
    from causalkit.dags.id_algorithm import identify_id

    has_y0 = available("y0")
    print("\nID algorithm: P(y | do(x)) on random sparse ADMGs"
          + ("" if has_y0 else " (y0 not importable: its column is skipped)"))
    print(f"{'nodes':>6} {'graph':>5} {'|An(y)|':>8} {'identified':>10} {'causalkit ms':>13} "
          + (f"{'y0 ms':>12} {'agree':>6}" if has_y0 else ""))
    rng = np.random.default_rng(2006)
    worst: dict[int, float] = {}
    for n in sizes:
        for k in range(n_graphs):
            names, directed, bidirected, x, y = random_admg(n, 3.0, 1.5, rng)
            t0 = time.perf_counter()
            dag = CausalDAG(directed, bidirected=bidirected, nodes=names)
            est = identify_id(dag, x, y)
            secs = time.perf_counter() - t0
            worst[n] = max(worst.get(n, 0.0), secs)
            n_anc = len(nx.ancestors(nx.DiGraph(directed), y))
            cells = ""
            if has_y0:
                ctx = mp.get_context("fork")
                q = ctx.Queue()
                proc = ctx.Process(target=_y0, args=(names, directed, bidirected, x, y, q))
                proc.start()
                proc.join(timeout)
                if proc.is_alive():
                    proc.terminate()
                    proc.join()
                    cells = f"{'timeout':>12} {'-':>6}"
                elif proc.exitcode != 0 or q.empty():
                    cells = f"{'error':>12} {'-':>6}"
                else:
                    ysecs, yok = q.get()
                    cells = f"{ysecs * 1e3:>12.1f} {str(yok == est.identified):>6}"
            print(f"{n:>6} {k:>5} {n_anc:>8} {str(est.identified):>10} {secs * 1e3:>13.1f} "
                  + cells, flush=True)
    print("slowest causalkit ID answer per size: "
          + ", ".join(f"{n} nodes {s * 1e3:.0f} ms" for n, s in worst.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 graphs of 100 and 500 nodes")
    ap.add_argument("--timeout", type=float, default=None, help="per reference call, seconds")
    ap.add_argument("--graphs", type=int, default=None, help="graphs per size")
    ap.add_argument("--parse-only", action="store_true", help="only the DAGitty parse timing")
    ap.add_argument("--id-only", action="store_true", help="only the ID algorithm section")
    args = ap.parse_args()
    if not args.id_only:
        print("reading DAGitty text vs building from an edge list")
        bench_parse((10_000,) if args.quick else (10_000, 100_000),
                    repeat=1 if args.quick else 3)
        if args.parse_only:
            return
        print()
    sizes = (100, 500) if args.quick else (100, 500, 2000)
    n_graphs = args.graphs or (2 if args.quick else 5)
    timeout = args.timeout or (10.0 if args.quick else 60.0)
    if args.id_only:
        bench_id_algorithm(sizes, n_graphs, timeout)
        return
    refs = [(name, fn) for name, fn, mod in (("DoWhy identify_effect", _dowhy, "dowhy"),
                                             ("pgmpy minimal set", _pgmpy, "pgmpy"))
            if available(mod)]
    missing = {"dowhy", "pgmpy"} - {m for m in ("dowhy", "pgmpy") if available(m)}
    if missing:
        print(f"(skipping {', '.join(sorted(missing))}: not importable in this Python)")
    rng = np.random.default_rng(2026)
    print(f"{'nodes':>6} {'graph':>5} {'first minimal ms':>17} {'optimal ms':>11} "
          f"{'|O|':>4} " + " ".join(f"{name:>28}" for name, _ in refs))
    summary: dict[tuple[int, str], list] = {}
    for n in sizes:
        for k in range(n_graphs):
            g, x, y = random_dag(n, 3.0, rng)
            t0 = time.perf_counter()
            dag = CausalDAG.from_networkx(g)
            first = next(iter(iter_minimal_sets(AdjustmentProblem.build(dag, x, y))), None)
            t1 = time.perf_counter()
            opt = dag.adjustment_sets(x, y, kind="optimal")
            t2 = time.perf_counter()
            assert is_valid(dag, x, y, first) and is_valid(dag, x, y, opt[0]), "invalid set"
            summary.setdefault((n, "first"), []).append(t1 - t0)
            summary.setdefault((n, "optimal"), []).append(t2 - t1)
            cells = []
            for name, fn in refs:
                secs, ans = run_reference(fn, g, x, y, timeout)
                if secs is None:
                    cells.append(f"{ans:>28}")
                    summary.setdefault((n, name), []).append(None)
                    continue
                ok = "valid" if is_valid(dag, x, y, ans) else "WRONG/none"
                cells.append(f"{secs * 1e3:>12.1f} ms {ok:>6} |{len(ans or ()):>3}|")
                summary.setdefault((n, name), []).append(secs)
            print(f"{n:>6} {k:>5} {(t1 - t0) * 1e3:>17.1f} {(t2 - t1) * 1e3:>11.1f} "
                  f"{len(opt[0]):>4} " + " ".join(cells), flush=True)
    print("\nmedians (ms); ratio = reference / causalkit first minimal set")
    for n in sizes:
        ours = statistics.median(summary[(n, "first")]) * 1e3
        line = (f"{n:>6} nodes: causalkit first minimal {ours:.1f}, optimal "
                f"{statistics.median(summary[(n, 'optimal')]) * 1e3:.1f}")
        for name, _ in refs:
            done = [s for s in summary[(n, name)] if s is not None]
            timeouts = len(summary[(n, name)]) - len(done)
            if done:
                med = statistics.median(done) * 1e3
                line += f"; {name} {med:.1f} (x{med / ours:.0f})"
            if timeouts:
                line += f" [{timeouts} timeout(s) > {timeout:.0f} s]"
        print(line)
    bench_id_algorithm(sizes, n_graphs, timeout)


if __name__ == "__main__":
    main()
