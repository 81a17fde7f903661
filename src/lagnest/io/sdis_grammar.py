"""The SDIS grammar: tokens, times, declarations and the parser.

The SDIS grammar (GSEQ's Sequential Data Interchange Standard): tokens with their line
and column, times, declarations and the parser that turns a file's text into sessions of
(timed) events, with located errors.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from lagnest.data._columns import CONTROL_EXPECTED, control_character
from lagnest.data.events import TimedEvent
from lagnest.errors import DataProblem, LagnestDataError
from lagnest.io import _pragmas
from lagnest.io._limits import Budget
from lagnest.io.events import _Token

__all__ = [
    "DATA_TYPES",
    "DEFAULT_STREAM",
    "PRAGMA",
    "TIME_UNITS",
    "UNCODED_CODE",
    "parse_time",
]


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
_TIME_RE = re.compile(r"^(?:([0-9]+):)?(?:([0-9]+):)?([0-9]+(?:\.[0-9]+)?)$")
_LINE_WIDTH = 78


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


_CONTROLS = "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"
_SCANNER = re.compile(
    rf"[^\S\n{_CONTROLS}]*(?:(?P<word>(?:[^\s,;/()=*<>%.{_CONTROLS}]|(?<=[0-9])\.(?=[0-9]))+)"
    rf"|(?P<newline>\n)|(?P<punct>[,;/()=*.])|(?P<comment>%[^\n]*)|(?P<label><[^>\n]*>)"
    rf"|(?P<end>\Z)|(?P<other>.))",
    re.DOTALL,
)


def _tokenize(text: str, source: str | None) -> tuple[list[_Token], list[tuple[int, str]]]:
    """Split SDIS text into tokens, tracking line and column; also return pragma comments.

    Pragmas are ``(line, text after 'lagnest:')``. A control character (other than tabs
    and line breaks) is an error: it usually means a binary or UTF-16 file.
    """
    tokens: list[_Token] = []
    pragmas: list[tuple[int, str]] = []
    append = tokens.append
    line, line_start = 1, 0
    for m in _SCANNER.finditer(text):
        kind = m.lastgroup
        if kind == "word" or kind == "punct":
            append(_Token(kind, m.group(kind), line, m.start(kind) - line_start + 1))
            continue
        if kind == "newline":
            line, line_start = line + 1, m.end()
            continue
        if kind == "end":
            break
        col = m.start(kind) - line_start + 1
        if kind == "label":
            label = m.group(kind)[1:-1]
            char = control_character(label)
            if char is not None:
                _fail(source, _Token("label", label, line, col),
                      f"control character {char} in a session label", CONTROL_EXPECTED)
            append(_Token("label", label.strip(), line, col))
        elif kind == "comment":
            comment = m.group(kind)[1:].strip()
            if comment.startswith(PRAGMA):
                pragmas.append((line, comment[len(PRAGMA) :].strip()))
        else:
            ch = m.group(kind)
            if ch == "<":
                _fail(source, _Token("punct", "<", line, col), "unterminated label", "'>'")
            if ch == ">":
                _fail(source, _Token("punct", ch, line, col), "unexpected '>'", "'<label>'")
            _fail(source, _Token("punct", ch, line, col),
                  f"control character U+{ord(ch):04X}", CONTROL_EXPECTED)
    tokens.append(_Token("eof", "", line, len(text) - line_start + 1))
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
    m = _TIME_RE.match(text) if len(text) < 64 else None
    if m is None:
        return None
    first, second, last = m.groups()
    seconds = float(last)
    if first is None:
        value = seconds * unit
    elif seconds >= 60:
        return None
    elif second is None:
        value = int(first) * 60 + seconds
    elif int(second) >= 60:
        return None
    else:
        value = int(first) * 3600 + int(second) * 60 + seconds
    return value if math.isfinite(value) else None


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


@dataclass
class _Session:
    """One parsed session, before it becomes arrays."""

    start: _Token
    label: str | None = None
    units: list[list[_Token]] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # each unit repeated this many times
    breaks: list[bool] = field(default_factory=list)
    events: list[TimedEvent] = field(default_factory=list)
    event_breaks: list[bool] = field(default_factory=list)
    end_time: float | None = None
    factors: list[_Token] = field(default_factory=list)


# ---------------------------------------------------------------------------- parser
class _Parser:
    """Recursive-descent parser over the token list."""

    def __init__(self, tokens: list[_Token], source: str | None, budget: Budget) -> None:
        self.tokens = tokens
        self.i = 0
        self.source = source
        self.budget = budget

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
        tokens, units, breaks = self.tokens, sess.units, sess.breaks
        pending = False
        while True:  # the loop of _end_of_session, inlined: Event data can be long
            tok = tokens[self.i]
            if tok.kind == "word":
                units.append([tok])
                breaks.append(pending)
                pending = False
                self.i += 1
            elif tok.kind == "punct" and tok.text == ";":
                pending = True
                self.i += 1
            elif self._end_of_session(tok, sess):
                break
            else:
                self.fail(tok, f"unexpected {_describe(tok)} in Event data", "codes, ';' or '/'")
        sess.counts = [1] * len(sess.units)
        self.budget.take(len(sess.units), "this session", line=sess.start.line,
                         column=sess.start.column)

    def grouped_body(self, decl: _Declaration, sess: _Session) -> None:
        """Multievent (events end with ``.``) and Interval (intervals end with ``,``) data."""
        sep = "." if decl.data_type == "Multievent" else ","
        pending = [False]
        current: list[_Token] = []
        repeat = [1]
        where: list[_Token] = [sess.start]  # the repeat count (or the unit) for errors

        def close(always: bool) -> None:
            if current or always:
                at = where[0] if repeat[0] > 1 else (current[0] if current else self.peek())
                what = (
                    f"repeating this interval {repeat[0]:,} times" if repeat[0] > 1
                    else "this interval"
                )
                self.budget.take(repeat[0], what, line=at.line, column=at.column)
                sess.units.append(list(current))
                sess.counts.append(repeat[0])
                sess.breaks.append(pending[0])  # before the first of the repeats only
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
                    where[0] = tok
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
                count = self.expect_word("after '*'")
                self.repetition(count, repeat)
                where[0] = count
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
        text = count_tok.text
        if not (text.isascii() and text.isdigit()) or text.strip("0") == "":
            self.fail(count_tok, "bad repetition count", "a positive integer (digits 0-9)")
        if len(text) > 18:  # beyond any budget: no need to build the number
            self.budget.take(math.inf, f"repeating an interval {text[:12]}... times",
                             line=count_tok.line, column=count_tok.column)
        repeat[0] = int(text)

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
