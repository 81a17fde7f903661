"""Pattern tables, the sufficient statistics of lagged regressions.

Pattern tables, the sufficient statistics of lagged regressions: counts of a target code
per (session, pattern of predictor codes at the chosen lags), from the pattern kernels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from lagnest import kernels
from lagnest._version import __version__
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences

__all__ = [
    "PATTERN_TABLE_KIND",
    "PatternTable",
    "pattern_counts",
]


# =========================================================================== pattern tables

#: Kind recorded in the attrs of :meth:`PatternTable.to_dataset`.
PATTERN_TABLE_KIND = "lagnest.PatternTable"
_PATTERN_VARIABLES = ("counts", "patterns", "row_session", "segment_row", "predictor_levels",
                      "n_levels", "session_dyad")


def _readonly(array: Any, dtype: Any = None) -> np.ndarray:
    """A contiguous read-only copy."""
    out = np.array(array, dtype=dtype, copy=True, order="C")
    out.flags.writeable = False
    return out


def _str_tuple(values: Any) -> tuple[str, ...]:
    """Labels as a tuple of str (NetCDF may hand back bytes or object arrays)."""
    items = np.asarray(values).tolist()
    return tuple(v.decode() if isinstance(v, bytes) else str(v) for v in items)


@dataclass(frozen=True, eq=False)
class PatternTable:
    """Counts per (session, predictor pattern, target code): see :func:`pattern_counts`.

    Attributes
    ----------
    counts : ndarray of int64, shape (R, M)
        Valid target segments of each row, per target code.
    patterns : ndarray of int, shape (R, n_lags, F)
        Predictor codes of each row: ``patterns[r, j, f]`` is predictor f at ``u - lags[j]``
        (the smallest signed dtype holding the codes).
    row_session : ndarray of int64, shape (R,)
        Session index of each row; rows are sorted by session, then pattern.
    segment_row : ndarray of int64, shape (n_segments,)
        Row of each target segment, -1 when it is not a valid target segment.
    target : str
        The target spec.
    target_labels : tuple of str
        The M target codes.
    predictors : tuple of str
        The F predictor specs.
    predictor_labels : tuple of tuple of str
        The codes of each predictor.
    lags : tuple of int
        The lags, in the order of the ``lag`` axis.
    session_labels, dyad_labels : tuple of str
        Labels of the sessions and dyads.
    session_dyad : ndarray of int64, shape (n_sessions,)
        Dyad index of each session.
    """

    counts: np.ndarray
    patterns: np.ndarray
    row_session: np.ndarray
    segment_row: np.ndarray
    target: str
    target_labels: tuple[str, ...]
    predictors: tuple[str, ...]
    predictor_labels: tuple[tuple[str, ...], ...]
    lags: tuple[int, ...]
    session_labels: tuple[str, ...]
    session_dyad: np.ndarray
    dyad_labels: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        """Number of rows R (distinct session and pattern)."""
        return int(self.counts.shape[0])

    @property
    def n_valid(self) -> int:
        """Number of valid target segments N (the sum of ``counts``)."""
        return int(self.counts.sum())

    @property
    def row_dyad(self) -> np.ndarray:
        """Dyad index of each row, ``(R,)``."""
        return self.session_dyad[self.row_session]

    @property
    def radices(self) -> tuple[int, ...]:
        """Number of levels of each predictor."""
        return tuple(len(labels) for labels in self.predictor_labels)

    def to_dataset(self) -> xr.Dataset:
        """Labelled copy as an :class:`xarray.Dataset` that NetCDF (h5netcdf) can store.

        Returns
        -------
        xarray.Dataset
            ``counts (row, target)``, ``patterns (row, lag, predictor)``, ``row_session
            (row)``, ``segment_row (segment)``, ``predictor_levels (predictor, level)``
            (codes padded with ``""``), ``n_levels (predictor)`` and ``session_dyad
            (session)``; coordinates ``target``, ``lag``, ``predictor``, ``session`` and
            ``dyad`` carry the labels; attrs ``kind``, ``target`` and ``lagnest_version``.
            :meth:`from_dataset` inverts it.
        """
        width = max((len(labels) for labels in self.predictor_labels), default=0)
        levels = np.full((len(self.predictors), width), "", dtype=object)
        for f, labels in enumerate(self.predictor_labels):
            levels[f, : len(labels)] = labels
        coords = {
            "row": np.arange(self.n_rows, dtype=np.int64),
            "target": np.asarray(self.target_labels, dtype=str),
            "lag": np.asarray(self.lags, dtype=np.int64),
            "predictor": np.asarray(self.predictors, dtype=str),
            "session": np.asarray(self.session_labels, dtype=str),
            "dyad": np.asarray(self.dyad_labels, dtype=str),
        }
        data = {
            "counts": (("row", "target"), self.counts),
            "patterns": (("row", "lag", "predictor"), self.patterns),
            "row_session": (("row",), self.row_session),
            "segment_row": (("segment",), self.segment_row),
            "predictor_levels": (("predictor", "level"), levels.astype(str)),
            "n_levels": (("predictor",), np.asarray(self.radices, dtype=np.int64)),
            "session_dyad": (("session",), self.session_dyad),
        }
        attrs = {"kind": PATTERN_TABLE_KIND, "target": self.target,
                 "lagnest_version": __version__}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def _summary_print(self, rows: int = 12) -> Any:
        """The print: what was counted, the most frequent patterns and their target counts."""
        import pandas as pd

        from lagnest._summaries import ResultSummary

        many = len(self.lags) > 1
        on = ", ".join(self.predictors)
        by = (f"by {on} at lag{'s' if many else ''} {', '.join(str(lag) for lag in self.lags)}"
              if self.predictors else "(no predictor)")
        title = (f"Pattern table: {self.target} {by}; {self.n_valid:,} valid target "
                 f"segments in {self.n_rows:,} rows (session x pattern), "
                 f"{len(self.session_labels):,} sessions of {len(self.dyad_labels):,} dyads")

        # an indicator ("not MIA4", "MIA4") prints "MIA4" when present, nothing when absent
        indicator = [len(levels) == 2 and levels[0] == f"not {levels[1]}"
                     for levels in self.predictor_labels]

        def code(f: int, value: int) -> str:
            levels = self.predictor_labels[f]
            return (levels[1] if value else "") if indicator[f] else levels[value]

        # patterns summed over sessions, the most frequent first
        labels = [" | ".join(", ".join(c for f, v in enumerate(at_lag) if (c := code(f, int(v))))
                             or "-" for at_lag in row) for row in np.asarray(self.patterns)]
        targets = [str(t) for t in self.target_labels]
        frame = pd.DataFrame(np.asarray(self.counts, dtype=np.int64), columns=targets)
        frame.insert(0, "pattern", labels if self.predictors else "(no predictor)")
        table = frame.groupby("pattern", sort=False).sum()
        table["total"] = table[targets].sum(axis=1)
        table = table.sort_values("total", ascending=False, kind="stable")
        order = " | ".join(f"t-{lag}" if lag else "t" for lag in self.lags)
        note = " (an indicator shown when present; -: none present)" if any(indicator) else ""
        lines = [f"pattern: codes of {on} at {order}{note}"] if self.predictors else []
        if len(table) > rows:
            lines.append(f"Printed: the {rows} most frequent of {len(table):,} patterns.")
            table = table.iloc[:rows]
        columns = {
            ", ".join(targets): f"target segments with that code of {self.target} after the "
                                "pattern, summed over sessions",
            "total": "every valid target segment after the pattern",
        }
        more = (".counts (rows x target codes), .patterns (rows x lags x predictors), "
                ".row_session, .segment_row; every row labelled: .to_dataset()")
        return ResultSummary(title, table, lines=tuple(lines), columns=columns,
                             notes=(f"Full data: {more}.",))

    def __repr__(self) -> str:
        return str(self._summary_print())

    def _repr_html_(self) -> str:
        return self._summary_print()._repr_html_()

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> PatternTable:
        """Rebuild a table from :meth:`to_dataset` output (e.g. read back from NetCDF).

        Parameters
        ----------
        ds : xarray.Dataset
            A dataset written by :meth:`to_dataset`.

        Returns
        -------
        PatternTable

        Raises
        ------
        LagnestDataError
            When ``ds`` is not a pattern table.
        """
        missing = [v for v in _PATTERN_VARIABLES if v not in ds.variables]
        if ds.attrs.get("kind") != PATTERN_TABLE_KIND or missing:
            raise LagnestDataError(
                f"not a pattern table: expected attrs kind={PATTERN_TABLE_KIND!r} and "
                f"variables {list(_PATTERN_VARIABLES)}; missing {missing or 'the kind attr'}"
            )
        levels = np.asarray(ds["predictor_levels"].values)
        n_levels = np.asarray(ds["n_levels"].values).tolist()
        predictor_labels = tuple(_str_tuple(levels[f, :n]) for f, n in enumerate(n_levels))
        return cls(
            counts=_readonly(ds["counts"].transpose("row", "target").values, np.int64),
            patterns=_readonly(ds["patterns"].transpose("row", "lag", "predictor").values),
            row_session=_readonly(ds["row_session"].values, np.int64),
            segment_row=_readonly(ds["segment_row"].values, np.int64),
            target=str(ds.attrs["target"]),
            target_labels=_str_tuple(ds["target"].values),
            predictors=_str_tuple(ds["predictor"].values),
            predictor_labels=predictor_labels,
            lags=tuple(int(v) for v in np.asarray(ds["lag"].values).tolist()),
            session_labels=_str_tuple(ds["session"].values),
            session_dyad=_readonly(ds["session_dyad"].values, np.int64),
            dyad_labels=_str_tuple(ds["dyad"].values),
        )


def _pattern_specs(predictors: Any) -> tuple[str, ...]:
    """Predictor specs as a tuple of distinct names (a single str is one predictor)."""
    specs = (predictors,) if isinstance(predictors, str) else tuple(predictors)
    repeated = sorted({p for p in specs if specs.count(p) > 1}, key=str)
    if repeated:
        raise LagnestDataError(f"predictors must be distinct; repeated: {repeated}")
    return specs


def pattern_counts(
    seqs: Sequences,
    target: str,
    predictors: Sequence[str] | str,
    lags: Sequence[int] | int = (1,),
) -> PatternTable:
    r"""Counts of a target per session and pattern of lagged predictors.

    The sufficient statistics of a multinomial-logit regression of the target at segment
    u on the predictors at ``u - L`` for every lag L.

    Parameters
    ----------
    seqs : Sequences
        The data.
    target : str
        Categorical spec of the target (see :meth:`Sequences.categorical`): a categorical
        stream (its M codes), an indicator code (``"MIA4"``: ``("not MIA4", "MIA4")``) or a
        code of a categorical stream (0/1).
    predictors : sequence of str
        Distinct categorical specs, as ``target``; may be empty (F = 0). Expand an
        indicator stream into its codes first (``seqs.indicator_matrix("mia")[1]``).
    lags : sequence of int or int, default (1,)
        Distinct lags >= 0; 0 = the target's own segment (co-occurrence).

    Returns
    -------
    PatternTable
        ``counts (R, M)``, ``patterns (R, n_lags, F)``, ``row_session (R,)``,
        ``segment_row (n_segments,)`` and the labels; ``.to_dataset()`` labels it.

    Raises
    ------
    LagnestDataError
        On an unknown or indicator-set spec, repeated predictors, a negative, repeated or
        missing lag, or more possible patterns than a 64-bit key holds.

    See Also
    --------
    count_table : one predictor, one lag, as a K x M table per unit.
    lagnest.kernels.pattern_keys : the rule and the key, on arrays.

    Notes
    -----
    Target segment u is *valid* iff its target is coded and, for every lag L, ``u - L``
    lies in u's block (pairs never cross a session start or a break, as in
    :func:`count_table`) and every predictor is coded at ``u - L``. A block of length T
    thus offers at most :math:`\max(T - \max_L L, 0)` target segments, and an uncoded
    predictor anywhere in the window drops the segment.

    Each valid segment adds 1 to ``counts[r, target[u]]`` of the row r of its session and
    pattern (the predictor codes at ``u - lags[j]`` for every j). Rows are the distinct
    (session, pattern) pairs that occur, sorted by session, then pattern
    (lexicographically, first lag and first predictor most significant), so
    ``counts.sum()`` is N, the number of valid target segments, and ``segment_row`` maps
    each valid segment to its row (-1 otherwise). With no predictors each session with a
    valid segment has one row.

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abab"), list("aa")]})
    >>> tab = pattern_counts(seqs, "code", ["code"], lags=[1])
    >>> tab.counts.tolist(), tab.patterns[:, 0, 0].tolist(), tab.row_session.tolist()
    ([[0, 2], [1, 0], [1, 0]], [0, 1, 0], [0, 0, 1])
    >>> tab.segment_row.tolist()
    [-1, 0, 1, 0, -1, 2]
    """
    lag_array = kernels.check_pattern_lags(lags)
    specs = _pattern_specs(predictors)
    h, target_labels = seqs.categorical(target)
    resolved = [seqs.categorical(spec) for spec in specs]
    predictor_labels = tuple(tuple(labels) for _, labels in resolved)
    radices = np.asarray([len(labels) for labels in predictor_labels], dtype=np.int64)
    kernels.check_pattern_radices(radices, lag_array.size)
    enc = seqs.encoded
    codes = np.empty((h.shape[0], len(specs)), dtype=kernels.pattern_code_dtype(radices))
    for f, (values, _) in enumerate(resolved):
        codes[:, f] = values
    keys = kernels.pattern_keys(codes, radices, h, enc.block_offsets, lag_array)
    row_session, row_key, counts, segment_row = kernels.pattern_rows(
        keys, h, enc.session_offsets, len(target_labels))
    patterns = kernels.decode_pattern_keys(row_key, radices, lag_array.size)
    for arr in (counts, patterns, row_session, segment_row):
        arr.flags.writeable = False
    return PatternTable(
        counts=counts,
        patterns=patterns,
        row_session=row_session,
        segment_row=segment_row,
        target=str(target),
        target_labels=tuple(target_labels),
        predictors=tuple(str(s) for s in specs),
        predictor_labels=predictor_labels,
        lags=tuple(int(v) for v in lag_array),
        session_labels=tuple(seqs.session_labels),
        session_dyad=_readonly(enc.session_dyad, np.int64),
        dyad_labels=tuple(seqs.dyad_labels),
    )
