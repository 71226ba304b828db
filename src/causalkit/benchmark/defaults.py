"""The default benchmark grid: cheap registered estimators x a handful of designs.

The default run (``causalkit benchmark`` with no options) must finish in a few
minutes on two cores, so it uses only estimators whose fit takes milliseconds
and moderate sample sizes, with enough replications for the coverage of
well-specified estimators to be estimated to about +-0.02.

Example
-------
>>> "difference_in_means" in default_methods()
True
"""

from __future__ import annotations

from .. import registry

#: Cheap estimators used by default, in display order, when they are registered.
CHEAP_METHODS = ("difference_in_means", "regression_adjustment", "ipw", "aipw",
                 "propensity_matching", "iv_2sls", "rdd", "did", "twfe", "callaway_santanna")

#: Default datasets and their generator parameters.
DEFAULT_DATASETS: dict[str, dict] = {
    "randomized": {"n": 500},
    "linear_confounding": {"n": 500},
    "nonlinear_heterogeneous": {"n": 500},
    "m_bias": {"n": 500},
    "iv_unobserved_confounder": {"n": 500},
    "sharp_rd": {"n": 1000},
    "did_2x2": {"n_units": 300},
    "staggered_did_panel": {"n_units": 200},
}

#: Default replications per dataset.
DEFAULT_REPS = 300


def default_methods() -> list[str]:
    """The cheap estimators that are registered right now."""
    available = set(registry.names())
    return [m for m in CHEAP_METHODS if m in available]
