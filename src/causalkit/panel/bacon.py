"""Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD estimate.

With staggered adoption on a balanced panel, the TWFE coefficient on the
treatment indicator is exactly a weighted average of every 2x2 DiD between
timing groups (Goodman-Bacon 2021, Theorem 1):

* *treated vs untreated*: timing group ``k`` against the never-treated units,
  over the whole panel;
* *earlier vs later treated*: ``k`` (treated first) against ``l`` (not yet
  treated), over the periods before ``l`` is treated;
* *later vs earlier treated*: ``l`` against ``k`` (already treated) as the
  control, over the periods from ``k``'s adoption on — the comparison that makes
  TWFE fail when effects change over time;
* *later vs always treated*: against units treated in every period.

The weights depend only on the group sizes and on the variance of treatment
within each pair, they are non-negative and sum to one.  :func:`bacon_decomposition`
returns every 2x2 estimate with its weight, the sum by type, and the TWFE
coefficient (which the weighted sum reproduces to rounding);
:meth:`BaconDecomposition.plot` draws estimate against weight.

Reference: A. Goodman-Bacon (2021), "Difference-in-differences with variation in
treatment timing", Journal of Econometrics 225(2), 254-277.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n = 60; unit = np.repeat(np.arange(n), 6); t = np.tile(np.arange(6), n)
>>> g = np.repeat(rng.choice([0, 2, 4], n), 6)
>>> y = rng.normal(size=n)[unit] + np.where((g > 0) & (t >= g), 1.0 + t - g, 0.0)
>>> df = pd.DataFrame({"id": unit, "t": t, "g": g, "y": y + rng.normal(size=n * 6)})
>>> dec = bacon_decomposition(df, outcome="y", unit="id", time="t", cohort="g")
>>> bool(abs(dec.table.weight.sum() - 1) < 1e-12), bool(abs(dec.error) < 1e-10)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EmptyArmError
from ._staggered import staggered_panel, sum_by

TYPES = ("Earlier vs Later Treated", "Later vs Earlier Treated", "Treated vs Untreated",
         "Later vs Always Treated")


@dataclass(frozen=True)
class BaconDecomposition:
    """Every 2x2 DiD of the TWFE estimate with its weight.

    Attributes
    ----------
    table
        One row per 2x2: ``type``, ``treated`` and ``control`` (timing groups by
        first treated period; ``"never"`` / ``"always"``), ``estimate``, ``weight``.
    summary
        Per type: total ``weight`` and weighted average estimate ``avg_est``.
    twfe
        The TWFE coefficient (unit and period effects) on the same panel.
    error
        ``sum(weight * estimate) - twfe`` (zero up to rounding).
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    twfe: float
    error: float

    def plot(self, ax: Any = None, title: str | None = None) -> Any:
        """Scatter of each 2x2 estimate against its weight, by type; the TWFE line."""
        return plot_bacon(self, ax=ax, title=title)


def _did(means: np.ndarray, a: int, b: int, pre: np.ndarray, post: np.ndarray) -> float:
    gap = means[a] - means[b]
    return float(gap[post].mean() - gap[pre].mean())


def bacon_decomposition(data: Any, outcome: str, unit: str, time: str,
                        treatment: str | None = None, cohort: str | None = None
                        ) -> BaconDecomposition:
    """Goodman-Bacon decomposition of the TWFE DiD coefficient into its 2x2 comparisons.

    Needs a balanced panel and an absorbing treatment (given as a 0/1 ``treatment``
    column or as the ``cohort``, the first treated period; 0 or missing for never
    treated; a cohort after the last period counts as never treated).
    """
    panel = staggered_panel(data, outcome, unit, time, treatment, cohort,
                            method="bacon_decomposition")
    panel.require_balanced("bacon_decomposition")
    periods = panel.periods
    N, T = panel.n_units, panel.n_periods
    g_unit = np.zeros(N)
    g_unit[panel.unit] = panel.cohort
    g_unit = np.where(g_unit > periods[-1], 0.0, g_unit)          # adopts after the panel
    first = periods[0]
    label = np.where(g_unit == 0, np.inf, np.maximum(g_unit, first))  # always -> first
    groups, gidx = np.unique(label, return_inverse=True)
    Y = np.empty((N, T))
    Y[panel.unit, panel.time] = panel.y
    means = sum_by(gidx, Y) / np.bincount(gidx)[:, None]
    share = np.bincount(gidx) / N
    Dbar = np.array([np.mean(periods >= g) if np.isfinite(g) else 0.0 for g in groups])
    D = (periods[None, :] >= g_unit[:, None]) & (g_unit[:, None] > 0)
    Dt = D - D.mean(axis=1, keepdims=True) - D.mean(axis=0) + D.mean()
    VD = float((Dt ** 2).mean())
    if VD <= 1e-14:
        raise EmptyArmError("bacon_decomposition: the treatment does not vary within units "
                            "and periods (every unit treated at the same time as every other "
                            "and none untreated, or nobody treated); there is no 2x2 to form")
    twfe = float((Dt * Y).sum() / (Dt ** 2).sum())

    def name(j: int) -> Any:
        if not np.isfinite(groups[j]):
            return "never"
        return "always" if Dbar[j] == 1.0 else groups[j]

    rows = []
    never = [j for j in range(len(groups)) if not np.isfinite(groups[j])]
    timing = [j for j in range(len(groups)) if np.isfinite(groups[j])]
    for k in timing:
        if never and 0 < Dbar[k] < 1:
            u = never[0]
            nk = share[k] / (share[k] + share[u])
            w = (share[k] + share[u]) ** 2 * nk * (1 - nk) * Dbar[k] * (1 - Dbar[k]) / VD
            rows.append((TYPES[2], name(k), "never",
                         _did(means, k, u, periods < groups[k], periods >= groups[k]), w))
    for k in timing:                       # k earlier than l
        for l in timing:
            if not groups[k] < groups[l]:
                continue
            nkl = share[k] / (share[k] + share[l])
            base = (share[k] + share[l]) ** 2 * nkl * (1 - nkl)
            if Dbar[k] < 1:
                w = base * (1 - Dbar[l]) ** 2 * (Dbar[k] - Dbar[l]) / (1 - Dbar[l]) \
                    * (1 - Dbar[k]) / (1 - Dbar[l]) / VD
                window = periods < groups[l]
                rows.append((TYPES[0], name(k), name(l),
                             _did(means, k, l, window & (periods < groups[k]),
                                  window & (periods >= groups[k])), w))
            w = base * Dbar[k] ** 2 * (Dbar[l] / Dbar[k]) * (Dbar[k] - Dbar[l]) / Dbar[k] / VD
            window = periods >= groups[k]
            rows.append((TYPES[3] if Dbar[k] == 1 else TYPES[1], name(l), name(k),
                         _did(means, l, k, window & (periods < groups[l]),
                              window & (periods >= groups[l])), w))
    table = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    table = table[table.weight > 0].reset_index(drop=True)
    summary = table.assign(we=table.weight * table.estimate).groupby("type", sort=False).agg(
        weight=("weight", "sum"), we=("we", "sum"))
    summary["avg_est"] = summary.we / summary.weight
    summary = summary.drop(columns="we").reindex([t for t in TYPES if t in summary.index])
    return BaconDecomposition(table=table, summary=summary, twfe=twfe,
                              error=float(table.weight @ table.estimate - twfe))


def plot_bacon(decomposition: BaconDecomposition, ax: Any = None, title: str | None = None
               ) -> Any:
    """Scatter of the 2x2 estimates against their weights, one marker per type.

    >>> import pandas as pd
    >>> tab = pd.DataFrame({"type": ["Treated vs Untreated"], "treated": [3], "control":
    ...                     ["never"], "estimate": [1.0], "weight": [1.0]})
    >>> ax = plot_bacon(BaconDecomposition(tab, tab, 1.0, 0.0))
    >>> len(ax.collections)
    1
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    table = decomposition.table
    for kind, marker in zip(TYPES, ("o", "^", "s", "D")):
        part = table[table.type == kind]
        if len(part):
            ax.scatter(part.weight, part.estimate, marker=marker, label=kind)
    ax.axhline(decomposition.twfe, color="black", linewidth=0.8, linestyle="--")
    ax.set_xlabel("weight")
    ax.set_ylabel("2x2 DiD estimate")
    ax.set_title(title or f"Goodman-Bacon decomposition (TWFE = {decomposition.twfe:.4g})")
    ax.legend(loc="best")
    return ax
