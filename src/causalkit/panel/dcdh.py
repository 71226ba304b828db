"""de Chaisemartin & D'Haultfœuille (2020) ``DID_M`` for treatments that switch on and off.

For each pair of consecutive periods ``(t-1, t)`` the units whose treatment
switches on (joiners, 0 -> 1) are compared with those untreated in both
periods, and the units whose treatment switches off (leavers, 1 -> 0) with
those treated in both, each a difference of mean outcome changes::

    DID_+,t = mean dY(joiners) - mean dY(stable untreated)
    DID_-,t = mean dY(stable treated) - mean dY(leavers)
    DID_M   = sum_t (N_10,t DID_+,t + N_01,t DID_-,t) / N_S

with ``N_S`` the number of switchers that have a stable comparison group
(weights are unit-period observation counts).  ``DID_M`` is the average
effect of the switches on the switchers at the time they switch, unbiased
under parallel trends without TWFE's negative weights.  The placebo
``DID_M^pl`` repeats the comparison one period earlier, for switchers and
comparison units whose treatment was also stable between ``t-2`` and ``t-1``,
on the backward change ``Y_t-2 - Y_t-1`` (the sign convention of
``did_multiplegt``): an estimate of zero is what parallel pre-trends predict.

Standard errors are from the bootstrap over units (clusters: ``cluster`` or
``unit``), as in the paper; ``n_bootstrap`` draws seeded by ``random_state``.
The units' order does not matter (units are sorted before resampling).

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n, T = 300, 6
>>> unit, t = np.repeat(np.arange(n), T), np.tile(np.arange(T), n)
>>> start, stop = rng.integers(1, T, n)[unit], rng.integers(2, 9, n)[unit]
>>> d = ((t >= start) & (t < start + stop)).astype(int)
>>> y = rng.normal(size=n)[unit] + 0.2 * t + 1.0 * d + rng.normal(size=n * T)
>>> df = pd.DataFrame({"id": unit, "t": t, "d": d, "y": y})
>>> eff = causalkit.estimate(df, "d", "y", method="dcdh", unit="id", time="t",
...                          n_bootstrap=50)
>>> abs(eff.estimate - 1.0) < 0.3
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import EmptyArmError, OptionError
from ..inference import critical_value
from ..registry import register
from ..validation import binary_treatment
from ._panel import check_panel, cluster_codes


def _cells(frame: pd.DataFrame, outcome: str, unit: str, time: str, d: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Units x periods arrays of outcome means, counts and treatment (units sorted)."""
    units, u = np.unique(frame[unit].to_numpy(), return_inverse=True)
    periods, p = np.unique(frame[time].to_numpy(dtype=float), return_inverse=True)
    N = np.zeros((units.size, periods.size))
    Y = np.zeros_like(N)
    D = np.full(N.shape, -1.0)
    np.add.at(N, (u, p), 1.0)
    np.add.at(Y, (u, p), frame[outcome].to_numpy(dtype=float))
    D[u, p] = d
    Y = np.divide(Y, N, out=np.zeros_like(Y), where=N > 0)
    return Y, N, D, units, periods


def _did_m(W: np.ndarray, Y: np.ndarray, N: np.ndarray, D: np.ndarray, lag: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``DID_M`` (lag 0) or its placebo (lag 1) for each row of unit weights ``W`` (B x G).

    Returns the estimate, ``DID_+`` and ``DID_-`` pooled over periods, and ``N_S``.
    """
    T = Y.shape[1]
    first = 1 + lag
    cur, prev = D[:, first:], D[:, first - 1:T - 1]
    before = D[:, :T - 1 - lag] if lag else prev
    # the outcome change compared: (t-1 -> t) for the estimate, (t-2 -> t-1) for the placebo
    y1, y0 = Y[:, first - lag:T - lag], Y[:, first - lag - 1:T - lag - 1]
    seen = (N[:, first - lag:T - lag] > 0) & (N[:, first - lag - 1:T - lag - 1] > 0) \
        & (N[:, first:] > 0)
    dy = np.where(seen, y1 - y0, 0.0)
    n = np.where(seen, N[:, first:], 0.0)
    stable_prev = (before == prev) if lag else np.ones_like(prev, dtype=bool)
    groups = {
        "join": (prev == 0) & (cur == 1) & stable_prev, "stay0": (prev == 0) & (cur == 0)
        & stable_prev, "leave": (prev == 1) & (cur == 0) & stable_prev,
        "stay1": (prev == 1) & (cur == 1) & stable_prev,
    }
    counts = {k: W @ (n * m) for k, m in groups.items()}               # B x (T - first)
    sums = {k: W @ (n * m * dy) for k, m in groups.items()}
    mean = {k: np.divide(sums[k], counts[k], out=np.zeros_like(sums[k]),
                         where=counts[k] > 0) for k in groups}
    plus_ok = (counts["join"] > 0) & (counts["stay0"] > 0)
    minus_ok = (counts["leave"] > 0) & (counts["stay1"] > 0)
    n10 = np.where(plus_ok, counts["join"], 0.0)
    n01 = np.where(minus_ok, counts["leave"], 0.0)
    plus = n10 * (mean["join"] - mean["stay0"])
    minus = n01 * (mean["stay1"] - mean["leave"])
    ns = n10.sum(axis=1) + n01.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = (plus.sum(axis=1) + minus.sum(axis=1)) / ns
        did_plus = plus.sum(axis=1) / n10.sum(axis=1)
        did_minus = minus.sum(axis=1) / n01.sum(axis=1)
    return est, did_plus, did_minus, ns


def _switch_metadata(D: np.ndarray, N: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: baseline treatment, index of its first switch (-1: never) and its sign."""
    G, T = D.shape
    seen = (N[:, 1:] > 0) & (N[:, :-1] > 0)
    change = seen & (D[:, 1:] != D[:, :-1])
    first = np.where(change.any(axis=1), change.argmax(axis=1) + 1, -1)
    rows = np.arange(G)
    sign = np.where(first > 0, np.sign(D[rows, np.maximum(first, 0)] - D[:, 0]), 0.0)
    return D[:, 0], first, sign


def _did_l(W: np.ndarray, Y: np.ndarray, N: np.ndarray, D: np.ndarray, horizon: int,
           placebo: bool) -> np.ndarray:
    """``DID_l`` (or placebo ``DID^pl_l``, backward) of de Chaisemartin & D'Haultfoeuille
    (2024) for each row of unit weights ``W``: switchers by (baseline, first-switch period)
    against units with the same baseline that have not switched by ``F - 1 + l``."""
    base, first, sign = _switch_metadata(D, N)
    T = D.shape[1]
    columns = []                                  # per cohort: pool, pool x change, movers...
    for b, f in sorted({(b, f) for b, f in zip(base, first) if f > 0}):
        ref, fwd = f - 1, f - 1 + horizon
        out = ref - horizon if placebo else fwd
        if fwd >= T or out < 0:
            continue
        movers = (base == b) & (first == f) & (N[:, ref] > 0) & (N[:, out] > 0)
        pool = (base == b) & ((first > fwd) | (first < 0)) & (N[:, ref] > 0) & (N[:, out] > 0)
        if placebo:
            pool &= N[:, fwd] > 0
        if not (movers.any() and pool.any()):
            continue
        change = Y[:, out] - Y[:, ref]
        columns += [pool, pool * change, movers * sign * change, movers * sign, movers]
    if not columns:
        return np.full(W.shape[0], np.nan)
    sums = (W @ np.column_stack(columns).astype(float)).reshape(W.shape[0], -1, 5)
    wsum, wchange, msc, ms, m = (sums[..., i] for i in range(5))   # B x cohorts
    ctrl = np.divide(wchange, wsum, out=np.zeros_like(wsum), where=wsum > 0)
    live = wsum > 0
    num = np.where(live, msc - ms * ctrl, 0.0).sum(axis=1)
    den = np.where(live, m, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


@register("dcdh", estimand="ATT", roles=("treatment", "outcome", "unit", "time"),
          optional_roles=("cluster",), uses_adjustment_set=False)
def dcdh(data: pd.DataFrame, treatment: str, outcome: str, unit: str, time: str,
         cluster: str | None = None, alpha: float = 0.05, placebo: bool = True,
         effects: int = 0, n_bootstrap: int = 200, random_state: int = 0) -> Effect:
    """``DID_M`` of de Chaisemartin & D'Haultfœuille (2020): effects of switching on and off.

    Parameters
    ----------
    treatment
        0/1 treatment of each unit-period; it may switch on and off.
    cluster
        Column constant within units to resample in the bootstrap (default ``unit``).
    placebo
        Also estimate the placebo ``DID_M^pl`` (``diagnostics["placebo"]``) and, with
        ``effects``, the placebos ``DID^pl_l`` for ``l = 1..effects``.
    effects
        Number of event-study horizons ``DID_l`` (2024; ``l = 1`` is the period of the
        first switch): ``diagnostics["event_study"]`` then has ``DID_l`` at event time
        ``l - 1``, the placebos at ``-l - 1`` and the reference ``-1``, with their
        bootstrap covariance in ``diagnostics["event_study_vcov"]``.
    n_bootstrap
        Number of bootstrap draws over clusters for the standard errors.
    random_state
        Seed of the bootstrap.
    """
    if isinstance(n_bootstrap, bool) or int(n_bootstrap) != n_bootstrap or n_bootstrap < 2:
        raise OptionError(f"n_bootstrap must be an integer >= 2, got {n_bootstrap!r}")
    if isinstance(effects, bool) or int(effects) != effects or effects < 0:
        raise OptionError(f"effects must be an integer >= 0, got {effects!r}")
    frame = check_panel(data, outcome=outcome, unit=unit, time=time)
    d = binary_treatment(frame, treatment)
    Y, N, D, units, periods = _cells(frame, outcome, unit, time, d)
    if periods.size < 2:
        raise EmptyArmError("DID_M needs at least two periods")
    ones = np.ones((1, units.size))
    est, plus, minus, ns = _did_m(ones, Y, N, D, 0)
    if not ns[0] > 0:
        raise EmptyArmError(
            f"no unit switches treatment {treatment!r} between consecutive periods with a "
            "comparison group whose treatment stays the same (joiners need units untreated "
            "in both periods, leavers units treated in both)")
    _, used = cluster_codes(frame, cluster, unit, max_columns=1, method="dcdh")
    if cluster is None:
        cl = np.arange(units.size)                   # units sorted: the row order is irrelevant
    else:
        per_unit = frame.groupby(unit)[used].agg(["nunique", "first"])
        if (per_unit["nunique"] > 1).any():
            raise OptionError(f"cluster column {used!r} must be constant within each unit")
        cl = pd.factorize(per_unit.loc[units, "first"].to_numpy(), sort=True)[0]
    n_cl = int(cl.max()) + 1
    rng = np.random.default_rng(random_state)
    draws = rng.multinomial(n_cl, np.full(n_cl, 1.0 / n_cl), size=int(n_bootstrap))
    W = draws[:, cl].astype(float)                       # each unit weighted by its draw count
    boot = _did_m(W, Y, N, D, 0)
    se = float(np.nanstd(boot[0], ddof=1))
    diagnostics: dict[str, Any] = {
        "did_plus": float(plus[0]), "did_minus": float(minus[0]),
        "n_switchers": float(ns[0]), "cluster": used, "n_clusters": n_cl,
        "did_plus_se": float(np.nanstd(boot[1], ddof=1)),
        "did_minus_se": float(np.nanstd(boot[2], ddof=1)),
    }
    if placebo and periods.size >= 3:
        pl, _, _, pl_n = _did_m(ones, Y, N, D, 1)
        pl_boot = _did_m(W, Y, N, D, 1)[0]
        diagnostics.update({"placebo": -float(pl[0]), "placebo_n_switchers": float(pl_n[0]),
                            "placebo_se": float(np.nanstd(pl_boot, ddof=1))})
    if effects:
        if effects > periods.size - 1:
            raise OptionError(f"effects={effects} exceeds the {periods.size - 1} periods after "
                              "the first")
        rows = [(h - 1, _did_l(ones, Y, N, D, h, False)[0], _did_l(W, Y, N, D, h, False))
                for h in range(1, int(effects) + 1)]
        if placebo:
            rows += [(-h - 1, _did_l(ones, Y, N, D, h, True)[0], _did_l(W, Y, N, D, h, True))
                     for h in range(1, int(effects) + 1)]
        rows = [r for r in rows if np.isfinite(r[1])]
        rows.sort(key=lambda r: r[0])
        times = np.array([r[0] for r in rows])
        draws_mat = np.column_stack([r[2] for r in rows])
        keep = np.all(np.isfinite(draws_mat), axis=1)
        vcov = np.cov(draws_mat[keep], rowvar=False, ddof=1).reshape(len(rows), len(rows))
        se_l = np.sqrt(np.diag(vcov))
        crit = critical_value(alpha)
        att = np.array([r[1] for r in rows])
        table = pd.DataFrame({"event_time": times, "att": att, "std_error": se_l,
                              "ci_low": att - crit * se_l, "ci_high": att + crit * se_l})
        ref = pd.DataFrame({"event_time": [-1], "att": [0.0], "std_error": [0.0],
                            "ci_low": [0.0], "ci_high": [0.0]})
        diagnostics["event_study"] = pd.concat([table, ref]).sort_values(
            "event_time", ignore_index=True)
        diagnostics["event_study_vcov"] = pd.DataFrame(vcov, index=times, columns=times)
    return Effect.from_estimate(
        method="dcdh", estimand="ATT", estimate=float(est[0]), std_error=se, alpha=alpha,
        treatment=treatment, outcome=outcome,
        n_treated=int(frame.loc[d == 1, unit].nunique()),
        n_control=int(frame.loc[d == 0, unit].nunique()), n_obs=len(frame),
        inference=f"bootstrap over {n_cl} clusters ({int(n_bootstrap)} draws); DID_M of "
                  "de Chaisemartin & D'Haultfoeuille (2020), switchers vs stable units",
        diagnostics=diagnostics)
