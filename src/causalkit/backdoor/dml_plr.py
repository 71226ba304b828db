"""Double machine learning for the partially linear regression model (``dml_plr``).

Model (Robinson 1988; Chernozhukov et al. 2018, Section 4.1)::

    Y = theta D + g(X) + U,   E[U | X, D] = 0
    D = m(X) + V,             E[V | X] = 0

with a continuous or binary treatment ``D``.  Nuisances, each any scikit-learn
model predicted out of fold: ``l(X) = E[Y | X]`` (``ml_l``), ``m(X) = E[D | X]``
(``ml_m``; a classifier's ``P(D = 1 | X)`` for a binary treatment) and, for the
IV-type score, ``g(X) = E[Y - theta D | X]`` (``ml_g``, fitted on ``Y - theta0 D``
with ``theta0`` the partialling-out estimate on the same folds, as DoubleML).
Scores:

* partialling out: ``psi = (D - m)(Y - l - theta (D - m))``
* IV-type: ``psi = (D - m)(Y - g - theta D)``

The default models are OLS (all folds in one pass over the data).  The result
equals DoubleML's ``DoubleMLPLR`` with the same models and folds.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(2000, 2)); d = x[:, 0] + rng.normal(size=2000)
>>> df = pd.DataFrame({"d": d, "x1": x[:, 0], "x2": x[:, 1],
...                    "y": 0.5 * d + x[:, 0] - x[:, 1] + rng.normal(size=2000)})
>>> eff = causalkit.estimate(df, "d", "y", method="dml_plr", covariates=["x1", "x2"])
>>> bool(abs(eff.estimate - 0.5) < 0.05), eff.diagnostics["treatment_type"]
(True, 'continuous')
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..dml import (check_residual, check_score, dml_effect, fit_repeated, is_classifier_model,
                   prepare_dml)
from ..effect import Effect
from ..nuisance import cross_predict, is_plain_ols
from ..overlap import positivity
from ..registry import register


@register("dml_plr", estimand="ATE", roles=("treatment", "outcome", "covariates"),
          optional_roles=("cluster",), needs_binary_treatment=False,
          treatment_types=("binary", "continuous"))
def dml_plr(data: pd.DataFrame, treatment: str, outcome: str, covariates: Sequence[str],
            cluster: str | Sequence[str] | None = None, alpha: float = 0.05, ml_l: Any = None,
            ml_m: Any = None, ml_g: Any = None, score: str = "partialling out",
            n_folds: int = 5, n_rep: int = 1, random_state: int | None = 0) -> Effect:
    """Double machine learning for the partially linear model (continuous or binary treatment).

    Parameters
    ----------
    ml_l, ml_m, ml_g
        Any scikit-learn regressors for ``E[Y|X]``, ``E[D|X]`` and (IV-type score)
        ``E[Y - theta D | X]``; ``ml_m`` may be a classifier for a binary treatment.
        ``None`` (default) is OLS; ``ml_g`` defaults to the model of ``ml_l``.
    score
        ``"partialling out"`` (default) or ``"IV-type"``.
    n_folds
        Cross-fitting folds (default 5): ``KFold(n_folds, shuffle=True,
        random_state)`` over the rows, or over the clusters with ``cluster=``.
    n_rep
        Repeated cross-fitting (default 1): the median of ``n_rep`` split estimates
        with the SE ``sqrt(median(se_s^2 + (theta_s - median)^2))`` (Chernozhukov
        et al. 2018, Definition 3.3); each split's estimate and SE are in
        ``diagnostics["split_estimates"]`` / ``["split_std_errors"]``.
    cluster
        One cluster column, or two for two-way clustering: cluster-based folds
        (``n_folds^2`` of them for two-way) and the cluster-robust SE of Chiang,
        Kato, Ma & Sasaki (2022), as DoubleML's cluster data.
    random_state
        Seed of the folds (default 0, fixed).
    """
    score = check_score(score)
    d = prepare_dml(data, treatment, outcome, covariates, cluster=cluster, n_folds=n_folds)
    m_classifier = is_classifier_model(ml_m, "ml_m", d)
    g_model = ml_l if ml_g is None else ml_g

    def nuisance(splits: Any) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        if m_classifier:
            l_hat = cross_predict(ml_l, d.X, [d.y], splits)[0]
            m_hat = cross_predict(ml_m, d.X, [d.d], splits, classifier=True)[0]
        elif is_plain_ols(ml_l) and is_plain_ols(ml_m):     # one pass for both OLS fits
            l_hat, m_hat = cross_predict(None, d.X, [d.y, d.d], splits)
        else:
            l_hat = cross_predict(ml_l, d.X, [d.y], splits)[0]
            m_hat = cross_predict(ml_m, d.X, [d.d], splits)[0]
        v = d.d - m_hat
        check_residual(v, d.d, f"treatment {d.treatment!r}")
        preds = {"ml_l": l_hat, "ml_m": m_hat}
        if score == "partialling out":
            return -v * v, v * (d.y - l_hat), preds
        theta0 = -np.mean(v * (d.y - l_hat)) / np.mean(-v * v)
        g_hat = cross_predict(g_model, d.X, [d.y - theta0 * d.d], splits)[0]
        preds["ml_g"] = g_hat
        return -v * d.d, v * (d.y - g_hat), preds

    fits = fit_repeated(d, nuisance, n_folds, n_rep, random_state)
    models = {"ml_l": ml_l, "ml_m": ml_m}
    if score == "IV-type":
        models["ml_g"] = g_model
    v = d.d - fits[0].predictions["ml_m"]
    extra: dict[str, Any] = {"treatment_residual_share": check_residual(v, d.d, "the treatment")}
    if m_classifier:       # out-of-fold propensity scores: the positivity diagnosis
        extra["overlap"] = positivity(fits[0].predictions["ml_m"], d.d.astype(int))
    return dml_effect("dml_plr", "ATE", d, fits, score=score, alpha=alpha, n_folds=n_folds,
                      random_state=random_state, models=models, extra=extra)
