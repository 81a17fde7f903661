"""Lag tables of coded sequences, returned as labelled ``xarray.Dataset`` s.

Lag tables of coded sequences, returned as labelled ``xarray.Dataset`` s: tallies of
lag-L (or window) pairs per session, dyad or pooled (numba kernels), their statistics
(:mod:`lagnest.classical.statistics`), per-unit indices and the homogeneity test across
units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from lagnest import kernels
from lagnest._version import __version__
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences
from lagnest.classical.statistics import (
    TABLE_VARIABLES,
    _chi2_sf,
    _homogeneity_arrays,
    _Labels,
    _scalar,
    labelled_statistics,
    structural_zero_mask,
    table_statistics,
)

__all__ = [
    "INDICATOR_LEVELS",
    "POOLED",
    "count_table",
    "homogeneity_test",
    "lag_pairs",
    "lag_table",
    "per_unit_indices",
]

#: Label of the pooled entry along ``unit``.
POOLED = "pooled"
#: Coordinates of an indicator used as a given (or target) code.
INDICATOR_LEVELS = ("absent", "present")

_BY = {None, "session", "dyad"}


# =========================================================================== Sequences layer


@dataclass(frozen=True)
class _Stream:
    """A resolved given/target spec: codes (1-d) or an indicator set (2-d)."""

    spec: Any
    values: np.ndarray
    labels: tuple[str, ...]
    names: tuple[str, ...] | None = None

    @property
    def is_set(self) -> bool:
        """Whether this is an indicator set (one table per indicator)."""
        return self.names is not None


def _resolve(seqs: Sequences, spec: Any) -> _Stream:
    """Resolve a given/target spec through the Sequences (which raises on unknown specs)."""
    if seqs.is_indicator_set(spec):
        matrix, names = seqs.indicator_matrix(spec)
        return _Stream(spec, matrix, INDICATOR_LEVELS, tuple(names))
    codes, labels = seqs.compact_codes(spec)
    return _Stream(spec, codes, tuple(labels))


def _spec_name(spec: Any) -> str:
    """Readable name of a spec for attrs."""
    return ",".join(map(str, spec)) if isinstance(spec, list | tuple) else str(spec)


def _units(seqs: Sequences, by: str | None) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Block-to-unit map and unit labels for ``by``."""
    if by not in _BY:
        raise LagnestDataError(f"by must be None, 'session' or 'dyad', got {by!r}")
    enc = seqs.encoded
    if by is None:
        return None, ()
    if by == "session":
        return np.asarray(enc.block_session), tuple(seqs.session_labels)
    return np.asarray(enc.session_dyad)[enc.block_session], tuple(seqs.dyad_labels)


def _raw_counts(seqs: Sequences, g: _Stream, t: _Stream, lag: int, by: str | None,
                window: int | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Kernel counts ``(n_units, [P,] K, M)`` and the unit labels."""
    block_unit, unit_labels = _units(seqs, by)
    n_units = max(len(unit_labels), 1)
    offsets = seqs.encoded.block_offsets
    if g.is_set and t.is_set:
        raise LagnestDataError("only one of given and target may be a set of indicators")
    if g.is_set:
        out = kernels.set_lag_counts(g.values, t.values, offsets, block_unit, len(t.labels),
                                     n_units, lag, window)
    elif t.is_set:
        if window is not None:
            raise LagnestDataError("a window needs a categorical target, not an indicator set")
        swapped = kernels.set_lag_counts(t.values, g.values, offsets, block_unit,
                                         len(g.labels), n_units, -lag)
        out = np.ascontiguousarray(np.swapaxes(swapped, -1, -2))
    else:
        out = kernels.lag_counts(g.values, t.values, offsets, block_unit, len(g.labels),
                                 len(t.labels), n_units, lag, window)
    return out, unit_labels


def _count_labels(g: _Stream, t: _Stream, unit_labels: Sequence[str]) -> _Labels:
    """Labels of a raw count array."""
    lead: list[str] = []
    coords: dict[str, Sequence[Any]] = {}
    if unit_labels:
        lead.append("unit")
        coords["unit"] = list(unit_labels)
    names = g.names if g.is_set else t.names
    if names is not None:
        lead.append("indicator")
        coords["indicator"] = list(names)
    return _Labels(tuple(lead), coords, g.labels, t.labels)


def _lag_attrs(g: _Stream, t: _Stream, lag: int, by: str | None, window: int | None) -> dict:
    """Provenance attrs of a lag table."""
    return {
        "given": _spec_name(g.spec),
        "target": _spec_name(t.spec),
        "lag": int(lag),
        "window": 0 if window is None else int(window),
        "by": by or "none",
    }


def lag_pairs(
    seqs: Sequences, given: Any, target: Any, lag: int = 1, return_segment: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """One row ``(session, given code, target code)`` per coded lag pair, in segment order.

    The per-segment counterpart of :func:`count_table` (same pairs: within blocks, uncoded
    segments skipped); summing its rows per session gives ``count_table(..., by="session")``.

    Parameters
    ----------
    seqs : Sequences
    given, target : str
        Categorical stream names or single codes (see :meth:`Sequences.categorical`).
    lag : int, default 1
    return_segment : bool, default False
        Also return the position of each pair's target segment (t + lag) in the corpus.

    Returns
    -------
    ndarray of int64, shape (n_pairs, 3)
        The pairs; with ``return_segment`` a tuple ``(pairs, segment)`` where ``segment``
        (int64, shape (n_pairs,), increasing) indexes the segments of ``seqs``.
    """
    g, _ = seqs.categorical(given)
    h, _ = seqs.categorical(target)
    t = kernels.lag_pair_starts(seqs.encoded.block_offsets, int(lag))
    t = t[(g[t] >= 0) & (h[t + lag] >= 0)]
    session = seqs.encoded.segment_session[t]
    pairs = np.stack([session, g[t], h[t + lag]], axis=1).astype(np.int64)
    if return_segment:
        return pairs, (t + lag).astype(np.int64)
    return pairs


def count_table(
    seqs: Sequences,
    given: Any,
    target: Any,
    lag: int = 1,
    by: str | None = None,
    window: int | None = None,
) -> xr.DataArray:
    r"""Lag-pair counts as a labelled array (the sufficient statistics of the models).

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target : str or list of str
        Stream names or codes (see :meth:`Sequences.categorical`); one of them may be a set
        of indicators (see :meth:`Sequences.is_indicator_set`), giving one 2-row (or
        2-column) table per indicator along ``indicator``.
    lag : int, default 1
        Pairs (t, t + lag); 0 = co-occurrence, negative = backwards.
    by : {None, "session", "dyad"}
        Add a ``unit`` dim with one table per session or dyad (no pooled entry).
    window : int, optional
        Count targets anywhere in t+1..t+window, each distinct target code once per given
        segment (see :func:`lagnest.kernels.lag_counts`).

    Returns
    -------
    xarray.DataArray
        int64 counts on ``([unit,] [indicator,] given, target)``.

    Notes
    -----
    Pairs never cross a session boundary or a break, and a pair with an uncoded segment
    is skipped, so the pooled :math:`N = \sum_b (T_b - L)` over blocks b when every
    segment is coded.

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abab")]})
    >>> count_table(seqs, "code", "code").values
    array([[0, 2],
           [1, 0]])
    """
    raw, labels, attrs = _labelled_counts(seqs, given, target, lag, by, window)
    dims = (*labels.lead_dims, "given", "target")
    coords = {**labels.lead_coords, "given": list(labels.given),
              "target": list(labels.target)}
    return xr.DataArray(raw, dims=dims, coords=coords, name="counts", attrs=attrs)


def _labelled_counts(
    seqs: Sequences, given: Any, target: Any, lag: int, by: str | None, window: int | None
) -> tuple[np.ndarray, _Labels, dict[str, Any]]:
    """Raw counts, their labels and provenance attrs (the one counting path)."""
    lag, window = _normalise_lag(lag, window)
    g, t = _resolve(seqs, given), _resolve(seqs, target)
    raw, unit_labels = _raw_counts(seqs, g, t, lag, by, window)
    if not unit_labels:
        raw = raw[0]
    return raw, _count_labels(g, t, unit_labels), _lag_attrs(g, t, lag, by, window)


def _normalise_lag(lag: int, window: int | None) -> tuple[int, int | None]:
    """Validate lag/window as the kernels do; return window as None when unused."""
    lag, w = kernels.check_lag(lag, window)
    return lag, (w or None)


def lag_table(
    seqs: Sequences,
    given: Any,
    target: Any,
    lag: int = 1,
    by: str | None = None,
    structural_zeros: Any = None,
    window: int | None = None,
    correction: bool = False,
) -> xr.Dataset:
    r"""Lag table with the classical lag-sequential statistics.

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target : str or list of str
        Given (row, at t) and target (column, at t + lag) streams or codes; one may be an
        indicator set (one table per indicator along ``indicator``).
    lag : int, default 1
        0 = co-occurrence in one segment; negative lags look backwards.
    by : {None, "session", "dyad"}
        Per-unit tables along ``unit``; the last ``unit`` entry, labelled ``"pooled"``,
        is the pooled table over all units (coordinate ``is_pooled`` marks it). Select
        units with ``ds.drop_sel(unit="pooled")`` before summing over ``unit``.
    structural_zeros : None, "diagonal", bool mask or list of (given, target) pairs
        Cells that cannot occur (e.g. ``"diagonal"`` when a code cannot repeat).
    window : int, optional
        Count targets anywhere in t+1..t+window instead of at t + lag; each distinct
        target code counts once per given segment.
    correction : bool, default False
        +0.5 correction of ``log_odds`` / ``log_odds_se`` when a collapsed cell is 0.

    Returns
    -------
    xarray.Dataset
        Cell variables ``counts``, ``expected``, ``trans_prob``, ``adj_resid``,
        ``p_adj_resid``, ``yules_q``, ``odds_ratio``, ``log_odds``, ``log_odds_se``,
        ``phi`` on ``([unit,] [indicator,] given, target)``. Table statistics ``N``,
        ``X2``, ``G2``, ``df``, ``p_X2``, ``p_G2`` are attrs for one table; with a
        ``unit`` or ``indicator`` dim they are variables over those dims, and (one
        indicator) the attrs hold the pooled values. Attrs also record ``given``,
        ``target``, ``lag``, ``window``, ``by`` and ``lagnest_version``.
        ``ds.lagnest.text()`` renders it; ``ds.to_dataframe()`` gives a tidy frame.

    See Also
    --------
    table_statistics : the statistics and their formulas (Notes).
    count_table : counts only.
    lagnest.classical.permutation.permutation_test : permutation p-values.

    Notes
    -----
    Tallies never cross a session boundary or a break and skip uncoded segments; the
    pooled :math:`N = \sum_s (T_s - L)` over coded pairs. See :func:`table_statistics`
    for the statistics.

    References
    ----------
    .. [1] Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational
       methods for the behavioral sciences*. Cambridge University Press.

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("ababababa")]})
    >>> tab = lag_table(seqs, "code", "code")
    >>> tab.adj_resid.values.round(6)
    array([[-2.828427,  2.828427],
           [ 2.828427, -2.828427]])
    """
    if by is None:
        raw, labels, attrs = _labelled_counts(seqs, given, target, lag, by, window)
        return labelled_statistics(raw, labels, structural_zeros, correction, attrs)
    counts = _with_pooled(count_table(seqs, given, target, lag=lag, by=by, window=window))
    zeros = structural_zero_mask(structural_zeros, counts.shape[-2:],
                                 list(counts.given.values), list(counts.target.values))
    ds = table_statistics(counts, structural_zeros=zeros, correction=correction)
    ds.attrs.update(counts.attrs)
    ds = ds.assign_coords(is_pooled=("unit", counts["is_pooled"].values))
    if "indicator" not in ds.dims:
        pooled = ds.sel(unit=POOLED)
        ds.attrs.update({name: _scalar(pooled[name].values) for name in TABLE_VARIABLES})
    return ds


def _with_pooled(counts: xr.DataArray) -> xr.DataArray:
    """Append the pooled table as unit ``"pooled"`` with an ``is_pooled`` coordinate."""
    pooled = counts.sum("unit").expand_dims(unit=[POOLED])
    both = xr.concat([counts, pooled], dim="unit")
    both = both.assign_coords(is_pooled=("unit", [False] * counts.sizes["unit"] + [True]))
    both.attrs = counts.attrs
    return both


def per_unit_indices(
    seqs: Sequences,
    given: Any,
    target: Any,
    lag: int = 1,
    by: str = "session",
    correction: bool = False,
) -> pd.DataFrame:
    """Tidy frame of per-unit sequential indices (Yule's Q, log odds, adjusted residual).

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target, lag
        As in :func:`lag_table`.
    by : {"session", "dyad"}, default "session"
        The unit.
    correction : bool, default False
        +0.5 on all four collapsed cells when one is 0 (``log_odds``, ``log_odds_se``).

    Returns
    -------
    pandas.DataFrame
        One row per unit and cell: ``unit``, [``indicator``,] ``given``, ``target``,
        ``counts``, ``expected``, ``trans_prob``, ``adj_resid``, ``yules_q``,
        ``odds_ratio``, ``log_odds``, ``log_odds_se``, ``phi``, ``N`` (unit's pairs).
        The pooled table is not included.

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abab"), list("aabb")]})
    >>> per_unit_indices(seqs, "code", "code").shape
    (8, 13)
    """
    if by not in ("session", "dyad"):
        raise LagnestDataError(f"by must be 'session' or 'dyad', got {by!r}")
    ds = lag_table(seqs, given, target, lag=lag, by=by, correction=correction)
    ds = ds.drop_sel(unit=POOLED).drop_vars("is_pooled")
    names = ["counts", "expected", "trans_prob", "adj_resid", "yules_q", "odds_ratio",
             "log_odds", "log_odds_se", "phi"]
    frame = ds[names].to_dataframe().reset_index()
    n = ds["N"].to_dataframe().reset_index()
    return frame.merge(n, on=[d for d in ds["N"].dims])


def homogeneity_test(
    seqs: Sequences, given: Any, target: Any, lag: int = 1, by: str = "dyad"
) -> xr.Dataset:
    r"""Likelihood-ratio test that the transitional probabilities are equal across units.

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target, lag
        As in :func:`lag_table`.
    by : {"dyad", "session"}, default "dyad"
        The units compared.

    Returns
    -------
    xarray.Dataset
        Variables ``G2_given`` and ``df_given`` (each given row's contribution) on
        ``([indicator,] given)``; ``G2``, ``df``, ``p`` as attrs (or variables over
        ``indicator`` for an indicator set); attrs ``by`` and ``n_units``.

    Notes
    -----
    .. math::

        G^2_H = 2 \sum_u \sum_{i,j} x^u_{ij}
        \ln\frac{x^u_{ij}/r^u_i}{x_{ij}/r_i}

    where :math:`x = \sum_u x^u` is the pooled table. For each given row i the test is a
    test of independence in the :math:`U_i \times M_i` table of units by targets, where
    :math:`U_i` counts the units whose row i is non-empty and :math:`M_i` the targets with
    a non-zero pooled count in row i (structural zeros and unobserved targets drop out):

    .. math:: df = \sum_i (U_i - 1)(M_i - 1),

    which is :math:`K(M-1)(U-1)` when no row, unit-row or pooled cell is empty. p is the
    chi-square upper tail (NaN when df is 0).

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abababab"), list("aabbaabb")]})
    >>> res = homogeneity_test(seqs, "code", "code", by="session")
    >>> res.attrs["df"]
    2
    """
    if by not in ("session", "dyad"):
        raise LagnestDataError(f"by must be 'session' or 'dyad', got {by!r}")
    counts = count_table(seqs, given, target, lag=lag, by=by)
    ds = _homogeneity_dataset(counts, "unit")
    ds.attrs.update({k: v for k, v in counts.attrs.items() if k != "by"})
    ds.attrs.update(by=by, n_units=int(counts.sizes["unit"]), lagnest_version=__version__)
    return ds


def _homogeneity_dataset(counts: xr.DataArray, dim: str) -> xr.Dataset:
    """G2 and df of equal transitional probabilities across the tables along ``dim``.

    The labelled form of :func:`~lagnest.classical.statistics._homogeneity_arrays`, shared
    by :func:`homogeneity_test` (``dim="unit"``) and the stationarity test (``"part"``):
    ``G2_given`` and ``df_given`` on ``([indicator,] given)``; ``G2``, ``df``, ``p`` as
    attrs, or as variables over the other leading dims (``indicator``).
    """
    g2_row, df_row = _homogeneity_arrays(counts.transpose(dim, ...).values.astype(float))
    lead = tuple(d for d in counts.dims if d not in (dim, "given", "target"))
    coords = {d: counts[d].values for d in (*lead, "given")}
    ds = xr.Dataset({"G2_given": ((*lead, "given"), g2_row),
                     "df_given": ((*lead, "given"), df_row)}, coords=coords)
    g2, df = g2_row.sum(-1), df_row.sum(-1)
    p = _chi2_sf(g2, df)
    if lead:
        ds["G2"], ds["df"], ds["p"] = (lead, g2), (lead, df), (lead, p)
    else:
        ds.attrs.update(G2=float(g2), df=int(df), p=float(p))
    return ds
