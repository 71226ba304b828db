"""Option values written as text (the command line), parsed by the option's type.

An estimator's options carry their annotation as written in its signature
(:class:`causalkit.options.OptionSpec.annotation`, e.g. ``"bool"``,
``"float | None"``, ``"float | tuple[float, float] | None"``).
:func:`parse_text` turns a command-line string into a value of that type, or
raises :class:`~causalkit.errors.OptionError` saying what was expected: a
boolean is one of true/false, 1/0, yes/no; an ``int`` must be a whole number; a
``float`` a number; ``None`` is written ``none``.  Only an option typed ``Any``
(or with no annotation and no default to infer one from, or with types that
text cannot express) is guessed: a number, true/false, none, else the string.

Example
-------
>>> parse_text("bool", "no"), parse_text("int", "3"), parse_text("float | None", "None")
(False, 3, None)
>>> parse_text("float | tuple[float, float] | None", "0.5, 2")
(0.5, 2.0)
>>> parse_text("Any", "HC1"), parse_text("Any", "0.5")
('HC1', 0.5)
>>> parse_text("bool", "maybe")
Traceback (most recent call last):
...
causalkit.errors.OptionError: expected a boolean (true/false, 1/0 or yes/no), got 'maybe'
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any, Callable

from .errors import OptionError

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
#: Annotations that say nothing about the value: the text is guessed.
_UNTYPED = ("", "Any", "typing.Any", "object")
_SEQUENCES = ("tuple", "list", "Sequence", "Iterable", "typing.Sequence", "collections.abc.Sequence")


def guess(text: str) -> Any:
    """Today's guess for an untyped value: int, float, true/false, none, else the string.

    >>> guess("3"), guess("1e-3"), guess("True"), guess("none"), guess("HC2")
    (3, 0.001, True, None, 'HC2')
    """
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


def split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` outside brackets, stripping each part.

    >>> split_top("float | tuple[float, float] | None", "|")
    ['float', 'tuple[float, float]', 'None']
    """
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def alternatives(annotation: str) -> list[str]:
    """The members of a union annotation (``X | Y``, ``Optional[X]``, ``Union[X, Y]``).

    >>> alternatives("Optional[int]"), alternatives("Union[int, str]")
    (['int', 'None'], ['int', 'str'])
    """
    out: list[str] = []
    for part in split_top(annotation.strip(), "|"):
        head, args = _generic(part)
        if head in ("Optional", "typing.Optional") and args:
            out += alternatives(args[0]) + ["None"]
        elif head in ("Union", "typing.Union"):
            for arg in args:
                out += alternatives(arg)
        else:
            out.append(part)
    return out


def _generic(text: str) -> tuple[str, list[str]]:
    """``"tuple[float, float]"`` -> ``("tuple", ["float", "float"])``."""
    match = re.fullmatch(r"\s*([\w.]+)\s*\[(.*)\]\s*", text)
    if not match:
        return text.strip(), []
    return match.group(1), split_top(match.group(2), ",")


def _parse_none(text: str) -> None:
    if text.lower() != "none":
        raise ValueError
    return None


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isnan(value):
        raise ValueError
    return value


_SCALARS: dict[str, tuple[Callable[[str], Any], str]] = {
    "None": (_parse_none, "none"),
    "bool": (_parse_bool, "a boolean (true/false, 1/0 or yes/no)"),
    "int": (int, "an integer"),
    "float": (_parse_float, "a number"),
    "str": (str, "a string"),
}
#: The order in which union members are tried: ``none`` first, text last.
_PRECEDENCE = ("None", "bool", "int", "float", "sequence", "Literal", "str")


def _sequence_parser(head: str, args: list[str]) -> tuple[Callable[[str], Any], str] | None:
    """A parser of comma-separated items for ``tuple[...]`` / ``list[...]`` / ``Sequence[...]``."""
    if head not in _SEQUENCES or not args:
        return None
    fixed = head == "tuple" and args[-1] != "..."
    items = args if fixed else [args[0]]
    if any(a not in _SCALARS for a in items):
        return None
    funcs = [_SCALARS[a][0] for a in items]
    what = (f"{len(items)} comma-separated values ({', '.join(items)})" if fixed
            else f"comma-separated values ({items[0]})")

    def parse(text: str) -> Any:
        pieces = [p.strip() for p in text.strip().strip("()[]").split(",")]
        if (fixed and len(pieces) != len(funcs)) or not all(pieces):
            raise ValueError
        values = [f(piece) for f, piece in zip(funcs if fixed else funcs * len(pieces), pieces)]
        return values if head == "list" else tuple(values)

    return parse, what


def _literal_parser(args: list[str]) -> tuple[Callable[[str], Any], str]:
    choices = [ast.literal_eval(a) for a in args]

    def parse(text: str) -> Any:
        value = text if text in choices else guess(text)
        if value in choices and type(value) in map(type, choices):
            return value
        raise ValueError

    return parse, "one of " + ", ".join(map(repr, choices))


def _member(annotation: str) -> tuple[str, Callable[[str], Any], str] | None:
    """(precedence kind, parser, description) of one union member; None if text cannot say it."""
    annotation = annotation.strip().strip("'\"")
    if annotation in _SCALARS:
        parse, what = _SCALARS[annotation]
        return annotation, parse, what
    head, args = _generic(annotation)
    if head in ("Literal", "typing.Literal") and args:
        try:
            return ("Literal",) + _literal_parser(args)
        except (ValueError, SyntaxError):
            return None
    seq = _sequence_parser(head, args)
    if seq is not None:
        return ("sequence",) + seq
    return None


def parse_text(annotation: str, text: str, default: Any = None) -> Any:
    """Parse command-line ``text`` as a value of the type ``annotation`` names.

    Union members are tried in the order none, bool, int, float, sequences,
    literals, str.  With no annotation the type of a ``bool`` / ``int`` /
    ``float`` / ``str`` ``default`` is used; ``Any`` (or only types text cannot
    express, such as a scikit-learn model) falls back to :func:`guess`.
    Raises :class:`~causalkit.errors.OptionError` naming the expected type.
    """
    text = text.strip()
    if not annotation.strip() and isinstance(default, (bool, int, float, str)):
        annotation = type(default).__name__
    members = [] if annotation.strip() in _UNTYPED else alternatives(annotation)
    if any(m.strip() in _UNTYPED for m in members):
        return guess(text)
    parsers = [p for p in (_member(m) for m in members) if p is not None]
    if not parsers:
        return guess(text)
    parsers.sort(key=lambda p: _PRECEDENCE.index(p[0]))
    for _, parse, _ in parsers:
        try:
            return parse(text)
        except (ValueError, TypeError):
            continue
    kinds = list(dict.fromkeys(what for kind, _, what in parsers if kind != "None"))
    kinds += ["none"] * any(kind == "None" for kind, _, _ in parsers)
    expected = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
    raise OptionError(f"expected {expected}, got {text!r}")


__all__ = ["alternatives", "guess", "parse_text", "split_top"]
