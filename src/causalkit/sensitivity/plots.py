"""Plots a paper can use: OVB contours, the extreme scenario, the E-value curve,
the Γ sensitivity curve and the refuters' distributions.

Each function draws on ``ax`` (a new figure when ``None``) and returns the axes.

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from causalkit.sensitivity import evalue
>>> ax = evalue(2.0, 1.5, 2.6).plot()
>>> ax.get_xlabel()
'RR of confounder with treatment'
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 5))
    return ax


def evalue_curve(ev: Any, ax: Any = None) -> Any:
    """The pairs (RR_EU, RR_UD) whose bounding factor ``RR_EU RR_UD / (RR_EU + RR_UD - 1)``
    equals the observed risk ratio (VanderWeele & Ding 2017), the E-value marked."""
    ax = _axes(ax)
    rr = ev.rr / ev.null if ev.rr >= ev.null else ev.null / ev.rr
    if rr <= 1:
        ax.text(0.5, 0.5, "estimate at the null: E-value 1", transform=ax.transAxes,
                ha="center")
        return ax
    top = max(3 * ev.point, rr + 2)
    x = np.linspace(rr * 1.0001, top, 400)
    y = rr * (1 - x) / (rr - x)                  # solves x y / (x + y - 1) = rr for y
    keep = (y > 0) & (y <= top)
    ax.plot(x[keep], y[keep], color="C0", label=f"explains away RR = {rr:.3g}")
    ax.plot([ev.point], [ev.point], "o", color="C3", label=f"E-value {ev.point:.3g}")
    if np.isfinite(ev.ci) and ev.ci > 1:
        ax.plot([ev.ci], [ev.ci], "s", color="C1", label=f"CI limit E-value {ev.ci:.3g}")
    ax.set_xlabel("RR of confounder with treatment")
    ax.set_ylabel("RR of confounder with outcome")
    ax.set_xlim(1, top)
    ax.set_ylim(1, top)
    ax.legend(frameon=False)
    return ax


def ovb_contour(res: Any, sensitivity_of: str = "estimate", ax: Any = None,
                lim: float | None = None, threshold: float = 0.0, n_grid: int = 200) -> Any:
    """Contours of the adjusted estimate (or t) over the partial R² of a confounder
    with the treatment (x) and the outcome (y), the benchmarks marked (Cinelli & Hazlett 2020)."""
    from ..errors import OptionError

    if sensitivity_of not in ("estimate", "t"):
        raise OptionError(f"sensitivity_of must be 'estimate' or 't', got {sensitivity_of!r}")
    ax = _axes(ax)
    top = lim if lim is not None else min(0.99, max(0.4, *(1.2 * res.bounds["r2dz_x"]),
                                                    *(1.2 * res.bounds["r2yz_dx"])))
    grid = np.linspace(0, top, n_grid)
    gx, gy = np.meshgrid(grid, grid)
    if sensitivity_of == "estimate":
        z = res.adjusted_estimate(gx, gy)
        here = res.estimate
    else:
        z = res.adjusted_t(gx, gy, h0=threshold)
        from scipy import stats

        threshold = float(stats.t.ppf(1 - res.alpha / 2, res.df - 1)) * np.sign(res.estimate)
        here = res.t_statistic
    _contours(ax, gx, gy, z, threshold, here)
    column = "adjusted_estimate" if sensitivity_of == "estimate" else "adjusted_t"
    points = [(row["r2dz_x"], row["r2yz_dx"], f"{row['bound_label']}\n({row[column]:.3g})")
              for _, row in res.bounds.iterrows()]
    return _finish(ax, points, "Partial R² of confounder(s) with the treatment",
                   "Partial R² of confounder(s) with the outcome", top)


def _contours(ax: Any, gx: np.ndarray, gy: np.ndarray, z: np.ndarray, threshold: float,
              unadjusted: float) -> None:
    """Labelled contours, the threshold's dashed, the unadjusted value at the origin."""
    cs = ax.contour(gx, gy, z, levels=10, colors="grey", linewidths=0.8)
    ax.clabel(cs, fontsize=8)
    if z.min() < threshold < z.max():
        ax.contour(gx, gy, z, levels=[threshold], colors="C3", linestyles="--",
                   linewidths=1.5)
    ax.plot([0], [0], "^", color="k")
    ax.annotate(f"unadjusted ({unadjusted:.3g})", (0, 0), textcoords="offset points",
                xytext=(5, 5), fontsize=8)


def _finish(ax: Any, points: list[tuple[float, float, str]], xlabel: str, ylabel: str,
            top: float) -> Any:
    """Benchmarks marked and labelled, axes named, a square window ``[0, top]``."""
    for x, y, label in points:
        ax.plot(x, y, "D", color="C3", markersize=5)
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    return ax


def ovb_extreme(res: Any, ax: Any = None, r2yz_dx: tuple[float, ...] = (1.0, 0.75, 0.5),
                lim: float | None = None, threshold: float = 0.0) -> Any:
    """The adjusted estimate as a function of the confounder's partial R² with the
    treatment, for a confounder explaining all (or 75%, 50%) of the outcome's residual variance."""
    ax = _axes(ax)
    top = lim if lim is not None else min(0.99, max(0.1, 4 * res.partial_r2))
    x = np.linspace(0, top, 400)
    for i, r2y in enumerate(r2yz_dx):
        ax.plot(x, res.adjusted_estimate(x, r2y), color=f"C{i}",
                label=f"R²(Y~Z|D,X) = {100 * r2y:g}%")
    ax.axhline(threshold, color="C3", linestyle="--", linewidth=1)
    for v in res.bounds["r2dz_x"]:
        ax.axvline(v, color="grey", linewidth=0.6, ymax=0.05)
    ax.set_xlabel("Partial R² of confounder(s) with the treatment")
    ax.set_ylabel("Adjusted effect estimate")
    ax.legend(frameon=False)
    return ax


def gamma_curve(table: Any, alpha: float = 0.05, ax: Any = None) -> Any:
    """The worst-case (upper-bound) p-value against Γ, with the level and the
    Γ at which significance is lost (Rosenbaum 2002)."""
    ax = _axes(ax)
    ax.plot(table["gamma"], table["p_upper"], color="C0", label="upper bound on p")
    ax.plot(table["gamma"], table["p_lower"], color="C0", linestyle=":", label="lower bound on p")
    ax.axhline(alpha, color="C3", linestyle="--", linewidth=1, label=f"alpha = {alpha:g}")
    critical = table.attrs.get("gamma_critical")
    if critical is not None and np.isfinite(critical):
        ax.axvline(critical, color="grey", linewidth=0.8)
        ax.annotate(f"Γ = {critical:.3g}", (critical, alpha), textcoords="offset points",
                    xytext=(5, 8), fontsize=8)
    ax.set_xlabel("Γ (odds of treatment within a matched set)")
    ax.set_ylabel("p-value")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False)
    return ax


def refuter_distribution(result: Any, ax: Any = None) -> Any:
    """Histogram of the refitted estimates of one refuter, the original estimate marked."""
    ax = _axes(ax)
    draws = np.asarray(result.estimates, float)
    draws = draws[np.isfinite(draws)]
    ax.hist(draws, bins=min(30, max(5, len(draws) // 5)), color="C0", alpha=0.7,
            label=f"{result.kind} refits")
    ax.axvline(result.original, color="C3", linewidth=2, label=f"original {result.original:.3g}")
    if result.expected is not None:
        ax.axvline(result.expected, color="k", linestyle="--", linewidth=1,
                   label=f"expected {result.expected:.3g}")
    ax.set_xlabel("estimate")
    ax.set_ylabel("count")
    ax.set_title(f"{result.kind}: p = {result.p_value:.3g}")
    ax.legend(frameon=False)
    return ax


def dml_contour(res: Any, value: str = "theta", ax: Any = None, lim: float = 0.15,
                n_grid: int = 60) -> Any:
    """Contours of the bound nearer the null (``value="theta"``) or of its confidence
    limit (``"ci"``) over ``cf_d`` (x) and ``cf_y`` (y) at the result's ``rho``, the
    scenario and the benchmarks marked (Chernozhukov et al. 2022; DoubleML's
    ``sensitivity_plot``)."""
    from ..errors import OptionError
    from .ovb_dml import _aggregate

    if value not in ("theta", "ci"):
        raise OptionError(f"value must be 'theta' or 'ci', got {value!r}")
    if res.elements is None:
        raise OptionError("this result does not carry its sensitivity elements; recompute "
                          "it with causalkit.sensitivity.ovb_dml")
    ax = _axes(ax)
    top = max(lim, 1.2 * res.cf_y, 1.2 * res.cf_d,
              *(1.2 * res.benchmarks["cf_y"]), *(1.2 * res.benchmarks["cf_d"]))
    top = min(top, 0.99)
    grid = np.linspace(0, top, n_grid)
    lower = res.null <= res.theta                    # the bound that moves towards the null
    pick = (0 if lower else 1) if value == "theta" else (4 if lower else 5)
    z = np.array([[_aggregate(res.elements, cy, cd, res.rho, res.alpha)[pick] for cd in grid]
                  for cy in grid])
    gx, gy = np.meshgrid(grid, grid)
    _contours(ax, gx, gy, z, res.null, z[0, 0])
    here = _aggregate(res.elements, res.cf_y, res.cf_d, res.rho, res.alpha)[pick]
    ax.plot(res.cf_d, res.cf_y, "o", color="C1")
    ax.annotate(f"scenario ({here:.3g})", (res.cf_d, res.cf_y), textcoords="offset points",
                xytext=(5, 5), fontsize=8)
    points = [(row["cf_d"], row["cf_y"], str(row["benchmark"]))
              for _, row in res.benchmarks.iterrows()]
    return _finish(ax, points, "cf_d (gain in the Riesz representer's variation)",
                   "cf_y (share of the outcome's residual variation)", top)
