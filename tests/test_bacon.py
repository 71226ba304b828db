"""Goodman-Bacon decomposition: the R bacondecomp package's published castle numbers, the
TWFE coefficient of linearmodels (via twfe) reproduced exactly, each 2x2 against a
statsmodels DiD regression on its own subsample, always-treated units, bad input."""

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from causalkit.errors import DataError, EmptyArmError
from causalkit.panel import bacon_decomposition
from causalkit.panel.twfe import twfe


@pytest.fixture(scope="module")
def castle():
    causaldata = pytest.importorskip("causaldata")
    return causaldata.castle.load_pandas().data


def test_castle_reproduces_the_published_bacondecomp_vignette(castle):
    # bacondecomp's vignette (CRAN, "bacon"), bacon(l_homicide ~ post, castle):
    #   Earlier vs Later Treated 0.05976 -0.00554; Later vs Earlier Treated 0.03190 0.07032;
    #   Treated vs Untreated 0.90834 0.08796; two-way FE estimate 0.0818116169306471.
    # bacondecomp's castle switches `post` on in the year of the law, one year before
    # causaldata's column does (its cohorts are 2005-2009, causaldata's 2006-2010).
    first = castle[castle.post > 0].groupby("sid").year.min() - 1
    data = castle.assign(g=castle.sid.map(first).fillna(0))
    dec = bacon_decomposition(data, "l_homicide", "sid", "year", cohort="g")
    published = {"Earlier vs Later Treated": (0.05976, -0.00554),
                 "Later vs Earlier Treated": (0.03190, 0.07032),
                 "Treated vs Untreated": (0.90834, 0.08796)}
    assert list(dec.summary.index) == list(published)
    for kind, (weight, avg) in published.items():
        assert round(dec.summary.loc[kind, "weight"], 5) == weight
        assert round(dec.summary.loc[kind, "avg_est"], 5) == avg
    assert dec.twfe == pytest.approx(0.0818116169306471, abs=1e-12)
    assert abs(dec.error) < 1e-12
    assert (dec.table.weight > 0).all() and dec.table.weight.sum() == pytest.approx(1.0)
    assert isinstance(dec.plot(), matplotlib.axes.Axes)


def test_causaldata_castle_sums_to_the_twfe_coefficient(castle):
    dec = bacon_decomposition(castle, "l_homicide", "sid", "year", treatment="post")
    ref = twfe(castle, "l_homicide", "sid", "year", treatment="post")   # linearmodels
    assert dec.twfe == pytest.approx(ref.estimate, abs=1e-12)
    assert (dec.table.weight * dec.table.estimate).sum() == pytest.approx(ref.estimate,
                                                                           abs=1e-12)


def _sim(seed, cohorts=(0, 1, 3, 5), n_units=80, n_periods=7):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(1, n_periods + 1), n_units)
    g = np.repeat(rng.choice(cohorts, n_units), n_periods)
    y = rng.normal(size=n_units)[unit] + 0.3 * t \
        + np.where((g > 0) & (t >= g), 1.0 + 0.7 * (t - g), 0.0) + rng.normal(size=unit.size)
    return pd.DataFrame({"id": unit, "t": t, "g": g, "y": y,
                         "d": ((g > 0) & (t >= g)).astype(int)})


def _two_by_two(df, treated, control, window):
    """The DiD coefficient of a TWFE regression on the two groups within the window."""
    part = df[df.g.isin([treated, control]) & df.t.between(*window)].copy()
    part["dd"] = ((part.g == treated) & (part.t >= treated)).astype(float)
    return smf.ols("y ~ dd + C(id) + C(t)", data=part).fit().params["dd"]


def test_every_two_by_two_equals_its_own_regression_and_always_treated_units():
    df = _sim(0)                       # cohort 1 is treated in every period: always treated
    dec = bacon_decomposition(df, "y", "id", "t", cohort="g")
    ref = twfe(df, "y", "id", "t", treatment="d")
    assert dec.twfe == pytest.approx(ref.estimate, abs=1e-10)
    assert abs(dec.error) < 1e-12
    assert set(dec.table.type) == {"Treated vs Untreated", "Earlier vs Later Treated",
                                   "Later vs Earlier Treated", "Later vs Always Treated"}
    last = df.t.max()
    for row in dec.table.itertuples():
        if row.type == "Treated vs Untreated":
            want = _two_by_two(df, row.treated, 0, (1, last))
        elif row.type == "Earlier vs Later Treated":      # before the later group starts
            sub = df[df.t < row.control]
            want = _two_by_two(sub, row.treated, row.control, (1, last))
        else:                                              # from the earlier group's start
            start = 1 if row.control == "always" else row.control
            ctrl = 1 if row.control == "always" else row.control
            sub = df[(df.t >= start)].copy()
            sub = sub[sub.g.isin([row.treated, ctrl])]
            sub["dd"] = ((sub.g == row.treated) & (sub.t >= row.treated)).astype(float)
            want = smf.ols("y ~ dd + C(id) + C(t)", data=sub).fit().params["dd"]
        assert row.estimate == pytest.approx(want, abs=1e-10), row


def test_bad_input():
    df = _sim(1, cohorts=(0, 3, 5))
    with pytest.raises(DataError, match=r"unbalanced: 80 units x 7 periods would be 560 rows, "
                                        r"but there are 557 \(3 unit\(s\)"):
        bacon_decomposition(df.drop(index=[4, 40, 90]), "y", "id", "t", cohort="g")
    switching = df.copy()
    who = switching.id[switching.g == 3].iloc[0]
    switching.loc[(switching.id == who) & (switching.t == 4), "d"] = 0
    with pytest.raises(DataError, match="switches off again"):
        bacon_decomposition(switching, "y", "id", "t", treatment="d")
    common = df.assign(g=np.where(df.g > 0, 3, 3))
    with pytest.raises(EmptyArmError, match="does not vary"):
        bacon_decomposition(common, "y", "id", "t", cohort="g")
