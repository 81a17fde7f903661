"""`Sequences`: coded segments nested in sessions nested in dyads.

The one data container of lagnest. Every reader returns one and every analysis takes one.
It is validated once at construction (see :mod:`lagnest.data._parse`), immutable afterwards,
and encodes once into the contiguous integer arrays the numba kernels read (see
``ARCHITECTURE.md``).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from lagnest._lang import check_lang, code_label, translate
from lagnest.data import _parse, algebra
from lagnest.data._codes import parse_values
from lagnest.data._columns import MAX_ROWS_REPORTED
from lagnest.data._streams import (
    QUALIFIER,
    UNCODED,
    CodeIndex,
    CodeRef,
    StreamData,
    label_of,
    readonly,
)
from lagnest.data.codebook import Codebook, StreamInfo
from lagnest.errors import LagnestDataError, ProblemCollector

__all__ = ["UNCODED", "CodeRef", "Encoded", "Sequences", "StreamData"]


@dataclass(frozen=True)
class Encoded:
    """Integer arrays describing the nesting, for the kernels (all int64, read-only).

    Attributes
    ----------
    session_offsets : ndarray
        ``(n_sessions + 1,)``; session ``s`` holds segments ``offsets[s]:offsets[s+1]``.
    block_offsets : ndarray
        ``(n_blocks + 1,)``; maximal runs of segments without a break or a gap in segment
        numbers. Lag pairs are tallied only inside a block.
    block_session : ndarray
        ``(n_blocks,)``; the session of each block.
    session_dyad : ndarray
        ``(n_sessions,)``; the dyad of each session.
    """

    session_offsets: np.ndarray
    block_offsets: np.ndarray
    block_session: np.ndarray
    session_dyad: np.ndarray

    @property
    def segment_session(self) -> np.ndarray:
        """Session index of every segment, ``(n_segments,)``."""
        lengths = np.diff(self.session_offsets)
        return np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)


class Sequences:
    """Coded segments nested in dyad > session > segment.

    Build one with :meth:`from_frame`, :meth:`from_sequences`, :meth:`from_arrays` or a
    reader (:func:`lagnest.read_table`, ...). Never mutated after construction.

    Examples
    --------
    >>> from lagnest import Sequences
    >>> seqs = Sequences.from_sequences(
    ...     {"code": [["a", "b", "a"], ["b", "b"]]}, dyads=["d1", "d1"])
    >>> seqs.n_segments, seqs.n_sessions, seqs.n_dyads
    (5, 2, 1)
    """

    def __init__(
        self,
        *,
        session_labels: Sequence[str],
        session_dyads: Sequence[str],
        lengths: np.ndarray,
        segment_numbers: np.ndarray,
        breaks: np.ndarray,
        streams: Mapping[str, StreamData],
        ratings: Mapping[str, np.ndarray],
        session_table: pd.DataFrame,
        dyad_table: pd.DataFrame,
        codebook: Codebook | None,
        key_values: Mapping[str, Mapping[str, Any]] | None = None,
        column_order: Sequence[str] | None = None,
        key_names: tuple[str, str, str, str] = ("dyad", "session", "segment", "break"),
        nested_sessions: bool = False,
    ) -> None:
        # Private: use the from_* constructors, which validate. Arrays are copied read-only.
        self._session_labels = tuple(session_labels)
        dyad_labels = tuple(dict.fromkeys(session_dyads))
        self._dyad_labels = dyad_labels
        dyad_index = {d: i for i, d in enumerate(dyad_labels)}
        self._session_dyad = readonly([dyad_index[d] for d in session_dyads], np.int64)
        self._lengths = readonly(lengths, np.int64)
        self._segment_numbers = readonly(segment_numbers, np.int64)
        self._breaks = readonly(breaks, bool)
        self._streams = {
            name: StreamData(
                s.kind,
                tuple(s.codes),
                readonly(s.values, np.int64 if s.kind == "categorical" else np.int8),
                s.derived,
            )
            for name, s in streams.items()
        }
        self._ratings = {name: readonly(v, np.float64) for name, v in ratings.items()}
        self._session_table = session_table.copy()
        self._dyad_table = dyad_table.copy()
        self._codebook = codebook
        self._key_values = {k: dict(v) for k, v in (key_values or {}).items()}
        self._column_order = tuple(column_order) if column_order is not None else None
        self._key_names = key_names
        self._nested_sessions = bool(nested_sessions)
        self._code_index = CodeIndex(self._streams)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        *,
        sessions: Sequence[Any],
        dyads: Sequence[Any],
        lengths: Sequence[int] | np.ndarray,
        streams: Mapping[str, StreamData],
        segment_numbers: np.ndarray | None = None,
        breaks: np.ndarray | None = None,
        ratings: Mapping[str, np.ndarray] | None = None,
        session_covariates: pd.DataFrame | None = None,
        dyad_attributes: pd.DataFrame | None = None,
        codebook: str | Codebook | None = None,
        derive: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
    ) -> Sequences:
        """Build from arrays already grouped by session (the fast path of simulators).

        Parameters
        ----------
        sessions, dyads : sequence
            Label of each session and of its dyad, one entry per session, in order.
        lengths : array of int
            Number of segments of each session; segments are stored session after session.
        streams : mapping of str to StreamData
            Stream name to its kind, codes and values (see :class:`StreamData`). Two
            streams may share code labels (address them as ``"stream:code"``).
        segment_numbers : array of int, optional
            Segment order within each session; default ``1..T``.
        breaks : array of bool, optional
            ``True`` where a break precedes the segment (no lag pair crosses it).
        ratings : mapping of str to float array, optional
            Per-segment ratings (NaN = not rated).
        session_covariates : DataFrame, optional
            Indexed by session label; questionnaire items are scored by the codebook.
        dyad_attributes : DataFrame, optional
            Indexed by dyad label.
        codebook : str or Codebook, optional
            Validates codes and ranges, derives lumped streams.
        derive : mapping, optional
            Overrides of derived-stream groups, e.g. ``{"resolution": {...}}``.

        Returns
        -------
        Sequences
        """
        return cls._build(
            sessions=[label_of(s) for s in sessions],
            dyads=[label_of(d) for d in dyads],
            lengths=lengths,
            streams=streams,
            segment_numbers=segment_numbers,
            breaks=breaks,
            ratings=ratings,
            session_covariates=session_covariates,
            dyad_attributes=dyad_attributes,
            book=_parse.resolve_codebook(codebook, derive),
        )

    @classmethod
    def _build(
        cls,
        *,
        sessions: list[str],
        dyads: list[str],
        lengths: Sequence[int] | np.ndarray,
        streams: Mapping[str, StreamData],
        segment_numbers: np.ndarray | None,
        breaks: np.ndarray | None,
        ratings: Mapping[str, np.ndarray] | None,
        session_covariates: pd.DataFrame | None,
        dyad_attributes: pd.DataFrame | None,
        book: Codebook | None,
        origin: _parse.Origin | None = None,
        decimal: str = ".",
        **layout: Any,
    ) -> Sequences:
        """Validate arrays grouped by session and build (``layout``: table key names etc.)."""
        problems = ProblemCollector()
        lengths = np.asarray(lengths, dtype=np.int64)
        n = int(lengths.sum()) if lengths.size else 0
        if not (len(sessions) == len(dyads) == lengths.size):
            raise LagnestDataError(
                f"sessions ({len(sessions)}), dyads ({len(dyads)}) and lengths "
                f"({lengths.size}) must have one entry per session"
            )
        labels = pd.Series(sessions, dtype=object)
        if labels.duplicated().any():
            dup = labels[labels.duplicated()].tolist()
            problems.add("duplicate session labels", value=dup[:5], expected="unique labels")
        for i in np.flatnonzero(lengths <= 0)[:MAX_ROWS_REPORTED]:
            problems.add(
                f"session {sessions[i]!r} is empty",
                value=int(lengths[i]),
                expected="at least one segment",
            )
        problems.raise_if_any()
        if segment_numbers is None:
            starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
            segment_numbers = np.arange(1, n + 1, dtype=np.int64) - starts
        segment_numbers = np.asarray(segment_numbers)
        breaks = np.zeros(n, dtype=bool) if breaks is None else np.asarray(breaks, dtype=bool)
        for name, arr in (("segment_numbers", segment_numbers), ("breaks", breaks)):
            if arr.shape != (n,):
                raise LagnestDataError(f"{name} has shape {arr.shape}; expected ({n},)")
        problems.raise_if_any()
        _parse.check_segment_order(segment_numbers, lengths, sessions, problems)
        streams = dict(streams)
        _parse.check_streams(streams, n, book, problems)
        ratings = {k: np.asarray(v, dtype=np.float64) for k, v in (ratings or {}).items()}
        _parse.check_ratings(ratings, n, book, problems)
        problems.raise_if_any()
        if book is not None:
            streams.update(_parse.derive_streams(book, streams))
        session_table = _parse.session_table(
            sessions, dyads, lengths, session_covariates, book, problems, origin, decimal
        )
        dyad_table = _parse.dyad_table(dyads, lengths, dyad_attributes, problems, decimal)
        problems.raise_if_any()
        return cls(
            session_labels=sessions,
            session_dyads=dyads,
            lengths=lengths,
            segment_numbers=segment_numbers,
            breaks=breaks,
            streams=streams,
            ratings=ratings,
            session_table=session_table,
            dyad_table=dyad_table,
            codebook=book,
            **layout,
        )

    @classmethod
    def from_sequences(
        cls,
        streams: Mapping[str, Sequence[Sequence[Any]]],
        dyads: Sequence[Any] | None = None,
        breaks: Sequence[Sequence[int]] | None = None,
        *,
        sessions: Sequence[Any] | None = None,
        codes: Mapping[str, Sequence[str]] | None = None,
        codebook: str | Codebook | None = None,
    ) -> Sequences:
        """Build from nested lists: the quickest way in.

        Parameters
        ----------
        streams : mapping of str to list of lists
            Stream name to a list of sessions, each a list of codes. Labels make a
            categorical stream; 0/1 values make an indicator stream of one code named after
            the stream. ``None`` (or a missing-value word such as ``"NA"``) marks an
            uncoded segment. Streams may share code labels.
        dyads : list, optional
            Dyad of each session; default one dyad per session.
        breaks : list of list of int, optional
            Per session, the positions (0-based) of segments preceded by a break.
        sessions : list, optional
            Session labels; default ``"s1"``, ``"s2"``, ...
        codes : mapping of str to list of str, optional
            Full code list (and order) of a categorical stream, to keep codes that never
            occur.
        codebook : str or Codebook, optional
            Codebook validating the codes.

        Returns
        -------
        Sequences

        Examples
        --------
        >>> seqs = Sequences.from_sequences({"code": [["a", "b", "a"], ["b", "b"]]},
        ...                                 dyads=["d1", "d1"])
        >>> seqs.categorical("code")[1]
        ('a', 'b')
        """
        if not streams:
            raise LagnestDataError("no streams given: expected at least one stream of codes")
        names = list(streams)
        shapes = {name: [len(s) for s in streams[name]] for name in names}
        first = shapes[names[0]]
        for name in names[1:]:
            if shapes[name] != first:
                raise LagnestDataError(
                    f"stream {name!r} has sessions of lengths {shapes[name]}; expected the "
                    f"same lengths as stream {names[0]!r}: {first}"
                )
        n_sessions = len(first)
        sessions = (
            list(sessions) if sessions is not None else [f"s{i + 1}" for i in range(n_sessions)]
        )
        dyads = list(dyads) if dyads is not None else list(sessions)
        if len(dyads) != n_sessions or len(sessions) != n_sessions:
            raise LagnestDataError(
                f"dyads ({len(dyads)}) and sessions ({len(sessions)}) must have one entry per "
                f"session ({n_sessions})"
            )
        lengths = np.asarray(first, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])

        def where(i: int) -> dict:
            s = int(np.searchsorted(offsets, i, side="right") - 1)
            return {"message_prefix": f"session {sessions[s]!r}, position {i - offsets[s]}"}

        problems = ProblemCollector()
        data = {}
        for name in names:
            flat = np.empty(int(lengths.sum()), dtype=object)
            flat[:] = list(itertools.chain.from_iterable(streams[name]))
            data[name] = parse_values(
                name, pd.Series(flat, dtype=object), (codes or {}).get(name), problems, where
            )
        problems.raise_if_any()
        break_array = np.zeros(int(lengths.sum()), dtype=bool)
        if breaks is not None:
            for s, positions in enumerate(breaks):
                for p in positions:
                    if not 0 <= p < lengths[s]:
                        raise LagnestDataError(
                            f"break at position {p} of session {sessions[s]!r}: expected a "
                            f"position in 0..{lengths[s] - 1}"
                        )
                    break_array[offsets[s] + p] = True
        return cls.from_arrays(
            sessions=sessions,
            dyads=dyads,
            lengths=lengths,
            streams=data,
            breaks=break_array,
            codebook=codebook,
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        codebook: str | Codebook | None = None,
        dyad: str = "dyad",
        session: str = "session",
        segment: str = "segment",
        break_column: str = "break",
        sessions: pd.DataFrame | None = None,
        dyads: pd.DataFrame | None = None,
        session_columns: Sequence[str] = (),
        ignore: Sequence[str] = (),
        derive: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
        codes: Mapping[str, Sequence[str]] | None = None,
        source: str | None = None,
        sessions_source: str | None = None,
        decimal: str = ".",
        nested_sessions: bool = False,
        indicators: Mapping[str, Sequence[str]] | None = None,
        ratings: Sequence[str] = (),
        dyads_source: str | None = None,
    ) -> Sequences:
        """Build from a long table with one row per segment.

        Parameters
        ----------
        frame : DataFrame
            One row per segment with key columns ``dyad``, ``session``, ``segment``,
            optionally ``break`` (1 = a break precedes this segment), and one column per
            categorical stream (its code label) or per indicator code (0/1; a column
            ``stream:code`` is code ``code`` of indicator stream ``stream``). Empty cells
            and missing-value words (``NA``, ``NaN``, ``NULL``, ``N/A``, ...) are uncoded.
            Labels are trimmed and NFC-normalised. Session labels are unique across dyads
            (or see ``nested_sessions``).
        codebook : str or Codebook, optional
            Declares streams, codes, ratings and questionnaires; columns it does not know are
            an error unless listed in ``ignore`` or ``session_columns``. Without a codebook,
            columns of 0/1 are indicator codes, other numeric columns are ratings (never
            codes) and text columns are categorical streams.
        dyad, session, segment, break_column : str
            Names of the key columns.
        sessions : DataFrame, optional
            One row per session (column ``session``): covariates and questionnaire items.
        dyads : DataFrame, optional
            One row per dyad (column ``dyad``): dyad attributes.
        session_columns : list of str
            Columns of ``frame`` that are session covariates (constant within a session).
        ignore : list of str
            Columns to leave out.
        derive : mapping, optional
            Overrides of derived-stream groups.
        codes : mapping, optional
            Full code lists of categorical streams (keeps codes that never occur).
        indicators : mapping, optional
            Indicator streams without a codebook: stream name to its codes, each read from
            column ``stream:code`` (or ``code``), e.g. ``{"mia": ["MIA1", "MIA2"]}``.
        ratings : list of str
            Columns that are ratings (numbers), whatever their values.
        source, sessions_source, dyads_source : str, optional
            File names used in error messages.
        decimal : str, default "."
            Decimal separator of numbers held as text (``","`` for Spanish-locale files).
        nested_sessions : bool, default False
            Session numbers restart within each dyad (session 1 of dyad A is not session 1
            of dyad B): sessions are labelled ``"dyad-session"`` and a session table is
            matched on its dyad and session columns.

        Returns
        -------
        Sequences

        Raises
        ------
        LagnestDataError
            Listing every problem found, each with file, row, column, value and what was
            expected. Rows count from 1 after the header.
        """
        book = _parse.resolve_codebook(codebook, derive)
        parsed = _parse.parse_frame(
            frame,
            book=book,
            dyad=dyad,
            session=session,
            segment=segment,
            break_column=break_column,
            sessions=sessions,
            dyads=dyads,
            session_columns=session_columns,
            ignore=ignore,
            codes=codes,
            source=source,
            sessions_source=sessions_source,
            decimal=decimal,
            nested_sessions=nested_sessions,
            indicators=indicators,
            ratings=ratings,
            dyads_source=dyads_source,
        )
        skip = set(ignore) | set(session_columns)
        return cls._build(
            sessions=parsed.sessions,
            dyads=parsed.dyads,
            lengths=parsed.lengths,
            streams=parsed.streams,
            segment_numbers=parsed.segment_numbers,
            breaks=parsed.breaks,
            ratings=parsed.ratings,
            session_covariates=parsed.covariates,
            dyad_attributes=parsed.dyad_attributes,
            book=book,
            origin=parsed.origin,
            decimal=decimal,
            key_values=parsed.key_values,
            column_order=tuple(c for c in frame.columns if c not in skip),
            key_names=(dyad, session, segment, break_column),
            nested_sessions=nested_sessions,
        )

    # ------------------------------------------------------------------ shape
    @property
    def n_segments(self) -> int:
        """Number of segments."""
        return int(self._lengths.sum())

    @property
    def n_sessions(self) -> int:
        """Number of sessions."""
        return len(self._session_labels)

    @property
    def n_dyads(self) -> int:
        """Number of dyads."""
        return len(self._dyad_labels)

    @property
    def session_labels(self) -> tuple[str, ...]:
        """Session labels, in storage order."""
        return self._session_labels

    @property
    def dyad_labels(self) -> tuple[str, ...]:
        """Dyad labels, in order of first appearance."""
        return self._dyad_labels

    @property
    def codebook(self) -> Codebook | None:
        """The codebook used at construction, if any."""
        return self._codebook

    @property
    def streams(self) -> dict[str, StreamInfo]:
        """Stream name to its :class:`~lagnest.data.codebook.StreamInfo` (kind and codes)."""
        return {
            name: StreamInfo(name=name, kind=s.kind, codes=s.codes)
            for name, s in self._streams.items()
        }

    @property
    def segment_numbers(self) -> np.ndarray:
        """Segment number of every segment, in storage order (read-only int64)."""
        return self._segment_numbers

    @property
    def breaks(self) -> np.ndarray:
        """``True`` where a break precedes the segment (read-only bool)."""
        return self._breaks

    @property
    def derived_streams(self) -> tuple[str, ...]:
        """Names of the streams derived from others by the codebook (e.g. ``rupture``)."""
        return tuple(name for name, s in self._streams.items() if s.derived)

    @property
    def nested_sessions(self) -> bool:
        """Whether session keys were numbered within each dyad (see :meth:`from_frame`)."""
        return self._nested_sessions

    @property
    def key_names(self) -> tuple[str, str, str, str]:
        """Column names of the dyad, session, segment and break keys in tables."""
        return self._key_names

    @property
    def rating_names(self) -> tuple[str, ...]:
        """Names of the per-segment ratings."""
        return tuple(self._ratings)

    def rating(self, name: str) -> np.ndarray:
        """Per-segment values of rating ``name`` (read-only, NaN = not rated)."""
        if name not in self._ratings:
            raise LagnestDataError(f"unknown rating {name!r}; known: {list(self._ratings)}")
        return self._ratings[name]

    @cached_property
    def encoded(self) -> Encoded:
        """Integer arrays describing the nesting, for the kernels (see :class:`Encoded`)."""
        offsets = np.concatenate([[0], np.cumsum(self._lengths)]).astype(np.int64)
        starts = np.zeros(self.n_segments, dtype=bool)
        starts[offsets[:-1]] = True
        gap = np.zeros(self.n_segments, dtype=bool)
        gap[1:] = np.diff(self._segment_numbers) != 1
        block_start = starts | self._breaks | gap
        block_offsets = np.concatenate([np.flatnonzero(block_start), [self.n_segments]]).astype(
            np.int64
        )
        segment_session = np.repeat(np.arange(self.n_sessions, dtype=np.int64), self._lengths)
        block_session = segment_session[block_offsets[:-1]]
        return Encoded(
            session_offsets=readonly(offsets, np.int64),
            block_offsets=readonly(block_offsets, np.int64),
            block_session=readonly(block_session, np.int64),
            session_dyad=self._session_dyad,
        )

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the data (keys, streams, ratings, session and dyad tables).

        Identifies a corpus in fit metadata: two corpora that differ in any coded value,
        rating or covariate have different fingerprints.
        """
        h = hashlib.sha256()
        for arr in (self._lengths, self._segment_numbers, self._breaks, self._session_dyad):
            h.update(arr.tobytes())
        h.update("\x1f".join(self._session_labels + self._dyad_labels).encode())
        for name, s in sorted(self._streams.items()):
            h.update(f"{name}:{s.kind}:{','.join(s.codes)}".encode())
            h.update(s.values.tobytes())
        for name, v in sorted(self._ratings.items()):
            h.update(name.encode())
            h.update(v.tobytes())
        for table in (self._session_table, self._dyad_table):
            _update_with_table(h, table)
        return h.hexdigest()

    # ------------------------------------------------------------------ codes
    def resolve_code(self, spec: Any) -> CodeRef:
        """What a code spec names: a stream, or one code of a stream.

        Parameters
        ----------
        spec : str
            A stream name (``"rupture"``, ``"mia"``), a code held by one stream only
            (``"MIA4"``, ``"withdrawal"``) or a stream-qualified code ``"stream:code"``
            (``"p_vocal:silent"``), which is always unambiguous.

        Returns
        -------
        CodeRef
            Frozen record: ``stream``, ``code`` (None for a whole stream), ``kind`` of the
            stream, ``qualified`` name and the short ``label`` used in results (the bare
            code when it is unique, else the qualified name).

        Raises
        ------
        LagnestDataError
            For an unknown spec, or a bare code held by several streams (the message lists
            the qualified choices).

        Examples
        --------
        >>> seqs = Sequences.from_sequences(
        ...     {"p_vocal": [["silent", "verbal"]], "t_vocal": [["verbal", "silent"]]})
        >>> seqs.resolve_code("t_vocal:silent")
        CodeRef(stream='t_vocal', code='silent', kind='categorical', \
qualified='t_vocal:silent', label='t_vocal:silent', index=0)
        """
        return self._code_index.resolve(spec)

    def categorical(self, spec: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """Integer codes of a categorical view of the data.

        Parameters
        ----------
        spec : str
            A categorical stream name (its K codes), an indicator code (``"MIA4"`` gives
            labels ``("not MIA4", "MIA4")``) or one code of a categorical stream
            (``"withdrawal"`` gives ``("not withdrawal", "withdrawal")``); a code shared by
            several streams is named ``"stream:code"`` (see :meth:`resolve_code`).

        Returns
        -------
        codes : ndarray of int64
            ``(n_segments,)``, values ``0..K-1``, ``-1`` = uncoded.
        labels : tuple of str
        """
        ref = self.resolve_code(spec)
        stream = self._streams[ref.stream]
        if ref.code is None and ref.kind == "categorical":
            return stream.values, stream.codes
        if ref.code is None:
            raise LagnestDataError(
                f"{spec!r} is a set of {len(stream.codes)} indicators; name one of its codes "
                f"({', '.join(stream.codes)}) or use it as an indicator set"
            )
        if ref.kind == "indicator":
            values = stream.values[:, ref.index].astype(np.int64)
        else:
            values = np.where(
                stream.values < 0, UNCODED, (stream.values == ref.index).astype(np.int64)
            )
        values.flags.writeable = False
        return values, (f"not {ref.label}", ref.label)

    def compact_codes(self, spec: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """:meth:`categorical` codes in the smallest signed dtype (int8 up to 127 codes).

        The kernels read 1-byte codes eight times faster than ``int64`` ones (and count
        them with a branch-free kernel), so the classical statistics use this view. The
        array is computed once per spec and kept (the container never changes).

        Parameters
        ----------
        spec : str
            As in :meth:`categorical`.

        Returns
        -------
        codes : ndarray of int8 (or int16 / int64 for many codes), read-only
        labels : tuple of str
        """
        ref = self.resolve_code(spec)
        key = ref.qualified
        cache = self.__dict__.setdefault("_compact_cache", {})
        if key not in cache:
            values, labels = self.categorical(spec)
            dtype = (np.int8 if len(labels) < 127 else np.int16 if len(labels) < 32767
                     else np.int64)
            cache[key] = (readonly(values, dtype), tuple(labels))
        return cache[key]

    def is_indicator_set(self, spec: Any) -> bool:
        """Whether ``spec`` names several indicators (a stream of >1 codes, or a list)."""
        if isinstance(spec, list | tuple):
            return True
        if not isinstance(spec, str):
            return False
        return self.resolve_code(spec).is_set

    def indicator_matrix(self, spec: str | Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
        """Indicator matrix of a set of present/absent codes.

        Parameters
        ----------
        spec : str or list of str
            An indicator stream name (``"mia"``) or a list of codes (indicator codes, or
            codes of categorical streams taken as present/absent; ``"stream:code"`` where a
            code is shared by several streams).

        Returns
        -------
        matrix : ndarray of int8
            ``(n_segments, P)`` of 0/1, ``-1`` = uncoded.
        names : tuple of str
            Short labels (qualified where a bare code would be ambiguous).
        """
        if isinstance(spec, str):
            ref = self.resolve_code(spec)
            if ref.is_set:
                s = self._streams[ref.stream]
                return s.values, s.codes
            spec = [spec]
        columns, names = [], []
        for code in spec:
            values, labels = self.categorical(code)
            columns.append(values.astype(np.int8))
            names.append(labels[1])
        matrix = np.ascontiguousarray(np.stack(columns, axis=1))
        matrix.flags.writeable = False
        return matrix, tuple(names)

    # ------------------------------------------------------------------ frames
    @property
    def segments(self) -> pd.DataFrame:
        """One row per segment: keys, breaks, every stream (derived ones too) and ratings."""
        return self.to_frame(include_derived=True)

    @property
    def sessions(self) -> pd.DataFrame:
        """One row per session (index ``session``): dyad, number of segments, covariates."""
        return self._session_table.copy()

    @property
    def dyads(self) -> pd.DataFrame:
        """One row per dyad (index ``dyad``): sessions, segments and dyad attributes."""
        return self._dyad_table.copy()

    def session_keys(self) -> pd.DataFrame:
        """Dyad and session key of each session as tables hold them (index: session label).

        The values read from a table are kept (``1`` for a session read as the number 1;
        the session number within its dyad with ``nested_sessions``).

        Returns
        -------
        DataFrame
            Columns named as the key columns (see :attr:`key_names`).
        """
        dyad_col, session_col = self._key_names[:2]
        dyad_values = self._key_values.get("dyad", {})
        session_values = self._key_values.get("session", {})
        dyads = [self._dyad_labels[d] for d in self._session_dyad]
        return pd.DataFrame(
            {
                dyad_col: [dyad_values.get(d, d) for d in dyads],
                session_col: [session_values.get(s, s) for s in self._session_labels],
            },
            index=pd.Index(self._session_labels, name="session"),
            dtype=object,
        )

    def table_columns(self) -> dict[tuple[str, str], str]:
        """Column name of every indicator code in a long table (see :meth:`to_frame`).

        The bare code where reading the table back recovers its stream (a one-code stream
        named after its code, or a stream of this codebook whose code no other stream
        holds); else the qualified ``"stream:code"``.

        Returns
        -------
        dict
            ``(stream, code)`` to column name.
        """
        book = self._codebook
        out = {}
        for name, s in self._streams.items():
            if s.kind != "indicator":
                continue
            declared = book is not None and name in book.streams
            for code in s.codes:
                unique = self._code_index.resolve_bare(code) == name
                bare = (s.codes == (name,)) or (declared and unique)
                out[(name, code)] = code if bare else f"{name}{QUALIFIER}{code}"
        return out

    def to_frame(self, include_derived: bool = False) -> pd.DataFrame:
        """The long table: one row per segment, as :meth:`from_frame` reads it.

        Parameters
        ----------
        include_derived : bool, default False
            Also include derived streams (e.g. ``rupture``) computed from the codebook.

        Returns
        -------
        DataFrame
        """
        dyad_col, session_col, segment_col, break_col = self._key_names
        seg_session = self.encoded.segment_session
        keys = self.session_keys()
        columns: dict[str, Any] = {
            dyad_col: keys[dyad_col].to_numpy(dtype=object)[seg_session],
            session_col: keys[session_col].to_numpy(dtype=object)[seg_session],
            segment_col: self._segment_numbers.copy(),
        }
        if self._breaks.any() or (self._column_order and break_col in self._column_order):
            columns[break_col] = self._breaks.astype(np.int64)
        names = self.table_columns()
        for name, s in self._streams.items():
            if s.derived and not include_derived:
                continue
            if s.kind == "categorical":
                labels = np.array([*s.codes, None], dtype=object)
                columns[name] = pd.array(labels[s.values], dtype="string")
            else:
                for j, code in enumerate(s.codes):
                    v = s.values[:, j]
                    columns[names[(name, code)]] = pd.arrays.IntegerArray(v.astype(np.int64), v < 0)
        for name, v in self._ratings.items():
            columns[name] = v.copy()
        frame = pd.DataFrame(columns)
        if self._column_order:
            known = [c for c in self._column_order if c in frame.columns]
            frame = frame[known + [c for c in frame.columns if c not in known]]
        return frame

    # ------------------------------------------------------------------ subsets
    def subset(
        self, dyads: Iterable[Any] | None = None, sessions: Iterable[Any] | None = None
    ) -> Sequences:
        """Return a new `Sequences` with only the given dyads and/or sessions.

        Parameters
        ----------
        dyads, sessions : iterable of labels, optional
            Keep sessions of these dyads and/or these sessions.

        Returns
        -------
        Sequences
        """
        keep = np.ones(self.n_sessions, dtype=bool)
        if dyads is not None:
            wanted = {label_of(d) for d in dyads}
            unknown = wanted - set(self._dyad_labels)
            if unknown:
                raise LagnestDataError(
                    f"unknown dyads {sorted(unknown)}; known: {list(self._dyad_labels)}"
                )
            keep &= np.array([self._dyad_labels[d] in wanted for d in self._session_dyad])
        if sessions is not None:
            wanted = {label_of(s) for s in sessions}
            unknown = wanted - set(self._session_labels)
            if unknown:
                raise LagnestDataError(
                    f"unknown sessions {sorted(unknown)}; known: {list(self._session_labels)}"
                )
            keep &= np.array([s in wanted for s in self._session_labels])
        if not keep.any():
            raise LagnestDataError("the subset holds no session: expected at least one")
        seg_keep = np.repeat(keep, self._lengths)
        idx = np.flatnonzero(keep)
        labels = [self._session_labels[i] for i in idx]
        out = Sequences(
            session_labels=labels,
            session_dyads=[self._dyad_labels[self._session_dyad[i]] for i in idx],
            lengths=self._lengths[idx],
            segment_numbers=self._segment_numbers[seg_keep],
            breaks=self._breaks[seg_keep],
            streams={
                n: StreamData(s.kind, s.codes, s.values[seg_keep], s.derived)
                for n, s in self._streams.items()
            },
            ratings={n: v[seg_keep] for n, v in self._ratings.items()},
            session_table=self._session_table.loc[labels],
            dyad_table=self._dyad_table.loc[
                list(dict.fromkeys(self._dyad_labels[self._session_dyad[i]] for i in idx))
            ],
            codebook=self._codebook,
            key_values=self._key_values,
            column_order=self._column_order,
            key_names=self._key_names,
            nested_sessions=self._nested_sessions,
        )
        return out

    def with_first_code(self, stream: str, code: str) -> Sequences:
        """Return a new `Sequences` whose categorical ``stream`` lists ``code`` first.

        The segments' codes are unchanged; only the order of the stream's codes (and so
        the integer values of :meth:`categorical`) moves, which makes ``code`` the
        reference category of models and the first row and column of lag tables.

        Parameters
        ----------
        stream : str
            A categorical stream.
        code : str
            One of its codes.

        Returns
        -------
        Sequences

        Examples
        --------
        >>> from lagnest import Sequences
        >>> seqs = Sequences.from_sequences({"code": [["a", "b", "b"]]})
        >>> seqs.with_first_code("code", "b").categorical("code")
        (array([1, 0, 0]), ('b', 'a'))
        """
        data = self._streams.get(stream)
        if data is None or data.kind != "categorical":
            known = [n for n, v in self._streams.items() if v.kind == "categorical"]
            raise LagnestDataError(
                f"{stream!r} is not a categorical stream; categorical streams: {known}")
        if code not in data.codes:
            raise LagnestDataError(
                f"{code!r} is not a code of stream {stream!r}; its codes: {list(data.codes)}")
        first = data.codes.index(code)
        order = [first, *(i for i in range(len(data.codes)) if i != first)]
        new_index = np.empty(len(order), dtype=np.int64)
        new_index[order] = np.arange(len(order))
        values = np.where(data.values < 0, data.values, new_index[np.maximum(data.values, 0)])
        streams = dict(self._streams)
        streams[stream] = StreamData(data.kind, tuple(data.codes[i] for i in order), values,
                                     data.derived)
        return self._with_streams(streams)

    def _with_streams(self, streams: dict[str, StreamData]) -> Sequences:
        """A copy of these sequences with other streams (same sessions and tables)."""
        return Sequences(
            session_labels=self._session_labels,
            session_dyads=[self._dyad_labels[d] for d in self._session_dyad],
            lengths=self._lengths,
            segment_numbers=self._segment_numbers,
            breaks=self._breaks,
            streams=streams,
            ratings=self._ratings,
            session_table=self._session_table,
            dyad_table=self._dyad_table,
            codebook=self._codebook,
            key_values=self._key_values,
            column_order=self._column_order,
            key_names=self._key_names,
            nested_sessions=self._nested_sessions,
        )

    def with_codes(
        self, definitions: Mapping[str, str], stream: str = "derived"
    ) -> Sequences:
        """Return a new `Sequences` with codes made from codes (GSEQ's and/or/not/lump/chain).

        Each new code is an indicator code of the indicator stream ``stream``, so it is
        named like any other code afterwards: in ``lag_table``, ``permutation_test``, model
        predictors and targets. The expressions are parsed by hand (never ``eval``) and
        evaluated on the segment arrays; the grammar is in :mod:`lagnest.data.algebra`
        and docs/classical.md, "Codes made from codes".

        Parameters
        ----------
        definitions : mapping of str to str
            New code name to its expression, e.g. ``{"marker": "W1 or W2 or C1",
            "w_then_c": "chain(withdrawal, confrontation, within=2)"}``. Names in an
            expression are codes (``MIA4``, ``withdrawal``), ``stream:code`` or
            ``stream=code``, or a new code defined earlier in the same mapping. A new name
            is one word (letters, digits, ``_ . -``) that names no stream or code yet.
        stream : str, default "derived"
            The indicator stream holding the new codes; when it exists (an earlier
            ``with_codes``), the new codes are added after its codes.

        Returns
        -------
        Sequences

        Raises
        ------
        LagnestDataError
            For a bad expression (the message names the expression, the 1-based position
            and what was expected there), an unknown or ambiguous code (with the known
            ones), a whole stream where a code is needed, or a bad new name.

        Notes
        -----
        A derived value is uncoded (-1) wherever any value it reads is uncoded: ``a and
        b`` is uncoded where ``a`` or ``b`` is, even where the other is 0. ``chain(a, b,
        within=k)`` is present at ``t`` when ``b`` is present at ``t`` and ``a`` at one of
        ``t-k .. t-1`` in the same block (never across a session or a break).

        Examples
        --------
        >>> from lagnest import Sequences
        >>> seqs = Sequences.from_sequences({"code": [["a", "b", "a", "c", "b"]]})
        >>> new = seqs.with_codes({"ab": "a or b", "a_b": "chain(a, b, within=2)"})
        >>> new.categorical("ab")[0].tolist(), new.categorical("a_b")[0].tolist()
        ([1, 1, 1, 0, 1], [0, 1, 0, 0, 1])
        """
        if not isinstance(definitions, Mapping) or not definitions:
            raise LagnestDataError(
                "definitions must be a non-empty mapping of new code name to expression, "
                f"e.g. {{'marker': 'W1 or W2'}}; got {definitions!r}")
        if not isinstance(stream, str) or not algebra.is_plain_name(stream):
            raise LagnestDataError(f"stream must be one word naming an indicator stream, "
                                   f"got {stream!r}")
        old = self._streams.get(stream)
        if old is not None and old.kind != "indicator":
            raise LagnestDataError(
                f"{stream!r} is a {old.kind} stream; new codes go to an indicator stream "
                "(pass another stream=)")
        if old is None and self._code_index.names_anything(stream):
            raise LagnestDataError(f"{stream!r} is a code already; pass another stream=")
        new: dict[str, np.ndarray] = {}
        for name, text in definitions.items():
            if not algebra.is_plain_name(name):
                raise LagnestDataError(
                    f"new code name {name!r}: expected one word (letters, digits, _ . -) "
                    f"that is not a keyword ({', '.join(sorted(algebra.KEYWORDS))})")
            if self._code_index.names_anything(name) or name in new or name == stream:
                raise LagnestDataError(
                    f"new code name {name!r} names a stream or code already; choose another")
            if not isinstance(text, str):
                raise LagnestDataError(
                    f"the expression of new code {name!r} must be a string, got {text!r}")
            try:
                tree = algebra.parse(text)
            except LagnestDataError as err:
                raise LagnestDataError(f"new code {name!r}: {err}") from None
            new[name] = algebra.evaluate(
                tree, lambda ref, t=text, c=name: self._algebra_values(ref, t, c, new, stream),
                self.encoded.block_offsets)
        codes = tuple(old.codes if old is not None else ()) + tuple(new)
        columns = [old.values] if old is not None else []
        matrix = np.column_stack(columns + [new[c] for c in new]).astype(np.int8)
        streams = dict(self._streams)
        streams[stream] = StreamData("indicator", codes, matrix)
        return self._with_streams(streams)

    def recode(self, stream: str, groups: Mapping[str, Sequence[str]],
               name: str | None = None) -> Sequences:
        """Return a new `Sequences` with a stream whose codes are merged (GSEQ's recode).

        Codes of ``stream`` listed in a group become that group's new code; the other
        codes stay as they are; uncoded segments stay uncoded. The new stream is a
        categorical stream like any other (a lag table of it has one row per new code),
        unlike :meth:`with_codes`, whose codes are indicators.

        Parameters
        ----------
        stream : str
            A categorical stream, e.g. ``"rupture"``.
        groups : mapping of str to sequence of str
            New code to the old codes it replaces, e.g. ``{"ruptured": ["withdrawal",
            "confrontation", "both"]}``. Every old code may appear in one group only.
        name : str, optional
            Name of the new stream (default ``"<stream>_recoded"``); one word naming no
            stream or code yet.

        Returns
        -------
        Sequences

        Raises
        ------
        LagnestDataError
            For a stream that is not categorical, an old code that is not a code of it
            (the known codes are listed), an old code in two groups, or a bad name.

        Examples
        --------
        >>> from lagnest import Sequences
        >>> seqs = Sequences.from_sequences({"code": [["a", "b", "c", "a"]]})
        >>> new = seqs.recode("code", {"bc": ["b", "c"]})
        >>> values, codes = new.categorical("code_recoded")
        >>> [codes[v] for v in values]
        ['a', 'bc', 'bc', 'a']
        """
        old = self._streams.get(stream)
        if old is None or old.kind != "categorical":
            categorical = [k for k, v in self._streams.items() if v.kind == "categorical"]
            raise LagnestDataError(f"recode: {stream!r} is not a categorical stream; "
                                   f"categorical streams: {categorical}")
        name = f"{stream}_recoded" if name is None else name
        if not isinstance(name, str) or not algebra.is_plain_name(name) or \
                self._code_index.names_anything(name):
            raise LagnestDataError(f"recode: the new stream name {name!r} must be one word "
                                   "naming no stream or code yet")
        if not isinstance(groups, Mapping) or not groups:
            raise LagnestDataError(f"recode: groups must map a new code to the old codes it "
                                   f"replaces, e.g. {{'merged': {list(old.codes[:2])}}}; got "
                                   f"{groups!r}")
        target: dict[str, str] = {}
        for new_code, members in groups.items():
            if isinstance(members, str) or not isinstance(members, Sequence) or not members:
                raise LagnestDataError(f"recode: group {new_code!r} must list old codes of "
                                       f"{stream!r}, got {members!r}")
            for code in members:
                if code not in old.codes:
                    raise LagnestDataError(f"recode: {code!r} (group {new_code!r}) is not a "
                                           f"code of {stream!r}; its codes: {list(old.codes)}")
                if code in target:
                    raise LagnestDataError(f"recode: {code!r} is in two groups "
                                           f"({target[code]!r} and {new_code!r})")
                target[code] = str(new_code)
        mapped = [target.get(code, code) for code in old.codes]
        codes = tuple(dict.fromkeys(mapped))  # order of first appearance
        lookup = np.array([codes.index(m) for m in mapped], dtype=np.int64)
        values = np.where(old.values >= 0, lookup[np.maximum(old.values, 0)], -1)
        streams = dict(self._streams)
        streams[name] = StreamData("categorical", codes, values.astype(old.values.dtype))
        return self._with_streams(streams)

    def _algebra_values(self, ref: algebra.Name, text: str, new_code: str,
                        earlier: Mapping[str, np.ndarray], stream: str) -> np.ndarray:
        """0/1/-1 values of a name in the expression of ``new_code`` (see :meth:`with_codes`)."""
        bare = ref.name[len(stream) + 1:] if ref.name.startswith(f"{stream}:") else ref.name
        if bare in earlier:
            return earlier[bare]
        where = f"new code {new_code!r}: {ref.name!r} at position {ref.pos} of {text!r}"
        try:
            code = self.resolve_code(ref.name)
        except LagnestDataError as err:
            if len(self._code_index.holders(ref.name)) > 1:
                raise LagnestDataError(f"{where}: {err}") from None
            known = self._known_codes() + list(earlier)
            shown = ", ".join(known[:60]) + (f", ... ({len(known)} codes)"
                                             if len(known) > 60 else "")
            raise LagnestDataError(f"{where} is not a known code; known codes: {shown}"
                                   ) from None
        if code.code is None:
            codes = self._streams[code.stream].codes
            raise LagnestDataError(
                f"{where} is a whole {code.kind} stream; name one of its codes "
                f"({', '.join(codes)}), or lump several: lump({', '.join(codes[:2])}, ...)")
        return self.categorical(ref.name)[0]

    def _known_codes(self) -> list[str]:
        """Every code, by its short label (qualified where a bare code is ambiguous)."""
        return [self.resolve_code(f"{name}{QUALIFIER}{code}").label
                for name, s in self._streams.items() for code in s.codes]

    # ------------------------------------------------------------------ summaries
    def code_frequencies(self) -> pd.DataFrame:
        """Frequency of every code per stream: count, coded segments and proportion."""
        rows = []
        for name, s in self._streams.items():
            if s.kind == "categorical":
                coded = int((s.values >= 0).sum())
                counts = np.bincount(s.values[s.values >= 0], minlength=len(s.codes))
                for code, c in zip(s.codes, counts, strict=True):
                    rows.append((name, s.kind, code, int(c), coded))
            else:
                for j, code in enumerate(s.codes):
                    v = s.values[:, j]
                    rows.append((name, s.kind, code, int((v == 1).sum()), int((v >= 0).sum())))
        frame = pd.DataFrame(rows, columns=["stream", "kind", "code", "count", "coded"])
        frame["proportion"] = frame["count"] / frame["coded"].where(frame["coded"] > 0)
        return frame

    def summary(self, lang: str = "en") -> str:
        """A plain-text summary: dyads, sessions, segments, code frequencies per stream.

        Parameters
        ----------
        lang : {"en", "es"}, default "en"
            In Spanish the words are Spanish and streams and named categories show their
            codebook labels (a manual's identifiers, e.g. ``MIA4``, stay codes).

        Returns
        -------
        str
        """
        lang = check_lang(lang)
        book = self._codebook
        lines = [
            translate("seqs.head", lang, dyads=self.n_dyads, sessions=self.n_sessions,
                      segments=self.n_segments),
            translate("seqs.lengths", lang, min=self._lengths.min(),
                      median=f"{float(np.median(self._lengths)):g}",
                      max=self._lengths.max(), breaks=int(self._breaks.sum())),
        ]
        freq = self.code_frequencies()
        for name, grp in freq.groupby("stream", sort=False):
            kind = grp["kind"].iloc[0]
            derived = translate("seqs.derived", lang) if self._streams[name].derived else ""
            shown = name if lang == "en" else (
                f"{code_label(name, lang, book)} ({name})"
                if code_label(name, lang, book) != name else name)
            lines.append(
                f"  {shown} [{translate(f'seqs.{kind}', lang)}]{derived}: "
                + ", ".join(
                    f"{code_label(r.code, lang, book)} {r.count} ({r.proportion:.0%})"
                    if r.coded else f"{code_label(r.code, lang, book)} 0"
                    for r in grp.itertuples()
                )
            )
        if self._ratings:
            lines.append(translate("seqs.ratings", lang) + ", ".join(self._ratings))
        covs = [c for c in self._session_table.columns if c not in ("dyad", "n_segments")]
        questionnaires = self._codebook.questionnaires.values() if self._codebook else ()
        for q in questionnaires:
            if set(q.item_columns) <= set(covs):
                covs = [c for c in covs if c not in q.item_columns and c not in q.subscale_columns]
                lines.append(translate("seqs.questionnaire", lang, name=q.name, n=q.n_items)
                             + ", ".join(q.subscale_columns))
        if covs:
            lines.append(translate("seqs.covariates", lang) + ", ".join(covs))
        return "\n".join(lines)

    def __repr__(self) -> str:
        streams = ", ".join(f"{n}[{len(s.codes)}]" for n, s in self._streams.items())
        return (
            f"<Sequences: {self.n_dyads} dyads, {self.n_sessions} sessions, "
            f"{self.n_segments} segments; streams {streams}>"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequences):
            return NotImplemented
        return self.fingerprint == other.fingerprint and _parse.frames_equal(
            self._session_table, other._session_table
        )

    __hash__ = None  # type: ignore[assignment]


def _update_with_table(h: Any, table: pd.DataFrame) -> None:
    """Feed a session or dyad table to a hash the way ``==`` compares tables.

    Column order and dtype are ignored (an integer rating read back as float is the same
    value), so two corpora that compare equal have the same fingerprint.
    """
    h.update("\x1f".join(map(str, table.index)).encode())
    for name in sorted(map(str, table.columns)):
        column = table[name]
        h.update(name.encode())
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            h.update(column.to_numpy(dtype=np.float64, na_value=np.nan).tobytes())
        else:
            h.update("\x1f".join("\x00" if pd.isna(v) else str(v) for v in column).encode())

