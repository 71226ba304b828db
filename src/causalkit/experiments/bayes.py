"""Bayesian A/B analysis: Beta–Binomial for conversions, normal for means.

For each arm the posterior of its rate (or mean) is computed in closed form;
the probability that each arm is best and the expected loss of shipping it
(``E[max_j theta_j - theta_k]``, the regret one expects from choosing arm k,
as in GrowthBook and Stucchio 2015) are estimated from posterior draws.

* conversions: prior ``Beta(a, b)`` (uniform by default), posterior
  ``Beta(a + x, b + n - x)``; equal-tailed credible intervals from its quantiles;
* means: normal likelihood with the sample variance plugged in and a normal
  prior on the mean (flat by default), posterior ``N(m_post, v_post)`` with
  ``1/v_post = 1/v_prior + n/s^2``.

Example
-------
>>> r = beta_binomial([1000, 1100], [10000, 10000], labels=["A", "B"], random_state=0)
>>> round(float(r.loc["B", "prob_best"]), 2)
0.99
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, OptionError


def _labels(labels: Sequence[Any] | None, k: int) -> list[Any]:
    out = list(labels) if labels is not None else list(range(k))
    if len(out) != k:
        raise OptionError(f"{len(out)} labels for {k} arms")
    return out


def decision_summary(draws: np.ndarray, higher_is_better: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Probability each column is best and its expected loss, from joint posterior draws.

    >>> p, loss = decision_summary(np.array([[0.0, 1.0], [2.0, 1.0]]))
    >>> p.tolist(), loss.tolist()
    ([0.5, 0.5], [0.5, 0.5])
    """
    d = draws if higher_is_better else -draws
    best = d.max(axis=1, keepdims=True)
    prob = np.bincount(d.argmax(axis=1), minlength=d.shape[1]) / d.shape[0]
    return prob, (best - d).mean(axis=0)


def _table(labels: list[Any], mean: np.ndarray, lo: np.ndarray, hi: np.ndarray,
           draws: np.ndarray, higher_is_better: bool) -> pd.DataFrame:
    prob, loss = decision_summary(draws, higher_is_better)
    return pd.DataFrame({"posterior_mean": mean, "ci_low": lo, "ci_high": hi, "prob_best": prob,
                         "expected_loss": loss}, index=pd.Index(labels, name="arm"))


def beta_binomial(successes: Sequence[int], trials: Sequence[int], prior: tuple[float, float] = (1.0, 1.0),
                  labels: Sequence[Any] | None = None, credible: float = 0.95, draws: int = 100_000,
                  random_state: int | np.random.Generator | None = None,
                  higher_is_better: bool = True) -> pd.DataFrame:
    """Beta–Binomial posterior per arm: mean, credible interval, P(best), expected loss."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if x.shape != n.shape or x.ndim != 1 or len(x) < 2:
        raise DataError("give successes and trials for at least two arms, of equal length")
    if np.any(x < 0) or np.any(x > n):
        raise DataError(f"successes must lie between 0 and trials, got {list(x)} of {list(n)}")
    a0, b0 = prior
    if a0 <= 0 or b0 <= 0:
        raise OptionError(f"Beta prior parameters must be positive, got {prior}")
    a, b = a0 + x, b0 + n - x
    rng = np.random.default_rng(random_state)
    sample = rng.beta(a, b, size=(draws, len(a)))
    q = (1 - credible) / 2
    return _table(_labels(labels, len(a)), a / (a + b), stats.beta.ppf(q, a, b),
                  stats.beta.isf(q, a, b), sample, higher_is_better)


def normal_means(n: Sequence[float], mean: Sequence[float], var: Sequence[float],
                 prior_mean: float = 0.0, prior_var: float = np.inf,
                 labels: Sequence[Any] | None = None, credible: float = 0.95,
                 draws: int = 100_000, random_state: int | np.random.Generator | None = None,
                 higher_is_better: bool = True) -> pd.DataFrame:
    """Normal posterior of each arm's mean (flat prior by default): mean, CI, P(best), loss."""
    n, m, v = (np.asarray(a, dtype=float) for a in (n, mean, var))
    if not (n.shape == m.shape == v.shape) or n.ndim != 1 or len(n) < 2:
        raise DataError("give n, mean and var for at least two arms, of equal length")
    if np.any(n < 2) or np.any(v <= 0):
        raise DataError("every arm needs n >= 2 and a positive variance")
    data_prec = n / v
    prior_prec = 0.0 if np.isinf(prior_var) else 1.0 / prior_var
    post_var = 1.0 / (data_prec + prior_prec)
    post_mean = post_var * (data_prec * m + prior_prec * prior_mean)
    rng = np.random.default_rng(random_state)
    sd = np.sqrt(post_var)
    sample = post_mean + sd * rng.standard_normal((draws, len(n)))
    z = stats.norm.isf((1 - credible) / 2)
    return _table(_labels(labels, len(n)), post_mean, post_mean - z * sd, post_mean + z * sd,
                  sample, higher_is_better)


def from_stats(stats_: Any, metric: str, **options: Any) -> pd.DataFrame:
    """Bayesian summary of one metric of an :class:`~.analyze.ExperimentStats` (or raw-row result).

    Proportions use :func:`beta_binomial` (successes ``= n * mean``), means use
    :func:`normal_means`; ``options`` go to those functions.

    >>> import pandas as pd
    >>> from causalkit.experiments.analyze import ExperimentStats
    >>> df = pd.DataFrame({"v": [0] * 4 + [1] * 4, "c": [0, 0, 1, 0, 1, 1, 0, 1]})
    >>> from_stats(ExperimentStats.from_rows(df, "v", "c"), "c", random_state=0).index.tolist()
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
