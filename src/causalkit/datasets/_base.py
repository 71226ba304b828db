"""`CausalDataset`: a DataFrame together with its roles, generating DAG and truth.

Example
-------
>>> import pandas as pd
>>> ds = CausalDataset(name="toy", data=pd.DataFrame({"t": [0, 1], "y": [0.0, 1.0]}),
...                    roles={"treatment": "t", "outcome": "y"}, truth={"ATE": 1.0})
>>> ds.true_effect("ATE"), ds.n_obs
(1.0, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import GraphError, NotIdentifiableError, OptionError

#: The design a dataset illustrates; it decides which estimators it is paired with.
DESIGNS = ("backdoor", "iv", "rd", "did", "panel")

#: Roles that define a design (an estimator that needs one only fits datasets that have it).
DESIGN_ROLES = ("instrument", "running", "cutoff", "post", "unit", "time", "cohort")

#: For each design, the roles an estimator must accept to be paired with it.
DESIGN_KEY_ROLES: Mapping[str, tuple[str, ...]] = {
    "backdoor": (), "iv": ("instrument",), "rd": ("running",), "did": ("post",),
    "panel": ("unit", "time"),
}


@dataclass(frozen=True)
class Reference:
    """A published estimate on a real dataset and how to reproduce it."""

    estimate: float
    method: str
    estimand: str
    citation: str
    std_error: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class CausalDataset:
    """A dataset for causal estimation: data, roles, generating DAG and truth.

    Attributes
    ----------
    name, description
        Short identifier and one paragraph on what the data are.
    data
        The DataFrame (one row per unit, or unit-period for panels).
    roles
        Role name -> column name(s): ``treatment``, ``outcome``, ``covariates``
        (all observed pre-treatment columns, a list), ``instrument``,
        ``running``, ``cutoff`` (a number), ``post``, ``unit``, ``time``, ``cohort``,
        ``weights`` (sampling weights: the benchmark fits the methods that take them).
    design
        One of ``backdoor``, ``iv``, ``rd``, ``did``, ``panel``.
    truth
        Estimand -> true value (``ATE``, ``ATT``, ``LATE``) for synthetic data;
        empty for real data.
    cate
        Per-row true conditional effect where defined.
    dag
        The generating :class:`causalkit.dags.CausalDAG` (``None`` if the DAG layer
        is unavailable); ``edges`` and ``latent`` keep its definition.
    adjustment
        A valid backdoor adjustment set stated by the generator (used when no
        DAG layer is installed; ``None`` when adjustment does not identify the effect).
    reference, citation, licence, source
        For real data: the published estimate, the citation and the data licence.
    holdout, holdout_cate
        Held-out rows (same columns as ``data``) and their true conditional
        effects, for out-of-sample CATE scores (IHDP's 10% test split, the CATE
        design family); ``None`` when the dataset has no held-out part.
    """

    name: str
    data: pd.DataFrame
    roles: dict[str, Any]
    design: str = "backdoor"
    truth: dict[str, float] = field(default_factory=dict)
    cate: np.ndarray | None = None
    edges: tuple[tuple[str, str], ...] = ()
    latent: tuple[str, ...] = ()
    adjustment: tuple[str, ...] | None = None
    description: str = ""
    reference: Reference | None = None
    citation: str = ""
    licence: str = ""
    source: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    holdout: pd.DataFrame | None = None
    holdout_cate: np.ndarray | None = None
    _dag: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise OptionError(f"design must be one of {', '.join(DESIGNS)}, got {self.design!r}")

    # ------------------------------------------------------------------ views
    @property
    def n_obs(self) -> int:
        """Number of rows."""
        return int(len(self.data))

    @property
    def treatment(self) -> str | None:
        return self.roles.get("treatment")

    @property
    def outcome(self) -> str | None:
        return self.roles.get("outcome")

    @property
    def covariates(self) -> list[str]:
        """All observed pre-treatment covariates (not necessarily a valid set)."""
        return list(self.roles.get("covariates") or [])

    @property
    def ate(self) -> float | None:
        return self.truth.get("ATE")

    @property
    def att(self) -> float | None:
        return self.truth.get("ATT")

    @property
    def binary_treatment(self) -> bool:
        """Whether the treatment column holds only 0 and 1."""
        t = self.treatment
        if t is None or t not in self.data:
            return False
        values = pd.unique(self.data[t].dropna())
        return len(values) <= 2 and set(np.asarray(values, dtype=float)) <= {0.0, 1.0}

    def true_effect(self, estimand: str) -> float | None:
        """The true value of ``estimand``; ``None`` when unknown (real data).

        RD and IV designs define one effect (at the cutoff / for compliers),
        returned for any estimand name.
        """
        if estimand in self.truth:
            return float(self.truth[estimand])
        if self.design in ("rd", "iv") and self.truth:
            return float(next(iter(self.truth.values())))
        return None

    # ------------------------------------------------------------------ graph
    @property
    def dag(self) -> Any:
        """The generating :class:`causalkit.dags.CausalDAG`, or ``None``.

        Built on first access from :attr:`edges` and :attr:`latent`; ``None``
        when the dataset has no graph or the DAG layer cannot be imported.
        """
        if self._dag is None and self.edges:
            try:
                from ..dags import CausalDAG  # lazy: the DAG layer is optional here
            except ImportError:
                return None
            self._dag = CausalDAG(edges=list(self.edges), latent=tuple(self.latent))
        return self._dag

    def adjustment_set(self, kind: str = "minimal") -> list[str]:
        """A backdoor adjustment set for the treatment effect, from the DAG.

        Uses ``dag.adjustment_set(treatment, outcome, kind)`` when the DAG layer
        is available, else the set the generator states.  Raises
        :class:`~causalkit.errors.NotIdentifiableError` when adjustment does not
        identify the effect (e.g. an unobserved confounder).
        """
        dag = self.dag
        if dag is not None:
            try:
                chosen = dag.adjustment_set(self.treatment, self.outcome, kind=kind)
            except NotIdentifiableError:
                raise
            except (GraphError, TypeError, AttributeError, NotImplementedError):
                chosen = None
            if chosen is not None:
                return sorted(chosen)
        if self.adjustment is None:
            raise NotIdentifiableError(
                f"dataset {self.name!r}: no backdoor adjustment set identifies the effect "
                f"of {self.treatment!r} on {self.outcome!r}")
        return list(self.adjustment)

    def role_kwargs(self, accepted: Sequence[str]) -> dict[str, Any]:
        """The dataset's roles restricted to ``accepted`` (for ``causalkit.estimate``)."""
        return {r: v for r, v in self.roles.items() if r in accepted and v is not None}

    def reproduce_reference(self, **options: Any) -> Any:
        """Fit the reference's estimator on the data and return its :class:`Effect`.

        Uses ``reference.method`` with the dataset's roles (covariates only when
        the reference names them in ``reference.options``); compare the result
        with ``reference.estimate``.
        """
        if self.reference is None:
            raise OptionError(f"dataset {self.name!r} has no published reference estimate")
        from ..api import estimate
        from ..registry import get

        spec = get(self.reference.method)
        roles = {k: v for k, v in self.role_kwargs(spec.accepted_roles).items()
                 if k != "covariates"}
        kwargs = {**roles, **dict(self.reference.options), **options}
        return estimate(self.data, method=spec.name, **kwargs)

    def summary(self) -> dict[str, Any]:
        """One row for the dataset listing: name, design, size, truth or reference."""
        ref = self.reference
        return {
            "name": self.name, "design": self.design, "n_obs": self.n_obs,
            "treatment": self.treatment, "outcome": self.outcome,
            "truth": ", ".join(f"{k}={v:.4g}" for k, v in self.truth.items()) or None,
            "reference": (f"{ref.estimand} {ref.estimate:,.6g} ({ref.method})" if ref else None),
            "licence": self.licence or None,
        }
