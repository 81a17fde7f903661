"""Transition diagrams of lag tables and of transition models.

Transition diagrams: codes as nodes, transitions as arrows weighted by a classical
statistic of a lag table or by a posterior summary of a transition model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import xarray as xr

from lagnest._lang import check_lang, code_label, label_map, translate
from lagnest._summaries import CI_PROB
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyArrowPatch

from lagnest.classical.statistics import lift
from lagnest.viz.plots._common import (
    _FAINT,
    _NEGATIVE,
    _POSITIVE,
    PVALUE_GID,
    _check_alpha,
    _check_table,
    _critical,
    _figure_of,
    _lead_dims,
    _name,
    _pyplot,
    _select_units,
    _significant,
)

__all__ = [
    "Diagram",
    "transition_diagram",
]



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
    lang: str = "en"
    shown: dict[str, str] | None = None  # code -> label drawn (default the code)

    def label(self, code: str) -> str:
        """The text drawn for ``code``."""
        return (self.shown or {}).get(code, code)


def _edges_from_table(table: Any, weight: str, alpha: float, unit: Any, lang: str = "en",
                      codebook: Any = None) -> _Edges:
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
        w = lift(table).values
    else:
        w = table["trans_prob"].values
    z = np.asarray(table["adj_resid"].values, dtype=float)
    attrs = table.attrs
    title = (translate("fig.title", lang, given=code_label(attrs["given"], lang, codebook),
                       target=code_label(attrs["target"], lang, codebook),
                       lag=attrs.get("lag", "?"))
             if "given" in attrs and "target" in attrs else "")
    if unit is not None:
        title += f" ({unit})"
    given = tuple(str(v) for v in table["given"].values)
    target = tuple(str(v) for v in table["target"].values)
    return _Edges(
        given=given,
        target=target,
        weight=np.asarray(w, dtype=float),
        emphasised=_significant(table, alpha),
        sign=np.sign(np.nan_to_num(z)),
        drawn=np.isfinite(w) & (np.nan_to_num(w) > 0),
        weight_label=_name("lift" if weight == "lift" else "trans_prob", lang),
        emphasis_label=f"|z| > {_critical(alpha):.2f} (p < {alpha:g})",
        title=title,
        lang=lang,
        shown=_shown(given, target, lang, codebook),
    )


def _shown(given: tuple[str, ...], target: tuple[str, ...], lang: str,
           codebook: Any) -> dict[str, str] | None:
    """Code -> label drawn, None in English (codes drawn as they are)."""
    if lang == "en":
        return None
    return label_map(dict.fromkeys([*given, *target]), lang, codebook)


def _edges_from_result(result: Any, weight: str, level: str, ci_prob: float,
                       unit: Any, lang: str = "en", codebook: Any = None) -> _Edges:
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
    title = translate("fig.title", lang, given=code_label(spec.get("given"), lang, codebook),
                      target=code_label(spec.get("target"), lang, codebook),
                      lag=spec.get("lag"))
    title += f", {level if lang == 'en' else translate(f'level.{level}', lang)}"
    if unit is not None and unit_dims:
        title += f" {unit}"
    given = tuple(str(v) for v in lift["given"].values)
    target = tuple(str(v) for v in lift["target"].values)
    return _Edges(
        given=given,
        target=target,
        weight=w,
        emphasised=allowed & ((lo > 1) | (hi < 1)),
        sign=np.sign(np.nan_to_num(lift["mean"].values - 1.0)),
        drawn=allowed & np.isfinite(w) & (np.nan_to_num(w) > 0),
        weight_label=_name("lift" if weight == "lift" else "transition_probs", lang),
        emphasis_label=translate("diagram.credible", lang, pct=pct),
        title=title,
        lang=lang,
        shown=_shown(given, target, lang, codebook),
    )


def transition_diagram(
    source: Any,
    ax: Axes | None = None,
    weight: str = "lift",
    threshold: float | None = None,
    *,
    alpha: float = 0.05,
    level: str = "population",
    ci_prob: float = CI_PROB,
    unit: str | None = None,
    annotate: bool = True,
    legend: bool = True,
    lang: str = "en",
    codebook: Any = None,
) -> Diagram:
    """Transition diagram: codes as nodes, arrows from given to target codes.

    Parameters
    ----------
    source : xarray.Dataset or TransitionResult
        A lag table (:func:`lagnest.classical.lagtable.lag_table`; classical: arrows with a
        significant adjusted residual are emphasised) or a fitted
        :class:`~lagnest.models.transition.TransitionResult` (Bayesian: arrows whose
        ``ci_prob`` credible interval of the lift excludes 1 are emphasised).
    ax : Axes, optional
        Where to draw; default a new figure.
    weight : {"lift", "trans_prob"}, default "lift"
        Arrow width: the lift P(j | i) / P(j) or the transitional probability P(j | i)
        (posterior means for a result; ``"transition_probs"`` is accepted too).
    threshold : float, optional
        Arrows whose weight is below ``threshold`` are not drawn. Zero-weight cells and
        structural zeros are never drawn.
    alpha : float, default 0.05
        Significance level of the adjusted residuals (lag table only).
    level : {"population", "typical", "dyad", "session"}, default "population"
        Level of the posterior answers (result only); ``"dyad"`` and ``"session"`` need
        ``unit``.
    ci_prob : float, default 0.95
        Credible-interval probability (result only).
    unit : str, optional
        Unit of a lag table with a ``unit`` dim (default ``"pooled"``), or dyad/session of
        a result at those levels.
    annotate : bool, default True
        Write the weight on emphasised arrows. Each label sits on its arrow, moved along
        it where it would overlap another label, a code or a node (positions measured
        after the figure's layout).
    legend : bool, default True
        Explain colours and line styles below the diagram.
    lang : {"en", "es"}, default "en"
        Language of the title, legend and column headings; in Spanish the codes show
        their ``codebook`` labels (the keys of ``arrows`` and ``nodes`` stay codes).
    codebook : Codebook, optional
        Where Spanish code labels come from (e.g. ``seqs.codebook``).

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
    >>> from lagnest.viz.plots import transition_diagram
    >>> tab = ln.lag_table(ln.datasets.load_example(), "rupture", "rupture")
    >>> fig, ax, arrows, emphasised, nodes = transition_diagram(tab, weight="trans_prob")
    """
    lang = check_lang(lang)
    weight = {"transition_probs": "trans_prob"}.get(weight, weight)
    if weight not in ("lift", "trans_prob"):
        raise LagnestDataError(f"weight must be 'lift' or 'trans_prob', got {weight!r}")
    if isinstance(source, xr.Dataset):
        edges = _edges_from_table(source, weight, _check_alpha(alpha), unit, lang, codebook)
    elif hasattr(source, "lift") and hasattr(source, "transition_probs"):
        edges = _edges_from_result(source, weight, level, ci_prob, unit, lang, codebook)
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
    labels: list[tuple[float, Any, list[tuple[float, float]]]] = []
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
            arrow, spots = _self_loop(ax, pos[("given", g)], r, loop, style)
        else:
            # straight arrows cross in the middle: labels move along with the given row
            along = 0.5 if circular else 0.22 + 0.56 * i / max(len(edges.given) - 1, 1)
            arrow, spots = _arrow(ax, pos[("given", g)], pos[("target", t)],
                                  nodes[("given", g)], nodes[("target", t)],
                                  0.18 if circular else 0.0, style, along)
        arrows[(g, t)] = arrow
        if strong:
            emphasised.append((g, t))
            if annotate:
                text = ax.text(*spots[0], f"{edges.weight[i, j]:.2f}", fontsize=7.5,
                               color=colour, ha="center", va="center", zorder=4,
                               gid="arrow_label",
                               bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                     "alpha": 0.85})
                text.set_in_layout(False)
                labels.append((float(edges.weight[i, j]), text, spots))
    boxes, names = _node_labels(ax, edges, pos, r, loop, circular)
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
        ax.set_title(edges.title + translate("diagram.width", edges.lang,
                                             what=edges.weight_label), fontsize=10)
    if legend:
        _diagram_legend(ax, edges)
    if labels:
        unique = {id(n): n for n in nodes.values()}
        _place_labels(fig, labels, [*names, *unique.values()])
    return Diagram(fig, ax, arrows, tuple(emphasised), nodes)


def _place_labels(fig, labels: list[tuple[float, Any, list[tuple[float, float]]]],
                  fixed: list[Any], pad: float = 2.0) -> None:
    """Move arrow labels along their arrows until no two overlap (display space).

    The layout is settled first (``draw_without_rendering``), so the extents are those of
    the figure as drawn. The heaviest arrows choose first; each label takes the first of
    its spots (points along its own arrow, the middle first) where its box, grown by
    ``pad`` pixels, overlaps neither a code label, a node nor a label already placed; when
    every spot overlaps something, the one with the least overlap.
    """
    from matplotlib.transforms import Bbox

    fig.draw_without_rendering()
    taken = [a.get_window_extent() for a in fixed]

    def overlap(box: Bbox) -> float:
        total = 0.0
        for other in taken:
            w = min(box.x1, other.x1) - max(box.x0, other.x0)
            h = min(box.y1, other.y1) - max(box.y0, other.y0)
            if w > 0 and h > 0:
                total += w * h
        return total

    for _, text, spots in sorted(labels, key=lambda item: -item[0]):
        best = None
        for spot in spots:
            text.set_position(spot)
            box = text.get_window_extent().padded(pad)
            cost = overlap(box)
            if best is None or cost < best[0]:
                best = (cost, spot, box)
            if cost == 0:
                break
        assert best is not None
        text.set_position(best[1])
        taken.append(best[2])


def _arrow(ax, a, b, patch_a, patch_b, rad: float, style: dict,
           along: float = 0.5) -> tuple[Any, list[tuple[float, float]]]:
    """Arrow between two nodes; returns it and the spots where its label may go.

    The first spot is the middle of a curved arrow (matplotlib's arc3 quadratic Bezier at
    t = 0.5) or fraction ``along`` of a straight one; the next ones step away from it along
    the arrow, alternately towards either end (never onto the nodes), the last ones lie
    just beside the arrow.
    """
    from matplotlib.patches import FancyArrowPatch

    arrow = FancyArrowPatch(a, b, patchA=patch_a, patchB=patch_b, shrinkA=0, shrinkB=1,
                            connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                            mutation_scale=9 + 1.6 * style["linewidth"], **style)
    ax.add_patch(arrow)
    (x1, y1), (x2, y2) = a, b
    # arc3's control point: the chord's middle moved by rad x the chord, turned right
    cx, cy = (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)
    start = 0.5 if rad else along
    steps = [start + sign * k * 0.07 for k in range(1, 9) for sign in (1, -1)]
    ts = [start, *(t for t in steps if 0.15 <= t <= 0.85)]
    spots = [((1 - t) ** 2 * x1 + 2 * t * (1 - t) * cx + t**2 * x2,
              (1 - t) ** 2 * y1 + 2 * t * (1 - t) * cy + t**2 * y2) for t in ts]
    # then beside the arrow, off either side of those spots
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    nx, ny = (y1 - y2) / length, (x2 - x1) / length
    spots += [(x + side * nx, y + side * ny) for side in (0.07, -0.07, 0.13, -0.13)
              for x, y in spots[:7]]
    return arrow, spots


def _self_loop(ax, centre, r: float, size: float,
               style: dict) -> tuple[Any, list[tuple[float, float]]]:
    """A loop outside the node at ``centre`` (pointing away from the circle's middle).

    Returns the loop and the spots for its label: its far end first, then farther out
    and to either side.
    """
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
    spots = [at(r + 0.78 * size, 0.0), at(r + 0.78 * size, 0.35), at(r + 0.78 * size, -0.35),
             at(r + 0.6 * size, 0.6), at(r + 0.6 * size, -0.6)]
    return arrow, spots


def _text_box(x: float, y: float, text: str, ha: str, va: str,
              size: float = 9.5) -> tuple[float, float, float, float]:
    """Rough data extent of a label (the diagram's scale: about 1.5 inches per unit)."""
    w, h = 0.052 * len(text) * size / 9.5, 0.1 * size / 9.5
    left = {"left": x, "right": x - w, "center": x - w / 2}[ha]
    bottom = {"bottom": y, "top": y - h, "center": y - h / 2}[va]
    return left, left + w, bottom, bottom + h


def _node_labels(ax, edges: _Edges, pos, r: float, loop: float, circular: bool
                 ) -> tuple[list[tuple[float, float, float, float]], list[Any]]:
    """Code labels outside the nodes (beyond the self-loops on a circle).

    Returns their rough data extents (for the axis limits) and the Text artists.
    """
    boxes = []
    texts = []

    def put(x: float, y: float, text: str, ha: str, va: str, **kw: Any) -> None:
        texts.append(ax.text(x, y, text, ha=ha, va=va, fontsize=kw.pop("fontsize", 9.5),
                             gid="code_label", **kw))
        boxes.append(_text_box(x, y, text, ha, va))

    if circular:
        for code in edges.given:
            x, y = pos[("given", code)]
            phi = math.atan2(y, x)
            dist = 1.0 + r + loop + 0.06
            c, s = math.cos(phi), math.sin(phi)
            ha = "left" if c > 0.3 else "right" if c < -0.3 else "center"
            va = "bottom" if s > 0.3 else "top" if s < -0.3 else "center"
            put(dist * c, dist * s, edges.label(code), ha, va)
        return boxes, texts
    for side, codes, ha, dx in (("given", edges.given, "right", -r - 0.06),
                                ("target", edges.target, "left", r + 0.06)):
        for code in codes:
            x, y = pos[(side, code)]
            put(x + dx, y, edges.label(code), ha, "center")
    top = max(y for _, y in pos.values()) + r + 0.1
    put(-1.0, top, translate("diagram.given", edges.lang), "center", "bottom", style="italic")
    put(1.0, top, translate("diagram.target", edges.lang), "center", "bottom",
        style="italic")
    return boxes, texts


def _diagram_legend(ax, edges: _Edges) -> None:
    """Legend of colours (above / below the null) and faint arrows."""
    from matplotlib.lines import Line2D

    classical = edges.emphasis_label.startswith("|z|")
    above, below = ("z > 0", "z < 0") if classical else ("lift > 1", "lift < 1")
    handles = [
        Line2D([], [], color=_POSITIVE, lw=2.5, label=f"{above}, {edges.emphasis_label}"),
        Line2D([], [], color=_NEGATIVE, lw=2.5, label=f"{below}, {edges.emphasis_label}"),
        Line2D([], [], color=_FAINT, lw=1.2, alpha=0.6,
               label=translate("diagram.other", edges.lang)),
    ]
    drawn = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      ncol=1, frameon=False, fontsize=8.5)
    if classical:  # "p < alpha" of the adjusted residuals: a classical p-value
        for text in drawn.get_texts()[:2]:
            text.set_gid(PVALUE_GID)
