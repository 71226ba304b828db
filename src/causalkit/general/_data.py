"""Validation shared by the mediator estimators of this family."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import RoleError
from ..validation import PreparedData, as_column_list, check_frame, prepare


def prepare_mediated(data: Any, treatment: str, outcome: str, mediators: Any,
                     covariates: Sequence[str] | None, weights: Any = None
                     ) -> tuple[PreparedData, np.ndarray, list]:
    """Prepared treatment/outcome/covariates (and sampling weights, ``d.w``) and the
    mediator matrix (named in errors)."""
    meds = as_column_list(mediators)
    if not meds:
        raise RoleError("mediators= names no column; give the mediator column(s)")
    covs = as_column_list(covariates)
    d = prepare(data, treatment, outcome, covs, weights=weights)
    check_frame(d.frame, roles={"mediators": meds})
    clash = set(meds) & ({treatment, outcome, weights} | set(covs))
    if clash:
        raise RoleError(f"{sorted(clash)} cannot be both a mediator and the treatment, outcome "
                        "or a covariate")
    return d, d.frame[meds].to_numpy(dtype=float), meds
