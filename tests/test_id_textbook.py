"""Pearl (2009), *Causality*, ch. 3, Fig. 3.8 (identifiable) and Fig. 3.9 (not identifiable).

Each model is written as Pearl draws it (solid arrows; a dashed arc is ``<->``)
and its verdict is the book's.  The figures were transcribed by hand (the book
was not at hand to re-check each drawing, so (f) and (g) may differ in detail
from the printed ones); every verdict is therefore also re-derived here by the
exhaustive hedge search of ``test_id_algorithm.hedge_exists``, so a
transcription slip cannot hide an error of the algorithm.  The identified formulas are checked numerically on
random discrete models with the latent arcs made explicit.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalkit.dags import CausalDAG
from causalkit.dags.admg import latent_projection
from causalkit.dags.id_algorithm import identify_id
from test_id_algorithm import SCM, estimand_array, hedge_exists, interventional

# (directed, bidirected); the effect is always of X on Y
FIG_3_8 = {
    "a": ([("X", "Y")], []),
    "b": ([("X", "Y"), ("Z", "Y")], [("X", "Z")]),
    "c": ([("X", "Z"), ("Z", "Y")], [("X", "Y")]),
    "d": ([("X", "Y"), ("Z", "X"), ("Z", "Y")], [("X", "Z")]),
    "e": ([("X", "Z"), ("Z", "Y")], [("Z", "Y")]),
    "f": ([("X", "Z1"), ("Z1", "Y"), ("Z2", "X"), ("Z2", "Z1")], [("X", "Y"), ("Z2", "Y")]),
    "g": ([("Z1", "X"), ("X", "Z2"), ("Z2", "Y"), ("Z1", "Z2"), ("Z3", "Y"), ("Z3", "Z1")],
          [("X", "Z3"), ("Z1", "Y")]),
}
FIG_3_9 = {
    "a": ([("X", "Y")], [("X", "Y")]),
    "b": ([("X", "Z"), ("Z", "Y")], [("X", "Z")]),
    "c": ([("X", "Y"), ("Z", "Y")], [("X", "Z"), ("Z", "Y")]),
    "d": ([("X", "Y"), ("Z", "X")], [("X", "Z"), ("Z", "Y")]),
    "e": ([("X", "Z"), ("Z", "Y")], [("X", "Y"), ("Z", "Y")]),
    "f": ([("X", "Z"), ("Z", "Y")], [("X", "Z"), ("X", "Y")]),
    "g": ([("X", "Z1"), ("Z1", "Y"), ("Z2", "Y")], [("X", "Z2"), ("Z1", "Z2")]),
    "h": ([("X", "Y"), ("Z", "X"), ("W", "Z"), ("W", "Y")], [("X", "Z"), ("Z", "Y"),
                                                            ("X", "W")]),
}


def _explicit(directed, bidirected):
    """The DAG with one explicit latent root per dashed arc, and a random discrete model."""
    edges = list(directed)
    latent = []
    for k, (a, b) in enumerate(bidirected):
        u = f"U{k}"
        latent.append(u)
        edges += [(u, a), (u, b)]
    dag = CausalDAG(edges, latent=latent)
    import networkx as nx

    order = list(nx.topological_sort(dag.graph))
    return dag, order


@pytest.mark.parametrize("name", sorted(FIG_3_8))
def test_fig_3_8_identifiable(name):
    directed, bidirected = FIG_3_8[name]
    dag = CausalDAG(directed, bidirected=bidirected)
    assert not hedge_exists(latent_projection(dag), {"X"}, {"Y"})
    ident = dag.identify("X", "Y")
    assert ident.identified and ident.strategy in ("backdoor", "frontdoor", "id")
    explicit, order = _explicit(directed, bidirected)
    rng = np.random.default_rng(38)
    for _ in range(3):
        parents = {v: sorted(explicit.parents(v), key=order.index) for v in order}
        scm = SCM(rng, order, parents, {v: 2 + (v == "Y") for v in order},
                  set(explicit.latent_nodes))
        est = identify_id(explicit, "X", "Y")
        np.testing.assert_allclose(estimand_array(est, scm, ("X",), ("Y",)),
                                   interventional(scm, ["X"], ["Y"]), atol=1e-10)
        np.testing.assert_allclose(estimand_array(ident.estimand, scm, ("X",), ("Y",)),
                                   interventional(scm, ["X"], ["Y"]), atol=1e-10)


@pytest.mark.parametrize("name", sorted(FIG_3_9))
def test_fig_3_9_not_identifiable(name):
    directed, bidirected = FIG_3_9[name]
    dag = CausalDAG(directed, bidirected=bidirected)
    assert hedge_exists(latent_projection(dag), {"X"}, {"Y"})
    est = identify_id(dag, "X", "Y")
    assert not est.identified and est.hedge is not None
    assert "X" in est.hedge.forest and "X" not in est.hedge.subforest
    ident = dag.identify("X", "Y")
    assert ident.strategy in ("not_identifiable", "instrumental_variable")
    assert "hedge" in ident.explanation + " ".join(ident.notes)
