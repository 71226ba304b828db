"""The benchmark runner: pairing, failures, coverage, determinism, output and CLI."""

import numpy as np
import pandas as pd
import pytest

from causalkit import Effect, benchmark, datasets, registry
from causalkit.benchmark import compatible, fit_roles, run, summarize
from causalkit.cli import main
from causalkit.errors import OptionError, UnknownMethodError


@pytest.fixture
def broken_estimator():
    @registry.register("always_fails_for_test", estimand="ATE", roles=("treatment", "outcome"),
                       replace=True)
    def always_fails(data, treatment, outcome, alpha=0.05):
        raise ZeroDivisionError("deliberate failure")

    yield "always_fails_for_test"
    registry.unregister("always_fails_for_test")


def test_coverage_of_well_specified_estimators_is_near_nominal():
    """400 replications: Monte Carlo SE of a 0.95 coverage is 0.011, allow 3 of them."""
    res = run(["difference_in_means", "regression_adjustment"],
              {"randomized": {"n": 200}, "linear_confounding": {"n": 300}}, reps=400, seed=3)
    s = res.summary.set_index(["dataset", "method"])
    mcse = np.sqrt(0.95 * 0.05 / 400)
    for key in [("randomized", "difference_in_means"), ("randomized", "regression_adjustment"),
                ("linear_confounding", "regression_adjustment")]:
        assert abs(s.loc[key, "coverage"] - 0.95) < 3 * mcse, (key, s.loc[key, "coverage"])
        assert abs(s.loc[key, "bias"]) < 3 * s.loc[key, "rmse"] / np.sqrt(400)
    # the naive estimator under confounding: large bias, coverage collapses
    assert s.loc[("linear_confounding", "difference_in_means"), "coverage"] < 0.05
    # the summary equals a direct computation from the per-fit rows
    rows = res.results.query("dataset == 'randomized' and method == 'difference_in_means'")
    assert s.loc[("randomized", "difference_in_means"), "rmse"] == pytest.approx(
        np.sqrt(((rows["estimate"] - 1.0) ** 2).mean()))
    assert s.loc[("randomized", "difference_in_means"), "coverage"] == pytest.approx(
        ((rows["ci_low"] <= 1.0) & (rows["ci_high"] >= 1.0)).mean())


def test_failing_estimator_is_recorded_and_the_run_goes_on(broken_estimator):
    res = run([broken_estimator, "difference_in_means"], ["randomized"], reps=4, seed=0)
    s = res.summary.set_index("method")
    assert s.loc[broken_estimator, "n_failed"] == 4
    assert "ZeroDivisionError: deliberate failure (x4)" in s.loc[broken_estimator, "failures"]
    assert s.loc["difference_in_means", "n_failed"] == 0
    assert res.results.query("method == 'difference_in_means'")["estimate"].notna().all()


def test_pairing_uses_design_roles_and_dag_adjustment_sets():
    spec = registry.get
    iv = datasets.iv_unobserved_confounder(n=100, seed=0)
    rd = datasets.sharp_rd(n=100, seed=0)
    mb = datasets.m_bias(n=100, seed=0)
    assert not compatible(spec("difference_in_means"), iv)
    assert not compatible(spec("difference_in_means"), rd)
    assert compatible(spec("regression_adjustment"), mb)
    assert fit_roles(spec("regression_adjustment"), mb, "minimal")["covariates"] == ["x"]
    res = run(["regression_adjustment", "difference_in_means"],
              {"m_bias": {"n": 200}, "iv_unobserved_confounder": {"n": 200}}, reps=2)
    assert set(res.results["dataset"]) == {"m_bias"}
    assert set(res.results.query("method == 'regression_adjustment'")["covariates"]) == {"x"}
    assert {("iv_unobserved_confounder", "difference_in_means")} <= set(
        map(tuple, res.skipped[["dataset", "method"]].to_numpy()))


def test_design_estimators_get_their_roles():
    names = set(registry.names())
    expected = {"iv_2sls": "iv_unobserved_confounder", "did": "did_2x2", "rdd": "sharp_rd",
                "twfe": "staggered_did_panel", "callaway_santanna": "staggered_did_panel"}
    wanted = [m for m in expected if m in names]
    if not wanted:
        pytest.skip("no design estimator registered")
    res = run(wanted, {"iv_unobserved_confounder": {"n": 400}, "did_2x2": {"n_units": 200},
                       "sharp_rd": {"n": 400}, "staggered_did_panel": {"n_units": 100}},
              reps=2, seed=1)
    assert res.summary["n_failed"].sum() == 0, res.summary["failures"].tolist()
    for m in wanted:
        assert set(res.results.query("method == @m")["dataset"]) == {expected[m]}


def test_results_do_not_depend_on_n_jobs():
    methods = ["difference_in_means", "regression_adjustment"]
    methods += [m for m in ("aipw",) if m in registry.names()]  # random cross-fitting folds
    args = (methods, {"randomized": {"n": 100}})
    one = run(*args, reps=6, n_jobs=1, seed=5).results
    two = run(*args, reps=6, n_jobs=2, seed=5).results
    cols = ["dataset", "method", "rep", "estimate", "std_error"]
    pd.testing.assert_frame_equal(one[cols], two[cols])
    other = run(*args, reps=6, n_jobs=1, seed=6).results
    assert not np.allclose(one["estimate"], other["estimate"])


def test_fixed_and_callable_datasets():
    nsw_like = datasets.randomized(n=300, seed=2)
    res = run(["difference_in_means"], [nsw_like], reps=5)
    assert len(res.results) == 1  # a fixed dataset is fitted once

    def tiny(seed=None):
        return datasets.randomized(n=60, effect=3.0, seed=seed)

    res = run(["difference_in_means"], [tiny], reps=3)
    assert list(res.summary["truth"]) == [3.0] and int(res.summary["n_fits"][0]) == 3


def test_bad_arguments_raise_specific_errors():
    with pytest.raises(OptionError, match="reps"):
        run(["difference_in_means"], ["randomized"], reps=0)
    with pytest.raises(OptionError, match="did you mean 'randomized'"):
        run(["difference_in_means"], ["randomised"], reps=1)
    with pytest.raises(UnknownMethodError, match="difference_in_means"):
        run(["diference_in_means"], ["randomized"], reps=1)


def test_summary_of_nothing_and_of_failures_only():
    assert list(summarize(pd.DataFrame()).columns)[:3] == ["dataset", "method", "estimand"]


def test_outputs_markdown_csv_png(tmp_path):
    res = run(["difference_in_means", "regression_adjustment"], {"randomized": {"n": 80},
              "m_bias": {"n": 80}}, reps=3)
    paths = res.save(tmp_path)
    assert pd.read_csv(paths["summary"]).shape[0] == 4
    assert pd.read_csv(paths["results"]).shape[0] == 12
    md = (tmp_path / "summary.md").read_text()
    assert md.startswith("| dataset | method | estimand |") and "coverage" in md
    png = (tmp_path / "benchmark.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_benchmark_prints_table_and_writes(tmp_path, capsys):
    code = main(["benchmark", "--methods", "difference_in_means", "--datasets", "randomized",
                 "m_bias", "--reps", "3", "--n", "80", "--n-jobs", "1", "--out", str(tmp_path),
                 "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "| randomized | difference_in_means | ATE | 3 |" in out
    assert (tmp_path / "benchmark.png").exists()
    assert main(["benchmark", "--datasets", "nope", "--reps", "1"]) == 2


def test_cli_datasets_lists_every_generator(capsys):
    assert main(["datasets", "--synthetic-only"]) == 0
    out = capsys.readouterr().out
    for name in datasets.SYNTHETIC:
        assert name in out


def test_default_grid_uses_registered_cheap_methods():
    methods = benchmark.default_methods()
    assert methods[0] == "difference_in_means"
    assert set(methods) <= set(benchmark.CHEAP_METHODS) & set(registry.names())
    assert set(benchmark.DEFAULT_DATASETS) <= set(datasets.SYNTHETIC)


def test_effect_estimand_selects_the_truth():
    """ATT-targeting estimators are scored against the ATT, ATE ones against the ATE."""
    @registry.register("att_stub_for_test", estimand="ATT", roles=("treatment", "outcome"),
                       replace=True)
    def att_stub(data, treatment, outcome, alpha=0.05):
        return Effect.from_estimate(method="att_stub_for_test", estimand="ATT", estimate=0.0,
                                    std_error=1.0, alpha=alpha)

    try:
        res = run(["att_stub_for_test"], {"nonlinear_heterogeneous": {"n": 100}}, reps=1)
    finally:
        registry.unregister("att_stub_for_test")
    truth = datasets.nonlinear_heterogeneous(n=100).truth["ATT"]
    assert res.results["truth"].iloc[0] == pytest.approx(truth)


def test_progress_bar_when_asked(capsys):
    res = run(["difference_in_means"], {"randomized": {"n": 60}}, reps=3, progress=True)
    assert len(res.results) == 3
    assert "benchmark" in capsys.readouterr().err  # tqdm writes its bar to stderr
