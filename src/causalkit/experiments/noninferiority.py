"""Non-inferiority tests against a margin, guardrail checks and the ship / hold / roll-back rule.

A metric with ``margin=m`` (:class:`~.metrics.Metric`) gets a one-sided test
of ``H0: the treatment is worse than the control by more than the margin``:

* ``direction="higher"`` (higher is better), absolute margin:
  ``H0: delta <= -m``, statistic ``(delta + m) / se``;
* relative margin ``r`` (a fraction of the control):
  ``H0: Y_t <= (1 - r) Y_c``, statistic ``(Y_t - (1 - r) Y_c) / sqrt(V_t + (1 - r)^2 V_c
  - 2 (1 - r) C)`` with the joint (CUPED-aware) covariance of the two estimates
  (Fieller's form: no delta method on the ratio);
* ``direction="lower"``: the mirror image (``delta >= m``, ``Y_t >= (1 + r) Y_c``).

The p-value is one-sided, from the row's reference distribution (Welch t for
means, z otherwise; proportions use the unpooled variance, since the null is
not ``p_t = p_c``).  A second one-sided p-value, ``p_harm``, tests whether
the metric got worse at all (from the row's own statistic).

**Decision rule** (:func:`decide`, per treatment arm; ``alpha`` is the
analysis' two-sided level, so each one-sided test runs at ``alpha / 2`` and a
verdict agrees with the two-sided ``1 - alpha`` interval):

* a *guardrail* **fails** when it is significantly worse (``p_harm < alpha/2``,
  not multiplicity-adjusted: adjusting would make harm harder to see); it
  **passes** when it has a margin and non-inferiority is shown (``p_ni <
  alpha/2`` after Holm over the arms of that metric), or when it has no
  margin and is not significantly worse; otherwise it is **inconclusive**;
* a *primary* metric (not a guardrail) **wins** when its adjusted two-sided
  p-value is below ``alpha`` and it moved in the better direction (or, with a
  margin, when non-inferiority is shown), **loses** when significantly worse
  (``p_adjusted < alpha`` the wrong way), and is otherwise **flat**;
* **roll back** if any primary loses or any guardrail fails; **ship** if at
  least one primary wins, none loses, and every guardrail passes; **hold**
  otherwise (not enough evidence either way).

Example
-------
>>> import numpy as np
>>> from causalkit.experiments.stats import Moments
>>> from causalkit.experiments.metrics import Metric, compare
>>> rng = np.random.default_rng(0)
>>> t, c = Moments.from_rows(rng.normal(9.9, 1, 4000)), Moments.from_rows(rng.normal(10, 1, 4000))
>>> m = Metric("y", margin=0.2)
>>> res = noninferiority(compare(t, c, m), m)
>>> bool(res["p_noninferiority"] < 0.025)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .metrics import Comparison, Metric
from .multiple import adjust_p

__all__ = ["DECISIONS", "decide", "noninferiority"]

DECISIONS = ("ship", "hold", "roll back")


def _sf(x: float, df: float) -> float:
    return float(stats.norm.sf(x) if not np.isfinite(df) else stats.t.sf(x, df))


def noninferiority(r: Comparison, metric: Metric) -> dict[str, Any]:
    """One-sided non-inferiority (when ``metric.margin`` is set) and harm tests of one row."""
    s = 1.0 if metric.direction == "higher" else -1.0
    df = float(r.df)
    stat = float(r.statistic)
    out: dict[str, Any] = {"direction": metric.direction, "guardrail": bool(metric.guardrail),
                           "p_harm": _sf(-s * stat, df) if np.isfinite(stat) else np.nan}
    if metric.margin is None:
        out.update(ni_bound=np.nan, ni_statistic=np.nan, p_noninferiority=np.nan)
        return out
    m = float(metric.margin)
    if metric.margin_kind == "absolute":
        bound = -s * m
        with np.errstate(divide="ignore", invalid="ignore"):
            z = s * (float(r.estimate) - bound) / float(r.std_error)
    else:
        k = 1.0 - s * m
        vt, vc, cov = (float(np.asarray(v)) for v in r.var_relative)  # type: ignore[union-attr]
        bound = (k - 1.0) * float(r.control)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = s * (float(r.treatment) - k * float(r.control)) / np.sqrt(vt + k * k * vc - 2 * k * cov)
    ok = bool(np.isfinite(z) and np.isfinite(float(r.p_value)))   # NaN p: no test of the row
    out.update(ni_bound=bound, ni_statistic=z if ok else np.nan,
               p_noninferiority=_sf(z, df) if ok else np.nan)
    return out


def decide(table: pd.DataFrame, alpha: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Status of every metric x arm row and the decision of every arm (see the module rule).

    ``table`` is :attr:`~.analyze.ExperimentResult.table` with the columns
    :func:`noninferiority` adds.  Returns ``(rows, arms)``: ``rows`` has
    ``metric, arm, role, status`` and ``arms`` has ``arm, decision, reason``.
    """
    t = table.copy()
    for col, default in (("guardrail", False), ("direction", "higher"),
                         ("p_noninferiority", np.nan), ("p_harm", np.nan)):
        if col not in t:
            t[col] = default
    if "p_harm" in table:
        harm = t["p_harm"].to_numpy(dtype=float)
    else:     # no margins nor guardrails: the harm test is the two-sided row's other tail
        better = np.where(t["direction"] == "higher", t["estimate"] > 0, t["estimate"] < 0)
        harm = np.where(better, 1 - t["p_value"] / 2, t["p_value"] / 2)
    ni = np.full(len(t), np.nan)
    for _, idx in t.groupby("metric", sort=False).indices.items():
        ni[idx] = adjust_p(t["p_noninferiority"].to_numpy(dtype=float)[idx], "holm")
    has_margin = np.isfinite(t["p_noninferiority"].to_numpy(dtype=float))
    better = np.where(t["direction"] == "higher", t["estimate"] > 0, t["estimate"] < 0)
    sig = t["p_adjusted"].to_numpy(dtype=float) < alpha
    status = []
    for i, g in enumerate(t["guardrail"].astype(bool)):
        shown = has_margin[i] and ni[i] < alpha / 2
        if g:
            status.append("fail" if harm[i] < alpha / 2 else "pass" if shown or not has_margin[i]
                          else "inconclusive")
        else:
            status.append("loss" if sig[i] and not better[i] else
                          "win" if (sig[i] and better[i]) or shown else "flat")
    rows = pd.DataFrame({"metric": t["metric"], "arm": t["arm"],
                         "role": np.where(t["guardrail"].astype(bool), "guardrail", "primary"),
                         "status": status, "p_noninferiority_adjusted": ni, "p_harm": harm})
    arms = []
    for arm, g in rows.groupby("arm", sort=False):
        prim, guard = g[g.role == "primary"], g[g.role == "guardrail"]
        bad = list(prim.metric[prim.status == "loss"]) + list(guard.metric[guard.status == "fail"])
        if bad:
            arms.append((arm, "roll back", "worse on " + ", ".join(map(str, bad))))
        elif (prim.status == "win").any() and (guard.status == "pass").all():
            arms.append((arm, "ship", "wins on " + ", ".join(map(str, prim.metric[prim.status == "win"]))
                         + ("; guardrails pass" if len(guard) else "")))
        else:
            why = []
            if not (prim.status == "win").any():
                why.append("no primary metric wins")
            pend = list(guard.metric[guard.status == "inconclusive"])
            if pend:
                why.append("non-inferiority not shown for " + ", ".join(map(str, pend)))
            arms.append((arm, "hold", "; ".join(why)))
    return rows, pd.DataFrame(arms, columns=["arm", "decision", "reason"])
