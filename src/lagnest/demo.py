"""The main job on the embedded example corpus (``lagnest demo`` and ``make demo``).

:func:`run_demo` prints the corpus summary and the classical lag tables, fits the three
standard analyses (the specs shipped with lagnest, :func:`lagnest.models.spec.standard_specs`),
checks each fit against its posterior predictive distribution and writes one HTML report.
:func:`run_analyses` is the part that fits specs and checks them; ``lagnest report`` uses
it on any corpus.
"""

from __future__ import annotations

import importlib.util
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lagnest._lang import check_lang, translate
from lagnest.classical.lagtable import homogeneity_test, lag_table
from lagnest.classical.permutation import permutation_test
from lagnest.classical.text import format_lag_table
from lagnest.datasets import load_example
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    import xarray as xr

    from lagnest.checks.ppc import PredictiveCheck
    from lagnest.data.sequences import Sequences
    from lagnest.models.result import FitResult
    from lagnest.models.spec import ModelSpec

__all__ = ["DEMO_FIT", "DEMO_TABLES", "Analyses", "run_analyses", "run_demo", "standard_tables",
           "table_tests"]

#: Sampler settings of a spec without its own in ``[fit]``: the demo fits each standard spec
#: with its own settings (4 chains x 1000 draws for the regressions and the impact model,
#: 4 x 3000 at target_accept 0.99 for the hidden Markov model), so the demo's fits are the
#: ones to report. With 4 x 500 the regressions' largest R-hat sat at 1.01-1.015, on the
#: diagnostics' threshold.
DEMO_FIT = {"draws": 1000, "tune": 1000, "chains": 4}
#: The classical lag tables of the demo (given, target, lag).
DEMO_TABLES = (("MIA4", "rupture", 1), ("rupture", "resolution", 1), ("rupture", "rupture", 1))
#: Replicates of each posterior predictive check.
PPC_DRAWS = 200


def _heading(text: str) -> str:
    """Underlined section heading."""
    return f"\n{text}\n{'=' * len(text)}"


@dataclass
class Analyses:
    """Fitted specs, their checks, and the specs that could not run.

    Attributes
    ----------
    specs : dict of str to ModelSpec
        Every spec, by name (the order of the run).
    results : dict of str to FitResult
    checks : dict of str to PredictiveCheck
    skipped : dict of str to str
        Specs not run, with the reason (a model this version of lagnest does not have).
    """

    specs: dict[str, ModelSpec] = field(default_factory=dict)
    results: dict[str, FitResult] = field(default_factory=dict)
    checks: dict[str, PredictiveCheck] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _unknown_model(path: Path) -> str | None:
    """The ``[model] type`` of a spec file when no registered model has that name."""
    from lagnest.models.registry import model_names

    try:
        kind = tomllib.loads(path.read_text(encoding="utf-8")).get("model", {}).get("type")
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        return None  # load_spec reports it properly
    return kind if isinstance(kind, str) and kind not in model_names() else None


def load_specs(names: Iterable[str | Path], skip_unknown_models: bool = False,
               ) -> tuple[dict[str, ModelSpec], dict[str, str]]:
    """Load and validate specs before any fitting.

    Parameters
    ----------
    names : iterable of str or path
        Spec files or names of standard specs.
    skip_unknown_models : bool, default False
        Set aside specs whose model this version of lagnest does not have (instead of
        raising), with the reason.

    Returns
    -------
    specs : dict of str to ModelSpec
    skipped : dict of str to str
    """
    from lagnest.models.spec import load_spec, standard_specs

    specs, skipped = {}, {}
    standard = standard_specs()
    for name in names:
        path = Path(name)
        file = path if path.is_file() else standard.get(str(name).removesuffix(".toml"))
        unknown = _unknown_model(file) if (skip_unknown_models and file) else None
        if unknown is not None:
            skipped[path.stem] = (f"its model {unknown!r} is not in this version of lagnest "
                                  "(it is being added)")
            continue
        spec = load_spec(name)
        specs[spec.name] = spec
    return specs, skipped


def run_analyses(
    seqs: Sequences,
    specs: Mapping[str, ModelSpec],
    *,
    fit: Mapping[str, Any] | None = None,
    seed: int | None = None,
    ppc_draws: int = PPC_DRAWS,
    progress: bool = False,
    echo: Callable[[str], None] = print,
) -> Analyses:
    """Fit each spec on ``seqs``, print its summary and check it.

    Parameters
    ----------
    seqs : Sequences
        The corpus.
    specs : mapping of str to ModelSpec
        The analyses, by name.
    fit : mapping, optional
        Sampler settings overriding the specs' ``[fit]`` (``draws``, ``tune``,
        ``chains``); None values are ignored.
    seed : int, optional
        Seed of every fit and check (default: each spec's, else drawn and recorded).
    ppc_draws : int, default 200
        Replicates of each posterior predictive check (0 skips the checks).
    progress : bool, default False
        Show the sampler's progress bars.
    echo : callable, default print
        Where the text goes.

    Returns
    -------
    Analyses
    """
    settings = {k: v for k, v in dict(fit or {}).items() if v is not None}
    if seed is not None:
        settings["seed"] = seed
    out = Analyses(specs=dict(specs))
    specs = {name: spec.with_fit(**settings) if settings else spec
             for name, spec in specs.items()}
    models = {name: spec.build(seqs) for name, spec in specs.items()}  # every check first
    for k, (name, spec) in enumerate(specs.items(), start=1):
        run = {**spec.fit}
        echo(_heading(f"[{k}/{len(specs)}] {name}: {spec.model}"))
        if spec.description:
            echo(" ".join(spec.description.split()))
        echo(f"fitting: {run.get('chains', 4)} chains x {run.get('draws', 1000)} draws "
             f"(tune {run.get('tune', 1000)}) ...")
        result = models[name].fit(progressbar=progress, warn=False)
        out.results[name] = result
        summary = getattr(result, "summary", None)
        echo(str(summary() if callable(summary) else result))
        if ppc_draws > 0:
            check = result.ppc(n_draws=ppc_draws, seed=int(result.config.get("seed") or 0))
            out.checks[name] = check
            echo("")
            echo(str(check))
    return out


def standard_tables(seqs: Sequences, tables: Iterable[tuple[str, str, int]] = DEMO_TABLES,
                    ) -> dict[str, xr.Dataset]:
    """The classical lag tables of the demo that ``seqs`` has codes for.

    Parameters
    ----------
    seqs : Sequences
    tables : iterable of (given, target, lag)

    Returns
    -------
    dict of str to xarray.Dataset
        Headed ``"given → target, lag k"``; tables whose codes the corpus lacks are left
        out.
    """
    out = {}
    for given, target, lag in tables:
        try:
            out[f"{given} → {target}, lag {lag}"] = lag_table(seqs, given, target, lag=lag)
        except LagnestDataError:
            continue
    return out


def table_tests(seqs: Sequences, tables: Mapping[str, xr.Dataset]
                ) -> dict[str, dict[str, xr.Dataset]]:
    """The sequential tests the report shows beside each lag table, where they apply.

    * ``stationarity``: :func:`lagnest.stationarity_test` by halves of each session (does
      the table's transitional structure change from the first to the second half?), for
      every table whose sessions have lag pairs in both halves;
    * ``dominance``: :func:`lagnest.dominance_test` (parallel) for a table of one
      categorical stream on itself, between its two most frequent codes after the first
      (e.g. withdrawal and confrontation: does one lead into the other more than the
      reverse?).

    Parameters
    ----------
    seqs : Sequences
    tables : mapping of str to xarray.Dataset
        Lag tables by heading (:func:`standard_tables`).

    Returns
    -------
    dict
        Heading to ``{"stationarity": Dataset, "dominance": Dataset}`` (only the tests
        that apply).
    """
    from lagnest.classical.dominance import dominance_test
    from lagnest.classical.stationarity import stationarity_test

    out: dict[str, dict[str, xr.Dataset]] = {}
    for heading, table in tables.items():
        given, target = table.attrs.get("given"), table.attrs.get("target")
        lag = int(table.attrs.get("lag", 1))
        tests: dict[str, xr.Dataset] = {}
        try:
            tests["stationarity"] = stationarity_test(seqs, given, target, lag=lag, by="half")
        except LagnestDataError:
            pass  # no lag pairs in one half, or an indicator set: does not apply
        codes = [str(c) for c in table["given"].values]
        if given == target and codes == [str(c) for c in table["target"].values] and \
                len(codes) >= 3:
            totals = table["counts"].sum("target").values[1:]
            first, second = (codes[1:][i] for i in np.argsort(-totals, kind="stable")[:2])
            try:
                tests["dominance"] = dominance_test(seqs, f"{given}:{first}",
                                                    f"{given}:{second}", lag=lag)
            except LagnestDataError:
                pass
        if tests:
            out[heading] = tests
    return out


def run_demo(
    fit: bool = True,
    seed: int = 1,
    n_perm: int = 2000,
    echo: Callable[[str], None] = print,
    out: str | Path = "lagnest-demo/report.html",
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    ppc_draws: int = PPC_DRAWS,
    progress: bool = False,
    lang: str = "en",
) -> Path:
    """Analyse the example corpus and write the report: tables, the standard analyses, checks.

    Parameters
    ----------
    fit : bool, default True
        Fit the standard specs (``standard_specs()``); without it the report holds the
        classical part only.
    seed : int, default 1
        Seed of the permutation test, the fits and the checks.
    n_perm : int, default 2000
        Permutations of the within-session shuffle test.
    echo : callable, default print
        Where the text goes.
    out : path-like, default "lagnest-demo/report.html"
        The report (its figures go to ``figures/`` beside it).
    draws, tune, chains : int, optional
        Sampler settings of every fit (default: each spec's own ``[fit]``, else
        :data:`DEMO_FIT`).
    ppc_draws : int, default 200
        Replicates of each posterior predictive check.
    lang : {"en", "es"}, default "en"
        Language of the report (the printed text stays English; ``lagnest report --lang``
        does the same for any corpus).
    progress : bool, default False
        Progress bars (permutations and sampling).

    Returns
    -------
    pathlib.Path
        The report written.
    """
    from lagnest.models.spec import standard_specs
    from lagnest.viz.report import write_report

    check_lang(lang)  # before any work
    start = time.perf_counter()
    seqs = load_example()
    echo(_heading("Example corpus (simulated, thesis-like)"))
    echo(seqs.summary())

    tables = standard_tables(seqs)
    echo(_heading("Does therapist non-reactivity (MIA4) at t change ruptures at t+1?"))
    echo(format_lag_table(tables["MIA4 → rupture, lag 1"]))
    bar = progress and importlib.util.find_spec("tqdm") is not None
    perm = permutation_test(seqs, given="MIA4", target="rupture", lag=1, n_perm=n_perm,
                            seed=seed, progress=bar)
    echo(f"within-session permutation test ({n_perm} shuffles, seed {seed}): "
         f"p(G2) = {perm.attrs['p_perm_G2']:.4f}")

    echo(_heading("Which resolution family follows each rupture type (lag 1)?"))
    echo(format_lag_table(tables["rupture → resolution, lag 1"]))
    hom = homogeneity_test(seqs, given="rupture", target="resolution", lag=1, by="dyad")
    echo(f"homogeneity across dyads: G2 = {hom.attrs['G2']:.2f}, df = {hom.attrs['df']}, "
         f"p = {hom.attrs['p']:.4f}")

    settings = {k: v for k, v in {"draws": draws, "tune": tune, "chains": chains}.items()
                if v is not None}
    notes = []
    analyses = Analyses()
    if fit:
        specs, skipped = load_specs(standard_specs(), skip_unknown_models=True)
        own = {name: {k: spec.fit.get(k, DEMO_FIT[k]) for k in DEMO_FIT}
               for name, spec in specs.items()}
        shortened = any(settings.get(k, run[k]) < run[k] for run in own.values()
                        for k in ("draws", "chains"))
        if settings:
            own_words = "the spec's own"
            note = (f"Demo fits: {settings.get('chains', own_words)} chains x "
                    f"{settings.get('draws', own_words)} draws (tune "
                    f"{settings.get('tune', own_words)}) per analysis")
        else:
            note = "Demo fits: each spec's own sampler settings (its [fit] section)"
        note += (", shorter than the specs' own. Read the diagnostics below; for results to "
                 "report, run `lagnest fit SPEC` or `lagnest demo` with its defaults."
                 if shortened else ".")
        echo(_heading("The analyses of the study (the standard specs)"))
        echo(f"Specs shipped with lagnest: {', '.join(standard_specs())}. Read one with "
             'lagnest.load_spec("<name>"); fit one with `lagnest fit <name> --out '
             "RESULT.nc`.")
        echo(note)
        notes.append(note)
        for name, reason in skipped.items():
            echo(f"{name}: not run: {reason}")
        analyses = run_analyses(seqs, specs, fit=settings, seed=seed, ppc_draws=ppc_draws,
                                progress=progress, echo=echo)
        analyses.skipped.update(skipped)
    else:
        notes.append("Classical part only (lagnest demo --no-fit): no model was fitted.")
    path = write_report(
        out, seqs, results=analyses.results, checks=analyses.checks, tables=tables,
        table_tests=table_tests(seqs, tables),
        specs=analyses.specs, skipped=analyses.skipped, notes=notes,
        title=translate("demo.title", lang), subtitle=translate("demo.subtitle", lang),
        lang=lang)
    echo(f"\ndemo finished in {time.perf_counter() - start:.0f} s")
    echo(f"report: {Path(path).resolve()}")
    return Path(path)
