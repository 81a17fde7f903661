"""Panels of predictive checks.

Panels of predictive checks: the replicated distribution of each statistic with the
observed value marked and its two-sided predictive p-value, labelled "ppp" (posterior, or
prior, predictive p; a bare "p" is kept for classical p-values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from lagnest._lang import check_lang, group_word, translate
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from lagnest.viz.plots._common import _POSITIVE, _check_alpha, _panel_axes

__all__ = [
    "Panels",
    "ppc_panels",
]



# =========================================================================== checks


class Panels(NamedTuple):
    """What :func:`ppc_panels` drew.

    Attributes
    ----------
    figure : Figure
    ax : ndarray of Axes
        One panel per statistic (or element).
    titles : list of str
        Statistic (and element) of each panel.
    flagged : list of bool
        Whether each panel's observed value is flagged (two-sided ppp < alpha).
    """

    figure: Figure
    ax: Any
    titles: list[str]
    flagged: list[bool]


def _constant(values: np.ndarray) -> bool:
    """Whether finite values are equal up to rounding (a histogram would have no range)."""
    return bool(np.ptp(values) <= 1e-9 * max(1.0, float(np.abs(values).max())))


def ppc_panels(
    check: Any,
    stats: Sequence[str] | None = None,
    ax: Any = None,
    *,
    alpha: float = 0.01,
    max_panels: int = 24,
    bins: int = 30,
    lang: str = "en",
) -> Panels:
    """Histogram of each replicated statistic with the observed value marked.

    Each panel's title gives the statistic and its two-sided predictive p-value as
    "ppp" (the ``ppp_two_sided`` column of
    :meth:`lagnest.checks.ppc.PredictiveCheck.summary`).

    Parameters
    ----------
    check : lagnest.checks.ppc.PredictiveCheck
        A predictive check.
    stats : sequence of str, optional
        Statistics to draw (default: the scalar ones, then per-code ones, up to
        ``max_panels`` panels).
    ax : ndarray of Axes, optional
        Axes to draw into (exactly as many as panels).
    alpha : float, default 0.01
        Two-sided level at which a panel is marked as flagged (red observed line).
    max_panels : int, default 24
        Most panels drawn.
    bins : int, default 30
        Histogram bins.
    lang : {"en", "es"}, default "en"
        Language of the figure's title.

    Returns
    -------
    Panels
    """
    _check_alpha(alpha)
    lang = check_lang(lang)
    names = list(stats) if stats is not None else sorted(
        check.statistics, key=lambda n: (check.observed[n].ndim, n))
    omitted = dict(getattr(check, "omitted", {}) or {})
    left_out = [n for n in names if n in omitted]
    if left_out:
        raise LagnestDataError("not checked, the corpus cannot give them: " + "; ".join(
            f"{n} ({omitted[n]})" for n in left_out) + f"; checked: {check.statistics}")
    unknown = [n for n in names if n not in check.statistics]
    if unknown:
        raise LagnestDataError(f"unknown statistics {unknown}; checked: {check.statistics}")
    two = check.two_sided()
    panels: list[tuple[str, Any, Any, float]] = []
    for name in names:
        if len(panels) == max_panels:
            break
        obs = check.observed[name]
        # arrays once per statistic, the replicate axis last (indexing xarray per element
        # cost a second per figure); no more elements read than panels drawn
        observed = np.asarray(obs.values, dtype=float)
        replicated = check.replicated[name].transpose(*obs.dims, ...).values
        p_two = two[name].transpose(*obs.dims).values
        coords = [obs[d].values for d in obs.dims]
        for index in np.ndindex(obs.shape):
            if len(panels) == max_panels:
                break
            rep, value = replicated[index], float(observed[index])
            if not np.isfinite(value) or not np.isfinite(rep).any():
                continue
            finite = rep[np.isfinite(rep)]
            if _constant(np.append(finite, value)):
                continue  # constant by construction (a correlation's diagonal): no check
            label = ", ".join(f"{c[i]}" for c, i in zip(coords, index, strict=True))
            panels.append((f"{name}" + (f" [{label}]" if label else ""), rep, value,
                           float(p_two[index])))
    if not panels:
        raise LagnestDataError("nothing to draw: every selected statistic is undefined")
    fig, axes, flat = _panel_axes(ax, len(panels), (3.0, 2.2))
    flags = []
    for axis, (title, rep, obs, p2) in zip(flat, panels, strict=False):
        rep = rep[np.isfinite(rep)]
        # one filled outline per panel, not a patch per bar (24 panels x 30 bars made the
        # report's slowest figure)
        axis.hist(rep, bins=1 if _constant(rep) else bins, histtype="stepfilled",
                  facecolor="0.75", edgecolor="0.55", linewidth=0.5)
        flagged = p2 < alpha
        flags.append(flagged)
        axis.axvline(obs, color=_POSITIVE if flagged else "k", linewidth=2)
        axis.set_title(f"{title}\nppp = {p2:.3f}", fontsize=8,
                       color=_POSITIVE if flagged else "k")
        axis.tick_params(labelsize=7)
        axis.set_yticks([])
    fig.suptitle(translate("ppc.suptitle", lang, Group=check.group.capitalize(),
                           group=check.group, model=check.model, alpha=f"{alpha:g}",
                           group_es=group_word(check.group, lang)), fontsize=10)
    return Panels(fig, axes, [p[0] for p in panels], flags)
