"""The Wald (indirect least squares) ratio of a just-identified IV and its gradient.

With one instrument the IV estimand is the reduced-form effect divided by the
first-stage effect; its delta-method variance uses the gradient
``(1 / den, -num / den**2)``.  A fuzzy RD is exactly this ratio of the jumps
in the outcome and in the treatment at the cutoff.

Example
-------
>>> wald_ratio(1.0, 0.5), ratio_gradient(1.0, 0.5).tolist()
(2.0, [2.0, -4.0])
"""

from __future__ import annotations

import numpy as np

from ..errors import NotIdentifiableError


def wald_ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; :class:`NotIdentifiableError` if the denominator is 0."""
    if denominator == 0 or not np.isfinite(denominator):
        raise NotIdentifiableError(
            "the first stage (effect of the instrument on the treatment) is zero: the IV "
            "ratio is not identified")
    return float(numerator) / float(denominator)


def ratio_gradient(numerator: float, denominator: float) -> np.ndarray:
    """Gradient of ``numerator / denominator`` with respect to (numerator, denominator)."""
    return np.array([1.0 / denominator, -numerator / denominator ** 2])
