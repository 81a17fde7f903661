"""Errors raised on bad user input, and warnings about input that was repaired.

Every problem found in user data is a :class:`DataProblem` naming where it is (file, row,
column), the offending value and what was expected. Readers collect problems with a
:class:`ProblemCollector` and raise them together as one :class:`LagnestDataError`.
Messages are bounded: a value longer than :data:`MAX_VALUE_CHARS` characters is cut, a
problem's text is at most :data:`MAX_PROBLEM_CHARS` characters, and a long list of
problems shows the first :data:`MAX_REPORTED_PROBLEMS` and a count of the rest.

Typed subclasses say what kind of input failed: :class:`LimitError` (an input whose size
or expansion exceeds a documented limit), :class:`CodebookError`, :class:`SpecError` and
:class:`ResultFileError`. A path problem (missing, a folder, no permission) is not a
`LagnestDataError` but the ``OSError`` Python raises, naming the path as the user gave it.
Input that is still usable after a repair (digits of another script read as numbers, ...)
gives a :class:`LagnestDataWarning` saying what was done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Problems listed in one error message; the rest are counted.
MAX_REPORTED_PROBLEMS = 50
#: Characters of a value shown in a message (longer values are cut in the middle).
MAX_VALUE_CHARS = 120
#: Characters of one problem's text in a message.
MAX_PROBLEM_CHARS = 900


def shorten(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, keeping both ends and saying how much went.

    Parameters
    ----------
    text : str
    limit : int, default MAX_VALUE_CHARS

    Returns
    -------
    str
    """
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 10)
    head, tail = text[: keep * 2 // 3], text[len(text) - keep // 3 :]
    return f"{head}...[{len(text) - len(head) - len(tail):,} characters cut]...{tail}"


@dataclass(frozen=True)
class DataProblem:
    """One problem in user input: where it is, what was found and what was expected."""

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    expected: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = ", ".join(where)
        text = f"{text}: {self.message}" if text else self.message
        text = shorten(text, MAX_PROBLEM_CHARS * 2 // 3)
        expected = shorten(str(self.expected), MAX_PROBLEM_CHARS // 3) if self.expected else None
        if self.value is not None:
            value = self.value.item() if hasattr(self.value, "item") else self.value
            text += f" (got {shorten(repr(value))}"
            text += f"; expected {expected})" if expected else ")"
        elif expected:
            text += f" (expected {expected})"
        return shorten(text, MAX_PROBLEM_CHARS)


class LagnestDataError(ValueError):
    """Bad user input: unknown codes, broken keys, out-of-range values, malformed files.

    Parameters
    ----------
    problems : list of DataProblem or str
        Every problem found; the message lists up to ``MAX_REPORTED_PROBLEMS`` of them.
    """

    def __init__(self, problems: list[DataProblem] | DataProblem | str) -> None:
        if isinstance(problems, str | DataProblem):
            problems = [problems]
        self.problems: list[DataProblem] = [
            p if isinstance(p, DataProblem) else DataProblem(str(p)) for p in problems
        ]
        shown = self.problems[:MAX_REPORTED_PROBLEMS]
        lines = [str(p) for p in shown]
        if len(self.problems) > len(shown):
            lines.append(f"... and {len(self.problems) - len(shown)} more problems")
        if len(lines) == 1:
            text = lines[0]
        else:
            text = f"{len(self.problems)} problems in input:\n" + "\n".join(
                f"  - {line}" for line in lines
            )
        super().__init__(text)


class LimitError(LagnestDataError):
    """An input whose size, or whose expansion into segments, exceeds a documented limit.

    Raised before anything large is allocated; the message names the limit (a parameter
    of the reader, e.g. ``max_segments``) and how to raise it. See ``docs/formats.md``.
    """


class CodebookError(LagnestDataError):
    """A malformed codebook (a TOML file of :mod:`lagnest.data.codebook`).

    Each problem names the file and the dotted key (``ratings.significance.min``) and what
    was expected; TOML syntax errors carry the line.
    """


class ResultFileError(LagnestDataError):
    """A file that :func:`lagnest.load` cannot read as a lagnest result.

    Empty, truncated, damaged or foreign files, results whose stored configuration was
    edited, and results written by a newer lagnest; the message names the file and what
    is wrong with it.
    """


class LagnestDataWarning(UserWarning):
    """Input was read after a repair that the user should know about (says what was done)."""


class SpecError(LagnestDataError):
    """A malformed model specification (a TOML file of :mod:`lagnest.models.spec`).

    Each problem names the spec file, the dotted key (``model.lags``) in its message and
    what was expected; TOML syntax errors carry the line (and the column in the message).
    """


@dataclass
class ProblemCollector:
    """Collect problems while validating, then raise them all at once."""

    file: str | None = None
    problems: list[DataProblem] = field(default_factory=list)

    def add(self, message: str, **where: Any) -> None:
        """Record one problem; ``where`` takes the fields of :class:`DataProblem`."""
        where.setdefault("file", self.file)
        self.problems.append(DataProblem(message, **where))

    def __len__(self) -> int:
        return len(self.problems)

    def raise_if_any(self) -> None:
        """Raise a :class:`LagnestDataError` holding every problem, if there is one."""
        if self.problems:
            raise LagnestDataError(self.problems)

    def warn(self, message: str, **where: Any) -> None:
        """Issue a :class:`LagnestDataWarning` located like a problem (at the user's line)."""
        from lagnest._warnings import warn_user

        where.setdefault("file", self.file)
        warn_user(str(DataProblem(message, **where)), LagnestDataWarning)
