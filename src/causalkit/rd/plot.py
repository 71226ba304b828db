"""``plot_rdd``: binned means of the outcome and global polynomial fits on each side.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"x": rng.uniform(-1, 1, 500)})
>>> df["y"] = df.x + (df.x >= 0) + rng.normal(0, .2, 500)
>>> ax = plot_rdd(df, "y", "x", 0.0)
>>> len(ax.lines) >= 3
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..validation import check_frame
from .estimate import split_sides


def plot_rdd(data: pd.DataFrame, outcome: str, running: str, cutoff: float = 0.0,
             n_bins: int = 20, order: int = 4, ax: Any = None) -> Any:
    """Scatter of binned means (``n_bins`` evenly spaced bins a side) and order-``order``
    polynomial fits on each side, with a vertical line at the cutoff; returns the Axes."""
    import matplotlib.pyplot as plt

    frame = check_frame(data, roles={"outcome": outcome, "running": running})
    x = frame[running].to_numpy(dtype=float)
    y = frame[outcome].to_numpy(dtype=float)
    right = split_sides(x, cutoff, running)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    for mask, colour in ((~right, "C0"), (right, "C1")):
        xs, ys = x[mask], y[mask]
        edges = np.linspace(xs.min(), xs.max(), n_bins + 1)
        idx = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, n_bins - 1)
        counts = np.bincount(idx, minlength=n_bins)
        sums = np.bincount(idx, weights=ys, minlength=n_bins)
        filled = counts > 0
        mids = 0.5 * (edges[:-1] + edges[1:])
        ax.scatter(mids[filled], sums[filled] / counts[filled], color=colour, s=18)
        deg = min(order, len(np.unique(xs)) - 1)
        coef = np.polyfit(xs - cutoff, ys, deg)
        grid = np.linspace(xs.min(), xs.max(), 200)
        ax.plot(grid, np.polyval(coef, grid - cutoff), color=colour)
    ax.axvline(cutoff, color="grey", linestyle="--")
    ax.set_xlabel(running)
    ax.set_ylabel(outcome)
    ax.set_title(f"RD plot: binned means and order-{order} polynomial fits")
    return ax
