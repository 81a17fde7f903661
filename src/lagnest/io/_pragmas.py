"""SDIS ``% lagnest:`` comment lines: what GSEQ ignores and lagnest needs to read back equal.

File-wide lines (anywhere before the first session)::

    % lagnest: indicator-sets mia          streams whose codes may co-occur
    % lagnest: dyad-factors therapist_sex  factors that are dyad attributes
    % lagnest: codebook 3rs_2015+mia       the codebook (read with it by default)
    % lagnest: ratings significance        per-segment ratings

Session lines (after the session's ``<label>``; a long list continues on more lines with
the same key)::

    % lagnest: rating significance 3 NA 2.5 ...   one value per segment (NA = not rated)
    % lagnest: segments 1 2 5 6 ...               segment numbers (when not 1..T)
    % lagnest: breaks 2                           positions (0-based) of the breaks

With ``segments``/``breaks`` the session's breaks are those listed (the ``;`` written
where segment numbers jump stay for GSEQ, which cannot read the numbers).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lagnest.errors import ProblemCollector

PRAGMA = "lagnest:"
GLOBAL_KEYS = ("indicator-sets", "dyad-factors", "codebook", "ratings")
SESSION_KEYS = ("rating", "segments", "breaks")
MISSING = "NA"


@dataclass
class SessionPragmas:
    """Values listed for one session: ratings by name, segment numbers, break positions."""

    ratings: dict[str, list[str]] = field(default_factory=dict)
    segments: list[str] | None = None
    breaks: list[str] | None = None
    line: int = 0


@dataclass
class Pragmas:
    """Every ``% lagnest:`` line of a file."""

    indicator_sets: list[str] = field(default_factory=list)
    dyad_factors: list[str] = field(default_factory=list)
    codebook: str | None = None
    ratings: list[str] = field(default_factory=list)
    sessions: list[SessionPragmas] = field(default_factory=list)


def read_pragmas(
    pragmas: Sequence[tuple[int, str]], session_lines: Sequence[int], problems: ProblemCollector
) -> Pragmas:
    """Sort pragma lines into file-wide values and per-session values.

    Parameters
    ----------
    pragmas : list of (line, text)
        Text after ``lagnest:``, with its line number.
    session_lines : list of int
        First line of each session (a session line belongs to the last session started
        before it).
    problems : ProblemCollector

    Returns
    -------
    Pragmas
    """
    out = Pragmas(sessions=[SessionPragmas() for _ in session_lines])
    for line, text in pragmas:
        key, _, rest = text.partition(" ")
        words = rest.split()
        if key == "indicator-sets":
            out.indicator_sets += words
        elif key == "dyad-factors":
            out.dyad_factors += words
        elif key == "codebook" and words:
            out.codebook = words[0]
        elif key == "ratings":
            out.ratings += words
        elif key in SESSION_KEYS:
            s = bisect.bisect_right(session_lines, line) - 1
            if s < 0:
                problems.add(
                    f"'% {PRAGMA} {key}' before the first session",
                    line=line,
                    expected="session lines after the session's <label>",
                )
                continue
            sess = out.sessions[s]
            sess.line = sess.line or line
            if key == "rating":
                if not words:
                    problems.add("rating line without a name", line=line)
                    continue
                sess.ratings.setdefault(words[0], []).extend(words[1:])
            elif key == "segments":
                sess.segments = (sess.segments or []) + words
            else:
                sess.breaks = (sess.breaks or []) + words
    return out


def _numbers(
    words: Sequence[str], n: int, what: str, line: int, problems: ProblemCollector
) -> np.ndarray | None:
    """Parse ``n`` numbers (``NA`` = NaN); a wrong count or word is a problem."""
    if len(words) != n:
        problems.add(
            f"'% {PRAGMA} {what}' lists {len(words)} values",
            line=line,
            expected=f"{n} (one per segment of the session)",
        )
        return None
    out = np.empty(n)
    for i, word in enumerate(words):
        try:
            out[i] = math.nan if word == MISSING else float(word)
        except ValueError:
            problems.add(f"bad number in '% {PRAGMA} {what}'", line=line, value=word)
            return None
    return out


def session_arrays(
    pragmas: Pragmas,
    lengths: Sequence[int],
    breaks: Sequence[np.ndarray],
    problems: ProblemCollector,
) -> tuple[dict[str, np.ndarray], np.ndarray | None, list[np.ndarray]]:
    """Ratings, segment numbers (None when not listed) and breaks of every session."""
    ratings = {name: [] for name in pragmas.ratings}
    numbers, any_numbers = [], False
    out_breaks = list(breaks)
    for s, (sess, n) in enumerate(zip(pragmas.sessions, lengths, strict=True)):
        for name in pragmas.ratings:
            values = _numbers(sess.ratings.get(name, []), n, f"rating {name}", sess.line, problems)
            ratings[name].append(values if values is not None else np.full(n, math.nan))
        numbers.append(np.arange(1, n + 1, dtype=np.int64))
        if sess.segments is not None:
            values = _numbers(sess.segments, n, "segments", sess.line, problems)
            if values is not None:
                if not np.all(values == np.round(values)):
                    problems.add(f"'% {PRAGMA} segments' lists a non-integer", line=sess.line)
                else:
                    numbers[-1] = values.astype(np.int64)
                    any_numbers = True
        if sess.breaks is not None:
            flags = np.zeros(n, bool)
            positions = _numbers(sess.breaks, len(sess.breaks), "breaks", sess.line, problems)
            if positions is not None:
                ok = (positions >= 0) & (positions < n) & (positions == np.round(positions))
                if not ok.all():
                    problems.add(
                        f"'% {PRAGMA} breaks' lists a position outside the session",
                        line=sess.line,
                        expected=f"0..{n - 1}",
                    )
                else:
                    flags[positions.astype(np.int64)] = True
            out_breaks[s] = flags
    arrays = {name: np.concatenate(v) if v else np.zeros(0) for name, v in ratings.items()}
    return arrays, (np.concatenate(numbers) if any_numbers else None), out_breaks


def number_text(value: float) -> str:
    """A float as the shortest text that reads back to it (``NA`` for NaN)."""
    if math.isnan(value):
        return MISSING
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def session_lines(key: str, words: Sequence[str], width: int = 78) -> list[str]:
    """``% lagnest: key words...`` wrapped into lines of about ``width`` characters."""
    head = f"% {PRAGMA} {key}"
    lines, current = [], head
    for word in words:
        if len(current) + 1 + len(word) > width and current != head:
            lines.append(current)
            current = head
        current += f" {word}"
    lines.append(current)
    return lines
