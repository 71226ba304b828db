"""CausalDAG construction, DAGitty syntax, errors, implications and estimate(dag=...)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.dags import CausalDAG, Identification
from causalkit.dags.implications import partial_correlation
from causalkit.dags.integration import apply_dag
from causalkit.errors import (ColumnNotFoundError, CyclicGraphError, GraphError,
                              NotIdentifiableError, OptionError, UnknownNodeError)
from causalkit.registry import EstimatorSpec, get

matplotlib.use("Agg")


# ----------------------------------------------------------------- construction / syntax

def test_dagitty_syntax_variants_parse_to_the_same_graph():
    texts = [
        "dag { X [exposure]; Y [outcome]; U [latent]; Z -> X; Z -> Y; X -> Y; U -> Z; A <-> B }",
        'dag {\n "X" [e]\n Y [o]\n U [l]\n Z -> X -> Y <- Z\n U -> Z\n A <-> B\n}',
        "X [exposure]\nY [outcome]\nU [latent]\nY <- X <- Z -> Y; Z <- U\nB <-> A",
        'dag G { X [exposure,pos="1,2"] Y [outcome] U [latent] {X Z} -> Y Z -> X U -> Z A<->B }',
    ]
    dags = [CausalDAG.from_dagitty(t) for t in texts]
    for d in dags:
        assert d == dags[0]
        assert d.exposure == {"X"} and d.outcome == {"Y"}
        assert "U" in d.latent_nodes and d.bidirected_edges in ([("A", "B")], [("B", "A")])
    assert set(dags[0].observed_nodes) == {"X", "Y", "Z", "A", "B"}


def test_quoted_names_and_round_trips():
    dag = CausalDAG([("my var", "Y"), ("dag", "Y")], bidirected=[("my var", "Y")],
                    latent=["L"], exposure="my var", outcome="Y")
    text = dag.to_dagitty()
    assert '"my var" [exposure]' in text and '"dag" -> Y' in text
    assert '"my var" <-> Y' in text and "L [latent]" in text
    back = CausalDAG.from_dagitty(text)
    assert back == dag and back.exposure == dag.exposure
    g = dag.to_networkx()
    assert g.nodes["L"]["latent"] and not g.nodes["Y"]["latent"]
    assert CausalDAG.from_networkx(g) == dag


def test_construction_errors_are_specific():
    with pytest.raises(CyclicGraphError, match="cycle"):
        CausalDAG([("a", "b"), ("b", "c"), ("c", "a")])
    with pytest.raises(CyclicGraphError, match="self-loop"):
        CausalDAG([("a", "a")])
    with pytest.raises(CyclicGraphError):
        CausalDAG.from_dagitty("dag { a -> b -> a }")
    with pytest.raises(GraphError, match="undirected"):
        CausalDAG.from_dagitty("dag { a -- b }")
    with pytest.raises(GraphError, match="attribute"):
        CausalDAG.from_dagitty("dag { a [treatmnt] }")
    with pytest.raises(GraphError, match="pair"):
        CausalDAG([("a", "b", "c")])
    dag = CausalDAG([("Z", "X"), ("X", "Y")])
    with pytest.raises(UnknownNodeError, match="did you mean 'Y'"):
        dag.adjustment_sets("X", "y")
    with pytest.raises(GraphError, match="both treatment and outcome"):
        dag.adjustment_sets("X", "X")
    with pytest.raises(GraphError, match="unknown kind"):
        dag.adjustment_sets("X", "Y", kind="best")
    with pytest.raises(GraphError, match="no treatment"):
        dag.identify()
    lat = CausalDAG([("U", "Y")], latent=["U"])
    with pytest.raises(GraphError, match="latent"):
        lat.adjustment_sets("U", "Y")


def test_d_separation_delegates_and_checks():
    dag = CausalDAG([("a", "c"), ("b", "c"), ("c", "d")])
    assert dag.d_separated("a", "b")
    assert not dag.d_separated("a", "b", "d")
    assert dag.d_separated(["a"], ["d"], ["c"])


def test_include_exclude():
    dag = CausalDAG([("A", "X"), ("A", "M"), ("B", "M"), ("B", "Y"), ("M", "X"),
                     ("M", "Y"), ("X", "Y")])
    assert dag.adjustment_sets("X", "Y", exclude={"B"}) == [frozenset({"A", "M"})]
    assert dag.adjustment_sets("X", "Y", exclude={"A", "B"}) == []
    assert dag.adjustment_set("X", "Y", include={"A"}, kind="minimal") == {"A", "M"}
    mediator = CausalDAG([("X", "M"), ("M", "Y")])
    assert mediator.adjustment_sets("X", "Y", include={"M"}) == []


def test_multiple_treatments_and_outcomes():
    dag = CausalDAG([("Z", "X1"), ("X1", "X2"), ("W", "X2"), ("W", "Y1"), ("Z", "Y2"),
                     ("X2", "Y1"), ("X1", "Y2")])
    assert dag.adjustment_sets(["X1", "X2"], ["Y1", "Y2"]) == [frozenset({"W", "Z"})]


def test_identification_object_and_plot():
    dag = CausalDAG.from_dagitty("dag { X [exposure]; Y [outcome]; Z -> X -> Y <- Z; "
                                 "X <-> M; M -> Y }")
    ident = dag.identify()
    assert isinstance(ident, Identification) and ident.identified
    assert ident.strategy == "backdoor" and ident.sets == (frozenset({"M", "Z"}),)
    assert "{M, Z}" in str(ident)
    ax = dag.plot()
    assert ax.get_legend() is not None and len(ax.texts) == 4  # 4 observed labels, no U node


# ----------------------------------------------------------------- implications

def _linear_data(edges, n, rng, order):
    data = {}
    for v in order:
        data[v] = sum(0.8 * data[p] for p, c in edges if c == v) + rng.normal(size=n)
    return pd.DataFrame(data)


def test_implied_independencies_local_markov_basis():
    dag = CausalDAG([("A", "B"), ("B", "C"), ("A", "D"), ("C", "D")])
    got = {(u, v): z for u, v, z in dag.implied_independencies()}
    assert got == {("A", "C"): {"B"}, ("B", "D"): {"A", "C"}}
    for u, v, z in dag.implied_independencies():
        assert dag.d_separated(u, v, z)


def test_partial_correlation_matches_precision_matrix():
    rng = np.random.default_rng(0)
    df = _linear_data([("A", "B"), ("B", "C"), ("A", "C")], 500, rng, "ABC")
    prec = np.linalg.inv(np.cov(df[["A", "C", "B"]].to_numpy().T))
    closed = -prec[0, 1] / np.sqrt(prec[0, 0] * prec[1, 1])
    assert partial_correlation(df, "A", "C", ["B"]) == pytest.approx(closed, abs=1e-10)


def test_test_implications_flags_the_wrong_dag_only():
    rng = np.random.default_rng(1)
    chain_data = _linear_data([("A", "B"), ("B", "C")], 2000, rng, "ABC")
    wrong_data = _linear_data([("A", "B"), ("B", "C"), ("A", "C")], 2000, rng, "ABC")
    dag = CausalDAG([("A", "B"), ("B", "C")])
    for method in ("partial_correlation", "regression"):
        ok = dag.test_implications(chain_data, method=method)
        bad = dag.test_implications(wrong_data, method=method)
        assert list(ok["given"]) == ["B"]
        assert ok["p_value"].iloc[0] > 0.01      # true null: fails with prob. 0.01
        assert bad["p_value"].iloc[0] < 1e-6     # A -> C of 0.8 at n = 2000: z ~ 30
    with pytest.raises(ColumnNotFoundError):
        dag.test_implications(chain_data.drop(columns="B"))
    with pytest.raises(OptionError):
        dag.test_implications(chain_data, method="kernel")


# ----------------------------------------------------------------- estimate(dag=...)

def _m_bias_data(n=3000, seed=3):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    m = a + b + 0.5 * rng.normal(size=n)
    t = (a + 0.5 * rng.normal(size=n) > 0).astype(int)
    y = 1.0 * t + 1.5 * b + rng.normal(size=n)
    return pd.DataFrame({"T": t, "Y": y, "M": m})


M_BIAS = "dag { A [latent]; B [latent]; A -> T; A -> M; B -> M; B -> Y; T -> Y }"


def test_estimate_with_m_bias_dag_recovers_effect_and_adjusting_for_all_does_not():
    df = _m_bias_data()
    eff = causalkit.estimate(df, "T", "Y", method="regression_adjustment", dag=M_BIAS)
    assert eff.covariates == ()
    # true effect 1: within 4 SE (a false failure has probability ~6e-5)
    assert abs(eff.estimate - 1.0) < 4 * eff.std_error
    naive = causalkit.estimate(df, "T", "Y", method="regression_adjustment", covariates=["M"])
    assert abs(naive.estimate - 1.0) > 8 * naive.std_error


def test_estimate_uses_dag_set_and_refuses_when_not_identified():
    rng = np.random.default_rng(4)
    n = 2000
    z = rng.normal(size=n)
    t = (z + rng.normal(size=n) > 0).astype(int)
    df = pd.DataFrame({"T": t, "Z": z, "Y": 2.0 * t + 1.5 * z + rng.normal(size=n)})
    dag = CausalDAG([("Z", "T"), ("Z", "Y"), ("T", "Y")])
    eff = causalkit.estimate(df, "T", "Y", method="regression_adjustment", dag=dag)
    assert eff.covariates == ("Z",) and abs(eff.estimate - 2.0) < 4 * eff.std_error
    eff2 = causalkit.estimate(df, "T", "Y", method="regression_adjustment", dag=dag,
                              adjustment="minimal")
    assert eff2.covariates == ("Z",)
    with pytest.raises(OptionError):
        causalkit.estimate(df, "T", "Y", method="regression_adjustment", dag=dag,
                           adjustment="best")
    latent = CausalDAG([("U", "T"), ("U", "Y"), ("T", "Y")], latent=["U"])
    with pytest.raises(NotIdentifiableError, match="T <- U -> Y"):
        causalkit.estimate(df, "T", "Y", method="regression_adjustment", dag=latent)


def test_apply_dag_fills_instrument_for_iv_methods():
    spec = EstimatorSpec(name="iv_test", func=lambda *a, **k: None, estimands=("LATE",),
                         roles=("treatment", "outcome", "instrument"),
                         optional_roles=("covariates",))
    dag = CausalDAG([("Z", "T"), ("T", "Y"), ("W", "V"), ("V", "T"), ("W", "Y")],
                    bidirected=[("T", "Y")])
    covs, opts = apply_dag(dag, spec, treatment="T", outcome="Y", covariates=None, options={})
    assert opts["instrument"] == "Z" and covs is None
    only_conditional = CausalDAG([("W", "V"), ("V", "T"), ("W", "Y"), ("T", "Y")],
                                 bidirected=[("T", "Y")])
    covs, opts = apply_dag(only_conditional, spec, treatment="T", outcome="Y",
                           covariates=None, options={})
    assert opts["instrument"] == "V" and covs == ["W"]
    covs, opts = apply_dag(dag, spec, treatment="T", outcome="Y", covariates=None,
                           options={"instrument": "mine"})
    assert opts["instrument"] == "mine"
    with pytest.raises(NotIdentifiableError):
        apply_dag(CausalDAG([("T", "Y")], bidirected=[("T", "Y")]), spec, treatment="T",
                  outcome="Y", covariates=None, options={})
    # a non-adjustment method keeps its covariates untouched
    covs, _ = apply_dag(dag, get("difference_in_means"), treatment="T", outcome="Y",
                        covariates=None, options={})
    assert covs is None or covs == []
