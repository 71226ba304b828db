"""Private graph primitives on ``networkx.DiGraph`` shared by the DAG layer.

Ancestor/descendant closures of node sets, the proper causal nodes of
van der Zander, Liśkiewicz & Textor (2019), the proper back-door graph, the
moralized ancestral graph (as an adjacency dict) and a Bayes-ball search that
returns one d-connecting trail for explanations.
"""

from __future__ import annotations

from collections import deque
from typing import Hashable, Iterable

import networkx as nx

Node = Hashable


def _closure(neighbours: dict, nodes: Iterable[Node], avoid: frozenset = frozenset()
             ) -> set[Node]:
    """Closure of ``nodes`` under ``neighbours`` that never enters ``avoid``."""
    seen = {v for v in nodes if v not in avoid}
    stack = list(seen)
    while stack:
        for w in neighbours[stack.pop()]:
            if w not in seen and w not in avoid:
                seen.add(w)
                stack.append(w)
    return seen


def ancestors_of(g: nx.DiGraph, nodes: Iterable[Node]) -> set[Node]:
    """Every ancestor of ``nodes`` in ``g``, the nodes themselves included."""
    return _closure(g._pred, nodes)


def descendants_of(g: nx.DiGraph, nodes: Iterable[Node]) -> set[Node]:
    """Every descendant of ``nodes`` in ``g``, the nodes themselves included."""
    return _closure(g._succ, nodes)


def causal_nodes(g: nx.DiGraph, xs: frozenset, ys: frozenset) -> set[Node]:
    """cn(X, Y): nodes other than X on proper causal paths from X to Y.

    Descendants of X in the graph without edges into X, intersected with the
    ancestors of Y in the graph without edges out of X (van der Zander et al.
    2019, Def. 4; Henckel, Perković & Maathuis 2022).
    """
    down = _closure(g._succ, [c for x in xs for c in g._succ[x]], xs)
    up = _closure(g._pred, ys, xs)
    return down & up


def proper_backdoor_graph(g: nx.DiGraph, xs: frozenset, cn: set[Node]) -> nx.DiGraph:
    """G^pbd: ``g`` without the first edge X -> W of every proper causal path (a read-only view)."""
    return nx.restricted_view(g, (), [(x, w) for x in xs for w in g._succ[x] if w in cn])


def moral_ancestral(g: nx.DiGraph, nodes: Iterable[Node]) -> dict[Node, set[Node]]:
    """Adjacency of the moral graph of the subgraph induced by An(``nodes``)."""
    anc = ancestors_of(g, nodes)
    adj: dict[Node, set[Node]] = {v: set() for v in anc}
    for v in anc:
        parents = list(g._pred[v])  # parents of an ancestor are ancestors
        for i, p in enumerate(parents):
            adj[v].add(p)
            adj[p].add(v)
            for q in parents[i + 1:]:
                adj[p].add(q)
                adj[q].add(p)
    return adj


def _ball_moves(g: nx.DiGraph, v: Node, d: str, z: set, an_z: set) -> list[tuple[Node, str]]:
    """Bayes-ball moves from node ``v`` entered going ``d`` ("up" from a child, "down" from a parent)."""
    nxt: list[tuple[Node, str]] = []
    if d == "up" and v not in z:
        nxt += [(p, "up") for p in g._pred[v]] + [(c, "down") for c in g._succ[v]]
    elif d == "down":
        if v not in z:
            nxt += [(c, "down") for c in g._succ[v]]
        if v in an_z:
            nxt += [(p, "up") for p in g._pred[v]]
    return nxt


def d_connecting_trail(g: nx.DiGraph, xs: Iterable[Node], ys: Iterable[Node],
                       given: Iterable[Node]) -> list[Node] | None:
    """One trail from X to Y that is d-connecting given ``given`` (Bayes ball), or None.

    The search of Shachter (1998) / Koller & Friedman (Alg. 3.1) with
    predecessor pointers, so the trail can be shown to the user.
    """
    z = set(given)
    targets = set(ys) - z
    an_z = ancestors_of(g, z)
    start = [(x, "up") for x in xs if x not in z]
    prev: dict[tuple[Node, str], tuple[Node, str] | None] = {s: None for s in start}
    queue = deque(start)
    while queue:
        state = queue.popleft()
        v, d = state
        if v in targets and prev[state] is not None:
            trail = []
            cur: tuple[Node, str] | None = state
            while cur is not None:
                trail.append(cur[0])
                cur = prev[cur]
            return trail[::-1]
        for s in _ball_moves(g, v, d, z, an_z):
            if s not in prev:
                prev[s] = state
                queue.append(s)
    return None


def d_connected_nodes(g: nx.DiGraph, xs: Iterable[Node], given: Iterable[Node]) -> set[Node]:
    """Every node (outside ``given``) d-connected to some node of ``xs`` given ``given``."""
    z = set(given)
    an_z = ancestors_of(g, z)
    start = [(x, "up") for x in xs if x not in z]
    seen = set(start)
    stack = list(start)
    found: set[Node] = set()
    while stack:
        v, d = stack.pop()
        if v not in z:
            found.add(v)
        for s in _ball_moves(g, v, d, z, an_z):
            if s not in seen:
                seen.add(s)
                stack.append(s)
    return found - set(xs)


def without_out_edges(g: nx.DiGraph, nodes: Iterable[Node]) -> nx.DiGraph:
    """A read-only view of ``g`` without the edges leaving ``nodes`` (G with X underlined)."""
    return nx.restricted_view(g, (), [(v, c) for v in nodes for c in g._succ[v]])
