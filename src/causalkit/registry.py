"""The estimator registry.

An estimator is a function ``f(data, *, <roles>, alpha, **options) -> Effect``
registered under a name with the estimand(s) it targets and the roles it needs.
Built-in and third-party estimators register the same way and are then usable
everywhere: :func:`causalkit.estimate`, the benchmark runner and the CLI.

Example
-------
>>> import causalkit
>>> from causalkit import Effect, register
>>> @register("first_row_gap", estimand="ATE", roles=("treatment", "outcome"),
...           replace=True)
... def first_row_gap(data, treatment, outcome, alpha=0.05):
...     y = data[outcome]
...     gap = y[data[treatment] == 1].mean() - y[data[treatment] == 0].mean()
...     return Effect.from_estimate(method="first_row_gap", estimand="ATE",
...                                 estimate=gap, std_error=1.0, alpha=alpha)
>>> "first_row_gap" in set(causalkit.available()["method"])
True
>>> causalkit.registry.unregister("first_row_gap")
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import pandas as pd

from .errors import (OptionError, RegistryError, RoleError, UnknownMethodError,
                     WeightsNotSupportedError)
from .options import OptionSpec, check_options, option_specs, takes_arbitrary_options
from .validation import suggest_column

#: Every role keyword an estimator may declare (DESIGN.md, "Roles").
ROLE_NAMES: tuple[str, ...] = (
    "treatment", "outcome", "covariates", "instrument", "running", "cutoff",
    "post", "unit", "time", "cohort", "cluster", "mediators", "weights",
)

ESTIMANDS: tuple[str, ...] = ("ATE", "ATT", "ATC", "LATE", "CATE")

#: The kinds of treatment column an estimator may take: a 0/1 indicator, a numeric
#: continuous dose, or a categorical multi-valued treatment (K arms).
TREATMENT_TYPES: tuple[str, ...] = ("binary", "continuous", "categorical")


@dataclass(frozen=True)
class EstimatorSpec:
    """A registered estimator: its function, estimands and roles."""

    name: str
    func: Callable[..., Any]
    estimands: tuple[str, ...]
    roles: tuple[str, ...]
    optional_roles: tuple[str, ...] = ()
    description: str = ""
    needs_binary_treatment: bool = True
    uses_adjustment_set: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)
    options: tuple[OptionSpec, ...] = ()
    treatment_types: tuple[str, ...] = ("binary",)

    @property
    def option_names(self) -> tuple[str, ...]:
        """Names of the options the estimator takes (keywords besides roles and alpha)."""
        return tuple(o.name for o in self.options)

    def check_call(self, kwargs: dict[str, Any]) -> None:
        """Refuse a role or option this estimator does not take (RoleError / OptionError)."""
        roles = [k for k in kwargs if k in ROLE_NAMES and k not in self.option_names]
        self.refuse_roles([r for r in roles if r not in self.accepted_roles])
        if self.options or not takes_arbitrary_options(self.func):
            rest = {k: v for k, v in kwargs.items() if k not in ROLE_NAMES
                    and k not in ("data", "alpha")}
            check_options(self.name, self.options, rest, roles=self.accepted_roles)

    def refuse_roles(self, refused: Iterable[str]) -> None:
        """Raise for roles the method does not take: weights alone are a
        :class:`~causalkit.errors.WeightsNotSupportedError` (an ``OptionError`` and a
        ``RoleError``), other roles a :class:`RoleError`; nothing when ``refused`` is empty.
        """
        refused = list(refused)
        if refused == ["weights"]:
            raise WeightsNotSupportedError(
                f"method {self.name!r} does not take sampling weights (weights=): it defines "
                "no weighted version, and ignoring them would give the unweighted answer; "
                "causalkit.weighted_methods() lists the methods that take them")
        if refused:
            raise RoleError(f"method {self.name!r} does not use the role(s) "
                            f"{', '.join(map(str, refused))}; it accepts "
                            f"{', '.join(self.accepted_roles)}")

    def checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The options to call the estimator with, checked as :func:`causalkit.estimate` does.

        ``estimand=`` must be one the method declares; a method with a single
        estimand and no ``estimand`` option may still be given it, and it is
        dropped.  Every other key goes through :meth:`check_call`.  Raises
        :class:`~causalkit.errors.OptionError` (or ``RoleError``).

        >>> get("difference_in_means").checked_options({"estimand": "ATE", "use_t": False})
        {'use_t': False}
        """
        options = dict(options)
        estimand = options.get("estimand")
        if estimand is not None and estimand not in self.estimands:
            raise OptionError(f"method {self.name!r} estimates {', '.join(self.estimands)}, "
                              f"not {estimand!r}")
        if estimand is not None and "estimand" not in self.option_names:
            options.pop("estimand")              # the one estimand the method targets
        self.check_call(options)
        return options

    @property
    def default_estimand(self) -> str:
        """The first declared estimand, used when the caller names none."""
        return self.estimands[0]

    @property
    def accepted_roles(self) -> tuple[str, ...]:
        """Required and optional roles together."""
        return self.roles + tuple(r for r in self.optional_roles if r not in self.roles)


_REGISTRY: dict[str, EstimatorSpec] = {}
_BUILTINS_LOADED = False


def register(name: str, *, estimand: str | Iterable[str], roles: Iterable[str],
             optional_roles: Iterable[str] = (), description: str | None = None,
             needs_binary_treatment: bool = True, uses_adjustment_set: bool | None = None,
             tags: Iterable[str] = (), replace: bool = False,
             treatment_types: Iterable[str] | None = None
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that registers an estimator function under ``name``.

    Every keyword parameter of the function besides ``data``, ``alpha`` and the
    roles is an *option*; a call with any other keyword, directly or through
    :func:`causalkit.estimate`, raises :class:`~causalkit.errors.OptionError`
    naming it (the function returned is the original wrapped in that check).

    Parameters
    ----------
    name
        The method name users pass to :func:`causalkit.estimate`.
    estimand
        The estimand, or several (the first is the default).
    roles
        Roles the estimator requires, e.g. ``("treatment", "outcome")``.
    optional_roles
        Roles it accepts but does not require, e.g. ``("covariates", "cluster")``.
    description
        One line; defaults to the first line of the function's docstring.
    needs_binary_treatment
        Whether ``treatment`` must be 0/1 (used by the benchmark and docs).
    uses_adjustment_set
        Whether covariates play the role of a backdoor adjustment set, so that a
        DAG can supply them (defaults to ``"covariates" in`` the roles).
    replace
        Allow re-registering an existing name (otherwise an error).
    treatment_types
        The kinds of treatment column taken, from :data:`TREATMENT_TYPES`
        (``"binary"``, ``"continuous"``, ``"categorical"``).  Default ``("binary",)``;
        ``("binary", "continuous")`` when ``needs_binary_treatment=False``; ``()`` for
        an estimator without a treatment role.  Shown by :func:`available`.
    """
    estimands = (estimand,) if isinstance(estimand, str) else tuple(estimand)
    role_tuple = tuple(roles)
    optional = tuple(optional_roles)
    unknown = [r for r in role_tuple + optional if r not in ROLE_NAMES]
    if unknown:
        raise RegistryError(f"unknown role(s) {unknown} for estimator {name!r}; "
                            f"roles are {', '.join(ROLE_NAMES)}")
    if not estimands:
        raise RegistryError(f"estimator {name!r} must declare at least one estimand")
    if uses_adjustment_set is None:
        uses_adjustment_set = "covariates" in role_tuple + optional
    types = _treatment_types(name, treatment_types, needs_binary_treatment,
                             "treatment" in role_tuple + optional)

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(func):
            raise RegistryError(f"estimator {name!r} must be callable")
        if name in _REGISTRY and not replace and _REGISTRY[name].func is not func:
            raise RegistryError(f"an estimator named {name!r} is already registered "
                                "(pass replace=True to override it)")
        doc = description or (inspect.getdoc(func) or "").split("\n", 1)[0]
        strict = not takes_arbitrary_options(func)
        spec = EstimatorSpec(
            name=name, func=func, estimands=estimands, roles=role_tuple,
            optional_roles=optional, description=doc,
            needs_binary_treatment=needs_binary_treatment and types == ("binary",),
            uses_adjustment_set=bool(uses_adjustment_set), tags=tuple(tags),
            treatment_types=types,
            options=option_specs(func, role_tuple + optional) if strict else ())
        _REGISTRY[name] = spec
        if not strict:
            return func

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            spec.check_call(kwargs)
            return call_estimator(func, args, kwargs)

        return checked

    return decorator


def _treatment_types(name: str, given: Iterable[str] | None, needs_binary: bool,
                     has_treatment: bool) -> tuple[str, ...]:
    """The checked ``treatment_types`` of :func:`register` (see there for the defaults)."""
    if given is None:
        if not has_treatment:
            return ()
        return ("binary",) if needs_binary else ("binary", "continuous")
    types = (given,) if isinstance(given, str) else tuple(given)
    unknown = [t for t in types if t not in TREATMENT_TYPES]
    if unknown:
        raise RegistryError(f"unknown treatment type(s) {unknown} in treatment_types of estimator {name!r}; "
                            f"treatment types are {', '.join(TREATMENT_TYPES)}")
    return types
def call_estimator(func: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    """Call an estimator function, building its covariate design first; record the call.

    The one design step every estimator shares (:mod:`causalkit.formula`): when
    ``covariates=`` is a formula, or names categorical / object columns, the design
    is built once, the estimator is called on the data with the numeric columns and
    their names, and the :class:`~causalkit.Effect` says so in ``inference`` and
    ``diagnostics["covariate_design"]``; its ``predict_cate`` builds the same columns
    on new rows.  The call recorded (for refits) keeps the covariates as given.
    """
    from .formula import covariate_design, covariate_terms, needs_design

    try:
        bound = inspect.signature(func).bind_partial(*args, **kwargs)
    except TypeError:               # the call itself is wrong: let the function say so
        bound = None
    params = list(bound.signature.parameters) if bound is not None else []
    data = bound.arguments.get(params[0]) if params else None
    covs = bound.arguments.get("covariates") if bound is not None else None
    if bound is None or not isinstance(data, pd.DataFrame) or not needs_design(data, covs):
        return record_call(func, func(*args, **kwargs), args, kwargs)
    design = covariate_design(data, covs)
    bound.arguments[params[0]] = design.frame
    bound.arguments["covariates"] = list(design.columns)
    result = func(*bound.args, **bound.kwargs)
    recorded = inspect.signature(func).bind_partial(*args, **kwargs)
    recorded.arguments["covariates"] = covariate_terms(covs)
    result = record_call(func, result, recorded.args, recorded.kwargs)
    return with_design(result, design)


def with_design(result: Any, design: Any) -> Any:
    """``result`` (an Effect) saying how its covariates were built; CATE predictions on new
    rows go through the same design."""
    from .effect import Effect

    if not isinstance(result, Effect):
        return result
    note = design.note()
    changes: dict[str, Any] = {
        "inference": f"{result.inference}; {note}" if result.inference else note,
        "diagnostics": {**result.diagnostics, "covariate_design": design.summary()}}
    if result.cate_predictor is not None:
        predictor = result.cate_predictor

        def predict(new_data: Any) -> Any:
            return predictor(design.transform(new_data))

        changes["cate_predictor"] = predict
    return dataclasses.replace(result, **changes)


def record_call(func: Callable[..., Any], result: Any, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    """``result`` with its ``call`` (every argument of ``func`` but the data) recorded.

    Sensitivity analyses and refuters refit the same call on modified data from
    it.  Results that are not an :class:`~causalkit.Effect`, or already carry a
    call, are returned unchanged.
    """
    from .effect import Effect

    if not isinstance(result, Effect) or result.call is not None:
        return result
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
    except TypeError:
        return result
    bound.apply_defaults()
    call = {k: v for k, v in bound.arguments.items() if k != "data"}
    for name, param in inspect.signature(func).parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            call.update(call.pop(name, {}))
    return dataclasses.replace(result, call=call)


def describe(name: str) -> str:
    """The estimator's description, estimands, roles and options, one line each.

    >>> print(describe("difference_in_means").splitlines()[0])
    difference_in_means: Difference in mean outcomes between arms, with Neyman (Welch) standard error.
    """
    spec = get(name)
    lines = [f"{spec.name}: {spec.description}",
             f"  estimands: {', '.join(spec.estimands)}",
             f"  roles: {', '.join(spec.roles)}"
             + (f" (optional: {', '.join(spec.optional_roles)})" if spec.optional_roles else ""),
             f"  treatment types: {', '.join(spec.treatment_types) or 'none'}",
             "  options:" if spec.options else "  options: none"]
    lines += [f"    {o.describe()}" for o in spec.options]
    return "\n".join(lines)


def unregister(name: str) -> None:
    """Remove an estimator from the registry (mainly for tests and plugins)."""
    _REGISTRY.pop(name, None)


#: The family packages whose estimators are built in.  Each declares the modules
#: that register an estimator in its ``ESTIMATORS`` tuple; the registry imports
#: them the first time it is asked for an estimator (the families import the
#: registry, never the other way round at import time).
BUILTIN_FAMILIES: tuple[str, ...] = (
    "causalkit.backdoor", "causalkit.panel", "causalkit.rd", "causalkit.iv", "causalkit.cate",
    "causalkit.general", "causalkit.benchmark.adapters",
)

#: The entry-point group through which third-party packages register estimators.
ENTRY_POINT_GROUP = "causalkit.estimators"


def _load_builtins() -> None:
    """Import the estimator modules of every built-in family, then the plugins."""
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    for family in BUILTIN_FAMILIES:
        package = importlib.import_module(family)
        for module in package.ESTIMATORS:
            importlib.import_module(f"{family}.{module}")
    load_plugins()


def load_plugins() -> list[str]:
    """Load every estimator a third-party package declares in the entry-point group.

    A package registers estimators by declaring, in its ``pyproject.toml``::

        [project.entry-points."causalkit.estimators"]
        my_estimators = "my_package.estimators"

    The named module (or a callable, which is then called) registers its
    estimators with :func:`register` when it is loaded.  A plugin that fails to
    load is reported with a warning naming it and skipped, so one broken
    package cannot take the registry down.  Returns the names of the entry
    points that loaded.

    >>> isinstance(load_plugins(), list)
    True
    """
    import warnings
    from importlib.metadata import entry_points

    loaded = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = point.load()
            if callable(target) and not inspect.ismodule(target):
                target()
        except Exception as exc:  # a third-party failure must not break causalkit
            warnings.warn(f"causalkit estimator plugin {point.name!r} ({point.value}) "
                          f"failed to load: {type(exc).__name__}: {exc}", stacklevel=2)
            continue
        loaded.append(point.name)
    return loaded


def get(name: str) -> EstimatorSpec:
    """The registered estimator called ``name``; suggests the closest name if unknown.

    >>> get("difference_in_means").estimands
    ('ATE',)
    """
    _load_builtins()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        hint = suggest_column(str(name), _REGISTRY)
        msg = f"no estimator is registered as {name!r}"
        msg += f"; did you mean {hint!r}?" if hint else (
            f"; available: {', '.join(sorted(_REGISTRY))}")
        raise UnknownMethodError(msg) from None


def names() -> list[str]:
    """Sorted names of every registered estimator."""
    _load_builtins()
    return sorted(_REGISTRY)


def weighted_methods() -> list[str]:
    """Sorted names of the registered estimators that take sampling weights (``weights=``).

    >>> "regression_adjustment" in weighted_methods()
    True
    """
    _load_builtins()
    return sorted(n for n, s in _REGISTRY.items() if "weights" in s.accepted_roles)


def available() -> pd.DataFrame:
    """A table of every registered estimator, its estimands, the roles it needs and
    the treatment types it takes (``treatment_types``; empty without a treatment role).

    >>> table = available()
    >>> list(table.columns)
    ['method', 'estimands', 'required_roles', 'optional_roles', 'treatment_types', 'description']
    >>> table.set_index("method").loc["aipw", "treatment_types"]
    'binary'
    """
    _load_builtins()
    rows = [{
        "method": s.name,
        "estimands": ", ".join(s.estimands),
        "required_roles": ", ".join(s.roles),
        "optional_roles": ", ".join(s.optional_roles),
        "treatment_types": ", ".join(s.treatment_types),
        "description": s.description,
    } for s in sorted(_REGISTRY.values(), key=lambda s: s.name)]
    return pd.DataFrame(rows, columns=["method", "estimands", "required_roles",
                                       "optional_roles", "treatment_types", "description"])
