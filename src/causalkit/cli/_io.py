"""Helpers shared by the sub-commands: reading the data file and KEY=VALUE flags.

>>> parse_pairs(["a=1", "b = x"], "--option")
{'a': '1', 'b': 'x'}
>>> parse_value("0.5"), parse_value("true"), parse_value("HC1")
(0.5, True, 'HC1')
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import DataError


def read_csv(path: str) -> pd.DataFrame:
    """Read a CSV file, turning I/O and parse failures into a :class:`DataError`."""
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"cannot read CSV file {path!r}: {err}") from None


def parse_value(text: str) -> Any:
    """Interpret a command-line value as int, float, bool, None or a string."""
    for caster in (int, float):
        try:
            return caster(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    return text


def parse_pairs(items: list[str], flag: str) -> dict[str, str]:
    """Split ``KEY=VALUE`` items into a dict of stripped strings."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise DataError(f"{flag} {item!r} must look like KEY=VALUE")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out
