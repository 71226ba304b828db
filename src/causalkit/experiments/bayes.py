"""Bayesian A/B analysis: Beta–Binomial for conversions, normal for means, exact decisions.

For each arm the posterior of its rate (or mean) is computed in closed form.
The probability that each arm is best and the expected loss of shipping it
(``E[max_j theta_j - theta_k]``, the regret one expects from choosing arm k,
as in GrowthBook and Stucchio 2015) are one-dimensional integrals over the
independent posteriors, computed by adaptive quadrature (deterministic, no
sampling, no seed):

* ``P(k best) = int f_k(x) prod_{j != k} F_j(x) dx``;
* ``loss_k = E[(max_{j != k} theta_j - theta_k)^+] = int F_k(x) (1 - prod_{j != k} F_j(x)) dx``
  (``E[(M - T)^+] = int P(T < x < M) dx`` for independent ``T``, ``M``), which
  has no cancellation even when the loss is tiny.

For two Beta posteriors with an integer parameter these equal Evan Miller's
closed form for ``P(p_B > p_A)``, and for normals ``Phi(d / s)`` and
``s phi(d / s) + d Phi(d / s)``.  Each integral runs over the arm's posterior
quantiles ``1e-15 .. 1 - 1e-15`` with the other arms' quantiles as break
points (``scipy.integrate.quad``, tolerances 1e-14 absolute and 1e-12
relative); the probabilities are divided by the integral of the density over
the same range, which cancels the rounding of the normalizing constant.  The
result agrees with the closed forms to ~1e-11 (their own rounding, through
``log B(a, b)``, for posteriors of 10^4 trials).  Lower-is-better metrics are handled by reflection (``1 - theta``
for rates, ``-theta`` for means).

* conversions: prior ``Beta(a, b)`` (uniform by default), posterior
  ``Beta(a + x, b + n - x)``; equal-tailed credible intervals from its quantiles;
* means: normal likelihood with the sample variance plugged in and a normal
  prior on the mean (flat by default), posterior ``N(m_post, v_post)`` with
  ``1/v_post = 1/v_prior + n/s^2``.

Example
-------
>>> r = beta_binomial([1000, 1100], [10000, 10000], labels=["A", "B"])
>>> round(float(r.loc["B", "prob_best"]), 4)
0.9895
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import integrate, special, stats

from ..errors import DataError, OptionError

_TAIL = 1e-15          # posterior mass left outside each integration range
_EPSABS = 1e-14


def _labels(labels: Sequence[Any] | None, k: int) -> list[Any]:
    out = list(labels) if labels is not None else list(range(k))
    if len(out) != k:
        raise OptionError(f"{len(out)} labels for {k} arms")
    return out


@dataclass(frozen=True)
class _Posteriors:
    """Independent posteriors, one per arm, through scalar pdf/cdf/quantile functions."""

    pdf: Callable[[int, float], float]
    cdf: Callable[[int, float], float]
    ppf: Callable[[int, float], float]
    k: int

    def others_cdf(self, k: int, x: float) -> float:
        return math.prod(self.cdf(j, x) for j in range(self.k) if j != k)


def _beta_posteriors(a: np.ndarray, b: np.ndarray) -> _Posteriors:
    la = [float(v) for v in a]
    lb = [float(v) for v in b]
    lnorm = [float(special.betaln(x, y)) for x, y in zip(la, lb)]

    def pdf(k: int, x: float) -> float:
        if x <= 0.0 or x >= 1.0:
            return 0.0
        return math.exp((la[k] - 1) * math.log(x) + (lb[k] - 1) * math.log1p(-x) - lnorm[k])

    def cdf(k: int, x: float) -> float:
        return 0.0 if x <= 0.0 else 1.0 if x >= 1.0 else float(special.betainc(la[k], lb[k], x))

    def ppf(k: int, q: float) -> float:
        return float(special.betaincinv(la[k], lb[k], q))

    return _Posteriors(pdf, cdf, ppf, len(la))


def _normal_posteriors(mean: np.ndarray, sd: np.ndarray) -> _Posteriors:
    m = [float(v) for v in mean]
    s = [float(v) for v in sd]

    def pdf(k: int, x: float) -> float:
        z = (x - m[k]) / s[k]
        return math.exp(-0.5 * z * z) / (s[k] * math.sqrt(2 * math.pi))

    def cdf(k: int, x: float) -> float:
        return float(special.ndtr((x - m[k]) / s[k]))

    def ppf(k: int, q: float) -> float:
        return m[k] + s[k] * float(special.ndtri(q))

    return _Posteriors(pdf, cdf, ppf, len(m))


def _quad(f: Callable[[float], float], lo: float, hi: float, points: list[float]) -> float:
    if hi <= lo:
        return 0.0
    inner = sorted({p for p in points if lo < p < hi})
    value, _ = integrate.quad(f, lo, hi, points=inner or None, epsabs=_EPSABS, epsrel=1e-12,
                              limit=500)
    return float(value)


def decision_summary(post: _Posteriors) -> tuple[np.ndarray, np.ndarray]:
    """Probability each arm is best (highest) and its expected loss, by quadrature.

    >>> p, loss = decision_summary(_normal_posteriors(np.array([0.0, 0.0]), np.array([1.0, 1.0])))
    >>> p.round(10).tolist(), loss.round(10).tolist()      # loss = E[(X - Y)^+] = 1 / sqrt(pi)
    ([0.5, 0.5], [0.5641895835, 0.5641895835])
    """
    lo = [post.ppf(k, _TAIL) for k in range(post.k)]
    hi = [post.ppf(k, 1 - _TAIL) for k in range(post.k)]
    marks = lo + hi + [post.ppf(k, 0.5) for k in range(post.k)]
    # divided by the density's own integral over the same range: this cancels the rounding of
    # the normalizing constant (log B(a, b) of large arguments, ~1e-11 relative)
    prob = np.array([_quad(lambda x, k=k: post.pdf(k, x) * post.others_cdf(k, x), lo[k], hi[k], marks)
                     / _quad(lambda x, k=k: post.pdf(k, x), lo[k], hi[k], marks)
                     for k in range(post.k)])
    loss = np.array([_quad(lambda x, k=k: post.cdf(k, x) * (1.0 - post.others_cdf(k, x)), lo[k],
                           max(hi[j] for j in range(post.k) if j != k), marks)
                     for k in range(post.k)])
    return prob, loss


def _table(labels: list[Any], mean: np.ndarray, lo: np.ndarray, hi: np.ndarray,
           post: _Posteriors) -> pd.DataFrame:
    prob, loss = decision_summary(post)
    return pd.DataFrame({"posterior_mean": mean, "ci_low": lo, "ci_high": hi, "prob_best": prob,
                         "expected_loss": loss}, index=pd.Index(labels, name="arm"))


def beta_binomial(successes: Sequence[int], trials: Sequence[int], prior: tuple[float, float] = (1.0, 1.0),
                  labels: Sequence[Any] | None = None, credible: float = 0.95,
                  higher_is_better: bool = True) -> pd.DataFrame:
    """Beta–Binomial posterior per arm: mean, credible interval, exact P(best) and expected loss.

    >>> beta_binomial([40, 52], [400, 410], labels=["A", "B"])["prob_best"].round(6).tolist()
    [0.115702, 0.884298]
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if x.shape != n.shape or x.ndim != 1 or len(x) < 2:
        raise DataError("give successes and trials for at least two arms, of equal length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(n))) or np.any(x < 0) or np.any(x > n):
        raise DataError(f"successes must lie between 0 and trials, got {list(x)} of {list(n)}")
    a0, b0 = prior
    if not (a0 > 0 and b0 > 0):
        raise OptionError(f"Beta prior parameters must be positive, got {prior}")
    _check_credible(credible)
    a, b = a0 + x, b0 + n - x
    q = (1 - credible) / 2
    post = _beta_posteriors(a, b) if higher_is_better else _beta_posteriors(b, a)
    return _table(_labels(labels, len(a)), a / (a + b), stats.beta.ppf(q, a, b),
                  stats.beta.isf(q, a, b), post)


def normal_means(n: Sequence[float], mean: Sequence[float], var: Sequence[float],
                 prior_mean: float = 0.0, prior_var: float = np.inf,
                 labels: Sequence[Any] | None = None, credible: float = 0.95,
                 higher_is_better: bool = True) -> pd.DataFrame:
    """Normal posterior of each arm's mean (flat prior by default): mean, CI, exact P(best), loss.

    >>> normal_means([500, 500], [10.0, 10.2], [4.0, 4.0], labels=["A", "B"]).loc["B", "prob_best"].round(6)
    np.float64(0.943077)
    """
    n, m, v = (np.asarray(a, dtype=float) for a in (n, mean, var))
    if not (n.shape == m.shape == v.shape) or n.ndim != 1 or len(n) < 2:
        raise DataError("give n, mean and var for at least two arms, of equal length")
    if np.any(~(n >= 2)) or np.any(~(v > 0)) or not np.all(np.isfinite(np.r_[n, m, v])):
        raise DataError("every arm needs n >= 2, a finite mean and a positive finite variance")
    if not prior_var > 0:
        raise OptionError(f"prior_var must be positive, got {prior_var}")
    _check_credible(credible)
    data_prec = n / v
    prior_prec = 0.0 if np.isinf(prior_var) else 1.0 / prior_var
    post_var = 1.0 / (data_prec + prior_prec)
    post_mean = post_var * (data_prec * m + prior_prec * prior_mean)
    sd = np.sqrt(post_var)
    z = stats.norm.isf((1 - credible) / 2)
    post = _normal_posteriors(post_mean if higher_is_better else -post_mean, sd)
    return _table(_labels(labels, len(n)), post_mean, post_mean - z * sd, post_mean + z * sd, post)


def _check_credible(credible: float) -> None:
    if not 0 < credible < 1:
        raise OptionError(f"credible must lie strictly between 0 and 1, got {credible!r}")


def from_stats(stats_: Any, metric: str, **options: Any) -> pd.DataFrame:
    """Bayesian summary of one metric of an :class:`~.analyze.ExperimentStats` (or raw-row result).

    Proportions use :func:`beta_binomial` (successes ``= n * mean``), means use
    :func:`normal_means`; ``options`` go to those functions.

    >>> import pandas as pd
    >>> from causalkit.experiments.aggregates import ExperimentStats
    >>> df = pd.DataFrame({"v": [0] * 4 + [1] * 4, "c": [0, 0, 1, 0, 1, 1, 0, 1]})
    >>> from_stats(ExperimentStats.from_rows(df, "v", "c"), "c").index.tolist()
    [0, 1]
    """
    st = getattr(stats_, "stats", stats_)
    if metric not in st.moments:
        raise OptionError(f"metric {metric!r} is not among {list(st.moments)}")
    mom, spec = st.moments[metric], st.metrics[metric]
    if spec.is_ratio or spec.covariate is not None:
        raise OptionError(f"metric {metric!r}: Bayesian summaries cover plain means and proportions")
    if spec.kind == "proportion":
        successes = np.rint(mom.n * mom.mean[:, 0])
        return beta_binomial(successes, mom.n, labels=st.arms, **options)
    return normal_means(mom.n, mom.mean[:, 0], mom.var()[:, 0], labels=st.arms, **options)
