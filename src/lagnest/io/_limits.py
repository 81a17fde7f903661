"""Documented limits of the readers (see ``docs/formats.md``, section "Limits").

Each limit is a parameter of the readers with the default below. A reader checks it
before allocating what an input would expand into, and refuses with a located
:class:`~lagnest.errors.LimitError` that names the parameter to raise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lagnest.errors import DataProblem, LagnestDataError, LimitError

#: Segments a file may expand into (SDIS repeat counts, timed events cut into segments).
MAX_SEGMENTS = 10_000_000
#: Value columns of a long table (each is parsed on its own).
MAX_COLUMNS = 5_000
#: Uncompressed bytes of the parts of an Excel workbook that are parsed (the sheets read,
#: shared strings, styles...): about 400,000 rows of five columns.
MAX_WORKBOOK_BYTES = 100_000_000
#: Bytes a Parquet table takes once read, 8 per cell of the rows x columns its footer
#: declares: 10^7 segments of a dozen columns.
MAX_PARQUET_BYTES = 1_000_000_000


def check_limit_argument(value: Any, name: str) -> int:
    """A limit given by the user: a positive integer (else a `LagnestDataError`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LagnestDataError(
            DataProblem(f"bad {name}", value=value, expected="a positive integer")
        )
    return value


def over_limit(
    count: float, limit: int, name: str, message: str, *, file: str | None = None, **where: Any
) -> None:
    """Raise a `LimitError` when ``count`` exceeds ``limit`` (the reader's parameter ``name``).

    ``message`` says what would be too large (``{count}`` is replaced by the count);
    ``where`` locates the input (``line``, ``column``, ``row``).
    """
    if count <= limit:
        return
    shown = f"{count:,.0f}" if math.isfinite(count) and count < 1e30 else f"{count:.3g}"
    raise LimitError(
        DataProblem(
            message.replace("{count}", shown),
            file=file,
            expected=f"at most {name}={limit:,} (pass a larger {name}= if this is meant)",
            **where,
        )
    )


@dataclass
class Budget:
    """Segments a file may still expand into: ``max_segments`` less those made so far.

    Readers call :meth:`take` before they allocate what an input expands into.
    """

    limit: int = MAX_SEGMENTS
    source: str | None = None
    used: int = 0

    def take(self, count: float, what: str, **where: Any) -> None:
        """Count ``count`` more segments; a `LimitError` located at ``where`` if too many.

        ``what`` says what makes them (e.g. ``"repeating this interval 10^8 times"``).
        """
        over_limit(
            self.used + count,
            self.limit,
            "max_segments",
            f"{what} would bring the file to {{count}} segments",
            file=self.source,
            **where,
        )
        self.used += int(count)
