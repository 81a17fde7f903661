"""Commands on models and results: demo, fit, ppc, sbc, design, report."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lagnest.cli._common import (
    _add_data_arguments,
    _add_run_arguments,
    _add_sampler_arguments,
    _check_out,
    _corpus,
    _count,
    _json,
    _load_result,
    _positive_int,
    _print_calibration,
    _progress,
    _save_figure,
    _split,
)
from lagnest.errors import DataProblem, LagnestDataError

_DEMO_DESCRIPTION = (
    "Run the main job on the embedded example corpus (a simulated, thesis-like corpus): "
    "print its summary and the classical lag tables with a permutation test, fit the "
    "standard analyses (the specs shipped with lagnest: mia_to_rupture, rupture_episodes, "
    "rupture_to_resolution, state_mindfulness_to_impact; each also runs as lagnest fit "
    "NAME), check each fit against its posterior predictive distribution, write one "
    "self-contained HTML report and print its path. Each fit uses its spec's own [fit] "
    "settings (4 chains x 1000 draws; the hidden Markov model 4 x 3000); the demo takes a "
    "few minutes on two cores. Give --draws 500 --tune 500 for a quicker look (the output "
    "then says the fits are shortened)."
)


def _cmd_demo(args: argparse.Namespace) -> int:
    """Run the main job on the embedded example corpus and write the report."""
    from lagnest.demo import run_demo

    _check_out(args.out)
    run_demo(fit=not args.no_fit, seed=args.seed, out=args.out, draws=args.draws,
             tune=args.tune, chains=args.chains, ppc_draws=args.ppc_draws,
             n_perm=args.permutations, progress=_progress(), lang=args.lang)
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
    from lagnest.demo import load_specs, run_analyses, standard_tables, table_tests
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
        elif lang != "en":  # every result's summary speaks lang (_summaries.py)
            print(result.summary(lang=lang, codebook=seqs.codebook))
        else:
            print(result.summary())
        if args.ppc_draws > 0:
            analyses.checks[name] = result.ppc(n_draws=args.ppc_draws, seed=args.seed or 0)
        analyses.results[name] = result
    analyses.skipped.update(skipped)
    path = write_report(out, seqs, results=analyses.results, checks=analyses.checks,
                        tables=tables, table_tests=table_tests(seqs, tables),
                        specs=analyses.specs, skipped=analyses.skipped,
                        title=args.title, lang=lang,
                        subtitle=_report_subtitle(args.data, lang))
    print(f"report: {path.resolve()}")
    return 0


def _report_subtitle(data: str | None, lang: str) -> str:
    """The report's line under the title: which corpus."""
    if lang == "es":
        return f"Corpus: {data or 'el corpus de ejemplo incluido'}"
    return f"Corpus: {data or 'the embedded example corpus'}"



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




def add_model_commands(sub: Any) -> None:
    """Parsers of ``demo``, ``fit`` and the analysis commands."""
    demo = sub.add_parser("demo", help="run the standard analyses on the example corpus and "
                          "write the report", description=_DEMO_DESCRIPTION)
    _add_demo_arguments(demo)
    demo.set_defaults(func=_cmd_demo)


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

    _add_analysis_commands(sub)
