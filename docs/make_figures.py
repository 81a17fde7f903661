"""Draw one PNG of each figure of :mod:`lagnest.viz.plots` into ``docs/figures/``.

Usage: ``python docs/make_figures.py [--out DIR] [--draws N]`` (about a minute on 2
cores: one short fit of the transition model on the example corpus).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import lagnest as ln
from lagnest.viz import plots


def main() -> None:
    """Draw every figure and save it as PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "figures")
    parser.add_argument("--draws", type=int, default=500)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    seqs = ln.datasets.load_example()

    def save(drawn, name: str) -> None:
        path = args.out / f"{name}.png"
        drawn.figure.savefig(path, dpi=110)
        plt.close(drawn.figure)
        print(path)

    table = ln.lag_table(seqs, "rupture", "resolution", lag=1)
    save(plots.lag_table_heatmap(table), "heatmap")
    by_dyad = ln.lag_table(seqs, "rupture", "rupture", lag=1, by="dyad")
    save(plots.lag_table_heatmap(by_dyad, annotate=False), "heatmap_by_dyad")
    save(plots.transition_diagram(ln.lag_table(seqs, "rupture", "rupture"),
                                  weight="trans_prob"), "diagram_classical")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ln.TransitionModel(seqs, "rupture", "resolution").fit(
            draws=args.draws, tune=args.draws, chains=2, cores=1, seed=1, warn=False)
    save(plots.transition_diagram(result), "diagram_bayesian")
    save(plots.transition_forest(result, "withdrawal", "immediate"), "forest")
    save(plots.code_rates(seqs, "withdrawal"), "code_rates_session")
    save(plots.code_rates(seqs, "MIA4", by="segment", panels=True), "code_rates_segment")


if __name__ == "__main__":
    main()
