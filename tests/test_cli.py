"""The command line: `causalkit methods` and `causalkit estimate`."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.cli import main


@pytest.fixture
def csv(tmp_path):
    rng = np.random.default_rng(2)
    t = rng.integers(0, 2, 300)
    x = rng.normal(size=300)
    df = pd.DataFrame({"t": t, "x": x, "y": 2 * t + x + rng.normal(size=300)})
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    return path, df


def test_methods_lists_the_registry(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "difference_in_means" in out and "regression_adjustment" in out


def test_estimate_prints_the_summary(csv, capsys):
    path, df = csv
    code = main(["estimate", "--data", str(path), "--treatment", "t", "--outcome", "y",
                 "--covariates", "x", "--method", "regression_adjustment"])
    assert code == 0
    out = capsys.readouterr().out
    eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"])
    assert f"{eff.estimate:.4f}" in out and "regression_adjustment" in out


def test_estimate_reports_bad_input_without_traceback(csv, capsys):
    path, _ = csv
    code = main(["estimate", "--data", str(path), "--treatment", "treat", "--outcome", "y"])
    assert code == 2
    err = capsys.readouterr().err
    assert "treatment column 'treat' is not in the data" in err and "Traceback" not in err


def test_console_script_runs():
    proc = subprocess.run([sys.executable, "-m", "causalkit", "methods"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "difference_in_means" in proc.stdout
