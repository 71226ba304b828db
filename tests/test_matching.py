"""Propensity-score matching against a brute-force reference written in the test.

The reference builds the full n1 x n0 distance matrix on the logit score, takes
each unit's match set by its definition with ties (Abadie & Imbens 2006: every
unit of the other arm no farther than the k-th smallest distance, and within
the caliper), and computes the Abadie–Imbens (2006) variance with explicit loops
(fractional match counts K_M = sum 1/#J_M and K'_M = sum 1/#J_M^2; conditional
variances from the J nearest within-arm units and their ties, Abadie, Drukker,
Herr & Imbens 2004) and the Abadie–Imbens (2016) estimated-score term.  The
package must agree while never forming that matrix.  (Before issue 13 this
reference broke ties by row index, encoding the row-order dependence the issue
names; it now includes every tied unit.)
"""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit

import causalkit
from causalkit.backdoor import propensity_matching as pm
from causalkit.errors import OptionError
from matching_reference import (brute_ai2016_arrays, brute_arrays, brute_greedy_arrays,
                                brute_sigma2, package_logit)


def _data(seed=0, n=400):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (rng.random(n) < expit(-0.2 + 0.9 * x1 - 0.5 * x2)).astype(int)
    y = 1 + 2 * t + x1 + x2 + 0.5 * t * x1 + rng.normal(size=n)
    return pd.DataFrame({"t": t, "y": y, "x1": x1, "x2": x2})


TIED = ["x1", "x2", "x3"]


def _tied_data(seed=0, n=400):
    """Discrete covariates: 24 cells, so most units share their score with many others
    (and some cells, strongly selected, lack one arm).  The levels ({0, 1, 3, 7},
    {0, 1}, {0, 1, 2.5}) have no equally spaced triples, so two different cells are
    never at exactly the same distance from a third."""
    rng = np.random.default_rng(seed)
    x1 = rng.choice([0.0, 1.0, 3.0, 7.0], n)
    x2 = rng.integers(0, 2, n).astype(float)
    x3 = rng.choice([0.0, 1.0, 2.5], n)
    t = (rng.random(n) < expit(-1.2 + 0.45 * x1 - 0.9 * x2 + 0.5 * x3)).astype(int)
    y = 1 + 2 * t + 0.5 * x1 + x2 - x3 + 0.3 * t * x1 + rng.normal(size=n)
    return pd.DataFrame({"t": t, "y": y, "x1": x1, "x2": x2, "x3": x3})


def _logit_score(df, covs=("x1", "x2")):
    Z = sm.add_constant(df[list(covs)].to_numpy())
    return Z @ sm.Logit(df.t.to_numpy(), Z).fit(disp=0, tol=1e-12).params


def _brute(df, estimand, k, caliper, J=2):
    ls = _logit_score(df)
    width = np.inf if caliper is None else caliper * ls.std(ddof=1)
    return brute_arrays(ls, df.t.to_numpy(), df.y.to_numpy(), estimand, k, width, J)[:3]


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE"])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("caliper", [None, 0.05])
def test_with_replacement_matches_brute_force(estimand, k, caliper):
    df = _data(1)
    ref, ref_se, dropped = _brute(df, estimand, k, caliper)
    eff = causalkit.estimate(df, "t", "y", method="propensity_matching",
                             covariates=["x1", "x2"], estimand=estimand, n_neighbors=k,
                             caliper=caliper, variance="ai2006")
    assert eff.estimate == pytest.approx(ref, abs=1e-9)
    assert eff.std_error == pytest.approx(ref_se, abs=1e-9)
    assert eff.diagnostics["n_dropped_caliper"] == dropped
    if caliper is not None:
        assert dropped > 0  # the narrow caliper really binds in this design
    assert "Abadie-Imbens (2006)" in eff.inference
    assert "treated as known" in eff.inference


def _brute_ai2016_adjustment(df, estimand, k, L=2):
    Z = sm.add_constant(df[["x1", "x2"]].to_numpy())
    return brute_ai2016_arrays(_logit_score(df), df.t.to_numpy(), df.y.to_numpy(), Z,
                                estimand, k, L)


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE"])
@pytest.mark.parametrize("k", [1, 3])
def test_estimated_score_adjustment_matches_brute_force(estimand, k):
    df = _data(6, n=300)
    _, ref_se, _ = _brute(df, estimand, k, None)
    ref_var = ref_se**2 + _brute_ai2016_adjustment(df, estimand, k)
    eff = causalkit.estimate(df, "t", "y", method="propensity_matching",
                             covariates=["x1", "x2"], estimand=estimand, n_neighbors=k,
                             caliper=None)
    assert eff.std_error == pytest.approx(np.sqrt(ref_var), rel=1e-7)
    assert eff.diagnostics["std_error_known_score"] == pytest.approx(ref_se, rel=1e-9)
    assert "Abadie-Imbens (2016)" in eff.inference
    if estimand == "ATE":      # the ATE adjustment is never positive
        assert eff.std_error < ref_se


def test_variance_option_validation():
    from sklearn.linear_model import LogisticRegression

    df = _data(5)
    kw = dict(method="propensity_matching", covariates=["x1", "x2"])
    with pytest.raises(OptionError, match="variance"):
        causalkit.estimate(df, "t", "y", variance="bootstrap", **kw)
    with pytest.raises(OptionError, match="built-in logistic"):
        causalkit.estimate(df, "t", "y", variance="ai2016",
                           propensity_model=LogisticRegression(), **kw)
    eff = causalkit.estimate(df, "t", "y", propensity_model=LogisticRegression(), **kw)
    assert "user propensity_model" in eff.inference


def _brute_greedy(df, k, caliper):
    ls = _logit_score(df)
    width = np.inf if caliper is None else caliper * ls.std(ddof=1)
    return brute_greedy_arrays(ls, df.t.to_numpy(), df.y.to_numpy(),
                                df[["x1", "x2"]].to_numpy(), k, width)


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("caliper", [None, 0.1])
def test_without_replacement_matches_brute_force_greedy(k, caliper):
    df = _data(2)
    ref, ref_se, n_matched = _brute_greedy(df, k, caliper)
    eff = causalkit.estimate(df, "t", "y", method="propensity_matching",
                             covariates=["x1", "x2"], replace=False, n_neighbors=k,
                             caliper=caliper)
    assert eff.estimate == pytest.approx(ref, abs=1e-9)
    assert eff.std_error == pytest.approx(ref_se, abs=1e-9)
    assert eff.diagnostics["n_matched_treated"] == n_matched
    assert "paired" in eff.inference


def test_matching_balances_covariates_and_reports_counts():
    df = _data(4, n=3000)
    eff = causalkit.estimate(df, "t", "y", method="propensity_matching",
                             covariates=["x1", "x2"])
    bal = eff.diagnostics["balance"]
    assert (bal.smd_before.abs() > 0.2).any()
    assert (bal.smd_after.abs() < 0.1).all()
    d = eff.diagnostics
    assert d["n_matched_treated"] + d["n_dropped_caliper"] == int(df.t.sum())
    assert eff.n_control == d["n_distinct_matches_used"]
    assert d["caliper_width_logit"] == pytest.approx(0.2 * d["logit_score_sd"])


def test_bad_matching_options():
    df = _data(5)
    kw = dict(method="propensity_matching", covariates=["x1", "x2"])
    with pytest.raises(OptionError, match="replace=True"):
        causalkit.estimate(df, "t", "y", estimand="ATE", replace=False, **kw)
    with pytest.raises(OptionError):
        causalkit.estimate(df, "t", "y", n_neighbors=0, **kw)
    with pytest.raises(OptionError):
        causalkit.estimate(df, "t", "y", caliper=-1.0, **kw)
    with pytest.raises(OptionError):
        causalkit.estimate(df, "t", "y", estimand="LATE", **kw)


@pytest.mark.parametrize("J", [1, 3, 8])
@pytest.mark.parametrize("tied", [False, True])
def test_conditional_variance_equals_loop(J, tied):
    """The compiled within-arm walk against a loop over each unit's distances, with ties
    (every unit tied with the J-th nearest counts, and H/(H+1) for H of them)."""
    df = _data(3, 300)
    score = _logit_score(df)
    if tied:                     # few distinct scores: runs of equal scores, opposite-side ties
        score = np.round(score * 4) / 4
    y, t = df["y"].to_numpy(), df["t"].to_numpy()
    ref = brute_sigma2(score, t, y, J)
    np.testing.assert_allclose(pm.conditional_variance(y, score, t, J), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["normal", "ties", "wide", "tiny"])
def test_radix_argsort_equals_numpy_stable_argsort(kind):
    from causalkit.backdoor._matching_kernels import radix_argsort

    rng = np.random.default_rng(11)
    x = {"normal": rng.normal(size=5000) * 3,
         "ties": np.round(rng.normal(size=5000), 1),     # many exact ties, -0.0 and 0.0
         "wide": rng.normal(size=5000) * 10.0 ** rng.integers(-300, 300, size=5000),
         "tiny": np.array([2.0])}[kind]
    if kind == "ties":
        x[:7] = -0.0
    order, values = radix_argsort(x)
    assert np.array_equal(order, np.argsort(x, kind="stable"))
    assert np.array_equal(values, x[order])


def test_non_positive_ai2016_variance_falls_back_to_ai2006_with_a_warning():
    """In a small sample the estimated-score adjustment can outweigh the matching variance
    (here n = 45: the brute-force adjusted variance is about -1.40); the estimate is still
    reported, with the Abadie-Imbens (2006) standard error, a warning and the reason."""
    rng = np.random.default_rng(112)
    n = int(rng.integers(20, 150))
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (rng.random(n) < expit(-0.5 + 0.9 * x1 - 0.5 * x2)).astype(int)
    y = 1 + 2 * t + x1 + x2 + rng.normal(size=n)
    df = pd.DataFrame({"t": t, "y": y, "x1": x1, "x2": x2})
    ref, ref_se, _ = _brute(df, "ATE", 1, None)
    adjusted = ref_se**2 + _brute_ai2016_adjustment(df, "ATE", 1)
    assert adjusted < 0
    with pytest.warns(UserWarning, match="not positive"):
        eff = causalkit.estimate(df, "t", "y", method="propensity_matching",
                                 covariates=["x1", "x2"], estimand="ATE", caliper=None)
    assert eff.estimate == pytest.approx(ref, abs=1e-9)
    assert eff.std_error == pytest.approx(ref_se, rel=1e-9)
    assert eff.diagnostics["ai2016_variance"] == pytest.approx(adjusted, rel=1e-7)
    assert "treated as known" in eff.inference and "not positive" in eff.inference


# --- ties (issue 13): the match set holds every unit tied at the k-th distance ------------

# Twelve rows, one covariate x in {0, 1, 3}: every treated unit has several controls with
# its own score (and the cell x = 1 has two treated).  Matching a unit to "the" nearest
# control is then decided by row order alone; the tie-inclusive match set averages the
# tied controls, so the answer is the within-cell comparison, by hand:
#   ATT: (20 - (4 + 10)/2 + 18 - (6 + 9 + 15)/3 + 26 - 10 + 32 - (12 + 18 + 24)/3) / 4
#        = (13 + 8 + 16 + 14) / 4 = 12.75
#   ATC: controls against the mean treated of their cell (20, 22, 32):
#        (16 + 10 + 16 + 13 + 7 + 20 + 14 + 8) / 8 = 13.0
#   ATE: (4 * 12.75 + 8 * 13.0) / 12 = 155 / 12
TWELVE = pd.DataFrame(
    [(1, 0, 20.0), (0, 0, 4.0), (0, 0, 10.0),
     (1, 1, 18.0), (1, 1, 26.0), (0, 1, 6.0), (0, 1, 9.0), (0, 1, 15.0),
     (1, 3, 32.0), (0, 3, 12.0), (0, 3, 18.0), (0, 3, 24.0)], columns=["t", "x", "y"])
TWELVE_BY_HAND = {"ATT": 12.75, "ATC": 13.0, "ATE": 155 / 12}


def _tie_orders(df, cell, rng, n_random=0):
    """Row orders covering every order of the units within each tied cell (each cell's
    members permuted in all ways, the cells' product), placed among a random shuffle of
    the rest, plus ``n_random`` fully random orders."""
    groups = [g.index.to_numpy() for _, g in df.groupby([cell, "t"]) if len(g) > 1]
    orders = []
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        base = rng.permutation(len(df))
        slots = {int(i): int(i) for i in range(len(df))}
        for g, p in zip(groups, perms):
            for a, b in zip(g, p):
                slots[int(a)] = int(b)
        orders.append(np.array([slots[int(i)] for i in base]))
    orders += [rng.permutation(len(df)) for _ in range(n_random)]
    return orders


def _fit(df, covs, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=covs,
                                  **options)


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE"])
def test_twelve_rows_every_order_of_the_tied_units_gives_the_hand_value(estimand):
    """Before issue 13 the ATT here took 18 different (estimate, SE) values over 60 random
    row orders (estimates from 8.0 upwards); now every order gives the hand value."""
    df = TWELVE
    orders = _tie_orders(df, "x", np.random.default_rng(0), n_random=20)
    assert len(orders) == 2 * 6 * 6 * 2 + 20          # all 144 orders of the tied units
    if estimand != "ATT":
        orders = orders[::9]                           # the ATC / ATE: a sample of them
    ref = brute_arrays(package_logit(df, ["x"]), df.t.to_numpy(), df.y.to_numpy(),
                        estimand, 1, np.inf)
    base = _fit(df, ["x"], estimand=estimand, variance="ai2006", caliper=None)
    assert base.estimate == pytest.approx(TWELVE_BY_HAND[estimand], abs=1e-12)
    assert base.estimate == pytest.approx(ref[0], abs=1e-12)
    assert base.std_error == pytest.approx(ref[1], rel=1e-10)
    assert base.diagnostics["n_match_sets_enlarged_by_ties"] == ref[3] > 0
    assert "tied" in base.inference
    default = _fit(df, ["x"], estimand=estimand)       # default caliper, AI (2016) SE
    for order in orders:
        shuffled = df.iloc[order].reset_index(drop=True)
        eff = _fit(shuffled, ["x"], estimand=estimand, variance="ai2006", caliper=None)
        assert eff.estimate == pytest.approx(base.estimate, abs=1e-10)
        assert eff.std_error == pytest.approx(base.std_error, rel=1e-10)
        again = _fit(shuffled, ["x"], estimand=estimand)
        assert again.estimate == pytest.approx(default.estimate, abs=1e-10)
        assert again.std_error == pytest.approx(default.std_error, rel=1e-10)


def _check_against_brute(eff, ls, t, y, Z, estimand, k, width):
    tau, se, dropped, enlarged = brute_arrays(ls, t, y, estimand, k, width)
    assert eff.estimate == pytest.approx(tau, rel=1e-10, abs=1e-12)
    assert eff.diagnostics["std_error_known_score"] == pytest.approx(se, rel=1e-10)
    assert eff.diagnostics["n_dropped_caliper"] == dropped
    assert eff.diagnostics["n_match_sets_enlarged_by_ties"] == enlarged
    adjusted = se**2 + brute_ai2016_arrays(ls, t, y, Z, estimand, k)
    assert adjusted > 0                   # the design keeps the AI (2016) variance positive
    assert eff.std_error == pytest.approx(np.sqrt(adjusted), rel=1e-10)
    return enlarged


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE"])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("caliper", [None, 0.02])
def test_tied_scores_match_brute_force_with_ties_and_ignore_row_order(estimand, k, caliper):
    """Discrete covariates (24 cells, about 15 units each): most match sets are enlarged
    by ties, and the caliper drops the units of cells without the other arm.  Estimate, AI (2006) and AI (2016) SEs equal the brute-force
    matcher with ties to 1e-10, and a shuffled copy gives the same numbers."""
    df = _tied_data(2, n=360)
    ls = package_logit(df, TIED)
    assert np.allclose(ls, _logit_score(df, TIED), atol=1e-7)   # it is the logistic MLE
    t, y = df.t.to_numpy(), df.y.to_numpy()
    width = np.inf if caliper is None else caliper * ls.std(ddof=1)
    Z = sm.add_constant(df[TIED].to_numpy())
    eff = _fit(df, TIED, estimand=estimand, n_neighbors=k, caliper=caliper)
    enlarged = _check_against_brute(eff, ls, t, y, Z, estimand, k, width)
    assert enlarged > 0.5 * (len(df) if estimand == "ATE" else (t == (estimand == "ATT")).sum())
    if caliper is not None:
        assert eff.diagnostics["n_dropped_caliper"] > 0      # the caliper binds here
    order = np.random.default_rng(k).permutation(len(df))
    shuffled = _fit(df.iloc[order].reset_index(drop=True), TIED, estimand=estimand,
                    n_neighbors=k, caliper=caliper)
    assert shuffled.estimate == pytest.approx(eff.estimate, rel=1e-10)
    assert shuffled.std_error == pytest.approx(eff.std_error, rel=1e-10)
    assert shuffled.diagnostics["std_error_known_score"] == pytest.approx(
        eff.diagnostics["std_error_known_score"], rel=1e-10)


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE"])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("width", [np.inf, 1.0])
def test_equal_distances_on_both_sides_are_ties(estimand, k, width):
    """Integer scores: a unit at 2 with controls at 1 and 3 is at distance 1.0 from both,
    exactly, so both are in its match set (and in the within-arm and L-sets).  The
    compiled path equals the brute force on the same scores, in every row order."""
    rng = np.random.default_rng(7)
    n = 240
    score = rng.integers(-3, 4, n).astype(float)
    t = (rng.random(n) < expit(0.4 * score)).astype(int)
    y = score + 2 * t + rng.normal(size=n)
    Z = np.column_stack([np.ones(n), score, rng.normal(size=n)])
    ref = brute_arrays(score, t, y, estimand, k, width)
    adjusted = ref[1] ** 2 + brute_ai2016_arrays(score, t, y, Z, estimand, k)
    for order in (np.arange(n), rng.permutation(n), rng.permutation(n)):
        res = pm._estimate(y[order], t[order], score[order], estimand, k, width, True, 2,
                           design=Z[order], X=Z[order])
        assert res["estimate"] == pytest.approx(ref[0], rel=1e-10)
        assert res["std_error_known_score"] == pytest.approx(ref[1], rel=1e-10)
        assert res["n_dropped"] == ref[2]
        assert res["ties"]["n_match_sets_enlarged_by_ties"] == ref[3] > 0
        assert res["ai2016_variance"] == pytest.approx(adjusted, rel=1e-10)


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("caliper", [None, 0.1])
def test_without_replacement_ties_follow_the_documented_rule_in_any_row_order(k, caliper):
    """Without replacement a tied control cannot be shared; the rule (higher score at
    equal distance, then a hash of the row's content among equal scores) is checked by a
    loop, and shuffling the rows changes neither estimate nor SE."""
    df = _tied_data(2, n=300)
    ls = package_logit(df, TIED)
    t, y = df.t.to_numpy(), df.y.to_numpy()
    width = np.inf if caliper is None else caliper * ls.std(ddof=1)
    ref, ref_se, n_matched = brute_greedy_arrays(ls, t, y, df[TIED].to_numpy(), k, width)
    eff = _fit(df, TIED, replace=False, n_neighbors=k, caliper=caliper)
    assert eff.estimate == pytest.approx(ref, rel=1e-10)
    assert eff.std_error == pytest.approx(ref_se, rel=1e-10)
    assert eff.diagnostics["n_matched_treated"] == n_matched
    assert eff.diagnostics["n_ties_settled_by_rule"] > 0
    assert "ties settled" in eff.inference
    rng = np.random.default_rng(3)
    for _ in range(3):
        shuffled = _fit(df.iloc[rng.permutation(len(df))].reset_index(drop=True), TIED,
                        replace=False, n_neighbors=k, caliper=caliper)
        assert shuffled.estimate == pytest.approx(eff.estimate, rel=1e-10)
        assert shuffled.std_error == pytest.approx(eff.std_error, rel=1e-10)


def test_twelve_rows_without_replacement_ignore_row_order():
    df = TWELVE
    ls = package_logit(df, ["x"])
    ref = brute_greedy_arrays(ls, df.t.to_numpy(), df.y.to_numpy(), df[["x"]].to_numpy(), 1,
                               np.inf)
    base = _fit(df, ["x"], replace=False, caliper=None)
    assert base.estimate == pytest.approx(ref[0], abs=1e-12)
    assert base.std_error == pytest.approx(ref[1], rel=1e-10)
    for order in _tie_orders(df, "x", np.random.default_rng(1))[::4]:
        eff = _fit(df.iloc[order].reset_index(drop=True), ["x"], replace=False, caliper=None)
        assert eff.estimate == pytest.approx(base.estimate, abs=1e-10)
        assert eff.std_error == pytest.approx(base.std_error, rel=1e-10)


def test_huge_tied_sets_stay_fast_and_equal_the_within_cell_contrast():
    """A binary covariate: two scores, so each match set is a whole cell of the other arm
    (about 10^5 units) and the matching estimate is the cell contrast, by hand:
    sum over cells of n_c (ybar1_c - ybar0_c) / n for the ATE.  Walking the runs keeps it
    O(n log n); visiting every member of every set would take about 10^11 steps."""
    import time

    rng = np.random.default_rng(5)
    n = 600_000
    x = rng.integers(0, 2, n).astype(float)
    t = (rng.random(n) < np.where(x == 1, 0.6, 0.3)).astype(int)
    y = 1.0 + x + 2.0 * t + rng.normal(size=n)
    df = pd.DataFrame({"t": t, "y": y, "x": x})
    cells = df.groupby("x")
    by_hand = sum(len(g) * (g.y[g.t == 1].mean() - g.y[g.t == 0].mean()) for _, g in cells) / n
    _fit(df.iloc[:2000], ["x"], estimand="ATE")                     # compile outside the clock
    start = time.perf_counter()
    eff = _fit(df, ["x"], estimand="ATE", caliper=None)
    elapsed = time.perf_counter() - start
    assert eff.estimate == pytest.approx(by_hand, rel=1e-9)
    assert eff.diagnostics["largest_match_set"] == max(cells.t.sum().max(),
                                                       (1 - df.t).groupby(df.x).sum().max())
    assert elapsed < 30, elapsed          # about 2 s on one core; O(n^2): minutes
