"""Exact policy trees (Athey & Wager 2021) and policy values, against brute force and econml."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalkit
from causalkit.cate import evaluate_policy, policy_tree
from causalkit.cate._scores import DRScores, scores_from_data
from causalkit.cate.policy import best_stump, exact_tree, fit_policy_tree
from causalkit.cate.uplift import policy_value
from causalkit.errors import DataError, OptionError


def _stump_brute(X, psi):
    """Best depth-1 reward by trying every threshold of every feature (and no split)."""
    best = max(psi.sum(), 0.0)
    for j in range(X.shape[1]):
        for c in np.unique(X[:, j])[:-1]:
            left = X[:, j] <= c
            best = max(best, max(psi[left].sum(), 0) + max(psi[~left].sum(), 0))
    return best


def _depth2_brute(X, psi):
    """Best depth-2 reward: every root split, then the brute-force best stump per side."""
    best = _stump_brute(X, psi)
    for j in range(X.shape[1]):
        for c in np.unique(X[:, j])[:-1]:
            left = X[:, j] <= c
            best = max(best, _stump_brute(X[left], psi[left]) + _stump_brute(X[~left], psi[~left]))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_exact_search_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, p = 40, 3
    X = rng.normal(size=(n, p))
    X[:, 2] = np.round(X[:, 2])                      # ties in one feature
    psi = rng.normal(size=n) + 0.8 * np.sign(X[:, 0]) * np.sign(X[:, 1])
    tree1, r1 = exact_tree(X, psi, ["a", "b", "c"], depth=1)
    tree2, r2 = exact_tree(X, psi, ["a", "b", "c"], depth=2)
    assert r1 == pytest.approx(_stump_brute(X, psi), abs=1e-10)
    assert r2 == pytest.approx(_depth2_brute(X, psi), abs=1e-10)
    # the reported reward is the reward of the tree returned
    from causalkit.cate.policy import apply_tree
    assert float(psi @ apply_tree(tree2, X)) == pytest.approx(r2, abs=1e-10)


def test_min_leaf_is_respected_and_matches_brute_force():
    rng = np.random.default_rng(11)
    n = 30
    X = rng.normal(size=(n, 2))
    psi = rng.normal(size=n)
    tree, reward = exact_tree(X, psi, ["a", "b"], depth=2, min_leaf=5)
    from causalkit.cate.policy import apply_tree

    def leaves(node, rows):
        if "action" in node:
            return [rows.sum()]
        left = rows & (X[:, node["index"]] <= node["threshold"])
        return leaves(node["left"], left) + leaves(node["right"], rows & ~left)

    assert min(leaves(tree, np.ones(n, bool))) >= 5
    # brute force with the same constraint
    best = max(psi.sum(), 0)

    def stump(rows):
        b = max(psi[rows].sum(), 0)
        for j in range(2):
            for c in np.unique(X[rows, j])[:-1]:
                left = rows & (X[:, j] <= c)
                if left.sum() >= 5 and (rows & ~left).sum() >= 5:
                    b = max(b, max(psi[left].sum(), 0) + max(psi[rows & ~left].sum(), 0))
        return b

    allrows = np.ones(n, bool)
    best = stump(allrows)
    for j in range(2):
        for c in np.unique(X[:, j])[:-1]:
            left = X[:, j] <= c
            if left.sum() >= 5 and (~left).sum() >= 5:
                best = max(best, stump(left) + stump(~left))
    assert reward == pytest.approx(best, abs=1e-10)
    assert float(psi @ apply_tree(tree, X)) == pytest.approx(reward, abs=1e-10)


def _design(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    e = 1 / (1 + np.exp(-0.5 * X[:, 0]))
    t = rng.binomial(1, e)
    tau = np.where((X[:, 0] > 0.5) & (X[:, 1] < 0), 2.0, -0.5) + 0.3 * X[:, 2]
    y = X[:, 0] + X[:, 3] + t * tau + rng.normal(size=n)
    df = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"]).assign(t=t, y=y)
    return df, tau


def test_exact_tree_is_at_least_as_good_as_econml_greedy_tree_on_the_same_scores():
    econml_policy = pytest.importorskip("econml.policy")
    df, _ = _design()
    scores = scores_from_data(df, "t", "y", ["x0", "x1", "x2", "x3"])
    ours = fit_policy_tree(scores, depth=2, min_leaf=5)
    theirs = econml_policy.PolicyTree(max_depth=2, min_samples_split=10, min_samples_leaf=5,
                                      honest=False, random_state=0)
    theirs.fit(scores.X, scores.gamma)
    their_actions = np.asarray(theirs.predict(scores.X)).astype(int)
    their_reward = float(scores.psi @ their_actions)
    assert ours.reward >= their_reward - 1e-9
    # the DR value of econml's rule, by our evaluator, is the mean of the chosen scores
    v = evaluate_policy(their_actions, _fake_effect(), df, random_state=0)
    chosen = scores.gamma[np.arange(scores.n), their_actions]
    assert v.value == pytest.approx(chosen.mean(), rel=1e-12)
    assert ours.value.value >= v.value - 1e-12
    # econml's DRPolicyTree (its own cross-fitted nuisances, then the greedy tree): its rule,
    # scored on the same DR scores, is no better than the exact optimum
    dr_tree = econml_policy.DRPolicyTree(model_regression=LinearRegression(),
                                         model_propensity=LogisticRegression(), cv=5,
                                         max_depth=2, min_samples_split=10, min_samples_leaf=5,
                                         honest=False, random_state=0)
    dr_tree.fit(df.y.to_numpy(), df.t.to_numpy(), X=scores.X)
    dr_actions = np.asarray(dr_tree.predict(scores.X)).astype(int)
    assert ours.reward >= float(scores.psi @ dr_actions) - 1e-9


def _fake_effect():
    return causalkit.Effect.from_estimate(method="t_learner", estimand="ATE", estimate=0.0,
                                          std_error=1.0, treatment="t", outcome="y",
                                          covariates=("x0", "x1", "x2", "x3"))


def test_policy_tree_from_an_effect_finds_the_true_rule_and_reports_its_value():
    df, tau = _design(n=1200, seed=3)
    eff = causalkit.estimate(df, "t", "y", method="dr_learner",
                             covariates=["x0", "x1", "x2", "x3"],
                             outcome_model=LinearRegression(),
                             propensity_model=LogisticRegression(),
                             final_model=LinearRegression(), cv=2)
    tree = policy_tree(eff, depth=2)                   # the dr_learner's own scores
    assert tree.splits["feature"] in ("x0", "x1")
    actions = tree.predict(df)
    assert np.array_equal(actions, tree.actions)
    # the true gain of the learned rule (mean tau over those it treats, times their share)
    # is most of the true gain of the depth-2 rule behind the design (x0 > 0.5 & x1 < 0);
    # treating no one gains 0
    oracle = ((df.x0 > 0.5) & (df.x1 < 0)).to_numpy().astype(int)
    assert np.mean(tau * actions) > 0.75 * np.mean(tau * oracle)
    # value = mean of Gamma_0 + pi psi with SE sd / sqrt(n), by hand
    s = causalkit.cate.policy.effect_scores(eff)
    terms = s.gamma[:, 0] + actions * s.psi
    assert tree.value.value == pytest.approx(terms.mean(), rel=1e-12)
    assert tree.value.value_std_error == pytest.approx(terms.std(ddof=1) / np.sqrt(len(terms)),
                                                       rel=1e-12)
    assert "if x" in tree.summary()
    # from any learner's Effect with data=, the scores are cross-fitted on the data
    t_eff = causalkit.estimate(df, "t", "y", method="t_learner",
                               covariates=["x0", "x1", "x2", "x3"], n_bootstrap=0,
                               model=LinearRegression())
    tree2 = policy_tree(t_eff, df, depth=1)
    assert tree2.depth == 1 and tree2.value.n_obs == len(df)
    with pytest.raises(DataError, match="pass data="):
        policy_tree(t_eff)


def test_the_ipw_value_reuses_the_uplift_policy_value():
    rng = np.random.default_rng(4)
    n = 2000
    s = rng.normal(size=n)
    t = rng.integers(0, 2, n)
    df = pd.DataFrame({"t": t, "y": s * t + rng.normal(size=n), "s": s})
    top_half = np.zeros(n)
    top_half[np.argsort(-s, kind="mergesort")[: n // 2]] = 1
    ours = evaluate_policy(top_half, _fake_effect(), df, method="ipw")
    ref = policy_value(df.y, df.t, s, top=0.5)
    assert ours.value == pytest.approx(ref.value, rel=1e-12)
    assert ours.gain_std_error == pytest.approx(ref.gain_std_error, rel=1e-12)


def test_bad_policy_inputs_are_clear():
    df, _ = _design(n=300)
    scores = scores_from_data(df, "t", "y", ["x0"])
    with pytest.raises(OptionError, match="depth"):
        fit_policy_tree(scores, depth=3)
    with pytest.raises(OptionError, match="min_leaf"):
        fit_policy_tree(scores, min_leaf=0)
    with pytest.raises(DataError, match="decisions"):
        evaluate_policy(np.ones(5), _fake_effect(), df)
    bad = DRScores(scores.gamma, np.empty((scores.n, 0)), (), "x")
    with pytest.raises(DataError, match="covariate"):
        fit_policy_tree(bad)
