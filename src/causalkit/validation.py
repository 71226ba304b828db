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
    PointMassError,
    RoleError,
    TooFewRowsError,
    TreatmentNotBinaryError,
    TreatmentNotContinuousError,
    WeightsError,
)


def as_dataframe(data: Any, columns: Sequence[Any] | None = None) -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame.

    Dicts of columns and structured arrays are accepted, and any dataframe that
    `narwhals <https://narwhals-dev.github.io/narwhals/>`_ knows (polars, pyarrow
    tables, DuckDB relations, Modin, cuDF, ...; lazy frames are collected).
    Non-pandas frames are converted column by column through NumPy, which for
    numeric columns without missing values shares the memory (no copy); with
    ``columns``, only those of them that exist are converted (the checks that
    follow name a missing one).

    >>> as_dataframe({"a": [1, 2]}).shape
    (2, 1)
    """
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (dict, np.ndarray)) and not (isinstance(data, np.ndarray)
                                                     and data.dtype.names is None):
        return pd.DataFrame(data)
    converted = _from_narwhals(data, columns)
    if converted is not None:
        return converted
    raise DataError(
        f"data must be a pandas DataFrame (or a dict of columns, or a polars / pyarrow / DuckDB "
        f"frame), got {type(data).__name__}")


def _from_narwhals(data: Any, columns: Sequence[Any] | None) -> pd.DataFrame | None:
    """A narwhals-compatible frame as pandas (``None`` when ``data`` is not one)."""
    try:
        import narwhals as nw
    except ImportError:                                     # pragma: no cover - sklearn needs it
        return None
    frame = nw.from_native(data, pass_through=True)
    if frame is data:
        return None
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    if not isinstance(frame, nw.DataFrame):
        return None
    names = list(frame.columns)
    if columns is not None:
        wanted = set(columns)
        names = [c for c in names if c in wanted]
    return pd.DataFrame({c: frame[c].to_numpy() for c in names}, copy=False)


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


def numeric_treatment(data: pd.DataFrame, column: str) -> np.ndarray:
    """The treatment column as floats for an estimator of a continuous (or binary) treatment.

    Numeric or boolean, finite and not constant (:class:`ConstantColumnError`: there
    is no variation in the treatment to learn an effect from).

    >>> numeric_treatment(pd.DataFrame({"d": [0.5, 1.5, 2.0]}), "d").tolist()
    [0.5, 1.5, 2.0]
    """
    require_numeric(data, [column], role="treatment")
    require_finite(data, [column], role="treatment")
    values = data[column].to_numpy(dtype=float)
    if len(values) and np.ptp(values) == 0:
        raise ConstantColumnError(f"treatment column {column!r} is constant ({values[0]:g}); "
                                  "an effect needs variation in the treatment")
    return values


def categorical_treatment(data: pd.DataFrame, column: str, max_levels: int = 10,
                          min_per_arm: int = 2) -> tuple[np.ndarray, list[Any]]:
    """Arm codes ``0..K-1`` and the sorted arm labels of a multi-valued treatment.

    Any column type (numbers, strings, categories, booleans) with at least two and
    at most ``max_levels`` distinct values, none missing; a numeric column with
    more levels is refused as a continuous treatment (:class:`TreatmentNotBinaryError`,
    the error a binary-treatment method gives); an arm with fewer than ``min_per_arm``
    units is an :class:`EmptyArmError` naming the arm.

    >>> codes, levels = categorical_treatment(pd.DataFrame({"a": ["b", "a", "c", "a", "b", "c"]}),
    ...                                       "a", min_per_arm=2)
    >>> codes.tolist(), levels
    ([1, 0, 2, 0, 1, 2], ['a', 'b', 'c'])
    """
    col = data[column]
    n_missing = int(col.isna().sum())
    if n_missing:
        raise MissingValueError(f"treatment column {column!r} has {n_missing} missing value(s) "
                                f"out of {len(col)}; drop or impute them before estimating")
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        require_finite(data, [column], role="treatment")
    codes, uniques = pd.factorize(col, sort=True)
    levels = list(uniques)
    if len(levels) > max_levels:
        kind = ("a continuous treatment" if pd.api.types.is_numeric_dtype(col)
                else "too many arms")
        raise TreatmentNotBinaryError(
            f"treatment column {column!r} takes {len(levels)} distinct values, more than "
            f"max_levels={max_levels} arms of a multi-valued treatment ({kind}); use a "
            "method for continuous treatments (dml_plr) or raise max_levels")
    if len(levels) < 2:
        raise ConstantColumnError(f"treatment column {column!r} is constant"
                                  + (f" ({levels[0]!r})" if levels else "")
                                  + "; an effect needs at least two arms")
    counts = np.bincount(codes, minlength=len(levels))
    small = [(lv, int(c)) for lv, c in zip(levels, counts) if c < min_per_arm]
    if small:
        shown = ", ".join(f"{lv!r} ({c} unit{'s' if c != 1 else ''})" for lv, c in small)
        raise EmptyArmError(f"treatment column {column!r}: arm {shown} has fewer than "
                            f"{min_per_arm} units; drop or merge the arm")
    return codes.astype(int), [lv.item() if hasattr(lv, "item") else lv for lv in levels]


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


def sample_weights(data: pd.DataFrame, weights: Any) -> np.ndarray | None:
    """The sampling (survey) weights in column ``weights`` as floats, validated (or ``None``).

    The one check every weighted estimator calls: the column must exist
    (:class:`ColumnNotFoundError`, with a suggestion), be numeric
    (:class:`NonNumericColumnError`), hold no NaN or infinite value
    (:class:`MissingValueError`), no negative value and at least one positive
    one (:class:`~causalkit.errors.WeightsError`).  Only the relative sizes of the
    weights matter to every estimator (they are survey weights: a unit with weight
    2 stands for twice as many population units as one with weight 1).

    >>> import pandas as pd
    >>> sample_weights(pd.DataFrame({"w": [1, 2.5]}), "w").tolist()
    [1.0, 2.5]
    >>> try:
    ...     sample_weights(pd.DataFrame({"w": [1.0, -2.0]}), "w")
    ... except WeightsError as err:
    ...     print(err)
    weights column 'w' has 1 negative value(s) (smallest -2); sampling weights must be >= 0
    """
    if weights is None:
        return None
    if not _is_label(weights):
        raise RoleError(f"weights= must name one column of sampling weights, got {weights!r}")
    require_columns(data, [weights], role="weights")
    require_numeric(data, [weights], role="weights")
    require_finite(data, [weights], role="weights")
    w = data[weights].to_numpy(dtype=float)
    negative = w < 0
    if negative.any():
        raise WeightsError(f"weights column {weights!r} has {int(negative.sum())} negative "
                           f"value(s) (smallest {w.min():g}); sampling weights must be >= 0")
    if not (w > 0).any():
        raise WeightsError(f"weights column {weights!r} has no positive weight"
                           + (" (all are zero)" if len(w) else " (the data is empty)"))
    return w


def weighted_rows(data: Any, weights: Any) -> tuple[pd.DataFrame, np.ndarray | None]:
    """``(frame, w)``: the rows of positive weight and their weights (:func:`sample_weights`).

    A unit of zero weight stands for no one in the population: it is dropped
    before any other check (as Stata and pyfixest do), so arms, cells and
    panels are checked on the units that count.  Without ``weights`` the frame
    is returned whole with ``w = None``.

    >>> import pandas as pd
    >>> frame, w = weighted_rows(pd.DataFrame({"y": [1, 2, 3], "w": [0, 1, 2]}), "w")
    >>> frame["y"].tolist(), w.tolist()
    ([2, 3], [1.0, 2.0])
    """
    frame = as_dataframe(data)
    w = sample_weights(frame, weights)
    if w is None or (w > 0).all():
        return frame, w
    positive = w > 0
    return frame.loc[positive], w[positive]


def _singular(role: str) -> str:
    return {"covariates": "covariate", "instruments": "instrument"}.get(role, role)


class PreparedData:
    """Validated arrays for a binary-treatment estimator (see :func:`prepare`).

    Attributes: ``frame`` (the DataFrame), ``t`` (0/1 ints), ``y`` (floats),
    ``X`` (2-D float covariate matrix, possibly with 0 columns), ``covariates``
    (names), ``n_treated``, ``n_control``, ``cluster`` (integer cluster codes,
    (n,) or (n, 2) for two-way clustering, or ``None``), ``w`` (positive sampling
    weights, or ``None``; rows of zero weight are not in ``frame``).
    """

    __slots__ = ("frame", "t", "y", "X", "covariates", "n_treated", "n_control", "cluster",
                 "treatment", "outcome", "w")

    def __init__(self, frame: pd.DataFrame, treatment: str, outcome: str, t: np.ndarray,
                 y: np.ndarray, X: np.ndarray, covariates: list[str], n_treated: int,
                 n_control: int, cluster: np.ndarray | None,
                 w: np.ndarray | None = None) -> None:
        self.frame, self.treatment, self.outcome = frame, treatment, outcome
        self.t, self.y, self.X, self.covariates = t, y, X, covariates
        self.n_treated, self.n_control, self.cluster = n_treated, n_control, cluster
        self.w = w

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.t.shape[0])


def prepare(data: Any, treatment: Any, outcome: Any,
            covariates: Any = None, *, cluster: Any = None,
            min_per_arm: int = 2, min_rows: int | None = None,
            check_constant_covariates: bool = True, weights: Any = None) -> PreparedData:
    """Validate the roles of a binary-treatment estimator and return numpy arrays.

    Checks: columns exist (with a suggestion), are numeric, hold no NaN/inf;
    the treatment is binary; each arm has at least ``min_per_arm`` units; there
    are enough rows for the covariates; no covariate is constant.  With
    ``weights`` (a column of sampling weights, :func:`weighted_rows`) the rows of
    zero weight are dropped first and ``w`` holds the positive weights.
    Covariates
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
    frame, w = weighted_rows(frame, weights)
    if weights is not None and weights in (treatment, outcome, *covs):
        raise RoleError(f"weights column {weights!r} cannot also be the treatment, the "
                        "outcome or a covariate")
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
    return PreparedData(frame, treatment, outcome, t, y, X, covs, n_treated, n_control, groups,
                        w)


# ------------------------------------------------------------------ continuous treatments
def point_mass(values: np.ndarray) -> tuple[float, float]:
    """The most frequent value of ``values`` and the share of units that take it.

    >>> point_mass(np.array([0.0, 0.0, 1.5, 2.0]))
    (0.0, 0.5)
    """
    levels, counts = np.unique(np.asarray(values, dtype=float), return_counts=True)
    top = int(np.argmax(counts))
    return float(levels[top]), float(counts[top] / max(len(values), 1))


#: Fewest distinct values a treatment needs to be treated as continuous.
MIN_DOSE_LEVELS = 5


def continuous_treatment(data: pd.DataFrame, column: Any, method: str) -> np.ndarray:
    """The treatment column as floats, refused unless it is continuous.

    A 0/1 (or boolean) treatment is a :class:`TreatmentNotContinuousError` that
    points to the binary-treatment estimators; so is one with fewer than
    :data:`MIN_DOSE_LEVELS` distinct values (a multi-valued treatment, for which a
    dose-response curve by kernel smoothing is not defined).

    >>> continuous_treatment(pd.DataFrame({"a": [0.5, 1.0, 2.0, 3.5, 4.0]}), "a", "m").tolist()
    [0.5, 1.0, 2.0, 3.5, 4.0]
    """
    require_columns(data, column, role="treatment")
    require_numeric(data, [column], role="treatment")
    require_finite(data, [column], role="treatment")
    col = data[column]
    values = col.to_numpy(dtype=float)
    levels = np.unique(values)
    if pd.api.types.is_bool_dtype(col) or (levels.size == 2 and set(levels) <= {0.0, 1.0}):
        raise TreatmentNotContinuousError(
            f"{method} needs a continuous treatment, but treatment column {column!r} is "
            "binary (0/1); use a binary-treatment estimator such as method='aipw' or 'ipw'")
    if levels.size < MIN_DOSE_LEVELS:
        shown = ", ".join(f"{v:g}" for v in levels)
        raise TreatmentNotContinuousError(
            f"{method} needs a continuous treatment, but treatment column {column!r} takes "
            f"only {levels.size} distinct value(s) ({shown}); a treatment with few levels is "
            "multi-valued, not a dose")
    return values


POINT_MASS_ACTIONS = ("refuse", "exclude", "ignore")


def check_point_mass(values: np.ndarray, column: Any, method: str, action: str,
                     threshold: float) -> tuple[np.ndarray, dict[str, Any]]:
    """Detect a point mass in a continuous treatment and apply ``action`` to it.

    A value taken by at least ``threshold`` of the units (e.g. 40% zeros: non-users
    beside a continuous dose among users) makes the treatment a mixture: its
    conditional density has an atom, which a normal or kernel density cannot
    represent, so the generalized propensity score is wrong there.  ``action``:

    * ``"refuse"`` (default): a :class:`PointMassError` naming the value and share;
    * ``"exclude"``: drop the units at the atom; the curve is then that of the units
      whose dose is off the atom (``E[Y(a) | A != atom]``), a different estimand;
    * ``"ignore"``: keep them (for a heaped but truly continuous dose, e.g. values
      rounded to multiples of 5), said in the diagnostics.

    Returns the mask of rows kept and a diagnostics dict.

    >>> keep, diag = check_point_mass(np.r_[np.zeros(4), np.arange(1.0, 7.0)], "a", "m",
    ...                               "exclude", 0.2)
    >>> int(keep.sum()), diag["point_mass_value"], diag["point_mass_share"]
    (6, 0.0, 0.4)
    """
    if action not in POINT_MASS_ACTIONS:
        raise OptionError(f"point_mass must be one of {', '.join(POINT_MASS_ACTIONS)}, "
                          f"got {action!r}")
    if isinstance(threshold, bool) or not 0.0 < float(threshold) <= 1.0:
        raise OptionError(f"point_mass_threshold must be a share in (0, 1], got {threshold!r}")
    value, share = point_mass(values)
    diag: dict[str, Any] = {"point_mass_value": value, "point_mass_share": share,
                            "point_mass_action": "none (no point mass)"}
    keep = np.ones(len(values), dtype=bool)
    if share < float(threshold):
        return keep, diag
    if action == "refuse":
        raise PointMassError(
            f"treatment column {column!r} has a point mass: {share:.1%} of the units take "
            f"the value {value:g}, so it is not continuous there and {method}'s treatment "
            "density is wrong at that value; pass point_mass='exclude' to estimate the curve "
            "among the units off the point mass, or point_mass='ignore' if the dose is "
            "continuous and only heaped by rounding")
    if action == "exclude":
        keep = values != value
        diag["point_mass_action"] = (f"excluded the {int((~keep).sum())} units at {value:g}: "
                                     f"the curve is that of units with {column} != {value:g}")
    else:
        diag["point_mass_action"] = (f"ignored ({share:.1%} of the units at {value:g} kept "
                                     "and treated as continuous)")
    return keep, diag


class ContinuousData:
    """Validated arrays for a continuous-treatment estimator (see :func:`prepare_continuous`).

    Attributes: ``frame``, ``treatment``, ``outcome``, ``a`` (doses, floats),
    ``y``, ``X`` (2-D, possibly 0 columns), ``covariates`` and ``diagnostics``
    (the point-mass report).
    """

    __slots__ = ("frame", "treatment", "outcome", "a", "y", "X", "covariates", "diagnostics")

    def __init__(self, frame: pd.DataFrame, treatment: Any, outcome: Any, a: np.ndarray,
                 y: np.ndarray, X: np.ndarray, covariates: list[Any],
                 diagnostics: dict[str, Any]) -> None:
        self.frame, self.treatment, self.outcome = frame, treatment, outcome
        self.a, self.y, self.X, self.covariates = a, y, X, covariates
        self.diagnostics = diagnostics

    @property
    def n(self) -> int:
        """Number of rows used."""
        return int(self.a.shape[0])


def prepare_continuous(data: Any, treatment: Any, outcome: Any, covariates: Any, *,
                       method: str, point_mass_action: str = "refuse",
                       point_mass_threshold: float = 0.1, min_rows: int = 20) -> ContinuousData:
    """Validate the roles of a continuous-treatment estimator and return numpy arrays.

    The checks of :func:`prepare` (columns exist, numeric, finite; no constant
    covariate; enough rows), then :func:`continuous_treatment` and
    :func:`check_point_mass`.

    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"a": rng.normal(size=30), "y": rng.normal(size=30)})
    >>> prepare_continuous(df, "a", "y", None, method="m").X.shape
    (30, 0)
    """
    covs = as_column_list(covariates)
    frame = as_dataframe(data)
    a = continuous_treatment(frame, treatment, method)
    frame = check_frame(frame, roles={"outcome": outcome, "covariates": covs})
    if treatment in covs or outcome in covs:
        raise RoleError("the treatment and the outcome cannot also be covariates")
    if treatment == outcome:
        raise RoleError(f"treatment and outcome are the same column {treatment!r}")
    keep, diag = check_point_mass(a, treatment, method, point_mass_action, point_mass_threshold)
    require_rows(int(keep.sum()), max(min_rows, len(covs) + 5),
                 what=f"{method} with {len(covs)} covariate(s)")
    frame = frame.loc[keep] if not keep.all() else frame
    require_varies(frame, covs)
    y = frame[outcome].to_numpy(dtype=float)
    X = frame[covs].to_numpy(dtype=float) if covs else np.empty((len(frame), 0))
    return ContinuousData(frame, treatment, outcome, a[keep], y, X, covs, diag)
