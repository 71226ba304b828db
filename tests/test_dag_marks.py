"""Nodes marked ``adjusted`` and ``selected`` have DAGitty's meaning.

References: DAGitty's own cases (the Didelez et al. 2010 example, where DAGitty finds
no adjustment set, and libdagitty's selection-node tests), a brute-force enumeration
of the criterion with ``networkx.is_d_separator``, and, independently of any graph
criterion, the exact interventional distribution of random binary models: a set is
valid exactly when the selected-sample adjustment formula
Σ_z P(y | x, z, S=1) P(z | S=1) equals P(y | do(x)) in the whole population.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import causalkit
from causalkit.dags import CausalDAG
from causalkit.errors import DataError, GraphError, NotIdentifiableError

from test_dag_dagitty import DIDELEZ, SELECTION
from test_dag_properties import minimal_of, random_dags


def test_didelez_example_has_no_adjustment_set_as_dagitty_says():
    dag = CausalDAG.from_dagitty(DIDELEZ)
    assert dag.adjustment_sets() == []
    for kind in ("optimal", "smallest", "canonical"):
        assert dag.adjustment_sets(kind=kind) == []
    with pytest.raises(NotIdentifiableError, match=r"selected on \{S\}.*HRT -> TCI"):
        dag.adjustment_set()
    assert not dag.is_valid_adjustment(None, None, {"Age", "Smo"})
    ident = dag.identify()
    assert ident.strategy == "not_identifiable" and "selected" in ident.explanation
    # without the selection, the marked Age is forced into every set
    free = CausalDAG(dag.graph.edges, exposure="HRT", outcome="TCI", adjusted=["Age"])
    unmarked = CausalDAG(dag.graph.edges, exposure="HRT", outcome="TCI")
    assert set(free.adjustment_sets()) == minimal_of(
        [z for z in _valid(unmarked, "HRT", "TCI") if "Age" in z])
    assert all("Age" in z for z in free.adjustment_sets()) and free.adjustment_sets()
    assert "Age" in free.adjustment_set()
    # z=None checks the marked set itself: {Age} alone leaves HRT <- Smo -> TCI open
    assert "HRT <- Smo -> TCI stays open" in str(free.is_valid_adjustment(None, None))


@pytest.mark.parametrize("text, z, s, valid", [
    # libdagitty test/selection-nodes (isAdjustmentSet(g, Z, S) and its default marks)
    ("S1 -> {X[exposure]} -> {Y[outcome]} <- S2", [], [], True),
    ("S1 -> {X[exposure]} -> {Y[outcome]} <- S2", [], ["S1"], True),
    ("S1 -> {X[exposure]} -> {Y[outcome]} <- S2", [], ["S2"], False),
    ("S1 -> {X[exposure]} -> {Y[outcome]} <- S2", ["S2"], ["S1"], True),
    ("S1 -> {X[exposure]} -> {Y[outcome]} <- S2", ["S1"], ["S2"], False),
    ("{S1 [selected]} -> {X[exposure]} -> {Y[outcome]} <- {S2 [adjusted]}", None, None, True),
    ("{S1 [s]} -> {X[e]} -> {Y[o]} <- {S2 [a]}", None, None, True),
    ("{S1 [a]} -> {X[e]} -> {Y[o]} <- {S2 [s]}", None, None, False),
    ("{S1 [s]} -> {X[e]} <- {Z[a]} -> {Y[o]} <- {S2 [a]}", [], None, False),
    ("{S1 [s]} -> {X[e]} <- {Z[a]} -> {Y[o]} <- {S2 [a]}", None, None, True),
    (SELECTION, None, None, False),
    (SELECTION, ["A"], None, False),
])
def test_dagitty_selection_cases(text, z, s, valid):
    dag = CausalDAG.from_dagitty(text)
    if s is not None:
        dag = CausalDAG(dag.graph.edges, exposure=dag.exposure, outcome=dag.outcome, selected=s)
    assert bool(dag.is_valid_adjustment(None, None, z)) is valid


def test_dagitty_selection_adjustment_lists():
    # libdagitty: listMsasTotalEffect gives {Z} and nothing
    assert CausalDAG.from_dagitty("{S1 [s]} -> {X[e]} <- Z -> {Y[o]} <- S2").adjustment_sets() \
        == [frozenset({"Z"})]
    assert CausalDAG.from_dagitty("{S1 [s]} <- {X[e]} <- Z -> {Y[o]} <- S2").adjustment_sets() \
        == []


def test_forced_adjusted_node_on_the_causal_path_or_opening_a_path():
    mediator = CausalDAG.from_dagitty("dag { X [e] Y [o] M [adjusted] X -> M -> Y }")
    assert mediator.adjustment_sets() == []
    with pytest.raises(NotIdentifiableError, match=r"M is marked adjusted.*X -> M -> Y"):
        mediator.adjustment_set()
    collider = CausalDAG.from_dagitty(
        "dag { X [e] Y [o] C [adjusted] U [latent] V [latent] X <- U -> C <- V -> Y; X -> Y }")
    assert collider.adjustment_sets() == []
    with pytest.raises(NotIdentifiableError, match=r"X <- U -> C <- V -> Y"):
        collider.adjustment_set()
    plain = CausalDAG(collider.graph.edges, latent=["U", "V"], exposure="X", outcome="Y")
    assert plain.adjustment_sets() == [frozenset()]
    with pytest.raises(GraphError, match="latent"):
        CausalDAG([("U", "X")], latent=["U"], adjusted=["U"])
    with pytest.raises(GraphError, match="both adjusted and selected"):
        CausalDAG([("A", "X")], adjusted=["A"], selected=["A"])
    with pytest.raises(GraphError, match="marked adjusted in the DAG"):
        CausalDAG.from_dagitty("dag { A [a] A -> X -> Y }").adjustment_sets("X", "Y",
                                                                          exclude={"A"})


def test_selected_nodes_are_conditioned_on_in_d_separation_paths_and_implications():
    collider = CausalDAG([("A", "S"), ("B", "S")])
    selected = CausalDAG([("A", "S"), ("B", "S")], selected=["S"])
    assert collider.d_separated("A", "B") and not selected.d_separated("A", "B")
    with pytest.raises(GraphError, match="selected"):
        selected.d_separated("A", "S")
    assert collider.implied_independencies() == [("A", "B", frozenset())]
    assert selected.implied_independencies() == []
    chain = CausalDAG([("A", "B"), ("B", "C"), ("C", "S")], selected=["S"])
    assert chain.implied_independencies() == [("A", "C", frozenset({"B", "S"}))]
    paths = CausalDAG([("X", "Y"), ("X", "S"), ("W", "S"), ("W", "Y")], selected=["S"])
    assert paths.backdoor_paths("X", "Y") == []    # X -> S <- W -> Y starts out of X
    assert paths.adjustment_sets("X", "Y") == []    # but selection on S opens it: Y <- W -> S
    bd = CausalDAG([("Z", "X"), ("Z", "S"), ("W", "S"), ("W", "Y"), ("X", "Y")], selected=["S"])
    texts = [str(p) for p in bd.backdoor_paths("X", "Y")]
    assert texts == ["X <- Z -> S <- W -> Y: open (collider S opened by conditioning on S)"]


def test_test_implications_reads_the_data_as_the_selected_sample():
    rng = np.random.default_rng(7)
    n = 40_000
    a = rng.normal(size=n)
    b = a + rng.normal(size=n)
    c = b + rng.normal(size=n)
    s = (c + rng.normal(size=n) > 0.5)
    d = pd.DataFrame({"A": a, "B": b, "C": c, "S": s.astype(float)})
    dag = CausalDAG([("A", "B"), ("B", "C"), ("C", "S")], selected=["S"])
    sample = d[s]
    res = dag.test_implications(sample)
    assert list(res["given"]) == ["B"]         # S is fixed in the sample, not a regressor
    assert res["p_value"].iloc[0] > 0.001       # true: fails with probability 0.001
    with pytest.raises(DataError, match="selected"):
        dag.test_implications(d)                # the whole population is not the sample
    # collider selection: X and Y independent in the population, dependent when selected
    x, y = rng.normal(size=n), rng.normal(size=n)
    keep = x + y + rng.normal(size=n) > 1.0
    both = pd.DataFrame({"X": x[keep], "Y": y[keep]})
    naive = CausalDAG([("X", "S"), ("Y", "S")])
    assert naive.test_implications(both)["p_value"].iloc[0] < 1e-6   # the naive claim fails
    assert CausalDAG([("X", "S"), ("Y", "S")], selected=["S"]).implied_independencies() == []


def test_estimate_with_selected_and_adjusted_nodes():
    rng = np.random.default_rng(11)
    n = 20_000
    z, w = rng.normal(size=n), rng.normal(size=n)
    t = (z + w + rng.normal(size=n) > 0).astype(int)
    y = 1.0 * t + 1.5 * z + rng.normal(size=n)
    keep = w + rng.normal(size=n) > 0                   # selection on a cause of T only
    df = pd.DataFrame({"T": t, "Y": y, "Z": z, "W": w})[keep]
    dag = CausalDAG.from_dagitty("dag { Z -> T -> Y; Z -> Y; W -> T; W -> S; S [selected] "
                                 "W [adjusted] }")
    eff = causalkit.estimate(df, "T", "Y", method="regression_adjustment", dag=dag)
    assert eff.covariates == ("W", "Z")                 # W forced in, S never listed
    assert abs(eff.estimate - 1.0) < 4 * eff.std_error  # false failure ~6e-5
    on_outcome = CausalDAG.from_dagitty("dag { Z -> T -> Y; Z -> Y; Y -> S; S [selected] }")
    with pytest.raises(NotIdentifiableError, match="selected on"):
        causalkit.estimate(df, "T", "Y", method="regression_adjustment", dag=on_outcome)
    with pytest.raises(GraphError, match="under selection"):
        on_outcome.instruments("T", "Y")
    with pytest.raises(GraphError, match="under selection"):
        on_outcome.frontdoor_sets("T", "Y")


# ----------------------------------------------------------------- brute force

def _pbd(g: nx.DiGraph, x, y) -> tuple[nx.DiGraph, set]:
    on_causal = {v for v in nx.descendants(g, x) if v == y or nx.has_path(g, v, y)}
    forb = set().union(*(nx.descendants(g, v) | {v} for v in on_causal)) | {x}
    pbd = g.copy()
    pbd.remove_edges_from([(x, w) for w in g.successors(x) if w in on_causal])
    return pbd, forb


def _valid(dag: CausalDAG, x, y, selected=frozenset()) -> list[frozenset]:
    """Every valid set under DAGitty's criterion with selection S, by enumeration."""
    pbd, forb = _pbd(dag.graph, x, y)
    s = set(selected)
    if s & forb or (s and not nx.is_d_separator(pbd, {y}, s, set())):
        return []
    cand = [v for v in dag.observed_nodes if v not in (x, y) and v not in s]
    out = []
    for k in range(len(cand) + 1):
        for z in itertools.combinations(cand, k):
            if not set(z) & forb and nx.is_d_separator(pbd, {x}, {y}, set(z) | s):
                out.append(frozenset(z))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(max_nodes=8), st.data())
def test_marks_against_brute_force(case, data):
    dag, x, y = case
    cand = sorted(v for v in dag.observed_nodes if v not in (x, y))
    if not cand:
        return
    selected = data.draw(st.lists(st.sampled_from(cand), unique=True, max_size=2))
    rest = [v for v in cand if v not in selected]
    adjusted = data.draw(st.lists(st.sampled_from(rest), unique=True, max_size=1)) if rest \
        else []
    marked = CausalDAG(dag.graph.edges, nodes=dag.nodes, latent=dag.latent_nodes,
                       selected=selected, adjusted=adjusted)
    valid = [z for z in _valid(dag, x, y, selected) if set(adjusted) <= z]
    assert set(marked.adjustment_sets(x, y)) == minimal_of(valid)
    for kind in ("optimal", "canonical", "smallest"):
        found = marked.adjustment_sets(x, y, kind=kind)
        assert (found != []) == bool(valid), kind
        assert not found or found[0] in valid, kind
    for z in valid[:5]:
        assert marked.is_valid_adjustment(x, y, z)


# ----------------------------------------------------------------- exact numbers

def _joint(order: list, parents: dict, cpt: dict, do: dict | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """All 2^n states and their probabilities (truncated factorization under ``do``)."""
    states = np.array(list(itertools.product([0, 1], repeat=len(order))))
    col = {v: i for i, v in enumerate(order)}
    p = np.ones(len(states))
    for v in order:
        x = states[:, col[v]]
        if do and v in do:
            p *= x == do[v]
            continue
        key = np.zeros(len(states), int)
        for u in parents[v]:
            key = 2 * key + states[:, col[u]]
        p1 = cpt[v][key]
        p *= np.where(x == 1, p1, 1 - p1)
    return states, p


def test_selection_criterion_matches_the_exact_recovery_formula():
    rng = np.random.default_rng(2024)
    checked = valid_seen = 0
    for _ in range(500):
        n = int(rng.integers(4, 7))
        order = [f"v{i}" for i in range(n)]
        edges = [(order[i], order[j]) for i in range(n) for j in range(i + 1, n)
                 if rng.random() < 0.45]
        parents = {v: [a for a, b in edges if b == v] for v in order}
        cpt = {v: rng.uniform(0.05, 0.95, size=2 ** len(parents[v])) for v in order}
        x, y, s = (str(v) for v in rng.choice(order, 3, replace=False))
        dag = CausalDAG(edges, nodes=order, selected=[s])
        states, p = _joint(order, parents, cpt)
        col = {v: i for i, v in enumerate(order)}
        truth = []
        for xv in (0, 1):
            st_, pd_ = _joint(order, parents, cpt, do={x: xv})
            truth.append(pd_[st_[:, col[y]] == 1].sum())
        sel = states[:, col[s]] == 1
        others = [v for v in order if v not in (x, y, s)]
        for k in range(len(others) + 1):
            for zc in itertools.combinations(others, k):
                formula = []
                for xv in (0, 1):
                    total = 0.0
                    for zv in itertools.product([0, 1], repeat=k):
                        mz = sel.copy()
                        for u, val in zip(zc, zv):
                            mz &= states[:, col[u]] == val
                        mxz = mz & (states[:, col[x]] == xv)
                        total += (p[mxz & (states[:, col[y]] == 1)].sum() / p[mxz].sum()
                                  * p[mz].sum() / p[sel].sum())
                    formula.append(total)
                exact = np.allclose(formula, truth, rtol=0, atol=1e-10)
                claimed = bool(dag.is_valid_adjustment(x, y, set(zc)))
                assert claimed == exact, (edges, x, y, s, zc, formula, truth)
                checked += 1
                valid_seen += claimed
    assert checked > 2000 and valid_seen > 300, (checked, valid_seen)
