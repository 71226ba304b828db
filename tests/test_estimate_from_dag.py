"""`estimate(df, t, y, dag=dag)` without a method picks the estimator for the strategy identified."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.dags import CausalDAG
from causalkit.errors import NotIdentifiableError


def test_backdoor_dag_uses_aipw_with_the_dag_set():
    rng = np.random.default_rng(0)
    z = rng.normal(size=2000)
    t = (rng.random(2000) < 1 / (1 + np.exp(-z))).astype(int)
    df = pd.DataFrame({"z": z, "t": t, "y": t + z + rng.normal(size=2000)})
    eff = causalkit.estimate(df, "t", "y", dag="dag { z -> t; z -> y; t -> y }", random_state=0)
    ref = causalkit.estimate(df, "t", "y", method="aipw", covariates=["z"], random_state=0)
    assert eff.method == "aipw" and eff.covariates == ("z",)
    assert eff.estimate == pytest.approx(ref.estimate, abs=1e-12)
    assert "chosen from the DAG (strategy 'backdoor'" in eff.inference


def test_frontdoor_dag_uses_frontdoor():
    rng = np.random.default_rng(1)
    u = rng.normal(size=2000)
    t = (u + rng.normal(size=2000) > 0).astype(int)
    m = t + rng.normal(size=2000)
    df = pd.DataFrame({"t": t, "m": m, "y": 2 * m + u + rng.normal(size=2000)})
    eff = causalkit.estimate(df, "t", "y", dag="dag { t -> m -> y; t <-> y }")
    ref = causalkit.estimate(df, "t", "y", method="frontdoor", mediators="m")
    assert eff.method == "frontdoor" and eff.estimate == pytest.approx(ref.estimate)
    assert "strategy 'frontdoor'" in eff.inference


def test_iv_dag_uses_iv_2sls():
    rng = np.random.default_rng(2)
    z = rng.normal(size=2000)
    u = rng.normal(size=2000)
    x = z + u + rng.normal(size=2000)
    df = pd.DataFrame({"z": z, "x": x, "y": 1.5 * x + u + rng.normal(size=2000)})
    eff = causalkit.estimate(df, "x", "y", dag="dag { z -> x -> y; x <-> y }")
    assert eff.method == "iv_2sls" and abs(eff.estimate - 1.5) < 4 * eff.std_error
    assert "instrumental_variable" in eff.inference


def test_general_dag_uses_id_plugin_and_unidentified_is_refused():
    from test_frontdoor_mediation import NAPKIN, _napkin_data

    df = _napkin_data(np.random.default_rng(3), 5000)
    eff = causalkit.estimate(df, "X", "Y", dag=NAPKIN, n_bootstrap=30)
    assert eff.method == "id_plugin" and "strategy 'id'" in eff.inference
    bow = CausalDAG([("X", "Y")], bidirected=[("X", "Y")])
    with pytest.raises(NotIdentifiableError, match="hedge"):
        causalkit.estimate(df, "X", "Y", dag=bow)


def test_without_a_dag_the_default_is_still_difference_in_means():
    df = pd.DataFrame({"t": [0, 1, 0, 1, 0, 1], "y": [1.0, 2, 1, 3, 2, 3]})
    assert causalkit.estimate(df, "t", "y").method == "difference_in_means"
