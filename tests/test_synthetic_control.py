"""synthetic_control: Abadie, Diamond & Hainmueller (2010) weights, placebo-in-space inference."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

import causalkit
from causalkit import errors
from causalkit.panel._adh import nested_weights
from causalkit.panel.synthetic_control import plot_synthetic_control

PROP99 = Path(__file__).resolve().parents[2] / "shared" / "data" / "california_prop99.csv"


def _panel(n_units=12, n_periods=10, adopt=7, effect=2.0, seed=0, inside=True):
    """Two-factor panel; unit 0 treated from ``adopt``; inside or outside the donors' hull."""
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n_periods, 2)).cumsum(axis=0)
    L = rng.uniform(0.5, 1.5, size=(n_units, 2))
    L[0] = L[1:4].mean(axis=0) if inside else L[1:].max(axis=0) + 1.0
    Y = L @ F.T + 0.05 * rng.normal(size=(n_units, n_periods))
    Y[0, adopt:] += effect
    d = np.zeros((n_units, n_periods), int)
    d[0, adopt:] = 1
    return pd.DataFrame({"i": np.repeat(np.arange(n_units), n_periods),
                         "t": np.tile(np.arange(n_periods), n_units), "y": Y.ravel(),
                         "d": d.ravel(), "x": np.repeat(L[:, 0], n_periods)})


def _sc(df, **kw):
    return causalkit.estimate(df, "d", "y", method="synthetic_control", unit="i", time="t",
                              **kw)


def test_closed_form_v_is_the_global_optimum_of_the_nested_problem():
    """With every pre-period outcome as a predictor, min over V = min over W of the MSPE."""
    rng = np.random.default_rng(4)
    Z0, Z1 = rng.normal(size=(4, 12)), rng.normal(size=4)
    scale = np.column_stack([Z1, Z0]).std(axis=1, ddof=1)
    X0, X1 = Z0 / scale[:, None], Z1 / scale
    closed = nested_weights(X1, X0, Z1, Z0, scale, lags_only=True)
    brute = minimize(lambda w: np.mean((Z1 - Z0 @ w) ** 2), np.full(12, 1 / 12),
                     method="SLSQP", bounds=[(0, 1)] * 12,
                     constraints={"type": "eq", "fun": lambda w: w.sum() - 1},
                     options={"ftol": 1e-15, "maxiter": 1000})
    assert closed.mspe == pytest.approx(brute.fun, rel=1e-6)
    searched = nested_weights(X1, X0, Z1, Z0, scale, lags_only=False)
    assert searched.mspe >= closed.mspe * (1 - 1e-9)


def test_inside_the_hull_the_weights_reproduce_the_treated_unit():
    df = _panel(inside=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")         # no hull warning
        eff = _sc(df)
    w = eff.diagnostics["donor_weights"]
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
    assert eff.diagnostics["pre_rmspe"] < 0.1
    assert abs(eff.estimate - 2.0) < 0.15
    # placebo-in-space: the treated unit has the largest post/pre RMSPE ratio of all 12
    assert eff.p_value == pytest.approx(1 / 12)
    assert eff.diagnostics["placebos"].shape[0] == 11


def test_outside_the_hull_warns_with_the_pre_period_fit():
    with pytest.warns(UserWarning, match=r"outside the convex hull.*RMSPE") as rec:
        eff = _sc(_panel(inside=False))
    assert f"{eff.diagnostics['pre_rmspe']:.4g}" in str(rec[0].message)
    assert "outside the donors' range" in str(rec[0].message)


def test_placebo_rows_equal_refits_with_that_donor_treated():
    """Each placebo is the synthetic control of a donor from the other donors."""
    df = _panel()
    eff = _sc(df)
    for donor in (3, 9):
        sub = df[df.i != 0].copy()
        sub["d"] = ((sub.i == donor) & (sub.t >= 7)).astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            refit = _sc(sub, n_placebos=0)
        row = eff.diagnostics["placebos"].set_index("unit").loc[donor]
        # the refit standardises over other units: the same V-weighted problem to ~1e-8
        assert row["estimate"] == pytest.approx(refit.estimate, rel=1e-6)
        assert row["ratio"] == pytest.approx(refit.diagnostics["rmspe_ratio"], rel=1e-6)
    ratios = eff.diagnostics["placebos"]["ratio"]
    rank_p = (1 + (ratios >= eff.diagnostics["rmspe_ratio"]).sum()) / (1 + len(ratios))
    assert eff.p_value == rank_p
    est = eff.diagnostics["placebos"]["estimate"]
    assert eff.std_error == pytest.approx(np.std(est))


def test_covariates_enter_as_predictors_with_nested_weights():
    df = _panel(seed=2)
    eff = _sc(df, covariates=["x"], n_placebos=3)
    v = eff.diagnostics["predictor_weights"]
    assert list(v.index) == ["x (pre-period mean)", "outcome mean (pre-period)"]
    assert v.sum() == pytest.approx(1.0)
    # nested V is at least as good as either equal or all-on-one weights
    for alt in ("equal", [1.0, 0.0], [0.0, 1.0]):
        other = _sc(df, covariates=["x"], n_placebos=0, predictor_weights=alt)
        assert eff.diagnostics["pre_rmspe"] <= other.diagnostics["pre_rmspe"] * (1 + 1e-6)


def test_outcome_periods_option():
    df = _panel()
    eff = _sc(df, outcome_periods=[0, 3, [4, 5, 6]], n_placebos=0)
    assert list(eff.diagnostics["predictor_weights"].index) == \
        ["outcome 0", "outcome 3", "outcome mean 4..6"]
    assert np.isnan(eff.std_error) and np.isnan(eff.p_value)
    with pytest.raises(errors.OptionError, match="pre-treatment periods"):
        _sc(df, outcome_periods=[9])


def test_prop99_gap_and_donors():
    """ADH (2010): California's synthetic control rests on Utah, Nevada, Montana,
    Colorado and Connecticut; the 1989-2000 gap averages about -19 packs; the ratio
    p-value is 1/39 in the paper (with its covariates; here outcome lags only)."""
    if not PROP99.exists():
        pytest.skip(f"{PROP99} is absent")
    df = pd.read_csv(PROP99, sep=";")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eff = causalkit.estimate(df, "treated", "PacksPerCapita", method="synthetic_control",
                                 unit="State", time="Year")
    w = eff.diagnostics["donor_weights"]
    assert set(w[w > 0.05].index) <= {"Utah", "Nevada", "Montana", "Colorado", "Connecticut"}
    assert -22 < eff.estimate < -17
    assert eff.p_value <= 3 / 39


def test_staggered_adoption_is_refused():
    df = _panel()
    df.loc[(df.i == 5) & (df.t >= 9), "d"] = 1
    with pytest.raises(errors.DataError, match="same period.*2 periods"):
        _sc(df)


def test_plots():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    eff = _sc(_panel())
    for kind in ("path", "gap", "placebo"):
        ax = plot_synthetic_control(eff, kind=kind, max_ratio=5.0)
        assert len(ax.lines) >= 2
    with pytest.raises(errors.OptionError):
        plot_synthetic_control(eff, kind="bar")


# ------------------------------------------------------------------ the simplex solver

def _kkt_gap(A, b, x):
    """Largest violation of the simplex least-squares optimality conditions, relative.

    At the optimum every gradient entry ``g_j = A_j'(Ax - b)`` is at least the
    multiplier ``mu = x'g``, with equality on the support.
    """
    g = A.T @ (A @ x - b)
    mu = x @ g
    scale = np.abs(A).max() * (np.abs(A).max() + np.abs(b).max()) * A.shape[0]
    return max(float(mu - g.min()), float(np.abs(g[x > 0] - mu).max())) / scale


def _brute_force_simplex_ls(A, b):
    """Least objective over every support: the equality-constrained fit on each subset
    of columns (KKT system, minimum-norm), kept when its weights are non-negative."""
    import itertools

    best = np.inf
    for k in range(1, A.shape[1] + 1):
        for S in itertools.combinations(range(A.shape[1]), k):
            As = A[:, S]
            K = np.block([[2 * As.T @ As, np.ones((k, 1))], [np.ones((1, k)), np.zeros((1, 1))]])
            z = np.linalg.lstsq(K, np.r_[2 * As.T @ b, 1.0], rcond=None)[0][:k]
            if (z >= -1e-12).all() and abs(z.sum() - 1) < 1e-9:
                best = min(best, float(np.sum((As @ z - b) ** 2)))
    return best


def test_simplex_least_squares_equals_brute_force_on_small_problems():
    from causalkit.panel._simplex import simplex_least_squares

    rng = np.random.default_rng(5)
    for trial in range(30):
        m, n = int(rng.integers(2, 7)), int(rng.integers(2, 9))
        A = rng.normal(size=(m, n)) * 10.0 ** rng.uniform(-2, 2)
        b = A @ rng.dirichlet(np.ones(n)) if trial % 2 else rng.normal(size=m) * np.abs(A).max()
        x = simplex_least_squares(A, b)
        assert (x >= 0).all() and x.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.sum((A @ x - b) ** 2) == pytest.approx(_brute_force_simplex_ls(A, b),
                                                         rel=1e-9, abs=1e-12 * (b @ b))
        assert _kkt_gap(A, b, x) < 1e-9


def test_simplex_least_squares_on_a_hundred_thousand_near_tied_donors():
    """The treated unit of a 10^5-unit factor panel lies deep inside the donors' hull:
    many optimal supports nearly tie (the former big-M Lawson-Hanson cycled here)."""
    from causalkit.panel._simplex import simplex_least_squares

    rng = np.random.default_rng(0)                 # bench_did.py's block_panel(10^5)
    n, T0 = 100_000, 15
    F = rng.normal(size=(20, 2)).cumsum(axis=0)
    L = rng.uniform(0.5, 1.5, size=(n, 2))
    Y = (L @ F.T + rng.normal(size=n)[:, None] + rng.normal(size=(n, 20)))[:, :T0]
    P = np.round(Y.T / Y.std(axis=0, ddof=1)[:, None], 11)   # standardised, as _Fitter
    A, b = P[:, :-1], P[:, -1]                     # the last unit treated, the rest donors
    x = simplex_least_squares(A, b)
    assert (x >= 0).all() and x.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.count_nonzero(x) <= T0 + 1                   # a vertex of the reduced problem
    assert _kkt_gap(A, b, x) < 1e-9
