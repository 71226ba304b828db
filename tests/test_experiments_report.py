"""``ExperimentResult.report()``: a self-contained HTML page and PNGs, rendered in headless Chromium.

The power section is checked against statsmodels' ``NormalIndPower`` (an
independent implementation of the two-sided z test's power and its inverse).
"""

import base64
import re

import numpy as np
import pandas as pd
import pytest
from _browser import image_sizes, rendered_dom, tables

from causalkit.errors import CausalKitError, OptionError, OutputPathError
from causalkit.experiments import Metric, analyze
from causalkit.experiments.report import power_table

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(7)
    n = 6000
    arm = rng.choice(["control", "B", "C"], n)
    df = pd.DataFrame({
        "arm": arm,
        "revenue": rng.normal(10 + 0.5 * (arm == "B"), 3),
        "bought": rng.binomial(1, 0.1 + 0.03 * (arm == "B")),
        "latency": rng.normal(200 + 3 * (arm == "C"), 20),
        "clicks": rng.poisson(3, n), "sessions": rng.poisson(5, n) + 1})
    metrics = ["revenue", "bought",
               Metric("latency", direction="lower", guardrail=True, margin=0.02,
                      margin_kind="relative"),
               Metric("ctr", column="clicks", denominator="sessions")]
    return analyze(df, "arm", metrics, control="control")


def test_report_page_is_self_contained_and_renders_in_a_browser(result, tmp_path):
    files = result.report(tmp_path / "rep")
    page = files.html.read_text(encoding="utf-8")
    for png in (files.forest_plot, files.srm_plot):
        assert png.read_bytes().startswith(PNG)
    # nothing is loaded from outside: no links, scripts, stylesheets or remote images
    assert not re.search(r"https?://|<script|<link|@import|src=['\"](?!data:)", page)
    uris = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(uris) == 2 and base64.b64decode(uris[0]) == files.forest_plot.read_bytes()
    assert base64.b64decode(uris[1]) == files.srm_plot.read_bytes()

    dom = rendered_dom(files.html)
    assert re.search(r"<img id=\"forest-plot\"[^>]*src=\"data:image/png;base64,", dom)
    sizes = image_sizes(files.html, tmp_path / "probe.html")
    assert sizes["forest-plot"][0] > 300 and sizes["forest-plot"][1] > 200   # decoded, drawn
    assert sizes["srm-plot"][0] > 200
    decision = result.decision()
    for r in decision.arms.itertuples():                   # the decision of every arm is shown
        assert f"{r.arm}: {r.decision.upper()}</b>" in dom
    assert {"ship", "hold"} <= set(decision.arms["decision"])
    key = tables(dom)["key-numbers"]
    header, body = key[0], key[1:]
    shown = {(row[0], row[1]): dict(zip(header, row)) for row in body}
    assert set(shown) == {(r.metric, r.arm) for r in result.table.itertuples()}   # every metric
    for r in result.table.itertuples():
        row = shown[(r.metric, r.arm)]
        assert float(row["lift"]) == pytest.approx(r.estimate, rel=1e-3)
        assert float(row["p"]) == pytest.approx(r.p_value, rel=1e-3)
    assert shown[("latency", "B")]["role"] == "guardrail"
    assert all(shown[(m, "B")]["role"] == "primary" for m in ("revenue", "bought", "ctr"))
    srm = tables(dom)["srm-table"]
    assert [int(row[1]) for row in srm[1:]] == list(result.srm.observed)
    assert "No sample-ratio mismatch" in dom and "id=\"power-table\"" in dom


def test_power_achieved_matches_statsmodels(result):
    from statsmodels.stats.power import NormalIndPower

    pw = power_table(result, lift_of_interest={"revenue": 0.03, "bought": 0.2}, power=0.9)
    t = result.table
    for metric in ("revenue", "bought"):
        for i in np.flatnonzero(t["metric"] == metric):
            se, scale = t.loc[i, "std_error"], abs(t.loc[i, "control_mean"])
            # NormalIndPower's effect size d with nobs1 = n, ratio 1: the z statistic is d sqrt(n / 2)
            n = 1000.0
            d = (pw.loc[i, "lift_of_interest"] * scale) / se / np.sqrt(n / 2)
            ref = NormalIndPower().power(d, nobs1=n, alpha=result.alpha, ratio=1.0)
            assert pw.loc[i, "power"] == pytest.approx(ref, rel=1e-9)
            d_mde = NormalIndPower().solve_power(None, nobs1=n, alpha=result.alpha, power=0.9)
            # statsmodels' root finder stops near 1e-5 relative; the power at our MDE is exact
            assert pw.loc[i, "mde"] == pytest.approx(d_mde * se * np.sqrt(n / 2), rel=1e-4)
            d_ours = pw.loc[i, "mde"] / se / np.sqrt(n / 2)
            assert NormalIndPower().power(d_ours, nobs1=n, alpha=result.alpha) == \
                pytest.approx(0.9, abs=1e-9)
            assert pw.loc[i, "mde_relative"] == pytest.approx(pw.loc[i, "mde"] / scale)
    assert pw.loc[t["metric"] == "ctr", "power"].isna().all()   # not given a lift of interest


def test_report_default_directory_and_unwritable_paths(result, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = result.report()
    assert files.html == tmp_path.joinpath("experiment_report", "report.html").relative_to(tmp_path)
    assert (tmp_path / "experiment_report" / "forest_plot.png").exists()
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputPathError, match="a_file"):
        result.report(blocker)                              # a file, not a directory
    with pytest.raises(OutputPathError, match="cannot create"):
        result.report(blocker / "sub")                      # a file in the way
    with pytest.raises(CausalKitError, match="cannot"):
        result.report("/proc/causalkit_report")             # even root cannot write there
    with pytest.raises(OptionError, match="lift_of_interest"):
        result.report(tmp_path / "r2", lift_of_interest=-0.1)
    with pytest.raises(OptionError, match="nosuch"):
        result.report(tmp_path / "r3", lift_of_interest={"nosuch": 0.1})
    with pytest.raises(OptionError, match="power"):
        result.report(tmp_path / "r4", power=1.5)
    assert not (tmp_path / "r2").exists()                   # options are checked before writing


def test_report_flags_a_sample_ratio_mismatch_and_undefined_relative_lifts(tmp_path):
    from causalkit.experiments import SampleRatioMismatchWarning

    rng = np.random.default_rng(3)
    arm = np.repeat([0, 1], [700, 500])                     # 700 / 500 for an intended 50 / 50
    z = np.r_[np.tile([-1.0, 1.0], 350), rng.integers(0, 3, 500)]   # control mean exactly 0
    df = pd.DataFrame({"arm": arm, "y": rng.normal(5, 1, 1200), "z": z})
    with pytest.warns(SampleRatioMismatchWarning):
        res = analyze(df, "arm", ["y", "z"], control=0)
    assert res.table.loc[1, "control_mean"] == 0.0
    files = res.report(tmp_path)
    page = files.html.read_text(encoding="utf-8")
    assert "Sample-ratio mismatch: the split of units differs" in page and "srm-mismatch" in page
    assert [row[1] for row in tables(page)["srm-table"][1:]] == ["700", "500"]
    key = tables(page)["key-numbers"]
    assert key[2][0] == "z" and key[2][key[0].index("relative lift")] == "n/a"
    assert tables(page)["power-table"][2][3] == "n/a"      # no scale for a relative lift of interest
    assert files.forest_plot.read_bytes().startswith(PNG)
