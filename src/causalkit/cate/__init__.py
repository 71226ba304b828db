"""Heterogeneous effects: meta-learners, the causal forest, their evaluation and policy learning.

The S-, T-, X-, DR- and R-learners and the causal forest share one wrapper
around econml (``_metalearners``); :mod:`~causalkit.cate.uplift` evaluates a
CATE model by Qini/uplift curves and :mod:`~causalkit.cate.cate_summary` gives
the best linear projection of the CATE; :mod:`~causalkit.cate.policy` learns exact
policy trees from doubly robust scores (``policy_tree``, ``evaluate_policy``) and
:mod:`~causalkit.cate.validation` tests a CATE model (``calibration``, ``gates``,
``rate``).

>>> from causalkit.cate import ESTIMATORS
>>> sorted(ESTIMATORS)[:2]
['causal_forest', 'dr_learner']
"""

#: Modules of this family that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = (
    "s_learner", "t_learner", "x_learner", "dr_learner", "r_learner", "causal_forest",
)


def __getattr__(name: str):  # the public functions, imported on first use
    if name in ("policy_tree", "evaluate_policy", "PolicyTree"):
        from . import policy

        return getattr(policy, name)
    if name in ("calibration", "gates", "rate"):
        from . import validation

        return getattr(validation, name)
    raise AttributeError(f"module 'causalkit.cate' has no attribute {name!r}")
