"""Assignment: deterministic hash bucketing with a salt, traffic allocation, blocked randomization.

* :func:`assign` maps each unit id to an arm with a salted SHA-256 hash, so the
  same user always sees the same arm (no assignment table to store), different
  experiments (salts) are independent, and the traffic fraction is decided by
  a second, independent hash: ramping traffic up only adds units, it never
  moves an included unit to another arm.
* :func:`block_randomize` randomizes a user table within strata (blocks) so
  each stratum is split in the intended proportions up to one unit.

Example
-------
>>> assign(["u1", "u2", "u3"], salt="exp-42").tolist() == assign(["u1", "u2", "u3"], salt="exp-42").tolist()
True
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..validation import require_columns


def hash_unit(ids: Iterable[Any], salt: str = "") -> np.ndarray:
    """Uniform numbers in [0, 1) from ``sha256(salt + ":" + str(id))`` (first 8 bytes).

    >>> float(hash_unit(["a"], "s")[0]) == float(hash_unit(["a"], "s")[0])
    True
    """
    prefix = f"{salt}:".encode()
    out = np.fromiter(
        (int.from_bytes(hashlib.sha256(prefix + str(i).encode()).digest()[:8], "big")
         for i in ids), dtype=np.uint64)
    return (out >> np.uint64(11)).astype(float) / float(2 ** 53)


def _weights(variants: Sequence[Any], weights: Sequence[float] | None) -> np.ndarray:
    if len(variants) < 2:
        raise OptionError("give at least two variants")
    w = np.ones(len(variants)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(variants),) or np.any(w <= 0):
        raise OptionError(f"weights must be {len(variants)} positive numbers, got {weights!r}")
    return w / w.sum()


def assign(ids: Iterable[Any], variants: Sequence[Any] = ("control", "treatment"),
           weights: Sequence[float] | None = None, salt: str = "", traffic: float = 1.0,
           excluded: Any = None) -> np.ndarray:
    """Arm of each unit id by salted hash bucketing; ``excluded`` for units outside ``traffic``.

    Parameters
    ----------
    ids
        Unit identifiers (anything with a stable ``str``).
    variants, weights
        Arm labels and their allocation weights (equal by default).
    salt
        Experiment-specific salt: a new salt reshuffles everyone independently.
    traffic
        Fraction of units entering the experiment, in (0, 1].
    """
    if not 0 < traffic <= 1:
        raise OptionError(f"traffic must lie in (0, 1], got {traffic!r}")
    ids = list(ids)
    edges = np.cumsum(_weights(variants, weights))
    edges[-1] = 1.0
    u = hash_unit(ids, salt)
    arm = np.searchsorted(edges, u, side="right")
    labels = np.asarray(list(variants) + [excluded], dtype=object)
    if traffic < 1:
        outside = hash_unit(ids, f"{salt}:traffic") >= traffic
        arm = np.where(outside, len(variants), arm)
    return labels[arm]


def block_randomize(data: pd.DataFrame, strata: str | Sequence[str],
                    variants: Sequence[Any] = ("control", "treatment"),
                    weights: Sequence[float] | None = None,
                    random_state: int | np.random.Generator | None = None) -> pd.Series:
    """Stratified (blocked) randomization of the rows of ``data``.

    In each stratum the arm counts are the largest-remainder rounding of
    ``n_s * weights`` (the remainder units go to arms drawn at random), then the
    labels are permuted at random.

    >>> df = pd.DataFrame({"country": ["a"] * 4 + ["b"] * 6})
    >>> block_randomize(df, "country", random_state=0).groupby(df.country).value_counts().tolist()
    [2, 2, 3, 3]
    """
    cols = [strata] if isinstance(strata, str) else list(strata)
    require_columns(data, cols, role="strata")
    w = _weights(variants, weights)
    rng = np.random.default_rng(random_state)
    out = np.empty(len(data), dtype=np.intp)
    for idx in data.groupby(cols, sort=True, dropna=False).indices.values():
        n = len(idx)
        exact = n * w
        counts = np.floor(exact).astype(int)
        short = n - counts.sum()
        if short:
            frac = exact - counts
            extra = rng.choice(len(w), size=short, replace=False, p=frac / frac.sum())
            counts[extra] += 1
        out[idx] = rng.permutation(np.repeat(np.arange(len(w)), counts))
    labels = np.asarray(list(variants), dtype=object)
    return pd.Series(labels[out], index=data.index, name="variant")
