"""Helpers shared by the sub-commands: reading input files, KEY=VALUE flags and typed options.

>>> parse_pairs(["a=1", "b = x"], "--option")
{'a': '1', 'b': 'x'}
>>> from causalkit import registry
>>> method_options(registry.get("regression_adjustment"), {"interacted": "no"})
{'interacted': False}
>>> positive_int("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be a positive integer, got '0'
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..errors import DataError, OptionError
from ..option_text import guess
from ..registry import EstimatorSpec


def _not_utf8(path: str, err: UnicodeDecodeError) -> str:
    return (f"{path!r}: it is not UTF-8 text (byte 0x{err.object[err.start]:02x} cannot be "
            "decoded); re-save it with UTF-8 encoding")


def read_csv(path: str) -> pd.DataFrame:
    """Read a CSV file, turning I/O, encoding and parse failures into a :class:`DataError`."""
    try:
        return pd.read_csv(path)
    except UnicodeDecodeError as err:
        raise DataError(f"cannot read CSV file {_not_utf8(path, err)}") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise DataError(f"cannot read CSV file {path!r}: {reason}") from None


def read_text(path: str, what: str) -> str:
    """The text of a UTF-8 file; a :class:`DataError` naming ``what`` and the reason if not."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"cannot read {what} {_not_utf8(path, err)}") from None
    except OSError as err:
        raise DataError(f"cannot read {what} {path!r}: {err.strerror or err}") from None


def parse_pairs(items: list[str], flag: str) -> dict[str, str]:
    """Split ``KEY=VALUE`` items into a dict of stripped strings; a key given twice is an error."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise OptionError(f"{flag} {item!r} must look like KEY=VALUE")
        if key in out:
            raise OptionError(f"{flag} {key} is given twice ({out[key]!r} and {value.strip()!r})")
        out[key] = value.strip()
    return out


def method_options(spec: EstimatorSpec, pairs: Mapping[str, str],
                   flag: str = "--option ") -> dict[str, Any]:
    """The values of a method's ``KEY=VALUE`` options, each parsed by the option's type.

    ``flag`` prefixes the name in messages (``"--option "``, ``"--option ipw."``).
    A name the method does not take is left to the registry's check (which
    suggests the closest name); its value, like that of an option typed
    ``Any``, is guessed.
    """
    by_name = {o.name: o for o in spec.options}
    out: dict[str, Any] = {}
    for key, text in pairs.items():
        if key not in by_name:
            out[key] = guess(text)
            continue
        try:
            out[key] = by_name[key].parse(text)
        except OptionError as err:
            raise OptionError(f"{flag}{key}={text}: method {spec.name!r}, {err}") from None
    return out


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    return _int_at_least(text, 0, "a non-negative integer")


def _int_at_least(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value
