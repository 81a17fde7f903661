"""Commands on a corpus: the data and the classical layer from the command line.

``summary``, ``table``, ``convert``, ``simulate``, ``timed``, ``dominance``,
``stationarity`` and ``agreement``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from lagnest.cli._common import (
    _add_corpus_arguments,
    _add_output_arguments,
    _add_reading_arguments,
    _add_table_arguments,
    _coloured,
    _count,
    _dataset_json,
    _json,
    _positive_int,
    _progress,
    _read,
    _read_file,
    _read_options,
    _summary_json,
    _with_codes,
)
from lagnest.errors import DataProblem, LagnestDataError


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
    from lagnest._summaries import format_table

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
    from lagnest._summaries import wrap

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
    from lagnest._summaries import wrap
    from lagnest.classical.dominance import DOMINANCE_CASES

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

    from lagnest._summaries import wrap

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


#: Options of ``lagnest agreement`` for any number of codings (time-unit agreement with a
#: tolerance: Cohen's kappa of two, Light's mean pairwise kappa of three or more), and for
#: three or more only.
_TOLERANCE_OPTIONS = ("tolerance", "reference")
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

    from lagnest._summaries import wrap

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
    from lagnest._summaries import wrap
    from lagnest.classical.multirater import coder_agreement

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
                                  {**options, **_given_options(args, _TOLERANCE_OPTIONS)})
        if args.json:
            print(_json({"coders": args.codings,
                         "streams": {k: _dataset_json(v) for k, v in results.items()}}))
        else:
            print(_pair_text(args.codings, results))
        return 0
    tolerance = _given_options(args, _TOLERANCE_OPTIONS)
    ds = coder_agreement(codings, args.compare,
                         **options, **tolerance, **_given_options(args, _SEVERAL_OPTIONS))
    if args.json:
        print(_json(_dataset_json(ds)))
        return 0
    frame = ds.to_dataframe().drop(columns="parent")
    frame = frame[["kind", *(c for c in frame.columns if c != "kind")]]
    shown = frame.dropna(axis=1, how="all")
    a = ds.attrs
    head = (f"Agreement of {a['n_coders']} codings ({', '.join(a['coders'])}): "
            f"{a['n_segments']} segments in {a['n_sessions']} sessions; uncoded: "
            f"{a['uncoded']}")
    if a["tolerance"]:
        head += f"; tolerance {a['tolerance']} segments (reference {a['reference']})"
    print(wrap(head))
    print(_frame_text(shown))
    left = [c for c in frame.columns if c not in shown.columns]
    if left:
        print(wrap(f"columns without a value (left out): {', '.join(left)}"))
    if "tolerance" in tolerance:
        print(_pairs_text(codings, args.compare, {**options, **tolerance}))
    return 0


def _pairs_text(codings: dict[str, Any], streams: Sequence[str] | None,
                options: dict[str, Any]) -> str:
    """Each pair's Cohen's kappa with the tolerance: one row per (stream, pair of codings)."""
    from lagnest._summaries import wrap
    from lagnest.classical.multirater import pairwise_agreement

    names = list(codings)
    ratings = set(next(iter(codings.values())).rating_names)
    compare = None if streams is None else [s for s in streams if s not in ratings]
    if compare == []:
        return ""
    pairs = pairwise_agreement(codings, compare, **options)
    number = {name: k + 1 for k, name in enumerate(names)}
    pairs = pairs.assign_coords(pair=[f"{number[i]}-{number[j]}" for i, j in
                                      zip(pairs.coder_a.values, pairs.coder_b.values,
                                          strict=True)])
    shown = ["kappa", "se", "p_o", "p_e", "n"]
    table = pairs[shown].to_dataframe()[shown]  # without the coords kind, parent, coder_a/b
    return "\n".join([
        "",
        wrap("Cohen's kappa of each pair of codings (numbered in the order given), with the "
             "tolerance; pairwise_kappa above is their mean (Light's kappa):"),
        _frame_text(table),
    ])


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
        "--per-code (lagnest.agreement). Three or more: Fleiss' kappa, Light's mean pairwise "
        "kappa and Krippendorff's alpha per stream, code, indicator and rating "
        "(lagnest.coder_agreement). --tolerance T: time-unit kappa with a tolerance of T "
        "segments for every pair of coders. See "
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
                       help="time-unit kappa with a tolerance of T segments (three or more "
                       "codings: for each pair, averaged as pairwise_kappa, and each pair's "
                       "kappa printed)")
    agree.add_argument("--reference", choices=["a", "b", "both"], default=None,
                       help="with --tolerance: whose codes are looked for in the other's "
                       "(default a, the earlier file of each pair)")
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




def add_corpus_commands(sub: Any) -> None:
    """Parsers of the commands on a corpus (``summary`` ... ``agreement``)."""
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

    sim = sub.add_parser("simulate", help="simulate a corpus from a preset")
    sim.add_argument("output", help="segment table to write (.csv, .parquet, .xlsx)")
    sim.add_argument("--preset", choices=["thesis", "turns", "null"], default="thesis")
    sim.add_argument("--seed", type=_count, required=True)
    sim.add_argument("--sessions-out", default=None, help="where to write the session table")
    sim.add_argument("--truth", default=None, help="where to write the truth (JSON)")
    sim.set_defaults(func=_cmd_simulate)
