"""Two-stage least squares (or LIML) through linearmodels, with weak-IV diagnostics.

The treatment (endogenous, any numeric) is instrumented by one or several
instruments; covariates enter both stages as exogenous regressors.  The
estimand is the LATE (Imbens & Angrist 1994) for a binary instrument and
treatment.  Diagnostics: first-stage F and the effective F of Montiel Olea &
Pflueger (a ``UserWarning`` below 10), the Anderson–Rubin confidence set that
stays valid with weak instruments, and an over-identification test when there
are more instruments than treatments.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0); n = 2000
>>> z = rng.integers(0, 2, n); u = rng.normal(size=n)
>>> d = (0.3 + 0.4 * z + 0.3 * u > 0.5).astype(float)
>>> df = pd.DataFrame({"z": z, "d": d, "y": 2.0 * d + u + rng.normal(size=n)})
>>> eff = causalkit.estimate(df, "d", "y", method="iv_2sls", instrument="z")
>>> eff.estimand, abs(eff.estimate - 2.0) < 0.4
('LATE', True)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from linearmodels.iv import IV2SLS, IVLIML

from ..effect import Effect
from ..linear import require_full_rank
from ..errors import OptionError, RoleError
from . import (anderson_rubin_set, check_instruments, first_stage_strength,
                  overidentification_test, weak_instrument_warning)
from ..registry import register
from ..validation import as_column_list, check_frame, require_rows, require_varies

COV_TYPES = ("robust", "unadjusted", "clustered")


@register("iv_2sls", estimand="LATE", roles=("treatment", "outcome", "instrument"),
          optional_roles=("covariates", "cluster"), needs_binary_treatment=False)
def iv_2sls(data: pd.DataFrame, treatment: str, outcome: str, instrument: str | Sequence[str],
            covariates: Sequence[str] | None = None, cluster: str | None = None,
            alpha: float = 0.05, cov_type: str = "robust", liml: bool = False,
            weak_threshold: float = 10.0) -> Effect:
    """Instrumental-variables estimate (2SLS, or LIML with ``liml=True``) of a LATE.

    Parameters
    ----------
    instrument
        One instrument column or a list of them.
    cov_type
        ``robust`` (default, heteroskedasticity-robust), ``unadjusted``; with
        ``cluster=`` the errors are clustered by that column.
    liml
        Use limited-information maximum likelihood (linearmodels ``IVLIML``),
        less biased than 2SLS with many or weak instruments.
    weak_threshold
        First-stage F below which a weak-instrument ``UserWarning`` is issued.
    """
    instruments = as_column_list(instrument)
    covs = as_column_list(covariates)
    if cov_type not in COV_TYPES:
        raise OptionError(f"cov_type must be one of {', '.join(COV_TYPES)}, got {cov_type!r}")
    if treatment in instruments:
        raise RoleError(f"the instrument {treatment!r} is the treatment itself; an instrument "
                        "must be a different variable that moves the treatment")
    overlap = set(instruments) & (set(covs) | {outcome})
    if overlap:
        raise RoleError(f"column(s) {sorted(overlap)} cannot be both an instrument and a "
                        "covariate or the outcome")
    roles: dict[str, Any] = {"treatment": treatment, "outcome": outcome,
                             "instruments": instruments, "covariates": covs}
    frame = check_frame(data, roles=roles)
    if cluster is not None:  # cluster labels may be strings
        check_frame(frame, roles={"cluster": cluster}, numeric=False)
        cov_type = "clustered"
    require_rows(len(frame), len(covs) + len(instruments) + 3, what="IV estimation")
    require_varies(frame, covs)
    y = frame[outcome].to_numpy(dtype=float)
    d = frame[treatment].to_numpy(dtype=float)
    Z = frame[instruments].to_numpy(dtype=float)
    W = frame[covs].to_numpy(dtype=float) if covs else None
    groups = frame[cluster].to_numpy() if cluster is not None else None
    check_instruments(d, Z, W, treatment, instruments)

    exog = np.column_stack([np.ones(len(y))] + ([W] if W is not None else []))
    require_full_rank(np.column_stack([exog, d]), "the second-stage design [covariates, treatment]")
    require_full_rank(np.column_stack([exog, Z]), "the first-stage design [covariates, instruments]")
    model_cls = IVLIML if liml else IV2SLS
    model = model_cls(y, exog, d[:, None], Z)  # arrays: linearmodels' pandas path is slow
    fit_kw: dict[str, Any] = {"cov_type": cov_type}
    if cov_type == "clustered":
        fit_kw["clusters"] = np.unique(groups, return_inverse=True)[1]
    res = model.fit(**fit_kw)
    pos = exog.shape[1]  # linearmodels orders the exogenous regressors first
    est = float(np.asarray(res.params)[pos])
    se = float(np.asarray(res.std_errors)[pos])

    fs = first_stage_strength(d, Z, W, cov_type=cov_type, groups=groups)
    weak_instrument_warning(fs.f_stat, weak_threshold, what=", ".join(instruments))
    ar = anderson_rubin_set(y, d, Z, W, alpha=alpha, cov_type=cov_type, groups=groups)
    diagnostics: dict[str, Any] = {
        "estimator": "LIML" if liml else "2SLS",
        "first_stage_f": fs.f_stat,
        "effective_f": fs.f_effective,
        "first_stage_partial_r2": fs.partial_r2,
        "first_stage_coefficients": dict(zip(instruments, fs.coefficients.tolist())),
        "n_instruments": len(instruments),
        "weak_instrument": bool(fs.f_stat < weak_threshold),
        "anderson_rubin_ci": ar.intervals,
        "anderson_rubin_kind": ar.kind,
    }
    if len(instruments) > 1:
        ov = overidentification_test(res, robust=cov_type != "unadjusted")
        diagnostics.update({"overid_statistic": ov["statistic"], "overid_p_value": ov["p_value"],
                            "overid_df": ov["df"], "overid_test": ov["name"]})
    label = {"robust": "heteroskedasticity-robust", "unadjusted": "homoskedastic",
             "clustered": f"cluster-robust ({len(np.unique(groups)) if groups is not None else 0}"
                          " clusters)"}[cov_type]
    t_binary = set(np.unique(d)) <= {0.0, 1.0}
    return Effect.from_estimate(
        method="iv_2sls", estimand="LATE", estimate=est, std_error=se, alpha=alpha, df=None,
        treatment=treatment, outcome=outcome,
        n_treated=int((d == 1).sum()) if t_binary else None,
        n_control=int((d == 0).sum()) if t_binary else None, n_obs=len(frame),
        covariates=tuple(covs),
        inference=f"{label} {'LIML' if liml else '2SLS'} (linearmodels), normal reference; "
                  f"instruments: {', '.join(instruments)}",
        diagnostics=diagnostics)
