"""Helpers shared by the figures: lazy pyplot, panel grids, checks of lag-table inputs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special

from lagnest._lang import WORDS, translate
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


__all__ = [
    "DIVERGING",
    "PVALUE_GID",
]


#: Cell statistics shown on a colour scale centred at 0 (diverging colormap).
DIVERGING = ("adj_resid", "yules_q", "log_odds", "phi")
#: How each variable is named on axes and colour bars.
_NAMES = {
    "adj_resid": "adjusted residual z",
    "counts": "count",
    "expected": "expected count",
    "trans_prob": "transitional probability",
    "transition_probs": "transitional probability",
    "yules_q": "Yule's Q",
    "log_odds": "log odds ratio",
    "odds_ratio": "odds ratio",
    "phi": "phi",
    "lift": "lift",
}


def _name(variable: str, lang: str = "en") -> str:
    """How ``variable`` is named on axes and colour bars in ``lang`` (:data:`_NAMES`)."""
    if lang == "en" or f"name.{variable}" not in WORDS:
        return _NAMES.get(variable, variable)
    return translate(f"name.{variable}", lang)


#: Prefix of each variable in a cell annotation (the heatmap's own value has none). A
#: transitional probability is "prob", never "p" (kept for classical p-values).
_PREFIX = {"counts": "n=", "trans_prob": "prob=", "expected": "e=", "yules_q": "Q=",
           "log_odds": "lor=", "adj_resid": "z=", "phi": "phi="}
#: ``gid`` of a figure's text that states a classical p-value ("p < 0.05"): the only text
#: of a figure where "p" is followed by a comparison and a number (tests/test_vocabulary.py).
PVALUE_GID = "pvalue"
_POSITIVE, _NEGATIVE, _FAINT = "#b2182b", "#2166ac", "0.55"


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



def _structural_mask(ds: xr.Dataset, structural_zeros: Any) -> np.ndarray:
    """Bool mask (..., given, target) of structural zeros to hatch.

    ``"auto"`` infers them when the table records structural zeros
    (``attrs["n_structural_zeros"] > 0``): a cell whose expected count is 0 although its
    row and column totals are positive can only be a structural zero of the
    quasi-independence fit. Anything else goes through
    :func:`lagnest.classical.statistics.structural_zero_mask`.
    """
    from lagnest.classical.statistics import structural_zero_mask

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
