"""`CausalDAG`: a causal directed acyclic graph with latent nodes, on networkx.

A bidirected edge ``A <-> B`` stands for an unobserved common cause; it is stored
as a latent parent ``U_A_B`` of both nodes, so every algorithm works on one
plain DAG.  Latent nodes never appear in an adjustment set.

Example
-------
>>> dag = CausalDAG.from_dagitty("dag { Z -> T; Z -> Y; T -> Y }")
>>> dag.adjustment_set("T", "Y")
frozenset({'Z'})
>>> dag.d_separated("T", "Y", {"Z"})
False
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Hashable, Iterable, Mapping, Sequence

import networkx as nx

from ..errors import CyclicGraphError, GraphError, UnknownNodeError
from ..validation import suggest_column
from ._graphs import descendants_of
from .dagitty import DagittySpec, parse_dagitty, write_dagitty

if TYPE_CHECKING:  # pragma: no cover
    from .adjustment import AdjustmentCheck
    from .identify import Identification
    from .instruments import Instrument
    from .paths import BackdoorPath

Node = Hashable
NodeSet = Node | Iterable[Node]


class CausalDAG:
    """A causal DAG over observed and latent variables.

    Parameters
    ----------
    edges
        Directed edges ``(parent, child)``.
    latent
        Unobserved nodes (added if they appear nowhere else).
    bidirected
        Pairs ``(A, B)`` with an unobserved common cause, i.e. ``A <-> B``.
    exposure, outcome
        Default treatment(s) and outcome(s) for queries that omit them.
    nodes
        Extra isolated nodes.
    adjusted
        Nodes marked ``adjusted`` (DAGitty's meaning): the analysis adjusts for
        them, so every adjustment set returned contains them, and when forcing
        them in makes adjustment impossible that is the answer, with the reason.
    selected
        Nodes marked ``selected`` (DAGitty's meaning): the data are a sample
        selected on them (selection bias), so they are conditioned on in every
        d-separation query, back-door path, adjustment criterion and implied
        independence; adjustment sets never list them.
    positions
        Drawing positions ``{node: (x, y)}`` (DAGitty's ``pos``, y grows downward);
        ``plot`` uses them when every drawn node has one.
    bounding_box
        DAGitty's ``bb`` ``(x0, y0, x1, y1)``, the canvas the positions live on.

    Notes
    -----
    Equality compares nodes, edges, latent nodes, bidirected pairs and the
    exposure/outcome/adjusted/selected marks; positions are a drawing and are not
    compared.  Node insertion order is kept (and deterministic).
    """

    def __init__(self, edges: Iterable[tuple[Node, Node]] = (), latent: Iterable[Node] = (),
                 bidirected: Iterable[tuple[Node, Node]] = (), exposure: NodeSet | None = None,
                 outcome: NodeSet | None = None, nodes: Iterable[Node] = (),
                 adjusted: Iterable[Node] = (), selected: Iterable[Node] = (),
                 positions: Mapping[Node, tuple[float, float]] | None = None,
                 bounding_box: Sequence[float] | None = None) -> None:
        g = nx.DiGraph()
        g.add_nodes_from(nodes)
        for edge in edges:
            a, b = self._pair(edge, "edge")
            if a == b:
                raise CyclicGraphError(f"self-loop {a} -> {a}: a DAG cannot have one")
            g.add_edge(a, b)
        latent_list = list(dict.fromkeys(latent))       # ordered: no set iteration order
        adjusted_list = list(dict.fromkeys(adjusted))
        selected_list = list(dict.fromkeys(selected))
        g.add_nodes_from(latent_list + adjusted_list + selected_list)
        latent_set = set(latent_list)
        self._bidirected: dict[Node, tuple[Node, Node]] = {}
        pairs: set[frozenset] = set()
        for edge in bidirected:
            a, b = self._pair(edge, "bidirected edge")
            if a == b:
                raise GraphError(f"bidirected self-loop {a} <-> {a} is meaningless")
            if frozenset((a, b)) in pairs:
                continue
            pairs.add(frozenset((a, b)))
            name, k = f"U_{a}_{b}", 1
            while name in g:
                k += 1
                name = f"U_{a}_{b}_{k}"
            g.add_edge(name, a)
            g.add_edge(name, b)
            latent_set.add(name)
            self._bidirected[name] = (a, b)
        if not nx.is_directed_acyclic_graph(g):
            cycle = " -> ".join(str(u) for u, _ in nx.find_cycle(g))
            raise CyclicGraphError(f"the graph has a directed cycle: {cycle} -> "
                                   f"{nx.find_cycle(g)[0][0]}; a causal DAG must be acyclic")
        self._g = g
        self._latent = frozenset(latent_set)
        self.adjusted = frozenset(adjusted_list)
        self.selected = frozenset(selected_list)
        self.exposure = None if exposure is None else self._nodes(exposure, "exposure")
        self.outcome = None if outcome is None else self._nodes(outcome, "outcome")
        self._check_marks()
        self._positions = self._check_positions(positions or {})
        self.bounding_box = None if bounding_box is None else _finite(bounding_box, 4,
                                                                      "bounding_box")

    def _check_marks(self) -> None:
        roles = {"exposure": self.exposure or frozenset(), "outcome": self.outcome or frozenset(),
                 "adjusted": self.adjusted, "selected": self.selected}
        clashes = [("exposure", "outcome"), ("adjusted", "selected"), ("exposure", "adjusted"),
                   ("exposure", "selected"), ("outcome", "adjusted"), ("outcome", "selected")]
        for a, b in clashes:
            both = roles[a] & roles[b]
            if both:
                raise GraphError(f"{names(both)} cannot be both {a} and {b}")
        hidden = self.adjusted & self._latent
        if hidden:
            raise GraphError(f"{names(hidden)} is marked adjusted but is latent: an unobserved "
                             "node cannot be adjusted for")
        internal = (self.adjusted | self.selected) & set(self._bidirected)
        if internal:  # pragma: no cover - names are generated to avoid this
            raise GraphError(f"{names(internal)} names a bidirected edge's latent parent")

    def _check_positions(self, positions: Mapping) -> dict:
        out = {}
        for node, xy in dict(positions).items():
            if node not in self._g or node in self._bidirected:
                raise UnknownNodeError(f"positions names {node!r}, which is not a node")
            out[node] = _finite(xy, 2, f"the position of {node!r}")
        return out

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _pair(edge: Any, what: str) -> tuple[Node, Node]:
        try:
            a, b = edge
        except (TypeError, ValueError):
            raise GraphError(f"each {what} must be a pair (a, b), got {edge!r}") from None
        return a, b

    @classmethod
    def from_dagitty(cls, text: str) -> "CausalDAG":
        """Build from DAGitty text, e.g. ``'dag { X [exposure]; Z -> X -> Y; A <-> B }'``.

        >>> CausalDAG.from_dagitty("dag { U [latent]; U -> X; U -> Y; X -> Y }").latent_nodes
        frozenset({'U'})
        """
        spec = parse_dagitty(text)
        return cls(edges=spec.directed, latent=spec.latent, bidirected=spec.bidirected,
                   exposure=spec.exposure or None, outcome=spec.outcome or None,
                   nodes=spec.nodes, adjusted=spec.adjusted, selected=spec.selected,
                   positions=spec.positions, bounding_box=spec.bounding_box)

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph, latent: Iterable[Node] = (),
                      exposure: NodeSet | None = None, outcome: NodeSet | None = None
                      ) -> "CausalDAG":
        """Build from a ``networkx.DiGraph``; nodes with attribute ``latent=True`` are latent.

        Node attributes ``adjusted`` / ``selected`` (true) and ``pos`` and the graph
        attributes ``exposure``, ``outcome`` and ``bb`` are read as written by
        :meth:`to_networkx`.

        >>> CausalDAG.from_networkx(nx.DiGraph([("a", "b")])).nodes
        ('a', 'b')
        """
        if not isinstance(graph, nx.DiGraph) or graph.is_multigraph():
            raise GraphError(f"expected a networkx DiGraph, got {type(graph).__name__}")
        bi = {n: tuple(d["bidirected"]) for n, d in graph.nodes(data=True)
              if d.get("bidirected") and set(graph.successors(n)) == set(d["bidirected"])
              and not graph.in_degree(n)}
        lat = set(latent) | {n for n, d in graph.nodes(data=True) if d.get("latent")}
        exposure = exposure if exposure is not None else graph.graph.get("exposure")
        outcome = outcome if outcome is not None else graph.graph.get("outcome")
        data = graph.nodes(data=True)
        return cls(edges=[e for e in graph.edges() if e[0] not in bi],
                   latent=[n for n in graph if n in lat and n not in bi]
                   + [n for n in latent if n not in graph],
                   nodes=[n for n in graph.nodes() if n not in bi], bidirected=bi.values(),
                   exposure=exposure, outcome=outcome,
                   adjusted=[n for n, d in data if d.get("adjusted")],
                   selected=[n for n, d in data if d.get("selected")],
                   positions={n: d["pos"] for n, d in data if d.get("pos") is not None
                              and n not in bi},
                   bounding_box=graph.graph.get("bb"))

    # ------------------------------------------------------------------ views
    @property
    def graph(self) -> nx.DiGraph:
        """The underlying DAG (latent nodes included); do not modify it."""
        return self._g

    @property
    def nodes(self) -> tuple[Node, ...]:
        """All nodes, latent ones included, in insertion order."""
        return tuple(self._g.nodes)

    @property
    def observed_nodes(self) -> tuple[Node, ...]:
        """The measured nodes."""
        return tuple(n for n in self._g.nodes if n not in self._latent)

    @property
    def latent_nodes(self) -> frozenset:
        """The unobserved nodes (including one per bidirected edge)."""
        return self._latent

    @property
    def bidirected_edges(self) -> list[tuple[Node, Node]]:
        """The ``A <-> B`` pairs, each modelled by a latent parent."""
        return list(self._bidirected.values())

    @property
    def positions(self) -> dict:
        """Drawing positions ``{node: (x, y)}`` (DAGitty's ``pos``; a copy)."""
        return dict(self._positions)

    def is_bidirected_latent(self, node: Node) -> bool:
        """Whether ``node`` is the latent parent standing for a bidirected edge."""
        return node in self._bidirected

    def parents(self, node: Node) -> set[Node]:
        """Direct causes of ``node``."""
        return set(self._g.predecessors(self._node(node)))

    def children(self, node: Node) -> set[Node]:
        """Direct effects of ``node``."""
        return set(self._g.successors(self._node(node)))

    def __repr__(self) -> str:
        return (f"CausalDAG({len(self.observed_nodes)} observed, {len(self._latent)} latent "
                f"nodes, {self._g.number_of_edges()} edges)")

    def _canonical(self) -> tuple:
        bi = self._bidirected
        return (frozenset(n for n in self._g if n not in bi),
                frozenset(e for e in self._g.edges if e[0] not in bi),
                frozenset(frozenset(p) for p in bi.values()),
                frozenset(n for n in self._latent if n not in bi),
                self.exposure, self.outcome, self.adjusted, self.selected)

    def __eq__(self, other: object) -> bool:
        """Same nodes, directed edges, latent nodes, bidirected pairs and node marks."""
        return isinstance(other, CausalDAG) and self._canonical() == other._canonical()

    __hash__ = None  # type: ignore[assignment]

    def to_networkx(self) -> nx.DiGraph:
        """A copy as ``networkx.DiGraph`` with node attributes ``latent``, ``adjusted``,
        ``selected`` and ``pos`` (and ``bidirected=(a, b)`` on the latent parent of each
        ``a <-> b``) and graph attributes ``exposure`` / ``outcome`` / ``bb``."""
        g = self._g.copy()
        nx.set_node_attributes(g, {n: n in self._latent for n in g}, "latent")
        nx.set_node_attributes(g, {n: n in self.adjusted for n in g}, "adjusted")
        nx.set_node_attributes(g, {n: n in self.selected for n in g}, "selected")
        nx.set_node_attributes(g, dict(self._bidirected), "bidirected")
        nx.set_node_attributes(g, self.positions, "pos")
        g.graph["exposure"] = sorted(self.exposure, key=str) if self.exposure else None
        g.graph["outcome"] = sorted(self.outcome, key=str) if self.outcome else None
        g.graph["bb"] = self.bounding_box
        return g

    def to_dagitty(self) -> str:
        """DAGitty text that :meth:`from_dagitty` reads back to an equal graph.

        Bidirected edges are written back as ``A <-> B``; marks, positions and the
        bounding box are kept.  Names are written as DAGitty reads them: ints
        bare (they come back as ints), strings quoted unless they are plain
        identifiers (a digit-only string is quoted, so it comes back a string).
        Names other than strings and integers, and strings with control
        characters, cannot be written (GraphError).

        >>> print(CausalDAG([("Z", "X")], bidirected=[("X", "Y")]).to_dagitty())
        dag {
        Z
        X
        Y
        Z -> X
        X <-> Y
        }
        """
        bi = self._bidirected
        spec = DagittySpec(
            nodes=[n for n in self._g if n not in bi],
            directed=[(a, b) for a, b in self._g.edges if a not in bi],
            bidirected=list(bi.values()),
            exposure=list(self.exposure or ()), outcome=list(self.outcome or ()),
            latent=[n for n in self._latent if n not in bi],
            adjusted=list(self.adjusted), selected=list(self.selected),
            positions=self.positions, bounding_box=self.bounding_box)
        return write_dagitty(spec)

    def plot(self, ax: Any = None, treatment: NodeSet | None = None,
             outcome: NodeSet | None = None, **kwargs: Any) -> Any:
        """Draw the DAG with matplotlib; returns the Axes (see :mod:`causalkit.dags.plot`)."""
        from .plot import plot_dag

        return plot_dag(self, ax=ax, treatment=treatment, outcome=outcome, **kwargs)

    # ------------------------------------------------------------------ validation
    def _node(self, node: Node) -> Node:
        if _contains(self._g, node):
            return node
        msg = f"node {node!r} is not in the graph"
        same_text = [n for n in self._g if str(n) == str(node)]
        if same_text:
            other = same_text[0]
            raise UnknownNodeError(
                f"{msg}; the graph has {other!r} (a {type(other).__name__}, not a "
                f"{type(node).__name__}): in DAGitty text a bare integer is read as an int and "
                "a quoted one as a string")
        hint = suggest_column(str(node), [str(n) for n in self._g])
        raise UnknownNodeError(msg + (f"; did you mean {hint!r}?" if hint else ""))

    def _items(self, nodes: NodeSet) -> list:
        if isinstance(nodes, str) or _contains(self._g, nodes):
            return [nodes]
        try:
            return list(nodes)  # type: ignore[arg-type]
        except TypeError:
            return [nodes]      # a single unknown node: _node says so

    def _nodes(self, nodes: NodeSet | None, role: str = "node") -> frozenset:
        if nodes is None:
            raise GraphError(f"no {role} given (and none is marked in the graph)")
        items = self._items(nodes)
        if not items:
            raise GraphError(f"the {role} set is empty")
        return frozenset(self._node(n) for n in items)

    def _optional(self, nodes: NodeSet | None, role: str = "node") -> frozenset:
        """Like :meth:`_nodes`, but ``None`` or an empty collection is the empty set."""
        if nodes is None:
            return frozenset()
        return frozenset(self._node(n) for n in self._items(nodes))

    def _treatment_outcome(self, x: NodeSet | None, y: NodeSet | None
                           ) -> tuple[frozenset, frozenset]:
        xs = self._nodes(x if x is not None else self.exposure, "treatment")
        ys = self._nodes(y if y is not None else self.outcome, "outcome")
        both = xs & ys
        if both:
            raise GraphError(f"{sorted(map(str, both))} is both treatment and outcome; "
                             "they must differ")
        hidden = (xs | ys) & self._latent
        if hidden:
            raise GraphError(f"treatment/outcome {sorted(map(str, hidden))} is latent; "
                             "an effect of or on an unobserved node cannot be estimated")
        fixed = (xs | ys) & (self.selected | self.adjusted)
        if fixed:
            raise GraphError(f"treatment/outcome {names(fixed)} is marked adjusted or selected "
                             "(conditioned on), so it cannot also be a treatment or outcome")
        return xs, ys

    def has_causal_path(self, x: NodeSet | None = None, y: NodeSet | None = None) -> bool:
        """Whether some treatment has a directed path to some outcome (else the effect is zero).

        >>> CausalDAG([("Y", "X")]).has_causal_path("X", "Y")
        False
        """
        xs, ys = self._treatment_outcome(x, y)
        return bool(descendants_of(self._g, xs) & ys)

    # ------------------------------------------------------------------ queries
    def d_separated(self, xs: NodeSet, ys: NodeSet, given: NodeSet = ()) -> bool:
        """Whether ``xs`` and ``ys`` are d-separated given ``given`` and the selected nodes.

        Delegates to ``networkx.is_d_separator``; nodes marked ``selected`` are always
        part of the conditioning set.

        >>> CausalDAG([("a", "c"), ("b", "c")]).d_separated("a", "b")
        True
        >>> CausalDAG([("a", "c"), ("b", "c")], selected=["c"]).d_separated("a", "b")
        False
        """
        a, b = self._nodes(xs), self._nodes(ys)
        z = self._optional(given, "conditioning set")
        if a & b or (a | b) & z:
            raise GraphError("the sets in a d-separation query must be disjoint")
        sel = (a | b) & self.selected
        if sel:
            raise GraphError(f"{names(sel)} is selected: the data are conditioned on it by "
                             "design, so it cannot be one side of a d-separation query")
        return nx.is_d_separator(self._g, set(a), set(b), set(z | self.selected))

    def backdoor_paths(self, x: NodeSet | None = None, y: NodeSet | None = None,
                       given: NodeSet = (), max_paths: int = 1000) -> "list[BackdoorPath]":
        """Every back-door path from x to y, each marked open/blocked given ``given``."""
        from .paths import backdoor_paths

        return backdoor_paths(self, x, y, given, max_paths=max_paths)

    def is_valid_adjustment(self, x: NodeSet | None, y: NodeSet | None,
                            z: NodeSet | None = None) -> "AdjustmentCheck":
        """Generalized adjustment criterion (with the selected nodes conditioned on); the
        result is truthy and carries a reason.  ``z=None`` checks the nodes marked adjusted."""
        from .adjustment import check_adjustment

        return check_adjustment(self, x, y, z)

    def adjustment_sets(self, x: NodeSet | None = None, y: NodeSet | None = None,
                        kind: str = "minimal", include: NodeSet = (),
                        exclude: NodeSet = (), limit: int | None = None) -> list[frozenset]:
        """Adjustment sets of the given kind ([] = none exists, [frozenset()] = empty set works).

        ``kind`` is "minimal" (all minimal sets, at most ``limit``), "smallest",
        "canonical" or "optimal"; see :mod:`causalkit.dags.adjustment`.
        """
        from .adjustment import adjustment_sets

        return adjustment_sets(self, x, y, kind=kind, include=include, exclude=exclude,
                               limit=limit)

    def adjustment_set(self, x: NodeSet | None = None, y: NodeSet | None = None,
                       kind: str = "optimal", include: NodeSet = (),
                       exclude: NodeSet = ()) -> frozenset:
        """One adjustment set, or NotIdentifiableError naming the path that defeats adjustment."""
        from .adjustment import adjustment_set

        return adjustment_set(self, x, y, kind=kind, include=include, exclude=exclude)

    def frontdoor_sets(self, x: NodeSet | None = None, y: NodeSet | None = None
                       ) -> list[frozenset]:
        """Sets satisfying Pearl's front-door criterion."""
        from .frontdoor import frontdoor_sets

        return frontdoor_sets(self, x, y)

    def instruments(self, x: NodeSet | None = None, y: NodeSet | None = None
                    ) -> "list[Instrument]":
        """Instruments for x -> y, each with its (possibly empty) conditioning set."""
        from .instruments import instruments

        return instruments(self, x, y)

    def implied_independencies(self) -> list[tuple[Node, Node, frozenset]]:
        """A basis of testable conditional independencies among observed nodes."""
        from .implications import implied_independencies

        return implied_independencies(self)

    def test_implications(self, data: Any, method: str = "partial_correlation",
                          alpha: float = 0.05) -> Any:
        """Test each implied independence on a DataFrame; returns a table of p-values."""
        from .implications import test_implications

        return test_implications(self, data, method=method, alpha=alpha)

    def identify(self, x: NodeSet | None = None, y: NodeSet | None = None,
                 kind: str = "optimal") -> "Identification":
        """Identify the effect of x on y: no causal path (zero), backdoor, front-door, IV or
        not identifiable."""
        from .identify import identify

        return identify(self, x, y, kind=kind)


def refuse_selection(dag: CausalDAG, what: str) -> None:
    """GraphError when ``dag`` has selected nodes and ``what`` has no criterion under selection."""
    if dag.selected:
        raise GraphError(f"{what} under selection on {names(dag.selected)} is not implemented: "
                         "the criterion assumes an unselected sample; use adjustment sets "
                         "(which handle selection) or drop the selected marks")


def _contains(g: nx.DiGraph, node: Any) -> bool:
    try:
        return node in g._node
    except TypeError:            # unhashable
        return False


def _finite(values: Any, n: int, what: str) -> tuple:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise GraphError(f"{what} must be {n} numbers, got {values!r}") from None
    if len(out) != n or not all(math.isfinite(v) for v in out):
        raise GraphError(f"{what} must be {n} finite numbers, got {values!r}")
    return out


def as_dag(dag: Any) -> CausalDAG:
    """Accept a CausalDAG, DAGitty text or a networkx DiGraph."""
    if isinstance(dag, CausalDAG):
        return dag
    if isinstance(dag, str):
        return CausalDAG.from_dagitty(dag)
    if isinstance(dag, nx.DiGraph):
        return CausalDAG.from_networkx(dag)
    raise GraphError(f"dag must be a CausalDAG, DAGitty text or a networkx DiGraph, "
                     f"got {type(dag).__name__}")


def sorted_sets(sets: Iterable[frozenset]) -> list[frozenset]:
    """Sets ordered by size, then by their sorted member names (deterministic output)."""
    return sorted(set(sets), key=lambda s: (len(s), sorted(map(str, s))))


def names(nodes: Iterable[Node]) -> str:
    """``{a, b}`` for messages."""
    return "{" + ", ".join(sorted(map(str, nodes))) + "}"


__all__: Sequence[str] = ["CausalDAG", "as_dag"]
