"""Bad inputs to matching, IPW and AIPW: clear CausalKitErrors or named warnings."""

import warnings

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import ConstantColumnError, EmptyArmError, OverlapError

METHODS = ["propensity_matching", "ipw", "aipw"]


def _frame(seed=0, n=300):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (rng.random(n) < 0.5).astype(int)
    return pd.DataFrame({"t": t, "y": x1 + t + rng.normal(size=n), "x1": x1, "x2": x2})


@pytest.mark.parametrize("method", METHODS)
def test_no_overlap_in_the_score_raises(method):
    df = _frame(1)
    df["t"] = (df.x1 + df.x2 > 0).astype(int)   # separated by a combination, not one column
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(OverlapError, match="no overlap"):
            causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "x2"])


@pytest.mark.parametrize("method", METHODS)
def test_separating_covariate_is_named(method):
    df = _frame(2)
    df["t"] = (df.x2 > 0.1).astype(int)
    with pytest.raises(OverlapError, match="covariate 'x2' perfectly separates"):
        causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "x2"])


@pytest.mark.parametrize("method", METHODS)
def test_constant_treatment_raises(method):
    df = _frame(3).assign(t=1)
    with pytest.raises(EmptyArmError, match="'t'"):
        causalkit.estimate(df, "t", "y", method=method, covariates=["x1"])


@pytest.mark.parametrize("method", METHODS)
def test_constant_covariate_is_named(method):
    df = _frame(4).assign(c=3.0)
    with pytest.raises(ConstantColumnError, match="'c'"):
        causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "c"])


def test_quasi_separating_covariate_warns_with_its_name():
    df = _frame(5)
    df["d"] = np.where(df.t == 1, (np.arange(len(df)) % 2), 0).astype(float)  # d=1 -> treated
    with pytest.warns(UserWarning, match="covariate 'd' quasi-separates"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                causalkit.estimate(df, "t", "y", method="ipw", covariates=["x1", "d"])
            except causalkit.CausalKitError:
                pass  # refusing afterwards is also acceptable; the warning must name it


def test_estimates_are_never_silently_nan():
    df = _frame(6)
    for method in METHODS:
        eff = causalkit.estimate(df, "t", "y", method=method, covariates=["x1", "x2"],
                                 random_state=0)
        assert np.isfinite(eff.estimate) and np.isfinite(eff.std_error)
        assert np.isfinite(eff.ci_low) and np.isfinite(eff.ci_high)
