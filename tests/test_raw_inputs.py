"""Inputs that used to escape as raw numpy / pandas / linearmodels exceptions (issue 13,
item 2): every registered estimator on frames of 0-3 rows, integer column labels, an
empty frame in ``rdd``, and collinear or absorbed regressors in ``twfe`` / ``event_study``.
Each must end in a :class:`~causalkit.errors.CausalKitError` (or, for integer labels, the
same estimate as with text labels)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalkit
from causalkit import registry
from causalkit.errors import CausalKitError, EstimationError, TooFewRowsError

#: columns of the synthetic frames and the roles each kind of estimator takes
PANEL = {"twfe": dict(outcome="y", unit="u", time="tm", treatment="d"),
         "event_study": dict(outcome="y", unit="u", time="tm", cohort="g"),
         "callaway_santanna": dict(outcome="y", unit="u", time="tm", cohort="g")}
SPECIAL = {"did": dict(treatment="grp", outcome="y", post="p"),
           "iv_2sls": dict(treatment="t", outcome="y", instrument="z"),
           "rdd": dict(outcome="y", running="r", cutoff=0.0)}


#: options that keep the learners fast (no bootstrap, small forests, two folds) and seeded
FAST_OPTIONS = {"random_state": 0, "n_bootstrap": 0, "n_estimators": 16, "cv": 2}

#: the heterogeneous-effect learners get linear nuisance models (speed, not the point here)
LEARNERS = {"causal_forest", "dr_learner", "r_learner", "s_learner", "t_learner", "x_learner"}
LINEAR_MODELS = {"model": LinearRegression(), "outcome_model": LinearRegression(),
                 "final_model": LinearRegression(), "cate_model": LinearRegression(),
                 "propensity_model": LogisticRegression()}


def _roles(method: str, covariates: bool) -> dict:
    spec = registry.get(method)
    roles = dict(PANEL.get(method) or SPECIAL.get(method) or dict(treatment="t", outcome="y"))
    if "covariates" in spec.roles or (covariates and "covariates" in spec.accepted_roles):
        roles["covariates"] = ["x"]
    for option, value in FAST_OPTIONS.items():
        if option in spec.option_names:
            roles[option] = value
    if method in LEARNERS:
        for option, model in LINEAR_MODELS.items():
            if option in spec.option_names:
                roles[option] = clone(model)
    return roles


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A frame with every role's column; panels of n // 4 units x 4 periods when n >= 4."""
    rng = np.random.default_rng(seed)
    unit = np.arange(n) // 4
    tm = np.arange(n) % 4 + 1
    g = np.where(unit % 3 == 0, 0, np.where(unit % 3 == 1, 3, 4))
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    if n >= 2:
        t[:2] = [0, 1]
    d = ((g > 0) & (tm >= g)).astype(int)
    r = rng.uniform(-1, 1, n)
    grp = (g > 0).astype(int)
    p = (tm >= 3).astype(int)
    y = x + t + d + grp * p + (r >= 0) + rng.normal(size=n)
    return pd.DataFrame({"t": t, "y": y, "x": x, "z": rng.integers(0, 2, n), "p": p, "r": r,
                         "u": unit, "tm": tm, "g": g, "d": d, "grp": grp})


METHODS = registry.names()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_frames_give_causalkit_errors(method, n):
    """0 to 3 rows: never a raw exception (an estimate is allowed where one exists)."""
    for covariates in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                causalkit.estimate(_frame(n), method=method, **_roles(method, covariates))
            except CausalKitError:
                pass


def test_rdd_on_an_empty_frame():
    empty = pd.DataFrame({"x": np.array([], dtype=float), "y": np.array([], dtype=float)})
    with pytest.raises(TooFewRowsError, match="the data has 0 row"):
        causalkit.estimate(empty, outcome="y", method="rdd", running="x", cutoff=0.0)


@pytest.mark.parametrize("method", METHODS)
def test_integer_column_labels(method):
    """A frame with pandas' default integer labels (0, 1, ...) gives the same estimate as
    the same frame with text labels, with and without covariates."""
    df = _frame(480, seed=1)
    labels = {c: i for i, c in enumerate(df.columns)}
    numbered = df.rename(columns=labels)
    for covariates in (False, True):
        roles = _roles(method, covariates)
        as_int = {k: ([labels[c] for c in v] if isinstance(v, list) else
                      labels[v] if isinstance(v, str) else v) for k, v in roles.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                expected = causalkit.estimate(df, method=method, **roles).estimate
            except CausalKitError as err:     # the design itself is not estimable
                with pytest.raises(type(err)):
                    causalkit.estimate(numbered, method=method, **as_int)
                continue
            got = causalkit.estimate(numbered, method=method, **as_int).estimate
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12) or (
            np.isnan(got) and np.isnan(expected))


def test_integer_label_suggestion_and_bad_labels():
    df = pd.DataFrame({0: [0, 1, 0, 1], 1: [1.0, 2.0, 3.0, 5.0]})
    with pytest.raises(CausalKitError, match="outcome column '1' is not in the data; did you "
                                             "mean 1"):
        causalkit.estimate(df, 0, "1")
    with pytest.raises(CausalKitError, match="column name must be a string or an integer"):
        causalkit.estimate(df, 0, 1.5)
    with pytest.raises(CausalKitError, match="column names must be strings or integers"):
        causalkit.estimate(df, 0, 1, method="regression_adjustment", covariates=[True])


def _panel(seed=0, n_units=40, n_periods=5):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    tm = np.tile(np.arange(n_periods), n_units)
    g = np.repeat(rng.choice([0, 2, 3], n_units), n_periods)
    x = rng.normal(size=unit.size)
    y = rng.normal(size=unit.size) + ((g > 0) & (tm >= g))
    return pd.DataFrame({"u": unit, "tm": tm, "g": g, "d": ((g > 0) & (tm >= g)).astype(int),
                         "x": x, "x2": 3 * x - 1, "y": y, "z": rng.normal(size=n_units)[unit],
                         "zt": rng.normal(size=n_units)[unit] + tm,
                         "xu": 2 * x + rng.normal(size=n_units)[unit]})


@pytest.mark.parametrize("method,extra", [("twfe", dict(treatment="d")),
                                          ("event_study", dict(cohort="g"))])
def test_collinear_panel_covariates_are_refused_by_name(method, extra):
    df = _panel()
    with pytest.raises(EstimationError, match=r"'x', 'x2' are collinear"):
        causalkit.estimate(df, outcome="y", method=method, unit="u", time="tm",
                           covariates=["x", "x2"], **extra)


@pytest.mark.parametrize("method,extra", [("twfe", dict(treatment="d")),
                                          ("event_study", dict(cohort="g"))])
@pytest.mark.parametrize("covariates", [["z"], ["zt"], ["x", "xu"]])
def test_covariate_absorbed_by_the_fixed_effects_is_an_estimation_error(method, extra,
                                                                        covariates):
    """A time-invariant covariate (z), a unit + period one (zt), or one collinear with another
    only after the unit effects are removed (xu = 2 x + unit effect) is refused by name; the
    last used to give a standard error with a spurious extra slope counted."""
    df = _panel(1)
    with pytest.raises(EstimationError, match="two-way fixed-effects regression failed"
                                              f"(.|\\n)*{covariates[-1]}"):
        causalkit.estimate(df, outcome="y", method=method, unit="u", time="tm",
                           covariates=covariates, **extra)
