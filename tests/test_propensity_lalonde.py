"""LaLonde's NSW data: experimental benchmark and the CPS comparison group.

Reference: the experimental difference in means on 1978 earnings in the
Dehejia–Wahba NSW subsample is $1,794 (Dehejia & Wahba 1999, JASA 94:1053).
With the NSW treated and the CPS-1 controls, Dehejia & Wahba (1999, Table 3)
report propensity-score estimates of about $1,600–$1,800 with standard errors of
$750–$1,150, and Dehejia & Wahba (2002, REStat 84:151) estimates in the same
region for matching with replacement.  We therefore require every estimator to
land in [$1,000, $2,500] (the benchmark +- about one of their standard errors),
while the naive difference in means is about -$8,500 (LaLonde 1986).  The
propensity model is Dehejia & Wahba's specification (quadratics in age,
education and earnings, unemployment dummies and educ x re74).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import causalkit

causaldata = pytest.importorskip("causaldata", reason="LaLonde data ship with causaldata")

COVS = ["age", "age2", "educ", "educ2", "marr", "nodegree", "black", "hisp", "re74", "re75",
        "re742", "re752", "u74", "u75", "educre74"]


def _features(df):
    df = df.assign(age2=df.age**2, educ2=df.educ**2, re742=df.re74**2, re752=df.re75**2,
                   u74=(df.re74 == 0).astype(int), u75=(df.re75 == 0).astype(int),
                   educre74=df.educ * df.re74)
    return df[["treat", "re78"] + COVS].astype(float).reset_index(drop=True)


@pytest.fixture(scope="module")
def nsw():
    return _features(causaldata.nsw_mixtape.load_pandas().data)


@pytest.fixture(scope="module")
def nsw_cps(nsw):
    cps = _features(causaldata.cps_mixtape.load_pandas().data)
    return pd.concat([nsw[nsw.treat == 1], cps], ignore_index=True)


def test_experimental_difference_in_means_is_1794(nsw):
    eff = causalkit.estimate(nsw, "treat", "re78", method="difference_in_means")
    assert eff.estimate == pytest.approx(1794.34, abs=0.5)


def test_naive_comparison_with_cps_is_badly_biased(nsw_cps):
    eff = causalkit.estimate(nsw_cps, "treat", "re78", method="difference_in_means")
    assert eff.estimate < -8000


@pytest.mark.parametrize("method,options", [
    ("propensity_matching", {}),
    ("propensity_matching", {"n_neighbors": 5}),
    ("ipw", {"estimand": "ATT"}),
    ("aipw", {"estimand": "ATT", "random_state": 0}),
])
def test_cps_estimates_land_in_literature_range(nsw_cps, method, options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eff = causalkit.estimate(nsw_cps, "treat", "re78", method=method, covariates=COVS,
                                 **options)
    # most CPS controls have scores near 0: the positivity warning must say so
    assert any("positivity" in str(w.message) for w in caught)
    assert eff.estimand == "ATT"
    assert 1000 <= eff.estimate <= 2500, eff.estimate
    assert 400 < eff.std_error < 1500
    assert eff.diagnostics["balance"].shape[0] == len(COVS)


def test_experimental_sample_estimators_agree_with_benchmark(nsw):
    # in the experiment, adjustment should move the estimate by far less than its SE
    for method, seed in (("ipw", {}), ("aipw", {"random_state": 0})):
        eff = causalkit.estimate(nsw, "treat", "re78", method=method,
                                 covariates=["age", "educ", "black", "hisp", "marr",
                                             "nodegree", "re74", "re75"], **seed)
        assert abs(eff.estimate - 1794.34) < 0.5 * eff.std_error
        assert np.isfinite(eff.std_error)
