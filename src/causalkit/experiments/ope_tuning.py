"""Choosing the hyperparameter of a shrunk, clipped or switched OPE estimator.

:func:`tune_lambda` picks ``lambda_`` from a list of candidates in one of two ways:

* ``"slope"`` — SLOPE (Su, Srinath & Krishnamurthy 2020) in the SLOPE++ form of
  Tucker & Lee (2021): candidates are visited from the widest one-sided
  Student-t confidence width to the narrowest, and the last one whose estimate
  stays within ``width_i + (sqrt(6) - 1) width_j`` of every one before it wins;
* ``"mse"`` — the estimated MSE (Su et al. 2020): the sample variance of the
  per-round terms over ``n`` plus the square of a high-probability upper bound
  of the bias, ``|mean((w - w_hat)(r - q))| + sqrt(2 mean(w^2) log(2/delta) / n)
  + 2 max(w) log(2/delta) / (3 n)``; the smallest wins.

These are the rules of obp's ``...Tuning`` estimators (``tuning_method``
``"slope"`` / ``"mse"`` with ``use_bias_upper_bound=True``), so the same
candidates give the same choice.

Example
-------
>>> import numpy as np
>>> from causalkit.experiments.ope import WEIGHT_MAPS
>>> from causalkit.experiments.ope_data import logged_feedback
>>> rng = np.random.default_rng(1)
>>> n = 500
>>> p = rng.uniform(0.05, 0.95, n)
>>> a = (rng.random(n) < p).astype(int)
>>> pscore = np.where(a == 1, p, 1 - p)
>>> r = rng.normal(a * 0.5, 1.0)
>>> fb = logged_feedback(r, a, pscore, np.tile([0.0, 1.0], (n, 1)), np.tile([0.0, 0.5], (n, 1)))
>>> tune_lambda(WEIGHT_MAPS["switch_dr"], fb, [1.0, 5.0, 100.0], method="mse") in (1.0, 5.0, 100.0)
True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np
from scipy import stats

from ..errors import OptionError
from .ope_data import LoggedFeedback

if TYPE_CHECKING:
    from .ope import WeightMap

SLOPE_CONSTANT = math.sqrt(6) - 1


def _slope(thetas: np.ndarray, widths: np.ndarray) -> int:
    order = np.argsort(widths)[::-1]
    kept: list[int] = []
    for pos, i in enumerate(order):
        if kept and not np.all(np.abs(thetas[kept] - thetas[i])
                               <= widths[i] + SLOPE_CONSTANT * widths[kept]):
            return int(order[pos - 1])
        kept.append(int(i))
    return int(order[-1])


def bias_upper_bound(fb: LoggedFeedback, w_hat: np.ndarray, direct: bool, delta: float) -> float:
    """High-probability upper bound of the bias of replacing ``w`` by ``w_hat``.

    >>> from causalkit.experiments.ope_data import logged_feedback
    >>> fb = logged_feedback([1.0, 0.0], [0, 1], [0.5, 0.5], [[1, 0]] * 2)
    >>> round(bias_upper_bound(fb, fb.weights, False, 0.1), 4)
    4.4449
    """
    w = fb.weights
    resid = fb.reward - fb.q_logged if direct else fb.reward
    est = abs(float(np.mean((w - w_hat) * resid)))
    log_term = math.log(2 / delta)
    return (est + math.sqrt(2 * np.mean(w ** 2) * log_term / fb.n)
            + 2 * float(w.max()) * log_term / (3 * fb.n))


def tune_lambda(weight_map: "WeightMap", fb: LoggedFeedback, candidates: Sequence[float],
                method: str = "slope", delta: float = 0.1) -> float:
    """The candidate ``lambda_`` chosen by ``method`` ("slope" or "mse"); see the module docstring."""
    if len(candidates) == 0:
        raise OptionError("lambda_ was given as an empty list of candidates")
    if method not in ("slope", "mse"):
        raise OptionError(f"tuning must be 'slope' or 'mse', got {method!r}")
    if not 0 < delta < 1:
        raise OptionError(f"delta must lie in (0, 1), got {delta!r}")
    terms = [weight_map.terms(fb, lam) for lam in candidates]
    if method == "slope":
        thetas = np.array([t.mean() for t in terms])
        t_crit = stats.t(fb.n - 1).ppf(1 - delta)
        widths = np.array([math.sqrt(np.var(t) / (fb.n - 1)) * t_crit for t in terms])
        return float(candidates[_slope(thetas, widths)])
    scores = [np.var(t) / fb.n + bias_upper_bound(fb, weight_map.transform(fb.weights, lam),
                                                  weight_map.direct, delta) ** 2
              for t, lam in zip(terms, candidates)]
    return float(candidates[int(np.argmin(scores))])
