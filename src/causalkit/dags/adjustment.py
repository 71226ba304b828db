"""Covariate adjustment: the generalized adjustment criterion and set search.

Z is a valid adjustment set for the effect of X on Y iff (Shpitser, VanderWeele
& Robins 2010; Perković et al. 2018; van der Zander, Liśkiewicz & Textor 2019,
Thm. 5) Z contains no node of forb(X, Y) = X ∪ De(cn(X, Y)) and Z d-separates
X and Y in the proper back-door graph, where cn(X, Y) are the nodes on proper
causal paths and the proper back-door graph drops the first edge of each of them.

Nodes marked in the DAG have DAGitty's meaning (its ``isAdjustmentSet`` and
``listMsasTotalEffect``): nodes marked ``adjusted`` are forced into every set,
like ``include=``, and if one of them is forbidden no set exists; nodes marked
``selected`` S are conditioned on by design (the data are the selected sample),
so Z is valid when Z ∪ S satisfies the criterion above and, in addition, Y is
d-separated from S in the proper back-door graph (DAGitty's test in
``listMsasTotalEffect``).  Then the effect in the whole population is recovered
from the selected sample as Σ_z P(y | x, z, S) P(z | S) (recovery from selection
bias: Bareinboim, Tian & Pearl 2014); the tests check this formula exactly on
random discrete models.  Selected nodes are never listed in a set.

Kinds of sets (latent and excluded nodes never appear, included ones always do):

* ``"minimal"``: every minimal set, listed with polynomial delay (Takata's
  close-separator backtracking on the moralized ancestral proper back-door graph);
* ``"smallest"``: one set of minimum size (max-flow / min-cut);
* ``"canonical"``: Adjust(X, Y) = An(X ∪ Y ∪ I) ∩ R, valid iff any valid set exists;
* ``"optimal"``: O(X, Y) = pa(cn) \\ forb of Henckel, Perković & Maathuis (2022),
  the valid set with the smallest asymptotic variance of the adjusted estimator in
  linear models.  When O(X, Y) contains latent or excluded nodes it is not
  available; then its observed part is completed to a valid set by the closest
  minimal separator (valid whenever a valid set exists, but not proven optimal).
  Under selection O(X, Y) is used when it is valid, but its optimality is only
  proven without selection.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> m_bias = CausalDAG([("A", "M"), ("B", "M"), ("A", "X"), ("B", "Y"), ("X", "Y")])
>>> m_bias.adjustment_sets("X", "Y")
[frozenset()]
>>> bool(m_bias.is_valid_adjustment("X", "Y", {"M"}))
False
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Iterator

import networkx as nx

from ..errors import GraphError, NotIdentifiableError
from ._graphs import (ancestors_of, causal_nodes, d_connecting_trail, descendants_of,
                      moral_ancestral, proper_backdoor_graph)
from .graph import CausalDAG, NodeSet, names, sorted_sets
from .separators import find_minimal_separator, list_minimal_separators, minimum_separator

KINDS = ("minimal", "smallest", "canonical", "optimal")


@dataclass(frozen=True)
class AdjustmentProblem:
    """Everything the adjustment searches share for one (X, Y) query."""

    dag: CausalDAG
    xs: frozenset
    ys: frozenset
    cn: frozenset
    forbidden: frozenset
    pbd: nx.DiGraph
    allowed: frozenset
    include: frozenset   # include= and the nodes marked adjusted
    selected: frozenset  # the nodes marked selected (always conditioned on)

    @classmethod
    def build(cls, dag: CausalDAG, x: NodeSet | None, y: NodeSet | None,
              include: NodeSet = (), exclude: NodeSet = ()) -> "AdjustmentProblem":
        xs, ys = dag._treatment_outcome(x, y)
        inc = _optional(dag, include, "include")
        exc = _optional(dag, exclude, "exclude")
        bad = inc & (xs | ys)
        if bad:
            raise GraphError(f"include= names the treatment/outcome {names(bad)}")
        hidden = inc & dag.latent_nodes
        if hidden:
            raise GraphError(f"include= names latent node(s) {names(hidden)}, which cannot "
                             "be adjusted for")
        if inc & exc:
            raise GraphError(f"{names(inc & exc)} is both included and excluded")
        marked = dag.adjusted & exc
        if marked:
            raise GraphError(f"{names(marked)} is marked adjusted in the DAG (forced into every "
                             "set) and also excluded")
        if inc & dag.selected:
            raise GraphError(f"include= names {names(inc & dag.selected)}, which is selected: it "
                             "is conditioned on by design and never listed in a set")
        g = dag.graph
        cn = causal_nodes(g, xs, ys)
        forb = descendants_of(g, cn) | xs
        allowed = frozenset(n for n in g if n not in dag.latent_nodes and n not in forb
                            and n not in ys and n not in exc and n not in dag.selected)
        return cls(dag, xs, ys, frozenset(cn), frozenset(forb),
                   proper_backdoor_graph(g, xs, cn), allowed, inc | dag.adjusted,
                   dag.selected)

    @property
    def forced(self) -> frozenset:
        """Nodes every separator contains: the included/adjusted and the selected ones."""
        return self.include | self.selected

    def moral(self) -> dict:
        return moral_ancestral(self.pbd, self.xs | self.ys | self.forced)

    def separates(self, z: frozenset) -> bool:
        """Whether Z ∪ S d-separates X and Y in the proper back-door graph (linear Bayes ball)."""
        return d_connecting_trail(self.pbd, self.xs, self.ys, z | self.selected) is None

    def selection_trail(self) -> list | None:
        """An open path from Y to a selected node in the proper back-door graph, or None."""
        if not self.selected:
            return None
        return d_connecting_trail(self.pbd, self.ys, self.selected, ())

    def impossible(self) -> bool:
        """Whether the marks alone rule every set out (forced forbidden nodes, biasing selection)."""
        return bool(self.include & self.forbidden) or self.selection_trail() is not None


def _optional(dag: CausalDAG, nodes: NodeSet, role: str) -> frozenset:
    return dag._optional(nodes, role)


@dataclass(frozen=True)
class AdjustmentCheck:
    """The verdict of the adjustment criterion on one set; truthy when valid."""

    valid: bool
    reason: str
    open_path: tuple | None = None

    def __bool__(self) -> bool:
        return self.valid

    def __str__(self) -> str:
        return self.reason


def _forbidden_reason(p: AdjustmentProblem, w: object) -> str:
    """Why ``w`` is forbidden: it lies on, or descends from, a causal path (shown)."""
    from .paths import render_trail

    g = p.dag.graph
    via = sorted((c for c in p.cn if w in descendants_of(g, [c])), key=str)[0]
    x = sorted((x for x in p.xs if via in descendants_of(g, [x])), key=str)[0]
    y = sorted((y for y in p.ys if y in descendants_of(g, [via])), key=str)[0]
    path = nx.shortest_path(g, x, via) + nx.shortest_path(g, via, y)[1:]
    causal = render_trail(p.dag, path)
    return (f"{w} lies on the causal path {causal}" if via == w else
            f"{w} is a descendant of {via}, which lies on the causal path {causal}")


def _selection_reason(p: AdjustmentProblem) -> str | None:
    """Why the selected nodes rule adjustment out, or None when they do not."""
    from .paths import render_trail

    sel = names(p.selected)
    bad = p.selected & p.forbidden
    if bad:
        w = sorted(bad, key=str)[0]
        return (f"the data are selected on {sel} and {_forbidden_reason(p, w)}, so the "
                "selection itself biases the effect")
    trail = p.selection_trail()
    if trail is not None:
        return (f"the data are selected on {sel} and the path {render_trail(p.dag, trail)} "
                "from the outcome to the selection is open, so the selected sample does not "
                "represent the population's outcome")
    return None


def check_adjustment(dag: CausalDAG, x: NodeSet | None, y: NodeSet | None,
                     z: NodeSet | None = None) -> AdjustmentCheck:
    """Check Z with the generalized adjustment criterion and say why it fails.

    ``z=None`` checks the nodes marked adjusted in the DAG.  Selected nodes are
    conditioned on; see the module docstring.

    >>> dag = CausalDAG([("X", "M"), ("M", "Y"), ("M", "D")])
    >>> print(dag.is_valid_adjustment("X", "Y", {"D"}))
    {D} is not valid: D is a descendant of M, which lies on the causal path X -> M -> Y
    """
    from .paths import render_trail

    p = AdjustmentProblem.build(dag, x, y)
    zs = dag.adjusted if z is None else _optional(dag, z, "adjustment set")
    zs = zs - dag.selected
    label = names(zs)
    if zs & (p.xs | p.ys):
        raise GraphError(f"the adjustment set {label} contains the treatment or outcome")
    hidden = zs & dag.latent_nodes
    if hidden:
        return AdjustmentCheck(False, f"{label} is not valid: {names(hidden)} is latent "
                                      "(unobserved) and cannot be adjusted for")
    bad = zs & p.forbidden
    if bad:
        w = sorted(bad, key=str)[0]
        return AdjustmentCheck(False, f"{label} is not valid: {_forbidden_reason(p, w)}")
    why = _selection_reason(p)
    if why is not None:
        return AdjustmentCheck(False, f"{label} is not valid: {why}",
                               None if p.selection_trail() is None
                               else tuple(p.selection_trail()))
    trail = d_connecting_trail(p.pbd, p.xs, p.ys, zs | p.selected)
    given = f" (with the selected {names(p.selected)})" if p.selected else ""
    if trail is not None:
        return AdjustmentCheck(False, f"{label} is not valid: the non-causal path "
                                      f"{render_trail(dag, trail)} stays open{given}",
                               tuple(trail))
    return AdjustmentCheck(True, f"{label} is a valid adjustment set{given}: it contains no "
                                 "descendant of a causal path and blocks every non-causal path")


def _unselected(z: frozenset | None, p: AdjustmentProblem) -> frozenset | None:
    return None if z is None else z - p.selected


def iter_minimal_sets(p: AdjustmentProblem) -> Iterator[frozenset]:
    """Every (include-)minimal adjustment set, with polynomial delay."""
    if p.impossible():
        return
    for z in list_minimal_separators(p.moral(), set(p.xs), set(p.ys), set(p.forced),
                                     set(p.allowed)):
        yield z - p.selected


def first_minimal_set(p: AdjustmentProblem) -> frozenset | None:
    """One minimal adjustment set in linear time (FindMinSep), or None."""
    if p.impossible():
        return None
    return _unselected(find_minimal_separator(p.moral(), set(p.xs), set(p.ys), set(p.forced),
                                              set(p.allowed)), p)


def canonical_set(p: AdjustmentProblem) -> frozenset | None:
    """Adjust(X, Y) = An(X ∪ Y ∪ I ∪ S) ∩ R if it is valid (iff any valid set exists)."""
    if p.impossible():
        return None
    anc = ancestors_of(p.pbd, p.xs | p.ys | p.forced)
    z = frozenset(anc & p.allowed) | p.include
    return z if p.separates(z) else None


def optimal_set(p: AdjustmentProblem) -> frozenset | None:
    """Henckel, Perković & Maathuis's O(X, Y) = pa(cn(X, Y)) \\ forb(X, Y) when usable.

    If O contains latent/excluded nodes or does not block with ``include``, its
    usable part is completed by the closest minimal separator (see module doc).
    """
    if p.impossible():
        return None
    g = p.dag.graph
    # Y is in cn whenever Y is a descendant of X; otherwise (a null effect) pa(Y) is used
    o = frozenset(par for c in p.cn | p.ys for par in g._pred[c]) - p.forbidden - p.ys
    o_usable = (o & p.allowed) | p.include
    if o <= p.allowed and p.separates(o_usable):
        return o_usable
    adj = p.moral()
    anc = set(adj)
    forced = (o_usable & anc) | p.forced
    z = find_minimal_separator(adj, set(p.xs), set(p.ys), set(forced), set(p.allowed))
    if z is None:
        z = find_minimal_separator(adj, set(p.xs), set(p.ys), set(p.forced), set(p.allowed))
    return _unselected(z, p)


def adjustment_sets(dag: CausalDAG, x: NodeSet | None = None, y: NodeSet | None = None,
                    kind: str = "minimal", include: NodeSet = (),
                    exclude: NodeSet = (), limit: int | None = None) -> list[frozenset]:
    """Adjustment sets of ``kind``: ``[]`` means no valid set, ``[frozenset()]`` the empty set.

    There can be exponentially many minimal sets; ``limit`` stops the listing after
    that many (each found with polynomial delay).

    >>> dag = CausalDAG([("W", "X"), ("W", "M"), ("X", "M"), ("M", "Y")])
    >>> dag.adjustment_sets("X", "Y")
    [frozenset({'W'})]
    """
    if kind not in KINDS:
        raise GraphError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    p = AdjustmentProblem.build(dag, x, y, include, exclude)
    if p.impossible():
        return []
    if kind == "minimal":
        return sorted_sets(islice(iter_minimal_sets(p), limit))
    if kind == "smallest":
        z = _unselected(minimum_separator(p.moral(), set(p.xs), set(p.ys), set(p.forced),
                                          set(p.allowed)), p)
    elif kind == "canonical":
        z = canonical_set(p)
    else:
        z = optimal_set(p)
    return [] if z is None else [z]


def explain_failure(p: AdjustmentProblem) -> str:
    """Why no adjustment set exists: an open path given the largest allowed set."""
    from .paths import render_trail

    bad = p.include & p.forbidden
    if bad:
        w = sorted(bad, key=str)[0]
        how = ("is marked adjusted in the DAG" if w in p.dag.adjusted
               else "is forced in by include=")
        return (f"{w} {how}, and {_forbidden_reason(p, w)}: adjusting for it would block or "
                "bias the causal effect")
    why = _selection_reason(p)
    if why is not None:
        return why
    anc = ancestors_of(p.pbd, p.xs | p.ys | p.forced)
    z = (anc & p.allowed) | p.forced
    trail = d_connecting_trail(p.pbd, p.xs, p.ys, z)
    if trail is None:  # pragma: no cover - canonical set would have been valid
        return "no adjustment set exists"
    if len(trail) == 2:
        why = f"{trail[1]} -> {trail[0]}: the outcome is a direct cause of the treatment"
        return why + _zero_note(p)
    hidden = [n for n in trail[1:-1] if n in p.dag.latent_nodes]
    shown = ["{} <-> {}".format(*p.dag._bidirected[n]) for n in hidden
             if p.dag.is_bidirected_latent(n)]
    plain = [n for n in hidden if not p.dag.is_bidirected_latent(n)]
    parts = ([f"the latent node(s) {names(plain)}"] if plain else []) + (
        [f"the hidden common cause of {', '.join(shown)}"] if shown else [])
    why = (f" through {' and '.join(parts)}" if parts else
           " through nodes that cannot be adjusted for")
    given = f" (given the selected {names(p.selected)})" if p.selected else ""
    return (f"the non-causal path {render_trail(p.dag, trail)} is open{why}{given} and no "
            "set of observed, allowed covariates blocks it" + _zero_note(p))


def _zero_note(p: AdjustmentProblem) -> str:
    if p.cn:
        return ""
    return (f"; there is no causal path from {names(p.xs)[1:-1]} to {names(p.ys)[1:-1]}, so the "
            "effect itself is zero by the graph (identify() says so)")


def adjustment_set(dag: CausalDAG, x: NodeSet | None = None, y: NodeSet | None = None,
                   kind: str = "optimal", include: NodeSet = (),
                   exclude: NodeSet = ()) -> frozenset:
    """One adjustment set of ``kind``; raises NotIdentifiableError naming the open path.

    >>> dag = CausalDAG([("U", "X"), ("U", "Y"), ("X", "Y")], latent=["U"])
    >>> try:
    ...     dag.adjustment_set("X", "Y")
    ... except NotIdentifiableError as err:
    ...     print(err)
    the effect of X on Y is not identified by adjustment: the non-causal path X <- U -> Y is open through the latent node(s) {U} and no set of observed, allowed covariates blocks it
    """
    sets = adjustment_sets(dag, x, y, kind=kind, include=include, exclude=exclude)
    if sets:
        return sets[0]
    p = AdjustmentProblem.build(dag, x, y, include, exclude)
    raise NotIdentifiableError(f"the effect of {names(p.xs)[1:-1]} on {names(p.ys)[1:-1]} is "
                               f"not identified by adjustment: {explain_failure(p)}")
