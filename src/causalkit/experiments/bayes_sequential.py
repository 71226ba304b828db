"""Bayesian monitoring look by look: posteriors updated at each look, stop on expected loss.

At every look the conjugate posterior of each arm is updated with the data
so far (Beta–Binomial for conversions, normal for means; the posterior after
look ``k`` is the prior updated with the cumulative data, which equals
updating the previous look's posterior with the new data only) and the
expected loss of shipping each arm, ``E[max_j theta_j - theta_arm]`` (the
"threshold of caring" rule of Stucchio 2015 / VWO), is computed exactly by
:func:`~.bayes.decision_summary`.  Monitoring **stops** at the first look
where some arm's expected loss is below ``threshold`` (the largest loss the
team accepts, on the metric's scale), and that arm is chosen.

The expected-loss rule bounds the loss, not the false-positive rate: with
identical arms it stops early often, choosing either arm, at a cost below
``threshold`` by construction.  Readers who need an error rate use
:func:`~.sequential.group_sequential` or :func:`~.sequential.msprt`.

Example
-------
>>> looks = sequential_beta_binomial([[10, 14], [22, 31], [35, 52]], [[100, 100], [200, 200],
...                                  [300, 300]], threshold=0.002, labels=["A", "B"])
>>> looks.stopped_at, looks.choice
(2, 'B')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from .bayes import beta_binomial, normal_means

__all__ = ["BayesianLooks", "sequential_beta_binomial", "sequential_normal"]


@dataclass(frozen=True)
class BayesianLooks:
    """``table``: one row per look and arm (posterior mean, CI, P(best), expected loss);
    ``stopped_at``: the first look (1-based) meeting the rule or ``None``; ``choice``: the arm."""

    table: pd.DataFrame
    stopped_at: int | None
    choice: Any
    threshold: float


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not threshold > 0:
        raise OptionError(f"threshold (the expected loss one accepts) must be positive, got "
                          f"{threshold!r}")
    return float(threshold)


def _run(per_look: list[pd.DataFrame], threshold: float) -> BayesianLooks:
    rows, stop, choice = [], None, None
    for k, t in enumerate(per_look, start=1):
        t = t.reset_index()
        t.insert(0, "look", k)
        rows.append(t)
        if stop is None and t["expected_loss"].min() < threshold:
            stop, choice = k, t.loc[t["expected_loss"].idxmin(), "arm"]
    table = pd.concat(rows, ignore_index=True)
    table["stop"] = table["look"] == stop
    return BayesianLooks(table, stop, choice, threshold)


def _cumulative(a: Any, name: str) -> np.ndarray:
    x = np.asarray(a, dtype=float)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 2:
        raise DataError(f"{name} must be a (looks x arms) array with at least two arms")
    if np.any(np.diff(x, axis=0) < 0):
        raise DataError(f"{name} must be cumulative: it decreases between looks")
    return x


def sequential_beta_binomial(successes: Sequence[Sequence[int]], trials: Sequence[Sequence[int]],
                             threshold: float, prior: tuple[float, float] = (1.0, 1.0),
                             labels: Sequence[Any] | None = None, credible: float = 0.95,
                             higher_is_better: bool = True) -> BayesianLooks:
    """Beta–Binomial monitoring of cumulative ``successes`` / ``trials`` (looks x arms)."""
    threshold = _check_threshold(threshold)
    x, n = _cumulative(successes, "successes"), _cumulative(trials, "trials")
    if x.shape != n.shape:
        raise DataError("successes and trials must have the same (looks x arms) shape")
    looks = [beta_binomial(x[k], n[k], prior, labels, credible, higher_is_better)
             for k in range(len(x))]
    return _run(looks, threshold)


def sequential_normal(n: Sequence[Sequence[float]], mean: Sequence[Sequence[float]],
                      var: Sequence[Sequence[float]], threshold: float, prior_mean: float = 0.0,
                      prior_var: float = np.inf, labels: Sequence[Any] | None = None,
                      credible: float = 0.95, higher_is_better: bool = True) -> BayesianLooks:
    """Normal-means monitoring: cumulative ``n``, ``mean`` and ``var`` per look and arm."""
    threshold = _check_threshold(threshold)
    nn = _cumulative(n, "n")
    m, v = np.asarray(mean, dtype=float), np.asarray(var, dtype=float)
    if m.shape != nn.shape or v.shape != nn.shape:
        raise DataError("n, mean and var must have the same (looks x arms) shape")
    looks = [normal_means(nn[k], m[k], v[k], prior_mean, prior_var, labels, credible,
                          higher_is_better) for k in range(len(nn))]
    return _run(looks, threshold)
