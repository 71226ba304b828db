"""Panel and difference-in-differences estimators.

The 2x2 DiD, two-way fixed effects, the event study, Callaway & Sant'Anna's
staggered-adoption estimator, synthetic difference-in-differences and the
synthetic control, with the panel checks (``_panel``, ``_wide``), the
two-period doubly robust DiD cells (``_drdid``) and the simplex solvers and
synthetic-DiD framework (``_simplex``, ``_sdid``) that only they use.

>>> from causalkit.panel import ESTIMATORS
>>> ESTIMATORS
('did', 'twfe', 'event_study', 'callaway_santanna', 'synthetic_did', 'synthetic_control')
"""

#: Modules of this family that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = ("did", "twfe", "event_study", "callaway_santanna",
                               "synthetic_did", "synthetic_control")
