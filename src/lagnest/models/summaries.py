"""Posterior summaries shared by every result: one credible-interval default, one format.

Every answer of a lagnest result is an :class:`xarray.Dataset` made by :func:`summarise`:
``mean``, ``median``, ``sd``, ``lower``, ``upper`` (equal-tailed interval of probability
``ci_prob``, default :data:`CI_PROB`), ``p_positive`` (posterior probability that the
quantity exceeds its null value) and ``p_direction``. :class:`ResultSummary` is the
printable summary of a fit: a header, one table and the sampler diagnostics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["CI_PROB", "ResultSummary", "summarise", "validate_ci_prob"]

#: Default probability mass of every credible interval.
CI_PROB: float = 0.9
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
    ds = xr.Dataset(data)
    ds.attrs = attrs
    return ds


@dataclass(frozen=True)
class ResultSummary:
    """Printable summary of a fit: header lines, one table, notes and diagnostics.

    Attributes
    ----------
    title : str
        First line (model and what was fitted).
    table : pandas.DataFrame
        The estimates (``.table`` for analysis; printing shows every column).
    lines : tuple of str
        Further header lines (data, structure, sampler).
    notes : tuple of str
        How to read the table (what each column means).
    diagnostics : str
        Sampler diagnostics text ("" for prior draws).
    """

    title: str
    table: pd.DataFrame
    lines: Sequence[str] = ()
    notes: Sequence[str] = ()
    diagnostics: str = ""
    float_format: str = "{:.3f}"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dataframe(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def __str__(self) -> str:
        body = self.table.to_string(float_format=self.float_format.format, max_cols=None)
        parts = [self.title, *self.lines, "", body]
        if self.notes:
            parts += ["", *self.notes]
        if self.diagnostics:
            parts += ["", "Diagnostics: " + self.diagnostics]
        return "\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<p>{line}</p>" for line in (self.title, *self.lines))
        notes = "".join(f"<p><small>{n}</small></p>" for n in self.notes)
        diag = f"<pre>Diagnostics: {self.diagnostics}</pre>" if self.diagnostics else ""
        table = self.table.to_html(float_format=self.float_format.format)
        return head + table + notes + diag
