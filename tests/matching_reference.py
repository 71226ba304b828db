"""Brute-force references for propensity-score matching, shared by the matching tests.

Full distance matrices on the logit score and explicit loops, written from the
definitions (Abadie & Imbens 2006, 2016): the match set of unit i is every unit
of the other arm at a distance no larger than the k-th smallest (and within the
caliper); the conditional variance uses the J nearest same-arm units and their
ties, sigma^2 = H/(H+1) (y_i - mean)^2 for H of them; K_M(j) = sum_i 1/#J_M(i) and
K'_M(j) = sum_i 1/#J_M(i)^2 over the sets holding j.  Small n only.
"""

import warnings

import numpy as np
from scipy.special import expit

from causalkit.backdoor._propensity import fit_propensity, fitted_logit, prepare_observational


def package_logit(df, covs):
    """The package's fitted logit (the default logistic model): the same doubles the
    matcher sees, so that tied distances are tied in the reference too."""
    d = prepare_observational(df, "t", "y", covs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # positivity warnings: the estimator's business
        return fitted_logit(fit_propensity(d.X, d.t, d.covariates, None))


def within(dist, k, width=np.inf):
    """The match set by definition: distance <= the k-th smallest and <= width."""
    kth = np.partition(dist, min(k, len(dist)) - 1)[min(k, len(dist)) - 1]
    return dist <= min(kth, width)


def brute_direction(ls, src, tgt, k, width):
    D = np.abs(ls[src][:, None] - ls[tgt][None, :])
    pairs = {}
    for a, i in enumerate(src):
        chosen = tgt[within(D[a], k, width)]
        if len(chosen):
            pairs[i] = chosen
    return pairs


def brute_sigma2(ls, t, y, J, units=None):
    """Conditional variances of ``units`` (default: all), 0 elsewhere."""
    n = len(y)
    sigma2 = np.zeros(n)
    for i in range(n) if units is None else units:
        same = np.nonzero((t == t[i]) & (np.arange(n) != i))[0]
        near = same[within(np.abs(ls[same] - ls[i]), J)]
        H = len(near)
        sigma2[i] = H / (H + 1) * (y[i] - y[near].mean()) ** 2
    return sigma2


def brute_arrays(ls, t, y, estimand, k, width, J=2):
    """Estimate, AI (2006) SE, units dropped and match sets enlarged by ties."""
    n = len(y)
    treated, control = np.nonzero(t == 1)[0], np.nonzero(t == 0)[0]
    dirs = {"ATT": [(treated, control)], "ATC": [(control, treated)],
            "ATE": [(treated, control), (control, treated)]}[estimand]
    y1, y0 = y.astype(float).copy(), y.astype(float).copy()
    K, Q = np.zeros(n), np.zeros(n)
    used, enlarged = [], 0
    for src, tgt in dirs:
        for i, chosen in brute_direction(ls, src, tgt, k, width).items():
            w = 1.0 / len(chosen)
            imputed = sum(y[j] for j in chosen) * w
            if t[i] == 1:
                y0[i] = imputed
            else:
                y1[i] = imputed
            for j in chosen:
                K[j] += w
                Q[j] += w * w
            used.append(i)
            enlarged += len(chosen) > k
    used = np.array(sorted(used))
    diff = (y1 - y0)[used]
    tau = diff.mean()
    sigma2 = brute_sigma2(ls, t, y, J, np.nonzero(K)[0])   # the only ones that enter
    if estimand == "ATE":
        extra = (K**2 + 2 * K - Q) @ sigma2
    else:
        extra = (K**2 - Q) @ sigma2
    var = (((diff - tau) ** 2).sum() + extra) / len(used) ** 2
    n_dropped = sum(len(src) for src, _ in dirs) - len(used)
    return tau, np.sqrt(var), n_dropped, enlarged


def brute_ai2016_arrays(ls, t, y, Z, estimand, k, L=2):
    """Abadie & Imbens (2016) estimated-score term, with loops and the raw design ``Z``;
    the L-sets and the imputations include their ties."""
    n = len(y)
    e = expit(ls)
    f = e * (1 - e)
    info = sum(f[i] * np.outer(Z[i], Z[i]) for i in range(n)) / n
    cov = {}
    for w in (0, 1):
        arm = np.nonzero(t == w)[0]
        cov[w] = np.zeros((n, Z.shape[1]))
        for i in range(n):
            near = arm[within(np.abs(ls[arm] - ls[i]), L)]
            zc = Z[near] - Z[near].mean(axis=0)
            cov[w][i] = zc.T @ (y[near] - y[near].mean()) / (len(near) - 1)
    if estimand == "ATE":
        c = sum(f[i] * (cov[1][i] / e[i] + cov[0][i] / (1 - e[i])) for i in range(n)) / n
        return -c @ np.linalg.solve(info, c) / n
    a = 1 if estimand == "ATT" else 0
    ea = e if a == 1 else 1 - e
    n_a = int((t == a).sum())
    c = sum(f[i] * (cov[a][i] + ea[i] / (1 - ea[i]) * cov[1 - a][i]) for i in range(n)) / n_a
    mu = {1: y.astype(float).copy(), 0: y.astype(float).copy()}
    treated, control = np.nonzero(t == 1)[0], np.nonzero(t == 0)[0]
    for src, tgt, w in ((treated, control, 0), (control, treated, 1)):
        for i, chosen in brute_direction(ls, src, tgt, k, np.inf).items():
            mu[w][i] = np.mean(y[chosen])
    effect = mu[1] - mu[0]
    tau = effect[t == a].mean()
    d = sum(Z[i] * f[i] * (effect[i] - tau) for i in range(n)) / n_a
    return (-c @ np.linalg.solve(info, c) + d @ np.linalg.solve(info, d)) / n


def brute_greedy_arrays(ls, t, y, X, k, width):
    """Greedy matching without replacement by the documented rule, with loops: treated by
    decreasing score (equal scores: increasing row key), each round the nearest available
    control within the width; at equal distance a control above (score >= the treated
    unit's) over one below; within one side the nearest in (score, key) order."""
    from causalkit.backdoor._matching_kernels import row_keys

    keys = row_keys(X, y, t)      # uint64; equal keys only for identical rows
    treated = np.nonzero(t == 1)[0]
    treated = treated[np.lexsort((keys[treated], -ls[treated]))]
    available = set(np.nonzero(t == 0)[0].tolist())
    matches = {i: [] for i in treated}
    active = list(treated)
    for _ in range(k):
        still = []
        for i in active:
            if not available:
                continue
            cand = np.array(sorted(available))
            d = np.abs(ls[cand] - ls[i])
            at = cand[d == d.min()]
            if d.min() > width:
                continue
            upper, lower = at[ls[at] >= ls[i]], at[ls[at] < ls[i]]
            if len(upper):
                j = upper[np.lexsort((keys[upper], ls[upper]))[0]]
            else:
                j = lower[np.lexsort((keys[lower], ls[lower]))[-1]]
            matches[i].append(j)
            available.discard(j)
            still.append(i)
        active = still
    diffs = [y[i] - y[m].mean() for i, m in matches.items() if m]
    return np.mean(diffs), np.std(diffs, ddof=1) / np.sqrt(len(diffs)), len(diffs)
