"""Throughput of many-fit work: 100 SBC fits of TransitionModel, and 1 vs 2 Dask workers.

The design and model of ``sbc_transition.py`` (``TransitionModel(seqs, "MIA4",
"rupture")`` on ``thesis_like(seed=1)``, 6 dyads x 8 sessions x 30 segments; 2 chains x
(500 tune + 500 draws) per fit). Three measurements, one process, in this order:

1. **Compiled once vs recompiled** (``calibration.sbc(n_jobs=1)`` in this process,
   ``--n-inprocess`` fits each after the first, which compiles): the model as lagnest
   builds it (frozen PyMC model: the log-density, gradient, initial-point and trace
   functions are compiled on the first fit and reused)
   against the same graph unfrozen (``pm.sample`` recompiles them on every call, as
   before). Baseline and candidate run on the same seeds in the same process.
2. **100 fits on 2 local processes** (``calibration.sbc(n=100, n_jobs=2)``, fresh run
   folder, so nothing resumes): wall time of the whole call (pool start-up and the parent's
   warm-up fit included) against the 10-minute target; ranks' uniformity of this run.
3. **Dask LocalCluster, 1 vs 2 worker processes** (1 thread each), the same
   ``--n-dask`` simulations with the same seed: wall times, speed-up, and whether both give
   the same ranks.

Run: ``.venv/bin/python benchmarks/sbc_throughput.py`` (``--quick`` for a smoke run).
Writes ``benchmarks/results/sbc_throughput.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from sbc_common import dask_speedup

from lagnest import calibration
from lagnest.models import TransitionModel
from lagnest.simulate import thesis_like

RESULTS = Path(__file__).parent / "results"
SEED = 2027
TARGET_SECONDS = 600.0


def make_model() -> TransitionModel:
    """The SBC design and model of ``sbc_transition.py``."""
    seqs, _ = thesis_like(seed=1, sessions_per_dyad=(8, 8), segments_per_session=(30, 30))
    return TransitionModel(seqs, "MIA4", "rupture")


def in_process(n: int, sampler: dict, frozen: bool) -> dict:
    """``calibration.sbc(n + 1, n_jobs=1)`` in this process; medians over fits 2 to n + 1."""
    model = make_model()
    if not frozen:  # the baseline: the same graph, unfrozen (pm.sample recompiles)
        model._model = model.build_model()
    # in-process tasks take their model from the engine's per-process cache (keyed by the
    # config id, the same frozen or not): put this one there so the tasks fit it
    cache = calibration.engine._WORKER_MODELS
    cache[str(model.id)] = model
    try:
        res = calibration.sbc(model, n=n + 1, seed=SEED, n_jobs=1, progress=False, **sampler)
    finally:
        cache.clear()
    later = res.data.isel(simulation=slice(1, None))  # the first fit compiles
    return {key: float(np.median(later[key]))
            for key in ("seconds", "compile_seconds", "sampling_seconds")} | {"n": n}


def many_fits(n: int, sampler: dict, jobs: int) -> tuple[dict, object]:
    """``calibration.sbc(n)`` on ``jobs`` local processes in a fresh folder."""
    model = make_model()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = calibration.sbc(model, n=n, seed=SEED, n_jobs=jobs, path=Path(tmp) / "run",
                              progress=False, **sampler)
        wall = time.perf_counter() - t0
    data = res.data
    uni = res.uniformity()
    return {
        "n": n, "jobs": jobs, "wall_seconds": wall, "wall_seconds_per_fit": wall / n,
        "minutes_for_100_fits": wall / n * 100 / 60,
        "fit_seconds_median": float(np.median(data["seconds"])),
        "compile_seconds_median": float(np.median(data["compile_seconds"])),
        "sampling_seconds_median": float(np.median(data["sampling_seconds"])),
        "fits_with_divergences": int((data["n_divergent"] > 0).sum()),
        "uniformity_p_bonferroni_chi2": float(uni.attrs["overall_p"]),
        "uniformity_p_bonferroni_ks": float(uni.attrs["overall_ks_p"]),
        "min_parameter_chi2_p": float(uni["chi2_p"].min()),
        "coverage90": float(res.coverage(0.9).attrs["overall"]),
    }, res


def report(summary: dict, command: str) -> str:
    """Markdown of the three measurements."""
    c, f, r, d = (summary[k] for k in ("compiled_once", "recompiled", "many", "dask"))
    verdict = "within" if r["wall_seconds"] / r["n"] * 100 <= TARGET_SECONDS else "misses"
    lines = [
        "# Throughput of SBC fits (TransitionModel, thesis-like design)", "",
        f"Command: `{command}`", "",
        f"Design: {summary['design']}; sampler {summary['sampler']}; machine: "
        f"{summary['machine']['cpus']} CPUs, load average at start "
        f"{summary['machine']['load_start']}, at end {summary['machine']['load_end']}.", "",
        "## Compiled once vs recompiled (in-process, median per fit after the first)", "",
        "| model | fits | seconds per fit | compile s | sampling s |",
        "|---|---:|---:|---:|---:|",
        f"| frozen (lagnest) | {c['n']} | {c['seconds']:.2f} | {c['compile_seconds']:.2f} | "
        f"{c['sampling_seconds']:.2f} |",
        f"| unfrozen (baseline) | {f['n']} | {f['seconds']:.2f} | {f['compile_seconds']:.2f} | "
        f"{f['sampling_seconds']:.2f} |", "",
        f"Per-fit time ratio baseline / lagnest: **{f['seconds'] / c['seconds']:.2f}x**; "
        f"compile-time ratio {f['compile_seconds'] / c['compile_seconds']:.1f}x.", "",
        f"## {r['n']} fits on {r['jobs']} local processes", "",
        f"Wall time of `calibration.sbc(n={r['n']}, n_jobs={r['jobs']})`: "
        f"**{r['wall_seconds']:.0f} s** ({r['wall_seconds_per_fit']:.2f} s per fit; "
        f"{r['minutes_for_100_fits']:.1f} min per 100 fits, {verdict} the 10-minute "
        f"target). Median fit inside a worker {r['fit_seconds_median']:.2f} s (compile "
        f"{r['compile_seconds_median']:.2f}, sampling {r['sampling_seconds_median']:.2f}). "
        f"This run's ranks: Bonferroni chi-square p = {r['uniformity_p_bonferroni_chi2']:.3f}"
        f", KS p = {r['uniformity_p_bonferroni_ks']:.3f} (smallest per-parameter p "
        f"{r['min_parameter_chi2_p']:.3f}); 90% coverage {r['coverage90']:.3f}; "
        f"{r['fits_with_divergences']} fits with divergences.", "",
        f"## Dask LocalCluster: 1 vs 2 worker processes ({d['n']} simulations, same seed)",
        "",
        f"Wall {d[1]['wall_seconds']:.1f} s vs {d[2]['wall_seconds']:.1f} s: speed-up "
        f"**{d['speedup']:.2f}x** (median fit {d[1]['fit_seconds_median']:.2f} s vs "
        f"{d[2]['fit_seconds_median']:.2f} s). Same ranks on 1 and 2 workers: "
        f"{d['same_ranks']}. Both walls include the warm-up fit in the client process.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--n-inprocess", type=int, default=8)
    ap.add_argument("--n-dask", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="smoke run (few small fits)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="folder of sbc_throughput.{json,md} (default benchmarks/results)")
    args = ap.parse_args()
    draws = 500
    if args.quick:
        args.n, args.n_inprocess, args.n_dask, draws = 4, 2, 2, 50
    sampler = {"draws": draws, "tune": draws, "chains": 2, "n_rank_draws": 99 if draws > 99
               else draws - 1}
    load_start = [round(x, 2) for x in os.getloadavg()]
    summary = {"design": "thesis_like(seed=1), 6 dyads x 8 sessions x 30 segments",
               "model": "TransitionModel(seqs, 'MIA4', 'rupture')", "sampler": sampler}
    summary["compiled_once"] = in_process(args.n_inprocess, sampler, frozen=True)
    summary["recompiled"] = in_process(args.n_inprocess, sampler, frozen=False)
    summary["many"], _ = many_fits(args.n, sampler, args.jobs)
    summary["dask"] = dask_speedup(make_model(), args.n_dask, SEED, sampler)
    summary["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_start": load_start,
                          "load_end": [round(x, 2) for x in os.getloadavg()]}
    command = "python benchmarks/sbc_throughput.py" + (" --quick" if args.quick else "")
    summary["command"] = command
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sbc_throughput.json").write_text(json.dumps(summary, indent=2, default=float))
    (out / "sbc_throughput.md").write_text(report(summary, command))
    print((out / "sbc_throughput.md").read_text())


if __name__ == "__main__":
    main()
