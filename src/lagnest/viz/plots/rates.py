"""Rates of a code per session or per segment position, by dyad."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from lagnest.data.sequences import Sequences
from lagnest.classical.rates import code_rate_frame
from lagnest.viz.plots._common import _panel_axes

__all__ = [
    "Rates",
    "code_rates",
]



class Rates(NamedTuple):
    """What :func:`code_rates` drew.

    Attributes
    ----------
    figure : Figure
    ax : Axes or ndarray of Axes
    lines : dict of dyad -> Line2D
    pooled : list of Line2D
        The pooled-rate reference line(s), one per panel.
    data : pandas.DataFrame
        The rates drawn: ``dyad``, ``x`` (session order or segment position), ``count``
        (segments with the code), ``coded`` (coded segments), ``rate``; per session also
        ``session``.
    """

    figure: Figure
    ax: Any
    lines: dict[str, Line2D]
    pooled: list[Line2D]
    data: pd.DataFrame


# =========================================================================== code rates


def code_rates(
    seqs: Sequences,
    code: str,
    by: str = "session",
    ax: Any = None,
    *,
    panels: bool = False,
    legend: bool = True,
) -> Rates:
    """Rate of a code (share of coded segments) per dyad over sessions or segment position.

    Parameters
    ----------
    seqs : Sequences
        The corpus.
    code : str
        One code: an indicator (``"MIA4"``) or a code of a categorical stream
        (``"withdrawal"``).
    by : {"session", "segment"}, default "session"
        ``"session"``: the rate in each session against the session's order within its
        dyad; ``"segment"``: the rate at each segment number, over the dyad's sessions.
    ax : Axes or sequence of Axes, optional
        Where to draw (one Axes, or one per dyad with ``panels=True``).
    panels : bool, default False
        One panel per dyad (small multiples) instead of one panel with a legend.
    legend : bool, default True

    Returns
    -------
    Rates
        ``(figure, ax, lines, pooled, data)``; ``data`` holds the rates drawn.

    Notes
    -----
    The rate of a session is the code's occurrences over the session's coded segments
    (uncoded segments excluded), as in the ``rate_sd`` statistic of
    :mod:`lagnest.checks.sequence_stats`; the dashed reference line is the pooled rate over
    all coded segments of the corpus.

    Examples
    --------
    >>> import lagnest as ln
    >>> from lagnest.viz.plots import code_rates
    >>> fig, ax, lines, pooled, data = code_rates(ln.datasets.load_example(), "MIA4")
    """
    if by not in ("session", "segment"):
        raise LagnestDataError(f"by must be 'session' or 'segment', got {by!r}")
    data = code_rate_frame(seqs, code, by)
    total = data["coded"].sum()
    pooled_rate = data["count"].sum() / total if total else np.nan
    dyads = list(dict.fromkeys(data["dyad"]))
    import matplotlib

    colours = matplotlib.colormaps["tab10" if len(dyads) <= 10 else "tab20"]
    fig, ax_out, axes = _panel_axes(ax, len(dyads) if panels else 1, (3.4, 2.4)
                                    if panels else (6.4, 3.8), sharey=True)
    lines: dict[str, Any] = {}
    pooled_lines = []
    for i, dyad in enumerate(dyads):
        part = data[data["dyad"] == dyad]
        axis = axes[i] if panels else axes[0]
        (line,) = axis.plot(part["x"], part["rate"], marker="o", markersize=3.5,
                            linewidth=1.4, color=colours(i % colours.N), label=str(dyad))
        lines[str(dyad)] = line
        if panels:
            axis.set_title(f"dyad {dyad}", fontsize=9.5)
    xlabel = "session (order within dyad)" if by == "session" else "segment (position in session)"
    for axis in axes:
        pooled_lines.append(axis.axhline(pooled_rate, color="0.3", linestyle="--",
                                         linewidth=1.0, label="pooled rate", zorder=0))
        axis.set_xlabel(xlabel)
        axis.set_ylim(bottom=0)
        axis.xaxis.get_major_locator().set_params(integer=True)
        for spine in ("top", "right"):
            axis.spines[spine].set_visible(False)
    for axis in axes:
        spec = axis.get_subplotspec()
        if spec is None or spec.is_first_col():
            axis.set_ylabel(f"rate of {code}")
    if not panels and legend:
        axes[0].legend(title="dyad", fontsize=8, title_fontsize=8.5, frameon=False,
                       loc="upper left", bbox_to_anchor=(1.0, 1.0))
    title = (f"{code}: share of coded segments per session" if by == "session" else
             f"{code}: share of coded segments at each position, over each dyad's sessions")
    if ax is None:
        fig.suptitle(title, fontsize=10.5)
    return Rates(fig, ax_out, lines, pooled_lines, data)
