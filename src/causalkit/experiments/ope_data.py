"""Logged bandit feedback for off-policy evaluation, checked once.

:func:`logged_feedback` takes the arrays in the layout of Open Bandit Pipeline
(``obp.ope``): per round the ``reward``, the logged ``action`` (an integer in
``0..K-1``), the logging policy's probability of it ``pscore``, the evaluation
policy's ``action_dist`` of shape ``(n, K)`` or ``(n, K, len_list)`` with the
slot ``position`` of each round (default 0), and optionally the reward model's
``estimated_rewards_by_reg_model`` of the same shape as ``action_dist``.  It
returns them at each round's position as a :class:`LoggedFeedback`, or raises a
:class:`~causalkit.errors.CausalKitError` subclass that names the argument.

Example
-------
>>> fb = logged_feedback([1.0, 0.0], [0, 1], [0.5, 0.5], [[1.0, 0.0], [0.5, 0.5]])
>>> fb.weights.tolist()
[2.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..errors import DataError, MissingValueError, NonNumericColumnError, ProbabilityError, TooFewRowsError

#: tolerance on ``sum_a action_dist[i, a, l] == 1``
SUM_TOLERANCE = 1e-6

_OBP_NAMES = {"reward": "reward", "action": "action", "pscore": "pscore",
              "action_dist": "action_dist", "position": "position",
              "estimated_rewards_by_reg_model": "estimated_rewards_by_reg_model"}


@dataclass(frozen=True)
class LoggedFeedback:
    """Logged rounds at each round's position: ``pi`` and ``q`` have shape ``(n, K)``."""

    reward: np.ndarray
    action: np.ndarray
    pscore: np.ndarray
    pi: np.ndarray
    q: np.ndarray | None

    @property
    def n(self) -> int:
        """Number of logged rounds."""
        return len(self.reward)

    @property
    def weights(self) -> np.ndarray:
        """Importance weights ``pi_e(a_i | x_i) / pi_b(a_i | x_i)``."""
        return self.pi[np.arange(self.n), self.action] / self.pscore

    @property
    def q_logged(self) -> np.ndarray:
        """Reward model at the logged action, ``q(x_i, a_i)``."""
        assert self.q is not None
        return self.q[np.arange(self.n), self.action]

    @property
    def q_policy(self) -> np.ndarray:
        """Reward model averaged over the evaluation policy, ``sum_a pi_e(a|x_i) q(x_i, a)``."""
        assert self.q is not None
        return np.sum(self.pi * self.q, axis=1)


def _numeric(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool:
        arr = arr.astype(float)
    if not (np.issubdtype(arr.dtype, np.number)):
        raise NonNumericColumnError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr.astype(float) if not np.issubdtype(arr.dtype, np.integer) else arr


def _finite(arr: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        first = np.argwhere(bad)[0].tolist()
        raise MissingValueError(f"{name} has {int(bad.sum())} NaN or infinite values "
                                f"(first at index {first[0] if len(first) == 1 else tuple(first)})")


def _integers(value: Any, name: str, upper: int) -> np.ndarray:
    arr = _numeric(value, name)
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        _finite(arr, name)
        if np.any(arr != np.round(arr)):
            raise DataError(f"{name} must hold integer indices, got non-integer values")
        arr = arr.astype(np.int64)
    out = (arr < 0) | (arr >= upper)
    if out.any():
        i = int(np.argmax(out))
        raise DataError(f"{name} must lie in 0..{upper - 1} (the columns of action_dist), "
                        f"got {int(arr[i])} at row {i}")
    return arr


def logged_feedback(reward: Any, action: Any, pscore: Any, action_dist: Any,
                    estimated_rewards_by_reg_model: Any = None, position: Any = None,
                    names: Mapping[str, str] | None = None) -> LoggedFeedback:
    """Check logged bandit feedback and return it at each round's position.

    ``names`` renames the arguments in error messages (for callers with their
    own argument names).  Errors: :class:`~causalkit.errors.DataError` for
    shapes, lengths and out-of-range action or position indices,
    :class:`~causalkit.errors.MissingValueError` for NaN/inf values,
    :class:`~causalkit.errors.ProbabilityError` for a ``pscore`` outside
    ``(0, 1]`` or an ``action_dist`` that is negative or whose rows do not sum
    to 1, :class:`~causalkit.errors.TooFewRowsError` for fewer than 2 rounds.

    >>> logged_feedback([1.0], [0], [0.5], [[1.0, 0.0]])
    Traceback (most recent call last):
    ...
    causalkit.errors.TooFewRowsError: off-policy evaluation needs at least 2 logged rounds, got 1
    """
    nm = {**_OBP_NAMES, **(names or {})}
    r = _numeric(reward, nm["reward"]).astype(float)
    if r.ndim != 1:
        raise DataError(f"{nm['reward']} must be one-dimensional, got shape {r.shape}")
    n = len(r)
    pi = _numeric(action_dist, nm["action_dist"]).astype(float)
    if pi.ndim == 2:
        pi = pi[:, :, None]
    if pi.ndim != 3:
        raise DataError(f"{nm['action_dist']} must have shape (n_rounds, n_actions) or "
                        f"(n_rounds, n_actions, len_list), got shape {pi.shape}")
    p = _numeric(pscore, nm["pscore"]).astype(float)
    lengths = {nm["reward"]: n, nm["action"]: len(np.atleast_1d(np.asarray(action))),
               nm["pscore"]: len(np.atleast_1d(p)), nm["action_dist"]: pi.shape[0]}
    if position is not None:
        lengths[nm["position"]] = len(np.atleast_1d(np.asarray(position)))
    if len(set(lengths.values())) > 1:
        raise DataError("logged arrays need one entry per round; got lengths "
                        + ", ".join(f"{k}={v}" for k, v in lengths.items()))
    if n < 2:
        raise TooFewRowsError(f"off-policy evaluation needs at least 2 logged rounds, got {n}")
    _finite(r, nm["reward"])
    _finite(p, nm["pscore"])
    _finite(pi, nm["action_dist"])
    if np.any((p <= 0) | (p > 1)):
        i = int(np.argmax((p <= 0) | (p > 1)))
        raise ProbabilityError(f"{nm['pscore']} (the logging policy's probability of the logged "
                               f"action) must lie in (0, 1], got {float(p[i])!r} at row {i}; a "
                               "zero-propensity action cannot be evaluated")
    if np.any(pi < 0) or np.any(pi > 1):
        raise ProbabilityError(f"{nm['action_dist']} must hold probabilities in [0, 1], got "
                               f"values in [{pi.min():g}, {pi.max():g}]")
    sums = pi.sum(axis=1)
    off = np.abs(sums - 1) > SUM_TOLERANCE
    if off.any():
        i, slot = (int(v) for v in np.argwhere(off)[0])
        raise ProbabilityError(f"{nm['action_dist']} must sum to 1 over actions in every round "
                               f"and position; row {i} (position {slot}) sums to {sums[i, slot]:.6g}")
    a = _integers(action, nm["action"], pi.shape[1])
    slots = (np.zeros(n, dtype=np.int64) if position is None
             else _integers(position, nm["position"], pi.shape[2]))
    rows = np.arange(n)
    q = None
    if estimated_rewards_by_reg_model is not None:
        qq = _numeric(estimated_rewards_by_reg_model, nm["estimated_rewards_by_reg_model"]).astype(float)
        if qq.ndim == 2:
            qq = qq[:, :, None]
        if qq.shape != pi.shape:
            raise DataError(f"{nm['estimated_rewards_by_reg_model']} must have the shape of "
                            f"{nm['action_dist']} {pi.shape}, got {qq.shape}")
        _finite(qq, nm["estimated_rewards_by_reg_model"])
        q = qq[rows, :, slots]
    return LoggedFeedback(reward=r, action=a, pscore=p, pi=pi[rows, :, slots], q=q)
