"""Covariates as formulas and categories: the one design step every estimator shares.

``covariates=`` may be a list of column names, a formula string in the syntax of
`formulaic <https://matthewwardrop.github.io/formulaic/>`_ (``"C(education) + age +
I(age**2) + bs(wt71, df=3)"``), or a list mixing both.  Numeric and boolean columns
are used as they are.  Pandas categoricals, and object / string columns with at most
:data:`MAX_LEVELS` distinct values, are one-hot encoded with the first level as the
dropped reference (the treatment coding of R and statsmodels).  Formula terms are
expanded once by formulaic (an intercept is kept while expanding, so categorical
factors are reduced-rank, and then dropped: every estimator adds its own).

:func:`covariate_design` returns a :class:`CovariateDesign`: the data with the
expanded numeric columns added, their names (which the estimators, balance tables and
summaries then use), a note for ``Effect.inference`` and :meth:`CovariateDesign.transform`,
which builds the same columns on new rows (``predict_cate``) and refuses a level that
was not seen in the fit.  When every covariate is a numeric column nothing is copied.

The whole-model form ``"y ~ t | x1 + C(g) | z"`` is read by :mod:`causalkit.model_formula`.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"g": pd.Categorical(["a", "b", "c", "a"]), "x": [1.0, 2.0, 3.0, 5.0]})
>>> design = covariate_design(df, "C(g) + x + I(x**2)")
>>> list(design.columns)
['C(g)[T.b]', 'C(g)[T.c]', 'x', 'I(x ** 2)']
>>> covariate_design(df, ["g", "x"]).columns
('g[T.b]', 'g[T.c]', 'x')
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import (ColumnNotFoundError, ConstantColumnError, FormulaError,
                     MissingValueError, NonNumericColumnError, RoleError, UnseenLevelError)
from .validation import (as_column_list, as_dataframe, require_columns, require_finite,
                         suggest_column)

#: An object or string covariate with more distinct values than this is refused (it is
#: more likely an identifier than a category); write ``C(column)`` to encode it anyway.
#: A pandas categorical is always encoded: its levels were declared.
MAX_LEVELS = 20

_FORMULA_CHARS = re.compile(r"[+()*:~^/|\-\s]")


def is_numeric(col: pd.Series) -> bool:
    """Numeric or boolean (used as it is)."""
    return bool(pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col))


@dataclass(frozen=True)
class _Dummies:
    """One-hot coding of one categorical column: its levels (the first is the reference)."""

    column: Any
    levels: tuple[Any, ...]

    @property
    def names(self) -> list[str]:
        return [f"{self.column}[T.{lev}]" for lev in self.levels[1:]]

    def encode(self, col: pd.Series) -> pd.DataFrame:
        values = col.astype(object) if isinstance(col.dtype, pd.CategoricalDtype) else col
        unseen = sorted({str(v) for v in pd.unique(values)} - {str(v) for v in self.levels})
        if unseen:
            raise UnseenLevelError(
                f"covariate column {self.column!r} has level(s) {', '.join(map(repr, unseen))} "
                f"not seen when the model was fitted (levels: "
                f"{', '.join(map(repr, map(str, self.levels)))})")
        text = values.astype(str).to_numpy()
        return pd.DataFrame({name: (text == str(lev)).astype(float)
                             for name, lev in zip(self.names, self.levels[1:])},
                            index=col.index)


@dataclass(frozen=True)
class CovariateDesign:
    """The covariates of one fit as numeric columns (see :func:`covariate_design`).

    ``terms`` are the covariates as given; ``columns`` the numeric columns the
    estimator uses; ``frame`` the data holding them; ``encoded`` one line per
    encoded factor (its reference level); ``expanded`` whether any column was built.
    """

    terms: tuple[Any, ...]
    columns: tuple[Any, ...]
    frame: pd.DataFrame
    encoded: tuple[str, ...] = ()
    parts: tuple[Any, ...] = field(default=(), repr=False)

    @property
    def expanded(self) -> bool:
        """Whether the design differs from the given numeric columns."""
        return bool(self.parts)

    def note(self) -> str:
        """One line for ``Effect.inference`` saying how the covariates were built."""
        if not self.expanded:
            return ""
        text = f"covariates {' + '.join(map(str, self.terms))} expanded to {len(self.columns)} " \
               "numeric column(s)"
        if self.encoded:
            text += "; one-hot encoded (reference level dropped): " + ", ".join(self.encoded)
        return text

    def transform(self, new_data: Any) -> pd.DataFrame:
        """New rows with the same design columns, built as in the fit.

        A categorical level the fit did not see is an :class:`UnseenLevelError`
        naming the column; a missing value a :class:`MissingValueError`.
        """
        frame = as_dataframe(new_data)
        if not self.expanded:
            return frame
        built = [_part_frame(part, frame) for part in self.parts]
        extra = pd.concat(built, axis=1) if built else pd.DataFrame(index=frame.index)
        return _attach(frame, extra)

    def summary(self) -> dict[str, Any]:
        """The design for ``Effect.diagnostics["covariate_design"]``."""
        return {"terms": list(map(str, self.terms)), "columns": list(map(str, self.columns)),
                "encoded": list(self.encoded)}


def _part_frame(part: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """The design columns of one part on ``frame`` (a plain column, dummies or formula)."""
    if isinstance(part, tuple) and part[0] == "column":
        name = part[1]
        require_columns(frame, [name], role="covariate")
        require_finite(frame, [name], role="covariate")
        return pd.DataFrame(index=frame.index)        # used as it is
    if isinstance(part, _Dummies):
        require_columns(frame, [part.column], role="covariate")
        require_finite(frame, [part.column], role="covariate")
        return part.encode(frame[part.column])
    return formula_matrix(part, frame)


def _attach(frame: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the built columns added (an equal existing column is replaced)."""
    if extra.shape[1] == 0:
        return frame
    clash = [c for c in extra.columns if c in frame.columns]
    base = frame.drop(columns=clash) if clash else frame
    return pd.concat([base, extra], axis=1)


def looks_like_formula(text: str) -> bool:
    """Whether a string is a formula rather than one column name.

    >>> looks_like_formula("C(g) + x"), looks_like_formula("x")
    (True, False)
    """
    return bool(_FORMULA_CHARS.search(text))


def split_terms(text: str) -> list[str]:
    """Top-level ``+``-separated terms of a formula side (parentheses respected).

    >>> split_terms("C(g) + I(x + 1) + bs(x, df=3)")
    ['C(g)', 'I(x + 1)', 'bs(x, df=3)']
    """
    return [t.strip() for t in split_top(text, "+") if t.strip()]


def split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside parentheses and backticks.

    >>> split_top("y ~ t | I(a | b)", "|")
    ['y ~ t ', ' I(a | b)']
    """
    out, depth, start, quoted = [], 0, 0, False
    for i, ch in enumerate(text):
        if ch == "`":
            quoted = not quoted
        elif quoted:
            continue
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def unquote(name: str) -> str:
    """A name without its surrounding backticks (```my col``` -> ``my col``)."""
    name = name.strip()
    return name[1:-1] if len(name) > 1 and name[0] == name[-1] == "`" else name


# ------------------------------------------------------------------ formulaic parts
@dataclass(frozen=True)
class _FormulaPart:
    """Formula terms expanded by formulaic; ``spec`` rebuilds them on new data."""

    text: str
    spec: Any
    columns: tuple[str, ...]
    variables: tuple[str, ...]
    intercept: bool = False


def _formula_variables(text: str, frame: pd.DataFrame, role: str) -> list[str]:
    """The data columns a formula reads, checked to exist and hold no missing values."""
    from formulaic import Formula

    try:
        variables = sorted(Formula(text).required_variables)
    except Exception as err:   # formulaic's parser raises several types
        raise FormulaError(f"cannot parse the {role} formula {text!r}: {err}") from None
    names = [str(v) for v in variables]
    # formulaic leaves the arguments of stateful transforms (bs(x, df=3)) out of
    # required_variables: add every identifier of the text that names a column
    tokens = [t.strip("`") for t in re.findall(r"`[^`]+`|[A-Za-z_][A-Za-z_0-9]*", text)]
    names += [t for t in dict.fromkeys(tokens) if t in frame.columns and t not in names]
    columns = [v for v in names if v in frame.columns]
    for v in names:
        if v not in frame.columns and v not in _KNOWN_NAMES:
            hint = suggest_column(v, frame.columns)
            raise ColumnNotFoundError(
                f"{role} formula {text!r} uses {v!r}, which is not a column of the data"
                + (f"; did you mean {hint!r}?" if hint is not None else ""))
    require_finite(frame, columns, role=role)
    return columns


#: Names a formula may use that are not columns (modules formulaic evaluates in).
_KNOWN_NAMES = {"np", "numpy", "math", "pd"}


def _prepared(frame: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """The variables, with unused levels of categorical columns dropped."""
    sub = frame.loc[:, list(variables)]
    for v in variables:
        if isinstance(sub[v].dtype, pd.CategoricalDtype):
            sub[v] = sub[v].cat.remove_unused_categories()
    return sub


def formula_matrix(part: _FormulaPart, frame: pd.DataFrame) -> pd.DataFrame:
    """Rebuild a formula part (:func:`formula_part`) on new rows, as in the fit.

    A level the fit never saw is an :class:`UnseenLevelError` naming the factor.

    >>> import pandas as pd
    >>> part, _ = formula_part("C(g)", pd.DataFrame({"g": ["a", "b", "a"]}))
    >>> formula_matrix(part, pd.DataFrame({"g": ["b"]})).to_numpy().tolist()
    [[1.0]]
    """
    from formulaic.errors import FormulaicError

    _formula_variables(part.text, frame, "covariate")
    _check_levels(part, frame)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mm = part.spec.get_model_matrix(_prepared(frame, part.variables), na_action="ignore")
        except (FormulaicError, ValueError, TypeError, KeyError) as err:
            raise FormulaError(f"the formula {part.text!r} cannot be built on the new "
                               f"data: {err}") from None
    out = pd.DataFrame(np.asarray(mm, dtype=float), columns=list(mm.columns), index=frame.index)
    out = out.loc[:, list(part.columns)]
    bad = [c for c in out.columns if not np.isfinite(out[c].to_numpy()).all()]
    if bad:
        said = "; ".join(str(w.message) for w in caught if "categor" in str(w.message).lower())
        factor = re.sub(r"\[.*$", "", str(bad[0]))
        if said:
            raise UnseenLevelError(f"covariate {factor} in the new data has a level not seen "
                                   f"when the model was fitted ({said})")
        raise MissingValueError(f"covariate {factor} is not finite on {int((~np.isfinite(out[bad[0]])).sum())} "
                                "new row(s)")
    return out


def _check_levels(part: _FormulaPart, frame: pd.DataFrame) -> None:
    """Refuse a level of a categorical factor (``g`` or ``C(g, ...)``) the fit never saw."""
    for factor, (kind, state) in getattr(part.spec, "encoder_state", {}).items():
        if getattr(kind, "value", str(kind)) != "categorical":
            continue
        match = re.fullmatch(r"C\(\s*`?([^,`)]+)`?\s*(,.*)?\)", factor)
        column = match.group(1).strip() if match else factor.strip("`")
        if column not in frame.columns:
            continue                          # an expression: formulaic evaluates it
        seen = {str(v) for v in state.get("categories") or []}
        values = {str(v) for v in pd.unique(frame[column].astype(object))}
        unseen = sorted(values - seen)
        if unseen:
            raise UnseenLevelError(
                f"covariate {factor} has level(s) {', '.join(map(repr, unseen))} in the new "
                f"data that the fit never saw (levels: {', '.join(map(repr, sorted(seen)))})")


def formula_part(text: str, frame: pd.DataFrame, role: str = "covariate",
                 keep_intercept: bool = False) -> tuple[_FormulaPart, pd.DataFrame]:
    """Expand formula terms on ``frame`` once; return the part and its columns.

    The intercept is kept while expanding (categorical factors get reduced-rank
    treatment coding) and dropped unless ``keep_intercept``.  Non-finite values
    (``np.log(0)``) are a :class:`MissingValueError` naming the term.

    >>> import pandas as pd
    >>> part, cols = formula_part("x + I(x**2)", pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
    >>> cols.columns.tolist(), cols["I(x ** 2)"].tolist()
    (['x', 'I(x ** 2)'], [1.0, 4.0, 9.0])
    """
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    variables = _formula_variables(text, frame, role)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mm = model_matrix(text, _prepared(frame, variables), na_action="ignore")
    except (FormulaicError, ValueError, TypeError, KeyError, NameError, SyntaxError) as err:
        raise FormulaError(f"cannot build the {role} formula {text!r}: {err}") from None
    if not hasattr(mm, "model_spec"):
        raise FormulaError(f"the {role} formula {text!r} must be a right-hand side only "
                           "(terms joined by +), not a multi-part formula")
    out = pd.DataFrame(np.asarray(mm, dtype=float), columns=[str(c) for c in mm.columns],
                       index=frame.index)
    intercept = "Intercept" in out.columns
    if intercept and not keep_intercept:
        out = out.drop(columns="Intercept")
    for c in out.columns:
        values = out[c].to_numpy()
        if not np.isfinite(values).all():
            raise MissingValueError(f"{role} term {c!r} is not finite (NaN or infinite) on "
                                    f"{int((~np.isfinite(values)).sum())} row(s) of "
                                    f"{len(values)}")
        if c != "Intercept" and len(values) and np.ptp(values) == 0:
            raise ConstantColumnError(f"{role} term {c!r} is constant; it carries no "
                                      "information and makes the model singular: drop it")
    part = _FormulaPart(text=text, spec=mm.model_spec, columns=tuple(out.columns),
                        variables=tuple(variables), intercept=intercept)
    return part, out


def _reference_notes(part: _FormulaPart) -> list[str]:
    """``"C(g): reference 'a'"`` for each categorical factor of a formula part."""
    notes = []
    for factor, (kind, state) in getattr(part.spec, "encoder_state", {}).items():
        if getattr(kind, "value", str(kind)) == "categorical":
            levels = state.get("categories") or []
            if levels:
                notes.append(f"{factor} (reference {str(levels[0])!r})")
    return notes


# ------------------------------------------------------------------ plain categories
def _dummies(frame: pd.DataFrame, name: Any) -> _Dummies:
    """The one-hot coding of a categorical, object or string covariate column."""
    col = frame[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.dropna().unique())
        levels = tuple(c for c in col.cat.categories if c in present)
    else:
        levels = tuple(sorted(pd.unique(col.dropna()), key=str))
        if len(levels) > MAX_LEVELS:
            raise NonNumericColumnError(
                f"covariate column {name!r} has dtype {col.dtype} with {len(levels)} distinct "
                f"values, more than the {MAX_LEVELS} causalkit one-hot encodes by itself (is it "
                f"an identifier?); write C({name}) in a covariate formula to encode it, or "
                "make it a pandas categorical")
    if len(levels) < 2:
        raise ConstantColumnError(f"covariate column {name!r} is constant (one level); it "
                                  "carries no information and makes the model singular: drop it")
    return _Dummies(column=name, levels=levels)


# ------------------------------------------------------------------ the design step
def covariate_terms(covariates: Any) -> list[Any]:
    """The covariates as a list of column names and formula terms.

    >>> covariate_terms("C(g) + x"), covariate_terms(["x", "y"]), covariate_terms(None)
    (['C(g)', 'x'], ['x', 'y'], [])
    """
    if isinstance(covariates, str):
        if "~" in covariates:
            raise FormulaError(
                f"covariates={covariates!r} has a '~': give the covariates' right-hand side "
                "only, or the whole model as causalkit.estimate(data, 'y ~ t | x1 + x2', ...)")
        return split_terms(covariates) if looks_like_formula(covariates) else [covariates]
    return as_column_list(covariates)


def needs_design(frame: pd.DataFrame, covariates: Any) -> bool:
    """Whether the covariates are anything but existing numeric columns (a fast check).

    >>> import pandas as pd
    >>> needs_design(pd.DataFrame({"x": [1.0]}), ["x"]), needs_design(pd.DataFrame({"x": [1.0]}), "I(x**2)")
    (False, True)
    """
    if covariates is None:
        return False
    try:
        terms = covariate_terms(covariates)
    except FormulaError:
        raise
    except RoleError:
        return False                       # refused later, by the estimator's own checks
    for term in terms:
        if term not in frame.columns:
            if isinstance(term, str) and looks_like_formula(term):
                return True
            continue                       # a missing column: the estimator names it
        col = frame[term]
        if isinstance(col, pd.DataFrame):
            continue                       # a duplicated column: refused later
        if not is_numeric(col):
            return True
    return False


def covariate_design(data: Any, covariates: Any, role: str = "covariate") -> CovariateDesign:
    """Build the numeric covariate columns of one fit (see the module docstring).

    Raises :class:`ColumnNotFoundError` (with a suggestion) for an unknown column,
    :class:`MissingValueError` for a missing value in a column the design reads,
    :class:`ConstantColumnError` for a single level, :class:`NonNumericColumnError`
    for an object column with too many levels and :class:`FormulaError` for a
    formula that does not parse.
    """
    frame = as_dataframe(data)
    terms = covariate_terms(covariates)
    if not needs_design(frame, terms):
        return CovariateDesign(terms=tuple(terms), columns=tuple(terms), frame=frame)
    parts: list[Any] = []
    pieces: list[pd.DataFrame] = []
    columns: list[Any] = []
    encoded: list[str] = []
    formula_terms = [t for t in terms if t not in frame.columns]
    require_columns(frame, [t for t in terms if t in frame.columns], role=role)
    if formula_terms:       # every term a formula can name goes to formulaic, in order
        formula_terms = [t for t in terms if isinstance(t, str)]
    for term in terms:
        if term in formula_terms:
            continue
        if is_numeric(frame[term]):
            parts.append(("column", term))
            columns.append(term)
            continue
        require_finite(frame, [term], role=role)
        coding = _dummies(frame, term)
        parts.append(coding)
        pieces.append(coding.encode(frame[term]))
        columns.extend(coding.names)
        encoded.append(f"{term} (reference {str(coding.levels[0])!r})")
    if formula_terms:
        text = " + ".join(t if t not in frame.columns or t.isidentifier() else f"`{t}`"
                          for t in formula_terms)
        part, cols = formula_part(text, frame, role=role)
        parts.append(part)
        pieces.append(cols)
        columns.extend(part.columns)
        encoded.extend(_reference_notes(part))
    repeated = [c for i, c in enumerate(columns) if c in columns[:i]]
    if repeated:
        raise RoleError(f"{role} {repeated[0]!r} is named more than once; list each term once")
    extra = pd.concat(pieces, axis=1) if pieces else pd.DataFrame(index=frame.index)
    return CovariateDesign(terms=tuple(terms), columns=tuple(columns),
                           frame=_attach(frame, extra), encoded=tuple(encoded),
                           parts=tuple(parts))


__all__ = ["CovariateDesign", "MAX_LEVELS", "covariate_design", "covariate_terms",
           "formula_matrix", "formula_part", "looks_like_formula", "needs_design",
           "split_terms", "split_top", "unquote"]
