"""SBC of SessionImpactModel (the shipped state_mindfulness_to_impact spec), thesis-like design.

Design: ``lagnest.simulate.thesis_like(seed=1, sessions_per_dyad=(8, 8))`` (6 dyads x 8
sessions); the model is the shipped spec ``state_mindfulness_to_impact`` (the four SEQ
subscales on TMS curiosity and decentering, centred within dyad, and the session number;
dyad intercepts per outcome, correlated Student-t residuals) with its defaults and its own
sampler settings (4 chains x 1000 draws after 1000 tuning steps). Every simulation draws
the parameters from the prior, simulates the outcomes with the model's hook (the
predictors stay those of the design) and refits; the ranked variables are the model's
``calibration_vars`` (intercepts, slopes, ``sigma_dyad``, residual scales and
correlations, ``nu``).

Run: ``NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/sbc_impact.py --n 200`` (resumable:
finished fits are kept in ``benchmarks/.runs/``). Writes ``results/sbc_impact.{json,md}``
and ``results/sbc_impact_{ranks,ecdf}.png``.
"""

from __future__ import annotations

import argparse

from sbc_common import run_sbc, summarise, throughput, write

from lagnest.models.spec import from_spec, load_spec, standard_specs
from lagnest.simulate import thesis_like

SPEC = "state_mindfulness_to_impact"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    seqs, _ = thesis_like(seed=1, sessions_per_dyad=(8, 8))
    spec = load_spec(standard_specs()[SPEC])
    model = from_spec(spec, seqs)
    sampler = {**{k: int(spec.fit[k]) for k in ("draws", "tune", "chains")},
               "n_rank_draws": 99}
    res, wall = run_sbc(model, "sbc_impact", args.n, 2028, sampler, args.jobs)
    extra = {"design": "thesis_like(seed=1), 6 dyads x 8 sessions",
             "model": f"the shipped spec {SPEC} (defaults)", "sampler": sampler,
             "throughput": throughput(res, wall, args.jobs)}
    summary = summarise(res, wall, extra)
    write("sbc_impact", summary, res, f"SBC of SessionImpactModel ({SPEC}, thesis-like design)",
          f"python benchmarks/sbc_impact.py --n {args.n}")
    print(open(__file__.replace("sbc_impact.py", "results/sbc_impact.md")).read())


if __name__ == "__main__":
    main()
