"""Runs of codes per unit: how many, how long, the longest.

Runs of codes (how many, how long, the longest) per unit, for one sequence or a batch of
replicates.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lagnest.kernels._common import (
    PARALLEL_JIT_OPTIONS,
    _block_units,
    _raise_if_bad,
    check_blocks,
    replicate_rows,
)

__all__ = [
    "run_lengths",
]


@njit(**PARALLEL_JIT_OPTIONS)
def _run_lengths_kernel(codes, block_offsets, block_unit, n_runs, n_in_runs, longest, bad):
    """Runs of every code per replicate and unit; see :func:`run_lengths`.

    A run is a maximal stretch of one code inside a block; an uncoded segment, another
    code or the block end closes it. ``bad[d]`` counts codes at or above the code count.
    """
    n_blocks = block_offsets.shape[0] - 1
    n_codes = n_runs.shape[2]
    for d in prange(codes.shape[0]):
        row = codes[d]
        n_bad = 0
        for b in range(n_blocks):
            u = block_unit[b]
            end = block_offsets[b + 1]
            cur = -1
            length = 0
            for t in range(block_offsets[b], end + 1):
                x = np.int64(-1)
                if t < end:
                    x = np.int64(row[t])
                    if x >= n_codes:
                        n_bad += 1
                        x = -1
                if x >= 0 and x == cur:
                    length += 1
                    continue
                if cur >= 0:
                    n_runs[d, u, cur] += 1
                    n_in_runs[d, u, cur] += length
                    if length > longest[d, u, cur]:
                        longest[d, u, cur] = length
                cur = x
                length = 1
        bad[d] = n_bad


def run_lengths(
    codes: np.ndarray,
    block_offsets: np.ndarray,
    n_codes: int,
    block_unit: np.ndarray | None = None,
    n_units: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of every code: how many, how many segments in them, and the longest.

    Parameters
    ----------
    codes : ndarray of int, shape (n_segments,) or (D, n_segments)
        One sequence or a batch of replicates; negative = uncoded.
    block_offsets : ndarray of int, shape (n_blocks + 1,)
        Blocks; a run never crosses a block boundary.
    n_codes : int
        Number of codes K.
    block_unit : ndarray of int, shape (n_blocks,), optional
        Unit (e.g. session) of each block; None = one unit.
    n_units : int, default 1
        Number of units.

    Returns
    -------
    n_runs, n_in_runs, longest : ndarray of int64, shape ([D,] n_units, K)
        Number of runs of each code, segments in those runs (= occurrences of the code)
        and the longest run (0 when the code does not occur). Pooled over units: sum,
        sum and max over the unit axis; mean run length = ``n_in_runs / n_runs``.

    Notes
    -----
    A run is a maximal stretch of consecutive segments of one code inside a block: an
    uncoded segment, another code or the end of the block closes it, so ``a a - a`` is
    two runs of ``a``.

    Examples
    --------
    >>> import numpy as np
    >>> n_runs, n_in, longest = run_lengths(np.array([0, 0, 1, 0, -1, 0]),
    ...                                     np.array([0, 6]), 2)
    >>> n_runs[0], n_in[0], longest[0]
    (array([3, 1]), array([4, 1]), array([2, 1]))
    """
    rows, single = replicate_rows(codes)
    offsets = check_blocks(block_offsets, rows.shape[1])
    unit, n_units = _block_units(block_unit, offsets, n_units)
    shape = (rows.shape[0], n_units, int(n_codes))
    n_runs = np.zeros(shape, dtype=np.int64)
    n_in = np.zeros(shape, dtype=np.int64)
    longest = np.zeros(shape, dtype=np.int64)
    bad = np.zeros(rows.shape[0], dtype=np.int64)
    _run_lengths_kernel(rows, offsets, unit, n_runs, n_in, longest, bad)
    _raise_if_bad(int(bad.sum()), "run")
    if single:
        return n_runs[0], n_in[0], longest[0]
    return n_runs, n_in, longest
