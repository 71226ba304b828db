"""Synthetic control (Abadie, Diamond & Hainmueller 2010), with placebo-in-space inference.

The treated unit (or the average of the treated units, all adopting in the
same period) is matched by a convex combination ``W`` of never-treated donors
on predictors: the pre-period means of the ``covariates`` and pre-period
outcome averages (``outcome_periods``; by default every pre-period outcome
when there are no covariates, else the pre-period outcome mean).  Predictors
are standardised by their standard deviation across units; the predictor
weights ``V`` are chosen as in the paper (nested optimisation: ``W(V)`` fits the
predictors, ``V`` minimises the pre-period outcome MSPE).  The estimate is the
mean post-period gap between the treated unit and its synthetic control.

Inference is placebo-in-space: each donor in turn is treated as if treated
(the other donors as its pool, the same predictors and nested ``V``).  The
p-value is the rank of the treated unit's post/pre RMSPE ratio among all
units, ``(1 + #{placebo ratio >= treated ratio}) / (1 + J)`` (Abadie et al.
2010, sect. 3.3); the standard error is the standard deviation of the placebo
estimates (the placebo variance of Arkhangelsky et al. 2021, Algorithm 4), and
the confidence interval is the Wald interval from it.

A treated unit outside the convex hull of the donors' predictors cannot be
reproduced by any synthetic control: a ``UserWarning`` then gives the distance,
the predictors beyond the donors' range and the pre-period fit (RMSPE).  :func:`plot_synthetic_control` draws the
treated and synthetic paths, the gap, or the gaps of all placebos.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n, T = 20, 12
>>> f = rng.normal(size=T).cumsum(); load = rng.uniform(0.5, 1.5, n); load[0] = 1.0
>>> y = np.outer(load, f) + 0.1 * rng.normal(size=(n, T)); y[0, 8:] += 2.0
>>> d = np.zeros((n, T), int); d[0, 8:] = 1
>>> df = pd.DataFrame({"i": np.repeat(np.arange(n), T), "t": np.tile(np.arange(T), n),
...                    "y": y.ravel(), "d": d.ravel()})
>>> eff = causalkit.estimate(df, "d", "y", method="synthetic_control", unit="i", time="t")
>>> abs(eff.estimate - 2.0) < 0.3, eff.p_value == 1 / 20
(True, True)
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import ConstantColumnError, DataError, OptionError
from ..registry import register
from ._adh import hull_distance, nested_weights
from ._panel import covariate_columns
from ._wide import WidePanel, wide_panel


def _outcome_blocks(wp: WidePanel, T0: int, outcome_periods: Any, has_covariates: bool
                    ) -> tuple[list[np.ndarray], list[str], bool]:
    """Column-index sets whose outcome means are predictors, their labels, lags-only flag."""
    pre = wp.times[:T0].tolist()
    if outcome_periods is None:
        if has_covariates:
            return [np.arange(T0)], ["outcome mean (pre-period)"], False
        return [np.array([t]) for t in range(T0)], [f"outcome {p!r}" for p in pre], True
    if isinstance(outcome_periods, (str, bytes)) or not hasattr(outcome_periods, "__iter__"):
        raise OptionError("outcome_periods must be a list of pre-treatment periods or of "
                          f"lists of them, got {outcome_periods!r}")
    blocks, labels = [], []
    for entry in outcome_periods:
        periods = list(entry) if isinstance(entry, (list, tuple, np.ndarray, range)) else [entry]
        bad = [p for p in periods if p not in pre]
        if not periods or bad:
            raise OptionError(f"outcome_periods entry {entry!r}: {bad or 'empty'} not among "
                              f"the {T0} pre-treatment periods {pre[0]!r}..{pre[-1]!r}")
        blocks.append(np.array([pre.index(p) for p in periods]))
        labels.append(f"outcome {periods[0]!r}" if len(periods) == 1
                      else f"outcome mean {periods[0]!r}..{periods[-1]!r}")
    lags = sorted(int(b[0]) for b in blocks if b.size == 1) == list(range(T0)) \
        and len(blocks) == T0
    return blocks, labels, lags


def _predictors(wp: WidePanel, frame: pd.DataFrame, unit: Any, time: Any, covs: list,
                T0: int, outcome_periods: Any) -> tuple[np.ndarray, list[str], bool]:
    """Predictor matrix (k x units, rows in wp.units order), labels, lags-only flag."""
    blocks, labels, lags = _outcome_blocks(wp, T0, outcome_periods, bool(covs))
    rows = [wp.Y[:, b].mean(axis=1) for b in blocks]
    if covs:
        pre = frame[frame[time].isin(wp.times[:T0])]
        means = pre.groupby(unit, sort=True)[covs].mean().reindex(wp.units)
        rows = [means[c].to_numpy(dtype=float) for c in covs] + rows
        labels = [f"{c} (pre-period mean)" for c in covs] + labels
        lags = False
    return np.vstack(rows), labels, lags


class _Fitter:
    """Fits the synthetic control of one unit (a row of P / Y, or the treated average)."""

    def __init__(self, P: np.ndarray, Y: np.ndarray, T0: int, lags: bool, v: Any) -> None:
        scale = P.std(axis=1, ddof=1)
        self.scale = np.where(scale > 0, scale, 1.0)
        # rounded to 1e-11 (they are of order 1): the nested Nelder-Mead search for V is
        # path-dependent, and should not depend on the last bits of a rescaled covariate
        self.Ps = np.round(P / self.scale[:, None], 11)
        self.Y, self.T0, self.lags, self.v = Y, T0, lags, v

    def fit(self, x1: np.ndarray, y1: np.ndarray, donors: np.ndarray) -> dict[str, Any]:
        X0, Z0 = self.Ps[:, donors], self.Y[donors, :self.T0].T
        res = nested_weights(x1, X0, y1[:self.T0], Z0, self.scale, lags_only=self.lags, v=self.v)
        synth = res.w @ self.Y[donors]
        gap = y1 - synth
        pre, post = gap[:self.T0], gap[self.T0:]
        pre_rmspe, post_rmspe = float(np.sqrt(np.mean(pre ** 2))), float(np.sqrt(np.mean(post ** 2)))
        return {"fit": res, "synthetic": synth, "gap": gap, "estimate": float(post.mean()),
                "pre_rmspe": pre_rmspe, "post_rmspe": post_rmspe,
                "ratio": post_rmspe / pre_rmspe if pre_rmspe > 0 else np.inf}


def _warn_outside_hull(x1: np.ndarray, X0: np.ndarray, labels: list[str], pre_rmspe: float,
                       y_sd: float) -> tuple[float, bool]:
    """Warn when the treated predictors lie outside the donors' convex hull.

    Outside means: some predictor beyond the donors' range (no convex combination
    reaches it), or a distance to the hull above 0.25 standard deviations per
    predictor (root mean square; noise alone puts any unit slightly outside).
    Returns the distance (standardised predictors) and whether it warned.
    """
    dist = hull_distance(x1, X0)
    lo, hi = X0.min(axis=1), X0.max(axis=1)
    span = np.maximum(hi - lo, 1e-12)
    beyond = np.flatnonzero((x1 < lo - 1e-9 * span) | (x1 > hi + 1e-9 * span))
    outside = beyond.size > 0 or dist / np.sqrt(x1.size) > 0.25
    if outside:
        out = [f"{labels[j]} (treated {x1[j]:.4g} vs donors {lo[j]:.4g}..{hi[j]:.4g}, "
               "standardised)" for j in beyond[:3]]
        extreme = ("; outside the donors' range: " + ", ".join(out)
                   + (f" and {beyond.size - 3} more" if beyond.size > 3 else "")) if out else ""
        warnings.warn(
            f"the treated unit lies outside the convex hull of the donors' predictors "
            f"(distance {dist:.4g} in standardised predictors{extreme}): no synthetic control "
            f"reproduces it; pre-period fit RMSPE {pre_rmspe:.4g} (outcome sd {y_sd:.4g})",
            UserWarning, stacklevel=4)
    return dist, outside


def _placebos(fitter: _Fitter, donors: np.ndarray, n_placebos: int | None,
              random_state: int) -> list[tuple[int, dict[str, Any]]]:
    chosen = donors
    if n_placebos is not None and n_placebos < donors.size:
        chosen = np.sort(np.random.default_rng(random_state).choice(donors, n_placebos,
                                                                    replace=False))
    out = []
    for j in chosen:
        others = donors[donors != j]
        out.append((int(j), fitter.fit(fitter.Ps[:, j], fitter.Y[j], others)))
    return out


def _check_n_placebos(n_placebos: Any) -> None:
    if n_placebos is not None and (isinstance(n_placebos, bool) or int(n_placebos) != n_placebos
                                   or n_placebos < 0):
        raise OptionError(f"n_placebos must be None (every donor) or an integer >= 0, "
                          f"got {n_placebos!r}")


@register("synthetic_control", estimand="ATT", roles=("treatment", "outcome", "unit", "time"),
          optional_roles=("covariates",), uses_adjustment_set=False)
def synthetic_control(data: pd.DataFrame, treatment: str, outcome: str, unit: str, time: str,
                      covariates: Sequence[str] | None = None, alpha: float = 0.05,
                      outcome_periods: Sequence[Any] | None = None,
                      predictor_weights: str | Sequence[float] = "nested",
                      n_placebos: int | None = None, random_state: int = 0) -> Effect:
    """Synthetic control of Abadie, Diamond & Hainmueller (2010) with placebo-in-space inference.

    Parameters
    ----------
    treatment
        Absorbing 0/1 treatment; all treated units must adopt in the same period
        (several treated units are matched as their average).
    covariates
        Predictors whose pre-period means are matched (time-varying or constant).
    outcome_periods
        Pre-period outcome predictors: a list whose entries are a period or a list
        of periods (their outcome mean is one predictor).  Default: every
        pre-period outcome without covariates, the pre-period mean with them.
    predictor_weights
        ``"nested"`` (the paper's data-driven V), ``"equal"``, or one weight per
        predictor (covariates first, then outcome predictors).
    n_placebos
        Placebo-in-space runs: ``None`` uses every donor, a number a random subset
        (``random_state``), 0 none (no inference).
    random_state
        Seed of the random subset of placebo donors (only with ``n_placebos``).
    """
    _check_n_placebos(n_placebos)
    wp = wide_panel(data, outcome, unit, time, treatment, method="synthetic_control",
                    min_pre=2, min_donors=2)
    if len(wp.cohorts) > 1:
        raise DataError(
            f"synthetic_control needs every treated unit to adopt in the same period (a block "
            f"design), but treatment {treatment!r} starts in {len(wp.cohorts)} periods "
            f"({', '.join(repr(wp.period(a)) for a in wp.cohorts)}); use synthetic_did, which "
            "fits staggered adoption cohort by cohort, or fit one cohort at a time")
    T0 = wp.cohorts[0]
    covs = covariate_columns(wp.frame, covariates, reserved=[outcome, unit, time, treatment])
    P, labels, lags = _predictors(wp, wp.frame, unit, time, covs, T0, outcome_periods)
    flat = [labels[j] for j in np.flatnonzero(P.std(axis=1) == 0)]
    if flat:
        raise ConstantColumnError(f"predictor {flat[0]} is the same for every unit, so it "
                                  "cannot be matched; drop it")
    treated, donors = wp.treated, wp.controls
    # the treated units enter as one averaged unit: append it as an extra row
    P = np.column_stack([P, P[:, treated].mean(axis=1)])
    Yx = np.vstack([wp.Y, wp.Y[treated].mean(axis=0)])
    fitter = _Fitter(P[:, np.r_[donors, P.shape[1] - 1]], Yx[np.r_[donors, Yx.shape[0] - 1]],
                     T0, lags, predictor_weights)
    n_d = donors.size
    local = np.arange(n_d)
    main = fitter.fit(fitter.Ps[:, n_d], fitter.Y[n_d], local)
    y_sd = float(np.std(wp.Y[:, :T0], ddof=1))
    dist, outside = _warn_outside_hull(fitter.Ps[:, n_d], fitter.Ps[:, local], labels,
                              main["pre_rmspe"], y_sd)
    placebo_runs = _placebos(fitter, local, n_placebos, random_state) if n_placebos != 0 else []
    donor_units = wp.units[donors]
    placebo = pd.DataFrame({
        "unit": [donor_units[j] for j, _ in placebo_runs],
        "estimate": [r["estimate"] for _, r in placebo_runs],
        "pre_rmspe": [r["pre_rmspe"] for _, r in placebo_runs],
        "post_rmspe": [r["post_rmspe"] for _, r in placebo_runs],
        "ratio": [r["ratio"] for _, r in placebo_runs]})
    gaps = pd.DataFrame({donor_units[j]: r["gap"] for j, r in placebo_runs}, index=wp.times)
    fit = main["fit"]
    n_pl = len(placebo_runs)
    if n_pl:
        se = float(np.sqrt(np.mean((placebo["estimate"] - placebo["estimate"].mean()) ** 2)))
        p = (1 + int((placebo["ratio"] >= main["ratio"]).sum())) / (1 + n_pl)
        how = (f"placebo-in-space over {n_pl} donors: p-value = rank of the post/pre RMSPE "
               f"ratio (Abadie et al. 2010), SE = sd of the placebo estimates, Wald CI")
    else:
        se, p = float("nan"), float("nan")
        how = "no placebo runs (n_placebos=0): no inference"
    unit_label = (f"treated unit {wp.units[treated[0]]!r}" if treated.size == 1
                  else f"average of {treated.size} treated units")
    diagnostics = {
        "donor_weights": pd.Series(fit.w, index=donor_units, name="weight"),
        "predictor_weights": pd.Series(fit.v, index=labels, name="v"),
        "predictors": pd.DataFrame({"treated": P[:, -1], "synthetic": P[:, donors] @ fit.w,
                                    "donor_mean": P[:, donors].mean(axis=1)}, index=labels),
        "v_search": fit.search,
        "paths": pd.DataFrame({"treated": Yx[-1], "synthetic": main["synthetic"],
                               "gap": main["gap"]}, index=wp.times),
        "pre_rmspe": main["pre_rmspe"], "post_rmspe": main["post_rmspe"],
        "rmspe_ratio": main["ratio"], "hull_distance": dist,
        "outside_hull": outside,
        "placebos": placebo, "placebo_gaps": gaps, "permutation_p_value": p,
        "n_pre_periods": int(T0), "treatment_start": wp.period(T0),
    }
    eff = Effect.from_estimate(
        method="synthetic_control", estimand="ATT", estimate=main["estimate"], std_error=se,
        alpha=alpha, treatment=treatment, outcome=outcome, n_treated=int(treated.size),
        n_control=int(n_d), n_obs=int(wp.Y.size), covariates=tuple(covs),
        inference=f"{unit_label}; {how}", diagnostics=diagnostics)
    return dataclasses.replace(eff, p_value=p, call=eff.call)


def plot_synthetic_control(effect: Effect, kind: str = "path", ax: Any = None,
                           max_ratio: float | None = None) -> Any:
    """Plot a ``synthetic_control`` fit; returns the matplotlib Axes.

    ``kind="path"``: the treated and synthetic outcome paths; ``"gap"``: their
    difference; ``"placebo"``: the gap with every placebo's gap behind it (those
    with a pre-period RMSPE above ``max_ratio`` times the treated unit's left
    out, as in Abadie et al. 2010, Fig. 5–7).
    """
    import matplotlib.pyplot as plt

    if effect.method != "synthetic_control":
        raise OptionError("plot_synthetic_control needs the Effect of synthetic_control")
    if kind not in ("path", "gap", "placebo"):
        raise OptionError(f"kind must be 'path', 'gap' or 'placebo', got {kind!r}")
    d = effect.diagnostics
    paths = d["paths"]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    x = paths.index.to_numpy()
    if kind == "path":
        ax.plot(x, paths["treated"], color="black", label="treated")
        ax.plot(x, paths["synthetic"], color="tab:blue", linestyle="--", label="synthetic")
        ax.set_ylabel(effect.outcome or "outcome")
    else:
        if kind == "placebo":
            keep = d["placebos"]
            if max_ratio is not None:
                keep = keep[keep["pre_rmspe"] <= max_ratio * d["pre_rmspe"]]
            for u in keep["unit"]:
                ax.plot(x, d["placebo_gaps"][u], color="lightgray", linewidth=0.8)
        ax.plot(x, paths["gap"], color="black", label="treated - synthetic")
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_ylabel("gap")
    ax.axvline(d["treatment_start"], color="tab:red", linestyle=":", linewidth=0.8)
    ax.set_xlabel("period")
    ax.legend(loc="best")
    return ax
