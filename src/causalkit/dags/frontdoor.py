"""Pearl's front-door criterion.

M satisfies the front-door criterion relative to (X, Y) (Pearl 2009, Def. 3.3.3) if
(i) M intercepts every directed path from X to Y, (ii) there is no unblocked
back-door path from X to M, and (iii) every back-door path from M to Y is blocked
by X.  The search follows Jeong, Tian & Bareinboim (2022): start from every
observed node that satisfies (ii), prune those that violate (iii) until stable,
check (i);
every returned set is verified against the three conditions.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> smoking = CausalDAG([("Smoking", "Tar"), ("Tar", "Cancer")],
...                     bidirected=[("Smoking", "Cancer")])
>>> smoking.frontdoor_sets("Smoking", "Cancer")
[frozenset({'Tar'})]
"""

from __future__ import annotations

from itertools import combinations

import networkx as nx

from ._graphs import d_connected_nodes, descendants_of, without_out_edges
from .graph import CausalDAG, NodeSet, refuse_selection, sorted_sets


#: a minimum front-door set is searched exactly (subsets by size) within a largest set this small
MAX_EXACT = 12
#: otherwise greedy removal is repeated to a fixpoint when the largest has at most this many nodes
MAX_GREEDY = 64


def _intercepts(g: nx.DiGraph, xs: frozenset, ys: frozenset, m: frozenset) -> bool:
    h = g.subgraph([n for n in g if n not in m])
    reach = descendants_of(h, xs)
    return not (reach & ys)


def satisfies_frontdoor(dag: CausalDAG, xs: frozenset, ys: frozenset, m: frozenset) -> bool:
    """Whether M meets conditions (i)-(iii) (M observed and disjoint from X, Y)."""
    g = dag.graph
    if not m or m & (xs | ys) or m & dag.latent_nodes:
        return False
    if not _intercepts(g, xs, ys, m):
        return False
    if d_connected_nodes(without_out_edges(g, xs), xs, ()) & m:
        return False
    return not (d_connected_nodes(without_out_edges(g, m), m, xs) & ys)


def frontdoor_sets(dag: CausalDAG, x: NodeSet | None = None,
                   y: NodeSet | None = None) -> list[frozenset]:
    """Front-door sets for X -> Y: the largest found and, if different, a minimal one; [] if none.

    The minimal one is found greedily (one criterion check per node) when the
    largest set has at most ``MAX_GREEDY`` nodes.  Nodes marked adjusted are not
    used (they describe an adjustment analysis); a DAG with selected nodes is
    refused (GraphError): the criterion assumes an unselected sample.
    """
    refuse_selection(dag, "the front-door criterion")
    xs, ys = dag._treatment_outcome(x, y)
    g = dag.graph
    open_to_x = d_connected_nodes(without_out_edges(g, xs), xs, ())
    z = {v for v in dag.observed_nodes if v not in xs and v not in ys and v not in open_to_x}
    while z:
        # drop the members of Z from which Y is reachable by an open back-door path
        # (one Bayes-ball pass from Y; d-connection is symmetric)
        drop = z & d_connected_nodes(without_out_edges(g, z), ys, xs)
        if not drop:
            break
        z -= drop
    m = frozenset(z)
    if not satisfies_frontdoor(dag, xs, ys, m):
        return []
    return sorted_sets([m, smallest_frontdoor(dag, xs, ys, m)])


def smallest_frontdoor(dag: CausalDAG, xs: frozenset, ys: frozenset, m: frozenset) -> frozenset:
    """A minimal front-door set inside the largest one ``m``.

    Every front-door set lies inside the largest (Jeong, Tian & Bareinboim 2022),
    so when ``m`` has at most ``MAX_EXACT`` nodes its subsets are tried by
    increasing size and the first valid one is of minimum size (hence minimal).
    Larger sets are shrunk by repeating a greedy removal pass until no single
    node can go (a single greedy pass can stop early: in
    X -> M -> Y, M -> D, C -> D, C -> Y, X <-> Y it leaves {C, M}).

    >>> from causalkit.dags import CausalDAG
    >>> dag = CausalDAG([("X", "M"), ("M", "Y"), ("M", "D"), ("C", "D"), ("C", "Y")],
    ...                 bidirected=[("X", "Y")])
    >>> [sorted(s) for s in dag.frontdoor_sets("X", "Y")]
    [['M'], ['C', 'D', 'M']]
    """
    if len(m) <= MAX_EXACT:
        members = sorted(m, key=str)
        for k in range(1, len(members)):
            for sub in combinations(members, k):
                if satisfies_frontdoor(dag, xs, ys, frozenset(sub)):
                    return frozenset(sub)
        return m
    smallest, changed = set(m), len(m) <= MAX_GREEDY
    while changed:
        changed = False
        for v in sorted(smallest, key=str):
            if satisfies_frontdoor(dag, xs, ys, frozenset(smallest - {v})):
                smallest.discard(v)
                changed = True
    return frozenset(smallest)
