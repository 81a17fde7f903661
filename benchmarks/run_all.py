"""Run the benchmark scripts and assemble ``benchmarks/RESULTS.md``.

Run: ``.venv/bin/python benchmarks/run_all.py [--mode quick|full] [--only a,b]
[--assemble-only]`` (``make bench``, ``make bench MODE=full``).

:data:`REGISTRY` lists every benchmark script in reading order: its title, the result
stems it writes (``results/<stem>.{json,md}``), the baseline it is measured against and its
argument lists for the two modes.

* ``--mode full`` runs every script with the arguments the committed results were produced
  with; the scripts write ``benchmarks/results/`` themselves and ``results/run_all.json``
  records when each was rerun (date, seconds, commands, exit code).
* ``--mode quick`` (the default) runs the short scripts at small sizes (minutes in total on
  2 cores) with their output sent to a temporary folder, so the committed full-size results
  are never replaced by smaller ones; RESULTS.md shows each quick run's tables in a
  collapsed block beside the full results. The long scripts (SBC, design analysis,
  recovery studies, the model benchmarks) run only in full mode or when named with
  ``--only`` (those without a quick variant then run their full arguments).

Every script runs in its own subprocess with its output in a log file; a failure is
recorded and the others continue; the exit code is 1 if any failed. RESULTS.md is then
rebuilt from ``results/<stem>.md`` (headings nested under the benchmark's section), the
figures ``results/<stem>*.png`` and the hand-written commentary ``notes/<stem>.md``.
``--assemble-only`` only rebuilds RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
#: The nonverbal three-state fit at 4 x 3000 draws, saved so that a second run can start
#: where its best-ending chain ended (a run folder: not committed). Scripts run from the
#: project root.
K3_LONG_FIT = "benchmarks/.runs/k3_draws3000.nc"
NOTES_DIR = BENCH_DIR / "notes"
OUTPUT = BENCH_DIR / "RESULTS.md"
MANIFEST = "run_all.json"
# Python files in benchmarks/ that are not benchmarks.
HELPERS = ("run_all.py", "sbc_common.py", "relabel_run.py", "oc_anchors.py", "oc_history.py",
           "timing.py", "cli_options.py")
VERSIONS = ("numpy", "pandas", "numba", "pymc", "pytensor", "arviz", "nutpie", "lagnest")
PEERS = ("behatrix", "bambi")
Args = tuple[str, ...]


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script and how to run it.

    ``full``/``quick`` hold one argument list per invocation of the script. Quick
    arguments must contain ``{out}`` (a fresh temporary folder; a stem's markdown is then
    ``{out}/<stem>.md``) so that a quick run never writes the committed results.
    ``quick=None``: no quick variant (the script has no output option or resumes runs
    kept under ``benchmarks/.runs``).
    """

    name: str
    script: str
    title: str
    stems: tuple[str, ...]
    baseline: str
    full: tuple[Args, ...] = ((),)
    quick: tuple[Args, ...] | None = None
    long: bool = False
    env: dict[str, str] = field(default_factory=dict)
    peers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for args in self.quick or ():
            if not any("{out}" in a for a in args):
                raise ValueError(f"{self.name}: quick arguments {args} do not write to {{out}}")
        if self.quick is None and not self.long:
            raise ValueError(f"{self.name}: a benchmark without a quick variant must be long")


ONE_THREAD = {"NUMBA_NUM_THREADS": "1"}
REGISTRY: tuple[Benchmark, ...] = (
    Benchmark(
        "bench_core", "bench_core.py", "Core: lag counting and the permutation test", ("core",),
        "numpy.bincount, pandas.crosstab and behatrix counting the same codes; a numpy.sum "
        "pass over the data (bandwidth ceiling); behatrix's permutation test",
        full=((),), quick=(("--quick", "--out", "{out}"),), peers=("behatrix",)),
    Benchmark(
        "bench_patterns", "bench_patterns.py",
        "Pattern tables: counts per session x lagged pattern x target", ("patterns",),
        "pandas groupby and numpy.unique + bincount on the same code matrix",
        full=((),), quick=(("--quick", "--out", "{out}"),), env=ONE_THREAD),
    Benchmark(
        "bench_timed", "bench_timed.py",
        "Timed events: time-unit tables against cutting into segments", ("timed",),
        "the segmented route (TimedEvents.to_sequences + lag_table, the readers' cutting) and "
        "pandas (events exploded into units + crosstab) on the same events",
        full=((),), quick=(("--quick", "--out", "{out}"),)),
    Benchmark(
        "bench_io", "bench_io.py", "Ingestion: reading files against pandas", ("io",),
        "pandas.read_csv of the same files; pandas.factorize of the key and code columns",
        full=(("--sizes", "1000000", "--reps", "7"),
              ("--sizes", "10000000", "--sim-dyads", "0", "--reps", "4", "--merge")),
        quick=(("--quick", "--out", "{out}"),)),
    Benchmark(
        "bench_simulate", "bench_simulate.py", "Simulation: ~10^6 segments", ("bench_simulate",),
        "none (no peer tool simulates this generative model): the engine alone against the "
        "full simulate()",
        full=((),), quick=(("--segments", "100000", "--repeat", "1", "--out", "{out}"),)),
    Benchmark(
        "bench_diagnostics", "bench_diagnostics.py",
        "Fit diagnostics: R-hat and bulk / tail ESS of every parameter cell",
        ("bench_diagnostics",),
        "ArviZ's rhat and ess (bulk, tail) on the same draws (what every fit called before)",
        full=((),), quick=(("--quick", "--out", "{out}"),)),
    Benchmark(
        "bench_models", "bench_models.py",
        "Models: aggregated transition model vs per-segment model vs Bambi", ("models",),
        "the same model with a per-segment Categorical likelihood; Bambi's categorical model "
        "(ESS per second)",
        full=(("--models", "aggregated,per_segment,bambi", "--samplers", "pymc,nutpie",
               "--sizes", "1000,10000,100000", "--skip", "per_segment:pymc:100000",
               "--timeout", "400"),),
        quick=(("--quick", "--out", "{out}/models", "--timeout", "300"),), long=True,
        peers=("bambi", "nutpie")),
    Benchmark(
        "bench_regression", "bench_regression.py",
        "LaggedRegression: rupture on the eight MIA indicators, 10^3 to 10^6 segments",
        ("regression",),
        "the same model per segment (per_segment=True); Bambi's categorical model on the same "
        "design columns (ESS per second)",
        full=(("--timeout", "10800", "--no-merge"),),
        quick=(("--quick", "--out", "{out}/regression", "--timeout", "600"),), long=True,
        peers=("bambi",)),
    Benchmark(
        "transition_deviations", "transition_deviations.py",
        "TransitionModel: shared + row deviations vs row-specific only",
        ("transition_deviations",),
        "the row-specific deviations (deviations='row') on the same data; the known "
        "population contrast of the simulated corpus",
        full=((),), quick=(("--draws", "300", "--chains", "2", "--out", "{out}"),)),
    Benchmark(
        "recovery", "recovery.py",
        "Recovery: TransitionModel population transition probabilities", ("recovery",),
        "the nominal 90% coverage (truth drawn from the prior)",
        full=(("--n-fits", "50", "--draws", "400", "--tune", "400"),),
        quick=(("--n-fits", "3", "--draws", "300", "--tune", "300", "--out",
                "{out}/recovery"),)),
    Benchmark(
        "recovery_regression", "recovery_regression.py", "Recovery: LaggedRegression",
        ("recovery_regression",),
        "the nominal 90% coverage (own hook: truth from the prior; simulator and null "
        "corpora: their known effects)",
        full=(("--study", "derivation,own,simulator,null", "--n-fits", "50"),),
        quick=(("--study", "own", "--n-fits", "2", "--draws", "300", "--tune", "300",
                "--out", "{out}/recovery_regression"),), long=True, env=ONE_THREAD),
    Benchmark(
        "recovery_impact", "recovery_impact.py", "Recovery: SessionImpactModel slopes",
        ("recovery_impact", "recovery_impact_prior"),
        "the nominal 90% coverage (a fixed truth; truth drawn from the prior)",
        full=(("--n-fits", "50"), ("--n-fits", "50", "--truth", "prior")),
        quick=(("--n-fits", "2", "--draws", "300", "--tune", "300", "--out",
                "{out}/recovery_impact"),
               ("--n-fits", "2", "--draws", "300", "--tune", "300", "--truth", "prior",
                "--out", "{out}/recovery_impact_prior")), long=True, env=ONE_THREAD),
    Benchmark(
        "sbc_transition", "sbc_transition.py", "SBC of TransitionModel (thesis-like design)",
        ("sbc_transition",),
        "uniform ranks and nominal interval coverage; 1 against 2 Dask workers (speed-up)",
        full=(("--n", "200", "--jobs", "1", "--n-speedup", "0", "--draws", "1000"),), long=True,
        env=ONE_THREAD),
    Benchmark(
        "sbc_throughput", "sbc_throughput.py",
        "Throughput: 100 SBC fits of TransitionModel, 1 vs 2 Dask workers",
        ("sbc_throughput",),
        "the same fits on the unfrozen graph (recompiled by every pm.sample call); 1 Dask "
        "worker against 2",
        full=((),), quick=(("--quick", "--out", "{out}"),), long=True),
    Benchmark(
        "sbc_regression", "sbc_regression.py",
        "SBC of LaggedRegression (mia_to_rupture, thesis-like design)", ("sbc_regression",),
        "uniform ranks and nominal interval coverage",
        full=(("--n", "300"),), long=True, env=ONE_THREAD),
    Benchmark(
        "sbc_impact", "sbc_impact.py",
        "SBC of SessionImpactModel (state_mindfulness_to_impact, thesis-like design)",
        ("sbc_impact",), "uniform ranks and nominal interval coverage",
        full=(("--n", "200"),), long=True, env=ONE_THREAD),
    Benchmark(
        "sbc_hmm", "sbc_hmm.py",
        "SBC of HiddenMarkovModel (rupture episodes, MIA4 on the transitions)", ("sbc_hmm",),
        "uniform ranks and nominal interval coverage",
        full=(("--n", "100", "--jobs", "1"),), long=True, env=ONE_THREAD),
    Benchmark(
        "recovery_hmm", "recovery_hmm.py",
        "Recovery: HiddenMarkovModel, transition effect of MIA4 (10, 30 and 100 segments "
        "per session)", ("recovery_hmm", "recovery_hmm_30seg", "recovery_hmm_100seg_draws500"),
        "the nominal 90% coverage at a fixed truth",
        full=(("--n-fits", "50", "--segments", "10"), ("--n-fits", "50", "--segments", "30"),
              ("--n-fits", "75", "--segments", "100", "--draws", "500")),
        long=True, env=ONE_THREAD),
    Benchmark(
        "hmm_state_selection", "hmm_state_selection.py",
        "Choosing the number of hidden states on simulated studies", ("hmm_state_selection",),
        "the true number of states (2 or 3); AIC and BIC on the same fits",
        full=(("--studies", "20"),), long=True, env=ONE_THREAD),
    Benchmark(
        "design_analysis", "design_analysis.py",
        "Design analysis: MIA4 (t-1) -> confrontation", ("design_analysis",),
        "the interval width of the example corpus (target: within 20%); 80% detection",
        full=(("--n-sim", "100", "--dyads", "6,10,20", "--sessions", "8"),), long=True,
        env=ONE_THREAD),
    Benchmark(
        "operating_characteristics", "operating_characteristics.py",
        "Operating characteristics: LaggedRegression's candidate defaults and two anchors",
        ("operating_characteristics", "operating_characteristics_default",
         "operating_characteristics_truth_check", "operating_characteristics_cells"),
        "statsmodels MNLogit (dyad fixed effects; dyad-clustered SEs) and Bambi's default "
        "priors on the per-segment model, fitted to the same simulated studies",
        full=(("--report",), ("--truth-check", "thesis_homogeneous"), ("--cells",)),
        long=True,
        peers=("bambi",)),
    Benchmark(
        "brms_regression", "brms_regression.py", "LaggedRegression against brms (Stan)",
        ("brms_regression",),
        "brms/rstan fit of the same model and priors (Debian's r-cran-brms, not in CI): "
        "posterior means within 0.1 posterior SD",
        full=(("--all",),), long=True),
    Benchmark(
        "bench_hmm", "bench_hmm.py",
        "HMM likelihood kernel: value + gradient against the forward pass and PyTensor scan",
        ("hmm",), "the forward pass alone; the same likelihood as a pytensor.scan graph and "
        "its automatic gradient", full=((),), quick=(("--quick", "--out", "{out}"),)),
    Benchmark(
        "mhmmbayes_nonverbal", "mhmmbayes_nonverbal.py",
        "HiddenMarkovModel on mHMMbayes's nonverbal corpus against mHMMbayes's own fits",
        ("mhmmbayes_nonverbal_k2", "mhmmbayes_nonverbal_k2_draws2000", "mhmmbayes_nonverbal_k3",
         "mhmmbayes_nonverbal_k3_draws2000", "mhmmbayes_nonverbal_k3_draws2000_seed1",
         "mhmmbayes_nonverbal_k3_draws3000", "mhmmbayes_nonverbal_k3_from_k3_draws3000",
         "mhmmbayes_nonverbal_k4",
         "mhmmbayes_nonverbal_k4_mhmmbayes_centered",
         "mhmmbayes_nonverbal_k4_draws2000_mhmmbayes_centered"),
        "the group-level summaries mHMMbayes prints for the fits its tutorial ships "
        "(extracted with R from a snapshot of its repository, not in CI)",
        full=(("--states", "2"), ("--states", "2", "--draws", "2000"), ("--states", "3"),
              ("--states", "3", "--draws", "2000"),
              ("--states", "3", "--draws", "2000", "--seed", "1"),
              ("--states", "3", "--draws", "3000", "--save", K3_LONG_FIT),
              ("--states", "3", "--start-from", K3_LONG_FIT),
              ("--states", "4"),
              ("--states", "4", "--start", "mhmmbayes", "--parameterization", "centered"),
              ("--states", "4", "--draws", "2000", "--start", "mhmmbayes",
               "--parameterization", "centered")),
        long=True),
    Benchmark(
        "fit_margins", "fit_margins.py",
        "Margins of the fits the test suite asserts clean (five seeds each)", ("fit_margins",),
        "the diagnostics' thresholds (R-hat 1.01, ESS 400): margin R-hat <= 1.005, ESS >= 600",
        full=((),), long=True),
    Benchmark(
        "bench_mp_ctx", "bench_mp_ctx.py",
        "Start method of parallel chains: forkserver against fork", ("mp_ctx",),
        "the same fits with the workers started by fork",
        full=(("--rounds", "4", "--draws", "200"),),
        quick=(("--rounds", "1", "--draws", "100", "--out", "{out}"),)),
)


@dataclass
class Outcome:
    """What this run did with one benchmark."""

    action: str  # "full", "quick", or "skipped"
    reason: str = ""
    seconds: float = 0.0
    exit_code: int = 0
    commands: list[str] = field(default_factory=list)
    log: Path | None = None
    out: Path | None = None  # the quick run's output folder
    tail: list[str] = field(default_factory=list)  # last lines of a failed run's log


# ---------------------------------------------------------------------------- running
def run_one(bench: Benchmark, mode: str, bench_dir: Path, work: Path) -> Outcome:
    """Run every invocation of ``bench`` in a subprocess; stop at the first failure."""
    quick = mode == "quick" and bench.quick is not None
    invocations = bench.quick if quick else bench.full
    out = work / bench.name
    out.mkdir(parents=True, exist_ok=True)
    log = work / f"{bench.name}.log"
    env = os.environ | bench.env | {"PYTHONUNBUFFERED": "1"}
    outcome = Outcome("quick" if quick else "full", log=log, out=out if quick else None)
    start = time.perf_counter()
    with log.open("w") as stream:
        for args in invocations or ():
            argv = [a.replace("{out}", str(out)) for a in args]
            # RESULTS.md shows the temporary folder as <tmp>; the log has the real path
            outcome.commands.append(command(bench, [a.replace("{out}", f"<tmp>/{bench.name}")
                                                    for a in args]))
            stream.write(f"$ {command(bench, argv)}\n")
            stream.flush()
            proc = subprocess.run([sys.executable, str(bench_dir / bench.script), *argv],
                                  cwd=bench_dir.parent, env=env, stdout=stream,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  check=False)
            if proc.returncode != 0:
                outcome.exit_code = proc.returncode
                break
    outcome.seconds = time.perf_counter() - start
    if outcome.exit_code:
        outcome.tail = log.read_text(errors="replace").splitlines()[-15:]
    return outcome


def select(registry: Sequence[Benchmark], only: str | None) -> set[str]:
    """Names of the benchmarks ``--only`` asks for (by name, script or result stem)."""
    if not only:
        return {b.name for b in registry}
    wanted = {w.strip().removesuffix(".py") for w in only.split(",") if w.strip()}
    chosen = {b.name for b in registry
              if wanted & {b.name, b.script.removesuffix(".py"), *b.stems}}
    known = {k for b in registry for k in (b.name, b.script.removesuffix(".py"), *b.stems)}
    if wanted - known:
        raise SystemExit(f"run_all: unknown benchmarks {sorted(wanted - known)}; "
                         f"choose from {[b.name for b in registry]}")
    return chosen


def run_all(registry: Sequence[Benchmark], mode: str, only: str | None, bench_dir: Path,
            work: Path, results_dir: Path) -> dict[str, Outcome]:
    """Run the selected benchmarks in registry order; record full runs in the manifest."""
    chosen = select(registry, only)
    outcomes: dict[str, Outcome] = {}
    todo = [b for b in registry if b.name in chosen and (mode == "full" or only or not b.long)]
    for b in registry:
        if b.name not in chosen:
            outcomes[b.name] = Outcome("skipped", "not selected by --only")
        elif b not in todo:
            outcomes[b.name] = Outcome("skipped", "not rerun (full mode only)")
    for i, bench in enumerate(todo, 1):
        missing = [p for p in bench.peers if not installed(p)]
        note = f" ({', '.join(missing)} not installed: skipped by the script)" if missing else ""
        how = "quick" if mode == "quick" and bench.quick is not None else "full"
        if mode == "quick" and how == "full":
            note += " (no quick variant: full arguments, writes results/)"
        print(f"[{i}/{len(todo)}] {bench.name}: {how}{note} ...", flush=True)
        outcome = run_one(bench, mode, bench_dir, work)
        outcomes[bench.name] = outcome
        status = "ok" if outcome.exit_code == 0 else f"FAILED (exit {outcome.exit_code})"
        print(f"    {status} in {outcome.seconds:.0f} s; log {outcome.log}", flush=True)
        if outcome.tail:
            print("\n".join("    | " + line for line in outcome.tail), flush=True)
        if outcome.action == "full":
            record(results_dir, bench, outcome)
    return outcomes


def record(results_dir: Path, bench: Benchmark, outcome: Outcome) -> None:
    """Add a full run to ``results/run_all.json`` (when each benchmark was last rerun)."""
    path = results_dir / MANIFEST
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc[bench.name] = {"date": now().isoformat(timespec="seconds"),
                       "seconds": round(outcome.seconds, 1), "exit_code": outcome.exit_code,
                       "commands": outcome.commands, "stems": list(bench.stems)}
    results_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")


# ------------------------------------------------------------------ machine and versions
def now() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.UTC)


def installed(package: str) -> bool:
    """Whether ``package`` is installed (by its distribution metadata)."""
    try:
        importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def git(*args: str, cwd: Path) -> str:
    """Output of a git command, or "" when git or the repository is not there."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              check=False, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def machine(bench_dir: Path) -> dict[str, object]:
    """Platform, CPU, RAM, load average and package versions of this run."""
    cpu = platform.processor() or platform.machine()
    try:
        names = [line.split(":", 1)[1].strip() for line in
                 Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (AttributeError, ValueError, OSError):
        ram = None
    versions = {"python": platform.python_version()}
    for name in (*VERSIONS, *PEERS):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    commit = git("rev-parse", "--short", "HEAD", cwd=bench_dir)
    if commit and git("status", "--porcelain", "--untracked-files=no", cwd=bench_dir):
        commit += " with uncommitted changes"
    if commit:
        versions["lagnest"] += f" (git {commit})"
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(), "ram_gib": ram,
            "load_start": os.getloadavg(), "versions": versions}


# ------------------------------------------------------------------------- assembling
HEADING = re.compile(r"^(#{1,6})(\s|$)")
FENCE = re.compile(r"^\s*(```|~~~)")


def nest(text: str, top: int) -> str:
    """Shift the markdown headings of ``text`` so that the shallowest is at level ``top``.

    Headings inside fenced code blocks are left alone; levels stop at 6.
    """
    lines = text.splitlines()
    heads, fenced = [], False
    for i, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := HEADING.match(line)):
            heads.append((i, len(m.group(1))))
    if not heads:
        return text.strip()
    shift = max(0, top - min(level for _, level in heads))
    for i, level in heads:
        lines[i] = "#" * min(6, level + shift) + lines[i][level:]
    return "\n".join(lines).strip()


def anchor(title: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def results_date(results_dir: Path, bench: Benchmark) -> str:
    """When the committed results of ``bench`` were produced, and how that is known."""
    manifest = results_dir / MANIFEST
    if manifest.exists():
        entry = json.loads(manifest.read_text()).get(bench.name)
        if entry:
            return f"the full run of {entry['date'][:16].replace('T', ' ')} UTC (run_all.json)"
    stamps: list[str] = []
    for stem in bench.stems:
        path = results_dir / f"{stem}.json"
        if path.exists():
            stamps += re.findall(r"20\d\d-\d\d-\d\d[T ]\d\d:\d\d", path.read_text())
    if stamps:
        return f"the run of {max(stamps).replace('T', ' ')} (date in the JSON)"
    paths = [str(results_dir / f"{s}.json") for s in bench.stems]
    committed = git("log", "-1", "--format=%cs", "--", *paths, cwd=results_dir)
    if committed:
        return f"a run committed on {committed}"
    times = [p.stat().st_mtime for s in bench.stems
             if (p := results_dir / f"{s}.md").exists()]
    if times:
        return f"a file dated {dt.datetime.fromtimestamp(max(times), dt.UTC):%Y-%m-%d}"
    return "nowhere (no results yet)"


def status(bench: Benchmark, outcome: Outcome, when: str) -> tuple[str, str]:
    """(short status for the contents table, sentence for the section)."""
    if outcome.action == "skipped":
        return outcome.reason, f"{outcome.reason}; results from {when}."
    result = "ok" if outcome.exit_code == 0 else f"FAILED (exit {outcome.exit_code})"
    commands = "; ".join(f"`{c}`" for c in outcome.commands)
    if outcome.action == "quick":
        return (f"quick check {result} ({outcome.seconds:.0f} s)",
                f"quick check rerun now at small sizes, {result} in {outcome.seconds:.0f} s "
                f"({commands}; its output in the collapsed block at the end of this section); "
                f"the results shown are the full-size ones, from {when}.")
    if outcome.exit_code:
        return (f"rerun, {result}",
                f"rerun now, {result} after {outcome.seconds:.0f} s ({commands}); the results "
                "below may be partial or from before this run.")
    return (f"rerun now ({outcome.seconds:.0f} s)",
            f"rerun now in full, {result} in {outcome.seconds:.0f} s ({commands}).")


def command(bench: Benchmark, args: Sequence[str]) -> str:
    """The command line of one invocation, as a reader would type it."""
    env = [f"{k}={v}" for k, v in bench.env.items()]
    return " ".join([*env, "python", f"benchmarks/{bench.script}", *args])


def section(bench: Benchmark, outcome: Outcome, results_dir: Path, notes_dir: Path,
            output: Path, when: str, stems: set[str]) -> list[str]:
    """The markdown section of one benchmark (``stems``: every registered result stem)."""
    rel = Path(os.path.relpath(results_dir, output.parent)).as_posix()
    lines = [f"## {bench.title}", "",
             f"**Measured against:** {bench.baseline}.", "",
             f"**This run:** {status(bench, outcome, when)[1]}", "",
             f"Script `benchmarks/{bench.script}`; full-mode command"
             f"{'s' if len(bench.full) > 1 else ''}: "
             + "; ".join(f"`{command(bench, a)}`" for a in bench.full) + ".", ""]
    for stem in bench.stems:
        md = results_dir / f"{stem}.md"
        if md.exists():
            lines += [nest(md.read_text(), 3), ""]
        else:
            lines += [f"No results yet (`{rel}/{stem}.md` is missing).", ""]
        # figures of this stem, not of a longer registered stem (recovery_impact_prior)
        for png in sorted(results_dir.glob(f"{stem}*.png")):
            if png.stem == stem or (png.stem.startswith(stem + "_") and not any(
                    png.stem.startswith(s) and len(s) > len(stem) for s in stems)):
                lines += [f"![{png.stem}]({rel}/{png.name})", ""]
    for stem in bench.stems:
        note = notes_dir / f"{stem}.md"
        if note.exists():
            lines += ["### Commentary" + (f" ({stem})" if len(bench.stems) > 1 else ""), "",
                      nest(note.read_text(), 4), ""]
    if outcome.tail:
        lines += [f"**This run failed:** the end of its log ({outcome.log}):", "", "```",
                  *outcome.tail, "```", ""]
    if outcome.action == "quick" and outcome.out is not None:
        quick = [nest(p.read_text(), 4) for s in bench.stems
                 if (p := outcome.out / f"{s}.md").exists()]
        lines += ["<details><summary>Quick check of this run (small sizes: not comparable "
                  "with the results above)</summary>", "",
                  *(quick or ["The quick run wrote no markdown."]), "", "</details>", ""]
    return lines


def assemble(registry: Sequence[Benchmark], outcomes: dict[str, Outcome], info: dict,
             mode: str, started: dt.datetime, results_dir: Path, notes_dir: Path,
             output: Path) -> str:
    """The text of RESULTS.md."""
    v = info["versions"]
    load_end = os.getloadavg()
    ram = f"{info['ram_gib']:.1f} GiB RAM" if info["ram_gib"] else "RAM unknown"
    ran = [o for o in outcomes.values() if o.action != "skipped"]
    failed = [n for n, o in outcomes.items() if o.exit_code]
    what = (f"`--mode {mode}`: {len(ran)} benchmark(s) rerun, "
            f"{len(failed)} failed{' (' + ', '.join(failed) + ')' if failed else ''}"
            if ran else "`--assemble-only`: no benchmark rerun")
    lines = [
        "# Benchmark results", "",
        "<!-- Generated by benchmarks/run_all.py: edit benchmarks/notes/*.md instead. -->",
        "Generated by `benchmarks/run_all.py` (`make bench`, `make bench MODE=full`, "
        "`run_all.py --assemble-only`): do not edit by hand. The tables come from "
        "`results/<stem>.md` (written by the scripts, raw numbers in `results/<stem>.json`), "
        "the commentary from `notes/<stem>.md`.", "",
        "## This run", "",
        f"- Date: {started:%Y-%m-%d %H:%M} - {now():%H:%M} UTC; {what}.",
        f"- Machine: {info['platform']}, {info['cpu']}, {info['cpus']} CPUs, {ram}; load "
        f"average (1/5/15 min) at start {fmt_load(info['load_start'])}, at end "
        f"{fmt_load(load_end)} (the cores may be shared with other jobs).",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "- Each result states its own settings and, where its script records them, its "
        "machine and load; the machine and versions above are this run's, not necessarily "
        "those of older results.", "",
        "## Contents", "",
        "| benchmark | measured against | this run | results shown |",
        "|---|---|---|---|",
    ]
    body: list[str] = []
    stems = {s for b in registry for s in b.stems}
    for bench in registry:
        outcome = outcomes[bench.name]
        when = results_date(results_dir, bench)
        short = status(bench, outcome, when)[0]
        shown = "this run" if outcome.action == "full" and not outcome.exit_code else when
        lines.append(f"| [{bench.title}](#{anchor(bench.title)}) | {bench.baseline} | "
                     f"{short} | {shown} |")
        body += section(bench, outcome, results_dir, notes_dir, output, when, stems)
    text = "\n".join([*lines, "", *body]).rstrip() + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def fmt_load(load: Sequence[float]) -> str:
    """``1.2/0.9/0.8``."""
    return "/".join(f"{x:.2f}" for x in load)


# ---------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None, registry: Sequence[Benchmark] = REGISTRY,
         bench_dir: Path = BENCH_DIR) -> int:
    """Run the benchmarks (``registry`` and ``bench_dir`` are for tests) and write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--only", default=None,
                        help="comma-separated benchmark names or result stems")
    parser.add_argument("--assemble-only", action="store_true",
                        help="only rebuild RESULTS.md from results/*.md and notes/*.md")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR,
                        help="folder of the results read into RESULTS.md (the scripts write "
                        "benchmarks/results/)")
    parser.add_argument("--notes-dir", type=Path, default=NOTES_DIR)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="folder of the logs and quick outputs (default: a new temporary "
                        "folder, kept)")
    args = parser.parse_args(argv)
    started = now()
    info = machine(bench_dir)
    outcomes = {b.name: Outcome("skipped", "not rerun (--assemble-only)") for b in registry}
    if not args.assemble_only:
        work = args.work_dir or Path(tempfile.mkdtemp(prefix="lagnest-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        print(f"run_all: mode {args.mode}; logs and quick outputs in {work}", flush=True)
        outcomes = run_all(registry, args.mode, args.only, bench_dir, work, args.results_dir)
    text = assemble(registry, outcomes, info, args.mode, started, args.results_dir,
                    args.notes_dir, args.output)
    args.output.write_text(text)
    failed = [n for n, o in outcomes.items() if o.exit_code]
    print(f"run_all: wrote {args.output}"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
