"""The exception hierarchy of causalkit.

Every problem causalkit detects in its input raises a subclass of
:class:`CausalKitError`, whose message names the column, node or option at
fault and what is wrong with it.  Catch :class:`CausalKitError` to handle them
all.

Example
-------
>>> import pandas as pd, causalkit
>>> try:
...     causalkit.estimate(pd.DataFrame({"t": [0, 1]}), "t", "y")
... except causalkit.CausalKitError as err:
...     print(type(err).__name__)
ColumnNotFoundError
"""

from __future__ import annotations


class CausalKitError(Exception):
    """Base class of every error causalkit raises on purpose."""


class DataError(CausalKitError, ValueError):
    """The data cannot be used as given."""


class ColumnNotFoundError(DataError):
    """A column named in a role is not in the DataFrame."""


class MissingValueError(DataError):
    """A used column holds NaN or infinite values."""


class NonNumericColumnError(DataError):
    """A column that must be numeric is not."""


class TreatmentNotBinaryError(DataError):
    """The method needs a binary (0/1 or boolean) treatment and got something else."""


class TreatmentNotContinuousError(DataError):
    """The method needs a continuous treatment and got a binary or near-constant one."""


class PointMassError(DataError):
    """A continuous treatment has a point mass (one value taken by a large share of units)."""


class EmptyArmError(DataError):
    """One arm of the treatment has no (or too few) units."""


class TooFewRowsError(DataError):
    """There are not enough rows to estimate anything."""


class ConstantColumnError(DataError):
    """A column that must vary is constant."""


class OverlapError(DataError):
    """Treated and control units do not overlap in their covariates."""


class RoleError(CausalKitError, ValueError):
    """A role (treatment, outcome, instrument, ...) is missing or not accepted by the method."""


class WeightsError(DataError):
    """A sampling-weights column has negative values or no positive weight."""


class OptionError(CausalKitError, ValueError):
    """An option has an invalid value (alpha outside (0, 1), unknown estimand, ...)."""


class OutputPathError(CausalKitError, OSError):
    """A file or directory causalkit was asked to write cannot be written (no permission, a file in the way)."""


class WeightsNotSupportedError(OptionError, RoleError):
    """``weights=`` was given to a method that does not define sampling weights."""


class UnknownMethodError(CausalKitError, KeyError):
    """No estimator is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RegistryError(CausalKitError, ValueError):
    """An estimator could not be registered (duplicate name, bad specification)."""


class GraphError(CausalKitError, ValueError):
    """A causal graph is malformed or a query on it is meaningless."""


class CyclicGraphError(GraphError):
    """The graph has a directed cycle, so it is not a DAG."""


class UnknownNodeError(GraphError):
    """A node named in a query is not in the graph."""


class NotIdentifiableError(CausalKitError):
    """The causal effect is not identified by the requested strategy."""


class EstimationError(CausalKitError, RuntimeError):
    """The estimator could not produce a number from valid-looking input."""


class SingularInformationError(EstimationError):
    """A likelihood's information matrix is singular without the arms separating
    (collinear columns, or a direction along which the scores ran to 0 or 1): callers
    that can fall back to a penalized fit catch this one."""


class DuplicatePanelRowError(DataError):
    """A panel has more than one row for the same unit and period."""


class SensitivityNotApplicableError(CausalKitError, ValueError):
    """A sensitivity analysis was asked of an effect whose method it does not apply to."""


class FormulaError(RoleError):
    """A formula (covariates, a nuisance model or the whole model) that cannot be read."""


class UnseenLevelError(DataError):
    """A categorical level in new data that the fitted model never saw."""


class ProbabilityError(DataError):
    """A probability (a propensity score, a policy's action distribution) is outside its range
    or does not sum to 1."""
