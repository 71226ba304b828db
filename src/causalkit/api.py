"""`estimate`: the one entry point to every registered estimator.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> t = rng.integers(0, 2, 200)
>>> df = pd.DataFrame({"t": t, "y": 2.0 * t + rng.normal(size=200)})
>>> eff = causalkit.estimate(df, "t", "y", method="difference_in_means")
>>> eff.estimand, round(eff.estimate, 1)
('ATE', 2.0)
"""

from __future__ import annotations

from typing import Any, Sequence

from . import registry
from .effect import Effect
from .errors import RoleError
from .inference import check_alpha
from .validation import as_column_list, as_dataframe


def estimate(data: Any, treatment: str | None = None, outcome: str | None = None,
             method: str | None = None, covariates: str | Sequence[str] | None = None,
             alpha: float = 0.05, dag: Any = None, **options: Any) -> Effect:
    """Estimate a causal effect with the registered estimator ``method``.

    Parameters
    ----------
    data
        A pandas DataFrame with one row per unit (or unit-period).
    treatment, outcome
        Column names of the treatment and the outcome.
    method
        Name of a registered estimator; see :func:`causalkit.available`.  When
        omitted: with ``dag=``, the estimator suited to the strategy the DAG
        identifies (AIPW for back-door adjustment — difference in means when
        the set is empty —, ``frontdoor``, ``iv_2sls``, ``id_plugin`` for any
        other identified effect), named in ``Effect.inference``; without a DAG,
        ``"difference_in_means"``.
    covariates
        Adjustment columns.  With ``dag=`` and no covariates, the set the DAG
        identifies is used.
    alpha
        One minus the confidence level of the reported interval.
    dag
        A :class:`causalkit.dags.CausalDAG` (or DAGitty text) describing the
        causal structure; see the DAG layer.
    **options
        Further roles (``instrument``, ``running``, ``cutoff``, ``post``,
        ``unit``, ``time``, ``cohort``, ``cluster``), ``estimand=`` and
        method-specific options.

    Returns
    -------
    Effect
    """
    chosen = None
    if method is None and dag is not None:
        from .dags.integration import choose_method

        method, chosen = choose_method(dag, treatment, outcome)
    spec = registry.get("difference_in_means" if method is None else method)
    alpha = check_alpha(alpha)
    frame = as_dataframe(data)
    cov_list = None if covariates is None else as_column_list(covariates)
    if dag is not None:
        from .dags.integration import apply_dag  # the DAG layer owns this step

        cov_list, options = apply_dag(dag, spec, treatment=treatment, outcome=outcome,
                                      covariates=cov_list, options=options)

    roles: dict[str, Any] = {"treatment": treatment, "outcome": outcome,
                             "covariates": cov_list}
    for role in registry.ROLE_NAMES:
        if role in options:
            roles[role] = options.pop(role)
    given = {k: v for k, v in roles.items() if v is not None}

    missing = [r for r in spec.roles if r not in given]
    if missing:
        raise RoleError(f"method {spec.name!r} needs the role(s) {', '.join(missing)}; "
                        f"pass them as keyword arguments, e.g. {missing[0]}='column'")
    extra = [r for r in given if r not in spec.accepted_roles and not
             (r == "covariates" and not given[r])]
    spec.refuse_roles(extra)
    options = spec.checked_options(options)
    kwargs = {k: v for k, v in given.items() if k in spec.accepted_roles}
    kwargs.update(options)
    effect = registry.record_call(spec.func, spec.func(frame, alpha=alpha, **kwargs),
                                  (frame,), {"alpha": alpha, **kwargs})
    if chosen is not None:
        from dataclasses import replace

        effect = replace(effect, inference=f"{chosen}; {effect.inference}")
    return effect


def dose_response(data: Any, treatment: Any, outcome: Any, covariates: Any = None,
                  **options: Any) -> Any:
    """The dose-response curve ``E[Y(a)]`` of a continuous treatment, as a curve frame.

    One row per dose (``dose``, ``estimate``, ``std_error``, pointwise ``ci_low`` /
    ``ci_high``, uniform ``band_low`` / ``band_high``) with a ``plot()`` method; the
    options are those of the registered method ``dose_response``
    (:func:`causalkit.backdoor.dose_response.dose_response`): ``estimator="kernel"``
    (Kennedy et al. 2017, default) or ``"gps"`` (Hirano & Imbens 2004), ``grid``,
    ``bandwidth``, ``point_mass``, ...
    """
    from .backdoor.dose_response import dose_response_curve

    return dose_response_curve(data, treatment, outcome, covariates, **options)
