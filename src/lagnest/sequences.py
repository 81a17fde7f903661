"""`Sequences`: coded segments nested in sessions nested in dyads.

The one data container of lagnest. Every reader returns one and every analysis takes one.
It is validated once at construction, immutable afterwards, and encodes once into the
contiguous integer arrays the numba kernels read (see ``ARCHITECTURE.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from lagnest.codebook import Codebook, StreamInfo, load_codebook
from lagnest.errors import LagnestDataError, ProblemCollector

UNCODED = -1


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


@dataclass(frozen=True)
class StreamData:
    """Values of one stream: ``kind``, its ``codes`` and the integer ``values``.

    Categorical values are ``(n_segments,)`` code indices; indicator values are
    ``(n_segments, len(codes))`` of 0/1; ``-1`` marks an uncoded segment in both.
    """

    kind: str
    codes: tuple[str, ...]
    values: np.ndarray
    derived: bool = False


def _readonly(array: np.ndarray, dtype: Any) -> np.ndarray:
    """Return a contiguous read-only copy of ``array`` with ``dtype``."""
    out = np.ascontiguousarray(array, dtype=dtype).copy()
    out.flags.writeable = False
    return out


def _natural_key(label: str) -> tuple:
    """Sort numeric labels numerically, then others alphabetically."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _label(value: Any) -> str:
    """Normalise a key or code value to its string label (``2.0`` -> ``"2"``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    return str(value)


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
        self._session_dyad = _readonly([dyad_index[d] for d in session_dyads], np.int64)
        self._lengths = _readonly(lengths, np.int64)
        self._segment_numbers = _readonly(segment_numbers, np.int64)
        self._breaks = _readonly(breaks, bool)
        self._streams = {
            name: StreamData(
                s.kind,
                tuple(s.codes),
                _readonly(s.values, np.int64 if s.kind == "categorical" else np.int8),
                s.derived,
            )
            for name, s in streams.items()
        }
        self._ratings = {name: _readonly(v, np.float64) for name, v in ratings.items()}
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
        book = _resolve_codebook(codebook, derive)
        problems = ProblemCollector()
        session_labels = [_label(s) for s in sessions]
        session_dyads = [_label(d) for d in dyads]
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
        _check_segment_order(segment_numbers, lengths, session_labels, problems)
        streams = dict(streams)
        _check_streams(streams, n, book, problems)
        ratings = {k: np.asarray(v, dtype=np.float64) for k, v in (ratings or {}).items()}
        _check_ratings(ratings, n, book, problems)
        problems.raise_if_any()
        if book is not None:
            streams.update(_derive_streams(book, streams))
        session_table = _session_table(
            session_labels, session_dyads, lengths, session_covariates, book, problems
        )
        dyad_table = _dyad_table(session_dyads, lengths, dyad_attributes, problems)
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
            data[name] = _parse_values(
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
        book = _resolve_codebook(codebook, derive)
        problems = ProblemCollector(file=source)
        missing = [c for c in (dyad, session, segment) if c not in frame.columns]
        if missing:
            raise LagnestDataError(
                problems.problems
                + [
                    _problem(
                        source,
                        f"missing key column {c!r}",
                        expected=f"columns include {list(frame.columns)}",
                    )
                    for c in missing
                ]
            )
        if len(frame) == 0:
            raise LagnestDataError(
                _problem(source, "the table has no rows", expected="one row per segment")
            )
        frame = frame.reset_index(drop=True)
        rows = np.arange(1, len(frame) + 1)
        dyad_lab = _key_labels(frame[dyad], dyad, problems)
        sess_lab = _key_labels(frame[session], session, problems)
        seg_num = _segment_numbers(frame[segment], segment, problems)
        brk = (
            _break_values(frame[break_column], break_column, problems)
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
        streams, ratings = _parse_columns(frame, value_cols, book, codes, problems)
        _check_ratings(ratings, len(frame), book, problems, rows=rows)
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
            np.array([np.sum(sess_sorted == s) for s in session_order], dtype=np.int64)
            if len(session_order) < 2000
            else pd.Series(sess_sorted).value_counts().reindex(session_order).to_numpy()
        )
        session_dyads = [first_dyad[s] for s in session_order]

        covariates = _collect_session_covariates(
            frame, sess_lab, rows, session, session_columns, sessions, sessions_source, problems
        )
        attrs = None
        if dyads is not None:
            if dyad not in dyads.columns:
                problems.add(
                    "dyad table has no key column", column=dyad, expected=f"a column {dyad!r}"
                )
            else:
                attrs = dyads.assign(**{dyad: [_label(v) for v in dyads[dyad]]}).set_index(dyad)
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
            session_offsets=_readonly(offsets, np.int64),
            block_offsets=_readonly(block_offsets, np.int64),
            block_session=_readonly(block_session, np.int64),
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
            wanted = {_label(d) for d in dyads}
            unknown = wanted - set(self._dyad_labels)
            if unknown:
                raise LagnestDataError(
                    f"unknown dyads {sorted(unknown)}; known: {list(self._dyad_labels)}"
                )
            keep &= np.array([self._dyad_labels[d] in wanted for d in self._session_dyad])
        if sessions is not None:
            wanted = {_label(s) for s in sessions}
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
        return self.fingerprint == other.fingerprint and _frames_equal(
            self._session_table, other._session_table
        )

    __hash__ = None  # type: ignore[assignment]


# ---------------------------------------------------------------------- helpers
def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two session tables hold the same values (column order ignored)."""
    try:
        pd.testing.assert_frame_equal(a, b, check_like=True, check_dtype=False)
    except AssertionError:
        return False
    return True


def _problem(file: str | None, message: str, **kw: Any):
    from lagnest.errors import DataProblem

    return DataProblem(message, file=file, **kw)


def _resolve_codebook(codebook: Any, derive: Mapping | None) -> Codebook | None:
    """Load the codebook and apply derived-group overrides."""
    book = load_codebook(codebook) if codebook is not None else None
    if derive:
        if book is None:
            raise LagnestDataError("derive= needs a codebook that declares derived streams")
        for name, groups in derive.items():
            book = book.with_groups(name, groups)
    return book


def _is_missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float | np.floating) and np.isnan(value))
        or value is pd.NA
        or (isinstance(value, str) and value.strip() == "")
    )


def _key_labels(column: pd.Series, name: str, problems: ProblemCollector) -> list[str]:
    """Key column to string labels; missing values are problems."""
    out = []
    for row, value in enumerate(column.tolist(), start=1):
        if _is_missing(value):
            problems.add(
                "missing key value", row=row, column=name, value="", expected="a non-empty label"
            )
            out.append("")
        else:
            out.append(_label(value).strip())
    return out


def _as_int(value: Any) -> int | None:
    """Parse an integer from int, integral float or digit string; None if not one."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return int(value) if float(value).is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                return None
            return int(f) if f.is_integer() else None
    return None


def _segment_numbers(column: pd.Series, name: str, problems: ProblemCollector) -> np.ndarray:
    """Parse segment order numbers: non-negative integers."""
    out = np.zeros(len(column), dtype=np.int64)
    for row, value in enumerate(column.tolist(), start=1):
        if _is_missing(value):
            problems.add(
                "missing segment number",
                row=row,
                column=name,
                value="",
                expected="a non-negative integer",
            )
            continue
        n = _as_int(value)
        if n is None or n < 0:
            problems.add(
                "bad segment number",
                row=row,
                column=name,
                value=value,
                expected="a non-negative integer",
            )
        else:
            out[row - 1] = n
    return out


def _break_values(column: pd.Series, name: str, problems: ProblemCollector) -> np.ndarray:
    """Parse the break column: 0/1 (or true/false); empty = no break."""
    out = np.zeros(len(column), dtype=bool)
    truthy, falsy = {"1", "true", "yes"}, {"0", "false", "no"}
    for row, value in enumerate(column.tolist(), start=1):
        if _is_missing(value):
            continue
        text = _label(value).strip().lower()
        if text in truthy:
            out[row - 1] = True
        elif text not in falsy:
            problems.add(
                "bad break flag", row=row, column=name, value=value, expected="0 or 1 (empty = 0)"
            )
    return out


def _check_segment_order(
    numbers: np.ndarray, lengths: np.ndarray, labels: Sequence[str], problems: ProblemCollector
) -> None:
    """Segment numbers must be non-negative and strictly increasing within each session."""
    if numbers.size and (numbers < 0).any():
        i = int(np.flatnonzero(numbers < 0)[0])
        problems.add(
            "negative segment number", value=int(numbers[i]), expected="a non-negative integer"
        )
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    step = np.diff(numbers)
    bad = np.flatnonzero(step <= 0)
    starts = set(offsets[1:-1] - 1)
    for i in bad:
        if i in starts:
            continue
        s = int(np.searchsorted(offsets, i, side="right") - 1)
        problems.add(
            f"segments of session {labels[s]!r} are not in increasing order",
            value=(int(numbers[i]), int(numbers[i + 1])),
            expected="strictly increasing segment numbers",
        )
        if len(problems) > 50:
            return


def _check_streams(
    streams: Mapping[str, StreamData], n: int, book: Codebook | None, problems: ProblemCollector
) -> None:
    """Validate stream arrays: shapes, code ranges, codebook membership."""
    for name, s in streams.items():
        if s.kind not in ("categorical", "indicator"):
            problems.add(
                f"stream {name!r} has an unknown kind",
                value=s.kind,
                expected="categorical or indicator",
            )
            continue
        values = np.asarray(s.values)
        want = (n,) if s.kind == "categorical" else (n, len(s.codes))
        if values.shape != want:
            problems.add(
                f"stream {name!r} has values of shape {values.shape}", expected=f"shape {want}"
            )
            continue
        if not np.issubdtype(values.dtype, np.integer):
            problems.add(
                f"stream {name!r} holds non-integer values",
                value=str(values.dtype),
                expected="integer codes",
            )
            continue
        hi = len(s.codes) - 1 if s.kind == "categorical" else 1
        bad = (values < UNCODED) | (values > hi)
        if bad.any():
            problems.add(
                f"stream {name!r} has values out of range",
                value=int(values[bad].flat[0]),
                expected=f"-1 (uncoded) to {hi}",
            )
        if book is not None and name in book.streams:
            known = set(book.streams[name].codes)
            unknown = [c for c in s.codes if c not in known]
            if unknown:
                problems.add(
                    f"stream {name!r} has codes its codebook does not declare",
                    value=unknown,
                    expected=f"codes of {book.name}: {list(book.streams[name].codes)}",
                )


def _check_ratings(
    ratings: Mapping[str, np.ndarray],
    n: int,
    book: Codebook | None,
    problems: ProblemCollector,
    rows: np.ndarray | None = None,
) -> None:
    """Ratings: shape and the codebook's range; ``rows`` names table rows in messages."""
    for name, v in ratings.items():
        if v.shape != (n,):
            problems.add(f"rating {name!r} has shape {v.shape}", expected=f"({n},)")
            continue
        info = book.ratings.get(name) if book is not None else None
        if info is None:
            continue
        in_range = (v >= info.min) & (v <= info.max)
        if info.integer:
            in_range &= v == np.round(v)
        ok = np.isnan(v) | in_range
        for i in np.flatnonzero(~ok)[:50]:
            where = {"row": int(rows[i]), "column": name} if rows is not None else {}
            problems.add(
                f"rating {name!r} out of range" + ("" if rows is not None else f" at segment {i}"),
                value=float(v[i]),
                expected=f"{'an integer ' if info.integer else ''}{info.min:g}..{info.max:g}",
                **where,
            )


def _derive_streams(book: Codebook, streams: Mapping[str, StreamData]) -> dict[str, StreamData]:
    """Compute the codebook's derived categorical streams whose source is present."""
    out = {}
    for d in book.derived.values():
        src = streams.get(d.source)
        if src is None:
            continue
        if d.name in streams:
            raise LagnestDataError(
                f"column {d.name!r} clashes with the derived stream {d.name!r} of codebook "
                f"{book.name!r}: rename or drop the column"
            )
        out[d.name] = StreamData(
            "categorical", d.codes, d.apply(np.asarray(src.values), src.codes), derived=True
        )
    return out


def _numeric_where_possible(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with text columns that hold only numbers turned numeric."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
            continue
        present = out[col][[not _is_missing(v) for v in out[col].tolist()]]
        converted = pd.to_numeric(present, errors="coerce")
        if len(present) and converted.notna().all():
            out[col] = pd.to_numeric(out[col].where(out[col].map(lambda v: not _is_missing(v))))
    return out


def _session_table(
    labels: Sequence[str],
    dyads: Sequence[str],
    lengths: np.ndarray,
    covariates: pd.DataFrame | None,
    book: Codebook | None,
    problems: ProblemCollector,
) -> pd.DataFrame:
    """Session table: dyad, n_segments, covariates, questionnaire subscales scored."""
    table = pd.DataFrame(
        {"dyad": list(dyads), "n_segments": lengths}, index=pd.Index(list(labels), name="session")
    )
    if covariates is None or covariates.empty:
        return table
    origin = dict(covariates.attrs)
    cov = _numeric_where_possible(covariates)
    cov.index = pd.Index([_label(i) for i in cov.index], name="session")
    unknown = cov.index.difference(table.index, sort=False)
    for s in unknown[:50]:
        problems.add(
            "session table names a session with no segments",
            column="session",
            value=s,
            expected="every session to have at least one segment",
        )
    cov = cov.drop(columns=[c for c in ("dyad", "n_segments") if c in cov.columns])
    if book is not None:
        cov = _score_questionnaires(cov, book, problems, origin)
    return table.join(cov.loc[cov.index.isin(table.index)], how="left")


def _score_questionnaires(
    cov: pd.DataFrame, book: Codebook, problems: ProblemCollector, origin: Mapping
) -> pd.DataFrame:
    """Check item ranges and session-variable ranges; add subscale scores.

    ``origin`` may hold the session file name (``source``) and row of each session
    (``rows``), for messages.
    """

    def where(session: str) -> dict:
        return {
            "row": origin.get("rows", {}).get(session),
            "file": origin.get("source") or problems.file,
        }

    for var in book.session_variables.values():
        if var.name in cov.columns:
            values = pd.to_numeric(cov[var.name], errors="coerce")
            bad = cov[var.name].notna() & (values.isna() | (values < var.min) | (values > var.max))
            for s in cov.index[bad][:50]:
                problems.add(
                    f"session {s!r}: value out of range",
                    column=var.name,
                    value=cov.at[s, var.name],
                    **where(s),
                    expected=f"{var.min:g}..{var.max:g}",
                )
            cov[var.name] = values
    for q in book.questionnaires.values():
        present = [c for c in q.item_columns if c in cov.columns]
        if not present:
            continue
        missing = [c for c in q.item_columns if c not in cov.columns]
        if missing:
            problems.add(
                f"questionnaire {q.name!r} is missing item columns",
                value=missing,
                expected=f"all of {list(q.item_columns)}",
            )
            continue
        items = cov[list(q.item_columns)].apply(pd.to_numeric, errors="coerce")
        for col in q.item_columns:
            raw = cov[col]
            bad = raw.notna() & (
                items[col].isna()
                | (items[col] < q.min)
                | (items[col] > q.max)
                | (items[col] != items[col].round())
            )
            for s in cov.index[bad][:50]:
                problems.add(
                    f"session {s!r}: questionnaire item out of range",
                    column=col,
                    value=raw[s],
                    **where(s),
                    expected=f"an integer {q.min:g}..{q.max:g}",
                )
        cov[list(q.item_columns)] = items
        scores = q.score_items(items)
        for col in scores.columns:
            if col in cov.columns:
                given = pd.to_numeric(cov[col], errors="coerce")
                differ = ~np.isclose(given, scores[col], equal_nan=True)
                for s in cov.index[differ][:50]:
                    problems.add(
                        f"session {s!r}: subscale differs from its items' score",
                        column=col,
                        value=cov.at[s, col],
                        **where(s),
                        expected=f"{scores.at[s, col]:g} ({q.score} of keyed items)",
                    )
            cov[col] = scores[col]
    return cov


def _dyad_table(
    dyads: Sequence[str],
    lengths: np.ndarray,
    attributes: pd.DataFrame | None,
    problems: ProblemCollector,
) -> pd.DataFrame:
    """Dyad table: sessions and segments per dyad, plus attributes."""
    frame = pd.DataFrame({"dyad": list(dyads), "n": lengths})
    table = frame.groupby("dyad", sort=False).agg(n_sessions=("n", "size"), n_segments=("n", "sum"))
    if attributes is None or attributes.empty:
        return table
    attrs = _numeric_where_possible(attributes)
    attrs.index = pd.Index([_label(i) for i in attrs.index], name="dyad")
    for d in attrs.index:
        if d not in table.index:
            problems.add(
                "dyad table names a dyad with no sessions",
                column="dyad",
                value=d,
                expected=f"one of {list(table.index)}",
            )
    return table.join(
        attrs.drop(columns=[c for c in ("n_sessions", "n_segments") if c in attrs.columns]),
        how="left",
    )


def _collect_session_covariates(
    frame: pd.DataFrame,
    sess_lab: list[str],
    rows: np.ndarray,
    session: str,
    session_columns: Sequence[str],
    sessions: pd.DataFrame | None,
    sessions_source: str | None,
    problems: ProblemCollector,
) -> pd.DataFrame | None:
    """Session covariates from ``session_columns`` of the segment table and ``sessions``."""
    parts = []
    if session_columns:
        sub = frame[list(session_columns)].copy()
        sub.index = pd.Index(sess_lab, name="session")
        for col in session_columns:
            per = sub[col].groupby(level=0, sort=False).nunique(dropna=False)
            for s in per.index[per > 1][:50]:
                first_row = int(rows[np.flatnonzero(np.asarray(sess_lab) == s)[0]])
                problems.add(
                    f"session covariate varies within session {s!r}",
                    row=first_row,
                    column=col,
                    value=sub.loc[[s], col].unique().tolist()[:3],
                    expected="one value per session",
                )
        parts.append(sub.groupby(level=0, sort=False).first())
    if sessions is not None:
        if session not in sessions.columns:
            problems.add(
                "session table has no key column",
                column=session,
                value=list(sessions.columns)[:8],
                expected=f"a column {session!r}",
                file=sessions_source,
            )
        else:
            sess = sessions.copy()
            labels = [_label(v) for v in sess[session]]
            dup = pd.Series(labels)[pd.Series(labels).duplicated()]
            for i in dup.index[:50]:
                problems.add(
                    "duplicate session in session table",
                    row=int(i) + 1,
                    column=session,
                    value=labels[i],
                    expected="one row per session",
                    file=sessions_source,
                )
            sess.index = pd.Index(labels, name="session")
            sess.attrs = {
                "source": sessions_source,
                "rows": {s: i + 1 for i, s in enumerate(labels)},
            }
            sess = sess.drop(columns=[session] + [c for c in ("dyad",) if c in sess.columns])
            known = set(sess_lab)
            for i, s in enumerate(labels):
                if s not in known:
                    problems.add(
                        "session has no segments (empty session)",
                        row=i + 1,
                        column=session,
                        value=s,
                        expected="a session present in the segment table",
                        file=sessions_source,
                    )
            parts.append(sess[~sess.index.duplicated()])
    if not parts:
        return None
    return pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]


_SEPARATORS = ("+", ";", "|")


def _parse_values(
    name: str,
    column: pd.Series,
    code_list: Sequence[str] | None,
    problems: ProblemCollector,
    where: Any = None,
    file_column: str | None = None,
    book_codes: Sequence[str] | None = None,
    kind: str | None = None,
) -> StreamData:
    """Parse one column of codes into a stream (categorical labels or 0/1 indicator)."""
    values = column.tolist()
    present = [v for v in values if not _is_missing(v)]
    numeric = [
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in present
    ]

    def locate(i: int) -> dict:
        if where is not None:
            info = where(i)
            return {"message_prefix": info["message_prefix"]}
        return {"row": i + 1, "column": file_column or name}

    def report(i: int, message: str, value: Any, expected: str) -> None:
        loc = locate(i)
        prefix = loc.pop("message_prefix", None)
        problems.add(
            f"{prefix}: {message}" if prefix else message, value=value, expected=expected, **loc
        )

    if any(numeric) and not all(numeric) and kind != "categorical":
        strings = [str(v) for v in present]
        if not all(_as_int(s) is not None for s in strings):
            i = next(
                i
                for i, v in enumerate(values)
                if not _is_missing(v) and not isinstance(v, int | float | np.integer | np.floating)
            )
            report(
                i,
                f"mixed types in stream {name!r}: numbers and text",
                values[i],
                "all numbers or all code labels",
            )
            return StreamData("categorical", (), np.zeros(len(values), np.int64))
    labels = [None if _is_missing(v) else _label(v).strip() for v in values]
    distinct = {lab for lab in labels if lab is not None}
    if kind == "indicator" or (
        kind is None
        and code_list is None
        and book_codes is None
        and distinct
        and distinct <= {"0", "1"}
    ):
        out = np.full((len(values), 1), UNCODED, dtype=np.int8)
        for i, lab in enumerate(labels):
            if lab is None:
                continue
            if lab in ("0", "1"):
                out[i, 0] = int(lab)
            else:
                report(
                    i, f"bad value for indicator {name!r}", values[i], "0 or 1 (empty = uncoded)"
                )
        return StreamData("indicator", (name,), out)
    allowed = (
        list(code_list)
        if code_list is not None
        else (list(book_codes) if book_codes is not None else None)
    )
    if allowed is None:  # labels holding a separator are two codes, not one
        distinct = {d for d in distinct if not any(sep in d for sep in _SEPARATORS)}
    codes = tuple(allowed) if allowed is not None else tuple(sorted(distinct, key=_natural_key))
    index = {c: i for i, c in enumerate(codes)}
    out = np.full(len(values), UNCODED, dtype=np.int64)
    for i, lab in enumerate(labels):
        if lab is None:
            continue
        if lab in index:
            out[i] = index[lab]
            continue
        parts = [p.strip() for sep in _SEPARATORS if sep in lab for p in lab.split(sep)]
        if parts and (allowed is None or all(p in index for p in parts)):
            report(
                i,
                f"two codes in one segment of categorical stream {name!r}",
                values[i],
                "one code per segment (use an indicator stream for co-occurring codes, or "
                "pass codes={stream: [...]} if this label is a single code)",
            )
        else:
            report(i, f"unknown code in stream {name!r}", values[i], f"one of {list(codes)}")
    return StreamData("categorical", codes, out)


def _parse_columns(
    frame: pd.DataFrame,
    columns: list[str],
    book: Codebook | None,
    codes: Mapping[str, Sequence[str]] | None,
    problems: ProblemCollector,
) -> tuple[dict[str, StreamData], dict[str, np.ndarray]]:
    """Split value columns into streams and ratings, by codebook or by inference."""
    streams: dict[str, StreamData] = {}
    ratings: dict[str, np.ndarray] = {}
    remaining = list(columns)
    if book is not None:
        for s in book.streams.values():
            if s.kind == "categorical":
                if s.name in remaining:
                    remaining.remove(s.name)
                    streams[s.name] = _parse_values(
                        s.name,
                        frame[s.name],
                        None,
                        problems,
                        book_codes=s.codes,
                        kind="categorical",
                    )
                continue
            present = [c for c in s.codes if c in remaining]
            if not present:
                continue
            missing = [c for c in s.codes if c not in remaining]
            if missing:
                problems.add(
                    f"indicator stream {s.name!r} is missing code columns",
                    column=missing[0],
                    value=missing,
                    expected=f"all of {list(s.codes)} or none",
                )
                continue
            matrix = np.empty((len(frame), len(s.codes)), dtype=np.int8)
            for j, code in enumerate(s.codes):
                remaining.remove(code)
                matrix[:, j] = _parse_values(
                    code, frame[code], None, problems, kind="indicator"
                ).values[:, 0]
            streams[s.name] = StreamData("indicator", s.codes, matrix)
        for r in book.ratings.values():
            if r.name in remaining:
                remaining.remove(r.name)
                ratings[r.name] = _parse_ratings(frame[r.name], r.name, problems)
        for col in remaining:
            problems.add(
                "column not in the codebook",
                column=col,
                value=col,
                expected=(
                    f"a stream, code or rating of {book.name} "
                    "(or pass ignore=[...] / session_columns=[...])"
                ),
            )
        return streams, ratings
    for col in remaining:
        values = frame[col]
        present = values[[not _is_missing(v) for v in values.tolist()]]
        as_num = pd.to_numeric(present, errors="coerce")
        is_num = len(present) > 0 and as_num.notna().all()
        if codes and col in codes:
            streams[col] = _parse_values(col, values, codes[col], problems, kind="categorical")
        elif is_num and not set(as_num.unique()) <= {0, 1}:
            non_int = (as_num != as_num.round()).any()
            if non_int or pd.api.types.is_float_dtype(values):
                ratings[col] = _parse_ratings(values, col, problems)
            else:
                streams[col] = _parse_values(col, values, None, problems, kind="categorical")
        else:
            streams[col] = _parse_values(col, values, None, problems)
    return streams, ratings


def _parse_ratings(column: pd.Series, name: str, problems: ProblemCollector) -> np.ndarray:
    """Parse a numeric rating column (empty = NaN)."""
    out = np.full(len(column), np.nan)
    for row, value in enumerate(column.tolist(), start=1):
        if _is_missing(value):
            continue
        try:
            out[row - 1] = float(value)
        except (TypeError, ValueError):
            problems.add(
                f"non-numeric rating in {name!r}",
                row=row,
                column=name,
                value=value,
                expected="a number",
            )
    return out
