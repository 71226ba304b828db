"""Back-door paths: listed one by one, each marked open or blocked given a set.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> dag = CausalDAG([("Z", "X"), ("Z", "Y"), ("X", "Y")])
>>> [str(p) for p in dag.backdoor_paths("X", "Y", given={"Z"})]
['X <- Z -> Y: blocked by Z (non-collider in the set)']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence

import networkx as nx

from ._graphs import ancestors_of
from .graph import CausalDAG, NodeSet

Node = Hashable


def render_trail(dag: CausalDAG, trail: Sequence[Node]) -> str:
    """``X <- Z -> Y`` for a trail; latent parents of bidirected edges become ``<->``."""
    g = dag.graph
    parts = [str(trail[0])]
    i = 1
    while i < len(trail):
        a, b = trail[i - 1], trail[i]
        if (dag.is_bidirected_latent(b) and i + 1 < len(trail)
                and g.has_edge(b, a) and g.has_edge(b, trail[i + 1])):
            parts += ["<->", str(trail[i + 1])]
            i += 2
            continue
        parts += ["->" if g.has_edge(a, b) else "<-", str(b)]
        i += 1
    return " ".join(parts)


@dataclass(frozen=True)
class BackdoorPath:
    """One back-door path and its status given a conditioning set."""

    nodes: tuple
    text: str
    open: bool
    blocked_by: tuple  # ((node, role), ...)
    opened_by: tuple   # ((collider, conditioned node), ...)

    def __str__(self) -> str:
        if self.open:
            how = "; ".join(f"collider {c} opened by conditioning on {d}"
                            for c, d in self.opened_by)
            return f"{self.text}: open" + (f" ({how})" if how else "")
        why = "; ".join(f"{n} ({role})" for n, role in self.blocked_by)
        return f"{self.text}: blocked by {why}"


def backdoor_paths(dag: CausalDAG, x: NodeSet | None = None, y: NodeSet | None = None,
                   given: NodeSet = (), max_paths: int = 1000) -> list[BackdoorPath]:
    """All paths from a treatment to an outcome that start with an edge into the treatment.

    Paths through another treatment are skipped (they are covered by that
    treatment's own paths).  Nodes marked selected are always in the
    conditioning set.  Listing is exponential in the worst case, so at most
    ``max_paths`` are returned; use it to inspect, and the adjustment functions to
    decide.
    """
    xs, ys = dag._treatment_outcome(x, y)
    z = dag._optional(given, "conditioning set") | dag.selected
    g = dag.graph
    an_z = ancestors_of(g, z)
    skeleton = g.to_undirected(as_view=True)
    out: list[BackdoorPath] = []
    for xn in sorted(xs, key=str):
        for yn in sorted(ys, key=str):
            for first in sorted(g._pred[xn], key=str):
                sub = nx.subgraph_view(skeleton, filter_node=lambda n: n != xn
                                       and (n not in xs) and (n == yn or n not in ys))
                if first == yn:
                    paths = [[first]]
                elif first in xs:
                    continue
                else:
                    paths = nx.all_simple_paths(sub, first, yn)
                for rest in paths:
                    out.append(_classify(dag, [xn, *rest], z, an_z))
                    if len(out) >= max_paths:
                        return out
    return out


def _classify(dag: CausalDAG, path: list, z: frozenset, an_z: set) -> BackdoorPath:
    g = dag.graph
    blocked, opened = [], []
    for i in range(1, len(path) - 1):
        a, v, b = path[i - 1], path[i], path[i + 1]
        collider = g.has_edge(a, v) and g.has_edge(b, v)
        if collider:
            if v in z:
                opened.append((v, v))
            elif v in an_z:
                witness = sorted((w for w in z if nx.has_path(g, v, w)), key=str)[0]
                opened.append((v, witness))
            else:
                blocked.append((v, "collider not conditioned on"))
        elif v in z:
            blocked.append((v, "non-collider in the set"))
    return BackdoorPath(tuple(path), render_trail(dag, path), not blocked,
                        tuple(blocked), tuple(opened))
