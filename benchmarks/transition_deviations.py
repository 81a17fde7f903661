"""TransitionModel: shared + row-specific group deviations vs row-specific only.

Issue 9 item 6: with dyad deviations independent for every given row, a dyad's general
tendency cannot be shared across rows and contrasts between rows lose the within-dyad
comparison. This script fits both structures (``deviations="shared+row"``, the default,
and ``"row"``) on

1. the example corpus (MIA4 -> rupture, lag 1): the contrast p(none | MIA4) -
   p(none | not MIA4) and the population-average vs typical-dyad probabilities;
2. simulated data whose dyad and session effects are common to all given rows (one
   dyad-level shift of the target logits, shared by both rows of a binary given), where
   the population contrast has a known truth.

It reports the posterior mean and sd of the contrast, the diagnostics and fit times.
Run: ``.venv/bin/python benchmarks/transition_deviations.py [--draws 1000] [--chains 4]
[--out DIR]``; writes ``benchmarks/results/transition_deviations.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

import lagnest as ln
from lagnest.models import TransitionModel

RESULTS = Path(__file__).parent / "results"
FIT = {"draws": 1000, "tune": 1000, "chains": 4, "seed": 1, "warn": False}


def shared_effects_corpus(seed: int = 0, n_dyads: int = 6, sessions: int = 8,
                          segments: int = 40) -> tuple[ln.Sequences, float]:
    """Binary given (flag) -> 3-code target; dyad/session shifts shared by both rows.

    Returns the corpus and the true population contrast p(a | flag) - p(a | no flag)
    averaged over new dyads and sessions (Monte Carlo with 200,000 groups).
    """
    rng = np.random.default_rng(seed)
    alpha = np.array([[0.6, 0.0, -0.6], [-0.2, 0.3, -0.1]])  # rows: no flag, flag
    sd_dyad, sd_session = 1.0, 0.4

    def probs(shift):
        logits = alpha[None] + shift[:, None, :]
        e = np.exp(logits - logits.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    targets, flags, dyads = [], [], []
    for d in range(n_dyads):
        a = rng.normal(0, sd_dyad, 3)
        for _ in range(sessions):
            c = rng.normal(0, sd_session, 3)
            p = probs((a + c)[None])[0]
            f = rng.integers(0, 2, segments)
            y = [int(rng.choice(3, p=p[f[t - 1]])) if t else int(rng.integers(3))
                 for t in range(segments)]
            targets.append(["abc"[i] for i in y])
            flags.append(list(f))
            dyads.append(f"d{d}")
    new = rng.normal(0, sd_dyad, (200_000, 3)) + rng.normal(0, sd_session, (200_000, 3))
    p = probs(new).mean(0)
    truth = float(p[1, 0] - p[0, 0])
    seqs = ln.Sequences.from_sequences({"code": targets, "flag": flags}, dyads=dyads,
                                       codes={"code": list("abc")})
    return seqs, truth


def fit_both(seqs, given, target, contrast, fit=FIT):
    """Fit both deviation structures; contrast = (given1, given2, target)."""
    out = {}
    for deviations in ("shared+row", "row"):
        model = TransitionModel(seqs, given, target, deviations=deviations)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = model.fit(**fit)
        seconds = time.perf_counter() - t0
        c = res.contrast(*contrast)
        pop = res.transition_probs("population")["mean"].sel(given=contrast[1],
                                                              target=contrast[2])
        typ = res.transition_probs("typical")["mean"].sel(given=contrast[1],
                                                          target=contrast[2])
        d = res.diagnostics
        out[deviations] = {
            "contrast_mean": float(c["mean"]), "contrast_sd": float(c["sd"]),
            "contrast_lower": float(c["lower"]), "contrast_upper": float(c["upper"]),
            "population_p": float(pop), "typical_p": float(typ),
            "rhat_max": d.rhat_max, "ess_bulk_min": d.ess_bulk_min,
            "divergences": d.n_divergent, "seconds": seconds,
            "parameterization": model.structure.parameterization,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=FIT["draws"], help="draws and tune")
    parser.add_argument("--chains", type=int, default=FIT["chains"])
    parser.add_argument("--out", default=str(RESULTS),
                        help="folder of transition_deviations.json and .md")
    args = parser.parse_args()
    fit = FIT | {"draws": args.draws, "tune": args.draws, "chains": args.chains}
    example = ln.datasets.load_example()
    pooled = ln.lag_table(example, "MIA4", "rupture")["trans_prob"].sel(
        given="not MIA4", target="none")
    results = {
        "example": {"contrast": "p(none|MIA4) - p(none|not MIA4)",
                    "pooled_observed_p(none|not MIA4)": float(pooled),
                    **fit_both(example, "MIA4", "rupture", ("MIA4", "not MIA4", "none"), fit)},
    }
    seqs, truth = shared_effects_corpus()
    results["shared_effects_simulation"] = {
        "contrast": "p(a|flag) - p(a|not flag)", "truth": truth,
        **fit_both(seqs, "flag", "code", ("flag", "not flag", "a"), fit),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "transition_deviations.json").write_text(json.dumps(results, indent=1))
    options = "" if (args.draws, args.chains) == (FIT["draws"], FIT["chains"]) else (
        f" --draws {args.draws} --chains {args.chains}")
    lines = ["# TransitionModel: shared + row deviations vs row-specific only", "",
             f"Command: `.venv/bin/python benchmarks/transition_deviations.py{options}` "
             f"({args.chains} chains x {args.draws} draws, seed 1).", ""]
    for name, block in results.items():
        lines += [f"## {name}: {block['contrast']}", ""]
        if "truth" in block:
            lines.append(f"True population contrast: {block['truth']:.3f}")
        if "pooled_observed_p(none|not MIA4)" in block:
            lines.append("Pooled observed p(none | not MIA4): "
                         f"{block['pooled_observed_p(none|not MIA4)']:.3f}")
        lines += ["", "| deviations | contrast mean | contrast sd | 90% interval | "
                  "p (population avg) | p (typical) | R-hat max | bulk ESS min | div | s |",
                  "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
        for dev in ("shared+row", "row"):
            r = block[dev]
            lines.append(
                f"| {dev} | {r['contrast_mean']:.3f} | {r['contrast_sd']:.3f} | "
                f"[{r['contrast_lower']:.3f}, {r['contrast_upper']:.3f}] | "
                f"{r['population_p']:.3f} | {r['typical_p']:.3f} | {r['rhat_max']:.3f} | "
                f"{r['ess_bulk_min']:.0f} | {r['divergences']} | {r['seconds']:.0f} |")
        lines.append("")
    (out / "transition_deviations.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
