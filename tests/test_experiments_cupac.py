"""CUPAC: CUPED on a cross-fitted ML prediction of the metric."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression

from causalkit.errors import ColumnNotFoundError, OptionError
from causalkit.experiments import cupac, cuped


def _data(n=4000, effect=0.3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    v = np.tile([0, 1], n // 2)
    y = 2 + x[:, 0] + 1.5 * np.sin(2 * x[:, 1]) + effect * v + rng.normal(size=n)
    return pd.DataFrame({"v": v, "a": x[:, 0], "b": x[:, 1], "y": y})


def test_linear_one_feature_equals_cuped():
    df = _data()
    ref = cuped(df, "v", "y", "a").table.iloc[0]
    full = cupac(df, "v", "y", "a", model=LinearRegression(), cross_fit=False).table.iloc[0]
    for col in ("estimate", "std_error", "p_value", "variance_reduction"):
        assert full[col] == pytest.approx(ref[col], rel=1e-9)
    # cross-fitted: fold-wise coefficients differ by O(1/sqrt(n)) only
    cf = cupac(df, "v", "y", "a").table.iloc[0]
    assert cf.std_error == pytest.approx(ref.std_error, rel=5e-3)
    assert cf.estimate == pytest.approx(ref.estimate, abs=0.05 * ref.std_error)


def test_nonlinear_model_reduces_more_and_reports_rho_squared():
    df = _data(seed=1)
    lin = cuped(df, "v", "y", "b").table.iloc[0]
    rf = cupac(df, "v", "y", ["a", "b"], model=RandomForestRegressor(
        n_estimators=25, min_samples_leaf=20, random_state=0, n_jobs=1)).table.iloc[0]
    assert rf.variance_reduction > lin.variance_reduction + 0.3
    # the variance reduction of CUPED is the squared within-arm correlation of y and the covariate
    from causalkit.nuisance import folds
    pred = np.empty(len(df))
    X, y = df[["a", "b"]].to_numpy(), df.y.to_numpy()
    for tr, te in folds(len(df), 5, 0):
        pred[te] = RandomForestRegressor(n_estimators=25, min_samples_leaf=20, random_state=0,
                                         n_jobs=1).fit(X[tr], y[tr]).predict(X[te])
    yc = y - df.groupby("v").y.transform("mean").to_numpy()
    pc = pred - pd.Series(pred).groupby(df.v).transform("mean").to_numpy()
    rho2 = (yc @ pc) ** 2 / ((yc @ yc) * (pc @ pc))
    assert rf.variance_reduction == pytest.approx(rho2, abs=0.01)


def test_null_level():
    # 200 null experiments: MC SE of a 5% rejection rate is 1.5%; tolerance ~3 SE
    rej = sum(cupac(_data(600, effect=0.0, seed=s), "v", "y", ["a", "b"]).table.p_value[0] < 0.05
              for s in range(200))
    assert abs(rej / 200 - 0.05) < 0.045


def test_bad_input():
    df = _data(200)
    with pytest.raises(OptionError, match="features"):
        cupac(df, "v", "y", ["a", "y"])
    with pytest.raises(OptionError, match="n_folds"):
        cupac(df, "v", "y", "a", n_folds=1)
    with pytest.raises(ColumnNotFoundError, match="'zz'"):
        cupac(df, "v", "y", ["a", "zz"])
