"""IHDP (Hill 2011): semi-synthetic outcomes on the Infant Health and Development Program.

The covariates are the 747 children (139 treated, 608 control) of the IHDP
randomized study after Hill's removal of the treated children of non-white
mothers, as econml ships them (``econml.data.dgps``: 6 continuous covariates
standardised, 19 binary).  The outcomes follow Hill's response surfaces:

* ``A`` (:func:`ihdp_a`): linear, constant effect 4
  (``econml.data.dgps.ihdp_surface_A``);
* ``B`` (:func:`ihdp_b`): ``Y(0) = exp((X + 0.5) b)``, ``Y(1) = X b - omega``
  with ``omega`` set so that the effect on the treated is 4, a heterogeneous
  effect (``econml.data.dgps.ihdp_surface_B``; the NPCI "setting A" that Shalit
  et al. 2017 and most CATE papers report on).

Replication ``r`` is econml's draw with ``random_state = r`` (so replications
``0..99`` / ``0..999`` are the usual 100 / 1,000).  Each replication is split
63/27/10 into training, validation and test rows (Shalit et al. 2017): an
estimator is fitted on the training and validation rows (``data``, training
first; in-sample scores), the 10% test rows are ``holdout`` (out-of-sample
scores).  The true CATE is known for every row (``cate``, ``holdout_cate``).

References: J. L. Hill (2011), "Bayesian nonparametric modeling for causal
inference", JCGS 20(1), 217-240; U. Shalit, F. D. Johansson and D. Sontag
(2017), "Estimating individual treatment effect: generalization bounds and
algorithms", ICML, PMLR 70, 3076-3085.

Example
-------
>>> ds = ihdp_b(seed=3)
>>> ds.n_obs + len(ds.holdout), len(ds.covariates)
(747, 25)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import OptionError
from ._base import CausalDataset

#: econml's IHDP covariate columns, in its order ('.' replaced by '_').
IHDP_COVARIATES = ["bw", "b_head", "preterm", "birth_o", "nnhealth", "momage", "sex", "twin",
                   "b_marr", "mom_lths", "mom_hs", "mom_scoll", "cig", "first", "booze",
                   "drugs", "work_dur", "prenatal", "site1", "site2", "site3", "site4",
                   "site5", "site6", "site7"]

#: The 63/27/10 train/validation/test split of Shalit et al. (2017).
SHALIT_SPLIT = (0.63, 0.27, 0.10)

IHDP_CITATION = ("J. L. Hill (2011), 'Bayesian nonparametric modeling for causal inference', "
                 "Journal of Computational and Graphical Statistics 20(1), 217-240; covariates "
                 "from econml.data.dgps (MIT); split of Shalit, Johansson & Sontag (2017), ICML")


def replication_state(seed: Any) -> int:
    """The econml ``random_state`` of a replication: an int as is, a SeedSequence hashed.

    >>> replication_state(7), replication_state(np.random.SeedSequence(1)) >= 0
    (7, True)
    """
    if isinstance(seed, np.random.SeedSequence):
        return int(seed.generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"seed must be a non-negative integer (the IHDP replication), "
                          f"got {seed!r}")
    return int(seed)


def _split_rows(n: int, split: Sequence[float], state: int) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    if (len(split) != 3 or any(not np.isfinite(s) or s < 0 for s in split)
            or abs(sum(split) - 1.0) > 1e-9 or split[0] <= 0):
        raise OptionError(f"split must be three non-negative shares (train, validation, test) "
                          f"summing to 1 with a positive training share, got {tuple(split)!r}")
    order = np.random.default_rng([state, 2017]).permutation(n)
    n_train = int(round(split[0] * n))
    n_valid = int(round(split[1] * n))
    return order[:n_train], order[n_train:n_train + n_valid], order[n_train + n_valid:]


def ihdp(surface: str = "B", seed: Any = 0,
         split: Sequence[float] = SHALIT_SPLIT) -> CausalDataset:
    """One IHDP replication on response surface ``"A"`` or ``"B"`` (see the module docstring).

    >>> ds = ihdp("A", seed=0)
    >>> ds.truth["ATE"], ds.params["n_test"]
    (4.0, 74)
    """
    from econml.data import dgps

    surfaces = {"A": dgps.ihdp_surface_A, "B": dgps.ihdp_surface_B}
    if surface not in surfaces:
        raise OptionError(f"IHDP surface must be 'A' or 'B', got {surface!r}")
    state = replication_state(seed)
    y, t, x, tau = surfaces[surface](random_state=state)
    frame = pd.DataFrame(np.asarray(x, float)[:, 1:], columns=IHDP_COVARIATES)  # no intercept
    frame.insert(0, "t", np.asarray(t, np.int64))
    frame["y"] = np.asarray(y, float)
    tau = np.asarray(tau, float)
    train, valid, test = _split_rows(len(frame), split, state)
    fit = np.concatenate([train, valid])
    data = frame.iloc[fit].reset_index(drop=True)
    cate = tau[fit]
    treated = data["t"].to_numpy() == 1
    name = f"ihdp_{surface.lower()}"
    return CausalDataset(
        name=name, data=data,
        roles={"treatment": "t", "outcome": "y", "covariates": list(IHDP_COVARIATES)},
        truth={"ATE": float(cate.mean()), "ATT": float(cate[treated].mean()),
               "CATE": float(cate.mean())},
        cate=cate, adjustment=tuple(IHDP_COVARIATES),
        holdout=frame.iloc[test].reset_index(drop=True), holdout_cate=tau[test],
        description=f"IHDP response surface {surface} (Hill 2011), replication {state}: "
                    "training + validation rows; the 10% test rows are held out",
        citation=IHDP_CITATION, licence="econml (MIT)", source="econml.data.dgps",
        params={"surface": surface, "replication": state, "split": tuple(split),
                "n_train": len(train), "n_valid": len(valid), "n_test": len(test)})


def ihdp_a(seed: Any = 0, split: Sequence[float] = SHALIT_SPLIT) -> CausalDataset:
    """IHDP response surface A (constant effect 4): replication ``seed``.

    >>> float(ihdp_a(seed=1).cate.std())
    0.0
    """
    return ihdp("A", seed=seed, split=split)


def ihdp_b(seed: Any = 0, split: Sequence[float] = SHALIT_SPLIT) -> CausalDataset:
    """IHDP response surface B (heterogeneous effect; ATT 4 on all 139 treated): replication ``seed``.

    >>> bool(ihdp_b(seed=1).cate.std() > 0)
    True
    """
    return ihdp("B", seed=seed, split=split)
