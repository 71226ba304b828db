"""Panel and difference-in-differences estimators.

The 2x2 DiD, two-way fixed effects, the event study and Callaway & Sant'Anna's
staggered-adoption estimator, with the panel checks (``_panel``) and the
two-period doubly robust DiD cells (``_drdid``) that only they use.

>>> from causalkit.panel import ESTIMATORS
>>> ESTIMATORS
('did', 'twfe', 'event_study', 'callaway_santanna')
"""

#: Modules of this family that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = ("did", "twfe", "event_study", "callaway_santanna",
                               "sun_abraham", "imputation_did", "did2s")
