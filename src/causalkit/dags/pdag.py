"""`CausalPDAG`: a class of causal DAGs given as a CPDAG or a partially directed graph.

A CPDAG (completed partially directed acyclic graph, DAGitty's ``pdag``) stands
for every DAG in a Markov equivalence class: ``A -> B`` is oriented so in all of
them, ``A -- B`` is oriented one way in some and the other way in others.  A
PDAG with more directed edges (background knowledge) stands for the DAGs of the
class that agree with them.  On construction the graph is checked (no directed
cycle, and some DAG is consistent with it: Dor & Tarsi 1992) and closed under
Meek's (1995) orientation rules R1-R4, so the graph used by every query is the
maximally oriented PDAG (MPDAG) of the same class (for a CPDAG nothing changes).

A CPDAG has no partially directed cycle (it is a chain graph), but a PDAG with
background knowledge may keep one and still be valid: ``A -> B -- C -- A``
stands for the three DAGs of the triangle with ``A -> B``.  So a partially
directed cycle is not by itself an error; a graph no DAG is consistent with is
(for example the chordless cycle ``A -- B -- C -- D -- A``: every orientation
closes a directed cycle or makes a new v-structure), and so is a directed cycle.

Adjustment valid for every DAG of the class is in :mod:`causalkit.dags.pdag_adjustment`
(CPDAGs and MPDAGs; :attr:`CausalPDAG.is_cpdag` says whether a graph is a CPDAG).

Example
-------
>>> pdag = CausalPDAG.from_dagitty("pdag { A -> X <- B; X -- C; B -- D }")
>>> pdag.directed_edges, pdag.undirected_edges, pdag.is_cpdag   # Meek's R1 orients X -> C
([('A', 'X'), ('X', 'C'), ('B', 'X')], [('B', 'D')], True)
>>> CausalPDAG.from_dag(CausalDAG([("A", "B"), ("B", "C")])).undirected_edges
[('A', 'B'), ('B', 'C')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Hashable, Iterable, Mapping, Sequence

import networkx as nx

from ..errors import CyclicGraphError, GraphError, UnknownNodeError
from ..validation import suggest_column
from .dagitty import DagittySpec, parse_dagitty, write_dagitty
from .graph import CausalDAG, NodeSet, names

if TYPE_CHECKING:  # pragma: no cover
    from .adjustment import AdjustmentCheck

Node = Hashable


class CausalPDAG:
    """A CPDAG / partially directed acyclic graph: the causal DAGs it stands for.

    Parameters
    ----------
    directed
        Edges ``(a, b)`` meaning ``a -> b`` in every DAG of the class.
    undirected
        Pairs ``(a, b)`` meaning ``a -- b``: oriented differently in different DAGs.
    nodes
        Extra isolated nodes (order kept).
    exposure, outcome
        Default treatment(s) and outcome(s).
    positions
        Drawing positions (kept for :meth:`to_dagitty`).
    """

    def __init__(self, directed: Iterable[tuple[Node, Node]] = (),
                 undirected: Iterable[tuple[Node, Node]] = (), nodes: Iterable[Node] = (),
                 exposure: NodeSet | None = None, outcome: NodeSet | None = None,
                 positions: Mapping[Node, tuple[float, float]] | None = None) -> None:
        order: dict = dict.fromkeys(nodes)
        pairs = []
        for kind, edges in (("->", directed), ("--", undirected)):
            for edge in edges:
                a, b = CausalDAG._pair(edge, "edge")
                if a == b:
                    raise CyclicGraphError(f"self-loop {a} {kind} {a}: a PDAG cannot have one")
                order.setdefault(a)
                order.setdefault(b)
                pairs.append((kind, a, b))
        self._nodes = list(order)
        self._succ: dict[Node, set] = {v: set() for v in self._nodes}
        self._pred: dict[Node, set] = {v: set() for v in self._nodes}
        self._und: dict[Node, set] = {v: set() for v in self._nodes}
        for kind, a, b in pairs:
            self._add(kind, a, b)
        self._check_directed_acyclic()
        self._extension = self._consistent_extension()
        self._close_meek()
        self._is_cpdag: bool | None = None
        self.exposure = None if exposure is None else self._set(exposure, "exposure")
        self.outcome = None if outcome is None else self._set(outcome, "outcome")
        if self.exposure and self.outcome and self.exposure & self.outcome:
            raise GraphError(f"{names(self.exposure & self.outcome)} cannot be both exposure "
                             "and outcome")
        self.positions = {self._node(n): tuple(map(float, xy))
                          for n, xy in dict(positions or {}).items()}

    # ------------------------------------------------------------------ building
    def _add(self, kind: str, a: Node, b: Node) -> None:
        if kind == "->":
            if a in self._und[b]:
                raise GraphError(f"{a} -> {b} and {a} -- {b} are both given; an edge is "
                                 "either directed or undirected")
            if a in self._succ[b]:
                raise CyclicGraphError(f"{a} -> {b} and {b} -> {a} form a directed cycle")
            self._succ[a].add(b)
            self._pred[b].add(a)
        else:
            if b in self._succ[a] or a in self._succ[b]:
                arrow = f"{a} -> {b}" if b in self._succ[a] else f"{b} -> {a}"
                raise GraphError(f"{arrow} and {a} -- {b} are both given; an edge is either "
                                 "directed or undirected")
            self._und[a].add(b)
            self._und[b].add(a)

    def _check_directed_acyclic(self) -> None:
        g = nx.DiGraph()
        g.add_edges_from((a, b) for a in self._nodes for b in self._succ[a])
        if not nx.is_directed_acyclic_graph(g):
            cycle = [u for u, _ in nx.find_cycle(g)]
            raise CyclicGraphError("the graph has a directed cycle: "
                                   + " -> ".join(map(str, cycle + cycle[:1])))

    def _adjacent(self, a: Node, b: Node) -> bool:
        return b in self._succ[a] or b in self._pred[a] or b in self._und[a]

    def _consistent_extension(self) -> list[tuple[Node, Node]]:
        """Directed edges of a DAG in the class (Dor & Tarsi 1992), or GraphError if none."""
        succ = {v: set(s) for v, s in self._succ.items()}
        pred = {v: set(s) for v, s in self._pred.items()}
        und = {v: set(s) for v, s in self._und.items()}
        alive = set(self._nodes)
        edges = [(a, b) for a in self._nodes for b in self._succ[a]]
        while alive:
            for v in self._nodes:
                if v not in alive or succ[v]:
                    continue
                adj = pred[v] | und[v]
                if all(adj - {u} <= (pred[u] | succ[u] | und[u]) for u in und[v]):
                    break
            else:
                raise GraphError("no DAG is consistent with this PDAG: every orientation of "
                                 "its undirected edges creates a cycle or a new v-structure")
            for u in und[v]:
                edges.append((u, v))
                und[u].discard(v)
            for u in pred[v]:
                succ[u].discard(v)
            alive.discard(v)
            und[v] = set()
            pred[v] = set()
        return edges

    def _orient(self, a: Node, b: Node) -> None:
        self._und[a].discard(b)
        self._und[b].discard(a)
        self._succ[a].add(b)
        self._pred[b].add(a)

    def _meek_forces(self, a: Node, b: Node) -> bool:
        """Whether Meek's rules R1-R4 orient the undirected edge a -- b as a -> b."""
        adj = self._adjacent
        # R1: c -> a -- b, c and b not adjacent
        if any(not adj(c, b) for c in self._pred[a] if c != b):
            return True
        # R2: a -> c -> b
        if self._succ[a] & self._pred[b]:
            return True
        # R3: a -- c -> b and a -- d -> b, c and d not adjacent
        cs = [c for c in self._und[a] if c in self._pred[b]]
        if any(not adj(c, d) for i, c in enumerate(cs) for d in cs[i + 1:]):
            return True
        # R4: d -> c -> b, a adjacent to c and to d, d and b not adjacent
        for c in self._pred[b]:
            if adj(a, c):
                for d in self._pred[c]:
                    if d != a and adj(a, d) and not adj(d, b):
                        return True
        return False

    def _close_meek(self) -> None:
        changed = True
        while changed:
            changed = False
            for a in self._nodes:
                for b in list(self._und[a]):
                    if b in self._und[a] and self._meek_forces(a, b):
                        self._orient(a, b)
                        changed = True

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dagitty(cls, text: str) -> "CausalPDAG":
        """Read ``pdag { A -- B; A -> C; X [exposure] }`` (a ``dag`` text is read as a PDAG
        without undirected edges).

        >>> CausalPDAG.from_dagitty("pdag { X [exposure]; X -- Z; X -> Y }").exposure
        frozenset({'X'})
        """
        spec = parse_dagitty(text, pdag=True)
        unsupported = [m for m in ("latent", "adjusted", "selected") if getattr(spec, m)]
        if spec.bidirected or unsupported:
            what = ("bidirected edges (<->)" if spec.bidirected
                    else f"nodes marked {unsupported[0]} ({names(getattr(spec, unsupported[0]))})")
            raise GraphError(f"a pdag here is a CPDAG without hidden variables or selection; "
                             f"{what} are not supported (use CausalDAG for latent variables)")
        return cls(directed=spec.directed, undirected=spec.undirected, nodes=spec.nodes,
                   exposure=spec.exposure or None, outcome=spec.outcome or None,
                   positions=spec.positions)

    @classmethod
    def from_dag(cls, dag: CausalDAG) -> "CausalPDAG":
        """The CPDAG of ``dag``'s Markov equivalence class (v-structures, then Meek's rules).

        >>> CausalPDAG.from_dag(CausalDAG([("A", "C"), ("B", "C")])).directed_edges
        [('A', 'C'), ('B', 'C')]
        """
        if dag.latent_nodes or dag.selected or dag.adjusted:
            raise GraphError("the CPDAG is defined here for DAGs without latent, selected or "
                             "adjusted nodes")
        g = dag.graph
        v_edges = {(p, c) for c in g for p in g._pred[c]
                   if any(q != p and not g.has_edge(p, q) and not g.has_edge(q, p)
                          for q in g._pred[c])}
        pos = {v: i for i, v in enumerate(g)}
        return cls(directed=sorted(v_edges, key=lambda e: (pos[e[0]], pos[e[1]])),
                   undirected=[e for e in g.edges if e not in v_edges], nodes=g.nodes,
                   exposure=dag.exposure, outcome=dag.outcome, positions=dag.positions)

    # ------------------------------------------------------------------ views
    @property
    def nodes(self) -> tuple[Node, ...]:
        """All nodes, in insertion order."""
        return tuple(self._nodes)

    @property
    def directed_edges(self) -> list[tuple[Node, Node]]:
        """The ``a -> b`` edges (after Meek's rules), in node order."""
        return [(a, b) for a in self._nodes for b in self._nodes if b in self._succ[a]]

    @property
    def undirected_edges(self) -> list[tuple[Node, Node]]:
        """The ``a -- b`` edges, each once, in node order."""
        pos = {v: i for i, v in enumerate(self._nodes)}
        return [(a, b) for a in self._nodes for b in self._nodes
                if b in self._und[a] and pos[a] < pos[b]]

    @property
    def is_cpdag(self) -> bool:
        """Whether the graph is the CPDAG of a Markov equivalence class (no background
        knowledge beyond it): it equals the CPDAG of any one of its DAGs.

        >>> CausalPDAG(undirected=[("A", "B")]).is_cpdag, CausalPDAG([("A", "B")]).is_cpdag
        (True, False)
        """
        if self._is_cpdag is None:
            cpdag = CausalPDAG.from_dag(CausalDAG(self._extension, nodes=self._nodes))
            self._is_cpdag = set(cpdag.directed_edges) == set(self.directed_edges)
        return self._is_cpdag

    def to_dag(self) -> CausalDAG:
        """One DAG of the class (a consistent extension; Dor & Tarsi 1992)."""
        return CausalDAG(self._extension, nodes=self._nodes, exposure=self.exposure,
                         outcome=self.outcome)

    def to_dagitty(self) -> str:
        """DAGitty ``pdag`` text that :meth:`from_dagitty` reads back to an equal graph.

        >>> print(CausalPDAG(undirected=[("A", "B")], directed=[("B", "C")]).to_dagitty())
        pdag {
        B
        C
        A
        B -> C
        B -- A
        }
        """
        return write_dagitty(DagittySpec(
            nodes=list(self._nodes), directed=self.directed_edges,
            undirected=self.undirected_edges, exposure=list(self.exposure or ()),
            outcome=list(self.outcome or ()), positions=dict(self.positions), kind="pdag"))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, CausalPDAG) and set(self._nodes) == set(other._nodes)
                and set(self.directed_edges) == set(other.directed_edges)
                and {frozenset(e) for e in self.undirected_edges}
                == {frozenset(e) for e in other.undirected_edges}
                and self.exposure == other.exposure and self.outcome == other.outcome)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"CausalPDAG({len(self._nodes)} nodes, {len(self.directed_edges)} directed, "
                f"{len(self.undirected_edges)} undirected edges)")

    # ------------------------------------------------------------------ validation
    def _node(self, node: Node) -> Node:
        try:
            if node in self._succ:
                return node
        except TypeError:
            pass
        hint = suggest_column(str(node), [str(n) for n in self._nodes])
        raise UnknownNodeError(f"node {node!r} is not in the graph"
                               + (f"; did you mean {hint!r}?" if hint else ""))

    def _set(self, nodes: NodeSet | None, role: str, empty_ok: bool = False) -> frozenset:
        if nodes is None:
            if empty_ok:
                return frozenset()
            raise GraphError(f"no {role} given (and none is marked in the graph)")
        try:
            single = isinstance(nodes, str) or nodes in self._succ
        except TypeError:            # unhashable: a collection
            single = False
        items: list = [nodes]
        if not single:
            try:
                items = list(nodes)  # type: ignore[arg-type]
            except TypeError:
                pass                 # a single unknown node: _node says so
        if not items and not empty_ok:
            raise GraphError(f"the {role} set is empty")
        return frozenset(self._node(n) for n in items)

    def _treatment_outcome(self, x: NodeSet | None, y: NodeSet | None
                           ) -> tuple[frozenset, frozenset]:
        xs = self._set(x if x is not None else self.exposure, "treatment")
        ys = self._set(y if y is not None else self.outcome, "outcome")
        if xs & ys:
            raise GraphError(f"{names(xs & ys)} is both treatment and outcome; they must differ")
        return xs, ys

    # ------------------------------------------------------------------ adjustment
    def is_amenable(self, x: NodeSet | None = None, y: NodeSet | None = None) -> bool:
        """Whether every proper possibly causal path from x to y starts with x -> (Perković
        et al. 2018): then all DAGs of the class agree on which sets are valid adjustment sets.

        >>> CausalPDAG(undirected=[("X", "Y")]).is_amenable("X", "Y")
        False
        """
        from .pdag_adjustment import PDAGProblem

        return PDAGProblem.build(self, x, y).not_amenable is None

    def is_valid_adjustment(self, x: NodeSet | None, y: NodeSet | None,
                            z: NodeSet = ()) -> "AdjustmentCheck":
        """The b-adjustment criterion: is Z valid for every DAG of the class (truthy, with a
        reason)?  See :mod:`causalkit.dags.pdag_adjustment`."""
        from .pdag_adjustment import check_pdag_adjustment

        return check_pdag_adjustment(self, x, y, z)

    def adjustment_sets(self, x: NodeSet | None = None, y: NodeSet | None = None,
                        kind: str = "minimal") -> list[frozenset]:
        """Sets valid for every DAG of the class: ``kind`` "minimal" (all minimal ones) or
        "canonical"; ``[]`` when none exists, NotIdentifiableError when the class disagrees."""
        from .pdag_adjustment import pdag_adjustment_sets

        return pdag_adjustment_sets(self, x, y, kind=kind)

    def adjustment_set(self, x: NodeSet | None = None, y: NodeSet | None = None,
                       kind: str = "canonical") -> frozenset:
        """One set valid for every DAG of the class, else NotIdentifiableError saying why."""
        from .pdag_adjustment import pdag_adjustment_set

        return pdag_adjustment_set(self, x, y, kind=kind)


__all__: Sequence[str] = ["CausalPDAG"]
