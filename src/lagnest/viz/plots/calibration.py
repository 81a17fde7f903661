"""Figures of calibration and design analysis.

Figures of calibration and design analysis: SBC rank histograms and ECDF differences,
and the design analysis's precision and detection against the number of dyads. The
numbers come from :meth:`lagnest.calibration.SBCResult.rank_histogram`,
:meth:`~lagnest.calibration.SBCResult.ecdf_difference` and
:meth:`lagnest.calibration.DesignAnalysis.summary`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from lagnest.viz.plots._common import _pyplot

__all__ = ["design_figure", "sbc_ecdf", "sbc_rank_histograms"]


def _panels(n: int, ncols: int) -> tuple[Any, list[Any]]:
    """A figure of ``n`` small panels, ``ncols`` per row (extra axes hidden)."""
    plt = _pyplot()
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 1.9 * nrows + 0.5),
                             squeeze=False, layout="constrained")
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def sbc_rank_histograms(histogram: xr.Dataset, ncols: int = 4) -> Any:
    """Rank histograms with the pointwise binomial band of uniform ranks.

    Parameters
    ----------
    histogram : xarray.Dataset
        From :meth:`lagnest.calibration.SBCResult.rank_histogram`.
    ncols : int, default 4
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n_bins = histogram.sizes["bin"]
    steps = np.arange(n_bins + 1)
    lo, hi = histogram["lower"].values, histogram["upper"].values
    fig, axes = _panels(histogram.sizes["parameter"], ncols)
    for ax, name in zip(axes, histogram["parameter"].values, strict=False):
        ax.fill_between(steps, np.append(lo, lo[-1]), np.append(hi, hi[-1]), step="post",
                        color="0.85", lw=0)
        ax.stairs(histogram["counts"].sel(parameter=name).values, steps, color="C0")
        ax.axhline(histogram.attrs["expected"], color="0.4", lw=0.8)
        ax.set_title(str(name), fontsize=8)
        ax.set_xticks([])
    fig.suptitle(f"SBC rank histograms ({histogram.attrs['n']} simulations, {n_bins} bins, "
                 f"{histogram.attrs['prob']:.0%} binomial band)", fontsize=10)
    return fig


def sbc_ecdf(ecdf: xr.Dataset, ncols: int = 4) -> Any:
    """ECDF-difference plots of SBC ranks with simultaneous bands.

    Parameters
    ----------
    ecdf : xarray.Dataset
        From :meth:`lagnest.calibration.SBCResult.ecdf_difference`.
    ncols : int, default 4
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = ecdf["x"].values
    fig, axes = _panels(ecdf.sizes["parameter"], ncols)
    for ax, name in zip(axes, ecdf["parameter"].values, strict=False):
        one = ecdf.sel(parameter=name)
        ax.fill_between(x, one["lower"].values, one["upper"].values, step="post",
                        color="0.85", lw=0)
        ax.step(x, one["difference"].values, where="post", color="C0")
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_title(str(name), fontsize=8)
    fig.suptitle(f"SBC ECDF difference ({ecdf.attrs['n']} simulations, "
                 f"{ecdf.attrs['ci_prob']:.0%} simultaneous band)", fontsize=10)
    return fig


def design_figure(analysis: Any) -> Any:
    """Interval width and probability of excluding zero against the number of dyads.

    One line per number of sessions (the first ``segments`` value); the width panel
    shows medians with interquartile bars, the probability panel 95% Clopper-Pearson
    intervals. The dyads axis has whole-number ticks.

    Parameters
    ----------
    analysis : lagnest.calibration.DesignAnalysis

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    table = analysis.summary().reset_index()
    table = table[table["segments"] == table["segments"].iloc[0]]
    fig, (ax_w, ax_p) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    for i, (s, sub) in enumerate(table.groupby("sessions")):
        x = sub["dyads"].to_numpy()
        yerr = [sub["width_median"] - sub["width_q25"], sub["width_q75"] - sub["width_median"]]
        ax_w.errorbar(x, sub["width_median"], yerr=yerr, marker="o", capsize=3,
                      color=f"C{i}", label=f"{s} sessions")
        perr = [sub["p_exclude"] - sub["p_lower"], sub["p_upper"] - sub["p_exclude"]]
        ax_p.errorbar(x, sub["p_exclude"], yerr=perr, marker="o", capsize=3, color=f"C{i}",
                      label=f"{s} sessions")
    e = analysis.effect
    pct = f"{analysis.ci_prob:.0%}"
    ax_w.set(xlabel="dyads", ylabel=f"median {pct} interval width",
             title=f"{e['given']} -> {e['target']}: precision")
    ax_p.set(xlabel="dyads", ylabel=f"P({pct} interval excludes 0)", ylim=(0, 1.02),
             title=f"log OR {e['log_odds']:g}: detection")
    ax_p.axhline(0.8, color="0.5", lw=0.8, ls="--")
    for ax in (ax_w, ax_p):  # numbers of dyads: whole numbers only
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_w.legend(fontsize=8)
    return fig
