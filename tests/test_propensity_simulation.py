"""Monte-Carlo checks of bias and coverage for matching, IPW and AIPW.

Confounded data-generating processes with a known ATE (and an ATT computed by
Gauss–Hermite quadrature).  R = 500 replications of n = 1000.  Tolerances:
|bias| < 2 Monte-Carlo standard errors (sd of the estimates / sqrt(R)), and
95% CI coverage in [0.93, 0.97] (the binomial MC SE of a coverage near 0.95 is
sqrt(0.95 * 0.05 / 500) = 0.0097, so the band is about +-2 MC SE).  The naive
difference in means (and, where the tests are about misspecification, the
estimator relying on the wrong model) must be biased by more than 5 MC SE on
the same data, so the tests can fail.

Matching on the estimated score uses the Abadie–Imbens (2016) adjusted SE
(the default); on the true score the plain AI (2006) SE.
Matching runs without a caliper here (a caliper drops treated units with
extreme scores and so changes the estimand away from the population ATT).
To keep the suite fast, AIPW is cross-fitted over 2 folds (the default 5 is
checked against numpy in test_aipw.py) and the replications call the array-level functions that the
registered estimators are thin wrappers around (their equivalence to the public
API is tested in test_ipw.py, test_aipw.py and test_matching.py).
"""

import numpy as np
import pytest
from scipy.special import expit

from causalkit.effect import Effect
from causalkit.backdoor import _propensity as P
from causalkit.backdoor.aipw import aipw_scores
from causalkit.backdoor.ipw import ipw_estimate
from causalkit.backdoor.propensity_matching import _estimate as match_estimate

R, N, TAU = 500, 1000, 2.0
Z975 = 1.959963984540054


def _ps_main(x1, x2):
    return expit(-0.3 + 0.8 * x1 - 0.6 * x2)


def _ps_nonlinear(x1, x2):
    return expit(-0.8 + 1.2 * x1 + 0.9 * x1**2 - 0.6 * x2 + 0.8 * x1 * x2)


def _true_att(ps, slope):
    """ATT = 2 + slope * E[x1 e(x)] / E[e(x)] for x ~ N(0, I2), by Gauss–Hermite quadrature."""
    nodes, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    x1, x2 = np.meshgrid(nodes, nodes, indexing="ij")
    ww = np.outer(w, w)
    e = ps(x1, x2)
    return TAU + slope * float((ww * x1 * e).sum() / (ww * e).sum())


def _draw(rng, ps, outcome):
    x = rng.normal(size=(N, 2))
    t = (rng.random(N) < ps(x[:, 0], x[:, 1])).astype(int)
    y = outcome(x, t) + rng.normal(size=N)
    return x, t, y


def _summary(est, se, truth):
    est, se = np.asarray(est), np.asarray(se)
    bias = est.mean() - truth
    mcse = est.std(ddof=1) / np.sqrt(len(est))
    cover = np.mean(np.abs(est - truth) <= Z975 * se)
    return bias, mcse, cover


def _assert_valid(name, est, se, truth):
    bias, mcse, cover = _summary(est, se, truth)
    assert abs(bias) < 2 * mcse, f"{name}: bias {bias:.4f} exceeds 2 MC SE ({2 * mcse:.4f})"
    assert 0.93 <= cover <= 0.97, f"{name}: coverage {cover:.3f} outside [0.93, 0.97]"


def _assert_biased(name, est, truth):
    est = np.asarray(est)
    mcse = est.std(ddof=1) / np.sqrt(len(est))
    assert abs(est.mean() - truth) > 5 * mcse, f"{name} should be visibly biased"


@pytest.fixture(scope="module")
def main_sim():
    """Heterogeneous effect tau(x) = 2 + 0.5 x1, linear outcome, logistic propensity."""
    rng = np.random.default_rng(20261124)
    out = {k: [] for k in ("dim", "ipw_ate", "ipw_ate_se", "ipw_att", "ipw_att_se",
                           "ht_ate", "ht_ate_se", "aipw_ate", "aipw_ate_se", "aipw_att",
                           "aipw_att_se", "psm_att", "psm_att_se", "psm_ate", "psm_ate_se",
                           "psm_att_known", "psm_att_known_se", "psm_ate_known",
                           "psm_ate_known_se", "psm_att_ai2006_se", "psm_ate_ai2006_se")}
    for r in range(R):
        x, t, y = _draw(rng, _ps_main, lambda x, t: 1 + (TAU + 0.5 * x[:, 0]) * t
                        + 1.5 * x[:, 0] + x[:, 1])
        out["dim"].append(y[t == 1].mean() - y[t == 0].mean())
        fit = P.fit_propensity(x, t, ["x1", "x2"], warn=False)
        for key, est, norm in (("ipw_ate", "ATE", True), ("ipw_att", "ATT", True),
                               ("ht_ate", "ATE", False)):
            tau, se = ipw_estimate(t, y, fit, est, norm)
            out[key].append(tau)
            out[key + "_se"].append(se)
        e, mu1, mu0 = P.cross_fit(x, t, y, P.folds(N, 2, r))
        for key, est in (("aipw_ate", "ATE"), ("aipw_att", "ATT")):
            tau, phi = aipw_scores(t, y, e, mu1, mu0, est)
            out[key].append(tau)
            out[key + "_se"].append(np.sqrt(phi @ phi) / N)
        estimated = P.logit_scores(fit.raw_scores)
        known = -0.3 + 0.8 * x[:, 0] - 0.6 * x[:, 1]     # the true logit score
        for suffix, lscore, design in (("", estimated, fit.design), ("_known", known, None)):
            width = np.inf  # no caliper: a caliper would change the estimand
            for key, est in (("psm_att", "ATT"), ("psm_ate", "ATE")):
                res = match_estimate(y, t, lscore, est, 1, width, True, 2, design=design)
                out[key + suffix].append(res["estimate"])
                out[key + suffix + "_se"].append(res["std_error"])
                if design is not None:   # the AI (2006) SE that ignores the first step
                    out[key + "_ai2006_se"].append(res["std_error_known_score"])
    return out


def test_naive_difference_in_means_is_biased(main_sim):
    _assert_biased("difference in means", main_sim["dim"], TAU)


@pytest.mark.parametrize("key", ["ipw_ate", "ht_ate", "aipw_ate"])
def test_ate_estimators_unbiased_and_cover(main_sim, key):
    _assert_valid(key, main_sim[key], main_sim[key + "_se"], TAU)


@pytest.mark.parametrize("key", ["ipw_att", "aipw_att", "psm_att_known"])
def test_att_estimators_unbiased_and_cover(main_sim, key):
    truth = _true_att(_ps_main, 0.5)
    assert truth > TAU + 0.1  # the ATT differs from the ATE in this design
    _assert_valid(key, main_sim[key], main_sim[key + "_se"], truth)


def test_matching_ate_on_known_score_unbiased_and_covers(main_sim):
    """Abadie-Imbens (2006) is exact theory when the matched-on score is known."""
    _assert_valid("psm_ate_known", main_sim["psm_ate_known"], main_sim["psm_ate_known_se"], TAU)


@pytest.mark.parametrize("key,estimand", [("psm_att", "ATT"), ("psm_ate", "ATE")])
def test_matching_on_estimated_score_covers_with_ai2016_adjustment(main_sim, key, estimand):
    """Abadie & Imbens (2016, Econometrica 84:781) SE for matching on the estimated score.

    The default SE (AI 2006 plus the estimated-score adjustment) must cover in
    [0.93, 0.97]; the unadjusted AI (2006) SE on the same replications ignores
    the first step and, in this design, over-covers (the ATE adjustment is
    negative by theory), so the adjustment must visibly shrink it.
    """
    truth = _true_att(_ps_main, 0.5) if estimand == "ATT" else TAU
    _assert_valid(key, main_sim[key], main_sim[key + "_se"], truth)
    adjusted = np.mean(main_sim[key + "_se"])
    unadjusted = np.mean(main_sim[key + "_ai2006_se"])
    assert adjusted < 0.9 * unadjusted
    _, _, cover_2006 = _summary(main_sim[key], main_sim[key + "_ai2006_se"], truth)
    assert cover_2006 > 0.97   # what the adjustment fixes (0.99+ here)


def _dr_sim(seed, ps, outcome):
    rng = np.random.default_rng(seed)
    keys = ("aipw", "aipw_se", "ipw", "reg")
    out = {k: [] for k in keys}
    for r in range(R):
        x, t, y = _draw(rng, ps, outcome)
        e, mu1, mu0 = P.cross_fit(x, t, y, P.folds(N, 2, r))
        tau, phi = aipw_scores(t, y, e, mu1, mu0, "ATE")
        out["aipw"].append(tau)
        out["aipw_se"].append(np.sqrt(phi @ phi) / N)
        w1, w0 = t / e, (1 - t) / (1 - e)
        out["ipw"].append(w1 @ y / w1.sum() - w0 @ y / w0.sum())
        out["reg"].append(np.mean(mu1 - mu0))
    return out


def test_aipw_consistent_with_misspecified_outcome_model():
    """Outcome has x1^2 and exp(x2) terms the linear outcome model lacks; propensity correct."""
    out = _dr_sim(11, _ps_main, lambda x, t: 1 + TAU * t + 1.5 * x[:, 0] ** 2
                  + np.exp(0.8 * x[:, 1]) + x[:, 0])
    _assert_biased("outcome regression (misspecified)", out["reg"], TAU)
    _assert_valid("aipw, wrong outcome model", out["aipw"], out["aipw_se"], TAU)


def test_aipw_consistent_with_misspecified_propensity_model():
    """Propensity has x1^2 and x1*x2 terms the logistic model lacks; outcome model correct."""
    out = _dr_sim(12, _ps_nonlinear, lambda x, t: 1 + TAU * t + 1.5 * x[:, 0]
                  + x[:, 1])
    _assert_biased("IPW (misspecified propensity)", out["ipw"], TAU)
    _assert_valid("aipw, wrong propensity model", out["aipw"], out["aipw_se"], TAU)


def test_effect_wald_interval_matches_simulation_normal_quantile():
    # the coverage above uses the same normal critical value as Effect's intervals
    eff = Effect.from_estimate(method="m", estimand="ATE", estimate=0.0, std_error=1.0)
    assert eff.ci_high == pytest.approx(Z975, abs=1e-9)
