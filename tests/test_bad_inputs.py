"""Every registered estimator through a matrix of bad inputs.

Each case must end in a specific :class:`~causalkit.errors.CausalKitError` subclass, or
in a correct answer (the same number as on the clean data, where the change should not
matter): never a raw exception, never NaN without a reason, never an unchanged answer
for an option the method did not use.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit import errors, registry
from causalkit.benchmark.grid import compatible, fit_roles
from causalkit.datasets import catalog

#: Candidate designs, in order; each method is run on the first one it fits.
DESIGNS = {
    "linear_confounding": {"n": 400},
    "iv_unobserved_confounder": {"n": 400},
    "did_2x2": {"n_units": 400},
    "staggered_did_panel": {"n_units": 120},
    "sharp_rd": {"n": 600},
}

#: Cheaper settings for slow methods (they do not change what is checked).
FAST = {"r_learner": {"n_bootstrap": 0, "cv": 2}, "s_learner": {"n_bootstrap": 0},
        "t_learner": {"n_bootstrap": 0}, "x_learner": {"n_bootstrap": 0},
        "dr_learner": {"cv": 2}, "causal_forest": {"n_estimators": 40, "cv": 2},
        "aipw": {"n_folds": 2}, "dose_response": {"n_folds": 2, "n_bootstrap": 100}}

# causalkit's own estimators; the peer adapters (causalkit.benchmark.adapters) hand the data to
# another library, and their contract (a missing or failing peer is a benchmark row with the
# reason) is tested in tests/test_benchmark_peers.py
METHODS = [m for m in registry.names()
           if registry.get(m).func.__module__.startswith("causalkit.")
           and not registry.get(m).func.__module__.startswith("causalkit.benchmark.adapters")]


def _mediated(n: int = 400, seed: int = 1, discrete: bool = False) -> pd.DataFrame:
    """X -> T -> M -> Y with X -> Y (covariate x; binary t; m and y continuous or binary)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t = rng.binomial(1, 1 / (1 + np.exp(-0.5 * x)))
    if discrete:
        m = rng.binomial(1, 0.3 + 0.4 * t)
        return pd.DataFrame({"t": t, "m": m, "y": rng.binomial(1, 0.2 + 0.5 * m)})
    m = 0.8 * t + 0.3 * x + rng.normal(size=n)
    return pd.DataFrame({"x": x, "t": t, "m": m, "y": m + 0.5 * t + x + rng.normal(size=n)})


def _dosed(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """A continuous dose confounded by two covariates (for the continuous-treatment methods)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=(2, n))
    a = 0.5 * x1 + 0.3 * x2 + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "a": a,
                         "y": a - 0.2 * a * a + x1 + rng.normal(size=n)})
def _block_panel(n_units: int = 24, n_periods: int = 8, seed: int = 1) -> pd.DataFrame:
    """Factor-model panel, one treated unit from period 6 on, a unit-level covariate x."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n_periods).cumsum()
    load = rng.uniform(0.5, 1.5, n_units)
    x = load + 0.3 * rng.normal(size=n_units)
    unit, time = np.repeat(np.arange(n_units), n_periods), np.tile(np.arange(1, n_periods + 1), n_units)
    d = ((unit == 0) & (time >= 6)).astype(int)
    y = load[unit] * f[time - 1] + d + 0.2 * rng.normal(size=unit.size)
    return pd.DataFrame({"unit": unit, "time": time, "d": d, "x": x[unit], "y": y})


#: Methods no catalogue design fits: their data and roles.
SPECIAL = {
    "dose_response": lambda: (_dosed(), {"treatment": "a", "outcome": "y",
                                         "covariates": ["x1", "x2"]}),
    "msm_continuous": lambda: (_dosed(), {"treatment": "a", "outcome": "y",
                                          "covariates": ["x1", "x2"]}),
    "frontdoor": lambda: (_mediated(), {"treatment": "t", "outcome": "y", "mediators": ["m"]}),
    "mediation": lambda: (_mediated(), {"treatment": "t", "outcome": "y", "mediators": ["m"],
                                        "covariates": ["x"]}),
    # the catalogue's panel is staggered; the synthetic control needs one adoption period
    "synthetic_control": lambda: (_block_panel(), {"treatment": "d", "outcome": "y",
                                                   "unit": "unit", "time": "time",
                                                   "covariates": ["x"], "n_placebos": 6}),
    "id_plugin": lambda: (_mediated(discrete=True),
                          {"treatment": "t", "outcome": "y",
                           "graph": "dag { t -> m -> y; t <-> y }"}),
}


@functools.lru_cache(maxsize=None)
def base(method: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    if method in SPECIAL:
        return SPECIAL[method]()
    spec = registry.get(method)
    for name, params in DESIGNS.items():
        ds = catalog.load(name, seed=1, **params)
        if compatible(spec, ds):
            return ds.data, fit_roles(spec, ds)
    raise AssertionError(f"no design fits {method}")


def fit(method: str, data: Any, roles: dict[str, Any], **options: Any) -> causalkit.Effect:
    roles = dict(roles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return causalkit.estimate(data, roles.pop("treatment", None), roles.pop("outcome"),
                                  method=method, **roles, **FAST.get(method, {}), **options)


@functools.lru_cache(maxsize=None)
def clean_fit(method: str) -> causalkit.Effect:
    data, roles = base(method)
    return fit(method, data, roles)


# --- the mutations: each returns (data, roles, options) or None when it does not apply ---

def _with(data: pd.DataFrame, column: str, values: Any) -> pd.DataFrame:
    out = data.copy()
    out[column] = values
    return out


def missing_column(data, roles):
    return data, {**roles, "outcome": "no_such_column"}, {}


def misspelt_column(data, roles):
    return data, {**roles, "outcome": roles["outcome"] + "_"}, {}


def nan_outcome(data, roles):
    y = data[roles["outcome"]].to_numpy(float).copy()
    y[3] = np.nan
    return _with(data, roles["outcome"], y), roles, {}


def inf_outcome(data, roles):
    y = data[roles["outcome"]].to_numpy(float).copy()
    y[5] = np.inf
    return _with(data, roles["outcome"], y), roles, {}


def nan_covariate(data, roles):
    if not roles.get("covariates"):
        return None
    x = roles["covariates"][0]
    v = data[x].to_numpy(float).copy()
    v[7] = np.nan
    return _with(data, x, v), roles, {}


def string_outcome(data, roles):
    return _with(data, roles["outcome"], data[roles["outcome"]].astype(str)), roles, {}


def one_arm(data, roles):
    t = roles.get("treatment")
    if t is None:
        return None
    return _with(data, t, np.ones(len(data), dtype=int)), roles, {}


def tiny(data, roles):
    return data.iloc[:3].reset_index(drop=True), roles, {}


def empty(data, roles):
    return data.iloc[:0], roles, {}


def duplicated_column(data, roles):
    y = roles["outcome"]
    frame = pd.concat([data, data[[y]]], axis=1)
    return frame, roles, {}


def non_dataframe(data, roles):
    return data.to_numpy(), roles, {}


def unknown_option(data, roles):
    return data, roles, {"bogus_option": 1}


def no_overlap(data, roles):
    t, covs = roles.get("treatment"), roles.get("covariates")
    if t is None or not covs or data[t].nunique() != 2:
        return None
    x = data[covs[0]]
    return _with(data, t, (x > x.median()).astype(int)), roles, {}


def collinear_covariate(data, roles):
    covs = roles.get("covariates")
    if not covs:
        return None
    frame = _with(data, "x_twice", 2.0 * data[covs[0]])
    return frame, {**roles, "covariates": list(covs) + ["x_twice"]}, {}


#: Mutations that must end in a CausalKitError subclass (the one named, or any).
MUST_REFUSE: dict[Callable, type] = {
    missing_column: errors.ColumnNotFoundError,
    misspelt_column: errors.ColumnNotFoundError,
    nan_outcome: errors.MissingValueError,
    inf_outcome: errors.MissingValueError,
    nan_covariate: errors.MissingValueError,
    string_outcome: errors.DataError,
    one_arm: errors.CausalKitError,
    tiny: errors.CausalKitError,
    empty: errors.CausalKitError,
    duplicated_column: errors.DataError,
    non_dataframe: errors.DataError,
    unknown_option: errors.OptionError,
}


def _cases(mutations):
    out = []
    for method in METHODS:
        for mutate in mutations:
            out.append(pytest.param(method, mutate, id=f"{method}-{mutate.__name__}"))
    return out


@pytest.mark.parametrize("method, mutate", _cases(MUST_REFUSE))
def test_bad_input_is_a_specific_causalkit_error(method, mutate):
    data, roles = base(method)
    case = mutate(data, roles)
    if case is None:
        pytest.skip(f"{mutate.__name__} does not apply to {method}")
    bad, bad_roles, options = case
    expected = MUST_REFUSE[mutate]
    if "graph" in bad_roles and expected is errors.ColumnNotFoundError:
        expected = errors.UnknownNodeError      # a role naming no node of the given graph
    with pytest.raises(expected):
        fit(method, bad, bad_roles, **options)


def _binary_treatment(method: str, data: pd.DataFrame, roles: dict[str, Any]) -> bool:
    t = roles.get("treatment")
    return t is not None and registry.get(method).needs_binary_treatment \
        and set(np.unique(data[t])) <= {0, 1}


@pytest.mark.parametrize("method", METHODS)
def test_a_1_2_treatment_is_refused_as_not_binary(method):
    data, roles = base(method)
    if not _binary_treatment(method, data, roles):
        pytest.skip("the method does not take a binary treatment")
    with pytest.raises(errors.TreatmentNotBinaryError):
        fit(method, _with(data, roles["treatment"], data[roles["treatment"]] + 1), roles)


@pytest.mark.parametrize("method", METHODS)
def test_a_continuous_treatment_is_refused_unless_the_method_takes_one(method):
    data, roles = base(method)
    if not _binary_treatment(method, data, roles):
        pytest.skip("the method does not take a binary treatment")
    rng = np.random.default_rng(0)
    dose = data[roles["treatment"]] + rng.normal(size=len(data))
    with pytest.raises(errors.TreatmentNotBinaryError):
        fit(method, _with(data, roles["treatment"], dose), roles)


@pytest.mark.parametrize("method", [m for m in METHODS if registry.get(m).treatment_types
                                    and "binary" not in registry.get(m).treatment_types])
def test_a_binary_treatment_is_refused_by_the_continuous_methods(method):
    data, roles = base(method)
    t = roles["treatment"]
    with pytest.raises(errors.TreatmentNotContinuousError, match="binary"):
        fit(method, _with(data, t, (data[t] > data[t].median()).astype(int)), roles)


def _same_effect(a: causalkit.Effect, b: causalkit.Effect, rtol: float = 1e-7) -> None:
    scale = max(abs(a.estimate), abs(a.std_error) if np.isfinite(a.std_error) else 0, 1e-12)
    assert abs(a.estimate - b.estimate) <= rtol * scale, (a.estimate, b.estimate)
    if np.isfinite(a.std_error):
        assert b.std_error == pytest.approx(a.std_error, rel=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_a_boolean_treatment_gives_the_same_answer_as_0_1(method):
    data, roles = base(method)
    if not _binary_treatment(method, data, roles):
        pytest.skip("the method does not take a binary treatment")
    t = roles["treatment"]
    _same_effect(clean_fit(method), fit(method, _with(data, t, data[t].astype(bool)), roles))


@pytest.mark.parametrize("method", METHODS)
def test_integer_column_names_give_the_same_answer(method):
    data, roles = base(method)
    codes = {c: i for i, c in enumerate(data.columns)}

    def rename(value):
        if isinstance(value, list):
            return [codes[v] for v in value]
        return codes.get(value, value) if isinstance(value, str) else value

    try:
        eff = fit(method, data.rename(columns=codes), {k: rename(v) for k, v in roles.items()})
    except errors.CausalKitError as err:   # refusing non-string names is acceptable, if clear
        # (a method given a graph says the renamed column is no node of that graph)
        assert "column" in str(err).lower() or isinstance(err, errors.UnknownNodeError)
        return
    _same_effect(clean_fit(method), eff)


def _covariates_or_skip(roles: dict[str, Any]) -> list[str]:
    covs = roles.get("covariates")
    if not covs:
        pytest.skip("no covariates")
    return covs


@pytest.mark.parametrize("method", METHODS)
def test_a_badly_scaled_covariate_gives_the_same_answer(method):
    data, roles = base(method)
    covs = _covariates_or_skip(roles)
    for factor in (1e-6, 1e6):
        eff = fit(method, _with(data, covs[0], data[covs[0]] * factor), roles)
        if method == "causal_forest":
            # econml's forest casts X to float32 (scikit-learn trees), so scaled values can
            # round into ties and move a split: the same answer to a small share of its SE
            clean = clean_fit(method)
            assert abs(eff.estimate - clean.estimate) < 0.25 * clean.std_error
            continue
        _same_effect(clean_fit(method), eff, rtol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_no_overlap_is_an_overlap_error(method):
    data, roles = base(method)
    case = no_overlap(data, roles)
    if case is None or not registry.get(method).uses_adjustment_set or "instrument" in roles:
        pytest.skip("not a covariate-adjusting method on binary-treatment data (an IV "
                    "treatment need not overlap in the covariates)")
    bad, bad_roles, _ = case
    with pytest.raises(errors.OverlapError):
        fit(method, bad, bad_roles)


@pytest.mark.parametrize("method", METHODS)
def test_collinear_covariates_are_refused_or_harmless(method):
    data, roles = base(method)
    case = collinear_covariate(data, roles)
    if case is None:
        pytest.skip("no covariates")
    try:
        eff = fit(method, case[0], case[1])
    except errors.CausalKitError as err:
        assert "x_twice" in str(err) or "collinear" in str(err)
        return
    assert np.isfinite(eff.estimate)
    assert np.isfinite(eff.std_error) or "no test" in eff.inference


@pytest.mark.parametrize("method", METHODS)
def test_a_categorical_covariate_is_one_hot_encoded(method):
    # (issue 19: this was "refused or encoded"; every method now encodes it in the core
    # design step, so the answer must be that of the 0/1 dummy column, reference dropped)
    data, roles = base(method)
    covs = _covariates_or_skip(roles)
    high = data[covs[0]] > data[covs[0]].median()     # two levels whatever the column's sign
    cat = pd.Categorical(np.where(high, "high", "low"), categories=["low", "high"])
    eff = fit(method, _with(data, covs[0], cat), roles)
    assert f"{covs[0]}[T.high]" in eff.covariates and "one-hot encoded" in eff.inference
    if method in FAST and method != "aipw":
        assert np.isfinite(eff.estimate)      # the slow learners: one fit is enough here
        return
    _same_effect(fit(method, _with(data, covs[0], high.astype(float)), roles), eff)


@pytest.mark.parametrize("method", METHODS)
def test_a_clean_fit_is_finite_or_says_why(method):
    eff = clean_fit(method)
    assert np.isfinite(eff.estimate)
    if not np.isfinite(eff.std_error):
        assert eff.inference and np.isnan(eff.p_value)


#: Methods whose answer depends on the row order by construction: cross-fitting assigns
#: folds (and the bootstrap draws rows) by position, as in DoubleML and econml.
ORDER_DEPENDENT = {"aipw", "s_learner", "t_learner", "x_learner", "dr_learner", "r_learner",
                   "causal_forest", "frontdoor", "mediation", "id_plugin", "dose_response",
                   "dml_plr", "dml_pliv", "aipw_multi"}


@pytest.mark.parametrize("method", sorted(set(METHODS) - ORDER_DEPENDENT))
def test_shuffling_the_rows_gives_the_same_answer(method):
    data, roles = base(method)
    shuffled = data.sample(frac=1.0, random_state=7).reset_index(drop=True)
    _same_effect(clean_fit(method), fit(method, shuffled, roles), rtol=1e-9)
