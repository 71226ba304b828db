"""Row blocks for passes over large arrays that keep their scratch space in cache.

A pass that needs a temporary the size of the data (centred covariates, their
squares, a weighted copy) runs block by block instead: the temporary is one
block (``BLOCK_ROWS`` rows, a few MB) reused for every block, so the data is
read once and nothing of size n x p is allocated.

>>> [(lo, hi) for lo, hi in row_blocks(10, 4)]
[(0, 4), (4, 8), (8, 10)]
"""

from __future__ import annotations

from typing import Iterator

#: Rows per block: 65,536 rows of 10 float64 columns are 5 MB.
BLOCK_ROWS = 65_536


def row_blocks(n: int, size: int = BLOCK_ROWS) -> Iterator[tuple[int, int]]:
    """``(lo, hi)`` bounds of consecutive blocks of at most ``size`` rows covering ``range(n)``."""
    for lo in range(0, n, size):
        yield lo, min(lo + size, n)
