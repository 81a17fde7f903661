"""Shared parts of the ``lagnest`` command: reading a corpus, options, output."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lagnest.errors import DataProblem, LagnestDataError

_READ_OPTIONS = (
    "sep",
    "decimal",
    "encoding",
    "sheet",
    "dyad",
    "session",
    "segment",
    "nested_sessions",
    "layout",
    "stream",
)


def _read_options(args: argparse.Namespace) -> dict:
    """The table-reading options given on the command line (see :func:`read_table`)."""
    return {k: v for k in _READ_OPTIONS if (v := getattr(args, k, None)) not in (None, False)}


def _read(args: argparse.Namespace):
    """Load the corpus named by ``--example`` or a table path."""
    if getattr(args, "path", None):
        seqs = _read_file(args, args.path)
    else:
        from lagnest.datasets import load_example

        seqs = load_example(getattr(args, "example", "thesis") or "thesis")
    return _with_codes(seqs, getattr(args, "code", None))


def _read_file(args: argparse.Namespace, path: str) -> Any:
    """One long table read with the command's ``--codebook``, ``--sessions`` and reading options."""
    from lagnest.io import read_table

    return read_table(path, codebook=args.codebook, sessions=args.sessions,
                      **_read_options(args))


def _with_codes(seqs: Any, definitions: Sequence[str] | None) -> Any:
    """Add the ``--code NAME=EXPRESSION`` codes (docs/classical.md, "Codes made from codes")."""
    if not definitions:
        return seqs
    parsed: dict[str, str] = {}
    for text in definitions:
        name, sep, expression = text.partition("=")
        if not sep or not name.strip() or not expression.strip():
            raise LagnestDataError(DataProblem(f"--code {text!r} is malformed",
                                               expected="NAME=EXPRESSION, e.g. "
                                               "'marker=W1 or W2'"))
        if name.strip() in parsed:
            raise LagnestDataError(f"--code {name.strip()!r} is given twice")
        parsed[name.strip()] = expression
    return seqs.with_codes(parsed)



def _add_reading_arguments(parser: argparse.ArgumentParser, wide_stream: bool = True) -> None:
    """Options of :func:`lagnest.read_table` for files as researchers have them.

    ``wide_stream=False`` leaves out ``--stream`` (the wide layout's stream name) for a
    command whose ``--stream`` names what it compares.
    """
    group = parser.add_argument_group("reading tables")
    group.add_argument("--sep", help="CSV field separator (default: sniffed, e.g. ';')")
    group.add_argument("--decimal", help="decimal mark (default: ',' when sep is ';')")
    group.add_argument("--encoding", help="text encoding (default: UTF-8, else cp1252)")
    group.add_argument("--sheet", help="Excel sheet of the segments (default: segments/first)")
    group.add_argument("--dyad", help="dyad key column (default: dyad)")
    group.add_argument("--session", help="session key column (default: session)")
    group.add_argument("--segment", help="segment key column (default: segment)")
    group.add_argument(
        "--nested-sessions",
        action="store_true",
        help="session numbers restart within each dyad",
    )
    group.add_argument(
        "--layout",
        choices=["long", "wide"],
        help="wide: one row per session, one column per segment",
    )
    if wide_stream:
        group.add_argument("--stream", help="wide layout: name of the stream (default: code)")


def _add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """Options naming the corpus: a table file or the embedded example."""
    parser.add_argument("path", nargs="?", help="long table (CSV, TSV, Excel, Parquet)")
    parser.add_argument(
        "--example", default="thesis", help="embedded example when no path is given"
    )
    _add_table_arguments(parser)


def _add_table_arguments(parser: argparse.ArgumentParser, wide_stream: bool = True) -> None:
    """``--codebook``, ``--sessions``, ``--code`` and the reading options of table files."""
    parser.add_argument("--codebook", default=None, help='e.g. "3rs_2015+mia"')
    parser.add_argument("--sessions", default=None, help="session table file")
    parser.add_argument(
        "--code", action="append", default=None, metavar="NAME=EXPRESSION",
        help="a code made from codes, e.g. --code 'w_then_c=chain(withdrawal, confrontation, "
        "within=2)' (repeatable; and, or, not, lump, chain: docs/classical.md)")
    _add_reading_arguments(parser, wide_stream)



# =========================================================================== shared helpers
# Everything below serves the subcommands added for results, checks, calibration and the
# report (ppc, sbc, design, report, demo) and the shared options of every subcommand.

#: ANSI colours of significant cells (above / below expectation) in terminal tables.
_RED, _BLUE, _RESET = "\x1b[1;31m", "\x1b[1;34m", "\x1b[0m"
#: A significant cell of format_lag_table: ``count (z)*``.
_SIGNIFICANT_CELL = re.compile(r"\S+ \((-?)[0-9.]+\)\*")
#: How many problems of one error the one-line message lists.
_PROBLEMS_SHOWN = 3


class _Parser(argparse.ArgumentParser):
    """Argument parser whose usage errors take one line and exit 2.

    ``commands`` maps each subcommand to its parser (set by ``build_parser``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str) -> Any:
        """Print one line naming the problem and exit 2."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _add_global_arguments(parser: argparse.ArgumentParser) -> None:
    """``--version`` and ``--debug``."""
    from lagnest._version import __version__

    parser.add_argument("--version", action="version", version=f"lagnest {__version__}",
                        help="print the version and exit")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also LAGNEST_DEBUG=1)")


def _progress() -> bool:
    """Whether to show progress bars: only on an interactive terminal."""
    return sys.stderr.isatty()


def _use_colour(mode: str, stream: Any = None) -> bool:
    """Colour for ``always``; for ``auto`` only on a terminal, without NO_COLOR or TERM=dumb."""
    if mode in ("always", "never"):
        return mode == "always"
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return (bool(isatty and isatty()) and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def _coloured(text: str, mode: str = "auto") -> str:
    """Significant cells of a text lag table in red (z > 0) or blue (z < 0)."""
    if not _use_colour(mode):
        return text

    def paint(match: re.Match[str]) -> str:
        return f"{_BLUE if match.group(1) else _RED}{match.group(0)}{_RESET}"

    return _SIGNIFICANT_CELL.sub(paint, text)


def _jsonable(value: Any) -> Any:
    """Plain JSON types: arrays to lists, NumPy scalars to numbers, NaN and inf to null."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _json(value: Any) -> str:
    """Indented JSON text (strict: no NaN)."""
    import json

    return json.dumps(_jsonable(value), indent=2, allow_nan=False, ensure_ascii=False)


def _dataset_json(ds: Any) -> dict[str, Any]:
    """An xarray Dataset as dims, coordinates, variables (dims and values) and attrs."""
    return {
        "dims": {str(k): int(v) for k, v in ds.sizes.items()},
        "coords": {str(k): ds[k].values for k in ds.coords},
        "variables": {str(k): {"dims": list(v.dims), "values": v.values}
                      for k, v in ds.data_vars.items()},
        "attrs": dict(ds.attrs),
    }


def _summary_json(seqs: Any) -> dict[str, Any]:
    """What ``seqs.summary()`` prints, as data."""
    lengths = seqs.sessions["n_segments"]
    return {
        "n_dyads": seqs.n_dyads,
        "n_sessions": seqs.n_sessions,
        "n_segments": seqs.n_segments,
        "segments_per_session": {"min": lengths.min(), "median": float(lengths.median()),
                                 "max": lengths.max()},
        "fingerprint": seqs.fingerprint,
        "session_columns": [c for c in seqs.sessions.columns if c not in ("dyad", "n_segments")],
        "code_frequencies": seqs.code_frequencies().to_dict(orient="records"),
    }


def _add_output_arguments(parser: argparse.ArgumentParser, colour: bool) -> None:
    """``--json`` (and ``--color`` for tables)."""
    parser.add_argument("--json", action="store_true",
                        help="print JSON instead of text (NaN as null)")
    if colour:
        parser.add_argument(
            "--color", choices=["auto", "always", "never"], default="auto",
            help="colour significant cells (red above, blue below expectation); auto: only "
            "on a terminal, never with NO_COLOR set")


#: Largest integer an option takes (counts, seeds, lags): NumPy's int64 range.
_MAX_OPTION_INT = 2**63 - 1


def _integer_at_least(text: str, low: int) -> int:
    """``text`` as an integer in ``low..2**63 - 1``, else an argparse error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
    if value > _MAX_OPTION_INT:
        shown = text if len(text) <= 24 else f"{text[:20]}... ({len(text)} digits)"
        raise argparse.ArgumentTypeError(f"expected an integer below 2**63, got {shown}")
    return value


def _positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    return _integer_at_least(text, 1)


def _count(text: str) -> int:
    """An argparse type: an integer >= 0 (also seeds and lags)."""
    return _integer_at_least(text, 0)


def _add_data_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--data``, ``--sessions``, ``--dyads``, ``--codebook`` (default: the example corpus)."""
    parser.add_argument(
        "--data", default=None, metavar="FILE",
        help="long table of segments (CSV, TSV, Excel, Parquet); without it the embedded "
        f"example corpus (lagnest.datasets.load_example()) is {what}")
    parser.add_argument("--sessions", default=None, metavar="FILE",
                        help="session table of --data (covariates, questionnaires)")
    parser.add_argument("--dyads", default=None, metavar="FILE", help="dyad table of --data")
    parser.add_argument("--codebook", default=None,
                        help="codebook of --data, e.g. \"3rs_2015+mia\" (default: the spec's "
                        "[data] codebook)")
    _add_reading_arguments(parser)


def _add_run_arguments(parser: argparse.ArgumentParser, owner: str, plot: str) -> None:
    """``--seed``, ``--out`` (the run folder) and ``--plot`` of a many-fit subcommand."""
    parser.add_argument("--seed", type=_count, default=1, help="seed (default %(default)s)")
    parser.add_argument("--out", default=None, metavar="PATH",
                        help=f"where {owner} keeps its runs (default: none kept)")
    parser.add_argument("--plot", default=None, metavar="FILE.png", help=plot)


def _add_sampler_arguments(parser: argparse.ArgumentParser, defaults: str) -> None:
    """``--draws``, ``--tune``, ``--chains`` and ``--seed``."""
    parser.add_argument("--draws", type=_positive_int, default=None,
                        help=f"draws per chain kept (default: {defaults})")
    parser.add_argument("--tune", type=_count, default=None,
                        help=f"tuning steps per chain (default: {defaults})")
    parser.add_argument("--chains", type=_positive_int, default=None,
                        help=f"number of chains (default: {defaults})")


def _corpus(args: argparse.Namespace, data_options: dict[str, Any] | None = None) -> Any:
    """The corpus of ``--data`` (read with the spec's ``[data]`` options), or the example."""
    if getattr(args, "data", None) is None:
        if any(getattr(args, k, None) for k in ("sessions", "dyads", "codebook")):
            raise LagnestDataError(
                "--sessions, --dyads and --codebook describe the --data file: give --data, "
                "or none of them to use the embedded example corpus"
            )
        from lagnest.datasets import load_example

        return _with_codes(load_example(), getattr(args, "code", None))
    from lagnest.io import read_table

    options = {**(data_options or {}), **({"codebook": args.codebook} if args.codebook else {}),
               **_read_options(args)}
    seqs = read_table(args.data, sessions=args.sessions, dyads=args.dyads, **options)
    return _with_codes(seqs, getattr(args, "code", None))


def _check_out(path: str | os.PathLike[str], suffixes: tuple[str, ...] = (".html", ".htm"),
               what: str = "the report") -> Path:
    """Refuse an output path that cannot be written, before any long work."""
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise LagnestDataError(DataProblem(f"cannot write {what} here", file=str(out),
                                           expected=f"a file name ending in {suffixes[0]}"))
    if out.is_dir():
        raise LagnestDataError(DataProblem(f"is a folder; name {what}'s file", file=str(out)))
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise LagnestDataError(DataProblem(f"cannot create the folder of {what}: {folder} is "
                                           "not a folder", file=str(out)))
    if not os.access(folder, os.W_OK):
        raise LagnestDataError(DataProblem(f"no permission to write {what}", file=str(out)))
    return out


def _newer(written: str, installed: str) -> bool:
    """Whether version ``written`` is newer than ``installed`` in major.minor."""
    def key(text: str) -> tuple[int, int] | None:
        match = re.match(r"(\d+)\.(\d+)", text)
        return (int(match.group(1)), int(match.group(2))) if match else None

    a, b = key(written), key(installed)
    return a is not None and b is not None and a > b


def _load_result(path: str | os.PathLike[str]) -> Any:
    """A saved fit, or one line saying why the file cannot be used."""
    from lagnest._version import __version__
    from lagnest.models.result import DifferentModelError, load

    file = Path(path)
    if not file.is_file():
        raise LagnestDataError(DataProblem("no such result file", file=str(file),
                                           expected="a RESULT.nc written by lagnest fit"))
    try:
        result = load(file)
    except DifferentModelError as err:
        raise LagnestDataError(str(err)) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise LagnestDataError(DataProblem(
            "not a lagnest result", file=str(file),
            expected="a NetCDF file written by lagnest fit or result.save()")) from None
    written = str((result.config.get("versions") or {}).get("lagnest", ""))
    if _newer(written, __version__):
        raise LagnestDataError(DataProblem(
            f"written by lagnest {written}, newer than this lagnest {__version__}; its format "
            "may differ: upgrade lagnest to read it", file=str(file)))
    return result


def _save_figure(drawn: Any, path: str | os.PathLike[str]) -> Path:
    """Save what a plot returned as PNG, atomically.

    A figure, anything with ``savefig`` (an ArviZ PlotCollection), lagnest's named tuples
    (``.figure``) or a plain ``(figure, ax)`` tuple.
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from lagnest._files import atomic_write

    figure = drawn
    if not hasattr(figure, "savefig"):
        figure = getattr(drawn, "figure", None)
    if figure is None and isinstance(drawn, tuple) and drawn:
        figure = drawn[0]
    if not hasattr(figure, "savefig"):
        raise TypeError(f"cannot save a {type(drawn).__name__} as PNG")
    try:
        atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110))
    finally:
        if isinstance(figure, Figure):
            plt.close(figure)
    return Path(path)


def _split(values: Sequence[str] | None) -> list[str] | None:
    """Names given as repeated options and/or comma-separated."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _print_calibration(value: Any) -> None:
    """Print a calibration answer (a table, a per-parameter Dataset, a number or text).

    A Dataset (SBC's ``uniformity()`` and ``coverage()``) prints as a table, one row per
    parameter, then its overall figures (its attributes), not as xarray's repr.
    """
    to_dataframe = getattr(value, "to_dataframe", None)
    if callable(to_dataframe):
        attrs = dict(getattr(value, "attrs", {}))
        value = to_dataframe()
        print(value.to_string(float_format=lambda v: f"{v:.3f}"))
        for key, item in attrs.items():
            print(f"{key}: {item:.3f}" if isinstance(item, float) else f"{key}: {item}")
        return
    to_string = getattr(value, "to_string", None)
    print(to_string() if callable(to_string) else value)


