"""Staggered-adoption data shared by the event-study tests."""

import pandas as pd
import pytest


def castle_with_cohorts() -> pd.DataFrame:
    """causaldata's castle with ``g``, the first year its ``post`` is 1 (0: never), and
    integer ids and years (as pyfixest's event studies want); skips without causaldata."""
    causaldata = pytest.importorskip("causaldata")
    d = causaldata.castle.load_pandas().data
    first = d[d.post > 0].groupby("sid").year.min()
    return d.assign(g=d.sid.map(first).fillna(0).astype("int64"),
                    year=d.year.astype("int64"), sid=d.sid.astype("int64"))
