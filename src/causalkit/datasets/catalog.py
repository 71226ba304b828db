"""The catalogue of datasets by name: ``load(name, **params)`` and ``list_datasets()``.

Example
-------
>>> ds = load("randomized", n=100, seed=0)
>>> ds.n_obs, "m_bias" in SYNTHETIC
(100, True)
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd

from ..errors import OptionError
from ..validation import suggest_column
from . import backdoor, designs, real
from ._base import CausalDataset

#: Synthetic generators: name -> function(n/n_units, effect, ..., seed) -> CausalDataset.
SYNTHETIC: dict[str, Callable[..., CausalDataset]] = {
    "randomized": backdoor.randomized,
    "linear_confounding": backdoor.linear_confounding,
    "nonlinear_heterogeneous": backdoor.nonlinear_heterogeneous,
    "weak_overlap": backdoor.weak_overlap,
    "m_bias": backdoor.m_bias,
    "iv_unobserved_confounder": designs.iv_unobserved_confounder,
    "staggered_did_panel": designs.staggered_did_panel,
    "did_2x2": designs.did_2x2,
    "sharp_rd": designs.sharp_rd,
    "fuzzy_rd": designs.fuzzy_rd,
}

#: Real datasets: name -> loader() -> CausalDataset (needs the ``datasets`` extra).
REAL: dict[str, Callable[..., CausalDataset]] = {
    "lalonde_nsw": real.lalonde_nsw,
    "lalonde_cps": real.lalonde_cps,
    "lalonde_psid": real.lalonde_psid,
    "nhefs": real.nhefs,
    "card_college": real.card_college,
    "senate_rd": real.senate_rd,
    "card_krueger": real.card_krueger,
}


def generator(name: str) -> Callable[..., CausalDataset]:
    """The generator or loader called ``name`` (suggests the closest name if unknown)."""
    table = {**SYNTHETIC, **REAL}
    if name not in table:
        hint = suggest_column(str(name), table)
        raise OptionError(f"no dataset is called {name!r}" +
                          (f"; did you mean {hint!r}?" if hint else
                           f"; available: {', '.join(table)}"))
    return table[name]


def load(name: str, **params: Any) -> CausalDataset:
    """Generate (synthetic) or load (real) the dataset called ``name``."""
    return generator(name)(**params)


def list_datasets(include_real: bool = True, seed: int = 0) -> pd.DataFrame:
    """One row per dataset: name, kind, design, default size, truth or reference.

    Real datasets whose package or file is missing are listed with the reason.
    """
    rows = []
    for name, make in SYNTHETIC.items():
        rows.append({"kind": "synthetic", **make(seed=seed).summary()})
    if include_real:
        for name, load_real in REAL.items():
            try:
                rows.append({"kind": "real", **load_real().summary()})
            except real.DatasetUnavailableError as err:
                rows.append({"kind": "real", "name": name, "reference": f"unavailable: {err}"})
    return pd.DataFrame(rows)
