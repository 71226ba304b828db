"""The warehouse path on Spark (local mode, through Ibis' pyspark backend) equals the pandas path.

Needs pyspark, ``ibis-framework[pyspark]`` and a Java runtime; skipped with a
message otherwise (pyspark is not in the test extra: it is a 300 MB wheel and
a Spark session takes seconds to start).
"""

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from causalkit.errors import ColumnNotFoundError, DataError
from causalkit.experiments import Metric, analyze

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install pyspark "
                    "'ibis-framework[pyspark]'); the Spark test of the warehouse path is skipped")
ibis = pytest.importorskip("ibis", reason="ibis-framework is not installed")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("no Java runtime (java on PATH or JAVA_HOME) for Spark; the Spark test of the "
                "warehouse path is skipped", allow_module_level=True)

COLS = ["estimate", "std_error", "p_value", "ci_low", "ci_high", "relative", "relative_ci_low",
        "relative_ci_high"]
METRICS = ["revenue", "converted", Metric("ctr", column="clicks", denominator="sessions"),
           Metric("revenue_cuped", column="revenue", covariate="pre_revenue")]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    try:
        import ibis.backends.pyspark  # noqa: F401
    except ImportError as err:
        pytest.skip(f"Ibis' pyspark backend is not importable ({err}); "
                    "pip install 'ibis-framework[pyspark]'")
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (SparkSession.builder.master("local[1]").appName("causalkit-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
               .config("spark.driver.memory", "1g").config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _table(session, name, frame):
    """An Ibis table over a Spark temporary view of ``frame`` (nothing is written to disk)."""
    session.createDataFrame(frame).createOrReplaceTempView(name)
    return ibis.pyspark.connect(session).table(name)


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(4)
    n = 6000
    arm = rng.integers(0, 3, n)
    user = rng.integers(0, 1500, n) * 3 + arm            # a user is in one arm
    pre = rng.gamma(2.0, 5.0, n)
    return pd.DataFrame({
        "arm": arm, "user_id": user, "pre_revenue": pre,
        "revenue": 0.6 * pre + rng.normal(3 + 0.4 * arm, 4.0),
        "converted": rng.binomial(1, 0.2 + 0.02 * arm).astype(np.int64),
        "clicks": rng.poisson(2.0 + 0.1 * arm), "sessions": rng.integers(1, 6, n)})


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a["metric"]) == list(b["metric"]) and list(a["arm"]) == list(b["arm"])
    assert list(a["kind"]) == list(b["kind"])
    assert (a["n_control"] == b["n_control"]).all() and (a["n_treatment"] == b["n_treatment"]).all()
    # Spark sums in another order than numpy: agreement to rounding of 6,000-term sums
    np.testing.assert_allclose(a[COLS].to_numpy(float), b[COLS].to_numpy(float), rtol=1e-9,
                               atol=1e-12)


def test_spark_table_equals_the_pandas_path(spark, events):
    table = _table(spark, "ab_events", events)
    db = analyze(table, "arm", METRICS, control=0)
    _same(db.table, analyze(events, "arm", METRICS, control=0).table)
    assert len(db.sql) == 2 and all("GROUP BY" in q.upper() for q in db.sql)
    # events summed per user inside Spark, as pandas does
    per_unit = analyze(table, "arm", METRICS, control=0, unit="user_id")
    _same(per_unit.table, analyze(events, "arm", METRICS, control=0, unit="user_id").table)


def test_spark_bad_input_fails_as_in_pandas(spark, events):
    table = _table(spark, "ab_events_bad", events.assign(arm=0))
    with pytest.raises(ColumnNotFoundError, match="nosuch"):
        analyze(table, "arm", ["nosuch"], control=0)
    with pytest.raises(DataError, match="only one arm"):
        analyze(table, "arm", ["revenue"], control=0)
