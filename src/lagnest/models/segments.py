"""Segment-level codes and nesting that a fit keeps for replicating whole sequences.

Predictive checks on order statistics (run lengths, second-order tables) replicate whole
sequences, which the sufficient statistics cannot do. A model therefore keeps, in its
result's ``fit_data``, the target codes (and given codes) of every segment with the
encoded nesting arrays: a few bytes per segment, so checks work on a result loaded from
disk without its corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["SegmentCodes"]

_NESTING = {"session_offsets": "session_edge", "block_offsets": "block_edge",
            "block_session": "block", "session_dyad": "session"}


def _small(codes: np.ndarray) -> np.ndarray:
    """Codes in the smallest signed dtype holding them (-1 = uncoded)."""
    top = int(codes.max(initial=0))
    dtype = np.int8 if top < 127 else np.int16 if top < 32767 else np.int64
    return np.ascontiguousarray(codes, dtype=dtype)


@dataclass(frozen=True)
class SegmentCodes:
    """Codes per segment and the nesting arrays (the kernel contract of ``ARCHITECTURE.md``).

    Attributes
    ----------
    target : ndarray of int, shape (n_segments,)
        Target codes, -1 = uncoded.
    given : ndarray of int or None
        Given codes (transition models with a given other than the target).
    session_offsets, block_offsets, block_session, session_dyad : ndarray of int64
        As in :class:`lagnest.data.sequences.Encoded`.
    """

    target: np.ndarray
    given: np.ndarray | None
    session_offsets: np.ndarray
    block_offsets: np.ndarray
    block_session: np.ndarray
    session_dyad: np.ndarray

    @classmethod
    def from_sequences(cls, seqs: Any, target: str, given: str | None = None) -> SegmentCodes:
        """Codes of ``target`` (and ``given``) from a corpus (see ``Sequences.categorical``)."""
        enc = seqs.encoded
        return cls(
            target=_small(seqs.categorical(target)[0]),
            given=None if given is None else _small(seqs.categorical(given)[0]),
            **{name: np.asarray(getattr(enc, name), dtype=np.int64) for name in _NESTING},
        )

    def to_dataset(self) -> xr.Dataset:
        """Variables ``segment_target`` (``segment_given``) and ``nesting_*``."""
        data: dict[str, Any] = {"segment_target": (("segment",), self.target)}
        if self.given is not None:
            data["segment_given"] = (("segment",), self.given)
        for name, dim in _NESTING.items():
            data[f"nesting_{name}"] = ((dim,), getattr(self, name))
        return xr.Dataset(data)

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> SegmentCodes | None:
        """Inverse of :meth:`to_dataset`; None when ``ds`` holds no segment codes."""
        if "segment_target" not in ds:
            return None
        given = ds["segment_given"].values if "segment_given" in ds else None
        return cls(
            target=np.asarray(ds["segment_target"].values),
            given=None if given is None else np.asarray(given),
            **{name: np.asarray(ds[f"nesting_{name}"].values, dtype=np.int64)
               for name in _NESTING},
        )
