"""Panel and difference-in-differences estimators, and HonestDiD sensitivity.

The 2x2 DiD, two-way fixed effects, the event study, Callaway & Sant'Anna's
staggered-adoption estimator and de Chaisemartin & D'Haultfoeuille's ``dcdh``, with the panel checks (``_panel``) and the
two-period doubly robust DiD cells (``_drdid``) that only they use.

``honest_did`` (Rambachan & Roth 2023 robust confidence sets for any event-study
Effect of the family) and its ``plot_sensitivity`` are loaded on first use.

>>> from causalkit.panel import ESTIMATORS
>>> ESTIMATORS
('did', 'twfe', 'event_study', 'callaway_santanna', 'dcdh')
"""

#: Modules of this family that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = ("did", "twfe", "event_study", "callaway_santanna", "dcdh")

_LAZY = {"honest_did": "honest", "honest_did_arrays": "honest", "plot_sensitivity": "honest"}


def __getattr__(name: str) -> object:
    """Load the HonestDiD functions on first use (the family stays light to import)."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
