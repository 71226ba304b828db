"""The leaderboard report (Markdown, self-contained HTML opened in a headless browser) and the CLI."""

import numpy as np
import pandas as pd
import pytest
from _browser import image_sizes, rendered_dom, screenshot

from causalkit import registry
from causalkit.benchmark import leaderboard, run
from causalkit.benchmark.adapters import _common
from causalkit.cli import main


@pytest.fixture(scope="module")
def ihdp_result():
    return run(["t_learner", "econml.SLearner"], suite="ihdp_b", reps=3,
               options={"t_learner": {"n_bootstrap": 5}}, progress=False)


def test_markdown_leaderboard_ranks_and_prints_the_published_table(ihdp_result):
    md = leaderboard.to_markdown_leaderboard(ihdp_result.summary, ihdp_result.suite, 12.0)
    ours = leaderboard.leaderboard_table(ihdp_result.summary, ("pehe_out",))
    assert list(ours["pehe_out"]) == sorted(ours["pehe_out"])        # ranked by sqrt(PEHE) out
    assert "Shalit" in md and "| CFR Wasserstein | 0.71 | 0.25 | 0.76 | 0.27 |" in md
    assert "fits in 12 s" in md


def test_html_leaderboard_is_self_contained_and_renders(ihdp_result, tmp_path):
    paths = leaderboard.write(ihdp_result, tmp_path, elapsed=3.0)
    # a resumed run reports the fits' own summed time, not only its wall time
    total = ihdp_result.results["time_s"].sum()
    assert f"the fits themselves took {total:,.0f} s" in (tmp_path / "leaderboard.md").read_text()
    page = (tmp_path / "leaderboard.html").read_text()
    assert "http://" not in page and "https://" not in page and "<script src" not in page
    assert page.count("data:image/png;base64,") == 3 and "sortTable" in page
    assert (tmp_path / "leaderboard.md").exists() and paths["summary"].endswith("summary.csv")
    dom = rendered_dom(tmp_path / "leaderboard.html")      # skips when no chromium is installed
    assert "<table id=\"leaderboard\"" in dom and "econml.SLearner" in dom
    shot = screenshot(tmp_path / "leaderboard.html", tmp_path / "shot.png")
    assert shot.exists() and shot.stat().st_size > 10_000               # it drew something
    sizes = image_sizes(tmp_path / "leaderboard.html", tmp_path / "probe.html")
    assert len(sizes) == 3 and all(w > 100 and h > 50 for w, h in sizes.values())   # decoded


def test_missing_peer_is_a_row_with_the_reason(monkeypatch):
    def absent(module):
        raise _common.PeerUnavailableError(f"the {module.split('.')[0]} adapters need it")

    monkeypatch.setattr("causalkit.benchmark.adapters.econml.peer_import", absent)
    res = run(["econml.LinearDML", "difference_in_means"], {"randomized": {"n": 80}}, reps=2,
              progress=False)
    s = res.summary.set_index("method")
    assert s.loc["econml.LinearDML", "n_failed"] == 2
    assert "PeerUnavailableError" in s.loc["econml.LinearDML", "failures"]
    assert s.loc["difference_in_means", "n_failed"] == 0


def test_cli_list_shows_suites_and_peer_methods(capsys):
    assert main(["benchmark", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("ihdp_b", "acic2016", "lalonde", "econml.CausalForestDML",
                 "doubleml.DoubleMLIRM", "dowhy.backdoor.propensity_score_matching",
                 "causalml.BaseXRegressor"):
        assert name in out


def test_cli_suite_run_writes_and_resumes(tmp_path, capsys):
    argv = ["benchmark", "--suite", "ihdp_b", "--reps", "2", "--methods", "t_learner",
            "--option", "t_learner.n_bootstrap=0", "--n-jobs", "1", "--no-progress",
            "--out", str(tmp_path)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "| ihdp_b | t_learner | ATE | 2 | 0 |" in first and "Shalit" in first
    for name in ("fits.csv", "leaderboard.html", "leaderboard.md", "results.csv"):
        assert (tmp_path / name).exists()
    stored = pd.read_csv(tmp_path / "fits.csv")
    assert main(argv) == 0                                  # resumed: nothing refitted
    assert len(pd.read_csv(tmp_path / "fits.csv")) == len(stored) == 2
    assert capsys.readouterr().out.split("fits in")[0] == first.split("fits in")[0]
