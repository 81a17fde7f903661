"""GSEQ's SDIS files (Sequential Data Interchange Standard) <-> `Sequences`.

What is read and written, exactly, is documented in ``docs/formats.md``. In short:

* a declaration ``Event|State|Timed|Interval|Multievent [options] [codes] [* factors] ;``
  where codes are a plain list or code sets ``($name = code code ...)``;
* ``%`` starts a comment to the end of the line; ``% lagnest: ...`` comments carry
  lagnest pragmas (ignored by GSEQ);
* sessions: an optional ``<label>``, the data, optional factor levels ``(level ...)`` and
  ``/``; ``;`` inside a session is a break.

Every problem is a :class:`~lagnest.errors.LagnestDataError` naming line and column.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lagnest._files import atomic_write
from lagnest._streams import natural_key
from lagnest.codebook import Codebook
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector
from lagnest.io import _pragmas
from lagnest.io._meta import loadable_codebook
from lagnest.sequences import Sequences, StreamData

DATA_TYPES = ("Event", "State", "Timed", "Interval", "Multievent")
UNCODED_CODE = "UNCODED"
DEFAULT_STREAM = "code"
PRAGMA = _pragmas.PRAGMA
TIME_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "ms": 0.001,
    "msec": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
}
_PUNCT = set(",;/()=*")
_SPECIAL = _PUNCT | set("<>%.")
_EPS = 1e-9
_TIME_RE = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)$")
_LINE_WIDTH = 78


# ---------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class _Token:
    """One token: ``kind`` is ``word``, ``label``, ``punct`` or ``eof``; 1-based position."""

    kind: str
    text: str
    line: int
    column: int


def _fail(source: str | None, token: _Token, message: str, expected: str | None = None):
    """Raise a `LagnestDataError` located at ``token``."""
    value = None if token.kind == "eof" else token.text
    raise LagnestDataError(
        DataProblem(
            message,
            file=source,
            line=token.line,
            column=token.column,  # type: ignore[arg-type]
            value=value,
            expected=expected,
        )
    )


def _tokenize(text: str, source: str | None) -> tuple[list[_Token], list[tuple[int, str]]]:
    """Split SDIS text into tokens, tracking line and column; also return pragma comments.

    Pragmas are ``(line, text after 'lagnest:')``.
    """
    tokens: list[_Token] = []
    pragmas: list[tuple[int, str]] = []
    i, line, col, n = 0, 1, 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            i, line, col = i + 1, line + 1, 1
        elif ch.isspace():
            i, col = i + 1, col + 1
        elif ch == "%":
            end = text.find("\n", i)
            end = n if end < 0 else end
            comment = text[i + 1 : end].strip()
            if comment.startswith(PRAGMA):
                pragmas.append((line, comment[len(PRAGMA) :].strip()))
            col += end - i
            i = end
        elif ch == "<":
            end = text.find(">", i)
            newline = text.find("\n", i)
            if end < 0 or (0 <= newline < end):
                _fail(source, _Token("punct", "<", line, col), "unterminated label", "'>'")
            tokens.append(_Token("label", text[i + 1 : end].strip(), line, col))
            col += end + 1 - i
            i = end + 1
        elif ch in _PUNCT or ch == ".":
            tokens.append(_Token("punct", ch, line, col))
            i, col = i + 1, col + 1
        elif ch == ">":
            _fail(source, _Token("punct", ch, line, col), "unexpected '>'", "'<label>'")
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
                if i + 1 < n and text[i] == "." and text[i - 1].isdigit() and text[i + 1].isdigit():
                    i += 1
            tokens.append(_Token("word", text[start:i], line, col))
            col += i - start
    tokens.append(_Token("eof", "", line, col))
    return tokens, pragmas


# ---------------------------------------------------------------------------- times
def parse_time(text: str, unit: float = 1.0) -> float | None:
    """Parse ``ss[.ddd]``, ``mm:ss[.ddd]`` or ``hh:mm:ss[.ddd]`` to seconds (None if bad).

    Parameters
    ----------
    text : str
        The time.
    unit : float, default 1.0
        Seconds per unit of a plain number (``0.001`` for milliseconds).

    Returns
    -------
    float or None
    """
    m = _TIME_RE.match(text)
    if m is None:
        return None
    first, second, last = m.groups()
    seconds = float(last)
    if first is None:
        return seconds * unit
    if seconds >= 60:
        return None
    if second is None:
        return int(first) * 60 + seconds
    if int(second) >= 60:
        return None
    return int(first) * 3600 + int(second) * 60 + seconds


# ---------------------------------------------------------------------------- structures
@dataclass
class _Declaration:
    """What the declaration line says."""

    data_type: str
    sets: dict[str, list[str]] = field(default_factory=dict)
    plain: list[str] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    levels: dict[str, list[str]] = field(default_factory=dict)
    unit: float = 1.0


@dataclass(frozen=True)
class TimedEvent:
    """A coded event in time: ``code`` from ``onset`` to ``offset`` seconds.

    ``offset == onset`` is a momentary event. ``token`` locates it in its file (for errors):
    any object with ``line`` and ``column`` (or ``row``) attributes.
    """

    code: str
    onset: float
    offset: float
    where: dict = field(default_factory=dict)


@dataclass
class _Session:
    """One parsed session, before it becomes arrays."""

    start: _Token
    label: str | None = None
    units: list[list[_Token]] = field(default_factory=list)
    breaks: list[bool] = field(default_factory=list)
    events: list[TimedEvent] = field(default_factory=list)
    event_breaks: list[bool] = field(default_factory=list)
    end_time: float | None = None
    factors: list[_Token] = field(default_factory=list)


# ---------------------------------------------------------------------------- parser
class _Parser:
    """Recursive-descent parser over the token list."""

    def __init__(self, tokens: list[_Token], source: str | None) -> None:
        self.tokens = tokens
        self.i = 0
        self.source = source

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def is_punct(self, text: str) -> bool:
        tok = self.peek()
        return tok.kind == "punct" and tok.text == text

    def fail(self, tok: _Token, message: str, expected: str | None = None):
        _fail(self.source, tok, message, expected)

    def expect_punct(self, text: str, context: str) -> _Token:
        tok = self.take()
        if tok.kind != "punct" or tok.text != text:
            self.fail(tok, f"unexpected {_describe(tok)} {context}", f"'{text}'")
        return tok

    def expect_word(self, context: str) -> _Token:
        tok = self.take()
        if tok.kind != "word":
            self.fail(tok, f"unexpected {_describe(tok)} {context}", "a name")
        return tok

    # ------------------------------------------------------------ declaration
    def declaration(self) -> _Declaration:
        first = self.take()
        kinds = {t.lower(): t for t in DATA_TYPES}
        if first.kind != "word" or first.text.lower() not in kinds:
            self.fail(first, "the file must start with a data type", f"one of {DATA_TYPES}")
        decl = _Declaration(kinds[first.text.lower()])
        while not self.is_punct(";"):
            tok = self.peek()
            if tok.kind == "eof":
                self.fail(tok, "unterminated declaration", "';' after the declaration")
            if tok.kind == "label":
                self.take()
                if tok.text.lower() not in TIME_UNITS:
                    self.fail(tok, "unknown declaration option", f"a time unit {list(TIME_UNITS)}")
                decl.unit = TIME_UNITS[tok.text.lower()]
            elif tok.kind == "word":
                decl.plain.append(self.take().text)
            elif tok.text == "(":
                self.code_set(decl)
            elif tok.text == "*":
                self.take()
                self.factor_names(decl)
            else:
                self.fail(tok, f"unexpected {_describe(tok)} in the declaration")
        self.take()
        return decl

    def code_set(self, decl: _Declaration) -> None:
        open_tok = self.take()
        name = f"set{len(decl.sets) + 1}"
        if self.peek().kind == "word" and self.peek().text.startswith("$"):
            name_tok = self.take()
            name = name_tok.text[1:]
            if not name:
                self.fail(name_tok, "empty code set name", "'$name'")
            self.expect_punct("=", "after the code set name")
        if name in decl.sets:
            self.fail(open_tok, f"code set {name!r} declared twice")
        codes = []
        while not self.is_punct(")"):
            codes.append(self.expect_word("in a code set").text)
        self.take()
        decl.sets[name] = codes

    def factor_names(self, decl: _Declaration) -> None:
        while self.peek().kind == "word":
            tok = self.take()
            if tok.text in decl.factors:
                self.fail(tok, "factor declared twice")
            decl.factors.append(tok.text)
            if self.is_punct("("):
                self.take()
                levels = []
                while not self.is_punct(")"):
                    levels.append(self.expect_word("in factor levels").text)
                self.take()
                decl.levels[tok.text] = levels

    # ------------------------------------------------------------ sessions
    def sessions(self, decl: _Declaration) -> list[_Session]:
        out = []
        while self.peek().kind != "eof":
            out.append(self.session(decl))
        return out

    def session(self, decl: _Declaration) -> _Session:
        sess = _Session(start=self.peek())
        if self.peek().kind == "label":
            tok = self.take()
            if not tok.text:
                self.fail(tok, "empty session label", "'<label>' with text")
            sess.label = tok.text
        body = {
            "Event": self.event_body,
            "Multievent": self.grouped_body,
            "Interval": self.grouped_body,
            "Timed": self.timed_body,
            "State": self.state_body,
        }[decl.data_type]
        body(decl, sess)
        if self.is_punct("("):
            self.take()
            while not self.is_punct(")"):
                tok = self.peek()
                if tok.kind == "eof":
                    self.fail(sess.start, "unterminated session: factor levels never closed", "')'")
                sess.factors.append(self.expect_word("in factor levels"))
            self.take()
            self.expect_punct("/", "after factor levels")
        return sess

    def _end_of_session(self, tok: _Token, sess: _Session) -> bool:
        """Whether ``tok`` ends the session body (``/`` taken, ``(`` left); fail on EOF."""
        if tok.kind == "eof":
            self.fail(sess.start, "unterminated session (the file ends before its '/')", "'/'")
        if tok.kind == "punct" and tok.text == "/":
            self.take()
            return True
        return tok.kind == "punct" and tok.text == "("

    def _mark_break(self, sess: _Session, pending: list[bool]) -> None:
        self.take()
        pending[0] = True

    def event_body(self, decl: _Declaration, sess: _Session) -> None:
        pending = [False]
        while not self._end_of_session(self.peek(), sess):
            tok = self.peek()
            if tok.kind == "word":
                sess.units.append([self.take()])
                sess.breaks.append(pending[0])
                pending[0] = False
            elif tok.kind == "punct" and tok.text == ";":
                self._mark_break(sess, pending)
            else:
                self.fail(tok, f"unexpected {_describe(tok)} in Event data", "codes, ';' or '/'")

    def grouped_body(self, decl: _Declaration, sess: _Session) -> None:
        """Multievent (events end with ``.``) and Interval (intervals end with ``,``) data."""
        sep = "." if decl.data_type == "Multievent" else ","
        pending = [False]
        current: list[_Token] = []
        repeat = [1]

        def close(always: bool) -> None:
            if current or always:
                for _ in range(repeat[0]):
                    sess.units.append(list(current))
                    sess.breaks.append(pending[0])
                    pending[0] = False
            current.clear()
            repeat[0] = 1

        while True:
            tok = self.peek()
            if self._end_of_session(tok, sess):
                close(always=False)
                return
            if tok.kind == "word":
                self.take()
                prefix = not current and tok.text.isdigit() and self.is_punct("*")
                if decl.data_type == "Interval" and prefix:
                    self.take()
                    self.repetition(tok, repeat)
                else:
                    current.append(tok)
            elif tok.kind == "punct" and tok.text == sep:
                self.take()
                close(always=True)
            elif tok.kind == "punct" and tok.text == ";":
                close(always=False)
                self._mark_break(sess, pending)
            elif decl.data_type == "Interval" and tok.kind == "punct" and tok.text == "*":
                self.take()
                self.repetition(self.expect_word("after '*'"), repeat)
            else:
                self.fail(
                    tok,
                    f"unexpected {_describe(tok)} in {decl.data_type} data",
                    f"codes, '{sep}', ';' or '/'",
                )

    def repetition(self, count_tok: _Token, repeat: list[int]) -> None:
        """``n*`` before an interval's codes or ``*n`` after them: repeat the interval."""
        if repeat[0] != 1:
            self.fail(count_tok, "an interval has two repetition counts")
        if not count_tok.text.isdigit() or int(count_tok.text) < 1:
            self.fail(count_tok, "bad repetition count", "a positive integer before '*'")
        repeat[0] = int(count_tok.text)

    def timed_body(self, decl: _Declaration, sess: _Session) -> None:
        pending = [False]
        while not self._end_of_session(self.peek(), sess):
            tok = self.peek()
            if tok.kind == "punct" and tok.text == ";":
                self._mark_break(sess, pending)
            elif tok.kind == "punct" and tok.text == ",":
                self.take()
                time_tok = self.expect_word("after ','")
                sess.end_time = self.time(time_tok, decl.unit)
                if not (self.is_punct("/") or self.is_punct("(")):
                    self.fail(self.peek(), "a session end time ',time' must come last", "'/'")
            elif tok.kind == "word":
                self.take()
                self.expect_punct(",", "after a Timed code")
                onset, offset = self.time_span(self.expect_word("after ','"), decl.unit)
                for code_tok in self.split_plus(tok):
                    sess.events.append(_timed(code_tok, onset, offset))
                    sess.event_breaks.append(pending[0])
                pending[0] = False
            else:
                self.fail(tok, f"unexpected {_describe(tok)} in Timed data", "'code,onset-offset'")

    def state_body(self, decl: _Declaration, sess: _Session) -> None:
        clocks: dict[str, float] = {}
        owner = _code_owner(decl)
        pending = [False]
        while not self._end_of_session(self.peek(), sess):
            tok = self.peek()
            if tok.kind == "punct" and tok.text == ";":
                self._mark_break(sess, pending)
            elif tok.kind == "word":
                self.take()
                self.expect_punct("=", "after a State code")
                dur_tok = self.expect_word("after '='")
                duration = self.time(dur_tok, decl.unit)
                for code_tok in self.split_plus(tok):
                    stream = owner.get(code_tok.text, DEFAULT_STREAM)
                    onset = clocks.get(stream, 0.0)
                    clocks[stream] = onset + duration
                    sess.events.append(_timed(code_tok, onset, onset + duration))
                    sess.event_breaks.append(pending[0])
                pending[0] = False
            else:
                self.fail(tok, f"unexpected {_describe(tok)} in State data", "'code=duration'")

    def split_plus(self, tok: _Token) -> list[_Token]:
        """``a+b`` (LINCE's co-occurring codes) -> tokens ``a`` and ``b``."""
        parts, col, out = tok.text.split("+"), tok.column, []
        for part in parts:
            if not part:
                self.fail(_Token("word", tok.text, tok.line, col), "empty code in 'a+b'")
            out.append(_Token("word", part, tok.line, col))
            col += len(part) + 1
        return out

    def time(self, tok: _Token, unit: float) -> float:
        value = parse_time(tok.text, unit)
        if value is None:
            self.fail(tok, "bad time", "seconds (12.5), mm:ss(.ddd) or hh:mm:ss(.ddd)")
        return value

    def time_span(self, tok: _Token, unit: float) -> tuple[float, float]:
        """``onset-offset`` or ``onset`` (momentary) -> seconds; offset before onset fails."""
        onset_text, dash, offset_text = tok.text.partition("-")
        onset = self.time(_Token("word", onset_text, tok.line, tok.column), unit)
        if not dash:
            return onset, onset
        off_tok = _Token("word", offset_text, tok.line, tok.column + len(onset_text) + 1)
        offset = self.time(off_tok, unit)
        if offset < onset:
            self.fail(off_tok, "offset before onset", f"an offset >= {onset_text}")
        return onset, offset


def _timed(tok: _Token, onset: float, offset: float) -> TimedEvent:
    return TimedEvent(tok.text, onset, offset, {"line": tok.line, "column": tok.column})


def _describe(tok: _Token) -> str:
    if tok.kind == "eof":
        return "end of file"
    if tok.kind == "label":
        return f"label <{tok.text}>"
    return repr(tok.text)


def _code_owner(decl: _Declaration) -> dict[str, str]:
    return {code: name for name, codes in decl.sets.items() for code in codes}


# ---------------------------------------------------------------------------- streams
@dataclass
class StreamSpec:
    """A stream being built: name, kind, code list (``fixed`` when declared), exclusivity.

    An ``exclusive`` stream's timed events may not overlap.
    """

    name: str
    kind: str
    codes: list[str]
    fixed: bool
    exclusive: bool = False


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


def _resolve_codes(
    specs: list[StreamSpec],
    tokens: Iterable[_Token],
    uncoded: str | None,
    problems: ProblemCollector,
) -> dict[str, tuple[int, int]]:
    """Map every code to (stream index, code index); unknown declared codes are problems."""
    index = {code: (s, j) for s, spec in enumerate(specs) for j, code in enumerate(spec.codes)}
    for tok in tokens:
        if tok.text in index or tok.text == uncoded:
            continue
        if len(specs) == 1 and not specs[0].fixed:
            specs[0].codes.append(tok.text)
            index[tok.text] = (0, len(specs[0].codes) - 1)
            continue
        declared = [c for spec in specs for c in spec.codes]
        problems.add(
            "unknown code (not in the declared code list)",
            line=tok.line,
            column=tok.column,
            value=tok.text,
            expected=f"one of {declared[:20]}",
        )
    if len(specs) == 1 and not specs[0].fixed:
        order = sorted(specs[0].codes, key=natural_key)
        specs[0].codes[:] = order
        index = {code: (0, j) for j, code in enumerate(order)}
    return index


def _units_to_values(
    units: list[list[_Token]],
    specs: list[StreamSpec],
    index: Mapping[str, tuple[int, int]],
    uncoded: str | None,
    problems: ProblemCollector,
) -> list[np.ndarray]:
    """Segments (lists of code tokens) -> one value array per stream.

    A categorical stream takes the one code of its set in the segment (none: uncoded); an
    indicator stream marks its codes present. The ``uncoded`` code alone marks the whole
    segment uncoded.
    """
    n = len(units)
    values = [
        np.full(n, -1, np.int64)
        if s.kind == "categorical"
        else np.zeros((n, len(s.codes)), np.int8)
        for s in specs
    ]
    for t, unit in enumerate(units):
        if any(tok.text == uncoded for tok in unit):
            if len(unit) > 1:
                problems.add(
                    f"the uncoded marker {uncoded!r} must stand alone in its segment",
                    line=unit[0].line,
                    column=unit[0].column,
                    value=" ".join(tok.text for tok in unit),
                )
            for v in values:
                v[t] = -1
            continue
        for tok in unit:
            if tok.text not in index:
                continue
            s, j = index[tok.text]
            if specs[s].kind == "indicator":
                values[s][t, j] = 1
            elif values[s][t] >= 0 and values[s][t] != j:
                problems.add(
                    f"two codes of the exclusive set {specs[s].name!r} in one segment",
                    line=tok.line,
                    column=tok.column,
                    value=tok.text,
                    expected=(
                        f"one code of {specs[s].name!r} per segment (or declare the set as an "
                        "indicator set)"
                    ),
                )
            else:
                values[s][t] = j
    return values


# ---------------------------------------------------------------------------- time -> segments
def check_exclusive(events: Sequence[TimedEvent], problems: ProblemCollector, stream: str) -> None:
    """Overlapping events of one exclusive stream are problems (touching is fine)."""
    ordered = sorted(events, key=lambda e: (e.onset, e.offset))
    for prev, nxt in itertools.pairwise(ordered):
        if nxt.onset < prev.offset - _EPS:
            problems.add(
                f"overlapping states in the exclusive stream {stream!r}: {prev.code!r} "
                f"{prev.onset:g}-{prev.offset:g} and {nxt.code!r} {nxt.onset:g}-{nxt.offset:g}",
                value=nxt.code,
                expected="states of one exclusive stream that do not overlap",
                **nxt.where,
            )


def segment_events(
    events: Sequence[TimedEvent],
    segment_seconds: float,
    *,
    end_time: float | None = None,
    min_overlap: float = 0.0,
    rule: str = "overlap",
) -> tuple[int, list[list[int]]]:
    """Cut timed events into fixed segments ``[k L, (k + 1) L)`` from time 0.

    Parameters
    ----------
    events : sequence of TimedEvent
    segment_seconds : float
        Segment length ``L`` (> 0).
    end_time : float, optional
        End of the session; default the latest offset.
    min_overlap : float, default 0
        Rule ``"overlap"``: an event is present in every segment it overlaps by more than 0
        seconds (``min_overlap=0``) or by at least ``min_overlap`` seconds. Momentary events
        (offset = onset) are present in the segment holding their onset.
    rule : {"overlap", "onset"}
        ``"onset"``: an event is present only in the segment holding its onset.

    Returns
    -------
    n_segments : int
    present : list of list of int
        For each event, the segments it is present in.
    """
    L = float(segment_seconds)
    last = max([end_time or 0.0] + [e.offset for e in events])
    n = max(1, math.ceil(last / L - _EPS))
    present = []
    for e in events:
        first = math.floor(e.onset / L + _EPS)
        n = max(n, first + 1)
        if rule == "onset" or e.offset - e.onset <= _EPS:
            present.append([first])
            continue
        stop = math.ceil(e.offset / L - _EPS)
        ks = []
        for k in range(first, stop):
            overlap = min(e.offset, (k + 1) * L) - max(e.onset, k * L)
            if (overlap > _EPS) if min_overlap <= 0 else (overlap >= min_overlap - _EPS):
                ks.append(k)
        present.append(ks)
    return n, present


def _check_segment_options(segment_seconds: float | None, min_overlap: float, rule: str) -> None:
    if segment_seconds is not None and not segment_seconds > 0:
        raise LagnestDataError(
            DataProblem("bad segment length", value=segment_seconds, expected="seconds > 0")
        )
    if not min_overlap >= 0:
        raise LagnestDataError(
            DataProblem("bad min_overlap", value=min_overlap, expected="seconds >= 0")
        )
    if rule not in ("overlap", "onset"):
        raise LagnestDataError(
            DataProblem("bad boundary rule", value=rule, expected="'overlap' or 'onset'")
        )


@dataclass
class TimedSession:
    """Timed events of one session, ready to become segments."""

    events: list[TimedEvent]
    event_breaks: list[bool]
    end_time: float | None = None


def timed_to_values(
    sess: TimedSession,
    specs: list[StreamSpec],
    owner: Mapping[str, int],
    code_index: Mapping[str, int],
    segment_seconds: float | None,
    min_overlap: float,
    rule: str,
    uncoded: str | None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Timed events -> per-stream values and breaks (event level or fixed segments).

    At event level (``segment_seconds=None``) every event is a segment, in onset order, and
    streams are those of ``specs`` (categorical streams hold the event's code). With fixed
    segments every stream is an indicator stream (``specs`` kinds are ignored).
    """
    order = sorted(range(len(sess.events)), key=lambda i: (sess.events[i].onset, i))
    if segment_seconds is None:
        n = len(order)
        values = [
            np.full(n, -1, np.int64)
            if s.kind == "categorical"
            else np.zeros((n, len(s.codes)), np.int8)
            for s in specs
        ]
        breaks = np.zeros(n, bool)
        for t, i in enumerate(order):
            e = sess.events[i]
            breaks[t] = sess.event_breaks[i]
            if e.code == uncoded:
                for v in values:
                    v[t] = -1
                continue
            s, j = owner[e.code], code_index[e.code]
            if specs[s].kind == "categorical":
                values[s][t] = j
            else:
                values[s][t, j] = 1
        return values, breaks
    n, present = segment_events(
        sess.events, segment_seconds, end_time=sess.end_time, min_overlap=min_overlap, rule=rule
    )
    values = [np.zeros((n, len(s.codes)), np.int8) for s in specs]
    blank = np.zeros(n, bool)
    breaks = np.zeros(n, bool)
    for i, e in enumerate(sess.events):
        if sess.event_breaks[i]:
            k = math.floor(e.onset / segment_seconds + _EPS)
            if k > 0:
                breaks[k] = True
        if e.code == uncoded:
            blank[present[i]] = True
            continue
        values[owner[e.code]][present[i], code_index[e.code]] = 1
    for v in values:
        v[blank] = -1
    return values, breaks


# ---------------------------------------------------------------------------- factors
def covariate_tables(
    labels: Sequence[str],
    names: Sequence[str],
    rows: Sequence[Sequence[str]],
    dyad_factor: str,
    dyad_factors: Sequence[str],
    problems: ProblemCollector,
    where: Sequence[dict],
) -> tuple[list[str], pd.DataFrame | None, pd.DataFrame | None]:
    """Per-session factor values -> dyads, session covariates and dyad attributes.

    Parameters
    ----------
    labels : list of str
        Session labels.
    names : list of str
        Factor names.
    rows : list of list of str
        Factor values of each session (``None`` = missing).
    dyad_factor : str
        The factor giving the dyad (absent: each session is its own dyad).
    dyad_factors : list of str
        Factors that are dyad attributes (constant within a dyad).
    problems : ProblemCollector
    where : list of dict
        Location (``line``/``column`` or ``row``) of each session, for errors.

    Returns
    -------
    dyads, session_covariates, dyad_attributes
    """
    frame = pd.DataFrame(list(rows), columns=list(names), index=pd.Index(labels, name="session"))
    if dyad_factor in frame.columns:
        dyads = [
            str(d) if d is not None else lab
            for d, lab in zip(frame[dyad_factor], labels, strict=True)
        ]
        frame = frame.drop(columns=[dyad_factor])
    else:
        dyads = list(labels)
    for name in dyad_factors:
        if name not in frame.columns:
            problems.add(
                "unknown dyad factor", value=name, expected=f"one of {list(frame.columns)}"
            )
    dyad_cols = [c for c in dyad_factors if c in frame.columns]
    attrs = None
    if dyad_cols:
        sub = frame[dyad_cols].assign(_dyad=dyads)
        for col in dyad_cols:
            per = sub.groupby("_dyad", sort=False)[col].nunique(dropna=False)
            for d in per.index[per > 1][:50]:
                i = dyads.index(d)
                problems.add(
                    f"dyad factor {col!r} varies within dyad {d!r}",
                    value=sorted(set(map(str, sub.loc[sub["_dyad"] == d, col]))),
                    expected="one value per dyad",
                    **where[i],
                )
        attrs = sub.groupby("_dyad", sort=False)[dyad_cols].first()
        attrs.index.name = "dyad"
        frame = frame.drop(columns=dyad_cols)
    covariates = frame if frame.shape[1] else None
    return dyads, covariates, attrs


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
) -> Sequences:
    """Parse SDIS text into a `Sequences` (see :func:`read_sdis` for the parameters).

    Parameters
    ----------
    text : str
        The content of an SDIS file.
    segment_seconds, min_overlap, rule, stream, indicator_sets, dyad_factor, dyad_factors,
    uncoded, codebook
        As in :func:`read_sdis`.
    source : str, optional
        File name used in error messages.

    Returns
    -------
    Sequences
    """
    _check_segment_options(segment_seconds, min_overlap, rule)
    tokens, pragmas = _tokenize(text, source)
    parser = _Parser(tokens, source)
    decl = parser.declaration()
    sessions = parser.sessions(decl)
    if not sessions:
        parser.fail(parser.peek(), "the file has no session", "at least one session ending in '/'")
    problems = ProblemCollector(file=source)
    marks = _pragmas.read_pragmas(pragmas, [s.start.line for s in sessions], problems)
    timed = decl.data_type in ("Timed", "State")
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
        per_session = [
            _timed_session_values(
                s, specs, index, segment_seconds, min_overlap, rule, uncoded, problems
            )
            for s in sessions
        ]
    else:
        per_session = []
        for s in sessions:
            if not s.units:
                problems.add("session has no events", line=s.start.line, column=s.start.column)
            per_session.append(
                (
                    _units_to_values(s.units, specs, index, uncoded, problems),
                    np.asarray(s.breaks, bool),
                )
            )
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
    return build_sequences(
        labels,
        dyads,
        specs,
        per_session,
        covariates,
        attrs,
        codebook if codebook is not None else marks.codebook,
        ratings=ratings,
        segment_numbers=numbers,
    )


def _timed_session_values(
    sess: _Session,
    specs: list[StreamSpec],
    index: Mapping[str, tuple[int, int]],
    segment_seconds: float | None,
    min_overlap: float,
    rule: str,
    uncoded: str | None,
    problems: ProblemCollector,
) -> tuple[list[np.ndarray], np.ndarray]:
    """One session of Timed/State data -> per-stream values and breaks."""
    if not sess.events and (segment_seconds is None or sess.end_time is None):
        problems.add("session has no events", line=sess.start.line, column=sess.start.column)
        return [np.zeros(0, np.int64) for _ in specs], np.zeros(0, bool)
    for s, spec in enumerate(specs):
        if spec.exclusive:
            mine = [e for e in sess.events if e.code != uncoded and index[e.code][0] == s]
            check_exclusive(mine, problems, spec.name)
    owner = {code: s for code, (s, _) in index.items()}
    code_index = {code: j for code, (_, j) in index.items()}
    timed = TimedSession(sess.events, sess.event_breaks, sess.end_time)
    return timed_to_values(
        timed, specs, owner, code_index, segment_seconds, min_overlap, rule, uncoded
    )


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


def build_sequences(
    labels: Sequence[str],
    dyads: Sequence[str],
    specs: Sequence[StreamSpec],
    per_session: Sequence[tuple[list[np.ndarray], np.ndarray]],
    covariates: pd.DataFrame | None,
    attrs: pd.DataFrame | None,
    codebook: str | Codebook | None,
    ratings: Mapping[str, np.ndarray] | None = None,
    segment_numbers: np.ndarray | None = None,
) -> Sequences:
    """Concatenate per-session stream values into a `Sequences`."""
    lengths = [len(b) for _, b in per_session]
    streams = {
        spec.name: StreamData(
            spec.kind,
            tuple(spec.codes),
            np.concatenate([vals[s] for vals, _ in per_session])
            if per_session
            else np.zeros(0, np.int64),
        )
        for s, spec in enumerate(specs)
    }
    return Sequences.from_arrays(
        sessions=labels,
        dyads=dyads,
        lengths=lengths,
        streams=streams,
        breaks=np.concatenate([b for _, b in per_session]),
        segment_numbers=segment_numbers,
        ratings=ratings,
        session_covariates=covariates,
        dyad_attributes=attrs,
        codebook=codebook,
    )


def read_text(path: Path, encoding: str) -> str:
    """Read a text file; a missing file or bad encoding is a `LagnestDataError`."""
    if not path.exists():
        raise LagnestDataError(DataProblem("does not exist", file=str(path)))
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as err:
        raise LagnestDataError(
            DataProblem(
                f"cannot be decoded as {encoding} (byte {err.start})",
                file=str(path),
                expected="a text file (pass encoding=, e.g. 'cp1252')",
            )
        ) from None
    except OSError as err:
        raise LagnestDataError(DataProblem(f"cannot be read: {err}", file=str(path))) from None


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
) -> Sequences:
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

    Returns
    -------
    Sequences

    Raises
    ------
    LagnestDataError
        Malformed input, with file, line and column.

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
    )


# ---------------------------------------------------------------------------- writing
def sdis_safe(text: str) -> bool:
    """Whether ``text`` reads back as one SDIS word (a code, set, factor name or level)."""
    if not text or text.startswith("$"):
        return False
    try:
        tokens, _ = _tokenize(text, None)
    except LagnestDataError:
        return False
    return len(tokens) == 2 and tokens[0].kind == "word" and tokens[0].text == text


@dataclass
class _Plan:
    """What :func:`format_sdis` writes: data type, streams and factor columns."""

    data_type: str
    streams: list[tuple[str, str, tuple[str, ...], np.ndarray]]
    factors: list[str]
    dyad_factors: list[str]
    factor_values: list[list[str]]
    placeholder_set: int | None


def _writable_streams(seqs: Sequences) -> list[tuple[str, str, tuple[str, ...], np.ndarray]]:
    """Non-derived streams as (name, kind, codes, values)."""
    book = seqs.codebook
    derived = {d.name for d in book.derived.values()} if book is not None else set()
    out = []
    for name, info in seqs.streams.items():
        if name in derived:
            continue
        if info.kind == "categorical":
            values = seqs.categorical(name)[0]
        else:
            values = seqs.indicator_matrix(name)[0]
        out.append((name, info.kind, tuple(info.codes), np.asarray(values)))
    return out


def _blank_rows(streams: Sequence[tuple[str, str, tuple[str, ...], np.ndarray]], n: int):
    """Rows where every stream is uncoded, and rows some indicator stream cannot write."""
    blank = np.ones(n, bool)
    partial = np.zeros(n, bool)
    for _, kind, _, v in streams:
        if kind == "categorical":
            blank &= v < 0
        else:
            miss = v < 0
            blank &= miss.all(axis=1)
            partial |= miss.any(axis=1)
    return blank, partial & ~blank


def _choose_type(
    streams: Sequence[tuple[str, str, tuple[str, ...], np.ndarray]], data_type: str | None
) -> str:
    coded = sum((v >= 0).astype(int) for _, kind, _, v in streams if kind == "categorical")
    event_ok = all(kind == "categorical" for _, kind, _, _ in streams) and (
        np.all(np.asarray(coded) <= 1)
    )
    if data_type is None:
        return "Event" if event_ok else "Multievent"
    kinds = {t.lower(): t for t in ("Event", "Multievent", "Interval")}
    if data_type.lower() not in kinds:
        raise LagnestDataError(
            DataProblem(
                "lagnest writes Event, Multievent or Interval SDIS data",
                value=data_type,
                expected="'Event', 'Multievent' or 'Interval'",
            )
        )
    chosen = kinds[data_type.lower()]
    if chosen == "Event" and not event_ok:
        raise LagnestDataError(
            DataProblem(
                "Event data hold one code per segment: these data have indicator streams or "
                "several coded categorical streams in one segment",
                value=data_type,
                expected="'Multievent' or 'Interval'",
            )
        )
    return chosen


def _plan(seqs: Sequences, data_type: str | None, uncoded: str | None, factors) -> _Plan:
    streams = _writable_streams(seqs)
    problems = ProblemCollector()
    holders: dict[str, list[str]] = {}
    for name, _, codes, _ in streams:
        for code in codes:
            holders.setdefault(code, []).append(name)
    for code, names in holders.items():
        if len(names) > 1:
            problems.add(
                f"code {code!r} is in streams {names}: SDIS codes are unique across code sets",
                value=code,
                expected=f"distinct codes (rename them, e.g. '{names[1]}_{code}')",
            )
    for name, _, codes, _ in streams:
        for text, what in [(name, "stream name")] + [(c, "code") for c in codes]:
            if not sdis_safe(text):
                problems.add(
                    f"{what} cannot be written to SDIS",
                    value=text,
                    expected="no spaces and none of , ; / ( ) = * < > % . $",
                )
        if uncoded is not None and uncoded in codes:
            problems.add(
                f"stream {name!r} has a code equal to the uncoded marker",
                value=uncoded,
                expected="pass another uncoded= marker",
            )
    for label in seqs.session_labels:
        if not label or label != label.strip() or any(ch in label for ch in "<>\n\r"):
            problems.add(
                "session label cannot be written to SDIS",
                value=label,
                expected="no '<', '>', line breaks or edge spaces",
            )
    problems.raise_if_any()
    chosen = _choose_type(streams, data_type)
    blank, partial = _blank_rows(streams, seqs.n_segments)
    seg_session = seqs.encoded.segment_session
    for t in np.flatnonzero(partial)[:50]:
        problems.add(
            f"session {seqs.session_labels[seg_session[t]]!r}, segment "
            f"{t - seqs.encoded.session_offsets[seg_session[t]] + 1}: an indicator stream is "
            "uncoded while other codes are present",
            expected="a segment coded in every indicator stream, or uncoded in all streams",
        )
    needs_marker = bool(blank.any()) and (
        chosen == "Event" or any(kind == "indicator" for _, kind, _, _ in streams)
    )
    if needs_marker and uncoded is None:
        problems.add(
            "uncoded segments cannot be written without an uncoded marker",
            expected="uncoded='UNCODED' (or another code)",
        )
    problems.raise_if_any()
    names, dyad_names, values = _factor_plan(seqs, factors)
    return _Plan(chosen, streams, names, dyad_names, values, 0 if needs_marker else None)


def _factor_plan(seqs: Sequences, factors) -> tuple[list[str], list[str], list[list[str]]]:
    """Factor columns: ``dyad`` (when dyads differ from sessions), covariates, dyad attributes."""
    sessions = seqs.sessions.drop(columns=["dyad", "n_segments"])
    dyads = seqs.dyads.drop(columns=["n_sessions", "n_segments"])
    if factors is False:
        sessions, dyads = sessions.iloc[:, :0], dyads.iloc[:, :0]
    elif factors is not True:
        wanted = list(factors)
        unknown = [f for f in wanted if f not in sessions.columns and f not in dyads.columns]
        if unknown:
            raise LagnestDataError(
                DataProblem(
                    "unknown factors",
                    value=unknown,
                    expected=f"session covariates {list(sessions.columns)} or dyad attributes "
                    f"{list(dyads.columns)}",
                )
            )
        sessions = sessions[[c for c in wanted if c in sessions.columns]]
        dyads = dyads[[c for c in wanted if c in dyads.columns]]
    session_dyad = list(seqs.sessions["dyad"])
    columns: dict[str, list] = {}
    if session_dyad != list(seqs.session_labels):
        columns["dyad"] = session_dyad
    for col in sessions.columns:
        columns[col] = list(sessions[col])
    for col in dyads.columns:
        columns[col] = [dyads.at[d, col] for d in session_dyad]
    problems = ProblemCollector()
    out = {}
    for col, vals in columns.items():
        if col in out or not sdis_safe(str(col)):
            problems.add(
                "factor name cannot be written to SDIS", value=col, expected="a unique SDIS name"
            )
        texts = []
        for lab, v in zip(seqs.session_labels, vals, strict=True):
            text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            if not sdis_safe(text):
                problems.add(
                    f"session {lab!r}: factor value cannot be written to SDIS",
                    column=str(col),
                    value=v,
                    expected="a non-missing level with no spaces (or pass factors=[...])",
                )
            texts.append(text)
        out[str(col)] = texts
    problems.raise_if_any()
    names = list(out)
    rows = [[out[c][i] for c in names] for i in range(seqs.n_sessions)]
    return names, [str(c) for c in dyads.columns], rows


def _segment_codes(plan: _Plan, t: int, marker: str | None) -> list[str] | None:
    """Codes of segment ``t`` (None = uncoded in every stream)."""
    codes: list[str] = []
    blank = True
    for _, kind, names, v in plan.streams:
        if kind == "categorical":
            if v[t] >= 0:
                codes.append(names[v[t]])
                blank = False
        else:
            row = v[t]
            if (row >= 0).all():
                blank = False
                codes += [names[j] for j in np.flatnonzero(row == 1)]
    if blank and plan.placeholder_set is not None:
        return [marker] if marker is not None else []
    return codes


def _wrap(items: Iterable[str]) -> list[str]:
    """Join items with spaces into lines of at most ``_LINE_WIDTH`` characters."""
    lines, current = [], ""
    for item in items:
        if current and len(current) + 1 + len(item) > _LINE_WIDTH:
            lines.append(current)
            current = item
        else:
            current = f"{current} {item}" if current else item
    if current:
        lines.append(current)
    return lines


def _session_items(plan: _Plan, start: int, stop: int, breaks: set[int], marker) -> list[str]:
    """The data of one session as SDIS items (codes, ``;``, events, intervals)."""
    items: list[str] = []
    previous: tuple[str, int] | None = None
    for t in range(start, stop):
        if t in breaks:
            items.append(";")
            previous = None
        codes = _segment_codes(plan, t, marker)
        if plan.data_type == "Event":
            items.append(codes[0])
        elif plan.data_type == "Multievent":
            items.append(" ".join(codes) + ".")
        else:
            text = " ".join(codes)
            if previous is not None and previous[0] == text:
                previous = (text, previous[1] + 1)
                items[-1] = f"{previous[1]}*{text},"
            else:
                previous = (text, 1)
                items.append(f"{text},")
    return items


def format_sdis(
    seqs: Sequences,
    *,
    data_type: str | None = None,
    uncoded: str | None = UNCODED_CODE,
    factors: bool | Sequence[str] = True,
) -> str:
    """SDIS text for a `Sequences` (see :func:`write_sdis`).

    Parameters
    ----------
    seqs : Sequences
    data_type, uncoded, factors
        As in :func:`write_sdis`.

    Returns
    -------
    str
    """
    from lagnest import __version__

    plan = _plan(seqs, data_type, uncoded, factors)
    indicator = [name for name, kind, _, _ in plan.streams if kind == "indicator"]
    lines = [
        f"% SDIS {plan.data_type} data written by lagnest {__version__}: {seqs.n_dyads} dyads, "
        f"{seqs.n_sessions} sessions, {seqs.n_segments} segments",
    ]
    if indicator:
        lines.append(f"% {PRAGMA} indicator-sets {' '.join(indicator)}")
    if plan.dyad_factors:
        lines.append(f"% {PRAGMA} dyad-factors {' '.join(plan.dyad_factors)}")
    book = loadable_codebook(seqs)
    if book is not None:
        lines.append(f"% {PRAGMA} codebook {book}")
    if seqs.rating_names:
        lines.append(f"% {PRAGMA} ratings {' '.join(seqs.rating_names)}")
    if plan.placeholder_set is not None:
        lines.append(f"% uncoded segments are written as {uncoded}")
    lines.append(plan.data_type)
    for s, (name, _, codes, _) in enumerate(plan.streams):
        extra = [uncoded] if s == plan.placeholder_set and uncoded is not None else []
        lines += _wrap([f"(${name} =", *codes, *extra])
        lines[-1] += ")"
    if plan.factors:
        lines.append("* " + " ".join(plan.factors))
    lines[-1] += ";"
    enc = seqs.encoded
    offsets = enc.session_offsets
    block_starts = set(enc.block_offsets[:-1].tolist()) - set(offsets[:-1].tolist())
    for i, label in enumerate(seqs.session_labels):
        lines.append("")
        lines.append(f"<{label}>")
        lines += _session_pragmas(seqs, int(offsets[i]), int(offsets[i + 1]))
        items = _session_items(plan, int(offsets[i]), int(offsets[i + 1]), block_starts, uncoded)
        if plan.factors:
            items.append("(" + " ".join(plan.factor_values[i]) + ")")
        items.append("/")
        lines += _wrap(items)
    return "\n".join(lines) + "\n"


def _session_pragmas(seqs: Sequences, start: int, stop: int) -> list[str]:
    """``% lagnest:`` lines of one session: ratings, segment numbers and breaks if needed."""
    lines = []
    for name in seqs.rating_names:
        values = seqs.rating(name)[start:stop]
        lines += _pragmas.session_lines(
            f"rating {name}", [_pragmas.number_text(float(v)) for v in values]
        )
    numbers = seqs.segment_numbers[start:stop]
    breaks = seqs.breaks[start:stop]
    renumbered = not np.array_equal(numbers, np.arange(1, stop - start + 1))
    if renumbered:
        lines += _pragmas.session_lines("segments", [str(int(v)) for v in numbers])
    if renumbered or breaks[0]:
        lines += _pragmas.session_lines("breaks", [str(int(i)) for i in np.flatnonzero(breaks)])
    return lines


def write_sdis(
    seqs: Sequences,
    path: str | os.PathLike,
    *,
    data_type: str | None = None,
    uncoded: str | None = UNCODED_CODE,
    factors: bool | Sequence[str] = True,
) -> None:
    """Write a `Sequences` as an SDIS file for GSEQ, atomically.

    Parameters
    ----------
    seqs : Sequences
    path : str or path
    data_type : {"Event", "Multievent", "Interval"}, optional
        Default: Event when every segment holds at most one code of categorical streams,
        else Multievent. Every stream is declared as a code set ``($name = ...)``; indicator
        streams are listed in a ``% lagnest: indicator-sets`` pragma.
    uncoded : str or None, default "UNCODED"
        Code written for a segment uncoded in every stream (declared in the first set);
        ``None`` makes such segments an error.
    factors : bool or list of str, default True
        Write the dyad, session covariates and dyad attributes as factors (``False``: none;
        a list: these only).

    Raises
    ------
    LagnestDataError
        For what SDIS cannot hold (codes with spaces or SDIS punctuation, missing factor
        values, a segment uncoded in one indicator stream but coded in others).

    Notes
    -----
    Segment numbers are renumbered 1..T on reading; gaps in them are written as breaks
    (``;``), so lag tallies are unchanged. Derived streams are not written (read with the
    codebook to recompute them).
    """
    text = format_sdis(seqs, data_type=data_type, uncoded=uncoded, factors=factors)
    atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))
