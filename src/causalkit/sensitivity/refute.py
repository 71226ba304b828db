"""Refuters: re-run the same method with the same options on modified data.

Each refuter is a test whose null hypothesis is that the analysis passes the
check; a small p-value flags a problem (or, for the placebo, says the effect
is distinguishable from a placebo's).  Every refit is the effect's recorded
call (:attr:`causalkit.Effect.call`) on the modified data, so the whole
pipeline, the propensity model included, is refitted (unlike DoWhy's placebo
refuter, which reused stale propensity scores, dowhy#1728).

=====================  ============================================  ==============================
kind                   modification (B refits)                       p-value
=====================  ============================================  ==============================
placebo                treatment permuted                            is θ a draw from the refits?
random_common_cause    an independent N(0, 1) covariate added        (prediction t test, below)
subset                 a random ``subset_fraction`` of the rows
bootstrap              rows resampled with replacement
dummy_outcome          outcome replaced by fitted(Y ~ X) + permuted  Wald test of mean(θ*) = 0
                       residuals: no treatment effect by design      with the refits' RMS SE
negative_control       a user column as outcome (negative-control    the refit's own Wald p-value
                       outcome) or as treatment (negative-control    (its effect should be 0)
                       exposure); one refit
=====================  ============================================  ==============================

The prediction t test asks whether the original estimate θ could be one more
draw from the refits' distribution: ``(θ - mean θ*) / (sd θ* sqrt(1 + 1/B))``
on ``t(B - 1)``, exact for normal exchangeable draws (the placebo when the
effect is null) and conservative when θ is more central than a draw (the
stability refuters, whose refits scatter around θ).  For the placebo a small
p-value says the effect stands out from the placebo's; for the others it flags
instability.  The permutation p-value of the placebo, ``(1 + #{|θ*| >= |θ|}) /
(B + 1)``, exact for any B, is in ``details["permutation_p"]``.

Example
-------
>>> import causalkit
>>> from causalkit.datasets import linear_confounding
>>> df = linear_confounding(300, n_covariates=2, seed=1).data      # true effect 1
>>> eff = causalkit.estimate(df, "t", "y", method="regression_adjustment",
...                          covariates=["x1", "x2"])
>>> res = causalkit.refute(eff, df, kind="placebo", n_refits=19)
>>> res.details["permutation_p"]         # no permuted treatment does as well as the real one
0.05
>>> bool(res.p_value < 0.001)
True
>>> list(res.table.columns)[:4]
['kind', 'original', 'expected', 'mean_refit']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import CausalKitError, OptionError
from ..validation import as_dataframe, require_columns
from ._common import call_of, refit

KINDS = ("placebo", "random_common_cause", "subset", "bootstrap", "dummy_outcome",
         "negative_control")


@dataclass(frozen=True)
class RefuteResult:
    """One refuter's outcome: the refitted estimates and the p-value computed from them."""

    kind: str
    original: float
    estimates: np.ndarray
    p_value: float
    expected: float | None
    test: str
    n_failed: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """One tidy row: kind, original, expected, mean/sd of the refits, p-value, test."""
        est = self.estimates[np.isfinite(self.estimates)]
        return pd.DataFrame([{
            "kind": self.kind, "original": self.original, "expected": self.expected,
            "mean_refit": float(est.mean()) if len(est) else math.nan,
            "sd_refit": float(est.std(ddof=1)) if len(est) > 1 else math.nan,
            "n_refits": int(len(est)), "n_failed": self.n_failed, "p_value": self.p_value,
            "test": self.test}])

    def summary_line(self) -> str:
        """One line for :meth:`causalkit.Effect.summary`."""
        return f"refuter {self.kind}: p = {self.p_value:.3g} ({self.test})"

    def plot(self, ax: Any = None) -> Any:
        """The refitted estimates' histogram with the original estimate marked."""
        from .plots import refuter_distribution

        return refuter_distribution(self, ax=ax)


@dataclass(frozen=True)
class Refutation:
    """Several refuters: ``results`` by kind and their tidy ``table``."""

    results: dict[str, RefuteResult]

    @property
    def table(self) -> pd.DataFrame:
        return pd.concat([r.table for r in self.results.values()], ignore_index=True)

    def __getitem__(self, kind: str) -> RefuteResult:
        return self.results[kind]


# ---------------------------------------------------------------- p-values
def permutation_p(original: float, estimates: np.ndarray) -> float:
    """``(1 + #{|θ*| >= |θ|}) / (B + 1)``: exact level under exchangeable null refits.

    >>> permutation_p(2.0, np.array([0.1, -3.0, 0.5]))
    0.5
    """
    return float((1 + np.sum(np.abs(estimates) >= abs(original))) / (len(estimates) + 1))


def prediction_p(original: float, estimates: np.ndarray) -> float:
    """Two-sided prediction t test that ``original`` is one more draw of the refits.

    ``(θ - mean) / (sd sqrt(1 + 1/B))`` on ``t(B - 1)``; NaN with fewer than 2 refits.

    >>> round(prediction_p(0.0, np.array([-1.0, 1.0])), 6)
    1.0
    """
    b = len(estimates)
    if b < 2:
        return math.nan
    sd = float(estimates.std(ddof=1))
    gap = abs(original - float(estimates.mean()))
    if sd == 0:
        return 1.0 if gap == 0 else 0.0
    return float(2 * stats.t.sf(gap / (sd * math.sqrt(1 + 1 / b)), b - 1))


def mean_zero_p(estimates: np.ndarray, std_errors: np.ndarray) -> float:
    """Wald test that the refits' mean effect is 0, with their root-mean-square SE.

    The refits share the data, so their mean keeps the data's sampling error;
    that error's SE is at most the estimator's, hence the RMS SE (conservative).
    """
    if not len(estimates):
        return math.nan
    se = math.sqrt(float(np.mean(np.square(std_errors))))
    if not se > 0:
        return math.nan
    return float(2 * stats.norm.sf(abs(float(estimates.mean())) / se))


# ---------------------------------------------------------------- modifications
def _run(effect: Any, frames: Any, with_se: bool = False) -> Any:
    values, ses, failed = [], [], 0
    for frame, extra in frames:
        try:
            res = refit(effect, frame, **extra)
        except CausalKitError:
            failed += 1
            continue
        values.append(float(res.estimate))
        ses.append(float(res.std_error))
    if with_se:
        return np.asarray(values, float), np.asarray(ses, float), failed
    return np.asarray(values, float), failed


def _placebo(effect: Any, data: pd.DataFrame, rng: np.random.Generator, b: int,
             **_: Any) -> RefuteResult:
    t = effect.call["treatment"]
    frames = ((data.assign(**{t: rng.permutation(data[t].to_numpy())}), {}) for _ in range(b))
    est, failed = _run(effect, frames)
    return RefuteResult("placebo", effect.estimate, est, prediction_p(effect.estimate, est),
                        0.0, "prediction t test of the original among permuted-treatment "
                        "refits", failed, {"permutation_p": permutation_p(effect.estimate, est)})


def _random_common_cause(effect: Any, data: pd.DataFrame, rng: np.random.Generator, b: int,
                         **_: Any) -> RefuteResult:
    name = "_random_common_cause"
    while name in data.columns:
        name = "_" + name
    covs = list(effect.call.get("covariates") or ())
    frames = ((data.assign(**{name: rng.normal(size=len(data))}), {"covariates": covs + [name]})
              for _ in range(b))
    est, failed = _run(effect, frames)
    return RefuteResult("random_common_cause", effect.estimate, est,
                        prediction_p(effect.estimate, est), effect.estimate,
                        "prediction t test of the original among refits with a random covariate", failed)


def _subset(effect: Any, data: pd.DataFrame, rng: np.random.Generator, b: int,
            subset_fraction: float = 0.8, **_: Any) -> RefuteResult:
    if not 0 < subset_fraction < 1:
        raise OptionError(f"subset_fraction must lie in (0, 1), got {subset_fraction!r}")
    m = max(2, int(round(subset_fraction * len(data))))
    frames = ((data.iloc[np.sort(rng.choice(len(data), m, replace=False))], {})
              for _ in range(b))
    est, failed = _run(effect, frames)
    return RefuteResult("subset", effect.estimate, est, prediction_p(effect.estimate, est),
                        effect.estimate, "prediction t test of the original among "
                        f"{subset_fraction:g} subsets", failed, {"subset_fraction": subset_fraction})


def _bootstrap(effect: Any, data: pd.DataFrame, rng: np.random.Generator, b: int,
               **_: Any) -> RefuteResult:
    frames = ((data.iloc[rng.integers(0, len(data), len(data))].reset_index(drop=True), {})
              for _ in range(b))
    est, failed = _run(effect, frames)
    return RefuteResult("bootstrap", effect.estimate, est, prediction_p(effect.estimate, est),
                        effect.estimate, "prediction t test of the original among bootstrap refits", failed)


def _null_outcome_part(effect: Any, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Fitted values and residuals of the outcome on the covariates alone (no treatment)."""
    y = data[effect.call["outcome"]].to_numpy(dtype=float)
    covs = list(effect.call.get("covariates") or ())
    X = np.column_stack([np.ones(len(y))] + [data[c].to_numpy(dtype=float) for c in covs])
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    fitted = X @ coef
    return fitted, y - fitted


def _dummy_outcome(effect: Any, data: pd.DataFrame, rng: np.random.Generator, b: int,
                   **_: Any) -> RefuteResult:
    outcome = effect.call["outcome"]
    fitted, resid = _null_outcome_part(effect, data)
    frames = ((data.assign(**{outcome: fitted + rng.permutation(resid)}), {}) for _ in range(b))
    est, ses, failed = _run(effect, frames, with_se=True)
    return RefuteResult("dummy_outcome", effect.estimate, est, mean_zero_p(est, ses), 0.0,
                        "Wald test that the refits' mean is 0 (RMS refit SE)", failed)


def _negative_control(effect: Any, data: pd.DataFrame, rng: np.random.Generator, b: int,
                      negative_control_outcome: str | None = None,
                      negative_control_exposure: str | None = None, **_: Any) -> RefuteResult:
    if (negative_control_outcome is None) == (negative_control_exposure is None):
        raise OptionError("negative_control needs exactly one of negative_control_outcome= "
                          "(a column the treatment cannot affect) or "
                          "negative_control_exposure= (a column that cannot affect the outcome)")
    role, column = (("outcome", negative_control_outcome) if negative_control_outcome
                    is not None else ("treatment", negative_control_exposure))
    require_columns(data, column, role=f"negative-control {role}")
    res = refit(effect, data, **{role: column})
    return RefuteResult("negative_control", effect.estimate, np.array([res.estimate]),
                        float(res.p_value), 0.0,
                        f"Wald test of the negative-control {role} {column!r}'s effect = 0",
                        0, {"role": role, "column": column, "std_error": res.std_error})


_REFUTERS: dict[str, Callable[..., RefuteResult]] = {
    "placebo": _placebo, "random_common_cause": _random_common_cause, "subset": _subset,
    "bootstrap": _bootstrap, "dummy_outcome": _dummy_outcome,
    "negative_control": _negative_control,
}


def refute(effect: Any, data: Any, kind: str | Sequence[str] = "placebo", *,
           n_refits: int = 100, random_state: Any = 0, subset_fraction: float = 0.8,
           negative_control_outcome: str | None = None,
           negative_control_exposure: str | None = None) -> RefuteResult | Refutation:
    """Refute ``effect`` by refitting its method, with its options, on modified ``data``.

    Parameters
    ----------
    effect
        An :class:`~causalkit.Effect` that records its call.
    data
        The DataFrame it was estimated on (with any negative-control column).
    kind
        One of :data:`KINDS`, or a list of them (a :class:`Refutation` is returned,
        whose ``table`` has one row per refuter).
    n_refits
        Refits ``B`` per refuter (the negative control refits once).
    random_state
        Seed or ``numpy.random.Generator`` for the permutations and draws.
    subset_fraction
        Share of the rows each ``subset`` refit keeps.
    negative_control_outcome, negative_control_exposure
        For ``negative_control``: the column used as outcome, or as treatment.
    """
    call_of(effect)
    frame = as_dataframe(data)
    kinds = [kind] if isinstance(kind, str) else list(kind)
    unknown = [k for k in kinds if k not in _REFUTERS]
    if unknown or not kinds:
        raise OptionError(f"unknown refuter(s) {unknown or kinds}; choose from {', '.join(KINDS)}")
    if int(n_refits) != n_refits or n_refits < 1:
        raise OptionError(f"n_refits must be a positive integer, got {n_refits!r}")
    rng = np.random.default_rng(random_state)
    results = {}
    for k in kinds:
        result = _REFUTERS[k](effect, frame, rng, int(n_refits), subset_fraction=subset_fraction,
                              negative_control_outcome=negative_control_outcome,
                              negative_control_exposure=negative_control_exposure)
        if k != "negative_control" and not len(result.estimates):
            raise CausalKitError(f"refuter {k!r}: every refit failed ({result.n_failed})")
        results[k] = result
    return results[kinds[0]] if isinstance(kind, str) else Refutation(results)
