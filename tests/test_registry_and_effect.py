"""The registry (including third-party estimators) and the Effect result type."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit import Effect, errors, registry


@pytest.fixture
def df():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 2, 400)
    return pd.DataFrame({"t": t, "x": rng.normal(size=400),
                         "y": 1.0 + 0.5 * t + rng.normal(size=400)})


@pytest.fixture
def user_estimator():
    """A third-party estimator: the median difference with a bootstrap SE."""

    @causalkit.register("median_difference", estimand="ATE", roles=("treatment", "outcome"),
                        optional_roles=("covariates",))
    def median_difference(data, treatment, outcome, covariates=None, alpha=0.05,
                          n_boot=200, random_state=0):
        """Median difference with a bootstrap standard error."""
        y1 = data.loc[data[treatment] == 1, outcome].to_numpy()
        y0 = data.loc[data[treatment] == 0, outcome].to_numpy()
        rng = np.random.default_rng(random_state)
        boots = [np.median(rng.choice(y1, len(y1))) - np.median(rng.choice(y0, len(y0)))
                 for _ in range(n_boot)]
        return Effect.from_estimate(method="median_difference", estimand="ATE",
                                    estimate=np.median(y1) - np.median(y0),
                                    std_error=np.std(boots, ddof=1), alpha=alpha,
                                    treatment=treatment, outcome=outcome,
                                    n_treated=len(y1), n_control=len(y0),
                                    covariates=covariates or ())

    yield median_difference
    registry.unregister("median_difference")


def test_user_estimator_works_like_a_builtin(df, user_estimator):
    eff = causalkit.estimate(df, "t", "y", method="median_difference", n_boot=100, alpha=0.1)
    y = df.y.to_numpy()
    expected = np.median(y[df.t == 1]) - np.median(y[df.t == 0])
    assert eff.estimate == pytest.approx(expected, abs=1e-12)
    assert eff.alpha == 0.1
    assert eff.ci_high - eff.ci_low == pytest.approx(2 * 1.6448536269514722 * eff.std_error)
    table = causalkit.available()
    row = table.set_index("method").loc["median_difference"]
    assert row.estimands == "ATE" and row.required_roles == "treatment, outcome"
    assert row.description == "Median difference with a bootstrap standard error."
    # same validation of roles as the built-ins
    with pytest.raises(errors.RoleError):
        causalkit.estimate(df, "t", "y", method="median_difference", instrument="x")


def test_duplicate_registration_is_refused(user_estimator):
    with pytest.raises(errors.RegistryError, match="already registered"):
        causalkit.register("median_difference", estimand="ATE",
                           roles=("treatment", "outcome"))(lambda data: None)


def test_unknown_role_in_registration_is_refused():
    with pytest.raises(errors.RegistryError, match="unknown role"):
        causalkit.register("bad", estimand="ATE", roles=("treatment", "dose"))


def test_available_lists_builtins():
    table = causalkit.available()
    assert {"difference_in_means", "regression_adjustment"} <= set(table.method)
    assert list(table.columns) == ["method", "estimands", "required_roles", "optional_roles",
                                   "treatment_types", "description"]
    types = table.set_index("method").treatment_types
    assert types["aipw"] == "binary" and types["dose_response"] == "continuous"
    assert types["aipw"] == "binary" and types["iv_2sls"] == "binary, continuous"
    assert types["callaway_santanna"] == ""          # no treatment role: the cohort


def test_treatment_types_are_registered_and_checked():
    @causalkit.register("types_demo", estimand="ATE", roles=("treatment", "outcome"),
                        treatment_types=("binary", "categorical"), replace=True)
    def types_demo(data, treatment, outcome, alpha=0.05):
        return None

    try:
        spec = causalkit.get("types_demo")
        assert spec.treatment_types == ("binary", "categorical")
        assert not spec.needs_binary_treatment
        assert "treatment types: binary, categorical" in registry.describe("types_demo")
    finally:
        registry.unregister("types_demo")
    with pytest.raises(errors.RegistryError, match="unknown treatment type"):
        causalkit.register("bad_types", estimand="ATE", roles=("treatment", "outcome"),
                           treatment_types=("dose",))


def test_get_returns_spec():
    spec = causalkit.get("regression_adjustment")
    assert spec.estimands == ("ATE", "ATT", "ATC")
    assert spec.uses_adjustment_set


def test_effect_is_frozen_and_tidy(df):
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        eff.estimate = 0.0
    with pytest.raises(TypeError):
        eff.diagnostics["r_squared"] = 1.0
    d = eff.to_dict()
    assert d["covariates"] == ["x"] and d["method"] == "regression_adjustment"
    assert d["n_obs"] == 400 and d["n_treated"] + d["n_control"] == 400
    frame = causalkit.effects_to_frame(
        [eff, causalkit.estimate(df, "t", "y")])
    assert frame.shape[0] == 2
    assert list(frame.method) == ["regression_adjustment", "difference_in_means"]
    assert frame.loc[0, "estimate"] == eff.estimate


def test_summary_reports_the_numbers(df):
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"])
    text = eff.summary()
    for piece in ("regression_adjustment", "ATE", "x", "HC2", f"{eff.estimate:.4f}",
                  f"{eff.std_error:.4f}", f"{eff.ci_low:.4f}", f"{eff.ci_high:.4f}", "[0.025"):
        assert piece in text
    assert str(eff) == text


def test_predict_cate_without_model_is_a_clear_error(df):
    eff = causalkit.estimate(df, "t", "y")
    with pytest.raises(errors.EstimationError, match="does not fit a CATE model"):
        eff.predict_cate(df)


def test_inference_helpers_use_survival_functions():
    from causalkit.inference import two_sided_p_value, wald
    from scipy import stats

    assert 0 < two_sided_p_value(12.0) == pytest.approx(2 * stats.norm.sf(12.0), rel=1e-12)
    w = wald(1.0, 0.4, alpha=0.1, df=12)
    assert w.ci_high == pytest.approx(1.0 + stats.t.ppf(0.95, 12) * 0.4, abs=1e-12)


@pytest.mark.parametrize("se", [0.0, float("nan"), float("inf"), -1.0])
def test_a_standard_error_that_is_not_finite_positive_is_never_a_p_value(se):
    eff = Effect.from_estimate(method="m", estimand="ATE", estimate=1.0, std_error=se)
    assert np.isnan(eff.p_value) and np.isnan(eff.statistic)
    assert np.isnan(eff.ci_low) and np.isnan(eff.ci_high)
    assert "no test" in eff.inference


def test_a_degenerate_difference_in_means_is_no_test_not_p_zero():
    """y = t exactly: both arms constant, Neyman SE 0; a p-value of 0 would be a claim."""
    df = pd.DataFrame({"t": [0, 1] * 10, "y": [0.0, 1.0] * 10})
    eff = causalkit.estimate(df, "t", "y", method="difference_in_means")
    assert eff.estimate == 1.0 and eff.std_error == 0.0
    assert np.isnan(eff.p_value) and "standard error is zero" in eff.inference


def test_treatment_types_are_declared_checked_and_derived():
    assert causalkit.get("aipw").treatment_types == ("binary",)
    assert causalkit.get("iv_2sls").treatment_types == ("binary", "continuous")  # old flag
    spec = causalkit.get("dose_response")
    assert spec.treatment_types == ("continuous",) and not spec.needs_binary_treatment
    with pytest.raises(errors.RegistryError, match="treatment_types"):
        causalkit.register("bad_types", estimand="ATE", roles=("treatment", "outcome"),
                           treatment_types=("ordinal",))
