"""Rosenbaum bounds: the lead example of Rosenbaum (2002, ch. 4) and brute-force worst cases."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalkit
from causalkit.errors import SensitivityNotApplicableError
from causalkit.sensitivity import rosenbaum
from causalkit.sensitivity.rosenbaum import (aligned_scores, rosenbaum_bounds,
                                             separable_moments)

# Morton et al. (1982) as in Rosenbaum (2002, ch. 4): blood lead of 33 exposed children
# and their matched controls (the table of the book, as typed in rbounds' documentation).
EXPOSED = np.array([38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15, 10, 45,
                    39, 22, 35, 49, 48, 44, 35, 43, 39, 34, 13, 73, 25, 27], float)
CONTROL = np.array([16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24, 13, 9,
                    14, 21, 19, 7, 18, 19, 12, 11, 22, 25, 16, 13, 11, 13], float)


def test_lead_example():
    # R's convention for the one zero difference (dropped before ranking, zeros="wilcox"),
    # that of wilcox.exact and rbounds' psens; Rosenbaum's own (Pratt) is tested below.
    table = rosenbaum_bounds(EXPOSED, CONTROL, gammas=[1, 2, 3, 4, 5, 6], zeros="wilcox")
    # Published (exact Wilcoxon, wilcox.exact on these pairs): V = 499, two-sided
    # p = 8.037e-07, so the one-sided exact p at Gamma = 1 is 4.02e-07.
    assert table.attrs["statistic"] == 499
    assert table.loc[0, "p_upper"] == pytest.approx(8.037e-07 / 2, rel=1e-3)
    assert table.loc[0, "p_upper"] == table.loc[0, "p_lower"]
    # The normal approximation (rbounds' psens): E = p+ sum(r), V = p+ (1 - p+) sum(r^2).
    normal = rosenbaum_bounds(EXPOSED, CONTROL, gammas=[1, 2, 3, 4, 5, 6], method="normal",
                              zeros="wilcox")
    d = EXPOSED - CONTROL
    d = d[d != 0]
    r = stats.rankdata(np.abs(d))
    for gamma, p in zip(normal.gamma, normal.p_upper):
        pp = gamma / (1 + gamma)
        z = (499 - pp * r.sum()) / math.sqrt(pp * (1 - pp) * (r**2).sum())
        assert p == pytest.approx(stats.norm.sf(z), rel=1e-10)
    # Rosenbaum's conclusion: the lead effect is insensitive to Gamma = 4 and sensitive
    # by Gamma = 5 at the 0.05 level.
    assert normal.loc[3, "p_upper"] < 0.05 < normal.loc[4, "p_upper"]
    crit = normal.attrs["gamma_critical"]
    assert 4 < crit < 5
    p_crit = rosenbaum_bounds(EXPOSED, CONTROL, gammas=[crit], method="normal",
                              zeros="wilcox").p_upper[0]
    assert p_crit == pytest.approx(0.05, abs=1e-6)
    # The HL interval widens with Gamma and contains the Gamma = 1 estimate.
    assert (np.diff(table.hl_lower) <= 0).all() and (np.diff(table.hl_upper) >= 0).all()


def _sen_wilcox_deviate(d, tau, gamma, upper=True):
    """The deviate of Rosenbaum's ``DOS2::senWilcox`` (its documented definition, written
    out here): scores ``rank(|d - tau|) * (|d - tau| > 0)``, the statistic their sum over
    the positive differences, at most ``p sum(scores)`` in expectation with variance
    ``p (1 - p) sum(scores^2)``, ``p = Gamma / (1 + Gamma)``; ``upper=False`` is the same
    for ``tau - d`` (the upper Hodges-Lehmann bound)."""
    dt = (d - tau) if upper else (tau - d)
    a = np.abs(dt)
    score = stats.rankdata(a) * (a > 0)
    p = gamma / (1 + gamma)
    return (score[dt > 0].sum() - p * score.sum()) / math.sqrt(p * (1 - p) * (score**2).sum())


def test_lead_example_in_rosenbaums_convention():
    """Rosenbaum (2002), Observational Studies, 2nd ed., Sec. 4.3 (Tables 4.3 and 4.4), the
    lead example of Morton et al. (1982), in the book's convention for the one zero pair
    difference: ranked with the others, then scoring 0 (Pratt 1959).  Rosenbaum's package
    DOS2 documents ``senWilcox(lead$dif, gamma=1)`` and ``gamma=2`` (conf.int=TRUE) as
    reproducing parts of those tables, and ``senWilcox(lead$dif, gamma=5)`` as the
    Wilcoxon entry of Table 2 of Rosenbaum (2011, Biometrics 67:1017); the deviate of
    senWilcox is written out above from its documentation.  Our figures: T = 527, upper
    bounds 0.0018, 0.0136, 0.0388, 0.0740 at Gamma = 2, 3, 4, 5 (normal approximation)."""
    d = EXPOSED - CONTROL
    gammas = [1, 2, 3, 4, 5, 6]
    table = rosenbaum_bounds(EXPOSED, CONTROL, gammas=gammas, method="normal")
    assert "zeros: pratt" in table.attrs["method"]
    # 499 in R's convention, plus one rank for each of the 28 positive differences
    assert table.attrs["statistic"] == 527 == 499 + int((d > 0).sum())
    for gamma, upper in zip(table.gamma, table.p_upper):
        assert upper == pytest.approx(stats.norm.sf(_sen_wilcox_deviate(d, 0.0, gamma)),
                                      rel=1e-10)
    assert [round(p, 4) for p in table.p_upper[1:5]] == [0.0018, 0.0136, 0.0388, 0.0740]
    assert table.p_upper[3] < 0.05 < table.p_upper[4]       # insensitive to 4, not to 5
    # each Hodges-Lehmann bound is a crossing of senWilcox's estimating equation
    for gamma, lo, hi in zip(table.gamma, table.hl_lower, table.hl_upper):
        assert _sen_wilcox_deviate(d, lo - 0.01, gamma) >= 0 >= \
            _sen_wilcox_deviate(d, lo + 0.01, gamma)
        assert _sen_wilcox_deviate(d, hi - 0.01, gamma, upper=False) <= 0 <= \
            _sen_wilcox_deviate(d, hi + 0.01, gamma, upper=False)
    # the Hodges-Lehmann estimate at Gamma = 1: the median of the 561 Walsh averages
    walsh = [(d[i] + d[j]) / 2 for i in range(33) for j in range(i, 33)]
    assert np.median(walsh) == 15.0                       # bisection to 1e-9 of the span
    assert table.hl_lower[0] == table.hl_upper[0] == pytest.approx(15.0, abs=1e-6)
    # the conventions differ in T, not in the Hodges-Lehmann bounds
    other = rosenbaum_bounds(EXPOSED, CONTROL, gammas=gammas, method="normal", zeros="wilcox")
    assert other.attrs["statistic"] == 499
    assert other.hl_lower.tolist() == table.hl_lower.tolist()
    with pytest.raises(causalkit.CausalKitError, match="zeros"):
        rosenbaum_bounds(EXPOSED, CONTROL, zeros="drop")


def test_exact_bound_with_a_zero_difference_equals_enumeration():
    """Pratt's convention, exactly: the zero pair carries no score, the others keep the
    ranks they have among all pairs; the worst case flips each sign with p = G / (1 + G)."""
    d = np.array([2.0, -1.0, 3.5, 0.0, 3.5, -2.5, 1.0])           # a zero and ties
    ranks = stats.rankdata(np.abs(d))
    nz = d != 0
    table = rosenbaum_bounds(d, np.zeros_like(d), gammas=[1.0, 2.5], method="exact")
    t_obs = float(ranks[d > 0].sum())
    assert table.attrs["statistic"] == t_obs
    signs = np.array(list(itertools.product([0, 1], repeat=int(nz.sum()))))
    totals = signs @ ranks[nz]
    for gamma, upper in zip(table.gamma, table.p_upper):
        p = gamma / (1 + gamma)
        prob = np.prod(np.where(signs == 1, p, 1 - p), axis=1)
        assert upper == pytest.approx(float(prob[totals >= t_obs - 1e-9].sum()), rel=1e-12)


def _worst_case_pairs(d, gamma, t_obs, worst=max):
    """Max (min) over every binary u of the exact P(T >= t_obs) under the sensitivity model."""
    n = len(d)
    r = stats.rankdata(np.abs(d))
    z = np.array(list(itertools.product([0, 1], repeat=n)))   # z_i = 1: labels as observed
    t = ((z == 1) == (d > 0)) @ r
    hit = t >= t_obs - 1e-9
    best = None
    for u in itertools.product([0, 1], repeat=2 * n):
        u = np.array(u).reshape(n, 2)
        # pair i: P(the unit with the observed "treated" label is the treated one)
        p = gamma ** u[:, 0] / (gamma ** u[:, 0] + gamma ** u[:, 1])
        prob = float(np.prod(np.where(z == 1, p, 1 - p), axis=1)[hit].sum())
        best = prob if best is None else worst(best, prob)
    return best


def test_pairs_exact_bound_equals_brute_force_worst_case():
    d = np.array([2.0, -1.0, 3.5, 0.5, 3.5, -2.5])           # a tie among |d|
    treated, control = d, np.zeros_like(d)
    table = rosenbaum_bounds(treated, control, gammas=[1.0, 2.0, 3.0], method="exact")
    t_obs = table.attrs["statistic"]
    for gamma, up, lo in zip(table.gamma, table.p_upper, table.p_lower):
        assert up == pytest.approx(_worst_case_pairs(d, gamma, t_obs, max), rel=1e-10)
        assert lo == pytest.approx(_worst_case_pairs(d, gamma, t_obs, min), rel=1e-10)


def test_separable_moments_equal_brute_force_over_u():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(4, 4))
    q = aligned_scores(y)
    for gamma in (1.5, 3.0):
        mean, var = separable_moments(q, gamma)
        lo_mean, _ = separable_moments(q, gamma, largest=False)
        for s in range(4):
            cands = []
            for u in itertools.product([0, 1], repeat=4):
                w = gamma ** np.array(u)
                p = w / w.sum()
                m = float(p @ q[s])
                cands.append((m, float(p @ q[s] ** 2) - m * m))
            top = max(c[0] for c in cands)
            assert mean[s] == pytest.approx(top, rel=1e-12)
            assert var[s] == pytest.approx(max(v for m, v in cands if m > top - 1e-12))
            assert lo_mean[s] == pytest.approx(min(c[0] for c in cands), rel=1e-12)


def test_hodges_lehmann_bounds_are_the_walsh_average_quantiles():
    rng = np.random.default_rng(1)
    d = rng.normal(1.0, 1.0, size=25)                          # no ties
    table = rosenbaum_bounds(d, np.zeros(25), gammas=[1.0, 2.0])
    walsh = np.sort([(d[i] + d[j]) / 2 for i in range(25) for j in range(i, 25)])
    M = len(walsh)
    for gamma, lo, hi in zip(table.gamma, table.hl_lower, table.hl_upper):
        for p, value in ((gamma / (1 + gamma), lo), (1 / (1 + gamma), hi)):
            mu = p * M        # #{Walsh averages > tau} = mu
            est = 0.5 * (walsh[M - math.floor(mu) - 1] + walsh[M - math.ceil(mu)])
            assert value == pytest.approx(est, abs=1e-7)
    assert table.hl_lower[0] == pytest.approx(np.median(walsh), abs=1e-7)


def _matching_data(n=400, seed=0, effect=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(1.0 - 0.8 * x))).astype(int)
    return pd.DataFrame({"t": t, "x": x, "y": effect * t + x + rng.normal(size=n)})


def test_from_a_matching_effect_pairs_and_1_to_k():
    df = _matching_data()
    eff = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["x"],
                             replace=False)
    table = eff.sensitivity("rosenbaum", gammas=[1, 1.5, 2], data=df)
    assert table.attrs["n_sets"] == eff.diagnostics["n_matched_treated"]
    assert table.p_upper[0] < 0.01 and table.attrs["gamma_critical"] > 1
    assert "Rosenbaum" in eff.summary()
    eff2 = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["x"],
                              replace=False, n_neighbors=2, caliper=None)
    table2 = rosenbaum(eff2, gammas=[1, 2], data=df)
    assert "aligned-rank" in table2.attrs["method"]
    assert table2.hl_lower[1] < table2.hl_lower[0] <= table2.hl_upper[0] < table2.hl_upper[1]
    atc = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["x"],
                             replace=False, estimand="ATC", caliper=None)
    assert rosenbaum(atc, gammas=[1], data=df).hl_lower[0] > 0.5


def test_rosenbaum_refuses_what_it_does_not_apply_to():
    df = _matching_data()
    ate = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["x"],
                             estimand="ATE")
    with pytest.raises(SensitivityNotApplicableError, match="ATT"):
        rosenbaum(ate, data=df)
    ipw = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x"])
    with pytest.raises(SensitivityNotApplicableError, match="propensity_matching"):
        ipw.sensitivity("rosenbaum", data=df)
    with pytest.raises(causalkit.CausalKitError, match="gammas"):
        rosenbaum_bounds(EXPOSED, CONTROL, gammas=[0.5])


def test_gamma_plot_draws():
    import matplotlib

    matplotlib.use("Agg")
    from causalkit.sensitivity.plots import gamma_curve

    ax = gamma_curve(rosenbaum_bounds(EXPOSED, CONTROL, gammas=np.linspace(1, 6, 11)))
    assert len(ax.lines) >= 3


# ---------------------------------------------------------------- matching with replacement
from causalkit.sensitivity.rosenbaum_strata import (replacement_strata, stratified_bounds,  # noqa: E402
                                                    stratum_moments)


def _brute_force_stratum(q, m, gamma):
    """Max over every binary u of the exact mean of the treated sum (ties: max variance)."""
    n = len(q)
    subsets = list(itertools.combinations(range(n), m))
    sums = np.array([q[list(c)].sum() for c in subsets])
    cands = []
    for u in itertools.product([0, 1], repeat=n):
        u = np.array(u)
        w = np.array([gamma ** u[list(c)].sum() for c in subsets], float)
        w /= w.sum()
        mu = float(w @ sums)
        cands.append((mu, float(w @ (sums - mu) ** 2)))
    top = max(c[0] for c in cands)
    return top, max(v for mu, v in cands if mu > top - 1e-10)


def test_stratum_moments_equal_brute_force_over_u_with_several_treated():
    rng = np.random.default_rng(1)
    for trial in range(12):
        n = int(rng.integers(3, 7))
        m = int(rng.integers(1, n))
        gamma = (1.0, 1.7, 3.0)[trial % 3]
        q = rng.normal(size=n)
        if trial % 4 == 0:
            q = np.round(q)                                    # tied scores
        mean, var = stratum_moments(q[None, :], m, gamma)
        top, v = _brute_force_stratum(q, m, gamma)
        assert mean[0] == pytest.approx(top, abs=1e-12)
        assert var[0] == pytest.approx(v, abs=1e-12)
        low, _ = stratum_moments(q[None, :], m, gamma, largest=False)
        assert low[0] == pytest.approx(-_brute_force_stratum(-q, m, gamma)[0], abs=1e-12)


def test_stratified_bounds_at_gamma_one_is_the_randomization_test_and_reduces_to_1_to_k():
    rng = np.random.default_rng(2)
    sizes, treated = [2, 3, 3, 4, 5, 3, 2, 4], [1, 2, 1, 1, 3, 1, 1, 2]
    strata = np.repeat(np.arange(len(sizes)), sizes)
    t = np.concatenate([[1] * m + [0] * (n - m) for n, m in zip(sizes, treated)])
    y = 0.8 * t + rng.normal(size=len(t))
    table = stratified_bounds(y, t, strata, gammas=[1.0, 2.0])
    # Gamma = 1: the permutation mean and variance of the stratified aligned-rank sum.
    aligned = y - pd.Series(y).groupby(strata).transform("mean").to_numpy()
    q = stats.rankdata(aligned)
    mean = var = 0.0
    for s, (n, m) in enumerate(zip(sizes, treated)):
        qs = q[strata == s]
        mean += m * qs.mean()
        var += m * (n - m) / (n * (n - 1)) * ((qs - qs.mean()) ** 2).sum()
    p1 = stats.norm.sf((q[t == 1].sum() - mean) / math.sqrt(var))
    assert table.p_upper[0] == pytest.approx(p1, rel=1e-12)
    assert table.p_upper[1] > table.p_upper[0] > table.p_lower[1]
    # One treated per stratum: the same numbers as the 1:k aligned-rank method.
    yt, yc = rng.normal(1.0, 1.0, size=20), rng.normal(size=(20, 3))
    t2 = np.tile([1, 0, 0, 0], 20)
    flat = np.column_stack([yt, yc]).ravel()
    a = stratified_bounds(flat, t2, np.repeat(np.arange(20), 4), gammas=[1.0, 2.5])
    b = rosenbaum_bounds(yt, yc, gammas=[1.0, 2.5])
    for col in ("p_upper", "p_lower", "hl_lower", "hl_upper"):
        assert a[col].to_numpy() == pytest.approx(b[col].to_numpy(), rel=1e-9, abs=1e-9)


def _brute_force_match_sets(score, t, k, width):
    """Every treated unit's controls within both its k-th smallest distance and width."""
    sets = {}
    for i in np.flatnonzero(t == 1):
        c = np.flatnonzero(t == 0)
        dist = np.abs(score[c] - score[i])
        thr = min(np.sort(dist)[min(k, len(c)) - 1], width)
        if (dist <= thr).any():
            sets[int(i)] = sorted(c[dist <= thr].tolist())
    return sets


def test_with_replacement_strata_are_the_linked_match_sets():
    rng = np.random.default_rng(3)
    score = np.round(rng.normal(size=40), 1)                  # many ties
    t = (rng.uniform(size=40) < 0.5).astype(int)
    for k, width in ((1, np.inf), (2, 0.3)):
        labels, sets = replacement_strata(score, t, 1, k, width)
        brute = _brute_force_match_sets(score, t, k, width)
        assert {s: sorted(c.tolist()) for s, c in sets} == brute
        # units share a stratum iff linked by a chain of matches
        for s, c in brute.items():
            assert len({labels[s], *labels[c]}) == 1
        assert (labels[[u for u in range(40) if u not in brute
                        and not any(u in c for c in brute.values())]] == -1).all()


def test_rosenbaum_after_matching_with_replacement():
    df = _matching_data()
    eff = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["x"])
    table = eff.sensitivity("rosenbaum", gammas=[1, 2, 3], data=df)
    assert table.attrs["replace"] and "stratified aligned-rank" in table.attrs["method"]
    assert "stratified aligned-rank" in eff.summary()
    # 1:1 on a continuous score: each stratum is one reused control and its treated units.
    assert table.attrs["n_strata"] == eff.diagnostics["n_distinct_matches_used"]
    assert table.attrs["largest_stratum"] > 2
    assert table.p_upper[0] < 1e-6 and 2 < table.attrs["gamma_critical"] < 10
    assert table.hl_lower[0] == table.hl_upper[0]
    assert table.hl_lower[2] < table.hl_lower[0] < table.hl_upper[2]
    # the same bounds from the strata directly
    labels, _ = replacement_strata(eff.diagnostics["logit_score"], df.t.to_numpy(), 1, 1,
                                   eff.diagnostics["caliper_width_logit"])
    inside = labels >= 0
    direct = stratified_bounds(df.y[inside], df.t[inside], labels[inside], gammas=[1, 2, 3])
    assert table.p_upper.to_numpy() == pytest.approx(direct.p_upper.to_numpy(), rel=1e-12)
    atc = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["x"],
                             estimand="ATC", n_neighbors=2)
    assert rosenbaum(atc, gammas=[1], data=df).hl_lower[0] > 0.5


def test_strata_with_one_arm_only_are_left_out():
    rng = np.random.default_rng(4)
    strata = np.repeat(np.arange(12), 3)
    t = np.tile([1, 0, 0], 12)
    y = t + rng.normal(size=36)
    base = stratified_bounds(y, t, strata, gammas=[1.0, 2.0])
    extra = stratified_bounds(np.r_[y, 5.0, 6.0, -1.0], np.r_[t, 1, 1, 0],
                              np.r_[strata, 99, 99, 98], gammas=[1.0, 2.0])
    for col in ("p_upper", "p_lower", "hl_lower", "hl_upper"):
        assert extra[col].to_numpy() == pytest.approx(base[col].to_numpy(), rel=1e-12)
    with pytest.raises(causalkit.CausalKitError, match="one entry per unit"):
        stratified_bounds(y, t[:-1], strata)
