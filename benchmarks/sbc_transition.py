"""SBC of TransitionModel on a thesis-like design (6 dyads x 8 sessions x 30 segments).

The design (lag-1 pairs per session and MIA4 state) comes from
``lagnest.simulate.thesis_like(seed=1, sessions_per_dyad=(8, 8),
segments_per_session=(30, 30))``; the model is ``TransitionModel(seqs, "MIA4",
"rupture")`` (2 given x 4 target codes, dyad and session deviations). Every simulation
draws the parameters from the prior, simulates the counts with the model's hook, refits.

Run: ``.venv/bin/python benchmarks/sbc_transition.py`` (resumable: finished fits are kept
in ``benchmarks/.runs/``). Writes ``results/sbc_transition.{json,md}`` and the figures
``results/sbc_transition_{ranks,ecdf}.png``.
"""

from __future__ import annotations

import argparse
import time

from sbc_common import dask_speedup, run_sbc, summarise, throughput, write

from lagnest.models import TransitionModel
from lagnest.simulate import thesis_like


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--n-speedup", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--draws", type=int, default=500)
    args = ap.parse_args()
    seqs, _ = thesis_like(seed=1, sessions_per_dyad=(8, 8), segments_per_session=(30, 30))
    model = TransitionModel(seqs, "MIA4", "rupture")
    # 4 chains: with 2, R-hat over the ranked variables sat above 1.01 in most fits
    sampler = {"draws": args.draws, "tune": args.draws, "chains": 4, "n_rank_draws": 99}
    t0 = time.perf_counter()
    res, wall = run_sbc(model, "sbc_transition", args.n, 2026, sampler, args.jobs)
    extra = {"design": "thesis_like(seed=1), 6 dyads x 8 sessions x 30 segments",
             "model": "TransitionModel(seqs, 'MIA4', 'rupture')", "sampler": sampler,
             "throughput": throughput(res, wall, args.jobs)}
    if args.n_speedup:
        extra["dask"] = dask_speedup(model, args.n_speedup, 7, sampler)
    extra["total_seconds"] = time.perf_counter() - t0
    summary = summarise(res, wall, extra)
    write("sbc_transition", summary, res, "SBC of TransitionModel (thesis-like design)",
          f"python benchmarks/sbc_transition.py --n {args.n} --draws {args.draws}")
    print(open(__file__.replace("sbc_transition.py", "results/sbc_transition.md")).read())


if __name__ == "__main__":
    main()
