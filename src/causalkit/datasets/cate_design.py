"""A CATE design family: heterogeneity, overlap and confounding strength as parameters.

``d`` covariates ``X ~ N(0, I)`` (``d >= 4``); with the selection index
``s = (x1 + x2) / sqrt 2 ~ N(0, 1)``:

* propensity ``e(x) = overlap + (1 - 2 overlap) expit(2 s)``, so every unit has
  ``overlap <= e(x) <= 1 - overlap`` (``overlap = 0.5``: a randomized trial);
* baseline ``mu0(x) = 2 confounding s + x3 + 0.5 sin(pi x4)``: ``confounding``
  scales how strongly the selection index also drives the outcome;
* effect ``tau(x) = effect + heterogeneity (x2 + (x3**2 - 1) / sqrt 2) / sqrt 2``,
  mean ``effect`` and standard deviation ``heterogeneity`` in the population;
* ``y = mu0(x) + t tau(x) + N(0, noise**2)``.

The population ATE is ``effect``; the ATT is ``effect + heterogeneity
E[x2 | T = 1] / sqrt 2`` with ``E[x2 | T = 1] = E[s | T = 1] / sqrt 2`` computed
by quadrature (exact).  ``test_size`` of the units are drawn as a held-out
sample (``holdout``, ``holdout_cate``) for out-of-sample CATE scores.

Example
-------
>>> ds = cate_design(n=400, heterogeneity=0.0, seed=0)
>>> ds.truth["ATE"], float(ds.cate.std()), len(ds.holdout)
(1.0, 0.0, 40)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import integrate, special, stats

from ..errors import OptionError
from ._base import CausalDataset
from ._simulate import bernoulli, check_finite, check_size, covariate_names, edges_into, rng_from
from .backdoor import _frame


def _propensity(s: np.ndarray | float, overlap: float) -> Any:
    return overlap + (1.0 - 2.0 * overlap) * special.expit(2.0 * s)


def _mean_index_treated(overlap: float) -> float:
    """``E[s | T = 1]`` for ``s ~ N(0, 1)`` and the design's propensity (quadrature)."""
    num = integrate.quad(lambda z: z * _propensity(z, overlap) * stats.norm.pdf(z), -np.inf,
                         np.inf)[0]
    den = integrate.quad(lambda z: _propensity(z, overlap) * stats.norm.pdf(z), -np.inf,
                         np.inf)[0]
    return float(num / den)


def _draw(n: int, d: int, effect: float, heterogeneity: float, overlap: float,
          confounding: float, noise: float, rng: np.random.Generator):
    X = rng.standard_normal((n, d))
    s = (X[:, 0] + X[:, 1]) / np.sqrt(2.0)
    t = bernoulli(rng, _propensity(s, overlap))
    mu0 = 2.0 * confounding * s + X[:, 2] + 0.5 * np.sin(np.pi * X[:, 3])
    tau = effect + heterogeneity * (X[:, 1] + (X[:, 2] ** 2 - 1.0) / np.sqrt(2.0)) / np.sqrt(2.0)
    y = mu0 + t * tau + noise * rng.standard_normal(n)
    return X, t, y, tau


def cate_design(n: int = 1000, heterogeneity: float = 1.0, overlap: float = 0.1,
                confounding: float = 1.0, effect: float = 1.0, d: int = 6,
                noise: float = 1.0, test_size: float = 0.1, seed: Any = 0) -> CausalDataset:
    """One draw of the CATE design family (see the module docstring).

    Parameters
    ----------
    n
        Units fitted on; ``round(test_size * n)`` more are drawn as the holdout.
    heterogeneity
        Standard deviation of the true CATE (0: a constant effect).
    overlap
        Propensity bound in ``(0, 0.5]``: ``overlap <= e(x) <= 1 - overlap``.
    confounding
        Weight of the selection index in the baseline outcome (0: no confounding).
    effect, d, noise
        Population ATE, number of covariates (>= 4, the rest are noise), noise SD.
    """
    n = check_size(n)
    d = check_size(d, minimum=4, what="d")
    check_finite(heterogeneity=heterogeneity, overlap=overlap, confounding=confounding,
                 effect=effect, noise=noise, test_size=test_size)
    if not 0 < overlap <= 0.5:
        raise OptionError(f"overlap must be in (0, 0.5] (the propensity bound), got {overlap!r}")
    if not 0 <= test_size < 1:
        raise OptionError(f"test_size must be in [0, 1), got {test_size!r}")
    if noise < 0:
        raise OptionError(f"noise must be >= 0, got {noise!r}")
    rng = rng_from(seed)
    n_test = int(round(test_size * n))
    X, t, y, tau = _draw(n + n_test, d, effect, heterogeneity, overlap, confounding, noise, rng)
    names = covariate_names(d)
    frame = _frame(X, names, t, y)
    att = effect + heterogeneity * _mean_index_treated(overlap) / 2.0
    selection = ["x1", "x2"] if overlap < 0.5 else []
    return CausalDataset(
        name="cate_design", data=frame.iloc[:n].reset_index(drop=True),
        roles={"treatment": "t", "outcome": "y", "covariates": names},
        truth={"ATE": float(effect), "ATT": float(att), "CATE": float(effect)}, cate=tau[:n],
        holdout=frame.iloc[n:].reset_index(drop=True), holdout_cate=tau[n:],
        edges=tuple(edges_into(selection, "t") + edges_into(names[:4] + ["t"], "y")),
        adjustment=tuple(names),
        description="CATE design family: heterogeneity, overlap and confounding as parameters",
        params={"n": n, "heterogeneity": heterogeneity, "overlap": overlap,
                "confounding": confounding, "effect": effect, "d": d, "noise": noise,
                "test_size": test_size})
