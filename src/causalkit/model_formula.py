"""The whole-model formula ``"outcome ~ main | covariates | extra"`` of :func:`causalkit.estimate`.

After ``~``: the treatment (the running variable for ``rdd``, the cohort column for
``callaway_santanna``).  Second part: the covariates, formula terms as
:mod:`causalkit.formula` builds them.  Third part: the instrument(s) of an IV method,
the mediators of a mediation method, ``unit + time`` of a panel method, or the
post-period column of a 2x2 difference in differences.

Example
-------
>>> formula_roles("y ~ d | x + C(g) | z", ("treatment", "outcome", "covariates", "instrument"),
...               "iv_2sls")
{'outcome': 'y', 'treatment': 'd', 'covariates': 'x + C(g)', 'instrument': 'z'}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .errors import FormulaError, RoleError
from .formula import looks_like_formula, split_terms, split_top, unquote


@dataclass(frozen=True)
class ModelFormula:
    """A parsed ``outcome ~ main | covariates | extra`` formula (:func:`parse_model_formula`)."""

    outcome: str
    main: list[str]
    covariates: str | None
    extra: list[str] | None


def parse_model_formula(text: str) -> ModelFormula:
    """Split ``"y ~ t | x1 + C(g) | z"`` into its parts.

    >>> f = parse_model_formula("y ~ d | x + C(g) | z1 + z2")
    >>> f.outcome, f.main, f.covariates, f.extra
    ('y', ['d'], 'x + C(g)', ['z1', 'z2'])
    >>> parse_model_formula("y ~ t").covariates is None
    True
    """
    if text.count("~") != 1:
        raise FormulaError(f"a model formula has exactly one '~' (outcome ~ treatment | "
                           f"covariates), got {text!r}")
    lhs, rhs = text.split("~")
    outcome = unquote(lhs)
    if not outcome or looks_like_formula(outcome.replace(" ", "_")):
        raise FormulaError(f"the left-hand side of {text!r} must be the outcome column, got "
                           f"{lhs.strip()!r}")
    parts = [p.strip() for p in split_top(rhs, "|")]
    if len(parts) > 3:
        raise FormulaError(f"a model formula has at most three parts after '~' (treatment | "
                           f"covariates | instruments or unit + time), got {len(parts)} in {text!r}")
    main = [unquote(t) for t in split_terms(parts[0])]
    if not main:
        raise FormulaError(f"{text!r} names no treatment after '~'")
    covs = parts[1] if len(parts) > 1 and parts[1] not in ("", "0", "1") else None
    extra = [unquote(t) for t in split_terms(parts[2])] if len(parts) > 2 else None
    for name in main + (extra or []):
        if looks_like_formula(name.replace(" ", "_")):
            raise FormulaError(f"{name!r} in {text!r} must be a column name (only the "
                               "covariates part takes formula terms)")
    return ModelFormula(outcome=outcome, main=main, covariates=covs, extra=extra)


def formula_roles(text: str, roles: Sequence[str], method: str) -> dict[str, Any]:
    """The role keywords a model formula gives for a method accepting ``roles``.

    After ``~``: the treatment (the running variable for ``rdd``, the cohort column for
    ``callaway_santanna``, the methods without a treatment role).  The second part:
    the covariates.  The third: the instrument(s) of an IV method, the mediators of a
    mediation method, ``unit + time`` of a panel method, the post-period indicator of a
    2x2 difference in differences.

    >>> formula_roles("y ~ d | x | z", ("treatment", "outcome", "covariates", "instrument"), "iv_2sls")
    {'outcome': 'y', 'treatment': 'd', 'covariates': 'x', 'instrument': 'z'}
    """
    f = parse_model_formula(text)
    out: dict[str, Any] = {"outcome": f.outcome}
    main_role = ("running" if "running" in roles else "treatment" if "treatment" in roles
                 else "cohort" if "cohort" in roles else "treatment")
    if len(f.main) != 1:
        raise FormulaError(f"{method}: the part after '~' is the {main_role}, one column; got "
                           f"{' + '.join(f.main)}")
    out[main_role] = f.main[0]
    if f.covariates is not None:
        if "covariates" not in roles:
            raise RoleError(f"method {method!r} takes no covariates; drop the second part of "
                            f"{text!r}")
        out["covariates"] = f.covariates
    if f.extra is not None:
        out.update(_extra_roles(f.extra, roles, method, text))
    return out


def _extra_roles(extra: list[str], roles: Sequence[str], method: str, text: str
                 ) -> dict[str, Any]:
    if "instrument" in roles:
        return {"instrument": extra[0] if len(extra) == 1 else extra}
    if "mediators" in roles:
        return {"mediators": extra}
    if "unit" in roles and "time" in roles and len(extra) == 2:
        return {"unit": extra[0], "time": extra[1]}
    if "post" in roles and len(extra) == 1:
        return {"post": extra[0]}
    wants = ("unit + time" if "unit" in roles and "time" in roles else
             "the post-period column" if "post" in roles else None)
    raise RoleError(f"method {method!r}: the third part of {text!r} "
                    + (f"must be {wants}" if wants else
                       "has no role to fill (it is the instrument(s) of an IV method, the "
                       "mediators of a mediation method, unit + time of a panel method)"))


def merge_roles(from_formula: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Roles from a formula and from keywords; one role given both ways is a RoleError."""
    twice = [r for r in from_formula if given.get(r) is not None]
    if twice:
        raise RoleError(f"the {twice[0]} is given both in the model formula and as "
                        f"{twice[0]}=; give it once")
    return {**given, **from_formula}


__all__ = ["ModelFormula", "formula_roles", "merge_roles", "parse_model_formula"]
