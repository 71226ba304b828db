"""Two-period DiD estimators of the ATT for repeated cross-sections (or unbalanced panels).

Each observation is seen once, in the base period (``post = 0``) or in period
``t`` (``post = 1``), in the treated cohort (``d = 1``) or a comparison group.
The estimators of Sant'Anna & Zhao (2020, J. Econometrics 219(1)) for
repeated cross-sections, as in R ``DRDID`` / ``did(panel = FALSE)``:

* ``"reg"`` — outcome regression: mean treated change minus the treated mean
  of the fitted control change ``m0_post(X) - m0_pre(X)``;
* ``"ipw"`` — normalized IPW with a logit propensity score for ``d``;
* ``"dr"``  — the locally efficient doubly robust estimator (their eq. 3.4),
  with four outcome regressions (controls and treated, pre and post).

Sampling weights (``weights``, mean one, R ``DRDID``'s ``i.weights``) multiply every
mean, the logit's likelihood and the outcome regressions.  Every piece is a
normalized (Hajek) weighted mean; its influence function
carries the estimation error of the logit and OLS fits it uses, so the ATT's
influence function is exact to first order (``var ~= mean(inf**2) / n``).
Without covariates all three equal the difference of the four cell means.

Example
-------
>>> import numpy as np
>>> y = np.array([1.0, 3.0, 0.0, 1.0]); d = np.array([1, 1, 0, 0]); post = np.array([0, 1, 0, 1])
>>> att, inf = att_repeated_cross_section(y, d, post, np.ones((4, 1)), "dr")
>>> float(att)
1.0
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import OptionError
from ..linear import require_full_rank
from ._drdid import METHODS, logit, standardize, subset_ols


def _hajek(w: np.ndarray, z: np.ndarray, X: np.ndarray, lin_ps: np.ndarray | None = None,
           fits: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> tuple[float, np.ndarray]:
    """``a = sum(w z) / sum(w)`` and its influence function.

    ``lin_ps``: the logit's coefficient representation when ``w`` is
    proportional to ``ps / (1 - ps)`` (so ``dw/dgamma = w X``); ``fits``: pairs
    (OLS coefficient representation, row multiplier c) for ``dz/dbeta = c X``.
    """
    mw = w.mean()
    a = float(np.mean(w * z) / mw)
    r = w * (z - a)
    inf = r.copy()
    if lin_ps is not None:
        inf += lin_ps @ np.mean(r[:, None] * X, axis=0)
    for lin, c in fits:
        inf += lin @ np.mean((w * c)[:, None] * X, axis=0)
    return a, inf / mw


def att_repeated_cross_section(y: np.ndarray, d: np.ndarray, post: np.ndarray, X: np.ndarray,
                               method: str = "dr", names: Sequence[Any] | None = None,
                               weights: np.ndarray | None = None
                               ) -> tuple[float, np.ndarray]:
    """ATT from two repeated cross-sections and its influence function (per observation);
    ``weights``: sampling weights (``None``: unweighted)."""
    if method not in METHODS:
        raise OptionError(f"est_method must be one of {', '.join(METHODS)}, got {method!r}")
    d, post = d.astype(float), post.astype(float)
    if X.shape[1] > 1:
        X = standardize(X, names)
        labels = ["intercept", *(names if names is not None
                                 else [f"#{j}" for j in range(1, X.shape[1])])]
        require_full_rank(X, "the covariate design of a group-time cell", labels)
        cells = [("controls", 1 - d)] if method == "ipw" else \
            [("controls", 1 - d), ("treated", d)] if method == "dr" else [("controls", 1 - d)]
        for who, m in cells:
            for when, p in (("base", 1 - post), ("post", post)):
                require_full_rank(X[(m * p) > 0], f"the outcome regression among the {who} of "
                                  f"a group-time cell in the {when} period", labels)
    one = np.ones_like(y)
    sw = one if weights is None else np.asarray(weights, dtype=float)

    def ols(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return subset_ols(y, mask, X, weights)
    t1, t0 = _hajek(sw * d * post, y, X), _hajek(sw * d * (1 - post), y, X)
    if method == "reg":
        f_post, l_post = ols((1 - d) * post)
        f_pre, l_pre = ols((1 - d) * (1 - post))
        cont = _hajek(sw * d, f_post - f_pre, X, fits=[(l_post, one), (l_pre, -one)])
        return t1[0] - t0[0] - cont[0], t1[1] - t0[1] - cont[1]
    ps, lin_ps = logit(X, d, weights)
    ps = np.minimum(ps, 1 - 1e-6)
    odds = sw * ps * (1 - d) / (1 - ps)
    if method == "ipw":
        c1 = _hajek(odds * post, y, X, lin_ps)
        c0 = _hajek(odds * (1 - post), y, X, lin_ps)
        return (t1[0] - t0[0] - (c1[0] - c0[0]), t1[1] - t0[1] - (c1[1] - c0[1]))
    m0_post, l0_post = ols((1 - d) * post)
    m0_pre, l0_pre = ols((1 - d) * (1 - post))
    m1_post, l1_post = ols(d * post)
    m1_pre, l1_pre = ols(d * (1 - post))
    resid = y - post * m0_post - (1 - post) * m0_pre
    on_resid = [(l0_post, -post), (l0_pre, -(1 - post))]
    gap_post, gap_pre = m1_post - m0_post, m1_pre - m0_pre
    on_post, on_pre = [(l1_post, one), (l0_post, -one)], [(l1_pre, one), (l0_pre, -one)]
    parts = [(+1, _hajek(sw * d * post, resid, X, fits=on_resid)),
             (-1, _hajek(sw * d * (1 - post), resid, X, fits=on_resid)),
             (-1, _hajek(odds * post, resid, X, lin_ps, on_resid)),
             (+1, _hajek(odds * (1 - post), resid, X, lin_ps, on_resid)),
             (+1, _hajek(sw * d, gap_post, X, fits=on_post)),
             (-1, _hajek(sw * d * post, gap_post, X, fits=on_post)),
             (-1, _hajek(sw * d, gap_pre, X, fits=on_pre)),
             (+1, _hajek(sw * d * (1 - post), gap_pre, X, fits=on_pre))]
    return (float(sum(s * a for s, (a, _) in parts)),
            np.sum([s * f for s, (_, f) in parts], axis=0))
