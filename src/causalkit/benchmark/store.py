"""The resumable store: every fit appended to ``fits.csv`` in ``--out`` as it finishes.

A fit is identified by its dataset, replication, method and a fingerprint of
everything else that decides its result (the run's seed and alpha, the
adjustment rule, the method's options and the dataset's parameters), so a
rerun of the same command skips every stored fit and a changed option refits
only what it changes.  Floats are written with 17 significant digits and read
back exactly, so a resumed run returns the same numbers as an uninterrupted one.

Example
-------
>>> import tempfile
>>> store = ResultStore(tempfile.mkdtemp())
>>> store.add({"dataset": "d", "rep": 0, "method": "m", "fingerprint": "f", "estimate": 0.1})
>>> ResultStore(store.directory).done() == {("d", 0, "m", "f")}
True
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import DataError

FILENAME = "fits.csv"
KEY = ("dataset", "rep", "method", "fingerprint")


def fingerprint(**parts: Any) -> str:
    """A short stable hash of ``parts`` (JSON with sorted keys; objects by ``repr``).

    >>> fingerprint(seed=0, alpha=0.05) == fingerprint(alpha=0.05, seed=0)
    True
    """
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _cell(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else repr(float(value))
    if value is None:
        return ""
    return value


class ResultStore:
    """Append-only CSV of fit rows in ``directory`` (see the module docstring)."""

    def __init__(self, directory: str | os.PathLike[str], columns: Iterable[str] = ()) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILENAME
        self.columns = list(columns)
        self._existing = self.load()
        if len(self._existing) and not set(KEY) <= set(self._existing.columns):
            raise DataError(f"{self.path} is not a causalkit benchmark store (no "
                            f"{', '.join(KEY)} columns); use another --out")
        if self.columns and len(self._existing):
            missing = [c for c in self.columns if c not in self._existing.columns]
            if missing:
                raise DataError(f"{self.path} was written by another version of the benchmark "
                                f"(no {', '.join(missing)} columns); use another --out")

    def load(self) -> pd.DataFrame:
        """Every stored row (an empty frame when nothing is stored)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return pd.DataFrame(columns=self.columns or list(KEY))
        try:
            exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {
                "float_precision": "round_trip"}  # pandas 3 reads floats exactly by default
            frame = pd.read_csv(self.path, keep_default_na=False, na_values=[""], **exact)
        except (pd.errors.ParserError, UnicodeDecodeError) as err:
            raise DataError(f"cannot read the benchmark store {self.path}: {err}") from None
        return frame

    def done(self) -> set[tuple[str, int, str, str]]:
        """Keys of the stored fits."""
        frame = self._existing
        return {(str(d), int(r), str(m), str(f)) for d, r, m, f in
                zip(frame["dataset"], frame["rep"], frame["method"], frame["fingerprint"])}

    def rows(self, keys: set[tuple[str, int, str, str]]) -> pd.DataFrame:
        """The stored rows whose key is in ``keys`` (the last one written, if repeated)."""
        frame = self._existing
        if not len(frame):
            return frame
        mask = [(str(d), int(r), str(m), str(f)) in keys for d, r, m, f in
                zip(frame["dataset"], frame["rep"], frame["method"], frame["fingerprint"])]
        return frame[mask].drop_duplicates(list(KEY), keep="last")

    def add(self, row: Mapping[str, Any]) -> None:
        """Append one fit row now (the header is written with the first row)."""
        columns = self.columns or list(row)
        self.directory.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(columns)
            writer.writerow([_cell(row.get(c)) for c in columns])
            handle.flush()
