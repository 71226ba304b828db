"""identify() when there is no causal path: the effect is identified and is zero.

The reference is the exact interventional distribution of binary models (truncated
factorization): P(y | do(x)) does not depend on x, while the observed association
does when X and Y share a cause.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.dags import CausalDAG
from causalkit.errors import NotIdentifiableError

from test_dag_marks import _joint


def _effects(edges: list, order: list, x: str, y: str, seed: int = 0) -> tuple[float, float]:
    """(causal risk difference, observed risk difference) of x on y in a random binary model."""
    rng = np.random.default_rng(seed)
    parents = {v: [a for a, b in edges if b == v] for v in order}
    cpt = {v: rng.uniform(0.1, 0.9, size=2 ** len(parents[v])) for v in order}
    col = {v: i for i, v in enumerate(order)}
    do = []
    for xv in (0, 1):
        states, p = _joint(order, parents, cpt, do={x: xv})
        do.append(p[states[:, col[y]] == 1].sum())
    states, p = _joint(order, parents, cpt)
    obs = [p[(states[:, col[x]] == xv) & (states[:, col[y]] == 1)].sum()
           / p[states[:, col[x]] == xv].sum() for xv in (0, 1)]
    return do[1] - do[0], obs[1] - obs[0]


@pytest.mark.parametrize("edges, latent, order", [
    ([("Y", "X")], [], ["Y", "X"]),
    ([("U", "X"), ("U", "Y")], ["U"], ["U", "X", "Y"]),
])
def test_no_causal_path_is_identified_and_zero(edges, latent, order):
    dag = CausalDAG(edges, latent=latent)
    ident = dag.identify("X", "Y")
    assert ident.strategy == "no_causal_path" and ident.identified and ident.zero_effect
    assert str(ident.estimand) == "P(Y | do(X)) = P(Y)"
    assert "no causal (directed) path from X to Y" in ident.explanation
    assert "is zero" in ident.explanation and "not zero" in ident.explanation
    assert not dag.has_causal_path("X", "Y")
    causal, observed = _effects(edges, order, "X", "Y")
    assert causal == pytest.approx(0.0, abs=1e-15) and abs(observed) > 1e-3
    assert dag.adjustment_sets("X", "Y") == []      # no set makes the association zero


def test_no_causal_path_with_a_blockable_back_door_names_the_set():
    dag = CausalDAG([("Z", "X"), ("Z", "Y"), ("X", "M")])
    ident = dag.identify("X", "Y")
    assert ident.strategy == "no_causal_path" and ident.adjustment_set == {"Z"}
    assert "adjusting for {Z}" in ident.explanation and ident.sets == ()
    multi = CausalDAG([("X1", "X2"), ("Y", "X1")]).identify(["X1", "X2"], "Y")
    assert multi.strategy == "no_causal_path" and str(multi.estimand) == "P(Y | do(X1, X2)) = P(Y)"
    assert CausalDAG([("X", "Y")]).identify("X", "Y").strategy == "backdoor"


def test_estimate_with_a_dag_that_has_no_causal_path():
    rng = np.random.default_rng(5)
    n = 5000
    u = rng.normal(size=n)
    t = (u + rng.normal(size=n) > 0).astype(int)
    y = 2.0 * u + rng.normal(size=n)                # T has no effect on Y
    df = pd.DataFrame({"T": t, "Y": y, "U": u})
    hidden = CausalDAG([("U", "T"), ("U", "Y")], latent=["U"])
    with pytest.raises(NotIdentifiableError, match=r"no causal path from T to Y.*zero"):
        causalkit.estimate(df, "T", "Y", method="regression_adjustment", dag=hidden)
    naive = causalkit.estimate(df, "T", "Y", method="difference_in_means")
    assert abs(naive.estimate) > 10 * naive.std_error   # what a silent answer would be
    seen = CausalDAG([("U", "T"), ("U", "Y")])      # U measured: the zero can be estimated
    eff = causalkit.estimate(df, "T", "Y", method="regression_adjustment", dag=seen)
    assert eff.covariates == ("U",) and abs(eff.estimate) < 4 * eff.std_error
