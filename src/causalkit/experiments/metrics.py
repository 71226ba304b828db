"""Metric definitions and the two-arm comparison engine (Welch, z, delta method, CUPED).

A metric is a smooth function of an arm's mean vector: a mean ``E[y]``, a
proportion (a mean of 0/1), or a ratio ``E[num] / E[den]`` per unit (clicks per
session: sum of clicks over sum of sessions, with the delta-method variance of
Deng et al. 2018).  :func:`compare` takes the :class:`~.stats.Moments` of a
treatment and a control arm (with any leading batch dimensions) and returns
the absolute and relative lift with their inference:

* means: Welch t test (Student's t with Welch–Satterthwaite df);
* proportions: two-proportion z test with the pooled null variance
  (``pooled=False``: the unpooled Wald z test), and an unpooled (Wald)
  interval (with CUPED, the z test uses the unpooled adjusted variance: the
  pooled null variance of the raw proportions no longer applies);
* ratios: z test with delta-method variances;
* relative lift ``treatment / control - 1`` (:mod:`.relative`): by default the
  interval that inverts the row's own test (Fieller's; for the pooled
  proportion test its score analogue), so it excludes 0 exactly when
  ``p < alpha``; or the delta-method interval (``relative_ci="delta"``).  Both
  use the row's reference distribution (t with the row's df, or z);
* CUPED (Deng, Xu, Kohavi & Walker 2013): with a pre-period covariate the
  metric is ``f - theta * (h - h_pooled)`` with ``theta`` the pooled regression
  slope of the metric's linearization on the covariate's, also for ratios.

**CUPED and the relative lift (joint delta method).**  Write ``m_t``, ``m_c``
for the arms' mean vectors, ``w_t = n_t / N`` and ``w_c = n_c / N``; the pooled
covariate is ``h(m_p)`` with ``m_p = w_t m_t + w_c m_c``.  The adjusted means

    Y_t = f(m_t) - theta (h(m_t) - h(m_p)),   Y_c = f(m_c) - theta (h(m_c) - h(m_p))

*both* depend on both arms through ``h(m_p)``.  Their gradients are
``dY_t/dm_t = g_t - theta gh_t + theta w_t gh_p``, ``dY_t/dm_c = theta w_c gh_p``,
``dY_c/dm_c = g_c - theta gh_c + theta w_c gh_p``, ``dY_c/dm_t = theta w_t gh_p``
(``g`` the gradient of ``f``, ``gh`` of ``h``, ``gh_p`` of ``h`` at ``m_p``), and with
``S_a = Cov(m_a)`` (the arm's covariance over ``n_a``) and independent arms

    Var Y_t = sum_a (dY_t/dm_a)' S_a (dY_t/dm_a),   Cov(Y_t, Y_c) = sum_a (dY_t/dm_a)' S_a (dY_c/dm_a).

For a mean metric ``Y_t = ybar_t - theta w_c D`` and ``Y_c = ybar_c + theta w_t D``
with ``D = xbar_t - xbar_c``: both contain the covariate imbalance, so the
adjusted control mean carries the treatment arm's covariate noise.  With
``rho = Y_t / Y_c``, ``Y_t - rho Y_c = (ybar_t - rho ybar_c) - k D`` with
``k = theta (w_c + rho w_t)``, so the relative lift's variance is
``[Var(ybar_t - k xbar_t) + Var(rho ybar_c - k xbar_c)] / Y_c^2``; treating the
adjusted means as independent uses ``theta`` and ``rho theta`` in place of ``k``,
which agrees only at ``rho = 1``: with a strong covariate and a large lift
the interval covered 85% instead of 95% (tests/test_experiments_relative.py).
In the difference ``Y_t - Y_c`` the ``h(m_p)`` terms cancel, so the absolute
lift's variance is unchanged.  The estimated ``theta`` enters only at second order:
``dY_t/dtheta = -(h(m_t) - h(m_p))`` and ``dY_c/dtheta = -(h(m_c) - h(m_p))`` are
O(n^-1/2) with mean zero under randomization, and ``theta_hat - theta`` is
O(n^-1/2), so their product is O(1/n), below the delta method's first order.

**A statistic that cannot be computed is never a p-value.**  A standard error
that is NaN, infinite, or zero (with any difference) makes the row's
statistic, p-value and intervals NaN, and ``Comparison.note`` says why; so do a
"proportion" outside [0, 1] and a zero control mean (for the relative lift).

Example
-------
>>> import numpy as np
>>> from causalkit.experiments.stats import Moments
>>> a = Moments.from_rows(np.array([12.1, 9.8, 11.4, 10.2, 13.5, 9.1, 10.8, 12.7]))
>>> b = Moments.from_rows(np.array([13.2, 14.1, 11.9, 15.3, 12.8, 14.6, 13.0, 16.2, 12.4, 14.9]))
>>> r = compare(b, a, Metric("y"))
>>> round(float(r.statistic), 4), round(float(r.df), 3)
(3.8154, 14.555)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from ..inference import check_alpha, critical_values, p_values, welch_dfs
from .relative import METHODS as RELATIVE_CIS
from .relative import relative_lift, score_interval
from .stats import Moments

KINDS = ("auto", "mean", "proportion", "ratio")
DIRECTIONS = ("higher", "lower")
MARGIN_KINDS = ("absolute", "relative")


@dataclass(frozen=True)
class Metric:
    """What to measure.

    Parameters
    ----------
    name
        Label in the result table; also the column of a mean/proportion metric.
    kind
        ``"mean"``, ``"proportion"``, ``"ratio"`` or ``"auto"`` (proportion when
        the column is 0/1, ratio when ``denominator`` is given, else mean).
    column
        Outcome column (defaults to ``name``); the numerator of a ratio.
    denominator
        Denominator column of a ratio metric (e.g. sessions per user).
    covariate
        Pre-period column for CUPED; for a ratio, ``covariate_denominator`` too.
    margin
        Non-inferiority margin: the largest loss that is still acceptable, as
        a non-negative number on the difference scale (``margin_kind=
        "absolute"``) or as a fraction of the control (``"relative"``: 0.02 is
        a 2% loss).  Adds the one-sided test of :mod:`.noninferiority`.
    direction
        ``"higher"`` (default) or ``"lower"`` is better (latency, churn, errors).
    guardrail
        A metric that must not get worse, rather than one the change is meant
        to move; see :meth:`~.analyze.ExperimentResult.decision`.

    Examples
    --------
    >>> Metric("ctr", column="clicks", denominator="sessions").columns
    ('clicks', 'sessions')
    """

    name: str
    kind: str = "auto"
    column: str | None = None
    denominator: str | None = None
    covariate: str | None = None
    covariate_denominator: str | None = None
    margin: float | None = None
    margin_kind: str = "absolute"
    direction: str = "higher"
    guardrail: bool = False

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise OptionError(f"metric {self.name!r}: direction must be one of {DIRECTIONS} "
                              f"(which is better), got {self.direction!r}")
        if self.margin_kind not in MARGIN_KINDS:
            raise OptionError(f"metric {self.name!r}: margin_kind must be one of {MARGIN_KINDS}, "
                              f"got {self.margin_kind!r}")
        if self.margin is not None:
            if isinstance(self.margin, bool) or not isinstance(self.margin, (int, float)) \
                    or not np.isfinite(self.margin) or self.margin < 0:
                raise OptionError(f"metric {self.name!r}: margin must be a finite number >= 0 "
                                  f"(the acceptable loss), got {self.margin!r}")
            if self.margin_kind == "relative" and self.direction == "higher" and self.margin >= 1:
                raise OptionError(f"metric {self.name!r}: a relative margin for a higher-is-better "
                                  f"metric must be below 1 (a 100% loss), got {self.margin!r}")
        if not isinstance(self.guardrail, (bool, np.bool_)):
            raise OptionError(f"metric {self.name!r}: guardrail must be True or False")
        if self.kind not in KINDS:
            raise OptionError(f"metric {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "ratio" and self.denominator is None:
            raise OptionError(f"ratio metric {self.name!r} needs a denominator column")
        if self.denominator is not None and self.covariate is not None \
                and self.covariate_denominator is None:
            raise OptionError(f"ratio metric {self.name!r}: CUPED needs covariate_denominator too")

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def columns(self) -> tuple[str, ...]:
        """The per-unit columns the metric's moments are computed from, in order."""
        main = (self.column or self.name,) + ((self.denominator,) if self.is_ratio else ())
        if self.covariate is None:
            return main  # type: ignore[return-value]
        cov = (self.covariate,) + ((self.covariate_denominator,) if self.is_ratio else ())
        return main + cov  # type: ignore[return-value]


@dataclass(frozen=True)
class Comparison:
    """Treatment-vs-control result arrays (all with the batch shape of the inputs).

    ``var_treatment`` and ``var_control`` are each arm's contribution to the
    variance of the difference; ``var_relative`` holds the joint covariance
    ``(Var Y_t, Var Y_c, Cov(Y_t, Y_c))`` of the two (adjusted) estimates that
    the relative interval uses.  ``note`` is ``""`` or why a quantity is NaN.
    """

    control: np.ndarray
    treatment: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    df: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    relative: np.ndarray
    relative_se: np.ndarray
    relative_ci_low: np.ndarray
    relative_ci_high: np.ndarray
    var_treatment: np.ndarray
    var_control: np.ndarray
    note: np.ndarray
    var_relative: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    theta: np.ndarray | None = None
    variance_reduction: np.ndarray | None = None


def _value_and_gradient(mean: np.ndarray, start: int, ratio: bool, k: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Value of a mean/ratio functional of ``mean[start:]`` and its gradient in all k variables."""
    grad = np.zeros(mean.shape[:-1] + (k,))
    if ratio:
        num, den = mean[..., start], mean[..., start + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            grad[..., start] = 1.0 / den
            grad[..., start + 1] = -num / den ** 2
            return num / den, grad
    grad[..., start] = 1.0
    return mean[..., start].copy(), grad


def _quad(g: np.ndarray, cov: np.ndarray, h: np.ndarray | None = None) -> np.ndarray:
    return np.einsum("...j,...jl,...l->...", g, cov, g if h is None else h)


def _adjusted_gradients(treatment: Moments, control: Moments, metric: Metric, ddof: int
                        ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...],
                                   np.ndarray | None, np.ndarray | None]:
    """Both arms' (CUPED-adjusted) estimates and the gradient of each in each arm's mean.

    Returns ``f1, f0, (G11, G10, G01, G00), theta, raw variance`` where ``Gab``
    is the gradient of arm ``a``'s estimate in arm ``b``'s mean vector (1 =
    treatment, 0 = control); see the module docstring.
    """
    ratio, k = metric.is_ratio, treatment.mean.shape[-1]
    f1, g1 = _value_and_gradient(treatment.mean, 0, ratio, k)
    f0, g0 = _value_and_gradient(control.mean, 0, ratio, k)
    zero = np.zeros_like(g1)
    if metric.covariate is None:
        return f1, f0, (g1, zero, zero, g0), None, None
    p = 2 if ratio else 1
    h1, gh1 = _value_and_gradient(treatment.mean, p, ratio, k)
    h0, gh0 = _value_and_gradient(control.mean, p, ratio, k)
    pooled = treatment.merge(control)
    hbar, ghp = _value_and_gradient(pooled.mean, p, ratio, k)
    cov_fh = _quad(g1, treatment.comoment, gh1) + _quad(g0, control.comoment, gh0)
    var_h = _quad(gh1, treatment.comoment) + _quad(gh0, control.comoment)
    theta = np.divide(cov_fh, var_h, out=np.zeros_like(cov_fh), where=var_h > 0)
    raw = (_quad(g1, treatment.cov(ddof)) / treatment.n + _quad(g0, control.cov(ddof)) / control.n)
    w1 = (treatment.n / pooled.n)[..., None]
    t = theta[..., None]
    grads = (g1 - t * gh1 + t * w1 * ghp, t * (1.0 - w1) * ghp,
             t * w1 * ghp, g0 - t * gh0 + t * (1.0 - w1) * ghp)
    return f1 - theta * (h1 - hbar), f0 - theta * (h0 - hbar), grads, theta, raw


def compare(treatment: Moments, control: Moments, metric: Metric, alpha: float = 0.05,
            kind: str | None = None, relative_ci: str = "fieller", pooled: bool = True
            ) -> Comparison:
    """Compare a treatment arm with the control on ``metric`` from their moments.

    The moments hold the variables of ``metric.columns`` in order.  ``kind``
    overrides ``metric.kind`` (``"auto"`` resolves to ``"mean"`` here; the
    caller resolves proportions from the data).  ``pooled`` chooses the pooled
    (default) or unpooled variance of the two-proportion z test.
    """
    alpha = check_alpha(alpha)
    if relative_ci not in RELATIVE_CIS:
        raise OptionError(f"relative_ci must be one of {RELATIVE_CIS}, got {relative_ci!r}")
    if not isinstance(pooled, (bool, np.bool_)):
        raise OptionError(f"pooled must be True or False, got {pooled!r}")
    kind = kind or metric.kind
    kind = "mean" if kind == "auto" else kind
    cuped = metric.covariate is not None
    ddof = 0 if kind == "proportion" else 1  # p(1-p)/n for proportions, s^2/n for means
    f1, f0, (g11, g10, g01, g00), theta, raw_v = _adjusted_gradients(treatment, control, metric, ddof)
    s1 = treatment.cov(ddof) / treatment.n[..., None, None]      # covariance of each arm's means
    s0 = control.cov(ddof) / control.n[..., None, None]
    v1, v0 = _quad(g11 - g01, s1), _quad(g10 - g00, s0)         # each arm's part of Var(diff)
    var_rel = (_quad(g11, s1) + _quad(g10, s0), _quad(g01, s1) + _quad(g00, s0),
               _quad(g11, s1, g01) + _quad(g10, s0, g00))
    diff = f1 - f0
    with np.errstate(invalid="ignore"):
        se = np.sqrt(v1 + v0)
    pooled_test = kind == "proportion" and not cuped and pooled
    if pooled_test:
        p_pool = (f1 * treatment.n + f0 * control.n) / (treatment.n + control.n)
        with np.errstate(invalid="ignore"):
            se_test = np.sqrt(p_pool * (1 - p_pool) * (1 / treatment.n + 1 / control.n))
    else:
        se_test = se
    if kind == "mean" and not metric.is_ratio:   # variances as shares of their sum: scale-free
        total = np.where((v1 + v0) > 0, v1 + v0, 1.0)
        df = welch_dfs(v1 / total, treatment.n, v0 / total, control.n)
    else:
        df = np.full(np.shape(diff), np.inf)
    note = _notes(kind, treatment, control, se_test, diff)
    bad = note != ""
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.where(bad, np.nan, diff / se_test)
    pval = np.where(bad, np.nan, p_values(statistic, df))
    crit = critical_values(alpha, df)
    if pooled_test and relative_ci == "fieller":
        rel, rel_se, _, _ = relative_lift(f1, f0, *var_rel[:2], alpha, "delta", var_rel[2], df)
        rlo, rhi = score_interval(f1 * treatment.n, treatment.n, f0 * control.n, control.n, alpha)
    else:
        rel, rel_se, rlo, rhi = relative_lift(f1, f0, *var_rel[:2], alpha, relative_ci,
                                              var_rel[2], df)
    rel_note = _relative_notes(f0, rel, rlo, rhi)
    note = _join(note, np.where(bad, "", rel_note))
    rel_bad = bad | (f0 == 0)
    nan = np.full(np.shape(diff), np.nan)
    return Comparison(control=f0, treatment=f1, estimate=diff, std_error=se,
                      statistic=statistic, p_value=pval, df=df,
                      ci_low=np.where(bad, nan, diff - crit * se),
                      ci_high=np.where(bad, nan, diff + crit * se),
                      relative=np.where(f0 == 0, nan, rel), relative_se=np.where(rel_bad, nan, rel_se),
                      relative_ci_low=np.where(bad, nan, rlo),
                      relative_ci_high=np.where(bad, nan, rhi), var_treatment=v1,
                      var_control=v0, note=note, var_relative=var_rel, theta=theta,
                      variance_reduction=None if raw_v is None else 1.0 - (v1 + v0) / raw_v)


def _notes(kind: str, treatment: Moments, control: Moments, se: np.ndarray, diff: np.ndarray
           ) -> np.ndarray:
    """Why the test of a row cannot be computed (``""`` where it can), first reason first."""
    shape = np.shape(diff)
    note = np.full(shape, "", dtype=object)
    reasons = []
    if kind == "proportion":
        raw = np.stack([treatment.mean[..., 0], control.mean[..., 0]])
        reasons.append((np.any((raw < 0) | (raw > 1), axis=0),
                        "a proportion metric needs 0/1 values, but an arm's mean is outside [0, 1]"))
    reasons += [
        (~np.isfinite(diff), "the difference is not finite"),
        (~np.isfinite(se), "the standard error is not finite (a NaN or infinite variance)"),
        ((se == 0) & (diff != 0), "the standard error is 0 with a non-zero difference (no "
                                  "variation within the arms): no test is possible"),
        ((se == 0) & (diff == 0), "the standard error is 0 and the difference is 0 (both arms "
                                  "constant and equal): no test is possible")]
    for mask, text in reversed(reasons):
        note = np.where(np.broadcast_to(mask, shape), text, note)
    return note


def _relative_notes(f0: np.ndarray, rel: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Why a relative lift or its interval is NaN or unbounded (``""`` otherwise)."""
    note = np.full(np.shape(rel), "", dtype=object)
    note = np.where(np.isnan(lo) | np.isnan(hi),
                    "relative CI: the confidence set is two half-lines (the control estimate is "
                    "not significantly different from 0)", note)
    note = np.where(np.isinf(lo) & np.isinf(hi),
                    "relative CI unbounded: the control estimate is not significantly "
                    "different from 0", note)
    return np.where(f0 == 0, "the control estimate is 0: the relative lift is undefined", note)


def _join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise ``"a; b"`` of two note arrays, skipping empty notes."""
    both = (a != "") & (b != "")
    return np.where(both, a + "; " + b, np.where(a != "", a, b))
