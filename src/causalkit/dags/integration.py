"""How `causalkit.estimate(..., dag=...)` uses the DAG.

With no ``covariates`` and an estimator whose covariates are an adjustment set,
the DAG's set (``adjustment="optimal"`` by default; also ``"minimal"``,
``"smallest"``, ``"canonical"``) is used, or NotIdentifiableError is raised when
no set of observed variables identifies the effect.  IV methods (role
``instrument``) take the instrument from the DAG when none is given; methods
with the role ``mediators`` take the front-door set or the mediators (and the
covariates that identify natural effects) from it; methods with a ``graph``
option receive the DAG.

When the DAG has no causal path from the treatment to the outcome, the effect
is zero by the graph.  If an adjustment set exists it is used as usual: the
estimate is then a test of that zero.  If none exists (``X <- U -> Y`` with U
latent), the observed contrast is not the effect, so NotIdentifiableError says
the effect is zero by the graph rather than returning a biased non-zero number.

Example
-------
>>> from causalkit.registry import get
>>> covs, opts = apply_dag("dag { Z -> T; Z -> Y; T -> Y }", get("regression_adjustment"),
...                        treatment="T", outcome="Y", covariates=None, options={})
>>> covs
['Z']
"""

from __future__ import annotations

from typing import Any

from ..errors import GraphError, NotIdentifiableError, OptionError
from .adjustment import KINDS
from .graph import CausalDAG, as_dag


def apply_dag(dag: Any, spec: Any, *, treatment: Any, outcome: Any,
              covariates: list[str] | None, options: dict[str, Any]
              ) -> tuple[list[str] | None, dict[str, Any]]:
    """Return the covariates (and options) that ``estimate`` should use given ``dag``."""
    graph: CausalDAG = as_dag(dag)
    options = dict(options)
    kind = options.pop("adjustment", "optimal")
    if kind not in KINDS:
        raise OptionError(f"adjustment={kind!r} is not a kind of adjustment set; use one of "
                          f"{', '.join(KINDS)}")
    if treatment is None or outcome is None:
        raise GraphError("estimate(dag=...) needs the treatment and outcome named")
    roles = tuple(spec.roles) + tuple(spec.optional_roles)
    if "graph" in spec.option_names and options.get("graph") is None:
        options["graph"] = graph
    if "mediators" in roles:
        from .mediator_roles import mediator_roles

        return mediator_roles(graph, spec.name, treatment, outcome, covariates, options)
    if "instrument" in roles:
        if options.get("instrument") is None:
            ivs = graph.instruments(treatment, outcome)
            if not ivs:
                raise NotIdentifiableError(
                    f"the DAG implies no instrument for {treatment} -> {outcome}; "
                    f"{graph.identify(treatment, outcome).explanation}")
            plain = [i for i in ivs if not i.conditional]
            if plain:
                options["instrument"] = [str(i.instrument) for i in plain] if len(plain) > 1 \
                    else str(plain[0].instrument)
            else:
                options["instrument"] = str(ivs[0].instrument)
                if covariates is None and "covariates" in roles:
                    covariates = sorted(map(str, ivs[0].conditioning))
        return covariates, options
    if covariates is None and spec.uses_adjustment_set:
        try:
            z = graph.adjustment_set(treatment, outcome, kind=kind)
        except NotIdentifiableError as err:
            if graph.has_causal_path(treatment, outcome):
                raise
            raise NotIdentifiableError(
                f"the DAG has no causal path from {treatment} to {outcome}, so it implies the "
                "effect is zero; no adjustment set makes the observed contrast estimate that "
                f"zero ({err}), so {spec.name} would report a biased non-zero number. The "
                "answer by the graph is 0 (dag.identify() says so)") from None
        covariates = sorted(map(str, z))
    return covariates, options


#: the estimator ``estimate(dag=...)`` uses for each identification strategy
STRATEGY_METHODS = {"backdoor": "aipw", "frontdoor": "frontdoor",
                    "instrumental_variable": "iv_2sls", "id": "id_plugin"}


def choose_method(dag: Any, treatment: Any, outcome: Any) -> tuple[str, str]:
    """(method, why) for ``estimate(dag=...)`` without a method, from the strategy identified.

    >>> choose_method("dag { X -> M -> Y; X <-> Y }", "X", "Y")[0]
    'frontdoor'
    """
    graph: CausalDAG = as_dag(dag)
    if treatment is None or outcome is None:
        raise GraphError("estimate(dag=...) needs the treatment and outcome named")
    ident = graph.identify(treatment, outcome)
    if not ident.identified:
        raise NotIdentifiableError(f"no estimator can be chosen: {ident.explanation}")
    method = STRATEGY_METHODS[ident.strategy]
    if method == "aipw" and not ident.adjustment_set:
        method = "difference_in_means"
    return method, (f"method {method!r} chosen from the DAG (strategy {ident.strategy!r}: "
                    f"{ident.estimand})")
