"""The ``lagnest`` command: a thin layer over the library.

Each subcommand parses its arguments, calls one library function and prints or writes the
result. ``main(argv)`` returns an exit code, so tests call it in-process.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
import warnings
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


def _cmd_demo(args: argparse.Namespace) -> int:
    """Run the main job on the embedded example corpus and write the report."""
    from lagnest.demo import run_demo

    _check_out(args.out)
    run_demo(fit=not args.no_fit, seed=args.seed, out=args.out, draws=args.draws,
             tune=args.tune, chains=args.chains, ppc_draws=args.ppc_draws,
             n_perm=args.permutations, progress=_progress(), lang=args.lang)
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    """Print a corpus summary."""
    seqs = _read(args)
    print(_json(_summary_json(seqs)) if args.json else seqs.summary())
    return 0


def _cmd_table(args: argparse.Namespace) -> int:
    """Print a classical lag table."""
    from lagnest.classical.lagtable import lag_table
    from lagnest.classical.text import format_lag_table

    seqs = _read(args)
    table = lag_table(seqs, given=args.given, target=args.target, lag=args.lag)
    _require_pairs(table, f"at lag {args.lag} (no session has two coded segments {args.lag} "
                   "apart)", getattr(args, "path", None),
                   "a smaller --lag or coded segments in --given and --target")
    if args.json:
        print(_json(_dataset_json(table)))
    else:
        print(_coloured(format_lag_table(table), args.color))
    return 0


def _require_pairs(table: Any, where: str, path: str | None, expected: str) -> None:
    """Refuse a lag table without a single pair (``N = 0``): its statistics are empty."""
    if int(table["counts"].sum()) == 0:
        raise LagnestDataError(DataProblem(f"no lag pairs: N = 0 {where}", file=path,
                                           expected=expected))


def _cmd_convert(args: argparse.Namespace) -> int:
    """Convert between table, SDIS and BORIS formats."""
    from lagnest.io.convert import convert

    write_options = {"sessions": args.sessions_out} if args.sessions_out else None
    read_options = _read_options(args)
    if args.sessions:
        read_options["sessions"] = args.sessions
    seqs = convert(
        args.input,
        args.output,
        from_format=args.from_format,
        to_format=args.to_format,
        codebook=args.codebook,
        segment_seconds=args.segment_seconds,
        min_overlap=args.min_overlap,
        data_type=args.data_type,
        read_options=read_options,
        write_options=write_options,
    )
    print(f"wrote {args.output}: {seqs!r}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    """Simulate a corpus from a preset and write it as tables."""
    from lagnest import simulate
    from lagnest.io.table import write_table

    preset = {"thesis": simulate.thesis_like, "turns": simulate.turns, "null": simulate.null}
    seqs, truth = preset[args.preset](seed=args.seed)
    write_table(seqs, args.output, sessions=args.sessions_out)
    if args.truth:
        truth.to_json(args.truth)
    print(f"wrote {args.output}: {seqs!r}")
    return 0


def _cmd_fit(args: argparse.Namespace) -> int:
    """Fit the model a spec file describes; save the result and print its summary."""
    from lagnest.models.spec import load_spec

    spec = load_spec(args.spec).with_fit(
        draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed,
        sampler=args.sampler,
    )
    out = _check_out(args.out, (".nc",), "the result")  # before the fit, not after
    if not out.parent.is_dir():
        raise LagnestDataError(DataProblem("the result's folder does not exist", file=str(out)))
    seqs = _corpus(args, spec.data)
    model = spec.build(seqs)
    _check_sampler(model, spec.fit.get("sampler", "pymc"))
    # the spec's [fit] settings are its defaults
    result = model.fit(progressbar=_progress())
    try:
        path = result.save(out)
    except OSError as err:
        raise LagnestDataError(
            DataProblem(f"cannot write the result: {err.strerror}", file=str(out))
        ) from None
    summary = getattr(result, "summary", None)
    print(summary() if callable(summary) else result)
    print(f"wrote {path}")
    return 0


def _check_sampler(model: Any, sampler: str) -> None:
    """Refuse, before sampling, a sampler that is not installed or that the model cannot run."""
    from lagnest.models._fit import SAMPLERS, available_samplers

    if sampler not in available_samplers():
        raise LagnestDataError(
            f"sampler {sampler!r} needs the package {SAMPLERS.get(sampler)!r}, which is not "
            f"installed: install it or use --sampler with one of {list(available_samplers())}")
    try:
        model.check_sampler(sampler)
    except ValueError as err:
        raise LagnestDataError(str(err)) from None


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


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``lagnest`` command."""
    parser = _Parser(
        prog="lagnest", description="Bayesian lag-sequential analysis of nested coded sequences."
    )
    _add_global_arguments(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the standard analyses on the example corpus and "
                          "write the report", description=_DEMO_DESCRIPTION)
    _add_demo_arguments(demo)
    demo.set_defaults(func=_cmd_demo)

    summary = sub.add_parser("summary", help="summarise a corpus")
    _add_corpus_arguments(summary)
    _add_output_arguments(summary, colour=False)
    summary.set_defaults(func=_cmd_summary)

    table = sub.add_parser("table", help="classical lag table")
    _add_corpus_arguments(table)
    table.add_argument("--given", required=True)
    table.add_argument("--target", required=True)
    table.add_argument("--lag", type=_count, default=1,
                       help="lag >= 0 (default %(default)s; 0 = co-occurrence in one segment; "
                       "for a backward lag swap --given and --target)")
    _add_output_arguments(table, colour=True)
    table.set_defaults(func=_cmd_table)
    _add_classical_commands(sub)

    conv = sub.add_parser("convert", help="convert between table, SDIS and BORIS formats")
    conv.add_argument("input")
    conv.add_argument("output")
    conv.add_argument("--from", dest="from_format", choices=["table", "sdis", "boris"])
    conv.add_argument("--to", dest="to_format", choices=["table", "sdis"])
    conv.add_argument("--codebook", default=None)
    conv.add_argument("--sessions", default=None, help="session table of a table input")
    conv.add_argument("--segment-seconds", type=float, default=None)
    conv.add_argument("--min-overlap", type=float, default=0.0)
    conv.add_argument("--data-type", choices=["Event", "Multievent", "Interval"], default=None)
    conv.add_argument("--sessions-out", default=None, help="where to write the session table")
    _add_reading_arguments(conv)
    conv.set_defaults(func=_cmd_convert)

    fit = sub.add_parser(
        "fit",
        help="fit the model a spec file describes and save the result",
        description="Fit the model a TOML spec describes (see docs/specs.md), save the "
        "result as NetCDF (read it back with lagnest.load) and print its summary. Sampler "
        "options given here override the spec's [fit] section.",
    )
    from lagnest.models._fit import SAMPLERS
    from lagnest.models.spec import standard_specs

    fit.add_argument(
        "spec",
        help="spec file (TOML), or the name of a standard spec: "
        + ", ".join(standard_specs()),
    )
    fit.add_argument(
        "--data",
        default=None,
        metavar="FILE",
        help="long table of segments (CSV, TSV, Excel, Parquet); without it the embedded "
        "example corpus (lagnest.datasets.load_example()) is fitted",
    )
    fit.add_argument("--sessions", default=None, metavar="FILE",
                     help="session table of --data (covariates, questionnaires)")
    fit.add_argument("--dyads", default=None, metavar="FILE", help="dyad table of --data")
    fit.add_argument("--codebook", default=None,
                     help='codebook of --data, e.g. "3rs_2015+mia" (default: the spec\'s '
                     "[data] codebook)")
    fit.add_argument(
        "--code", action="append", default=None, metavar="NAME=EXPRESSION",
        help="a code made from codes, named by the spec like any other (repeatable; and, "
        "or, not, lump, chain: docs/classical.md); a spec can hold them in [codes]")
    fit.add_argument("--out", required=True, metavar="RESULT.nc",
                     help="where to write the result (NetCDF)")
    fit.add_argument("--draws", type=int, default=None, help="draws per chain kept")
    fit.add_argument("--tune", type=int, default=None, help="tuning steps per chain")
    fit.add_argument("--chains", type=int, default=None, help="number of chains")
    fit.add_argument("--seed", type=_count, default=None,
                     help="random seed (default: the spec's, else drawn and recorded)")
    fit.add_argument("--sampler", choices=list(SAMPLERS), default=None,
                     help="NUTS implementation (default: the spec's [fit] sampler, else pymc; "
                     "nutpie and numpyro only when installed)")
    fit.set_defaults(func=_cmd_fit)

    sim = sub.add_parser("simulate", help="simulate a corpus from a preset")
    sim.add_argument("output", help="segment table to write (.csv, .parquet, .xlsx)")
    sim.add_argument("--preset", choices=["thesis", "turns", "null"], default="thesis")
    sim.add_argument("--seed", type=_count, required=True)
    sim.add_argument("--sessions-out", default=None, help="where to write the session table")
    sim.add_argument("--truth", default=None, help="where to write the truth (JSON)")
    sim.set_defaults(func=_cmd_simulate)
    _add_analysis_commands(sub)
    return parser


# =========================================================================== shared helpers
# Everything below serves the subcommands added for results, checks, calibration and the
# report (ppc, sbc, design, report, demo) and the shared options of every subcommand.

_DEMO_DESCRIPTION = (
    "Run the main job on the embedded example corpus (a simulated, thesis-like corpus): "
    "print its summary and the classical lag tables with a permutation test, fit the three "
    "standard analyses (the specs shipped with lagnest: mia_to_rupture, "
    "rupture_to_resolution, state_mindfulness_to_impact; each also runs as lagnest fit "
    "NAME), check each fit against its posterior predictive distribution, write one "
    "self-contained HTML report and print its path. The fits use "
    "the specs' 4 chains x 1000 draws (tune 1000); the demo takes about a minute and a "
    "half on two cores. Give --draws 500 --tune 500 for a quicker look (the output then "
    "says the fits are shortened)."
)
#: ANSI colours of significant cells (above / below expectation) in terminal tables.
_RED, _BLUE, _RESET = "\x1b[1;31m", "\x1b[1;34m", "\x1b[0m"
#: A significant cell of format_lag_table: ``count (z)*``.
_SIGNIFICANT_CELL = re.compile(r"\S+ \((-?)[0-9.]+\)\*")
#: How many problems of one error the one-line message lists.
_PROBLEMS_SHOWN = 3


class _Parser(argparse.ArgumentParser):
    """Argument parser whose usage errors take one line and exit 2."""

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
    """Print a calibration answer (a table, a number or text)."""
    to_string = getattr(value, "to_string", None)
    print(to_string() if callable(to_string) else value)


# =========================================================================== subcommands


def _cmd_ppc(args: argparse.Namespace) -> int:
    """Posterior predictive check of a saved fit."""
    if args.plot:
        _check_out(args.plot, (".png",), "the plot")
    result = _load_result(args.result)
    stats = _split(args.stats)
    check = result.ppc(stats=stats, n_draws=args.draws, seed=args.seed)
    if args.json:
        summary = check.summary()
        print(_json({"model": check.model, "group": check.group,
                     "replication": check.replication, "n_draws": args.draws,
                     "seed": args.seed, "statistics": summary.to_dict(orient="records"),
                     "flagged": check.flagged().to_dict(orient="records"),
                     "notes": list(check.notes)}))
    else:
        print(check)
    if args.plot:
        path = _save_figure(check.plot(stats=stats), args.plot)
        if not args.json:
            print(f"wrote {path}")
    return 0


def _cmd_sbc(args: argparse.Namespace) -> int:
    """Simulation-based calibration of the model a spec describes."""
    from lagnest import calibration
    from lagnest.models.spec import load_spec

    if args.plot:
        _check_out(args.plot, (".png",), "the plot")
    spec = load_spec(args.spec)
    model = spec.build(_corpus(args, spec.data))
    options = {"n": args.n, "seed": args.seed, "draws": args.draws, "tune": args.tune,
               "chains": args.chains, "n_jobs": args.jobs, "path": args.out,
               "progress": _progress()}
    options = {k: v for k, v in options.items() if v is not None}
    result = calibration.sbc(model, **options)
    print(f"Simulation-based calibration of {spec.name} ({spec.model}): {args.n} simulations, "
          f"seed {args.seed}")
    print("\nRank uniformity:")
    _print_calibration(result.uniformity())
    print("\nInterval coverage:")
    _print_calibration(result.coverage())
    if args.plot:
        print(f"wrote {_save_figure(result.plot(), args.plot)}")
    return 0


def _cmd_design(args: argparse.Namespace) -> int:
    """Design analysis: what a study of a given size could detect."""
    from lagnest import calibration

    if args.plot:
        _check_out(args.plot, (".png",), "the plot")
    options = {"dyads": list(args.dyads), "sessions": list(args.sessions),
               "segments": args.segments, "n_sim": args.n_sim, "seed": args.seed,
               "path": args.out, "progress": _progress()}
    options = {k: v for k, v in options.items() if v is not None}
    result = calibration.design_analysis(**options)
    print(result.sentence())
    if args.plot:
        print(f"wrote {_save_figure(result.plot(), args.plot)}")
    return 0


def _tables(seqs: Any, specs: Sequence[str]) -> dict[str, Any]:
    """Lag tables named ``GIVEN:TARGET[:LAG]``."""
    from lagnest.classical.lagtable import lag_table

    out = {}
    for text in specs:
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(parts) or (
                len(parts) == 3 and not parts[2].isdigit()):
            raise LagnestDataError(DataProblem(f"--table {text!r} is malformed",
                                               expected="GIVEN:TARGET or GIVEN:TARGET:LAG"))
        lag = int(parts[2]) if len(parts) == 3 else 1
        out[f"{parts[0]} → {parts[1]}, lag {lag}"] = lag_table(seqs, parts[0], parts[1], lag=lag)
    return out


def _cmd_report(args: argparse.Namespace) -> int:
    """Fit specs (or take saved fits) on a corpus and write the HTML report."""
    from lagnest.demo import load_specs, run_analyses, standard_tables
    from lagnest.models.spec import standard_specs
    from lagnest.viz.report import write_report

    out = _check_out(args.out)
    results = {Path(p).stem: _load_result(p) for p in args.result or ()}
    if args.spec:
        specs, skipped = load_specs(args.spec)
    elif results:
        specs, skipped = {}, {}
    else:
        specs, skipped = load_specs(standard_specs(), skip_unknown_models=True)
    data_options = next(iter(specs.values())).data if specs else {}
    seqs = _corpus(args, data_options)
    for name, result in results.items():
        fingerprint = result.config.get("data_fingerprint")
        if fingerprint is not None and fingerprint != seqs.fingerprint:
            raise LagnestDataError(DataProblem(
                "this result was fitted to another corpus than the one reported (data "
                "fingerprints differ); give that corpus with --data", file=f"{name}.nc"))
    tables = _tables(seqs, args.table) if args.table else standard_tables(seqs)
    fit = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    analyses = run_analyses(seqs, specs, fit=fit, seed=args.seed, ppc_draws=args.ppc_draws,
                            progress=_progress())
    lang = args.lang
    for name, result in results.items():
        if not hasattr(result, "summary"):
            print(result)
        elif lang != "en" and "lang" in inspect.signature(result.summary).parameters:
            print(result.summary(lang=lang, codebook=seqs.codebook))
        else:
            print(result.summary())
        if args.ppc_draws > 0:
            analyses.checks[name] = result.ppc(n_draws=args.ppc_draws, seed=args.seed or 0)
        analyses.results[name] = result
    analyses.skipped.update(skipped)
    path = write_report(out, seqs, results=analyses.results, checks=analyses.checks,
                        tables=tables, specs=analyses.specs, skipped=analyses.skipped,
                        title=args.title, lang=lang,
                        subtitle=_report_subtitle(args.data, lang))
    print(f"report: {path.resolve()}")
    return 0


def _report_subtitle(data: str | None, lang: str) -> str:
    """The report's line under the title: which corpus."""
    if lang == "es":
        return f"Corpus: {data or 'el corpus de ejemplo incluido'}"
    return f"Corpus: {data or 'the embedded example corpus'}"


# =========================================================================== classical


def _frame_text(frame: Any, float_format: str = "{:.3f}") -> str:
    """A table as text no wider than 100 columns: NaN cells blank, p-values to 4 decimals.

    Parameters
    ----------
    frame : pandas.DataFrame
    float_format : str, default "{:.3f}"
        Format of the numbers of the other columns.

    Returns
    -------
    str
    """
    from lagnest.models.summaries import format_table

    formats = {}
    for column in map(str, frame.columns):
        if column == "p" or column.startswith("p_") or column.endswith("_p"):
            formats[column] = "{:.4f}"
        elif column == "n":  # a count, float only where a tally is halved
            formats[column] = "{:g}"
    return format_table(frame, float_format=float_format, formats=formats)


def _bar() -> bool:
    """A permutation progress bar: on an interactive terminal, when tqdm is installed."""
    import importlib.util

    return _progress() and importlib.util.find_spec("tqdm") is not None


def _read_events(args: argparse.Namespace) -> Any:
    """The timed events of ``args.path`` (SDIS Timed/State or BORIS, by ``--from`` or suffix)."""
    from lagnest.io.convert import _READERS, input_format

    reader = args.from_format or input_format(args.path)
    if reader == "table":
        raise LagnestDataError(DataProblem(
            "holds no timed events (a table of segments)", file=args.path,
            expected="an SDIS Timed or State file (.sds) or a BORIS export (a table with "
            "'Observation id' and 'Behavior' columns); --from names the reader"))
    options = {k: v for k in ("codebook", "encoding") if (v := getattr(args, k)) is not None}
    return _READERS[reader](args.path, as_events=True, **options)


def _timed_words(attrs: dict[str, Any]) -> str:
    """What a timed table tallies, in seconds (its title counts lags in time units)."""
    if attrs["window_seconds"]:
        pairs = f"each unit against the target in the {attrs['window_seconds']:g} s after it"
    else:
        pairs = f"lag {attrs['lag_seconds']:g} s"
    words = [f"time units of {attrs['resolution']:g} s", pairs]
    if attrs["time_window"]:
        words.append(f"given: the window {attrs['time_window']} of {attrs['given']}")
    if attrs["target_onsets"]:
        words.append(f"target: the onset units of {attrs['target']} only")
    return "; ".join(words)


def _permutation_text(ds: Any) -> str:
    """The table-level and per-cell p-values of a permutation test."""
    from lagnest.models.summaries import wrap

    a = ds.attrs
    head = wrap(f"permutation test ({a['n_perm']} shuffles, seed {a['seed']}; {a['shuffle']}): "
                f"p(X2) = {a['p_perm_X2']:.4f}, p(G2) = {a['p_perm_G2']:.4f}")
    cells = _frame_text(ds["p_perm_adj_resid"].to_pandas(), float_format="{:.4f}")
    return f"{head}\npermutation p of each cell's adjusted residual ({a['alternative']}):\n{cells}"


def _cmd_timed(args: argparse.Namespace) -> int:
    """Print the time-unit lag table of timed events, with its permutation test."""
    from lagnest.classical.text import format_lag_table
    from lagnest.classical.timed import timed_permutation_test, timed_table

    events = _read_events(args)
    options = {"resolution": args.resolution, "lag_seconds": args.lag_seconds,
               "window": args.window, "window_seconds": args.window_seconds,
               "target_onsets": args.target_onsets}
    if args.permutations and args.by:
        raise LagnestDataError("--by gives one table per session or dyad, the permutation "
                               "test tests the pooled table: leave out --by or --permutations")
    if args.permutations:
        table = timed_permutation_test(events, args.given, args.target, n_perm=args.permutations,
                                       seed=args.seed, alternative=args.alternative,
                                       progress=_bar(), **options)
    else:
        table = timed_table(events, args.given, args.target, by=args.by, **options)
    _require_pairs(table, "(no two coded time units of one session this far apart)", args.path,
                   "a shorter --lag-seconds or --window-seconds")
    if args.json:
        print(_json(_dataset_json(table)))
        return 0
    print(_coloured(format_lag_table(table), args.color))
    print(_timed_words(table.attrs))
    if args.permutations:
        print(f"\n{_permutation_text(table)}")
    return 0


def _codes_arg(codes: Sequence[str]) -> str | tuple[str, ...]:
    """One code, or a (given, target) transition, as :func:`dominance_test` takes them."""
    return codes[0] if len(codes) == 1 else tuple(codes)


def _dominance_text(ds: Any) -> str:
    """A dominance test as text: the transitions, the case, kappa, z and p."""
    from lagnest.classical.dominance import DOMINANCE_CASES
    from lagnest.models.summaries import wrap

    a = ds.attrs
    words = [str(w) for pair in zip(ds["given"].values, ds["target"].values, strict=True)
             for w in pair]
    tails = "one-tailed" if a["tails"] == 1 else "two-tailed"
    lines = [wrap(f"{a['kind'].capitalize()} dominance, stream {a['stream']}, lag {a['lag']} "
                  f"(p {tails}): {words[0]} -> {words[1]} against {words[2]} -> {words[3]}")]
    frame = ds[["counts", "expected", "given_freq", "target_freq"]].to_dataframe()
    lines.append(_frame_text(frame.drop(columns=["given", "target"])))
    if "kappa" in ds.data_vars:  # by session or dyad
        lines.append("")
        lines.append(_frame_text(ds[["case", "kappa", "z", "p", "n"]].to_dataframe()))
        cases = sorted({int(c) for c in ds["case"].values})
    else:
        lines.append(f"\ncase {a['case']}: {a['case_description']}")
        lines.append(f"kappa = {a['kappa']:.3f}, z = {a['z']:.3f}, p = {a['p']:.4f}, "
                     f"n = {a['n']:g}")
        cases = []
    lines.extend(wrap(f"case {c}: {DOMINANCE_CASES[c].format(*words)}") for c in cases)
    lines.append("A positive kappa says the first transition dominates; read the direction "
                 "from kappa, not z.")
    return "\n".join(lines)


def _cmd_dominance(args: argparse.Namespace) -> int:
    """Print Wampold's test of dominance of two transitions."""
    from lagnest.classical.dominance import dominance_test

    ds = dominance_test(_read(args), _codes_arg(args.a), _codes_arg(args.b), lag=args.lag,
                        kind=args.kind, by=args.by, tails=args.tails)
    print(_json(_dataset_json(ds)) if args.json else _dominance_text(ds))
    return 0


def _stationarity_text(ds: Any) -> str:
    """A stationarity test as text: G2, df, p (and p_perm), the probabilities per part."""
    import pandas as pd

    from lagnest.models.summaries import wrap

    a = ds.attrs
    lines = [wrap(f"Stationarity of {a['given']} -> {a['target']}, lag {a['lag']}, by "
                  f"{a['by']} ({a['n_parts']} parts)")]
    if a.get("sessions_left_out"):
        lines.append(f"{a['sessions_left_out']} sessions left out (their dyad has fewer "
                     "sessions than parts)")
    tests = [v for v in ("G2", "df", "p", "p_perm") if v in ds.data_vars]
    if tests:  # an indicator set: one test per indicator
        lines.append(_frame_text(ds[tests].to_dataframe()))
    else:
        line = f"G2 = {a['G2']:.2f} (df {a['df']}, p = {a['p']:.4f})"
        if "p_perm" in a:
            line += f"; permutation p = {a['p_perm']:.4f}"
        lines.append(line)
    if "n_perm" in a:
        lines.append(wrap(f"permutation test: {a['n_perm']} permutations, seed {a['seed']}, "
                          f"{a['null']}"))
    prob = ds["trans_prob"]
    lead = [d for d in prob.dims if d != "target"]
    index = pd.MultiIndex.from_product([ds[d].values for d in lead], names=lead)
    frame = pd.DataFrame(prob.transpose(*lead, "target").values.reshape(len(index), -1),
                         index=index, columns=[str(t) for t in ds["target"].values])
    frame.insert(0, "n", ds["counts"].sum("target").transpose(*lead).values.ravel())
    lines.append("\ntransitional probabilities per part (n: pairs from the given code):")
    lines.append(_frame_text(frame))
    return "\n".join(lines)


def _cmd_stationarity(args: argparse.Namespace) -> int:
    """Print the test that the transitional probabilities do not change over time."""
    from lagnest.classical.stationarity import stationarity_test

    ds = stationarity_test(_read(args), args.given, args.target, lag=args.lag, by=args.by,
                           n_parts=args.n_parts, order=args.order,
                           structural_zeros=args.structural_zeros, n_perm=args.permutations,
                           seed=args.seed)
    print(_json(_dataset_json(ds)) if args.json else _stationarity_text(ds))
    return 0


#: Options of ``lagnest agreement`` for two codings only, and for three or more only.
_PAIR_OPTIONS = ("tolerance", "reference")
_SEVERAL_OPTIONS = ("icc_kind", "n_boot", "seed")


def _given_options(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    """The options among ``names`` given on the command line (the others keep defaults)."""
    return {k: v for k in names if (v := getattr(args, k)) is not None}


def _refuse_options(args: argparse.Namespace, names: Sequence[str], use: str) -> None:
    """A one-line error for options that do not apply to this many codings."""
    given = [f"--{k.replace('_', '-')}" for k in _given_options(args, names)]
    if given:
        raise LagnestDataError(f"{', '.join(given)} applies to {use}, not to "
                               f"{len(args.codings)} codings")


def _pair_agreement(codings: dict[str, Any], streams: Sequence[str] | None,
                    options: dict[str, Any]) -> dict[str, Any]:
    """Cohen's kappa of two codings, one Dataset per stream (default: every stream)."""
    from lagnest.classical.agreement import agreement

    a, b = codings.values()
    return {name: agreement(a, b, name, **options) for name in streams or list(a.streams)}


#: The columns of the printed table of Cohen's kappas (all of them are in ``--json``).
_KAPPA_SHOWN = ("kappa", "se", "ci_low", "ci_high", "z", "p", "p_o", "p_e", "n")


def _pair_text(coders: Sequence[str], results: dict[str, Any]) -> str:
    """Cohen's kappa per stream (or code) as one table, then each agreement matrix."""
    import pandas as pd

    from lagnest.models.summaries import wrap

    rows = []
    for name, ds in results.items():
        if "code" in ds.dims:
            frame = ds[list(_KAPPA_SHOWN)].to_dataframe()
            frame.index = [f"{name}:{code}" for code in frame.index]
        else:
            frame = pd.DataFrame([{v: ds.attrs[v] for v in _KAPPA_SHOWN}], index=[name])
        frame["n_excluded"] = ds.attrs["n_excluded"]
        rows.append(frame)
    table = pd.concat(rows)
    table.index.name = "stream"
    if not table["n_excluded"].any():
        table = table.drop(columns="n_excluded")
    first = next(iter(results.values())).attrs
    head = (f"Cohen's kappa of {coders[0]} (A) and {coders[1]} (B); uncoded segments: "
            f"{first['uncoded']}; {first['ci_prob']:g} intervals")
    if first["tolerance"]:
        head += f"; tolerance {first['tolerance']} segments (reference {first['reference']})"
    lines = [wrap(head), _frame_text(table),
             "se0, kappa_max and the expected tallies: --json"]
    for name, ds in results.items():
        if "code" not in ds.dims:
            matrix = ds["counts"].to_pandas()
            matrix.index.name = "A \\ B"
            lines.append(f"\nagreement matrix of {name}:")
            lines.append(_frame_text(matrix))
    return "\n".join(lines)


def _cmd_agreement(args: argparse.Namespace) -> int:
    """Print the agreement of two codings (Cohen's kappa) or of several (Fleiss, alpha)."""
    from lagnest.classical.multirater import coder_agreement
    from lagnest.models.summaries import wrap

    if len(args.codings) < 2:
        raise LagnestDataError("agreement compares two or more codings: give one file per "
                               f"coder, got {len(args.codings)}")
    twice = sorted({p for p in args.codings if args.codings.count(p) > 1})
    if twice:
        raise LagnestDataError(f"the coding {twice[0]} is given twice: give each coder's "
                               "file once")
    codings = {path: _with_codes(_read_file(args, path), args.code) for path in args.codings}
    options = _given_options(args, ("per_code", "uncoded", "ci_prob"))
    if len(codings) == 2:
        _refuse_options(args, _SEVERAL_OPTIONS, "three or more codings")
        results = _pair_agreement(codings, args.compare,
                                  {**options, **_given_options(args, _PAIR_OPTIONS)})
        if args.json:
            print(_json({"coders": args.codings,
                         "streams": {k: _dataset_json(v) for k, v in results.items()}}))
        else:
            print(_pair_text(args.codings, results))
        return 0
    _refuse_options(args, _PAIR_OPTIONS, "two codings (Cohen's kappa)")
    ds = coder_agreement(codings, args.compare,
                         **options, **_given_options(args, _SEVERAL_OPTIONS))
    if args.json:
        print(_json(_dataset_json(ds)))
        return 0
    frame = ds.to_dataframe().drop(columns="parent")
    frame = frame[["kind", *(c for c in frame.columns if c != "kind")]]
    shown = frame.dropna(axis=1, how="all")
    a = ds.attrs
    print(wrap(f"Agreement of {a['n_coders']} codings ({', '.join(a['coders'])}): "
               f"{a['n_segments']} segments in {a['n_sessions']} sessions; uncoded: "
               f"{a['uncoded']}"))
    print(_frame_text(shown))
    left = [c for c in frame.columns if c not in shown.columns]
    if left:
        print(wrap(f"columns without a value (left out): {', '.join(left)}"))
    return 0


# =========================================================================== parsers


def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got {text!r}")
    return value


def _add_permutation_arguments(parser: argparse.ArgumentParser) -> None:
    """``--permutations`` (0: no permutation test) and ``--seed``."""
    parser.add_argument("--permutations", type=_count, default=0, metavar="N",
                        help="also run the permutation test with N permutations (default 0: "
                        "none)")
    parser.add_argument("--seed", type=_count, default=0,
                        help="seed of the permutations (default %(default)s)")


def _add_classical_commands(sub: Any) -> None:
    """Parsers of ``timed``, ``dominance``, ``stationarity`` and ``agreement``."""
    from lagnest.classical.stationarity import STATIONARITY_SPLITS

    timed = sub.add_parser(
        "timed", help="time-unit lag table of timed events (SDIS Timed/State, BORIS)",
        description="Read an SDIS Timed or State file or a BORIS export as timed events and "
        "print the time-unit lag table of two codes (lagnest.timed_table): lags and windows "
        "in seconds, GSEQ windows tied to the given code's onsets and offsets, and with "
        "--permutations the test that shuffles the target's events within sessions, "
        "durations kept (lagnest.timed_permutation_test). See docs/timed_events.md.")
    timed.add_argument("path", metavar="FILE",
                       help="SDIS Timed or State file (.sds) or BORIS export (.tsv, .csv, .xlsx)")
    timed.add_argument("--from", dest="from_format", choices=["sdis", "boris"], default=None,
                       help="the reader (default: from the suffix and a table's header)")
    timed.add_argument("--codebook", default=None, help='e.g. "3rs_2015+mia"')
    timed.add_argument("--encoding", default=None, help="text encoding (default: the reader's)")
    timed.add_argument("--given", required=True, help="one code (code or stream:code)")
    timed.add_argument("--target", required=True, help="one code (code or stream:code)")
    timed.add_argument("--resolution", type=_seconds, default=1.0,
                       help="length of a time unit in seconds (default %(default)s)")
    timed.add_argument("--lag-seconds", type=_seconds, default=None, metavar="L",
                       help="pairs of units L s apart (default 0: co-occurrence in a unit; "
                       "negative looks back)")
    timed.add_argument("--window-seconds", type=_seconds, default=None, metavar="W",
                       help="instead of a lag: each unit against the target in the W s after it")
    timed.add_argument("--window", default=None, metavar="TEXT",
                       help="replace the given code by a window in GSEQ's notation, e.g. "
                       "'(A+1, (A+5' (the 5 s after A begins) or '(A, A)+5'")
    timed.add_argument("--target-onsets", action="store_true",
                       help="count only the onset unit of each target event (GSEQ's (B)")
    timed.add_argument("--by", choices=["session", "dyad"], default=None,
                       help="one table per session or dyad, the pooled one last")
    _add_permutation_arguments(timed)
    timed.add_argument("--alternative", choices=["two-sided", "greater", "less"],
                       default="two-sided", help="direction of the per-cell permutation "
                       "p-values (default %(default)s)")
    _add_output_arguments(timed, colour=True)
    timed.set_defaults(func=_cmd_timed)

    dominance = sub.add_parser(
        "dominance", help="Wampold's test of dominance of two transitions",
        description="Wampold's test of dominance with O'Connor's conventions "
        "(lagnest.dominance_test) on one categorical stream that holds both partners' codes: "
        "parallel (--a A --b B: A -> B against B -> A) or nonparallel (--kind nonparallel "
        "--a I J --b K L: I -> J against K -> L). See docs/classical.md, Dominance.")
    _add_corpus_arguments(dominance)
    dominance.add_argument("--a", nargs="+", required=True, metavar="CODE",
                           help="parallel: code A; nonparallel: the first transition's two "
                           "codes I J")
    dominance.add_argument("--b", nargs="+", required=True, metavar="CODE",
                           help="parallel: code B; nonparallel: the second transition's two "
                           "codes K L")
    dominance.add_argument("--kind", choices=["parallel", "nonparallel"], default="parallel",
                           help="the test (default %(default)s)")
    dominance.add_argument("--lag", type=_count, default=1,
                           help="lag of the transitions (default %(default)s)")
    dominance.add_argument("--by", choices=["session", "dyad"], default=None,
                           help="one test per session or dyad (default: the pooled table)")
    dominance.add_argument("--tails", type=int, choices=[1, 2], default=1,
                           help="p = tails * (1 - Phi(|z|)) (default %(default)s, as O'Connor)")
    _add_output_arguments(dominance, colour=False)
    dominance.set_defaults(func=_cmd_dominance)

    stationarity = sub.add_parser(
        "stationarity", help="do the transitional probabilities change over time?",
        description="Likelihood-ratio test that p(target | given) is the same in every part "
        "of the sessions (halves, thirds, N equal parts) or of the therapy (every dyad's "
        "early and late sessions), with an optional permutation p-value "
        "(lagnest.stationarity_test). See docs/classical.md, Stationarity.")
    _add_corpus_arguments(stationarity)
    stationarity.add_argument("--given", required=True)
    stationarity.add_argument("--target", required=True)
    stationarity.add_argument("--lag", type=_count, default=1,
                              help="lag >= 0 (default %(default)s)")
    stationarity.add_argument("--by", choices=STATIONARITY_SPLITS, default="half",
                              help="half, tercile or position (--n-parts) of every session, "
                              "or session_order: every dyad's sessions in order (default "
                              "%(default)s)")
    stationarity.add_argument("--n-parts", type=_positive_int, default=None, metavar="N",
                              help="parts for position (required) and session_order "
                              "(default 2)")
    stationarity.add_argument("--order", default=None, metavar="COVARIATE",
                              help="session_order: a numeric session covariate ordering each "
                              "dyad's sessions (default: their stored order)")
    stationarity.add_argument("--structural-zeros", choices=["diagonal"], default=None,
                              help="diagonal: a code cannot follow itself")
    _add_permutation_arguments(stationarity)
    _add_output_arguments(stationarity, colour=False)
    stationarity.set_defaults(func=_cmd_stationarity)

    agree = sub.add_parser(
        "agreement", help="observer agreement of two or more codings of the same sessions",
        description="Agreement of codings of the same sessions, each a long table read as "
        "lagnest table reads one. Two files: Cohen's kappa per stream, or per code with "
        "--per-code (lagnest.agreement). Three or more: Fleiss' kappa and Krippendorff's "
        "alpha per stream, code, indicator and rating (lagnest.coder_agreement). See "
        "docs/agreement.md.")
    agree.add_argument("codings", nargs="+", metavar="CODING",
                       help="one long table per coder (CSV, TSV, Excel, Parquet)")
    agree.add_argument("--stream", dest="compare", action="append", default=None,
                       metavar="STREAM",
                       help="what to compare (repeatable): a stream, a code, an indicator "
                       "(three or more codings: also a rating); default every stream of the "
                       "first coding (three or more: and every rating)")
    agree.add_argument("--per-code", action=argparse.BooleanOptionalAction, default=None,
                       help="also (three or more) or only (two) one row per code against the "
                       "others (default: on for three or more codings, off for two)")
    agree.add_argument("--uncoded", choices=["exclude", "category"], default=None,
                       help="a segment a coder left uncoded: left out (default) or one more "
                       "code")
    agree.add_argument("--ci-prob", type=float, default=None,
                       help="coverage of the intervals (default 0.95)")
    agree.add_argument("--tolerance", type=_count, default=None, metavar="T",
                       help="two codings: time-unit kappa with a tolerance of T segments")
    agree.add_argument("--reference", choices=["a", "b", "both"], default=None,
                       help="two codings with --tolerance: whose codes are looked for in the "
                       "other's (default a, the first file)")
    agree.add_argument("--icc-kind", default=None,
                       help="three or more codings: the ICC of ratings (default ICC(2,1))")
    agree.add_argument("--n-boot", type=_count, default=None, metavar="N",
                       help="three or more codings: bootstrap resamples of sessions for "
                       "alpha's interval (default 0: none)")
    agree.add_argument("--seed", type=_count, default=None,
                       help="three or more codings: seed of the bootstrap")
    _add_table_arguments(agree, wide_stream=False)
    _add_output_arguments(agree, colour=False)
    agree.set_defaults(func=_cmd_agreement)


def _add_demo_arguments(demo: argparse.ArgumentParser) -> None:
    """Options of ``lagnest demo``."""
    demo.add_argument("--out", default="lagnest-demo/report.html", metavar="REPORT.html",
                      help="where to write the report (figures go to figures/ beside it; "
                      "default: %(default)s)")
    demo.add_argument("--no-fit", action="store_true",
                      help="classical part only: no model fits (the report says so)")
    _add_sampler_arguments(demo, "each spec's own [fit] settings")
    demo.add_argument("--seed", type=_count, default=1,
                      help="seed of the permutation test, the fits and the checks (default 1)")
    demo.add_argument("--ppc-draws", type=_count, default=200,
                      help="replicates of each posterior predictive check (0: none; default "
                      "%(default)s)")
    demo.add_argument("--permutations", type=_positive_int, default=2000,
                      help="shuffles of the permutation test (default %(default)s)")
    demo.add_argument("--lang", choices=("en", "es"), default="en",
                      help="language of the report, as lagnest report --lang (default "
                      "%(default)s)")


def _add_analysis_commands(sub: Any) -> None:
    """Parsers of ``ppc``, ``sbc``, ``design`` and ``report``."""
    from lagnest.models.spec import standard_specs

    ppc = sub.add_parser(
        "ppc", help="posterior predictive check of a saved fit",
        description="Replicate the data from a saved fit's posterior draws and compare the "
        "sequential statistics of the data (adjusted residuals, Yule's Q, G2, homogeneity "
        "across dyads and sessions, run lengths, ...) with their replicated distribution. "
        "Prints the whole-corpus statistics and every flagged value (two-sided posterior "
        "predictive p-value, ppp, below 0.01).")
    ppc.add_argument("result", metavar="RESULT", help="a result file (.nc) from lagnest fit")
    ppc.add_argument("--stats", action="append", metavar="NAME[,NAME...]",
                     help="statistics to check (repeat or comma-separate; default all)")
    ppc.add_argument("--draws", type=_positive_int, default=200,
                     help="posterior draws used, one replicate each (default %(default)s)")
    ppc.add_argument("--seed", type=_count, default=0,
                     help="seed of the replication (default %(default)s)")
    ppc.add_argument("--plot", metavar="FILE.png", default=None,
                     help="also draw one panel per statistic into this PNG file")
    ppc.add_argument("--json", action="store_true",
                     help="print the checked and flagged values as JSON")
    ppc.set_defaults(func=_cmd_ppc)

    names = ", ".join(standard_specs())
    sbc = sub.add_parser(
        "sbc", help="simulation-based calibration of a spec's model",
        description="Simulation-based calibration (lagnest.calibration.sbc): draw parameters "
        "from the priors, simulate data on the spec's design, refit, and check that the "
        "posterior ranks of the true values are uniform and the intervals cover them.")
    sbc.add_argument("spec", help=f"spec file (TOML) or the name of a standard spec: {names}")
    _add_data_arguments(sbc, "the design simulated on")
    sbc.add_argument("--n", type=_positive_int, default=100,
                     help="simulations (refits; default %(default)s)")
    _add_sampler_arguments(sbc, "calibration.sbc's")
    sbc.add_argument("--jobs", type=_positive_int, default=None,
                     help="parallel workers (default: calibration.sbc's)")
    _add_run_arguments(sbc, "calibration.sbc",
                       "draw the rank histograms and coverage into this PNG file")
    sbc.set_defaults(func=_cmd_sbc)

    design = sub.add_parser(
        "design", help="design analysis: what a study of a given size can detect",
        description="Design analysis (lagnest.calibration.design_analysis): simulate "
        "corpora of each size from the thesis-like generative model, fit them, and say how "
        "often the lagged effects are detected and how precisely they are estimated.")
    design.add_argument("--dyads", type=_positive_int, nargs="+", required=True,
                        metavar="N", help="numbers of dyads to try, e.g. --dyads 6 10 20")
    design.add_argument("--sessions", type=_positive_int, nargs="+", required=True,
                        metavar="N", help="sessions per dyad to try, e.g. --sessions 8 16")
    design.add_argument("--segments", type=_positive_int, default=None,
                        help="segments per session (default: design_analysis's)")
    design.add_argument("--n-sim", type=_positive_int, default=None,
                        help="simulated studies per design (default: design_analysis's)")
    _add_run_arguments(design, "design_analysis",
                       "draw detection rate and precision by design into this PNG file")
    design.set_defaults(func=_cmd_design)

    report = sub.add_parser(
        "report", help="fit specs (or take saved fits) and write the HTML report",
        description="Write one self-contained HTML report (figures embedded; a PNG copy of "
        "each in figures/ beside it): data summary, lag tables with heatmaps and transition "
        "diagrams, each analysis's summary and forest plots, posterior predictive checks, "
        "sampler diagnostics, the specs and package versions. Without --spec or --result "
        "the standard specs are fitted, each with its own [fit] settings unless "
        "--draws/--tune/--chains say otherwise.")
    _add_data_arguments(report, "reported")
    report.add_argument("--spec", action="append", metavar="SPEC",
                        help=f"a spec to fit (repeatable): a TOML file or one of {names}")
    report.add_argument("--result", action="append", metavar="RESULT.nc",
                        help="a saved fit to include (repeatable; from lagnest fit)")
    report.add_argument("--table", action="append", metavar="GIVEN:TARGET[:LAG]",
                        help="a lag table to show (repeatable; default: MIA4:rupture, "
                        "rupture:resolution and rupture:rupture where the corpus has them)")
    report.add_argument("--out", required=True, metavar="REPORT.html",
                        help="the report file (figures go to figures/ beside it)")
    _add_sampler_arguments(report, "each spec's [fit]")
    report.add_argument("--seed", type=_count, default=None,
                        help="seed of the fits and checks (default: each spec's)")
    report.add_argument("--ppc-draws", type=_count, default=200,
                        help="replicates of each predictive check (0: none; default "
                        "%(default)s)")
    report.add_argument("--title", default=None,
                        help="the report's title (default 'lagnest report', in Spanish "
                        "'Informe de lagnest')")
    report.add_argument("--lang", choices=("en", "es"), default="en",
                        help="language of the report: headings, captions, column names, "
                        "summaries, figures and the analyses' questions; 'es' shows codes "
                        "by the codebook's Spanish labels (default %(default)s)")
    report.set_defaults(func=_cmd_report)


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

    args = build_parser().parse_args(argv)
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
        print(f"lagnest: {_one_line(err)}", file=sys.stderr)
        return 2
    except OSError as err:  # a path problem: readers and writers name the user's path
        if debug:
            raise
        where = f"{err.filename}: " if err.filename else ""
        print(f"lagnest: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = shown


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
