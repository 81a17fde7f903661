"""Several coders and ratings: published examples, independent oracles, properties, errors.

Published worked examples (each test names its source) are reproduced to the printed
precision; statsmodels (Fleiss' kappa, OLS ANOVA), the ``krippendorff`` package and
``pingouin.intraclass_corr`` are oracles to 1e-6 where they apply.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

import lagnest as ln
from lagnest.classical.agreement import _from_codings, _from_sequences, agreement
from lagnest.classical.multirater import (
    CODER_VARIABLES,
    ICC_KINDS,
    MAX_VALUES,
    alpha_arrays,
    coder_agreement,
    fleiss_arrays,
    fleiss_kappa,
    icc,
    krippendorff_alpha,
    pairwise_agreement,
)
from lagnest.data.sequences import Sequences
from lagnest.errors import LagnestDataError, LimitError

nan = np.nan

# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (1 depression,
# 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other), in the subject x rater
# layout of R's irr::diagnoses (also in statsmodels' test_inter_rater.py).
DIAGNOSES = np.array([
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
])

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories
# (counts n_ij per subject and category).
WIKI_FLEISS = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C: 4
# observers x 12 units, values 1-5, missing values (also Krippendorff 2019, ch. 12).
KRIPP_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]

# Wikipedia, "Krippendorff's alpha", "A computational example": 3 coders x 15 units.
WIKI_KRIPP = [
    [nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
    [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
    [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4],
]

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array([
    [9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7],
])


def counts_to_ratings(counts: np.ndarray) -> list[list[int]]:
    """A subjects x categories count table as one code per (subject, rater)."""
    return [np.repeat(np.arange(len(row)), row).tolist() for row in counts]


def random_codes(seed: int, n_units: int, n_coders: int, n_values: int,
                 p_missing: float = 0.0) -> np.ndarray:
    """(units, coders) float codes 1..n_values with NaN where missing."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, n_values + 1, n_units)
    codes = np.where(rng.random((n_units, n_coders)) < 0.6, truth[:, None],
                     rng.integers(1, n_values + 1, (n_units, n_coders))).astype(float)
    codes[rng.random(codes.shape) < p_missing] = nan
    return codes


# ============================================================ Fleiss' kappa: published


def test_fleiss_1971_diagnoses():
    # Fleiss (1971): kappa = .430; per category .245, .245, .520, .471, .566. z = 17.7 with
    # the Fleiss, Nee & Landis (1979) SE: R's irr::kappam.fleiss(diagnoses[, detail=TRUE])
    # (the values pyirr's tests assert for its port).
    ds = fleiss_kappa(DIAGNOSES)
    assert ds.attrs["kappa"] == pytest.approx(0.430, abs=5e-4)
    assert ds.attrs["z"] == pytest.approx(17.7, abs=0.05)
    np.testing.assert_allclose(ds.kappa.values, [0.245, 0.245, 0.520, 0.471, 0.566],
                               atol=5e-4)
    assert ds.code.values.tolist() == [1, 2, 3, 4, 5]
    assert (ds.attrs["n_subjects"], ds.attrs["n_coders"], ds.attrs["n_categories"]) == (30, 6, 5)
    # oracles: statsmodels, and the closed-form SE of a category kappa sqrt(2 / (N n (n-1)))
    table, _ = aggregate_raters(DIAGNOSES)
    assert ds.attrs["kappa"] == pytest.approx(sm_fleiss_kappa(table), abs=1e-12)
    np.testing.assert_array_equal(ds.counts.values, table)
    np.testing.assert_allclose(ds.se0.values, np.sqrt(2 / (30 * 6 * 5)))
    np.testing.assert_allclose(ds.z.values, ds.kappa.values / np.sqrt(2 / (30 * 6 * 5)))


def test_fleiss_category_names_and_order():
    names = ["depression", "personality disorder", "schizophrenia", "neurosis", "other"]
    labelled = np.array(names, dtype=object)[DIAGNOSES - 1]
    ds = fleiss_kappa(labelled, categories=names)
    assert ds.code.values.tolist() == names
    np.testing.assert_allclose(ds.kappa.values, fleiss_kappa(DIAGNOSES).kappa.values)
    # a category no one used: count 0, its kappa undefined, the overall kappa unchanged
    more = fleiss_kappa(labelled, categories=[*names, "unused"])
    assert int(more.counts.sel(code="unused").sum()) == 0
    assert np.isnan(float(more.kappa.sel(code="unused")))
    assert more.attrs["kappa"] == pytest.approx(ds.attrs["kappa"], abs=1e-12)


def test_fleiss_wikipedia_example():
    # Wikipedia "Fleiss' kappa": p_j = .143 .200 .279 .150 .229, P-bar = .378,
    # P-bar_e = .213, kappa = .210, and the P_i column.
    ds = fleiss_kappa(counts_to_ratings(WIKI_FLEISS))
    np.testing.assert_allclose(ds.proportion.values, [0.143, 0.200, 0.279, 0.150, 0.229],
                               atol=5e-4)
    assert ds.attrs["p_o"] == pytest.approx(0.378, abs=5e-4)
    assert ds.attrs["p_e"] == pytest.approx(0.213, abs=5e-4)
    assert ds.attrs["kappa"] == pytest.approx(0.210, abs=5e-4)
    np.testing.assert_allclose(
        ds.agreement.values,
        [1.000, 0.253, 0.308, 0.440, 0.330, 0.462, 0.242, 0.176, 0.286, 0.286], atol=5e-4)
    assert ds.attrs["kappa"] == pytest.approx(sm_fleiss_kappa(WIKI_FLEISS), abs=1e-12)


# ============================================================ Fleiss' kappa: oracle, properties


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(1, 25),
       n_coders=st.integers(2, 6), n_values=st.integers(2, 5))
def test_fleiss_matches_statsmodels(seed, n_units, n_coders, n_values):
    codes = random_codes(seed, n_units, n_coders, n_values).astype(int)
    ds = fleiss_kappa(codes)
    table, _ = aggregate_raters(codes)
    with np.errstate(all="ignore"):
        expected = sm_fleiss_kappa(table)
    if np.isfinite(expected):
        assert ds.attrs["kappa"] == pytest.approx(expected, abs=1e-9)
    else:
        assert np.isnan(ds.attrs["kappa"])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(2, 25),
       n_coders=st.integers(2, 6), n_values=st.integers(2, 5))
def test_fleiss_properties(seed, n_units, n_coders, n_values):
    codes = random_codes(seed, n_units, n_coders, n_values).astype(int)
    ds = fleiss_kappa(codes)
    rng = np.random.default_rng(seed)
    # permuting subjects, or coders within each subject, changes nothing
    shuffled = rng.permuted(codes[rng.permutation(n_units)], axis=1)
    again = fleiss_kappa(shuffled)
    np.testing.assert_allclose(again.attrs["kappa"], ds.attrs["kappa"], atol=1e-12)
    np.testing.assert_allclose(again.kappa.values, ds.kappa.values, atol=1e-12)
    # kappa_j is the kappa of code j against all others collapsed
    for j, code in enumerate(ds.code.values):
        collapsed = fleiss_kappa((codes == code).astype(int), categories=[0, 1])
        np.testing.assert_allclose(collapsed.attrs["kappa"], ds.kappa.values[j], atol=1e-12)
    # the overall kappa is the p_j q_j-weighted mean of the kappa_j (Fleiss 1971)
    pq = ds.proportion.values * (1 - ds.proportion.values)
    used = pq > 0
    if used.any():
        np.testing.assert_allclose(
            ds.attrs["kappa"], (pq[used] * ds.kappa.values[used]).sum() / pq[used].sum(),
            atol=1e-12)


def test_fleiss_perfect_agreement_and_two_coders():
    perfect = fleiss_kappa([["a", "a", "a"], ["b", "b", "b"], ["a", "a", "a"]])
    assert perfect.attrs["kappa"] == 1.0
    # one code throughout: chance agreement is 1, kappa undefined
    assert np.isnan(fleiss_kappa([["a", "a"], ["a", "a"]]).attrs["kappa"])
    # two coders: Fleiss' kappa is Scott's pi, (p_o - p_e) / (1 - p_e) with pooled margins
    pairs = np.array([[1, 1], [1, 2], [2, 2], [3, 3], [1, 3], [2, 2], [3, 3], [1, 1]])
    p_o = np.mean(pairs[:, 0] == pairs[:, 1])
    p_e = sum(np.mean(pairs == v) ** 2 for v in (1, 2, 3))
    assert fleiss_kappa(pairs).attrs["kappa"] == pytest.approx((p_o - p_e) / (1 - p_e))


def test_fleiss_input_forms():
    frame = pd.DataFrame(DIAGNOSES[:5], index=[f"p{i}" for i in range(5)],
                         columns=[f"r{j}" for j in range(6)])
    ds = fleiss_kappa(frame)
    assert ds.subject.values.tolist() == ["p0", "p1", "p2", "p3", "p4"]
    import xarray as xr

    da = xr.DataArray(DIAGNOSES[:5], dims=("subject", "coder"))
    assert fleiss_kappa(da).attrs["kappa"] == pytest.approx(ds.attrs["kappa"])
    assert fleiss_arrays(aggregate_raters(DIAGNOSES[:5])[0])["kappa"] == pytest.approx(
        ds.attrs["kappa"])


# ============================================================ Krippendorff's alpha: published


def test_krippendorff_2011_example():
    # Krippendorff (2011): alpha nominal .743, ordinal .815, interval .849, ratio .797 (the
    # ordinal and ratio values are also those fast-krippendorff's tests assert).
    published = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}
    for level, value in published.items():
        ds = krippendorff_alpha(KRIPP_2011, level)
        assert ds.attrs["alpha"] == pytest.approx(value, abs=5e-4), level
        # 11 pairable units (unit 12 has one value) holding n = 40 pairable values
        assert (ds.attrs["n_units"], ds.attrs["n"], ds.attrs["n_units_total"]) == (11, 40, 12)
        assert ds.value_c.values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
        assert float(ds.coincidences.sum()) == pytest.approx(40)
        np.testing.assert_allclose(ds.coincidences.values, ds.coincidences.values.T)


def test_alpha_arrays_layer():
    codes = np.nan_to_num(np.array(KRIPP_2011), nan=0).astype(int) - 1  # values 1-5 -> 0-4
    out = alpha_arrays(codes, [1, 2, 3, 4, 5], "interval")
    assert out["alpha"] == pytest.approx(0.849, abs=5e-4)
    assert out["d_o"] / out["d_e"] == pytest.approx(1 - out["alpha"])
    assert set(out) == {"alpha", "d_o", "d_e", "n", "n_units", "coincidences", "expected",
                        "delta"}
    np.testing.assert_allclose(out["delta"], (np.arange(5)[:, None] - np.arange(5)) ** 2)


def test_bootstrap_resample_with_one_value_is_undefined():
    # two units, each coded 1,1 or 2,2: a resample of one unit twice has one value only
    ds = krippendorff_alpha([[1, 2], [1, 2]], "interval", n_boot=200, seed=0)
    draws = ds.alpha_boot.values
    assert set(np.unique(draws[np.isfinite(draws)])) == {1.0}
    assert ds.attrs["n_boot_undefined"] == int(np.isnan(draws).sum()) > 0


def test_krippendorff_2011_nominal_by_hand():
    # The nominal alpha from the coincidence matrix, written out: alpha = 1 - (n - 1)
    # (n - sum_c o_cc) / (n^2 - sum_c n_c^2).
    ds = krippendorff_alpha(KRIPP_2011)
    o = ds.coincidences.values
    n_c, n = o.sum(1), o.sum()
    assert ds.attrs["alpha"] == pytest.approx(
        1 - (n - 1) * (n - np.trace(o)) / (n**2 - (n_c**2).sum()), abs=1e-12)
    np.testing.assert_allclose(ds.expected.values.sum(1), n_c)


def test_krippendorff_wikipedia_example():
    # Wikipedia "Krippendorff's alpha", computational example: alpha nominal .691, interval
    # .811 (fast-krippendorff's tests: 0.691358 and 0.810845).
    assert krippendorff_alpha(WIKI_KRIPP).attrs["alpha"] == pytest.approx(0.691358, abs=5e-7)
    assert krippendorff_alpha(WIKI_KRIPP, "interval").attrs["alpha"] == pytest.approx(
        0.810845, abs=5e-7)


def test_krippendorff_package_on_published_data():
    krippendorff = pytest.importorskip("krippendorff")
    for data in (KRIPP_2011, WIKI_KRIPP):
        for level in ("nominal", "ordinal", "interval", "ratio"):
            ours = krippendorff_alpha(data, level).attrs["alpha"]
            theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
            assert ours == pytest.approx(theirs, abs=1e-9), level


# ============================================================ Krippendorff's alpha: oracle


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(1, 30),
       n_coders=st.integers(2, 5), n_values=st.integers(2, 6),
       p_missing=st.sampled_from([0.0, 0.2, 0.5]),
       level=st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_matches_krippendorff_package(seed, n_units, n_coders, n_values, p_missing, level):
    krippendorff = pytest.importorskip("krippendorff")
    data = random_codes(seed, n_units, n_coders, n_values, p_missing).T
    ours = krippendorff_alpha(data, level).attrs["alpha"]
    pairable = (~np.isnan(data)).sum(0) >= 2
    values = np.unique(data[~np.isnan(data)])
    if not pairable.any() or values.size < 2 or np.unique(data[:, pairable][
            ~np.isnan(data[:, pairable])]).size < 2:
        assert np.isnan(ours)  # the package refuses these; alpha is undefined
        return
    with np.errstate(all="ignore"):
        theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-6)


# ============================================================ Krippendorff's alpha: properties


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(2, 30),
       n_coders=st.integers(2, 5), n_values=st.integers(2, 6),
       p_missing=st.sampled_from([0.0, 0.3]))
def test_alpha_invariant_under_permutations(seed, n_units, n_coders, n_values, p_missing):
    data = random_codes(seed, n_units, n_coders, n_values, p_missing).T
    rng = np.random.default_rng(seed + 1)
    shuffled = data[rng.permutation(n_coders)][:, rng.permutation(n_units)]
    for level in ("nominal", "ordinal", "interval", "ratio"):
        a = krippendorff_alpha(data, level).attrs["alpha"]
        b = krippendorff_alpha(shuffled, level).attrs["alpha"]
        np.testing.assert_allclose(a, b, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(2, 30),
       n_coders=st.integers(2, 5), n_values=st.integers(3, 6),
       p_missing=st.sampled_from([0.0, 0.3]))
def test_alpha_invariant_under_rescaling(seed, n_units, n_coders, n_values, p_missing):
    data = random_codes(seed, n_units, n_coders, n_values, p_missing).T
    # interval: any affine map; ordinal: any increasing map; nominal: any relabelling
    for level, mapped in (("interval", -2.5 * data + 7), ("ordinal", data**3 + 10),
                          ("nominal", 100 - data)):
        np.testing.assert_allclose(krippendorff_alpha(data, level).attrs["alpha"],
                                   krippendorff_alpha(mapped, level).attrs["alpha"],
                                   atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(2, 30),
       n_coders=st.integers(2, 5), p_missing=st.sampled_from([0.0, 0.3]))
def test_alpha_levels_agree_on_binary_data(seed, n_units, n_coders, p_missing):
    # With two values every difference function is a constant for c != k.
    data = random_codes(seed, n_units, n_coders, 2, p_missing).T
    values = [krippendorff_alpha(data, level).attrs["alpha"]
              for level in ("nominal", "ordinal", "interval", "ratio")]
    np.testing.assert_allclose(values, values[0], atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(1, 30),
       n_coders=st.integers(2, 6), n_values=st.integers(2, 5))
def test_alpha_and_fleiss_on_complete_data(seed, n_units, n_coders, n_values):
    # Complete data, N units x m coders, n = N m values: D_o = 1 - P-bar and
    # D_e = n / (n - 1) (1 - P-bar_e), so alpha = 1 - (1 - kappa_Fleiss) (n - 1) / n.
    # With two coders kappa_Fleiss is Scott's pi: Krippendorff's correction of pi for
    # the sample size (statsmodels' fleiss_kappa as the independent pi).
    codes = random_codes(seed, n_units, n_coders, n_values).astype(int)
    alpha = krippendorff_alpha(codes.T).attrs["alpha"]
    table, _ = aggregate_raters(codes)
    with np.errstate(all="ignore"):
        kappa = sm_fleiss_kappa(table)
    n = codes.size
    if np.isfinite(kappa):
        assert alpha == pytest.approx(1 - (1 - kappa) * (n - 1) / n, abs=1e-9)
    else:
        assert np.isnan(alpha)


def test_alpha_perfect_and_undefined():
    assert krippendorff_alpha([[1, 2, 3, nan], [1, 2, 3, 4], [nan, 2, 3, 4]],
                              "interval").attrs["alpha"] == 1.0
    assert krippendorff_alpha([["x", "y"], ["x", "y"]]).attrs["alpha"] == 1.0
    # no variation, or no unit with two values: undefined
    assert np.isnan(krippendorff_alpha([[1, 1, 1], [1, 1, 1]]).attrs["alpha"])
    ds = krippendorff_alpha([[1, nan], [nan, 2]])
    assert np.isnan(ds.attrs["alpha"]) and ds.attrs["n_units"] == 0


def test_alpha_labels_and_frames():
    data = [["pos", "neg", "neu", None], ["pos", "neg", "neu", "pos"],
            ["pos", "neg", "pos", "pos"]]
    ds = krippendorff_alpha(data)
    assert ds.value_c.values.tolist() == ["neg", "neu", "pos"]
    # fast-krippendorff's test of string labels: 0.722222
    assert ds.attrs["alpha"] == pytest.approx(0.722222, abs=5e-7)
    frame = pd.DataFrame(data, index=["ana", "ben", "eva"])
    assert krippendorff_alpha(frame).attrs["alpha"] == pytest.approx(ds.attrs["alpha"])
    assert ds.attrs["n_coders"] == 3


# ============================================================ bootstrap


def test_bootstrap_is_seeded():
    a = krippendorff_alpha(KRIPP_2011, "interval", n_boot=300, seed=7)
    b = krippendorff_alpha(KRIPP_2011, "interval", n_boot=300, seed=7)
    c = krippendorff_alpha(KRIPP_2011, "interval", n_boot=300, seed=8)
    np.testing.assert_array_equal(a.alpha_boot.values, b.alpha_boot.values)
    assert (a.attrs["ci_low"], a.attrs["ci_high"]) == (b.attrs["ci_low"], b.attrs["ci_high"])
    assert not np.array_equal(a.alpha_boot.values, c.alpha_boot.values)
    assert a.alpha_boot.size == 300 and a.attrs["seed"] == 7
    assert a.attrs["ci_low"] < a.attrs["alpha"] <= a.attrs["ci_high"] <= 1
    assert a.attrs["bootstrap"] == "units" and a.attrs["n_boot_undefined"] == 0
    none = krippendorff_alpha(KRIPP_2011)
    assert np.isnan(none.attrs["ci_low"]) and "alpha_boot" not in none


def test_bootstrap_by_hand():
    # One resample drawn with the same generator: units with replacement, alpha recomputed.
    data = np.array(KRIPP_2011, dtype=float)
    ds = krippendorff_alpha(data, "ordinal", n_boot=5, seed=3)
    pairable = np.flatnonzero((~np.isnan(data)).sum(0) >= 2)
    rng = np.random.default_rng(3)
    picks = rng.integers(0, pairable.size, size=(5, pairable.size))
    for b in range(5):
        resample = data[:, pairable[picks[b]]]
        assert ds.alpha_boot.values[b] == pytest.approx(
            krippendorff_alpha(resample, "ordinal").attrs["alpha"], abs=1e-12, nan_ok=True)


def test_bootstrap_clusters():
    data = np.array(KRIPP_2011, dtype=float)
    units = krippendorff_alpha(data, "nominal", n_boot=200, seed=1)
    own = krippendorff_alpha(data, "nominal", n_boot=200, seed=1, clusters=range(12))
    np.testing.assert_array_equal(units.alpha_boot.values, own.alpha_boot.values)
    assert own.attrs["bootstrap"] == "clusters"
    # one cluster: every resample is the data itself
    one = krippendorff_alpha(data, "nominal", n_boot=20, seed=1, clusters=["s"] * 12)
    np.testing.assert_allclose(one.alpha_boot.values, one.attrs["alpha"], atol=1e-12)
    # two clusters of units resampled whole: each draw is one of four unions
    halves = ["a"] * 6 + ["b"] * 6
    two = krippendorff_alpha(data, "nominal", n_boot=100, seed=2, clusters=halves)
    first, second = data[:, :6], data[:, 6:]
    possible = [krippendorff_alpha(np.hstack(parts)).attrs["alpha"]
                for parts in ([first, first], [first, second], [second, second])]
    for draw in two.alpha_boot.values:
        assert min(abs(draw - p) for p in possible) < 1e-12


# ============================================================ ICC: published and oracles


def test_shrout_fleiss_table_2():
    # Shrout & Fleiss (1979): ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71,
    # ICC(1,4) = .44, ICC(2,4) = .62, ICC(3,4) = .91; the ANOVA of the example:
    # BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02.
    ds = icc(SHROUT_FLEISS)
    assert ds.kind.values.tolist() == list(ICC_KINDS)
    np.testing.assert_allclose(ds.icc.values, [0.17, 0.29, 0.71, 0.44, 0.62, 0.91], atol=5e-3)
    got = [ds.attrs[k] for k in ("bms", "wms", "jms", "ems")]
    np.testing.assert_allclose(got, [11.24, 6.26, 32.49, 1.02], atol=5e-3)
    named = icc(SHROUT_FLEISS, ["ICC(2,4)", "ICC(C,1)", "icc(1, k)"])
    assert named.kind.values.tolist() == ["ICC(2,k)", "ICC(3,1)", "ICC(1,k)"]
    np.testing.assert_allclose(named.icc.values, [0.62, 0.71, 0.44], atol=5e-3)


def test_icc_mean_squares_match_statsmodels_anova():
    smf = pytest.importorskip("statsmodels.formula.api")
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(5)
    for x in (SHROUT_FLEISS.astype(float), rng.normal(size=(9, 3)) + rng.normal(size=(9, 1))):
        n, k = x.shape
        long = pd.DataFrame({"y": x.ravel(), "t": np.repeat(np.arange(n), k),
                             "j": np.tile(np.arange(k), n)})
        table = anova_lm(smf.ols("y ~ C(t) + C(j)", long).fit(), typ=2)
        ds = icc(x)
        ms = table["sum_sq"] / table["df"]
        assert ds.attrs["bms"] == pytest.approx(ms["C(t)"], rel=1e-9)
        assert ds.attrs["jms"] == pytest.approx(ms["C(j)"], rel=1e-9)
        assert ds.attrs["ems"] == pytest.approx(ms["Residual"], rel=1e-9)
        within = (table.loc["C(j)", "sum_sq"] + table.loc["Residual", "sum_sq"]) / (n * (k - 1))
        assert ds.attrs["wms"] == pytest.approx(within, rel=1e-9)


def pingouin_icc(x: np.ndarray, monkeypatch) -> pd.DataFrame:
    pingouin = pytest.importorskip("pingouin")
    for key in ("round.column.CI95", "round.column.CI95%"):  # the name before 0.7
        monkeypatch.setitem(pingouin.options, key, None)
    n, k = x.shape
    long = pd.DataFrame({"t": np.repeat(np.arange(n), k), "j": np.tile(np.arange(k), n),
                         "y": x.ravel()})
    with warnings.catch_warnings():  # pingouin's own pandas deprecations
        warnings.simplefilter("ignore")
        return pingouin.intraclass_corr(long, targets="t", raters="j", ratings="y")


def check_against_pingouin(x: np.ndarray, monkeypatch) -> None:
    theirs = pingouin_icc(x, monkeypatch)
    ours = icc(x)
    np.testing.assert_allclose(ours.icc.values, theirs["ICC"].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(ours.F.values, theirs["F"].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.df2.values, theirs["df2"].to_numpy())
    np.testing.assert_allclose(ours.p.values, theirs["pval"].to_numpy(), atol=1e-6)
    ci = np.stack(theirs[next(c for c in theirs.columns if c.startswith("CI95"))].to_numpy())
    np.testing.assert_allclose(ours.ci_low.values, ci[:, 0], atol=1e-6)
    np.testing.assert_allclose(ours.ci_high.values, ci[:, 1], atol=1e-6)


def test_icc_matches_pingouin_on_shrout_fleiss(monkeypatch):
    check_against_pingouin(SHROUT_FLEISS.astype(float), monkeypatch)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 12), k=st.integers(2, 5))
def test_icc_matches_pingouin(seed, n, k):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, 1)) * rng.uniform(0, 2) + rng.normal(size=(1, k)) * 0.5
         + rng.normal(size=(n, k)))
    with pytest.MonkeyPatch.context() as monkeypatch:
        check_against_pingouin(x, monkeypatch)


def test_icc_properties():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(10, 1)) + rng.normal(size=(10, 4)) * 0.5
    base = icc(x)
    # an affine change of the scale changes no ICC
    np.testing.assert_allclose(icc(3 * x - 2).icc.values, base.icc.values, atol=1e-12)
    # a constant added to one judge's ratings leaves consistency ICC(3,·) unchanged and
    # lowers the absolute-agreement ICC(2,·)
    shifted = icc(x + np.array([0, 0, 0, 2.0]))
    np.testing.assert_allclose(shifted.icc.sel(kind=["ICC(3,1)", "ICC(3,k)"]).values,
                               base.icc.sel(kind=["ICC(3,1)", "ICC(3,k)"]).values, atol=1e-12)
    assert float(shifted.icc.sel(kind="ICC(2,1)")) < float(base.icc.sel(kind="ICC(2,1)"))
    # intervals hold their estimate; a wider coverage gives a wider interval
    assert np.all(base.ci_low.values <= base.icc.values)
    assert np.all(base.icc.values <= base.ci_high.values)
    wide = icc(x, ci_prob=0.99)
    assert np.all(wide.ci_low.values <= base.ci_low.values)
    assert np.all(wide.ci_high.values >= base.ci_high.values)
    perfect = icc(np.repeat(np.arange(5.0)[:, None], 3, axis=1))
    np.testing.assert_allclose(perfect.icc.values, 1.0)


# ============================================================ bad input


def test_fleiss_bad_input():
    with pytest.raises(LagnestDataError, match="at least two"):
        fleiss_kappa([["a"], ["b"]])
    with pytest.raises(LagnestDataError, match="no subjects"):
        fleiss_kappa(np.zeros((0, 3)))
    with pytest.raises(LagnestDataError) as err:
        fleiss_kappa([["a", "a", "b"], ["a", None, "b"], ["b", "b", nan]])
    text = str(err.value)
    assert "2 subjects without a code from every coder: 1 (2 of 3), 2 (2 of 3)" in text
    assert "krippendorff_alpha" in text
    with pytest.raises(LagnestDataError, match=r"codes \['c'\] are not among the categories"):
        fleiss_kappa([["a", "c"], ["a", "b"]], categories=["a", "b"])
    with pytest.raises(LagnestDataError, match="2-d table"):
        fleiss_kappa(["a", "b"])
    with pytest.raises(LagnestDataError, match="same number of coders"):
        fleiss_arrays([[2, 0], [1, 2]])


def test_alpha_bad_input():
    with pytest.raises(LagnestDataError, match="1 coder; agreement needs at least two"):
        krippendorff_alpha([[1, 2, 3]])
    with pytest.raises(LagnestDataError, match="no units"):
        krippendorff_alpha(np.zeros((3, 0)))
    with pytest.raises(LagnestDataError) as err:
        krippendorff_alpha([[1, "high", 2], [1, 2, None]], "interval")
    assert "interval data must be numbers; got 'high' (coder 0, unit 1)" in str(err.value)
    with pytest.raises(LagnestDataError, match="ordinal data must be numbers"):
        krippendorff_alpha([["low", "high"], ["low", "low"]], "ordinal")
    with pytest.raises(LagnestDataError, match="ratio data must be >= 0"):
        krippendorff_alpha([[1, -2], [1, 2]], "ratio")
    with pytest.raises(LagnestDataError, match="bad level"):
        krippendorff_alpha([[1, 2], [1, 2]], "circular")
    with pytest.raises(LagnestDataError, match="bad n_boot"):
        krippendorff_alpha([[1, 2], [1, 2]], n_boot=-1)
    with pytest.raises(LagnestDataError, match="bad ci_prob"):
        krippendorff_alpha([[1, 2], [1, 2]], ci_prob=1.5)
    with pytest.raises(LagnestDataError, match="3 cluster labels for 2 units"):
        krippendorff_alpha([[1, 2], [1, 2]], n_boot=10, clusters=["a", "b", "c"])
    many = np.arange(2 * (MAX_VALUES + 1), dtype=float).reshape(2, -1)
    with pytest.raises(LimitError, match="MAX_VALUES"):
        krippendorff_alpha(many, "interval")


def test_icc_bad_input():
    with pytest.raises(LagnestDataError) as err:
        icc([[1, 2], [3, nan], [4, 5]])
    assert "1 target not rated by every judge: [1]" in str(err.value)
    with pytest.raises(LagnestDataError, match="rating data must be numbers; got 'x'"):
        icc([[1, 2], [3, "x"]])
    with pytest.raises(LagnestDataError, match="1 judge; agreement needs at least two"):
        icc([[1], [2], [3]])
    with pytest.raises(LagnestDataError, match="1 target"):
        icc([[1, 2]])
    with pytest.raises(LagnestDataError, match="unknown ICC kind"):
        icc(SHROUT_FLEISS, "ICC(4,1)")
    with pytest.raises(LagnestDataError, match="unknown ICC kind"):
        icc(SHROUT_FLEISS, "ICC(2,3)")  # 4 judges: ICC(2,4) or ICC(2,k)


# ============================================================ codings of Sequences


def coding(sessions: dict[str, list], ratings: dict[str, list] | None = None,
           segments: dict[str, list[int]] | None = None) -> Sequences:
    """One categorical stream ``code`` (a, b, c; None = uncoded), an indicator ``flag``
    (1 where the code is "a") and optionally a rating ``score``."""
    rows = []
    for s, values in sessions.items():
        numbers = (segments or {}).get(s, list(range(1, len(values) + 1)))
        for i, (t, v) in enumerate(zip(numbers, values, strict=True)):
            row = {"dyad": "d", "session": s, "segment": t, "code": v,
                   "flag": None if v is None else int(v == "a")}
            if ratings is not None:
                row["score"] = ratings[s][i]
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame["code"] = frame["code"].astype("string")
    frame["flag"] = frame["flag"].astype("Int64")
    return Sequences.from_frame(frame, codes={"code": ["a", "b", "c"]},
                                ratings=["score"] if ratings is not None else ())


CODINGS = {
    "ana": coding({"s1": list("aabbcab"), "s2": list("cabba")},
                  {"s1": [1, 2, 2, 3, 4, 4, 5], "s2": [2, 2, 3, 1, 5]}),
    "ben": coding({"s1": list("aabbcbb"), "s2": ["c", "a", "b", None, "a"]},
                  {"s1": [1, 2, 3, 3, 4, 5, 5], "s2": [2, 1, 3, nan, 5]}),
    "eva": coding({"s2": list("cabca"), "s1": list("abbbcab")},
                  {"s2": [3, 2, 3, 2, 4], "s1": [1, 1, 2, 3, 4, 4, 4]}),
}


def stacked(name: str) -> np.ndarray:
    """(segments, coders) of stream ``code`` or rating ``score`` by session label and segment."""
    columns = []
    for seqs in CODINGS.values():
        frame = seqs.to_frame().set_index(["session", "segment"]).sort_index()
        columns.append(frame[name])
    out = pd.concat(columns, axis=1).to_numpy(dtype=object)
    out[pd.isna(out)] = None
    return out


def test_coder_agreement_matches_the_statistics():
    ds = coder_agreement(CODINGS)
    assert ds.stream.values.tolist() == ["code", "code:a", "code:b", "code:c", "flag", "score"]
    assert ds.kind.values.tolist() == ["categorical", "code", "code", "code", "indicator",
                                       "rating"]
    assert ds.parent.values.tolist() == ["code"] * 4 + ["flag", "score"]
    assert ds.attrs["coders"] == ["ana", "ben", "eva"] and ds.attrs["n_segments"] == 12
    codes = stacked("code")
    complete = ~pd.isna(codes).any(axis=1)
    fk = fleiss_kappa(codes[complete], categories=["a", "b", "c"])
    row = ds.sel(stream="code")
    assert float(row.fleiss_kappa) == pytest.approx(fk.attrs["kappa"], abs=1e-12)
    assert float(row.fleiss_se0) == pytest.approx(fk.attrs["se0"], abs=1e-12)
    assert float(row.p_o) == pytest.approx(fk.attrs["p_o"], abs=1e-12)
    assert int(row.n_complete) == 11 and int(row.n_pairable) == 12
    alpha = krippendorff_alpha(codes.T)
    assert float(row.alpha_nominal) == pytest.approx(alpha.attrs["alpha"], abs=1e-12)
    # per code: code j against the others, for Fleiss the kappa_j of the stream's table
    for code in "abc":
        assert float(ds.fleiss_kappa.sel(stream=f"code:{code}")) == pytest.approx(
            float(fk.kappa.sel(code=code)), abs=1e-12)
        collapsed = np.where(pd.isna(codes), None, codes == code)
        assert float(ds.alpha_nominal.sel(stream=f"code:{code}")) == pytest.approx(
            krippendorff_alpha(collapsed.T).attrs["alpha"], abs=1e-12)
    # the indicator flag is "a" present: the same numbers as code:a
    for var in ("fleiss_kappa", "alpha_nominal"):
        assert float(ds[var].sel(stream="flag")) == pytest.approx(
            float(ds[var].sel(stream="code:a")), abs=1e-12)
    scores = stacked("score").astype(float)
    rated = ~np.isnan(scores).any(axis=1)
    ref = icc(scores[rated], "ICC(2,1)")
    srow = ds.sel(stream="score")
    assert float(srow.icc) == pytest.approx(float(ref.icc[0]), abs=1e-12)
    assert float(srow.icc_ci_low) == pytest.approx(float(ref.ci_low[0]), abs=1e-12)
    assert float(srow.alpha_interval) == pytest.approx(
        krippendorff_alpha(scores.T, "interval").attrs["alpha"], abs=1e-12)
    assert np.isnan(float(srow.fleiss_kappa)) and np.isnan(float(row.icc))
    assert set(CODER_VARIABLES) <= set(ds.data_vars)
    assert list(ds.to_dataframe().index) == ds.stream.values.tolist()


def test_coder_agreement_options():
    one = coder_agreement(CODINGS, "code", per_code=False)
    assert one.stream.values.tolist() == ["code"]
    named = coder_agreement(CODINGS, ["code:b", "flag"])
    assert named.parent.values.tolist() == ["code", "flag"]
    assert named.kind.values.tolist() == ["code", "indicator"]
    assert float(named.fleiss_kappa[0]) == pytest.approx(
        float(coder_agreement(CODINGS, "code").fleiss_kappa.sel(stream="code:b")), abs=1e-12)
    cat = coder_agreement(CODINGS, "code", uncoded="category")
    assert cat.stream.values.tolist()[-1] == "code:(uncoded)"
    assert int(cat.n_complete.sel(stream="code")) == 12
    codes = np.where(pd.isna(stacked("code")), "(uncoded)", stacked("code"))
    assert float(cat.fleiss_kappa.sel(stream="code")) == pytest.approx(
        fleiss_kappa(codes).attrs["kappa"], abs=1e-12)
    several = coder_agreement(CODINGS, ["score", "code"],
                              per_code=False, icc_kind="ICC(3,1)")
    assert several.stream.values.tolist() == ["score", "code"]
    assert several.attrs["icc_kind"] == "ICC(3,1)"
    boot = coder_agreement(CODINGS, "score", n_boot=50, seed=4)
    again = coder_agreement(CODINGS, ["code", "score"], per_code=False, n_boot=50, seed=4)
    assert float(boot.alpha_ci_low[0]) == float(again.alpha_ci_low.sel(stream="score"))
    assert boot.attrs["seed"] == 4 and boot.attrs["bootstrap"] == "sessions"
    # sessions resampled whole: the same as krippendorff_alpha with sessions as clusters
    scores = stacked("score").astype(float)
    session = np.repeat(["s1", "s2"], [7, 5])
    ref = krippendorff_alpha(scores.T, "interval", n_boot=50, seed=4, clusters=session)
    assert float(boot.alpha_ci_low[0]) == pytest.approx(ref.attrs["ci_low"], abs=1e-12)
    assert float(boot.alpha_ci_high[0]) == pytest.approx(ref.attrs["ci_high"], abs=1e-12)


def test_coder_agreement_alignment_errors():
    short = coding({"s1": list("aabbcab"), "s2": list("cab")})
    with pytest.raises(LagnestDataError) as err:
        coder_agreement({"ana": CODINGS["ana"], "ben": CODINGS["ben"], "zoe": short}, "code")
    text = str(err.value)
    assert "session 's2', segment 4 is coded by ana but not by the other coder" in text
    lost = coding({"s1": list("aabbcab")})
    with pytest.raises(LagnestDataError, match="session 's2' is coded by ana but not by zoe"):
        coder_agreement({"ana": CODINGS["ana"], "zoe": lost}, "code")
    with pytest.raises(LagnestDataError, match="rating 'score' is missing from zoe"):
        coder_agreement({"ana": CODINGS["ana"], "zoe": coding({"s1": list("aabbcab"),
                                                                "s2": list("cabba")})}, "score")
    with pytest.raises(LagnestDataError, match="two or more coder names"):
        coder_agreement({"ana": CODINGS["ana"]})
    with pytest.raises(LagnestDataError, match="are not Sequences"):
        coder_agreement({"ana": CODINGS["ana"], "ben": pd.DataFrame()})
    with pytest.raises(LagnestDataError, match="uncoded"):
        coder_agreement(CODINGS, "code", uncoded="drop")
    with pytest.raises(LagnestDataError, match="unknown ICC kind"):
        coder_agreement(CODINGS, "score", icc_kind="ICC(9,1)")
    with pytest.raises(LagnestDataError, match="unknown"):
        coder_agreement(CODINGS, "nope")


def test_two_codings_keep_the_two_coder_behaviour():
    # _from_sequences now goes through _from_codings: the same arrays, labels and messages.
    a, b = CODINGS["ana"], CODINGS["eva"]
    two = _from_sequences(a, b, "code")
    many = _from_codings({"coder_a": a, "coder_b": b}, "code")
    np.testing.assert_array_equal(two.a, many.values[0])
    np.testing.assert_array_equal(two.b, many.values[1])
    assert two.labels == ("a", "b", "c")
    frame_a = a.to_frame().set_index(["session", "segment"])["code"]
    frame_b = b.to_frame().set_index(["session", "segment"])["code"]
    pairs = pd.concat([frame_a, frame_b], axis=1).dropna().to_numpy()
    ds = agreement(a, b, "code")
    assert int(ds.counts.sum()) == len(pairs)
    assert ds.attrs["p_o"] == pytest.approx(np.mean(pairs[:, 0] == pairs[:, 1]))
    lost = coding({"s1": list("aabbcab")})
    with pytest.raises(LagnestDataError,
                       match="session 's2' is coded by coder_a but not by coder_b"):
        agreement(a, lost, "code")
    shifted = coding({"s1": list("aabbcab"), "s2": list("cabba")},
                     segments={"s1": [1, 2, 3, 4, 5, 6, 8], "s2": [1, 2, 3, 4, 5]})
    with pytest.raises(LagnestDataError) as err:
        agreement(a, shifted, "code")
    assert "session 's1', segment 7 is coded by coder_a but not by the other coder" in str(
        err.value)
    assert "session 's1', segment 8 is coded by coder_b" in str(err.value)
    ind = Sequences.from_sequences({"code": [[0, 1]]})
    with pytest.raises(LagnestDataError,
                       match="categorical in coder_a but indicator in coder_b; expected the same "
                       "kind in both codings"):
        agreement(coding({"s": ["a", "b"]}), ind, "code")


def test_public_names():
    for name in ("fleiss_kappa", "krippendorff_alpha", "icc", "coder_agreement"):
        assert getattr(ln, name) is getattr(ln.classical, name)
        assert name in ln.__all__ and name in ln.classical.__all__


# ============================================================ several coders with tolerance

# docs/agreement.md, "Several coders with a tolerance": one session of 6 units; B starts
# b one unit early, C one unit late.
STAGGERED = {name: Sequences.from_sequences({"code": [list(text)]})
             for name, text in [("A", "aaabbb"), ("B", "aabbbb"), ("C", "aaaabb")]}


def test_pairwise_tolerance_worked_example_by_hand():
    # tolerance 1, reference a (the earlier coder of each pair):
    #   A|B: unit 2, A's a finds B's a at unit 1 -> [[3, 0], [0, 3]], kappa 1
    #   A|C: unit 3, A's b finds C's b at unit 4 -> [[3, 0], [0, 3]], kappa 1
    #   B|C: unit 2, B's b, C has a a a at units 1-3 -> (b, a); unit 3 finds C's b at 4
    #        -> [[2, 0], [1, 3]]: p_o 5/6, p_e (2*3 + 4*3)/36 = 1/2, kappa 2/3
    ds = pairwise_agreement(STAGGERED, "code", per_code=False, tolerance=1)
    assert ds.pair.values.tolist() == ["A|B", "A|C", "B|C"]
    assert ds.coder_a.values.tolist() == ["A", "A", "B"]
    np.testing.assert_allclose(ds.kappa.sel(stream="code"), [1, 1, 2 / 3], atol=1e-12)
    np.testing.assert_allclose(ds.p_o.sel(stream="code"), [1, 1, 5 / 6], atol=1e-12)
    np.testing.assert_allclose(ds.n.sel(stream="code"), [6, 6, 6])
    assert float(ds.pairwise_kappa[0]) == pytest.approx(8 / 9, abs=1e-12)
    assert float(ds.pairwise_p_o[0]) == pytest.approx(17 / 18, abs=1e-12)
    row = coder_agreement(STAGGERED, "code", per_code=False, tolerance=1)
    assert float(row.pairwise_kappa[0]) == pytest.approx(8 / 9, abs=1e-12)
    assert float(row.pairwise_p_o[0]) == pytest.approx(17 / 18, abs=1e-12)
    assert row.attrs["tolerance"] == 1 and row.attrs["reference"] == "a"
    # no tolerance: A|B [[2,1],[0,3]] 2/3, A|C [[3,0],[1,2]] 2/3, B|C [[2,0],[2,2]]: p_o 4/6,
    # p_e (2*4 + 4*2)/36 = 4/9, kappa 2/5; mean 26/45. Mean p_o 7/9 = Fleiss' P-bar
    # (units 2 and 3 have 1 agreeing pair of 3, the others 3 of 3: (4 + 2/3)/6).
    exact = coder_agreement(STAGGERED, "code", per_code=False)
    assert float(exact.pairwise_kappa[0]) == pytest.approx(26 / 45, abs=1e-12)
    assert float(exact.pairwise_p_o[0]) == pytest.approx(7 / 9, abs=1e-12)
    assert float(exact.p_o[0]) == pytest.approx(7 / 9, abs=1e-12)


def random_coding(rng: np.random.Generator, truth: dict[str, list], p_change: float,
                  p_missing: float, segments: dict[str, list[int]],
                  ratings: bool = False) -> Sequences:
    """A coder's noisy copy of ``truth`` (codes a, b, c; None = uncoded), rating 1-5."""
    sessions = {s: [None if rng.random() < p_missing else
                    (str(rng.choice(list("abc"))) if rng.random() < p_change else v)
                    for v in values] for s, values in truth.items()}
    scores = {s: [nan if rng.random() < p_missing else float(rng.integers(1, 6))
                  for _ in values] for s, values in truth.items()} if ratings else None
    return coding(sessions, scores, segments)


def random_codings(seed: int, n_coders: int, p_missing: float,
                   ratings: bool = False) -> dict[str, Sequences]:
    """Codings of two sessions with gaps in the segment numbers."""
    rng = np.random.default_rng(seed)
    truth = {s: [str(c) for c in rng.choice(list("abc"), size=n)]
             for s, n in (("s1", 15), ("s2", 9))}
    segments = {s: sorted(rng.choice(np.arange(1, 40), size=len(v), replace=False).tolist())
                for s, v in truth.items()}
    return {f"c{i}": random_coding(rng, truth, 0.4, p_missing, segments, ratings)
            for i in range(n_coders)}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), tolerance=st.integers(0, 3),
       reference=st.sampled_from(["a", "b", "both"]),
       uncoded=st.sampled_from(["exclude", "category"]), p_missing=st.sampled_from([0, 0.2]))
def test_pairwise_tolerance_of_two_coders_is_agreement(seed, tolerance, reference, uncoded,
                                                       p_missing):
    codings = random_codings(seed, 2, p_missing)
    a, b = codings.values()
    options = {"tolerance": tolerance, "reference": reference, "uncoded": uncoded}
    ds = coder_agreement(codings, **options)
    pairs = pairwise_agreement(codings, **options)
    assert pairs.sizes["pair"] == 1
    for label, kind in zip(ds.stream.values, ds.kind.values, strict=True):
        if label.endswith(":(uncoded)"):
            continue
        if kind == "indicator":  # one indicator of the stream "flag": its own 2 x 2 matrix
            ref = agreement(a, b, "flag", per_code=True, **options).sel(code=label)
            want = {v: float(ref[v]) for v in ("kappa", "p_o", "se", "n")}
        elif kind == "code":  # a code of a categorical stream: agreement's per-code row
            stream, code = label.split(":", 1)
            ref = agreement(a, b, stream, per_code=True, **options).sel(code=code)
            want = {v: float(ref[v]) for v in ("kappa", "p_o", "se", "n")}
        else:  # the row label is the spec agreement takes
            ref = agreement(a, b, label, **options)
            want = {v: ref.attrs[v] for v in ("kappa", "p_o", "se", "n")}
        assert float(ds.pairwise_kappa.sel(stream=label)) == pytest.approx(
            want["kappa"], abs=1e-12, nan_ok=True), label
        assert float(ds.pairwise_p_o.sel(stream=label)) == pytest.approx(
            want["p_o"], abs=1e-12, nan_ok=True), label
        for var in ("kappa", "p_o", "se", "n"):
            assert float(pairs[var].sel(stream=label)[0]) == pytest.approx(
                want[var], abs=1e-12, nan_ok=True), (label, var)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_coders=st.integers(3, 5),
       tolerance=st.integers(0, 2), reference=st.sampled_from(["a", "b", "both"]))
def test_pairwise_tolerance_is_the_mean_of_every_pair(seed, n_coders, tolerance, reference):
    codings = random_codings(seed, n_coders, 0.15)
    names = list(codings)
    options = {"tolerance": tolerance, "reference": reference}
    pairs = pairwise_agreement(codings, "code", **options)
    ds = coder_agreement(codings, "code", **options)
    assert pairs.sizes["pair"] == n_coders * (n_coders - 1) // 2
    for label in ds.stream.values:
        kappas, p_os = [], []
        order = [(i, j) for i in range(n_coders) for j in range(i + 1, n_coders)]
        for k, (i, j) in enumerate(order):
            if ":" in label:  # a code: agreement's per-code row (collapsed K x K matrix)
                stream, code = label.split(":", 1)
                row = agreement(codings[names[i]], codings[names[j]], stream, per_code=True,
                                **options).sel(code=code)
                ref_kappa, ref_p_o = float(row["kappa"]), float(row["p_o"])
            else:
                ref = agreement(codings[names[i]], codings[names[j]], label, **options)
                ref_kappa, ref_p_o = ref.attrs["kappa"], ref.attrs["p_o"]
            assert pairs.pair.values[k] == f"{names[i]}|{names[j]}"
            assert float(pairs.kappa.sel(stream=label)[k]) == pytest.approx(
                ref_kappa, abs=1e-12, nan_ok=True)
            kappas.append(ref_kappa)
            p_os.append(ref_p_o)
        assert float(ds.pairwise_kappa.sel(stream=label)) == pytest.approx(
            np.mean(kappas), abs=1e-12, nan_ok=True)
        assert float(ds.pairwise_p_o.sel(stream=label)) == pytest.approx(
            np.mean(p_os), abs=1e-12)
        assert float(pairs.pairwise_kappa.sel(stream=label)) == pytest.approx(
            float(ds.pairwise_kappa.sel(stream=label)), abs=1e-12, nan_ok=True)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_coders=st.integers(2, 5))
def test_no_tolerance_pairwise_agreement_is_fleiss_p_bar(seed, n_coders):
    # Without tolerance and with every segment coded by everyone, the mean over pairs of
    # the pairs' p_o is Fleiss' P-bar (P_i is the share of agreeing pairs on segment i);
    # with uncoded="category" every segment is complete, missing codes included.
    for p_missing, uncoded in ((0.0, "exclude"), (0.2, "category")):
        codings = random_codings(seed, n_coders, p_missing)
        ds = coder_agreement(codings, uncoded=uncoded)
        codes = ds.sel(stream=ds.kind != "rating")
        np.testing.assert_allclose(codes.pairwise_p_o, codes.p_o, atol=1e-12)
        assert (codes.n_complete == ds.attrs["n_segments"]).all()
        tolerated = coder_agreement(codings, uncoded=uncoded, tolerance=2)
        tol = tolerated.sel(stream=tolerated.kind != "rating")
        # the tolerance only turns disagreements into agreements
        assert (tol.pairwise_p_o >= codes.pairwise_p_o - 1e-12).all()
        for var in ("fleiss_kappa", "alpha_nominal"):  # untouched by the tolerance
            np.testing.assert_array_equal(tol[var], codes[var])


def test_pairwise_agreement_options_and_errors():
    ds = pairwise_agreement(CODINGS)
    assert ds.stream.values.tolist() == ["code", "code:a", "code:b", "code:c", "flag"]
    assert ds.attrs["coders"] == ["ana", "ben", "eva"] and ds.attrs["tolerance"] == 0
    both = pairwise_agreement(CODINGS, "code", tolerance=1, reference="both")
    swapped = pairwise_agreement({k: CODINGS[k] for k in ("eva", "ben", "ana")}, "code",
                                 tolerance=1, reference="both")
    assert float(both.pairwise_kappa[0]) == pytest.approx(float(swapped.pairwise_kappa[0]),
                                                          abs=1e-12)
    with pytest.raises(LagnestDataError, match="is a rating"):
        pairwise_agreement(CODINGS, ["code", "score"])
    for bad in (-1, 1.5, True):
        with pytest.raises(LagnestDataError, match="bad tolerance"):
            coder_agreement(CODINGS, "code", tolerance=bad)
    with pytest.raises(LagnestDataError, match="bad reference"):
        pairwise_agreement(CODINGS, "code", reference="c")
    with pytest.raises(LagnestDataError, match="two or more coder names"):
        pairwise_agreement({"ana": CODINGS["ana"]})
    with pytest.raises(LagnestDataError, match="would appear twice"):
        pairwise_agreement(CODINGS, ["code", "code"])


# ============================================================ ordinal alpha of ratings


def test_coder_agreement_ordinal_alpha_of_ratings():
    ds = coder_agreement(CODINGS, "score")
    scores = stacked("score").astype(float)
    ordinal = krippendorff_alpha(scores.T, "ordinal").attrs["alpha"]
    assert float(ds.alpha_ordinal[0]) == pytest.approx(ordinal, abs=1e-12)
    assert np.isnan(float(ds.pairwise_kappa[0]))  # ratings have no kappa
    codes = coder_agreement(CODINGS, "code")
    assert codes.alpha_ordinal.isnull().all()
    krippendorff = pytest.importorskip("krippendorff")
    assert ordinal == pytest.approx(
        krippendorff.alpha(reliability_data=scores.T, level_of_measurement="ordinal"),
        abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_coders=st.integers(2, 5),
       p_missing=st.sampled_from([0.0, 0.2]))
def test_coder_agreement_ordinal_alpha_matches_krippendorff_package(seed, n_coders, p_missing):
    # 1-5 ratings with missing values; oracle: the `krippendorff` package
    krippendorff = pytest.importorskip("krippendorff")
    codings = random_codings(seed, n_coders, p_missing, ratings=True)
    ds = coder_agreement(codings, "score")
    columns = [s.to_frame().set_index(["session", "segment"]).sort_index()["score"]
               for s in codings.values()]
    data = pd.concat(columns, axis=1).to_numpy(dtype=float).T
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal")
    assert float(ds.alpha_ordinal[0]) == pytest.approx(theirs, abs=1e-6)
    assert float(ds.alpha_interval[0]) == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="interval"), abs=1e-6)
