"""Input validation shared by every estimator.

Each check raises a specific :class:`~causalkit.errors.CausalKitError` subclass
whose message names the column and the problem, so users never see a deep
numpy traceback or a silently wrong number.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"treated": [0, 1, 0, 1], "y": [1.0, 2.0, 3.0, 4.0]})
>>> try:
...     require_columns(df, ["treatment"], role="treatment")
... except ColumnNotFoundError as err:
...     print(err)
treatment column 'treatment' is not in the data; did you mean 'treated'?
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import (
    ColumnNotFoundError,
    ConstantColumnError,
    DataError,
    EmptyArmError,
    MissingValueError,
    NonNumericColumnError,
    OptionError,
    RoleError,
    TooFewRowsError,
    TreatmentNotBinaryError,
)


def as_dataframe(data: Any) -> pd.DataFrame:
    """Return ``data`` as a DataFrame (dicts of columns and structured arrays are accepted).

    >>> as_dataframe({"a": [1, 2]}).shape
    (2, 1)
    """
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (dict, np.ndarray)) and not (isinstance(data, np.ndarray)
                                                     and data.dtype.names is None):
        return pd.DataFrame(data)
    raise DataError(
        f"data must be a pandas DataFrame (or a dict of columns), got {type(data).__name__}")


def _is_label(value: Any) -> bool:
    """Whether ``value`` can name one column: a string or an integer (not a boolean)."""
    return isinstance(value, (str, int, np.integer)) and not isinstance(value, (bool, np.bool_))


def as_column_list(columns: Any) -> list[Any]:
    """Normalize a role that may be one name, several names or ``None`` to a list.

    A column name is a string or an integer (pandas' default labels ``0, 1, ...``).

    >>> as_column_list("x"), as_column_list(None), as_column_list(("a", "b")), as_column_list(0)
    (['x'], [], ['a', 'b'], [0])
    """
    if columns is None:
        return []
    if _is_label(columns):
        return [columns]
    try:
        out = list(columns)
    except TypeError:
        raise RoleError(f"a column name must be a string or an integer (or a list of them), "
                        f"got {columns!r}") from None
    for c in out:
        if not _is_label(c):
            raise RoleError(f"column names must be strings or integers, got {c!r}")
    return out


def suggest_column(name: Any, candidates: Iterable[Any]) -> Any:
    """The closest column name to ``name`` (case-insensitive), or ``None``.

    Names are compared as text, and the candidate is returned as it is (an
    integer label stays an integer).

    >>> suggest_column("tretment", ["treatment", "outcome"])
    'treatment'
    >>> suggest_column("1", [0, 1])
    1
    """
    lowered = {str(c).lower(): c for c in candidates}
    key = str(name).lower()
    if key in lowered:
        return lowered[key]
    match = difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def require_columns(data: pd.DataFrame, columns: str | Sequence[str] | None,
                    role: str = "column") -> list[str]:
    """Check that every named column exists; suggest the closest name when one does not."""
    names = as_column_list(columns)
    repeated = [n for i, n in enumerate(names) if n in names[:i]]
    if repeated:
        raise RoleError(f"{role} column {repeated[0]!r} is named more than once; "
                        "list each column once")
    for name in names:
        if name not in data.columns:
            hint = suggest_column(name, data.columns)
            msg = f"{role} column {name!r} is not in the data"
            msg += f"; did you mean {hint!r}?" if hint is not None else (
                f"; available columns: {', '.join(map(str, list(data.columns)[:20]))}")
            raise ColumnNotFoundError(msg)
    duplicated = data.columns[data.columns.duplicated()].tolist()
    clash = [n for n in names if n in duplicated]
    if clash:
        raise DataError(f"{role} column {clash[0]!r} appears more than once in the data")
    return names


def require_numeric(data: pd.DataFrame, columns: Sequence[str], role: str = "column") -> None:
    """Check that columns are numeric or boolean (not strings or categories)."""
    for name in columns:
        col = data[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise NonNumericColumnError(
                f"{role} column {name!r} must be numeric, but has dtype {col.dtype}; "
                "encode it (e.g. pandas.get_dummies) before estimating")


def require_finite(data: pd.DataFrame, columns: Sequence[str], role: str = "column") -> None:
    """Check that columns hold no NaN, missing or infinite values, and say how many do."""
    for name in columns:
        col = data[name]
        if col.dtype.kind in "iuf" and np.isfinite(col.to_numpy()).all():
            continue                      # plain numpy numbers, all finite: one fast pass
        n_missing = int(col.isna().sum())
        if n_missing:
            raise MissingValueError(
                f"{role} column {name!r} has {n_missing} missing (NaN) value(s) "
                f"out of {len(col)}; drop or impute them before estimating")
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values = col.to_numpy(dtype=float)
            n_inf = int(np.isinf(values).sum())
            if n_inf:
                raise MissingValueError(
                    f"{role} column {name!r} has {n_inf} infinite value(s) out of {len(col)}")


def binary_treatment(data: pd.DataFrame, column: str) -> np.ndarray:
    """Return the treatment column as a 0/1 integer array, or raise if it is not binary.

    Booleans and numeric columns whose values are exactly {0, 1} are accepted.

    >>> import pandas as pd
    >>> binary_treatment(pd.DataFrame({"t": [True, False]}), "t")
    array([1, 0])
    """
    col = data[column]
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=int)
    if not pd.api.types.is_numeric_dtype(col):
        raise TreatmentNotBinaryError(
            f"treatment column {column!r} must be 0/1 or boolean, but has dtype {col.dtype} "
            f"with values like {list(pd.unique(col))[:3]}")
    values = col.to_numpy(dtype=float)
    if ((values == 0.0) | (values == 1.0)).all():
        return values.astype(int)
    levels = np.unique(values)
    if not np.all(np.isin(levels, (0.0, 1.0))):
        shown = ", ".join(f"{v:g}" for v in levels[:5])
        more = ", ..." if len(levels) > 5 else ""
        raise TreatmentNotBinaryError(
            f"treatment column {column!r} must be binary (0/1) for this method, "
            f"but takes {len(levels)} distinct values: {shown}{more}")
    return values.astype(int)


def require_both_arms(treatment: np.ndarray, column: str, min_per_arm: int = 1) -> tuple[int, int]:
    """Check that both arms have at least ``min_per_arm`` units; return (n_treated, n_control)."""
    n_treated = int(np.sum(treatment == 1))
    n_control = int(np.sum(treatment == 0))
    for arm, n in (("treated (1)", n_treated), ("control (0)", n_control)):
        if n < min_per_arm:
            raise EmptyArmError(
                f"treatment column {column!r} has {n} {arm} unit(s); "
                f"at least {min_per_arm} are needed in each arm")
    return n_treated, n_control


def require_rows(n_rows: int, minimum: int, what: str = "this method") -> None:
    """Check that there are at least ``minimum`` rows."""
    if n_rows < minimum:
        raise TooFewRowsError(f"{what} needs at least {minimum} rows, got {n_rows}")


def require_varies(data: pd.DataFrame, columns: Sequence[str], role: str = "covariate") -> None:
    """Check that no column is constant (it would make a design matrix singular).

    Numeric columns are constant exactly when their range is zero, a vectorized
    O(n) check; other columns count their distinct values.
    """
    for name in columns:
        col = data[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values = col.to_numpy(dtype=float)
            constant = len(values) == 0 or bool(np.ptp(values) == 0)
        else:
            constant = col.nunique(dropna=False) <= 1
        if constant:
            raise ConstantColumnError(
                f"{role} column {name!r} is constant; it carries no information "
                "and makes the model singular: drop it")


def check_frame(data: Any, *, roles: dict[str, Any], numeric: bool = True,
                min_rows: int = 1) -> pd.DataFrame:
    """Run the common checks on every column named in ``roles`` and return the DataFrame.

    ``roles`` maps a role name (``"treatment"``, ``"covariates"``, ...) to its
    column(s).  Columns must exist, be numeric (when ``numeric``) and hold no
    NaN or infinite values; the frame must have at least ``min_rows`` rows
    (:class:`TooFewRowsError`; an empty frame is never estimable).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [0, 1], "y": [1.0, float("nan")]})
    >>> try:
    ...     check_frame(df, roles={"treatment": "t", "outcome": "y"})
    ... except MissingValueError as err:
    ...     print(err)
    outcome column 'y' has 1 missing (NaN) value(s) out of 2; drop or impute them before estimating
    """
    frame = as_dataframe(data)
    for role, cols in roles.items():
        names = require_columns(frame, cols, role=_singular(role))
        if numeric:
            require_numeric(frame, names, role=_singular(role))
        require_finite(frame, names, role=_singular(role))
    if len(frame) < min_rows:
        raise TooFewRowsError(f"the data has {len(frame)} row(s); at least {min_rows} "
                              f"{'is' if min_rows == 1 else 'are'} needed")
    return frame


def cluster_groups(data: pd.DataFrame, cluster: Any, max_columns: int = 2,
                   method: str = "this method") -> tuple[np.ndarray | None, list[Any]]:
    """Integer cluster codes from one cluster column (shape (n,)) or several ((n, m)).

    ``cluster`` is a column name or a list of them (multiway clustering); more
    than ``max_columns`` is an :class:`~causalkit.errors.OptionError`.  Cluster
    labels may be strings but not missing, and each column needs at least two
    clusters (:class:`ConstantColumnError`).  Returns ``(None, [])`` without a cluster.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"s": ["a", "b", "a"], "y": [1, 1, 2]})
    >>> codes, names = cluster_groups(df, ["s", "y"])
    >>> codes.tolist(), names
    ([[0, 0], [1, 0], [0, 1]], ['s', 'y'])
    """
    names = as_column_list(cluster)
    if not names:
        if cluster is not None:
            raise RoleError("cluster= is an empty list; give a column name or omit it")
        return None, []
    if len(names) > max_columns:
        ways = "one cluster column" if max_columns == 1 else \
            f"at most {max_columns} cluster columns (two-way clustering)"
        raise OptionError(f"{method} supports {ways}, got {len(names)}: "
                          f"{', '.join(map(repr, names))}")
    require_columns(data, names, role="cluster")
    require_finite(data, names, role="cluster")
    codes = np.column_stack([pd.factorize(data[c])[0] for c in names])
    for name, col in zip(names, codes.T):
        if len(col) and col.max() < 1:
            raise ConstantColumnError(f"cluster column {name!r} has a single cluster; "
                                      "cluster-robust standard errors need at least 2")
    return (codes[:, 0] if len(names) == 1 else codes), names


def _singular(role: str) -> str:
    return {"covariates": "covariate", "instruments": "instrument"}.get(role, role)


class PreparedData:
    """Validated arrays for a binary-treatment estimator (see :func:`prepare`).

    Attributes: ``frame`` (the DataFrame), ``t`` (0/1 ints), ``y`` (floats),
    ``X`` (2-D float covariate matrix, possibly with 0 columns), ``covariates``
    (names), ``n_treated``, ``n_control``, ``cluster`` (integer cluster codes,
    (n,) or (n, 2) for two-way clustering, or ``None``).
    """

    __slots__ = ("frame", "t", "y", "X", "covariates", "n_treated", "n_control", "cluster",
                 "treatment", "outcome")

    def __init__(self, frame: pd.DataFrame, treatment: str, outcome: str, t: np.ndarray,
                 y: np.ndarray, X: np.ndarray, covariates: list[str], n_treated: int,
                 n_control: int, cluster: np.ndarray | None) -> None:
        self.frame, self.treatment, self.outcome = frame, treatment, outcome
        self.t, self.y, self.X, self.covariates = t, y, X, covariates
        self.n_treated, self.n_control, self.cluster = n_treated, n_control, cluster

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.t.shape[0])


def prepare(data: Any, treatment: Any, outcome: Any,
            covariates: Any = None, *, cluster: Any = None,
            min_per_arm: int = 2, min_rows: int | None = None,
            check_constant_covariates: bool = True) -> PreparedData:
    """Validate the roles of a binary-treatment estimator and return numpy arrays.

    Checks: columns exist (with a suggestion), are numeric, hold no NaN/inf;
    the treatment is binary; each arm has at least ``min_per_arm`` units; there
    are enough rows for the covariates; no covariate is constant.  Covariates
    given as a formula or as categorical columns are built into numeric columns
    first (:func:`causalkit.formula.covariate_design`; the registered estimators
    have done so already, this serves direct callers).

    >>> import pandas as pd
    >>> p = prepare(pd.DataFrame({"t": [0, 1, 0, 1], "y": [1., 2., 3., 4.]}), "t", "y")
    >>> p.n_treated, p.n_control, p.X.shape
    (2, 2, (4, 0))
    """
    frame = as_dataframe(data)
    from .formula import covariate_design, needs_design   # formula imports this module

    if needs_design(frame, covariates):
        design = covariate_design(frame, covariates)
        frame, covs = design.frame, list(design.columns)
    else:
        covs = as_column_list(covariates)
    require_columns(frame, treatment, role="treatment")
    require_finite(frame, [treatment], role="treatment")
    t = binary_treatment(frame, treatment)
    frame = check_frame(frame, roles={"outcome": outcome, "covariates": covs})
    if treatment in covs or outcome in covs:
        raise RoleError("the treatment and the outcome cannot also be covariates")
    if treatment == outcome:
        raise RoleError(f"treatment and outcome are the same column {treatment!r}")
    groups, _ = cluster_groups(frame, cluster)
    n_treated, n_control = require_both_arms(t, treatment, min_per_arm=min_per_arm)
    require_rows(len(frame), min_rows if min_rows is not None else len(covs) + 3,
                 what=f"estimation with {len(covs)} covariate(s)")
    if check_constant_covariates:
        require_varies(frame, covs)
    y = frame[outcome].to_numpy(dtype=float)
    X = frame[covs].to_numpy(dtype=float) if covs else np.empty((len(frame), 0))
    return PreparedData(frame, treatment, outcome, t, y, X, covs, n_treated, n_control, groups)
