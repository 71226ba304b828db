"""The positivity (overlap) diagnosis that every covariate-adjusting estimator shares.

An effect adjusted for covariates ``X`` is identified only where treated and
control units both occur at the same ``X``: the propensity score
``e(x) = P(T = 1 | X = x)`` must stay away from 0 and 1.  Without overlap,
weighting divides by zero and a regression (or any outcome learner)
extrapolates each arm's fit into a region where that arm has no data, and
reports a confident number that the data do not support.  One diagnosis, used
by ``ipw``, ``aipw``, ``propensity_matching``, ``regression_adjustment`` and
the CATE learners alike:

* **no overlap** -- a covariate whose treated and control ranges do not
  intersect (named in the message), or scores whose treated and control ranges
  are disjoint (a combination of covariates separates the arms, which also
  makes the logistic MLE diverge): :class:`~causalkit.errors.OverlapError`.
* **weak overlap** -- some scores outside ``[0.01, 0.99]``: a ``UserWarning``
  giving their count, share, and the minimum and maximum score.
* **complete overlap** -- no covariates (the empty adjustment set: a difference
  in means, the score is the constant treated share), or a randomized
  assignment (the score is flat in the covariates): nothing is raised.

Estimators that fit no propensity model of their own call
:func:`check_overlap`, which fits the package's unpenalized logistic regression
(:func:`causalkit.logistic.fit_logistic`, a few Newton steps on standardized
covariates, O(n p^2)) only for the diagnosis, and record its result in
``Effect.diagnostics["overlap"]``.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(400, 2))
>>> t = (rng.random(400) < 0.5).astype(int)           # randomized: complete overlap
>>> d = check_overlap(X, t, ["a", "b"])
>>> d["status"], d["n_outside_bounds"]
('complete', 0)
>>> try:
...     check_overlap(X, (X[:, 1] > 0).astype(int), ["a", "b"])
... except OverlapError as err:
...     print(str(err)[:37])
covariate 'b' perfectly separates the
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
from scipy.linalg import qr
from scipy.special import expit

from .errors import EstimationError, OverlapError, SingularInformationError
from .logistic import DIVERGENT_COEFFICIENT, Design, StandardizedDesign, fit_logistic, mean_score

#: Scores outside [POSITIVITY_BOUND, 1 - POSITIVITY_BOUND] mean weak overlap (a warning).
POSITIVITY_BOUND = 0.01

#: What to do about weak overlap, said in the warnings of the weighting estimators.
WEIGHTING_ADVICE = "consider trim= or clip="
#: The same for estimators that model the outcome and take no trimming option.
OUTCOME_ADVICE = ("the outcome model extrapolates there; restrict the sample to the region "
                  "of common support, or coarsen the covariates")

_CHECK_MODEL = "logistic regression (unpenalized, standardized covariates), fitted for the check"

#: The ridge penalty of the check's logistic fit when the unpenalized one is singular.
CHECK_RIDGE = 1.0


#: Up to this many quasi-separating covariates are warned about one by one; more (a design
#: of many category dummies, such as village fixed effects) are summed up in one warning.
NAMED_WARNINGS = 5


def _ranges(X: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    on = t == 1
    X1, X0 = X[on], X[~on]
    return X1.min(axis=0), X1.max(axis=0), X0.min(axis=0), X0.max(axis=0)


def check_separation(X: np.ndarray, t: np.ndarray, names: Sequence[str],
                     stacklevel: int = 3) -> list[int]:
    """Refuse a covariate that perfectly separates the arms; warn on quasi-separation.

    Returns the indices of the quasi-separating covariates (whose treated and control
    ranges meet at a single value).  Up to :data:`NAMED_WARNINGS` of them get a warning
    each; more are named in one warning with their count.

    >>> import numpy as np
    >>> try:
    ...     check_separation(np.array([[0.], [1.], [2.], [3.]]), np.array([0, 0, 1, 1]), ["x"])
    ... except OverlapError as err:
    ...     print(str(err)[:37])
    covariate 'x' perfectly separates the
    """
    if X.shape[1] == 0:
        return []
    min_t, max_t, min_c, max_c = _ranges(X, t)
    for j, name in enumerate(names):
        if max_t[j] < min_c[j] or max_c[j] < min_t[j]:
            raise OverlapError(
                f"covariate {name!r} perfectly separates the treatment arms (treated range "
                f"[{min_t[j]:.4g}, {max_t[j]:.4g}], control range [{min_c[j]:.4g}, "
                f"{max_c[j]:.4g}]): there is no overlap, so the effect is not identified "
                "without extrapolation; drop or coarsen it, or restrict the sample")
    touching = [j for j in range(X.shape[1]) if max_t[j] == min_c[j] or max_c[j] == min_t[j]]
    if len(touching) > NAMED_WARNINGS:
        shown = ", ".join(repr(names[j]) for j in touching[:NAMED_WARNINGS])
        warnings.warn(
            f"{len(touching)} covariates quasi-separate the treatment arms (each overlaps the "
            f"other arm only at a single value, as a dummy of a category that holds one arm "
            f"only does): {shown} and {len(touching) - NAMED_WARNINGS} more; the units beyond "
            "that value have only one arm, their propensity scores are 0 or 1",
            UserWarning, stacklevel=stacklevel)
        return touching
    for j in touching:
        value = max_t[j] if max_t[j] == min_c[j] else max_c[j]
        warnings.warn(
            f"covariate {names[j]!r} quasi-separates the treatment arms (the arms overlap only "
            f"at the single value {value:.4g}): propensity scores will approach 0 or 1 there",
            UserWarning, stacklevel=stacklevel)
    return touching


def single_arm_units(X: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The units that quasi-separating covariates put where only one arm occurs.

    A covariate whose treated values all lie at or below a value ``v`` and control values
    at or above it (or the reverse) quasi-separates the arms: the logistic MLE does not
    exist, its coefficient runs off to infinity and the scores of the units strictly
    beyond ``v`` go to exactly 1 (treated side) or 0 (control side), while the fit of the
    other units converges (the extended MLE; Albert & Anderson 1984).  A dummy of a
    category holding one arm only (a village where every respondent was harmed) is the
    common case.  Removing those units can make further covariates quasi-separate the
    rest, so this repeats until none does: O(n p) a round.

    Returns the mask of those units and the indices of the covariates that set them.

    >>> X = np.array([[1, 0], [1, 0], [0, 1], [0, 0], [0, 0], [0, 1]], float)
    >>> mask, cols = single_arm_units(X, np.array([1, 1, 0, 1, 0, 1]))
    >>> mask.tolist(), cols
    ([True, True, False, False, False, False], [0])
    """
    alone = np.zeros(len(t), dtype=bool)
    used: list[int] = []
    while True:
        live = np.flatnonzero(~alone)
        Xl, tl = X[live], t[live]
        if not len(live) or tl.min() == tl.max():
            break
        min_t, max_t, min_c, max_c = _ranges(Xl, tl)
        if np.any((max_t < min_c) | (max_c < min_t)):
            alone[live] = True                 # the rest is separated: no overlap left
            used.extend(int(j) for j in np.flatnonzero((max_t < min_c) | (max_c < min_t))
                        if j not in used)
            break
        new = np.zeros(len(live), dtype=bool)
        for j in np.flatnonzero((max_t == min_c) | (max_c == min_t)):
            value = max_t[j] if max_t[j] == min_c[j] else max_c[j]
            beyond = Xl[:, j] != value
            if beyond.any():
                new |= beyond
                if j not in used:
                    used.append(int(j))
        if not new.any():
            break
        alone[live[new]] = True
    return alone, sorted(used)


def positivity(scores: np.ndarray, t: np.ndarray, bound: float = POSITIVITY_BOUND,
               warn: bool = True, advice: str = WEIGHTING_ADVICE,
               stacklevel: int = 3, bounded: bool = False) -> dict[str, Any]:
    """Range of the scores; raise if the arms do not overlap, warn when outside the bound.

    A treated unit with a score of exactly 0 (or a control with 1) has an infinite
    inverse weight: an :class:`OverlapError`, unless ``bounded`` (the caller clips or
    trims the scores, which bounds that weight), when it is a warning with the count
    (``n_degenerate`` in the diagnosis).

    Returns the diagnosis: the score range overall and by arm, the count and
    share of scores outside ``[bound, 1 - bound]`` and ``status``
    (``"complete"`` or ``"weak"``).

    >>> import numpy as np
    >>> d = positivity(np.array([0.2, 0.5, 0.6, 0.7]), np.array([0, 1, 0, 1]))
    >>> d["n_outside_bounds"], d["propensity_min"], d["status"]
    (0, 0.2, 'complete')
    """
    if not np.all(np.isfinite(scores)):
        raise EstimationError("the propensity model returned non-finite scores")
    on = t == 1
    s1, s0 = scores[on], scores[~on]
    min1, max1, min0, max0 = s1.min(), s1.max(), s0.min(), s0.max()
    # disjoint (or merely touching) ranges: no overlap; a constant score (no covariates)
    # is the opposite, complete overlap
    if min(min1, min0) < max(max1, max0) and (min1 >= max0 or min0 >= max1):
        raise OverlapError(
            f"no overlap: treated propensity scores span [{min1:.4g}, {max1:.4g}] and "
            f"control scores [{min0:.4g}, {max0:.4g}]; the covariates separate the "
            "arms, so the effect cannot be estimated without extrapolation")
    bad = int((on & (scores <= 0)).sum() + (~on & (scores >= 1)).sum()) if (
        min1 <= 0 or max0 >= 1) else 0
    if bad and not bounded:
        raise OverlapError(
            f"{bad} unit(s) have a propensity score of exactly 0 (treated) or 1 (control): "
            f"there is no overlap there; {advice}")
    if bad and warn:
        warnings.warn(
            f"positivity: {bad} unit(s) have a propensity score of exactly 0 (treated) or 1 "
            "(control), so no unit of the other arm is like them; their scores are clipped "
            "or trimmed as asked", UserWarning, stacklevel=stacklevel)
    lowest, highest = min(min1, min0), max(max1, max0)
    n_out = (int(((scores < bound) | (scores > 1 - bound)).sum())
             if lowest < bound or highest > 1 - bound else 0)
    diag = {"propensity_min": float(lowest), "propensity_max": float(highest),
            "propensity_min_treated": float(min1), "propensity_max_control": float(max0),
            "n_outside_bounds": n_out, "share_outside_bounds": n_out / len(scores),
            "bound": bound, "status": "weak" if n_out else "complete", "n_degenerate": bad}
    if n_out and warn:
        warnings.warn(
            f"positivity: {n_out} of {len(scores)} propensity scores ({100 * n_out / len(scores):.2f}%) "
            f"lie outside [{bound}, {1 - bound}] (min {lowest:.3g}, max {highest:.3g}); "
            f"estimates may be unstable; {advice}", UserWarning, stacklevel=stacklevel)
    return diag


def separating_covariates(beta: np.ndarray, names: Sequence[str], share: float = 0.1) -> str:
    """The covariates a diverging logistic fit loads on, for the "no overlap" message:
    each whose standardized coefficient holds at least ``share`` of the total absolute
    weight, largest first, with its share (``beta`` includes the intercept).

    >>> separating_covariates(np.array([0.3, 60.0, -40.0, 1.0]), ["a", "b", "c"])
    "'a' (59%), 'b' (40%)"
    """
    slopes = np.abs(np.asarray(beta, float)[1:])
    weights = slopes / slopes.sum() if slopes.sum() > 0 else slopes
    order = [j for j in np.argsort(-weights) if weights[j] >= share]
    return ", ".join(f"{names[j]!r} ({100 * weights[j]:.0f}%)" for j in order)


def _name_separation(err: OverlapError, beta: np.ndarray, names: Sequence[str] | None
                     ) -> OverlapError:
    if not names:
        return err
    return OverlapError(f"{err}; the separating combination (the direction in which the "
                        "logistic fit diverges, share of its standardized coefficients) "
                        f"loads on {separating_covariates(beta, names)}")


def converged_logistic(design: Design, t: np.ndarray, names: Sequence[str] | None = None,
                       sample_weight: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The logistic MLE on ``design`` by :func:`~causalkit.logistic.fit_logistic` and its
    linear index ``Z @ beta``; a fit that diverges because the arms separate is an
    :class:`OverlapError` ("no overlap"), any other failure an :class:`EstimationError`.

    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [1.5]])
    >>> beta, index = converged_logistic(StandardizedDesign(X), np.array([0, 1, 0, 1, 0]))
    >>> bool(np.allclose(index, StandardizedDesign(X).dot(beta)))
    True
    """
    beta, converged = fit_logistic(design, t, sample_weight=sample_weight)
    index = design.dot(beta)
    scores = expit(index)
    # a fit that stalled short of the tolerance is still accepted at a zero mean score,
    # unless its coefficients run off (separation drives the mean score to zero too)
    stalled_at_optimum = (np.all(np.abs(mean_score(design, t, scores, sample_weight)) < 1e-6)
                          and float(np.max(np.abs(beta))) < DIVERGENT_COEFFICIENT)
    if not converged and not stalled_at_optimum:
        try:                                # diverging under separation: name it "no overlap"
            positivity(scores, t, warn=False)
        except OverlapError as err:
            raise _name_separation(err, beta, names) from None
        if float(np.max(np.abs(beta))) < DIVERGENT_COEFFICIENT:
            raise EstimationError("the logistic propensity model did not converge "
                                  "(near-separation?); pass propensity_model=")
        _warn_quasi_separation(scores, beta, names)
    return beta, index


def _warn_quasi_separation(scores: np.ndarray, beta: np.ndarray,
                           names: Sequence[str] | None) -> None:
    """Quasi-separation: the arms overlap, but some units' scores run to 0 or 1 (a level
    of a covariate with units of one arm only).  The MLE does not exist; as R's ``glm``,
    the fit stops at an iterate whose scores for those units are numerically 0 or 1,
    and says so (the positivity warning and the estimator's trim / clip handle them)."""
    extreme = int(((scores < 1e-8) | (scores > 1 - 1e-8)).sum())
    where = f", along {separating_covariates(beta, names)}" if names else ""
    warnings.warn(f"quasi-separation: the logistic propensity model diverges{where}; "
                  f"{extreme} unit(s) have fitted scores numerically 0 or 1 (no unit of the "
                  "other arm is like them); their weights are clipped or trimmed as the "
                  "estimator's options say", UserWarning, stacklevel=4)


def independent_columns(X: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Indices of a maximal set of linearly independent columns of ``X`` (with an
    intercept), by a pivoted QR of the standardized Gram matrix: O(n p^2) once.

    The propensity scores depend only on the span of the columns, so the overlap
    check fits them on these and never fails on collinear covariates (whether the
    estimator itself accepts collinear covariates is its own business).

    >>> X = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 1.0], [3.0, 6.0, 0.0], [4.0, 8.0, 1.0]])
    >>> independent_columns(X).tolist()
    [0, 2]
    """
    gram = StandardizedDesign(X).gram(np.ones(len(X)))[1:, 1:] / len(X)
    _, r, pivot = qr(gram, pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > tol * max(float(diag[0]), 1.0)).sum()) if len(diag) else 0
    return np.sort(pivot[:rank])


def check_overlap(X: np.ndarray, t: np.ndarray, names: Sequence[str],
                  warn: bool = True, stacklevel: int = 4) -> dict[str, Any]:
    """The positivity diagnosis for an estimator that fits no propensity model itself.

    No covariates: complete overlap (the adjustment set is empty, the estimate a
    difference in means).  Otherwise a covariate that separates the arms is an
    :class:`OverlapError` naming it.  Units that quasi-separating covariates put where
    only one arm occurs (:func:`single_arm_units`; e.g. the dummies of categories with
    one arm only) get their limiting score, exactly 0 or 1; the default logistic
    propensity model is fitted to the other units (on linearly independent columns),
    unpenalized, or ridge-penalized when its information matrix is singular without
    separation (more columns than the units can support), which the diagnosis says.
    The scores go through :func:`positivity`: disjoint treated and control score ranges
    (or a diverging fit, the symptom of separation by a combination of covariates) are
    an :class:`OverlapError`, scores outside ``[0.01, 0.99]`` a warning with their
    count, share, minimum and maximum.  A fit that does not converge without separating
    the arms (quasi-separation by a combination) is diagnosed from its last iterate.
    Returns the diagnosis (``positivity``'s keys plus ``model``, ``n_single_arm`` and
    ``single_arm_covariates``).

    >>> check_overlap(np.empty((5, 0)), np.array([0, 1, 0, 1, 1]), [])["status"]
    'complete'
    """
    if X.shape[1] == 0:
        share = float(np.mean(t))
        return {"status": "complete", "model": "none: no covariates, the propensity score "
                "is the constant treated share", "propensity_min": share,
                "propensity_max": share, "n_outside_bounds": 0, "share_outside_bounds": 0.0,
                "bound": POSITIVITY_BOUND, "n_single_arm": 0, "single_arm_covariates": []}
    touching = check_separation(X, t, names, stacklevel=stacklevel)
    alone, setting = (single_arm_units(X, t) if touching
                      else (np.zeros(len(t), dtype=bool), []))
    rest = ~alone
    setters = [names[j] for j in setting]
    if not rest.any() or t[rest].min() == t[rest].max():
        raise OverlapError(
            f"no overlap: the covariates {', '.join(map(repr, setters[:10]))}"
            f"{' and more' if len(setters) > 10 else ''} leave no units where both arms "
            "occur (each quasi-separates the arms or separates the units the others leave, "
            "and together they separate them); the effect is not identified without "
            "extrapolation")
    scores = t.astype(float)                 # the single-arm units: their limit, 0 or 1
    columns = independent_columns(X[rest])
    design = StandardizedDesign(X[rest][:, columns])
    model = _CHECK_MODEL
    try:
        beta, converged = fit_logistic(design, t[rest].astype(float))
    except SingularInformationError:    # singular without separation: too many columns
        beta, converged = fit_logistic(design, t[rest].astype(float), ridge=CHECK_RIDGE)
        model = (f"logistic regression (ridge-penalized, lambda={CHECK_RIDGE:g} on "
                 "standardized covariates: the unpenalized information matrix is singular "
                 f"with {len(columns)} columns for {int(rest.sum())} units), fitted for the "
                 "check")
    scores[rest] = expit(design.dot(beta))
    diverged = not converged or float(np.max(np.abs(beta))) >= DIVERGENT_COEFFICIENT
    try:   # the score ranges are disjoint when a combination of covariates separates the arms
        diag = positivity(scores, t, warn=warn, advice=OUTCOME_ADVICE, stacklevel=stacklevel)
    except OverlapError as err:
        raise _name_separation(err, beta, [names[j] for j in columns]) from None
    if alone.any():
        model += (f"; {int(alone.sum())} units lie where only one arm occurs (beyond the "
                  f"single shared value of {len(setters)} quasi-separating covariates) and "
                  "get their limiting score, 0 or 1")
    diag["model"] = model + (" (did not converge: quasi-separation)" if diverged else "")
    diag["n_single_arm"] = int(alone.sum())
    diag["single_arm_covariates"] = setters
    return diag


def arm_overlap(scores: np.ndarray, codes: np.ndarray, labels: Sequence[Any],
                bound: float = POSITIVITY_BOUND, warn: bool = True,
                stacklevel: int = 4) -> "pd.DataFrame":
    """Positivity per arm of a multi-valued treatment: :func:`positivity` of each arm's
    score ``P(T = k | X)`` (column ``k`` of ``scores``) against the indicator of that arm.

    An arm whose units and the other units have disjoint score ranges is an
    :class:`OverlapError` naming the arm; scores outside ``[bound, 1 - bound]`` a
    warning naming it.  Returns one row per arm: the score range among the arm's
    units and among the others, and the count and share outside the bound.

    >>> s = np.array([[0.3, 0.3, 0.4], [0.5, 0.4, 0.1], [0.2, 0.5, 0.3], [0.4, 0.2, 0.4]])
    >>> arm_overlap(s, np.array([0, 1, 2, 0]), ["a", "b", "c"])["status"].tolist()
    ['complete', 'complete', 'complete']
    """
    import pandas as pd

    rows = []
    for k, label in enumerate(labels):
        on = codes == k
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                diag = positivity(scores[:, k], on.astype(int), bound=bound, warn=warn)
        except OverlapError as err:
            raise OverlapError(f"arm {label!r} of the treatment: {err}") from None
        for w in caught:
            warnings.warn(f"arm {label!r} of the treatment: {w.message}", UserWarning,
                          stacklevel=stacklevel)
        s_arm, s_rest = scores[on, k], scores[~on, k]
        rows.append({"arm": label, "n": int(on.sum()), "score_min_arm": float(s_arm.min()),
                     "score_max_arm": float(s_arm.max()),
                     "score_min_others": float(s_rest.min()),
                     "score_max_others": float(s_rest.max()),
                     "n_outside_bounds": diag["n_outside_bounds"],
                     "share_outside_bounds": diag["share_outside_bounds"],
                     "status": diag["status"]})
    return pd.DataFrame(rows).set_index("arm")


def check_arm_separation(X: np.ndarray, codes: np.ndarray, labels: Sequence[Any],
                         names: Sequence[str], stacklevel: int = 4) -> None:
    """:func:`check_separation` of each arm against the other units, naming the arm.

    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [2.5]])
    >>> try:
    ...     check_arm_separation(X, np.array([0, 0, 1, 1, 0, 1]), ["low", "high"], ["x"])
    ... except OverlapError as err:
    ...     print(str(err)[:43])
    arm 'low' of the treatment: covariate 'x' p
    """
    if X.shape[1] == 0:
        return
    for k, label in enumerate(labels):
        try:
            check_separation(X, (codes == k).astype(int), names, stacklevel=stacklevel + 1)
        except OverlapError as err:
            raise OverlapError(f"arm {label!r} of the treatment: {err}") from None


__all__ = ["OUTCOME_ADVICE", "arm_overlap", "check_arm_separation",
           "POSITIVITY_BOUND", "WEIGHTING_ADVICE", "check_overlap",
           "check_separation", "converged_logistic", "independent_columns", "positivity",
           "separating_covariates"]
