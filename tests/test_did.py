"""2x2 difference-in-differences (`did`): Card & Krueger against statsmodels, clustered
coverage by simulation, and specific errors for bad input."""


import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import causalkit
from causalkit.errors import (DataError, DuplicatePanelRowError, EmptyArmError,
                              MissingValueError, RoleError)
from causalkit.panel.did import did

@pytest.fixture(scope="module")
def card_krueger(shared_csv):
    return shared_csv("card_krueger_njmin3.csv").dropna(subset=["fte"]).reset_index(drop=True)


def test_card_krueger_matches_statsmodels_hc1(card_krueger):
    eff = causalkit.estimate(card_krueger, "nj", "fte", method="did", post="d")
    ref = smf.ols("fte ~ nj * d", data=card_krueger).fit(cov_type="HC1")
    assert eff.estimate == pytest.approx(ref.params["nj:d"], abs=1e-8)
    assert eff.std_error == pytest.approx(ref.bse["nj:d"], abs=1e-8)
    assert eff.ci == pytest.approx(tuple(ref.conf_int().loc["nj:d"]), abs=1e-8)
    # Card & Krueger (1994) Table 3 reports 2.76 (FTE change NJ minus PA)
    assert eff.estimate == pytest.approx(2.75, abs=0.01)
    assert eff.n_obs == len(card_krueger)
    m = eff.diagnostics["cell_means"]
    assert eff.diagnostics["unadjusted_did"] == pytest.approx(
        m["treated_post"] - m["treated_pre"] - m["control_post"] + m["control_pre"])
    assert eff.diagnostics["unadjusted_did"] == pytest.approx(eff.estimate, abs=1e-8)


def test_card_krueger_covariates_and_cluster_match_statsmodels(card_krueger):
    df = card_krueger.assign(region=card_krueger[["centralj", "southj", "pa1", "pa2"]]
                             .to_numpy() @ np.array([1, 2, 3, 4]))
    covs = ["bk", "kfc", "roys", "co_owned"]
    eff = causalkit.estimate(df, "nj", "fte", method="did", post="d", covariates=covs,
                             cluster="region")
    ref = smf.ols("fte ~ nj * d + bk + kfc + roys + co_owned", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["region"]}, use_t=True)
    assert eff.estimate == pytest.approx(ref.params["nj:d"], abs=1e-8)
    assert eff.std_error == pytest.approx(ref.bse["nj:d"], abs=1e-8)
    assert eff.p_value == pytest.approx(ref.pvalues["nj:d"], abs=1e-8)
    assert eff.covariates == tuple(covs)


def _panel(rng, n_units=40, effect=1.0):
    unit = np.repeat(np.arange(n_units), 2)
    post = np.tile([0, 1], n_units)
    group = (unit < n_units // 2).astype(int)
    # unit effects make a unit's two errors correlated: clustering by unit is needed
    y = (2.0 * rng.normal(size=n_units)[unit] + 0.5 * group + 0.5 * post
         + effect * group * post + rng.normal(size=2 * n_units) * (1 + group))
    return pd.DataFrame({"id": unit, "post": post, "g": group, "y": y})


def test_unit_default_clusters_by_unit_like_statsmodels():
    df = _panel(np.random.default_rng(3))
    eff = did(df, "g", "y", "post", unit="id")
    ref = smf.ols("y ~ g * post", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["id"]}, use_t=True)
    assert eff.std_error == pytest.approx(ref.bse["g:post"], abs=1e-8)
    assert eff.df == 39
    assert eff.diagnostics["cluster"] == "id"
    assert "cluster-robust" in eff.inference


def test_clustered_ci_coverage_by_simulation():
    # 2000 replications: the Monte-Carlo SE of a 95% coverage is 0.0049, so the
    # acceptance band [0.93, 0.97] is about +-4 MC standard errors.
    rng = np.random.default_rng(20261124)
    reps, hits = 2000, 0
    for _ in range(reps):
        eff = did(_panel(rng), "g", "y", "post", unit="id")
        hits += eff.ci_low <= 1.0 <= eff.ci_high
    assert 0.93 <= hits / reps <= 0.97


def test_duplicate_unit_period_rows_rejected():
    df = _panel(np.random.default_rng(0))
    bad = pd.concat([df, df.iloc[[5]]], ignore_index=True)
    with pytest.raises(DuplicatePanelRowError, match="duplicate unit-period"):
        did(bad, "g", "y", "post", unit="id")


def test_no_treated_units_in_post_period():
    df = _panel(np.random.default_rng(0))
    df = df[~((df.g == 1) & (df.post == 1))]
    with pytest.raises(EmptyArmError, match="no units treated in the post period"):
        did(df, "g", "y", "post")


def test_other_bad_inputs():
    df = _panel(np.random.default_rng(0))
    with pytest.raises(DataError, match="post column 'p2' must be a 0/1"):
        did(df.assign(p2=df.y), "g", "y", "p2")
    with pytest.raises(MissingValueError, match="'y'"):
        did(df.assign(y=df.y.where(df.index != 3)), "g", "y", "post")
    with pytest.raises(RoleError):
        did(df, "g", "y", "y")
    with pytest.raises(DataError, match="changes within a unit"):
        did(df.assign(gp=df.g * df.post), "gp", "y", "post", unit="id")
    with pytest.raises(causalkit.CausalKitError, match="did you mean 'post'"):
        did(df, "g", "y", "pots")
