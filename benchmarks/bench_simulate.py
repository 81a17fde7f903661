"""Benchmark of lagnest.simulate: seconds to simulate ~10^6 segments.

Usage: python benchmarks/bench_simulate.py [--segments N] [--repeat R] [--out DIR]

Times, for a 5-minute-segment layout (10 segments per session) and a speaking-turn layout
(~300 per session):
- ``engine``: the generative model alone (padded arrays, lagnest.simulate._engine.run);
- ``full``: simulate() end to end (engine + validated Sequences + Truth frames).
Writes ``bench_simulate.json`` and ``bench_simulate.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np
from timing import best_of

from lagnest import simulate
from lagnest.simulate._engine import run

LAYOUTS = {
    "thesis (10 segments/session)": (simulate.thesis_like_params, 10, 10),
    "turns (~300 turns/session)": (simulate.turns_params, 300, 60),
}


def params_for(layout: str, n_segments: int) -> simulate.SimulationParams:
    factory, per_session, sessions_per_dyad = LAYOUTS[layout]
    n_dyads = max(1, round(n_segments / (per_session * sessions_per_dyad)))
    return factory(n_dyads=n_dyads, sessions_per_dyad=(sessions_per_dyad, sessions_per_dyad))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    book = simulate._codebook()
    rows = []
    for layout in LAYOUTS:
        params = params_for(layout, args.segments)
        seqs, _ = simulate.simulate(params, seed=0)
        engine = best_of(lambda p=params: run(p, book, 0), args.repeat)
        full = best_of(lambda p=params: simulate.simulate(p, seed=0), args.repeat)
        rows.append(
            {
                "layout": layout,
                "segments": seqs.n_segments,
                "sessions": seqs.n_sessions,
                "engine_s": round(engine, 3),
                "full_s": round(full, 3),
                "segments_per_s_full": int(seqs.n_segments / full),
            }
        )
        print(rows[-1])
    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "repeat": args.repeat,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_simulate.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [
        f"# lagnest.simulate: time to simulate ~10^6 segments (best of {args.repeat}, seconds)",
        "",
        "| layout | segments | sessions | engine (s) | full simulate (s) | segments/s |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r['layout']} | {r['segments']} | {r['sessions']} | {r['engine_s']} | "
            f"{r['full_s']} | {r['segments_per_s_full']} |"
            for r in rows
        ),
        "",
        f"Python {meta['python']}, NumPy {meta['numpy']}, {meta['machine']}.",
    ]
    (out / "bench_simulate.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
