"""The ``lagnest`` command: a thin layer over the library.

Each subcommand parses its arguments, calls one library function and prints or writes the
result. ``main(argv)`` returns an exit code, so tests call it in-process. The commands on a
corpus (the classical layer) are in :mod:`lagnest.cli.classical`, those on models and
results in :mod:`lagnest.cli.models`, what they share in :mod:`lagnest.cli._common`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from lagnest.cli._common import _PROBLEMS_SHOWN, _add_global_arguments, _Parser
from lagnest.cli.classical import add_corpus_commands
from lagnest.cli.models import add_model_commands
from lagnest.errors import LagnestDataError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``lagnest`` command."""
    parser = _Parser(
        prog="lagnest", description="Bayesian lag-sequential analysis of nested coded sequences."
    )
    _add_global_arguments(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_model_commands(sub)
    add_corpus_commands(sub)
    parser.commands = dict(sub.choices)
    return parser


def _as_options(text: str, command: argparse.ArgumentParser | None) -> str:
    """Parameter names in a library error (``lag_seconds``) as the command's options.

    A library function names its parameters; at the command line the user typed
    ``--lag-seconds``. Every option's destination that has an underscore
    (``from_format`` of ``--from``) is rewritten as the option; other words (a column,
    a code) are left alone.
    """
    if command is None:
        return text
    for action in command._actions:  # argparse's list of the command's arguments
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs and "_" in action.dest:
            text = re.sub(rf"(?<![\w-]){re.escape(action.dest)}(?!\w)", longs[0], text)
    return text


def _one_line(err: BaseException) -> str:
    """An error message on one line (several problems: the first few, then a count)."""
    problems = getattr(err, "problems", None)
    if problems and len(problems) > 1:
        shown = "; ".join(str(p) for p in problems[:_PROBLEMS_SHOWN])
        more = len(problems) - _PROBLEMS_SHOWN
        tail = f"; and {more} more (--debug shows all)" if more > 0 else ""
        return f"{len(problems)} problems: {shown}{tail}"
    return "; ".join(line.strip() for line in str(err).splitlines() if line.strip())


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    """``warnings.showwarning`` of the command: ``warning: <message>`` on one line.

    No file name, line number or source line: those name the entry point's
    ``sys.exit(main())``, not anything the user wrote.
    """
    text = " ".join(str(message).split())
    try:
        print(f"warning: {text}", file=sys.stderr if file is None else file)
    except OSError:  # stderr closed: nowhere to warn (as Python's own showwarning)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lagnest`` command; return its exit code.

    Warnings print on stderr as one line each, ``warning: <message>`` (with ``--debug``,
    in Python's form); ``warnings.showwarning`` is restored on return.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on bad input: one line on stderr names the problem (file, row,
        column, key), without a traceback unless ``--debug`` (or ``LAGNEST_DEBUG=1``).
    """
    from lagnest.models.result import DifferentModelError

    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or bool(os.environ.get("LAGNEST_DEBUG"))
    shown = warnings.showwarning
    if not debug:  # --debug keeps Python's form (file, line, source)
        warnings.showwarning = _show_warning
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("lagnest: interrupted", file=sys.stderr)
        return 130
    except (LagnestDataError, DifferentModelError) as err:
        if debug:
            raise
        command = parser.commands.get(args.command)
        print(f"lagnest: {_as_options(_one_line(err), command)}",
              file=sys.stderr)
        return 2
    except OSError as err:  # a path problem: readers and writers name the user's path
        if debug:
            raise
        where = f"{err.filename}: " if err.filename else ""
        print(f"lagnest: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = shown
