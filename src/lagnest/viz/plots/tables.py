"""Heatmaps of lag tables.

Heatmaps of lag tables: one cell per (given, target), coloured by a statistic and
annotated with counts and significance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import xarray as xr

from lagnest._lang import check_lang, code_label, code_labels, column_name, translate
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from matplotlib.colorbar import Colorbar
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage
    from matplotlib.patches import Rectangle

from lagnest.viz.plots._common import (
    _PREFIX,
    DIVERGING,
    PVALUE_GID,
    _check_alpha,
    _check_table,
    _critical,
    _grid,
    _lead_dims,
    _name,
    _panel_axes,
    _select_units,
    _significant,
    _structural_mask,
    _text_colour,
)

__all__ = [
    "Heatmap",
    "lag_table_heatmap",
]



class Heatmap(NamedTuple):
    """What :func:`lag_table_heatmap` drew.

    Attributes
    ----------
    figure : Figure
    ax : Axes or ndarray of Axes
        One Axes, or an array of Axes (one per panel) for small multiples.
    images : list of AxesImage
        One image per panel.
    significant : list of Rectangle
        The bold borders marking significant cells (all panels).
    structural_zeros : list of Rectangle
        The hatched structural-zero cells (all panels).
    colorbar : Colorbar or None
    """

    figure: Figure
    ax: Any
    images: list[AxesImage]
    significant: list[Rectangle]
    structural_zeros: list[Rectangle]
    colorbar: Colorbar | None


# =========================================================================== heatmap


def lag_table_heatmap(
    table: xr.Dataset,
    ax: Any = None,
    value: str = "adj_resid",
    alpha: float = 0.05,
    annotate: bool | Sequence[str] = True,
    cmap: Any = None,
    *,
    unit: str | Sequence[str] | None = None,
    structural_zeros: Any = "auto",
    vmax: float | None = None,
    colorbar: bool = True,
    lang: str = "en",
    codebook: Any = None,
) -> Heatmap:
    """Heatmap of a lag table: given codes on rows, target codes on columns.

    Parameters
    ----------
    table : xarray.Dataset
        A lag table from :func:`lagnest.classical.lagtable.lag_table` (or
        :func:`lagnest.classical.statistics.table_statistics`).
    ax : Axes or sequence of Axes, optional
        Where to draw (one Axes per panel); default a new figure.
    value : str, default "adj_resid"
        Cell variable coloured. ``adj_resid``, ``yules_q``, ``log_odds`` and ``phi`` use a
        diverging colour scale centred at 0; others (``trans_prob``, ``counts``) a
        sequential one from 0.
    alpha : float, default 0.05
        Cells whose adjusted residual is significant at ``alpha`` (two-sided; the table's
        ``p_adj_resid`` when present, otherwise :math:`|z|` above the normal critical value) get a
        bold border and an asterisk.
    annotate : bool or sequence of str, default True
        Text in each cell: True shows ``value``, the count (``n=``) and the transitional
        probability P(target | given) (``prob=``; "p" is kept for p-values); a sequence
        names the variables to show; False shows none.
    cmap : str or Colormap, optional
        Default ``"RdBu_r"`` (diverging) or ``"Blues"`` (sequential).
    unit : str or sequence of str, optional
        With a ``unit`` dim (``by="session"`` or ``"dyad"``): one unit (one panel) or
        several (small multiples). Default: every unit, the pooled table included. Any
        single leading dim (``unit`` or ``indicator``) gives small multiples.
    structural_zeros : "auto" or structural-zero spec, default "auto"
        Cells hatched as structural zeros: ``"auto"`` infers them from a table that
        records some (see Notes); or pass what was passed to ``lag_table``.
    vmax : float, optional
        Colour-scale limit (default: the largest absolute value, at least 1.5 times the
        critical value for ``adj_resid`` so that non-significant cells stay pale).
    colorbar : bool, default True
        Draw a colour bar.
    lang : {"en", "es"}, default "en"
        Language of the title, axis and colour-bar labels; in Spanish the codes show
        their ``codebook`` labels (``withdrawal`` -> "Retirada").
    codebook : Codebook, optional
        Where Spanish code labels come from (e.g. ``seqs.codebook``).

    Returns
    -------
    Heatmap
        ``(figure, ax, images, significant, structural_zeros, colorbar)``.

    Notes
    -----
    Structural zeros are not stored in the table; ``"auto"`` hatches cells with an
    expected count of 0 whose row and column totals are positive, which under
    quasi-independence happens only in structural zeros.

    Examples
    --------
    >>> import lagnest as ln
    >>> from lagnest.viz.plots import lag_table_heatmap
    >>> tab = ln.lag_table(ln.datasets.load_example(), "rupture", "resolution")
    >>> fig, ax, *_ = lag_table_heatmap(tab)
    """
    import matplotlib
    from matplotlib import colors
    from matplotlib.patches import Rectangle

    alpha = _check_alpha(alpha)
    lang = check_lang(lang)
    _check_table(table, [value])
    table = _select_units(table, unit)
    lead = _lead_dims(table[value])
    if len(lead) > 1:
        raise LagnestDataError(
            f"the table has dims {lead} besides given and target; select all but one, "
            "e.g. table.sel(indicator=...) or unit=..."
        )
    panels = (
        [(None, table)] if not lead
        else [(str(v), table.isel({lead[0]: i})) for i, v in enumerate(table[lead[0]].values)]
    )
    k, m = table["given"].size, table["target"].size
    size = (max(3.8, 0.95 * m + 2.2), max(3.0, 0.75 * k + 1.6))
    if len(panels) > 1:
        size = (0.75 * size[0], 0.75 * size[1])
    fig, ax_out, axes = _panel_axes(ax, len(panels), size)
    values = np.asarray(table[value].values, dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    diverging = value in DIVERGING
    if vmax is None:
        top = float(finite.max()) if finite.size else 1.0
        if value == "adj_resid":
            top = max(top, 1.5 * _critical(alpha))
        elif value in ("yules_q", "phi"):
            top = 1.0
        elif value == "trans_prob":
            top = max(top, 1e-9)
        vmax = top if top > 0 else 1.0
    norm = colors.Normalize(-vmax, vmax) if diverging else colors.Normalize(0.0, vmax)
    cmap_obj = matplotlib.colormaps.get_cmap(
        ("RdBu_r" if diverging else "Blues") if cmap is None else cmap)
    cmap_obj = cmap_obj.with_extremes(bad="0.92")
    shown = _annotated(table, value, annotate)
    fontsize = float(np.clip(44.0 / max(k, m, 1), 5.0, 9.5)) - (0.5 if len(shown) > 2 else 0.0)
    zeros = _structural_mask(table, structural_zeros)
    images, marks, hatches = [], [], []
    for idx, ((title, ds), axis) in enumerate(zip(panels, axes, strict=True)):
        grid = np.asarray(ds[value].transpose("given", "target").values, dtype=float)
        image = axis.imshow(np.ma.masked_invalid(grid), cmap=cmap_obj, norm=norm,
                            aspect="auto", interpolation="nearest")
        images.append(image)
        sig = _significant(ds.transpose(..., "given", "target"), alpha)
        for i, j in zip(*np.nonzero(zeros), strict=True):
            patch = Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                              edgecolor="0.55", linewidth=0, gid="structural_zero")
            axis.add_patch(patch)
            hatches.append(patch)
        for i, j in zip(*np.nonzero(sig), strict=True):
            patch = Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False, edgecolor="black",
                              linewidth=2.2, gid="significant")
            axis.add_patch(patch)
            marks.append(patch)
        if shown:
            _annotate_cells(axis, ds, value, shown, sig, zeros, image, fontsize)
        outer = (ax is not None or idx + _grid(len(panels))[1] >= len(panels),
                 ax is not None or idx % _grid(len(panels))[1] == 0)
        _label_heatmap(axis, table, title, lead[0] if lead else None, outer, lang, codebook)
    cbar = None
    if colorbar:
        cbar = fig.colorbar(images[0], ax=axes, shrink=0.85 if len(axes) == 1 else 0.6)
        label = _name(value, lang)
        classical_p = "adj_resid" in table or "p_adj_resid" in table
        if classical_p:
            label += translate("heat.boxed", lang, alpha=f"{alpha:g}")
        if not np.isfinite(values).all():
            label += translate("heat.grey", lang) + (translate("heat.hatched", lang)
                                                     if zeros.any() else "")
        cbar.set_label(label)
        if classical_p:  # the adjusted residuals' p-value: classical, marked as such
            axis = cbar.ax.yaxis if cbar.orientation == "vertical" else cbar.ax.xaxis
            axis.label.set_gid(PVALUE_GID)
    return Heatmap(fig, ax_out, images, marks, hatches, cbar)


def _annotated(table: xr.Dataset, value: str, annotate: bool | Sequence[str]) -> list[str]:
    """Variables written in each cell."""
    if annotate is False:
        return []
    if annotate is True:
        names = [value, "counts", "trans_prob"]
    elif isinstance(annotate, str):
        names = [annotate]
    else:
        names = list(annotate)
    unknown = [n for n in names if n not in table.data_vars]
    if unknown and annotate is not True:
        raise LagnestDataError(f"cannot annotate {unknown}: not in the table "
                               f"(it has {sorted(table.data_vars)})")
    return list(dict.fromkeys(n for n in names if n in table.data_vars))


def _format(name: str, v: float, first: bool) -> str:
    """One annotation line."""
    if not np.isfinite(v):
        return "–" if first else ""
    if name == "counts":
        text = f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
    elif name == "expected":
        text = f"{v:.1f}"
    else:
        text = f"{v:.2f}"
    return text if first else _PREFIX.get(name, f"{name}=") + text


def _annotate_cells(axis, ds, value, shown, sig, zeros, image, fontsize) -> None:
    """Write the annotation text of every cell."""
    grids = {n: np.asarray(ds[n].transpose("given", "target").values, dtype=float)
             for n in shown}
    k, m = sig.shape
    for i in range(k):
        for j in range(m):
            if zeros[i, j]:
                continue
            lines = [_format(n, grids[n][i, j], n == value) for n in shown]
            if shown[0] == value and sig[i, j]:
                lines[0] += "*"
            text = "\n".join(line for line in lines if line)
            v = grids[value][i, j] if value in grids else np.nan
            colour = _text_colour(image.cmap(image.norm(v))) if np.isfinite(v) else "black"
            weight = "bold" if sig[i, j] else "normal"
            axis.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=colour,
                      fontweight=weight, linespacing=1.1)


def _label_heatmap(axis, table: xr.Dataset, title: str | None, dim: str | None,
                   outer: tuple[bool, bool] = (True, True), lang: str = "en",
                   codebook: Any = None) -> None:
    """Tick labels, axis labels (``outer``: bottom row, first column) and title of a panel."""
    given = code_labels(table["given"].values, lang, codebook)
    target = code_labels(table["target"].values, lang, codebook)
    axis.set_xticks(range(len(target)), target)
    axis.set_yticks(range(len(given)), given)
    if max(len(t) for t in target) * len(target) > 36:
        axis.tick_params(axis="x", labelrotation=35)
        for label in axis.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    lag = table.attrs.get("lag")
    at = f" (t + {lag})" if lag is not None else ""
    streams = {side: code_label(table.attrs.get(side, ""), lang, codebook)
               for side in ("given", "target")}
    if outer[0]:
        axis.set_xlabel(translate("heat.target", lang, stream=streams["target"], at=at)
                        .replace("  ", " "))
    if outer[1]:
        axis.set_ylabel(translate("heat.given", lang, stream=streams["given"])
                        .replace("  ", " "))
    axis.tick_params(length=0)
    for spine in axis.spines.values():
        spine.set_visible(False)
    if title is not None:
        axis.set_title(title if dim in ("unit", "indicator")
                       else f"{column_name(dim, lang)} {title}")
    elif table.attrs.get("given") and table.attrs.get("target"):
        axis.set_title(translate("fig.title", lang, given=streams["given"],
                                 target=streams["target"], lag=lag))
