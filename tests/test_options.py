"""Strict options: an option or role an estimator does not take is an error, never ignored."""

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit import registry
from causalkit.backdoor.ipw import ipw
from causalkit.errors import OptionError, RoleError


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(5)
    x = rng.normal(size=400)
    t = rng.binomial(1, 1 / (1 + np.exp(-x)))
    return pd.DataFrame({"x": x, "t": t, "y": t + x + rng.normal(size=400),
                         "w": rng.uniform(1, 2, 400), "g": rng.integers(0, 20, 400)})


@pytest.mark.parametrize("method, option, hint", [
    ("aipw", "n_fold", "n_folds"),
    ("propensity_matching", "calipre", "caliper"),
    ("propensity_matching", "distance", None),
    ("regression_adjustment", "interact", "interacted"),
    ("ipw", "normalised", "normalized"),
])
def test_an_unknown_option_is_an_option_error_with_a_suggestion(df, method, option, hint):
    with pytest.raises(OptionError, match=f"no option '{option}'") as err:
        causalkit.estimate(df, "t", "y", method=method, covariates=["x"], **{option: 1})
    if hint:
        assert f"did you mean '{hint}'" in str(err.value)


def test_direct_calls_are_checked_the_same_way(df):
    with pytest.raises(OptionError, match="did you mean 'trim'"):
        ipw(df, treatment="t", outcome="y", covariates=["x"], trimm=0.1)


@pytest.mark.parametrize("method", sorted(set(registry.names()) - {"rdd", "twfe",
                                                                     "event_study", "did",
                                                                     "callaway_santanna",
                                                                     "iv_2sls", "dcdh"}))
def test_weights_are_refused_until_a_method_supports_them(df, method):
    """Even all-zero weights used to return the unweighted answer."""
    spec = registry.get(method)
    roles = {"covariates": ["x"]} if "covariates" in spec.accepted_roles else {}
    if "mediators" in spec.roles:
        roles["mediators"] = "x"
    with pytest.raises(RoleError, match="weights"):
        causalkit.estimate(df, "t", "y", method=method, weights="w", **roles)


def test_twfe_refuses_weights_on_castle():
    """causaldata's castle: twfe(weights='popwt') returned the unweighted 0.069398."""
    causaldata = pytest.importorskip("causaldata")
    castle = causaldata.castle.load_pandas().data
    with pytest.raises(RoleError, match="weights"):
        causalkit.estimate(castle, treatment="post", outcome="l_homicide", method="twfe",
                           unit="sid", time="year", weights="popwt")


def test_an_unknown_role_keyword_is_suggested(df):
    with pytest.raises(OptionError, match="did you mean 'cluster'"):
        causalkit.estimate(df, "t", "y", method="difference_in_means", clustr="g")


def test_the_one_estimand_of_a_method_may_be_named(df):
    a = causalkit.estimate(df, "t", "y", method="difference_in_means", estimand="ATE")
    b = causalkit.estimate(df, "t", "y", method="difference_in_means")
    assert a.estimate == b.estimate
    with pytest.raises(OptionError, match="not 'ATT'"):
        causalkit.estimate(df, "t", "y", method="difference_in_means", estimand="ATT")


def test_every_builtin_option_is_documented_with_type_and_default():
    for name in registry.names():
        spec = registry.get(name)
        for option in spec.options:
            assert option.annotation, (name, option.name)
        text = registry.describe(name)
        assert all(o.name in text for o in spec.options)
    text = registry.describe("propensity_matching")
    assert "caliper: float | None = 0.2" in text and "n_neighbors: int = 1" in text
