"""Acyclic directed mixed graphs (ADMGs): the latent projection of a causal DAG.

The latent projection (Verma & Pearl 1990; Tian & Pearl 2002) keeps the observed
nodes; ``A -> B`` when the DAG has a directed path from A to B whose inner nodes
are all latent, and ``A <-> B`` when some latent node reaches both A and B by
directed paths through latent nodes only.  The projection has the same
identification properties as the DAG, and the ID algorithm runs on it.

Graph operations the ID algorithm needs are restricted to a node subset without
copying (``ancestors(ys, within)``, ``districts(within)``), so each recursion
step is linear in the size of the subgraph it touches.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> dag = CausalDAG([("X", "M"), ("M", "Y"), ("U", "X"), ("U", "Y")], latent=["U"])
>>> g = latent_projection(dag)
>>> sorted(g.bidirected_pairs())
[('X', 'Y')]
>>> [sorted(d) for d in g.districts()]
[['X', 'Y'], ['M']]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Hashable, Iterable

import networkx as nx

if TYPE_CHECKING:  # pragma: no cover
    from .graph import CausalDAG

Node = Hashable


class ADMG:
    """An acyclic directed mixed graph over observed nodes.

    Parameters
    ----------
    nodes
        The nodes, in a topological order of the directed part.
    directed
        Edges ``(parent, child)``.
    bidirected
        Pairs ``(a, b)`` standing for ``a <-> b``.

    Examples
    --------
    >>> g = ADMG(["a", "b"], [("a", "b")], [("a", "b")])
    >>> g.parents("b"), g.siblings("a")
    (frozenset({'a'}), frozenset({'b'}))
    """

    def __init__(self, nodes: Iterable[Node], directed: Iterable[tuple[Node, Node]] = (),
                 bidirected: Iterable[tuple[Node, Node]] = ()) -> None:
        order = list(dict.fromkeys(nodes))
        self.order: dict[Node, int] = {v: i for i, v in enumerate(order)}
        pa: dict[Node, set] = {v: set() for v in order}
        ch: dict[Node, set] = {v: set() for v in order}
        sib: dict[Node, set] = {v: set() for v in order}
        for a, b in directed:
            pa[b].add(a)
            ch[a].add(b)
        for a, b in bidirected:
            if a != b:
                sib[a].add(b)
                sib[b].add(a)
        if any(self.order[p] >= self.order[v] for v in order for p in pa[v]):
            g = nx.DiGraph()
            g.add_nodes_from(order)
            g.add_edges_from((p, v) for v in order for p in pa[v])
            if not nx.is_directed_acyclic_graph(g):
                from ..errors import CyclicGraphError

                raise CyclicGraphError("the directed part of an ADMG must be acyclic")
            self.order = {v: i for i, v in enumerate(nx.topological_sort(g))}
        self._pa = {v: frozenset(s) for v, s in pa.items()}
        self._ch = {v: frozenset(s) for v, s in ch.items()}
        self._sib = {v: frozenset(s) for v, s in sib.items()}

    # ------------------------------------------------------------------ views
    @property
    def nodes(self) -> frozenset:
        """Every node."""
        return frozenset(self.order)

    def parents(self, v: Node) -> frozenset:
        return self._pa[v]

    def children(self, v: Node) -> frozenset:
        return self._ch[v]

    def siblings(self, v: Node) -> frozenset:
        """Nodes joined to ``v`` by a bidirected edge."""
        return self._sib[v]

    def bidirected_pairs(self) -> list[tuple[Node, Node]]:
        """Every bidirected edge once, endpoints in topological order."""
        return [(a, b) for a in self.order for b in self._sib[a]
                if self.order[a] < self.order[b]]

    def directed_edges(self) -> list[tuple[Node, Node]]:
        return [(p, v) for v in self.order for p in self._pa[v]]

    def topological(self, nodes: Iterable[Node]) -> list[Node]:
        """``nodes`` sorted in the graph's topological order."""
        return sorted(nodes, key=self.order.__getitem__)

    def __repr__(self) -> str:
        return (f"ADMG({len(self.order)} nodes, {len(self.directed_edges())} directed, "
                f"{len(self.bidirected_pairs())} bidirected edges)")

    # ------------------------------------------------------------------ subgraph queries
    def ancestors(self, nodes: Iterable[Node], within: frozenset | None = None,
                  cut_into: frozenset = frozenset()) -> frozenset:
        """An(nodes) in the subgraph on ``within`` (nodes included).

        ``cut_into`` removes the edges into those nodes first (the graph G with
        those nodes "barred").
        """
        keep = self.nodes if within is None else within
        seen = {v for v in nodes if v in keep}
        stack = list(seen)
        while stack:
            v = stack.pop()
            if v in cut_into:
                continue
            for p in self._pa[v]:
                if p in keep and p not in seen:
                    seen.add(p)
                    stack.append(p)
        return frozenset(seen)

    def descendants(self, nodes: Iterable[Node], within: frozenset | None = None) -> frozenset:
        """De(nodes) in the subgraph on ``within`` (nodes included)."""
        keep = self.nodes if within is None else within
        seen = {v for v in nodes if v in keep}
        stack = list(seen)
        while stack:
            for c in self._ch[stack.pop()]:
                if c in keep and c not in seen:
                    seen.add(c)
                    stack.append(c)
        return frozenset(seen)

    def districts(self, within: frozenset | None = None) -> list[frozenset]:
        """The c-components (districts) of the subgraph on ``within``, ordered by first node."""
        keep = self.nodes if within is None else within
        seen: set = set()
        out = []
        for v in self.topological(keep):
            if v not in seen:
                comp = self.district_of(v, keep)
                seen |= comp
                out.append(comp)
        return out

    def district_of(self, v: Node, within: frozenset | None = None) -> frozenset:
        """The district of ``v`` in the subgraph on ``within``."""
        keep = self.nodes if within is None else within
        comp = {v}
        stack = [v]
        while stack:
            for s in self._sib[stack.pop()]:
                if s in keep and s not in comp:
                    comp.add(s)
                    stack.append(s)
        return frozenset(comp)

    def to_dag(self, cut_into: Iterable[Node] = (), cut_out_of: Iterable[Node] = ()
               ) -> tuple[nx.DiGraph, frozenset]:
        """A DAG with one latent parent per bidirected edge (``("U", a, b)``), and the latents.

        ``cut_into`` drops every edge (directed or bidirected) into those nodes,
        ``cut_out_of`` drops the directed edges out of them.
        """
        into, out = set(cut_into), set(cut_out_of)
        g = nx.DiGraph()
        g.add_nodes_from(self.order)
        g.add_edges_from((p, v) for p, v in self.directed_edges()
                         if v not in into and p not in out)
        lat = []
        for a, b in self.bidirected_pairs():
            if a not in into and b not in into:
                u = ("U", a, b)
                g.add_edge(u, a)
                g.add_edge(u, b)
                lat.append(u)
        return g, frozenset(lat)


def latent_projection(dag: "CausalDAG") -> ADMG:
    """The ADMG over the observed nodes of ``dag`` (see the module docstring).

    Linear in the size of the DAG plus the number of bidirected pairs produced.

    >>> from causalkit.dags import CausalDAG
    >>> chain = CausalDAG([("X", "L"), ("L", "Y")], latent=["L"])
    >>> latent_projection(chain).directed_edges()
    [('X', 'Y')]
    """
    g = dag.graph
    latent = dag.latent_nodes
    order = [v for v in nx.topological_sort(g) if v not in latent]
    reach: dict[Node, frozenset] = {}  # observed nodes a latent reaches through latents

    def observed_reach(u: Node) -> frozenset:
        if u in reach:
            return reach[u]
        out: set = set()
        stack, seen = [u], {u}
        while stack:
            for c in g._succ[stack.pop()]:
                if c in latent:
                    if c not in seen:
                        seen.add(c)
                        stack.append(c)
                else:
                    out.add(c)
        reach[u] = frozenset(out)
        return reach[u]

    directed = []
    for v in order:
        for c in g._succ[v]:
            if c in latent:
                directed += [(v, w) for w in observed_reach(c)]
            else:
                directed.append((v, c))
    bidirected = []
    for u in latent:
        if any(p in latent for p in g._pred[u]):
            continue  # a latent with a latent parent reaches a subset of what its root reaches
        members = list(observed_reach(u))
        bidirected += [(a, b) for i, a in enumerate(members) for b in members[i + 1:]]
    return ADMG(order, set(directed), bidirected)
