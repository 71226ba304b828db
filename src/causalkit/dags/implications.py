"""Testable implications of a DAG and their test on data.

For every pair of observed nodes that some set of observed nodes d-separates,
one conditional independence ``u ⊥ v | Z`` is listed with Z a minimal
separator (found in linear time on the moralized ancestral graph, van der
Zander & Liśkiewicz 2019).  In a DAG without latent nodes every pair of
non-adjacent nodes appears, which implies the local Markov property, so the
list is a basis of the implied independencies.

Nodes marked selected are in every Z (the data are selected on them, so each
claim holds within the selected sample) and are not themselves tested;
``test_implications`` takes the data to be that sample: a selected column, if
present, must be constant, and it is not a regressor.

``test_implications`` tests each one on a DataFrame: ``"partial_correlation"``
(Fisher z-test of the partial correlation, for roughly Gaussian data) or
``"regression"`` (OLS of u on v and Z, HC2 robust t-test of v's coefficient).

Example
-------
>>> from causalkit.dags import CausalDAG
>>> CausalDAG([("A", "B"), ("B", "C")]).implied_independencies()
[('A', 'C', frozenset({'B'}))]
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..inference import check_alpha, two_sided_p_value
from ..linear import fit_coefficient
from ..validation import as_dataframe, require_columns, require_finite, require_numeric, require_rows
from .graph import CausalDAG
from .separators import find_minimal_separator
from ._graphs import moral_ancestral

METHODS = ("partial_correlation", "regression")


def implied_independencies(dag: CausalDAG) -> list[tuple[Any, Any, frozenset]]:
    """One testable independence ``(u, v, Z)`` per separable pair of observed nodes."""
    g = dag.graph
    sel = set(dag.selected)
    observed = [n for n in dag.observed_nodes if n not in sel]
    order = {n: i for i, n in enumerate(sorted(observed, key=str))}
    out = []
    for u, v in combinations(sorted(observed, key=str), 2):
        if g.has_edge(u, v) or g.has_edge(v, u):
            continue
        adj = moral_ancestral(g, {u, v} | sel)
        z = find_minimal_separator(adj, {u}, {v}, sel, set(observed) - {u, v})
        if z is not None:
            out.append((u, v, z))
    return sorted(out, key=lambda t: (order[t[0]], order[t[1]]))


def partial_correlation(data: pd.DataFrame, u: str, v: str, given: list[str]) -> float:
    """Correlation of the residuals of u and v after OLS on ``given`` (with intercept)."""
    z = np.column_stack([np.ones(len(data))] + [data[c].to_numpy(float) for c in given])
    res = []
    for col in (u, v):
        y = data[col].to_numpy(float)
        beta, *_ = np.linalg.lstsq(z, y, rcond=None)
        res.append(y - z @ beta)
    a, b = res
    denom = float(np.sqrt((a @ a) * (b @ b)))
    return 0.0 if denom == 0 else float(a @ b) / denom


def test_implications(dag: CausalDAG, data: Any, method: str = "partial_correlation",
                      alpha: float = 0.05) -> pd.DataFrame:
    """Test every implied independence; columns x, y, given, estimate, statistic, p_value, rejected."""
    if method not in METHODS:
        raise OptionError(f"unknown test method {method!r}; use one of {', '.join(METHODS)}")
    alpha = check_alpha(alpha)
    frame = as_dataframe(data)
    claims = implied_independencies(dag)
    sel = dag.selected
    cols = sorted({str(c) for u, v, z in claims for c in (u, v, *(z - sel))})
    require_columns(frame, cols, role="DAG node")
    require_numeric(frame, cols, role="DAG node")
    require_finite(frame, cols, role="DAG node")
    for s in sorted(map(str, sel)):
        if s in frame.columns and frame[s].nunique(dropna=False) > 1:
            raise DataError(f"the DAG marks {s!r} selected, so the data must be the sample "
                            f"selected on it, but column {s!r} varies; pass the selected rows")
    rows = []
    for u, v, z in claims:
        given = sorted(map(str, z - sel))
        require_rows(len(frame), len(given) + 5, "a conditional-independence test")
        if method == "partial_correlation":
            r = partial_correlation(frame, str(u), str(v), given)
            r = float(np.clip(r, -1 + 1e-15, 1 - 1e-15))
            stat = float(np.arctanh(r) * np.sqrt(len(frame) - len(given) - 3))
            p, est = two_sided_p_value(stat), r
        else:
            x = np.column_stack([np.ones(len(frame)), frame[str(v)].to_numpy(float)]
                                + [frame[c].to_numpy(float) for c in given])
            c = fit_coefficient(frame[str(u)].to_numpy(float), x, index=1, cov_type="HC2")
            est, stat = c.estimate, c.estimate / c.std_error
            p = float(two_sided_p_value(stat, c.df))
        rows.append({"x": u, "y": v, "given": ", ".join(given), "estimate": est,
                     "statistic": stat, "p_value": p, "rejected": p < alpha})
    return pd.DataFrame(rows, columns=["x", "y", "given", "estimate", "statistic", "p_value",
                                       "rejected"])
