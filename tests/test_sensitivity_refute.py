"""Refuters: size on correctly specified models (simulation) and detection of planted violations."""

import math

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit import Effect, registry
from causalkit.errors import OptionError
from causalkit.sensitivity.refute import KINDS

N_SIM = 1000


@pytest.fixture(scope="module")
def cheap():
    """A registered OLS estimator on numpy (about 50 microseconds a fit), so that a
    1,000-replicate simulation of each refuter runs in seconds through the real refit path."""

    @registry.register("_cheap_ols", estimand="ATE", roles=("treatment", "outcome"),
                       optional_roles=("covariates",), replace=True)
    def _cheap_ols(data, treatment, outcome, covariates=None, alpha=0.05):
        cols = [data[treatment].to_numpy(float)] + [data[c].to_numpy(float)
                                                    for c in (covariates or ())]
        X = np.column_stack([np.ones(len(data))] + cols)
        y = data[outcome].to_numpy(float)
        xtx_inv = np.linalg.inv(X.T @ X)
        coef = xtx_inv @ (X.T @ y)
        resid = y - X @ coef
        df = len(y) - X.shape[1]
        se = math.sqrt(resid @ resid / df * xtx_inv[1, 1])
        z = coef[1] / se        # normal Wald inference by hand: scipy calls would dominate
        return Effect(method="_cheap_ols", estimand="ATE", estimate=float(coef[1]),
                      std_error=se, ci_low=coef[1] - 1.96 * se, ci_high=coef[1] + 1.96 * se,
                      alpha=alpha, p_value=math.erfc(abs(z) / math.sqrt(2)), statistic=z,
                      treatment=treatment, outcome=outcome, covariates=tuple(covariates or ()))

    yield _cheap_ols
    registry.unregister("_cheap_ols")


def _data(rng, n=40, effect=0.0, confounded=True):
    x = rng.normal(size=n)
    t = (0.7 * x * confounded + rng.normal(size=n) > 0).astype(int)
    return pd.DataFrame({"t": t, "x": x, "y": effect * t + x + rng.normal(size=n)})


def test_the_effect_records_its_call_for_every_entry_point(cheap):
    rng = np.random.default_rng(0)
    df = _data(rng)
    via_api = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                                 covariates=["x"], interacted=False)
    assert via_api.call["interacted"] is False and via_api.call["covariates"] == ["x"]
    assert via_api.call["treatment"] == "t" and via_api.call["alpha"] == 0.05
    from causalkit.backdoor.regression_adjustment import regression_adjustment

    direct = regression_adjustment(df, "t", "y", ["x"], cov_type="HC1")
    assert direct.call["cov_type"] == "HC1" and direct.call["outcome"] == "y"
    assert "call" not in via_api.to_dict() and via_api.to_frame().shape == (1, 17)


@pytest.mark.parametrize("kind,b", [("placebo", 4), ("random_common_cause", 4), ("subset", 4),
                                    ("bootstrap", 4), ("dummy_outcome", 4),
                                    ("negative_control", 1)])
def test_size_on_a_correctly_specified_model(cheap, kind, b):
    # 1,000 replicates of a correctly specified confounded design (y linear in x, adjusted
    # for x), B = 4 refits each (the prediction t test is exact for any B >= 2 with
    # exchangeable normal draws, so few refits keep the test valid and fast).  The refuter
    # flags at most its level: rate <= 0.05 + 3 MC SE, where the MC SE of a rate of 0.05
    # over 1,000 replicates is sqrt(0.05 * 0.95 / 1000) = 0.0069.  The placebo's null (a
    # zero effect, the treatment exchangeable) is a randomized design (confounded=False).
    # The negative-control outcome follows the outcome's model without the treatment.
    rng = np.random.default_rng(2024)
    rejections = 0
    for _ in range(N_SIM):
        df = _data(rng, confounded=(kind != "placebo"))
        df["nco"] = df.x + rng.normal(size=len(df))
        eff = causalkit.estimate(df, "t", "y", method="_cheap_ols", covariates=["x"])
        res = causalkit.refute(eff, df, kind=kind, n_refits=b, random_state=rng,
                               negative_control_outcome="nco" if kind == "negative_control"
                               else None)
        rejections += res.p_value <= 0.05
    rate = rejections / N_SIM
    assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / N_SIM), (kind, rate)


def test_negative_control_outcome_detects_an_omitted_confounder(cheap):
    rng = np.random.default_rng(5)
    n = 500
    u = rng.normal(size=n)
    x = rng.normal(size=n)
    t = (x + u + rng.normal(size=n) > 0).astype(int)
    df = pd.DataFrame({"t": t, "x": x, "y": t + x + u + rng.normal(size=n),
                       "nco": u + rng.normal(size=n)})          # u is omitted from the model
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"])
    res = causalkit.refute(eff, df, kind="negative_control", negative_control_outcome="nco")
    assert res.p_value < 0.001
    adjusted = causalkit.estimate(df.assign(u=u), "t", "y", method="regression_adjustment",
                                  covariates=["x", "u"])
    ok = causalkit.refute(adjusted, df.assign(u=u), kind="negative_control",
                          negative_control_outcome="nco")
    assert ok.p_value > 0.01


def test_negative_control_exposure_detects_a_leaked_post_treatment_placebo(cheap):
    rng = np.random.default_rng(6)
    n = 500
    x = rng.normal(size=n)
    t = (x + rng.normal(size=n) > 0).astype(int)
    y = t + x + rng.normal(size=n)
    leaked = ((y + rng.normal(size=n)) > np.median(y)).astype(int)   # built after the outcome
    honest = rng.integers(0, 2, n)
    df = pd.DataFrame({"t": t, "x": x, "y": y, "leaked": leaked, "honest": honest})
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"])
    bad = causalkit.refute(eff, df, kind="negative_control", negative_control_exposure="leaked")
    good = causalkit.refute(eff, df, kind="negative_control", negative_control_exposure="honest")
    assert bad.p_value < 1e-6 and good.p_value > 0.01


def test_placebo_refits_the_propensity_model_and_detects_a_real_effect():
    rng = np.random.default_rng(7)
    df = _data(rng, n=300, effect=1.0)
    eff = causalkit.estimate(df, "t", "y", method="ipw", covariates=["x"])
    res = causalkit.refute(eff, df, kind="placebo", n_refits=40)
    # The refitted placebo effects are centred at 0 (a stale propensity model would not be).
    est = res.estimates
    assert abs(est.mean()) < 4 * est.std(ddof=1) / math.sqrt(len(est))
    assert res.details["permutation_p"] == pytest.approx(1 / 41) and res.p_value < 0.001
    # The dummy outcome has no effect by design; the subset refits straddle the estimate.
    many = causalkit.refute(eff, df, kind=["dummy_outcome", "subset", "bootstrap",
                                           "random_common_cause"], n_refits=20)
    table = many.table
    assert list(table.kind) == ["dummy_outcome", "subset", "bootstrap", "random_common_cause"]
    assert abs(many["dummy_outcome"].estimates.mean()) < 0.2
    assert (table.p_value > 0.05).all()


def test_refute_bad_input_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(8)
    df = _data(rng, n=100, effect=1.0)
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"])
    with pytest.raises(OptionError, match="choose from"):
        causalkit.refute(eff, df, kind="placeb")
    with pytest.raises(OptionError, match="exactly one"):
        causalkit.refute(eff, df, kind="negative_control")
    with pytest.raises(causalkit.CausalKitError, match="nco"):
        causalkit.refute(eff, df, kind="negative_control", negative_control_outcome="nco")
    bare = Effect.from_estimate(method="regression_adjustment", estimand="ATE", estimate=1.0,
                                std_error=1.0)
    with pytest.raises(OptionError, match="record"):
        causalkit.refute(bare, df)
    ax = causalkit.refute(eff, df, kind="bootstrap", n_refits=10).plot()
    assert "bootstrap" in ax.get_title()
    assert set(KINDS) == {"placebo", "random_common_cause", "subset", "bootstrap",
                          "dummy_outcome", "negative_control"}
