"""Minimal and minimum vertex separators in a moral graph, restricted to allowed nodes.

These are the workhorses of adjustment-set search.  After moralizing the
ancestral graph of X ∪ Y ∪ I, a set Z with I ⊆ Z ⊆ R d-separates X and Y iff it
separates them in the moral graph (Lauritzen; van der Zander, Liśkiewicz &
Textor 2019, Lemma 3), so the searches below run on undirected adjacency dicts:

* :func:`find_minimal_separator` — FindMinSep of van der Zander et al. (2019):
  two reachability passes, linear in the size of the moral graph.
* :func:`list_minimal_separators` — every I-minimal separator with polynomial
  delay, Takata's (2010) close-separator backtracking, generalized so that
  nodes outside R are never cut (they are "transparent" to the closure).
* :func:`minimum_separator` — a minimum-weight separator from a max-flow /
  min-cut on the node-split graph (networkx flow).

Example
-------
>>> adj = {"x": {"a", "b"}, "a": {"x", "y"}, "b": {"x", "y"}, "y": {"a", "b"}}
>>> sorted(map(sorted, list_minimal_separators(adj, {"x"}, {"y"}, set(), {"a", "b"})))
[['a', 'b']]
"""

from __future__ import annotations

from collections import deque
from typing import Hashable, Iterable, Iterator, Mapping

import networkx as nx

Node = Hashable
Adjacency = Mapping[Node, set]


def _reach(adj: Adjacency, start: Iterable[Node], blocked: set[Node]) -> set[Node]:
    """Nodes reachable from ``start`` without entering ``blocked``."""
    seen = {s for s in start if s not in blocked}
    queue = deque(seen)
    while queue:
        v = queue.popleft()
        for w in adj[v]:
            if w not in seen and w not in blocked:
                seen.add(w)
                queue.append(w)
    return seen


def _touched(adj: Adjacency, start: Iterable[Node], stop: set[Node],
             blocked: set[Node]) -> set[Node]:
    """Nodes of ``stop`` reached from ``start`` by paths whose inner nodes avoid stop ∪ blocked."""
    seen = set(start)
    hit: set[Node] = set()
    queue = deque(seen)
    while queue:
        v = queue.popleft()
        for w in adj[v]:
            if w in seen or w in blocked:
                continue
            seen.add(w)
            if w in stop:
                hit.add(w)
            else:
                queue.append(w)
    return hit


def find_minimal_separator(adj: Adjacency, xs: set[Node], ys: set[Node], include: set[Node],
                           allowed: set[Node]) -> frozenset | None:
    """An ``include``-minimal separator Z, include ⊆ Z ⊆ include ∪ allowed, or None.

    >>> adj = {"x": {"m"}, "m": {"x", "y"}, "y": {"m"}}
    >>> sorted(find_minimal_separator(adj, {"x"}, {"y"}, set(), {"m"}))
    ['m']
    """
    cand = (set(allowed) & set(adj)) - xs - ys - include
    blocked = set(include)
    if _reach(adj, xs, blocked | cand) & ys:
        return None
    z1 = _touched(adj, xs, cand, blocked)
    z2 = _touched(adj, ys, z1, blocked)
    return frozenset(z2 | include)


def list_minimal_separators(adj: Adjacency, xs: set[Node], ys: set[Node], include: set[Node],
                            allowed: set[Node]) -> Iterator[frozenset]:
    """Yield every ``include``-minimal X-Y separator inside include ∪ allowed.

    Polynomial delay: each step computes a close separator by reachability, and
    every branch of the backtracking either outputs a separator or is cut after
    one step (Takata 2010; van der Zander et al. 2019, Alg. ListMinSep).  The
    first set output is the separator closest to X, found in linear time.
    """
    if find_minimal_separator(adj, xs, ys, include, allowed) is None:
        return
    inc = set(include)
    eligible = (set(allowed) & set(adj)) - xs - ys - inc
    graph = {v: nbrs - inc for v, nbrs in adj.items() if v not in inc}

    def closure(a: set[Node]) -> tuple[set[Node], set[Node]]:
        """A plus every non-eligible node reachable through non-eligible nodes; its boundary."""
        comp = set(a)
        queue = deque(comp)
        bound: set[Node] = set()
        while queue:
            v = queue.popleft()
            for w in graph[v]:
                if w in comp:
                    continue
                if w in eligible:
                    bound.add(w)
                else:
                    comp.add(w)
                    queue.append(w)
        return comp, bound

    _, forced = closure(set(ys))          # nodes adjacent to Y's side: never on X's side
    stack: list[tuple[set[Node], frozenset]] = [(set(xs), frozenset(forced))]
    while stack:
        a, u = stack.pop()
        comp, bound = closure(a)
        if comp & ys:
            continue
        cb = _reach(graph, ys, bound)
        sep = {w for v in cb for w in graph[v] if w not in cb}
        ca = _reach(graph, comp, sep)
        if ca & u:
            continue                       # barren branch
        # S itself is the separator of this branch with all of S outside X's side;
        # the others move one more node v_i of S to X's side, with v_1..v_{i-1} kept in S.
        yield frozenset(sep | inc)
        free = sorted(sep - u, key=repr)
        for i in range(len(free) - 1, -1, -1):
            stack.append((ca | {free[i]}, u | set(free[:i])))


def minimum_separator(adj: Adjacency, xs: set[Node], ys: set[Node], include: set[Node],
                      allowed: set[Node], weights: Mapping[Node, float] | None = None
                      ) -> frozenset | None:
    """A minimum-weight separator (default weight 1 per node) by max-flow/min-cut, or None.

    Each allowed node v becomes an arc v_in -> v_out of capacity weight(v);
    other nodes and all moral edges have infinite capacity.

    >>> adj = {"x": {"a", "b"}, "a": {"x", "c"}, "b": {"x", "c"}, "c": {"a", "b", "y"}, "y": {"c"}}
    >>> sorted(minimum_separator(adj, {"x"}, {"y"}, set(), {"a", "b", "c"}))
    ['c']
    """
    if find_minimal_separator(adj, xs, ys, include, allowed) is None:
        return None
    inc = set(include)
    eligible = (set(allowed) & set(adj)) - xs - ys - inc
    flow = nx.DiGraph()
    src, snk = ("__source__",), ("__sink__",)
    for v, nbrs in adj.items():
        if v in inc:
            continue
        if v in eligible:
            w = 1.0 if weights is None else float(weights.get(v, 1.0))
            flow.add_edge((v, 0), (v, 1), capacity=w)
        else:
            flow.add_edge((v, 0), (v, 1))
        for u in nbrs:
            if u not in inc:
                flow.add_edge((v, 1), (u, 0))
    for x in xs:
        flow.add_edge(src, (x, 0))
    for y in ys:
        flow.add_edge((y, 1), snk)
    _, (side, _) = nx.minimum_cut(flow, src, snk)
    cut = {v for v in eligible if (v, 0) in side and (v, 1) not in side}
    return frozenset(cut | inc)
