"""Synthetic datasets with known truth and the classic real datasets.

Every dataset is a :class:`CausalDataset`: the DataFrame, its roles, the DAG
that generated it (synthetic data), the truth (ATE, ATT, per-unit CATE) or the
published reference estimate, citation and licence (real data).

Example
-------
>>> import causalkit
>>> from causalkit import datasets
>>> ds = datasets.randomized(n=2000, effect=1.0, seed=0)
>>> eff = causalkit.estimate(ds.data, method="difference_in_means", **ds.role_kwargs(["treatment", "outcome"]))
>>> abs(eff.estimate - ds.truth["ATE"]) < 3 * eff.std_error
True
"""

from ._base import CausalDataset, Reference
from .backdoor import linear_confounding, m_bias, nonlinear_heterogeneous, randomized, weak_overlap
from .catalog import REAL, SYNTHETIC, generator, list_datasets, load
from .designs import did_2x2, fuzzy_rd, iv_unobserved_confounder, sharp_rd, staggered_did_panel
from .real import (DatasetUnavailableError, card_college, card_krueger, lalonde_cps, lalonde_nsw,
                   lalonde_psid, nhefs, senate_rd)

__all__ = [
    "CausalDataset", "Reference", "DatasetUnavailableError", "SYNTHETIC", "REAL", "generator",
    "load", "list_datasets",
    "randomized", "linear_confounding", "nonlinear_heterogeneous", "weak_overlap", "m_bias",
    "iv_unobserved_confounder", "staggered_did_panel", "did_2x2", "sharp_rd", "fuzzy_rd",
    "lalonde_nsw", "lalonde_cps", "lalonde_psid", "nhefs", "card_college", "senate_rd",
    "card_krueger",
]
