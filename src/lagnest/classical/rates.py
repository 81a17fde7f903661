"""Rates of one code per session or per segment position, by dyad (for ``code_rates``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lagnest import kernels
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences

__all__ = ["code_rate_frame"]


def code_rate_frame(seqs: Sequences, code: str, by: str = "session") -> pd.DataFrame:
    """Occurrences and coded segments of one code per session or per (dyad, position).

    Parameters
    ----------
    seqs : Sequences
        The data.
    code : str
        One code: an indicator or a code of a categorical stream.
    by : {"session", "segment"}
        ``"session"``: one row per session (``x`` = the session's rank within its
        dyad); ``"segment"``: one row per dyad and segment number (``x``).

    Returns
    -------
    pandas.DataFrame
        Columns ``dyad``, (``session``,) ``x``, ``count`` (segments with the code),
        ``coded`` (coded segments) and ``rate`` (``count / coded``, NaN without coded
        segments).
    """
    if by not in ("session", "segment"):
        raise LagnestDataError(f"by must be 'session' or 'segment', got {by!r}")

    values, labels = seqs.categorical(code)
    if len(labels) != 2 or labels[1] != code:
        raise LagnestDataError(
            f"code must name one code (an indicator or a code of a categorical stream), got "
            f"{code!r} with codes {list(labels)}"
        )
    enc = seqs.encoded
    dyad_of_session = np.asarray(enc.session_dyad)
    if by == "session":
        _, n_in, _ = kernels.run_lengths(np.ascontiguousarray(values), enc.block_offsets, 2,
                                         enc.block_session, seqs.n_sessions)
        frame = pd.DataFrame({
            "dyad": [seqs.dyad_labels[d] for d in dyad_of_session],
            "session": list(seqs.session_labels),
            "count": n_in[:, 1],
            "coded": n_in.sum(axis=1),
        })
        frame["x"] = frame.groupby("dyad", sort=False).cumcount() + 1
    else:
        position = seqs.segments["segment"].to_numpy(dtype=np.int64)
        dyad = dyad_of_session[enc.segment_session]
        coded = values >= 0
        frame = (pd.DataFrame({"dyad": [seqs.dyad_labels[d] for d in dyad], "x": position,
                               "count": values == 1, "coded": coded})
                 .groupby(["dyad", "x"], sort=False)[["count", "coded"]].sum()
                 .reset_index().sort_values(["dyad", "x"], kind="stable"))
    frame["rate"] = frame["count"] / frame["coded"].where(frame["coded"] > 0)
    return frame.reset_index(drop=True)
