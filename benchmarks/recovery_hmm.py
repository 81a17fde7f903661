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
  offsets drawn once with the run seed); first segment of a session in state 1 with 0.8.

The design (MIA4 codes, sessions, dyads, uncoded segments) is that of
``lagnest.simulate.thesis_like(seed=1, sessions_per_dyad=(8, 8),
segments_per_session=(S, S))`` (S = 10 by default, the study's own size).
``lagnest.calibration.recovery`` runs the study: dataset i simulates the rupture stream
from the truth with the model's own hook ``model.simulate`` (states along every session,
then codes; uncoded stays uncoded; the dyad offsets, drawn once, are part of the fixed
truth), and the same model object is refitted. Reported: the 90% coverage of every
calibrated quantity (typical emission and transition probabilities, the MIA4 slopes, the
dyad scales), the correct-sign power and bias of the two MIA4 slopes, over all fits and
over the fits that passed their diagnostics on those quantities (R-hat <= 1.01, bulk and
tail ESS >= 100 per chain, no divergence), and the number that failed.

Each fit runs 4 chains x 1000 draws after 1000 tuning steps at target_accept 0.99 (the
setting of the SBC run, ``sbc_hmm.py``, which at 0.95 left divergences in a third of the
fits).

Run: ``.venv/bin/python benchmarks/recovery_hmm.py --n-fits 50 --segments 10 --jobs 2``
(resumable: finished fits are kept in ``benchmarks/.runs/``). Writes
``results/recovery_hmm.{json,md}`` (``recovery_hmm_<S>seg`` for other sizes, ``_draws500`` etc. for
changed sampler settings).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import xarray as xr
from cli_options import as_flags, changed_options, name_parts

from lagnest import calibration
from lagnest.models import HiddenMarkovModel
from lagnest.simulate import thesis_like

RESULTS = Path(__file__).parent / "results"
RUNS = Path(__file__).parent / ".runs"
EMISSION = np.array([[0.85, 0.09, 0.05, 0.01], [0.30, 0.40, 0.20, 0.10]])
MOVE_PROB = np.array([0.10, 0.35])  # 1 -> 2, 2 -> 1 (moves in row order)
BETA = np.array([-0.8, 0.8])  # MIA4[t-1] on the two moves
SIGMA = 0.3
P_START_1 = 0.8


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def truth_params(model: HiddenMarkovModel, rng: np.random.Generator) -> dict:
    """The fixed truth in the model's own variables (the calibrated ones included)."""
    free = np.log(EMISSION[:, 1:] / EMISSION[:, :1])  # (K, M-1) logits against "none"
    n_dyads = len(model.coords["dyad"])
    move_logit = np.log(MOVE_PROB / (1 - MOVE_PROB))
    return {
        "emission_order_0": free[:, 0],  # withdrawal: increasing with the state
        "emission_rest_0": free[:, 1:],
        "emission_typical_0": EMISSION,
        "sigma_emission_0": SIGMA,
        "z_emission_0": rng.normal(size=(n_dyads, *free.shape)),
        "transition_logit": move_logit,
        "transition_typical": softmax(np.array([[0.0, move_logit[0]],
                                                [move_logit[1], 0.0]])),
        "beta": BETA[None, :],
        "sigma_transition": SIGMA,
        "z_transition": rng.normal(size=(n_dyads, 2)),
        "initial_logit": np.array([np.log((1 - P_START_1) / P_START_1)]),
    }


def summary(res, seg: int, args: argparse.Namespace, wall: float) -> dict:
    """Coverage of every calibrated quantity; power and bias of the MIA4 slopes."""
    ok = res.converged().values
    out: dict = {"n": int(res.n), "n_failed": int((~ok).sum()),
                 "n_divergent": int((res.data["n_divergent"] > 0).sum()),
                 "median_seconds": float(np.median(res.data["seconds"])),
                 "wall_seconds_this_call": wall, "settings": vars(args),
                 "design": f"thesis_like(seed=1), 6 dyads x 8 sessions x {seg} segments"}
    for key, sub in (("all", res), ("passed", res.select(ok) if ok.any() else None)):
        if sub is None:
            continue
        cov = sub.coverage(0.9)
        q = sub.data["quantiles"]
        truth = sub.truth
        lo, hi = q.sel(quantile=0.05), q.sel(quantile=0.95)
        sign = xr.where(truth > 0, lo > 0, hi < 0).mean("simulation")
        err = sub.data["mean"] - truth
        out[key] = {
            "n": int(sub.n), "overall_coverage": cov.attrs["overall"],
            "parameters": {
                str(p): {"truth": float(truth.sel(parameter=p).max()),  # same in every fit
                         "coverage": float(cov["coverage"].sel(parameter=p)),
                         "coverage_se": float(cov["se"].sel(parameter=p)),
                         "power": float(sign.sel(parameter=p)),
                         "bias": float(err.sel(parameter=p).mean()),
                         "bias_se": float(err.sel(parameter=p).std(ddof=1)
                                          / np.sqrt(sub.n)) if sub.n > 1 else None}
                for p in cov["parameter"].values}}
    return out


def write(path: Path, s: dict, seg: int, args: argparse.Namespace, flags: str) -> None:
    """JSON and markdown; ``flags``: the changed settings' command-line flags."""
    path.with_suffix(".json").write_text(json.dumps(s, indent=1) + "\n")
    lines = [f"# Recovery: HiddenMarkovModel, transition effect of MIA4 ({seg} segments "
             "per session)", "",
             f"Command: `python benchmarks/recovery_hmm.py --n-fits {args.n_fits} "
             f"--segments {seg}{' ' + flags if flags else ''}`. "
             "Truth: see the script's docstring (MIA4 at t-1: log odds "
             "ratio -0.8 on entering the rupture state, +0.8 on leaving it). "
             f"Design: {s['design']}; {args.chains} chains x {args.draws} draws (tune "
             f"{args.tune}, target_accept {args.target_accept}); median fit "
             f"{s['median_seconds']:.0f} s.", "",
             f"Fits that failed their diagnostics on the calibrated quantities: "
             f"{s['n_failed']} of {s['n']} ({s['n_divergent']} with divergences).", ""]
    for key, label in (("all", "All fits"), ("passed", "Fits that passed")):
        if key not in s:
            continue
        r = s[key]
        lines += [f"## {label} ({r['n']})", "",
                  f"90% coverage over every quantity: {r['overall_coverage']:.3f}.", "",
                  "| quantity | truth | 90% coverage (SE) | correct-sign power | bias (SE) |",
                  "|---|---:|---:|---:|---:|"]
        for name, v in r["parameters"].items():
            power = f"{v['power']:.2f}" if name.startswith("beta") else "-"
            bse = "-" if v["bias_se"] is None else f"{v['bias_se']:.3f}"
            lines.append(f"| {name} | {v['truth']:.3f} | {v['coverage']:.2f} "
                         f"({v['coverage_se']:.2f}) | {power} | {v['bias']:+.3f} ({bse}) |")
        lines.append("")
    path.with_suffix(".md").write_text("\n".join(lines))


#: the sampler settings a run may change from their defaults (then named, see main)
SETTINGS = ("draws", "tune", "chains", "target_accept", "seed")


def main(argv: list[str] | None = None) -> int:
    """Run the study (resumable) and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-fits", type=int, default=50)
    ap.add_argument("--segments", type=int, default=10)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--target-accept", type=float, default=0.99)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20261206)
    args = ap.parse_args(argv)
    seg = args.segments
    # a run with other settings gets its own resumable folder (the engine refuses a folder
    # holding another run's results) and names them in its command line
    changed = changed_options(ap, args, SETTINGS)
    folder = "-".join(["recovery_hmm", str(seg), *name_parts(changed)])
    seqs, _ = thesis_like(seed=1, sessions_per_dyad=(8, 8), segments_per_session=(seg, seg))
    model = HiddenMarkovModel(seqs, ["rupture"], 2, transition_predictors=["MIA4"],
                              order_by="rupture:withdrawal")
    truth = truth_params(model, np.random.default_rng(args.seed))
    t0 = time.perf_counter()
    res = calibration.recovery(model, truth, n=args.n_fits, seed=args.seed, draws=args.draws,
                               tune=args.tune, chains=args.chains,
                               target_accept=args.target_accept, n_jobs=args.jobs,
                               path=RUNS / folder, progress=False)
    s = summary(res, seg, args, time.perf_counter() - t0)
    # results named by size and by the changed settings (a default run never overwrites)
    out = RESULTS / "_".join(["recovery_hmm" if seg == 10 else f"recovery_hmm_{seg}seg",
                              *name_parts(changed)])
    write(out, s, seg, args, as_flags(changed))
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
