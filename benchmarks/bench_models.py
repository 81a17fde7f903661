"""Benchmark: aggregated TransitionModel vs per-segment model vs Bambi's categorical model.

Wall time (compile/setup and sampling separately) and ESS per second of the population
logits, on 10^3, 10^4 and 10^5 segments (6 dyads x 10 sessions; longer sessions for more
segments, so the aggregated model keeps the same cells), for each available sampler.

Every fit also records the sampler's work: gradient evaluations (the ``n_steps``
sample stat, one gradient per leapfrog step, summed over chains and over tuning *and*
draws: the benchmark asks ``pm.sample`` to keep the warmup stats, since the sampler's
``sampling_time`` covers tuning too), mean tree depth of the draws (``tree_depth`` for
PyMC, ``depth`` for nutpie) and microseconds per gradient evaluation (sampling wall
seconds / gradient evaluations; chains run in parallel, so this is wall time, not the
per-core cost). For the PyMC sampler the per-chain cost is also recorded from the
``perf_counter_diff`` stat (sum over steps / gradient evaluations).

Each fit runs in its own child process with a time budget (``--timeout``); a fit over
budget is killed (its process group) and recorded as such. Results are merged into the
existing ``models.json``: rows of the same (model, sampler, segments) are replaced, the
others are kept with the run they came from.

Run: ``.venv/bin/python benchmarks/bench_models.py`` (``--quick`` for a smoke run);
a subset: ``--models aggregated,per_segment --samplers pymc,nutpie --sizes 1000,10000``.
Writes ``benchmarks/results/models.json`` and ``benchmarks/results/models.md``.

Bambi baseline: ``y ~ x + (x|dyad) + (x|dyad:session)`` with ``family="categorical"``,
the closest Bambi formula to the transition model: reference-category logits (not zero
sum), independent group effects per term with their own scales, Bambi's default priors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lagnest import Sequences
from lagnest.models import TransitionModel
from lagnest.models._fit import available_samplers, package_versions

RESULTS = Path(__file__).parent / "results"
CODES = ("a", "b", "c")


def simulate(n_segments: int, seed: int = 0, n_dyads: int = 6, sessions_per_dyad: int = 10):
    """Markov chains per session from the transition model's generative process."""
    rng = np.random.default_rng(seed)
    k = len(CODES)
    alpha = np.array([[1.0, -0.2, -0.8], [0.3, 0.5, -0.8], [-0.5, 0.9, -0.4]])
    n_sessions = n_dyads * sessions_per_dyad
    length = max(n_segments // n_sessions, 2)
    sessions, dyads = [], []
    for d in range(n_dyads):
        u = rng.normal(0, 0.4, size=(k, k))
        for _ in range(sessions_per_dyad):
            logits = alpha + u + rng.normal(0, 0.3, size=(k, k))
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            x = np.empty(length, dtype=int)
            x[0] = rng.integers(k)
            u01 = rng.random(length)
            cum = p.cumsum(1)
            for t in range(1, length):
                x[t] = min(int(np.searchsorted(cum[x[t - 1]], u01[t])), k - 1)
            sessions.append([CODES[i] for i in x])
            dyads.append(f"d{d + 1}")
    return Sequences.from_sequences({"code": sessions}, dyads=dyads, codes={"code": list(CODES)})


def pair_frame(seqs: Sequences) -> pd.DataFrame:
    """One row per lag-1 pair: y (target), x (given), dyad, session."""
    codes, _ = seqs.categorical("code")
    off = seqs.encoded.session_offsets
    rows = []
    for s in range(seqs.n_sessions):
        seg = codes[off[s] : off[s + 1]]
        dyad = seqs.dyad_labels[seqs.encoded.session_dyad[s]]
        rows.append(pd.DataFrame({"x": seg[:-1], "y": seg[1:], "dyad": dyad,
                                  "session": seqs.session_labels[s]}))
    df = pd.concat(rows, ignore_index=True)
    df["x"] = pd.Categorical([CODES[i] for i in df["x"]], categories=CODES)
    df["y"] = pd.Categorical([CODES[i] for i in df["y"]], categories=CODES)
    df["dyad"] = pd.Categorical(df["dyad"])
    df["session"] = pd.Categorical(df["session"])
    return df


MODELS = ("aggregated", "per_segment", "bambi")
KEY = ("model", "sampler", "segments")


def ess_min(tree, names) -> float:
    import arviz as az

    post = tree["posterior"].to_dataset()[names]
    ess = az.ess(post, method="bulk")
    values = np.concatenate([np.asarray(ess[n]).ravel() for n in names])
    return float(np.nanmin(values[np.isfinite(values)]))


@contextlib.contextmanager
def keep_warmup():
    """Make ``pm.sample`` keep the warmup groups (to count the tuning gradients).

    ``lagnest`` calls ``pm.sample`` without ``discard_tuned_samples``; PyMC records the
    tuning steps anyway and only drops them afterwards, so this changes what is returned,
    not the sampling. Only the ``posterior``/``sample_stats`` groups feed the diagnostics.
    """
    import pymc as pm

    original = pm.sample

    def sample(*args, **kwargs):
        kwargs["discard_tuned_samples"] = False
        return original(*args, **kwargs)

    pm.sample = sample
    try:
        yield
    finally:
        pm.sample = original


def _stats(tree, group):
    return tree[group].to_dataset() if group in tree.children else None


def sampler_work(tree, sampling_seconds: float) -> dict:
    """Gradient evaluations, mean tree depth and microseconds per gradient of one fit.

    With PyMC's sampler also ``chain_seconds`` (wall) and ``chain_seconds_cpu`` (CPU time
    of the chain's process): time inside the NUTS steps, tuning and draws, mean per chain.
    """
    draws = _stats(tree, "sample_stats")
    warm = _stats(tree, "warmup_sample_stats")
    out: dict = {}
    if draws is None or "n_steps" not in draws:
        return {"grad_note": "no n_steps sample stat"}
    out["grad_evals_draws"] = int(np.asarray(draws["n_steps"].values, dtype=float).sum())
    depth = next((n for n in ("tree_depth", "depth") if n in draws), None)
    if depth is not None:
        out["tree_depth_mean"] = float(np.asarray(draws[depth].values, dtype=float).mean())
    if warm is not None and "n_steps" in warm:
        out["grad_evals_tune"] = int(np.asarray(warm["n_steps"].values, dtype=float).sum())
        out["grad_evals"] = out["grad_evals_draws"] + out["grad_evals_tune"]
        out["grad_basis"] = "tune+draws"
    else:
        out["grad_evals"] = out["grad_evals_draws"]
        out["grad_basis"] = "draws only (sampling time includes tuning: us/grad overstated)"
    out["us_per_grad"] = 1e6 * sampling_seconds / out["grad_evals"]
    # PyMC only: time each chain spent in its steps (per-core cost, no parallel overlap),
    # wall (perf_counter) and CPU of the chain's process (process_time: less sensitive to
    # other jobs on a shared machine)
    for stat, key in (("perf_counter_diff", ""), ("process_time_diff", "_cpu")):
        if stat not in draws:
            continue
        secs = float(draws[stat].values.sum())
        if warm is not None and stat in warm:
            secs += float(warm[stat].values.sum())
        out[f"us_per_grad_chain{key}"] = 1e6 * secs / out["grad_evals"]
        out[f"chain_seconds{key}"] = secs / draws.sizes["chain"]
    return out


def run_lagnest(seqs, per_segment, sampler, settings):
    model = TransitionModel(seqs, "code", "code", per_segment=per_segment)
    t0 = time.perf_counter()
    model.build()
    build = time.perf_counter() - t0
    with warnings.catch_warnings(), keep_warmup():
        warnings.simplefilter("ignore")
        res = model.fit(sampler=sampler, warn=False, **settings)
    info = res.config["sampler"]
    ess = ess_min(res.sampled, ["logit_typical"])
    return {
        "build_seconds": build,
        "compile_seconds": info["compile_seconds"],
        "sampling_seconds": info["sampling_seconds"],
        "ess_bulk_min_population": ess,
        "rhat_max": res.diagnostics.rhat_max,
        "divergences": res.diagnostics.n_divergent,
        "ess_per_second": ess / info["sampling_seconds"],
        "ess_per_second_total": ess / (build + info["compile_seconds"] + info["sampling_seconds"]),
        **sampler_work(res.sampled, info["sampling_seconds"]),
    }


def run_bambi(seqs, sampler, settings):
    import bambi as bmb

    df = pair_frame(seqs)
    t0 = time.perf_counter()
    model = bmb.Model("y ~ x + (x|dyad) + (x|dyad:session)", df, family="categorical")
    model.build()
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = model.fit(
            draws=settings["draws"], tune=settings["tune"], chains=settings["chains"],
            cores=settings.get("cores"), random_seed=settings["seed"],
            inference_method=sampler, progressbar=False, target_accept=0.95,
            discard_tuned_samples=False,
        )
    total = time.perf_counter() - t1
    sampling = float(tree["posterior"].attrs.get("sampling_time", total))
    ess = ess_min(tree, ["Intercept", "x"])
    return {
        "build_seconds": build,
        "compile_seconds": max(total - sampling, 0.0),
        "sampling_seconds": sampling,
        "ess_bulk_min_population": ess,
        "rhat_max": float("nan"),
        "divergences": int(tree["sample_stats"]["diverging"].values.sum()),
        "ess_per_second": ess / sampling,
        "ess_per_second_total": ess / (build + total),
        **sampler_work(tree, sampling),
    }


def run_one(spec: dict) -> dict:
    """One fit (in the worker process): simulate, fit, measure."""
    seqs = simulate(spec["size"])
    pairs = int(TransitionModel(seqs, "code", "code").data.counts.sum())
    row = {"model": spec["model"], "sampler": spec["sampler"], "segments": seqs.n_segments,
           "pairs": pairs}
    if spec["model"] == "bambi":
        row |= run_bambi(seqs, spec["sampler"], spec["settings"])
    else:
        row |= run_lagnest(seqs, spec["model"] == "per_segment", spec["sampler"],
                           spec["settings"])
    return row


def run_budgeted(spec: dict, timeout: float) -> dict:
    """Run :func:`run_one` in a child process; kill its process group after ``timeout`` s."""
    base = {"model": spec["model"], "sampler": spec["sampler"], "segments": spec["segments"],
            "pairs": spec["pairs"]}
    return run_in_child(Path(__file__), spec, timeout, base)


def run_in_child(script: Path, spec: dict, timeout: float, base: dict,
                 env: dict | None = None) -> dict:
    """Run ``script --worker SPEC`` in its own process group, with a time budget.

    The worker writes its row (JSON) to ``spec["out"]`` (set here). Returns that row plus
    ``wall_seconds``, or ``base`` plus an ``error`` when the worker failed or ran over
    ``timeout`` seconds (0 = no budget; then its whole process group is killed). ``env``
    holds extra environment variables for the child.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "row.json"
        cmd = [sys.executable, str(Path(script).resolve()), "--worker",
               json.dumps(spec | {"out": str(out)})]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, start_new_session=True,
                                env=None if env is None else os.environ | env)
        try:
            rc = proc.wait(timeout=timeout if timeout > 0 else None)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            wall = time.perf_counter() - t0
            return base | {"error": f"over the {timeout:.0f} s per-fit budget: killed after "
                                    f"{wall:.0f} s (not finished)", "wall_seconds": wall}
        wall = time.perf_counter() - t0
        if rc != 0 or not out.exists():
            return base | {"error": f"worker exited with code {rc}", "wall_seconds": wall}
        row = json.loads(out.read_text())
    return row | {"wall_seconds": wall}


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL, the process group of a child started in its own session."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            # pymc's chain workers are in the same group: make sure they are gone too
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return


# ============================================================================ reporting

def _fmt(x, spec=".1f", empty=""):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return empty
    return format(x, spec)


def _get(rows, model, sampler, segments):
    for r in rows:
        if (r["model"], r["sampler"], r["segments"]) == (model, sampler, segments) \
                and "error" not in r:
            return r
    return None


def findings(rows: list[dict]) -> list[str]:
    """Plain statements: flatness of the aggregated fit, per-gradient cost, ESS/s vs Bambi."""
    lines = []
    sizes = sorted({r["segments"] for r in rows})
    for sampler in ("pymc", "nutpie"):
        agg = [r for s in sizes if (r := _get(rows, "aggregated", sampler, s))]
        if len(agg) < 2:
            continue
        segs = ", ".join(f"{r['segments']:,}" for r in agg)

        def ratio(values):
            return max(values) / min(values)

        samp = [r["sampling_seconds"] for r in agg]
        tot = [r["compile_seconds"] + r["sampling_seconds"] for r in agg]
        parts = [
            f"- **aggregated / {sampler}** ({segs} segments): sampling "
            f"{' / '.join(f'{v:.1f}' for v in samp)} s, max/min {ratio(samp):.2f}x "
            f"({'flat' if ratio(samp) <= 1.5 else 'NOT flat'} within 1.5x); compile+sampling "
            f"{' / '.join(f'{v:.1f}' for v in tot)} s, max/min {ratio(tot):.2f}x "
            f"({'flat' if ratio(tot) <= 1.5 else 'NOT flat'} within 1.5x)"
        ]
        if all("us_per_grad" in r for r in agg):
            us = [r["us_per_grad"] for r in agg]
            grads = [r["grad_evals"] for r in agg]
            parts.append(
                f"; gradient evaluations {' / '.join(f'{g:,}' for g in grads)} "
                f"(max/min {ratio(grads):.2f}x); us/gradient "
                f"{' / '.join(f'{v:.1f}' for v in us)}, max/min {ratio(us):.2f}x "
                f"({'flat' if ratio(us) <= 1.5 else 'NOT flat'} within 1.5x)"
            )
            if all("us_per_grad_chain" in r for r in agg):
                uc = [r["us_per_grad_chain"] for r in agg]
                parts.append(f"; per-chain us/gradient {' / '.join(f'{v:.1f}' for v in uc)}")
        lines.append("".join(parts) + ".")
    bambi = [r for r in rows if r["model"] == "bambi" and "error" not in r]
    for b in bambi:
        for sampler in ("pymc", "nutpie"):
            a = _get(rows, "aggregated", sampler, b["segments"])
            if a is None:
                continue
            ratio = a["ess_per_second"] / b["ess_per_second"]
            tot = a["ess_per_second_total"] / b["ess_per_second_total"]
            lines.append(
                f"- ESS/s at {b['segments']:,} segments, aggregated/{sampler} vs Bambi "
                f"(run {b.get('run', '?')[:16]}): {a['ess_per_second']:.1f} vs "
                f"{b['ess_per_second']:.2f} = **{ratio:,.0f}x** on sampling time "
                f"({'meets' if ratio >= 10 else 'misses'} the >= 10x target); "
                f"{tot:,.0f}x counting build+compile."
            )
    return lines


def markdown(rows: list[dict], meta: dict, runs: dict) -> str:
    lines = [
        "# Model benchmarks",
        "",
        f"Command: `{meta.get('command', '')}`",
        "",
        f"Settings: {meta['settings']}; per-fit budget {meta.get('timeout', '?')} s; machine: "
        f"{meta['machine']} ({meta['cpus']} CPUs); load average (1/5/15 min) at start "
        f"{meta.get('loadavg_start', '?')}, at end {meta.get('loadavg_end', '?')}.",
        "ESS = smallest bulk ESS of the population-level logits (TransitionModel: "
        "`logit_typical`; Bambi: `Intercept`, `x`). ESS/s uses sampling time "
        "(tuning + draws, as reported by the sampler); compile s is the rest of the "
        "`pm.sample` call (compile/JIT, initialisation, trace conversion). Each fit of this "
        "run ran in a fresh process (cold in-process caches, warm on-disk caches).",
        "Gradient evaluations = sum of the `n_steps` sample stat (one gradient per leapfrog "
        "step) over chains, tuning and draws. us/grad = sampling wall seconds / gradient "
        "evaluations, with the 2 chains running in parallel on 2 cores; 'us/grad chain' "
        "(PyMC only) = time inside each chain's NUTS steps (`perf_counter_diff`) / gradient "
        "evaluations, i.e. the per-core cost. Mean depth = mean tree depth of the draws.",
        "",
        "| model | sampler | segments | run | compile s | sampling s | grad evals | "
        "mean depth | us/grad | us/grad chain | ESS | ESS/s | R-hat max | div. | note |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        run = r.get("run", "")[:16].replace("T", " ")
        if "error" in r:
            lines.append(f"| {r['model']} | {r['sampler']} | {r['segments']} | {run} | | | | | "
                         f"| | | | | | {r['error']} |")
            continue
        lines.append(
            f"| {r['model']} | {r['sampler']} | {r['segments']} | {run} | "
            f"{r['compile_seconds']:.1f} | {r['sampling_seconds']:.1f} | "
            f"{_fmt(r.get('grad_evals'), ',d', '-')} | "
            f"{_fmt(r.get('tree_depth_mean'), '.2f', '-')} | "
            f"{_fmt(r.get('us_per_grad'), '.1f', '-')} | "
            f"{_fmt(r.get('us_per_grad_chain'), '.1f', '-')} | "
            f"{r['ess_bulk_min_population']:.0f} | {r['ess_per_second']:.1f} | "
            f"{_fmt(r.get('rhat_max'), '.3f', '-')} | {r['divergences']} | {r.get('note', '')} |"
        )
    lines += ["", "## Findings", ""] + (findings(rows) or ["(not enough rows)"])
    lines += ["", "## Runs", ""]
    for run_id, m in sorted(runs.items()):
        lines.append(f"- {run_id}: settings {m.get('settings')}, load average at start "
                     f"{m.get('loadavg_start', 'not recorded')}"
                     + (f"; {m['note']}" if m.get("note") else "")
                     + (f"; command `{m['command']}`" if m.get("command") else ""))
    return "\n".join(lines) + "\n"


SAMPLER_ORDER = ("pymc", "nutpie", "numpyro")


def _sort_key(r):
    return (r["segments"], MODELS.index(r["model"]) if r["model"] in MODELS else 9,
            SAMPLER_ORDER.index(r["sampler"]) if r["sampler"] in SAMPLER_ORDER else 9)


def load_previous(path: Path) -> tuple[list[dict], dict]:
    """Rows and runs of an existing results file (old format: one run in ``meta``)."""
    if not path.exists():
        return [], {}
    data = json.loads(path.read_text())
    runs = dict(data.get("runs", {}))
    rows = data.get("rows", [])
    if not runs and "meta" in data:
        runs[data["meta"].get("created", "earlier")] = data["meta"]
    default = next(iter(runs), "earlier")
    for r in rows:
        r.setdefault("run", default)
    return rows, runs


def write(rows: list[dict], meta: dict, runs: dict, out: Path) -> None:
    """Write ``out.json`` and ``out.md``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=_sort_key)
    text = json.dumps({"meta": meta, "runs": runs, "rows": rows}, indent=1)
    out.with_suffix(".json").write_text(text)
    out.with_suffix(".md").write_text(markdown(rows, meta, runs))


def _csv(text: str, cast=str) -> list:
    return [cast(x) for x in text.replace(" ", "").split(",") if x]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated subset of " + ",".join(MODELS))
    parser.add_argument("--samplers", default=None,
                        help="comma-separated, e.g. pymc,nutpie (default: installed ones); "
                             "Bambi runs with pymc only")
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="comma-separated numbers of segments")
    parser.add_argument("--skip", action="append", default=[],
                        metavar="MODEL:SAMPLER[:SIZE]",
                        help="leave out a combination (old rows of it are kept); repeatable")
    parser.add_argument("--timeout", type=float, default=360.0,
                        help="per-fit budget in seconds, whole child process (0 = none)")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--bambi-max", type=int, default=10_000,
                        help="largest size fitted with Bambi (it grows with segments)")
    parser.add_argument("--segment-max", type=int, default=100_000)
    parser.add_argument("--no-merge", action="store_true",
                        help="overwrite the results file instead of merging into it")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(RESULTS / "models"))
    parser.add_argument("--report", action="store_true",
                        help="only rewrite the .md from the existing .json (no fits)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.report:
        data = json.loads(Path(args.out).with_suffix(".json").read_text())
        write(data["rows"], data["meta"], data.get("runs", {}), Path(args.out))
        print(Path(args.out).with_suffix(".md").read_text())
        return 0

    if args.worker:  # child process: one fit
        spec = json.loads(args.worker)
        row = run_one(spec)
        Path(spec["out"]).write_text(json.dumps(row))
        return 0

    models = _csv(args.models)
    bad = set(models) - set(MODELS)
    if bad:
        parser.error(f"unknown models {sorted(bad)}; choose from {MODELS}")
    sizes = _csv(args.sizes, int)
    if args.quick:
        sizes, args.draws, args.tune = [1_000], 100, 100
    samplers = (_csv(args.samplers) if args.samplers
                else [s for s in available_samplers() if s in ("pymc", "nutpie")])
    skips = [tuple(s.split(":")) for s in args.skip]
    settings = {"draws": args.draws, "tune": args.tune, "chains": args.chains,
                "cores": min(args.chains, os.cpu_count() or 1), "seed": 1}
    try:
        import bambi  # noqa: F401

        has_bambi = True
    except ImportError:
        has_bambi = False
        if "bambi" in models:
            print("bambi is not installed (it comes with the `bench` extra): its fits are "
                  "skipped", file=sys.stderr, flush=True)
    created = time.strftime("%Y-%m-%dT%H:%M:%S")
    meta = {
        "settings": settings,
        "timeout": args.timeout,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "versions": package_versions(),
        "created": created,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "command": ".venv/bin/python benchmarks/bench_models.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
    }
    out = Path(args.out)
    old_rows, runs = ([], {}) if args.no_merge else load_previous(out.with_suffix(".json"))
    runs[created] = meta

    def skipped(model, sampler, size):
        return any(s[0] == model and s[1] == sampler and (len(s) < 3 or int(s[2]) == size)
                   for s in skips)

    rows: list[dict] = []
    for size in sizes:
        seqs = simulate(size)
        n_seg = seqs.n_segments
        pairs = int(TransitionModel(seqs, "code", "code").data.counts.sum())
        jobs = []
        for model in models:
            if model == "bambi":
                if not has_bambi or size > args.bambi_max:
                    continue
                ms = [s for s in samplers if s == "pymc"]
            elif model == "per_segment" and size > args.segment_max:
                continue
            else:
                ms = samplers
            jobs += [(model, s) for s in ms if not skipped(model, s, size)]
        for model, sampler in jobs:
            load = round(os.getloadavg()[0], 2)
            print(f"{model:12s} {sampler:7s} {n_seg:>7d} segments (load {load}) ...", flush=True)
            spec = {"model": model, "sampler": sampler, "size": size, "segments": n_seg,
                    "pairs": pairs, "settings": settings}
            row = run_budgeted(spec, args.timeout)
            row |= {"run": created, "loadavg_before": load}
            print("   ", {k: (round(v, 2) if isinstance(v, float) else v)
                          for k, v in row.items()}, flush=True)
            rows.append(row)
            new = {tuple(r[k] for k in KEY) for r in rows}
            kept = [r for r in old_rows if tuple(r[k] for k in KEY) not in new]
            write(kept + rows, meta, runs, out)  # after every row: a long run keeps its results
    meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    new = {tuple(r[k] for k in KEY) for r in rows}
    kept = [r for r in old_rows if tuple(r[k] for k in KEY) not in new]
    write(kept + rows, meta, runs, out)
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
