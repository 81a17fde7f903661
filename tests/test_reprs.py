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
from lagnest._summaries import WIDTH, ResultSummary, format_table
from lagnest.checks.ppc import FlaggedTable, PredictiveCheck
from lagnest.classical.statistics import table_statistics
from lagnest.models._fit import Diagnostics, _worst

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

    monkeypatch.setenv("LAGNEST_QUICK", "1")  # 2 chains x 50 draws
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
    # the answers print as tables too (they are Datasets underneath)
    for method in ("transition_probs", "odds_ratios", "effects", "stationary", "dwell_times"):
        if hasattr(result, method):
            answer = getattr(result, method)()
            shown = repr(answer)
            assert isinstance(answer, xr.Dataset) and "Size:" not in shown, (method, shown)
            assert _widest(shown) <= WIDTH and "Columns:" in shown, (method, shown)
    if name == "LaggedRegression":  # an interaction and a covariate: blank AME, said why
        words = " ".join(text.split())
        assert "Blank cells: AME: not defined for interaction columns, covariates" in words
        assert ("z_classical, Q_classical, n_pairs: no single lag table for interaction columns"
                in words)


def test_a_posterior_summary_prints_a_table_and_stays_a_dataset():
    from lagnest._summaries import ANSWER_ROWS, Answer, summarise

    rng = np.random.default_rng(3)
    draws = xr.DataArray(rng.normal(size=(2, 50, 3, 4)), dims=("chain", "draw", "given",
                                                                 "target"),
                         coords={"given": ["a", "b", "c"], "target": list("wxyz")})
    ans = summarise(draws, 0.9)
    assert isinstance(ans, Answer) and isinstance(ans, xr.Dataset)
    np.testing.assert_allclose(ans["mean"], draws.mean(("chain", "draw")))
    assert isinstance(ans.sel(given="a"), Answer)
    text = repr(ans)
    assert str(ans) == text and _widest(text) <= WIDTH
    assert "Size:" not in text and "<xarray" not in text
    assert text.startswith("Posterior summary: 12 values (given x target), 90% equal-tailed")
    first = ans.isel(given=0, target=0)
    row = next(line for line in text.splitlines() if line.startswith("a "))
    assert f"{float(first['mean']):.3f}" in row and f"{float(first['upper']):.3f}" in row
    assert "p_positive   posterior probability that the quantity exceeds 0" in text
    assert "<pre>" in ans._repr_html_()
    many = summarise(xr.DataArray(rng.normal(size=(1, 20, 50)), dims=("chain", "draw", "s")))
    assert f"First {ANSWER_ROWS} rows of 50" in repr(many)
    assert len([line for line in repr(many).splitlines() if line[:1].isdigit()]) == ANSWER_ROWS


# =========================================================================== results of runs


def _assert_short(obj, *expected: str) -> str:
    """``repr(obj)``: lines within 100 columns, no raw Dataset, ``expected`` in it."""
    text = repr(obj)
    assert str(obj) == text and _widest(text) <= WIDTH, text
    for raw in ("Size:", "<xarray", "Dataset", "nan", "NaN"):
        assert raw not in text, (raw, text)
    for word in expected:
        assert word in " ".join(text.split()), (word, text)
    html = obj._repr_html_()
    assert "<table" in html and "<xarray" not in html and "NaN" not in html
    return text


def _calibration_data(n: int, labels: list[str], seed: int = 0) -> xr.Dataset:
    """A small run as :func:`calibration.sbc` assembles it (no fit)."""
    import json

    from lagnest.calibration.sbc import QUANTILES

    rng = np.random.default_rng(seed)
    p = len(labels)
    truth = rng.normal(size=(n, p))
    mean = truth + rng.normal(0, 0.3, (n, p))
    offsets = np.array([-2.0, -1.6, -1.3, -0.7, 0.0, 0.7, 1.3, 1.6, 2.0]) * 0.3
    dims = ("simulation", "parameter")
    return xr.Dataset(
        {"truth": (dims, truth), "mean": (dims, mean), "sd": (dims, np.full((n, p), 0.3)),
         "quantiles": ((*dims, "quantile"), mean[..., None] + offsets),
         "ranks": (dims, rng.integers(0, 20, (n, p))),
         "rhat_max_ranked": ("simulation", np.r_[np.full(n - 1, 1.0), 1.05]),
         "ess_min_ranked": ("simulation", np.full(n, 900.0)),
         "n_divergent": ("simulation", np.r_[3, np.zeros(n - 1)]),
         "n_warnings": ("simulation", np.r_[np.zeros(n - 3, int), 1, 2, 0])},
        coords={"simulation": np.arange(n), "parameter": labels, "quantile": list(QUANTILES)},
        attrs={"lagnest_calibration": json.dumps({"seed": 3, "sampler": {"chains": 4},
                                                  "model": {"model": "TransitionModel"}}),
               "n_rank_draws": 19})


def test_sbc_and_recovery_results_print_a_short_table():
    from lagnest.calibration import RecoveryResult, SBCResult

    labels = ["logit_typical[not MIA4, withdrawal]", "logit_typical[MIA4, withdrawal]",
              "sigma_dyad"]
    sbc = SBCResult(_calibration_data(40, labels))
    cover = sbc.coverage(0.9)["coverage"].values
    test = sbc.uniformity()
    text = _assert_short(
        sbc, "Simulation-based calibration of TransitionModel: 40 simulations, 3 parameters",
        "ranked among 19 posterior draws", "2 of 40 failed the diagnostics", "2 of 40 raised",
        f"p = {test.attrs['overall_p']:.3f}", *(f"{c:.2f}" for c in cover),
        *(f"{p:.2f}" for p in test["chi2_p"].values), ".uniformity()", ".data")
    legend = text.split("\nColumns:\n")[1]
    for column in ("bias", "rmse", "coverage_50", "coverage_90", "chi2_p", "ks_p"):
        assert f"  {column} " in legend
    row = next(line for line in text.splitlines() if line.startswith("sigma_dyad"))
    assert len(row.split()) == 7 and all(re.fullmatch(r"-?\d\.\d\d", v) for v in row.split()[1:])

    recovery = RecoveryResult(_calibration_data(30, labels).drop_vars("ranks"))
    truth = recovery.truth.isel(simulation=0).values
    _assert_short(recovery, "Parameter recovery of TransitionModel: 30 simulations",
                  *(f"{t:.2f}" for t in truth), "truth", ".coverage(ci_prob), .bias()")


def test_calibration_prints_the_worst_parameters_of_many_and_copes_with_little():
    from lagnest.calibration import SBCResult

    labels = [f"logit_typical[code{k}, next]" for k in range(20)]
    sbc = SBCResult(_calibration_data(50, labels, seed=2))
    text = _assert_short(sbc, "Printed: 15 of 20 parameters (smallest chi2_p)")
    p = sbc.uniformity()["chi2_p"].to_series()
    worst = p.idxmin()
    assert worst in text and p.idxmax() not in text.split("\n\n")[1]
    # hand-made results: ranks only, no provenance; no fields at all
    bare = xr.Dataset({"ranks": (("simulation", "parameter"), np.arange(12).reshape(4, 3) % 5)},
                      coords={"parameter": ["a", "b", "c"]}, attrs={"n_rank_draws": 4})
    text = _assert_short(SBCResult(bare), "4 simulations, 3 parameters", "chi2_p")
    assert "Fits:" not in text


def test_operating_characteristics_print_a_short_table_with_blanks_said():
    import json

    from lagnest.calibration import OperatingCharacteristics

    rng = np.random.default_rng(3)
    params = ["MIA1[t-1]|withdrawal", "MIA4[t-1]|confrontation", "rupture=both[t-1]|both"]
    shape = (2, 2, 1, 6)  # estimator, scenario, design, study
    truth = np.zeros((*shape, 3))
    truth[:, 0] = [-0.5, -0.8, 0.6]  # "thesis": every slope non-zero; "null": every one 0
    mean = truth + rng.normal(0, 0.2, truth.shape)
    dims = ("estimator", "scenario", "design", "study")
    failed = np.zeros(shape, dtype=bool)
    failed[1, 0, 0, :2] = True
    ds = xr.Dataset(
        {"truth": ((*dims, "parameter"), truth), "mean": ((*dims, "parameter"), mean),
         "median": ((*dims, "parameter"), mean), "lower": ((*dims, "parameter"), mean - 0.4),
         "upper": ((*dims, "parameter"), mean + 0.4),
         "ok": (dims, np.ones(shape, dtype=bool)), "failed": (dims, failed),
         "run": (dims, np.ones(shape, dtype=bool))},
        coords={"estimator": ["lagnest", "glm"], "scenario": ["thesis", "null"],
                "design": ["6x8x10"], "study": np.arange(6), "parameter": params},
        attrs={"ci_prob": 0.9, "lagnest_calibration": json.dumps({})})
    oc = OperatingCharacteristics(ds)
    summary = oc.summary()
    cover = summary.loc[("glm", "thesis", "6x8x10", "predictor"), "coverage_nonzero"]
    fpr = summary.loc[("lagnest", "null", "6x8x10", "history"), "fpr"]
    text = _assert_short(
        oc, "2 estimators (lagnest, glm)", "2 scenarios (thesis, null)", "1 design (6x8x10)",
        "24 fits", "90% intervals", "2 of 24 failed their diagnostics", "0 could not be fitted",
        f"{cover:.2f}", f"{fpr:.2f}",
        "Blank cells: cover, power, type_s: no non-zero truth in that group",
        ".summary() column coverage_nonzero", ".records()")
    table = text.split("\n\n")[1]
    assert table.splitlines()[0].split() == ["estimator", "scenario", "kind", "studies",
                                             "failed", "cover", "cover_0", "power", "type_s",
                                             "fpr", "width"]  # one block, design in the title
    assert len(table.splitlines()) == 1 + 2 * 2 * 2


def test_pattern_table_prints_the_most_frequent_patterns():
    from lagnest.classical.patterns import pattern_counts

    corpus = ln.datasets.load_example()
    mia = list(corpus.indicator_matrix("mia")[1])
    tab = pattern_counts(corpus, "rupture", mia, lags=[1])
    text = _assert_short(
        tab, f"rupture by {', '.join(mia)} at lag 1", f"{tab.n_valid} valid target segments",
        f"{tab.n_rows} rows (session x pattern)", "53 sessions of 6 dyads",
        "Printed: the 12 most frequent", ".counts", ".to_dataset()")
    table = text.split("\n\n")[1].splitlines()
    assert table[0].split() == ["pattern", *tab.target_labels, "total"]
    assert len(table) == 13 and table[1].split()[0] == "-"  # no MIA present: most frequent
    assert "not MIA" not in text
    none = (np.asarray(tab.patterns)[:, 0, :] == 0).all(axis=1)  # rows with no MIA at t-1
    assert int(table[1].split()[-1]) == int(np.asarray(tab.counts)[none].sum())
    small = pattern_counts(corpus, "rupture", ["resolution"], lags=[1, 2])
    text = _assert_short(small, "at lags 1, 2", "codes of resolution at t-1 | t-2")
    assert "rupture" in text.split("Columns:")[1]
