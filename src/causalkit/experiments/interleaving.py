"""Interleaving for rankers (Chapelle, Joachims, Radlinski & Yue 2012): merge, credit, analyze.

Two rankers' lists for a query are merged into one list shown to the user;
clicks on the merged list are credited to the rankers, and the ranker with
more credited clicks wins the impression.  Because both rankers are judged
on the same impression, interleaving needs far fewer users than an A/B test
of click-through rate.

* ``method="team_draft"`` (Radlinski, Kurup & Joachims 2008): like picking
  teams, the ranker with fewer picks so far (a fair coin on ties) adds its
  highest-ranked document not yet in the list; a click credits the team
  that placed the document.
* ``method="balanced"`` (Joachims 2003): a coin decides which ranker leads;
  the rankers' lists are merged alternately, skipping documents already
  shown.  A click's credit: with ``l`` the lowest clicked document of the
  merged list, ``k = min(rank_A(l), rank_B(l))`` and each ranker gets the
  clicks among its own top ``k``.

:func:`interleaving_analysis` turns per-impression credits into wins, losses
and ties and the preference ``(wins_B + ties / 2) / n - 1/2`` (> 0 favours
B), with a binomial (Wilson) interval on the non-tied impressions and, per
query or user, a cluster-level t interval and bootstrap interval (impressions
of one user are not independent).

Example
-------
>>> il = interleave(["a", "b", "c", "d"], ["b", "e", "a", "f"], random_state=1)
>>> sorted(il.documents) == sorted(set(il.documents))      # no duplicates
True
>>> il.credit([il.documents[0]]) == ((1, 0) if il.teams[0] == 0 else (0, 1))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ColumnNotFoundError, DataError, OptionError
from ..inference import check_alpha

__all__ = ["Interleaving", "interleave", "interleaving_analysis"]

METHODS = ("team_draft", "balanced")


@dataclass(frozen=True)
class Interleaving:
    """A merged list: ``documents`` in order, ``teams`` (0 = A, 1 = B, for team draft: who
    placed it; for balanced: who contributed it first) and the two input rankings."""

    documents: tuple[Any, ...]
    teams: tuple[int, ...]
    ranking_a: tuple[Any, ...]
    ranking_b: tuple[Any, ...]
    method: str

    def credit(self, clicked: Sequence[Any]) -> tuple[int, int]:
        """Clicks credited to A and to B for the set of clicked documents."""
        clicked = set(clicked)
        pos = {d: i for i, d in enumerate(self.documents)}
        bad = [c for c in clicked if c not in pos]
        if bad:
            raise DataError(f"clicked documents {bad!r} are not in the interleaved list")
        if self.method == "team_draft":
            a = sum(1 for d in clicked if self.teams[pos[d]] == 0)
            return a, len(clicked) - a
        if not clicked:
            return 0, 0
        lowest = max(clicked, key=lambda d: pos[d])
        ra = {d: i for i, d in enumerate(self.ranking_a)}
        rb = {d: i for i, d in enumerate(self.ranking_b)}
        k = min(ra.get(lowest, math.inf), rb.get(lowest, math.inf)) + 1
        top_a, top_b = set(self.ranking_a[:int(k)]), set(self.ranking_b[:int(k)])
        return len(clicked & top_a), len(clicked & top_b)


def interleave(ranking_a: Sequence[Any], ranking_b: Sequence[Any], method: str = "team_draft",
               length: int | None = None, random_state: Any = 0) -> Interleaving:
    """Interleave two rankings (``"team_draft"`` or ``"balanced"``) into one list of ``length``.

    ``random_state`` is a seed or a ``numpy.random.Generator`` (pass one
    generator to draw many impressions).
    """
    if method not in METHODS:
        raise OptionError(f"method must be one of {METHODS}, got {method!r}")
    a, b = list(ranking_a), list(ranking_b)
    for name, r in (("ranking_a", a), ("ranking_b", b)):
        if len(set(r)) != len(r):
            raise DataError(f"{name} lists a document twice")
    n_docs = len(set(a) | set(b))
    length = n_docs if length is None else length
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise OptionError(f"length must be a positive integer, got {length!r}")
    length = min(int(length), n_docs)
    rng = random_state if isinstance(random_state, np.random.Generator) \
        else np.random.default_rng(random_state)
    docs: list[Any] = []
    teams: list[int] = []
    seen: set[Any] = set()
    if method == "team_draft":
        picks = [0, 0]
        ptr = [0, 0]
        lists = (a, b)
        while len(docs) < length:
            who = 0 if picks[0] < picks[1] else 1 if picks[1] < picks[0] else int(rng.random() < 0.5)
            lst = lists[who]
            while ptr[who] < len(lst) and lst[ptr[who]] in seen:
                ptr[who] += 1
            if ptr[who] == len(lst):            # this ranker is exhausted: the other picks
                who = 1 - who
                lst = lists[who]
                while ptr[who] < len(lst) and lst[ptr[who]] in seen:
                    ptr[who] += 1
            d = lst[ptr[who]]
            docs.append(d), teams.append(who), seen.add(d)
            picks[who] += 1
    else:
        a_first = rng.random() < 0.5
        ka = kb = 0
        while len(docs) < length:
            take_a = (ka < kb or (ka == kb and a_first)) and ka < len(a) or kb >= len(b)
            d, who = (a[ka], 0) if take_a else (b[kb], 1)
            if take_a:
                ka += 1
            else:
                kb += 1
            if d not in seen:
                docs.append(d), teams.append(who), seen.add(d)
    return Interleaving(tuple(docs), tuple(teams), tuple(a), tuple(b), method)


def interleaving_analysis(data: pd.DataFrame, credit_a: str = "credit_a",
                          credit_b: str = "credit_b", unit: str | None = None,
                          alpha: float = 0.05, n_boot: int = 2000,
                          random_state: int = 0) -> pd.Series:
    """Preference of B over A from per-impression credited clicks.

    Each impression is a win for the ranker with more credit (a tie when
    equal).  Returns ``n, wins_a, wins_b, ties``, the ``preference`` ``(wins_B
    + ties/2)/n - 1/2``, the sign-test p-value and Wilson interval of
    ``P(B wins | not a tie)``; with ``unit`` (query or user column) also the
    per-unit analysis: each unit's mean outcome (+1 B wins, -1 A wins, 0 tie),
    a t test over units and a bootstrap percentile interval of the mean.
    """
    alpha = check_alpha(alpha)
    for col in [credit_a, credit_b] + ([unit] if unit is not None else []):
        if col not in data.columns:
            raise ColumnNotFoundError(f"column {col!r} is not in the data")
    ca = data[credit_a].to_numpy(dtype=float)
    cb = data[credit_b].to_numpy(dtype=float)
    if not (np.all(np.isfinite(ca)) and np.all(np.isfinite(cb))):
        raise DataError("credit columns must be finite (no NaN)")
    if len(ca) == 0:
        raise DataError("no impressions")
    outcome = np.sign(cb - ca)
    wa, wb, ties = int((outcome < 0).sum()), int((outcome > 0).sum()), int((outcome == 0).sum())
    n = len(outcome)
    out = {"n": n, "wins_a": wa, "wins_b": wb, "ties": ties,
           "preference": (wb + ties / 2) / n - 0.5}
    m = wa + wb
    if m:
        out["p_value"] = float(stats.binomtest(wb, m, 0.5).pvalue)
        ci = stats.binomtest(wb, m, 0.5).proportion_ci(1 - alpha, method="wilson")
        out["share_b_ci_low"], out["share_b_ci_high"] = float(ci.low), float(ci.high)
        out["share_b"] = wb / m
    else:
        out.update(p_value=np.nan, share_b=np.nan, share_b_ci_low=np.nan, share_b_ci_high=np.nan)
    if unit is not None:
        per = pd.Series(outcome).groupby(data[unit].to_numpy()).mean().to_numpy()
        k = len(per)
        if k < 2:
            raise DataError(f"the per-{unit} analysis needs at least 2 units")
        mean, se = float(per.mean()), float(per.std(ddof=1) / math.sqrt(k))
        t = mean / se if se > 0 else np.nan
        rng = np.random.default_rng(random_state)
        boots = per[rng.integers(0, k, size=(n_boot, k))].mean(1)
        crit = stats.t.isf(alpha / 2, k - 1)
        out.update(units=k, unit_mean=mean, unit_se=se, unit_ci_low=mean - crit * se,
                   unit_ci_high=mean + crit * se,
                   unit_p_value=float(2 * stats.t.sf(abs(t), k - 1)) if np.isfinite(t) else np.nan,
                   unit_boot_ci_low=float(np.quantile(boots, alpha / 2)),
                   unit_boot_ci_high=float(np.quantile(boots, 1 - alpha / 2)))
    return pd.Series(out)
