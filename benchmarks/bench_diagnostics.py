"""Benchmark of the fits' convergence diagnostics: lagnest's one-pass table against ArviZ.

Usage: python benchmarks/bench_diagnostics.py [--quick] [--repeat R] [--out DIR]

Every fit reports rank-normalised split R-hat and bulk / tail ESS for each parameter cell
(:func:`lagnest.models.convergence.convergence_table`). The baseline, run in the same
process on the same draws, is ArviZ's ``rhat`` + ``ess(method="bulk")`` +
``ess(method="tail")`` on a Dataset of the same cells (what lagnest called before). Shapes:
a quick fit of the example corpus's default transition model (2 chains x 100 draws, 964
cells, the docs pages' and tests' size), the same at 4 x 1000, and a small model (4 x 1000,
50 cells). The draws are AR(1) chains (phi 0.5). The largest difference between the two
is reported beside the times. Writes ``bench_diagnostics.json`` and ``.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import arviz as az
import numpy as np
import xarray as xr
from timing import best_of

from lagnest.models.convergence import convergence_table

SHAPES = {
    "quick transition fit (2 x 100, 964 cells)": (2, 100, 964),
    "transition fit (4 x 1000, 964 cells)": (4, 1000, 964),
    "small model (4 x 1000, 50 cells)": (4, 1000, 50),
}


def draws(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """AR(1) chains with phi 0.5."""
    noise = np.random.default_rng(seed).normal(size=shape)
    x = np.empty(shape)
    x[:, 0] = noise[:, 0]
    for t in range(1, shape[1]):
        x[:, t] = 0.5 * x[:, t - 1] + noise[:, t]
    return x


def arviz_table(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cells = xr.Dataset({"x": (("chain", "draw", "cell"), x)})
    return (np.asarray(az.rhat(cells)["x"]), np.asarray(az.ess(cells, method="bulk")["x"]),
            np.asarray(az.ess(cells, method="tail")["x"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the first shape, one repeat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    shapes = dict(list(SHAPES.items())[:1]) if args.quick else SHAPES
    repeat = 1 if args.quick else args.repeat
    prob = float(az.rcParams["stats.ci_prob"])
    rows = []
    for label, shape in shapes.items():
        x = draws(shape)
        ours = convergence_table(x, tail_prob=prob)
        theirs = arviz_table(x)
        diff = max(float(np.max(np.abs(a - b) / np.abs(b))) for a, b in zip(ours, theirs,
                                                                               strict=True))
        t_ours = best_of(lambda x=x: convergence_table(x, tail_prob=prob), repeat)
        t_arviz = best_of(lambda x=x: arviz_table(x), repeat)
        rows.append({"shape": label, "lagnest_s": round(t_ours, 4),
                     "arviz_s": round(t_arviz, 4), "speedup": round(t_arviz / t_ours, 1),
                     "max_relative_difference": diff})
        print(rows[-1])
    meta = {"python": platform.python_version(), "numpy": np.__version__,
            "arviz": az.__version__, "machine": platform.machine(), "repeat": repeat}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_diagnostics.json").write_text(json.dumps({"meta": meta, "rows": rows},
                                                           indent=1))
    lines = [
        f"# Convergence diagnostics: lagnest's one-pass table against ArviZ (best of {repeat})",
        "",
        "Command: `python benchmarks/bench_diagnostics.py`. R-hat + bulk ESS + tail ESS of "
        "every cell, same draws, same process.",
        "",
        "| draws | lagnest (s) | ArviZ (s) | ArviZ / lagnest | largest relative difference |",
        "|---|---:|---:|---:|---:|",
        *(f"| {r['shape']} | {r['lagnest_s']} | {r['arviz_s']} | {r['speedup']} | "
          f"{r['max_relative_difference']:.1e} |" for r in rows),
        "",
        f"Python {meta['python']}, NumPy {meta['numpy']}, ArviZ {meta['arviz']}, "
        f"{meta['machine']}.",
    ]
    (out / "bench_diagnostics.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
