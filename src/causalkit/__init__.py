"""causalkit: causal inference from DAG to estimate, with honest inference.

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(1)
>>> x = rng.normal(size=500)
>>> t = rng.integers(0, 2, 500)
>>> df = pd.DataFrame({"t": t, "x": x, "y": 1.0 * t + x + rng.normal(size=500)})
>>> eff = causalkit.estimate(df, "t", "y", method="regression_adjustment", covariates=["x"])
>>> bool(eff.ci_low < 1.0 < eff.ci_high)
True
"""

from .api import dose_response, estimate
from .effect import Effect, effects_to_frame
from .errors import CausalKitError
from .registry import available, get, register, weighted_methods
from .sensitivity import refute
from .tables import table

__all__ = [
    "CausalKitError",
    "Effect",
    "available",
    "dose_response",
    "effects_to_frame",
    "estimate",
    "get",
    "refute",
    "register",
    "weighted_methods",
    "table",
]

__version__ = "0.1.0"
