"""Double machine learning for the partially linear IV model (``dml_pliv``).

Model (Chernozhukov et al. 2018, Section 4.2)::

    Y - theta D = g(X) + U,   E[U | Z, X] = 0
    Z = m(X) + V,             E[V | X] = 0

with an endogenous continuous or binary treatment ``D`` and instruments ``Z``.
Nuisances, out of fold, any scikit-learn regressors: ``l(X) = E[Y|X]``
(``ml_l``), ``m(X) = E[Z|X]`` (``ml_m``, one fit per instrument),
``r(X) = E[D|X]`` (``ml_r``) and for the IV-type score ``g(X) = E[Y - theta D|X]``
(``ml_g``, fitted on ``Y - theta0 D``).  Scores, with ``u = Y - l``,
``w = D - r``, ``v = Z - m``:

* partialling out, one instrument: ``psi = v (u - theta w)``
* IV-type, one instrument: ``psi = v (Y - g - theta D)``
* several instruments (partialling out): ``v`` is replaced by ``r~``, the
  linear projection (with intercept) of ``w`` on the residualized instruments,
  the DML analogue of 2SLS.

Equal to DoubleML's ``DoubleMLPLIV`` (``partialX``) with the same models and folds.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> n = 3000; x = rng.normal(size=n); z = rng.normal(size=n); u = rng.normal(size=n)
>>> d = z + 0.5 * x + u
>>> df = pd.DataFrame({"x": x, "z": z, "d": d, "y": 1.0 * d + x - 2 * u + rng.normal(size=n)})
>>> eff = causalkit.estimate(df, "d", "y", method="dml_pliv", instrument="z", covariates=["x"])
>>> bool(abs(eff.estimate - 1.0) < 0.1)
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..dml import check_residual, check_score, dml_effect, fit_repeated, prepare_dml
from ..effect import Effect
from ..errors import OptionError
from ..nuisance import cross_predict, is_plain_ols
from ..registry import register


@register("dml_pliv", estimand="LATE", roles=("treatment", "outcome", "instrument", "covariates"),
          optional_roles=("cluster",), needs_binary_treatment=False,
          treatment_types=("binary", "continuous"))
def dml_pliv(data: pd.DataFrame, treatment: str, outcome: str, instrument: str | Sequence[str],
             covariates: Sequence[str], cluster: str | Sequence[str] | None = None, alpha: float = 0.05,
             ml_l: Any = None, ml_m: Any = None, ml_r: Any = None, ml_g: Any = None,
             score: str = "partialling out", n_folds: int = 5, n_rep: int = 1,
             random_state: int | None = 0) -> Effect:
    """Double machine learning for the partially linear IV model.

    Parameters
    ----------
    instrument
        One instrument column or a list of them (several: partialling-out score only).
    ml_l, ml_m, ml_r, ml_g
        Any scikit-learn regressors for ``E[Y|X]``, ``E[Z|X]``, ``E[D|X]`` and
        (IV-type score) ``E[Y - theta D | X]``; ``None`` (default) is OLS, and
        ``ml_g`` defaults to the model of ``ml_l``.
    score
        ``"partialling out"`` (default) or ``"IV-type"``.
    n_folds, n_rep, random_state, cluster
        As for ``dml_plr``: K-fold cross-fitting (by cluster with ``cluster=``, one
        column or two, and then the cluster-robust SE of Chiang et al. 2022), repeated ``n_rep`` times
        with median aggregation; the folds' seed ``random_state`` (default 0).
    """
    score = check_score(score)
    d = prepare_dml(data, treatment, outcome, covariates, instrument=instrument,
                    cluster=cluster, n_folds=n_folds, check_binary_overlap=False)
    if not d.instruments:
        raise OptionError("dml_pliv needs instrument= (one column or a list)")
    if d.Z.shape[1] > 1 and score == "IV-type":
        raise OptionError(f"score='IV-type' takes one instrument; with {d.Z.shape[1]} "
                          "instruments use score='partialling out'")
    g_model = ml_l if ml_g is None else ml_g
    n_z = d.Z.shape[1]

    def nuisance(splits: Any) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        targets = [d.y, *d.Z.T, d.d]
        models = [ml_l, *[ml_m] * n_z, ml_r]
        if all(is_plain_ols(m) for m in models):
            hats = cross_predict(None, d.X, targets, splits)
        else:
            hats = [cross_predict(m, d.X, [t], splits)[0] for m, t in zip(models, targets)]
        l_hat, m_hats, r_hat = hats[0], np.column_stack(hats[1:-1]), hats[-1]
        u, w, v = d.y - l_hat, d.d - r_hat, d.Z - m_hats
        for j, name in enumerate(d.instruments):
            check_residual(v[:, j], d.Z[:, j], f"instrument {name!r}")
        preds = {"ml_l": l_hat, "ml_r": r_hat}
        if n_z == 1:
            preds["ml_m"] = m_hats[:, 0]
            v1 = v[:, 0]
            if score == "partialling out":
                return -w * v1, v1 * u, preds
            theta0 = -np.mean(v1 * u) / np.mean(-w * v1)
            g_hat = cross_predict(g_model, d.X, [d.y - theta0 * d.d], splits)[0]
            preds["ml_g"] = g_hat
            return -v1 * d.d, v1 * (d.y - g_hat), preds
        preds.update({f"ml_m_{name}": m_hats[:, j] for j, name in enumerate(d.instruments)})
        design = np.column_stack([np.ones(d.n), v])
        r_tilde = design @ np.linalg.lstsq(design, w, rcond=None)[0]
        return -w * r_tilde, r_tilde * u, preds

    fits = fit_repeated(d, nuisance, n_folds, n_rep, random_state)
    models = {"ml_l": ml_l, "ml_m": ml_m, "ml_r": ml_r}
    if score == "IV-type":
        models["ml_g"] = g_model
    return dml_effect("dml_pliv", "LATE", d, fits, score=score, alpha=alpha, n_folds=n_folds,
                      random_state=random_state, models=models,
                      extra={"instruments": list(d.instruments)})
