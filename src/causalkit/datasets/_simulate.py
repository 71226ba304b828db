"""Private helpers shared by the synthetic generators."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
from scipy import integrate, special, stats

from ..errors import OptionError


def rng_from(seed: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed, a SeedSequence or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def check_size(n: int, minimum: int = 10, what: str = "n") -> int:
    """``n`` as an int, with an :class:`OptionError` if it is too small."""
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, (int, np.integer)) or n < minimum:
        raise OptionError(f"{what} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def check_finite(**values: float) -> None:
    """Raise :class:`OptionError` for a parameter that is not a finite number."""
    for name, value in values.items():
        if not isinstance(value, (int, float, np.floating, np.integer)) or not np.isfinite(value):
            raise OptionError(f"{name} must be a finite number, got {value!r}")


def bernoulli(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """Independent 0/1 draws with probabilities ``p``."""
    return (rng.random(np.shape(p)) < p).astype(np.int64)


def logistic_index_mean_x(scale: float) -> float:
    """``E[Z | T = 1] / scale**2`` for ``Z ~ N(0, scale**2)``, ``P(T=1|Z) = expit(Z)``.

    With a propensity score ``expit(a'X)``, ``X ~ N(0, I)`` and ``scale = |a|``,
    ``E[X_j | T = 1] = a_j * logistic_index_mean_x(|a|)`` (X_j is linear in the
    index given normality).  Computed by one-dimensional quadrature, so ATTs
    of linear effect modifiers are exact population values.
    """
    if scale == 0:
        return 0.0
    dens = stats.norm(scale=scale).pdf
    num = integrate.quad(lambda z: z * special.expit(z) * dens(z), -np.inf, np.inf)[0]
    den = integrate.quad(lambda z: special.expit(z) * dens(z), -np.inf, np.inf)[0]
    return float(num / den / scale**2)


def covariate_names(p: int, prefix: str = "x") -> list[str]:
    """``["x1", ..., "xp"]``."""
    return [f"{prefix}{j + 1}" for j in range(p)]


def edges_into(parents: Iterable[str], child: str) -> list[tuple[str, str]]:
    """Edges ``parent -> child`` for every parent."""
    return [(p, child) for p in parents]
