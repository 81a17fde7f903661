"""Reading GSEQ's SDIS files into a :class:`~lagnest.Sequences`.

Reading GSEQ's SDIS files (Event, State, Timed, Interval, Multievent) into a
:class:`~lagnest.Sequences`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from lagnest.data.codebook import Codebook, load_codebook
from lagnest.data.events import (
    StreamSpec,
    TimedEvents,
    TimedSession,
    build_sequences,
    check_segment_options,
    timed_events,
    timed_to_values,
)
from lagnest.data.sequences import Sequences
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector
from lagnest.io import _pragmas
from lagnest.io._limits import MAX_SEGMENTS, Budget, check_limit_argument
from lagnest.io.events import (
    _check_as_events,
    _resolve_codes,
    _run_breaks,
    _Token,
    _units_to_values,
    check_exclusive,
    covariate_tables,
    read_text,
)
from lagnest.io.sdis_grammar import (
    DEFAULT_STREAM,
    PRAGMA,
    UNCODED_CODE,
    _Declaration,
    _Parser,
    _Session,
    _tokenize,
)

__all__ = [
    "parse_sdis",
    "read_sdis",
]



def _stream_specs(
    decl: _Declaration,
    indicator_sets: Iterable[str],
    stream: str,
    default_kind: str,
    uncoded: str | None,
    parser: _Parser,
) -> list[StreamSpec]:
    """Streams from the declaration: one per code set, else one named ``stream``."""
    indicator_sets = set(indicator_sets)
    if decl.sets and decl.plain:
        parser.fail(
            parser.tokens[0], "the declaration mixes a plain code list and code sets", "one of them"
        )
    if not decl.sets:
        codes = [c for c in dict.fromkeys(decl.plain) if c != uncoded]
        return [StreamSpec(stream, default_kind, codes, bool(decl.plain))]
    seen: dict[str, str] = {}
    specs = []
    for name, codes in decl.sets.items():
        for code in codes:
            if code in seen and code != uncoded:
                parser.fail(
                    parser.tokens[0],
                    f"code {code!r} is declared in sets {seen[code]!r} and {name!r}",
                    "each code in one set",
                )
            seen[code] = name
        kind = "indicator" if name in indicator_sets else "categorical"
        codes = [c for c in codes if c != uncoded]
        specs.append(StreamSpec(name, kind, codes, True, kind == "categorical"))
    return specs


# ---------------------------------------------------------------------------- reading
def parse_sdis(
    text: str,
    *,
    segment_seconds: float | None = None,
    min_overlap: float = 0.0,
    rule: str = "overlap",
    stream: str = DEFAULT_STREAM,
    indicator_sets: Sequence[str] = (),
    dyad_factor: str = "dyad",
    dyad_factors: Sequence[str] = (),
    uncoded: str | None = UNCODED_CODE,
    codebook: str | Codebook | None = None,
    source: str | None = None,
    max_segments: int = MAX_SEGMENTS,
    as_events: bool = False,
) -> Sequences | TimedEvents:
    """Parse SDIS text into a `Sequences` (see :func:`read_sdis` for the parameters).

    Parameters
    ----------
    text : str
        The content of an SDIS file.
    segment_seconds, min_overlap, rule, stream, indicator_sets, dyad_factor, dyad_factors,
    uncoded, codebook, max_segments, as_events
        As in :func:`read_sdis`.
    source : str, optional
        File name used in error messages.

    Returns
    -------
    Sequences or TimedEvents
    """
    check_segment_options(segment_seconds, min_overlap, rule)
    _check_as_events(as_events, segment_seconds, source)
    budget = Budget(check_limit_argument(max_segments, "max_segments"), source)
    tokens, pragmas = _tokenize(text, source)
    parser = _Parser(tokens, source, budget)
    decl = parser.declaration()
    sessions = parser.sessions(decl)
    if not sessions:
        parser.fail(parser.peek(), "the file has no session", "at least one session ending in '/'")
    problems = ProblemCollector(file=source)
    marks = _pragmas.read_pragmas(pragmas, [s.start.line for s in sessions], problems)
    if codebook is None and marks.codebook is not None:
        codebook = _pragma_codebook(marks, source)
    timed = decl.data_type in ("Timed", "State")
    if as_events and not timed:
        raise LagnestDataError(DataProblem(
            f"as_events needs timed data, but the file holds {decl.data_type} data",
            file=source, value=decl.data_type,
            expected="Timed or State data (events with onsets and offsets)"))
    default_kind = "categorical" if decl.data_type == "Event" or timed else "indicator"
    specs = _stream_specs(
        decl, [*indicator_sets, *marks.indicator_sets], stream, default_kind, uncoded, parser
    )
    code_tokens = (
        [
            _Token("word", e.code, e.where["line"], e.where["column"])
            for s in sessions
            for e in s.events
        ]
        if timed
        else [tok for s in sessions for unit in s.units for tok in unit]
    )
    index = _resolve_codes(specs, code_tokens, uncoded, problems)
    labels = _session_labels(sessions, problems)
    problems.raise_if_any()
    if timed:
        if segment_seconds is not None:
            for spec in specs:
                spec.kind = "indicator"
        owner = {code: s for code, (s, _) in index.items()}
        code_index = {code: j for code, (_, j) in index.items()}
        timed_sessions = [
            _timed_session(s, specs, index, segment_seconds is not None or as_events, uncoded,
                           problems)
            for s in sessions
        ]
        per_session = [] if as_events else [
            timed_to_values(ts, specs, owner, code_index, segment_seconds, min_overlap, rule,
                            uncoded, budget)
            for ts in timed_sessions
        ]
    else:
        for s in sessions:
            if not s.units:
                problems.add("session has no events", line=s.start.line, column=s.start.column)
        counts = [c for s in sessions for c in s.counts]
        values = _units_to_values(
            [u for s in sessions for u in s.units], specs, index, uncoded, problems, counts
        )
        breaks = _run_breaks([b for s in sessions for b in s.breaks], counts)
        offsets = np.cumsum([0] + [sum(s.counts) for s in sessions])
        per_session = [
            ([v[a:b] for v in values], breaks[a:b])
            for a, b in itertools.pairwise(offsets.tolist())
        ]
    problems.raise_if_any()
    ratings, numbers = {}, None
    if not timed:
        ratings, numbers, breaks = _pragmas.session_arrays(
            marks, [len(b) for _, b in per_session], [b for _, b in per_session], problems
        )
        per_session = [(v, b) for (v, _), b in zip(per_session, breaks, strict=True)]
    factor_rows, names = _factor_rows(decl, sessions, problems)
    where = [{"line": s.start.line, "column": s.start.column} for s in sessions]
    dyads, covariates, attrs = covariate_tables(
        labels,
        names,
        factor_rows,
        dyad_factor,
        [*dyad_factors, *marks.dyad_factors],
        problems,
        where,
    )
    problems.raise_if_any()
    if as_events:
        return timed_events(labels, dyads, specs, timed_sessions, owner, code_index, uncoded,
                            covariates, attrs, codebook)
    return build_sequences(
        labels,
        dyads,
        specs,
        per_session,
        covariates,
        attrs,
        codebook,
        ratings=ratings,
        segment_numbers=numbers,
    )


def _pragma_codebook(marks: _pragmas.Pragmas, source: str | None) -> Codebook:
    """The codebook a ``% lagnest: codebook`` line names (a located error if it fails)."""
    try:
        return load_codebook(marks.codebook)
    except (LagnestDataError, OSError) as err:
        raise LagnestDataError(
            DataProblem(
                f"the codebook named in '% {PRAGMA} codebook' cannot be loaded: {err}",
                file=source,
                line=marks.codebook_line,
                value=marks.codebook,
                expected="a shipped codebook name (or pass codebook=)",
            )
        ) from None


def _timed_session(
    sess: _Session,
    specs: list[StreamSpec],
    index: Mapping[str, tuple[int, int]],
    ends_by_time: bool,
    uncoded: str | None,
    problems: ProblemCollector,
) -> TimedSession:
    """One session of Timed/State data, checked: events, and no overlap in exclusive sets.

    ``ends_by_time``: time is not cut at events (segments or `TimedEvents`), so a session
    with an end time ``,t`` and no event is fine.
    """
    if not sess.events and (not ends_by_time or sess.end_time is None):
        problems.add("session has no events", line=sess.start.line, column=sess.start.column)
    for s, spec in enumerate(specs):
        if spec.exclusive:
            mine = [e for e in sess.events if e.code != uncoded and index[e.code][0] == s]
            check_exclusive(mine, problems, spec.name)
    return TimedSession(sess.events, sess.event_breaks, sess.end_time)


def _session_labels(sessions: list[_Session], problems: ProblemCollector) -> list[str]:
    """Labels from ``<label>`` or ``s1``, ``s2``, ...; duplicates are problems."""
    labels = [s.label if s.label is not None else f"s{i + 1}" for i, s in enumerate(sessions)]
    seen: dict[str, int] = {}
    for i, lab in enumerate(labels):
        if lab in seen:
            problems.add(
                f"duplicate session label (first used by session {seen[lab] + 1})",
                line=sessions[i].start.line,
                column=sessions[i].start.column,
                value=lab,
                expected="unique session labels",
            )
        seen.setdefault(lab, i)
    return labels


def _factor_rows(
    decl: _Declaration, sessions: list[_Session], problems: ProblemCollector
) -> tuple[list[list[str | None]], list[str]]:
    """Factor values per session, checked against the declared factors and levels."""
    width = max([len(decl.factors)] + [len(s.factors) for s in sessions])
    names = list(decl.factors) or [f"factor{i + 1}" for i in range(width)]
    rows: list[list[str | None]] = []
    for s in sessions:
        values = [tok.text for tok in s.factors]
        if s.factors and len(values) != len(names):
            problems.add(
                f"session has {len(values)} factor levels",
                line=s.factors[0].line,
                column=s.factors[0].column,
                value=values,
                expected=f"{len(names)} levels: {names}",
            )
        for name, tok in zip(names, s.factors, strict=False):
            allowed = decl.levels.get(name)
            if allowed is not None and tok.text not in allowed:
                problems.add(
                    f"unknown level of factor {name!r}",
                    line=tok.line,
                    column=tok.column,
                    value=tok.text,
                    expected=f"one of {allowed}",
                )
        rows.append((values + [None] * len(names))[: len(names)])
    return rows, names


def read_sdis(
    path: str | os.PathLike,
    *,
    segment_seconds: float | None = None,
    min_overlap: float = 0.0,
    rule: str = "overlap",
    stream: str = DEFAULT_STREAM,
    indicator_sets: Sequence[str] = (),
    dyad_factor: str = "dyad",
    dyad_factors: Sequence[str] = (),
    uncoded: str | None = UNCODED_CODE,
    codebook: str | Codebook | None = None,
    encoding: str = "utf-8-sig",
    max_segments: int = MAX_SEGMENTS,
    as_events: bool = False,
) -> Sequences | TimedEvents:
    """Read a GSEQ SDIS file (Event, Multievent, Interval, Timed or State data).

    Parameters
    ----------
    path : str or path
        The ``.sds`` file.
    segment_seconds : float, optional
        Timed and State data only: cut time into segments of this many seconds from 0 (every
        stream becomes an indicator stream); default ``None`` keeps events as segments, in
        onset order.
    min_overlap : float, default 0
        A code is present in a segment it overlaps by more than 0 s (default) or by at least
        ``min_overlap`` s; a momentary event is present in the segment holding its onset.
    rule : {"overlap", "onset"}
        ``"onset"`` counts an event only in the segment holding its onset.
    stream : str, default "code"
        Name of the single stream when no code sets are declared.
    indicator_sets : list of str
        Code sets whose codes may co-occur (indicator streams); other declared sets are
        mutually exclusive (categorical streams). ``% lagnest: indicator-sets ...`` in the file
        adds to these.
    dyad_factor : str, default "dyad"
        Factor giving each session's dyad (without it each session is its own dyad).
    dyad_factors : list of str
        Factors that are dyad attributes rather than session covariates (also
        ``% lagnest: dyad-factors ...``).
    uncoded : str or None, default "UNCODED"
        Code that marks an uncoded segment (written by :func:`write_sdis`); ``None`` makes
        it an ordinary code.
    codebook : str or Codebook, optional
        Validates codes and derives streams, as for :func:`lagnest.read_table`.
    encoding : str, default "utf-8-sig"
        A file starting with a UTF-16 byte-order mark is read as UTF-16 unless another
        encoding is given.
    max_segments : int, default 10,000,000
        Most segments the file may expand into (repeated intervals, timed events cut into
        ``segment_seconds``); checked before they are made.
    as_events : bool, default False
        Timed and State data only: return the events themselves, with their onsets and
        offsets, as a :class:`~lagnest.TimedEvents` (for :func:`lagnest.timed_table`;
        ``.to_sequences(L)`` cuts them as ``segment_seconds=L`` would). Not with
        ``segment_seconds``.

    Returns
    -------
    Sequences or TimedEvents
        A `TimedEvents` with ``as_events=True``.

    Raises
    ------
    LagnestDataError
        Malformed input, with file, line and column; ``as_events`` on untimed data.
    LimitError
        A `LagnestDataError`: the file would make more than ``max_segments`` segments.
    OSError
        A path problem (missing, a folder, no permission), naming the path.

    Examples
    --------
    >>> import lagnest as ln
    >>> seqs = ln.read_sdis("study.sds")  # doctest: +SKIP
    """
    path = Path(path)
    return parse_sdis(
        read_text(path, encoding),
        segment_seconds=segment_seconds,
        min_overlap=min_overlap,
        rule=rule,
        stream=stream,
        indicator_sets=indicator_sets,
        dyad_factor=dyad_factor,
        dyad_factors=dyad_factors,
        uncoded=uncoded,
        codebook=codebook,
        source=str(path),
        max_segments=max_segments,
        as_events=as_events,
    )
