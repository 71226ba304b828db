"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021).

SDID reweights the control units (``omega``, so that their pre-treatment path
parallels the treated units') and the pre-treatment periods (``lambda``, so
that they resemble the post-treatment periods for the controls), and takes the
weighted difference in differences.  The unit weights carry an intercept and
the paper's ridge penalty ``zeta = (N_tr T_post)^(1/4) sigma``, ``sigma`` the
standard deviation of the control units' pre-period first differences; the
weights are found by Frank–Wolfe with synthdid's two-stage sparsification.

``estimator="sc"`` and ``estimator="did"`` give the paper's other two columns
of Table 1 in the same framework (synthetic control: no intercept, no time
weights, penalty ``1e-6 sigma``; DiD: uniform weights).  For the synthetic
control with predictor weights of Abadie, Diamond & Hainmueller (2010) see
``synthetic_control``.

With several adoption periods (staggered adoption) every cohort is estimated
against the never-treated units and the estimates are averaged with weights
``N_tr T_post`` (Clarke, Pailañir, Athey & Imbens 2023; the Stata ``sdid``
and Python ``synthdid`` convention).

Standard errors: ``"placebo"`` (the paper's Algorithm 4: the treated units'
adoption periods given to random control units), ``"bootstrap"`` (units drawn
with replacement, weights re-estimated) or ``"jackknife"`` (weights fixed);
``"auto"`` is the placebo when the control units outnumber the treated ones and
the bootstrap otherwise.  When a block design allows at most
``n_replications`` placebo assignments (with one treated unit: one per control)
each is used once, giving the exact placebo standard error.  ``diagnostics["event_study"]`` holds the effect per
event time (the average of the cohorts' per-period effects, weighted by their
sizes) with replication standard errors, for ``plot_event_study``.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n, T = 30, 10
>>> unit = np.repeat(np.arange(n), T); t = np.tile(np.arange(T), n)
>>> d = ((unit >= 25) & (t >= 7)).astype(int)
>>> y = rng.normal(size=n)[unit] + 0.3 * t + 2.0 * d + 0.5 * rng.normal(size=n * T)
>>> df = pd.DataFrame({"i": unit, "t": t, "d": d, "y": y})
>>> eff = causalkit.estimate(df, "d", "y", method="synthetic_did", unit="i", time="t",
...                          n_replications=50)
>>> abs(eff.estimate - 2.0) < 0.6, eff.std_error > 0
(True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import OptionError
from ..inference import critical_value
from ..registry import register
from ._sdid import (KINDS, SE_METHODS, DesignFit, bootstrap, fit_design, jackknife, placebo,
                    undefined)
from ._wide import WidePanel, wide_panel

_NAMES = {"sdid": "synthetic difference-in-differences", "sc": "synthetic control (SDID "
          "framework: no intercept, no time weights)", "did": "difference-in-differences"}


def _check_options(estimator: str, se_method: str, n_replications: int) -> None:
    if estimator not in KINDS:
        raise OptionError(f"estimator must be one of {', '.join(map(repr, KINDS))}, "
                          f"got {estimator!r}")
    if se_method not in (*SE_METHODS, "auto", "none"):
        raise OptionError(f"se_method must be 'auto', 'none' or one of "
                          f"{', '.join(map(repr, SE_METHODS))}, got {se_method!r}")
    if isinstance(n_replications, bool) or int(n_replications) != n_replications \
            or n_replications < 2:
        raise OptionError(f"n_replications must be an integer >= 2, got {n_replications!r}")


def _cohort_table(wp: WidePanel, fit: DesignFit) -> pd.DataFrame:
    T = wp.Y.shape[1]
    total = sum(len(c.treated) * (T - c.adoption) for c in fit.cohorts)
    return pd.DataFrame({
        "adoption_period": [wp.period(c.adoption) for c in fit.cohorts],
        "att": [c.estimate for c in fit.cohorts],
        "weight": [len(c.treated) * (T - c.adoption) / total for c in fit.cohorts],
        "n_treated": [len(c.treated) for c in fit.cohorts],
        "n_pre": [c.adoption for c in fit.cohorts],
        "n_post": [T - c.adoption for c in fit.cohorts],
        "noise_level": [c.tuning.noise_level for c in fit.cohorts],
        "zeta_omega": [c.tuning.zeta_omega for c in fit.cohorts],
    })


def _weights(wp: WidePanel, fit: DesignFit) -> tuple[Any, Any]:
    """Unit and time weights: Series for one cohort, dicts by adoption period otherwise."""
    unit_w = {wp.period(c.adoption): pd.Series(c.omega, index=wp.units[c.controls], name="omega")
              for c in fit.cohorts}
    time_w = {wp.period(c.adoption): pd.Series(c.lam, index=wp.times[:c.adoption], name="lambda")
              for c in fit.cohorts}
    if len(fit.cohorts) == 1:
        return next(iter(unit_w.values())), next(iter(time_w.values()))
    return unit_w, time_w


def trajectories(wp: WidePanel, fit: DesignFit) -> pd.DataFrame:
    """Per cohort and period: treated mean, omega-weighted control mean and the SDID shift."""
    out = []
    for c in fit.cohorts:
        treated = wp.Y[c.treated].mean(axis=0)
        synthetic = c.omega @ wp.Y[c.controls]
        shift = float(c.lam @ (treated - synthetic)[:c.adoption])
        out.append(pd.DataFrame({"adoption_period": wp.period(c.adoption), "time": wp.times,
                                 "treated": treated, "synthetic": synthetic + shift,
                                 "effect": treated - synthetic - shift}))
    return pd.concat(out, ignore_index=True)


@register("synthetic_did", estimand="ATT", roles=("treatment", "outcome", "unit", "time"),
          uses_adjustment_set=False)
def synthetic_did(data: pd.DataFrame, treatment: str, outcome: str, unit: str, time: str,
                  alpha: float = 0.05, estimator: str = "sdid", se_method: str = "auto",
                  n_replications: int = 200, random_state: int = 0) -> Effect:
    """Synthetic difference-in-differences on a balanced panel (Arkhangelsky et al. 2021).

    Parameters
    ----------
    treatment
        Absorbing 0/1 treatment (1 from a unit's adoption period on); units never
        treated are the controls.  Several adoption periods are fitted cohort by
        cohort and averaged.
    estimator
        ``"sdid"`` (default), ``"sc"`` or ``"did"``: the three estimators of the
        paper's Table 1 in one framework.
    se_method
        ``"placebo"``, ``"bootstrap"``, ``"jackknife"`` or ``"auto"`` (placebo when
        there are more control than treated units, else bootstrap); ``"none"``
        for the estimate and weights only (no inference).
    n_replications
        Placebo / bootstrap replications (synthdid's default 200).
    random_state
        Seed of the placebo and bootstrap draws.
    """
    _check_options(estimator, se_method, n_replications)
    wp = wide_panel(data, outcome, unit, time, treatment, method="synthetic_did",
                    min_pre=2, min_donors=2)
    adoption = wp.adoption
    fit = fit_design(wp.Y, adoption, estimator)
    n_tr, n_co = len(wp.treated), len(wp.controls)
    method = se_method if se_method != "auto" else ("placebo" if n_co > n_tr else "bootstrap")
    rng = np.random.default_rng(random_state)
    if method == "placebo":
        reps = placebo(wp.Y, adoption, estimator, fit, int(n_replications), rng)
    elif method == "bootstrap":
        reps = bootstrap(wp.Y, adoption, estimator, fit, int(n_replications), rng)
    elif method == "jackknife":
        reps = jackknife(wp.Y, adoption, estimator, fit)
    else:
        reps = undefined(fit, "no standard error was asked for (se_method='none')")
    crit = critical_value(alpha)
    ev_se = reps.event_std_errors
    events = pd.DataFrame({"event_time": fit.event_times, "att": fit.event_effects,
                           "std_error": ev_se, "ci_low": fit.event_effects - crit * ev_se,
                           "ci_high": fit.event_effects + crit * ev_se})
    unit_w, time_w = _weights(wp, fit)
    n_reps = int(reps.estimates.size)
    what = {"placebo": f"placebo standard error ({n_reps} placebo assignments among the "
                       "controls" + (", all of them" if n_reps < n_replications else "")
                       + ", weights re-estimated)",
            "bootstrap": f"unit bootstrap standard error ({int(n_replications)} draws, "
                         "weights re-estimated)",
            "jackknife": "jackknife standard error (weights fixed)", "none": ""}[method]
    if method == "none":
        what = "no standard error (se_method='none')"
    elif reps.reason:
        what = f"{method} standard error undefined: {reps.reason}"
    cohorts = len(fit.cohorts)
    design = (f"one adoption period ({wp.period(fit.cohorts[0].adoption)!r})" if cohorts == 1
              else f"{cohorts} adoption cohorts, each against the never-treated units, "
                   "averaged with weights N_tr x T_post")
    diagnostics = {
        "estimator": estimator, "se_method": method, "n_replications": n_reps,
        "replicates": reps.estimates, "cohorts": _cohort_table(wp, fit),
        "unit_weights": unit_w, "time_weights": time_w, "event_study": events,
        "trajectories": trajectories(wp, fit), "n_periods": len(wp.times),
        "n_pre_periods": fit.cohorts[0].adoption if cohorts == 1 else None,
    }
    return Effect.from_estimate(
        method="synthetic_did", estimand="ATT", estimate=fit.estimate,
        std_error=reps.std_error, alpha=alpha, treatment=treatment, outcome=outcome,
        n_treated=n_tr, n_control=n_co, n_obs=int(wp.Y.size),
        inference=f"{_NAMES[estimator]}; {design}; {what}; normal reference",
        diagnostics=diagnostics)
