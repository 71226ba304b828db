"""Identification of natural direct and indirect effects from a DAG.

E[Y(a, M(a*))] is given by the mediation formula ∑_c ∑_m E[Y | a, m, c] P(m | a*, c) P(c)
when the covariates C contain no descendant of A and (Pearl 2001; VanderWeele
2015, §2.16; Shpitser 2013): (i) C blocks every back-door path from A to Y and
(ii) from A to M, (iii) C ∪ {A} blocks every back-door path from M to Y.  No
such C exists when a descendant of A confounds M and Y (a treatment-induced
confounder, the "recanting witness"): that node is named in the refusal.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> dag = CausalDAG([("C", "A"), ("C", "Y"), ("A", "M"), ("M", "Y"), ("A", "Y")])
>>> mediation_sets(dag, "A", "Y")
(['M'], ['C'])
"""

from __future__ import annotations

from ..errors import GraphError, NotIdentifiableError
from ._graphs import ancestors_of, causal_nodes, descendants_of
from .adjustment import adjustment_sets
from .graph import CausalDAG, NodeSet, names


def _valid(dag: CausalDAG, a: frozenset, m: frozenset, y: frozenset, c: frozenset) -> bool:
    return (bool(dag.is_valid_adjustment(a, y, c)) and bool(dag.is_valid_adjustment(a, m, c))
            and bool(dag.is_valid_adjustment(m, y, c | a)))


def mediation_sets(dag: CausalDAG, treatment: NodeSet, outcome: NodeSet,
                   mediators: NodeSet | None = None) -> tuple[list, list]:
    """(mediators, covariates) that identify the natural effects, or NotIdentifiableError.

    Without ``mediators`` the observed children of A on causal paths to Y are used.
    """
    a, y = dag._treatment_outcome(treatment, outcome)
    g = dag.graph
    if mediators is None:
        cn = causal_nodes(g, a, y)
        m = frozenset(c for x in a for c in g._succ[x] if c in cn and c not in y
                      and c not in dag.latent_nodes)
        if not m:
            raise NotIdentifiableError(f"the DAG has no mediator between {names(a)} and "
                                       f"{names(y)}; name mediators=")
    else:
        m = dag._nodes(mediators, "mediators")
    if m & (a | y):
        raise GraphError(f"the mediators {names(m)} include the treatment or outcome")
    de_a = descendants_of(g, a)
    allowed = frozenset(v for v in dag.observed_nodes if v not in de_a and v not in y)
    candidates = [frozenset(ancestors_of(g, a | m | y) & allowed)]
    candidates += adjustment_sets(dag, a | m, y, kind="minimal", exclude=de_a - a - m,
                                  limit=20)
    for c in candidates:
        if _valid(dag, a, m, y, frozenset(c)):
            return sorted(map(str, m)), sorted(map(str, c))
    raise NotIdentifiableError(f"the natural direct/indirect effects of {names(a)} on "
                               f"{names(y)} through {names(m)} are not identified: "
                               + _why(dag, a, m, y, candidates[0], de_a))


def _why(dag: CausalDAG, a: frozenset, m: frozenset, y: frozenset, c: frozenset,
         de_a: set) -> str:
    from ._graphs import d_connecting_trail, proper_backdoor_graph
    from .paths import render_trail

    g = dag.graph
    pbd = proper_backdoor_graph(g, m, causal_nodes(g, m, y))
    trail = d_connecting_trail(pbd, m, y, c | a)
    if trail is not None:
        inner = [v for v in trail[1:-1] if v in de_a and v not in a]
        text = render_trail(dag, trail)
        if inner:
            return (f"{', '.join(map(str, inner))} is a mediator-outcome confounder affected by "
                    f"the treatment (a treatment-induced confounder) on {text}; no adjustment "
                    "can block it without blocking the effect")
        return f"the mediator-outcome path {text} stays open given the pre-treatment covariates"
    for target, what in ((y, "treatment-outcome"), (m, "treatment-mediator")):
        check = dag.is_valid_adjustment(a, target, c)
        if not check:
            return f"the {what} confounding cannot be blocked: {check.reason}"
    return "no set of pre-treatment covariates meets the three conditions"
