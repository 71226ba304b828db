"""The linear combination of local-polynomial coefficients that defines the RD effect.

Columns of the data matrix are ``[y, (t), z_1..z_k]``.  With covariates the
outcome is adjusted as ``y - z'gamma`` (Calonico, Cattaneo, Farrell & Titiunik
2019); for a fuzzy design the effect is the Wald ratio of the outcome and
treatment jumps, linearised with :func:`causalkit.iv.ratio_gradient` (the same
code the IV estimators use).

Example
-------
>>> import numpy as np
>>> outcome_combination(np.array([2.0, 0.5]), None, fuzzy=True, n_covariates=0)[0].tolist()
[2.0, -8.0]
"""

from __future__ import annotations

import numpy as np

from ..iv.ratio import ratio_gradient


def covariate_gamma(z_parts: list[np.ndarray], n_lead: int) -> np.ndarray:
    """Pooled covariate coefficients from the partialled cross-products of each side."""
    total = sum(z_parts)
    return np.linalg.pinv(total[:, n_lead:]) @ total[:, :n_lead]


def outcome_combination(beta_row: np.ndarray, gamma: np.ndarray | None, fuzzy: bool,
                        n_covariates: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Return ``(s, s_y, s_t)``: the effect's combination and the outcome/treatment parts.

    ``beta_row`` holds the coefficient of interest for every column; for a fuzzy
    design ``s`` is the gradient-weighted sum of ``s_y`` and ``s_t``.
    """
    d_t = 1 if fuzzy else 0
    m = 1 + d_t + n_covariates
    s_y = np.zeros(m)
    s_y[0] = 1.0
    if n_covariates:
        s_y[1 + d_t:] = -gamma[:, 0]
    if not fuzzy:
        return s_y, s_y, None
    s_t = np.zeros(m)
    s_t[1] = 1.0
    if n_covariates:
        s_t[2:] = -gamma[:, 1]
    g = ratio_gradient(float(s_y @ beta_row), float(s_t @ beta_row))
    return g[0] * s_y + g[1] * s_t, s_y, s_t
