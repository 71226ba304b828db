"""Instrumental variables read off the DAG, unconditional and conditional.

Z is an instrument for X -> Y given W (Brito & Pearl 2002; van der Zander,
Textor & Liśkiewicz 2015) if W contains no descendant of X, Z is d-connected
to X given W, and Z is d-separated from Y given W in the graph without the
first edges of the causal paths from X to Y.  Unconditional instruments are
found with two Bayes-ball passes.  For every other observed non-descendant Z
of X (a cause of X or not), the search of van der Zander, Textor & Liśkiewicz
(2015, "Efficiently finding conditional instruments for causal inference")
is complete: if any W makes Z an instrument, the minimal separator of Z and Y
*nearest Y* among observed non-descendants of X (on the moralized ancestral
graph of Z ∪ Y in the proper back-door graph) does (an "ancestral
instrument"), so one separator per Z and one Bayes-ball check decide it.  Every
answer is verified against the definition.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> iv = CausalDAG([("Z", "X"), ("X", "Y")], bidirected=[("X", "Y")])
>>> [str(i) for i in iv.instruments("X", "Y")]
['Z']
"""

from __future__ import annotations

from dataclasses import dataclass

from ._graphs import (causal_nodes, d_connected_nodes, d_connecting_trail,
                      descendants_of, moral_ancestral, proper_backdoor_graph)
from .graph import CausalDAG, NodeSet, names, refuse_selection
from .separators import find_minimal_separator


@dataclass(frozen=True)
class Instrument:
    """An instrument and the covariates it must be conditioned on (empty if none)."""

    instrument: object
    conditioning: frozenset = frozenset()

    @property
    def conditional(self) -> bool:
        return bool(self.conditioning)

    def __str__(self) -> str:
        return (f"{self.instrument} | {names(self.conditioning)}" if self.conditioning
                else str(self.instrument))


def instruments(dag: CausalDAG, x: NodeSet | None = None,
                y: NodeSet | None = None) -> list[Instrument]:
    """Every observed instrument for X -> Y, unconditional or with a conditioning set.

    Nodes marked adjusted are not used; a DAG with selected nodes is refused
    (GraphError): the IV conditions assume an unselected sample.

    >>> from causalkit.dags import CausalDAG
    >>> dag = CausalDAG([("Z", "A"), ("A", "X"), ("X", "Y"), ("A", "B"), ("B", "Y")],
    ...                 bidirected=[("X", "Y")])
    >>> [str(i) for i in dag.instruments("X", "Y")]
    ['A | {B}', 'Z | {B}']
    """
    refuse_selection(dag, "the instrumental-variable criterion")
    xs, ys = dag._treatment_outcome(x, y)
    g = dag.graph
    de_x = descendants_of(g, xs)
    pbd = proper_backdoor_graph(g, xs, causal_nodes(g, xs, ys))
    allowed = {n for n in g if n not in dag.latent_nodes and n not in de_x and n not in ys}
    linked_to_x = d_connected_nodes(g, xs, ())
    linked_to_y = d_connected_nodes(pbd, ys, ())
    found = []
    for z in sorted(allowed, key=str):
        if z in linked_to_x and z not in linked_to_y:
            found.append(Instrument(z))
            continue
        adj = moral_ancestral(pbd, ys | {z})
        w = find_minimal_separator(adj, set(ys), {z}, set(), allowed - {z})   # nearest Y
        if (w and d_connecting_trail(pbd, {z}, ys, w) is None
                and d_connecting_trail(g, {z}, xs, w) is not None):
            found.append(Instrument(z, w))
    return sorted(found, key=lambda i: (i.conditional, len(i.conditioning), str(i.instrument)))
