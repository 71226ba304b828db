"""Local-polynomial regression discontinuity machinery.

Kernels, the CCT (2014) MSE-optimal bandwidths (``mserd``, ``msetwo``), sharp
and fuzzy estimates with robust bias-corrected inference, McCrary's density
test, placebo cutoffs, covariate continuity, bandwidth sensitivity and
``plot_rdd``.  The registered estimator is ``rdd``
(:mod:`causalkit.rd.rdd`).
"""

#: Modules of this package that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = ("rdd",)

from .bandwidth import Bandwidths, select_bandwidth
from .density import DensityTest, density_test
from .diagnostics import bandwidth_sensitivity, covariate_continuity, placebo_cutoffs
from .estimate import RDResult, rd_estimate
from .kernels import kernel_weights
from .plot import plot_rdd

__all__ = ["ESTIMATORS", "Bandwidths", "select_bandwidth", "DensityTest", "density_test",
           "bandwidth_sensitivity", "covariate_continuity", "placebo_cutoffs", "RDResult",
           "rd_estimate", "kernel_weights", "plot_rdd"]
