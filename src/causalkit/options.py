"""The options an estimator takes, read from its signature, and the one check of a call.

Every registered estimator is a function whose keyword parameters other than
``data``, its roles and ``alpha`` are its *options*.  :func:`option_specs`
reads them (name, annotation, default, and the one-line help its numpydoc
``Parameters`` section gives); :func:`check_options` is the single place that
refuses an option the estimator does not take, with a did-you-mean, so that no
misspelt or unsupported option is silently ignored (``estimate``, the benchmark
runner, the CLI and direct calls all go through it).

Example
-------
>>> def fit(data, treatment, outcome, alpha=0.05, n_folds: int = 5, trim: float | None = None):
...     '''Fit.
...
...     Parameters
...     ----------
...     n_folds
...         Number of cross-fitting folds.
...     trim
...         Drop units with scores outside [trim, 1 - trim].
...     '''
>>> [(o.name, o.default, o.help) for o in option_specs(fit, roles=("treatment", "outcome"))]
[('n_folds', 5, 'Number of cross-fitting folds.'), ('trim', None, 'Drop units with scores outside [trim, 1 - trim].')]
>>> check_options("fit", option_specs(fit, roles=("treatment", "outcome")), {"n_fold": 3})
Traceback (most recent call last):
...
causalkit.errors.OptionError: method 'fit' has no option 'n_fold'; did you mean 'n_folds'? Its options: n_folds, trim
"""

from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from .errors import OptionError
from .option_text import parse_text

#: Parameters of an estimator function that are not options.
NOT_OPTIONS = ("data", "alpha")

_NO_DEFAULT = inspect.Parameter.empty


@dataclass(frozen=True)
class OptionSpec:
    """One option of an estimator: its name, type (as written), default and help line."""

    name: str
    annotation: str
    default: Any
    help: str

    @property
    def required(self) -> bool:
        """Whether the option has no default."""
        return self.default is _NO_DEFAULT

    def parse(self, text: str) -> Any:
        """The value of this option written as ``text`` (the command line), by its type.

        >>> OptionSpec("interacted", "bool", True, "").parse("no")
        False
        >>> OptionSpec("n_neighbors", "int", 1, "").parse("abc")
        Traceback (most recent call last):
        ...
        causalkit.errors.OptionError: option 'n_neighbors' (int): expected an integer, got 'abc'
        """
        try:
            return parse_text(self.annotation, text, None if self.required else self.default)
        except OptionError as err:
            kind = f" ({self.annotation})" if self.annotation else ""
            raise OptionError(f"option {self.name!r}{kind}: {err}") from None

    def describe(self) -> str:
        """``name: type = default  help`` as ``causalkit methods NAME`` prints it."""
        default = "(required)" if self.required else f"= {self.default!r}"
        kind = f": {self.annotation}" if self.annotation else ""
        return f"{self.name}{kind} {default}  {self.help}".rstrip()


def _parameter_help(doc: str) -> dict[str, str]:
    """First sentence of each parameter's description in a numpydoc ``Parameters`` section.

    A line naming several parameters (``propensity_model, trim``) gives each the same help.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    out: dict[str, str] = {}
    try:
        start = next(i for i, line in enumerate(lines)
                     if line.strip() == "Parameters" and i + 1 < len(lines)
                     and set(lines[i + 1].strip()) == {"-"}) + 2
    except StopIteration:
        return out
    names: list[str] = []
    text: list[str] = []

    def flush() -> None:
        sentence = re.split(r"(?<=[.])\s", " ".join(text), maxsplit=1)[0]
        for name in names:
            out.setdefault(name, sentence)

    for i in range(start, len(lines)):
        line = lines[i]
        if i + 1 < len(lines) and line.strip() and set(lines[i + 1].strip()) == {"-"}:
            break                                           # the next section begins
        if line and not line[0].isspace():
            flush()
            names = [n.strip() for n in re.split(r",\s*", line.split(":")[0]) if n.strip()]
            text = []
        elif line.strip():
            text.append(line.strip())
        else:
            flush()
            names, text = [], []
    flush()
    return out


def _annotation(param: inspect.Parameter) -> str:
    ann = param.annotation
    if ann is _NO_DEFAULT:
        return ""
    return ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))


def option_specs(func: Callable[..., Any], roles: Iterable[str]) -> tuple[OptionSpec, ...]:
    """The options of an estimator function: keyword parameters that are not roles."""
    skip = set(NOT_OPTIONS) | set(roles)
    help_lines = _parameter_help(inspect.getdoc(func) or "")
    specs = []
    for param in inspect.signature(func).parameters.values():
        if param.name in skip or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        specs.append(OptionSpec(name=param.name, annotation=_annotation(param),
                                default=param.default, help=help_lines.get(param.name, "")))
    return tuple(specs)


def takes_arbitrary_options(func: Callable[..., Any]) -> bool:
    """Whether the function swallows unknown keywords (``**kwargs``): then nothing is checked."""
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(func).parameters.values())


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt name, if any is close."""
    match = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def check_options(method: str, specs: Iterable[OptionSpec], given: Mapping[str, Any],
                  roles: Iterable[str] = ()) -> None:
    """Raise :class:`OptionError` for the first option in ``given`` the method does not take.

    ``roles`` are the role keywords the method accepts: a misspelt role is
    suggested too.
    """
    specs = tuple(specs)
    names = [s.name for s in specs]
    for key in given:
        if key in names:
            continue
        hint = suggest(key, names + list(roles))
        msg = f"method {method!r} has no option {key!r}"
        if hint:
            msg += f"; did you mean {hint!r}?"
        msg += f" Its options: {', '.join(names)}" if names else " It takes no options."
        raise OptionError(msg)


__all__ = ["OptionSpec", "check_options", "option_specs", "suggest", "takes_arbitrary_options"]
