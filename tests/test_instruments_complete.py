"""The conditional-instrument search is complete: it agrees with a brute force over every W.

van der Zander, Textor & Liśkiewicz (2015) show that an instrument exists iff an
*ancestral* one exists (W among the ancestors of Y and Z), and find, for each
Z, whether an ancestral W exists; so (i) the instruments found are exactly the
Z with some ancestral W (brute force over every such W), and (ii) one is found
whenever any instrument exists (brute force over every W, ancestral or not).

Definition (Brito & Pearl 2002; van der Zander, Textor & Liśkiewicz 2015): Z is
an instrument for X -> Y given W when W has no descendant of X, Z is
d-connected to X given W, and Z is d-separated from Y given W once the first
edge of every causal path from X to Y is removed.  The brute force tries every
W among the observed non-descendants of X with networkx.is_d_separator.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

from causalkit.dags import CausalDAG


def brute_instruments(dag: CausalDAG, x, y, ancestral: bool) -> set:
    g = dag.graph
    de_x = nx.descendants(g, x) | {x}
    h = g.copy()
    h.remove_node(x)
    first = [(x, c) for c in g.successors(x) if c == y or y in nx.descendants(h, c)]
    pbd = g.copy()
    pbd.remove_edges_from(first)
    allowed = [v for v in dag.observed_nodes if v not in de_x and v != y]
    found = set()
    for z in allowed:
        anc = nx.ancestors(g, y) | nx.ancestors(g, z)
        rest = [v for v in allowed if v != z and (not ancestral or v in anc)]
        for k in range(len(rest) + 1):
            if any(not nx.is_d_separator(g, {z}, {x}, set(w))
                   and nx.is_d_separator(pbd, {z}, {y}, set(w))
                   for w in itertools.combinations(rest, k)):
                found.add(z)
                break
    return found


def test_the_issue_example_finds_z_given_b():
    dag = CausalDAG([("Z", "A"), ("A", "X"), ("X", "Y"), ("A", "B"), ("B", "Y")],
                    bidirected=[("X", "Y")])
    assert "Z | {B}" in [str(i) for i in dag.instruments("X", "Y")]


def test_instrument_search_matches_brute_force_on_random_graphs():
    rng = np.random.default_rng(2015)
    checked = with_conditional = 0
    while checked < 300:
        n = int(rng.integers(4, 8))
        names = [f"V{i}" for i in range(n)]
        edges = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)
                 if rng.random() < 0.35]
        bi = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)
              if rng.random() < 0.15]
        i, j = sorted(rng.choice(n, 2, replace=False))
        x, y = names[i], names[j]
        if (x, y) not in edges:
            edges.append((x, y))
        dag = CausalDAG(edges, bidirected=bi + [(x, y)], nodes=names)
        ours = dag.instruments(x, y)
        found = {i.instrument for i in ours}
        assert found == brute_instruments(dag, x, y, ancestral=True), (edges, bi, x, y)
        assert bool(found) == bool(brute_instruments(dag, x, y, ancestral=False))
        for iv in ours:     # every answer satisfies the definition
            g = dag.graph
            assert not nx.is_d_separator(g, {iv.instrument}, {x}, set(iv.conditioning))
        checked += 1
        with_conditional += any(i.conditional for i in ours)
    assert with_conditional > 30


def test_the_minimal_frontdoor_set_is_truly_minimal():
    """One greedy pass left {C, M}; brute force: no proper subset of the answer is valid."""
    from causalkit.dags.frontdoor import satisfies_frontdoor

    dag = CausalDAG([("X", "M"), ("M", "Y"), ("M", "D"), ("C", "D"), ("C", "Y")],
                    bidirected=[("X", "Y")])
    assert dag.frontdoor_sets("X", "Y")[0] == {"M"}
    rng = np.random.default_rng(22)
    for _ in range(200):
        n = int(rng.integers(4, 8))
        names = [f"V{i}" for i in range(n)]
        edges = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)
                 if rng.random() < 0.4]
        bi = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)
              if rng.random() < 0.2]
        x, y = names[0], names[-1]
        dag = CausalDAG(edges, bidirected=bi, nodes=names)
        sets = dag.frontdoor_sets(x, y)
        if not sets:
            continue
        best = sets[0]
        xs, ys = frozenset({x}), frozenset({y})
        everything = [frozenset(s) for k in range(1, n - 1)
                      for s in itertools.combinations(names[1:-1], k)
                      if satisfies_frontdoor(dag, xs, ys, frozenset(s))]
        assert len(best) == min(map(len, everything))
