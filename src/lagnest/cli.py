"""The ``lagnest`` command: a thin layer over the library.

Each subcommand parses its arguments, calls one library function and prints or writes the
result. ``main(argv)`` returns an exit code, so tests call it in-process.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lagnest.errors import LagnestDataError

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
    from lagnest.io import read_table

    if getattr(args, "path", None):
        return read_table(
            args.path, codebook=args.codebook, sessions=args.sessions, **_read_options(args)
        )
    from lagnest.datasets import load_example

    return load_example(getattr(args, "example", "thesis") or "thesis")


def _cmd_demo(args: argparse.Namespace) -> int:
    """Run the main job on the embedded example corpus."""
    from lagnest.demo import run_demo

    run_demo(fit=not args.no_fit, seed=args.seed)
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    """Print a corpus summary."""
    print(_read(args).summary())
    return 0


def _cmd_table(args: argparse.Namespace) -> int:
    """Print a classical lag table."""
    from lagnest.lagtable import format_lag_table, lag_table

    seqs = _read(args)
    table = lag_table(seqs, given=args.given, target=args.target, lag=args.lag)
    print(format_lag_table(table))
    return 0


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
    from pathlib import Path

    from lagnest.errors import DataProblem
    from lagnest.models.spec import load_spec

    spec = load_spec(args.spec).with_fit(
        draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed
    )
    out = Path(args.out)
    if not out.parent.is_dir():
        raise LagnestDataError(DataProblem("the result's folder does not exist", file=str(out)))
    if args.data is None:
        if args.sessions or args.dyads or args.codebook:
            raise LagnestDataError(
                "--sessions, --dyads and --codebook describe the --data file: give --data, "
                "or none of them to fit the embedded example corpus"
            )
        from lagnest.datasets import load_example

        seqs = load_example()
    else:
        from lagnest.io import read_table

        options = {**spec.data, **({"codebook": args.codebook} if args.codebook else {})}
        try:
            seqs = read_table(args.data, sessions=args.sessions, dyads=args.dyads, **options)
        except OSError as err:
            raise LagnestDataError(
                DataProblem(f"cannot read: {err.strerror}", file=err.filename or args.data)
            ) from None
    result = spec.build(seqs).fit()  # the spec's [fit] settings are its defaults
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


def _add_reading_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of :func:`lagnest.read_table` for files as researchers have them."""
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
    group.add_argument("--stream", help="wide layout: name of the stream (default: code)")


def _add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """Options naming the corpus: a table file or the embedded example."""
    parser.add_argument("path", nargs="?", help="long table (CSV, TSV, Excel, Parquet)")
    parser.add_argument("--codebook", default=None, help='e.g. "3rs_2015+mia"')
    parser.add_argument("--sessions", default=None, help="session table file")
    parser.add_argument(
        "--example", default="thesis", help="embedded example when no path is given"
    )
    _add_reading_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``lagnest`` command."""
    parser = argparse.ArgumentParser(
        prog="lagnest", description="Bayesian lag-sequential analysis of nested coded sequences."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the main analysis on the embedded example corpus")
    demo.add_argument("--no-fit", action="store_true", help="skip the Bayesian fit")
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=_cmd_demo)

    summary = sub.add_parser("summary", help="summarise a corpus")
    _add_corpus_arguments(summary)
    summary.set_defaults(func=_cmd_summary)

    table = sub.add_parser("table", help="classical lag table")
    _add_corpus_arguments(table)
    table.add_argument("--given", required=True)
    table.add_argument("--target", required=True)
    table.add_argument("--lag", type=int, default=1)
    table.set_defaults(func=_cmd_table)

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
    fit.add_argument("--out", required=True, metavar="RESULT.nc",
                     help="where to write the result (NetCDF)")
    fit.add_argument("--draws", type=int, default=None, help="draws per chain kept")
    fit.add_argument("--tune", type=int, default=None, help="tuning steps per chain")
    fit.add_argument("--chains", type=int, default=None, help="number of chains")
    fit.add_argument("--seed", type=int, default=None,
                     help="random seed (default: the spec's, else drawn and recorded)")
    fit.set_defaults(func=_cmd_fit)

    sim = sub.add_parser("simulate", help="simulate a corpus from a preset")
    sim.add_argument("output", help="segment table to write (.csv, .parquet, .xlsx)")
    sim.add_argument("--preset", choices=["thesis", "turns", "null"], default="thesis")
    sim.add_argument("--seed", type=int, required=True)
    sim.add_argument("--sessions-out", default=None, help="where to write the session table")
    sim.add_argument("--truth", default=None, help="where to write the truth (JSON)")
    sim.set_defaults(func=_cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lagnest`` command; return its exit code.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on bad input (the message names file, row and column).
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LagnestDataError as err:
        print(f"lagnest: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a path problem: readers and writers name the user's path
        print(f"lagnest: {err.filename or ''}: {err.strerror or err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
