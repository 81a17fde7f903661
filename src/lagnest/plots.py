"""Figures of lagnest results, drawn with matplotlib (imported lazily).

Every function draws numbers computed elsewhere in lagnest (lag tables from
:func:`lagnest.lagtable.lag_table`, posterior summaries of a
:class:`~lagnest.models.transition.TransitionResult`, per-session code occurrences from
:func:`lagnest.kernels.run_lengths`), returns the matplotlib objects as a small named
tuple whose first two fields are ``figure`` and ``ax``, draws into the caller's axes when
given ``ax=`` and never calls ``plt.show()``. ``import lagnest.plots`` does not import
matplotlib; the first figure does.

ArviZ's plots (``arviz_plots``) compute their own intervals from draws and build their
own figure grid; these figures instead show lagnest's own summaries (its interval
definition and ``ci_prob``) beside classical statistics, so they are drawn directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection
    from matplotlib.colorbar import Colorbar
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

    from lagnest.sequences import Sequences

__all__ = [
    "Diagram",
    "Forest",
    "Heatmap",
    "Panels",
    "Rates",
    "code_rates",
    "forest",
    "lag_table_heatmap",
    "ppc_panels",
    "transition_diagram",
    "transition_forest",
]

#: Cell statistics shown on a colour scale centred at 0 (diverging colormap).
DIVERGING = ("adj_resid", "yules_q", "log_odds", "phi")
#: How each variable is named on axes and colour bars.
_NAMES = {
    "adj_resid": "adjusted residual z",
    "counts": "count",
    "expected": "expected count",
    "trans_prob": "transitional probability",
    "transition_probs": "transition probability",
    "yules_q": "Yule's Q",
    "log_odds": "log odds ratio",
    "odds_ratio": "odds ratio",
    "phi": "phi",
    "lift": "lift",
}
#: Prefix of each variable in a cell annotation (the heatmap's own value has none).
_PREFIX = {"counts": "n=", "trans_prob": "p=", "expected": "e=", "yules_q": "Q=",
           "log_odds": "lor=", "adj_resid": "z=", "phi": "phi="}
_POSITIVE, _NEGATIVE, _FAINT = "#b2182b", "#2166ac", "0.55"


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


class Diagram(NamedTuple):
    """What :func:`transition_diagram` drew.

    Attributes
    ----------
    figure : Figure
    ax : Axes
    arrows : dict of (given, target) -> FancyArrowPatch
        Every arrow drawn (self-loops included).
    emphasised : tuple of (given, target)
        The arrows drawn solid and coloured (credible or significant).
    nodes : dict of (side, code) -> Circle
        Node patches; ``side`` is ``"given"`` or ``"target"`` (one shared circle per
        code when given and target codes coincide).
    """

    figure: Figure
    ax: Axes
    arrows: dict[tuple[str, str], FancyArrowPatch]
    emphasised: tuple[tuple[str, str], ...]
    nodes: dict[tuple[str, str], Circle]


class Forest(NamedTuple):
    """What :func:`forest` drew.

    Attributes
    ----------
    figure : Figure
    ax : Axes
    labels : tuple of str
        Row labels from top to bottom: one per unit, then the pooled row (if any).
    estimates : Line2D
        Markers of the (partially pooled) estimates, one per row, in ``labels`` order.
    intervals : LineCollection
        Their intervals, one segment per row.
    classical : Line2D or None
        Markers of the classical estimates (NaN where undefined).
    classical_intervals : LineCollection or None
    """

    figure: Figure
    ax: Axes
    labels: tuple[str, ...]
    estimates: Line2D
    intervals: LineCollection
    classical: Line2D | None
    classical_intervals: LineCollection | None


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


# =========================================================================== helpers


def _pyplot() -> Any:
    """matplotlib.pyplot, imported on first use."""
    import matplotlib.pyplot as plt

    return plt


def _figure_of(ax: Any) -> Figure:
    """The figure holding ``ax``."""
    return ax.get_figure()


def _check_alpha(alpha: float) -> float:
    """Validate a significance level."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise LagnestDataError(f"alpha must be a number in (0, 1), got {alpha!r}")
    return float(alpha)


def _critical(alpha: float) -> float:
    """Two-sided standard normal critical value of ``alpha``."""
    return float(special.ndtri(1.0 - alpha / 2.0))


def _significant(ds: xr.Dataset, alpha: float) -> np.ndarray:
    """Cells whose adjusted residual is significant at ``alpha`` (two-sided)."""
    if "p_adj_resid" in ds:
        p = np.asarray(ds["p_adj_resid"].values, dtype=float)
        return np.nan_to_num(p, nan=1.0) < alpha
    if "adj_resid" in ds:
        z = np.abs(np.asarray(ds["adj_resid"].values, dtype=float))
        return np.nan_to_num(z, nan=0.0) > _critical(alpha)
    return np.zeros(ds["given"].size * ds["target"].size, dtype=bool).reshape(
        ds["given"].size, ds["target"].size
    )


def _check_table(table: Any, needs: Sequence[str]) -> xr.Dataset:
    """Raise unless ``table`` is a lag-table Dataset with ``needs`` on (given, target)."""
    if not isinstance(table, xr.Dataset):
        raise LagnestDataError(
            f"expected a lag table (xarray.Dataset from lagnest.lag_table), got "
            f"{type(table).__name__}"
        )
    for name in needs:
        if name not in table.data_vars:
            raise LagnestDataError(
                f"the lag table has no variable {name!r}; it has {sorted(table.data_vars)}"
            )
        if not {"given", "target"} <= set(table[name].dims):
            raise LagnestDataError(
                f"variable {name!r} must have dims 'given' and 'target', got {table[name].dims}"
            )
    return table


def _classical_lift(ds: xr.Dataset) -> xr.DataArray:
    """p(j|i) / p(j) of a lag table: transitional probability over the column share."""
    counts = ds["counts"]
    share = counts.sum("given") / counts.sum(("given", "target"))
    return (ds["trans_prob"] / share.where(share > 0)).rename("lift")


def _structural_mask(ds: xr.Dataset, structural_zeros: Any) -> np.ndarray:
    """Bool mask (..., given, target) of structural zeros to hatch.

    ``"auto"`` infers them when the table records structural zeros
    (``attrs["n_structural_zeros"] > 0``): a cell whose expected count is 0 although its
    row and column totals are positive can only be a structural zero of the
    quasi-independence fit. Anything else goes through
    :func:`lagnest.lagtable.structural_zero_mask`.
    """
    from lagnest.lagtable import structural_zero_mask

    shape = (ds["given"].size, ds["target"].size)
    if isinstance(structural_zeros, str) and structural_zeros == "auto":
        if not ds.attrs.get("n_structural_zeros") or "expected" not in ds or "counts" not in ds:
            return np.zeros(shape, dtype=bool)
        counts = ds["counts"].transpose(..., "given", "target").values
        expected = ds["expected"].transpose(..., "given", "target").values
        live = (counts.sum(-1) > 0)[..., :, None] & (counts.sum(-2) > 0)[..., None, :]
        mask = live & (expected == 0) & (counts == 0)
        return mask.reshape(-1, *shape).any(axis=0)
    mask = structural_zero_mask(structural_zeros, shape, [str(v) for v in ds["given"].values],
                                [str(v) for v in ds["target"].values])
    return np.zeros(shape, dtype=bool) if mask is None else mask


def _select_units(table: xr.Dataset, unit: Any) -> xr.Dataset:
    """Select ``unit`` (a label or a list of labels) along the table's ``unit`` dim."""
    if unit is None:
        return table
    if "unit" not in table.dims:
        raise LagnestDataError(
            f"unit={unit!r} given but the lag table has no 'unit' dim (it was made with by=None)"
        )
    known = [str(u) for u in table["unit"].values]
    wanted = [unit] if isinstance(unit, str) else list(unit)
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise LagnestDataError(f"unknown unit(s) {unknown}; the table's units are {known}")
    return table.sel(unit=unit)


def _lead_dims(da: xr.DataArray) -> list[str]:
    """Dims of a cell variable other than ``given`` and ``target``."""
    return [d for d in da.dims if d not in ("given", "target")]


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    """Rows and columns of a small-multiples grid of ``n`` panels."""
    ncols = min(n, max_cols)
    return math.ceil(n / ncols), ncols


def _panel_axes(ax: Any, n: int, panel_size: tuple[float, float], sharey: bool = False):
    """Figure and a flat list of ``n`` Axes: new ones, or the caller's."""
    plt = _pyplot()
    if ax is None:
        nrows, ncols = _grid(n)
        fig, axes = plt.subplots(
            nrows, ncols, squeeze=False, layout="constrained", sharey=sharey,
            figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
        )
        flat = list(axes.ravel())
        for extra in flat[n:]:
            extra.set_visible(False)
        return fig, axes if n > 1 else axes[0, 0], flat[:n]
    flat = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(flat) != n:
        raise LagnestDataError(
            f"this figure has {n} panel(s) but ax holds {len(flat)} Axes; pass {n} Axes or "
            "select one panel (e.g. unit=...)"
        )
    return _figure_of(flat[0]), ax, flat


def _text_colour(rgba: Sequence[float]) -> str:
    """Black or white, whichever reads better on ``rgba``."""
    r, g, b = rgba[:3]
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


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
) -> Heatmap:
    """Heatmap of a lag table: given codes on rows, target codes on columns.

    Parameters
    ----------
    table : xarray.Dataset
        A lag table from :func:`lagnest.lagtable.lag_table` (or
        :func:`lagnest.lagtable.table_statistics`).
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
        Text in each cell: True shows ``value``, the count and the transitional
        probability; a sequence names the variables to show; False shows none.
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
    >>> from lagnest.plots import lag_table_heatmap
    >>> tab = ln.lag_table(ln.datasets.load_example(), "rupture", "resolution")
    >>> fig, ax, *_ = lag_table_heatmap(tab)
    """
    import matplotlib
    from matplotlib import colors
    from matplotlib.patches import Rectangle

    alpha = _check_alpha(alpha)
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
        _label_heatmap(axis, table, title, lead[0] if lead else None, outer)
    cbar = None
    if colorbar:
        cbar = fig.colorbar(images[0], ax=axes, shrink=0.85 if len(axes) == 1 else 0.6)
        label = _NAMES.get(value, value)
        if "adj_resid" in table or "p_adj_resid" in table:
            label += f"\n(boxed, *: p < {alpha:g}, two-sided)"
        if not np.isfinite(values).all():
            label += "\ngrey: undefined" + (", hatched: structural zero" if zeros.any() else "")
        cbar.set_label(label)
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
                   outer: tuple[bool, bool] = (True, True)) -> None:
    """Tick labels, axis labels (``outer``: bottom row, first column) and title of a panel."""
    given = [str(v) for v in table["given"].values]
    target = [str(v) for v in table["target"].values]
    axis.set_xticks(range(len(target)), target)
    axis.set_yticks(range(len(given)), given)
    if max(len(t) for t in target) * len(target) > 36:
        axis.tick_params(axis="x", labelrotation=35)
        for label in axis.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    lag = table.attrs.get("lag")
    at = f" (t + {lag})" if lag is not None else ""
    if outer[0]:
        axis.set_xlabel(f"target {table.attrs.get('target', '')}{at}".replace("  ", " "))
    if outer[1]:
        axis.set_ylabel(f"given {table.attrs.get('given', '')} (t)".replace("  ", " "))
    axis.tick_params(length=0)
    for spine in axis.spines.values():
        spine.set_visible(False)
    if title is not None:
        axis.set_title(title if dim in ("unit", "indicator") else f"{dim} {title}")
    elif table.attrs.get("given") and table.attrs.get("target"):
        axis.set_title(f"{table.attrs['given']} → {table.attrs['target']}, lag {lag}")


# =========================================================================== diagram


@dataclass(frozen=True)
class _Edges:
    """Everything a transition diagram draws, whatever its source."""

    given: tuple[str, ...]
    target: tuple[str, ...]
    weight: np.ndarray  # (K, M)
    emphasised: np.ndarray  # bool (K, M)
    sign: np.ndarray  # +1 above the null, -1 below, 0 undetermined
    drawn: np.ndarray  # bool (K, M)
    weight_label: str
    emphasis_label: str
    title: str


def _edges_from_table(table: Any, weight: str, alpha: float, unit: Any) -> _Edges:
    """Edges of a classical lag table (emphasis: significant adjusted residuals)."""
    table = _check_table(table, ["counts", "trans_prob", "adj_resid"])
    if "unit" in table.dims:
        unit = "pooled" if unit is None and "pooled" in table["unit"].values else unit
        if unit is None or not isinstance(unit, str):
            raise LagnestDataError("the lag table has a 'unit' dim: choose one with unit=...")
        table = _select_units(table, unit)
    lead = _lead_dims(table["counts"])
    if lead:
        raise LagnestDataError(f"select one table along {lead} first (e.g. table.sel(...))")
    table = table.transpose("given", "target", ...)
    if weight == "lift":
        w = _classical_lift(table).values
    else:
        w = table["trans_prob"].values
    z = np.asarray(table["adj_resid"].values, dtype=float)
    attrs = table.attrs
    title = (f"{attrs['given']} → {attrs['target']}, lag {attrs.get('lag', '?')}"
             if "given" in attrs and "target" in attrs else "")
    if unit is not None:
        title += f" ({unit})"
    return _Edges(
        given=tuple(str(v) for v in table["given"].values),
        target=tuple(str(v) for v in table["target"].values),
        weight=np.asarray(w, dtype=float),
        emphasised=_significant(table, alpha),
        sign=np.sign(np.nan_to_num(z)),
        drawn=np.isfinite(w) & (np.nan_to_num(w) > 0),
        weight_label=_NAMES["lift" if weight == "lift" else "trans_prob"],
        emphasis_label=f"|z| > {_critical(alpha):.2f} (p < {alpha:g})",
        title=title,
    )


def _edges_from_result(result: Any, weight: str, level: str, ci_prob: float,
                       unit: Any) -> _Edges:
    """Edges of a transition-model result (emphasis: lift interval excludes 1)."""
    lift = result.lift(level=level, ci_prob=ci_prob)
    values = result.transition_probs(level=level, ci_prob=ci_prob) if weight != "lift" else lift
    unit_dims = [d for d in lift["mean"].dims if d not in ("given", "target")]
    if unit_dims:
        dim = unit_dims[0]
        known = [str(v) for v in lift[dim].values]
        if unit not in known:
            raise LagnestDataError(
                f"level={level!r} has one table per {dim}: choose one with unit=..., "
                f"one of {known}"
            )
        lift, values = lift.sel({dim: unit}), values.sel({dim: unit})
    lift = lift.transpose("given", "target")
    allowed = np.asarray(result.fit_data["allowed"].transpose("given", "target").values,
                         dtype=bool)
    lo, hi = lift["lower"].values, lift["upper"].values
    w = np.asarray(values["mean"].transpose("given", "target").values, dtype=float)
    spec = result.spec
    pct = f"{ci_prob:.0%}"
    title = f"{spec.get('given')} → {spec.get('target')}, lag {spec.get('lag')}, {level}"
    if unit is not None and unit_dims:
        title += f" {unit}"
    return _Edges(
        given=tuple(str(v) for v in lift["given"].values),
        target=tuple(str(v) for v in lift["target"].values),
        weight=w,
        emphasised=allowed & ((lo > 1) | (hi < 1)),
        sign=np.sign(np.nan_to_num(lift["mean"].values - 1.0)),
        drawn=allowed & np.isfinite(w) & (np.nan_to_num(w) > 0),
        weight_label=_NAMES["lift" if weight == "lift" else "transition_probs"],
        emphasis_label=f"{pct} interval of lift excludes 1",
        title=title,
    )


def transition_diagram(
    source: Any,
    ax: Axes | None = None,
    weight: str = "lift",
    threshold: float | None = None,
    *,
    alpha: float = 0.05,
    level: str = "population",
    ci_prob: float = 0.9,
    unit: str | None = None,
    annotate: bool = True,
    legend: bool = True,
) -> Diagram:
    """Transition diagram: codes as nodes, arrows from given to target codes.

    Parameters
    ----------
    source : xarray.Dataset or TransitionResult
        A lag table (:func:`lagnest.lagtable.lag_table`; classical: arrows with a
        significant adjusted residual are emphasised) or a fitted
        :class:`~lagnest.models.transition.TransitionResult` (Bayesian: arrows whose
        ``ci_prob`` credible interval of the lift excludes 1 are emphasised).
    ax : Axes, optional
        Where to draw; default a new figure.
    weight : {"lift", "trans_prob"}, default "lift"
        Arrow width: the lift p(j|i) / p(j) or the transitional probability p(j|i)
        (posterior means for a result; ``"transition_probs"`` is accepted too).
    threshold : float, optional
        Arrows whose weight is below ``threshold`` are not drawn. Zero-weight cells and
        structural zeros are never drawn.
    alpha : float, default 0.05
        Significance level of the adjusted residuals (lag table only).
    level : {"population", "typical", "dyad", "session"}, default "population"
        Level of the posterior answers (result only); ``"dyad"`` and ``"session"`` need
        ``unit``.
    ci_prob : float, default 0.9
        Credible-interval probability (result only).
    unit : str, optional
        Unit of a lag table with a ``unit`` dim (default ``"pooled"``), or dyad/session of
        a result at those levels.
    annotate : bool, default True
        Write the weight on emphasised arrows.
    legend : bool, default True
        Explain colours and line styles below the diagram.

    Returns
    -------
    Diagram
        ``(figure, ax, arrows, emphasised, nodes)``.

    Notes
    -----
    When the given and target codes are the same list (a stream against itself), codes
    sit on a circle and a code followed by itself is drawn as a small loop; otherwise
    given codes form the left column and target codes the right one. Emphasised arrows
    are red above the null (lift > 1, z > 0) and blue below; the others are grey.

    Examples
    --------
    >>> import lagnest as ln
    >>> from lagnest.plots import transition_diagram
    >>> tab = ln.lag_table(ln.datasets.load_example(), "rupture", "rupture")
    >>> fig, ax, arrows, emphasised, nodes = transition_diagram(tab, weight="trans_prob")
    """
    weight = {"transition_probs": "trans_prob"}.get(weight, weight)
    if weight not in ("lift", "trans_prob"):
        raise LagnestDataError(f"weight must be 'lift' or 'trans_prob', got {weight!r}")
    if isinstance(source, xr.Dataset):
        edges = _edges_from_table(source, weight, _check_alpha(alpha), unit)
    elif hasattr(source, "lift") and hasattr(source, "transition_probs"):
        edges = _edges_from_result(source, weight, level, ci_prob, unit)
    else:
        raise LagnestDataError(
            "source must be a lag table (xarray.Dataset) or a TransitionResult, got "
            f"{type(source).__name__}"
        )
    drawn = edges.drawn.copy()
    if threshold is not None:
        drawn &= np.nan_to_num(edges.weight, nan=-np.inf) >= threshold
    plt = _pyplot()
    if ax is None:
        n = max(len(edges.given), len(edges.target))
        side = 5.2 + 0.12 * n
        fig, ax = plt.subplots(figsize=(side + 0.6, side), layout="constrained")
    else:
        fig = _figure_of(ax)
    return _draw_diagram(ax, fig, edges, drawn, annotate, legend)


def _layout(edges: _Edges) -> tuple[dict[tuple[str, str], tuple[float, float]], float, bool]:
    """Node centres by (side, code), node radius, and whether the layout is a circle."""
    if list(edges.given) == list(edges.target):
        k = len(edges.given)
        radius = min(0.15, 0.55 * math.sin(math.pi / k)) if k > 1 else 0.15
        pos = {}
        for i, code in enumerate(edges.given):
            angle = math.pi / 2 - 2 * math.pi * i / k
            pos[("given", code)] = pos[("target", code)] = (math.cos(angle), math.sin(angle))
        return pos, radius, True
    n = max(len(edges.given), len(edges.target))
    step = 2.0 / max(n - 1, 1)
    radius = min(0.13, 0.3 * step)
    pos = {}
    for side, codes, x in (("given", edges.given, -1.0), ("target", edges.target, 1.0)):
        top = (len(codes) - 1) * step / 2
        for i, code in enumerate(codes):
            pos[(side, code)] = (x, top - i * step)
    return pos, radius, False


def _draw_diagram(ax, fig, edges: _Edges, drawn: np.ndarray, annotate: bool,
                  legend: bool) -> Diagram:
    """Nodes, arrows, labels and legend of a transition diagram."""
    from matplotlib.patches import Circle

    pos, r, circular = _layout(edges)
    nodes: dict[tuple[str, str], Circle] = {}
    for key, (x, y) in pos.items():
        if circular and key[0] == "target":
            nodes[key] = nodes[("given", key[1])]
            continue
        node = Circle((x, y), r, facecolor="white", edgecolor="0.15", linewidth=1.4, zorder=3)
        ax.add_patch(node)
        nodes[key] = node
    loop = 1.9 * r
    w = np.where(drawn, edges.weight, np.nan)
    top = np.nanmax(w) if drawn.any() else 1.0
    arrows: dict[tuple[str, str], Any] = {}
    emphasised = []
    order = sorted(zip(*np.nonzero(drawn), strict=True),
                   key=lambda ij: (edges.emphasised[ij], edges.weight[ij]))
    for i, j in order:
        g, t = edges.given[i], edges.target[j]
        strong = bool(edges.emphasised[i, j])
        width = 0.6 + 6.0 * edges.weight[i, j] / top
        colour = (_POSITIVE if edges.sign[i, j] >= 0 else _NEGATIVE) if strong else _FAINT
        style = {"color": colour, "linewidth": width if strong else max(0.5, 0.55 * width),
                 "alpha": 0.9 if strong else 0.45, "zorder": 2 if strong else 1,
                 "gid": "emphasised" if strong else "faint"}
        if circular and g == t:
            arrow, label_at = _self_loop(ax, pos[("given", g)], r, loop, style)
        else:
            # straight arrows cross in the middle: labels move along with the given row
            along = 0.5 if circular else 0.22 + 0.56 * i / max(len(edges.given) - 1, 1)
            arrow, label_at = _arrow(ax, pos[("given", g)], pos[("target", t)],
                                     nodes[("given", g)], nodes[("target", t)],
                                     0.18 if circular else 0.0, style, along)
        arrows[(g, t)] = arrow
        if strong:
            emphasised.append((g, t))
            if annotate:
                ax.text(*label_at, f"{edges.weight[i, j]:.2f}", fontsize=7.5, color=colour,
                        ha="center", va="center", zorder=4,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.85})
    boxes = _node_labels(ax, edges, pos, r, loop, circular)
    reach = r + (loop + 0.05 if circular else 0.05)
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    x0 = min([min(xs) - reach, *(b[0] for b in boxes)]) - 0.05
    x1 = max([max(xs) + reach, *(b[1] for b in boxes)]) + 0.05
    y0 = min([min(ys) - reach, *(b[2] for b in boxes)]) - 0.05
    y1 = max([max(ys) + reach, *(b[3] for b in boxes)]) + 0.05
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if edges.title:
        ax.set_title(edges.title + f"\narrow width: {edges.weight_label}", fontsize=10)
    if legend:
        _diagram_legend(ax, edges)
    return Diagram(fig, ax, arrows, tuple(emphasised), nodes)


def _arrow(ax, a, b, patch_a, patch_b, rad: float, style: dict,
           along: float = 0.5) -> tuple[Any, tuple]:
    """Arrow between two nodes; returns it and the point where its label goes.

    The label sits at the middle of a curved arrow (the midpoint of matplotlib's arc3
    quadratic Bezier) or at fraction ``along`` of a straight one.
    """
    from matplotlib.patches import FancyArrowPatch

    arrow = FancyArrowPatch(a, b, patchA=patch_a, patchB=patch_b, shrinkA=0, shrinkB=1,
                            connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                            mutation_scale=9 + 1.6 * style["linewidth"], **style)
    ax.add_patch(arrow)
    (x1, y1), (x2, y2) = a, b
    t = 0.5 if rad else along
    mid = (x1 + t * (x2 - x1) + 0.5 * rad * (y2 - y1), y1 + t * (y2 - y1) - 0.5 * rad * (x2 - x1))
    return arrow, mid


def _self_loop(ax, centre, r: float, size: float, style: dict) -> tuple[Any, tuple]:
    """A loop outside the node at ``centre`` (pointing away from the circle's middle)."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    cx, cy = centre
    phi = math.atan2(cy, cx)

    def at(dist: float, angle: float) -> tuple[float, float]:
        return cx + dist * math.cos(phi + angle), cy + dist * math.sin(phi + angle)

    verts = [at(r, 0.45), at(r + size, 0.75), at(r + size, -0.75), at(r, -0.45)]
    path = Path(verts, [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
    arrow = FancyArrowPatch(path=path, arrowstyle="-|>",
                            mutation_scale=7 + 1.4 * style["linewidth"], **style)
    ax.add_patch(arrow)
    return arrow, at(r + 0.78 * size, 0.0)


def _text_box(x: float, y: float, text: str, ha: str, va: str,
              size: float = 9.5) -> tuple[float, float, float, float]:
    """Rough data extent of a label (the diagram's scale: about 1.5 inches per unit)."""
    w, h = 0.052 * len(text) * size / 9.5, 0.1 * size / 9.5
    left = {"left": x, "right": x - w, "center": x - w / 2}[ha]
    bottom = {"bottom": y, "top": y - h, "center": y - h / 2}[va]
    return left, left + w, bottom, bottom + h


def _node_labels(ax, edges: _Edges, pos, r: float, loop: float,
                 circular: bool) -> list[tuple[float, float, float, float]]:
    """Code labels outside the nodes (beyond the self-loops on a circle); their extents."""
    boxes = []

    def put(x: float, y: float, text: str, ha: str, va: str, **kw: Any) -> None:
        ax.text(x, y, text, ha=ha, va=va, fontsize=kw.pop("fontsize", 9.5), **kw)
        boxes.append(_text_box(x, y, text, ha, va))

    if circular:
        for code in edges.given:
            x, y = pos[("given", code)]
            phi = math.atan2(y, x)
            dist = 1.0 + r + loop + 0.06
            c, s = math.cos(phi), math.sin(phi)
            ha = "left" if c > 0.3 else "right" if c < -0.3 else "center"
            va = "bottom" if s > 0.3 else "top" if s < -0.3 else "center"
            put(dist * c, dist * s, code, ha, va)
        return boxes
    for side, codes, ha, dx in (("given", edges.given, "right", -r - 0.06),
                                ("target", edges.target, "left", r + 0.06)):
        for code in codes:
            x, y = pos[(side, code)]
            put(x + dx, y, code, ha, "center")
    top = max(y for _, y in pos.values()) + r + 0.1
    put(-1.0, top, "given (t)", "center", "bottom", style="italic")
    put(1.0, top, "target (t + lag)", "center", "bottom", style="italic")
    return boxes


def _diagram_legend(ax, edges: _Edges) -> None:
    """Legend of colours (above / below the null) and faint arrows."""
    from matplotlib.lines import Line2D

    classical = edges.emphasis_label.startswith("|z|")
    above, below = ("z > 0", "z < 0") if classical else ("lift > 1", "lift < 1")
    handles = [
        Line2D([], [], color=_POSITIVE, lw=2.5, label=f"{above}, {edges.emphasis_label}"),
        Line2D([], [], color=_NEGATIVE, lw=2.5, label=f"{below}, {edges.emphasis_label}"),
        Line2D([], [], color=_FAINT, lw=1.2, alpha=0.6, label="other transitions"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=1,
              frameon=False, fontsize=8.5)


# =========================================================================== forest


def _intervals(ds: Any, label: str, what: str) -> pd.DataFrame:
    """``mean``, ``lower``, ``upper`` of a summary Dataset over ``label`` as a frame."""
    if not isinstance(ds, xr.Dataset) or not {"mean", "lower", "upper"} <= set(ds.data_vars):
        raise LagnestDataError(
            f"{what} must be an xarray.Dataset with 'mean', 'lower' and 'upper' (a lagnest "
            f"answer such as result.log_odds(level=...)), got {type(ds).__name__}"
        )
    dims = set(ds["mean"].dims)
    if dims != {label}:
        raise LagnestDataError(
            f"{what} must have the single dim {label!r}, got {tuple(ds['mean'].dims)}; "
            "select one cell first (e.g. .sel(given=..., target=...)) or pass label="
        )
    return pd.DataFrame({k: np.asarray(ds[k].values, dtype=float)
                         for k in ("mean", "lower", "upper")},
                        index=[str(v) for v in ds[label].values])


def _scalar_interval(ds: Any, what: str) -> tuple[float, float, float]:
    """``(mean, lower, upper)`` of a 0-d summary Dataset."""
    if not isinstance(ds, xr.Dataset) or not {"mean", "lower", "upper"} <= set(ds.data_vars):
        raise LagnestDataError(f"{what} must be an xarray.Dataset with 'mean', 'lower', "
                               f"'upper', got {type(ds).__name__}")
    if ds["mean"].ndim:
        raise LagnestDataError(f"{what} must hold one value, got dims {ds['mean'].dims}")
    return tuple(float(ds[k].values) for k in ("mean", "lower", "upper"))  # type: ignore


def _classical_frame(
    classical: Any, se: Any, label: str, z: float
) -> tuple[pd.DataFrame, tuple[float, float, float] | None]:
    """Classical values (and Wald intervals) per unit, and the pooled one if present."""
    if isinstance(classical, xr.Dataset):
        value, lower, upper = classical["mean"], classical["lower"], classical["upper"]
    elif isinstance(classical, xr.DataArray):
        value = classical
        if se is not None:
            se = xr.DataArray(se) if not isinstance(se, xr.DataArray) else se
            lower, upper = value - z * se, value + z * se
        else:
            lower = upper = value * np.nan
    else:
        raise LagnestDataError(
            "classical must be an xarray.DataArray of per-unit values (or a Dataset with "
            f"'mean', 'lower', 'upper'), got {type(classical).__name__}"
        )
    frame = xr.Dataset({"mean": value, "lower": lower, "upper": upper})
    if "unit" in frame.dims and label not in frame.dims:
        frame = frame.rename(unit=label)
    extra = [d for d in frame["mean"].dims if d != label]
    if extra:
        raise LagnestDataError(f"classical values have dims {extra} besides {label!r}; "
                               "select one cell first")
    pooled = None
    labels = [str(v) for v in frame[label].values]
    if "pooled" in labels:
        one = frame.isel({label: labels.index("pooled")})
        pooled = tuple(float(one[k].values) for k in ("mean", "lower", "upper"))
        frame = frame.isel({label: [i for i, v in enumerate(labels) if v != "pooled"]})
    out = pd.DataFrame({k: np.asarray(frame[k].values, dtype=float)
                        for k in ("mean", "lower", "upper")},
                       index=[str(v) for v in frame[label].values])
    return out, pooled  # type: ignore[return-value]


def _null_of(estimates: xr.Dataset, null: float | None) -> float | None:
    """The null value: given, or the summary's ``attrs["null"]`` when it is a number."""
    if null is not None:
        return float(null)
    try:
        return float(estimates.attrs.get("null"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def forest(
    estimates: xr.Dataset,
    pooled: xr.Dataset | None = None,
    ax: Axes | None = None,
    classical: Any = None,
    classical_se: Any = None,
    *,
    label: str = "dyad",
    null: float | None = None,
    ci_prob: float | None = None,
    pooled_label: str = "pooled",
    xlabel: str | None = None,
    title: str | None = None,
    legend: bool = True,
) -> Forest:
    """Forest plot of per-unit estimates beside the pooled one, with classical values.

    Parameters
    ----------
    estimates : xarray.Dataset
        ``mean``, ``lower``, ``upper`` over the single dim ``label`` (a lagnest answer
        selected at one cell, e.g.
        ``result.log_odds(level="dyad").sel(given=g, target=t)``).
    pooled : xarray.Dataset, optional
        ``mean``, ``lower``, ``upper`` without dims (e.g. ``level="population"``), drawn as
        the last row.
    ax : Axes, optional
        Where to draw; default a new figure.
    classical : xarray.DataArray or xarray.Dataset, optional
        Classical per-unit values over ``label`` (or ``unit``, as
        ``lag_table(..., by="dyad")["log_odds"]`` has; its ``"pooled"`` entry goes to the
        pooled row), or a Dataset with ``mean``, ``lower``, ``upper``.
    classical_se : xarray.DataArray, optional
        Standard errors of ``classical`` (e.g. ``log_odds_se``): Wald intervals
        value ± z se with z the normal quantile of ``ci_prob``.
    label : str, default "dyad"
        Name of the unit dim.
    null : float, optional
        Null value drawn as a vertical line; default ``estimates.attrs["null"]`` when it
        is a number (0 for log odds, 1 for lift), none otherwise.
    ci_prob : float, optional
        Interval probability of the Wald intervals; default
        ``estimates.attrs["ci_prob"]`` (0.9).
    pooled_label : str, default "pooled"
        Label of the pooled row.
    xlabel, title : str, optional
    legend : bool, default True

    Returns
    -------
    Forest
        ``(figure, ax, labels, estimates, intervals, classical, classical_intervals)``.

    Notes
    -----
    Each unit's row shows the partially pooled estimate (filled circle, its interval)
    and, just below, the classical estimate of that unit alone (open square, grey, with
    its Wald interval when ``classical_se`` is given); a thin line joins the two, so the
    shrinkage towards the pooled estimate (dotted vertical line) is visible. Classical
    values that are undefined (e.g. a log odds ratio with a zero cell) are marked "n/a".
    """
    from matplotlib.lines import Line2D

    est = _intervals(estimates, label, "estimates")
    pool = _scalar_interval(pooled, "pooled") if pooled is not None else None
    ci = float(ci_prob if ci_prob is not None else estimates.attrs.get("ci_prob", 0.9))
    z = float(special.ndtri(0.5 + ci / 2))
    cls, cls_pool = (None, None)
    if classical is not None:
        cls, cls_pool = _classical_frame(classical, classical_se, label, z)
        cls = cls.reindex(est.index)
    labels = [*est.index, *([pooled_label] if pool is not None else [])]
    n = len(est)
    ys = np.concatenate([np.arange(n, 0, -1, dtype=float), [0.0] if pool is not None else []])
    rows = est.to_numpy()
    if pool is not None:
        rows = np.vstack([rows, pool])
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 1.2 + 0.42 * len(labels)), layout="constrained")
    else:
        fig = _figure_of(ax)
    up = 0.12 if cls is not None else 0.0
    null_value = _null_of(estimates, null)
    if null_value is not None:
        ax.axvline(null_value, color="black", linewidth=0.8, zorder=0, gid="null")
    if pool is not None:
        ax.axvline(pool[0], color="C0", linewidth=1.0, linestyle=":", alpha=0.8, zorder=0)
        ax.axhline(0.5, color="0.8", linewidth=0.8, zorder=0)
    intervals = ax.hlines(ys + up, rows[:, 1], rows[:, 2], color="C0", linewidth=2.2,
                          zorder=2)
    marker = ax.plot(rows[:, 0], ys + up, linestyle="none", marker="o", color="C0",
                     markersize=6.5, zorder=3)[0]
    if pool is not None:
        ax.plot([pool[0]], [up], linestyle="none", marker="D", color="C0", markersize=8,
                zorder=4)
    cls_line = cls_ints = None
    handles = [Line2D([], [], color="C0", marker="o", lw=2.2,
                      label=f"partially pooled (mean, {ci:.0%} interval)")]
    if cls is not None:
        crows = cls.to_numpy()
        if pool is not None:
            crows = np.vstack([crows, cls_pool if cls_pool is not None else [np.nan] * 3])
        down = ys - 0.2
        cls_ints = ax.hlines(down, crows[:, 1], crows[:, 2], color="0.45", linewidth=1.1,
                             zorder=2)
        cls_line = ax.plot(crows[:, 0], down, linestyle="none", marker="s", markersize=5.5,
                           markerfacecolor="white", markeredgecolor="0.3", zorder=3)[0]
        for y, c, b in zip(ys, crows[:, 0], rows[:, 0], strict=True):
            if np.isfinite(c):
                ax.plot([c, b], [y - 0.2, y + up], color="0.6", linewidth=0.7, zorder=1)
            else:
                ax.annotate("n/a", (1.0, y - 0.2), xycoords=("axes fraction", "data"),
                            ha="right", va="center", fontsize=7.5, color="0.4")
        what = f"{ci:.0%} Wald interval" if classical_se is not None else "point"
        handles.append(Line2D([], [], color="0.45", marker="s", markerfacecolor="white",
                              lw=1.1, label=f"classical, each {label} alone ({what})"))
    finite = np.concatenate([rows.ravel(), [] if cls is None else crows[:, 0],
                             [] if null_value is None else [null_value]])
    finite = finite[np.isfinite(finite)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.08 * (hi - lo) if hi > lo else 0.5
        ax.set_xlim(lo - pad, hi + pad)
        if cls is not None:  # classical intervals running off the axes end in a chevron
            for end, edge, mark in ((crows[:, 1], lo - pad, "<"), (crows[:, 2], hi + pad, ">")):
                off = np.isfinite(end) & ((end < edge) if mark == "<" else (end > edge))
                if off.any():
                    ax.plot(np.full(off.sum(), edge), ys[off] - 0.2, linestyle="none",
                            marker=mark, color="0.45", markersize=5, clip_on=False)
    ax.set_yticks(ys, labels)
    ax.set_ylim(ys.min() - 0.7, ys.max() + 0.6)
    ax.tick_params(axis="y", length=0)
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if title is not None:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14 if xlabel
                  else -0.08), frameon=False, fontsize=8, ncol=1)
    return Forest(fig, ax, tuple(labels), marker, intervals, cls_line, cls_ints)


_QUANTITIES = {"log_odds": "log_odds", "yules_q": "yules_q", "lift": "lift",
               "transition_probs": "trans_prob"}


def transition_forest(
    result: Any,
    given: str,
    target: str,
    quantity: str = "log_odds",
    seqs: Sequences | None = None,
    ax: Axes | None = None,
    *,
    level: str = "dyad",
    ci_prob: float = 0.9,
    correction: bool = True,
) -> Forest:
    """Forest plot of one transition of a :class:`TransitionResult`, per dyad and pooled.

    Parameters
    ----------
    result : TransitionResult
        A fitted transition model.
    given, target : str
        The cell (codes of the ``given`` and ``target`` coordinates).
    quantity : {"log_odds", "yules_q", "lift", "transition_probs"}, default "log_odds"
        The answer drawn (the result's method of that name).
    seqs : Sequences, optional
        The corpus fitted: classical values then come from
        :func:`lagnest.lagtable.lag_table` on it; by default from the result's
        ``fit_data`` counts through :func:`lagnest.lagtable.table_statistics` (the same
        numbers).
    ax : Axes, optional
    level : {"dyad", "session"}, default "dyad"
        Units of the rows; the pooled row is the population level (or the typical dyad
        when the fit has no population level).
    ci_prob : float, default 0.9
    correction : bool, default True
        Classical log odds with +0.5 in every cell of a collapsed 2 x 2 table that has a
        zero cell (Haldane-Anscombe), so sparse units still get a value.

    Returns
    -------
    Forest
        See :func:`forest`.
    """
    if quantity not in _QUANTITIES:
        raise LagnestDataError(f"quantity must be one of {list(_QUANTITIES)}, got {quantity!r}")
    if level not in ("dyad", "session"):
        raise LagnestDataError(f"level must be 'dyad' or 'session', got {level!r}")
    answer = getattr(result, quantity)
    per_unit = answer(level=level, ci_prob=ci_prob)
    for code, dim in ((given, "given"), (target, "target")):
        known = [str(v) for v in per_unit[dim].values]
        if code not in known:
            raise LagnestDataError(f"unknown {dim} code {code!r}; expected one of {known}")
    cell = {"given": given, "target": target}
    estimates = per_unit.sel(cell)
    pooled_level = next((lv for lv in ("population", "typical") if lv in result.levels), None)
    pooled = answer(level=pooled_level, ci_prob=ci_prob).sel(cell) if pooled_level else None
    units, pooled_table = _classical_tables(result, seqs, level, correction)
    name = _QUANTITIES[quantity]
    if name == "trans_prob" or name == "yules_q" or name == "log_odds":
        values = units[name]
        pooled_value = pooled_table[name]
    else:
        values, pooled_value = _classical_lift(units), _classical_lift(pooled_table)
    values = xr.concat([values.sel(cell), pooled_value.sel(cell).expand_dims({level: ["pooled"]})],
                       dim=level)
    se = None
    if name == "log_odds":
        se = xr.concat([units["log_odds_se"].sel(cell),
                        pooled_table["log_odds_se"].sel(cell).expand_dims({level: ["pooled"]})],
                       dim=level)
    spec = result.spec
    pretty = _NAMES.get(quantity, quantity)
    return forest(
        estimates, pooled, ax=ax, classical=values, classical_se=se, label=level,
        ci_prob=ci_prob, pooled_label=pooled_level or "pooled",
        xlabel=f"{pretty}: {given} → {target} (lag {spec.get('lag')})",
        title=f"{spec.get('given')} → {spec.get('target')}: {pretty} per {level}",
    )


def _classical_tables(result: Any, seqs: Any, level: str,
                      correction: bool) -> tuple[xr.Dataset, xr.Dataset]:
    """Classical statistics per unit (dim ``level``) and of the pooled table."""
    from lagnest.lagtable import lag_table, table_statistics

    fd = result.fit_data
    zeros = ~np.asarray(fd["allowed"].transpose("given", "target").values, dtype=bool)
    if seqs is not None:
        if seqs.fingerprint != result.config.get("data_fingerprint"):
            raise LagnestDataError("seqs is not the corpus this result was fitted to "
                                   "(data fingerprints differ)")
        spec = result.spec
        tab = lag_table(seqs, spec["given"], spec["target"], lag=spec["lag"], by=level,
                        structural_zeros=zeros, correction=correction)
        units = tab.drop_sel(unit="pooled").drop_vars("is_pooled").rename(unit=level)
        return units, tab.sel(unit="pooled").drop_vars(["unit", "is_pooled"])
    counts = fd["counts"].transpose("session", "given", "target")
    if level == "dyad":
        dyad_of = xr.DataArray(fd["session_dyad"].values, dims="session", name="dyad")
        counts = counts.groupby(dyad_of).sum().reindex(dyad=fd["dyad"].values, fill_value=0)
        counts = counts.transpose("dyad", "given", "target")
    units = table_statistics(counts, structural_zeros=zeros, correction=correction)
    pooled = table_statistics(counts.sum(level), structural_zeros=zeros, correction=correction)
    return units, pooled


# =========================================================================== code rates


def _rate_frame(seqs: Sequences, code: str, by: str) -> pd.DataFrame:
    """Occurrences and coded segments of ``code`` per session or per (dyad, position)."""
    from lagnest import kernels

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
    :mod:`lagnest.sequence_stats`; the dashed reference line is the pooled rate over
    all coded segments of the corpus.

    Examples
    --------
    >>> import lagnest as ln
    >>> from lagnest.plots import code_rates
    >>> fig, ax, lines, pooled, data = code_rates(ln.datasets.load_example(), "MIA4")
    """
    if by not in ("session", "segment"):
        raise LagnestDataError(f"by must be 'session' or 'segment', got {by!r}")
    data = _rate_frame(seqs, code, by)
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
        Whether each panel's observed value is flagged (two-sided p < alpha).
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
) -> Panels:
    """Histogram of each replicated statistic with the observed value marked.

    Parameters
    ----------
    check : lagnest.ppc.PredictiveCheck
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

    Returns
    -------
    Panels
    """
    _check_alpha(alpha)
    names = list(stats) if stats is not None else sorted(
        check.statistics, key=lambda n: (check.observed[n].ndim, n))
    unknown = [n for n in names if n not in check.statistics]
    if unknown:
        raise LagnestDataError(f"unknown statistics {unknown}; checked: {check.statistics}")
    two = check.two_sided()
    panels: list[tuple[str, Any, Any, float]] = []
    for name in names:
        obs = check.observed[name]
        for index in np.ndindex(obs.shape):
            sel = dict(zip(obs.dims, index, strict=True))
            label = ", ".join(f"{obs[d].values[i]}" for d, i in sel.items())
            rep = check.replicated[name][sel].values
            if not np.isfinite(float(obs[sel])) or not np.isfinite(rep).any():
                continue
            finite = rep[np.isfinite(rep)]
            if _constant(np.append(finite, float(obs[sel]))):
                continue  # constant by construction (a correlation's diagonal): no check
            panels.append((f"{name}" + (f" [{label}]" if label else ""), rep,
                           float(obs[sel]), float(two[name][sel])))
    panels = panels[:max_panels]
    if not panels:
        raise LagnestDataError("nothing to draw: every selected statistic is undefined")
    fig, axes, flat = _panel_axes(ax, len(panels), (3.0, 2.2))
    flags = []
    for axis, (title, rep, obs, p2) in zip(flat, panels, strict=False):
        rep = rep[np.isfinite(rep)]
        axis.hist(rep, bins=1 if _constant(rep) else bins, color="0.75", edgecolor="0.55",
                  linewidth=0.5)
        flagged = p2 < alpha
        flags.append(flagged)
        axis.axvline(obs, color=_POSITIVE if flagged else "k", linewidth=2)
        axis.set_title(f"{title}\np = {p2:.3f}", fontsize=8,
                       color=_POSITIVE if flagged else "k")
        axis.tick_params(labelsize=7)
        axis.set_yticks([])
    fig.suptitle(f"{check.group} predictive check: {check.model}", fontsize=10)
    return Panels(fig, axes, [p[0] for p in panels], flags)
