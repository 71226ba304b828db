"""Panel and difference-in-differences estimators, and HonestDiD sensitivity.

The 2x2 DiD, two-way fixed effects, the TWFE event study, Callaway & Sant'Anna's
staggered-adoption estimator, Sun & Abraham's interaction-weighted event study,
the Borusyak–Jaravel–Spiess imputation estimator, Gardner's two-stage DiD,
de Chaisemartin & D'Haultfoeuille's ``dcdh`` for treatments that switch on and
off, synthetic difference-in-differences and the synthetic control, with the
panel checks (``_panel``, ``_staggered``, ``_wide``), the exact two-way
fixed-effects solver (``_fe``), the shared untreated-outcome model
(``_imputation``), the two-period doubly robust DiD cells (``_drdid``), the
simplex solvers and synthetic-DiD framework (``_simplex``, ``_sdid``) and the
tidy event-time frame with uniform bands (``_eventtime``) that only they use.
:func:`bacon_decomposition` decomposes a TWFE estimate into its 2x2 comparisons;
:func:`plot_event_study` draws the event-time effects of any of the estimators;
:func:`honest_did` gives Rambachan & Roth's robust confidence sets for them.

``honest_did`` (Rambachan & Roth 2023 robust confidence sets for any event-study
Effect of the family) and its ``plot_sensitivity`` are loaded on first use.

>>> from causalkit.panel import ESTIMATORS
>>> ESTIMATORS[:4]
('did', 'twfe', 'event_study', 'callaway_santanna')
"""

from ._eventtime import EVENT_COLUMNS, plot_event_study
from .bacon import BaconDecomposition, bacon_decomposition, plot_bacon

#: Modules of this family that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = ("did", "twfe", "event_study", "callaway_santanna",
                               "sun_abraham", "imputation_did", "did2s", "dcdh",
                               "synthetic_did", "synthetic_control")

__all__ = ["ESTIMATORS", "EVENT_COLUMNS", "BaconDecomposition", "bacon_decomposition",
           "plot_bacon", "plot_event_study", "honest_did"]

_LAZY = {"honest_did": "honest", "honest_did_arrays": "honest", "plot_sensitivity": "honest"}


def __getattr__(name: str) -> object:
    """Load the HonestDiD functions on first use (the family stays light to import)."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
