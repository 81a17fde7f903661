"""Compact text rendering of lag tables, and the ``ds.lagnest`` accessor.

The p-values printed here are classical (the chi-square tests of the table, the adjusted
residuals' two-sided normal p-values) and keep the letter "p"; a transitional
probability is never written "p" (docs/classical.md, "Words and symbols").
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import xarray as xr

from lagnest._lang import check_lang, code_label, code_labels, translate

__all__ = ["LagnestAccessor", "format_lag_table"]

_CELL_DIMS = ("given", "target")


def _number(value: float, digits: int) -> str:
    """Format a float, NaN as a dash."""
    return "-" if not np.isfinite(value) else f"{value:.{digits}f}"


def _cell(count: float, z: float, p: float, alpha: float, digits: int) -> str:
    """``count (z)`` plus ``*`` when the adjusted residual is significant at ``alpha``."""
    count_text = f"{count:g}"
    mark = "*" if np.isfinite(p) and p < alpha else " "
    return f"{count_text} ({_number(z, digits)}){mark}"


def _grid(ds: xr.Dataset, alpha: float, digits: int, lang: str = "en",
          codebook: Any = None) -> list[str]:
    """Lines of one given x target grid."""
    given = code_labels(ds["given"].values, lang, codebook)
    target = code_labels(ds["target"].values, lang, codebook)
    counts = ds["counts"].values
    z = ds["adj_resid"].values
    p = ds["p_adj_resid"].values
    cells = [[_cell(counts[i, j], z[i, j], p[i, j], alpha, digits) for j in range(len(target))]
             for i in range(len(given))]
    row_totals = [f"{v:g}" for v in counts.sum(1)]
    total = translate("text.total", lang)
    head = [translate("text.corner", lang), *target, total]
    body = [[given[i], *cells[i], row_totals[i]] for i in range(len(given))]
    body.append([total, *[f"{v:g}" for v in counts.sum(0)], f"{counts.sum():g}"])
    widths = [max(len(row[k]) for row in [head, *body]) for k in range(len(head))]
    lines = ["  ".join(cell.rjust(w) if k else cell.ljust(w)
                       for k, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in [head, *body]]
    return lines


def _p_value(p: float) -> str:
    """A classical p-value: ``p = 0.0360``; ``p < 0.0001`` below that; NaN as ``p = -``."""
    if np.isfinite(p) and p < 0.0001:
        return "p < 0.0001"
    return f"p = {_number(p, 4)}"


def _summary(values: dict, digits: int, lang: str = "en") -> str:
    """One line with N, G2, X2, df and p-values."""
    parts = [f"N = {values['N']:g}"]
    df = translate("text.df", lang)
    for stat, p in (("G2", "p_G2"), ("X2", "p_X2")):
        if stat in values:
            parts.append(f"{stat} = {_number(values[stat], digits)} "
                         f"({df} {values['df']:g}, {_p_value(values[p])})")
    return ", ".join(parts)


def _table_values(ds: xr.Dataset) -> dict:
    """Table-level statistics of a single-table Dataset (variables or attrs)."""
    names = ("N", "X2", "G2", "df", "p_X2", "p_G2")
    return {n: float(ds[n].values) if n in ds.data_vars else ds.attrs.get(n, np.nan)
            for n in names}


def format_lag_table(ds: xr.Dataset, alpha: float = 0.05, digits: int = 2, *,
                     lang: str = "en", codebook: Any = None) -> str:
    r"""Render a lag table as text: counts with adjusted residuals, significant cells starred.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`lagnest.lag_table` (or :func:`lagnest.table_statistics`).
    alpha : float, default 0.05
        Cells whose adjusted residual has a two-sided p below ``alpha`` get a ``*``.
    digits : int, default 2
        Decimals of residuals and chi-square statistics.
    lang : {"en", "es"}, default "en"
        Language of the words; in Spanish codes show their ``codebook`` labels.
    codebook : Codebook, optional
        Where Spanish code labels come from (e.g. ``seqs.codebook``).

    Returns
    -------
    str
        One block per table (per unit and/or indicator), each cell ``count (z)``.

    Examples
    --------
    >>> import numpy as np
    >>> from lagnest.classical.statistics import table_statistics
    >>> print(format_lag_table(table_statistics(np.array([[0, 4], [4, 0]]))))
    ... # doctest: +NORMALIZE_WHITESPACE
    Lag table
    N = 8, G2 = 11.09 (df 1, p = 0.0009), X2 = 8.00 (df 1, p = 0.0047)
    given \ target           0           1  total
    0               0 (-2.83)*   4 (2.83)*      4
    1                4 (2.83)*  0 (-2.83)*      4
    total                    4           4      8
    <BLANKLINE>
    cells: count (adjusted residual); * p < 0.05 (two-sided)
    """
    lang = check_lang(lang)
    title = translate("text.title", lang)
    if "lag" in ds.attrs:
        attrs = ds.attrs
        kind = (translate("text.window", lang, n=attrs["window"]) if attrs.get("window")
                else translate("text.lag", lang, n=attrs["lag"]))
        title = translate("text.title_of", lang,
                          given=code_label(attrs.get("given"), lang, codebook),
                          target=code_label(attrs.get("target"), lang, codebook), kind=kind)
    extra = [d for d in ds["counts"].dims if d not in _CELL_DIMS]
    blocks = [title]
    for combo in itertools.product(*(list(ds[d].values) for d in extra)):
        sub = ds.sel(dict(zip(extra, combo, strict=True))) if extra else ds
        header = ", ".join(f"{d} = {v}" for d, v in zip(extra, combo, strict=True))
        lines = [header] if header else []
        lines.append(_summary(_table_values(sub), digits, lang))
        lines.extend(_grid(sub, alpha, digits, lang, codebook))
        blocks.append("\n".join(lines))
    blocks.append(translate("text.cells", lang, alpha=alpha))
    return "\n\n".join(blocks[:1]) + "\n" + "\n\n".join(blocks[1:])


@xr.register_dataset_accessor("lagnest")
class LagnestAccessor:
    """``ds.lagnest``: lagnest helpers on lag-table Datasets."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def text(self, alpha: float = 0.05, digits: int = 2) -> str:
        """Text rendering; see :func:`format_lag_table`."""
        return format_lag_table(self._ds, alpha=alpha, digits=digits)

    def print(self, alpha: float = 0.05, digits: int = 2) -> None:
        """Print :meth:`text`."""
        print(self.text(alpha=alpha, digits=digits))
