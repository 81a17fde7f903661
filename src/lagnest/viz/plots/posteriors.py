"""Forest plots of posterior summaries, beside the classical estimates.

Forest plots of posterior summaries (lagnest's own intervals), beside the classical
estimates when given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from lagnest.data.sequences import Sequences
from lagnest._lang import check_lang, code_label, column_name, translate
from lagnest._summaries import CI_PROB
from lagnest.classical.statistics import lift
from lagnest.viz.plots._common import _figure_of, _name, _pyplot

__all__ = [
    "Forest",
    "forest",
    "transition_forest",
]



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
    pooled_label: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    legend: bool = True,
    lang: str = "en",
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
        ``estimates.attrs["ci_prob"]`` (else 0.95).
    pooled_label : str, optional
        Label of the pooled row (default "pooled"; "agrupado" in Spanish).
    xlabel, title : str, optional
    legend : bool, default True
    lang : {"en", "es"}, default "en"
        Language of the legend, the pooled row's label and "n/a".

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

    lang = check_lang(lang)
    if pooled_label is None:
        pooled_label = translate("forest.pooled", lang)
    est = _intervals(estimates, label, "estimates")
    pool = _scalar_interval(pooled, "pooled") if pooled is not None else None
    ci = float(ci_prob if ci_prob is not None else estimates.attrs.get("ci_prob", CI_PROB))
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
                      label=translate("forest.partial", lang, pct=f"{ci:.0%}"))]
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
                ax.annotate(translate("n/a", lang), (1.0, y - 0.2),
                            xycoords=("axes fraction", "data"),
                            ha="right", va="center", fontsize=7.5, color="0.4")
        what = (translate("forest.wald", lang, pct=f"{ci:.0%}") if classical_se is not None
                else translate("forest.point", lang))
        handles.append(Line2D([], [], color="0.45", marker="s", markerfacecolor="white",
                              lw=1.1, label=translate("forest.classical", lang,
                                                      label=column_name(label, lang),
                                                      what=what)))
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
    ci_prob: float = CI_PROB,
    correction: bool = True,
    lang: str = "en",
    codebook: Any = None,
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
        :func:`lagnest.classical.lagtable.lag_table` on it; by default from the result's
        ``fit_data`` counts through :func:`lagnest.classical.statistics.table_statistics` (the same
        numbers).
    ax : Axes, optional
    level : {"dyad", "session"}, default "dyad"
        Units of the rows; the pooled row is the population level (or the typical dyad
        when the fit has no population level).
    ci_prob : float, default 0.95
    correction : bool, default True
        Classical log odds with +0.5 in every cell of a collapsed 2 x 2 table that has a
        zero cell (Haldane-Anscombe), so sparse units still get a value.
    lang : {"en", "es"}, default "en"
        Language of the title, axis label and legend; in Spanish codes show their
        ``codebook`` labels.
    codebook : Codebook, optional
        Where Spanish code labels come from (e.g. ``seqs.codebook``).

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
    units, pooled_table = result.classical_tables(level, seqs, correction)
    name = _QUANTITIES[quantity]
    if name == "trans_prob" or name == "yules_q" or name == "log_odds":
        values = units[name]
        pooled_value = pooled_table[name]
    else:
        values, pooled_value = lift(units), lift(pooled_table)
    values = xr.concat([values.sel(cell), pooled_value.sel(cell).expand_dims({level: ["pooled"]})],
                       dim=level)
    se = None
    if name == "log_odds":
        se = xr.concat([units["log_odds_se"].sel(cell),
                        pooled_table["log_odds_se"].sel(cell).expand_dims({level: ["pooled"]})],
                       dim=level)
    spec = result.spec
    lang = check_lang(lang)
    pretty = _name(quantity, lang)

    def shown(code: Any) -> str:
        return code_label(code, lang, codebook)

    return forest(
        estimates, pooled, ax=ax, classical=values, classical_se=se, label=level,
        ci_prob=ci_prob, lang=lang,
        pooled_label=translate(f"level.{pooled_level}", lang) if pooled_level else None,
        xlabel=translate("tforest.xlabel", lang, what=pretty, given=shown(given),
                         target=shown(target), lag=spec.get("lag")),
        title=translate("tforest.title", lang, given=shown(spec.get("given")),
                        target=shown(spec.get("target")), what=pretty,
                        level=translate(f"level.{level}", lang)),
    )
