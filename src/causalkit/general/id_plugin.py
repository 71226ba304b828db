"""`id_plugin`: any identified Estimand evaluated on discrete data by plug-in, bootstrap SE.

The formula of the ID algorithm (or any :class:`~causalkit.dags.Estimand`) is
evaluated on the empirical distribution: every factor P(A | B) is a ratio of
cell counts from one vectorised ``bincount``, the sums are variable
eliminations (:mod:`causalkit.dags.distribution`).  The effect reported is

    E[Y | do(X = treated)] - E[Y | do(X = control)] = ∑_y y (P(y | do(treated)) - P(y | do(control))),

with a nonparametric bootstrap standard error (rows resampled, the formula
re-evaluated on the reweighted counts).  Every variable the formula reads must
be discrete: a column with non-integer values or more than ``max_levels``
distinct values is refused by name.  A formula that needs a configuration the
data never show (a positivity failure) is refused rather than evaluated as 0.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> from causalkit.dags import CausalDAG
>>> rng = np.random.default_rng(0); n = 5000
>>> u = rng.random(n) < 0.5; x = (rng.random(n) < np.where(u, .8, .2)).astype(int)
>>> m = (rng.random(n) < np.where(x == 1, .9, .1)).astype(int)
>>> y = (rng.random(n) < .2 + .5 * m + .2 * u).astype(int)
>>> dag = CausalDAG([("X", "M"), ("M", "Y")], bidirected=[("X", "Y")])
>>> df = pd.DataFrame({"X": x, "M": m, "Y": y})
>>> eff = causalkit.estimate(df, "X", "Y", method="id_plugin", graph=dag)
>>> bool(abs(eff.estimate - 0.4) < 0.05)        # 0.5 * (0.9 - 0.1)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..dags.distribution import DiscreteDistribution
from ..dags.estimand import Estimand
from ..dags.graph import as_dag
from ..effect import Effect
from ..errors import DataError, EstimationError, NotIdentifiableError, OptionError
from ..registry import register
from ..validation import check_frame


def check_discrete(frame: pd.DataFrame, columns: list, max_levels: int) -> None:
    """Refuse continuous columns (non-integer values or too many levels), naming them."""
    bad = []
    for c in columns:
        col = frame[c]
        levels = col.nunique()
        numeric = pd.api.types.is_numeric_dtype(col)
        if levels > max_levels or (numeric and not np.allclose(col, np.round(col))):
            bad.append(f"{c} ({levels} distinct values)")
    if bad:
        raise DataError(f"id_plugin needs discrete variables; {', '.join(bad)} look continuous "
                        f"(more than max_levels={max_levels} values or non-integer); "
                        "discretize them or use an estimator for continuous data")


def _effect(est: Estimand, dist: DiscreteDistribution, outcome: str, treatment: str,
            treated: Any, control: Any) -> float:
    p = est.evaluate(dist)
    table = p.unstack(treatment) if isinstance(p.index, pd.MultiIndex) else p.to_frame()
    for level in (treated, control):
        if level not in table.columns:
            raise DataError(f"treatment {treatment!r} never takes the value {level!r}")
    sums = table[[treated, control]].sum(axis=0)
    if not np.allclose(sums.to_numpy(), 1.0, atol=1e-8):
        raise EstimationError(
            f"positivity fails: the formula {est.expression} needs configurations of its "
            f"variables that the data never show (P(Y | do({treatment})) sums to "
            f"{sums.round(3).to_dict()}, not 1); coarsen the variables or collect more data")
    values = np.asarray(table.index, dtype=float)
    return float(values @ (table[treated].to_numpy() - table[control].to_numpy()))


@register("id_plugin", estimand="ATE", roles=("treatment", "outcome"),
          uses_adjustment_set=False, needs_binary_treatment=False,
          treatment_types=("binary", "categorical"))
def id_plugin(data: pd.DataFrame, treatment: str, outcome: str, alpha: float = 0.05,
              graph: Any = None, formula: Estimand | None = None, treated: Any = 1,
              control: Any = 0, n_bootstrap: int = 200, max_levels: int = 20,
              random_state: Any = 0) -> Effect:
    """Plug-in estimate of an identified effect on discrete data, with bootstrap SE.

    Parameters
    ----------
    graph
        The causal DAG (CausalDAG or DAGitty text); its ID-algorithm formula is
        used.  ``estimate(..., dag=)`` passes it.
    formula
        An identified :class:`~causalkit.dags.Estimand` to use instead.
    treated, control
        The two treatment levels contrasted (default 1 and 0).
    n_bootstrap
        Bootstrap replications for the standard error (default 200).
    max_levels
        Most distinct values a variable may take to count as discrete.
    random_state
        Seed of the bootstrap resampling (default fixed, so the same call gives the same SE).
    """
    if formula is None:
        if graph is None:
            raise OptionError("id_plugin needs graph= (the DAG) or formula= (an Estimand)")
        from ..dags.id_algorithm import identify_id

        formula = identify_id(as_dag(graph), treatment, outcome)
    if not isinstance(formula, Estimand):
        raise OptionError(f"formula must be an Estimand, got {type(formula).__name__}")
    if not formula.identified:
        raise NotIdentifiableError(f"{formula}")
    if formula.treatment != (treatment,) or formula.outcome != (outcome,) or formula.given:
        raise OptionError(f"the formula is for {formula.query}, not P({outcome} | do({treatment}))")
    if int(n_bootstrap) != n_bootstrap or n_bootstrap < 2:
        raise OptionError(f"n_bootstrap must be an integer >= 2, got {n_bootstrap!r}")
    cols = formula.variables
    frame = check_frame(data, roles={"variables": [str(c) for c in cols]}, numeric=False)
    check_discrete(frame, cols, max_levels)
    check_frame(frame, roles={"outcome": outcome})
    dist = DiscreteDistribution.from_data(frame, columns=cols)
    tau = _effect(formula, dist, outcome, treatment, treated, control)
    rng = np.random.default_rng(random_state)
    n = len(frame)
    draws = []
    for _ in range(int(n_bootstrap)):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        try:
            draws.append(_effect(formula, dist.reweighted(counts), outcome, treatment,
                                 treated, control))
        except EstimationError:
            continue        # a resample that loses a needed cell; counted below
    if len(draws) < 0.9 * n_bootstrap:
        raise EstimationError(f"{int(n_bootstrap) - len(draws)} of {int(n_bootstrap)} bootstrap "
                              "resamples lose a cell the formula needs; the standard error would "
                              "be unreliable (positivity is nearly violated)")
    se = float(np.std(draws, ddof=1))
    t = frame[treatment]
    return Effect.from_estimate(
        method="id_plugin", estimand="ATE", estimate=tau, std_error=se, alpha=alpha,
        treatment=treatment, outcome=outcome, n_treated=int((t == treated).sum()),
        n_control=int((t == control).sum()), n_obs=n,
        inference=f"plug-in of the identified formula, nonparametric bootstrap SE "
                  f"({len(draws)} resamples)",
        diagnostics={"formula": str(formula), "strategy": formula.strategy,
                     "bootstrap_failures": int(n_bootstrap) - len(draws)})
