"""Nearest-neighbour matching on the logit of the propensity score.

Matching runs in O(n log n): the candidates are sorted once by their logit
score and each unit's ``k`` nearest are found by binary search
(``numpy.searchsorted``) and a window of ``2k`` neighbours, never an n x m
distance matrix.  Without replacement, matching is greedy (highest score
first, as MatchIt's default ``m.order = "largest"``) over a union-find of the
still available controls.  A caliper (default 0.2 standard deviations of the
logit score, Austin 2011) drops matches that are too far; units left with no
match are dropped and counted.

Standard errors
  * with replacement (default): Abadie & Imbens (2006, Econometrica 74:235)
    variance of the matching estimator for the population ATE/ATT/ATC, with
    ``K_M(i)`` the (weighted) number of times unit ``i`` is used as a match and
    the conditional variance estimated by matching ``J`` units within the same
    arm (``sigma^2_i = J/(J+1) (y_i - mean of its J neighbours)^2``, Abadie,
    Drukker, Herr & Imbens 2004).  With the built-in logistic propensity
    model (default ``variance="ai2016"``) the Abadie & Imbens (2016,
    Econometrica 84:781) adjustment for matching on the *estimated* score is
    added (:func:`estimated_score_adjustment`): negative for the ATE, either
    sign for the ATT/ATC.  ``variance="ai2006"`` (and any user
    ``propensity_model``) treats the score as known, which over-covers for
    the ATE.
  * without replacement: the paired variance of the matched differences
    (Austin & Small 2014), ATT and ATC only.

Example
-------
>>> import causalkit
>>> from causalkit.datasets import linear_confounding
>>> ds = linear_confounding(2000, n_covariates=2, seed=0)   # confounded, true effect 1
>>> df = ds.data
>>> eff = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=ds.covariates)
>>> eff.estimand, bool(abs(eff.estimate - 1.0) < 0.3)
('ATT', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..balance import balance_table, propensity_frame
from ..effect import Effect
from ..errors import EstimationError, OptionError
from ..registry import register
from ._propensity import expit, fit_propensity, logit_scores, prepare_observational


@dataclass
class Matches:
    """Matches of ``source`` units (global indices) to target units.

    ``src`` / ``tgt`` / ``weight`` list each match (global indices, weight
    ``1 / number of matches of the source unit``); ``matched`` marks the
    source units with at least one match.
    """

    source: np.ndarray
    src: np.ndarray
    tgt: np.ndarray
    weight: np.ndarray
    matched: np.ndarray


def nearest_in_sorted(values: np.ndarray, sorted_targets: np.ndarray, k: int,
                      exclude_self: bool = False, start: np.ndarray | None = None,
                      distances: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Positions and distances of the ``k`` nearest of ``sorted_targets`` to each value.

    Binary search, then ``k`` steps that move outwards from the insertion point
    taking the nearer frontier each time: O((n + m) log m + n k).
    With ``exclude_self`` the values are the targets themselves (in order) and
    each is not its own neighbour.  Missing neighbours (fewer than ``k``
    targets) get distance ``inf``.  ``start`` (optional) gives the insertion
    positions ``searchsorted(sorted_targets, values)`` when already known.
    With ``distances=False`` only the positions are computed (``dist`` is ``None``).

    >>> pos, dist = nearest_in_sorted(np.array([0.9, 3.2]), np.array([0.0, 1.0, 3.0]), 1)
    >>> pos.ravel().tolist(), np.round(dist.ravel(), 2).tolist()
    ([1, 2], [0.1, 0.2])
    """
    m = len(sorted_targets)
    n = len(values)
    if exclude_self:
        left, right = np.arange(n) - 1, np.arange(n) + 1
    else:
        right = np.searchsorted(sorted_targets, values) if start is None else start
        left = right - 1
    # rows are steps: each step writes contiguous rows; the (n, k) results are transposed views
    pos = np.empty((k, n), dtype=np.intp)
    dist = np.empty((k, n)) if distances else None
    # k sentinels of -inf / +inf on each side: no bounds checks in the loop
    padded = np.concatenate([np.full(k, -np.inf), sorted_targets, np.full(k, np.inf)])
    left, right = left + k, right + k
    for step in range(k):     # merge outwards: take the nearer of the two frontiers
        dl = values - padded[left]
        dr = padded[right] - values
        take_right = dr < dl
        np.copyto(pos[step], left)
        np.copyto(pos[step], right, where=take_right)
        if dist is not None:
            np.minimum(dl, dr, out=dist[step])
        if step + 1 < k:
            right += take_right
            left -= ~take_right
    pos -= k
    if k < 8:   # row sums of fewer than 8 terms are sequential, the same bits in either layout
        pos = pos.T
        dist = None if dist is None else dist.T
    else:       # numpy sums 8+ contiguous terms pairwise: keep rows contiguous
        pos = np.ascontiguousarray(pos.T)
        dist = None if dist is None else np.ascontiguousarray(dist.T)
    if m - int(exclude_self) < k:   # fewer than k real targets: some picks hit a sentinel
        pos = np.clip(pos, 0, max(m - 1, 0))
    return pos, dist


def _row_mean(a: np.ndarray) -> np.ndarray:
    """``a.mean(axis=1)`` (the same bits); under 8 columns as column sums, much faster for n x 2.

    numpy adds fewer than 8 terms of a row left to right, exactly as the column loop does.

    >>> a = np.array([[1.0, 2.0], [3.0, 5.0]])
    >>> bool(np.array_equal(_row_mean(a), a.mean(axis=1)))
    True
    """
    width = a.shape[1]
    if width >= 8:   # pairwise sums over contiguous rows, as numpy does for a fresh gather
        return np.ascontiguousarray(a).mean(axis=1)
    total = a[:, 0].copy()
    for j in range(1, width):
        total += a[:, j]
    total /= width
    return total


def _stable_order(score: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``argsort(score, kind="stable")``, the sorted scores, and whether they are all distinct.

    Without ties every sorting permutation is the stable one, so the faster
    unstable sort is tried first and kept when the sorted scores strictly increase.

    >>> order, _, distinct = _stable_order(np.array([0.3, 0.1, 0.3]))
    >>> order.tolist(), distinct
    ([1, 0, 2], False)
    """
    order = np.argsort(score)
    values = score[order]
    distinct = len(values) < 2 or bool(np.all(values[1:] > values[:-1]))
    if not distinct:
        order = np.argsort(score, kind="stable")
        values = score[order]
    return order, values, distinct


def _sorted_by_score(units: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``units`` ordered by ``score`` (an O(n) check skips the sort when already sorted)."""
    values = score[units]
    if len(values) < 2 or bool(np.all(values[1:] >= values[:-1])):
        return units
    return units[np.argsort(values, kind="stable")]


def match_with_replacement(source: np.ndarray, target: np.ndarray, score: np.ndarray,
                           k: int, width: float,
                           sorted_scores: tuple[np.ndarray, np.ndarray] | None = None
                           ) -> Matches:
    """Each source unit's ``k`` nearest target units within ``width``, with replacement.

    ``sorted_scores`` (optional): ``(score[source], score[target])`` when ``target``
    is already in score order.
    """
    if sorted_scores is None:
        tgt_sorted = _sorted_by_score(target, score)
        src_values, tgt_values = score[source], score[tgt_sorted]
    else:
        tgt_sorted = target
        src_values, tgt_values = sorted_scores
    pos, dist = nearest_in_sorted(src_values, tgt_values, k)
    ok = dist <= width
    counts = ok.sum(axis=1)
    rows = np.nonzero(ok)
    src = source[rows[0]]
    tgt = tgt_sorted[pos[rows]]
    return Matches(source, src, tgt, 1.0 / counts[rows[0]], counts > 0)


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


def match_without_replacement(source: np.ndarray, target: np.ndarray, score: np.ndarray,
                              k: int, width: float) -> Matches:
    """Greedy nearest-neighbour matching without replacement, highest score first.

    ``k`` rounds; in each, every source unit (in descending score order) takes
    its nearest still-available target within ``width``.  Available targets
    are found through two union-find structures over the sorted targets
    ("next free to the right / left"), so each query is near O(1) after the
    O(n log n) sort.
    """
    tgt_sorted = _sorted_by_score(target, score)
    tvals = score[tgt_sorted]
    m = len(tvals)
    src_order = source[np.argsort(-score[source], kind="stable")]
    svals = score[src_order]
    start = np.searchsorted(tvals, svals).tolist()
    sv, tv = svals.tolist(), tvals.tolist()
    right = list(range(m + 1))     # right[i]: next free position >= i (m = none)
    left = list(range(m + 1))      # left[i + 1]: next free position <= i, shifted (0 = none)
    src_out: list[int] = []
    tgt_out: list[int] = []
    active = list(range(len(sv)))
    for _ in range(k):
        still: list[int] = []
        for a in active:
            p, s = start[a], sv[a]
            r = _find(right, p)
            lft = _find(left, p) - 1
            dr = tv[r] - s if r < m else np.inf
            dl = s - tv[lft] if lft >= 0 else np.inf
            j, dj = (r, dr) if dr <= dl else (lft, dl)
            if dj > width or not 0 <= j < m:    # too far, or no target left
                continue
            right[j] = j + 1
            left[j + 1] = j
            src_out.append(a)
            tgt_out.append(j)
            still.append(a)
        active = still
    src_pos = np.asarray(src_out, dtype=int)
    counts = np.bincount(src_pos, minlength=len(sv))
    matched_sorted = counts > 0
    w = 1.0 / counts[src_pos] if len(src_pos) else np.empty(0)
    matched = np.zeros(len(source), dtype=bool)
    rank = np.empty(len(source), dtype=int)
    rank[np.argsort(-score[source], kind="stable")] = np.arange(len(source))
    matched = matched_sorted[rank]
    return Matches(source, src_order[src_pos], tgt_sorted[np.asarray(tgt_out, dtype=int)],
                   w, matched)


def conditional_variance(y: np.ndarray, score: np.ndarray, t: np.ndarray,
                         n_neighbours: int = 2, order: np.ndarray | None = None,
                         in_order: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                         within: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """Abadie–Imbens estimate of ``Var(y | x, t)``: match ``J`` units within the same arm.

    ``sigma^2_i = J/(J+1) (y_i - mean of its J nearest same-arm neighbours)^2``.
    ``order`` (optional) is ``argsort(score)``, to avoid sorting again;
    ``in_order`` (optional) is ``(score, y, t)`` already taken in that order;
    ``within`` (optional) maps each arm to its members' nearest same-arm neighbours
    (:func:`within_arm_neighbours`, at least ``J`` columns).
    """
    J = int(n_neighbours)
    out = np.empty(len(y))
    if order is None:
        order = np.argsort(score, kind="stable")
    s_sorted, y_sorted, t_sorted = (in_order if in_order is not None
                                    else (score[order], y[order], t[order]))
    for arm in (0, 1):
        members = np.flatnonzero(t_sorted == arm)   # the arm's positions in score order
        if len(members) <= J:
            raise EstimationError(f"arm {arm} has {len(members)} units; the matching variance "
                                  f"needs more than {J} (variance_neighbours)")
        s_arm = s_sorted[members]                  # sorted: a contiguous search target
        y_arm = y_sorted[members]
        if within is not None:
            pos = within[arm][:, :J]
        else:
            pos, _ = nearest_in_sorted(s_arm, s_arm, J, exclude_self=True, distances=False)
        ybar = _row_mean(y_arm[pos])
        out[order[members]] = J / (J + 1.0) * (y_arm - ybar) ** 2
    return out


def within_arm_neighbours(sorted_score: np.ndarray, t_sorted: np.ndarray, k: int
                          ) -> dict[int, np.ndarray]:
    """For each arm, its members' ``k`` nearest other members (positions within the arm).

    ``sorted_score`` is in increasing order and ``t_sorted`` the arms in that order.

    >>> within_arm_neighbours(np.array([0.0, 1.0, 1.5, 4.0]), np.array([0, 0, 0, 1]), 1)[0].ravel().tolist()
    [1, 2, 1]
    """
    out = {}
    for arm in (0, 1):
        s_arm = sorted_score[t_sorted == arm]
        out[arm] = nearest_in_sorted(s_arm, s_arm, k, exclude_self=True, distances=False)[0]
    return out


def _imputed(matches: Matches, y: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(matches.src, weights=matches.weight * y[matches.tgt], minlength=n)


def _usage(matches: Matches, n: int) -> tuple[np.ndarray, np.ndarray]:
    K = np.bincount(matches.tgt, weights=matches.weight, minlength=n)
    Q = np.bincount(matches.tgt, weights=matches.weight**2, minlength=n)
    return K, Q


def estimated_score_adjustment(y: np.ndarray, t: np.ndarray, score: np.ndarray,
                               design: np.ndarray, estimand: str, k: int, L: int,
                               order: np.ndarray | None = None,
                               in_order: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                               overwrite_design: bool = False,
                               within: dict[int, np.ndarray] | None = None) -> float:
    """Abadie–Imbens (2016) correction to ``N Var`` for matching on an estimated logit score.

    The score is the linear index of a logistic model fitted by maximum
    likelihood on ``design`` (``Z``, with intercept); ``e = expit(score)``,
    ``f = e (1 - e)`` and ``I = mean(f Z Z')`` the information matrix.  With
    ``cov_w(i)`` the covariance of ``Z`` and ``y`` among the ``L`` units of arm
    ``w`` nearest to unit ``i`` in the score (Abadie & Imbens 2016, Sec. 5):

    * ATE: ``- c' I^-1 c`` with ``c = mean((1 - e) cov_1 + e cov_0)``
      (``= mean(f [cov_1 / e + cov_0 / (1 - e)])``); never positive.
    * ATT: ``- c' I^-1 c + d' I^-1 d`` with
      ``c = sum(e (1 - e) cov_1 + e^2 cov_0) / N_1`` and
      ``d = sum(Z f (mu1_i - mu0_i - tau)) / N_1``, the derivative of the
      ATT in the logistic coefficients; ``mu_w`` are the matching imputations
      (observed outcome in the own arm, mean of the ``k`` matches in the other).
    * ATC: the ATT with the arms' roles swapped (``e -> 1 - e``).

    Returns the term to add to ``N Var(tau_hat)``, ``N = len(y)``.  ``order``
    (optional) is ``argsort(score)`` and ``in_order`` ``(score, y, t)`` taken in it;
    with ``overwrite_design`` the design array is used as scratch space (destroyed).
    ``within`` (only when no two scores are equal): each arm's members' nearest other
    members (:func:`within_arm_neighbours`, at least ``max(L, k) - 1`` columns).  Without
    ties a member's nearest unit of its own arm is itself, then exactly these, so only
    the other arm's units need a search.
    """
    n = len(y)
    e = expit(score)
    f = e * (1.0 - e)
    if order is None:
        order = np.argsort(score, kind="stable")
    if L < 2:
        raise OptionError("the estimated-score adjustment needs at least 2 within-arm "
                          "neighbours (variance_neighbours >= 2)")
    # per-unit weights of cov_1 and cov_0 in c (taken in score order below)
    # ATE: (1 - e, e); ATT: (e (1 - e), e^2); ATC, the arms' roles swapped: ((1 - e)^2, e (1 - e))
    if estimand == "ATE":
        denom = float(n)
    elif estimand == "ATT":
        denom = float((t == 1).sum())
    else:
        denom = float((t == 0).sum())
    # c = sum_i a_w(i) cov_w(i) / denom.  Because sum_l (y_l - ybar) = 0, cov_w(i) =
    # sum_l Z_l (y_l - ybar) / (L - 1): accumulate the weights a_w(i) (y_l - ybar) on
    # each neighbour l, then one product with Z gives c.
    # work in score order (cache-friendly gathers), scatter back once at the end.
    # One search per arm finds, for every unit, its max(L, k) nearest units of that
    # arm: the first L give cov_w, and for units of the other arm the first k are
    # exactly its matches there (same search, same tie order), giving mu_w.
    acc_sorted = np.zeros(n)
    sorted_score, y_sorted, t_sorted = (in_order if in_order is not None
                                        else (score[order], y[order], t[order]))
    e_sorted = expit(sorted_score)                 # = e[order], elementwise
    if estimand == "ATE":
        w1, w0 = 1.0 - e_sorted, e_sorted
    elif estimand == "ATT":
        w1, w0 = e_sorted * (1.0 - e_sorted), e_sorted * e_sorted
    else:
        w1, w0 = (1.0 - e_sorted) ** 2, e_sorted * (1.0 - e_sorted)
    mu_sorted: dict[int, np.ndarray] = {}
    width = max(L, k)
    for arm, weight in ((1, w1), (0, w0)):
        in_arm = t_sorted == arm
        members = np.flatnonzero(in_arm)           # the arm's positions in score order
        if len(members) < width:
            raise EstimationError(f"arm {arm} has {len(members)} units; the estimated-score "
                                  f"adjustment needs at least {width}")
        if within is None:
            # each unit's insertion point among the arm is the count of arm units before it
            start = np.cumsum(in_arm, dtype=np.intp)
            start -= in_arm
            pos, _ = nearest_in_sorted(sorted_score, sorted_score[members], width,
                                       start=start, distances=False)
            # row-major, so that the scatter below adds in the same order as a row-wise loop
            pos = np.ascontiguousarray(pos)
        else:
            others = np.flatnonzero(~in_arm)
            # an other-arm unit's insertion point: its position minus the others before it
            start = others - np.arange(len(others))
            pos = np.empty((n, width), dtype=np.intp)
            pos[others] = nearest_in_sorted(sorted_score[others], sorted_score[members], width,
                                            start=start, distances=False)[0]
            pos[members, 0] = np.arange(len(members))
            pos[members, 1:] = within[arm][:, :width - 1]
        y_nb = y_sorted[members][pos]              # n x width, gathered from the arm only
        if estimand != "ATE":
            matched = _row_mean(y_nb[:, :k])
            mu_sorted[arm] = np.where(in_arm, y_sorted, matched)
        yc = y_nb[:, :L] if L < width else y_nb
        yc = yc - _row_mean(yc)[:, None]
        yc *= weight[:, None]
        pos_l = pos[:, :L] if L < width else pos
        # neighbours of arm w are members of arm w: accumulate per member, scatter once
        acc_sorted[members] += np.bincount(pos_l.ravel(), weights=yc.ravel(),
                                           minlength=len(members))
    acc = np.empty(n)
    acc[order] = acc_sorted
    c = design.T @ acc / ((L - 1) * denom)
    d = None
    if estimand != "ATE":
        effect = np.empty(n)
        effect[order] = mu_sorted[1] - mu_sorted[0]
        target = t == (1 if estimand == "ATT" else 0)
        tau = float(effect[target].mean())
        d = design.T @ (f * (effect - tau)) / denom
    # sqrt(f) Z, for the information matrix; written over the design when allowed (its
    # last use), which spares allocating and faulting in another n x p array
    root = np.multiply(design, np.sqrt(f)[:, None], out=design if overwrite_design else None)
    info = root.T @ root / n
    try:
        info_inv_c = np.linalg.solve(info, c)
    except np.linalg.LinAlgError as err:
        raise EstimationError("the logistic information matrix is singular") from err
    adjustment = -float(c @ info_inv_c)
    if d is not None:
        adjustment += float(d @ np.linalg.solve(info, d))
    return adjustment


def _estimate(y: np.ndarray, t: np.ndarray, score: np.ndarray, estimand: str, k: int,
              width: float, replace: bool, n_var: int,
              design: np.ndarray | None = None,
              overwrite_design: bool = False) -> dict[str, Any]:
    """Matching estimate and standard error.

    With replacement the variance is Abadie–Imbens (2006); given ``design``
    (the logistic model's design, ``score`` being its fitted linear index) the
    Abadie–Imbens (2016) estimated-score adjustment is added (``overwrite_design``:
    the design may be used as scratch space).
    """
    n = len(y)
    order, sorted_score, distinct = _stable_order(score)   # one sort serves every search
    in_order = (sorted_score, y[order], t[order])
    is_treated = in_order[2] == 1
    treated, control = order[is_treated], order[~is_treated]
    arm_scores = {1: sorted_score[is_treated], 0: sorted_score[~is_treated]}
    directions = {"ATT": [(treated, control)], "ATC": [(control, treated)],
                  "ATE": [(treated, control), (control, treated)]}[estimand]
    used = np.zeros(n, dtype=bool)
    y1, y0 = y.copy(), y.copy()
    K, Q = np.zeros(n), np.zeros(n)
    dropped = 0
    for source, target in directions:
        if replace:
            src_arm = int(t[source[0]])
            mt = match_with_replacement(source, target, score, k, width,
                                        (arm_scores[src_arm], arm_scores[1 - src_arm]))
        else:
            mt = match_without_replacement(source, target, score, k, width)
        imputed = _imputed(mt, y, n)
        arm_is_treated = t[source[0]] == 1
        (y0 if arm_is_treated else y1)[source] = imputed[source]
        used[source[mt.matched]] = True
        dropped += int((~mt.matched).sum())
        k_arm, q_arm = _usage(mt, n)
        K += k_arm
        Q += q_arm
    if not used.any():
        raise EstimationError(f"no unit found a match within the caliper ({width:.4g} on the "
                              "logit scale); widen caliper= or check overlap")
    diff = (y1 - y0)[used]
    tau = float(diff.mean())
    n_used = int(used.sum())
    if replace:
        within = None
        L = max(n_var, 2)
        depth = max(n_var, max(L, k) - 1)
        n_arm_min = min(len(treated), len(control))
        if (distinct and design is not None and n_arm_min > depth
                and n_arm_min >= max(L, k)):
            # without ties one within-arm search serves the variance and the adjustment
            within = within_arm_neighbours(sorted_score, in_order[2], depth)
        sigma2 = conditional_variance(y, score, t, n_var, order, in_order, within)
        extra = K**2 - Q if estimand != "ATE" else K**2 + 2 * K - Q
        var = (float(((diff - tau) ** 2).sum()) + float(extra @ sigma2)) / n_used**2
        var_known = var
        if design is not None:
            adj = estimated_score_adjustment(y, t, score, design, estimand, k,
                                             L, order, in_order,
                                             overwrite_design=overwrite_design, within=within)
            var = var_known + adj / n
            if not var > 0:
                raise EstimationError(
                    "the Abadie-Imbens (2016) estimated-score variance is not positive "
                    f"({var:.3g}); use variance='ai2006'")
    else:
        if n_used < 2:
            raise EstimationError("fewer than two matched pairs: no paired variance")
        var = var_known = float(diff.var(ddof=1)) / n_used
    weights = np.where(used, 1.0, 0.0) + K
    return {"estimate": tau, "std_error": float(np.sqrt(var)),
            "std_error_known_score": float(np.sqrt(var_known)), "used": used,
            "weights": weights, "n_dropped": dropped, "K": K}


@register("propensity_matching", estimand=("ATT", "ATC", "ATE"),
          roles=("treatment", "outcome", "covariates"))
def propensity_matching(data: pd.DataFrame, treatment: str, outcome: str,
                        covariates: Sequence[str], alpha: float = 0.05, estimand: str = "ATT",
                        n_neighbors: int = 1, replace: bool = True,
                        caliper: float | None = 0.2, variance_neighbours: int = 2,
                        propensity_model: Any = None, trim: float | None = None,
                        variance: str | None = None, **_: Any) -> Effect:
    """Nearest-neighbour propensity-score matching on the logit score, O(n log n).

    Parameters
    ----------
    estimand
        ``"ATT"`` (default), ``"ATC"`` or ``"ATE"`` (ATE needs ``replace=True``).
    n_neighbors
        Number ``k >= 1`` of matches per unit.
    replace
        Match with replacement (default; Abadie–Imbens SE) or without (greedy,
        paired SE).
    caliper
        Maximum distance in standard deviations of the logit score (default
        0.2); ``None`` for no caliper.
    variance_neighbours
        ``J``, the within-arm matches for the conditional variance (default 2).
    propensity_model, trim
        Propensity classifier (default logistic regression) and optional
        trimming of scores outside ``[trim, 1 - trim]`` before matching.
    variance
        With replacement: ``"ai2016"`` (default with the built-in logistic
        model) adds the Abadie–Imbens (2016) adjustment for the estimated
        score to the Abadie–Imbens (2006) variance; ``"ai2006"`` (the default
        with a user ``propensity_model``, where the adjustment is not
        available) treats the score as known.
    """
    if estimand not in ("ATT", "ATC", "ATE"):
        raise OptionError(f"propensity_matching estimates ATT, ATC or ATE, not {estimand!r}")
    if int(n_neighbors) != n_neighbors or n_neighbors < 1:
        raise OptionError(f"n_neighbors must be an integer >= 1, got {n_neighbors!r}")
    if int(variance_neighbours) != variance_neighbours or variance_neighbours < 1:
        raise OptionError(f"variance_neighbours must be an integer >= 1, got "
                          f"{variance_neighbours!r}")
    if caliper is not None and not caliper > 0:
        raise OptionError(f"caliper must be positive (SDs of the logit score) or None, "
                          f"got {caliper!r}")
    if estimand == "ATE" and not replace:
        raise OptionError("matching for the ATE needs replace=True (each arm is matched to "
                          "the other); use estimand='ATT' or 'ATC' without replacement")
    if variance not in (None, "ai2016", "ai2006"):
        raise OptionError(f"variance must be 'ai2016' or 'ai2006', got {variance!r}")
    if variance == "ai2016" and propensity_model is not None:
        raise OptionError("variance='ai2016' needs the built-in logistic propensity model "
                          "(its information matrix enters the adjustment); use 'ai2006'")
    d = prepare_observational(data, treatment, outcome, covariates)
    fit = fit_propensity(d.X, d.t, d.covariates, propensity_model, trim=trim)
    keep = fit.keep
    t, y = d.t[keep], d.y[keep]
    lscore = logit_scores(fit.raw_scores[keep])
    sd = float(lscore.std(ddof=1))
    width = np.inf if caliper is None else float(caliper) * sd
    adjust = bool(replace) and fit.is_default_logistic and variance != "ai2006"
    design = None
    if adjust:
        design = fit.design if keep.all() else fit.design[keep]
    # the design is not needed after the adjustment: let it serve as scratch space
    res = _estimate(y, t, lscore, estimand, int(n_neighbors), width, bool(replace),
                    int(variance_neighbours), design=design, overwrite_design=True)
    fit.design = None                             # possibly overwritten above
    used = res["used"]
    part = used | (res["K"] > 0)
    weights = np.zeros(d.n)
    weights[keep] = res["weights"]
    diagnostics = dict(fit.diagnostics)
    diagnostics.update(
        n_neighbors=int(n_neighbors), replace=bool(replace),
        caliper=caliper, caliper_width_logit=width, logit_score_sd=sd,
        n_matched_treated=int((used & (t == 1)).sum()),
        n_matched_control=int((used & (t == 0)).sum()),
        n_dropped_caliper=res["n_dropped"],
        n_distinct_matches_used=int((res["K"] > 0).sum()),
        weights=weights,
        balance=balance_table(d.X, d.t, d.covariates, weights=weights, estimand=estimand),
        propensity=propensity_frame(fit.raw_scores, d.t, d.frame.index))
    ai2006 = (f"Abadie-Imbens (2006) matching variance for the population {estimand} "
              f"(K_M match counts; conditional variances from {int(variance_neighbours)} "
              "within-arm matches)")
    if not replace:
        how = ("paired variance of matched differences (matching without replacement; "
               "Austin & Small 2014)")
    elif adjust:
        how = (ai2006 + " plus the Abadie-Imbens (2016) adjustment for matching on the "
               "estimated logistic propensity score (logistic information matrix; "
               f"covariances of covariates and outcome from {max(int(variance_neighbours), 2)} "
               "within-arm matches" + ("; ATT/ATC derivative term" if estimand != "ATE"
                                       else "") + ")"
               + ("; the adjustment is derived for matching every unit, so with units "
                  "dropped by the caliper it is approximate" if res["n_dropped"] else ""))
        diagnostics["std_error_known_score"] = res["std_error_known_score"]
    else:
        how = (ai2006 + "; the propensity score is treated as known (" +
               ("variance='ai2006'" if fit.is_default_logistic else "user propensity_model")
               + "), which is conservative for the ATE when it is estimated (Abadie & "
               "Imbens 2016) and may err either way for the ATT/ATC")
    return Effect.from_estimate(
        method="propensity_matching", estimand=estimand, estimate=res["estimate"],
        std_error=res["std_error"], alpha=alpha, treatment=treatment, outcome=outcome,
        n_treated=int((part & (t == 1)).sum()), n_control=int((part & (t == 0)).sum()),
        n_obs=int(part.sum()), covariates=tuple(d.covariates), inference=how,
        diagnostics=diagnostics)
