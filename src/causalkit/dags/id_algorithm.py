"""The ID and IDC algorithms (Shpitser & Pearl 2006; Tian & Pearl 2002).

``identify_id(dag, x, y)`` decides whether P(Y | do(X)) is identified in a DAG
with latent variables and, if so, returns the formula; ``given=W`` asks for the
conditional effect P(Y | do(X), W) (IDC).  Both are complete: when they fail
the effect is not identifiable from the observational distribution, and the
answer names the hedge.

The recursion runs on the latent projection (:mod:`causalkit.dags.admg`).  The
lines of Shpitser & Pearl's Fig. 3 are, for a query on the subgraph G[V] with
the current distribution P over V:

1. no treatment left: ∑_{V \\ Y} P;
2. drop the non-ancestors of Y (marginalize them out);
3. add to X every node that is not an ancestor of Y once X is intervened on;
4. several c-components S_i of G[V \\ X]: ∑_{V \\ (Y ∪ X)} ∏_i P(S_i | do(V \\ S_i));
5. G[V] is one c-component: fail, the hedge (G[V], S);
6. S is a c-component of G[V]: ∑_{S \\ Y} ∏_{v ∈ S} P(v | v_π^(i-1));
7. S lies in a c-component S' of G[V]: recurse on G[S'] with the factor of S'.

Conditionals P(v | v_π^(i-1)) of the observed distribution are shortened to
P(v | (T ∪ pa(T)) \\ {v}) with T the c-component of v among its predecessors
(Tian & Pearl 2002, Lemma 1), which is what the textbook formulas show.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> napkin = CausalDAG([("W1", "W2"), ("W2", "X"), ("X", "Y")],
...                    bidirected=[("W1", "X"), ("W1", "Y")])
>>> e = identify_id(napkin, "X", "Y")
>>> print(e)
P(Y | do(X)) = (∑_{W1} P(W1) P(X | W1, W2) P(Y | W1, W2, X)) / (∑_{W1} P(W1) P(X | W1, W2))  (the same for every value of W2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Hashable, Iterable

import networkx as nx

from .admg import ADMG, latent_projection
from .estimand import Estimand, Hedge
from .expression import Expr, Prob, conditional, marginal, product, quotient

if TYPE_CHECKING:  # pragma: no cover
    from .graph import CausalDAG, NodeSet

Node = Hashable


class _Fail(Exception):
    def __init__(self, forest: frozenset, subforest: frozenset) -> None:
        super().__init__()
        self.hedge = Hedge(forest, subforest)


@dataclass(frozen=True)
class _Term:
    """The current distribution: ``expr`` over ``domain``; ``base`` when it is P(domain)."""

    expr: Expr
    domain: frozenset
    base: bool


def _names(nodes: Iterable[Node]) -> str:
    return "{" + ", ".join(sorted(map(str, nodes))) + "}"


class _ID:
    """One run of the recursion, with the derivation it writes."""

    def __init__(self, g: ADMG) -> None:
        self.g = g
        self.steps: list[str] = []

    def factor(self, v: Node, before: list[Node], p: _Term) -> Expr:
        """P(v | the nodes ``before`` it), on the current distribution."""
        if p.base:
            pre = frozenset(before)
            comp = self.g.district_of(v, pre | {v})
            keep = (comp | frozenset(q for c in comp for q in self.g.parents(c))) & pre
            return Prob({v}, keep)
        return conditional(p.expr, p.domain, {v}, before)

    def factors(self, s: frozenset, v_all: frozenset, p: _Term) -> list[Expr]:
        order = self.g.topological(v_all)
        out, before = [], []
        for v in order:
            if v in s:
                out.append(self.factor(v, list(before), p))
            before.append(v)
        return out

    def run(self, y: frozenset, x: frozenset, p: _Term, v: frozenset) -> Expr:
        g = self.g
        if not x:                                                   # line 1
            self.steps.append(f"no intervention left on {_names(v)}: marginalize "
                              f"{_names(v - y) if v - y else 'nothing'} out of the distribution")
            return marginal(v - y, p.expr)
        anc = g.ancestors(y, within=v)
        if anc != v:                                                # line 2
            self.steps.append(f"restrict to the ancestors of {_names(y)}: sum out "
                              f"{_names(v - anc)}")
            expr = marginal(v - anc, p.expr)
            return self.run(y, x & anc, _Term(expr, anc, p.base), anc)
        w = (v - x) - g.ancestors(y, within=v, cut_into=x)
        if w:                                                       # line 3
            self.steps.append(f"{_names(w)} cannot affect {_names(y)} once {_names(x)} is "
                              "set, so intervene on them as well")
            return self.run(y, x | w, p, v)
        comps = g.districts(v - x)
        if len(comps) > 1:                                          # line 4
            self.steps.append(f"G without {_names(x)} splits into the c-components "
                              + ", ".join(_names(c) for c in comps)
                              + "; identify the effect on each and multiply")
            parts = [self.run(c, v - c, p, v) for c in comps]
            return marginal(v - (y | x), product(parts))
        s = comps[0]
        whole = g.districts(v)
        if len(whole) == 1:                                         # line 5
            self.steps.append(f"G[{_names(v)}] is a single c-component containing "
                              f"{_names(x)}: the hedge F = {_names(v)}, F' = {_names(s)}")
            raise _Fail(v, s)
        if s in whole:                                              # line 6
            self.steps.append(f"{_names(s)} is a c-component of G[{_names(v)}]: its factor "
                              "is the product of P(v | predecessors) over its nodes")
            return marginal(s - y, product(self.factors(s, v, p)))
        big = next(c for c in whole if s < c)                       # line 7
        self.steps.append(f"{_names(s)} lies inside the c-component {_names(big)} of "
                          f"G[{_names(v)}]: recurse on G[{_names(big)}] with its factor")
        expr = product(self.factors(big, v, p))
        return self.run(y, x & big, _Term(expr, big, False), big)


def _d_separated(g: ADMG, a: frozenset, b: frozenset, given: frozenset,
                 cut_into: frozenset, cut_out_of: frozenset) -> bool:
    dag, _ = g.to_dag(cut_into=cut_into, cut_out_of=cut_out_of)
    return nx.is_d_separator(dag, set(a), set(b), set(given))


def id_expression(g: ADMG, x: frozenset, y: frozenset, steps: list[str] | None = None) -> Expr:
    """The ID algorithm on an ADMG: an expression for P(y | do(x)), or raises ``_Fail``."""
    run = _ID(g)
    try:
        return run.run(frozenset(y), frozenset(x), _Term(Prob(g.nodes), g.nodes, True), g.nodes)
    finally:
        if steps is not None:
            steps.extend(run.steps)


def idc_expression(g: ADMG, x: frozenset, y: frozenset, w: frozenset,
                   steps: list[str]) -> Expr:
    """IDC (Shpitser & Pearl 2006b, Fig. 4): P(y | do(x), w), or raises ``_Fail``."""
    x, w = frozenset(x), frozenset(w)
    moved = True
    while moved:
        moved = False
        for z in sorted(w, key=lambda n: g.order[n]):
            if _d_separated(g, frozenset(y), frozenset({z}), x | (w - {z}), x, frozenset({z})):
                steps.append(f"rule 2: given {_names(x | (w - {z}))}, {z} is independent of "
                             f"{_names(y)} once its outgoing edges are cut, so condition on {z} "
                             f"= intervene on {z}")
                x, w, moved = x | {z}, w - {z}, True
                break
    if not w:
        return id_expression(g, x, y, steps)
    steps.append(f"P({_names(y | w)} | do({_names(x)})) is identified, then conditioned on "
                 f"{_names(w)}")
    joint = id_expression(g, x, frozenset(y) | w, steps)
    return quotient(joint, marginal(frozenset(y), joint))


def identify_id(dag: "CausalDAG", x: "NodeSet | None" = None, y: "NodeSet | None" = None,
                given: "NodeSet" = ()) -> Estimand:
    """P(Y | do(X)) (or P(Y | do(X), given) by IDC) by the ID algorithm, as an :class:`Estimand`.

    Never raises for a non-identifiable query: the Estimand then has
    ``identified == False`` and names the hedge.

    >>> from causalkit.dags import CausalDAG
    >>> bow = CausalDAG([("X", "Y")], bidirected=[("X", "Y")])
    >>> e = identify_id(bow, "X", "Y")
    >>> e.identified, sorted(e.hedge.forest), sorted(e.hedge.subforest)
    (False, ['X', 'Y'], ['Y'])
    """
    from .adjustment import _optional
    from ..errors import GraphError

    xs, ys = dag._treatment_outcome(x, y)
    w = _optional(dag, given, "conditioning set")
    if w & (xs | ys):
        raise GraphError(f"the conditioning set {_names(w)} overlaps the treatment/outcome")
    if w & dag.latent_nodes:
        raise GraphError(f"cannot condition on latent node(s) {_names(w & dag.latent_nodes)}")
    g = latent_projection(dag)
    steps: list[str] = []
    tx, ty = tuple(sorted(xs, key=str)), tuple(sorted(ys, key=str))
    tw = tuple(sorted(w, key=str))
    try:
        expr = idc_expression(g, xs, ys, w, steps) if w else id_expression(g, xs, ys, steps)
    except _Fail as fail:
        return Estimand(tx, ty, None, strategy="id", given=tw, derivation=tuple(steps),
                        hedge=fail.hedge)
    return Estimand(tx, ty, expr, strategy="id", given=tw, derivation=tuple(steps))
