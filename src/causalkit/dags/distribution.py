"""Discrete distributions and the exact evaluation of probability expressions.

A :class:`DiscreteDistribution` is either a full probability table (exact, e.g.
computed from a structural model) or the empirical distribution of a data
frame (counts by one vectorised ``bincount`` per marginal; nothing is
enumerated that the data do not need).  :func:`evaluate` computes any
expression of :mod:`causalkit.dags.expression` on it as a table over the
expression's free variables, multiplying and summing out variables one at a
time (variable elimination) so that no table larger than needed is formed.

Example
-------
>>> import pandas as pd
>>> from causalkit.dags.expression import Prob
>>> df = pd.DataFrame({"X": [0, 0, 1, 1], "Y": [0, 1, 1, 1]})
>>> dist = DiscreteDistribution.from_data(df)
>>> evaluate(Prob({"Y"}, {"X"}), dist).values.tolist()
[0.5, 0.5, 0.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, GraphError
from .expression import Expr, One, Prob, Product, Quotient, Sum, WaldRatio

Node = Hashable


@dataclass(frozen=True)
class Factor:
    """A table ``values`` with one axis per variable of ``variables``."""

    variables: tuple
    values: np.ndarray

    def aligned(self, order: Sequence[Node]) -> np.ndarray:
        """The values with axes in ``order`` (size-1 axes for variables it lacks)."""
        sizes = dict(zip(self.variables, self.values.shape))
        perm = [self.variables.index(v) for v in order if v in sizes]
        return np.transpose(self.values, perm).reshape([sizes.get(v, 1) for v in order])

    def sum_out(self, variables: Iterable[Node]) -> "Factor":
        drop = [v for v in variables if v in self.variables]
        if not drop:
            return self
        axes = tuple(self.variables.index(v) for v in drop)
        return Factor(tuple(v for v in self.variables if v not in drop),
                      self.values.sum(axis=axes))


def multiply(factors: Sequence[Factor]) -> Factor:
    """The product of ``factors`` over the union of their variables."""
    order = tuple(dict.fromkeys(v for f in factors for v in f.variables))
    out = np.ones([1] * len(order))
    for f in factors:
        out = out * f.aligned(order)
    return Factor(order, out)


def divide(num: Factor, den: Factor) -> Factor:
    """num / den with 0 / 0 = 0 (a configuration of probability zero contributes nothing)."""
    order = tuple(dict.fromkeys(num.variables + den.variables))
    a, b = np.broadcast_arrays(num.aligned(order), den.aligned(order))
    out = np.divide(a, b, out=np.zeros(a.shape), where=b != 0)
    return Factor(order, out)


class DiscreteDistribution:
    """A distribution over discrete variables: a full table or a sample's empirical one.

    Use :meth:`from_table`, :meth:`from_array` or :meth:`from_data`.
    """

    def __init__(self, levels: Mapping[Node, Sequence[Any]], table: np.ndarray | None = None,
                 codes: Mapping[Node, np.ndarray] | None = None,
                 weights: np.ndarray | None = None) -> None:
        self.levels = {v: list(lv) for v, lv in levels.items()}
        self.variables = tuple(self.levels)
        self._table = table
        self._codes = codes
        self._weights = weights
        self._cache: dict[frozenset, Factor] = {}

    @classmethod
    def from_array(cls, variables: Sequence[Node], levels: Sequence[Sequence[Any]],
                   probabilities: np.ndarray) -> "DiscreteDistribution":
        """A full table: ``probabilities[i, j, ...]`` = P(v1 = levels[0][i], v2 = ...).

        >>> d = DiscreteDistribution.from_array(["A"], [[0, 1]], np.array([0.3, 0.7]))
        >>> d.marginal({"A"}).values.tolist()
        [0.3, 0.7]
        """
        p = np.asarray(probabilities, dtype=float)
        if p.shape != tuple(len(lv) for lv in levels):
            raise DataError(f"the probability table has shape {p.shape}, the levels say "
                            f"{tuple(len(lv) for lv in levels)}")
        if (p < 0).any() or not np.isclose(p.sum(), 1.0, atol=1e-9):
            raise DataError("the probability table must be non-negative and sum to 1")
        return cls(dict(zip(variables, levels)), table=p)

    @classmethod
    def from_table(cls, table: pd.DataFrame, probability: str = "p") -> "DiscreteDistribution":
        """From a frame with one row per configuration and a ``probability`` column.

        >>> t = pd.DataFrame({"A": [0, 1], "p": [0.25, 0.75]})
        >>> DiscreteDistribution.from_table(t).marginal({"A"}).values.tolist()
        [0.25, 0.75]
        """
        if probability not in table.columns:
            raise DataError(f"the table has no probability column {probability!r}")
        cols = [c for c in table.columns if c != probability]
        dist = cls.from_data(table[cols], weights=table[probability].to_numpy(float))
        if not np.isclose(dist._weights.sum(), 1.0, atol=1e-9):
            raise DataError(f"the column {probability!r} must sum to 1")
        return dist

    @classmethod
    def from_data(cls, data: pd.DataFrame, columns: Sequence[Node] | None = None,
                  weights: np.ndarray | None = None) -> "DiscreteDistribution":
        """The empirical distribution of ``columns`` (default: all) of ``data``."""
        cols = list(data.columns if columns is None else columns)
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise DataError(f"column(s) {missing} are not in the data")
        if data[cols].isna().any().any():
            bad = [c for c in cols if data[c].isna().any()]
            raise DataError(f"column(s) {bad} have missing values")
        levels, codes = {}, {}
        for c in cols:
            uniq, inv = np.unique(data[c].to_numpy(), return_inverse=True)
            levels[c], codes[c] = list(uniq), inv.astype(np.int64)
        w = np.ones(len(data)) / max(len(data), 1) if weights is None else \
            np.asarray(weights, dtype=float) / (1.0 if weights is not None and
                                                np.isclose(np.sum(weights), 1.0)
                                                else np.sum(weights))
        return cls(levels, codes=codes, weights=w)

    def reweighted(self, weights: np.ndarray) -> "DiscreteDistribution":
        """The same sample with new row weights (e.g. bootstrap counts), no re-encoding.

        >>> d = DiscreteDistribution.from_data(pd.DataFrame({"A": [0, 1]}))
        >>> d.reweighted(np.array([3.0, 1.0])).marginal({"A"}).values.tolist()
        [0.75, 0.25]
        """
        if self._codes is None:
            raise DataError("only a sample's empirical distribution can be reweighted")
        w = np.asarray(weights, dtype=float)
        return DiscreteDistribution(self.levels, codes=self._codes, weights=w / w.sum())

    def marginal(self, variables: Iterable[Node]) -> Factor:
        """P(variables) as a :class:`Factor` (axes in the distribution's variable order)."""
        want = frozenset(variables)
        unknown = [v for v in want if v not in self.levels]
        if unknown:
            raise GraphError(f"the distribution has no variable(s) {sorted(map(str, unknown))}")
        if want in self._cache:
            return self._cache[want]
        order = tuple(v for v in self.variables if v in want)
        if self._table is not None:
            axes = tuple(i for i, v in enumerate(self.variables) if v not in want)
            f = Factor(order, self._table.sum(axis=axes))
        else:
            shape = tuple(len(self.levels[v]) for v in order)
            if order:
                flat = np.ravel_multi_index([self._codes[v] for v in order], shape)
                counts = np.bincount(flat, weights=self._weights, minlength=int(np.prod(shape)))
            else:
                counts = np.array(self._weights.sum())
            f = Factor(order, counts.reshape(shape))
        self._cache[want] = f
        return f


def _prob(e: Prob, dist: DiscreteDistribution) -> Factor:
    joint = dist.marginal(e.variables | e.given)
    if not e.given:
        return joint
    return divide(joint, joint.sum_out(e.variables))


def _eliminate(factors: list[Factor], over: Iterable[Node]) -> Factor:
    """∑_over ∏ factors by summing out one variable at a time (smallest table first)."""
    todo = set(over)
    factors = list(factors)
    while todo:
        sizes = {u: n for f in factors for u, n in zip(f.variables, f.values.shape)}

        def cost(u: Node) -> int:
            vs = {w for f in factors if u in f.variables for w in f.variables}
            return int(np.prod([sizes[w] for w in vs])) if vs else 0

        v = min(todo, key=lambda u: (cost(u), str(u)))
        todo.discard(v)
        touch = [f for f in factors if v in f.variables]
        if not touch:
            continue
        rest = [f for f in factors if v not in f.variables]
        factors = rest + [multiply(touch).sum_out([v])]
    return multiply(factors)


def evaluate_factor(expr: Expr, dist: DiscreteDistribution) -> Factor:
    """The value of ``expr`` on ``dist`` as a :class:`Factor` over its free variables."""
    if isinstance(expr, One):
        return Factor((), np.array(1.0))
    if isinstance(expr, Prob):
        return _prob(expr, dist)
    if isinstance(expr, Product):
        return multiply([evaluate_factor(f, dist) for f in expr.factors])
    if isinstance(expr, Sum):
        body = expr.body.factors if isinstance(expr.body, Product) else (expr.body,)
        return _eliminate([evaluate_factor(f, dist) for f in body], expr.over)
    if isinstance(expr, Quotient):
        return divide(evaluate_factor(expr.numerator, dist),
                      evaluate_factor(expr.denominator, dist))
    if isinstance(expr, WaldRatio):
        return Factor((), np.array(_wald_ratio(expr, dist)))
    raise TypeError(f"cannot evaluate {type(expr).__name__}")  # pragma: no cover


def _wald_ratio(e: WaldRatio, dist: DiscreteDistribution) -> float:
    """E_W[Cov(Y, Z | W)] / E_W[Cov(X, Z | W)] on the numeric levels of the variables."""
    def mean_cov(a: Node) -> float:
        vs = [a, e.instrument, *sorted(e.given, key=str)]
        f = dist.marginal(vs)
        p = f.aligned(vs)
        try:
            va = np.asarray(dist.levels[a], dtype=float).reshape([-1] + [1] * (len(vs) - 1))
            vz = np.asarray(dist.levels[e.instrument], dtype=float).reshape(
                [1, -1] + [1] * (len(vs) - 2))
        except (TypeError, ValueError):
            raise DataError(f"the IV estimand needs numeric {a} and {e.instrument}") from None
        pw = p.sum(axis=(0, 1), keepdims=True)
        cond = np.divide(p, pw, out=np.zeros(p.shape), where=pw > 0)
        ea = (cond * va).sum(axis=(0, 1), keepdims=True)
        ez = (cond * vz).sum(axis=(0, 1), keepdims=True)
        cov = (cond * (va - ea) * (vz - ez)).sum(axis=(0, 1), keepdims=True)
        return float((pw * cov).sum())

    den = mean_cov(e.treatment)
    if den == 0:
        raise DataError(f"{e.instrument} does not move {e.treatment}: the IV estimand is undefined")
    return mean_cov(e.outcome) / den


def evaluate(expr: Expr, dist: DiscreteDistribution, order: Sequence[Node] | None = None
             ) -> pd.Series:
    """``expr`` on ``dist`` as a Series indexed by the levels of ``order`` (default: its free variables).

    Variables of ``order`` the expression does not depend on are broadcast.
    """
    f = evaluate_factor(expr, dist)
    order = tuple(sorted(f.variables, key=str)) if order is None else tuple(order)
    extra = [v for v in f.variables if v not in order]
    if extra:
        raise GraphError(f"the expression depends on {sorted(map(str, extra))} as well")
    shape = tuple(len(dist.levels[v]) for v in order)
    values = np.broadcast_to(f.aligned(order), shape) if order else f.values
    if not order:
        return pd.Series([float(values)], name="p")
    index = pd.MultiIndex.from_product([dist.levels[v] for v in order],
                                       names=[str(v) for v in order])
    if len(order) == 1:
        index = index.get_level_values(0)
    return pd.Series(np.asarray(values, dtype=float).ravel(), index=index, name="p")
