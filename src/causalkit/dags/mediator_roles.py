"""The ``mediators`` (and covariates) that ``estimate(..., dag=)`` gives the mediator estimators.

``frontdoor`` gets the front-door set that :func:`~causalkit.dags.identify`
finds (NotIdentifiableError when there is none); ``mediation`` gets the
mediators and covariates of :func:`~causalkit.dags.mediation.mediation_sets`,
which refuses, naming the confounder, when the natural effects are not identified.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> dag = CausalDAG([("X", "M"), ("M", "Y")], bidirected=[("X", "Y")])
>>> mediator_roles(dag, "frontdoor", "X", "Y", None, {})
(None, {'mediators': ['M']})
"""

from __future__ import annotations

from typing import Any

from ..errors import NotIdentifiableError
from .frontdoor import frontdoor_sets
from .graph import CausalDAG
from .mediation import mediation_sets


def mediator_roles(graph: CausalDAG, method: str, treatment: Any, outcome: Any,
                   covariates: list[str] | None, options: dict[str, Any]
                   ) -> tuple[list[str] | None, dict[str, Any]]:
    """(covariates, options) with ``mediators`` filled in from the DAG where missing."""
    options = dict(options)
    given = options.get("mediators")
    if method == "mediation":
        meds, covs = mediation_sets(graph, treatment, outcome, given)
        options["mediators"] = meds if given is None else given
        return (covs if covariates is None else covariates), options
    if given is None:
        sets = frontdoor_sets(graph, treatment, outcome)
        if not sets:
            raise NotIdentifiableError(f"the DAG has no front-door set for {treatment} -> "
                                       f"{outcome}; {graph.identify(treatment, outcome).explanation}")
        options["mediators"] = sorted(map(str, sets[0]))
    return covariates, options
