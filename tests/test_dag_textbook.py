"""Textbook graphs and the peers' known failures, each with the answer from its source.

Sources: Pearl (2009) *Causality*, 2nd ed. (fork, chain, collider, front-door
smoking/tar/cancer, §3.3); Greenland (2003) and Cinelli, Forney & Pearl (2022)
"A crash course in good and bad controls" (M-bias: model 7; butterfly: adjusting
for M needs A or B too); Hernán & Robins (2020) *Causal Inference: What If*
(IV with an unmeasured confounder, ch. 16).
"""

from __future__ import annotations

import networkx as nx
import pytest

from causalkit.dags import CausalDAG
from causalkit.errors import NotIdentifiableError

E = frozenset()


def sets(*groups):
    return [frozenset(g) for g in groups]


def test_confounding_fork():
    dag = CausalDAG([("Z", "X"), ("Z", "Y"), ("X", "Y")])
    assert dag.adjustment_sets("X", "Y") == sets({"Z"})
    assert dag.adjustment_set("X", "Y") == {"Z"}
    assert not dag.is_valid_adjustment("X", "Y", set())
    assert "X <- Z -> Y" in dag.is_valid_adjustment("X", "Y", set()).reason


def test_mediator_chain_empty_set_and_mediator_forbidden():
    dag = CausalDAG([("X", "M"), ("M", "Y")])
    assert dag.adjustment_sets("X", "Y") == [E]
    check = dag.is_valid_adjustment("X", "Y", {"M"})
    assert not check and "causal path" in check.reason


def test_collider_must_not_be_adjusted():
    dag = CausalDAG([("X", "C"), ("Y", "C"), ("X", "Y")])
    assert dag.adjustment_sets("X", "Y") == [E]
    assert not dag.is_valid_adjustment("X", "Y", {"C"})


def test_m_bias():
    dag = CausalDAG([("A", "X"), ("A", "M"), ("B", "M"), ("B", "Y"), ("X", "Y")])
    assert dag.adjustment_sets("X", "Y") == [E]
    check = dag.is_valid_adjustment("X", "Y", {"M"})
    assert not check and "X <- A -> M <- B -> Y" in check.reason
    assert dag.is_valid_adjustment("X", "Y", {"M", "A"})
    paths = dag.backdoor_paths("X", "Y", given={"M"})
    assert [p.open for p in paths] == [True]
    assert paths[0].opened_by == (("M", "M"),)
    assert [p.open for p in dag.backdoor_paths("X", "Y")] == [False]


def test_butterfly_bias():
    dag = CausalDAG([("A", "X"), ("A", "M"), ("B", "M"), ("B", "Y"), ("M", "X"),
                     ("M", "Y"), ("X", "Y")])
    assert dag.adjustment_sets("X", "Y") == sets({"A", "M"}, {"B", "M"})
    assert not dag.is_valid_adjustment("X", "Y", {"M"})
    assert dag.adjustment_sets("X", "Y", kind="smallest")[0] in sets({"A", "M"}, {"B", "M"})
    # Henckel et al.: O = pa(Y) minus forbidden = {B, M}
    assert dag.adjustment_set("X", "Y") == {"B", "M"}


def test_frontdoor_smoking_tar_cancer():
    dag = CausalDAG.from_dagitty(
        "dag { Smoking [exposure]; Cancer [outcome]; Smoking -> Tar -> Cancer; "
        "Smoking <-> Cancer }")
    assert dag.adjustment_sets() == []
    assert dag.frontdoor_sets() == sets({"Tar"})
    ident = dag.identify()
    assert ident.strategy == "frontdoor" and ident.frontdoor_set == {"Tar"}
    assert "Smoking <-> Cancer" in ident.explanation
    # a direct effect bypassing tar breaks the criterion
    assert CausalDAG([("S", "T"), ("T", "C"), ("S", "C")], bidirected=[("S", "C")]
                     ).frontdoor_sets("S", "C") == []


def test_iv_with_unobserved_confounder():
    dag = CausalDAG([("Z", "X"), ("X", "Y"), ("U", "X"), ("U", "Y")], latent=["U"])
    assert dag.adjustment_sets("X", "Y") == []
    ident = dag.identify("X", "Y")
    assert ident.strategy == "instrumental_variable"
    assert [str(i) for i in ident.instruments] == ["Z"]
    assert "X <- U -> Y" in ident.explanation


def test_conditional_instrument():
    # W confounds Z and Y, so Z is an instrument only given W
    dag = CausalDAG([("W", "Z"), ("W", "Y"), ("Z", "X"), ("X", "Y")], bidirected=[("X", "Y")])
    ivs = {str(i.instrument): i.conditioning for i in dag.instruments("X", "Y")}
    assert ivs["Z"] == {"W"}
    assert not nx.is_d_separator(dag.graph, {"Z"}, {"X"}, {"W"})


def test_no_set_exists_versus_empty_set_suffices():
    none = CausalDAG([("X", "Y")], bidirected=[("X", "Y")])
    empty = CausalDAG([("X", "Y")])
    assert none.adjustment_sets("X", "Y") == [] and empty.adjustment_sets("X", "Y") == [E]
    assert empty.adjustment_set("X", "Y") == E
    with pytest.raises(NotIdentifiableError, match="X <-> Y"):
        none.adjustment_set("X", "Y")
    assert none.identify("X", "Y").strategy == "not_identifiable"
    assert "no adjustment is needed" in empty.identify("X", "Y").explanation


# ----------------------------------------------------------- peers' known failures

def test_peer_failure_mediator_returned_as_adjustment_set():
    dag = CausalDAG([("W", "X"), ("W", "M"), ("X", "M"), ("M", "Y")])
    assert dag.adjustment_sets("X", "Y") == sets({"W"})
    assert not dag.is_valid_adjustment("X", "Y", {"M"})


def test_peer_failure_causal_paths_sharing_first_edge():
    dag = CausalDAG([("X", "M"), ("M", "Y"), ("M", "Z"), ("Z", "Y"), ("C", "X"), ("C", "Y")])
    assert dag.adjustment_set("X", "Y", kind="optimal") == {"C"}


def test_peer_failure_summing_over_latent_confounder():
    dag = CausalDAG([("U", "X"), ("U", "Y"), ("X", "Y")], latent=["U"])
    assert dag.adjustment_sets("X", "Y") == []
    for kind in ("optimal", "smallest", "canonical"):
        assert dag.adjustment_sets("X", "Y", kind=kind) == []
    with pytest.raises(NotIdentifiableError, match=r"X <- U -> Y"):
        dag.adjustment_set("X", "Y")
    assert not dag.is_valid_adjustment("X", "Y", {"U"})


def test_peer_failure_confounders_among_many_instruments():
    conf = [f"C{i}" for i in range(8)]
    inst = [f"I{i}" for i in range(15)]
    noise = [f"N{i}" for i in range(15)]
    edges = [("X", "Y")] + [(c, "X") for c in conf] + [(c, "Y") for c in conf]
    edges += [(z, "X") for z in inst] + [(n, "Y") for n in noise[:7]]
    edges += [(a, b) for a, b in zip(noise[7:], noise[8:])]
    dag = CausalDAG(edges)
    assert len(dag.nodes) == 40
    assert dag.adjustment_sets("X", "Y") == [frozenset(conf)]
    assert dag.adjustment_sets("X", "Y", kind="smallest") == [frozenset(conf)]
    opt = dag.adjustment_set("X", "Y")
    assert opt == frozenset(conf) | frozenset(noise[:7])  # O-set adds outcome's parents
    assert not opt & set(inst)


def test_generalized_criterion_accepts_valid_sets_the_backdoor_criterion_rejects():
    # Shpitser, VanderWeele & Robins (2010), Fig. 1-style: D is a descendant of X but
    # not of any causal path, so {U, D} is a valid adjustment set although Pearl's
    # back-door criterion (no descendants of X) rejects it.
    dag = CausalDAG([("U", "X"), ("U", "Y"), ("X", "Y"), ("X", "D")])
    assert "D" in nx.descendants(dag.graph, "X")
    assert dag.is_valid_adjustment("X", "Y", {"U", "D"})
    assert dag.adjustment_sets("X", "Y") == sets({"U"})
    # multiple treatments: X1 -> X2 with a confounder of X2 and Y
    multi = CausalDAG([("X1", "X2"), ("W", "X2"), ("W", "Y"), ("X2", "Y"), ("X1", "Y")])
    assert multi.adjustment_sets(["X1", "X2"], "Y") == sets({"W"})


def test_outcome_causing_treatment_is_explained():
    dag = CausalDAG([("Y", "X")])
    with pytest.raises(NotIdentifiableError, match="outcome is a direct cause"):
        dag.adjustment_set("X", "Y")
