"""Shared instrumental-variable machinery: the Wald ratio, first-stage strength,
Anderson–Rubin confidence sets and over-identification tests.

Used by the ``iv_2sls`` estimator and by the fuzzy regression discontinuity
(a local IV of the treatment on the above-cutoff indicator).
"""

#: Modules of this package that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = ("iv_2sls", "dml_pliv")

from .anderson_rubin import ARConfidenceSet, anderson_rubin_set, ar_set_from_moments
from .first_stage import FirstStage, first_stage_strength, weak_instrument_warning
from .overid import overidentification_test
from .checks import check_instruments
from .ratio import ratio_gradient, wald_ratio

__all__ = ["ESTIMATORS", "ARConfidenceSet", "anderson_rubin_set", "ar_set_from_moments", "FirstStage",
           "first_stage_strength", "weak_instrument_warning", "overidentification_test",
           "check_instruments", "ratio_gradient", "wald_ratio"]
