"""Adaptive experiments: bandit policies, a regret simulator and off-policy evaluation.

Policies (vectorized over independent simulation runs; state has shape
``(runs, arms)``):

* :class:`EpsilonGreedy` — explore uniformly with probability ``epsilon``;
* :class:`UCB1` — Auer, Cesa-Bianchi & Fischer (2002): play each arm once, then
  the arm maximizing ``mean + sqrt(2 ln t / n)``;
* :class:`ThompsonSampling` — Beta–Bernoulli posterior sampling (Thompson 1933;
  Agrawal & Goyal 2012).

:func:`simulate` runs a policy on Bernoulli arms and reports the cumulative
(pseudo-)regret ``sum_t (mu* - mu_{a_t})``.  :func:`off_policy_value`
evaluates a target policy from logged bandit data with inverse propensity
scoring (IPS), self-normalized IPS (SNIPS) and the doubly robust estimator
(Dudík, Langford & Li 2011), each with a standard error; the estimators
themselves, with Switch-DR, DR-os and the sub-Gaussian variants, are in
:mod:`.ope` and re-exported here.

Example
-------
>>> res = simulate(UCB1, [0.1, 0.2], horizon=500, runs=20, random_state=0)
>>> bool(res.cumulative_regret[-1] < 0.1 * 500)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import OptionError
from .ope import (WEIGHT_MAPS, PolicyValue, dr, dr_os, ips, mean_result, snips,  # noqa: F401
                  snips_from_feedback, subgaussian_dr, subgaussian_ips, switch_dr)
from .ope_data import logged_feedback


class Policy:
    """Base class: per-run counts and reward sums; subclasses implement :meth:`select`."""

    def __init__(self, n_arms: int, runs: int = 1) -> None:
        if n_arms < 2:
            raise OptionError("a bandit needs at least two arms")
        self.n_arms, self.runs = n_arms, runs
        self.counts_ = np.zeros((runs, n_arms))
        self.sums_ = np.zeros((runs, n_arms))

    @property
    def means_(self) -> np.ndarray:
        """Observed mean reward of each arm (0 for unplayed arms)."""
        return np.divide(self.sums_, self.counts_, out=np.zeros_like(self.sums_),
                         where=self.counts_ > 0)

    def select(self, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Record the reward of the arm each run played."""
        rows = np.arange(self.runs)
        self.counts_[rows, arms] += 1
        self.sums_[rows, arms] += rewards


def _argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = rng.random(values.shape) * 1e-12
    return np.argmax(values + noise, axis=1)


class EpsilonGreedy(Policy):
    """Play the best observed arm, or a uniformly random arm with probability ``epsilon``."""

    def __init__(self, n_arms: int, runs: int = 1, epsilon: float = 0.1) -> None:
        super().__init__(n_arms, runs)
        if not 0 <= epsilon <= 1:
            raise OptionError(f"epsilon must lie in [0, 1], got {epsilon!r}")
        self.epsilon = epsilon

    def select(self, rng: np.random.Generator) -> np.ndarray:
        greedy = _argmax_random_ties(np.where(self.counts_ > 0, self.means_, np.inf), rng)
        explore = rng.random(self.runs) < self.epsilon
        return np.where(explore, rng.integers(0, self.n_arms, self.runs), greedy)


class UCB1(Policy):
    """Upper confidence bound ``mean + sqrt(2 ln t / n)``; unplayed arms first."""

    def select(self, rng: np.random.Generator) -> np.ndarray:
        t = self.counts_.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            bonus = np.sqrt(2 * np.log(np.maximum(t, 1)) / self.counts_)
        score = np.where(self.counts_ > 0, self.means_ + bonus, np.inf)
        return _argmax_random_ties(score, rng)


class ThompsonSampling(Policy):
    """Beta–Bernoulli Thompson sampling with a ``Beta(a, b)`` prior (rewards in [0, 1])."""

    def __init__(self, n_arms: int, runs: int = 1, prior: tuple[float, float] = (1.0, 1.0)) -> None:
        super().__init__(n_arms, runs)
        self.prior = prior

    def select(self, rng: np.random.Generator) -> np.ndarray:
        a = self.prior[0] + self.sums_
        b = self.prior[1] + self.counts_ - self.sums_
        return np.argmax(rng.beta(a, b), axis=1)


@dataclass(frozen=True)
class SimulationResult:
    """Mean cumulative regret per step, final regret per run and pulls per arm."""

    cumulative_regret: np.ndarray
    final_regret: np.ndarray
    pulls: np.ndarray

    @property
    def regret_se(self) -> float:
        """Monte Carlo standard error of the mean final regret."""
        return float(self.final_regret.std(ddof=1) / np.sqrt(len(self.final_regret)))


def simulate(policy: Callable[..., Policy], arm_means: Sequence[float], horizon: int = 1000,
             runs: int = 100, random_state: int | np.random.Generator | None = None,
             **policy_options: Any) -> SimulationResult:
    """Run ``policy`` (a class) for ``horizon`` steps on Bernoulli arms, ``runs`` times at once."""
    mu = np.asarray(arm_means, dtype=float)
    if mu.ndim != 1 or np.any((mu < 0) | (mu > 1)):
        raise OptionError("arm_means must be probabilities in [0, 1]")
    rng = np.random.default_rng(random_state)
    pol = policy(len(mu), runs=runs, **policy_options)
    regret = np.zeros((runs, horizon))
    gap = mu.max() - mu
    for t in range(horizon):
        arms = pol.select(rng)
        rewards = (rng.random(runs) < mu[arms]).astype(float)
        pol.update(arms, rewards)
        regret[:, t] = gap[arms]
    cum = np.cumsum(regret, axis=1)
    return SimulationResult(cumulative_regret=cum.mean(axis=0), final_regret=cum[:, -1],
                            pulls=pol.counts_.mean(axis=0))


def off_policy_value(rewards: Any, actions: Any, propensities: Any, target_probs: Any,
                     reward_predictions: Any = None, alpha: float = 0.05) -> pd.DataFrame:
    """Value of a target policy from logged data: IPS, SNIPS and doubly robust, with SEs.

    A table of :func:`~causalkit.experiments.ope.ips`,
    :func:`~causalkit.experiments.ope.snips` and
    :func:`~causalkit.experiments.ope.dr` (which take obp's argument names and
    shapes, and give Switch-DR, DR-os and the other variants).

    Parameters
    ----------
    rewards, actions, propensities
        Logged reward, action index (0..K-1) and the logging policy's
        probability of that action, per row (obp's ``reward``, ``action``,
        ``pscore``).
    target_probs
        ``(n, K)`` probabilities of each action under the target policy
        (obp's ``action_dist``).
    reward_predictions
        ``(n, K)`` predicted reward of each action for each row (the direct
        model of the DR estimator; obp's ``estimated_rewards_by_reg_model``);
        default: the logged mean reward of each action (a context-free model).

    Notes
    -----
    Standard errors: sample SD / sqrt(n) of the per-row terms for IPS and DR;
    the delta method for the ratio SNIPS.

    Examples
    --------
    >>> r = off_policy_value([1, 0, 1, 1], [0, 1, 0, 1], [.5] * 4, [[1, 0]] * 4)
    >>> r.loc["ips", "estimate"], r.loc["snips", "estimate"]
    (np.float64(1.0), np.float64(1.0))
    """
    names = {"reward": "rewards", "action": "actions", "pscore": "propensities",
             "action_dist": "target_probs", "estimated_rewards_by_reg_model": "reward_predictions"}
    fb = logged_feedback(rewards, actions, propensities, target_probs, reward_predictions,
                         names=names)
    if reward_predictions is None:
        k = fb.pi.shape[1]
        sums = np.bincount(fb.action, weights=fb.reward, minlength=k)
        cnt = np.bincount(fb.action, minlength=k)
        means = np.divide(sums, cnt, out=np.zeros(k), where=cnt > 0)
        fb = logged_feedback(fb.reward, fb.action, fb.pscore, fb.pi,
                             np.broadcast_to(means, fb.pi.shape), names=names)
    fits = [mean_result("ips", fb, WEIGHT_MAPS["ips"].terms(fb, np.inf), None, alpha, "wald", 0, 0),
            snips_from_feedback(fb, alpha),
            mean_result("dr", fb, WEIGHT_MAPS["dr"].terms(fb, np.inf), None, alpha, "wald", 0, 0)]
    table = pd.DataFrame([{"method": f.method, "estimate": f.estimate, "std_error": f.std_error,
                           "ci_low": f.ci_low, "ci_high": f.ci_high} for f in fits]).set_index("method")
    table.attrs["effective_sample_size"] = fits[0].effective_sample_size
    return table
