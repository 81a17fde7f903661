"""Recovery of a transition effect of MIA4 by ``HiddenMarkovModel``: do 90% intervals cover it?

Model: ``HiddenMarkovModel(seqs, ["rupture"], 2, transition_predictors=["MIA4"],
order_by="rupture:withdrawal")`` with its default priors (two latent states emitting the
four rupture categories, MIA4 at t-1 on both moves, dyad deviations of the emission and
transition logits).

Truth (fixed for every fit; state 1 "working", state 2 "rupture episode"):

- emissions (typical dyad) p(none, withdrawal, confrontation, both): state 1
  (0.85, 0.09, 0.05, 0.01), state 2 (0.30, 0.40, 0.20, 0.10);
- transitions without MIA4 at t-1: 1 -> 2 with 0.10, 2 -> 1 with 0.35;
- MIA4 at t-1: log odds ratio -0.8 on entering the rupture state (1 -> 2) and +0.8 on
  leaving it (2 -> 1): the therapist's mindfulness in action protects and repairs;
- dyad deviations: ``sigma_emission`` 0.3 and ``sigma_transition`` 0.3 (standard normal
  offsets drawn afresh for every fit); first segment of a session in state 1 with 0.8.

Each fit ``i`` takes the design (MIA4 codes, sessions, dyads, uncoded segments) of
``lagnest.simulate.thesis_like(seed=i, ...)`` at the chosen size, simulates the rupture
stream from the truth with the model's own hook ``model.simulate`` (states along every
session, then codes; uncoded stays uncoded), and refits the same model object
(``model.fit(observed=...)``). Recorded per fit: whether the central 90% intervals of
the two MIA4 log odds ratios cover -0.8 and +0.8, whether they exclude 0 with the right
sign, and the fit's diagnostics; coverage is reported over all fits and over the fits
that passed them.

Run: ``.venv/bin/python benchmarks/recovery_hmm.py --n-fits 50 [--segments 30]``.
Writes ``results/recovery_hmm.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from lagnest.models import HiddenMarkovModel
from lagnest.simulate import thesis_like

RESULTS = Path(__file__).parent / "results"
EMISSION = np.array([[0.85, 0.09, 0.05, 0.01], [0.30, 0.40, 0.20, 0.10]])
MOVE_PROB = np.array([0.10, 0.35])  # 1 -> 2, 2 -> 1 (moves in row order)
BETA = np.array([-0.8, 0.8])  # MIA4[t-1] on the two moves
SIGMA = 0.3
P_START_1 = 0.8


def truth_params(model: HiddenMarkovModel, rng: np.random.Generator) -> dict:
    """The fixed truth in the model's own parameters, with fresh dyad offsets."""
    free = np.log(EMISSION[:, 1:] / EMISSION[:, :1])  # (K, M-1) logits against "none"
    n_dyads = len(model.coords["dyad"])
    return {
        "emission_order_0": free[:, 0],  # withdrawal: increasing with the state
        "emission_rest_0": free[:, 1:],
        "sigma_emission_0": SIGMA,
        "z_emission_0": rng.normal(size=(n_dyads, *free.shape)),
        "transition_logit": np.log(MOVE_PROB / (1 - MOVE_PROB)),
        "beta": BETA[None, :],
        "sigma_transition": SIGMA,
        "z_transition": rng.normal(size=(n_dyads, 2)),
        "initial_logit": np.array([np.log((1 - P_START_1) / P_START_1)]),
    }


def one_fit(i: int, args: argparse.Namespace) -> dict:
    """Simulate fit ``i`` from the truth on its design and refit; coverage and diagnostics."""
    seqs, _ = thesis_like(seed=i, n_dyads=args.dyads, sessions_per_dyad=(8, 8),
                          segments_per_session=(args.segments, args.segments))
    model = HiddenMarkovModel(seqs, ["rupture"], 2, transition_predictors=["MIA4"],
                              order_by="rupture:withdrawal")
    rng = np.random.default_rng([args.seed, i])
    observed = model.simulate(truth_params(model, rng), rng)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(draws=args.draws, tune=args.tune, chains=args.chains,
                        target_accept=args.target_accept, seed=int(rng.integers(2**31)),
                        observed=observed, warn=False, cores=1)
    seconds = time.perf_counter() - t0
    lor = res.log_odds_ratios(ci_prob=0.9).isel(feature=0)
    lo, hi = lor["lower"].values, lor["upper"].values
    d = res.diagnostics
    labels = res.label_check()
    return {
        "fit": i, "segments": int(seqs.n_segments), "seconds": seconds,
        "mean": lor["mean"].values.tolist(), "lower": lo.tolist(), "upper": hi.tolist(),
        "covered": ((lo <= BETA) & (BETA <= hi)).astype(int).tolist(),
        "right_sign": (np.where(BETA > 0, lo > 0, hi < 0)).astype(int).tolist(),
        "rhat_max": d.rhat_max, "ess_bulk_min": d.ess_bulk_min, "divergences": d.n_divergent,
        "passed": bool(d.ok), "labels_agree": bool(labels["agree"].all()),
    }


def summarise(fits: list[dict]) -> dict:
    """Coverage and power per move, over all fits and over the fits that passed."""
    def rates(sub: list[dict]) -> dict:
        if not sub:
            return {"n": 0}
        cov = np.array([f["covered"] for f in sub], dtype=float)
        sign = np.array([f["right_sign"] for f in sub], dtype=float)
        mean = np.array([f["mean"] for f in sub], dtype=float)
        n = len(sub)
        return {"n": n,
                "coverage": cov.mean(0).tolist(),
                "coverage_se": np.sqrt(cov.mean(0) * (1 - cov.mean(0)) / n).tolist(),
                "power": sign.mean(0).tolist(),
                "power_se": np.sqrt(sign.mean(0) * (1 - sign.mean(0)) / n).tolist(),
                "mean_estimate": mean.mean(0).tolist(),
                "bias_se": (mean.std(0, ddof=1) / np.sqrt(n)).tolist() if n > 1 else None}

    return {"all": rates(fits), "passed": rates([f for f in fits if f["passed"]]),
            "n_failed": sum(not f["passed"] for f in fits),
            "n_divergent": sum(f["divergences"] > 0 for f in fits),
            "median_seconds": float(np.median([f["seconds"] for f in fits]))}


def write(path: Path, fits: list[dict], args: argparse.Namespace) -> None:
    """JSON with every fit, markdown summary."""
    s = summarise(fits)
    path.with_suffix(".json").write_text(json.dumps(
        {"settings": vars(args), "summary": s, "fits": fits}, indent=1) + "\n")
    moves = ["1 -> 2 (entering rupture, truth -0.8)", "2 -> 1 (leaving rupture, truth +0.8)"]
    lines = ["# Recovery: HiddenMarkovModel, transition effect of MIA4", "",
             f"Command: `python benchmarks/recovery_hmm.py --n-fits {args.n_fits} "
             f"--segments {args.segments} --dyads {args.dyads}`. Truth and design: see the "
             "script's docstring. "
             f"Design: thesis_like(seed=i), {args.dyads} dyads x 8 sessions x "
             f"{args.segments} segments; {args.chains} chains x {args.draws} draws "
             f"(tune {args.tune}, target_accept {args.target_accept}); median fit "
             f"{s['median_seconds']:.0f} s.", "",
             f"Fits that failed their diagnostics (R-hat > 1.01, ESS < 400 or divergences "
             f"on the model's diagnostic variables): {s['n_failed']} of {len(fits)} "
             f"({s['n_divergent']} with divergences).", "",
             "| fits | move | 90% coverage (SE) | correct-sign power (SE) | mean estimate |",
             "|---|---|---:|---:|---:|"]
    for key, label in (("all", "all"), ("passed", "passed diagnostics")):
        r = s[key]
        if not r["n"]:
            continue
        for m, move in enumerate(moves):
            lines.append(f"| {label} ({r['n']}) | {move} | {r['coverage'][m]:.2f} "
                         f"({r['coverage_se'][m]:.2f}) | {r['power'][m]:.2f} "
                         f"({r['power_se'][m]:.2f}) | {r['mean_estimate'][m]:+.2f} |")
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run (resumable: fits already in the JSON are kept) and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-fits", type=int, default=50)
    ap.add_argument("--segments", type=int, default=30)
    ap.add_argument("--dyads", type=int, default=6)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--target-accept", type=float, default=0.95)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--out", default=str(RESULTS / "recovery_hmm"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    fits: list[dict] = []
    if out.with_suffix(".json").exists():
        old = json.loads(out.with_suffix(".json").read_text())
        keys = ("segments", "dyads", "draws", "tune", "chains", "target_accept", "seed")
        if all(old["settings"].get(k) == getattr(args, k) for k in keys):
            fits = old["fits"]
    done = {f["fit"] for f in fits}
    for i in range(args.n_fits):
        if i in done:
            continue
        fits.append(one_fit(i, args))
        f = fits[-1]
        print(f"fit {i}: covered {f['covered']}, sign {f['right_sign']}, R-hat "
              f"{f['rhat_max']:.3f}, div {f['divergences']}, {f['seconds']:.0f} s", flush=True)
        write(out, fits, args)
    write(out, fits, args)
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
