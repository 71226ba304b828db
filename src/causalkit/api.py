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
>>> df["g"] = pd.Categorical(rng.choice(["a", "b"], 200))
>>> round(causalkit.estimate(df, "y ~ t | C(g)", method="regression_adjustment").estimate, 1)
2.0
"""

from __future__ import annotations

from typing import Any, Sequence

from . import registry
from .effect import Effect
from .errors import RoleError
from .inference import check_alpha
from .formula import covariate_terms
from .model_formula import formula_roles, merge_roles, parse_model_formula
from .validation import as_dataframe


def _formula_roles(model: str, spec: registry.EstimatorSpec, covariates: Any,
                   options: dict[str, Any]) -> tuple[Any, Any, Any, dict[str, Any]]:
    """Treatment, outcome, covariates and further roles from a whole-model formula."""
    roles = formula_roles(model, spec.accepted_roles, spec.name)
    given = {k: v for k, v in options.items() if k in registry.ROLE_NAMES}
    if covariates is not None:
        given["covariates"] = covariates
    merged = merge_roles(roles, given)
    rest = {k: v for k, v in options.items() if k not in merged}
    rest.update({k: v for k, v in merged.items()
                 if k not in ("treatment", "outcome", "covariates")})
    return merged.get("treatment"), merged["outcome"], merged.get("covariates"), rest


def estimate(data: Any, treatment: str | None = None, outcome: str | None = None,
             method: str | None = None, covariates: str | Sequence[str] | None = None,
             alpha: float = 0.05, dag: Any = None, **options: Any) -> Effect:
    """Estimate a causal effect with the registered estimator ``method``.

    Parameters
    ----------
    data
        A pandas DataFrame with one row per unit (or unit-period).
    treatment, outcome
        Column names of the treatment and the outcome.  Or, in place of both, a
        whole-model formula ``"outcome ~ treatment | covariates | extra"``
        (see :mod:`causalkit.model_formula`): the covariates part takes
        formula terms (``C(g)``, ``I(x**2)``, ``bs(x, df=3)``, interactions), the
        third part is the instrument(s) of an IV method, the mediators of a
        mediation method, ``unit + time`` of a panel method or the post-period
        column of a 2x2 DiD.  For ``rdd`` the part after ``~`` is the running
        variable, for ``callaway_santanna`` the cohort column.
    method
        Name of a registered estimator; see :func:`causalkit.available`.  When
        omitted: with ``dag=``, the estimator suited to the strategy the DAG
        identifies (AIPW for back-door adjustment — difference in means when
        the set is empty —, ``frontdoor``, ``iv_2sls``, ``id_plugin`` for any
        other identified effect), named in ``Effect.inference``; without a DAG,
        ``"difference_in_means"``.
    covariates
        Adjustment columns, or a formula string (``"C(education) + age +
        I(age**2)"``), or a list mixing column names and formula terms.
        Categorical, boolean and object columns with few levels are one-hot
        encoded (reference level dropped), and ``Effect.inference`` says so.
        With ``dag=`` and no covariates, the set the DAG identifies is used.
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
    model = treatment if isinstance(treatment, str) and "~" in treatment else None
    if model is not None:
        if outcome is not None:
            raise RoleError(f"the model formula {model!r} names the outcome; do not also "
                            f"pass outcome={outcome!r}")
        parsed = parse_model_formula(model)
        treatment, outcome = parsed.main[0], parsed.outcome
    if method is None and dag is not None:
        from .dags.integration import choose_method

        method, chosen = choose_method(dag, treatment, outcome)
    spec = registry.get("difference_in_means" if method is None else method)
    if model is not None:
        treatment, outcome, covariates, options = _formula_roles(
            model, spec, covariates, options)
    alpha = check_alpha(alpha)
    frame = as_dataframe(data)
    cov_list = None if covariates is None else covariate_terms(covariates)
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
    effect = registry.call_estimator(spec.func, (frame,), {"alpha": alpha, **kwargs})
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
