"""Off-policy evaluation of a bandit policy from logged feedback.

Every estimator here is a sample mean of per-round terms (SNIPS: a ratio of two
means) and returns a :class:`PolicyValue` with the estimate, its
influence-function standard error and a confidence interval (Wald by default;
``ci="bootstrap"`` for the percentile bootstrap).  With ``w = pi_e(a|x) /
pi_b(a|x)`` the importance weight, ``q`` a reward model and ``q(x, pi_e) =
sum_a pi_e(a|x) q(x, a)``:

* :func:`ips` — inverse propensity scoring ``w r`` (Horvitz & Thompson 1952;
  ``lambda_`` clips ``w`` at ``lambda_``);
* :func:`snips` — self-normalized IPS ``sum w r / sum w`` (Swaminathan &
  Joachims 2015);
* :func:`dr` — doubly robust ``q(x, pi_e) + w (r - q(x, a))`` (Dudík, Langford &
  Li 2011; ``lambda_`` clips ``w``, the pessimistic shrinkage of Su et al. 2020);
* :func:`switch_dr` — Switch-DR (Wang, Agarwal & Dudík 2017): the correction
  term only where ``w <= lambda_``, the reward model alone elsewhere;
* :func:`dr_os` — DR with optimistic shrinkage (Su, Dimakopoulou, Krishnamurthy
  & Dudík 2020): ``w`` replaced by ``lambda_ w / (w^2 + lambda_)``;
* :func:`subgaussian_ips` / :func:`subgaussian_dr` — Metelli, Russo & Restelli
  (2021): ``w`` replaced by ``w / (1 - lambda_ + lambda_ w)``, ``lambda_`` in [0, 1].

The inputs follow Open Bandit Pipeline (``obp.ope``) argument for argument:
``reward``, ``action``, ``pscore``, ``action_dist`` of shape ``(n, K)`` or
``(n, K, len_list)`` with ``position``, and ``estimated_rewards_by_reg_model``
of the shape of ``action_dist`` (see :mod:`.ope_data`); the point estimates
equal obp's ``estimate_policy_value`` of the estimator of the same name and
hyperparameter.  Given a list of ``lambda_`` candidates, the hyperparameter
estimators pick one with :func:`~causalkit.experiments.ope_tuning.tune_lambda`
(SLOPE or estimated MSE, as obp's ``...Tuning`` estimators); the standard
error is then the one of the chosen estimator, conditional on the choice.

The standard error of a mean of terms ``t_i`` is ``sd(t) / sqrt(n)``; for SNIPS
it is the delta-method (influence-function) SE with influence values
``w_i (r_i - V) / mean(w)``.  The shrunk, clipped and switched estimators are
biased for a finite ``lambda_``; the interval covers their expectation, not the
policy value (the price of the variance they save).

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> n = 2000
>>> a = rng.integers(0, 2, n)                       # uniform logging policy
>>> r = rng.binomial(1, np.where(a == 1, 0.7, 0.4)).astype(float)
>>> target = np.tile([0.0, 1.0], (n, 1))            # always play action 1
>>> v = dr(r, a, np.full(n, 0.5), target, np.tile([0.4, 0.7], (n, 1)))
>>> bool(abs(v.estimate - 0.7) < 3 * v.std_error), bool(v.ci_low < 0.7 < v.ci_high)
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import OptionError, OverlapError, RoleError
from ..inference import check_alpha, wald
from .ope_data import LoggedFeedback, logged_feedback
from .ope_tuning import tune_lambda

#: largest number of resampled indices drawn at once by the bootstrap
_BOOT_CHUNK = 2_000_000


@dataclass(frozen=True, eq=False)
class PolicyValue:
    """Estimated value of an evaluation policy, with its inference.

    ``terms`` are the per-round terms whose mean is the estimate (for SNIPS the
    influence values around it); ``effective_sample_size`` is Kish's
    ``(sum w)^2 / sum w^2`` of the raw importance weights.
    """

    method: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    alpha: float
    n: int
    lambda_: float | None
    ci_method: str
    effective_sample_size: float
    terms: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The scalar fields as a dict (without ``terms``).

        >>> ips([1.0, 0.0], [0, 1], [0.5, 0.5], [[1, 0], [1, 0]]).to_dict()["estimate"]
        1.0
        """
        return {k: getattr(self, k) for k in ("method", "estimate", "std_error", "ci_low",
                                              "ci_high", "alpha", "n", "lambda_", "ci_method",
                                              "effective_sample_size")}


def bootstrap_ratio_interval(num: np.ndarray, den: np.ndarray | None, alpha: float,
                             n_bootstrap: int, random_state: Any) -> tuple[float, float]:
    """Percentile bootstrap interval of ``sum(num) / sum(den)`` (of ``mean(num)`` without ``den``).

    Resampled row indices come from ``numpy.random.RandomState(random_state)``
    (one ``randint(0, n, n)`` per replicate, the draws of
    ``RandomState.choice``), or from ``random_state`` itself when it is a
    ``numpy.random.Generator``.  Replicates whose ``den`` sums to 0 (an undefined
    ratio) are dropped.

    >>> lo, hi = bootstrap_ratio_interval(np.arange(10.0), None, 0.1, 200, 0)
    >>> bool(lo < 4.5 < hi)
    True
    """
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 10:
        raise OptionError(f"n_bootstrap must be an integer >= 10, got {n_bootstrap!r}")
    n = len(num)
    draw: Callable[[tuple[int, int]], np.ndarray]
    if isinstance(random_state, np.random.Generator):
        gen = random_state
        draw = lambda size: gen.integers(0, n, size)  # noqa: E731
    else:
        try:
            legacy = np.random.RandomState(random_state)
        except (TypeError, ValueError):
            raise OptionError(f"random_state must be an int, None or a numpy Generator, "
                              f"got {random_state!r}") from None
        draw = lambda size: legacy.randint(0, n, size)  # noqa: E731
    stats: list[np.ndarray] = []
    per = max(1, _BOOT_CHUNK // n)
    for start in range(0, n_bootstrap, per):
        size = (min(per, n_bootstrap - start), n)
        idx = draw(size)
        top = num[idx].mean(axis=1)
        if den is None:
            stats.append(top)
        else:
            bottom = den[idx].mean(axis=1)
            stats.append(top[bottom > 0] / bottom[bottom > 0])   # 0/0 replicates are dropped
    draws = np.concatenate(stats)
    if len(draws) == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(draws, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def _result(method: str, fb: LoggedFeedback, terms: np.ndarray, estimate: float, se: float,
            alpha: float, ci: str, n_bootstrap: int, random_state: Any,
            lambda_: float | None, boot: tuple[np.ndarray, np.ndarray | None]) -> PolicyValue:
    alpha = check_alpha(alpha)
    if ci == "wald":
        w = wald(estimate, se, alpha=alpha)
        lo, hi = w.ci_low, w.ci_high
    elif ci == "bootstrap":
        lo, hi = bootstrap_ratio_interval(boot[0], boot[1], alpha, n_bootstrap, random_state)
    else:
        raise OptionError(f"ci must be 'wald' or 'bootstrap', got {ci!r}")
    w_raw = fb.weights
    ess = float(w_raw.sum() ** 2 / np.sum(w_raw ** 2)) if np.any(w_raw > 0) else 0.0
    return PolicyValue(method=method, estimate=float(estimate), std_error=float(se),
                       ci_low=float(lo), ci_high=float(hi), alpha=alpha, n=fb.n,
                       lambda_=None if lambda_ is None else float(lambda_), ci_method=ci,
                       effective_sample_size=ess, terms=terms)


def mean_result(method: str, fb: LoggedFeedback, terms: np.ndarray, lambda_: float | None,
                alpha: float, ci: str, n_bootstrap: int, random_state: Any) -> PolicyValue:
    """The :class:`PolicyValue` of the mean of per-round ``terms`` (SE ``sd(terms) / sqrt(n)``)."""
    se = float(np.std(terms, ddof=1) / math.sqrt(len(terms)))
    return _result(method, fb, terms, float(np.mean(terms)), se, alpha, ci, n_bootstrap,
                   random_state, lambda_, (terms, None))


# ---------------------------------------------------------------- weight maps
def _check_lambda(lambda_: Any, low: float, high: float, what: str) -> float:
    try:
        value = float(lambda_)
    except (TypeError, ValueError):
        raise OptionError(f"lambda_ ({what}) must be a number, got {lambda_!r}") from None
    if math.isnan(value) or not low <= value <= high:
        raise OptionError(f"lambda_ ({what}) must lie in [{low:g}, {high:g}], got {lambda_!r}")
    return value


def _clip(w: np.ndarray, lam: float) -> np.ndarray:
    return np.minimum(w, lam)


def _switch(w: np.ndarray, lam: float) -> np.ndarray:
    return np.where(w <= lam, w, 0.0)


def _optimistic(w: np.ndarray, lam: float) -> np.ndarray:
    return w if math.isinf(lam) else lam * w / (w ** 2 + lam)


def _subgaussian(w: np.ndarray, lam: float) -> np.ndarray:
    return w / (1 - lam + lam * w)


@dataclass(frozen=True)
class WeightMap:
    """How an estimator transforms the importance weight, and the range of its ``lambda_``."""

    name: str
    transform: Callable[[np.ndarray, float], np.ndarray]
    low: float
    high: float
    what: str
    direct: bool  # uses the reward model (DR family) or not (IPS family)

    def check(self, lambda_: Any) -> float:
        """``lambda_`` as a float in range, or an :class:`OptionError`."""
        return _check_lambda(lambda_, self.low, self.high, self.what)

    def terms(self, fb: LoggedFeedback, lam: float) -> np.ndarray:
        """Per-round terms whose mean is the estimate at ``lam``."""
        w_hat = self.transform(fb.weights, lam)
        if not self.direct:
            return w_hat * fb.reward
        return fb.q_policy + w_hat * (fb.reward - fb.q_logged)


WEIGHT_MAPS = {
    "ips": WeightMap("ips", _clip, 0.0, math.inf, "clipping threshold", False),
    "dr": WeightMap("dr", _clip, 0.0, math.inf, "clipping threshold", True),
    "switch_dr": WeightMap("switch_dr", _switch, 0.0, math.inf, "switching threshold", True),
    "dr_os": WeightMap("dr_os", _optimistic, 0.0, math.inf, "shrinkage", True),
    "subgaussian_ips": WeightMap("subgaussian_ips", _subgaussian, 0.0, 1.0, "power", False),
    "subgaussian_dr": WeightMap("subgaussian_dr", _subgaussian, 0.0, 1.0, "power", True),
}


def _weighted(method: str, reward: Any, action: Any, pscore: Any, action_dist: Any,
              estimated_rewards_by_reg_model: Any, position: Any, lambda_: Any,
              tuning: str, delta: float, alpha: float, ci: str, n_bootstrap: int,
              random_state: Any) -> PolicyValue:
    wm = WEIGHT_MAPS[method]
    if wm.direct and estimated_rewards_by_reg_model is None:
        raise RoleError(f"{method} needs estimated_rewards_by_reg_model, the reward model's "
                        "prediction for every round and action (shape of action_dist)")
    fb = logged_feedback(reward, action, pscore, action_dist,
                         estimated_rewards_by_reg_model if wm.direct else None, position)
    if np.ndim(lambda_) > 0:
        lam = tune_lambda(wm, fb, [wm.check(v) for v in lambda_], method=tuning, delta=delta)
    else:
        lam = wm.check(lambda_)
    return mean_result(method, fb, wm.terms(fb, lam), lam, alpha, ci, n_bootstrap, random_state)


_PARAMS = {
    "reward": """    reward, action, pscore
        Per logged round: the reward, the logged action (0..K-1) and the logging
        policy's probability of that action, in (0, 1].""",
    "action_dist": """    action_dist, position
        The evaluation policy's probabilities, ``(n, K)`` or ``(n, K, len_list)``
        as obp's ``action_dist``, and the slot of each round (default 0).""",
    "estimated_rewards_by_reg_model": """    estimated_rewards_by_reg_model
        Reward model ``q(x_i, a)`` for every round and action, shape of ``action_dist``.""",
    "lambda_": """    lambda_, tuning, delta
        The hyperparameter, or a list of candidates to choose from with
        ``tuning`` ("slope", SLOPE++ of Tucker & Lee 2021, or "mse", estimated
        variance plus squared high-probability bias bound, Su et al. 2020) at
        confidence ``delta``.""",
    "alpha": """    alpha, ci, n_bootstrap, random_state
        Level and kind of the interval: "wald" from the influence-function SE,
        or "bootstrap" (percentile, ``n_bootstrap`` replicates drawn with
        ``RandomState(random_state)`` as obp's ``estimate_interval``).

    Returns
    -------
    PolicyValue""",
}


def _document(func: Callable[..., PolicyValue]) -> None:
    """Insert the parameter section (for the arguments ``func`` takes) before its example."""
    import inspect

    taken = inspect.signature(func).parameters
    section = "\n".join(text for name, text in _PARAMS.items() if name in taken)
    head, _, rest = (func.__doc__ or "").partition("\n    >>>")
    func.__doc__ = f"{head.rstrip()}\n\n    Parameters\n    ----------\n{section}\n\n    >>>{rest}"



def ips(reward: Any, action: Any, pscore: Any, action_dist: Any, position: Any = None,
        lambda_: float | Sequence[float] = math.inf, tuning: str = "slope", delta: float = 0.1,
        alpha: float = 0.05, ci: str = "wald", n_bootstrap: int = 10000,
        random_state: Any = 0) -> PolicyValue:
    """Inverse propensity scoring: the mean of ``min(w, lambda_) r``; obp's ``InverseProbabilityWeighting``.

    >>> round(ips([1.0, 0.0, 1.0], [0, 1, 1], [0.5] * 3, [[1, 0]] * 3).estimate, 4)
    0.6667
    """
    return _weighted("ips", reward, action, pscore, action_dist, None, position, lambda_,
                     tuning, delta, alpha, ci, n_bootstrap, random_state)


def dr(reward: Any, action: Any, pscore: Any, action_dist: Any,
       estimated_rewards_by_reg_model: Any, position: Any = None,
       lambda_: float | Sequence[float] = math.inf, tuning: str = "slope", delta: float = 0.1,
       alpha: float = 0.05, ci: str = "wald", n_bootstrap: int = 10000,
       random_state: Any = 0) -> PolicyValue:
    """Doubly robust: mean of ``q(x, pi_e) + min(w, lambda_) (r - q(x, a))``; obp's ``DoublyRobust``.

    >>> q = [[0.5, 0.5]] * 3
    >>> round(dr([1.0, 0.0, 1.0], [0, 1, 0], [0.5] * 3, [[1, 0]] * 3, q).estimate, 4)
    1.1667
    """
    return _weighted("dr", reward, action, pscore, action_dist, estimated_rewards_by_reg_model,
                     position, lambda_, tuning, delta, alpha, ci, n_bootstrap, random_state)


def switch_dr(reward: Any, action: Any, pscore: Any, action_dist: Any,
              estimated_rewards_by_reg_model: Any, lambda_: float | Sequence[float],
              position: Any = None, tuning: str = "slope", delta: float = 0.1,
              alpha: float = 0.05, ci: str = "wald", n_bootstrap: int = 10000,
              random_state: Any = 0) -> PolicyValue:
    """Switch-DR (Wang, Agarwal & Dudík 2017); obp's ``SwitchDoublyRobust``.

    Mean of ``q(x, pi_e) + 1{w <= lambda_} w (r - q(x, a))``: rounds whose
    importance weight exceeds ``lambda_`` rely on the reward model alone
    (``lambda_=inf`` is DR, ``lambda_=0`` the direct method).

    >>> q = [[0.5, 0.5]] * 3
    >>> switch_dr([1.0, 0.0, 1.0], [0, 1, 0], [0.4] * 3, [[1, 0]] * 3, q, lambda_=2).estimate
    0.5
    """
    return _weighted("switch_dr", reward, action, pscore, action_dist,
                     estimated_rewards_by_reg_model, position, lambda_, tuning, delta, alpha,
                     ci, n_bootstrap, random_state)


def dr_os(reward: Any, action: Any, pscore: Any, action_dist: Any,
          estimated_rewards_by_reg_model: Any, lambda_: float | Sequence[float],
          position: Any = None, tuning: str = "slope", delta: float = 0.1,
          alpha: float = 0.05, ci: str = "wald", n_bootstrap: int = 10000,
          random_state: Any = 0) -> PolicyValue:
    """DR with optimistic shrinkage, DR-os (Su et al. 2020); obp's ``DoublyRobustWithShrinkage``.

    The weight ``w`` becomes ``lambda_ w / (w^2 + lambda_)``, which minimizes a
    bound on the MSE; ``lambda_=inf`` is DR, ``lambda_=0`` the direct method.

    >>> q = [[0.5, 0.5]] * 3
    >>> round(dr_os([1.0, 0.0, 1.0], [0, 1, 0], [0.5] * 3, [[1, 0]] * 3, q, lambda_=4).estimate, 4)
    0.8333
    """
    return _weighted("dr_os", reward, action, pscore, action_dist,
                     estimated_rewards_by_reg_model, position, lambda_, tuning, delta, alpha,
                     ci, n_bootstrap, random_state)


def subgaussian_ips(reward: Any, action: Any, pscore: Any, action_dist: Any,
                    lambda_: float | Sequence[float], position: Any = None,
                    tuning: str = "slope", delta: float = 0.1, alpha: float = 0.05,
                    ci: str = "wald", n_bootstrap: int = 10000,
                    random_state: Any = 0) -> PolicyValue:
    """Sub-Gaussian IPS (Metelli, Russo & Restelli 2021); obp's ``SubGaussianInverseProbabilityWeighting``.

    Mean of ``w / (1 - lambda_ + lambda_ w) r`` with ``lambda_`` in [0, 1]
    (0 is IPS).

    >>> subgaussian_ips([1.0, 0.0], [0, 1], [0.5, 0.5], [[1, 0]] * 2, lambda_=0.5).estimate
    0.6666666666666666
    """
    return _weighted("subgaussian_ips", reward, action, pscore, action_dist, None, position,
                     lambda_, tuning, delta, alpha, ci, n_bootstrap, random_state)


def subgaussian_dr(reward: Any, action: Any, pscore: Any, action_dist: Any,
                   estimated_rewards_by_reg_model: Any, lambda_: float | Sequence[float],
                   position: Any = None, tuning: str = "slope", delta: float = 0.1,
                   alpha: float = 0.05, ci: str = "wald", n_bootstrap: int = 10000,
                   random_state: Any = 0) -> PolicyValue:
    """Sub-Gaussian DR (Metelli et al. 2021); obp's ``SubGaussianDoublyRobust``.

    >>> q = [[0.5, 0.5]] * 2
    >>> subgaussian_dr([1.0, 0.0], [0, 1], [0.5, 0.5], [[1, 0]] * 2, q, lambda_=0.0).estimate
    1.0
    """
    return _weighted("subgaussian_dr", reward, action, pscore, action_dist,
                     estimated_rewards_by_reg_model, position, lambda_, tuning, delta, alpha,
                     ci, n_bootstrap, random_state)


def snips(reward: Any, action: Any, pscore: Any, action_dist: Any, position: Any = None,
          alpha: float = 0.05, ci: str = "wald", n_bootstrap: int = 10000,
          random_state: Any = 0) -> PolicyValue:
    """Self-normalized IPS ``sum w r / sum w``; obp's ``SelfNormalizedInverseProbabilityWeighting``.

    The SE is the delta-method one; the bootstrap resamples the ratio (numerator
    and normalizer together).

    >>> snips([1.0, 0.0, 1.0], [0, 1, 0], [0.5] * 3, [[1, 0]] * 3).estimate
    1.0
    """
    fb = logged_feedback(reward, action, pscore, action_dist, None, position)
    return snips_from_feedback(fb, alpha, ci, n_bootstrap, random_state)


def snips_from_feedback(fb: LoggedFeedback, alpha: float = 0.05, ci: str = "wald",
                        n_bootstrap: int = 10000, random_state: Any = 0) -> PolicyValue:
    """:func:`snips` of already checked feedback."""
    w = fb.weights
    if not np.any(w > 0):
        raise OverlapError("no logged action has positive probability under the evaluation "
                           "policy: every importance weight is 0, so SNIPS is undefined")
    est = float(np.sum(w * fb.reward) / np.sum(w))
    infl = w * (fb.reward - est) / np.mean(w)
    se = float(np.sqrt(np.sum(infl ** 2)) / fb.n)
    return _result("snips", fb, infl, est, se, alpha, ci, n_bootstrap, random_state, None,
                   (w * fb.reward, w))


for _f in (ips, dr, switch_dr, dr_os, subgaussian_ips, subgaussian_dr, snips):
    _document(_f)
del _f
