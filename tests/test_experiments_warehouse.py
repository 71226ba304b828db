"""Experiments where the data live: Ibis/DuckDB tables aggregated in the database, and any dataframe.

The database path (two aggregate queries, only per-arm numbers pulled) is
checked against the pandas path on the same rows; polars, pyarrow and DuckDB
relations against pandas exactly; the bad inputs the pandas path rejects are
rejected with the same error types, names checked before any query runs.
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from causalkit.errors import ColumnNotFoundError, DataError, NonNumericColumnError
from causalkit.experiments import Metric, analyze

ibis = pytest.importorskip("ibis", reason="the database path needs ibis-framework[duckdb] (test extra)")
duckdb = pytest.importorskip("duckdb")

COLS = ["estimate", "std_error", "p_value", "ci_low", "ci_high", "relative", "relative_ci_low",
        "relative_ci_high"]
METRICS = ["revenue", "converted", "items", Metric("ctr", column="clicks", denominator="sessions"),
           Metric("revenue_cuped", column="revenue", covariate="pre_revenue")]


def _events_sql(n: int) -> str:
    """Rows generated inside DuckDB from one hash per row (deterministic, so both passes agree)."""
    return f"""SELECT (i % 3) AS arm, i % {max(n // 4, 3) // 3 * 3} AS user_id,
        (h % 1000000) / 1e5 + 0.3 * (i % 3) AS revenue,
        ((h >> 20) % 100 < 30 + (i % 3))::TINYINT AS converted,
        ((h >> 27) % 5)::INT AS clicks, (1 + (h >> 30) % 3)::INT AS sessions,
        ((h % 1000000) / 1e5) * 0.5 + ((h >> 33) % 100000) / 1e4 AS pre_revenue,
        ((h >> 40) % 50)::DOUBLE AS items
        FROM (SELECT i, hash(i) AS h FROM range({n}) r(i))"""


@pytest.fixture(scope="module")
def table():
    con = ibis.duckdb.connect()
    con.raw_sql(f"CREATE TABLE ev AS {_events_sql(60_000)}")
    return con.table("ev")


def _same(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-9) -> None:
    assert list(a["metric"]) == list(b["metric"]) and list(a["arm"]) == list(b["arm"])
    assert list(a["kind"]) == list(b["kind"])
    np.testing.assert_allclose(a[COLS].to_numpy(float), b[COLS].to_numpy(float), rtol=rtol, atol=1e-12)
    assert (a["n_control"] == b["n_control"]).all()


def test_database_path_equals_the_pandas_path(table):
    db = analyze(table, "arm", METRICS, control=0)
    rows = analyze(table.execute(), "arm", METRICS, control=0)
    _same(db.table, rows.table)
    assert list(db.table.groupby("metric", sort=False)["kind"].first()) == \
        ["mean", "proportion", "mean", "ratio", "mean"]
    # one scan: the shift from a LIMIT of rows, then one aggregate query
    assert len(db.sql) == 2 and "LIMIT" in db.sql[0] and "GROUP BY" in db.sql[1]
    assert rows.sql == ()
    assert db.table.loc[db.table.metric == "revenue_cuped", "variance_reduction"].min() > 0.1


def test_events_summed_per_unit_in_the_database_equal_pandas(table):
    ratio = [Metric("ctr", column="clicks", denominator="sessions"), "revenue"]
    db = analyze(table, "arm", ratio, control=0, unit="user_id")
    rows = analyze(table.execute(), "arm", ratio, control=0, unit="user_id")
    _same(db.table, rows.table)
    assert db.table["n_control"].iloc[0] == 5_000          # units, not events
    per_user = table.execute().groupby(["arm", "user_id"], as_index=False)[["clicks", "sessions"]].sum()
    direct = analyze(per_user, "arm", ratio[:1], control=0)
    _same(db.table.iloc[:2], direct.table)
    assert len(db.sql) == 3                                # the arm-mixing check, then two passes


def test_precision_of_a_large_mean_is_kept():
    # raw sums of squares lose a variance of 1 around a mean of 1e8; the two-pass queries do not
    con = ibis.duckdb.connect()
    t = con.sql("SELECT i % 2 AS arm, 1e8 + (hash(i) % 1000) / 100.0 AS y FROM range(20000) r(i)")
    db = analyze(t, "arm", "y", control=0).table
    rows = analyze(t.execute(), "arm", "y", control=0).table
    assert db["std_error"].iloc[0] == pytest.approx(rows["std_error"].iloc[0], rel=1e-9)
    # the difference of two means of 1e8 carries float64's resolution there (1.5e-8)
    assert db["estimate"].iloc[0] == pytest.approx(rows["estimate"].iloc[0], abs=5e-8)


def test_arms_far_from_the_sampled_shift_fall_back_to_two_passes():
    """The shift comes from the first rows; sorted by arm, they are all arm 0 (mean 1e8), so
    arm 1 (mean 0, SD 0.01) lies 1e10 SDs from it: one-pass sums would lose its variance
    entirely, so the arms' exact means are used in a second pass."""
    con = ibis.duckdb.connect()
    t = con.sql("SELECT (i >= 5000)::INT AS arm, CASE WHEN i < 5000 THEN 1e8 + (hash(i) % 1000)"
                " / 100.0 ELSE (hash(i) % 1000) / 1e5 END AS y FROM range(10000) r(i) ORDER BY i")
    db = analyze(t, "arm", "y", control=0)
    rows = analyze(t.execute(), "arm", "y", control=0).table
    assert len(db.sql) == 3 and "LIMIT" in db.sql[0]
    assert db.table["std_error"].iloc[0] == pytest.approx(rows["std_error"].iloc[0], rel=1e-9)
    treated = t.execute().query("arm == 1")["y"]
    st = db.stats.moments["y"]
    assert np.sqrt(st.comoment[1, 0, 0] / (st.n[1] - 1)) == pytest.approx(treated.std(), rel=1e-9)


@pytest.mark.parametrize("kind", ["polars", "pyarrow", "duckdb"])
def test_other_dataframes_equal_pandas_exactly(table, kind):
    df = table.execute()
    if kind == "polars":
        pl = pytest.importorskip("polars")
        native = pl.from_pandas(df)
    elif kind == "pyarrow":
        pa = pytest.importorskip("pyarrow")
        native = pa.Table.from_pandas(df)
    else:
        native = duckdb.from_df(df)
    a = analyze(native, "arm", METRICS, control=0).table
    b = analyze(df, "arm", METRICS, control=0).table
    pd.testing.assert_frame_equal(a, b)


def test_polars_numeric_columns_are_not_copied():
    pl = pytest.importorskip("polars")
    from causalkit.validation import as_dataframe

    frame = pl.DataFrame({"arm": np.arange(1000) % 2, "y": np.arange(1000.0), "z": np.ones(1000)})
    out = as_dataframe(frame, columns=["arm", "y"])
    assert list(out.columns) == ["arm", "y"]                 # only what is needed
    assert np.shares_memory(out["y"].to_numpy(), frame["y"].to_numpy())


class _NoQuery:
    """Make any query an error: checks that must run before the database is touched."""

    def __init__(self, monkeypatch):
        from ibis.expr.types import Table

        def refuse(*args, **kwargs):
            raise AssertionError("a query ran before the names and types were checked")
        monkeypatch.setattr(Table, "execute", refuse)


def test_bad_names_and_types_fail_before_any_query(table, monkeypatch):
    _NoQuery(monkeypatch)
    with pytest.raises(ColumnNotFoundError, match="revenu.*did you mean 'revenue'"):
        analyze(table, "arm", ["revenu"], control=0)
    with pytest.raises(ColumnNotFoundError, match="variant"):
        analyze(table, "armm", ["revenue"], control=0)
    with pytest.raises(ColumnNotFoundError, match="unit"):
        analyze(table, "arm", ["revenue"], control=0, unit="usr")
    con = ibis.duckdb.connect()
    text = con.sql("SELECT i % 2 AS arm, 'a' || i::VARCHAR AS label FROM range(10) r(i)")
    with pytest.raises(NonNumericColumnError, match="label"):
        analyze(text, "arm", ["label"], control=0)


@pytest.mark.parametrize("sql, match", [
    ("SELECT i % 2 AS arm, CASE WHEN i = 3 THEN NULL ELSE i * 1.0 END AS y FROM range(100) r(i)",
     "missing value"),
    ("SELECT i % 2 AS arm, CASE WHEN i = 3 THEN 'nan'::DOUBLE ELSE i * 1.0 END AS y FROM range(100) r(i)",
     "NaN or infinite"),
    ("SELECT i % 2 AS arm, CASE WHEN i = 3 THEN 'inf'::DOUBLE ELSE i * 1.0 END AS y FROM range(100) r(i)",
     "NaN or infinite"),
    ("SELECT 1 AS arm, i * 1.0 AS y FROM range(100) r(i)", "only one arm"),
    ("SELECT CASE WHEN i = 5 THEN NULL ELSE i % 2 END AS arm, i * 1.0 AS y FROM range(100) r(i)",
     "missing values"),
])
def test_bad_data_in_the_database_is_refused_as_in_pandas(sql, match):
    t = ibis.duckdb.connect().sql(sql)
    with pytest.raises(DataError, match=match):
        analyze(t, "arm", ["y"], control=0)
    with pytest.raises(DataError):                       # the pandas path refuses the same rows
        analyze(t.execute(), "arm", ["y"], control=0)


def test_declared_proportion_and_mixed_units_are_refused():
    t = ibis.duckdb.connect().sql("SELECT i % 2 AS arm, i % 5 AS u, (i % 3)::DOUBLE AS y "
                                  "FROM range(300) r(i)")
    with pytest.raises(DataError, match="kind='proportion'.*not 0/1"):
        analyze(t, "arm", [Metric("y", kind="proportion")], control=0)
    with pytest.raises(DataError, match="more than one arm"):
        analyze(t, "arm", ["y"], control=0, unit="u")
    with pytest.raises(DataError, match="more than one arm"):
        analyze(t.execute(), "arm", ["y"], control=0, unit="u")


def test_hundred_million_rows_in_duckdb_with_little_python_memory():
    # 10^8 rows generated inside DuckDB (a view: each pass recomputes the deterministic rows),
    # 3 arms, 5 metrics incl. a ratio and a CUPED metric; only aggregates reach Python
    n = 100_000_000
    con = ibis.duckdb.connect()
    con.raw_sql(f"CREATE VIEW big AS {_events_sql(n)}")
    big = con.table("big")
    tracemalloc.start()
    try:
        res = analyze(big, "arm", METRICS, control=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 300e6, f"peak Python memory {peak / 1e6:.0f} MB"
    assert int(res.table["n_control"].iloc[0]) + 2 * int(res.table["n_treatment"].iloc[0]) \
        == pytest.approx(n, abs=2)
    # equal to the pandas path on a sample: the view's first 300,000 rows, through both paths
    first = big.limit(300_000).cache()
    _same(analyze(first, "arm", METRICS, control=0).table,
          analyze(first.execute(), "arm", METRICS, control=0).table)


def test_cli_reads_parquet_and_duckdb_tables(tmp_path, table):
    df = table.execute()
    parquet = tmp_path / "ev.parquet"
    db = tmp_path / "ev.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE events AS SELECT * FROM df")
    con.execute(f"COPY events TO '{parquet}' (FORMAT PARQUET)")
    con.close()
    csv = tmp_path / "ev.csv"
    df.to_csv(csv, index=False)
    base = [sys.executable, "-m", "causalkit", "ab", "--variant", "arm", "--metric", "revenue",
            "--ratio", "ctr=clicks/sessions", "--control", "0", "--csv"]
    runs = {}
    for name, source in [("csv", ["--data", str(csv)]), ("parquet", ["--data", str(parquet)]),
                         ("duckdb", ["--duckdb", str(db), "--table", "events"])]:
        out = subprocess.run(base + source, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        runs[name] = pd.read_csv(pd.io.common.StringIO(out.stdout))
    _same(runs["parquet"], runs["csv"], rtol=1e-9)
    _same(runs["duckdb"], runs["csv"], rtol=1e-9)
    sql = subprocess.run(base[:-1] + ["--duckdb", str(db), "--table", "events", "--sql"],
                         capture_output=True, text=True)
    assert sql.returncode == 0 and "GROUP BY" in sql.stdout
    bad = subprocess.run(base + ["--duckdb", str(db), "--table", "event"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "did you mean 'events'" in bad.stderr
    bad = subprocess.run(base + ["--duckdb", str(db)], capture_output=True, text=True)
    assert bad.returncode == 2 and "--table" in bad.stderr
