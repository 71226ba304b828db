"""Two-way fixed effects (`twfe`): cross-checked against the dummy-variable (LSDV)
regression in statsmodels, and its errors on bad panels."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import causalkit
from causalkit.errors import ConstantColumnError, DuplicatePanelRowError, EmptyArmError, RoleError
from causalkit.panel import twfe as twfe_module
from causalkit.panel.twfe import twfe


def staggered_panel(seed, n_units=60, n_periods=5, cohorts=(0, 2, 3)):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    g = np.repeat(rng.choice(cohorts, n_units), n_periods)
    d = ((g > 0) & (t >= g)).astype(int)
    x = rng.normal(size=unit.size)
    y = (rng.normal(size=n_units)[unit] + 0.3 * t + 1.5 * d + 0.5 * x
         + rng.normal(size=unit.size))
    return pd.DataFrame({"id": unit, "t": t, "g": g, "d": d, "x": x, "y": y,
                         "state": unit % 7, "half": t % 2})


def _lsdv(df, cluster):
    return smf.ols("y ~ d + x + C(id) + C(t)", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df[cluster]}, use_t=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_lsdv_point_and_nested_cluster_se(seed):
    df = staggered_panel(seed)
    eff = causalkit.estimate(df, "d", "y", method="twfe", unit="id", time="t",
                             covariates=["x"])
    ref = _lsdv(df, "id")
    assert eff.estimate == pytest.approx(ref.params["d"], abs=1e-8)
    # statsmodels' CR1 divides by n - K with K counting all unit dummies; unit effects
    # nested in the clusters are not counted by twfe (K = slopes + periods instead)
    n, k, periods = len(df), 2, df.t.nunique()
    expected = ref.bse["d"] * np.sqrt(ref.df_resid / (n - k - periods))
    assert eff.std_error == pytest.approx(expected, rel=1e-8)
    assert eff.df == df.id.nunique() - 1


def test_non_nested_cluster_equals_statsmodels_lsdv():
    df = staggered_panel(2)
    eff = twfe(df, "y", "id", "t", treatment="d", covariates=["x"], cluster="half")
    ref = _lsdv(df, "half")
    assert eff.std_error == pytest.approx(ref.bse["d"], rel=1e-8)


def test_unbalanced_panel_and_cohort_input():
    df = staggered_panel(3).sample(frac=0.85, random_state=1).sort_index()
    by_d = twfe(df, "y", "id", "t", treatment="d", covariates=["x"])
    by_g = twfe(df, "y", "id", "t", cohort="g", covariates=["x"])
    ref = _lsdv(df, "id")
    assert by_d.estimate == pytest.approx(ref.params["d"], abs=1e-8)
    assert by_g.estimate == pytest.approx(by_d.estimate, abs=1e-12)


def test_docstring_warns_and_points_to_callaway_santanna():
    for doc in (twfe_module.__doc__, twfe.__doc__):
        assert "biased" in doc.lower() and "callaway_santanna" in doc


def test_bad_panels():
    df = staggered_panel(0)
    with pytest.raises(DuplicatePanelRowError, match="id=.*t="):
        twfe(pd.concat([df, df.iloc[[0]]]), "y", "id", "t", treatment="d")
    with pytest.raises(EmptyArmError, match="no unit is treated"):
        twfe(df.assign(d=0), "y", "id", "t", treatment="d")
    with pytest.raises(ConstantColumnError, match="never changes within a unit"):
        twfe(df.assign(grp=(df.g > 0).astype(int)), "y", "id", "t", treatment="grp")
    with pytest.raises(RoleError, match="exactly one"):
        twfe(df, "y", "id", "t", treatment="d", cohort="g")
