"""Benchmark: aggregated TransitionModel vs per-segment model vs Bambi's categorical model.

Wall time (compile/setup and sampling separately) and ESS per second of the population
logits, on 10^3, 10^4 and 10^5 segments (6 dyads x 10 sessions; longer sessions for more
segments, so the aggregated model keeps the same cells), for each available sampler.

Run: ``.venv/bin/python benchmarks/bench_models.py`` (``--quick`` for a smoke run).
Writes ``benchmarks/results/models.json`` and ``benchmarks/results/models.md``.

Bambi baseline: ``y ~ x + (x|dyad) + (x|dyad:session)`` with ``family="categorical"``,
the closest Bambi formula to the transition model: reference-category logits (not zero
sum), independent group effects per term with their own scales, Bambi's default priors.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
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


def ess_min(tree, names) -> float:
    import arviz as az

    post = tree["posterior"].to_dataset()[names]
    ess = az.ess(post, method="bulk")
    values = np.concatenate([np.asarray(ess[n]).ravel() for n in names])
    return float(np.nanmin(values[np.isfinite(values)]))


def run_lagnest(seqs, per_segment, sampler, settings):
    model = TransitionModel(seqs, "code", "code", per_segment=per_segment)
    t0 = time.perf_counter()
    model.build()
    build = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(sampler=sampler, warn=False, **settings)
    info = res.config["sampler"]
    ess = ess_min(res.tree, ["logit_population"])
    return {
        "build_seconds": build,
        "compile_seconds": info["compile_seconds"],
        "sampling_seconds": info["sampling_seconds"],
        "ess_bulk_min_population": ess,
        "rhat_max": res.diagnostics.rhat_max,
        "divergences": res.diagnostics.n_divergent,
        "ess_per_second": ess / info["sampling_seconds"],
        "ess_per_second_total": ess / (build + info["compile_seconds"] + info["sampling_seconds"]),
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
    }


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        "# Model benchmarks",
        "",
        f"Settings: {meta['settings']}; machine: {meta['machine']} ({meta['cpus']} CPUs, "
        "shared with other jobs, so absolute times are noisy).",
        "ESS = smallest bulk ESS of the population-level logits (TransitionModel: "
        "`logit_population`; Bambi: `Intercept`, `x`). ESS/s uses sampling time.",
        "",
        "| model | sampler | segments | pairs | build s | compile s | sampling s | ESS | "
        "ESS/s | divergences |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['sampler']} | {r['segments']} | {r['pairs']} | "
                         f"error: {r['error'][:60]} | | | | | |")
            continue
        lines.append(
            f"| {r['model']} | {r['sampler']} | {r['segments']} | {r['pairs']} | "
            f"{r['build_seconds']:.1f} | {r['compile_seconds']:.1f} | "
            f"{r['sampling_seconds']:.1f} | {r['ess_bulk_min_population']:.0f} | "
            f"{r['ess_per_second']:.1f} | {r['divergences']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--samplers", nargs="+", default=None)
    parser.add_argument("--bambi-max", type=int, default=10_000,
                        help="largest size fitted with Bambi (it grows with segments)")
    parser.add_argument("--segment-max", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(RESULTS / "models"))
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.draws, args.tune = [1_000], 100, 100
    samplers = args.samplers or [s for s in available_samplers() if s in ("pymc", "nutpie")]
    settings = {"draws": args.draws, "tune": args.tune, "chains": args.chains,
                "cores": min(args.chains, os.cpu_count() or 1), "seed": 1}
    try:
        import bambi  # noqa: F401

        has_bambi = True
    except ImportError:
        has_bambi = False
    meta = {
        "settings": settings,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "versions": package_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    rows = []
    for size in args.sizes:
        seqs = simulate(size)
        pairs = int(TransitionModel(seqs, "code", "code").data.counts.sum())
        jobs = [("aggregated", s) for s in samplers]
        if size <= args.segment_max:
            jobs += [("per_segment", s) for s in samplers]
        if has_bambi and size <= args.bambi_max:
            jobs += [("bambi", "pymc")]
        for kind, sampler in jobs:
            print(f"{kind:12s} {sampler:7s} {seqs.n_segments:>7d} segments ...", flush=True)
            row = {"model": kind, "sampler": sampler, "segments": seqs.n_segments, "pairs": pairs}
            try:
                if kind == "bambi":
                    row |= run_bambi(seqs, sampler, settings)
                else:
                    row |= run_lagnest(seqs, kind == "per_segment", sampler, settings)
            except Exception as exc:
                row["error"] = f"{type(exc).__name__}: {exc}"
            print("   ", {k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()},
                  flush=True)
            rows.append(row)
            write(rows, meta, Path(args.out))  # after every row: a long run keeps its results
    print(markdown(rows, meta))
    return 0


def write(rows: list[dict], meta: dict, out: Path) -> None:
    """Write ``out.json`` and ``out.md``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    out.with_suffix(".md").write_text(markdown(rows, meta))


if __name__ == "__main__":
    raise SystemExit(main())
