"""Two-stage least squares (or LIML) through linearmodels, with weak-IV diagnostics.

The treatment (endogenous, any numeric) is instrumented by one or several
instruments; covariates enter both stages as exogenous regressors.  The
estimand is the LATE (Imbens & Angrist 1994) for a binary instrument and
treatment.  Diagnostics: first-stage F and the effective F of Montiel Olea &
Pflueger (a ``UserWarning`` below 10), the Anderson–Rubin confidence set that
stays valid with weak instruments, and an over-identification test when there
are more instruments than treatments.

``small_sample=True`` (linearmodels' ``debiased``) makes every piece use the
``n - K`` degrees-of-freedom correction and the t / F reference distributions:
the standard error and its t(n - K) interval (t(G - 1) when clustered), the
first-stage F with its F(k, n - K) p-value, and the Anderson–Rubin set with an
F cutoff; by default all three use ``n`` and the normal / chi-square
distributions.  On Card (1995) the homoskedastic small-sample standard error is
the textbook 0.0550 (Wooldridge, *Introductory Econometrics*, Example 15.4).

Every design is equilibrated before it is fitted or checked for rank
(:func:`~causalkit.linear.equilibrate`), so the units of the covariates,
instruments and treatment do not matter.

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
from ..errors import OptionError, RoleError
from ..linear import equilibrate, require_full_rank
from ..registry import register
from ..validation import as_column_list, check_frame, cluster_groups, require_rows, \
    require_varies, weighted_rows
from . import (anderson_rubin_set, check_instruments, first_stage_strength,
               overidentification_test, weak_instrument_warning)
from .first_stage import VarianceRule

COV_TYPES = ("robust", "unadjusted", "clustered")


@register("iv_2sls", estimand="LATE", roles=("treatment", "outcome", "instrument"),
          optional_roles=("covariates", "cluster", "weights"), needs_binary_treatment=False)
def iv_2sls(data: pd.DataFrame, treatment: str, outcome: str, instrument: str | Sequence[str],
            covariates: Sequence[str] | None = None, cluster: str | Sequence[str] | None = None,
            weights: str | None = None, alpha: float = 0.05, cov_type: str = "robust",
            liml: bool = False,
            weak_threshold: float = 10.0, small_sample: bool = False) -> Effect:
    """Instrumental-variables estimate (2SLS, or LIML with ``liml=True``) of a LATE.

    Parameters
    ----------
    instrument
        One instrument column or a list of them.
    cluster
        Column to cluster on, or a list of two for two-way clustering (Cameron,
        Gelbach & Miller 2011); implies ``cov_type="clustered"``.
    weights
        Column of sampling weights: weighted 2SLS / LIML (linearmodels'
        ``weights=``), with the first-stage F, effective F and Anderson-Rubin set
        computed on the same weighted moments; rows of zero weight are dropped.
    cov_type
        ``robust`` (default, heteroskedasticity-robust), ``unadjusted``; with
        ``cluster=`` the errors are clustered by that column.
    liml
        Use limited-information maximum likelihood (linearmodels ``IVLIML``),
        less biased than 2SLS with many or weak instruments.
    weak_threshold
        First-stage F below which a weak-instrument ``UserWarning`` is issued.
    small_sample
        Use the n - K degrees-of-freedom correction with t and F reference
        distributions in the standard error, the first-stage F and the
        Anderson-Rubin set (linearmodels' ``debiased=True``).
    """
    instruments = as_column_list(instrument)
    covs = as_column_list(covariates)
    if cov_type not in COV_TYPES:
        raise OptionError(f"cov_type must be one of {', '.join(COV_TYPES)}, got {cov_type!r}")
    if not isinstance(small_sample, (bool, np.bool_)):
        raise OptionError(f"small_sample must be True or False, got {small_sample!r}")
    if treatment in instruments:
        raise RoleError(f"the instrument {treatment!r} is the treatment itself; an instrument "
                        "must be a different variable that moves the treatment")
    overlap = set(instruments) & (set(covs) | {outcome})
    if overlap:
        raise RoleError(f"column(s) {sorted(overlap, key=str)} cannot be both an instrument "
                        "and a covariate or the outcome")
    roles: dict[str, Any] = {"treatment": treatment, "outcome": outcome,
                             "instruments": instruments, "covariates": covs}
    frame, sw = weighted_rows(data, weights)
    frame = check_frame(frame, roles=roles)
    if weights is not None and weights in (treatment, outcome, *instruments, *covs):
        raise RoleError(f"weights column {weights!r} cannot also play another role")
    groups, _ = cluster_groups(frame, cluster, method="iv_2sls")
    if groups is not None:
        cov_type = "clustered"
    require_rows(len(frame), len(covs) + len(instruments) + 3, what="IV estimation")
    require_varies(frame, covs)
    y = frame[outcome].to_numpy(dtype=float)
    d = frame[treatment].to_numpy(dtype=float)
    Z = frame[instruments].to_numpy(dtype=float)
    W = frame[covs].to_numpy(dtype=float) if covs else None
    check_instruments(d, Z, W, treatment, instruments)

    exog = np.column_stack([np.ones(len(y))] + ([W] if W is not None else []))
    exog_names = ["intercept", *covs]
    require_full_rank(np.column_stack([exog, d]), "the second-stage design [covariates, treatment]",
                      [*exog_names, treatment])
    require_full_rank(np.column_stack([exog, Z]), "the first-stage design [covariates, instruments]",
                      [*exog_names, *instruments])
    # linearmodels on equilibrated arrays (its pandas path is slow); only d's scale is undone
    d_scaled, d_scale = equilibrate(d[:, None])
    model = (IVLIML if liml else IV2SLS)(y, equilibrate(exog)[0], d_scaled, equilibrate(Z)[0],
                                        weights=sw)
    fit_kw: dict[str, Any] = {"cov_type": cov_type, "debiased": bool(small_sample)}
    if cov_type == "clustered":
        fit_kw["clusters"] = groups
    res = model.fit(**fit_kw)
    pos = exog.shape[1]  # linearmodels orders the exogenous regressors first
    est = float(np.asarray(res.params)[pos] / d_scale[0])
    se = float(np.asarray(res.std_errors)[pos] / d_scale[0])
    rule = VarianceRule(cov_type, len(y), pos + 1, bool(small_sample), groups)

    fs = first_stage_strength(d, Z, W, cov_type=cov_type, groups=groups,
                              small_sample=bool(small_sample), weights=sw)
    weak_instrument_warning(fs.f_stat, weak_threshold, what=", ".join(map(str, instruments)))
    ar = anderson_rubin_set(y, d, Z, W, alpha=alpha, cov_type=cov_type, groups=groups,
                            small_sample=bool(small_sample), weights=sw)
    diagnostics: dict[str, Any] = {
        "estimator": "LIML" if liml else "2SLS",
        "first_stage_f": fs.f_stat,
        "first_stage_p_value": fs.p_value,
        "first_stage_df": fs.df,
        "effective_f": fs.f_effective,
        "first_stage_partial_r2": fs.partial_r2,
        "first_stage_coefficients": dict(zip(instruments, fs.coefficients.tolist())),
        "n_instruments": len(instruments),
        "weak_instrument": bool(fs.f_stat < weak_threshold),
        "anderson_rubin_ci": ar.intervals,
        "anderson_rubin_kind": ar.kind,
        "small_sample": bool(small_sample),
    }
    if len(instruments) > 1:
        ov = overidentification_test(res, robust=cov_type != "unadjusted")
        diagnostics.update({"overid_statistic": ov["statistic"], "overid_p_value": ov["p_value"],
                            "overid_df": ov["df"], "overid_test": ov["name"]})
    counts = rule.cluster_counts
    label = {"robust": "heteroskedasticity-robust", "unadjusted": "homoskedastic",
             "clustered": ("cluster-robust (" + " x ".join(map(str, counts)) + " clusters"
                           + (", two-way" if len(counts) == 2 else "") + ")")}[cov_type]
    reference = ("normal reference" if rule.df is None else
                 f"small-sample n-K correction, t with {rule.df:g} df")
    t_binary = set(np.unique(d)) <= {0.0, 1.0}
    return Effect.from_estimate(
        method="iv_2sls", estimand="LATE", estimate=est, std_error=se, alpha=alpha, df=rule.df,
        treatment=treatment, outcome=outcome,
        n_treated=int((d == 1).sum()) if t_binary else None,
        n_control=int((d == 0).sum()) if t_binary else None, n_obs=len(frame),
        covariates=tuple(covs),
        inference=f"{label} {'LIML' if liml else '2SLS'} (linearmodels"
                  + (f", sampling weights {weights!r}" if weights is not None else "")
                  + f"), {reference}; "
                  f"instruments: {', '.join(map(str, instruments))}",
        diagnostics=diagnostics)
