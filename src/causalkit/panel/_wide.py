"""A balanced panel as a units x periods outcome matrix with each unit's adoption period.

The synthetic-control methods work on the wide matrix ``Y`` (one row per unit,
one column per period, both sorted) and need a balanced panel, an absorbing
0/1 treatment, never-treated donors and pre-treatment periods; :func:`wide_panel`
checks all of it and says what is wrong with the numbers.  Private: used by
``synthetic_did`` and ``synthetic_control``.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"i": [1, 1, 1, 2, 2, 2, 3, 3, 3], "t": [1, 2, 3] * 3,
...                    "d": [0, 0, 1, 0, 0, 0, 0, 0, 0], "y": range(9)})
>>> wp = wide_panel(df, "y", "i", "t", "d", method="demo", min_pre=2, min_donors=2)
>>> wp.Y.shape, wp.adoption.tolist(), wp.cohorts
((3, 3), [2, -1, -1], [2])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, EmptyArmError, TooFewRowsError
from ..validation import binary_treatment
from ._panel import check_panel, cohort_from_treatment, require_treated_after_start


@dataclass(frozen=True)
class WidePanel:
    """Outcome matrix and design of a balanced panel.

    ``Y[i, t]`` is unit ``units[i]``'s outcome in period ``times[t]``;
    ``adoption[i]`` is the column index of unit i's first treated period, -1 for
    never-treated units; ``cohorts`` lists the distinct adoption indices.
    """

    Y: np.ndarray
    units: np.ndarray
    times: np.ndarray
    adoption: np.ndarray
    frame: pd.DataFrame

    def period(self, index: int) -> Any:
        """The label of period ``index`` as a plain Python value."""
        value = self.times[index]
        return value.item() if isinstance(value, np.generic) else value

    @property
    def cohorts(self) -> list[int]:
        return sorted(int(a) for a in np.unique(self.adoption[self.adoption >= 0]))

    @property
    def controls(self) -> np.ndarray:
        return np.flatnonzero(self.adoption < 0)

    @property
    def treated(self) -> np.ndarray:
        return np.flatnonzero(self.adoption >= 0)


def _balanced(frame: pd.DataFrame, unit: Any, time: Any, method: str) -> None:
    n_units, n_times = frame[unit].nunique(), frame[time].nunique()
    if len(frame) != n_units * n_times:
        per_unit = frame.groupby(unit, sort=True)[time].nunique()
        short = per_unit[per_unit < n_times]
        raise DataError(
            f"{method} needs a balanced panel, but {len(short)} of {n_units} units lack some "
            f"of the {n_times} periods (e.g. {unit}={short.index[0]!r} has "
            f"{int(short.iloc[0])}); {len(frame)} rows instead of {n_units * n_times}: drop "
            "those units or periods, or fill the missing outcomes")


def wide_panel(data: Any, outcome: Any, unit: Any, time: Any, treatment: Any, *,
               method: str, min_pre: int, min_donors: int) -> WidePanel:
    """Validate a long panel for a synthetic-control method and reshape it.

    Raises a :class:`~causalkit.errors.DataError` subclass for duplicate rows, an
    unbalanced panel, a non-binary treatment or one that switches off, units
    treated from the first period (no pre-period), no never-treated donor,
    fewer than ``min_donors`` donors or fewer than ``min_pre`` pre-treatment
    periods before some adoption, each naming the numbers.
    """
    frame = check_panel(data, outcome=outcome, unit=unit, time=time)
    if treatment in (outcome, unit, time):
        raise DataError(f"treatment column {treatment!r} is also used as another role")
    _balanced(frame, unit, time, method)
    cohort_from_treatment(frame, treatment, unit, time, absorbing=True,   # switching off
                          zero_is_never=False)
    d = binary_treatment(frame, treatment)
    require_treated_after_start(d == 1, f"column {treatment!r}")
    # first treated period per unit (not the 0-coded cohort: period 0 may be a real period)
    frame = frame.assign(__g=np.where(d == 1, frame[time].to_numpy(dtype=float), np.inf)
                         ).sort_values([unit, time], kind="mergesort")
    units = frame[unit].drop_duplicates().to_numpy()
    times = np.sort(frame[time].unique())
    Y = frame[outcome].to_numpy(dtype=float).reshape(len(units), len(times))
    first = frame.groupby(unit, sort=True)["__g"].min().to_numpy()
    adoption = np.where(np.isfinite(first), np.searchsorted(times, first), -1)
    if (adoption == 0).any():
        who = units[adoption == 0]
        raise TooFewRowsError(
            f"{method}: {len(who)} unit(s) are treated from the first period {times[0]!r} "
            f"(e.g. {unit}={who[0]!r}), so they have no pre-treatment period; drop them or "
            "extend the panel back in time")
    n_donors = int((adoption < 0).sum())
    if n_donors == 0:
        raise EmptyArmError(f"{method} needs never-treated units as donors (controls), but "
                            f"every unit is treated by the last period {times[-1]!r}")
    if n_donors < min_donors:
        raise TooFewRowsError(f"{method} needs at least {min_donors} never-treated donor "
                              f"units, the panel has {n_donors}")
    for a in np.unique(adoption[adoption >= 0]):
        if a < min_pre:
            raise TooFewRowsError(
                f"{method} needs at least {min_pre} pre-treatment periods, but units "
                f"adopting in {times[a]!r} have {int(a)}")
    return WidePanel(Y=Y, units=units, times=times, adoption=adoption.astype(int),
                     frame=frame.drop(columns="__g"))
