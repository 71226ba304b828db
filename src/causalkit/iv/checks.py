"""Checks that instruments can identify an effect at all.

An instrument identical to the treatment (the same column, or the same values
up to the covariates) turns IV into OLS and the exclusion restriction into
"the treatment is exogenous"; an instrument with exactly no partial
correlation with the treatment identifies nothing.  Both are errors; a merely
weak instrument gets a warning and the Anderson–Rubin set instead.

Example
-------
>>> import numpy as np
>>> d = np.arange(10.0)
>>> try:
...     check_instruments(d, d[:, None] * 2.0, None, "d", ["z"])
... except RoleError as err:
...     print(type(err).__name__)
RoleError
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import NotIdentifiableError, RoleError
from ..linear import equilibrate
from .first_stage import partial_out

_TOL = 1e-10


def check_instruments(d: np.ndarray, Z: np.ndarray, W: np.ndarray | None, treatment: str,
                      instruments: Sequence[str]) -> float:
    """Raise if ``Z`` duplicates ``d`` or is uncorrelated with it; return the partial R²."""
    dt, Zt = partial_out(W, d, np.asarray(Z, dtype=float).reshape(len(d), -1))
    names = ", ".join(repr(z) for z in instruments)
    tss = float(dt @ dt)
    for j, name in enumerate(instruments):
        zz = float(Zt[:, j] @ Zt[:, j])
        if zz <= _TOL * float(np.sum(Z[:, j] ** 2)):           # relative: scale-free
            raise NotIdentifiableError(
                f"instrument {name!r} is constant (or a combination of the covariates); "
                "it cannot move the treatment")
        corr2 = float(Zt[:, j] @ dt) ** 2 / (zz * tss) if tss > 0 else 0.0
        if corr2 > 1 - _TOL:
            raise RoleError(
                f"instrument {name!r} is identical to the treatment {treatment!r} (up to scale "
                "and the covariates): IV would reduce to OLS, and the instrument's exclusion "
                "restriction would be the same as assuming the treatment exogenous; use a "
                "different instrument")
    Zs = equilibrate(Zt)[0]
    coef = np.linalg.lstsq(Zs, dt, rcond=None)[0]
    e = dt - Zs @ coef
    r2 = 1.0 - float(e @ e) / tss if tss > 0 else 0.0
    if r2 < _TOL:
        raise NotIdentifiableError(
            f"the instrument(s) {names} are uncorrelated with the treatment {treatment!r} "
            f"(first-stage partial R² = {r2:.2e}): the effect is not identified")
    return r2
