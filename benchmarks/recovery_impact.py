"""Recovery study of SessionImpactModel: do 90% intervals of the slopes cover the truth?

Design: a thesis-like corpus from ``lagnest.simulate.thesis_like`` with 6 dyads x 8
sessions (ten segments each); outcomes the four SEQ subscales, predictors TMS curiosity
and decentering, the session number, ``rate(rupture)`` and ``followed(rupture,
resolution, 3)`` (centred within dyad, standardised). The design (predictor matrix, dyads)
is fixed; every fit draws new outcomes from the model's own ``simulate`` hook and refits
the same compiled graph (``fit(observed=...)``) with the default priors and sampler
settings (4 chains x 1000 draws, tune 1000).

Two truths (``--truth``):

* ``fixed`` (default): the effects in :data:`FIXED_BETA` (half of them zero), dyad
  intercepts drawn once (SD 0.4), residual scales 0.7-0.85 with correlations 0.2-0.4 and
  nu = 10. Frequentist coverage of a weakly-informative Bayesian interval at one truth.
* ``prior``: every fit takes its parameters from one draw of the model's prior
  (``prior_predictive``), so the expected coverage is exactly nominal (as in SBC).

Run: ``NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/recovery_impact.py --n-fits 50``.
Writes ``benchmarks/results/recovery_impact[_prior].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from lagnest import simulate
from lagnest.models import SessionImpactModel

RESULTS = Path(__file__).parent / "results"
OUTCOMES = ["seq_depth", "seq_smoothness", "seq_positivity", "seq_arousal"]
PREDICTORS = ["tms_curiosity", "tms_decentering", "session_number", "rate(rupture)",
              "followed(rupture, resolution, 3)"]
#: Standardised effects (predictor x outcome) of the ``fixed`` truth.
FIXED_BETA = np.array([
    [0.00, 0.30, 0.25, 0.00],
    [0.20, -0.25, 0.00, 0.00],
    [-0.20, 0.00, 0.00, 0.10],
    [0.00, 0.00, -0.30, 0.20],
    [0.00, 0.15, 0.00, 0.00],
])
FIXED_CORR = np.array([
    [1.0, 0.3, 0.4, 0.2],
    [0.3, 1.0, 0.3, 0.2],
    [0.4, 0.3, 1.0, 0.3],
    [0.2, 0.2, 0.3, 1.0],
])


def fixed_truth(n_dyads: int) -> dict[str, np.ndarray]:
    """The ``fixed`` truth (intercepts drawn once, seed 0)."""
    return {
        "intercept_dyad": np.random.default_rng(0).normal(0.0, 0.4, (n_dyads, 4)),
        "beta": FIXED_BETA,
        "sigma_resid": np.array([0.8, 0.7, 0.75, 0.85]),
        "resid_corr": FIXED_CORR,
        "nu": np.float64(10.0),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the study; write JSON and markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-fits", type=int, default=50)
    parser.add_argument("--truth", choices=("fixed", "prior"), default="fixed")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--ci-prob", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    out = Path(args.out or RESULTS / ("recovery_impact" + ("_prior" if args.truth == "prior"
                                                            else "")))
    seqs, _ = simulate.thesis_like(seed=0, sessions_per_dyad=(8, 8))
    model = SessionImpactModel(seqs, OUTCOMES, PREDICTORS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = model.data
    dropped = [str(w.message) for w in caught]
    n_dyads = len(data.dyad_labels)
    if args.truth == "prior":
        prior = model.prior_predictive(draws=args.n_fits, seed=args.seed).draws
        truths = [prior.isel(chain=0, draw=i) for i in range(args.n_fits)]
    else:
        truths = [fixed_truth(n_dyads)] * args.n_fits
    rng = np.random.default_rng(args.seed)
    fits = []
    t0 = time.perf_counter()
    for i, truth in enumerate(truths):
        beta = np.asarray(truth["beta"], dtype=float)
        sim = model.simulate(truth, rng)
        t_fit = time.perf_counter()
        res = model.fit(draws=args.draws, tune=args.tune, chains=args.chains, cores=1,
                        seed=args.seed + i, observed=sim, warn=False)
        eff = res.effects(ci_prob=args.ci_prob)
        lo, hi, mean = eff["lower"].values, eff["upper"].values, eff["mean"].values
        inside = (lo <= beta) & (beta <= hi)
        d = res.diagnostics
        fits.append({
            "fit": i,
            "inside": inside.astype(int).tolist(),
            "error": (mean - beta).tolist(),
            "width": (hi - lo).tolist(),
            "diagnostics_ok": d.ok,
            "failures": list(d.failures),
            "rhat_max": d.rhat_max,
            "ess_bulk_min": d.ess_bulk_min,
            "ess_tail_min": d.ess_tail_min,
            "divergences": d.n_divergent,
            "seconds": time.perf_counter() - t_fit,
        })
        rate = np.mean([f["inside"] for f in fits])
        print(f"fit {i + 1}/{len(truths)}: {int(inside.sum())}/{inside.size} covered, running "
              f"{rate:.3f}; R-hat {d.rhat_max:.3f}, ESS {d.ess_bulk_min:.0f}/"
              f"{d.ess_tail_min:.0f}, div {d.n_divergent}, {fits[-1]['seconds']:.1f} s",
              flush=True)
    inside = np.array([f["inside"] for f in fits], dtype=float)  # (fits, P, J)
    n = inside.shape[0]
    per_slope = inside.mean(axis=0)
    pooled = float(inside.mean())
    per_fit = inside.reshape(n, -1).mean(axis=1)
    errors = np.array([f["error"] for f in fits])
    summary = {
        "truth": args.truth,
        "n_fits": n,
        "ci_prob": args.ci_prob,
        "n_sessions": len(data.session_labels),
        "n_dyads": n_dyads,
        "dropped_sessions": dropped,
        "coverage": pooled,
        "binomial_se": float(np.sqrt(pooled * (1 - pooled) / inside.size)),
        "fit_clustered_se": float(per_fit.std(ddof=1) / np.sqrt(n)),
        "per_slope": {
            f"{p} -> {o}": {
                "truth": float(FIXED_BETA[a, b]) if args.truth == "fixed" else None,
                "coverage": float(per_slope[a, b]),
                "binomial_se": float(np.sqrt(per_slope[a, b] * (1 - per_slope[a, b]) / n)),
                "bias": float(errors[:, a, b].mean()),
                "rmse": float(np.sqrt((errors[:, a, b] ** 2).mean())),
                "mean_width": float(np.mean([f["width"][a][b] for f in fits])),
            }
            for a, p in enumerate(PREDICTORS) for b, o in enumerate(OUTCOMES)
        },
        "fits_failing_diagnostics": int(sum(not f["diagnostics_ok"] for f in fits)),
        "fits_with_divergences": int(sum(f["divergences"] > 0 for f in fits)),
        "rhat_max": float(max(f["rhat_max"] for f in fits)),
        "ess_bulk_min": float(min(f["ess_bulk_min"] for f in fits)),
        "ess_tail_min": float(min(f["ess_tail_min"] for f in fits)),
        "settings": vars(args),
        "seconds": time.perf_counter() - t0,
        "structure": model.structure.describe(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"summary": summary, "fits": fits}, indent=1))
    what = ("the fixed truth below" if args.truth == "fixed"
            else "parameters drawn from the model's default priors (one draw per fit)")
    md = [
        f"# Recovery: SessionImpactModel slopes ({args.truth} truth)",
        "",
        f"{n} fits of the default model (4 SEQ outcomes on {len(PREDICTORS)} predictors, "
        f"{summary['n_sessions']} sessions of {n_dyads} dyads from `simulate.thesis_like(seed=0, "
        f"sessions_per_dyad=(8, 8))`; {summary['structure']}) on outcomes drawn by the "
        f"model's own `simulate` hook from {what}; {args.chains} chains x {args.draws} draws "
        f"(tune {args.tune}), one core per fit.",
        "",
        f"- central {args.ci_prob:.0%} intervals covered the true slope in "
        f"{int(inside.sum())}/{inside.size} cases: **{pooled:.3f}** (binomial SE "
        f"{summary['binomial_se']:.3f} ignoring correlation within a fit; SE over fits "
        f"{summary['fit_clustered_se']:.3f})",
        f"- fits failing a diagnostic (R-hat <= 1.01, bulk/tail ESS >= 400, no divergences): "
        f"{summary['fits_failing_diagnostics']}/{n} "
        f"({summary['fits_failing_diagnostics'] / n:.0%}); with divergences: "
        f"{summary['fits_with_divergences']}; worst R-hat {summary['rhat_max']:.3f}, "
        f"smallest bulk/tail ESS {summary['ess_bulk_min']:.0f}/{summary['ess_tail_min']:.0f}",
        f"- wall time {summary['seconds']:.0f} s ({summary['seconds'] / n:.1f} s per fit)",
        "",
        "| predictor -> outcome | truth | coverage | SE | bias | RMSE | mean width |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in summary["per_slope"].items():
        truth = "prior" if row["truth"] is None else f"{row['truth']:+.2f}"
        md.append(f"| {name} | {truth} | {row['coverage']:.2f} | {row['binomial_se']:.3f} | "
                  f"{row['bias']:+.3f} | {row['rmse']:.3f} | {row['mean_width']:.2f} |")
    if dropped:
        md += ["", "Design notes: " + " ".join(dropped)]
    md.append("")
    out.with_suffix(".md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
