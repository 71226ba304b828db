"""Nearest-neighbour matching on the logit of the propensity score.

Matching never forms an n x m distance matrix: all units are sorted once by
their logit score (a stable O(n) radix sort) and each unit's ``k`` nearest in
the other arm are found by walking outwards from its place in the sorted other
arm, O(k) per unit (compiled loops in :mod:`._matching_kernels`).  The same
sorted order serves the within-arm matches of the variance estimators.  Without
replacement, matching is greedy (highest score first, as MatchIt's default
``m.order = "largest"``) over a union-find of the still available controls.  A
caliper (default 0.2 standard deviations of the logit score, Austin 2011) drops
matches that are too far; units left with no match are dropped and counted.

Ties
  With replacement, unit ``i``'s match set ``J_M(i)`` is every unit of the other
  arm at a distance no larger than the ``k``-th smallest (Abadie & Imbens 2006,
  ``#J_M(i) >= M``; R's ``Matching`` with ``ties=TRUE``, Stata's ``teffects``):
  the imputed outcome is the mean over the whole set, and a match ``j`` counts
  ``1 / #J_M(i)`` in ``K_M(j)`` (its square in ``K'_M(j)``).  The caliper bounds
  the same threshold: the set is every unit within both the ``k``-th distance and
  the caliper.  The within-arm sets of the variance (``J`` neighbours) and of the
  Abadie–Imbens (2016) adjustment (``L`` neighbours) include their ties the same
  way.  Two distances tie when the computed doubles ``|s_i - s_j|`` are equal:
  always for equal scores, and for units on opposite sides when the two
  subtractions round to the same value.  So the answer never depends on the
  order of the rows (beyond the last bits of floating-point sums, in the
  propensity fit and over tied units).  Without replacement a control can serve one unit only, so
  ties cannot be shared: they are settled by a fixed rule (equal distance above
  and below: the control above; among equal scores, treated waiting their turn
  or controls to choose from, a pseudo-random order fixed by a hash of each row's
  own data, :func:`~._matching_kernels.order_ties`), which also does not depend
  on the row order.  The diagnostics count the units whose sets ties enlarged.

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

import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .balance import balance_table, propensity_frame
from ..effect import Effect
from ..errors import EstimationError, OptionError, RoleError
from ..registry import register
from ..logistic import Design, as_design
from ._matching_kernels import (arm_covariance_weights, match_greedy, match_sorted,
                                order_ties, radix_argsort, score_runs, within_arm_variance)
from ._propensity import expit, fit_propensity, fitted_logit, prepare_observational


@dataclass
class ArmRuns:
    """One arm's runs of equal scores, in increasing order (:func:`~._matching_kernels.
    score_runs`): each run's score, size and outcome sum, and the run of each member."""

    value: np.ndarray
    count: np.ndarray
    ysum: np.ndarray
    of: np.ndarray


@dataclass
class SortedUnits:
    """Units in increasing order of score: what every search and sum in matching reads.

    ``order[i]`` is the original index of sorted position ``i`` (tied scores in row
    order, or in the row-order-free order of :func:`~._matching_kernels.order_ties`
    for greedy matching); ``positions[w]``
    the sorted positions of arm ``w``, ``arm_score[w]`` / ``arm_y[w]`` its scores and
    outcomes in that order (contiguous search targets) and ``runs[w]`` its runs of
    equal scores.
    """

    order: np.ndarray
    score: np.ndarray
    y: np.ndarray
    t: np.ndarray
    positions: dict[int, np.ndarray]
    arm_score: dict[int, np.ndarray]
    arm_y: dict[int, np.ndarray]
    runs: dict[int, ArmRuns]


def sort_units(score: np.ndarray, y: np.ndarray, t: np.ndarray,
               X: np.ndarray | None = None, order_tied: bool = False) -> SortedUnits:
    """Sort once (:func:`_stable_order`) and split the sorted units by arm.

    ``order_tied``: put units with equal scores in the order of a hash of their
    content (``t``, ``y`` and the row of ``X``, when given), not of their rows.  Only
    greedy matching needs it: sets with ties hold whole runs of equal scores, so
    there the order within a run moves no more than the last bits of a sum.

    >>> u = sort_units(np.array([0.3, 0.1, 0.2]), np.array([1.0, 2.0, 3.0]), np.array([1, 0, 1]))
    >>> u.order.tolist(), u.positions[1].tolist(), u.arm_y[1].tolist()
    ([1, 2, 0], [1, 2], [3.0, 1.0])
    """
    order, sorted_score = _stable_order(score)
    y = np.ascontiguousarray(y, dtype=float)
    if order_tied:
        content = np.empty((len(y), 0)) if X is None else np.asarray(X, dtype=float)
        order_ties(order, sorted_score, content, y, t)
    y_sorted, t_sorted = y[order], t[order]
    positions = {1: np.flatnonzero(t_sorted == 1), 0: np.flatnonzero(t_sorted == 0)}
    arm_score = {w: sorted_score[p] for w, p in positions.items()}
    arm_y = {w: y_sorted[p] for w, p in positions.items()}
    runs = {w: ArmRuns(*score_runs(arm_score[w], arm_y[w])) for w in (0, 1)}
    return SortedUnits(order, sorted_score, y_sorted, t_sorted, positions, arm_score, arm_y,
                       runs)


def _stable_order(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``argsort(score, kind="stable")`` and the sorted scores, by a compiled radix sort
    (:func:`~causalkit.backdoor._matching_kernels.radix_argsort`, O(n)).

    >>> order, values = _stable_order(np.array([0.3, 0.1, 0.3]))
    >>> order.tolist(), values.tolist()
    ([1, 0, 2], [0.1, 0.3, 0.3])
    """
    return radix_argsort(np.ascontiguousarray(score, dtype=float))


def conditional_variance(y: np.ndarray, score: np.ndarray, t: np.ndarray,
                         n_neighbours: int = 2) -> np.ndarray:
    """Abadie–Imbens estimate of ``Var(y | x, t)``: match ``J`` units within the same arm.

    ``sigma^2_i = H/(H+1) (y_i - mean of H_i)^2``, ``H_i`` the ``J`` nearest other units
    of the arm and every unit tied with the ``J``-th (``H = #H_i``; ``J`` without ties).

    >>> s2 = conditional_variance(np.array([1.0, 3.0, 0.0, 5.0, 2.0, 4.0]),
    ...                           np.arange(6.0), np.array([0, 0, 0, 1, 1, 1]), 1)
    >>> np.round(s2, 4).tolist()   # a middle unit's two neighbours are tied: both count
    [2.0, 4.1667, 4.5, 4.5, 4.1667, 2.0]
    """
    units = sort_units(score, y, t)
    out = np.empty(len(y))
    out[units.order] = _sorted_conditional_variance(units, n_neighbours)[0]
    return out


def _sorted_conditional_variance(units: SortedUnits, n_neighbours: int
                                 ) -> tuple[np.ndarray, int]:
    """:func:`conditional_variance` in score order, and the number of units whose
    within-arm set ties enlarged beyond ``J``."""
    J = int(n_neighbours)
    out = np.empty(len(units.y))
    enlarged = 0
    for arm in (0, 1):
        members = units.positions[arm]
        if len(members) <= J:
            raise EstimationError(f"arm {arm} has {len(members)} units; the matching variance "
                                  f"needs more than {J} (variance_neighbours)")
        sigma2 = np.empty(len(members))
        runs = units.runs[arm]
        enlarged += within_arm_variance(runs.value, runs.count, runs.ysum, runs.of,
                                        units.arm_y[arm], J, sigma2)
        out[members] = sigma2
    return out, enlarged


def estimated_score_adjustment(y: np.ndarray, t: np.ndarray, score: np.ndarray,
                               design: Design | np.ndarray, estimand: str, k: int, L: int,
                               units: SortedUnits | None = None) -> float:
    """Abadie–Imbens (2016) correction to ``N Var`` for matching on an estimated logit score.

    The score is the linear index of a logistic model fitted by maximum
    likelihood on ``design`` (``Z``, with intercept: a
    :class:`~causalkit.logistic.Design` or a matrix); ``e = expit(score)``,
    ``f = e (1 - e)`` and ``I = mean(f Z Z')`` the information matrix.  With
    ``cov_w(i)`` the covariance of ``Z`` and ``y`` among the ``L`` units of arm
    ``w`` nearest to unit ``i`` in the score and every member tied with the ``L``-th
    (Abadie & Imbens 2016, Sec. 5):

    * ATE: ``- c' I^-1 c`` with ``c = mean((1 - e) cov_1 + e cov_0)``
      (``= mean(f [cov_1 / e + cov_0 / (1 - e)])``); never positive.
    * ATT: ``- c' I^-1 c + d' I^-1 d`` with
      ``c = sum(e (1 - e) cov_1 + e^2 cov_0) / N_1`` and
      ``d = sum(Z f (mu1_i - mu0_i - tau)) / N_1``, the derivative of the
      ATT in the logistic coefficients; ``mu_w`` are the matching imputations
      (observed outcome in the own arm, mean of the match set in the other: the
      ``k`` nearest and their ties, no caliper).
    * ATC: the ATT with the arms' roles swapped (``e -> 1 - e``).

    Returns the term to add to ``N Var(tau_hat)``, ``N = len(y)``.  ``units``
    (optional): :func:`sort_units` of ``(score, y, t)``, to avoid sorting again.
    One compiled walk per arm (:func:`~causalkit.backdoor._matching_kernels.
    arm_covariance_weights`) over that arm's runs of tied scores finds every unit's
    ``L``-set (giving ``cov_w``) and, for units of the other arm, its match set there
    (the same sets as the estimate's, giving ``mu_w``), in O(L + k) per unit.
    """
    Z = as_design(design)
    n = len(y)
    if L < 2:
        raise OptionError("the estimated-score adjustment needs at least 2 within-arm "
                          "neighbours (variance_neighbours >= 2)")
    if units is None:
        units = sort_units(score, y, t)
    order = units.order
    denom = float(n) if estimand == "ATE" else float((t == (1 if estimand == "ATT" else 0)).sum())
    # per-unit weights of cov_1 and cov_0 in c = sum_i a_w(i) cov_w(i) / denom
    # ATE: (1 - e, e); ATT: (e (1 - e), e^2); ATC, the arms' roles swapped: ((1 - e)^2, e (1 - e))
    e_sorted = expit(units.score)
    if estimand == "ATE":
        w1, w0 = 1.0 - e_sorted, e_sorted
    elif estimand == "ATT":
        w1, w0 = e_sorted * (1.0 - e_sorted), e_sorted * e_sorted
    else:
        w1, w0 = (1.0 - e_sorted) ** 2, e_sorted * (1.0 - e_sorted)
    # per unit, in score order: the covariance weights acc, f and f (mu1 - mu0 - tau)
    acc = np.empty(n)
    imputed = {1: np.empty(n), 0: np.empty(n)}
    for arm, weight in ((1, w1), (0, w0)):
        members = units.positions[arm]
        if len(members) < max(L, k):
            raise EstimationError(f"arm {arm} has {len(members)} units; the estimated-score "
                                  f"adjustment needs at least {max(L, k)}")
        runs = units.runs[arm]
        acc_arm = np.empty(len(members))
        arm_covariance_weights(units.score, units.t == arm, runs.value, runs.count, runs.ysum,
                               runs.of, units.arm_y[arm], weight, int(L), int(k), acc_arm,
                               imputed[arm])
        acc[members] = acc_arm                # the arms' members partition the units
    acc /= denom
    f = e_sorted * (1.0 - e_sorted)
    if estimand != "ATE":
        effect = imputed[1] - imputed[0]
        tau = float(effect[units.positions[1 if estimand == "ATT" else 0]].mean())
        derivative = f * (effect - tau) / denom
    else:
        derivative = np.zeros(n)
    # back to the original order (1-D scatters: fast), then one product with Z'
    original = np.empty((n, 3), order="F")
    for j, column in enumerate((acc, f, derivative)):
        original[:, j][order] = column
    c, d = Z.tdot(original[:, ::2]).T
    info = Z.gram(original[:, 1]) / n
    try:
        adjustment = -float(c @ np.linalg.solve(info, c))
        if estimand != "ATE":
            adjustment += float(d @ np.linalg.solve(info, d))
    except np.linalg.LinAlgError as err:
        raise EstimationError("the logistic information matrix is singular") from err
    return adjustment


def _estimate(y: np.ndarray, t: np.ndarray, score: np.ndarray, estimand: str, k: int,
              width: float, replace: bool, n_var: int,
              design: Design | np.ndarray | None = None,
              X: np.ndarray | None = None,
              sample_weight: np.ndarray | None = None) -> dict[str, Any]:
    """Matching estimate and standard error.

    With ``sample_weight`` (sampling weights ``v``, original order) the estimate is the
    ``v``-weighted average of the matched differences over the units matched, the
    match counts ``K_M`` / ``K'_M`` accumulate ``v_i / #J(i)`` and its square, and the
    Abadie–Imbens (2006) variance becomes ``(sum v_i^2 (d_i - tau)^2 + sum_j (K_j^2 -
    K'_j) sigma^2_j) / (sum v_i)^2`` (ATE: ``K_j^2 + 2 v_j K_j - K'_j``), which is the
    unweighted formula at ``v = 1``; without replacement the weighted paired variance
    ``n / (n - 1) sum v_i^2 (d_i - tau)^2 / (sum v_i)^2``.

    With replacement the match sets include their ties and the variance is
    Abadie–Imbens (2006); given ``design`` (the logistic model's design, ``score``
    being its fitted linear index) the Abadie–Imbens (2016) estimated-score
    adjustment is added.  Units are sorted by score once (without replacement,
    tied scores ordered by the content of ``t``, ``y`` and the rows of ``X``, so the
    order of the rows does not matter); everything is computed in that order (unit
    "ids" are sorted positions) and only the per-unit outputs are put back in the
    original order.
    """
    n = len(y)
    adjusted = None
    units = sort_units(score, y, t, X, order_tied=not replace)   # one sort, every search
    sources = {"ATT": [1], "ATC": [0], "ATE": [1, 0]}[estimand]
    used = np.zeros(n, dtype=bool)                 # in score order, as K and Q
    K, Q = np.zeros(n), np.zeros(n)
    v = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)[units.order]
    diffs, diff_weights = [], []
    dropped = enlarged = largest = settled = 0
    for arm in sources:
        source, target = units.positions[arm], units.positions[1 - arm]
        imputed, n_matched = np.empty(len(source)), np.empty(len(source), dtype=np.intp)
        if replace:
            runs = units.runs[1 - arm]
            match_sorted(units.arm_score[arm], runs.value, runs.count, runs.ysum, runs.of,
                         target, int(k), float(width), imputed, n_matched, K, Q, v[source])
            enlarged += int((n_matched > k).sum())
            largest = max(largest, int(n_matched.max(initial=0)))
        else:
            settled += match_greedy(units.arm_score[arm], units.arm_score[1 - arm], target,
                                    units.y, int(k), float(width), imputed, n_matched, K, Q,
                                    v[source])
        matched = n_matched > 0
        own = units.arm_y[arm] - imputed
        if not matched.all():
            own = own[matched]
        diffs.append(own if arm == 1 else -own)
        diff_weights.append(v[source[matched]])
        used[source[matched]] = True
        dropped += len(source) - int(matched.sum())
    diff = np.concatenate(diffs)
    if not len(diff):
        raise EstimationError(f"no unit found a match within the caliper ({width:.4g} on the "
                              "logit scale); widen caliper= or check overlap")
    n_used = len(diff)
    dw: Any
    if sample_weight is None:
        tau = float(diff.mean())
        dw, total = 1.0, float(n_used)
    else:
        dw = np.concatenate(diff_weights)
        total = float(dw.sum())
        tau = float(dw @ diff / total)
    ties: dict[str, int] = {}
    if replace:
        sigma2, ties["n_variance_sets_enlarged_by_ties"] = _sorted_conditional_variance(units,
                                                                                        n_var)
        ties["n_match_sets_enlarged_by_ties"] = enlarged
        ties["largest_match_set"] = largest
        extra = K * K - Q if estimand != "ATE" else K * K + 2 * v * K - Q
        var = (float((dw * dw * (diff - tau) ** 2).sum()) + float(extra @ sigma2)) / total**2
        var_known = var
        if design is not None:
            adj = estimated_score_adjustment(y, t, score, design, estimand, k,
                                             max(n_var, 2), units)
            adjusted = var_known + adj / n
            if adjusted > 0:      # else (small samples) the caller reports AI (2006) and says so
                var = adjusted
    else:
        ties["n_ties_settled_by_rule"] = settled
        if n_used < 2:
            raise EstimationError("fewer than two matched pairs: no paired variance")
        if sample_weight is None:
            var = var_known = float(diff.var(ddof=1)) / n_used
        else:
            var = var_known = (float((dw * dw * (diff - tau) ** 2).sum()) / total**2
                               * n_used / (n_used - 1))
    weights = np.empty(n)
    weights[units.order] = used * v + K            # the only per-unit output in original order
    t_sorted = units.t
    return {"estimate": tau, "std_error": float(np.sqrt(var)),
            "std_error_known_score": float(np.sqrt(var_known)), "n_dropped": dropped,
            "ai2016_variance": adjusted, "ties": ties,
            "weights": weights, "n_used": {w: int((used & (t_sorted == w)).sum()) for w in (0, 1)},
            "n_participating": {w: int(((used | (K > 0)) & (t_sorted == w)).sum()) for w in (0, 1)},
            "n_distinct_matches": int((K > 0).sum())}


def _full_length(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``values`` of the kept rows spread over all rows (NaN for the trimmed ones)."""
    out = np.full(len(keep), np.nan)
    out[keep] = values
    return out


@register("propensity_matching", estimand=("ATT", "ATC", "ATE"),
          roles=("treatment", "outcome", "covariates"), optional_roles=("weights",))
def propensity_matching(data: pd.DataFrame, treatment: str, outcome: str,
                        covariates: Sequence[str], weights: str | None = None,
                        alpha: float = 0.05, estimand: str = "ATT",
                        n_neighbors: int = 1, replace: bool = True,
                        caliper: float | None = 0.2, variance_neighbours: int = 2,
                        propensity_model: Any = None, trim: float | None = None,
                        variance: str | None = None) -> Effect:
    """Nearest-neighbour propensity-score matching on the logit score, O(n log n).

    Parameters
    ----------
    weights
        Column of sampling (survey) weights.  The propensity model is fitted by
        weighted likelihood, the matches are found as without weights, and the
        estimate is the weighted average of the matched differences (each unit's
        difference counts by its own weight).  The variance is the weighted
        Abadie–Imbens (2006) one (the weighted match counts ``K_M``, ``K'_M``
        accumulate ``w_i / #J(i)``; see ``_estimate``), treating the score as
        known: the Abadie–Imbens (2016) adjustment is not derived for weights, so
        ``variance="ai2016"`` with weights is an error.  Without replacement: the
        weighted paired variance.
    estimand
        ``"ATT"`` (default), ``"ATC"`` or ``"ATE"`` (ATE needs ``replace=True``).
    n_neighbors
        Number ``k >= 1`` of matches per unit, plus (with replacement) every unit
        tied with the ``k``-th nearest.  Ties follow Abadie & Imbens (2006; R
        ``Matching(ties=TRUE)``, Stata ``teffects``): the match set ``J_M(i)`` is every
        unit of the other arm no farther than the ``k``-th distance, its mean
        outcome the imputed potential outcome, and each of its members counts
        ``1 / #J_M(i)`` in ``K_M`` (and its square in ``K'_M``) in the variance.  Ties
        are equal computed distances ``|s_i - s_j|`` on the logit score.
    replace
        Match with replacement (default; Abadie–Imbens SE, ties shared) or without
        (greedy, paired SE, ties settled by a row-order-free rule).  Without
        replacement ties are settled, not shared: at equal
        distance the control with the higher score, and among equal scores a fixed
        pseudo-random order given by a hash of each row's data (treatment,
        outcome, covariates), so the matches do not depend on the row order.
    caliper
        Maximum distance in standard deviations of the logit score (default
        0.2), applied to the ``k``-th distance; ``None`` for no caliper.  The
        match set is every unit within both the ``k``-th distance and the caliper.
    variance_neighbours
        ``J``, the within-arm matches for the conditional variance (default 2),
        with every unit tied with the ``J``-th (``sigma^2 = H/(H+1) (y_i - mean)^2``,
        ``H`` the set's size).
    propensity_model
        Propensity classifier (default logistic regression).
    trim
        Drop units whose score lies outside ``[trim, 1 - trim]`` before matching.
    variance
        With replacement: ``"ai2016"`` (default with the built-in logistic
        model) adds the Abadie–Imbens (2016) adjustment for the estimated
        score to the Abadie–Imbens (2006) variance; ``"ai2006"`` (the default
        with a user ``propensity_model``, where the adjustment is not
        available) treats the score as known.

    Notes
    -----
    Diagnostics report ``n_match_sets_enlarged_by_ties`` (units with more than
    ``k`` matches because of ties), ``largest_match_set`` and
    ``n_variance_sets_enlarged_by_ties``; without replacement
    ``n_ties_settled_by_rule`` (matches where another available control was at
    the same distance).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 0, 0, 1, 0, 0, 0, 1], "x": [0, 0, 0, 1, 1, 1, 2, 2],
    ...                    "y": [5.0, 1.0, 3.0, 6.0, 2.0, 4.0, 9.0, 8.0]})
    >>> eff = propensity_matching(df, "t", "y", ["x"], caliper=None, variance="ai2006")
    >>> eff.estimate   # (5 - 2) + (6 - 3) + (8 - 9), each treated against all its tied controls
    1.6666666666666667
    >>> eff.diagnostics["n_match_sets_enlarged_by_ties"]
    2
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
    if variance == "ai2016" and weights is not None:
        raise OptionError("variance='ai2016' (the Abadie-Imbens 2016 estimated-score "
                          "adjustment) is not derived for sampling weights; with weights= "
                          "the variance is the weighted Abadie-Imbens (2006) one: omit "
                          "variance= or pass variance='ai2006'")
    d = prepare_observational(data, treatment, outcome, covariates, weights=weights)
    if not d.covariates:
        raise RoleError("propensity_matching needs at least one covariate: with none every "
                        "unit has the same score and the matches would be arbitrary; when no "
                        "adjustment is needed use difference_in_means")
    fit = fit_propensity(d.X, d.t, d.covariates, propensity_model, trim=trim,
                         sample_weight=d.w)
    keep = fit.keep
    t, y = d.t[keep], d.y[keep]
    lscore = fitted_logit(fit)[keep]
    sd = float(lscore.std(ddof=1))
    width = np.inf if caliper is None else float(caliper) * sd
    adjust = (bool(replace) and fit.is_default_logistic and variance != "ai2006"
              and d.w is None)
    design = None
    if adjust:
        design = fit.design if keep.all() else fit.design.rows(keep)
    res = _estimate(y, t, lscore, estimand, int(n_neighbors), width, bool(replace),
                    int(variance_neighbours), design=design,
                    X=d.X if keep.all() else d.X[keep],
                    sample_weight=None if d.w is None else d.w[keep])
    unit_weights = np.zeros(d.n)
    unit_weights[keep] = res["weights"]
    diagnostics = dict(fit.diagnostics)
    diagnostics.update(
        n_neighbors=int(n_neighbors), replace=bool(replace),
        caliper=caliper, caliper_width_logit=width, logit_score_sd=sd,
        logit_score=_full_length(lscore, keep),
        n_matched_treated=res["n_used"][1], n_matched_control=res["n_used"][0],
        n_dropped_caliper=res["n_dropped"],
        n_distinct_matches_used=res["n_distinct_matches"],
        **res["ties"],
        weights=unit_weights,
        balance=balance_table(d.X, d.t, d.covariates, weights=unit_weights, estimand=estimand),
        propensity=propensity_frame(fit.raw_scores, d.t, d.frame.index))
    ties = res["ties"]
    if weights is not None:
        diagnostics["sampling_weights"] = weights
    ai2006 = (f"Abadie-Imbens (2006) matching variance for the population {estimand} "
              f"(each match set holds every unit tied at the k-th distance, k = "
              f"{int(n_neighbors)}; {ties.get('n_match_sets_enlarged_by_ties', 0)} sets "
              "enlarged by ties; fractional "
              f"K_M, K'_M match counts; conditional variances from {int(variance_neighbours)} "
              "within-arm matches and their ties)")
    if not replace:
        how = ("paired variance of matched differences (matching without replacement; "
               "Austin & Small 2014; greedy, ties settled by the higher score at equal "
               "distance, then a row-content hash among equal scores: "
               f"{ties['n_ties_settled_by_rule']} matches had a tied alternative)")
        if d.w is not None:
            how = (f"sampling-weighted (weights {weights!r}) " + how
                   + "; weighted average of matched differences")
    elif adjust and not res["ai2016_variance"] > 0:
        message = (f"the Abadie-Imbens (2016) estimated-score variance is not positive "
                   f"({res['ai2016_variance']:.3g}; its adjustment outweighs the matching "
                   "variance, as happens in small samples)")
        warnings.warn(message + "; the standard error is the Abadie-Imbens (2006) one, which "
                      "treats the score as known", UserWarning, stacklevel=3)
        how = ai2006 + "; " + message + ", so the propensity score is treated as known"
        diagnostics["ai2016_variance"] = res["ai2016_variance"]
    elif adjust:
        how = (ai2006 + " plus the Abadie-Imbens (2016) adjustment for matching on the "
               "estimated logistic propensity score (logistic information matrix; "
               f"covariances of covariates and outcome from {max(int(variance_neighbours), 2)} "
               "within-arm matches" + ("; ATT/ATC derivative term" if estimand != "ATE"
                                       else "") + ")"
               + ("; the adjustment is derived for matching every unit, so with units "
                  "dropped by the caliper it is approximate" if res["n_dropped"] else ""))
        diagnostics["std_error_known_score"] = res["std_error_known_score"]
    elif d.w is not None:
        how = ("sampling-weighted " + ai2006 + "; weighted average of matched differences "
               f"(sampling weights {weights!r}, weighted K_M, K'_M); the propensity score "
               "is treated as known (the Abadie-Imbens 2016 adjustment is not derived for "
               "weights)")
    else:
        how = (ai2006 + "; the propensity score is treated as known (" +
               ("variance='ai2006'" if fit.is_default_logistic else "user propensity_model")
               + "), which is conservative for the ATE when it is estimated (Abadie & "
               "Imbens 2016) and may err either way for the ATT/ATC")
    return Effect.from_estimate(
        method="propensity_matching", estimand=estimand, estimate=res["estimate"],
        std_error=res["std_error"], alpha=alpha, treatment=treatment, outcome=outcome,
        n_treated=res["n_participating"][1], n_control=res["n_participating"][0],
        n_obs=sum(res["n_participating"].values()), covariates=tuple(d.covariates),
        inference=how,
        diagnostics=diagnostics)
