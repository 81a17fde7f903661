"""One word per meaning: "p" is a classical p-value and nothing else (issue 22, item 2).

The rule, checked on what a reader sees: the text of a demo-style HTML report (and the
console text of the same run) and the text artists of every kind of figure.

* A *p statement* is the word "p" standing alone (either case; not the last letter of
  "ppp", not "p(G2)", "p_value" or "prob") followed by "=", "<", ">", "≤" or "≥" and a
  number: "p=0.83", "p = 0.940", "p < 0.05" (:data:`P_STATEMENT`).
* Only a classical p-value may be written that way, and the code that writes one marks
  it: on the page it sits inside an element of class ``pvalue`` (``Report``'s
  ``_pvalue`` and ``_classical_pre``); in a figure its ``Text`` has ``gid="pvalue"``
  (:data:`lagnest.viz.plots._common.PVALUE_GID`). Any p statement outside a mark fails.
* So a transitional probability is written "prob" or "P(target | given)", a posterior
  predictive p-value "ppp"; the console text of summaries and checks (no classical test
  in it) has no p statement at all.

Positive controls keep the scan honest: the marked statements are found (the scan sees
legends, colour-bar labels and ``<pre>`` blocks), heatmap cells say "prob=" and
predictive-check panels "ppp =".
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import matplotlib.text
import numpy as np
import pytest
import xarray as xr

import lagnest as ln
from lagnest.calibration.design import DesignAnalysis
from lagnest.checks.ppc import PredictiveCheck
from lagnest.viz.plots._common import PVALUE_GID

#: A p statement: the word "p" (alone) compared with a number.
P_STATEMENT = re.compile(r"(?<![\w(.\-])p\s*(?:=|<|>|≤|≥)\s*[-+]?(?:\d+\.?\d*|\.\d+)",
                         re.IGNORECASE)
#: Between chunks of page text (no statement can run across two elements).
_JOIN = " \u2063 "


def test_the_pattern_tells_p_values_from_the_other_words():
    found = ["p=0.83", "p = 0.940", "two-sided p < 0.01", "(df 3, p = 0.0360)", "P=.5",
             "* p < 0.05 (two-sided)"]
    passed = ["prob=0.83", "ppp = 0.940", "ppp < 0.01", "p(G2) = 0.07", "P(Q>0)",
              "p_two_sided", "P(target | given) = 0.4", "n=12", "top = 3", "step < 2"]
    assert all(P_STATEMENT.search(text) for text in found)
    assert not any(P_STATEMENT.search(text) for text in passed)


# =========================================================================== figures


def _figure_texts(fig) -> list[tuple[str, str | None]]:
    """Every non-empty text artist of a figure (titles, ticks, legends, colour bars)."""
    fig.canvas.draw()
    return [(t.get_text(), t.get_gid()) for t in fig.findobj(matplotlib.text.Text)
            if t.get_text().strip()]


def _scan_figure(name: str, fig) -> list[str]:
    """The figure's classical p statements; fails on an unmarked one."""
    texts = _figure_texts(fig)
    bad = [text for text, gid in texts if P_STATEMENT.search(text) and gid != PVALUE_GID]
    assert not bad, f"{name}: a p statement that is not a marked classical p-value: {bad}"
    return [text for text, gid in texts if gid == PVALUE_GID]


@pytest.fixture(scope="module")
def seqs():
    return ln.datasets.load_example()


def _synthetic_check() -> PredictiveCheck:
    rng = np.random.default_rng(0)
    codes = {"code": ["none", "withdrawal"]}
    observed = xr.Dataset({"G2": ((), 40.0), "n_runs": (("code",), [10.0, 12.0])},
                          coords=codes)
    replicated = xr.Dataset({"G2": (("draw",), rng.normal(30.0, 4.0, 60)),
                             "n_runs": (("draw", "code"), rng.normal(11.0, 2.0, (60, 2)))},
                            coords=codes)
    ppp = (replicated > observed).mean("draw")
    return PredictiveCheck(observed, replicated, ppp, "posterior", "synthetic replicates",
                           "TransitionModel")


def _synthetic_design() -> DesignAnalysis:
    dims = ("dyads", "sessions", "segments", "replicate")
    shape = (3, 2, 1, 4)
    lower = np.linspace(-2.0, 0.5, 24).reshape(shape)
    ds = xr.Dataset(
        {"lower": (dims, lower), "upper": (dims, lower + 1.0), "mean": (dims, lower + 0.5),
         "n_divergent": (dims, np.zeros(shape)), "ok": (dims, np.ones(shape, dtype=bool)),
         "null_slopes": (dims, np.full(shape, 5.0)), "null_excluding": (dims, np.zeros(shape))},
        coords={"dyads": [4, 6, 10], "sessions": [4, 8], "segments": [10],
                "replicate": range(4)})
    ds["width"] = ds["upper"] - ds["lower"]
    ds["excludes_zero"] = (ds["lower"] > 0) | (ds["upper"] < 0)
    ds.attrs.update({"effect": json.dumps({"given": "MIA4", "target": "confrontation",
                                           "lag": 1, "log_odds": -0.8}), "ci_prob": 0.9})
    return DesignAnalysis(ds)


def _synthetic_sbc():
    from lagnest import calibration

    ranks = np.random.default_rng(5).integers(0, 20, size=(100, 3))
    ds = xr.Dataset({"ranks": (("simulation", "parameter"), ranks)},
                    coords={"parameter": ["alpha[a]", "alpha[b]", "sigma"]})
    ds.attrs.update({"lagnest_calibration": json.dumps({"seed": 1}), "n_rank_draws": 19})
    return calibration.SBCResult(ds)


def _classical_figures(seqs):
    """Every kind of figure that needs no fit, by name."""
    plots = ln.plots
    rupture = ln.lag_table(seqs, "rupture", "rupture")
    by_dyad = ln.lag_table(seqs.subset(dyads=seqs.dyad_labels[:3]), "MIA4", "rupture",
                           by="dyad")
    estimates = xr.Dataset({"mean": ("dyad", [0.2, -0.1]), "lower": ("dyad", [-0.3, -0.6]),
                            "upper": ("dyad", [0.7, 0.4])}, coords={"dyad": ["D1", "D2"]})
    sbc = _synthetic_sbc()
    return {
        "heatmap": plots.lag_table_heatmap(rupture).figure,
        "heatmap of probabilities": plots.lag_table_heatmap(rupture, value="trans_prob").figure,
        "heatmap by dyad": plots.lag_table_heatmap(by_dyad).figure,
        "diagram, circle": plots.transition_diagram(rupture, weight="trans_prob").figure,
        "diagram, two columns": plots.transition_diagram(
            ln.lag_table(seqs, "rupture", "resolution")).figure,
        "forest": plots.forest(estimates, xlabel="log odds ratio").figure,
        "code rates": plots.code_rates(seqs, "MIA4").figure,
        "predictive check": plots.ppc_panels(_synthetic_check()).figure,
        "SBC ranks": sbc.plot(bins=4),
        "SBC ECDF": sbc.plot_ecdf(n_simulations=200),
        "design analysis": _synthetic_design().plot(),
    }


def test_every_figure_kind_says_p_only_for_classical_p_values(seqs):
    figures = _classical_figures(seqs)
    marked = {}
    try:
        for name, fig in figures.items():
            marked[name] = _scan_figure(name, fig)
        # the scan sees colour-bar labels and legends: the classical statements are there
        assert any("p < 0.05" in t for t in marked["heatmap"])
        assert any("p < 0.05" in t for t in marked["diagram, circle"])
        # heatmap cells: the transitional probability is "prob="
        cells = [t.get_text() for t in figures["heatmap"].axes[0].texts]
        assert cells and all("\nprob=" in t for t in cells), cells
        # predictive-check panels: the posterior predictive p-value is "ppp ="
        titles = [t for t, _ in _figure_texts(figures["predictive check"]) if "\n" in t]
        assert any(re.search(r"ppp = \d\.\d{3}", t) for t in titles)
    finally:
        for fig in figures.values():
            plt.close(fig)


# =========================================================================== the report


class _Text(HTMLParser):
    """Rendered text of a page, each chunk with whether it sits inside ``class="pvalue"``."""

    VOID = frozenset({"br", "img", "meta", "link", "hr", "input", "wbr", "source", "col"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.chunks: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        self.stack.append((tag, "pvalue" in classes))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if any(tag in ("style", "script") for tag, _ in self.stack):
            return
        self.chunks.append((data, any(mark for _, mark in self.stack)))


def _page_text(html: str) -> tuple[str, list[str]]:
    """Unmarked text of a page (chunks joined) and the marked chunks."""
    parser = _Text()
    parser.feed(html)
    unmarked = _JOIN.join(text for text, mark in parser.chunks if not mark)
    return unmarked, [text for text, mark in parser.chunks if mark]


def _context(text: str, match: re.Match) -> str:
    return " ".join(text[max(0, match.start() - 80):match.end() + 20].split())


def test_the_page_scan_finds_unmarked_statements():
    unmarked, marked = _page_text('<p>cell p=0.83</p><pre>G2 (<span class="pvalue">p = 0.04'
                                  "</span>)</pre><figcaption>two-sided p &lt; 0.01</figcaption>")
    assert [m.group(0) for m in P_STATEMENT.finditer(unmarked)] == ["p=0.83", "p < 0.01"]
    assert marked == ["p = 0.04"]


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory, seqs):
    """A demo-style report: the standard specs and a transition model, quick fits, checks."""
    from lagnest.demo import load_specs, run_analyses, standard_tables
    from lagnest.models.spec import standard_specs
    from lagnest.viz.report import write_report

    small = seqs.subset(dyads=seqs.dyad_labels[:3])
    console: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAGNEST_QUICK", "1")  # fits capped at 2 chains x 50 draws
        specs, skipped = load_specs(standard_specs(), skip_unknown_models=True)
        analyses = run_analyses(small, specs, seed=1, ppc_draws=20, echo=console.append)
        transition = ln.TransitionModel(small, "rupture", "rupture").fit(seed=2, warn=False)
    analyses.results["rupture_transitions"] = transition
    analyses.checks["rupture_transitions"] = transition.ppc(n_draws=20, seed=1)
    console += [str(transition.summary()), str(analyses.checks["rupture_transitions"])]
    path = write_report(tmp_path_factory.mktemp("vocabulary") / "report.html", small,
                        results=analyses.results, checks=analyses.checks,
                        tables=standard_tables(small), specs=analyses.specs,
                        skipped={**analyses.skipped, **skipped}, notes=["Quick fits."],
                        title="Vocabulary")
    return path, analyses, "\n".join(console)


@pytest.mark.slow
def test_the_report_says_p_only_for_marked_classical_p_values(demo_report):
    path, _, console = demo_report
    unmarked, marked = _page_text(path.read_text(encoding="utf-8"))
    bad = [_context(unmarked, m) for m in P_STATEMENT.finditer(unmarked)]
    assert not bad, f"p statements that are not marked classical p-values: {bad}"
    # the lag tables' G2 and X2 tests and their significance level are marked
    assert any(re.fullmatch(r"p = \d\.\d{4}", t) for t in marked)
    assert "p < 0.05" in marked
    # the summaries and checks say prob and ppp
    assert "prob_mean" in unmarked and "ppp_two_sided" in unmarked
    assert "posterior predictive p (ppp) < 0.01" in unmarked
    # the console text of the same run has no p statement at all
    bad = [_context(console, m) for m in P_STATEMENT.finditer(console)]
    assert not bad, f"p statements in the printed summaries and checks: {bad}"


@pytest.mark.slow
def test_figures_of_fits_say_p_only_for_classical_p_values(demo_report):
    _, analyses, _ = demo_report
    plots = ln.plots
    transition = analyses.results["rupture_transitions"]
    regression = analyses.results["mia_to_rupture"]
    odds = regression.log_odds_ratios().sel(category="withdrawal")
    figures = {
        "posterior diagram": plots.transition_diagram(transition).figure,
        "posterior diagram of probabilities": plots.transition_diagram(
            transition, weight="trans_prob").figure,
        "transition forest": plots.transition_forest(transition, "withdrawal",
                                                     "withdrawal").figure,
        "transition forest of probabilities": plots.transition_forest(
            transition, "none", "withdrawal", quantity="transition_probs").figure,
        "regression forest": plots.forest(odds, label="feature").figure,
    }
    for name, check in analyses.checks.items():
        figures[f"check {name}"] = check.plot(max_panels=6).figure
    try:
        for name, fig in figures.items():
            _scan_figure(name, fig)
    finally:
        for fig in figures.values():
            plt.close(fig)
