"""Errors raised on bad user input.

Every problem found in user data is a :class:`DataProblem` naming where it is (file, row,
column), the offending value and what was expected. Readers collect problems with a
:class:`ProblemCollector` and raise them together as one :class:`LagnestDataError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_REPORTED_PROBLEMS = 50


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
        if self.value is not None:
            value = self.value.item() if hasattr(self.value, "item") else self.value
            text += f" (got {value!r}"
            text += f"; expected {self.expected})" if self.expected else ")"
        elif self.expected:
            text += f" (expected {self.expected})"
        return text


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
