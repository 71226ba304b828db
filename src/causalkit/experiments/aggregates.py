"""`ExperimentStats`: per-arm sufficient statistics of every metric, checked to be possible.

An experiment enters :func:`~.analyze.analyze` either as raw rows (reduced
per arm to :class:`~.stats.Moments` in one vectorized pass, see
:meth:`ExperimentStats.from_rows`) or as statistics aggregated elsewhere
(:meth:`ExperimentStats.from_aggregates` for SQL-style ``count``, ``sum`` and
``sum of squares`` columns, or the constructor for arbitrary moments).

Statistics that no data could produce are refused with a
:class:`~causalkit.errors.DataError` naming the metric and the arm, before any
test is computed: negative or fractional counts, negative variances, a
"proportion" with more successes than units (or whose sum of squares is not
its sum, so the values are not 0/1), non-finite moments (values so large that
their squares overflow, or so small that they underflow).

Raw sums of squares lose precision when the mean is large relative to the
spread.  Whole-number aggregates below 2^53 (counts, conversions, integer
metrics) give the variance exactly (in integer arithmetic); otherwise, when
``sum(x^2)`` and ``sum(x)^2 / n`` agree to ~10 significant digits (or exactly:
a mean of 1e8 with a standard deviation of 1 has ``sum(x^2) == sum(x)^2 / n``
in float64), the variance is not recoverable and
:meth:`~ExperimentStats.from_aggregates` says so instead of returning noise
or a zero.

Example
-------
>>> import pandas as pd
>>> agg = pd.DataFrame({"arm": ["A", "B"], "n": [50, 50], "x": [60, 20], "xx": [60, 20]})
>>> try:
...     ExperimentStats.from_aggregates(agg, "arm", "n", {"c": ("x", "xx")}, kinds={"c": "proportion"})
... except DataError as err:
...     print(err)
proportion metric 'c': arm 'A' has 60 successes out of 50 units; successes must be whole numbers between 0 and the count
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..validation import (as_dataframe, check_frame, require_columns, require_finite,
                          require_numeric, suggest_column)
from .metrics import Metric
from .stats import Moments, factorize, group_moments

#: Relative agreement of ``sum(x^2)`` and ``sum(x)^2 / n`` beyond which the variance is lost.
PRECISION = 1e-10


def as_metrics(metrics: str | Metric | Sequence[str | Metric]) -> list[Metric]:
    """Normalize metric names / :class:`Metric` objects to a list of metrics.

    >>> [m.name for m in as_metrics(["a", Metric("b")])]
    ['a', 'b']
    """
    if isinstance(metrics, (str, Metric)):
        metrics = [metrics]
    out = [Metric(m) if isinstance(m, str) else m for m in metrics]
    if not out:
        raise OptionError("give at least one metric")
    for m in out:
        if not isinstance(m, Metric):
            raise OptionError(f"metrics must be column names or Metric objects, got {m!r}")
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise OptionError(f"metric names must be unique, got {names}")
    return out


@dataclass(frozen=True)
class ExperimentStats:
    """Per-arm sufficient statistics of every metric: all :func:`~.analyze.analyze` needs.

    Attributes
    ----------
    arms
        Arm labels, in the order of the batch axis of every :class:`Moments`.
    moments
        ``{metric name: Moments}`` with batch shape ``(n_arms,)`` over the
        variables ``metric.columns``.
    metrics
        ``{metric name: Metric}`` with ``kind`` resolved.

    Construction checks that the statistics are possible (see the module
    docstring); an arm may have 0 units (an arm that received no traffic).
    """

    arms: tuple[Any, ...]
    moments: Mapping[str, Moments]
    metrics: Mapping[str, Metric]

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        if set(self.moments) != set(self.metrics):
            raise DataError(f"moments are given for {sorted(self.moments)} but metrics for "
                            f"{sorted(self.metrics)}; give both for the same metric names")
        for name, mom in self.moments.items():
            _check_possible(name, mom, self.metrics[name], self.arms)

    @classmethod
    def from_rows(cls, data: Any, variant: str, metrics: str | Metric | Sequence[str | Metric],
                  unit: str | None = None) -> "ExperimentStats":
        """Reduce raw rows (one per unit) to per-arm moments in one vectorized pass each.

        ``data`` is a pandas DataFrame or any frame narwhals knows (polars,
        pyarrow, a DuckDB relation; only the needed columns are converted).
        With ``unit``, rows are events, summed per unit first (a unit seen in
        two arms is an error), as :func:`~.warehouse.stats_from_table` does in
        a database.  A categorical ``variant`` keeps its categories as arms
        even when no row has them (an arm with 0 units).

        >>> df = pd.DataFrame({"v": [0, 0, 1, 1], "y": [1.0, 3.0, 5.0, 9.0]})
        >>> ExperimentStats.from_rows(df, "v", "y").moments["y"].mean[:, 0].tolist()
        [2.0, 7.0]
        """
        mets = as_metrics(metrics)
        cols = sorted({c for m in mets for c in m.columns})
        frame = as_dataframe(data, columns=[variant, *cols] + ([unit] if unit is not None else []))
        require_columns(frame, variant, role="variant")
        require_columns(frame, cols, role="metric")
        require_numeric(frame, cols, role="metric")
        if unit is not None:
            frame = _per_unit(frame, variant, unit, cols)
        codes, labels = factorize(frame[variant], name=f"variant {variant!r}")
        if len(labels) < 2:
            raise DataError(f"variant column {variant!r} has only one arm ({labels[0]!r}); "
                            "an experiment needs a control and at least one treatment")
        arrays = {c: frame[c].to_numpy(dtype=float) for c in cols}
        moments, resolved = {}, {}
        for m in mets:
            mom = group_moments(codes, [arrays[c] for c in m.columns], len(labels),
                                names=m.columns, allow_empty=True)
            if not (np.all(np.isfinite(mom.mean)) and np.all(np.isfinite(mom.comoment))):
                # NaN/inf propagate into the sums: find and name them only then (lazy check)
                require_finite(frame, list(m.columns), role="metric")
                big = max(float(np.abs(arrays[c]).max()) for c in m.columns)
                raise DataError(
                    f"metric {m.name!r}: its values (up to {big:.3g} in magnitude) overflow "
                    "float64 when squared, so no variance can be computed; rescale the "
                    f"column(s) {list(m.columns)} (e.g. divide by 1e{int(np.log10(big)) - 3})")
            check_underflow(m, mom, lambda c: _largest(arrays[c]))
            moments[m.name] = mom
            resolved[m.name] = resolve_kind(m, functools.partial(_range, arrays[m.columns[0]]), mom)
        return cls(tuple(labels), moments, resolved)

    @classmethod
    def from_aggregates(cls, table: pd.DataFrame, variant: str, n: str,
                        metrics: Mapping[str, tuple[str, str]],
                        kinds: Mapping[str, str] | None = None) -> "ExperimentStats":
        """Statistics from one row per arm with SQL aggregates ``count``, ``sum`` and ``sum of squares``.

        ``metrics`` maps a metric name to its ``(sum column, sum-of-squares
        column)``; ``kinds`` optionally marks metrics as ``"proportion"`` (whose
        sum is the number of successes and whose sum of squares equals it).
        Counts must be whole non-negative numbers; see the module docstring for
        the other checks.

        >>> agg = pd.DataFrame({"arm": ["A", "B"], "n": [4, 4], "s": [14.0, 18.0],
        ...                     "ss": [70.0, 90.0]})
        >>> st = ExperimentStats.from_aggregates(agg, "arm", "n", {"y": ("s", "ss")})
        >>> st.moments["y"].var()[:, 0].tolist()
        [7.0, 3.0]
        """
        cols = [n] + [c for pair in metrics.values() for c in pair]
        require_columns(table, variant, role="variant")
        check_frame(table, roles={"aggregate": cols})
        if table[variant].duplicated().any():
            raise DataError(f"aggregate table must have one row per arm; {variant!r} repeats")
        kinds = dict(kinds or {})
        for name, kind in kinds.items():
            if name not in metrics:
                hint = suggest_column(str(name), [str(k) for k in metrics])
                raise OptionError(f"kinds names metric {name!r}, which is not among the metrics "
                                  f"{list(metrics)}" + (f"; did you mean {hint!r}?" if hint else ""))
            if kind not in ("mean", "proportion"):
                raise OptionError(f"kinds[{name!r}] must be 'mean' or 'proportion' for aggregates, "
                                  f"got {kind!r}")
        arms = tuple(table[variant].tolist())
        counts = table[n].to_numpy(dtype=float)
        _check_counts(counts, arms, f"count column {n!r}")
        moments, resolved = {}, {}
        for name, (s, ss) in metrics.items():
            sums, squares = table[s].to_numpy(dtype=float), table[ss].to_numpy(dtype=float)
            kind = kinds.get(name, "mean")
            if kind == "proportion":
                _check_successes(name, sums, squares, counts, arms)
            moments[name] = _moments_from_sums(name, counts, sums, squares, arms)
            resolved[name] = Metric(name, kind=kind)
        return cls(arms, moments, resolved)

    def counts(self) -> np.ndarray:
        """Units per arm (from the first metric)."""
        return next(iter(self.moments.values())).n

    def subset(self, metrics: str | Metric | Sequence[str | Metric]) -> "ExperimentStats":
        """The statistics of some metrics only, by name (a misspelt name gets a did-you-mean).

        A :class:`Metric` object must equal the statistics' own definition of
        that metric (the statistics were computed for it; another kind or
        covariate cannot be honoured from them).

        >>> df = pd.DataFrame({"v": [0, 0, 1, 1], "y": [1.0, 3.0, 5.0, 9.0], "z": [1.0, 2, 2, 1]})
        >>> list(ExperimentStats.from_rows(df, "v", ["y", "z"]).subset("z").moments)
        ['z']
        """
        wanted = as_metrics(metrics)
        for m in wanted:
            if m.name not in self.moments:
                hint = suggest_column(m.name, list(self.moments))
                raise OptionError(
                    f"metric {m.name!r} is not in the experiment statistics"
                    + (f"; did you mean {hint!r}?" if hint else "")
                    + f" (available: {', '.join(map(repr, self.moments))})")
            mine = self.metrics[m.name]
            if m != Metric(m.name) and m != mine and m != _with_kind(mine, "auto"):
                raise OptionError(f"metric {m.name!r} was given as {m}, but the statistics were "
                                  f"computed for {mine}; pass the name to use them")
        names = [m.name for m in wanted]
        return ExperimentStats(self.arms, {k: self.moments[k] for k in names},
                               {k: self.metrics[k] for k in names})


#: Variances of an arm's mean below this are within 1000x of float64's subnormal range (2.2e-308).
TINY_VARIANCE = 1e-305


def _per_unit(frame: pd.DataFrame, variant: str, unit: str, cols: Sequence[str]) -> pd.DataFrame:
    """Event rows summed per (arm, unit); a unit in more than one arm is an error."""
    require_columns(frame, unit, role="unit")
    require_finite(frame, list(cols), role="metric")
    arms_per_unit = frame.groupby(unit, sort=False, observed=True)[variant].nunique()
    mixed = int((arms_per_unit > 1).sum())
    if mixed:
        raise DataError(f"{mixed} unit(s) of {unit!r} appear in more than one arm of "
                        f"{variant!r}; a unit must be assigned to one arm")
    return frame.groupby([variant, unit], sort=False, observed=True)[list(cols)].sum() \
        .reset_index(level=0).reset_index(drop=True)


def _largest(values: np.ndarray) -> float:
    return max(-float(values.min()), float(values.max())) if len(values) else 0.0


def _range(values: np.ndarray) -> tuple[float, float]:
    return (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)


def check_underflow(metric: Metric, mom: Moments, largest: Callable[[str], float]) -> None:
    """Refuse columns whose values are so small that their (co)variances underflow float64.

    A variance of an arm's mean in ``(0, 1e-305)`` can only come from values of
    ~1e-150 or less (float64 cannot vary at that level around ordinary
    numbers), and a variance of exactly 0 with values below 1e-152 means the
    squares underflowed to 0; an arm of ordinary constant numbers is fine.
    """
    v = np.diagonal(mom.comoment, axis1=-2, axis2=-1) / np.maximum(mom.n, 1.0)[:, None] ** 2
    if not np.any((v < TINY_VARIANCE) & (mom.n > 0)[:, None]):
        return
    for j, column in enumerate(metric.columns):
        vj = v[mom.n > 0, j]
        big = largest(column)
        if np.any((vj > 0) & (vj < TINY_VARIANCE)) or (np.any(vj == 0) and 0.0 < big < 1e-152):
            raise DataError(
                f"metric {metric.name!r}: column {column!r} has values no larger than {big:.3g}, "
                "so small that their squares underflow float64 and no variance can be computed; "
                f"rescale it (e.g. multiply by 1e{-int(np.log10(big)) - 3})")


def _with_kind(m: Metric, kind: str) -> Metric:
    return dataclasses.replace(m, kind=kind)      # every other field (margins, guardrails) kept


def _is_binary(bounds: Callable[[], tuple[float, float]], mom: Moments) -> bool:
    """Whether a column is 0/1: ``E[x^2] = E[x]`` in every arm and its range within [0, 1].

    Checked on the moments first (population variance ``p (1 - p)``, relative
    tolerance 1e-9, no absolute one: values of 1e-150 are not a proportion),
    and only then on the column's minimum and maximum (``bounds()``, a pass
    over the rows that most metrics never need).
    """
    if np.all(mom.n == 0):
        return False
    p = mom.mean[:, 0]
    popvar = np.divide(mom.comoment[:, 0, 0], mom.n, out=np.zeros_like(p), where=mom.n > 0)
    if not np.allclose(popvar, p * (1 - p), rtol=1e-9, atol=0.0):   # relative only: scale-free
        return False
    lo, hi = bounds()
    return bool(lo >= 0 and hi <= 1)


def resolve_kind(metric: Metric, bounds: Callable[[], tuple[float, float]], mom: Moments
                 ) -> Metric:
    """``auto`` -> ``ratio`` with a denominator, ``proportion`` for a 0/1 column, else ``mean``.

    ``bounds()`` gives the minimum and maximum of the metric's (first) column.
    A declared ``proportion`` must be a 0/1 column.
    """
    if metric.kind == "proportion" and not _is_binary(bounds, mom):
        lo, hi = bounds()
        raise DataError(
            f"metric {metric.name!r} is declared kind='proportion' but column "
            f"{metric.column or metric.name!r} is not 0/1 (values from {lo:.4g} to "
            f"{hi:.4g}); use kind='mean' (Welch t) for a continuous metric")
    if metric.kind != "auto":
        return metric
    kind = "ratio" if metric.is_ratio else ("proportion" if _is_binary(bounds, mom) else "mean")
    return _with_kind(metric, kind)


def _check_counts(counts: np.ndarray, arms: Sequence[Any], what: str) -> None:
    """Counts are finite, whole and non-negative."""
    for bad, problem in ((~np.isfinite(counts), "a non-finite count"), (counts < 0, "a negative count"),
                         (counts != np.round(counts), "a fractional count")):
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{what}: arm {arms[i]!r} has {problem} ({counts[i]:g}); "
                            "a count of units must be a whole number >= 0")


def _check_successes(name: str, sums: np.ndarray, squares: np.ndarray, counts: np.ndarray,
                     arms: Sequence[Any]) -> None:
    """A proportion's successes are whole numbers in [0, n] and its sum of squares equals them."""
    bad = (sums < 0) | (sums > counts) | (sums != np.round(sums))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"proportion metric {name!r}: arm {arms[i]!r} has {sums[i]:g} successes "
                        f"out of {counts[i]:g} units; successes must be whole numbers between 0 "
                        "and the count")
    if not np.allclose(squares, sums, rtol=1e-12, atol=0):
        i = int(np.flatnonzero(~np.isclose(squares, sums, rtol=1e-12, atol=0))[0])
        raise DataError(f"proportion metric {name!r}: arm {arms[i]!r} has sum {sums[i]:g} but sum "
                        f"of squares {squares[i]:g}; for 0/1 values they are equal, so the values "
                        "are not 0/1 (declare the metric 'mean')")


def _comoment_from_sums(n: float, total: float, squares: float) -> tuple[float, bool]:
    """``sum(x^2) - sum(x)^2 / n`` and whether it is exact.

    Whole-number sums below 2^53 (counts, conversions, integer metrics) are
    exact in float64, so the difference is computed exactly in integers;
    otherwise it is a float difference that may carry rounding.
    """
    if all(float(v).is_integer() and abs(v) < 2.0 ** 53 for v in (n, total, squares)):
        return (int(n) * int(squares) - int(total) ** 2) / n, True
    return squares - total * (total / n), False


def _moments_from_sums(name: str, counts: np.ndarray, sums: np.ndarray, squares: np.ndarray,
                       arms: Sequence[Any]) -> Moments:
    """Moments of one variable from ``n, sum, sum of squares``, refusing impossible or lost variances."""
    mean = np.zeros(len(counts))
    comoment = np.zeros(len(counts))
    for i, (n, total, sq) in enumerate(zip(counts, sums, squares)):
        if n == 0:
            if total != 0 or sq != 0:
                raise DataError(f"metric {name!r}: arm {arms[i]!r} has 0 units but a non-zero sum")
            continue
        mean[i] = total / n
        comoment[i], exact = _comoment_from_sums(n, total, sq)
        if comoment[i] < (0.0 if exact else -PRECISION * abs(sq)):
            raise DataError(
                f"metric {name!r}: arm {arms[i]!r} has sum of squares {sq:.10g} below "
                f"sum^2 / n = {total * total / n:.10g}, a negative variance "
                f"({comoment[i] / max(n - 1, 1):.4g}); no data has that")
        if not exact and sq != 0 and abs(comoment[i]) <= PRECISION * abs(sq):
            raise DataError(
                f"metric {name!r}: in arm {arms[i]!r} the sum of squares and sum^2 / n agree to "
                "~10 significant digits, so the variance is lost to rounding (a large mean "
                "relative to the spread, or a constant arm of non-integer values); aggregate "
                "centred values (x - c for a typical c) or pass means and variances through "
                "Moments.from_mean_cov")
    return Moments(counts, mean[:, None], comoment[:, None, None], names=(name,))


def _check_possible(name: str, mom: Moments, metric: Metric, arms: Sequence[Any]) -> None:
    """Refuse moments no data could produce (see the module docstring)."""
    if mom.n.shape != (len(arms),):
        raise DataError(f"metric {name!r}: moments for {mom.n.shape} arms but {len(arms)} labels")
    _check_counts(mom.n, arms, f"metric {name!r}")
    full = mom.n > 0
    finite = np.all(np.isfinite(mom.mean), axis=-1) & np.all(np.isfinite(mom.comoment), axis=(-2, -1))
    if np.any(full & ~finite):
        i = int(np.flatnonzero(full & ~finite)[0])
        raise DataError(f"metric {name!r}: the moments of arm {arms[i]!r} are not finite")
    diag = np.diagonal(mom.comoment, axis1=-2, axis2=-1)
    if np.any(full[:, None] & (diag < 0)):
        i, j = np.argwhere(full[:, None] & (diag < 0))[0]
        var = diag[i, j] / max(mom.n[i] - 1, 1)
        raise DataError(f"metric {name!r}: arm {arms[i]!r} has a negative variance ({var:.4g}) "
                        f"of {(mom.names or metric.columns)[j]!r}; no data has that")
    if metric.kind == "proportion":
        p = mom.mean[:, 0]
        out = full & ((p < 0) | (p > 1))
        if np.any(out):
            i = int(np.flatnonzero(out)[0])
            raise DataError(f"proportion metric {name!r}: arm {arms[i]!r} has {p[i] * mom.n[i]:g} "
                            f"successes out of {mom.n[i]:g} units")
        popvar = np.divide(mom.comoment[:, 0, 0], mom.n, out=np.zeros_like(p), where=full)
        if not np.allclose(popvar, p * (1 - p), rtol=1e-9, atol=0.0):
            raise DataError(f"proportion metric {name!r}: the variances are not p (1 - p), so the "
                            "values are not 0/1; declare the metric 'mean'")
