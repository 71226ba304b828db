"""Synthetic quasi-experimental designs: instrument, DiD panels, sharp and fuzzy RD.

Each generator returns a :class:`~causalkit.datasets.CausalDataset` with the
design roles filled in (``instrument``; ``running`` and ``cutoff``; ``post``,
``unit``, ``time``, ``cohort``), the generating DAG and the true effect.

Example
-------
>>> ds = sharp_rd(n=500, effect=2.0, seed=0)
>>> ds.design, ds.roles["running"], ds.truth
('rd', 'x', {'LATE': 2.0})
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OptionError
from ._base import CausalDataset
from ._simulate import bernoulli, check_finite, check_size, rng_from


def iv_unobserved_confounder(n: int = 1000, effect: float = 1.0, confounding: float = 1.0,
                             instrument_strength: float = 1.0, seed=None) -> CausalDataset:
    """A binary instrument for a binary treatment confounded by a latent ``U``.

    ``z ~ Bernoulli(1/2)``, ``x, U ~ N(0, 1)``;
    ``d = 1{instrument_strength (z - 1/2) + x/2 + confounding U + v > 0}``;
    ``y = effect d + x + confounding U + e``.  The effect is constant, so
    LATE = ATE = ``effect``.  No backdoor set identifies it (``U`` is latent);
    ``z`` is a valid instrument (conditionally on nothing, or on ``x``).

    >>> ds = iv_unobserved_confounder(n=200, seed=0)
    >>> ds.roles["instrument"], ds.adjustment
    ('z', None)
    """
    n = check_size(n)
    check_finite(effect=effect, confounding=confounding, instrument_strength=instrument_strength)
    rng = rng_from(seed)
    u, x, v, e = rng.standard_normal((4, n))
    z = bernoulli(rng, np.full(n, 0.5))
    d = (instrument_strength * (z - 0.5) + 0.5 * x + confounding * u + v > 0).astype(np.int64)
    y = effect * d + x + confounding * u + e
    return CausalDataset(
        name="iv_unobserved_confounder", design="iv",
        data=pd.DataFrame({"z": z, "x": x, "d": d, "y": y}),
        roles={"treatment": "d", "outcome": "y", "instrument": "z", "covariates": ["x"]},
        truth={"LATE": float(effect), "ATE": float(effect)}, cate=np.full(n, float(effect)),
        edges=(("z", "d"), ("x", "d"), ("x", "y"), ("U", "d"), ("U", "y"), ("d", "y")),
        latent=("U",), adjustment=None,
        description="Binary instrument, binary treatment, latent confounder U; constant effect.",
        params={"n": n, "effect": effect, "confounding": confounding,
                "instrument_strength": instrument_strength})


def staggered_did_panel(n_units: int = 300, n_periods: int = 6, effect: float = 1.0,
                        dynamic: float = 0.5, cohorts: Sequence[int] = (3, 4, 5),
                        never_treated_share: float = 0.3, confounding: float = 1.0,
                        seed=None) -> CausalDataset:
    """A balanced panel with staggered adoption and effects that grow with exposure.

    Unit ``i`` first treated in period ``g_i`` (``cohort``; 0 = never) drawn from
    ``cohorts`` (equal shares of ``1 - never_treated_share``); periods are
    ``1..n_periods``.  ``y_it = a_i + 0.3 t + tau_it d_it + e_it`` with
    ``d_it = 1{g_i > 0, t >= g_i}``, ``tau_it = effect + dynamic (t - g_i)`` and unit
    effects ``a_i`` shifted by ``confounding`` for early cohorts (selection on
    levels, which DiD removes).  Parallel trends hold; with ``dynamic != 0`` the
    static two-way fixed-effects regression is biased (negative weights), while
    group-time estimators are not.  ``truth["ATT"]`` is the population mean of
    ``tau_it`` over treated unit-periods (the "simple" aggregation).

    >>> ds = staggered_did_panel(n_units=50, seed=0)
    >>> round(ds.truth["ATT"], 4), ds.roles["cohort"]
    (1.5556, 'cohort')
    """
    n_units = check_size(n_units, what="n_units")
    n_periods = check_size(n_periods, minimum=2, what="n_periods")
    check_finite(effect=effect, dynamic=dynamic, confounding=confounding)
    cohorts = [int(g) for g in cohorts]
    if not cohorts or min(cohorts) < 2 or max(cohorts) > n_periods:
        raise OptionError(f"cohorts must lie in 2..{n_periods} (a pre-period is needed), "
                          f"got {cohorts}")
    if not 0 < never_treated_share < 1:
        raise OptionError(f"never_treated_share must be in (0, 1), got {never_treated_share}")
    rng = rng_from(seed)
    shares = np.r_[never_treated_share, np.full(len(cohorts), (1 - never_treated_share) / len(cohorts))]
    g = rng.choice(np.r_[0, cohorts], size=n_units, p=shares)
    a = rng.standard_normal(n_units) + confounding * np.where(g > 0, (n_periods - g) / n_periods, 0.0)
    unit = np.repeat(np.arange(n_units), n_periods)
    time = np.tile(np.arange(1, n_periods + 1), n_units)
    gi = g[unit]
    d = ((gi > 0) & (time >= gi)).astype(np.int64)
    tau = np.where(d == 1, effect + dynamic * (time - gi), 0.0)
    y = a[unit] + 0.3 * time + tau + rng.standard_normal(n_units * n_periods)
    # population ATT: equal cohort shares, cells t = g..T per unit
    cells = [(effect + dynamic * np.arange(n_periods - c + 1)) for c in cohorts]
    att = float(np.concatenate(cells).mean())
    data = pd.DataFrame({"unit": unit, "time": time, "cohort": gi, "d": d, "y": y})
    return CausalDataset(
        name="staggered_did_panel", design="panel", data=data,
        roles={"treatment": "d", "outcome": "y", "unit": "unit", "time": "time",
               "cohort": "cohort"},
        truth={"ATT": att}, cate=tau,
        edges=(("A", "cohort"), ("A", "y"), ("cohort", "d"), ("time", "d"), ("time", "y"),
               ("d", "y")),
        latent=("A",), adjustment=None,
        description="Staggered adoption panel, parallel trends, dynamic effects.",
        params={"n_units": n_units, "n_periods": n_periods, "effect": effect,
                "dynamic": dynamic, "cohorts": tuple(cohorts),
                "never_treated_share": never_treated_share, "confounding": confounding})


def did_2x2(n_units: int = 500, effect: float = 1.0, confounding: float = 1.0,
            seed=None) -> CausalDataset:
    """The canonical two-group, two-period difference-in-differences panel.

    ``treated ~ Bernoulli(1/2)``; ``y_it = a_i + 0.5 post_t + effect treated_i post_t + e``
    with unit effects ``a_i = confounding * treated_i + N(0, 1)``.  ATT = ``effect``.

    >>> ds = did_2x2(n_units=40, seed=0)
    >>> ds.roles["post"], ds.truth
    ('post', {'ATT': 1.0})
    """
    n_units = check_size(n_units, what="n_units")
    check_finite(effect=effect, confounding=confounding)
    rng = rng_from(seed)
    treated = bernoulli(rng, np.full(n_units, 0.5))
    a = confounding * treated + rng.standard_normal(n_units)
    unit = np.repeat(np.arange(n_units), 2)
    post = np.tile([0, 1], n_units)
    g = treated[unit]
    y = a[unit] + 0.5 * post + effect * g * post + rng.standard_normal(2 * n_units)
    data = pd.DataFrame({"unit": unit, "time": post + 1, "treated": g, "post": post, "y": y})
    return CausalDataset(
        name="did_2x2", design="did", data=data,
        roles={"treatment": "treated", "outcome": "y", "post": "post", "unit": "unit",
               "time": "time"},
        truth={"ATT": float(effect)}, cate=effect * g * post,
        edges=(("A", "treated"), ("A", "y"), ("treated", "y"), ("post", "y")),
        latent=("A",), adjustment=None,
        description="Two groups, two periods, selection on levels; parallel trends hold.",
        params={"n_units": n_units, "effect": effect, "confounding": confounding})


def _rd_mean(x: np.ndarray) -> np.ndarray:
    """The smooth (cubic) conditional mean of the untreated outcome in the RD designs."""
    return 0.5 + 0.8 * x - 0.6 * x**2 + 0.4 * x**3


def sharp_rd(n: int = 1000, effect: float = 1.0, cutoff: float = 0.0,
             heterogeneity: float = 0.5, noise: float = 0.5, seed=None) -> CausalDataset:
    """A sharp regression discontinuity on a uniform running variable.

    ``x ~ U(cutoff - 1, cutoff + 1)``, ``t = 1{x >= cutoff}``;
    ``y = m(x - cutoff) + (effect + heterogeneity (x - cutoff)) t + noise * e`` with a cubic
    ``m``.  The estimand is the effect at the cutoff, ``effect``.  The roles
omit ``treatment`` (it is determined by the running variable, DESIGN.md);
the column ``t`` is kept in the data.
    """
    n = check_size(n)
    check_finite(effect=effect, cutoff=cutoff, heterogeneity=heterogeneity, noise=noise)
    rng = rng_from(seed)
    r = rng.uniform(-1.0, 1.0, n)
    t = (r >= 0).astype(np.int64)
    tau = effect + heterogeneity * r
    y = _rd_mean(r) + tau * t + noise * rng.standard_normal(n)
    return CausalDataset(
        name="sharp_rd", design="rd", data=pd.DataFrame({"x": r + cutoff, "t": t, "y": y}),
        roles={"outcome": "y", "running": "x", "cutoff": float(cutoff)},
        truth={"LATE": float(effect)}, cate=tau,
        edges=(("x", "t"), ("x", "y"), ("t", "y")), adjustment=None,
        description="Sharp RD, cubic conditional mean, effect varying in the running variable.",
        params={"n": n, "effect": effect, "cutoff": cutoff, "heterogeneity": heterogeneity,
                "noise": noise})


def fuzzy_rd(n: int = 2000, effect: float = 1.0, cutoff: float = 0.0, jump: float = 0.6,
             confounding: float = 1.0, noise: float = 0.5, seed=None) -> CausalDataset:
    """A fuzzy regression discontinuity: crossing the cutoff raises take-up by ``jump``.

    ``x ~ U(cutoff - 1, cutoff + 1)``; take-up ``t = 1{v < q(x)}`` with
    ``v = (confounding U + w)/sqrt(1 + confounding^2)`` and ``q`` chosen so that
    ``P(t = 1 | x) = 0.2 + jump 1{x >= cutoff}``; ``y = m(x) + effect t + confounding U + noise e``.
    Take-up is confounded by the latent ``U``; the effect is constant, so the
    local (complier) effect at the cutoff is ``effect``.

    >>> ds = fuzzy_rd(n=300, seed=0)
    >>> ds.roles["treatment"], ds.roles["running"], ds.truth
    ('t', 'x', {'LATE': 1.0})
    """
    n = check_size(n)
    check_finite(effect=effect, cutoff=cutoff, jump=jump, confounding=confounding, noise=noise)
    if not 0 < jump <= 0.8:
        raise OptionError(f"jump must be in (0, 0.8] (take-up is 0.2 below the cutoff), got {jump}")
    rng = rng_from(seed)
    r = rng.uniform(-1.0, 1.0, n)
    u, w, e = rng.standard_normal((3, n))
    v = (confounding * u + w) / np.sqrt(1.0 + confounding**2)
    p = 0.2 + jump * (r >= 0)
    t = (v < stats.norm.ppf(p)).astype(np.int64)
    y = _rd_mean(r) + effect * t + confounding * u + noise * e
    return CausalDataset(
        name="fuzzy_rd", design="rd", data=pd.DataFrame({"x": r + cutoff, "t": t, "y": y}),
        roles={"treatment": "t", "outcome": "y", "running": "x", "cutoff": float(cutoff)},
        truth={"LATE": float(effect)}, cate=np.full(n, float(effect)),
        edges=(("x", "t"), ("x", "y"), ("U", "t"), ("U", "y"), ("t", "y")),
        latent=("U",), adjustment=None,
        description="Fuzzy RD: take-up jumps from 0.2 to 0.2 + jump, confounded by latent U.",
        params={"n": n, "effect": effect, "cutoff": cutoff, "jump": jump,
                "confounding": confounding, "noise": noise})


