"""Shared pieces of the kernels: compile flags, random numbers, seeds, validation.

Shared pieces of the kernels: compile flags, the SplitMix64 generator, seeds, and the
validation every wrapper runs before a kernel sees an array (see :mod:`lagnest.kernels`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lagnest.errors import LagnestDataError

__all__ = [
    "JIT_OPTIONS",
    "PARALLEL_JIT_OPTIONS",
    "as_codes",
    "as_index",
    "check_blocks",
    "check_lag",
    "check_units",
    "permutation_seeds",
    "replicate_rows",
    "replicate_seeds",
]

#: Compile flags for every kernel, kept in one place.
JIT_OPTIONS: dict[str, bool] = {"cache": True, "nogil": True, "fastmath": False}
#: Compile flags for kernels that run ``prange`` loops.
PARALLEL_JIT_OPTIONS: dict[str, bool] = {**JIT_OPTIONS, "parallel": True}

_SM_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SM_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_SM_MUL2 = np.uint64(0x94D049BB133111EB)
_SHIFT30 = np.uint64(30)
_SHIFT27 = np.uint64(27)
_SHIFT31 = np.uint64(31)
_SHIFT11 = np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0


# --------------------------------------------------------------------------- kernels


@njit(**JIT_OPTIONS)
def _splitmix64(state):
    """Advance a SplitMix64 state; return ``(new_state, random uint64)``."""
    state = state + _SM_GAMMA
    z = state
    z = (z ^ (z >> _SHIFT30)) * _SM_MUL1
    z = (z ^ (z >> _SHIFT27)) * _SM_MUL2
    return state, z ^ (z >> _SHIFT31)


@njit(**JIT_OPTIONS)
def _randbelow(state, n):
    """Return ``(new_state, r)`` with ``r`` uniform on ``0..n-1`` (53-bit resolution)."""
    state, z = _splitmix64(state)
    r = np.int64(np.float64(z >> _SHIFT11) * _INV_2_53 * n)
    if r >= n:
        r = n - 1
    return state, r


@njit(**JIT_OPTIONS)
def _pair_range(start, end, lag):
    """Range of given positions ``t`` with ``t`` and ``t + lag`` inside ``[start, end)``."""
    lo = start if lag >= 0 else start - lag
    hi = end - lag if lag >= 0 else end
    return lo, hi


# --------------------------------------------------------------------------- validation


def as_codes(name: str, codes: np.ndarray, ndim: int = 1) -> np.ndarray:
    """Return ``codes`` as a contiguous integer array of ``ndim`` dims, or raise TypeError."""
    if not isinstance(codes, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(codes).__name__}")
    if codes.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {codes.shape}")
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype, got {codes.dtype}")
    return np.ascontiguousarray(codes)


def as_index(name: str, values: np.ndarray) -> np.ndarray:
    """Return ``values`` as a contiguous 1-d int64 array."""
    arr = as_codes(name, np.asarray(values), 1)
    return arr.astype(np.int64, copy=False)


def check_blocks(block_offsets: np.ndarray, n_segments: int,
                  name: str = "block_offsets") -> np.ndarray:
    """Validate block (or session) offsets: start 0, end ``n_segments``, non-decreasing."""
    offsets = as_index(name, block_offsets)
    if offsets.size == 0 or offsets[0] != 0 or offsets[-1] != n_segments:
        raise ValueError(
            f"{name} must start at 0 and end at the number of segments ({n_segments})"
        )
    if np.any(np.diff(offsets) < 0):
        raise ValueError(f"{name} must be non-decreasing")
    return offsets


def check_units(block_unit: np.ndarray, n_blocks: int, n_units: int) -> np.ndarray:
    """Validate the block-to-unit map."""
    unit = as_index("block_unit", block_unit)
    if unit.shape[0] != n_blocks:
        raise ValueError(f"block_unit must have one entry per block ({n_blocks}), got {unit.size}")
    if n_blocks and (unit.min() < 0 or unit.max() >= n_units):
        raise ValueError(f"block_unit values must lie in 0..{n_units - 1}")
    return unit


#: Largest |lag| or window the wrappers accept: far beyond any session (segment offsets are
#: int64), so that ``t + lag`` cannot overflow inside a kernel.
_MAX_LAG = 2**62


def check_lag(lag: int, window: int | None) -> tuple[int, int]:
    """Normalise ``(lag, window)``; window mode counts t+1..t+W and needs lag 1."""
    if isinstance(lag, bool) or not isinstance(lag, int | np.integer):
        raise LagnestDataError(f"lag must be an integer, got {lag!r}")
    if not -_MAX_LAG <= lag <= _MAX_LAG:
        raise LagnestDataError(f"lag must lie within +-{_MAX_LAG:,} (longer than any session "
                               f"could be), got {lag}")
    if window is None:
        return int(lag), 0
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise LagnestDataError(f"window must be a positive integer, got {window!r}")
    if window > _MAX_LAG:
        raise LagnestDataError(f"window must be at most {_MAX_LAG:,}, got {window}")
    if lag != 1:
        raise LagnestDataError("give either lag or window, not both (window counts t+1..t+W)")
    return 1, int(window)


def _raise_if_bad(bad: int, what: str) -> None:
    """Raise when a kernel met codes outside the declared range."""
    if bad:
        raise ValueError(f"{bad} {what} code(s) lie outside the declared number of codes")


def permutation_seeds(seed: int | None, n: int) -> np.ndarray:
    """``n`` independent uint64 seeds derived from ``seed`` (:class:`numpy.random.SeedSequence`)."""
    return np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64)


def _check_code_range(given: np.ndarray, n_given: int, target: np.ndarray, n_target: int) -> None:
    """Raise when a code is at or above the declared number of codes."""
    if given.size and (given.max() >= n_given or target.max() >= n_target):
        raise ValueError("given or target codes lie outside the declared number of codes")


@njit(**JIT_OPTIONS)
def _uniform(state):
    """Return ``(new_state, u)`` with ``u`` uniform on [0, 1) (53-bit resolution)."""
    state, z = _splitmix64(state)
    return state, np.float64(z >> _SHIFT11) * _INV_2_53


def _code_dtype(n_codes: int) -> type[np.signedinteger]:
    """Smallest signed dtype holding codes ``0..n_codes-1`` and -1 (int8 up to 127 codes)."""
    if n_codes <= np.iinfo(np.int8).max:
        return np.int8
    if n_codes <= np.iinfo(np.int16).max:
        return np.int16
    raise LagnestDataError(f"at most {np.iinfo(np.int16).max} codes can be replicated, "
                           f"got {n_codes}")


def replicate_seeds(seed: int | np.ndarray, n: int) -> np.ndarray:
    """One uint64 seed per replicate: ``seed`` expanded by SeedSequence, or checked as given.

    Parameters
    ----------
    seed : int or ndarray of uint64
        An integer (expanded with :func:`permutation_seeds`) or ``n`` ready-made seeds.
    n : int
        Number of replicates.

    Returns
    -------
    ndarray of uint64, shape (n,)
    """
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        return permutation_seeds(int(seed), n)
    if seed is None:
        raise LagnestDataError("seed must be an integer or an array of seeds, not None")
    arr = np.asarray(seed)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise LagnestDataError(
            f"seeds must be {n} integers (one per replicate), got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr.astype(np.uint64))


def replicate_rows(codes: np.ndarray) -> tuple[np.ndarray, bool]:
    """Codes as contiguous (D, n) rows; flag whether the input was one sequence."""
    if isinstance(codes, np.ndarray) and codes.ndim == 1:
        return as_codes("codes", codes)[None, :], True
    return as_codes("codes", codes, 2), False


def _block_units(block_unit, offsets: np.ndarray, n_units: int) -> tuple[np.ndarray, int]:
    """Validated block-to-unit map (all zeros when None)."""
    n_blocks = offsets.size - 1
    if block_unit is None:
        return np.zeros(n_blocks, dtype=np.int64), 1
    return check_units(block_unit, n_blocks, n_units), n_units
