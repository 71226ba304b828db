"""Uplift evaluation: curves and areas against a loop-based computation, oracle vs random."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import causalkit
from causalkit.errors import DataError, EmptyArmError, OptionError, TreatmentNotBinaryError
from causalkit.cate.uplift import (auuc, evaluate_uplift, plot_uplift, policy_value, qini_coefficient,
                              qini_curve, uplift_by_decile, uplift_curve)


def _randomized(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    tau = 0.5 + x[:, 0]
    t = rng.integers(0, 2, n)
    y = x[:, 1] + t * tau + rng.normal(size=n)
    return y, t, tau, x


def _loop_curves(y, t, score):
    """Qini and uplift curves by brute force: one threshold per distinct score, plain loops."""
    n = len(y)
    xs, qini, upl = [0.0], [0.0], [0.0]
    for s in sorted(set(score.tolist()), reverse=True):
        yt = yc = 0.0
        nt = nc = 0
        for i in range(n):
            if score[i] >= s:
                if t[i] == 1:
                    yt += y[i]
                    nt += 1
                else:
                    yc += y[i]
                    nc += 1
        k = nt + nc
        xs.append(k / n)
        qini.append(yt - (yc * nt / nc if nc else 0.0))
        upl.append(((yt / nt if nt else 0.0) - (yc / nc if nc else 0.0)) * k)
    return xs, qini, upl


def _loop_area(xs, gains):
    area = 0.0
    for i in range(1, len(xs)):
        area += (xs[i] - xs[i - 1]) * (gains[i] + gains[i - 1]) / 2
    return area


@pytest.mark.parametrize("seed", range(3))
def test_qini_and_auuc_equal_loop_computation(seed):
    y, t, tau, _ = _randomized(seed, 400)
    score = np.round(tau + np.random.default_rng(seed).normal(size=400), 1)  # many ties
    xs, q, u = _loop_curves(y, t, score)
    np.testing.assert_allclose(qini_curve(y, t, score).gain, q, rtol=0, atol=1e-10)
    np.testing.assert_allclose(uplift_curve(y, t, score).fraction, xs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(uplift_curve(y, t, score).gain, u, rtol=0, atol=1e-10)
    assert qini_coefficient(y, t, score) == pytest.approx(_loop_area(xs, q) - q[-1] / 2,
                                                          abs=1e-10)
    assert auuc(y, t, score) == pytest.approx(_loop_area(xs, u), abs=1e-10)


def test_ties_do_not_depend_on_row_order():
    y, t, tau, _ = _randomized(3, 300)
    score = np.round(tau, 0)
    perm = np.random.default_rng(0).permutation(300)
    assert qini_coefficient(y, t, score) == pytest.approx(
        qini_coefficient(y[perm], t[perm], score[perm]), abs=1e-10)


def test_oracle_beats_random_ranking():
    y, t, tau, _ = _randomized(4, 20_000)
    rng = np.random.default_rng(5)
    random_q = [qini_coefficient(y, t, rng.random(len(y))) for _ in range(20)]
    random_a = [auuc(y, t, rng.random(len(y))) for _ in range(20)]
    assert qini_coefficient(y, t, tau) > max(random_q)
    assert auuc(y, t, tau) > max(random_a)
    # A random ranking has expected Qini coefficient 0 (mean within 3 standard errors).
    assert abs(np.mean(random_q)) < 3 * np.std(random_q, ddof=1) / np.sqrt(20)


def test_uplift_by_decile_matches_pandas_groupby():
    y, t, tau, _ = _randomized(6, 1000)
    tab = uplift_by_decile(y, t, tau)
    df = pd.DataFrame({"y": y, "t": t, "s": tau})
    df["g"] = 10 - pd.qcut(df.s.rank(method="first"), 10, labels=False)
    means = df.groupby(["g", "t"]).y.mean().unstack()
    np.testing.assert_allclose(tab.observed_uplift, (means[1] - means[0]).to_numpy(), atol=1e-12)
    np.testing.assert_allclose(tab.mean_score, df.groupby("g").s.mean().to_numpy(), atol=1e-12)
    assert tab.n.sum() == 1000 and (tab.n_treated + tab.n_control == tab.n).all()
    assert tab.observed_uplift.iloc[0] > tab.observed_uplift.iloc[-1]


def test_policy_value_edge_cases_are_closed_forms():
    y, t, tau, _ = _randomized(7, 2000)
    everyone = policy_value(y, t, tau, top=1.0)
    assert everyone.gain == pytest.approx(y[t == 1].mean() - y[t == 0].mean(), abs=1e-12)
    assert everyone.value == pytest.approx(y[t == 1].mean(), abs=1e-12)
    nobody = policy_value(y, t, tau, top=0.0)
    assert nobody.gain == 0.0 and nobody.value == pytest.approx(y[t == 0].mean(), abs=1e-12)


def test_policy_value_of_top_half_recovers_true_gain():
    y, t, tau, _ = _randomized(8, 20_000)
    pv = policy_value(y, t, tau, top=0.5)
    truth = np.sum(tau * (tau >= np.median(tau))) / len(tau)
    assert abs(pv.gain - truth) < 4 * pv.gain_std_error
    assert pv.gain_ci_low < pv.gain < pv.gain_ci_high and pv.n_treated_by_policy == 10_000


def test_evaluate_uplift_on_held_out_data_and_plot():
    y, t, _, x = _randomized(9, 3000)
    df = pd.DataFrame({"y": y, "t": t, "x0": x[:, 0], "x1": x[:, 1]})
    train, test = df.iloc[:2000], df.iloc[2000:]
    eff = causalkit.estimate(train, "t", "y", method="t_learner", covariates=["x0", "x1"],
                             model=LinearRegression(), n_bootstrap=0)
    out = evaluate_uplift(eff, test)
    score = eff.predict_cate(test)
    assert out["qini_coefficient"] == pytest.approx(
        qini_coefficient(test.y, test.t, score), abs=1e-12)
    assert out["qini_coefficient"] > 0 and len(out["by_decile"]) == 10
    axes = plot_uplift(test.y, test.t, score)
    assert [a.get_title() for a in axes] == ["Qini curve", "Uplift curve"]
    assert len(axes[0].lines) == 2
    plt.close("all")


def test_bad_inputs():
    y, t, tau, _ = _randomized(10, 100)
    with pytest.raises(DataError, match="same length"):
        qini_curve(y[:-1], t, tau)
    with pytest.raises(TreatmentNotBinaryError):
        auuc(y, t * 2, tau)
    with pytest.raises(DataError, match="score"):
        qini_coefficient(y, t, np.where(t == 1, np.nan, tau))
    with pytest.raises(EmptyArmError):
        auuc(y, np.ones_like(t), tau)
    with pytest.raises(OptionError, match="top"):
        policy_value(y, t, tau, top=1.5)
    with pytest.raises(OptionError, match="bins"):
        uplift_by_decile(y, t, tau, bins=0)
    with pytest.raises(OptionError, match="kind"):
        plot_uplift(y, t, tau, kind="gain")
