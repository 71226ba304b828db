"""Every bad input gets a specific CausalKitError whose message names the problem."""

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit import errors


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 50
    return pd.DataFrame({"treated": rng.integers(0, 2, n), "x": rng.normal(size=n),
                         "outcome": rng.normal(size=n)})


def test_misspelled_column_suggests_the_closest_name(df):
    with pytest.raises(errors.ColumnNotFoundError, match="'treatment'.*did you mean 'treated'"):
        causalkit.estimate(df, "treatment", "outcome")


def test_missing_covariate_is_named(df):
    with pytest.raises(errors.ColumnNotFoundError, match="covariate column 'age'"):
        causalkit.estimate(df, "treated", "outcome", method="regression_adjustment",
                           covariates=["x", "age"])


@pytest.mark.parametrize("method", ["regression_adjustment", "ipw", "propensity_matching"])
def test_covariate_named_twice(df, method):
    with pytest.raises(errors.RoleError, match="covariate column 'x' is named more than once"):
        causalkit.estimate(df, "treated", "outcome", method=method, covariates=["x", "x"])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_are_reported_with_counts(df, bad):
    df.loc[3, "outcome"] = bad
    with pytest.raises(errors.MissingValueError, match=r"outcome column 'outcome' has 1 "):
        causalkit.estimate(df, "treated", "outcome")


def test_nan_in_covariate(df):
    df.loc[[1, 2], "x"] = np.nan
    with pytest.raises(errors.MissingValueError, match="covariate column 'x' has 2 missing"):
        causalkit.estimate(df, "treated", "outcome", method="regression_adjustment",
                           covariates="x")


def test_non_binary_treatment(df):
    df["treated"] = np.arange(len(df)) % 3
    with pytest.raises(errors.TreatmentNotBinaryError, match="'treated' must be binary.*3 distinct"):
        causalkit.estimate(df, "treated", "outcome")


def test_string_treatment_is_rejected(df):
    df["treated"] = np.where(df.treated == 1, "yes", "no")
    with pytest.raises(errors.TreatmentNotBinaryError, match="'treated' must be 0/1 or boolean"):
        causalkit.estimate(df, "treated", "outcome")


def test_boolean_treatment_is_accepted(df):
    df["treated"] = df.treated.astype(bool)
    assert np.isfinite(causalkit.estimate(df, "treated", "outcome").estimate)


def test_empty_arm(df):
    df["treated"] = 1
    with pytest.raises(errors.EmptyArmError, match=r"'treated' has 0 control \(0\) unit"):
        causalkit.estimate(df, "treated", "outcome")


def test_too_few_rows():
    small = pd.DataFrame({"t": [0, 1, 0, 1], "y": [1.0, 2.0, 3.0, 4.0],
                          "a": [1.0, 2.0, 3.0, 5.0], "b": [2.0, 1.0, 0.0, 3.0]})
    with pytest.raises(errors.TooFewRowsError, match="at least 7 rows, got 4"):
        causalkit.estimate(small, "t", "y", method="regression_adjustment", covariates=["a", "b"])


def test_constant_covariate(df):
    df["c"] = 1.0
    with pytest.raises(errors.ConstantColumnError, match="covariate column 'c' is constant"):
        causalkit.estimate(df, "treated", "outcome", method="regression_adjustment",
                           covariates=["x", "c"])


def test_collinear_covariates(df):
    df["x2"] = 2 * df.x
    with pytest.raises(errors.EstimationError, match="collinear"):
        causalkit.estimate(df, "treated", "outcome", method="regression_adjustment",
                           covariates=["x", "x2"], interacted=False)


def test_non_numeric_outcome(df):
    df["outcome"] = "a"
    with pytest.raises(errors.NonNumericColumnError, match="outcome column 'outcome' must be numeric"):
        causalkit.estimate(df, "treated", "outcome")


def test_unknown_method_suggests_a_name(df):
    with pytest.raises(errors.UnknownMethodError, match="did you mean 'difference_in_means'"):
        causalkit.estimate(df, "treated", "outcome", method="diference_in_means")


def test_missing_role(df):
    with pytest.raises(errors.RoleError, match="needs the role.*outcome"):
        causalkit.estimate(df, "treated", method="difference_in_means")


def test_role_the_method_does_not_use(df):
    with pytest.raises(errors.RoleError, match="does not use the role.*covariates"):
        causalkit.estimate(df, "treated", "outcome", method="difference_in_means",
                           covariates=["x"])


def test_unknown_estimand(df):
    with pytest.raises(errors.OptionError, match="not 'LATE'"):
        causalkit.estimate(df, "treated", "outcome", method="regression_adjustment",
                           estimand="LATE")


@pytest.mark.parametrize("alpha", [0, 1, -0.1, "x"])
def test_bad_alpha(df, alpha):
    with pytest.raises(errors.OptionError, match="alpha"):
        causalkit.estimate(df, "treated", "outcome", alpha=alpha)


def test_not_a_dataframe():
    with pytest.raises(errors.DataError, match="must be a pandas DataFrame"):
        causalkit.estimate([1, 2, 3], "t", "y")


def test_treatment_as_covariate(df):
    with pytest.raises(errors.RoleError, match="cannot also be covariates"):
        causalkit.estimate(df, "treated", "outcome", method="regression_adjustment",
                           covariates=["treated"])


def test_every_error_is_a_causalkit_error():
    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == errors.__name__:
            assert issubclass(obj, errors.CausalKitError)
