"""Kernel weights for local-polynomial regression discontinuity estimation.

Each kernel is supported on ``[-1, 1]``; the weight of an observation at
distance ``x - c`` from the cutoff with bandwidth ``h`` is ``K((x - c) / h) / h``.

Example
-------
>>> import numpy as np
>>> kernel_weights(np.array([0.0, 0.5, 1.5]), 1.0, "triangular").tolist()
[1.0, 0.5, 0.0]
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError

#: Aliases accepted for each kernel.
KERNELS: dict[str, str] = {
    "triangular": "triangular", "tri": "triangular",
    "epanechnikov": "epanechnikov", "epa": "epanechnikov",
    "uniform": "uniform", "uni": "uniform",
}

#: Rule-of-thumb constants of the pilot bandwidth (Calonico, Cattaneo & Titiunik 2014).
PILOT_CONSTANT: dict[str, float] = {"triangular": 2.576, "epanechnikov": 2.34, "uniform": 1.843}


def kernel_name(kernel: str) -> str:
    """Canonical kernel name, or :class:`OptionError` for an unknown one.

    >>> kernel_name("epa")
    'epanechnikov'
    """
    try:
        return KERNELS[str(kernel).lower()]
    except KeyError:
        raise OptionError(f"kernel must be triangular, epanechnikov or uniform, got {kernel!r}") \
            from None


def kernel_weights(dist: np.ndarray, h: float, kernel: str = "triangular") -> np.ndarray:
    """Weights ``K(dist / h) / h`` for distances ``dist`` from the cutoff.

    >>> kernel_weights(np.array([0.2]), 0.5, "uniform").tolist()
    [1.0]
    """
    u = np.asarray(dist, dtype=float) / h
    a = np.abs(u)
    name = kernel_name(kernel)
    if name == "triangular":
        k = np.where(a <= 1, 1.0 - a, 0.0)
    elif name == "epanechnikov":
        k = np.where(a <= 1, 0.75 * (1.0 - u * u), 0.0)
    else:
        k = np.where(a <= 1, 0.5, 0.0)
    return k / h
