"""Which estimator fits which dataset, and with which roles.

An estimator is paired with a dataset when the dataset has every role the
estimator requires, the estimator accepts the roles that define the dataset's
design (``instrument`` for IV, ``running`` for RD, ``post`` for a 2x2 DiD,
``unit`` and ``time`` for panels), and, if it needs a binary treatment, the
treatment is binary (a non-binary one needs "continuous" among its
``treatment_types``).  A dataset with sampling weights (a ``weights`` role) is
fitted weighted by the estimators that take ``weights=`` and skipped by the
others (an unweighted fit would estimate another population's effect).  Backdoor
estimators (those whose covariates are an adjustment set, ``spec.uses_adjustment_set``) on backdoor designs get the
adjustment set the dataset's DAG identifies; design-based estimators get the
design roles (and the covariates) from ``dataset.roles``.

Example
-------
>>> from causalkit import datasets, registry
>>> ds = datasets.m_bias(n=200, seed=0)
>>> compatible(registry.get("regression_adjustment"), ds)
True
>>> fit_roles(registry.get("regression_adjustment"), ds, "minimal")["covariates"]
['x']
"""

from __future__ import annotations

from typing import Any

from ..datasets._base import DESIGN_KEY_ROLES, CausalDataset
from ..registry import EstimatorSpec


def compatible(spec: EstimatorSpec, dataset: CausalDataset) -> bool:
    """Whether ``spec`` can be fitted on ``dataset`` (see the module docstring)."""
    present = {r for r, v in dataset.roles.items() if v is not None}
    if not set(spec.roles) <= present:
        return False
    if not set(DESIGN_KEY_ROLES[dataset.design]) <= set(spec.accepted_roles):
        return False
    if "weights" in present and "weights" not in spec.accepted_roles:
        return False
    if spec.needs_binary_treatment and "treatment" in spec.accepted_roles \
            and dataset.treatment is not None and not dataset.binary_treatment:
        return False
    if "treatment" in spec.accepted_roles and "binary" not in spec.treatment_types \
            and dataset.treatment is not None and dataset.binary_treatment:
        return False                  # a continuous-treatment method on a 0/1 design
    if "treatment" in spec.accepted_roles and dataset.treatment is not None \
            and not dataset.binary_treatment and "continuous" not in spec.treatment_types:
        return False
    return True


def fit_roles(spec: EstimatorSpec, dataset: CausalDataset,
              adjustment: str = "optimal") -> dict[str, Any]:
    """The role keywords to call ``spec`` with on ``dataset``.

    For a backdoor estimator on a backdoor design the covariates are the
    ``adjustment`` ("minimal" or "optimal") set of the dataset's DAG; when that
    set is empty but the estimator requires covariates, the optimal set (or all
    observed covariates, valid in that case) is used instead.  Raises
    :class:`~causalkit.errors.NotIdentifiableError` when no set identifies the effect.
    """
    roles = dataset.role_kwargs(spec.accepted_roles)
    if {"treatment", "cohort"} <= set(roles) and not {"treatment", "cohort"} & set(spec.roles):
        # panel estimators that take the treatment path *or* the adoption period
        # (twfe, event_study) get the adoption period, the more informative one
        del roles["treatment"]
    if dataset.design == "backdoor" and spec.uses_adjustment_set:
        covariates = dataset.adjustment_set(adjustment)
        if not covariates and "covariates" in spec.roles:
            covariates = dataset.adjustment_set("optimal") or dataset.covariates
        if covariates or "covariates" in spec.roles:
            roles["covariates"] = list(covariates)
        else:
            roles.pop("covariates", None)
    return roles
