"""Cost of the start method of parallel chains: ``forkserver`` against ``fork``, per fit.

Run: ``.venv/bin/python benchmarks/bench_mp_ctx.py [--rounds 3] [--draws 200]``.
Writes ``benchmarks/results/mp_ctx.json`` and ``mp_ctx.md``.

One process fits the same TransitionModel (example corpus, rupture -> resolution, pooling
by dyad, 2 chains on 2 cores) with the workers started by ``fork`` and by ``forkserver``
(chosen through ``LAGNEST_MP_CTX``), alternating, after a first fit that warms the caches.
A parallel numba kernel runs first, as in a session, so the process has threads when it
forks. Reported: wall time per fit, PyMC's sampling time (which includes starting the
workers and, under ``forkserver``, rebuilding the compiled model in each of them), and the
ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import lagnest as ln

RESULTS = Path(__file__).parent / "results"
METHODS = ("fork", "forkserver")


def fit_once(seqs: ln.Sequences, method: str, draws: int, seed: int) -> dict[str, float]:
    """One fit with the workers started by ``method``; its timings."""
    os.environ["LAGNEST_MP_CTX"] = method
    model = ln.TransitionModel(seqs, given="rupture", target="resolution", pooling="dyad")
    start = time.perf_counter()
    result = model.fit(draws=draws, tune=draws, chains=2, cores=2, seed=seed, warn=False)
    sampler = result.config["sampler"]
    return {
        "wall": time.perf_counter() - start,
        "sampling": float(sampler["sampling_seconds"]),
        "compile": float(sampler["compile_seconds"]),
    }


def main() -> None:
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--out", default=str(RESULTS), help="folder of mp_ctx.json and .md")
    args = parser.parse_args()
    seqs = ln.datasets.load_example()
    ln.permutation_test(seqs, given="rupture", target="resolution", n_perm=200, seed=0)
    fit_once(seqs, "fork", args.draws, 0)  # warm the compile caches
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
    for r in range(args.rounds):
        for method in METHODS if r % 2 == 0 else METHODS[::-1]:
            runs[method].append(fit_once(seqs, method, args.draws, r + 1))
    median = {m: {k: statistics.median(x[k] for x in runs[m]) for k in runs[m][0]}
              for m in METHODS}
    ratio = median["forkserver"]["wall"] / median["fork"]["wall"]
    out = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load": os.getloadavg()},
        "settings": {"rounds": args.rounds, "draws": args.draws, "tune": args.draws,
                     "chains": 2, "cores": 2},
        "runs": runs,
        "median": median,
        "ratio_forkserver_to_fork_wall": ratio,
    }
    results = Path(args.out)
    results.mkdir(parents=True, exist_ok=True)
    (results / "mp_ctx.json").write_text(json.dumps(out, indent=1))
    lines = [
        "# Start method of parallel chains: forkserver against fork",
        "",
        f"{args.rounds} alternating fits each (2 chains x {args.draws} draws, tune "
        f"{args.draws}, 2 cores), one process, caches warm; load average "
        f"{out['machine']['load'][0]:.1f} on {out['machine']['cpus']} cores.",
        "",
        "| method | wall per fit (s) | sampling (s) | rest (s) |",
        "|---|---|---|---|",
    ]
    for m in METHODS:
        lines.append(f"| {m} | {median[m]['wall']:.1f} | {median[m]['sampling']:.1f} | "
                     f"{median[m]['compile']:.1f} |")
    lines += ["", f"forkserver / fork, median wall time per fit: **{ratio:.2f}x**."]
    (results / "mp_ctx.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
