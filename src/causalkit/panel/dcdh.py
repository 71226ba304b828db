"""de Chaisemartin & D'Haultfœuille DiD for treatments that switch on and off.

``DID_M`` (de Chaisemartin & D'Haultfœuille 2020, AER 110(9)) averages, over
pairs of consecutive periods ``(t-1, t)``, the DiD of *joiners* (untreated at
``t-1``, treated at ``t``) against units untreated at both dates, and of units
treated at both dates against *leavers* (treated at ``t-1``, untreated at
``t``), each weighted by its number of switchers::

    DID_+,t = mean dY(joiners) - mean dY(stable untreated)
    DID_-,t = mean dY(stable treated) - mean dY(leavers)
    DID_M   = sum_t (N_10,t DID_+,t + N_01,t DID_-,t) / N_S

It is the average effect of the switches on the switchers when they switch,
unbiased under parallel trends without TWFE's negative weights.  The placebo
``DID_M^pl`` repeats the comparison one period earlier, for switchers and
comparison units whose treatment was also stable between ``t-2`` and ``t-1``,
on the backward change ``Y_t-2 - Y_t-1`` (the sign convention of
``did_multiplegt`` and diff-diff): zero is what parallel pre-trends predict.

``DID_l`` (de Chaisemartin & D'Haultfœuille 2024, REStat) is the event-study
version: unit ``g`` first changes treatment at ``F_g``; its effect ``l``
periods after the switch is the change ``Y_{F_g-1+l} - Y_{F_g-1}`` minus the
same change among units with the same period-one treatment that have not
switched by ``F_g-1+l``; ``DID_l`` averages it over switchers (the sign flipped
for switchers-out, the effect of being treated).  Placebo ``l`` uses the change
``Y_{F_g-1-l} - Y_{F_g-1}`` with the same comparison units.  ``switchers="in"``
or ``"out"`` keeps only the switches in one direction.

Every estimator here is a switcher-weighted sum of 2x2 comparisons
(:class:`Comparisons`), so it is linear in the outcomes given the treatment
paths.  The analytic standard error (the default) is the design-conditional one
of the 2024 paper, as ``did_multiplegt_dyn``: each unit's contribution is its
weighted outcome changes minus their mean in its cohort (units with the same
treatment path for DID_M; the same period-one treatment and switch date for
DID_l), summed within clusters (``cluster``, else the unit), so it is
conservative when effects vary within a cohort.  ``n_bootstrap > 0`` gives the
cluster bootstrap instead (resampling clusters with replacement, seeded by
``random_state``; clusters are taken in sorted order, so the row order does
not matter).  Unbalanced panels are allowed: a comparison uses the units
observed at both of its dates.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> d = np.array([[0, 1, 1], [0, 0, 0], [1, 1, 0], [1, 1, 1]])
>>> y = np.array([[0., 3., 4.], [0., 1., 2.], [5., 6., 6.], [5., 6., 9.]])
>>> df = pd.DataFrame({"i": np.repeat(range(4), 3), "t": np.tile([1, 2, 3], 4),
...                    "d": d.ravel(), "y": y.ravel()})
>>> eff = causalkit.estimate(df, treatment="d", outcome="y", method="dcdh",
...                          unit="i", time="t")
>>> # joiner at 2: (3-0)-(1-0) = 2; leaver at 3: mean(4-3, 9-6) - (6-6) = 2
>>> round(eff.estimate, 6)
2.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import EmptyArmError, OptionError
from ..inference import critical_value
from ..registry import register
from ..validation import binary_treatment
from ._panel import check_panel, unit_clusters

SWITCHERS = ("both", "in", "out")
_DIRECTIONS = {"both": (0, 1), "in": (0,), "out": (1,)}
_CHUNK = 32                                   # bootstrap draws per matrix product


@dataclass
class Comparisons:
    """An estimator as K 2x2 comparisons: ``switch[k]`` units against ``stay[k]`` units
    (K x units, boolean) on the change ``Yt[ahead[k]] - Yt[back[k]]`` (``Yt``: periods x
    units outcomes, NaN where not observed), signed by ``sign[k]``; ``period`` labels each.

    The estimate is ``sum_k sign_k n_k (mean change of switchers_k - mean change of
    stayers_k) / sum_k n_k`` over the comparisons with both groups non-empty (``n_k`` the
    switchers of k).
    """

    Yt: np.ndarray
    switch: np.ndarray
    stay: np.ndarray
    ahead: np.ndarray
    back: np.ndarray
    sign: np.ndarray
    period: np.ndarray

    def change(self, k: int) -> np.ndarray:
        return np.nan_to_num(self.Yt[self.ahead[k]] - self.Yt[self.back[k]])

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Switchers and stayers of each comparison."""
        return self.switch.sum(axis=1), self.stay.sum(axis=1)

    def fit(self, M: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Estimates and switcher counts for each row of unit multiplicities ``M`` (B x G;
        ``None``: each unit once, the point estimate)."""
        sums = np.zeros((1 if M is None else M.shape[0], 4, self.sign.size))
        for k in range(self.sign.size):
            ch, s, c = self.change(k), self.switch[k], self.stay[k]
            if M is None:
                sums[0, :, k] = s.sum(), c.sum(), ch[s].sum(), ch[c].sum()
            else:
                sums[:, :, k] = M @ np.column_stack([s, c, s * ch, c * ch])
        ns, nc, ss, sc = (sums[:, i] for i in range(4))
        ok = (ns > 0) & (nc > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            num = np.where(ok, self.sign * (ss - ns * sc / nc), 0.0).sum(axis=1)
            den = np.where(ok, ns, 0.0).sum(axis=1)
            return np.where(den > 0, num / den, np.nan), den

    def contributions(self) -> np.ndarray:
        """``U_g``: each unit's weighted outcome changes at the point estimate (the estimate
        is their sum)."""
        ns, nc = self.counts()
        U = np.zeros(self.Yt.shape[1])
        for k in map(int, np.flatnonzero((ns > 0) & (nc > 0))):
            U += self.sign[k] * self.change(k) * (self.switch[k] - ns[k] / nc[k] * self.stay[k])
        den = ns[(ns > 0) & (nc > 0)].sum()
        return U / den if den else U

    def subset(self, keep: np.ndarray) -> "Comparisons":
        return Comparisons(self.Yt, self.switch[keep], self.stay[keep], self.ahead[keep],
                           self.back[keep], self.sign[keep], self.period[keep])


def _stack(Yt: np.ndarray, items: list[tuple[np.ndarray, np.ndarray, int, int, float, int]]
           ) -> Comparisons:
    """Comparisons from (switchers, stayers, ahead, back, sign, period) tuples."""
    G = Yt.shape[1]

    def col(i: int, dtype: Any) -> np.ndarray:
        return np.array([it[i] for it in items], dtype=dtype)
    masks = [np.array([it[i] for it in items], dtype=bool).reshape(len(items), G)
             for i in (0, 1)]
    return Comparisons(Yt, masks[0], masks[1], col(2, int), col(3, int), col(4, float),
                       col(5, int))


def did_m(Y: np.ndarray, D: np.ndarray, placebo: bool = False, switchers: str = "both"
          ) -> Comparisons:
    """DID_M (or its placebo): joiners (sign +1) and leavers (sign -1) of each period
    against the units with the previous treatment at both dates (``D`` -1: missing).

    >>> D = np.array([[0, 1], [0, 0]]); Y = np.array([[0.0, 3.0], [0.0, 1.0]])
    >>> did_m(Y, D).fit()[0].tolist()
    [2.0]
    """
    T = D.shape[1]
    items = []
    for t in range(2 if placebo else 1, T):
        prev, cur = D[:, t - 1], D[:, t]
        stable = (D[:, t - 2] == prev) if placebo else np.ones(len(prev), bool)
        ahead, back = (t - 2, t - 1) if placebo else (t, t - 1)
        for before in _DIRECTIONS[switchers]:
            at = stable & (prev == before)
            items.append((at & (cur == 1 - before), at & (cur == before), ahead, back,
                          1.0 if before == 0 else -1.0, t))
    return _stack(Y.T, items)


def switch_dates(D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: treatment at its first observed period and the first period with another
    treatment (``T``: never).

    >>> switch_dates(np.array([[0, 1, 1], [1, 1, 1], [-1, 0, 1]]))[1].tolist()
    [1, 3, 2]
    """
    G, T = D.shape
    seen = D >= 0
    base = D[np.arange(G), seen.argmax(axis=1)]
    changed = seen & (D != base[:, None])
    return base, np.where(changed.any(axis=1), changed.argmax(axis=1), T)


def did_l(Y: np.ndarray, D: np.ndarray, lag: int, placebo: bool = False,
          switchers: str = "both") -> Comparisons:
    """DID_l (``lag`` = l >= 1) or placebo l: each cohort of switchers (period-one
    treatment b, first switch F) against the units with treatment b that have not
    switched by F - 1 + l, on the change from F - 1 to F - 1 + l (placebo: F - 1 - l).

    >>> D = np.array([[0, 1, 1], [0, 0, 0]]); Y = np.array([[0.0, 2.0, 5.0], [0.0, 1.0, 1.0]])
    >>> did_l(Y, D, 2).fit()[0].tolist()
    [4.0]
    """
    T = D.shape[1]
    base, F = switch_dates(D)
    seen = D >= 0
    items = []
    for b in _DIRECTIONS[switchers]:
        for f in np.unique(F[(base == b) & (F < T)]):
            ref, fwd = f - 1, f - 1 + lag
            out = ref - lag if placebo else fwd
            if fwd >= T or out < 0:
                continue
            both = seen[:, ref] & seen[:, out] & (base == b)
            stayers = both & (F > fwd) & (seen[:, fwd] if placebo else True)
            items.append((both & (F == f), stayers, out, ref, 1.0 if b == 0 else -1.0, f))
    return _stack(Y.T, items)


def cohorts(D: np.ndarray) -> np.ndarray:
    """Cohort of each unit for the analytic variance: its treatment at its first period
    and the date of its first switch (the treatment path is then fixed by the binary
    treatment's direction), as in the 2024 paper's Web Appendix 3.7.3."""
    base, F = switch_dates(D)
    return pd.factorize(pd.MultiIndex.from_arrays([base, F]))[0]


def influence(comp: Comparisons, cohort: np.ndarray) -> np.ndarray:
    """Design-conditional influence of each unit: its weighted outcome changes
    ``U_g = sum_k A_gk dY_gk`` minus the mean of ``U`` in its cohort; the SE is the root of
    the clustered sum of squares (a unit alone in its cohort contributes zero)."""
    U = comp.contributions()
    sizes = np.bincount(cohort)
    return U - (np.bincount(cohort, weights=U) / sizes)[cohort]


def _bootstrap(comps: list[Comparisons], clusters: np.ndarray, n_bootstrap: int,
               random_state: Any) -> np.ndarray:
    """Re-estimates (draws x estimators) on clusters resampled with replacement."""
    n_cl = int(clusters.max()) + 1
    rng = np.random.default_rng(random_state)
    draws = rng.multinomial(n_cl, np.full(n_cl, 1.0 / n_cl), size=int(n_bootstrap))
    out = np.empty((int(n_bootstrap), len(comps)))
    for start in range(0, int(n_bootstrap), _CHUNK):
        M = draws[start:start + _CHUNK][:, clusters].astype(float)
        for j, comp in enumerate(comps):
            out[start:start + _CHUNK, j] = comp.fit(M)[0]
    return out


def _covariance(comps: list[Comparisons], D: np.ndarray, clusters: np.ndarray,
                boot: np.ndarray | None) -> np.ndarray:
    """Covariance of the estimators: analytic (clustered influence) or bootstrap."""
    if boot is not None:           # pairwise over the draws where both are estimable
        return pd.DataFrame(boot).cov().to_numpy()
    cohort = cohorts(D)
    U = np.column_stack([influence(c, cohort) for c in comps])
    summed = np.column_stack([np.bincount(clusters, weights=u, minlength=int(clusters.max()) + 1)
                              for u in U.T])
    return summed.T @ summed


def _wide(frame: pd.DataFrame, outcome: str, unit: str, time: str, d: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Units x periods outcome (NaN: not observed) and treatment (-1: not observed) arrays,
    sorted units and periods."""
    units, u = np.unique(frame[unit].to_numpy(), return_inverse=True)
    periods, p = np.unique(frame[time].to_numpy(dtype=float), return_inverse=True)
    Y = np.full((units.size, periods.size), np.nan)
    D = np.full((units.size, periods.size), -1, dtype=int)
    Y[u, p] = frame[outcome].to_numpy(dtype=float)
    D[u, p] = d
    return Y, D, units, periods


def _count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise OptionError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@register("dcdh", estimand="ATT", roles=("treatment", "outcome", "unit", "time"),
          optional_roles=("cluster",), uses_adjustment_set=False)
def dcdh(data: pd.DataFrame, treatment: str, outcome: str, unit: str, time: str,
         cluster: str | None = None, alpha: float = 0.05, effects: int = 0,
         placebo: bool | int = True, switchers: str = "both", n_bootstrap: int = 0,
         random_state: int | np.random.Generator | None = 0) -> Effect:
    """de Chaisemartin–D'Haultfœuille DID_M (2020) and the event-study DID_l (2024) for a
    binary treatment that may switch on and off.

    Parameters
    ----------
    treatment
        0/1 treatment of each unit-period; it may switch on and off.
    cluster
        Column constant within units to cluster on (default: the unit).
    effects
        Number L of dynamic effects DID_1..DID_L: ``diagnostics["event_study"]`` then
        has DID_l at event time ``l - 1``, the placebos DID^pl_l at ``-l - 1`` and the
        reference ``-1`` (the convention of the family's event studies, so
        ``honest_did`` and ``plot_event_study`` take it), with their covariance in
        ``diagnostics["event_study_vcov"]``.
    placebo
        ``True`` (default): the placebo DID_M^pl and, with ``effects``, the placebos
        DID^pl_1..DID^pl_L where the panel is long enough; an integer K: DID_M^pl and
        K dynamic placebos; ``False`` or 0: none.
    switchers
        ``"both"`` (default), ``"in"`` (joiners / units untreated in period one only)
        or ``"out"`` (leavers / units treated in period one only).  Switchers-out
        enter with their sign flipped (the effect of being treated), as in the papers.
    n_bootstrap
        0 (default) for the analytic design-conditional SE; otherwise the number of
        cluster-bootstrap draws (at least 2), seeded by ``random_state``.
    random_state
        Seed (or numpy Generator) of the cluster-bootstrap draws; unused with the
        analytic SE.

    Notes
    -----
    The estimate is DID_M; diagnostics hold ``did_plus`` / ``did_minus`` (joiners,
    leavers) and ``placebo`` with their SEs, the switchers counted, and the joiners
    and leavers of each period (``switches_by_period``).
    """
    effects = _count("effects", effects, 0)
    n_bootstrap = _count("n_bootstrap", n_bootstrap, 0)
    if n_bootstrap == 1:
        raise OptionError("n_bootstrap must be 0 (analytic SE) or >= 2 draws, got 1")
    if switchers not in SWITCHERS:
        raise OptionError(f"switchers must be one of {', '.join(SWITCHERS)}, got {switchers!r}")
    if not isinstance(placebo, (bool, np.bool_)):
        _count("placebo", placebo, 0)
    frame = check_panel(data, outcome=outcome, unit=unit, time=time)
    d = binary_treatment(frame, treatment)
    Y, D, units, periods = _wide(frame, outcome, unit, time, d)
    T = periods.size
    if T < 2:
        raise OptionError(f"time column {time!r} has a single period; DID_M needs at least two")
    if effects > T - 1:
        raise OptionError(f"effects={effects} exceeds the {T - 1} periods after the first")
    if placebo is True:
        n_placebo = min(effects, T - 2)
    else:
        n_placebo = int(placebo)
        if n_placebo > T - 2:
            raise OptionError(f"placebo={n_placebo} needs at least {n_placebo + 2} periods; "
                              f"the panel has {T}")
    if not (switch_dates(D)[1] < T).any():
        raise EmptyArmError(f"no unit switches treatment {treatment!r}: it never changes "
                            "within a unit; dcdh needs units that switch treatment")
    main = did_m(Y, D, switchers=switchers)
    if not main.fit()[1][0] > 0:
        raise EmptyArmError("no switcher has a comparison unit with the same treatment at "
                            "both dates (no stable untreated unit next to joiners, no stable "
                            "treated unit next to leavers): DID_M is not identified")
    clusters = unit_clusters(frame, cluster, unit, units, method="dcdh")
    if clusters.ndim == 2:
        raise OptionError("dcdh clusters on one column")

    comps: dict[str, Comparisons] = {"did_m": main, "did_plus": main.subset(main.sign > 0),
                                     "did_minus": main.subset(main.sign < 0)}
    if placebo and T >= 3:
        comps["placebo"] = did_m(Y, D, placebo=True, switchers=switchers)
    for lag in range(1, effects + 1):
        comps[f"effect_{lag}"] = did_l(Y, D, lag, switchers=switchers)
    for lag in range(1, n_placebo + 1):
        comps[f"placebo_{lag}"] = did_l(Y, D, lag, placebo=True, switchers=switchers)
    names = list(comps)
    fitted = {k: comps[k].fit() for k in names}
    est = {k: float(v[0][0]) for k, v in fitted.items()}
    size = {k: float(v[1][0]) for k, v in fitted.items()}
    boot = (_bootstrap(list(comps.values()), clusters, n_bootstrap, random_state)
            if n_bootstrap else None)
    cov = _covariance(list(comps.values()), D, clusters, boot)
    se = {k: float(np.sqrt(cov[i, i])) if np.isfinite(est[k]) else float("nan")
          for i, k in enumerate(names)}

    per: dict[str, list[float]] = {k: [] for k in ("period", "n_joiners", "n_leavers")}
    n_switch, n_stay = main.counts()
    for t in range(1, T):
        at = main.period == t
        ns = n_switch[at] * (n_stay[at] > 0)
        per["period"].append(periods[t])
        per["n_joiners"].append(int(ns[main.sign[at] > 0].sum()))
        per["n_leavers"].append(int(ns[main.sign[at] < 0].sum()))
    diagnostics: dict[str, Any] = {
        "did_plus": est["did_plus"], "did_plus_se": se["did_plus"],
        "did_minus": est["did_minus"], "did_minus_se": se["did_minus"],
        "n_switchers": size["did_m"], "switchers": switchers,
        "cluster": cluster if cluster is not None else unit,
        "n_clusters": int(clusters.max()) + 1, "n_units": len(units), "n_periods": T,
        "switches_by_period": pd.DataFrame(per),
    }
    if "placebo" in comps:
        diagnostics.update({"placebo": est["placebo"], "placebo_se": se["placebo"],
                            "placebo_n_switchers": size["placebo"]})
    if effects:
        rows = [(lag - 1, f"effect_{lag}") for lag in range(1, effects + 1)] + \
            [(-lag - 1, f"placebo_{lag}") for lag in range(1, n_placebo + 1)]
        rows = sorted((e, k) for e, k in rows if np.isfinite(est[k]))
        idx = [names.index(k) for _, k in rows]
        times = np.array([e for e, _ in rows])
        crit = critical_value(alpha)
        att = np.array([est[k] for _, k in rows])
        se_l = np.array([se[k] for _, k in rows])
        table = pd.DataFrame({"event_time": times, "att": att, "std_error": se_l,
                              "ci_low": att - crit * se_l, "ci_high": att + crit * se_l,
                              "n_switchers": [size[k] for _, k in rows]})
        ref = pd.DataFrame({"event_time": [-1], "att": [0.0], "std_error": [0.0],
                            "ci_low": [0.0], "ci_high": [0.0], "n_switchers": [0.0]})
        diagnostics["event_study"] = pd.concat([table, ref]).sort_values(
            "event_time", ignore_index=True)
        diagnostics["event_study_vcov"] = pd.DataFrame(cov[np.ix_(idx, idx)], index=times,
                                                       columns=times)
    how = (f"cluster bootstrap ({n_bootstrap} draws)" if n_bootstrap
           else "analytic design-conditional (cohort-demeaned) influence function")
    return Effect.from_estimate(
        method="dcdh", estimand="ATT", estimate=est["did_m"], std_error=se["did_m"],
        alpha=alpha, treatment=treatment, outcome=outcome,
        n_treated=int(frame.loc[d == 1, unit].nunique()),
        n_control=int(frame.loc[d == 0, unit].nunique()), n_obs=len(frame),
        inference=f"{how}, clustered ({int(clusters.max()) + 1} clusters); DID_M of "
                  "de Chaisemartin & D'Haultfoeuille (2020), switchers vs stable units"
                  + ("" if switchers == "both" else f" (switchers {switchers})"),
        diagnostics=diagnostics)
