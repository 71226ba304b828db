"""Resumable store, n_jobs independence and the progress line."""

import numpy as np
import pandas as pd
import pytest

from causalkit import registry
from causalkit.benchmark import run
from causalkit.benchmark.store import FILENAME
from causalkit.effect import Effect

SCORED = ["dataset", "method", "rep", "estimand", "truth", "estimate", "std_error", "ci_low",
          "ci_high", "covered", "ci_width", "pehe_in", "pehe_out", "ate_error", "error"]


@pytest.fixture
def counted():
    calls = []

    @registry.register("counted_dim_for_test", estimand="ATE", roles=("treatment", "outcome"),
                       replace=True)
    def counted_dim(data, treatment, outcome, alpha=0.05):
        calls.append(1)
        y, t = data[outcome], data[treatment]
        diff = y[t == 1].mean() - y[t == 0].mean()
        se = np.sqrt(y[t == 1].var() / (t == 1).sum() + y[t == 0].var() / (t == 0).sum())
        return Effect.from_estimate(method="counted_dim_for_test", estimand="ATE",
                                    estimate=diff, std_error=se, alpha=alpha)

    yield calls
    registry.unregister("counted_dim_for_test")


def test_rerun_skips_stored_fits_and_gives_the_same_numbers(tmp_path, counted):
    args = (["counted_dim_for_test", "s_learner"], {"randomized": {"n": 120}})
    kw = dict(reps=3, seed=2, options={"s_learner": {"n_bootstrap": 0}}, progress=False)
    first = run(*args, out=tmp_path, **kw)
    assert len(counted) == 3
    stored = pd.read_csv(tmp_path / FILENAME)
    assert len(stored) == 6                        # every fit was written as it finished
    again = run(*args, out=tmp_path, **kw)
    assert len(counted) == 3                       # nothing refitted
    pd.testing.assert_frame_equal(first.results[SCORED], again.results[SCORED])
    # an interrupted run: drop the last two stored fits; only those are refitted
    lines = (tmp_path / FILENAME).read_text().splitlines(keepends=True)
    (tmp_path / FILENAME).write_text("".join(lines[:-2]))
    resumed = run(*args, out=tmp_path, **kw)
    pd.testing.assert_frame_equal(first.results[SCORED], resumed.results[SCORED])
    # a changed option is another fit, not a stored one
    run(*args, out=tmp_path, **{**kw, "seed": 3})
    assert len(counted) == 3 + sum(m == "counted_dim_for_test" for m in
                                   [ln.split(",")[1] for ln in lines[-2:]]) + 3


def test_results_identical_for_any_n_jobs(tmp_path):
    args = (["t_learner", "dr_learner"], None)
    kw = dict(suite="cate", reps=2, suite_params={"n": 200, "grid": (("cate_design", {}),)},
              options={"t_learner": {"n_bootstrap": 5}}, progress=False)
    one = run(*args[:1], n_jobs=1, **kw).results
    two = run(*args[:1], n_jobs=2, out=tmp_path, **kw).results
    pd.testing.assert_frame_equal(one[SCORED], two[SCORED])


def test_progress_line_on_a_non_terminal_stderr(capsys):
    run(["difference_in_means"], {"randomized": {"n": 60}}, reps=4, progress=True,
        progress_interval=0.0)
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("benchmark: 4/4 fits (100%), 0 failed")
    assert len(err) == 5 and all("\r" not in line for line in err)   # lines, not a bar
    run(["difference_in_means"], {"randomized": {"n": 60}}, reps=2)   # short run: quiet
    assert capsys.readouterr().err == ""
