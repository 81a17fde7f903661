"""`Sequences`: coded segments nested in sessions nested in dyads.

The one data container of lagnest. Every reader returns one and every analysis takes one.
It is validated once at construction (see :mod:`lagnest._parse`), immutable afterwards,
and encodes once into the contiguous integer arrays the numba kernels read (see
``ARCHITECTURE.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from lagnest import _parse
from lagnest._streams import UNCODED, StreamData, label_of, readonly
from lagnest.codebook import Codebook, StreamInfo
from lagnest.errors import LagnestDataError, ProblemCollector

__all__ = ["UNCODED", "Encoded", "Sequences", "StreamData"]


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
        self._code_index = self._index_codes()

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
            Stream name to its kind, codes and values (see :class:`StreamData`).
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
        book = _parse.resolve_codebook(codebook, derive)
        problems = ProblemCollector()
        session_labels = [label_of(s) for s in sessions]
        session_dyads = [label_of(d) for d in dyads]
        lengths = np.asarray(lengths, dtype=np.int64)
        n = int(lengths.sum()) if lengths.size else 0
        if not (len(session_labels) == len(session_dyads) == lengths.size):
            raise LagnestDataError(
                f"sessions ({len(session_labels)}), dyads ({len(session_dyads)}) and lengths "
                f"({lengths.size}) must have one entry per session"
            )
        if len(set(session_labels)) != len(session_labels):
            dup = pd.Series(session_labels)[pd.Series(session_labels).duplicated()].tolist()
            problems.add("duplicate session labels", value=dup[:5], expected="unique labels")
        for label, length in zip(session_labels, lengths, strict=True):
            if length <= 0:
                problems.add(
                    f"session {label!r} is empty",
                    value=int(length),
                    expected="at least one segment",
                )
        if segment_numbers is None:
            segment_numbers = (
                np.concatenate([np.arange(1, t + 1) for t in lengths])
                if n
                else np.zeros(0, np.int64)
            )
        segment_numbers = np.asarray(segment_numbers)
        if breaks is None:
            breaks = np.zeros(n, dtype=bool)
        breaks = np.asarray(breaks, dtype=bool)
        for name, arr in (("segment_numbers", segment_numbers), ("breaks", breaks)):
            if arr.shape != (n,):
                raise LagnestDataError(f"{name} has shape {arr.shape}; expected ({n},)")
        problems.raise_if_any()
        _parse.check_segment_order(segment_numbers, lengths, session_labels, problems)
        streams = dict(streams)
        _parse.check_streams(streams, n, book, problems)
        ratings = {k: np.asarray(v, dtype=np.float64) for k, v in (ratings or {}).items()}
        _parse.check_ratings(ratings, n, book, problems)
        problems.raise_if_any()
        if book is not None:
            streams.update(_parse.derive_streams(book, streams))
        session_table = _parse.session_table(
            session_labels, session_dyads, lengths, session_covariates, book, problems
        )
        dyad_table = _parse.dyad_table(session_dyads, lengths, dyad_attributes, problems)
        problems.raise_if_any()
        return cls(
            session_labels=session_labels,
            session_dyads=session_dyads,
            lengths=lengths,
            segment_numbers=segment_numbers,
            breaks=breaks,
            streams=streams,
            ratings=ratings,
            session_table=session_table,
            dyad_table=dyad_table,
            codebook=book,
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
            the stream. ``None`` marks an uncoded segment.
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
        problems = ProblemCollector()
        data = {}
        for name in names:
            flat = [v for session in streams[name] for v in session]
            where = [
                (sessions[s], p)
                for s, session in enumerate(streams[name])
                for p in range(len(session))
            ]
            data[name] = _parse.parse_values(
                name,
                pd.Series(flat, dtype=object),
                (codes or {}).get(name),
                problems,
                where=lambda i, w=where: {
                    "row": None,
                    "value": None,
                    "message_prefix": f"session {w[i][0]!r}, position {w[i][1]}",
                },
            )
        problems.raise_if_any()
        lengths = np.asarray(first, dtype=np.int64)
        break_array = np.zeros(int(lengths.sum()), dtype=bool)
        if breaks is not None:
            offsets = np.concatenate([[0], np.cumsum(lengths)])
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
    ) -> Sequences:
        """Build from a long table with one row per segment.

        Parameters
        ----------
        frame : DataFrame
            One row per segment with key columns ``dyad``, ``session``, ``segment``,
            optionally ``break`` (1 = a break precedes this segment), and one column per
            categorical stream (its code label) or per indicator code (0/1). Empty cells
            are uncoded. Session labels are unique across dyads.
        codebook : str or Codebook, optional
            Declares streams, codes, ratings and questionnaires; columns it does not know are
            an error unless listed in ``ignore`` or ``session_columns``. Without a codebook,
            columns of 0/1 are indicator codes, numeric columns are ratings and text columns
            are categorical streams.
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
        source, sessions_source : str, optional
            File names used in error messages.

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
        problems = ProblemCollector(file=source)
        missing = [c for c in (dyad, session, segment) if c not in frame.columns]
        if missing:
            raise LagnestDataError(
                problems.problems
                + [
                    _parse.problem(
                        source,
                        f"missing key column {c!r}",
                        expected=f"columns include {list(frame.columns)}",
                    )
                    for c in missing
                ]
            )
        if len(frame) == 0:
            raise LagnestDataError(
                _parse.problem(source, "the table has no rows", expected="one row per segment")
            )
        frame = frame.reset_index(drop=True)
        rows = np.arange(1, len(frame) + 1)
        dyad_lab = _parse.key_labels(frame[dyad], dyad, problems)
        sess_lab = _parse.key_labels(frame[session], session, problems)
        seg_num = _parse.segment_numbers(frame[segment], segment, problems)
        brk = (
            _parse.break_values(frame[break_column], break_column, problems)
            if break_column in frame.columns
            else np.zeros(len(frame), dtype=bool)
        )
        key_problems = len(problems)
        key_cols = {dyad, session, segment, break_column}
        value_cols = [
            c
            for c in frame.columns
            if c not in key_cols and c not in set(ignore) and c not in set(session_columns)
        ]
        streams, ratings = _parse.parse_columns(frame, value_cols, book, codes, problems)
        _parse.check_ratings(ratings, len(frame), book, problems, rows=rows)
        if not key_problems:
            # session split across dyads
            pairs = pd.DataFrame({"s": sess_lab, "d": dyad_lab, "row": rows})
            first_dyad = pairs.groupby("s", sort=False)["d"].first()
            split = pairs[pairs["d"].to_numpy() != first_dyad.loc[pairs["s"]].to_numpy()]
            for _, r in split.head(50).iterrows():
                problems.add(
                    f"session {r['s']!r} is split across dyads",
                    row=int(r["row"]),
                    column=dyad,
                    value=r["d"],
                    expected=(
                        f"dyad {first_dyad[r['s']]!r} as on its first row (session labels must be "
                        f"unique across dyads: make them so, e.g. '{r['d']}-{r['s']}')"
                    ),
                )
            # duplicate keys
            keys = pd.DataFrame({"s": sess_lab, "t": seg_num, "row": rows})
            dup = keys[keys.duplicated(["s", "t"], keep=False)]
            for (s, t), grp in list(dup.groupby(["s", "t"], sort=False))[:50]:
                problems.add(
                    f"duplicate key (session {s!r}, segment {t}) on rows {grp['row'].tolist()}",
                    row=int(grp["row"].iloc[1]),
                    column=segment,
                    value=int(t),
                    expected="one row per (dyad, session, segment)",
                )
        problems.raise_if_any()

        # order: sessions in order of first appearance, segments by number
        session_order = list(dict.fromkeys(sess_lab))
        rank = {s: i for i, s in enumerate(session_order)}
        order = np.lexsort((seg_num, np.array([rank[s] for s in sess_lab])))
        sess_sorted = np.asarray(sess_lab, dtype=object)[order]
        lengths = (
            pd.Series(sess_sorted).value_counts().reindex(session_order).to_numpy(np.int64)
        )
        session_dyads = [first_dyad[s] for s in session_order]

        covariates = _parse.collect_session_covariates(
            frame, sess_lab, rows, session, session_columns, sessions, sessions_source, problems
        )
        attrs = None
        if dyads is not None:
            if dyad not in dyads.columns:
                problems.add(
                    "dyad table has no key column", column=dyad, expected=f"a column {dyad!r}"
                )
            else:
                attrs = dyads.assign(**{dyad: [label_of(v) for v in dyads[dyad]]}).set_index(dyad)
        problems.raise_if_any()

        sorted_streams = {
            name: StreamData(s.kind, s.codes, s.values[order]) for name, s in streams.items()
        }
        seqs = cls.from_arrays(
            sessions=session_order,
            dyads=session_dyads,
            lengths=lengths,
            streams=sorted_streams,
            segment_numbers=seg_num[order],
            breaks=brk[order],
            ratings={k: v[order] for k, v in ratings.items()},
            session_covariates=covariates,
            dyad_attributes=attrs,
            codebook=book,
        )
        seqs._key_values = {
            "dyad": {lab: v for lab, v in zip(dyad_lab, frame[dyad], strict=True)},
            "session": {lab: v for lab, v in zip(sess_lab, frame[session], strict=True)},
        }
        seqs._column_order = tuple(
            c for c in frame.columns if c not in set(ignore) and c not in set(session_columns)
        )
        seqs._key_names = (dyad, session, segment, break_column)
        return seqs

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
        """Stream name to its :class:`~lagnest.codebook.StreamInfo` (kind and codes)."""
        return {
            name: StreamInfo(name=name, kind=s.kind, codes=s.codes)
            for name, s in self._streams.items()
        }

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
        """SHA-256 of the data (keys, streams, ratings): identifies a corpus in fit metadata."""
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
        return h.hexdigest()

    # ------------------------------------------------------------------ codes
    def _index_codes(self) -> dict[str, tuple[str, int]]:
        """Map every code label to (stream, position); codes are unique across streams."""
        index: dict[str, tuple[str, int]] = {}
        clashes = []
        for name, s in self._streams.items():
            for i, code in enumerate(s.codes):
                if code in index and not (
                    s.kind == "indicator" and len(s.codes) == 1 and code == name
                ):
                    clashes.append((code, index[code][0], name))
                index.setdefault(code, (name, i))
        if clashes:
            raise LagnestDataError(
                [
                    f"code {c!r} appears in streams {a!r} and {b!r}; "
                    "code labels must be unique across streams"
                    for c, a, b in clashes
                ]
            )
        return index

    def _unknown(self, spec: Any) -> LagnestDataError:
        streams = ", ".join(f"{n} ({s.kind})" for n, s in self._streams.items())
        return LagnestDataError(
            f"unknown stream or code {spec!r}: expected a stream ({streams}) or one of its codes"
        )

    def categorical(self, spec: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """Integer codes of a categorical view of the data.

        Parameters
        ----------
        spec : str
            A categorical stream name (its K codes), an indicator code (``"MIA4"`` gives
            labels ``("not MIA4", "MIA4")``) or one code of a categorical stream
            (``"withdrawal"`` gives ``("not withdrawal", "withdrawal")``).

        Returns
        -------
        codes : ndarray of int64
            ``(n_segments,)``, values ``0..K-1``, ``-1`` = uncoded.
        labels : tuple of str
        """
        if not isinstance(spec, str):
            raise self._unknown(spec)
        stream = self._streams.get(spec)
        if stream is not None and stream.kind == "categorical":
            return stream.values, stream.codes
        if stream is not None and len(stream.codes) == 1:
            return stream.values[:, 0].astype(np.int64), (f"not {spec}", spec)
        if stream is not None:
            raise LagnestDataError(
                f"{spec!r} is a set of {len(stream.codes)} indicators; name one of its codes "
                f"({', '.join(stream.codes)}) or use it as an indicator set"
            )
        if spec not in self._code_index:
            raise self._unknown(spec)
        name, i = self._code_index[spec]
        s = self._streams[name]
        if s.kind == "indicator":
            values = s.values[:, i].astype(np.int64)
        else:
            values = np.where(s.values < 0, UNCODED, (s.values == i).astype(np.int64))
        return values, (f"not {spec}", spec)

    def is_indicator_set(self, spec: Any) -> bool:
        """Whether ``spec`` names several indicators (a stream of >1 codes, or a list)."""
        if isinstance(spec, list | tuple):
            return True
        s = self._streams.get(spec) if isinstance(spec, str) else None
        return s is not None and s.kind == "indicator" and len(s.codes) > 1

    def indicator_matrix(self, spec: str | Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
        """Indicator matrix of a set of present/absent codes.

        Parameters
        ----------
        spec : str or list of str
            An indicator stream name (``"mia"``) or a list of codes (indicator codes, or
            codes of categorical streams taken as present/absent).

        Returns
        -------
        matrix : ndarray of int8
            ``(n_segments, P)`` of 0/1, ``-1`` = uncoded.
        names : tuple of str
        """
        if isinstance(spec, str):
            s = self._streams.get(spec)
            if s is not None and s.kind == "indicator":
                return s.values, s.codes
            spec = [spec]
        columns = [self.categorical(code)[0].astype(np.int8) for code in spec]
        matrix = np.ascontiguousarray(np.stack(columns, axis=1))
        matrix.flags.writeable = False
        return matrix, tuple(spec)

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
        dyad_of = [self._dyad_labels[d] for d in self._session_dyad]
        sess_values = [self._key_values.get("session", {}).get(s, s) for s in self._session_labels]
        dyad_values = [self._key_values.get("dyad", {}).get(d, d) for d in dyad_of]
        columns: dict[str, Any] = {
            dyad_col: pd.Series(dyad_values).iloc[seg_session].to_numpy(),
            session_col: pd.Series(sess_values).iloc[seg_session].to_numpy(),
            segment_col: self._segment_numbers.copy(),
        }
        if self._breaks.any() or (self._column_order and break_col in self._column_order):
            columns[break_col] = self._breaks.astype(np.int64)
        for name, s in self._streams.items():
            if s.derived and not include_derived:
                continue
            if s.kind == "categorical":
                labels = np.array([*s.codes, None], dtype=object)
                columns[name] = pd.array(labels[s.values], dtype="string")
            else:
                for j, code in enumerate(s.codes):
                    v = s.values[:, j]
                    columns[code] = pd.array(np.where(v < 0, None, v), dtype="Int64")
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
        )
        return out

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

    def summary(self) -> str:
        """A plain-text summary: dyads, sessions, segments, code frequencies per stream."""
        lines = [
            f"Sequences: {self.n_dyads} dyads, {self.n_sessions} sessions, "
            f"{self.n_segments} segments",
            f"  segments per session: min {self._lengths.min()}, median "
            f"{float(np.median(self._lengths)):g}, max {self._lengths.max()}; "
            f"breaks: {int(self._breaks.sum())}",
        ]
        freq = self.code_frequencies()
        for name, grp in freq.groupby("stream", sort=False):
            kind = grp["kind"].iloc[0]
            derived = " (derived)" if self._streams[name].derived else ""
            lines.append(
                f"  {name} [{kind}]{derived}: "
                + ", ".join(
                    f"{r.code} {r.count} ({r.proportion:.0%})" if r.coded else f"{r.code} 0"
                    for r in grp.itertuples()
                )
            )
        if self._ratings:
            lines.append("  ratings: " + ", ".join(self._ratings))
        covs = [c for c in self._session_table.columns if c not in ("dyad", "n_segments")]
        questionnaires = self._codebook.questionnaires.values() if self._codebook else ()
        for q in questionnaires:
            if set(q.item_columns) <= set(covs):
                covs = [c for c in covs if c not in q.item_columns and c not in q.subscale_columns]
                lines.append(
                    f"  questionnaire {q.name}: {q.n_items} items scored into "
                    + ", ".join(q.subscale_columns)
                )
        if covs:
            lines.append("  session covariates: " + ", ".join(covs))
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
