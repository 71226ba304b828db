"""Back-door estimators: effects identified by adjusting for a covariate set.

From the empty set (:mod:`~causalkit.backdoor.difference_in_means`) through
regression adjustment, propensity-score matching, inverse probability weighting
and doubly robust AIPW, and for a continuous treatment the marginal structural
model by stabilized IPW (:mod:`~causalkit.backdoor.msm_continuous`) and the
dose-response curve (:mod:`~causalkit.backdoor.dose_response`), with the machinery only this family uses: the propensity
fit and overlap checks (``_propensity``), the compiled matching kernels
(``_matching_kernels``) and the balance diagnostics (:mod:`~causalkit.backdoor.balance`).

Each module in :data:`ESTIMATORS` registers one estimator with
:func:`causalkit.register` when imported; the registry imports them the first
time it is asked for an estimator.

>>> from causalkit.backdoor import ESTIMATORS
>>> "aipw" in ESTIMATORS
True
"""

#: Modules of this family that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = (
    "difference_in_means", "regression_adjustment", "propensity_matching", "ipw", "aipw",
    "msm_continuous", "dose_response",
    "dml_plr", "aipw_multi",
)
