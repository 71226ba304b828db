"""Experiments where the data live: per-arm statistics computed inside the database (Ibis).

Experimentation platforms never pull user-level rows: they aggregate per arm
in the warehouse and analyse the aggregates.  :func:`stats_from_table` does the
same for any `Ibis <https://ibis-project.org>`_ table (DuckDB is the embedded
default; Postgres, Spark, BigQuery, Snowflake, Trino, ... through Ibis
backends).  Without ``unit=`` it reads the table once:

1. a shift per column from at most :data:`SHIFT_ROWS` rows (``LIMIT``: no scan);
2. one aggregate query, per arm: the number of units, every column's count of
   non-missing values, minimum and maximum, which check the data (missing
   values, 0/1 columns for proportions; a NaN or infinite value makes the
   minimum or maximum non-finite, and only then are they counted, in one more
   query) before any test; and the sums of the shifted values and of their
   products.  Shifted sums keep the variance of a metric of mean 1e8 and
   standard deviation 1 (raw sums of squares lose it): their relative rounding
   error is about 1e-16 (1 + (offset / sd)^2), for the offset of the arm's mean
   from the shift.  When an offset exceeds :data:`MAX_SHIFT_OFFSET` standard
   deviations (a sample of rows unlike an arm), a second pass centres on the
   arms' exact means instead (the two-pass algorithm with its rounding
   correction).

With ``unit=``, rows are events: they are first summed per unit (``GROUP BY
variant, unit`` inside the database), and the moments are over units, which
is what ratio metrics (clicks per session per user) and clustered metrics
need; a unit seen in two arms is an error.  The per-unit sums are then read twice
(the aggregate query, then the two-pass centring on the arms' means), since a
sample of them would cost the grouping itself.  Only the aggregates (a few numbers
per arm) reach Python, so a table of 10^9 events costs kilobytes of memory.
The SQL that ran is returned (``ExperimentResult.sql``), as platforms show
their users.

Names and types are checked against the table's schema before any query
runs, with the same error types as the pandas path.

Example
-------
>>> import ibis                                    # doctest: +SKIP
>>> con = ibis.duckdb.connect()                    # doctest: +SKIP
>>> t = con.sql("SELECT i % 2 AS arm, (i % 7) * 1.0 AS y FROM range(1000) r(i)")  # doctest: +SKIP
>>> st, sql = stats_from_table(t, "arm", "y")      # doctest: +SKIP
>>> st.moments["y"].n.tolist()                     # doctest: +SKIP
[500.0, 500.0]
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, NonNumericColumnError, OptionError
from ..validation import require_columns
from .aggregates import ExperimentStats, as_metrics, check_underflow, resolve_kind
from .metrics import Metric
from .stats import Moments

__all__ = ["is_ibis_table", "stats_from_table"]

#: Rows read (``LIMIT``) for the shift of the one-pass sums.
SHIFT_ROWS = 1000

#: The largest offset of an arm's mean from the shift, in its standard deviations, that
#: the one-pass sums accept (relative rounding error of the variance about 1e-16 * 1e6).
MAX_SHIFT_OFFSET = 1e3


def is_ibis_table(obj: Any) -> bool:
    """Whether ``obj`` is an Ibis table expression (without importing Ibis when it is not loaded)."""
    import sys

    if "ibis" not in sys.modules:
        return False
    from ibis.expr.types import Table

    return isinstance(obj, Table)


def _check_schema(table: Any, variant: str, columns: Sequence[str], unit: str | None) -> None:
    """Names and types against the schema, before any query (the pandas path's error types)."""
    schema = table.schema()
    names = pd.DataFrame(columns=list(schema.names))
    require_columns(names, variant, role="variant")
    if unit is not None:
        require_columns(names, unit, role="unit")
    require_columns(names, list(columns), role="metric")
    for c in columns:
        dtype = schema[c]
        if not (dtype.is_numeric() or dtype.is_boolean()):
            raise NonNumericColumnError(f"metric column {c!r} must be numeric, but has type "
                                        f"{dtype} in the table")


def _float(table: Any, c: str) -> Any:
    return table[c].cast("float64")


def _per_unit(table: Any, variant: str, unit: str, columns: Sequence[str]) -> tuple[Any, Any]:
    """Rows summed per (arm, unit), and a query counting units seen in more than one arm."""
    per_unit = table.group_by([variant, unit]).aggregate(
        **{f"c{j}": _float(table, c).sum() for j, c in enumerate(columns)})
    mixed = per_unit.group_by(unit).aggregate(arms=per_unit[variant].nunique())
    return per_unit, mixed.filter(mixed.arms > 1).count()


def _first_pass(table: Any, variant: str, columns: Sequence[str],
                pairs: Sequence[tuple[int, int]] = (), shift: Sequence[float] | None = None
                ) -> Any:
    """Counts, means, minima and maxima per arm; with ``shift``, also the sums of the
    shifted values (``resid{j}``) and of their products over ``pairs`` (``com{j}_{l}``),
    the shifted values computed once per row in a subquery."""
    import ibis

    base = table if shift is None else table.select(variant, *columns, **{
        f"dev{j}": _float(table, c) - ibis.literal(float(shift[j]), "float64")
        for j, c in enumerate(columns)})
    aggs: dict[str, Any] = {"n": base.count()}
    for j, c in enumerate(columns):
        x = _float(base, c)
        if shift is None:                  # with a shift the mean is shift + resid / n
            aggs[f"mean{j}"] = x.mean()
        aggs[f"count{j}"] = base[c].count()
        aggs[f"min{j}"] = x.min()
        aggs[f"max{j}"] = x.max()
    if shift is not None:
        for j in range(len(columns)):
            aggs[f"resid{j}"] = base[f"dev{j}"].sum()
        for j, l in pairs:
            aggs[f"com{j}_{l}"] = (base[f"dev{j}"] * base[f"dev{l}"]).sum()
    return base.group_by(variant).aggregate(**aggs).order_by(variant)


def _shift_query(table: Any, columns: Sequence[str]) -> Any:
    """At most :data:`SHIFT_ROWS` rows of the columns, as floats (a ``LIMIT``, no scan)."""
    return table.select(*[_float(table, c).name(f"s{j}") for j, c in enumerate(columns)]
                        ).limit(SHIFT_ROWS)


def _shift_values(sample: pd.DataFrame, k: int) -> list[float]:
    """Per-column mean of the sampled rows' finite values (0 where there is none)."""
    values = sample.to_numpy(float).reshape(len(sample), k)
    out = []
    for j in range(k):
        finite = values[:, j][np.isfinite(values[:, j])]
        out.append(float(finite.mean()) if finite.size else 0.0)
    return out


def _far_from_shift(n: np.ndarray, mean: np.ndarray, resid: np.ndarray, sq: np.ndarray) -> bool:
    """Whether an arm's mean lies more than :data:`MAX_SHIFT_OFFSET` standard deviations
    from the shift (or a column is constant in an arm away from it)."""
    safe = np.maximum(n, 1.0)[:, None]
    offset = np.abs(resid / safe)
    var = np.maximum(sq / safe - offset ** 2, 0.0)
    scale = np.maximum(np.abs(mean), 1.0)
    return bool(np.any((offset > MAX_SHIFT_OFFSET * np.sqrt(var)) & (offset > 1e-12 * scale)))


def _count_nonfinite(table: Any, column: str) -> int:
    """NaN and infinite values of a floating column (run only once the first pass saw one)."""
    x = table[column]
    return int((x.isnan() | x.isinf()).cast("int64").sum().execute())


def _second_pass(table: Any, variant: str, columns: Sequence[str], pairs: Sequence[tuple[int, int]],
                 means: Mapping[Any, Sequence[float]]) -> Any:
    import ibis

    arms = list(means)
    dev = {}
    for j, c in enumerate(columns):
        # typed DOUBLE literals and ELSE: a bare literal is a SQL DECIMAL, and a CASE of
        # DECIMALs with the variant as ELSE is evaluated in DECIMAL arithmetic (DuckDB: 12x slower)
        centre = table[variant].substitute(
            {a: ibis.literal(float(means[a][j]), "float64") for a in arms},
            else_=ibis.literal(float("nan"), "float64"))
        dev[f"dev{j}"] = _float(table, c) - centre
    # the deviations in a subquery, each computed once per row (written inside the sums, the
    # CASE would be evaluated once per product)
    d = table.select(variant, **dev)
    aggs: dict[str, Any] = {}
    for j in range(len(columns)):
        aggs[f"resid{j}"] = d[f"dev{j}"].sum()
    for j, l in pairs:
        aggs[f"com{j}_{l}"] = (d[f"dev{j}"] * d[f"dev{l}"]).sum()
    return d.group_by(variant).aggregate(**aggs).order_by(variant)


def _sql(expr: Any) -> str:
    import ibis

    return str(ibis.to_sql(expr))


def stats_from_table(table: Any, variant: str, metrics: str | Metric | Sequence[str | Metric],
                     unit: str | None = None) -> tuple[ExperimentStats, tuple[str, ...]]:
    """Per-arm :class:`ExperimentStats` of an Ibis table, computed in its database.

    Returns the statistics and the SQL of the queries that ran (in order).
    ``unit`` sums event rows per unit first (see the module docstring).
    """
    mets = as_metrics(metrics)
    if not isinstance(variant, str):
        raise OptionError(f"variant must be a column name, got {variant!r}")
    columns = sorted({c for m in mets for c in m.columns})
    _check_schema(table, variant, columns, unit)
    sqls: list[str] = []
    source = table
    if unit is not None:
        source, mixed = _per_unit(table, variant, unit, columns)
        sqls.append(_sql(mixed))
        n_mixed = int(mixed.execute())
        if n_mixed:
            raise DataError(f"{n_mixed} unit(s) of {unit!r} appear in more than one arm of "
                            f"{variant!r}; a unit must be assigned to one arm")
        names = [f"c{j}" for j in range(len(columns))]
    else:
        names = list(columns)
    index = {c: j for j, c in enumerate(columns)}
    pairs = sorted({(min(index[a], index[b]), max(index[a], index[b]))
                    for m in mets for a in m.columns for b in m.columns})
    shift = None
    if unit is None:
        sample = _shift_query(source, names)
        sqls.append(_sql(sample))
        shift = _shift_values(sample.execute(), len(names))
    first = _first_pass(source, variant, names, pairs, shift)
    sqls.append(_sql(first))
    one = first.execute()
    if one[variant].isna().any():
        raise DataError(f"variant column {variant!r} has missing values; every unit needs an arm")
    arms = list(one[variant])
    if len(arms) < 2:
        raise DataError(f"variant column {variant!r} has only one arm ({arms[0]!r}); an "
                        "experiment needs a control and at least one treatment")
    n = one["n"].to_numpy(float)
    for j, c in enumerate(columns):
        missing = n - one[f"count{j}"].to_numpy(float)
        if missing.sum():
            raise DataError(f"metric column {c!r} has {int(missing.sum())} missing value(s) in "
                            "the table; drop or impute them before the analysis")
        # a NaN or infinity makes the minimum or maximum non-finite (NaN is the largest value
        # in SQL orderings); only then is it counted
        seen = one[[f"min{j}", f"max{j}"]].to_numpy(float)
        if source.schema()[names[j]].is_floating() and not np.isfinite(seen).all():
            bad = _count_nonfinite(source, names[j])
            if bad:
                raise DataError(f"metric column {c!r} has {bad} NaN or infinite value(s) in "
                                "the table")
            raise DataError(f"metric column {c!r}: its sum overflows double precision in the "
                            "database; rescale it")
    safe_n = np.maximum(n, 1.0)
    means = {a: [float(one[f"mean{j}"].iloc[i]) if shift is None else
                 shift[j] + float(one[f"resid{j}"].iloc[i]) / safe_n[i]
                 for j in range(len(columns))] for i, a in enumerate(arms)}
    two, centre = one, {a: list(shift) for a in arms} if shift is not None else means
    if shift is None or _far_from_shift(
            n, np.array([means[a] for a in arms]),
            np.column_stack([one[f"resid{j}"].to_numpy(float) for j in range(len(names))]),
            np.column_stack([one[f"com{j}_{j}"].to_numpy(float) for j in range(len(names))])):
        second = _second_pass(source, variant, names, pairs, means)   # centred on the arms' means
        sqls.append(_sql(second))
        two, centre = second.execute(), means
        if list(two[variant]) != arms:
            raise DataError("the table changed between the two aggregate queries (arms differ)")
    moments, resolved = {}, {}
    for m in mets:
        idx = [index[c] for c in m.columns]
        k = len(idx)
        mean = np.array([[centre[a][j] for j in idx] for a in arms])
        com = np.empty((len(arms), k, k))
        resid = np.column_stack([two[f"resid{j}"].to_numpy(float) for j in idx])
        for p, j in enumerate(idx):
            for q, l in enumerate(idx):
                a, b = min(j, l), max(j, l)
                com[:, p, q] = two[f"com{a}_{b}"].to_numpy(float)
        safe = np.maximum(n, 1.0)
        com -= resid[:, :, None] * resid[:, None, :] / safe[:, None, None]   # two-pass correction
        mean = mean + resid / safe[:, None]
        mom = Moments(n.copy(), mean, com, m.columns)
        check_underflow(m, mom, lambda c: float(np.max(np.abs(one[[f"min{index[c]}",
                                                                    f"max{index[c]}"]].to_numpy(float)))))
        first_col = index[m.columns[0]]
        bounds = (float(one[f"min{first_col}"].min()), float(one[f"max{first_col}"].max()))
        moments[m.name] = mom
        resolved[m.name] = resolve_kind(m, lambda b=bounds: b, mom)
    return ExperimentStats(tuple(arms), moments, resolved), tuple(sqls)
