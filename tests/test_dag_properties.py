"""Property tests of the adjustment-set algorithms against brute force (hypothesis).

The brute force enumerates every subset of the observed non-treatment,
non-outcome nodes, keeps those satisfying the generalized adjustment criterion
checked independently here (forbidden nodes from networkx descendants of the
proper causal paths, d-separation in the proper back-door graph through
``networkx.is_d_separator``), and keeps the inclusion-minimal ones.
"""

from __future__ import annotations

from itertools import chain, combinations

import networkx as nx
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from causalkit.dags import CausalDAG
from causalkit.dags.adjustment import AdjustmentProblem, iter_minimal_sets


@st.composite
def random_dags(draw, max_nodes=10):
    n = draw(st.integers(3, max_nodes))
    density = draw(st.integers(2, 6))  # edge probability 0.2 .. 0.6
    names = [f"v{i}" for i in range(n)]
    edges = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)
             if draw(st.integers(0, 9)) < density]
    perm = draw(st.permutations(names))  # hide the topological order in the names
    ren = dict(zip(names, perm))
    edges = [(ren[a], ren[b]) for a, b in edges]
    i = draw(st.integers(1, n - 2))          # treatment mid-order, so it has causes
    j = draw(st.integers(i + 1, n - 1))
    if draw(st.integers(0, 4)) == 0:         # sometimes the outcome precedes the treatment
        i, j = j, i
    x, y = ren[names[i]], ren[names[j]]
    others = [v for v in perm if v not in (x, y)]
    latent = draw(st.lists(st.sampled_from(others), unique=True, max_size=3)) if others else []
    return CausalDAG(edges, latent=latent, nodes=perm), x, y


def brute_force_valid(dag: CausalDAG, x, y):
    """All valid adjustment sets by enumeration, from first principles with networkx."""
    g = dag.graph
    # proper causal paths from x to y: x -> ... -> y; nodes on them (excluding x)
    on_causal = {v for v in nx.descendants(g, x) if v == y or nx.has_path(g, v, y)}
    forb = set().union(*(nx.descendants(g, v) | {v} for v in on_causal)) | {x}
    pbd = g.copy()
    pbd.remove_edges_from([(x, w) for w in g.successors(x) if w in on_causal])
    cand = [v for v in dag.observed_nodes if v not in (x, y)]
    valid = []
    for z in chain.from_iterable(combinations(cand, k) for k in range(len(cand) + 1)):
        zs = frozenset(z)
        if zs & forb:
            continue
        if nx.is_d_separator(pbd, {x}, {y}, set(zs)):
            valid.append(zs)
    return valid


def minimal_of(sets):
    return {s for s in sets if not any(t < s for t in sets)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags())
def test_minimal_sets_equal_brute_force(case):
    dag, x, y = case
    valid = brute_force_valid(dag, x, y)
    found = dag.adjustment_sets(x, y, kind="minimal")
    assert set(found) == minimal_of(valid)
    raw = list(iter_minimal_sets(AdjustmentProblem.build(dag, x, y)))
    assert len(raw) == len(set(raw)) == len(found)  # each set listed exactly once
    for z in found:
        assert not (z & dag.latent_nodes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags())
def test_other_kinds_are_valid_exactly_when_a_set_exists(case):
    dag, x, y = case
    valid = set(brute_force_valid(dag, x, y))
    for kind in ("optimal", "canonical", "smallest"):
        found = dag.adjustment_sets(x, y, kind=kind)
        if valid:
            assert len(found) == 1 and found[0] in valid, kind
            assert bool(dag.is_valid_adjustment(x, y, found[0]))
        else:
            assert found == [], kind
    if valid:
        smallest = dag.adjustment_sets(x, y, kind="smallest")[0]
        assert len(smallest) == min(len(z) for z in valid)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(max_nodes=8), st.data())
def test_include_exclude_against_brute_force(case, data):
    dag, x, y = case
    cand = sorted(v for v in dag.observed_nodes if v not in (x, y))
    if not cand:
        return
    exclude = set(data.draw(st.lists(st.sampled_from(cand), unique=True, max_size=2)))
    rest = [v for v in cand if v not in exclude]
    include = set(data.draw(st.lists(st.sampled_from(rest), unique=True, max_size=1))) if rest else set()
    valid = [z for z in brute_force_valid(dag, x, y)
             if include <= z and not (z & exclude)]
    found = dag.adjustment_sets(x, y, kind="minimal", include=include, exclude=exclude)
    assert set(found) == minimal_of(valid)
    opt = dag.adjustment_sets(x, y, kind="optimal", include=include, exclude=exclude)
    assert (opt != []) == bool(valid)
    if opt:
        assert opt[0] in valid


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags())
def test_validity_check_agrees_with_brute_force(case):
    dag, x, y = case
    valid = set(brute_force_valid(dag, x, y))
    cand = [v for v in dag.observed_nodes if v not in (x, y)]
    for k in range(min(3, len(cand)) + 1):
        for z in combinations(cand, k):
            assert bool(dag.is_valid_adjustment(x, y, set(z))) == (frozenset(z) in valid)


def _residual_variance(cov: np.ndarray, target: int, given: list[int]) -> float:
    """Var(target | given) in a Gaussian model with covariance ``cov`` (Schur complement)."""
    if not given:
        return float(cov[target, target])
    s_tg = cov[target, given]
    return float(cov[target, target] - s_tg @ np.linalg.solve(cov[np.ix_(given, given)], s_tg))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(max_nodes=8), st.integers(0, 2**32 - 1))
def test_optimal_set_has_smallest_asymptotic_variance(case, seed):
    """Henckel, Perković & Maathuis (2022), Thm. 3.10, checked in closed form.

    In a linear SEM with unit error variances, the OLS coefficient of X in the
    regression of Y on X and a valid Z has asymptotic variance
    Var(Y | X, Z) / (n Var(X | Z)); computed from the exact covariance matrix, the
    optimal set must attain the minimum over all valid sets found by brute force.
    """
    dag, x, y = case
    dag = CausalDAG(dag.graph.edges, nodes=dag.nodes)  # no latents: O(X, Y) is observable
    valid = brute_force_valid(dag, x, y)
    if not valid or not nx.has_path(dag.graph, x, y):  # the theorem assumes Y in De(X)
        return
    order = list(dag.nodes)
    idx = {v: i for i, v in enumerate(order)}
    rng = np.random.default_rng(seed)
    b = np.zeros((len(order), len(order)))
    for u, v in dag.graph.edges:
        b[idx[v], idx[u]] = rng.uniform(0.5, 1.5) * rng.choice([-1, 1])
    a = np.linalg.inv(np.eye(len(order)) - b)
    cov = a @ a.T

    def avar(z):
        zi = [idx[v] for v in z]
        return (_residual_variance(cov, idx[y], [idx[x]] + zi)
                / _residual_variance(cov, idx[x], zi))

    opt = dag.adjustment_set(x, y, kind="optimal")
    best = min(avar(z) for z in valid)
    assert avar(opt) <= best * (1 + 1e-8) + 1e-12


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags())
def test_instruments_against_definition(case):
    """Unconditional instruments equal those found by checking every node; conditional ones hold."""
    dag, x, y = case
    if nx.has_path(dag.graph, y, x):
        return
    g = dag.graph
    on_causal = {v for v in nx.descendants(g, x) if v == y or nx.has_path(g, v, y)}
    pbd = g.copy()
    pbd.remove_edges_from([(x, w) for w in g.successors(x) if w in on_causal])
    de_x = nx.descendants(g, x) | {x}
    expected = {z for z in dag.observed_nodes if z not in de_x and z != y
                and not nx.is_d_separator(g, {z}, {x}, set())
                and nx.is_d_separator(pbd, {z}, {y}, set())}
    found = dag.instruments(x, y)
    assert {i.instrument for i in found if not i.conditional} == expected
    for i in found:
        w = set(i.conditioning)
        assert not (w & de_x) and not (w & dag.latent_nodes)
        assert nx.is_d_separator(pbd, {i.instrument}, {y}, w)
        assert not nx.is_d_separator(g, {i.instrument}, {x}, w)


def _frontdoor_brute(dag, x, y, m):
    """Pearl's Def. 3.3.3 checked directly with networkx, for a candidate set m."""
    g = dag.graph
    h = g.subgraph([n for n in g if n not in m])
    if nx.has_path(h, x, y):
        return False                                   # (i) fails
    gx = g.copy()
    gx.remove_edges_from(list(g.out_edges(x)))
    if not nx.is_d_separator(gx, {x}, set(m), set()):
        return False                                   # (ii) fails
    gm = g.copy()
    gm.remove_edges_from([e for v in m for e in g.out_edges(v)])
    return nx.is_d_separator(gm, set(m), {y}, {x})     # (iii)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(max_nodes=7))
def test_frontdoor_sets_against_definition(case):
    dag, x, y = case
    if not nx.has_path(dag.graph, x, y):
        return  # no causal path: the criterion is vacuous
    cand = [v for v in dag.observed_nodes if v not in (x, y)]
    exists = any(_frontdoor_brute(dag, x, y, set(z))
                 for k in range(1, len(cand) + 1) for z in combinations(cand, k))
    found = dag.frontdoor_sets(x, y)
    assert bool(found) == exists
    for m in found:
        assert _frontdoor_brute(dag, x, y, set(m))
