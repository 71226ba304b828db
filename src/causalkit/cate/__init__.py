"""Heterogeneous effects: meta-learners, the causal forest and their evaluation.

The S-, T-, X-, DR- and R-learners and the causal forest share one wrapper
around econml (``_metalearners``); :mod:`~causalkit.cate.uplift` evaluates a
CATE model by Qini/uplift curves and :mod:`~causalkit.cate.cate_summary` gives
the best linear projection of the CATE.

>>> from causalkit.cate import ESTIMATORS
>>> sorted(ESTIMATORS)[:2]
['causal_forest', 'dr_learner']
"""

#: Modules of this family that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = (
    "s_learner", "t_learner", "x_learner", "dr_learner", "r_learner", "causal_forest",
)
