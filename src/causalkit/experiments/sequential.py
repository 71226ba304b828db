"""Sequential testing: always-valid p-values (mSPRT) and group-sequential alpha spending.

Looking at a fixed-horizon p-value every day and stopping at the first
``p < 0.05`` inflates the false-positive rate far above 5%.  Two remedies:

* :func:`msprt` — the normal-mixture sequential probability ratio test of
  Johari, Koomen, Pekelis & Walsh (2017, "Peeking at A/B tests"): an
  always-valid p-value and a confidence sequence, valid at every look however
  often one peeks.  For an estimate ``d_n`` of the effect with variance
  ``V_n`` and a ``N(0, tau^2)`` mixture over the effect, the likelihood ratio is
  ``sqrt(V/(V + tau^2)) exp(tau^2 d^2 / (2 V (V + tau^2)))``; the p-value is the
  running minimum of ``1 / ratio``.  **Mixing variance**: ``tau^2`` sets the
  sample size at which the test is most powerful.  The default makes the
  confidence sequence narrowest at the last look given: ``tau^2 = c V_last``
  with ``c`` the root of ``c = log(1 + c) - 2 log(alpha)`` (the optimum of the
  half-width ``sqrt(V (1 + 1/c)(log(1 + c) - 2 log alpha))`` in ``c``; Howard et
  al. 2021, sec. 3.5, give the same tuning).  For live monitoring the mixing
  variance must be fixed before the data arrive: compute it from the planned
  sample size with :func:`planned_mixing_variance` and pass it as
  ``mixing_variance=`` at every look (the default, tuned on the looks passed
  in, is for retrospective analysis of a complete sequence of looks).
* :func:`group_sequential` — a pre-planned number of looks with Lan–DeMets
  (1983) alpha spending of O'Brien–Fleming or Pocock type, or the ``alpha
  t^rho`` power family (``spending="power", rho=``); returns the z
  boundary at each look, computed by recursive numerical integration of the
  Brownian-motion statistic (Armitage, McPherson & Rowe 1969; Jennison &
  Turnbull 2000, ch. 19).  :func:`classical_boundaries` gives the original
  Pocock and O'Brien–Fleming boundaries (equal looks, no spending function).

Example
-------
>>> d = group_sequential(5, spending="obrien_fleming")
>>> [round(float(b), 2) for b in d.boundaries]
[4.88, 3.36, 2.68, 2.29, 2.03]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy import optimize, stats

from ..errors import OptionError
from ..inference import check_alpha

SPENDING = ("obrien_fleming", "pocock", "power")


# ---------------------------------------------------------------------------- mSPRT
def default_mixing_factor(alpha: float) -> float:
    """``c`` solving ``c = log(1 + c) - 2 log(alpha)``: ``tau^2 = c V`` is optimal at variance V.

    >>> round(default_mixing_factor(0.05), 3)
    8.212
    """
    a = -2.0 * math.log(check_alpha(alpha))
    return float(optimize.brentq(lambda c: c - math.log1p(c) - a, a, 10 * a + 10))


def planned_mixing_variance(sd: float, n_control: float, n_treatment: float | None = None,
                            alpha: float = 0.05) -> float:
    """Mixing variance ``tau^2`` tuned to a planned horizon, fixed before monitoring starts.

    ``sd`` is the metric's standard deviation (from history); the variance of
    the difference at the horizon is ``sd^2 (1/n_control + 1/n_treatment)``.

    >>> round(planned_mixing_variance(1.0, 1000), 5)
    0.01642
    """
    n1 = n_control if n_treatment is None else n_treatment
    if sd <= 0 or n_control <= 0 or n1 <= 0:
        raise OptionError("sd and the planned sample sizes must be positive")
    return default_mixing_factor(alpha) * sd ** 2 * (1.0 / n_control + 1.0 / n1)


@dataclass(frozen=True)
class AlwaysValidResult:
    """Always-valid p-values and confidence sequence at every look (last axis)."""

    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    mixing_variance: np.ndarray


def msprt(estimate: Any, variance: Any, alpha: float = 0.05,
          mixing_variance: float | np.ndarray | None = None, null: float = 0.0
          ) -> AlwaysValidResult:
    """Normal-mixture SPRT: always-valid p-values and confidence sequences.

    Parameters
    ----------
    estimate, variance
        The effect estimate and its variance (squared standard error) at each
        look, along the last axis; leading axes are independent experiments.
    alpha
        Level of the confidence sequence.
    mixing_variance
        ``tau^2`` of the normal mixture over the effect; default tuned to the
        last look (see the module docstring).
    null
        Effect under the null hypothesis.

    Examples
    --------
    >>> r = msprt([0.6, 0.5, 0.4], [0.04, 0.02, 0.01])
    >>> bool(np.all(np.diff(r.p_value) <= 0)), bool(r.ci_low[-1] > 0)
    (True, True)
    """
    alpha = check_alpha(alpha)
    est = np.asarray(estimate, dtype=float)
    v = np.broadcast_to(np.asarray(variance, dtype=float), est.shape)
    if np.any(~(v > 0)):
        raise OptionError("variances of the estimate must be positive at every look")
    if mixing_variance is None:
        tau2 = default_mixing_factor(alpha) * v[..., -1:]
    else:
        tau2 = np.asarray(mixing_variance, dtype=float)
        if np.any(~(tau2 > 0)):
            raise OptionError("mixing_variance must be positive")
    tau2 = np.broadcast_to(tau2, est.shape) if tau2.ndim else np.full(est.shape, float(tau2))
    d = est - null
    log_lr = 0.5 * np.log(v / (v + tau2)) + tau2 * d ** 2 / (2 * v * (v + tau2))
    p = np.minimum.accumulate(np.minimum(1.0, np.exp(-log_lr)), axis=-1)
    half = np.sqrt(v * (v + tau2) / tau2 * (np.log((v + tau2) / v) - 2 * math.log(alpha)))
    lo = np.maximum.accumulate(est - half, axis=-1)
    hi = np.minimum.accumulate(est + half, axis=-1)
    return AlwaysValidResult(p_value=p, ci_low=lo, ci_high=hi, mixing_variance=tau2[..., -1])


# ---------------------------------------------------------------------------- alpha spending
def spending(t: Any, alpha: float = 0.025, kind: str = "obrien_fleming",
             rho: float = 2.0) -> np.ndarray:
    """Lan–DeMets cumulative alpha spent at information fraction ``t`` on one side.

    O'Brien–Fleming type ``2 - 2 Phi(z_{1-alpha/2} / sqrt t)``; Pocock type
    ``alpha log(1 + (e - 1) t)``; ``"power"``: the ``alpha t^rho`` family of
    Kim & DeMets (1987) used by Spotify's group-sequential tests (``rho = 1``
    is close to Pocock, ``rho = 3`` to O'Brien–Fleming).  ``alpha`` is the one-sided level: a
    two-sided design at level 0.05 spends ``spending(t, 0.025)`` on each side,
    the convention of gsDesign, rpact and EAST.

    >>> round(float(spending(1.0, 0.025)), 6), round(float(spending(0.5, 0.025, "pocock")), 5)
    (0.025, 0.0155)
    """
    alpha = check_alpha(alpha)
    t = np.asarray(t, dtype=float)
    if kind == "obrien_fleming":
        with np.errstate(divide="ignore"):
            return np.where(t > 0, 2 * stats.norm.sf(stats.norm.isf(alpha / 2) / np.sqrt(t)), 0.0)
    if kind == "pocock":
        return alpha * np.log1p((math.e - 1) * t)
    if kind == "power":
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not rho > 0:
            raise OptionError(f"rho of the alpha * t^rho spending must be positive, got {rho!r}")
        return alpha * np.clip(t, 0.0, None) ** rho
    raise OptionError(f"spending must be one of {SPENDING}, got {kind!r}")


@dataclass(frozen=True)
class GroupSequentialDesign:
    """Boundaries of a group-sequential test, one per look."""

    information: np.ndarray
    boundaries: np.ndarray
    alpha_spent: np.ndarray
    nominal_p: np.ndarray
    spending: str
    alpha: float
    two_sided: bool

    def first_crossing(self, z: Sequence[float]) -> int | None:
        """Index of the first look whose z statistic crosses its boundary, or ``None``."""
        z = np.asarray(z, dtype=float)
        stat = np.abs(z) if self.two_sided else z
        hit = np.flatnonzero(stat[: len(self.boundaries)] >= self.boundaries[: len(z)])
        return int(hit[0]) if len(hit) else None

    def to_frame(self) -> Any:
        """The design as a DataFrame: look, information fraction, boundary, alpha spent."""
        import pandas as pd

        return pd.DataFrame({"look": np.arange(1, len(self.boundaries) + 1),
                             "information": self.information, "z_boundary": self.boundaries,
                             "nominal_p": self.nominal_p, "alpha_spent": self.alpha_spent})


def _simpson(a: float, b: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(a, b, 2 * n + 1)
    w = np.ones_like(x)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return x, w * (b - a) / (6 * n)


class _Continuing:
    """Sub-density of the standardized statistic on the paths that have not crossed yet.

    Propagated look by look on a Simpson grid of ``2 * grid + 1`` points
    (Armitage, McPherson & Rowe 1969; Jennison & Turnbull 2000, ch. 19).
    """

    def __init__(self, t: np.ndarray, first: float, two_sided: bool, grid: int) -> None:
        self.t, self.two_sided, self.grid = t, two_sided, grid
        self.x, self.w = _simpson(-first if two_sided else -12.0, first, grid)
        self.dens = stats.norm.pdf(self.x)

    def _scales(self, k: int) -> tuple[float, float, float]:
        r0, r1 = math.sqrt(self.t[k - 1]), math.sqrt(self.t[k])
        return r0, r1, math.sqrt(self.t[k] - self.t[k - 1])

    def exit_prob(self, k: int, c: float) -> float:
        """Probability of crossing ``c`` at look ``k`` and not before."""
        r0, r1, sd = self._scales(k)
        mass = self.w * self.dens
        up = stats.norm.sf((c * r1 - self.x * r0) / sd)
        down = stats.norm.cdf((-c * r1 - self.x * r0) / sd) if self.two_sided else 0.0
        return float(np.sum(mass * (up + down)))

    def advance(self, k: int, c: float) -> None:
        """Move the sub-density to look ``k``, dropping the paths beyond ``c``."""
        r0, r1, sd = self._scales(k)
        xn, wn = _simpson(-c if self.two_sided else -12.0, c, self.grid)
        kern = stats.norm.pdf((xn[:, None] * r1 - self.x[None, :] * r0) / sd) * (r1 / sd)
        self.dens, self.x, self.w = kern @ (self.w * self.dens), xn, wn


def classical_boundaries(looks: int, alpha: float = 0.05, kind: str = "pocock",
                         two_sided: bool = True, grid: int = 100) -> np.ndarray:
    """Pocock (1977) constant or O'Brien–Fleming (1979) ``c sqrt(K / k)`` boundaries, equal looks.

    ``c`` makes the probability of crossing at any of the ``looks`` equally
    spaced looks equal ``alpha`` under the null (Jennison & Turnbull 2000,
    Tables 2.1 and 2.3: K = 5, alpha = 0.05 two-sided gives 2.413 and 2.040).
    ``grid=100`` reproduces grid 400 to 1e-7.

    >>> round(float(classical_boundaries(5, kind="pocock")[0]), 3)
    2.413
    """
    alpha = check_alpha(alpha)
    if kind not in ("pocock", "obrien_fleming"):
        raise OptionError(f"kind must be 'pocock' or 'obrien_fleming', got {kind!r}")
    if isinstance(looks, bool) or not isinstance(looks, (int, np.integer)) or looks < 1:
        raise OptionError(f"looks must be a positive integer, got {looks!r}")
    t = np.arange(1, looks + 1) / looks
    shape = np.ones(looks) if kind == "pocock" else np.sqrt(looks / np.arange(1, looks + 1))
    tail = 2.0 if two_sided else 1.0

    def total(c: float) -> float:
        b = c * shape
        walk = _Continuing(t, b[0], two_sided, grid)
        out = tail * float(stats.norm.sf(b[0]))
        for k in range(1, looks):
            out += walk.exit_prob(k, b[k])
            walk.advance(k, b[k])
        return out - alpha

    c = optimize.brentq(total, stats.norm.isf(alpha / tail) * 0.5, 10.0, xtol=1e-8)
    return c * shape


def group_sequential(looks: int | Sequence[float], alpha: float = 0.05,
                     spending: str = "obrien_fleming", two_sided: bool = True,
                     grid: int = 400, rho: float = 2.0) -> GroupSequentialDesign:
    """Lan–DeMets group-sequential boundaries for ``looks`` (a count or information fractions).

    At look ``k`` the boundary ``c_k`` solves ``P(no crossing before k, |Z_k| >= c_k)
    = alpha(t_k) - alpha(t_{k-1})`` under the null, with ``Z`` the standardized
    Brownian motion observed at the information fractions; the sub-density of
    the continuing paths is propagated on a Simpson grid of ``2 * grid + 1``
    points.  A two-sided design spends ``alpha / 2`` on each side (gsDesign,
    rpact and EAST do the same); one-sided designs use the upper boundary only.

    >>> [round(float(b), 2) for b in group_sequential(5, spending="pocock").boundaries]
    [2.44, 2.43, 2.41, 2.4, 2.39]
    """
    alpha = check_alpha(alpha)
    if spending not in SPENDING:
        raise OptionError(f"spending must be one of {SPENDING}, got {spending!r}")
    t = np.arange(1, looks + 1) / looks if isinstance(looks, (int, np.integer)) \
        else np.asarray(looks, dtype=float)
    if t.ndim != 1 or len(t) < 1 or np.any(np.diff(t) <= 0) or t[0] <= 0 or t[-1] > 1:
        raise OptionError("information fractions must increase strictly within (0, 1]")
    tail = 2.0 if two_sided else 1.0
    side = globals()["spending"](t, alpha / tail, spending, rho)   # cumulative, per side
    side[-1] = alpha / tail if math.isclose(t[-1], 1.0) else side[-1]
    inc = tail * np.diff(np.r_[0.0, side])
    cum = tail * side
    bounds = np.empty(len(t))
    bounds[0] = stats.norm.isf(inc[0] / tail)
    walk = _Continuing(t, bounds[0], two_sided, grid)
    for k in range(1, len(t)):
        if inc[k] <= 0:
            bounds[k] = np.inf
            continue
        bounds[k] = optimize.brentq(lambda c: walk.exit_prob(k, c) - inc[k], 0.0, 40.0,
                                    xtol=1e-10)
        walk.advance(k, bounds[k])
    nominal = tail * stats.norm.sf(bounds)
    return GroupSequentialDesign(information=t, boundaries=bounds, alpha_spent=cum,
                                 nominal_p=nominal, spending=spending, alpha=alpha,
                                 two_sided=two_sided)
