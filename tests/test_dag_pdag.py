"""CPDAG / PDAG models and adjustment valid for every DAG of the class.

The reference is brute force, independent of the code under test: the Markov
equivalence class of a random DAG is enumerated by orienting its skeleton every
way that keeps its v-structures and stays acyclic (Verma & Pearl 1990), the
CPDAG is read off that class (an edge is directed iff all members agree), and a
set is valid for the class iff CausalDAG.is_valid_adjustment accepts it in every
member.  With background knowledge (an MPDAG) the class is the members that
agree with the extra orientations.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from causalkit.errors import CyclicGraphError, GraphError, NotIdentifiableError
from causalkit.dags import CausalDAG, CausalPDAG


# ----------------------------------------------------------------------------- brute force
def _v_structures(nodes, edges):
    par = {v: {a for a, b in edges if b == v} for v in nodes}
    adj = {frozenset(e) for e in edges}
    return {(a, c, b) for c in nodes for a in par[c] for b in par[c]
            if a != b and frozenset((a, b)) not in adj}


def _acyclic(nodes, edges):
    indeg = {v: 0 for v in nodes}
    for _, b in edges:
        indeg[b] += 1
    stack = [v for v in nodes if indeg[v] == 0]
    seen = 0
    succ = {v: [b for a, b in edges if a == v] for v in nodes}
    while stack:
        v = stack.pop()
        seen += 1
        for w in succ[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                stack.append(w)
    return seen == len(nodes)


def markov_class(nodes, edges):
    """Every DAG with the skeleton and v-structures of (nodes, edges): all orientations."""
    target = _v_structures(nodes, edges)
    out = []
    for bits in itertools.product((0, 1), repeat=len(edges)):
        cand = [(a, b) if s == 0 else (b, a) for (a, b), s in zip(edges, bits)]
        if _v_structures(nodes, cand) == target and _acyclic(nodes, cand):
            out.append(frozenset(cand))
    return out


def random_dag(rng, n, p):
    order = list(rng.permutation(n))
    names = [f"V{i}" for i in range(n)]
    edges = [(names[order[i]], names[order[j]]) for i in range(n) for j in range(i + 1, n)
             if rng.random() < p]
    return names, edges


def subsets(items):
    items = sorted(items)
    return [frozenset(c) for r in range(len(items) + 1) for c in itertools.combinations(items, r)]


def minimal(family):
    return {z for z in family if not any(w < z for w in family)}


def _cases(n_graphs=400, seed=20260):
    rng = np.random.default_rng(seed)
    made = 0
    while made < n_graphs:
        n = int(rng.integers(3, 8))
        nodes, edges = random_dag(rng, n, float(rng.uniform(0.25, 0.6)))
        if not edges or len(edges) > 11:
            continue
        mec = markov_class(nodes, edges)
        made += 1
        yield rng, nodes, edges, mec


def _directed_in_all(members, skeleton):
    directed, undirected = [], []
    for a, b in skeleton:
        ways = {(a, b) in m for m in members}
        if ways == {True}:
            directed.append((a, b))
        elif ways == {False}:
            directed.append((b, a))
        else:
            undirected.append((a, b))
    return directed, undirected


def test_random_cpdags_and_mpdags_agree_with_every_dag_in_the_class():
    n_cpdag = n_mpdag = n_not_amenable = n_checked = 0
    for rng, nodes, edges, mec in _cases():
        dag = CausalDAG(edges, nodes=nodes)
        directed, undirected = _directed_in_all(mec, edges)
        cpdag = CausalPDAG.from_dag(dag)
        assert set(cpdag.directed_edges) == set(directed)
        assert {frozenset(e) for e in cpdag.undirected_edges} == {frozenset(e) for e in undirected}
        members = mec
        graph = cpdag
        if undirected and rng.random() < 0.4:
            # background knowledge: orient some undirected edges as in the true DAG
            k = int(rng.integers(1, len(undirected) + 1))
            known = [e if e in edges else e[::-1] for e in
                     [undirected[i] for i in rng.choice(len(undirected), k, replace=False)]]
            members = [m for m in mec if all(e in m for e in known)]
            d2, u2 = _directed_in_all(members, edges)
            rest = [e for e in undirected if e not in known and e[::-1] not in known]
            graph = CausalPDAG(directed=directed + known, undirected=rest, nodes=nodes)
            assert set(graph.directed_edges) == set(d2)        # Meek's rules are complete
            assert {frozenset(e) for e in graph.undirected_edges} == {frozenset(e) for e in u2}
            assert not graph.is_cpdag
            n_mpdag += 1
        else:
            assert graph.is_cpdag
            n_cpdag += 1
        assert frozenset(graph.to_dag().graph.edges) in set(members)
        dags = [CausalDAG(m, nodes=nodes) for m in members]
        for _ in range(2):
            k = 1 if rng.random() < 0.75 else 2
            xs = set(rng.choice(nodes, k, replace=False).tolist())
            rest = [v for v in nodes if v not in xs]
            ys = set(rng.choice(rest, 1 if rng.random() < 0.8 else min(2, len(rest)),
                                replace=False).tolist())
            others = [v for v in nodes if v not in xs | ys]
            truth = {z: all(d.is_valid_adjustment(xs, ys, z) for d in dags)
                     for z in subsets(others)}
            valid = {z for z, ok in truth.items() if ok}
            amenable = graph.is_amenable(xs, ys)
            if len(xs) == 1 and not any((y, x) in graph.directed_edges
                                        for x in xs for y in ys):
                # the class agrees on a valid set iff it is amenable (with one treatment
                # and no edge Y -> X, each DAG has one, pa(X))
                assert amenable == bool(valid), (graph.to_dagitty(), xs, ys)
            if not amenable:
                n_not_amenable += 1
                assert not valid
                with pytest.raises(NotIdentifiableError, match="differs between the DAGs"):
                    graph.adjustment_sets(xs, ys)
                msg = str(graph.is_valid_adjustment(xs, ys, ()))
                x0, v = msg.split("the edge ")[1].split(" is undirected")[0].split(" -- ")
                assert x0 in xs and v in {b for a, b in graph.undirected_edges if a == x0} | {
                    a for a, b in graph.undirected_edges if b == x0}
                # the DAGs of the class really orient it both ways
                assert {(x0, v) in m for m in members} == {True, False}
                continue
            for z, ok in truth.items():
                check = graph.is_valid_adjustment(xs, ys, z)
                assert bool(check) == ok, (graph.to_dagitty(), xs, ys, z, str(check))
                n_checked += 1
            canon = graph.adjustment_sets(xs, ys, kind="canonical")
            assert bool(canon) == bool(valid)
            if canon:
                assert truth[canon[0]]
            assert set(graph.adjustment_sets(xs, ys, kind="minimal")) == minimal(valid)
    assert n_cpdag >= 200 and n_mpdag >= 100 and n_not_amenable >= 40 and n_checked >= 2000, (
        n_cpdag, n_mpdag, n_not_amenable, n_checked)


# ----------------------------------------------------------------------------- published examples
def _numbered(directed, undirected):
    return CausalPDAG(directed=[(f"V{a}", f"V{b}") for a, b in directed],
                      undirected=[(f"V{a}", f"V{b}") for a, b in undirected])


def _v(*ids):
    return frozenset(f"V{i}" for i in ids)


def test_perkovic_2018_example_2():
    # Perković, Textor, Kalisch & Maathuis (2018), Example 2: X = V2, Y = V5
    g = _numbered([(0, 2), (1, 2), (2, 5), (3, 2), (3, 5), (4, 5)],
                  [(0, 1), (1, 3), (1, 4), (3, 4)])
    assert g.is_cpdag and g.is_amenable("V2", "V5")
    for z in [(1, 3), (3, 4), (0, 1, 3), (0, 3, 4), (1, 3, 4), (0, 1, 3, 4)]:
        assert g.is_valid_adjustment("V2", "V5", _v(*z)), z
    for z in [(1,), ()]:
        assert not g.is_valid_adjustment("V2", "V5", _v(*z)), z
    assert g.adjustment_sets("V2", "V5") == [_v(1, 3), _v(3, 4)]
    assert g.adjustment_sets("V2", "V5", kind="canonical") == [_v(0, 1, 3, 4)]


def test_perkovic_2018_example_8_and_figure_4():
    g = _numbered([(1, 2), (2, 4), (3, 2)], [(0, 1)])       # X = {V0, V4}, Y = V3
    assert g.is_valid_adjustment({"V0", "V4"}, "V3", _v(1, 2))
    assert not g.is_valid_adjustment({"V0", "V4"}, "V3", _v(2))
    g = _numbered([(0, 1), (0, 2), (3, 1), (3, 2)], [(0, 4), (1, 2)])
    assert g.is_valid_adjustment("V0", "V2", _v(3))


def test_not_amenable_names_the_undirected_edge_at_the_treatment():
    # the CPDAG of X -> M -> Y (a chain): every edge is undirected
    g = CausalPDAG.from_dagitty("pdag { X [exposure]; Y [outcome]; X -- M -- Y; B -> C <- D }")
    assert g.is_cpdag and not g.is_amenable()
    with pytest.raises(NotIdentifiableError, match=r"the edge X -- M is undirected.*"
                       r"X -- M -- Y is a possibly causal path"):
        g.adjustment_sets()
    with pytest.raises(NotIdentifiableError, match="X -- M"):
        g.adjustment_set()
    check = g.is_valid_adjustment(None, None, {"M"})
    assert not check and "X -- M" in str(check)


def test_no_valid_set_and_reasons():
    # Y -> X in every DAG of the class: amenable, yet no set works
    g = CausalPDAG.from_dagitty("pdag { A -> X <- Y; A -- B }")
    assert g.is_cpdag and g.is_amenable("X", "Y")
    assert g.adjustment_sets("X", "Y") == [] == g.adjustment_sets("X", "Y", kind="canonical")
    with pytest.raises(NotIdentifiableError, match="X <- Y stays open"):
        g.adjustment_set("X", "Y")
    g = CausalPDAG.from_dagitty("pdag { A -> X <- B; X -> M -> Y; B -> Y; M -- D }")
    assert g.is_cpdag
    assert "M lies on a possibly causal path" in str(g.is_valid_adjustment("X", "Y", {"B", "M"}))
    assert "D is a possible descendant of M" in str(g.is_valid_adjustment("X", "Y", {"B", "D"}))
    ok = g.is_valid_adjustment("X", "Y", {"B"})
    assert ok and "every DAG of the class" in str(ok)
    assert "X <- B -> Y stays open" in str(g.is_valid_adjustment("X", "Y", ()))


# ----------------------------------------------------------------------------- parsing
def test_dagitty_pdag_text_round_trip_and_errors():
    text = 'pdag { X [exposure,pos="1,2"]; Y [outcome]; A -- B; A -> X <- B; X -> Y; "a b" -- A }'
    g = CausalPDAG.from_dagitty(text)
    assert set(g.undirected_edges) == {("A", "B"), ("a b", "A")} or \
        {frozenset(e) for e in g.undirected_edges} == {frozenset("AB"), frozenset(("a b", "A"))}
    assert g.exposure == {"X"} and g.outcome == {"Y"} and g.positions == {"X": (1.0, 2.0)}
    assert CausalPDAG.from_dagitty(g.to_dagitty()) == g
    assert g.to_dagitty().startswith("pdag {")
    with pytest.raises(GraphError, match="CausalPDAG.from_dagitty"):
        CausalDAG.from_dagitty("pdag { A -- B }")
    with pytest.raises(GraphError, match="write 'pdag"):
        CausalDAG.from_dagitty("dag { A -- B }")
    with pytest.raises(GraphError, match="latent"):
        CausalPDAG.from_dagitty("pdag { U [latent]; U -- A }")
    with pytest.raises(GraphError, match="bidirected"):
        CausalPDAG.from_dagitty("pdag { A <-> B }")
    with pytest.raises(CyclicGraphError, match="directed cycle"):
        CausalPDAG.from_dagitty("pdag { A -> B -> C -> A }")
    with pytest.raises(GraphError, match="no DAG is consistent"):
        CausalPDAG.from_dagitty("pdag { A -- B -- C -- D -- A }")
    with pytest.raises(GraphError, match="both given"):
        CausalPDAG(directed=[("A", "B")], undirected=[("B", "A")])
    # a dag text is a PDAG without undirected edges (one DAG, not a CPDAG)
    assert not CausalPDAG.from_dagitty("dag { A -> B }").undirected_edges


def test_query_errors_name_the_node():
    g = CausalPDAG.from_dagitty("pdag { A -> X <- B; X -> Y }")
    with pytest.raises(GraphError, match="'Q' is not in the graph"):
        g.is_valid_adjustment("X", "Q", ())
    with pytest.raises(GraphError, match="both treatment and outcome"):
        g.adjustment_sets("X", "X")
    with pytest.raises(GraphError, match="contains the treatment or outcome"):
        g.is_valid_adjustment("X", "Y", {"X"})
    with pytest.raises(GraphError, match="unknown kind"):
        g.adjustment_sets("X", "Y", kind="optimal")
    with pytest.raises(GraphError, match="no treatment"):
        g.adjustment_sets()


def test_mpdag_backward_chord_is_not_a_possibly_causal_path():
    # background knowledge B -> X: X -- A -- B is no possibly causal path to B (its chord
    # B -> X points back), so the class agrees and {B} is valid in all three of its DAGs
    g = CausalPDAG.from_dagitty("pdag { X -- A -- B; B -> X; B -> Y }")
    assert not g.is_cpdag and g.is_amenable("X", "Y")
    members = [m for m in markov_class(["X", "A", "B", "Y"],
                                       [("X", "A"), ("B", "A"), ("B", "X"), ("B", "Y")])
               if ("B", "X") in m and ("B", "Y") in m]
    assert len(members) == 3
    for z in subsets({"A", "B"}):
        assert bool(g.is_valid_adjustment("X", "Y", z)) == all(
            CausalDAG(m).is_valid_adjustment("X", "Y", z) for m in members), z
    assert g.adjustment_sets("X", "Y") == [frozenset({"B"})]
