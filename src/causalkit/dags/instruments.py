"""Instrumental variables read off the DAG, unconditional and conditional.

Z is an instrument for X -> Y given W (Brito & Pearl 2002; van der Zander,
Textor & Liśkiewicz 2015) if W contains no descendant of X, Z is d-connected
to X given W, and Z is d-separated from Y given W in the graph without the
first edges of the causal paths from X to Y.  For each candidate Z the empty
set is tried first, then the nearest separator of Z and Y (a minimal
separator among observed non-descendants of X), which finds every ancestral
instrument; each answer is verified against the definition.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> iv = CausalDAG([("Z", "X"), ("X", "Y")], bidirected=[("X", "Y")])
>>> [str(i) for i in iv.instruments("X", "Y")]
['Z']
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from ._graphs import causal_nodes, descendants_of, moral_ancestral, proper_backdoor_graph
from .graph import CausalDAG, NodeSet, names
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
    """Every observed node that is an instrument (possibly conditional) for X -> Y."""
    xs, ys = dag._treatment_outcome(x, y)
    g = dag.graph
    de_x = descendants_of(g, xs)
    pbd = proper_backdoor_graph(g, xs, causal_nodes(g, xs, ys))
    allowed = {n for n in g if n not in dag.latent_nodes and n not in de_x and n not in ys}
    found = []
    for z in sorted(allowed, key=str):
        cands = [frozenset()]
        adj = moral_ancestral(pbd, {z} | set(ys))
        w = find_minimal_separator(adj, {z}, set(ys), set(), allowed - {z})
        if w:
            cands.append(w)
        for cond in cands:
            if (nx.is_d_separator(pbd, {z}, set(ys), set(cond))
                    and not nx.is_d_separator(g, {z}, set(xs), set(cond))):
                found.append(Instrument(z, cond))
                break
    return sorted(found, key=lambda i: (i.conditional, len(i.conditioning), str(i.instrument)))
