"""Policy learning from doubly robust scores: exact policy trees and policy values.

S. Athey and S. Wager (2021), "Policy learning with observational data",
Econometrica 89(1), 133-161: the rule ``pi(x) in {0, 1}`` maximizing the doubly
robust estimate of its value

    V(pi) = P_n[Gamma_0 + pi(X) (Gamma_1 - Gamma_0)]

over a class of rules, here trees of depth 1 or 2 with axis-aligned splits
``x_j <= c``.  The search is exact (every split of every feature at every level, as
R's ``policytree``, Sverdrup et al. 2020): depth 1 by a sorted scan of each feature
(``O(p n log n)``), depth 2 by, for every root split, the best depth-1 tree of each
side, from running sums of the scores along each child feature's order restricted to
the side (``O(p^2 n^2)`` steps of a compiled scan, :mod:`~causalkit.cate._policy_kernels`).
A leaf treats when the sum of its scores
``psi = Gamma_1 - Gamma_0`` is positive.  econml's ``PolicyTree`` grows the same
trees greedily, so its in-sample value is never above this one.

:func:`evaluate_policy` gives the value of any rule, DR (from the scores) or IPW (the
estimator of :func:`causalkit.cate.uplift.policy_value`, for a known propensity), with
the standard error ``sd / sqrt(n)`` of the per-unit terms, treating the rule as fixed
(learned on other data; in-sample, the value of the learned tree is optimistic).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n = 600; x1, x2 = rng.normal(size=(2, n)); t = rng.integers(0, 2, n)
>>> df = pd.DataFrame({"x1": x1, "x2": x2, "t": t,
...                    "y": x2 + t * np.where(x1 > 0.3, 1.0, -1.0) + rng.normal(size=n)})
>>> from causalkit.cate._scores import scores_from_data
>>> tree = fit_policy_tree(scores_from_data(df, "t", "y", ["x1", "x2"]), depth=1)
>>> tree.splits["feature"], bool(abs(tree.splits["threshold"] - 0.3) < 0.3)
('x1', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..inference import check_alpha, wald
from ._policy_kernels import children_rewards
from ._scores import DRScores, effect_scores
from .uplift import ipw_value_terms


# ------------------------------------------------------------------ policy values
@dataclass(frozen=True)
class RuleValue:
    """The estimated mean outcome under a rule and its gain over treating no one."""

    method: str
    value: float
    value_std_error: float
    value_ci_low: float
    value_ci_high: float
    gain: float
    gain_std_error: float
    gain_ci_low: float
    gain_ci_high: float
    share_treated: float
    n_obs: int

    def to_frame(self) -> pd.DataFrame:
        """One-row frame."""
        return pd.DataFrame([self.__dict__])


def rule_value(value_terms: np.ndarray, gain_terms: np.ndarray, rule: np.ndarray,
               method: str, alpha: float = 0.05) -> RuleValue:
    """A :class:`RuleValue` from per-unit value and gain terms (SE ``sd / sqrt(n)``).

    >>> r = rule_value(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0]),
    ...                np.array([0, 1, 1]), "dr")
    >>> r.value, r.gain, round(r.share_treated, 3)
    (2.0, 1.0, 0.667)
    """
    alpha = check_alpha(alpha)
    root_n = np.sqrt(len(value_terms))
    v, g = float(np.mean(value_terms)), float(np.mean(gain_terms))
    v_se = float(np.std(value_terms, ddof=1) / root_n)
    g_se = float(np.std(gain_terms, ddof=1) / root_n)
    wv, wg = wald(v, v_se, alpha=alpha), wald(g, g_se, alpha=alpha)
    return RuleValue(method, v, v_se, wv.ci_low, wv.ci_high, g, g_se, wg.ci_low, wg.ci_high,
                     float(np.mean(rule)), int(len(value_terms)))


def dr_value(scores: DRScores, rule: np.ndarray, alpha: float = 0.05) -> RuleValue:
    """DR value ``P_n[Gamma_0 + pi psi]`` and gain ``P_n[pi psi]`` of the rule ``pi``."""
    pi = _check_rule(rule, scores.n)
    gain_terms = pi * scores.psi
    return rule_value(scores.gamma[:, 0] + gain_terms, gain_terms, pi, "doubly robust", alpha)


def _check_rule(rule: Any, n: int) -> np.ndarray:
    pi = np.asarray(rule, dtype=float).ravel()
    if pi.size != n:
        raise DataError(f"the rule gives {pi.size} decisions for {n} units")
    if not np.all((pi >= 0) & (pi <= 1)):
        raise DataError("a rule's decisions must be 0/1 (or treatment probabilities in [0, 1])")
    return pi


def evaluate_policy(rule: Any, effect: Any, data: Any = None, method: str = "dr",
                    propensity: Any = None, alpha: float = 0.05, **options: Any) -> RuleValue:
    """Value of any treatment rule, with its SE, on the data of a binary-treatment Effect.

    Parameters
    ----------
    rule
        0/1 decisions (or probabilities) per row, or a callable mapping the data
        (a DataFrame) to them, e.g. ``tree.predict``.
    effect, data
        The Effect gives the treatment and outcome columns (and covariates for the DR
        nuisances); ``data`` the rows (optional for a ``dr_learner`` Effect, whose own
        scores are used).
    method
        ``"dr"`` (default): doubly robust, from cross-fitted AIPW scores.  ``"ipw"``:
        inverse propensity weighting with a known ``propensity`` (default: the treated
        share, a randomized design), the estimator of
        :func:`causalkit.cate.uplift.policy_value`.
    options
        Passed to the DR score fit (``propensity_model``, ``outcome_model``, ``n_folds``,
        ``clip``, ``random_state``).
    """
    if method not in ("dr", "ipw"):
        raise OptionError(f"method must be 'dr' or 'ipw', got {method!r}")
    frame = None if data is None else (data if isinstance(data, pd.DataFrame)
                                       else pd.DataFrame(data))
    decisions = rule(frame) if callable(rule) else rule
    if method == "dr":
        return dr_value(effect_scores(effect, frame, **options), decisions, alpha)
    if frame is None:
        raise DataError("method='ipw' needs data= (the outcome and treatment columns)")
    y = frame[effect.outcome].to_numpy(float)
    t = frame[effect.treatment].to_numpy(float)
    pi = _check_rule(decisions, len(y))
    value_terms, gain_terms = ipw_value_terms(y, t, pi, propensity)
    return rule_value(value_terms, gain_terms, pi, "inverse propensity weighting", alpha)


# ------------------------------------------------------------------ exact tree search
def _boundaries(sorted_x: np.ndarray, min_leaf: int) -> np.ndarray:
    """Positions m (0-based: left = first m + 1 units) where a split between distinct
    values leaves at least ``min_leaf`` units on each side."""
    n = sorted_x.size
    m = np.flatnonzero(sorted_x[:-1] < sorted_x[1:])
    return m[(m + 1 >= min_leaf) & (n - m - 1 >= min_leaf)]


def best_stump(X: np.ndarray, psi: np.ndarray, min_leaf: int = 1) -> dict[str, Any]:
    """The best depth-1 tree (or a single leaf) on the rows given, by a sorted scan.

    Returns ``{"reward", "feature" (index or None), "threshold", "left", "right"}``,
    the leaves being 0/1 actions; ``reward`` is the sum of ``psi`` over treated units.

    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); psi = np.array([-1.0, -1.0, 2.0, 1.0])
    >>> s = best_stump(X, psi); s["feature"], s["threshold"], s["left"], s["right"], s["reward"]
    (0, 1.0, 0, 1, 3.0)
    """
    total = float(psi.sum())
    best: dict[str, Any] = {"reward": max(total, 0.0), "feature": None, "threshold": np.nan,
                            "left": int(total > 0), "right": int(total > 0)}
    for j in range(X.shape[1]):
        order = np.argsort(X[:, j], kind="mergesort")
        xs = X[order, j]
        cum = np.cumsum(psi[order])
        m = _boundaries(xs, min_leaf)
        if m.size == 0:
            continue
        left = cum[m]
        reward = np.maximum(left, 0) + np.maximum(total - left, 0)
        k = int(np.argmax(reward))
        if reward[k] > best["reward"] + 1e-12 * (1 + abs(best["reward"])):
            best = {"reward": float(reward[k]), "feature": j, "threshold": float(xs[m[k]]),
                    "left": int(left[k] > 0), "right": int(total - left[k] > 0)}
    return best


def _best_children(X: np.ndarray, psi: np.ndarray, j: int, min_leaf: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the root feature ``j``: the valid root positions and, at each, the best
    depth-1 reward of the left and of the right side (every child feature scanned by the
    compiled :func:`~causalkit.cate._policy_kernels.children_rewards`)."""
    n, p = X.shape
    order_j = np.argsort(X[:, j], kind="mergesort")
    roots = _boundaries(X[order_j, j], min_leaf)
    rank = np.empty(n, dtype=np.int64)
    rank[order_j] = np.arange(n)
    best_left = np.full(roots.size, -np.inf)
    best_right = np.full(roots.size, -np.inf)
    for jj in range(p):
        order = np.argsort(X[:, jj], kind="mergesort")
        bl, br = children_rewards(roots.astype(np.int64), rank[order],
                                  np.ascontiguousarray(X[order, jj]),
                                  np.ascontiguousarray(psi[order]), int(min_leaf))
        np.maximum(best_left, bl, out=best_left)
        np.maximum(best_right, br, out=best_right)
    return roots, best_left, best_right


def _leaf(action: int) -> dict[str, Any]:
    return {"action": int(action)}


def _node(stump: dict[str, Any], names: Sequence[Any]) -> dict[str, Any]:
    if stump["feature"] is None:
        return _leaf(stump["left"])
    return {"feature": names[stump["feature"]], "index": stump["feature"],
            "threshold": stump["threshold"], "left": _leaf(stump["left"]),
            "right": _leaf(stump["right"])}


def exact_tree(X: np.ndarray, psi: np.ndarray, names: Sequence[Any], depth: int = 2,
               min_leaf: int = 1) -> tuple[dict[str, Any], float]:
    """The reward-maximizing tree of the given depth (0, 1 or 2) as a nested dict, and its
    reward (sum of ``psi`` over the treated units)."""
    if depth == 0:
        total = float(psi.sum())
        return _leaf(int(total > 0)), max(total, 0.0)
    root = best_stump(X, psi, min_leaf)
    if depth == 1:
        return _node(root, names), root["reward"]
    best_reward: float = float(root["reward"])
    best_split: tuple[int, float] | None = None
    for j in range(X.shape[1]):
        roots, bl, br = _best_children(X, psi, j, min_leaf)
        if roots.size == 0:
            continue
        total = bl + br
        k = int(np.argmax(total))
        if total[k] > best_reward + 1e-12 * (1 + abs(best_reward)):
            order_j = np.argsort(X[:, j], kind="mergesort")
            best_reward, best_split = float(total[k]), (j, float(X[order_j[roots[k]], j]))
    if best_split is None:
        return _node(root, names), root["reward"]
    j, c = best_split
    goes_left = X[:, j] <= c
    left = best_stump(X[goes_left], psi[goes_left], min_leaf)
    right = best_stump(X[~goes_left], psi[~goes_left], min_leaf)
    tree = {"feature": names[j], "index": j, "threshold": c,
            "left": _node(left, names), "right": _node(right, names)}
    return tree, left["reward"] + right["reward"]


def apply_tree(tree: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """The 0/1 actions of a tree (nested dict) for the rows of ``X``.

    >>> apply_tree({"index": 0, "threshold": 0.5, "left": {"action": 0},
    ...             "right": {"action": 1}}, np.array([[0.0], [1.0]])).tolist()
    [0, 1]
    """
    if "action" in tree:
        return np.full(len(X), tree["action"], dtype=int)
    left = X[:, tree["index"]] <= tree["threshold"]
    out = np.empty(len(X), dtype=int)
    out[left] = apply_tree(tree["left"], X[left])
    out[~left] = apply_tree(tree["right"], X[~left])
    return out


def _describe(tree: dict[str, Any], indent: str = "") -> list[str]:
    if "action" in tree:
        return [f"{indent}-> {'treat' if tree['action'] else 'do not treat'}"]
    lines = [f"{indent}if {tree['feature']} <= {tree['threshold']:.6g}:"]
    lines += _describe(tree["left"], indent + "    ")
    lines.append(f"{indent}else:")
    return lines + _describe(tree["right"], indent + "    ")


@dataclass(frozen=True)
class PolicyTree:
    """An exact policy tree: ``splits`` (nested dict), its in-sample DR ``value``, the
    covariates it splits on, and :meth:`predict` for new rows."""

    splits: dict[str, Any]
    depth: int
    covariates: tuple[Any, ...]
    value: RuleValue
    reward: float
    source: str
    actions: np.ndarray = field(repr=False)

    def predict(self, new_data: Any) -> np.ndarray:
        """0/1 actions for new rows (a DataFrame with the covariates, or a 2-D array)."""
        if isinstance(new_data, np.ndarray):
            X = np.asarray(new_data, dtype=float)
        else:
            frame = new_data if isinstance(new_data, pd.DataFrame) else pd.DataFrame(new_data)
            missing = [c for c in self.covariates if c not in frame.columns]
            if missing:
                raise DataError(f"new data lack the tree's covariate(s) {missing}")
            X = frame[list(self.covariates)].to_numpy(dtype=float)
        if X.ndim != 2 or X.shape[1] != len(self.covariates):
            raise DataError(f"new data must have {len(self.covariates)} covariate column(s)")
        return apply_tree(self.splits, X)

    def summary(self) -> str:
        """The rule as text with its in-sample DR value."""
        v = self.value
        head = (f"Exact policy tree (depth {self.depth}) on {v.n_obs} units; scores: "
                f"{self.source}\nDR value {v.value:.4f} (SE {v.value_std_error:.4f}), gain "
                f"over treating no one {v.gain:.4f} (SE {v.gain_std_error:.4f}), treats "
                f"{v.share_treated:.1%} (in-sample: optimistic)\n")
        return head + "\n".join(_describe(self.splits))

    def __str__(self) -> str:
        return self.summary()


def fit_policy_tree(scores: DRScores, depth: int = 2, min_leaf: int = 1,
                    alpha: float = 0.05) -> PolicyTree:
    """The exact policy tree of ``depth`` on DR ``scores`` (see the module docstring)."""
    if isinstance(depth, bool) or depth not in (0, 1, 2):
        raise OptionError(f"depth must be 0, 1 or 2 (exact search), got {depth!r}")
    if isinstance(min_leaf, bool) or not isinstance(min_leaf, (int, np.integer)) \
            or min_leaf < 1:
        raise OptionError(f"min_leaf must be a positive integer, got {min_leaf!r}")
    if scores.X.shape[1] == 0:
        raise DataError("a policy tree needs at least one covariate to split on")
    if not (np.all(np.isfinite(scores.X)) and np.all(np.isfinite(scores.gamma))):
        raise DataError("the covariates or DR scores hold NaN or infinite values")
    tree, reward = exact_tree(scores.X, scores.psi, scores.covariates, int(depth), int(min_leaf))
    actions = apply_tree(tree, scores.X)
    return PolicyTree(tree, int(depth), scores.covariates, dr_value(scores, actions, alpha),
                      float(reward), scores.source, actions)


def policy_tree(effect: Any, data: Any = None, depth: int = 2, covariates: Any = None,
                min_leaf: int = 1, alpha: float = 0.05, **options: Any) -> PolicyTree:
    """The optimal depth-1 or depth-2 treatment rule for a binary-treatment Effect (exact search).

    The DR scores are the Effect's own (a ``dr_learner`` with ``data=None``) or are
    cross-fitted on ``data`` (``options``: ``propensity_model``, ``outcome_model``,
    ``n_folds``, ``clip``, ``random_state``).  ``covariates`` are the features the
    tree may split on (default: the Effect's).
    """
    return fit_policy_tree(effect_scores(effect, data, covariates, **options), depth,
                           min_leaf, alpha)


__all__ = ["PolicyTree", "RuleValue", "apply_tree", "best_stump", "dr_value",
           "evaluate_policy", "exact_tree", "fit_policy_tree", "policy_tree", "rule_value"]
