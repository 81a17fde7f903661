"""Readable by default (issue 22, item 3): what a user prints or draws reads well.

Printed tables fit 100 columns and say what each column is; blank cells say why; effective
sample sizes are whole numbers; an empty list of flags says "none flagged"; arrow labels
of transition diagrams do not collide.
"""

from __future__ import annotations

import itertools
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import lagnest as ln
from lagnest.checks.ppc import FlaggedTable, PredictiveCheck
from lagnest.classical.statistics import table_statistics
from lagnest.models._fit import Diagnostics, _worst
from lagnest.models.summaries import WIDTH, ResultSummary, format_table

#: ESS printed with decimals: "ESS min 40.9", "(40.9)" in an ESS failure.
_FRACTIONAL_ESS = re.compile(r"ESS min \d+\.\d|ESS < \d+: .*\(\d+\.\d+\)")


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


# =========================================================================== tables


def test_format_table_blanks_nan_and_prints_integers_whole():
    frame = pd.DataFrame({"count": [3, 12], "prob": [0.25, np.nan], "label": ["a", None]},
                         index=pd.Index(["x", "y"], name="given"))
    text = format_table(frame)
    lines = text.splitlines()
    assert lines[0].split() == ["given", "count", "prob", "label"]
    assert lines[1].split() == ["x", "3", "0.250", "a"]
    assert lines[2].split() == ["y", "12"]  # NaN and None blank, never "nan"
    assert "nan" not in text.lower() and "None" not in text


def test_format_table_keeps_wide_tables_within_the_width():
    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_product([["rupture=confrontation[first segment]", "MIA4[t-1]"],
                                        ["withdrawal", "confrontation"]],
                                       names=["feature", "category"])
    wide = pd.DataFrame(rng.normal(size=(4, 9)), index=index,
                        columns=[f"column_number_{k}" for k in range(9)])
    for width in (60, 80, WIDTH):
        text = format_table(wide, width=width)
        assert _widest(text) <= width, text
        for name in wide.columns:  # every column printed, in some block
            assert name in text
    # a two-level index whose outer labels are long: outer labels on lines of their own
    narrow = wide.iloc[:, :4]
    text = format_table(narrow, width=80)
    assert "rupture=confrontation[first segment]\n  withdrawal" in text
    assert _widest(text) <= 80


def test_result_summary_prints_shown_columns_meanings_blanks_and_the_rest():
    table = pd.DataFrame({"OR": [1.5, 0.8], "OR_mean": [1.6, 0.9], "AME": [0.1, np.nan]},
                         index=pd.Index(["MIA4[t-1]", "MIA2:withdrawal"], name="feature"))
    summary = ResultSummary(
        "A model", table, lines=("  " + "data " * 40,), notes=("A note.",),
        diagnostics="R-hat max 1.001", columns={"OR": "odds ratio", "AME": "marginal effect"},
        shown=("OR", "AME"), blanks={"AME": "not defined for interaction columns"})
    text = str(summary)
    assert repr(summary) == text and _widest(text) <= WIDTH
    assert "OR_mean" not in text.split("Columns:")[0]  # not printed in the table ...
    assert "Not printed (in .table and to_dataframe()): OR_mean." in text  # ... but named
    assert "  OR   odds ratio" in text and "  AME  marginal effect" in text
    assert "Blank cells: AME: not defined for interaction columns." in text
    assert "nan" not in text.lower()
    assert summary.to_dataframe().equals(table)  # every column kept for code
    html = summary._repr_html_()
    assert "not defined for interaction columns" in html and "NaN" not in html


def test_diagnostics_print_whole_effective_sample_sizes():
    table = pd.DataFrame({"parameter": ["a", "b", "c"], "rhat": [1.04, 1.0, 1.001],
                          "ess_bulk": [40.9, 77.7, 1000.2], "ess_tail": [68.2, 90.5, 950.0]})
    bad = (table["ess_bulk"] < 400).to_numpy()
    assert _worst(table, "ess_bulk", bad) == "a (41), b (78)"
    assert _worst(table, "rhat", (table["rhat"] > 1.01).to_numpy()) == "a (1.04)"
    long = ", ".join(f"logit_session[D3-S0{k}, not MIA4, withdrawal] (7{k}.3)" for k in range(5))
    diag = Diagnostics(table, 1.04, 40.9, 68.2, 0, 0, 0.7, 2, 200,
                       failures=(f"bulk ESS < 200: {long} and 67 more",))  # an older result
    text = str(diag)
    assert "bulk ESS min 41," in text and "tail ESS min 68," in text
    assert not _FRACTIONAL_ESS.search(text.replace("\n", " ")), text
    assert "(70)" in text and _widest(text) <= WIDTH


# =========================================================================== checks


def _check() -> PredictiveCheck:
    rng = np.random.default_rng(1)
    observed = xr.Dataset({"G2": ((), 31.0)})  # two-sided ppp about 0.8
    replicated = xr.Dataset({"G2": (("draw",), rng.normal(30.0, 4.0, 40))})
    return PredictiveCheck(observed, replicated, (replicated > observed).mean("draw"),
                           "posterior", "synthetic", "TransitionModel")


def test_flagged_prints_none_flagged_and_stays_a_dataframe():
    check = _check()
    none = check.flagged(alpha=1e-6)
    assert isinstance(none, FlaggedTable) and isinstance(none, pd.DataFrame)
    assert none.empty and list(none.columns) == list(check.summary().columns)
    assert str(none) == repr(none) == ("none flagged at two-sided posterior predictive p (ppp) "
                                       "< 1e-06")
    assert "Empty DataFrame" not in repr(none)
    some = check.flagged(alpha=0.9)
    assert len(some) == 1 and repr(some).startswith("1 flagged at two-sided")
    assert some["statistic"].tolist() == ["G2"] and some.to_dict(orient="records")
    printed = str(check)
    assert repr(check) == printed and _widest(printed) <= WIDTH
    assert "ppp_two_sided" in printed


# =========================================================================== diagrams


def _label_overlaps(diagram) -> list[tuple[str, str]]:
    """Pairs of text labels (arrow weights, codes) whose drawn boxes overlap."""
    diagram.figure.canvas.draw()
    texts = [t for t in diagram.ax.texts if t.get_text().strip() and t.get_visible()]
    boxes = [(t.get_text(), t.get_window_extent()) for t in texts]
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
            if box_a.overlaps(box_b)]


def _dense_table(k: int, m: int, seed: int) -> xr.Dataset:
    """A lag table whose every cell is emphasised at alpha = 0.999 (every arrow labelled)."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.gamma(0.6, 30.0, size=(k, m))).astype(float) + 1
    tab = table_statistics(counts)
    same = k == m
    tab = tab.assign_coords(given=[f"code{i}" for i in range(k)],
                            target=[f"code{j}" if same else f"next{j}" for j in range(m)])
    tab.attrs.update(given="x", target="x" if same else "y", lag=1)
    return tab


@pytest.mark.parametrize(("k", "m"), [(3, 3), (4, 4), (3, 4), (4, 3)])
@pytest.mark.parametrize("size", [None, 4.0, 3.0])
def test_diagram_labels_do_not_overlap(k, m, size):
    """3- and 4-code diagrams with every arrow labelled, on a circle and in two columns.

    At the default size and in a 3-inch axes, where labels placed at the arrows' middles
    collided on the circle (two arrows meeting between a pair of codes).
    """
    for seed in range(4):
        ax = None if size is None else plt.subplots(figsize=(size, size),
                                                    layout="constrained")[1]
        for weight in ("lift", "trans_prob"):
            if ax is not None:
                ax.clear()
            drawn = ln.plots.transition_diagram(_dense_table(k, m, seed), ax=ax,
                                                weight=weight, alpha=0.999)
            labels = [t for t in drawn.ax.texts if t.get_gid() == "arrow_label"]
            assert len(labels) == k * m
            assert not _label_overlaps(drawn), (seed, weight, _label_overlaps(drawn))
            if ax is None:
                plt.close(drawn.figure)
        plt.close("all")


def test_diagram_labels_stay_on_their_arrows_when_nothing_collides():
    tab = ln.lag_table(ln.datasets.load_example(), "rupture", "resolution")
    drawn = ln.plots.transition_diagram(tab)
    assert not _label_overlaps(drawn)
    plt.close(drawn.figure)


# =========================================================================== fits


@pytest.fixture(scope="module")
def small_corpus():
    corpus = ln.datasets.load_example()
    return corpus.subset(dyads=corpus.dyad_labels[:3])


def _examples():
    from tests.models.test_contract import EXAMPLES  # one construction per model kind

    return EXAMPLES


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_examples()))
def test_every_summary_fits_100_columns_with_whole_ess(name, small_corpus, monkeypatch):
    from lagnest.models.registry import model_class

    monkeypatch.setenv("LAGNEST_QUICK", "1")  # 2 chains x 100 draws
    result = model_class(name)(small_corpus, **_examples()[name]).fit(seed=1, warn=False)
    summary = result.summary()
    text = str(summary)
    assert _widest(text) <= WIDTH, "\n".join(line for line in text.splitlines()
                                            if len(line) > WIDTH)
    assert "nan" not in text.lower().replace("nanoseconds", "")
    # a line per printed column, saying what it is
    legend = text.split("\nColumns:\n")[1]
    shown = summary.shown or list(summary.table.columns)
    for column in shown:
        assert column in legend, (column, legend)
    # the diagnostics: effective sample sizes as whole numbers
    diagnostics = text.split("\nDiagnostics: ")[1]
    assert re.search(r"bulk ESS min \d+, tail ESS min \d+,", diagnostics), diagnostics
    assert not _FRACTIONAL_ESS.search(diagnostics.replace("\n", " ")), diagnostics
    assert _widest(str(result.diagnostics)) <= WIDTH
    if name == "LaggedRegression":  # an interaction and a covariate: blank AME, said why
        words = " ".join(text.split())
        assert "Blank cells: AME: not defined for interaction columns, covariates" in words
        assert "z_classical, Q_classical: no single lag table for interaction columns" in words
