"""Open Bandit Pipeline's (``obp.ope``) numbers on one set of logged bandit feedback.

``logged_data`` makes the logged feedback (numpy only, shared with
``test_experiments_ope.py``); run as a script in an environment where obp is
installed, this file writes obp's point estimates, bootstrap intervals and tuned
hyperparameters as JSON.  It imports no causalkit code.

    python tests/obp_reference.py > tests/obp_reference.json

obp 0.5.7 pins Python < 3.11, torch 1.12, numpy 1.23.5, pandas 1.5.2, scikit-learn
1.1.3 and scipy 1.9.3, so it is not in the ``test`` extra.  The committed JSON was
written in a Python 3.10 venv with exactly those pins (plus matplotlib < 3.9, which
seaborn 0.11 needs); the always-run test compares with it, and where obp imports
beside causalkit (``pip install --no-deps --ignore-requires-python obp``: its
``obp.ope`` runs on numpy 2 too, with the same numbers to 1e-16) the tests run obp
itself.
"""

from __future__ import annotations

import json
import sys

import numpy as np

SEED, N, K, L = 20260512, 400, 4, 2
LAMBDAS = {"switch": [0.5, 1.0, 2.0, 4.0, 8.0, 1e6], "os": [0.1, 1.0, 5.0, 25.0, 1e3],
           "clip": [1.0, 2.0, 4.0, 8.0, 1e6], "sg": [0.0, 0.05, 0.2, 0.5, 0.9]}
BOOT = {"n_bootstrap_samples": 500, "random_state": 12345, "alpha": 0.1}


def _softmax(z: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def logged_data(seed: int = SEED, n: int = N) -> dict[str, np.ndarray]:
    """Contextual bandit feedback in obp's layout: a skewed logging policy (weights up to ~30),
    two slots, an evaluation policy of shape (n, K, L) and a noisy reward model."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    theta = np.array([[1.0, -0.5], [-1.0, 0.8], [0.3, 0.3], [0.0, -1.2]])
    q_true = 1 / (1 + np.exp(-(x @ theta.T)))                        # (n, K)
    logging = _softmax(2.0 * (x @ theta[::-1].T))                     # prefers the wrong arms
    cum = logging.cumsum(axis=1)
    action = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), K - 1)
    pscore = logging[np.arange(n), action]
    position = rng.integers(0, L, n)
    reward = rng.binomial(1, q_true[np.arange(n), action]).astype(float)
    evaluation = np.stack([_softmax(3.0 * q_true), _softmax(np.zeros((n, K)))], axis=2)
    q_hat = np.clip(q_true[:, :, None] + rng.normal(scale=0.1, size=(n, K, L)), 0, 1)
    return {"reward": reward, "action": action, "pscore": pscore, "position": position,
            "action_dist": evaluation, "estimated_rewards_by_reg_model": q_hat}


def fingerprint(d: dict[str, np.ndarray]) -> dict[str, float]:
    """Sums of the data, to tell a changed random stream from a changed estimator."""
    return {k: float(np.sum(v)) for k, v in d.items()}


def obp_numbers(d: dict[str, np.ndarray]) -> dict:
    from obp import ope

    dm = dict(reward=d["reward"], action=d["action"], pscore=d["pscore"],
              position=d["position"], action_dist=d["action_dist"])
    dr = dict(dm, estimated_rewards_by_reg_model=d["estimated_rewards_by_reg_model"])
    fixed = {
        "ips": (ope.InverseProbabilityWeighting(), dm, None),
        "ips_clip4": (ope.InverseProbabilityWeighting(lambda_=4.0), dm, 4.0),
        "snips": (ope.SelfNormalizedInverseProbabilityWeighting(), dm, None),
        "dr": (ope.DoublyRobust(), dr, None),
        "dr_clip4": (ope.DoublyRobust(lambda_=4.0), dr, 4.0),
        "subgaussian_ips": (ope.SubGaussianInverseProbabilityWeighting(lambda_=0.2), dm, 0.2),
        "subgaussian_dr": (ope.SubGaussianDoublyRobust(lambda_=0.2), dr, 0.2),
    }
    fixed.update({f"switch_dr_{lam:g}": (ope.SwitchDoublyRobust(lambda_=lam), dr, lam)
                  for lam in LAMBDAS["switch"]})
    fixed.update({f"dr_os_{lam:g}": (ope.DoublyRobustWithShrinkage(lambda_=lam), dr, lam)
                  for lam in LAMBDAS["os"]})
    out: dict = {"fixed": {}, "tuned": {}}
    for name, (est, kw, lam) in fixed.items():
        ci = est.estimate_interval(**kw, **BOOT)
        low, high = (v for k, v in ci.items() if k != "mean")
        out["fixed"][name] = {"lambda_": lam, "estimate": float(est.estimate_policy_value(**kw)),
                              "boot_low": float(low), "boot_high": float(high)}
    tuners = {"ips": (ope.InverseProbabilityWeightingTuning, "clip", dm),
              "dr": (ope.DoublyRobustTuning, "clip", dr),
              "switch_dr": (ope.SwitchDoublyRobustTuning, "switch", dr),
              "dr_os": (ope.DoublyRobustWithShrinkageTuning, "os", dr),
              "subgaussian_ips": (ope.SubGaussianInverseProbabilityWeightingTuning, "sg", dm),
              "subgaussian_dr": (ope.SubGaussianDoublyRobustTuning, "sg", dr)}
    for name, (cls, grid, kw) in tuners.items():
        for method in ("slope", "mse"):
            est = cls(lambdas=list(LAMBDAS[grid]), tuning_method=method, delta=0.1)  # obp sorts it
            value = est.estimate_policy_value_with_tuning(**kw)
            out["tuned"][f"{name}_{method}"] = {"lambda_": float(est.best_hyperparam),
                                                "estimate": float(value)}
    return out


def main() -> None:
    import platform

    import obp
    import scipy
    import sklearn

    d = logged_data()
    env = {"python": platform.python_version(), "numpy": np.__version__,
           "scipy": scipy.__version__, "scikit-learn": sklearn.__version__}
    json.dump({"obp_version": obp.__version__, "environment": env, "seed": SEED, "n": N, "boot": BOOT,
               "lambdas": LAMBDAS, "fingerprint": fingerprint(d), **obp_numbers(d)},
              sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
