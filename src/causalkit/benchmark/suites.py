"""Benchmark suites: the field's standard datasets, their default size and published figures.

========== ============================================ =========== ===========================
suite      datasets                                     default     published figures
========== ============================================ =========== ===========================
ihdp_a     IHDP response surface A, replication by seed 100 reps    --
ihdp_b     IHDP response surface B (NPCI "A")           100 reps    Shalit et al. 2017, Table 1
acic2016   ACIC 2016, the 10 settings causallib ships   1 each      --
lalonde    NSW experiment, DW CPS-1 and PSID-1 samples  fixed       experimental ATT $1,794
cate       the CATE design family (a small grid)        50 reps     --
synthetic  causalkit's synthetic designs                300 reps    --
========== ============================================ =========== ===========================

A suite gives the benchmark runner its datasets (:meth:`Suite.datasets`),
the estimand each method is asked for (LaLonde is scored on the ATT), the
columns its leaderboard ranks by and the published figures printed beside
causalkit's (:attr:`Suite.published`).

Example
-------
>>> get("ihdp_b").default_reps, get("lalonde").estimand
(100, 'ATT')
>>> sorted(SUITES)
['acic2016', 'cate', 'ihdp_a', 'ihdp_b', 'lalonde', 'synthetic']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from ..datasets import acic2016 as acic
from ..datasets import real
from ..datasets._base import CausalDataset
from ..datasets.cate_design import cate_design
from ..datasets.ihdp import ihdp
from ..errors import OptionError
from ..options import suggest

#: A dataset source: (name, make(seed_sequence, rep) -> CausalDataset, fixed).
Source = tuple[str, Callable[[Any, int], CausalDataset], bool]

SHALIT_2017 = ("U. Shalit, F. D. Johansson and D. Sontag (2017), 'Estimating individual treatment "
               "effect: generalization bounds and algorithms', ICML, PMLR 70, Table 1 (IHDP, "
               "1,000 replications, 63/27/10 split; mean +- standard error)")

#: Shalit et al. (2017), Table 1, IHDP: sqrt(PEHE) and eps_ATE within and out of sample.
IHDP_PUBLISHED = pd.DataFrame(
    [("OLS/LR-1", 5.8, 0.73, 5.8, 0.94), ("OLS/LR-2", 2.4, 0.14, 2.5, 0.31),
     ("BLR", 5.8, 0.72, 5.8, 0.93), ("k-NN", 2.1, 0.14, 4.1, 0.79),
     ("TMLE", 5.0, 0.30, None, None), ("BART", 2.1, 0.23, 2.3, 0.34),
     ("Random forest", 4.2, 0.73, 6.6, 0.96), ("Causal forest", 3.8, 0.18, 3.8, 0.40),
     ("BNN", 2.2, 0.37, 2.1, 0.42), ("TARNet", 0.88, 0.26, 0.95, 0.28),
     ("CFR MMD", 0.73, 0.30, 0.78, 0.31), ("CFR Wasserstein", 0.71, 0.25, 0.76, 0.27)],
    columns=["method", "pehe_in", "abs_ate_error_in", "pehe_out", "abs_ate_error_out"])

LALONDE_PUBLISHED = pd.DataFrame(
    [("experimental benchmark (NSW difference in means)", "lalonde_nsw", 1794.34),
     ("unadjusted NSW treated - CPS-1", "lalonde_cps", -8498.0),
     ("unadjusted NSW treated - PSID-1", "lalonde_psid", -15205.0)],
    columns=["method", "dataset", "estimate"])
LALONDE_CITATION = ("R. H. Dehejia and S. Wahba (1999), JASA 94(448), 1053-1062, Table 3; "
                    "R. J. LaLonde (1986), AER 76(4), 604-620")

#: The experimental ATT of the NSW programme, the target of the LaLonde suite.
LALONDE_ATT = 1794.34


@dataclass(frozen=True)
class Suite:
    """A named benchmark: its datasets and how its leaderboard is read."""

    name: str
    description: str
    sources: Callable[[Mapping[str, Any]], list[Source]]
    default_reps: int
    estimand: str = "ATE"
    rank_by: tuple[str, ...] = ("rmse",)
    published: pd.DataFrame | None = None
    citation: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def datasets(self, **params: Any) -> list[Source]:
        """The sources of this suite (``params`` override the suite's defaults)."""
        return self.sources({**self.params, **params})

    def options_for(self, spec: Any) -> dict[str, Any]:
        """Options the suite gives a method: ``estimand=`` when it must target another one."""
        if (self.estimand != spec.default_estimand and self.estimand in spec.estimands
                and "estimand" in spec.option_names):
            return {"estimand": self.estimand}
        return {}


def _ihdp_sources(surface: str) -> Callable[[Mapping[str, Any]], list[Source]]:
    def sources(params: Mapping[str, Any]) -> list[Source]:
        split = params.get("split", (0.63, 0.27, 0.10))
        return [(f"ihdp_{surface.lower()}",
                 lambda seq, rep, base=int(params.get("first_replication", 0)):
                 ihdp(surface, seed=base + rep, split=split), False)]
    return sources


def _acic_sources(params: Mapping[str, Any]) -> list[Source]:
    settings = params.get("settings", acic.SETTINGS)
    source = params.get("source")
    return [(f"acic2016_{s}", lambda seq, rep, s=s: acic.acic2016(s, source=source), True)
            for s in settings]


def lalonde_dataset(sample: str) -> CausalDataset:
    """A LaLonde sample with the experimental ATT ($1,794) as its truth.

    ``sample`` is ``"nsw"`` (the experiment: its ATE is the ATT too), ``"cps"``
    or ``"psid"`` (NSW treated with observational comparison units).
    """
    loaders = {"nsw": real.lalonde_nsw, "cps": real.lalonde_cps, "psid": real.lalonde_psid}
    if sample not in loaders:
        raise OptionError(f"LaLonde sample must be nsw, cps or psid, got {sample!r}")
    ds = loaders[sample]()
    ds.truth = {"ATT": LALONDE_ATT, **({"ATE": LALONDE_ATT} if sample == "nsw" else {})}
    return ds


def _lalonde_sources(params: Mapping[str, Any]) -> list[Source]:
    return [(f"lalonde_{s}", lambda seq, rep, s=s: lalonde_dataset(s), True)
            for s in params.get("samples", ("nsw", "cps", "psid"))]


#: The default grid of the CATE design family: (label, parameters).
CATE_GRID = (("cate_design", {}),
             ("cate_design_weak_overlap", {"overlap": 0.02}),
             ("cate_design_no_heterogeneity", {"heterogeneity": 0.0}),
             ("cate_design_strong_confounding", {"confounding": 2.0}))


def _cate_sources(params: Mapping[str, Any]) -> list[Source]:
    n = params.get("n", 1000)
    grid = params.get("grid", CATE_GRID)
    return [(label, lambda seq, rep, p=dict(p), label=label:
             _named(cate_design(n=n, **p, seed=seq), label), False) for label, p in grid]


def _named(ds: CausalDataset, name: str) -> CausalDataset:
    ds.name = name
    return ds


def _synthetic_sources(params: Mapping[str, Any]) -> list[Source]:
    from ..datasets import catalog
    from .defaults import DEFAULT_DATASETS

    return [(name, lambda seq, rep, f=catalog.generator(name), p=dict(p): f(**p, seed=seq),
             False) for name, p in params.get("datasets", DEFAULT_DATASETS).items()]


SUITES: dict[str, Suite] = {
    "ihdp_a": Suite("ihdp_a", "IHDP response surface A (Hill 2011): constant effect 4, "
                    "63/27/10 split", _ihdp_sources("A"), 100, rank_by=("pehe_out", "rmse")),
    "ihdp_b": Suite("ihdp_b", "IHDP response surface B (Hill 2011; NPCI setting A): "
                    "heterogeneous effect, 63/27/10 split", _ihdp_sources("B"), 100,
                    rank_by=("pehe_out", "rmse"), published=IHDP_PUBLISHED,
                    citation=SHALIT_2017),
    "acic2016": Suite("acic2016", "ACIC 2016 data challenge (Dorie et al. 2019): the 10 "
                      "settings causallib ships, one replication each", _acic_sources, 1,
                      rank_by=("rmse", "pehe_in")),
    "lalonde": Suite("lalonde", "LaLonde NSW experiment and the Dehejia-Wahba CPS-1/PSID-1 "
                     "samples, scored on the experimental ATT $1,794", _lalonde_sources, 1,
                     estimand="ATT", rank_by=("abs_bias",), published=LALONDE_PUBLISHED,
                     citation=LALONDE_CITATION),
    "cate": Suite("cate", "CATE design family: heterogeneity, overlap and confounding "
                  "strength varied", _cate_sources, 50, rank_by=("pehe_out", "rmse")),
    "synthetic": Suite("synthetic", "causalkit's synthetic designs (backdoor, IV, RD, DiD, "
                       "panels)", _synthetic_sources, 300),
}

#: Other names accepted for a suite.
ALIASES = {"ihdp": "ihdp_b", "acic": "acic2016", "acic_2016": "acic2016", "nsw": "lalonde"}


def get(name: str) -> Suite:
    """The suite called ``name`` (or an alias); suggests the closest name if unknown."""
    name = ALIASES.get(name, name)
    if name not in SUITES:
        hint = suggest(str(name), SUITES)
        raise OptionError(f"no benchmark suite is called {name!r}"
                          + (f"; did you mean {hint!r}?" if hint else
                             f"; suites: {', '.join(SUITES)}"))
    return SUITES[name]


def list_suites() -> pd.DataFrame:
    """One row per suite: name, default replications, estimand, description."""
    return pd.DataFrame([{"suite": s.name, "default_reps": s.default_reps, "estimand": s.estimand,
                          "description": s.description} for s in SUITES.values()])
