"""Stream values and label helpers shared by the container and every reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

UNCODED = -1


@dataclass(frozen=True)
class StreamData:
    """Values of one stream: ``kind``, its ``codes`` and the integer ``values``.

    Categorical values are ``(n_segments,)`` code indices; indicator values are
    ``(n_segments, len(codes))`` of 0/1; ``-1`` marks an uncoded segment in both.
    """

    kind: str
    codes: tuple[str, ...]
    values: np.ndarray
    derived: bool = False


def readonly(array: np.ndarray, dtype: Any) -> np.ndarray:
    """Return a contiguous read-only copy of ``array`` with ``dtype``."""
    out = np.ascontiguousarray(array, dtype=dtype).copy()
    out.flags.writeable = False
    return out


def natural_key(label: str) -> tuple:
    """Sort numeric labels numerically, then others alphabetically."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def label_of(value: Any) -> str:
    """Normalise a key or code value to its string label (``2.0`` -> ``"2"``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    return str(value)
