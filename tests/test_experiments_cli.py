"""The ``causalkit ab`` command and input edge cases of analyze."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalkit.cli import main
from causalkit.errors import ConstantColumnError, DataError, EmptyArmError, MissingValueError
from causalkit.experiments import Metric
from causalkit.experiments import analyze


@pytest.fixture()
def csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame({"arm": rng.choice(["control", "B", "C"], n), "rev": rng.normal(10, 2, n),
                       "conv": rng.integers(0, 2, n), "clicks": rng.poisson(3, n),
                       "sess": rng.poisson(5, n) + 1})
    df["pre"] = df.rev + rng.normal(size=n)
    path = tmp_path / "exp.csv"
    df.to_csv(path, index=False)
    return path, df


def test_cli_prints_table_matching_scipy(csv, capsys):
    path, df = csv
    code = main(["ab", "--data", str(path), "--variant", "arm", "--metric", "rev", "conv",
                 "--ratio", "ctr=clicks/sess", "--cuped", "rev=pre", "--correction", "bh", "--csv"])
    assert code == 0
    out = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert len(out) == 6 and set(out.metric) == {"rev", "conv", "ctr"}
    conv_b = out[(out.metric == "conv") & (out.arm == "B")].iloc[0]
    x1, n1 = df.conv[df.arm == "B"].sum(), (df.arm == "B").sum()
    x0, n0 = df.conv[df.arm == "control"].sum(), (df.arm == "control").sum()
    p = (x1 + x0) / (n1 + n0)
    z = (x1 / n1 - x0 / n0) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))
    assert conv_b.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


def test_cli_human_summary_and_errors(csv, capsys):
    path, _ = csv
    assert main(["ab", "--data", str(path), "--variant", "arm", "--metric", "rev"]) == 0
    text = capsys.readouterr().out
    assert "SRM chi2(2)" in text and "rev" in text
    assert main(["ab", "--data", str(path), "--variant", "arm", "--metric", "revenue"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["ab", "--data", str(path), "--variant", "arm", "--ratio", "x=clicks"]) == 2


def test_infinite_values_named_and_kind_detection():
    df = pd.DataFrame({"v": [0, 1] * 50, "y": np.r_[np.inf, np.ones(99)]})
    with pytest.raises(MissingValueError, match="infinite"):
        analyze(df, "v", "y")
    half = pd.DataFrame({"v": [0, 1] * 50, "y": np.r_[0.5, np.tile([0.0, 1.0], 49), 1.0]})
    assert analyze(half, "v", "y").table.kind[0] == "mean"      # a 0.5 is not a conversion
    binary = half.assign(y=np.tile([0.0, 1.0, 1.0, 0.0], 25))
    assert analyze(binary, "v", "y").table.kind[0] == "proportion"


def test_degenerate_inputs_raise_named_errors():
    df = pd.DataFrame({"v": [0, 0, 0, 1], "y": [1.0, 2.0, 3.0, 4.0], "k": 1.0,
                       "num": [1.0, 2.0, 0.0, 1.0], "den": [1.0, 1.0, 1.0, 0.0]})
    with pytest.raises(EmptyArmError, match="arm 1 has 1 unit"):
        analyze(df, "v", "y")
    df2 = pd.concat([df, df])
    with pytest.raises(ConstantColumnError, match="'k'"):
        analyze(df2, "v", ["y", "k"])
    with pytest.raises(DataError, match="denominator sums to 0 in arm 1"):
        analyze(df2, "v", Metric("r", column="num", denominator="den"))


def test_cli_cuped_on_unknown_or_ratio_metric_exits_2(csv, capsys):
    path, _ = csv
    base = ["ab", "--data", str(path), "--variant", "arm", "--metric", "rev"]
    assert main(base + ["--cuped", "revv=pre"]) == 2                 # misspelt metric
    err = capsys.readouterr().err
    assert "'revv' is not one of the --metric columns" in err and "did you mean 'rev'" in err
    assert main(base + ["--ratio", "ctr=clicks/sess", "--cuped", "ctr=pre"]) == 2   # a ratio
    assert "'ctr' is a --ratio metric" in capsys.readouterr().err
    assert main(base + ["--cuped", "rev=pree"]) == 2                 # misspelt covariate column
    assert "did you mean 'pre'" in capsys.readouterr().err
    assert main(base + ["--cuped", "rev=pre"]) == 0


def test_cli_unpooled_and_control_rule(csv, capsys, tmp_path):
    path, df = csv
    assert main(["ab", "--data", str(path), "--variant", "arm", "--metric", "conv", "--unpooled",
                 "--csv"]) == 0
    out = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    row = out[out.arm == "B"].iloc[0]
    x1, n1 = df.conv[df.arm == "B"].sum(), (df.arm == "B").sum()
    x0, n0 = df.conv[df.arm == "control"].sum(), (df.arm == "control").sum()
    p1, p0 = x1 / n1, x0 / n0
    z = (p1 - p0) / np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    assert row.statistic == pytest.approx(z, rel=1e-9) and row.control == "control"
    assert main(["ab", "--data", str(path), "--variant", "arm", "--metric", "rev", "--unpooled"]) == 2
    other = tmp_path / "oldnew.csv"
    df.assign(arm=np.where(df.arm == "control", "old", "new")).to_csv(other, index=False)
    assert main(["ab", "--data", str(other), "--variant", "arm", "--metric", "rev"]) == 2
    assert "pass control=" in capsys.readouterr().err
    assert main(["ab", "--data", str(other), "--variant", "arm", "--metric", "rev",
                 "--control", "old", "--split", "2", "1"]) == 0     # new = B + C, old = control
    assert "control = 'old': given" in capsys.readouterr().out
