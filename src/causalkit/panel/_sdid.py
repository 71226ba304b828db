"""The synthetic difference-in-differences framework of Arkhangelsky et al. (2021).

One estimator, three settings of its weights (the paper's Table 1):

* ``"sdid"``: unit weights ``omega`` with an intercept and ridge penalty
  ``zeta = (N_tr T_post)^(1/4) sigma`` (``sigma`` the standard deviation of the
  first differences of the control units' pre-period outcomes), time weights
  ``lambda`` with an intercept and penalty ``1e-6 sigma``;
* ``"sc"``: synthetic control, unit weights without intercept, penalty
  ``1e-6 sigma``, no time weights;
* ``"did"``: uniform unit and time weights.

The weights come from Frank–Wolfe with synthdid's two-stage sparsification
(100 iterations, weights at most a quarter of the largest set to zero, then
iterate to convergence).  The estimate is
``(1/N_tr) sum_tr (Ybar_post - lambda'Y_pre) - sum_co omega_i (Ybar_i,post - lambda'Y_i,pre)``.
With several adoption periods each cohort is fitted against the never-treated
units on all periods and the cohort estimates are averaged with weights
``N_tr,a T_post,a`` (Clarke, Pailañir, Athey & Imbens 2023).

Standard errors (the paper's Algorithms 2–4): the placebo (re-estimate on
control units only, some given the treated units' adoption periods; every
choice of placebo-treated units once when a block design has no more than B
of them, which is the exact limit of synthdid's random draws), the
unit bootstrap (weights re-estimated, warm-started from the fit) and the
jackknife (weights held fixed); the replication standard deviation with
divisor B, as synthdid does.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> Y = rng.normal(size=(12, 8)) + np.arange(8); Y[-2:, 5:] += 3.0
>>> adoption = np.r_[np.full(10, -1), 5, 5]
>>> fit = fit_design(Y, adoption, "did")
>>> d = Y[-2:].mean(0) - Y[:10].mean(0)
>>> bool(np.isclose(fit.estimate, d[5:].mean() - d[:5].mean()))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
import itertools
import math
from typing import Callable, Iterator

import numpy as np

from ..errors import OptionError
from ._simplex import frank_wolfe

KINDS = ("sdid", "sc", "did")
SE_METHODS = ("placebo", "bootstrap", "jackknife")


@dataclass(frozen=True)
class Tuning:
    """Penalties and stopping rule of one cohort's weights, fixed by the original fit."""

    zeta_omega: float
    zeta_lambda: float
    min_decrease: float
    noise_level: float


@dataclass
class CohortFit:
    """Weights and effects of one adoption cohort (``adoption`` = first treated column)."""

    adoption: int
    treated: np.ndarray
    controls: np.ndarray
    omega: np.ndarray
    lam: np.ndarray
    tuning: Tuning
    estimate: float
    #: per period t: (treated - omega'controls)_t - lambda'(treated - omega'controls)_pre
    period_effects: np.ndarray


@dataclass
class DesignFit:
    """All cohorts and their combination."""

    cohorts: list[CohortFit]
    estimate: float
    event_times: np.ndarray
    event_effects: np.ndarray
    extras: dict = field(default_factory=dict)


def sum_normalize(v: np.ndarray) -> np.ndarray:
    """``v / sum(v)``, or uniform weights when the sum is 0 (synthdid's rule)."""
    s = float(np.sum(v))
    return v / s if s != 0 else np.full(len(v), 1.0 / max(len(v), 1))


def sparsify(v: np.ndarray) -> np.ndarray:
    """Set weights at most a quarter of the largest to zero and renormalise."""
    v = np.where(v <= np.max(v) / 4.0, 0.0, v)
    return v / v.sum()


def noise_level(Y_controls_pre: np.ndarray) -> float:
    """Standard deviation (ddof 1) of all first differences of the control pre-period rows."""
    diffs = np.diff(Y_controls_pre, axis=1).ravel()
    return float(np.std(diffs, ddof=1)) if diffs.size > 1 else 0.0


def _weights(M: np.ndarray, zeta: float, intercept: bool, init: np.ndarray,
             min_decrease: float, max_iter: int, max_iter_pre: int = 100) -> np.ndarray:
    """synthdid's weights on ``M`` (rows: observations; last column: the target).

    Demeaned by column when ``intercept``; penalty ``eta = rows * zeta^2``; a first
    Frank–Wolfe run of ``max_iter_pre`` steps, sparsified, then run to convergence.
    """
    if intercept:
        M = M - M.mean(axis=0)
    A, b = M[:, :-1], M[:, -1]
    eta = M.shape[0] * zeta ** 2
    x, _ = frank_wolfe(A, b, eta, init, min_decrease, max_iter_pre)
    x, _ = frank_wolfe(A, b, eta, sparsify(x), min_decrease, max_iter)
    return x


def tuning_for(Y: np.ndarray, n_controls: int, T0: int, kind: str) -> Tuning:
    """Penalties of ``kind`` for a block with the controls in the first rows."""
    sigma = noise_level(Y[:n_controls, :T0])
    n_tr, t_post = Y.shape[0] - n_controls, Y.shape[1] - T0
    eta_omega = (n_tr * t_post) ** 0.25 if kind == "sdid" else 1e-6
    return Tuning(zeta_omega=eta_omega * sigma, zeta_lambda=1e-6 * sigma,
                  min_decrease=1e-5 * sigma, noise_level=sigma)


def fit_block(Y: np.ndarray, n_controls: int, T0: int, kind: str, tuning: Tuning | None = None,
              omega0: np.ndarray | None = None, lam0: np.ndarray | None = None,
              update: bool = True, max_iter: int = 10_000
              ) -> tuple[np.ndarray, np.ndarray, Tuning, float, np.ndarray]:
    """Weights, tuning, estimate and per-period effects of one block (controls first)."""
    N0 = n_controls
    if tuning is None:
        tuning = tuning_for(Y, N0, T0, kind)
    co_post = Y[:N0, T0:].mean(axis=1)
    tr_pre = Y[N0:, :T0].mean(axis=0)
    if kind == "did":
        omega, lam = np.full(N0, 1.0 / N0), np.full(T0, 1.0 / T0)
    else:
        if kind == "sc":
            lam = np.zeros(T0)
        elif update or lam0 is None:
            Yc = np.column_stack([Y[:N0, :T0], co_post])
            lam = _weights(Yc, tuning.zeta_lambda, True,
                           lam0 if lam0 is not None else np.full(T0, 1.0 / T0),
                           tuning.min_decrease, max_iter)
        else:
            lam = lam0
        if update or omega0 is None:
            Yo = np.column_stack([Y[:N0, :T0].T, tr_pre])
            omega = _weights(Yo, tuning.zeta_omega, kind == "sdid",
                             omega0 if omega0 is not None else np.full(N0, 1.0 / N0),
                             tuning.min_decrease, max_iter)
        else:
            omega = omega0
    gap = Y[N0:].mean(axis=0) - omega @ Y[:N0]
    base = float(lam @ gap[:T0])
    period = gap - base
    return omega, lam, tuning, float(period[T0:].mean()), period


def combine(cohorts: list[CohortFit], T: int) -> DesignFit:
    """Average the cohort estimates with weights N_tr T_post; event times by N_tr."""
    w = np.array([len(c.treated) * (T - c.adoption) for c in cohorts], dtype=float)
    estimate = float(np.array([c.estimate for c in cohorts]) @ w / w.sum())
    lo = min(-c.adoption for c in cohorts)
    hi = max(T - 1 - c.adoption for c in cohorts)
    events = np.arange(lo, hi + 1)
    num = np.zeros(events.size)
    den = np.zeros(events.size)
    for c in cohorts:
        idx = np.arange(T) - c.adoption - lo
        num[idx] += len(c.treated) * c.period_effects
        den[idx] += len(c.treated)
    return DesignFit(cohorts=cohorts, estimate=estimate, event_times=events,
                     event_effects=num / den)


def fit_design(Y: np.ndarray, adoption: np.ndarray, kind: str,
               template: DesignFit | None = None, update: bool = True,
               warm: Callable[[CohortFit], tuple[np.ndarray, np.ndarray]] | None = None,
               rows: np.ndarray | None = None) -> DesignFit:
    """Fit every adoption cohort of ``Y`` (rows: units; ``adoption`` -1 = never treated).

    ``template`` (the original fit) supplies the tuning of each cohort and, through
    ``warm(cohort) -> (omega0, lambda0)``, the starting (or, with ``update=False``,
    fixed) weights.  ``rows`` maps rows of ``Y`` to original unit indices (kept in
    the cohort fits).
    """
    if kind not in KINDS:
        raise OptionError(f"estimator must be one of {', '.join(KINDS)}, got {kind!r}")
    rows = np.arange(Y.shape[0]) if rows is None else rows
    controls = np.flatnonzero(adoption < 0)
    T = Y.shape[1]
    by_adoption = {c.adoption: c for c in template.cohorts} if template else {}
    fits = []
    for a in np.unique(adoption[adoption >= 0]):
        treated = np.flatnonzero(adoption == a)
        block = Y[np.r_[controls, treated]]
        ref = by_adoption.get(int(a))
        omega0 = lam0 = None
        if ref is not None and warm is not None:
            omega0, lam0 = warm(ref)
        omega, lam, tuning, est, period = fit_block(
            block, len(controls), int(a), kind, tuning=ref.tuning if ref else None,
            omega0=omega0, lam0=lam0, update=update)
        fits.append(CohortFit(adoption=int(a), treated=rows[treated], controls=rows[controls],
                              omega=omega, lam=lam, tuning=tuning, estimate=est,
                              period_effects=period))
    return combine(fits, T)


def _mapped_omega(ref: CohortFit, controls: np.ndarray) -> np.ndarray:
    """The original unit weights of the given (original-index) controls, renormalised."""
    pos = {int(u): k for k, u in enumerate(ref.controls)}
    return sum_normalize(np.array([ref.omega[pos[int(u)]] if int(u) in pos else 0.0
                                   for u in controls]))


@dataclass(frozen=True)
class Replicates:
    """Replicate estimates (overall and per event time) and the standard errors."""

    estimates: np.ndarray
    event_estimates: np.ndarray
    std_error: float
    event_std_errors: np.ndarray
    reason: str | None = None


def _sd_b(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """sqrt((B-1)/B) * sd: the replication standard deviation with divisor B."""
    return np.sqrt(np.nanmean((x - np.nanmean(x, axis=axis)) ** 2, axis=axis))


def _aligned(fit: DesignFit, events: np.ndarray) -> np.ndarray:
    out = np.full(events.size, np.nan)
    idx = np.searchsorted(events, fit.event_times)
    ok = (idx < events.size)
    out[idx[ok]] = fit.event_effects[ok]
    return out


def placebo(Y: np.ndarray, adoption: np.ndarray, kind: str, fit: DesignFit, B: int,
            rng: np.random.Generator) -> Replicates:
    """Placebo SE: the treated units' adoption periods given to random control units."""
    controls = np.flatnonzero(adoption < 0)
    treated_adoption = adoption[adoption >= 0]
    n_tr = treated_adoption.size
    if controls.size <= n_tr:
        return undefined(fit, f"the placebo standard error needs more control units "
                          f"({controls.size}) than treated units ({n_tr})")
    est, ev = [], []
    for perm in _assignments(controls, n_tr, len(np.unique(treated_adoption)) == 1, B, rng):
        pseudo = np.full(perm.size, -1)
        pseudo[perm.size - n_tr:] = treated_adoption
        sub = Y[perm]
        rep = fit_design(sub, pseudo, kind, template=fit, rows=perm,
                         warm=lambda ref, p=perm[:perm.size - n_tr]: (_mapped_omega(ref, p),
                                                                       ref.lam))
        est.append(rep.estimate)
        ev.append(_aligned(rep, fit.event_times))
    return _finish(np.array(est), np.array(ev))


def _assignments(controls: np.ndarray, n_tr: int, block: bool, B: int,
                 rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Control orderings whose last ``n_tr`` entries are the placebo-treated units.

    In a block design with at most ``B`` ways to choose the placebo-treated set,
    every set once (the exact placebo distribution); otherwise ``B`` random
    permutations, as synthdid draws them.
    """
    if block and math.comb(controls.size, n_tr) <= B:
        for chosen in itertools.combinations(range(controls.size), n_tr):
            rest = np.delete(np.arange(controls.size), chosen)
            yield controls[np.r_[rest, list(chosen)].astype(int)]
        return
    for _ in range(B):
        yield rng.permutation(controls)


def bootstrap(Y: np.ndarray, adoption: np.ndarray, kind: str, fit: DesignFit, B: int,
              rng: np.random.Generator) -> Replicates:
    """Unit bootstrap SE; draws without a control or without a treated unit are redrawn."""
    n = Y.shape[0]
    if n - int((adoption < 0).sum()) == 1:
        return undefined(fit, "the bootstrap standard error is not defined with a single "
                          "treated unit (synthdid returns NA); use se_method='placebo'")
    est, ev = [], []
    while len(est) < B:
        ind = np.sort(rng.integers(0, n, n))
        a = adoption[ind]
        if (a < 0).all() or (a >= 0).all():
            continue
        co = ind[a < 0]
        rep = fit_design(Y[ind], a, kind, template=fit, rows=ind,
                         warm=lambda ref, c=co: (_mapped_omega(ref, c), ref.lam))
        est.append(rep.estimate)
        ev.append(_aligned(rep, fit.event_times))
    return _finish(np.array(est), np.array(ev))


def jackknife(Y: np.ndarray, adoption: np.ndarray, kind: str, fit: DesignFit
              ) -> Replicates:
    """Jackknife SE with the weights held fixed (leave one unit out)."""
    sizes = {c.adoption: len(c.treated) for c in fit.cohorts}
    if min(sizes.values()) < 2:
        return undefined(fit, "the jackknife standard error needs at least 2 treated units "
                          "in every adoption cohort (synthdid returns NA)")
    if kind != "did" and any(np.count_nonzero(c.omega) == 1 for c in fit.cohorts):
        return undefined(fit, "the jackknife standard error is not defined when one "
                          "control unit has all the weight")
    n = Y.shape[0]
    est, ev = [], []
    for i in range(n):
        keep = np.delete(np.arange(n), i)
        co = keep[adoption[keep] < 0]
        rep = fit_design(Y[keep], adoption[keep], kind, template=fit, rows=keep,
                         update=False,
                         warm=lambda ref, c=co: (_mapped_omega(ref, c), ref.lam))
        est.append(rep.estimate)
        ev.append(_aligned(rep, fit.event_times))
    u, U = np.array(est), np.array(ev)
    # synthdid: sqrt(((n-1)/n) (n-1) var(u)) = sqrt((n-1) mean((u - mean u)^2))
    se = float(np.sqrt((n - 1) * np.mean((u - u.mean()) ** 2)))
    ev_se = np.sqrt((n - 1) * np.nanmean((U - np.nanmean(U, axis=0)) ** 2, axis=0))
    return Replicates(estimates=u, event_estimates=U, std_error=se, event_std_errors=ev_se)


def _finish(est: np.ndarray, ev: np.ndarray) -> Replicates:
    return Replicates(estimates=est, event_estimates=ev, std_error=float(_sd_b(est)),
                      event_std_errors=_sd_b(ev))


def undefined(fit: DesignFit, reason: str) -> Replicates:
    return Replicates(estimates=np.array([]), event_estimates=np.empty((0, fit.event_times.size)),
                      std_error=float("nan"),
                      event_std_errors=np.full(fit.event_times.size, np.nan), reason=reason)
