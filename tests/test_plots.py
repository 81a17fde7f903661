"""Figures of lagnest.viz.plots: each draws, honours ax=, and draws what the numbers say."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from scipy import stats

import lagnest as ln
from lagnest.errors import LagnestDataError
from lagnest.viz import plots

Z975 = stats.norm.ppf(0.975)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def example():
    return ln.datasets.load_example()


TINY_CODES = [list("abcabcaab"), list("acbacbbca"), list("abababcc"), list("ccabacab"),
              list("bacbacab"), list("aabbccab")]
TINY_DYADS = ["d1", "d1", "d2", "d2", "d3", "d3"]


@pytest.fixture(scope="module")
def tiny():
    return ln.Sequences.from_sequences({"code": TINY_CODES}, dyads=TINY_DYADS)


@pytest.fixture(scope="module")
def tiny_fit(tiny):
    """One short fit for the Bayesian paths (numbers are not the point, drawing them is)."""
    from lagnest.models import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # one chain: the R-hat computation warns on an all-NaN slice
        warnings.simplefilter("ignore", RuntimeWarning)
        return ln.TransitionModel(tiny, "code", "code").fit(
            draws=30, tune=30, chains=1, cores=1, seed=3, warn=False)


def _patches(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


# ------------------------------------------------------------------ module


def test_importing_lagnest_and_plots_does_not_import_matplotlib():
    code = "import sys, lagnest, lagnest.viz.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ heatmap


def _significant_cells(tab, z=Z975):
    values = tab["adj_resid"].values
    return {tuple(ij) for ij in np.argwhere(np.abs(np.nan_to_num(values)) > z)}


def _marked_cells(rects):
    return {(round(r.get_y() + 0.46), round(r.get_x() + 0.46)) for r in rects}


def test_heatmap_marks_exactly_the_significant_cells(example):
    tab = ln.lag_table(example, "rupture", "resolution")
    h = plots.lag_table_heatmap(tab)
    expected = _significant_cells(tab)
    assert 0 < len(expected) < tab["adj_resid"].size
    assert len(h.significant) == len(expected)
    assert _marked_cells(h.significant) == expected
    starred = [t for t in h.ax.texts if t.get_text().split("\n")[0].endswith("*")]
    assert len(starred) == len(expected)
    np.testing.assert_allclose(np.ma.filled(h.images[0].get_array(), np.nan),
                               tab["adj_resid"].values)
    norm = h.images[0].norm
    assert norm.vmin == -norm.vmax  # centred at 0
    assert h.colorbar is not None and isinstance(h.figure, matplotlib.figure.Figure)


def test_heatmap_alpha_sets_the_critical_value(example):
    tab = ln.lag_table(example, "rupture", "rupture")
    h = plots.lag_table_heatmap(tab, alpha=0.001)
    assert _marked_cells(h.significant) == _significant_cells(tab, stats.norm.ppf(1 - 0.0005))


def test_heatmap_without_p_values_uses_the_normal_critical_value(example):
    tab = ln.lag_table(example, "rupture", "rupture").drop_vars("p_adj_resid")
    h = plots.lag_table_heatmap(tab)
    assert _marked_cells(h.significant) == _significant_cells(tab)


def test_heatmap_annotations_show_counts_and_probabilities(tiny):
    tab = ln.lag_table(tiny, "code", "code")
    h = plots.lag_table_heatmap(tab)
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in h.ax.texts}
    assert len(texts) == 9
    for (i, j), text in texts.items():
        z, n, prob = text.split("\n")
        assert float(z.rstrip("*")) == pytest.approx(tab["adj_resid"].values[i, j], abs=0.005)
        assert n == f"n={tab['counts'].values[i, j]}"
        # a transitional probability is "prob", never "p" (kept for p-values)
        assert prob.startswith("prob=")
        assert float(prob[5:]) == pytest.approx(tab["trans_prob"].values[i, j], abs=0.005)
    only = plots.lag_table_heatmap(tab, annotate=["counts"])
    assert sorted(t.get_text() for t in only.ax.texts) == sorted(
        f"n={v}" for v in tab["counts"].values.ravel())
    assert len(plots.lag_table_heatmap(tab, annotate=False).ax.texts) == 0


def test_heatmap_draws_into_the_given_axes(tiny):
    fig, ax = plt.subplots()
    h = plots.lag_table_heatmap(ln.lag_table(tiny, "code", "code"), ax=ax)
    assert h.ax is ax and h.figure is fig and len(ax.images) == 1


def test_heatmap_small_multiples_per_unit(example):
    tab = ln.lag_table(example, "rupture", "rupture", by="dyad")
    h = plots.lag_table_heatmap(tab, annotate=False)
    assert len(h.images) == tab.sizes["unit"] == 7
    titles = [a.get_title() for a in np.ravel(h.ax)[:7]]
    assert titles == [str(u) for u in tab["unit"].values]
    expected = sum(len(_significant_cells(tab.sel(unit=u))) for u in tab["unit"].values)
    assert len(h.significant) == expected
    one = plots.lag_table_heatmap(tab, unit="D2")
    assert len(one.images) == 1
    assert _marked_cells(one.significant) == _significant_cells(tab.sel(unit="D2"))
    _fig, axes = plt.subplots(1, 2)
    two = plots.lag_table_heatmap(tab, ax=axes, unit=["D1", "pooled"])
    assert [im.axes for im in two.images] == list(axes)


def test_heatmap_unit_errors(example, tiny):
    tab = ln.lag_table(example, "rupture", "rupture", by="dyad")
    with pytest.raises(LagnestDataError, match="unknown unit"):
        plots.lag_table_heatmap(tab, unit="D9")
    _, ax = plt.subplots()
    with pytest.raises(LagnestDataError, match="7 panel"):
        plots.lag_table_heatmap(tab, ax=ax)
    with pytest.raises(LagnestDataError, match="no 'unit' dim"):
        plots.lag_table_heatmap(ln.lag_table(tiny, "code", "code"), unit="d1")
    with pytest.raises(LagnestDataError, match="lag table"):
        plots.lag_table_heatmap(tab["adj_resid"])
    with pytest.raises(LagnestDataError, match="no variable 'lift'"):
        plots.lag_table_heatmap(tab, value="lift")


def test_heatmap_hatches_structural_zeros():
    seqs = ln.Sequences.from_sequences({"code": [list("abcacbabcbca"), list("cabacbcb")]})
    tab = ln.lag_table(seqs, "code", "code", structural_zeros="diagonal")
    h = plots.lag_table_heatmap(tab)
    assert {(round(r.get_y() + 0.5), round(r.get_x() + 0.5)) for r in h.structural_zeros} == {
        (0, 0), (1, 1), (2, 2)}
    explicit = plots.lag_table_heatmap(tab, structural_zeros=[("a", "a")])
    assert len(explicit.structural_zeros) == 1
    plain = plots.lag_table_heatmap(ln.lag_table(seqs, "code", "code"))
    assert plain.structural_zeros == []


def test_heatmap_of_probabilities_uses_a_scale_from_zero(example):
    h = plots.lag_table_heatmap(ln.lag_table(example, "rupture", "resolution"),
                                value="trans_prob")
    assert h.images[0].norm.vmin == 0


# ------------------------------------------------------------------ diagram


def test_classical_diagram_emphasises_significant_arrows(example):
    tab = ln.lag_table(example, "rupture", "rupture")
    d = plots.transition_diagram(tab, weight="trans_prob")
    labels = list(tab["given"].values)
    counts = tab["counts"].values
    z = tab["adj_resid"].values
    expected = {(labels[i], labels[j]) for i, j in np.argwhere((np.abs(z) > Z975) & (counts > 0))}
    assert set(d.emphasised) == expected
    assert len(_patches(d.ax, "emphasised")) == len(expected)
    drawn = {(labels[i], labels[j]) for i, j in np.argwhere(counts > 0)}
    assert set(d.arrows) == drawn
    assert len(_patches(d.ax, "faint")) == len(drawn) - len(expected)
    # one stream against itself: one node per code, on a circle, with self-loops
    assert d.nodes[("given", "none")] is d.nodes[("target", "none")]
    radii = [math.hypot(*d.nodes[("given", c)].center) for c in labels]
    np.testing.assert_allclose(radii, 1.0)
    assert ("none", "none") in d.arrows


def test_arrow_width_follows_the_weight(example):
    tab = ln.lag_table(example, "rupture", "rupture")
    d = plots.transition_diagram(tab, weight="trans_prob")
    strong = [(d.arrows[e].get_linewidth(), tab["trans_prob"].sel(given=e[0], target=e[1]))
              for e in d.emphasised]
    widths, _probs = zip(*sorted(strong, key=lambda x: float(x[1])), strict=True)
    assert list(widths) == sorted(widths)


def test_classical_diagram_of_two_streams_has_two_columns(example):
    tab = ln.lag_table(example, "MIA4", "rupture")
    d = plots.transition_diagram(tab)
    given_x = {d.nodes[("given", g)].center[0] for g in tab["given"].values}
    target_x = {d.nodes[("target", t)].center[0] for t in tab["target"].values}
    assert len(given_x) == len(target_x) == 1 and given_x.pop() < target_x.pop()
    assert len(d.nodes) == 2 + 4


def test_diagram_threshold_and_axes(example):
    tab = ln.lag_table(example, "rupture", "rupture")
    fig, ax = plt.subplots()
    d = plots.transition_diagram(tab, ax=ax, weight="trans_prob", threshold=0.1)
    assert d.ax is ax and d.figure is fig
    assert len(d.arrows) == int((tab["trans_prob"].values >= 0.1).sum())
    assert set(ax.patches) >= set(d.arrows.values())


def test_diagram_of_a_table_by_unit_uses_the_pooled_table(example):
    tab = ln.lag_table(example, "rupture", "rupture", by="dyad")
    d = plots.transition_diagram(tab)
    pooled = tab.sel(unit="pooled")
    assert len(d.emphasised) == int(((np.abs(pooled["adj_resid"].values) > Z975)
                                     & (pooled["counts"].values > 0)).sum())
    d1 = plots.transition_diagram(tab, unit="D1")
    assert "D1" in d1.ax.get_title()


@pytest.mark.slow
def test_bayesian_diagram_emphasises_credible_lifts(tiny_fit):
    d = plots.transition_diagram(tiny_fit)
    lift = tiny_fit.lift()
    excludes = (lift["lower"] > 1) | (lift["upper"] < 1)
    expected = {(g, t) for g in lift["given"].values for t in lift["target"].values
                if bool(excludes.sel(given=g, target=t))}
    assert set(d.emphasised) == expected
    assert len(_patches(d.ax, "emphasised")) == len(expected)
    assert len(d.arrows) == 9
    half = tiny_fit.lift(ci_prob=0.5)
    narrow = (half["lower"] > 1) | (half["upper"] < 1)
    wide = plots.transition_diagram(tiny_fit, ci_prob=0.5)
    assert len(wide.emphasised) == int(narrow.sum()) > 0
    assert len(wide.emphasised) >= len(d.emphasised)
    for g, t in wide.emphasised:
        colour = wide.arrows[(g, t)].get_edgecolor()
        above = float(half["mean"].sel(given=g, target=t)) > 1
        assert matplotlib.colors.to_hex(colour) == ("#b2182b" if above else "#2166ac")


@pytest.mark.slow
def test_bayesian_diagram_per_dyad_needs_a_unit(tiny_fit):
    with pytest.raises(LagnestDataError, match="unit="):
        plots.transition_diagram(tiny_fit, level="dyad")
    d = plots.transition_diagram(tiny_fit, level="dyad", unit="d2")
    lift = tiny_fit.lift(level="dyad").sel(dyad="d2")
    n = int(((lift["lower"] > 1) | (lift["upper"] < 1)).sum())
    assert len(d.emphasised) == n


def test_diagram_rejects_other_sources():
    with pytest.raises(LagnestDataError, match="source must be"):
        plots.transition_diagram([[1, 2], [3, 4]])
    with pytest.raises(LagnestDataError, match="weight must be"):
        plots.transition_diagram(xr.Dataset(), weight="counts")


# ------------------------------------------------------------------ forest


def _naive_log_odds(codes, dyads, dyad, g, t, correction=True):
    """Collapsed 2 x 2 log odds of lag-1 pairs of one dyad, counted by hand."""
    pairs = [(s[i], s[i + 1]) for s, d in zip(codes, dyads, strict=True) if d == dyad
             for i in range(len(s) - 1)]
    a = sum(x == g and y == t for x, y in pairs)
    b = sum(x == g and y != t for x, y in pairs)
    c = sum(x != g and y == t for x, y in pairs)
    d = sum(x != g and y != t for x, y in pairs)
    if correction and 0 in (a, b, c, d):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    return math.log(a * d / (b * c)), math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)


@pytest.mark.slow
def test_transition_forest_rows_and_values(tiny_fit):
    f = plots.transition_forest(tiny_fit, "a", "b")
    assert f.labels == ("d1", "d2", "d3", "population")
    assert [t.get_text() for t in f.ax.get_yticklabels()] == list(f.labels)
    assert len(f.intervals.get_segments()) == 4
    est = tiny_fit.log_odds(level="dyad").sel(given="a", target="b")
    pop = tiny_fit.log_odds(level="population").sel(given="a", target="b")
    np.testing.assert_allclose(f.estimates.get_xdata(),
                               [*est["mean"].values, float(pop["mean"])])
    lows = [seg[0][0] for seg in f.intervals.get_segments()]
    np.testing.assert_allclose(lows, [*est["lower"].values, float(pop["lower"])])
    nulls = [line for line in f.ax.lines if line.get_gid() == "null"]
    assert len(nulls) == 1 and nulls[0].get_xdata()[0] == 0


@pytest.mark.slow
def test_transition_forest_classical_values_match_a_hand_count(tiny_fit, tiny):
    f = plots.transition_forest(tiny_fit, "a", "b")
    expected = [_naive_log_odds(TINY_CODES, TINY_DYADS, d, "a", "b") for d in ("d1", "d2", "d3")]
    np.testing.assert_allclose(f.classical.get_xdata()[:3], [e[0] for e in expected])
    z = stats.norm.ppf(0.975)  # the default 95% Wald interval
    segs = f.classical_intervals.get_segments()
    for seg, (lor, se) in zip(segs[:3], expected, strict=False):
        assert seg[0][0] == pytest.approx(lor - z * se)
        assert seg[1][0] == pytest.approx(lor + z * se)
    via_seqs = plots.transition_forest(tiny_fit, "a", "b", seqs=tiny)
    np.testing.assert_allclose(via_seqs.classical.get_xdata(), f.classical.get_xdata())


@pytest.mark.slow
def test_transition_forest_of_lift_has_null_one(tiny_fit):
    fig, ax = plt.subplots()
    f = plots.transition_forest(tiny_fit, "b", "c", quantity="lift", ax=ax)
    assert f.ax is ax and f.figure is fig
    nulls = [line for line in ax.lines if line.get_gid() == "null"]
    assert nulls[0].get_xdata()[0] == 1


@pytest.mark.slow
def test_transition_forest_errors(tiny_fit):
    with pytest.raises(LagnestDataError, match="unknown given code 'z'"):
        plots.transition_forest(tiny_fit, "z", "a")
    with pytest.raises(LagnestDataError, match="quantity"):
        plots.transition_forest(tiny_fit, "a", "b", quantity="odds")
    other = ln.Sequences.from_sequences({"code": [list("abcabc")]})
    with pytest.raises(LagnestDataError, match="fitted to"):
        plots.transition_forest(tiny_fit, "a", "b", seqs=other)


def _summary(values, dim="predictor", width=0.5):
    values = np.asarray(values, dtype=float)
    coords = {dim: [f"x{i}" for i in range(values.size)]} if values.ndim else {}
    dims = (dim,) if values.ndim else ()
    return xr.Dataset({"mean": (dims, values), "lower": (dims, values - width),
                       "upper": (dims, values + width)}, coords=coords,
                      attrs={"null": "0", "ci_prob": 0.9})


def test_forest_is_generic_over_the_label_dim():
    est = _summary([0.1, -0.4, 0.8])
    classical = xr.DataArray([0.5, np.nan, 1.2, 0.3], dims="unit",
                             coords={"unit": ["x0", "x1", "x2", "pooled"]})
    se = xr.DataArray([0.2, np.nan, 0.3, 0.1], dims="unit", coords=classical.coords)
    f = plots.forest(est, _summary(0.2), classical=classical, classical_se=se,
                     label="predictor", pooled_label="all")
    assert f.labels == ("x0", "x1", "x2", "all")
    x = f.classical.get_xdata()
    np.testing.assert_allclose(x, [0.5, np.nan, 1.2, 0.3])
    assert any(t.get_text() == "n/a" for t in f.ax.texts)
    no_pool = plots.forest(est, label="predictor")
    assert no_pool.labels == ("x0", "x1", "x2") and no_pool.classical is None


def test_forest_input_errors():
    est = _summary([0.1, 0.2])
    with pytest.raises(LagnestDataError, match="single dim 'dyad'"):
        plots.forest(est)
    with pytest.raises(LagnestDataError, match="'mean'"):
        plots.forest(est["mean"], label="predictor")
    two = xr.concat([est, est], dim="given")
    with pytest.raises(LagnestDataError, match="select one cell"):
        plots.forest(two, label="predictor")


# ------------------------------------------------------------------ code rates


def test_code_rates_per_session_match_the_data(example):
    r = plots.code_rates(example, "withdrawal")
    seg = example.segments
    coded = seg[seg["rupture"].notna()]
    oracle = coded.groupby("session", sort=False)["rupture"].apply(
        lambda s: float((s == "withdrawal").mean()))
    assert set(r.lines) == set(example.dyad_labels)
    for dyad, line in r.lines.items():
        sessions = [s for s in example.session_labels
                    if example.sessions.loc[s, "dyad"] == dyad]
        np.testing.assert_allclose(line.get_ydata(), oracle.loc[sessions].to_numpy())
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(sessions) + 1))
    pooled = float((coded["rupture"] == "withdrawal").mean())
    assert r.pooled[0].get_ydata()[0] == pytest.approx(pooled)


def test_code_rates_by_segment_in_panels(example):
    r = plots.code_rates(example, "MIA4", by="segment", panels=True)
    assert np.ravel(r.ax).size >= 6 and len(r.pooled) == 6
    seg = example.segments
    mine = seg[(seg["dyad"] == "D3") & seg["MIA4"].notna()]
    oracle = mine.groupby("segment")["MIA4"].mean()
    line = r.lines["D3"]
    np.testing.assert_array_equal(line.get_xdata(), oracle.index.to_numpy())
    np.testing.assert_allclose(line.get_ydata(), oracle.to_numpy(dtype=float))


def test_code_rates_skip_uncoded_segments_and_honour_ax():
    seqs = ln.Sequences.from_sequences(
        {"code": [["a", None, "b", "a"], ["b", "b", None, None], ["a", "a"]]},
        dyads=["d1", "d1", "d2"])
    fig, ax = plt.subplots()
    r = plots.code_rates(seqs, "a", ax=ax)
    assert r.ax is ax and r.figure is fig
    np.testing.assert_allclose(r.lines["d1"].get_ydata(), [2 / 3, 0.0])
    np.testing.assert_allclose(r.lines["d2"].get_ydata(), [1.0])
    assert r.pooled[0].get_ydata()[0] == pytest.approx(4 / 7)
    by_segment = plots.code_rates(seqs, "a", by="segment")
    np.testing.assert_allclose(by_segment.lines["d1"].get_ydata(), [0.5, 0.0, 0.0, 1.0])


def test_code_rates_errors(tiny):
    with pytest.raises(LagnestDataError, match="one code"):
        plots.code_rates(tiny, "code")
    with pytest.raises(LagnestDataError, match="by must be"):
        plots.code_rates(tiny, "a", by="dyad")
    _, ax = plt.subplots()
    with pytest.raises(LagnestDataError, match="3 panel"):
        plots.code_rates(tiny, "a", ax=ax, panels=True)


@pytest.mark.slow
def test_transition_forest_per_session(tiny_fit, tiny):
    f = plots.transition_forest(tiny_fit, "c", "a", quantity="yules_q", level="session")
    assert f.labels == (*tiny.session_labels, "population")
    assert f.classical_intervals is not None
    est = tiny_fit.yules_q(level="session").sel(given="c", target="a")
    np.testing.assert_allclose(f.estimates.get_xdata()[:-1], est["mean"].values)
