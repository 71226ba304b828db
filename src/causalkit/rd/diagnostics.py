"""Falsification checks for an RD design: placebo cutoffs, covariate continuity and
sensitivity to the bandwidth.  Each returns a tidy DataFrame, one row per fit.

* Placebo cutoffs: RD estimates at points where nothing should happen, each
  using only the data on the same side of the true cutoff (so the true jump
  cannot leak in); rejections are a warning sign.
* Covariate continuity: predetermined covariates used as outcomes must not jump.
* Bandwidth sensitivity: the estimate and robust CI over multiples of the chosen
  ``h`` (with ``b`` scaled the same way).

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.uniform(-1, 1, 1500); y = x + (x >= 0) + rng.normal(0, .3, 1500)
>>> tab = bandwidth_sensitivity(x, y, 0.0, h=0.4, multiples=(0.5, 1.0))
>>> tab["h"].round(2).tolist()
[0.2, 0.4]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .estimate import RDResult, rd_estimate


def _row(res: RDResult, **extra: Any) -> dict[str, Any]:
    bw = res.bandwidths
    return {**extra, "estimate": res.estimate, "estimate_bc": res.estimate_bc,
            "se_robust": res.se_robust, "ci_low": res.ci_robust[0], "ci_high": res.ci_robust[1],
            "p_value": res.p_value_robust, "h_left": bw.h_left, "h_right": bw.h_right,
            "n_eff_left": res.n_eff_left, "n_eff_right": res.n_eff_right}


def placebo_cutoffs(x: np.ndarray, y: np.ndarray, cutoff: float,
                    placebos: Sequence[float] | None = None, **rd_kw: Any) -> pd.DataFrame:
    """RD estimates at placebo cutoffs (default: the median of each side)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if placebos is None:
        placebos = [float(np.median(x[x < cutoff])), float(np.median(x[x >= cutoff]))]
    sw = rd_kw.pop("sample_weight", None)
    rows = []
    for pc in placebos:
        side = (x < cutoff) if pc < cutoff else (x >= cutoff)
        try:
            res = rd_estimate(x[side], y[side], pc, **rd_kw,
                              sample_weight=None if sw is None else np.asarray(sw)[side])
            rows.append(_row(res, cutoff=pc))
        except Exception as err:  # a placebo too close to an edge: report, do not fail
            rows.append({"cutoff": pc, "error": str(err)})
    return pd.DataFrame(rows)


def covariate_continuity(x: np.ndarray, covariates: pd.DataFrame, cutoff: float,
                         **rd_kw: Any) -> pd.DataFrame:
    """RD estimate of the jump of each predetermined covariate at the cutoff."""
    rows = [_row(rd_estimate(x, covariates[c].to_numpy(dtype=float), cutoff, **rd_kw),
                 covariate=c) for c in covariates.columns]
    return pd.DataFrame(rows)


def bandwidth_sensitivity(x: np.ndarray, y: np.ndarray, cutoff: float, h: float | tuple,
                          b: float | tuple | None = None,
                          multiples: Sequence[float] = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0),
                          **rd_kw: Any) -> pd.DataFrame:
    """Estimates over multiples of the bandwidth ``h`` (and ``b``, default ``b = h``)."""
    h_pair = np.broadcast_to(np.asarray(h, dtype=float), (2,))
    b_pair = h_pair if b is None else np.broadcast_to(np.asarray(b, dtype=float), (2,))
    rows = []
    for k in multiples:
        res = rd_estimate(x, y, cutoff, h=tuple(k * h_pair), b=tuple(k * b_pair), **rd_kw)
        rows.append(_row(res, multiple=k, h=float(k * h_pair[0])))
    return pd.DataFrame(rows)
