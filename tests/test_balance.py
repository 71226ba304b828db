"""Balance table (SMD, variance ratio) and the love / overlap plots."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import causalkit
from causalkit.backdoor.balance import balance_table, effective_sample_size, plot_balance, plot_overlap
from causalkit.errors import DataError


def _weighted_stats(x, w):
    m = np.average(x, weights=w)
    return m, np.average((x - m) ** 2, weights=w)


@pytest.mark.parametrize("estimand", ["ATE", "ATT", "ATC"])
def test_table_matches_hand_computed_pandas(estimand):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=200), "b": rng.exponential(size=200),
                       "t": rng.integers(0, 2, 200)})
    w = rng.uniform(0.2, 3.0, size=200)
    tab = balance_table(df[["a", "b"]].to_numpy(), df.t.to_numpy(), ["a", "b"], weights=w,
                        estimand=estimand)
    g = df.groupby("t")
    for col in ("a", "b"):
        v1, v0 = g[col].var(ddof=0)[1], g[col].var(ddof=0)[0]
        sd = {"ATE": np.sqrt((v1 + v0) / 2), "ATT": np.sqrt(v1), "ATC": np.sqrt(v0)}[estimand]
        diff = g[col].mean()[1] - g[col].mean()[0]
        assert tab.loc[col, "smd_before"] == pytest.approx(diff / sd, rel=1e-12)
        assert tab.loc[col, "var_ratio_before"] == pytest.approx(v1 / v0, rel=1e-12)
        m1, s1 = _weighted_stats(df[col][df.t == 1], w[df.t == 1])
        m0, s0 = _weighted_stats(df[col][df.t == 0], w[df.t == 0])
        assert tab.loc[col, "smd_after"] == pytest.approx((m1 - m0) / sd, rel=1e-12)
        assert tab.loc[col, "var_ratio_after"] == pytest.approx(s1 / s0, rel=1e-12)


def test_kish_effective_sample_size():
    assert effective_sample_size(np.ones(10)) == pytest.approx(10)
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1)


@pytest.fixture(scope="module")
def effect():
    rng = np.random.default_rng(1)
    n = 500
    x = rng.normal(size=(n, 3))
    t = (rng.random(n) < 1 / (1 + np.exp(-x[:, 0]))).astype(int)
    df = pd.DataFrame({"t": t, "y": x[:, 0] + t + rng.normal(size=n), "a": x[:, 0],
                       "b": x[:, 1], "c": x[:, 2]})
    return causalkit.estimate(df, "t", "y", method="propensity_matching",
                              covariates=["a", "b", "c"])


def test_plot_balance_from_effect_and_table(effect):
    fig = plot_balance(effect)
    assert isinstance(fig, Figure)
    labels = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    assert sorted(labels) == ["a", "b", "c"]
    assert len(fig.axes[0].collections) == 2          # before and after markers
    assert isinstance(plot_balance(effect.diagnostics["balance"]), Figure)


def test_plot_overlap_from_effect_and_arrays(effect):
    fig = plot_overlap(effect)
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].patches) > 0
    frame = effect.diagnostics["propensity"]
    fig2 = plot_overlap(frame.score.to_numpy(), frame.treated.to_numpy(), bins=10)
    assert len(fig2.axes[0].patches) == 20


def test_plot_errors_are_clear():
    with pytest.raises(DataError, match="balance table"):
        plot_balance(42)
    with pytest.raises(DataError, match="treatment"):
        plot_overlap(np.array([0.1, 0.2]))
    with pytest.raises(DataError, match="one name per covariate"):
        balance_table(np.zeros((3, 2)), np.array([0, 1, 0]), ["only"])
