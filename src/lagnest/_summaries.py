"""Posterior summaries shared by every result: one credible-interval default, one format.

Every answer of a lagnest result is an :class:`xarray.Dataset` made by :func:`summarise`:
``mean``, ``median``, ``sd``, ``lower``, ``upper`` (equal-tailed interval of probability
``ci_prob``, default :data:`CI_PROB`), ``p_positive`` (posterior probability that the
quantity exceeds its null value) and ``p_direction``. :class:`ResultSummary` is the
printable summary of a fit: a header, one table with a line per column saying what it is,
and the sampler diagnostics, no line wider than :data:`WIDTH` (:func:`format_table` and
:func:`wrap` print the other tables of lagnest the same way).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from lagnest._lang import check_lang, code_label, column_name, translate

__all__ = ["CI_PROB", "WIDTH", "ResultSummary", "column_lines", "feature_label", "format_table",
           "summarise", "validate_ci_prob", "wrap"]

#: Default probability mass of every credible interval lagnest prints: 95%, the level of
#: the field's reporting standards (APA's JARS) and the one at which the lagged regression's
#: default meets its operating-characteristics criterion (false positives at most 0.05 per
#: null slope with coverage of at least 0.85 at six dyads; docs/lagged_regression.md).
CI_PROB: float = 0.95
_SAMPLE_DIMS = ("chain", "draw")


def validate_ci_prob(ci_prob: Any) -> float:
    """Return ``ci_prob`` as a float in (0, 1) or raise ``ValueError`` saying what was given."""
    if isinstance(ci_prob, bool) or not isinstance(ci_prob, int | float | np.floating):
        raise ValueError(f"ci_prob must be a number in (0, 1), got {ci_prob!r}")
    value = float(ci_prob)
    if not 0 < value < 1:
        raise ValueError(f"ci_prob must be in (0, 1), got {ci_prob!r}")
    return value


def summarise(
    x: xr.DataArray,
    ci_prob: float = CI_PROB,
    null: xr.DataArray | float | None = 0.0,
    null_label: str = "0",
) -> xr.Dataset:
    """Mean, median, sd, equal-tailed interval and P(x > null) over the sample dims.

    Parameters
    ----------
    x : xarray.DataArray
        Draws with dims ``chain`` and ``draw`` (and any others, kept).
    ci_prob : float, default :data:`CI_PROB`
        Probability mass of the equal-tailed credible interval.
    null : DataArray or float or None, default 0
        Value compared against, draw by draw (e.g. p(j) for a transition probability);
        None when no value is a meaningful reference (no ``p_positive``, ``p_direction``).
    null_label : str
        How ``null`` is named in ``attrs``.

    Returns
    -------
    xarray.Dataset
        ``mean``, ``median``, ``sd``, ``lower``, ``upper``, ``p_positive``,
        ``p_direction``; attrs ``ci_prob``, ``ci_kind``, ``null``. NaN draws propagate (a
        NaN cell stays NaN). For a skewed quantity (an odds ratio) the median and the mean
        differ: the median is the exponentiated median log odds ratio, the mean is pulled
        up by the right tail (a mean odds ratio of 1.08 may sit beside P(OR > 1) = 0.46).
    """
    ci_prob = validate_ci_prob(ci_prob)
    lo, hi = (1 - ci_prob) / 2, (1 + ci_prob) / 2
    q = x.quantile([lo, 0.5, hi], dim=_SAMPLE_DIMS, skipna=False)
    data = {
        "mean": x.mean(_SAMPLE_DIMS, skipna=False),
        "median": q.sel(quantile=0.5, drop=True),
        "sd": x.std(_SAMPLE_DIMS, skipna=False),
        "lower": q.sel(quantile=lo, drop=True),
        "upper": q.sel(quantile=hi, drop=True),
    }
    attrs: dict[str, Any] = {"ci_prob": ci_prob, "ci_kind": "equal-tailed"}
    if null is not None:
        above = (x > null).where(x.notnull())
        p_pos = above.mean(_SAMPLE_DIMS, skipna=False)
        data.update(p_positive=p_pos, p_direction=np.maximum(p_pos, 1 - p_pos))
        attrs.update({
            "null": null_label,
            "p_positive": f"posterior probability that the quantity exceeds {null_label}",
            "p_direction": "max(p_positive, 1 - p_positive)",
        })
    ds = Answer(data)
    ds.attrs = attrs
    return ds


#: Widest line of every printed summary, check and table (a terminal's 100 columns).
WIDTH: int = 100
#: Rows an :class:`Answer` prints before it says how many more there are.
ANSWER_ROWS: int = 30

#: What the columns of a posterior summary (:func:`summarise`) are.
_ANSWER_COLUMNS = {
    "mean": "posterior mean",
    "median": "posterior median",
    "sd": "posterior standard deviation",
    "lower": "lower end of the equal-tailed credible interval",
    "upper": "upper end of the equal-tailed credible interval",
    "p_positive": "posterior probability that the quantity exceeds {null}",
    "p_direction": "max(p_positive, 1 - p_positive): the posterior probability of the "
                   "more probable direction",
}


class Answer(xr.Dataset):
    """A posterior summary (:func:`summarise`): an :class:`xarray.Dataset` that prints as a table.

    Everything a Dataset does works unchanged (``ans["mean"]``, ``ans.sel(...)``,
    ``ans.to_dataframe()``); printing it shows the values as a table of at most
    :data:`WIDTH` columns and :data:`ANSWER_ROWS` rows, with one line per column meaning,
    instead of xarray's listing of arrays.
    """

    __slots__ = ()

    def _text(self) -> str:
        names = [str(v) for v in self.data_vars]
        ci = self.attrs.get("ci_prob")
        what = (f"{round(100 * float(ci), 1):g}% {self.attrs.get('ci_kind', '')} intervals"
                if ci is not None else "")
        dims = [str(d) for d in self.dims]
        n = int(np.prod([self.sizes[d] for d in dims]))
        frame = (self._head().to_dataframe()[names] if dims else
                 pd.DataFrame({n: [self[n].item()] for n in names}))
        head = (f"Posterior summary: {n} value{'s' if n != 1 else ''}"
                + (f" ({' x '.join(dims)})" if dims else "") + (f", {what}" if what else ""))
        lines = [wrap(head.replace("  ", " "))]
        if n > ANSWER_ROWS:
            lines.append(f"First {ANSWER_ROWS} rows of {n:,}: .to_dataframe() has them all.")
            frame = frame.iloc[:ANSWER_ROWS]
        lines += ["", format_table(frame, index=bool(dims)), "", "Columns:"]
        null = str(self.attrs.get("null", "0"))
        lines += column_lines({k: v.replace("{null}", null) for k, v in _ANSWER_COLUMNS.items()
                               if k in names})
        lines.append("(an xarray Dataset: ans['mean'], ans.sel(...), ans.to_dataframe())")
        return "\n".join(lines)

    def _head(self) -> xr.Dataset:
        """The leading values, at least :data:`ANSWER_ROWS` rows of the table if there are.

        Outer dims are cut first (one value each while the inner ones alone give enough
        rows), so a large answer is not turned into a whole DataFrame to print 30 rows.
        """
        cut: dict[str, slice] = {}
        dims = list(self.dims)
        for i, dim in enumerate(dims):
            inner = int(np.prod([self.sizes[d] for d in dims[i + 1:]]))
            keep = -(-ANSWER_ROWS // inner)  # ceiling
            cut[dim] = slice(0, keep)
            if keep > 1:
                break
        return self.isel(cut)

    def _safe_text(self) -> str:
        """The table; xarray's own listing if the values do not make one (mixed dims)."""
        try:
            return self._text()
        except (ValueError, TypeError, KeyError):
            return xr.Dataset.__repr__(self)

    def __repr__(self) -> str:
        return self._safe_text()

    def __str__(self) -> str:
        return self._safe_text()

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(self._safe_text())}</pre>"


def _cell_text(value: Any, spec: str) -> str:
    """One cell as text: NaN and None blank, integers without decimals, floats by ``spec``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "" if not np.isfinite(value) else spec.format(value)
    return str(value)


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def format_table(
    frame: pd.DataFrame,
    width: int = WIDTH,
    float_format: str = "{:.3f}",
    formats: Mapping[str, str] | None = None,
    index: bool = True,
) -> str:
    """A DataFrame as plain text no wider than ``width``: blank NaN cells, split if wide.

    Index levels come first (left-aligned; a repeated outer label is printed once, as
    pandas does), then the columns (numbers right-aligned). Integer columns print without
    decimals, float columns with ``formats[column]`` or ``float_format``, NaN and None as
    blank cells. When the table is too wide for one block and its index has several
    levels, the outer label moves to a line of its own above its rows; when it is still
    too wide, the columns are split into blocks that each repeat the index. A single cell
    wider than the page is cut with an ellipsis.

    Parameters
    ----------
    frame : pandas.DataFrame
    width : int, default :data:`WIDTH`
    float_format : str, default "{:.3f}"
    formats : mapping of str to str, optional
        Format of particular columns, e.g. ``{"ess_bulk": "{:.0f}"}``.
    index : bool, default True
        Print the index.

    Returns
    -------
    str
    """
    formats = dict(formats or {})
    columns = []
    for name in frame.columns:
        series = frame[name]
        spec = formats.get(str(name), float_format)
        right = pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
            series.dtype)
        columns.append((str(name), [_cell_text(v, spec) for v in series.tolist()], right))
    natural = [max([len(h), *(len(c) for c in cells)]) for h, cells, _ in columns]
    names = [str(n) if n is not None else "" for n in frame.index.names] if index else []
    rows = [k if isinstance(k, tuple) else (k,) for k in frame.index] if index else []
    flat = _index_cells(rows, len(names))
    layouts = [(names, flat, None)]
    if len(names) > 1:  # outer labels on lines of their own
        inner = _index_cells([r[1:] for r in rows], len(names) - 1)
        inner = [["  " + cells[0], *cells[1:]] for cells in inner]
        head = [f"{names[0]} / {names[1]}" if names[0] else names[1], *names[2:]]
        layouts.append((head, inner, [str(r[0]) for r in rows]))
    for heads, cells, groups in layouts:
        index_width = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(heads)]
        if _fits(index_width, natural, width) or groups is not None:
            break
    # the index may take what the widest column leaves; the columns what the index leaves
    budget = max(width - max(natural, default=0) - 2, 10)
    while (sum(index_width) + 2 * len(index_width) > budget
           and max(index_width, default=0) > 8):
        index_width[int(np.argmax(index_width))] -= 1
    lead = sum(index_width) + 2 * len(index_width)
    widths = [min(w, max(width - lead, 8)) for w in natural]
    blocks: list[list[int]] = [[]]
    used = lead
    for j, w in enumerate(widths):
        if blocks[-1] and used + w > width:
            blocks.append([])
            used = lead
        blocks[-1].append(j)
        used += w + 2
    out = []
    for block in blocks:
        lines = []
        for r in range(-1, len(frame)):
            if r >= 0 and groups is not None and (r == 0 or groups[r] != groups[r - 1]):
                lines.append(_clip(groups[r], width))
            parts = [_clip(heads[i] if r < 0 else cells[r][i], w).ljust(w)
                     for i, w in enumerate(index_width)]
            for j in block:
                head, values, right = columns[j]
                text = _clip(head if r < 0 else values[r], widths[j])
                parts.append(text.rjust(widths[j]) if right else text.ljust(widths[j]))
            lines.append("  ".join(parts).rstrip())
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _index_cells(rows: Sequence[tuple], n_levels: int) -> list[list[str]]:
    """Index labels per row, an outer label left blank where it repeats the row above."""
    out = []
    previous: tuple = ()
    for row in rows:
        out.append(["" if (level < n_levels - 1 and previous[: level + 1] == row[: level + 1])
                    else str(value) for level, value in enumerate(row)])
        previous = row
    return out


def _fits(index_width: Sequence[int], natural: Sequence[int], width: int) -> bool:
    """Whether the index and every column fit one block of ``width``."""
    return sum(index_width) + 2 * len(index_width) + sum(natural) + 2 * len(natural) - 2 <= width


def wrap(text: str, width: int = WIDTH, indent: str | None = None) -> str:
    """``text`` wrapped at ``width``; continuation lines keep its indent plus two spaces."""
    lines = []
    for line in str(text).splitlines() or [""]:
        lead = line[: len(line) - len(line.lstrip())]
        more = lead + "  " if indent is None else indent
        lines.append(textwrap.fill(line, width=width, subsequent_indent=more,
                                   break_on_hyphens=False) if len(line) > width else line)
    return "\n".join(lines)


def _unwrap(text: str) -> str:
    """Lines wrapped with a four-space continuation (``Diagnostics``' form) joined again."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("    ") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return "\n".join(lines)


def column_lines(columns: Mapping[str, str], width: int = WIDTH) -> list[str]:
    """One wrapped line per column meaning: ``  name  what it is`` (names aligned)."""
    if not columns:
        return []
    pad = min(max(len(k) for k in columns), 24)
    out = []
    for key, text in columns.items():
        head = key.ljust(pad)
        indent = " " * (pad + 4) if len(key) <= pad else "    "
        out.append(textwrap.fill(f"  {head}  {text}", width=width, subsequent_indent=indent,
                                 break_on_hyphens=False))
    return out


#: Index levels of a summary whose values are codes (shown with their labels in Spanish).
_CODE_LEVELS = ("given", "target", "category")


_STATE = re.compile(r"([A-Za-z_][\w.-]*)=([\w.-]+)")
_SEGMENT = re.compile(r"\[(first segment|segment (\d+))\]")


def feature_label(name: Any, lang: str, codebook: Any) -> Any:
    """A regression column's name in ``lang``: ``rupture=withdrawal[t-1]`` with labels."""
    if not isinstance(name, str):
        return name
    text = _STATE.sub(lambda m: f"{code_label(m.group(1), lang, codebook)}="
                                f"{code_label(m.group(2), lang, codebook)}", name)
    return _SEGMENT.sub(lambda m: "[" + (translate("first_segment", lang) if m.group(2) is None
                                         else translate("segment_n", lang, n=m.group(2)))
                        + "]", text)


def _split_keys(key: str) -> list[str]:
    """Column names of a meaning's key (``"prob_lower, prob_upper"`` names two)."""
    return [k.strip() for k in key.split(", ")]


@dataclass(frozen=True)
class ResultSummary:
    """Printable summary of a fit: header lines, one table, its legend, notes, diagnostics.

    Printing (``str``, a notebook's HTML) shows the header, the ``shown`` columns of the
    table (no line wider than ``width``: a wide table is split into blocks), one line per
    column saying what it is, why blank cells are blank, the columns left out of the
    print, the notes and the sampler diagnostics. The whole table stays in ``.table`` and
    :meth:`to_dataframe`.

    Attributes
    ----------
    title : str
        First line (model and what was fitted).
    table : pandas.DataFrame
        Every estimate (for analysis: ``.table`` or :meth:`to_dataframe`).
    lines : tuple of str
        Further header lines (data, structure, sampler).
    notes : tuple of str
        How to read the table beyond its columns (comparisons, multiplicity).
    diagnostics : str
        Sampler diagnostics text ("" for prior draws).
    float_format : str
        Format of float cells.
    extra : dict
        Further tables (e.g. residual correlations).
    columns : dict of str to str
        What each column is, one entry per column or group of columns (a key may name
        several, ``"prob_lower, prob_upper"``); printed one line each below the table.
    shown : tuple of str, optional
        The columns printed (default every column).
    blanks : dict of str to str
        Why a column's cells may be empty (NaN), e.g. ``{"AME": "not defined for
        interaction columns"}``; printed below the table when the column shows blanks.
    width : int
        Widest printed line (default :data:`WIDTH`).
    lang : {"en", "es"}
        Language of the print. Give ``table``, ``shown``, ``columns`` and ``blanks`` with
        lagnest's (English) column names: in Spanish the table's columns and index names
        are renamed (``lagnest._lang.COLUMNS``), codes in the index levels ``given``,
        ``target`` and ``category`` show their codebook labels, and the words of the
        print ("Columns:", "Blank cells:", ...) are Spanish. The meanings themselves are
        written in ``lang`` by the caller.
    codebook : Codebook, optional
        Where Spanish code labels come from (default: codes stay codes).
    formats : dict of str to str
        Format of particular columns (lagnest's English names), e.g. ``{"n_pairs":
        "{:.0f}"}`` for a count kept as float so that NaN can mark a blank cell.
    """

    title: str
    table: pd.DataFrame
    lines: Sequence[str] = ()
    notes: Sequence[str] = ()
    diagnostics: str = ""
    float_format: str = "{:.3f}"
    extra: dict[str, Any] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)
    shown: Sequence[str] | None = None
    blanks: Mapping[str, str] = field(default_factory=dict)
    width: int = WIDTH
    lang: str = "en"
    codebook: Any = field(default=None, repr=False, compare=False)
    formats: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lang = check_lang(self.lang)
        if lang == "en":
            return
        table = self.table.copy()
        names = table.index.names or ()
        for level in _CODE_LEVELS:
            if level in names:
                table = table.rename(index=lambda v: code_label(v, lang, self.codebook),
                                     level=level)
        if "feature" in names:
            table = table.rename(index=lambda v: feature_label(v, lang, self.codebook),
                                 level="feature")
        table.index = table.index.set_names(
            [column_name(n, lang) for n in table.index.names])
        table.columns = [column_name(c, lang) for c in table.columns]
        table.attrs = dict(self.table.attrs)
        set_ = object.__setattr__
        set_(self, "table", table)
        if self.shown is not None:
            set_(self, "shown", tuple(column_name(c, lang) for c in self.shown))
        set_(self, "columns", {", ".join(column_name(c, lang) for c in _split_keys(k)): v
                               for k, v in self.columns.items()})
        set_(self, "blanks", {column_name(k, lang): v for k, v in self.blanks.items()})
        set_(self, "formats", {column_name(k, lang): v for k, v in self.formats.items()})

    def to_dataframe(self) -> pd.DataFrame:
        """The whole table (a copy), every column included."""
        return self.table.copy()

    # ------------------------------------------------------------------ parts
    def _shown(self) -> list[str]:
        if self.shown is None:
            return [str(c) for c in self.table.columns]
        return [c for c in self.shown if c in self.table.columns]

    def _legend(self) -> tuple[dict[str, str], list[str], list[str]]:
        """Meanings of the printed columns, blank-cell notes and the columns left out."""
        shown = self._shown()
        meanings = {k: v for k, v in self.columns.items()
                    if any(c in shown for c in _split_keys(k))}
        frame = self.table[shown]
        empty = [c for c in shown if frame[c].isna().any()]
        reasons: dict[str, list[str]] = {}
        for column in empty:
            reasons.setdefault(self.blanks.get(column, translate("sum.undefined", self.lang)),
                               []).append(column)
        blank = [f"{', '.join(cols)}: {why}" for why, cols in reasons.items()]
        hidden = [str(c) for c in self.table.columns if str(c) not in shown]
        return meanings, blank, hidden

    def _text_table(self) -> str:
        frame = self.table[self._shown()]
        frame = frame.rename_axis(columns=None)
        return format_table(frame, self.width, self.float_format, formats=self.formats)

    def __str__(self) -> str:
        w = self.width
        meanings, blank, hidden = self._legend()
        parts = [wrap(self.title, w), *(wrap(line, w) for line in self.lines), "",
                 self._text_table()]
        lang = self.lang
        if meanings:
            parts += ["", translate("sum.columns", lang), *column_lines(meanings, w)]
        if blank:
            parts.append(wrap(translate("sum.blank", lang) + "; ".join(blank) + ".", w, "  "))
        if hidden:
            parts.append(wrap(translate("sum.hidden", lang) + ", ".join(hidden) + ".", w,
                              "  "))
        if self.notes:
            parts += ["", *(wrap(n, w, "  ") for n in self.notes)]
        if self.diagnostics:
            parts += ["", wrap(translate("sum.diagnostics", lang) + _unwrap(self.diagnostics),
                               w, "    ")]
        return "\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from html import escape

        meanings, blank, hidden = self._legend()
        head = "".join(f"<p>{escape(line)}</p>" for line in (self.title, *self.lines))
        frame = self.table[self._shown()].rename_axis(columns=None)
        table = frame.to_html(float_format=self.float_format.format, na_rep="")
        legend = ""
        if meanings:
            legend = "<p><small>" + "<br>".join(
                f"<b>{escape(k)}</b>: {escape(v)}" for k, v in meanings.items()) + "</small></p>"
        lang = self.lang
        if blank:
            legend += (f"<p><small>{escape(translate('sum.blank', lang))}"
                       f"{escape('; '.join(blank))}.</small></p>")
        if hidden:
            legend += (f"<p><small>{escape(translate('sum.hidden', lang))}"
                       f"{escape(', '.join(hidden))}.</small></p>")
        notes = "".join(f"<p><small>{escape(n)}</small></p>" for n in self.notes)
        diag = (f"<pre>{escape(translate('sum.diagnostics', lang) + self.diagnostics)}</pre>"
                if self.diagnostics else "")
        return head + table + legend + notes + diag
