"""Compiled per-group moment accumulation (numba): one thread, no BLAS, no row-sized temporaries.

:func:`accumulate_chunk` reduces one chunk of rows (a ``(k, m)`` buffer of the
chunk's columns and the rows' group codes) to per-group counts, means and
centred cross-products by the two-pass algorithm (means of the data shifted by
the chunk's first row, then products of deviations from them, with the
rounding correction of the second pass), and merges them into running totals
with the pairwise update of Chan, Golub & LeVeque (1979).

With few groups each group's sums are masked passes over the cached chunk
(``x if code == g else 0``), which the compiler vectorizes (re-association of
the sum is allowed; NaN and inf keep their meaning and stay in their group);
with many groups one scatter pass adds each row to its group.  The work is
plain loops in one thread, so its speed does not depend on a BLAS thread pool:
on a busy machine a multi-threaded BLAS call of a few hundred microseconds can
wait milliseconds for its threads, and a reduction made of thousands of them
slowed from tens of milliseconds to seconds.

>>> import numpy as np
>>> n, mean, com = np.zeros(2), np.zeros((2, 1)), np.zeros((2, 1, 1))
>>> accumulate_chunk(np.array([0, 0, 1, 1]), np.array([[1.0, 3.0, 5.0, 9.0]]), n, mean, com)
>>> n.tolist(), mean[:, 0].tolist(), com[:, 0, 0].tolist()
([2.0, 2.0], [2.0, 7.0], [2.0, 8.0])
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Up to this many groups, masked vectorized passes per group; beyond it, one scatter pass.
MASKED_MAX_GROUPS = 16

_SUM_FLAGS = {"reassoc", "contract"}     # vectorized sums; no assumption about NaN or inf


@njit(cache=True, nogil=True, fastmath=_SUM_FLAGS)
def _masked_sum(codes: np.ndarray, grp: int, a: np.ndarray, shift_a: float, mean_a: float,
                b: np.ndarray, shift_b: float, mean_b: float, product: bool) -> float:
    """``sum over rows of group grp`` of ``(a - shift_a - mean_a)`` times the same of ``b`` if ``product``."""
    s = 0.0
    if product:
        for i in range(codes.shape[0]):
            s += ((a[i] - shift_a - mean_a) * (b[i] - shift_b - mean_b)) if codes[i] == grp else 0.0
    else:
        for i in range(codes.shape[0]):
            s += (a[i] - shift_a - mean_a) if codes[i] == grp else 0.0
    return s


@njit(cache=True, nogil=True)
def _chunk_masked(codes: np.ndarray, x: np.ndarray, shift: np.ndarray, cnt: np.ndarray,
                  means: np.ndarray, resid: np.ndarray, com: np.ndarray) -> None:
    k = x.shape[0]
    for grp in range(cnt.shape[0]):
        c = 0
        for i in range(codes.shape[0]):
            c += 1 if codes[i] == grp else 0
        cnt[grp] = c
        if c == 0:
            continue
        for j in range(k):
            means[grp, j] = _masked_sum(codes, grp, x[j], shift[j], 0.0, x[j], 0.0, 0.0, False) / c
        for j in range(k):
            resid[grp, j] = _masked_sum(codes, grp, x[j], shift[j], means[grp, j],
                                        x[j], 0.0, 0.0, False)
            for l in range(j, k):
                com[grp, j, l] = _masked_sum(codes, grp, x[j], shift[j], means[grp, j],
                                             x[l], shift[l], means[grp, l], True)


@njit(cache=True, nogil=True)
def _chunk_scatter(codes: np.ndarray, x: np.ndarray, shift: np.ndarray, cnt: np.ndarray,
                   means: np.ndarray, resid: np.ndarray, com: np.ndarray) -> None:
    k, m = x.shape
    for i in range(m):
        grp = codes[i]
        cnt[grp] += 1.0
        for j in range(k):
            means[grp, j] += x[j, i] - shift[j]
    for grp in range(cnt.shape[0]):
        if cnt[grp] > 0:
            for j in range(k):
                means[grp, j] /= cnt[grp]
    dev = np.empty(k)
    for i in range(m):
        grp = codes[i]
        for j in range(k):
            dev[j] = x[j, i] - shift[j] - means[grp, j]
            resid[grp, j] += dev[j]
        for j in range(k):
            for l in range(j, k):
                com[grp, j, l] += dev[j] * dev[l]


@njit(cache=True, nogil=True)
def accumulate_chunk(codes: np.ndarray, x: np.ndarray, n: np.ndarray, mean: np.ndarray,
                     comoment: np.ndarray) -> None:
    """Merge the moments of one chunk (``x`` is ``(k, m)``, ``codes`` in ``[0, g)``) into the totals.

    ``n`` (g,), ``mean`` (g, k) and ``comoment`` (g, k, k) are updated in place.
    NaN and inf propagate into the groups whose rows hold them.
    """
    k, m = x.shape
    g = n.shape[0]
    for i in range(m):
        if codes[i] < 0 or codes[i] >= g:
            raise IndexError("group code out of range")
    shift = np.zeros(k)
    if m > 0:
        for j in range(k):
            shift[j] = x[j, 0]
    cnt, means = np.zeros(g), np.zeros((g, k))
    resid, com = np.zeros((g, k)), np.zeros((g, k, k))
    if g <= MASKED_MAX_GROUPS:
        _chunk_masked(codes, x, shift, cnt, means, resid, com)
    else:
        _chunk_scatter(codes, x, shift, cnt, means, resid, com)
    for grp in range(g):
        c = cnt[grp]
        if c == 0:
            continue
        for j in range(k):
            for l in range(j, k):
                com[grp, j, l] -= resid[grp, j] * resid[grp, l] / c
                com[grp, l, j] = com[grp, j, l]
        for j in range(k):
            means[grp, j] += resid[grp, j] / c + shift[j]      # corrected chunk mean
        if n[grp] == 0:
            n[grp] = c
            mean[grp] = means[grp]
            comoment[grp] = com[grp]
            continue
        total = n[grp] + c
        w = n[grp] * c / total
        for j in range(k):
            for l in range(k):
                comoment[grp, j, l] += com[grp, j, l] + \
                    (means[grp, j] - mean[grp, j]) * (means[grp, l] - mean[grp, l]) * w
        for j in range(k):
            mean[grp, j] += (means[grp, j] - mean[grp, j]) * c / total
        n[grp] = total
