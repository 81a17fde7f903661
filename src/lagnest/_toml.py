"""Reading a TOML file (codebooks, model specs) into data, with located errors."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from lagnest.errors import DataProblem, LagnestDataError

_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def syntax_problem(err: tomllib.TOMLDecodeError, file: str) -> DataProblem:
    """A TOML syntax error as a problem with its line (and the column in the message)."""
    text = str(err)
    match = _POSITION.search(text)
    if match is None:
        return DataProblem(f"invalid TOML: {text}", file=file)
    return DataProblem(
        f"invalid TOML at column {match.group(2)}: {text[: match.start()]}",
        file=file,
        line=int(match.group(1)),
    )


def parse_toml(data: bytes, file: str, error: type[LagnestDataError]) -> dict[str, Any]:
    """Decode and parse a TOML document; every failure is an ``error`` naming ``file``.

    Parameters
    ----------
    data : bytes
        The file's content.
    file : str
        Its name, for messages.
    error : subclass of LagnestDataError
        The error raised (``CodebookError``, ``SpecError``).

    Returns
    -------
    dict
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(
            DataProblem(
                f"not UTF-8 text: {err.reason} (byte {err.start})",
                file=file,
                line=data[: err.start].count(b"\n") + 1,
                expected="a TOML file saved as UTF-8",
            )
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(syntax_problem(err, file)) from None
    except RecursionError:
        raise error(DataProblem("invalid TOML: nested too deeply", file=file)) from None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        raise error(DataProblem(f"invalid TOML: {err}", file=file)) from None
