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

lagnest has the fork server import PyMC and its models once (``_fit.preload_forkserver``);
``--no-preload`` turns that off for a run, to measure what it saves. The fork server
outlives the fits of a process, so the two variants run as separate invocations; each
variant's latest run is kept in the results.
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
from lagnest.models import _fit

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
    parser.add_argument("--no-preload", action="store_true",
                        help="the fork server imports nothing before forking (as before)")
    args = parser.parse_args()
    variant = "no_preload" if args.no_preload else "preload"
    if args.no_preload:
        _fit.preload_forkserver = lambda: None
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
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
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
    path = results / "mp_ctx.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    variants = previous.get("variants", {})
    variants[variant] = out
    path.write_text(json.dumps({"variants": variants}, indent=1))
    lines = ["# Start method of parallel chains: forkserver against fork", ""]
    titles = {"preload": "fork server preloading PyMC and lagnest's models (the default)",
              "no_preload": "fork server importing nothing first (`--no-preload`)"}
    for name in ("preload", "no_preload"):
        if name not in variants:
            continue
        v = variants[name]
        st = v["settings"]
        lines += [
            f"## {titles[name]}",
            "",
            f"Run {v.get('created', 'before 2026-12-01')}: {st['rounds']} alternating fits "
            f"each (2 chains x {st['draws']} draws, tune {st['tune']}, 2 cores), one "
            f"process, caches warm; load average {v['machine']['load'][0]:.1f} on "
            f"{v['machine']['cpus']} cores.",
            "",
            "| method | wall per fit (s) | sampling (s) | rest (s) |",
            "|---|---|---|---|",
        ]
        for m in METHODS:
            med = v["median"][m]
            lines.append(f"| {m} | {med['wall']:.1f} | {med['sampling']:.1f} | "
                         f"{med['compile']:.1f} |")
        lines += ["", "forkserver / fork, median wall time per fit: "
                      f"**{v['ratio_forkserver_to_fork_wall']:.2f}x**.", ""]
    (results / "mp_ctx.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
