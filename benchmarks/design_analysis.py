"""Design analysis of the MIA4 (t-1) -> confrontation effect on thesis-like corpora.

1. Precision check: the example corpus (``lagnest.datasets.load_example()``, drawn from
   ``thesis_like`` with seed 2025: 6 dyads, 6-10 sessions, ten 5-minute segments) is fitted
   with the ``mia_to_rupture`` spec (4 chains x 1000 draws); the width of its 95% interval
   (lagnest's default) of the MIA4[t-1] -> confrontation log odds ratio is compared with
   the median width the design analysis finds at 6 dyads x 8 sessions x 10 segments
   (target: within 20%).
2. Detection: the share of simulated studies whose 95% interval excludes zero on the side
   of the simulator's default effect (log OR -0.8: a wrong-sign exclusion is no
   detection), against the number of dyads, beside the false-positive rate of the same
   studies' null MIA slopes; the smallest design reaching 80%.

Run: ``.venv/bin/python benchmarks/design_analysis.py`` (resumable: finished fits are kept
in ``benchmarks/.runs/``). Writes ``results/design_analysis.{json,md,png}``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import lagnest as ln
from lagnest import calibration

RESULTS = Path(__file__).parent / "results"
RUNS = Path(__file__).parent / ".runs"
COLUMN, CATEGORY = "MIA4[t-1]", "confrontation"
#: The intervals read: lagnest's default (the runs recorded before 2026-12-07 read 90%).
CI_PROB = 0.95


def example_width():
    """Fit mia_to_rupture on the example corpus (cached on disk); the effect's interval."""
    path = RUNS / "example_mia_to_rupture.nc"
    if path.exists():
        result = ln.load(path)
    else:
        model = ln.from_spec("mia_to_rupture", ln.datasets.load_example())
        t0 = time.perf_counter()
        result = model.fit(seed=1, cores=1, warn=False)
        print(f"example fit {time.perf_counter() - t0:.0f} s")
        RUNS.mkdir(exist_ok=True)
        result.save(path)
    lor = result.log_odds_ratios(ci_prob=CI_PROB).sel(feature=COLUMN, category=CATEGORY)
    d = result.diagnostics
    return {"mean": float(lor["mean"]), "lower": float(lor["lower"]),
            "upper": float(lor["upper"]), "width": float(lor["upper"] - lor["lower"]),
            "rhat_max": float(d.rhat_max), "n_divergent": int(d.n_divergent),
            "sampler": result.config["sampler"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-sim", type=int, default=40)
    ap.add_argument("--dyads", default="6,10,20")
    ap.add_argument("--sessions", default="8")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--n-sim-example", type=int, default=None,
                    help="simulations of the example's design (6 dyads x 8 sessions x 10 "
                         "segments) for the precision check (default --n-sim); the same run "
                         "folder, so its first --n-sim are the table's")
    args = ap.parse_args()
    dyads = [int(x) for x in args.dyads.split(",")]
    sessions = [int(x) for x in args.sessions.split(",")]
    t0 = time.perf_counter()
    example = example_width()
    # lagnest's 95% intervals, compared with the example fit's 95% interval
    da = calibration.design_analysis(dyads=dyads, sessions=sessions, segments=10,
                                     n_sim=args.n_sim, seed=2026, n_jobs=args.jobs,
                                     ci_prob=CI_PROB,
                                     path=RUNS / "design_mia4_confrontation", progress=False)
    table = da.summary()
    at_example = da
    n_example = args.n_sim_example or args.n_sim
    if n_example != args.n_sim:
        at_example = calibration.design_analysis(
            dyads=[6], sessions=[8], segments=10, n_sim=n_example, seed=2026,
            ci_prob=CI_PROB,
            n_jobs=args.jobs, path=RUNS / "design_mia4_confrontation", progress=False)
    example_table = at_example.summary()
    base = example_table.loc[(6, 8, 10)] if (6, 8, 10) in example_table.index else None
    ratio = float(base["width_median"] / example["width"]) if base is not None else None
    smallest = da.smallest_design(0.8)
    percentile = None
    if base is not None:
        widths = at_example.data["width"].sel(dyads=6, sessions=8, segments=10).values
        widths = widths[np.isfinite(widths)]
        percentile = float((widths < example["width"]).mean())
    summary = {
        "example_fit": example,
        "design_at_example": None if base is None else {
            k: float(v) for k, v in base.items()},
        "width_ratio_design_over_example": ratio,
        "within_20_percent": None if ratio is None else bool(abs(ratio - 1) <= 0.2),
        "example_width_percentile_among_design": percentile,
        "smallest_design_80": smallest,
        "sentence": da.sentence(0.8),
        "table": json.loads(table.reset_index().to_json(orient="records")),
        "fit_seconds_median": float(np.nanmedian(da.data["seconds"])),
        "total_seconds": time.perf_counter() - t0,
        "n_sim": args.n_sim,
        "n_sim_example_design": n_example,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "design_analysis.json").write_text(json.dumps(summary, indent=2))
    da.plot().savefig(RESULTS / "design_analysis.png", dpi=110)
    cols = ["n", "n_failed", "p_exclude", "p_lower", "p_upper", "width_median", "width_q25",
            "width_q75", "mean_estimate", "bias", "fpr_null", "failed_fits", "divergent_fits"]
    lines = ["# Design analysis: MIA4 (t-1) -> confrontation", "",
             f"Command: `python benchmarks/design_analysis.py --n-sim {args.n_sim} "
             f"--dyads {args.dyads} --sessions {args.sessions}"
             + (f" --n-sim-example {n_example}`" if n_example != args.n_sim else "`"), "",
             f"Example corpus fit (mia_to_rupture, 4 x 1000 draws): log OR "
             f"{example['mean']:.2f}, {CI_PROB:.0%} interval [{example['lower']:.2f}, "
             f"{example['upper']:.2f}], width {example['width']:.2f}."]
    if ratio is not None:
        lines.append(f"Design analysis at 6 dyads x 8 sessions x 10 segments ({n_example} "
                     f"simulated studies): median width "
                     f"{base['width_median']:.2f} (ratio {ratio:.2f}; within 20%: "
                     f"{summary['within_20_percent']}); the example's width lies at the "
                     f"{percentile:.0%} point of the design's distribution of widths.")
    lines += ["", da.sentence(0.8), "", "| dyads | sessions | segments | " + " | ".join(cols)
              + " |", "|" + "---|" * (3 + len(cols))]
    for (d, s, t), row in table.iterrows():
        lines.append(f"| {d} | {s} | {t} | " + " | ".join(
            f"{row[c]:.3g}" if isinstance(row[c], float) else str(row[c]) for c in cols) + " |")
    (RESULTS / "design_analysis.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
