"""Compiled inner loop of the exact depth-2 policy-tree search (numba, a dependency of econml).

For one root feature and one child feature, :func:`children_rewards` scans every root
split position ``k`` and, for each, the child feature's sorted order once, keeping the
running sum of the scores on each side of the root split: ``O(n^2)`` simple steps per
pair of features, no ``n x n`` matrix.  Compiled functions are cached on disk.

>>> import numpy as np
>>> rank = np.array([0, 1, 2, 3]); xs = np.array([0.0, 1.0, 2.0, 3.0])
>>> psi = np.array([1.0, -2.0, 3.0, -1.0])
>>> bl, br = children_rewards(np.array([1]), rank, xs, psi, 1)
>>> float(bl[0]), float(br[0])            # left {0, 1}: treat 0; right {2, 3}: treat 2
(1.0, 3.0)
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def children_rewards(roots: np.ndarray, rank: np.ndarray, xs: np.ndarray, psi: np.ndarray,
                     min_leaf: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Best depth-1 reward on each side of every root split, along one child feature.

    ``roots`` are root positions (the left side holds the units of root rank ``<= k``),
    ``rank``, ``xs`` and ``psi`` the units' root ranks, child-feature values and scores,
    all in the child feature's sorted order.  A child split lies between distinct
    values of ``xs`` and leaves at least ``min_leaf`` units on each of its sides; a side
    may also stay one leaf (reward ``max(sum, 0)``).
    """
    n = xs.size
    best_left = np.empty(roots.size)
    best_right = np.empty(roots.size)
    total = 0.0
    for m in range(n):
        total += psi[m]
    for r in range(roots.size):
        k = roots[r]
        left_total = 0.0
        left_size = 0
        for m in range(n):
            if rank[m] <= k:
                left_total += psi[m]
                left_size += 1
        right_total = total - left_total
        right_size = n - left_size
        bl = max(left_total, 0.0)
        br = max(right_total, 0.0)
        lc = 0.0
        ls = 0
        rc = 0.0
        rs = 0
        for m in range(n - 1):
            if rank[m] <= k:
                lc += psi[m]
                ls += 1
            else:
                rc += psi[m]
                rs += 1
            if xs[m] < xs[m + 1]:
                if ls >= min_leaf and left_size - ls >= min_leaf:
                    v = max(lc, 0.0) + max(left_total - lc, 0.0)
                    if v > bl:
                        bl = v
                if rs >= min_leaf and right_size - rs >= min_leaf:
                    v = max(rc, 0.0) + max(right_total - rc, 0.0)
                    if v > br:
                        br = v
        best_left[r] = bl
        best_right[r] = br
    return best_left, best_right
