"""Interleaving: team-draft / balanced merges, credit, level and power against an A/B test."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalkit.errors import DataError, OptionError
from causalkit.experiments import interleave, interleaving_analysis, sample_size_proportions

A = list("abcdefghij")
B = list("cbaedfhgji")


def test_team_draft_invariants():
    rng = np.random.default_rng(0)
    for _ in range(200):
        il = interleave(A, B, "team_draft", length=8, random_state=rng)
        assert len(set(il.documents)) == 8
        teams = np.array(il.teams)
        # after every pair of picks the teams are even; a team's documents follow its own ranking
        assert all(abs((teams[:j] == 0).sum() - (teams[:j] == 1).sum()) <= 1 for j in range(9))
        for team, ranking in ((0, A), (1, B)):
            mine = [ranking.index(d) for d, t in zip(il.documents, il.teams) if t == team]
            assert mine == sorted(mine)


def test_balanced_prefixes_hold_both_top_lists():
    for seed in range(20):
        il = interleave(A, B, "balanced", random_state=seed)
        for j in range(1, len(il.documents) + 1):
            prefix = set(il.documents[:j])
            ka = next(k for k in range(len(A) + 1) if k == len(A) or A[k] not in prefix)
            kb = next(k for k in range(len(B) + 1) if k == len(B) or B[k] not in prefix)
            assert abs(ka - kb) <= 1 or min(ka, kb) == len(A)


def test_balanced_credit_by_hand():
    # Joachims (2003): merged a, b, c, ... ; clicks on "b" and "d": lowest clicked d has rank 4
    # in A and 5 in B -> k = 4: top-4 of A = {a,b,c,d} has 2 clicks, top-4 of B = {c,b,a,e} has 1
    il = interleave(A, B, "balanced", random_state=0)
    assert il.credit(["b", "d"]) == (2, 1)
    with pytest.raises(DataError, match="not in the interleaved"):
        il.credit(["zz"])


def _clicks(docs, relevant, rng):
    exam = 1.0 / (1 + np.arange(len(docs)))
    p = exam * np.where([d in relevant for d in docs], 0.6, 0.05)
    return [d for d, c in zip(docs, rng.random(len(docs)) < p) if c]


def _impressions(ra, rb, relevant, n, method, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n):
        il = interleave(ra, rb, method, length=6, random_state=rng)
        ca, cb = il.credit(_clicks(il.documents, relevant, rng))
        rows.append((u // 3, ca, cb))
    return pd.DataFrame(rows, columns=["user", "credit_a", "credit_b"])


@pytest.mark.parametrize("method", ["team_draft", "balanced"])
def test_identical_rankers_hold_the_level(method):
    # 100 simulated experiments of 150 impressions: MC SE of a 5% level is 2.2%; ~3 SE (the
    # exact sign test is conservative, so only the upper side is a failure)
    rel = {"c", "e", "h"}
    rej = sum(interleaving_analysis(_impressions(A, A, rel, 150, method, s)).p_value < 0.05
              for s in range(100))
    assert rej / 100 < 0.05 + 0.065


def test_planted_better_ranker_needs_far_fewer_users_than_ab_ctr():
    rel = {"c", "e", "h"}
    better = list("acbedfghij")                 # B moves two relevant documents up one place
    df = _impressions(A, better, rel, 6000, "team_draft", 1)
    res = interleaving_analysis(df, unit="user")
    assert res.preference > 0 and res.p_value < 1e-6 and res.unit_p_value < 1e-6
    # users for 80% power: the sign test on non-tied impressions (normal approximation) ...
    share, untied = res.share_b, (res.wins_a + res.wins_b) / res.n
    n_il = ((stats.norm.isf(0.025) * 0.5 + stats.norm.isf(0.2) * np.sqrt(share * (1 - share)))
            / (share - 0.5)) ** 2 / untied
    # ... against an A/B test of "clicked anything" on each ranker's own list
    rng = np.random.default_rng(2)
    ctr = [np.mean([len(_clicks(r[:6], rel, rng)) > 0 for _ in range(20000)]) for r in (A, better)]
    n_ab = 2 * sample_size_proportions(ctr[0], ctr[1]).n_control
    assert n_ab / n_il > 5
    print(f"interleaving needs {n_il:.0f} users, A/B on CTR {n_ab}: ratio {n_ab / n_il:.1f}")


def test_analysis_by_hand_and_bad_input():
    df = pd.DataFrame({"credit_a": [1, 0, 0, 2, 1], "credit_b": [0, 1, 1, 2, 3]})
    r = interleaving_analysis(df)
    assert (r.wins_a, r.wins_b, r.ties) == (1, 3, 1)
    assert r.preference == pytest.approx((3 + 0.5) / 5 - 0.5)
    assert r.p_value == pytest.approx(stats.binomtest(3, 4).pvalue)
    with pytest.raises(OptionError, match="method"):
        interleave(A, B, "probabilistic")
    with pytest.raises(DataError, match="twice"):
        interleave(["a", "a"], B)
