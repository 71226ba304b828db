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


# --- options are checked up front, by the registry's check -----------------------------

@pytest.fixture
def counting_estimator():
    """A registered estimator that counts its fits (n_jobs=1 runs them in this process)."""
    calls = []

    @registry.register("counts_fits_for_test", estimand="ATE", roles=("treatment", "outcome"),
                       replace=True)
    def counts(data, treatment, outcome, alpha=0.05, scale: float = 1.0):
        """Counting stub.

        Parameters
        ----------
        scale
            Multiplies the difference in means.
        """
        calls.append(scale)
        y, t = data[outcome], data[treatment]
        return Effect.from_estimate(method="counts_fits_for_test", estimand="ATE",
                                    estimate=scale * (y[t == 1].mean() - y[t == 0].mean()),
                                    std_error=1.0, alpha=alpha)

    yield "counts_fits_for_test", calls
    registry.unregister("counts_fits_for_test")


@pytest.mark.parametrize("options, message", [
    ({"counts_fits_for_test": {"scal": 2.0}}, "no option 'scal'; did you mean 'scale'?"),
    ({"ipw": {"trim": 0.01}}, "options are given for 'ipw', which is not among the benchmarked"),
    ({"counts_fits_for_tst": {"scale": 2.0}}, "did you mean 'counts_fits_for_test'?"),
    ({"counts_fits_for_test": {"covariates": ["x"]}}, "which the benchmark sets itself"),
    ({"counts_fits_for_test": {"alpha": 0.1}}, "which the benchmark sets itself"),
    ({"difference_in_means": {"estimand": "ATT"}}, "estimates ATE, not 'ATT'"),
    ({"counts_fits_for_test": 2.0}, "must be a mapping"),
])
def test_every_option_is_checked_before_any_fit(counting_estimator, options, message):
    """A bad option used to become a failed row per fit, or (another method's) be dropped."""
    name, calls = counting_estimator
    with pytest.raises(OptionError, match=message.replace("(", r"\(").replace("?", r"\?")):
        run([name, "difference_in_means"], {"randomized": {"n": 60}}, reps=3, n_jobs=1,
            options=options)
    assert calls == []


def test_good_options_reach_every_fit(counting_estimator):
    name, calls = counting_estimator
    res = run([name, "difference_in_means"], {"randomized": {"n": 60}}, reps=3, n_jobs=1,
              options={name: {"scale": 2.0}, "difference_in_means": {"estimand": "ATE"}})
    assert calls == [2.0, 2.0, 2.0]
    est = res.results.set_index(["rep", "method"])["estimate"]
    for rep in range(3):
        assert est[(rep, name)] == pytest.approx(2 * est[(rep, "difference_in_means")])


@pytest.mark.parametrize("kwargs, message", [
    ({"n_jobs": 0}, "n_jobs must be a non-zero integer"),
    ({"alpha": 0.0}, "alpha must lie strictly between 0 and 1"),
    ({"adjustment": "smallest"}, "adjustment must be one of optimal, minimal"),
    ({"seed": -1}, "seed must be a non-negative integer"),
])
def test_run_arguments_are_checked_before_any_fit(counting_estimator, kwargs, message):
    name, calls = counting_estimator
    with pytest.raises(OptionError, match=message):
        run([name], {"randomized": {"n": 60}}, reps=2, **{"n_jobs": 1, **kwargs})
    assert calls == []


def test_cli_benchmark_options_are_typed_and_reach_the_runner(tmp_path, capsys):
    argv = ["benchmark", "--methods", "regression_adjustment", "--datasets",
            "nonlinear_heterogeneous", "--reps", "2", "--n", "150", "--n-jobs", "1",
            "--no-progress", "--seed", "4", "--out", str(tmp_path)]
    assert main(argv + ["--option", "regression_adjustment.interacted=no"]) == 0
    cli = pd.read_csv(tmp_path / "results.csv")
    args = (["regression_adjustment"], {"nonlinear_heterogeneous": {"n": 150}})
    additive = run(*args, reps=2, seed=4, options={"regression_adjustment":
                                                   {"interacted": False}}).results
    interacted = run(*args, reps=2, seed=4).results
    np.testing.assert_allclose(cli["estimate"], additive["estimate"], rtol=1e-12)
    assert not np.allclose(cli["estimate"], interacted["estimate"])
    for bad, message in [("regression_adjustment.interacted=maybe", "expected a boolean"),
                         ("regression_adjustment.interact=no", "did you mean 'interacted'"),
                         ("interacted=no", "must look like METHOD.KEY=VALUE"),
                         ("ipw.trim=0.01", "not among the benchmarked methods")]:
        assert main(argv + ["--option", bad]) == 2
        assert message in capsys.readouterr().err


# --- the exit code says whether anything was fitted -------------------------------------

def test_cli_benchmark_checks_out_before_running(tmp_path, capsys, counting_estimator):
    """An unwritable --out used to crash after the whole run, before saving."""
    name, calls = counting_estimator
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    code = main(["benchmark", "--methods", name, "--datasets", "randomized", "--reps", "2",
                 "--n-jobs", "1", "--no-progress", "--out", str(blocker / "results")])
    assert code == 2 and calls == []
    err = capsys.readouterr().err
    assert f"cannot write the benchmark output to {str(blocker / 'results')!r}" in err
    assert "Traceback" not in err


def test_cli_benchmark_exits_1_when_every_fit_failed(broken_estimator, capsys, tmp_path):
    argv = ["benchmark", "--datasets", "randomized", "--reps", "2", "--n", "60", "--n-jobs",
            "1", "--no-progress"]
    assert main(argv + ["--methods", broken_estimator, "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "every one of the 2 fits failed" in captured.err
    assert "ZeroDivisionError: deliberate failure (x2)" in captured.out
    assert len(pd.read_csv(tmp_path / "results.csv")) == 2       # the failures are saved
    assert main(argv + ["--methods", broken_estimator, "difference_in_means"]) == 0


def test_cli_benchmark_exits_2_when_no_fit_ran(capsys):
    code = main(["benchmark", "--methods", "difference_in_means", "--datasets", "sharp_rd",
                 "--reps", "1", "--n-jobs", "1", "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no fit ran" in err and "sharp_rd is a rd design" in err


# --- the figure draws the truth of each estimand ----------------------------------------

def _truth_lines(ax):
    return {line.get_label(): line for line in ax.get_lines() if line.get_label().startswith("true")}


def _row_of(ax, label):
    ticks = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    return ticks[label]


def test_figure_draws_one_labelled_truth_line_per_estimand():
    """PSM's ATT next to the others' ATE: each is drawn against its own truth."""
    import matplotlib.pyplot as plt

    rows = []
    for method, estimand, truth, shift in [("dim", "ATE", 1.0, 0.0), ("ra", "ATE", 1.0, 0.1),
                                           ("psm", "ATT", 1.5, 0.2)]:
        for rep in range(3):
            est = truth + shift + 0.01 * rep
            rows.append({"dataset": "d", "method": method, "rep": rep, "estimand": estimand,
                         "truth": truth, "estimate": est, "ci_low": est - 0.2,
                         "ci_high": est + 0.2, "error": None})
    fig = benchmark.plot(pd.DataFrame(rows))
    ax = fig.axes[0]
    lines = _truth_lines(ax)
    assert set(lines) == {"true ATE = 1", "true ATT = 1.5"}
    ate, att = lines["true ATE = 1"], lines["true ATT = 1.5"]
    assert list(ate.get_xdata()) == [1.0, 1.0] and list(att.get_xdata()) == [1.5, 1.5]
    assert ate.get_color() != att.get_color()
    # each line spans exactly the rows of the methods that target its estimand
    for line, inside, outside in [(ate, ["dim (ATE)", "ra (ATE)"], ["psm (ATT)"]),
                                  (att, ["psm (ATT)"], ["dim (ATE)", "ra (ATE)"])]:
        low, high = sorted(line.get_ydata())
        assert all(low < _row_of(ax, r) < high for r in inside)
        assert not any(low < _row_of(ax, r) < high for r in outside)
    assert {t.get_text() for t in ax.get_legend().get_texts()} == set(lines)
    plt.close(fig)


def test_figure_of_a_run_uses_each_estimands_true_value():
    import matplotlib.pyplot as plt

    res = run(["difference_in_means", "propensity_matching"],
              {"nonlinear_heterogeneous": {"n": 200}}, reps=2, n_jobs=1)
    ds = datasets.nonlinear_heterogeneous(n=200)
    assert ds.truth["ATT"] != ds.truth["ATE"]
    fig = benchmark.plot(res.results)
    lines = _truth_lines(fig.axes[0])
    x = {label.split()[1]: line.get_xdata()[0] for label, line in lines.items()}
    assert x == pytest.approx({"ATE": ds.truth["ATE"], "ATT": ds.truth["ATT"]})
    plt.close(fig)
