"""Classical statistics: reference numbers, independent oracles, identities, labelling."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import xarray as xr
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import Table
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from lagnest.classical.lagtable import count_table, homogeneity_test, lag_table, per_unit_indices
from lagnest.classical.statistics import hat_leverages, table_statistics
from lagnest.classical.text import format_lag_table
from lagnest.data.sequences import Sequences
from lagnest.errors import LagnestDataError

from .strategies import corpus_frames

BQ_2011 = (
    "2 1 4 3 3 4 3 4 2 1 4 4 5 4 1 3 4 5 3 2 2 1 4 1 2 5 2 1 2 3 3 1 4 4 1 4 1 3 3 3 1 5 2 1 1 3 "
    "1 4 1 2 3 3 4 5 5 2 3 3 5 2 5 4 4 2 3 1 5 5 2 2 1 3 3 3 3"
).split()
BQ_COUNTS = [[1, 3, 4, 6, 2], [6, 2, 4, 0, 2], [4, 1, 9, 4, 1], [5, 2, 2, 3, 3],
             [0, 5, 1, 2, 2]]
AGRESTI = np.array([[279, 73, 225], [165, 47, 191]])

# --------------------------------------------------------------------------- reference numbers


def test_agresti_party_identification():
    ds = table_statistics(AGRESTI)
    want = np.array([[2.293, 0.465, -2.618], [-2.293, -0.465, 2.618]])
    np.testing.assert_allclose(ds.adj_resid.values, want, atol=5e-4)
    assert ds.attrs["X2"] == pytest.approx(7.0095, abs=5e-5)
    assert ds.attrs["G2"] == pytest.approx(7.0026, abs=5e-5)
    assert ds.attrs["df"] == 2


def test_alternating_sequence():
    seqs = Sequences.from_sequences({"code": [list("ababababa")]})
    ds = lag_table(seqs, "code", "code")
    np.testing.assert_array_equal(ds.counts.values, [[0, 4], [4, 0]])
    assert ds.attrs["N"] == 8
    np.testing.assert_allclose(ds.expected.values, 2.0, atol=1e-12)
    np.testing.assert_allclose(ds.adj_resid.values, [[-2.828427, 2.828427],
                                                      [2.828427, -2.828427]], atol=1e-6)
    np.testing.assert_allclose(ds.yules_q.values, [[-1, 1], [1, -1]], atol=1e-12)


def test_bakeman_quera_2011_sequence():
    seqs = Sequences.from_sequences({"act": [BQ_2011]}, codes={"act": list("12345")})
    ds = lag_table(seqs, "act", "act")
    np.testing.assert_array_equal(ds.counts.values, BQ_COUNTS)
    assert ds.attrs["N"] == 74
    assert ds.attrs["G2"] == pytest.approx(30.954869, abs=1e-6)
    assert ds.attrs["X2"] == pytest.approx(27.662001, abs=1e-6)
    assert ds.attrs["df"] == 16
    assert list(ds.given.values) == list("12345")


# --------------------------------------------------------------------------- oracles


@st.composite
def tables(draw, min_side=2, max_side=5, max_count=30):
    k = draw(st.integers(min_side, max_side))
    m = draw(st.integers(min_side, max_side))
    cells = draw(st.lists(st.integers(0, max_count), min_size=k * m, max_size=k * m))
    return np.array(cells).reshape(k, m)


@settings(max_examples=100, deadline=None)
@given(tables())
def test_adjusted_residuals_equal_statsmodels(x):
    assume((x.sum(0) > 0).all() and (x.sum(1) > 0).all())
    ds = table_statistics(x)
    want = Table(x, shift_zeros=False).standardized_resids
    np.testing.assert_allclose(ds.adj_resid.values, want, rtol=1e-9, atol=1e-9)
    chi = stats.chi2_contingency(x, correction=False)
    assert ds.attrs["X2"] == pytest.approx(chi.statistic, rel=1e-9)
    np.testing.assert_allclose(ds.expected.values, chi.expected_freq, rtol=1e-12)
    g2 = stats.chi2_contingency(x, correction=False, lambda_="log-likelihood").statistic
    assert ds.attrs["G2"] == pytest.approx(g2, rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(tables())
def test_identities_z_phi_and_q_odds_ratio(x):
    ds = table_statistics(x)
    z, phi = ds.adj_resid.values, ds.phi.values
    both = np.isfinite(z) & np.isfinite(phi)
    np.testing.assert_allclose(z[both], phi[both] * np.sqrt(x.sum()), rtol=1e-9, atol=1e-9)
    q, odds = ds.yules_q.values, ds.odds_ratio.values
    finite = np.isfinite(odds)
    with np.errstate(invalid="ignore"):
        from_odds = (odds - 1) / (odds + 1)
    np.testing.assert_allclose(q[finite], from_odds[finite], atol=1e-12)
    np.testing.assert_array_equal(q[np.isposinf(odds)], 1.0)
    # no inf garbage in anything but the odds ratio
    for name in ("adj_resid", "yules_q", "log_odds", "log_odds_se", "phi", "trans_prob"):
        assert not np.isinf(ds[name].values).any()


def test_log_odds_correction():
    x = np.array([[0, 5], [5, 5]])
    raw = table_statistics(x)
    assert np.isnan(raw.log_odds.values[0, 0])
    assert raw.yules_q.values[0, 0] == -1.0
    corrected = table_statistics(x, correction=True)
    a, b, c, d = 0.5, 5.5, 5.5, 5.5
    assert corrected.log_odds.values[0, 0] == pytest.approx(np.log(a * d / (b * c)))
    assert corrected.log_odds_se.values[0, 0] == pytest.approx(np.sqrt(1 / a + 1 / b + 1 / c
                                                                       + 1 / d))
    assert corrected.yules_q.values[0, 0] == -1.0


def test_empty_rows_give_nan_not_errors():
    ds = table_statistics(np.array([[0, 0, 0], [3, 1, 2], [1, 4, 0]]))
    assert np.isnan(ds.trans_prob.values[0]).all()
    assert np.isnan(ds.adj_resid.values[0]).all()
    assert ds.attrs["df"] == 2  # (2 - 1) * (3 - 1): the empty row carries no df
    assert np.isfinite(ds.attrs["X2"])
    zero = table_statistics(np.zeros((2, 2), dtype=int))
    assert np.isnan(zero.attrs["p_X2"]) and zero.attrs["N"] == 0


# --------------------------------------------------------------------------- structural zeros


def _poisson_glm(x, allowed):
    k, m = x.shape
    rows, cols = np.nonzero(allowed)
    design = pd.get_dummies(pd.DataFrame({"r": rows.astype(str), "c": cols.astype(str)}),
                            drop_first=True, dtype=float)
    design.insert(0, "const", 1.0)
    with warnings.catch_warnings():
        # some random zero patterns leave cells fitted exactly (a saturated sub-table):
        # statsmodels then warns of "perfect prediction", but the fitted values stay the MLE
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        fit = sm.GLM(x[rows, cols].astype(float), design, family=sm.families.Poisson()).fit(
            tol=1e-14, maxiter=200)
    fitted = np.zeros((k, m))
    fitted[rows, cols] = fit.fittedvalues
    hat = np.zeros((k, m))
    hat[rows, cols] = fit.get_hat_matrix_diag()
    return fitted, hat


@settings(max_examples=40, deadline=None)
@given(tables(min_side=3, max_side=5, max_count=20), st.integers(0, 2 ** 16))
def test_structural_zero_expected_equals_poisson_glm(x, seed):
    rng = np.random.default_rng(seed)
    zeros = np.eye(*x.shape, dtype=bool) | (rng.random(x.shape) < 0.1)
    allowed = ~zeros
    assume((allowed.sum(0) >= 2).all() and (allowed.sum(1) >= 2).all())
    x = np.where(zeros, 0, x + 1)  # allowed cells positive: the MLE exists
    ds = table_statistics(x, structural_zeros=zeros)
    fitted, hat = _poisson_glm(x, ~zeros)
    np.testing.assert_allclose(ds.expected.values, fitted, rtol=1e-8, atol=1e-8)
    with np.errstate(invalid="ignore", divide="ignore"):
        want_z = np.where(zeros, np.nan, (x - fitted) / np.sqrt(fitted * (1 - hat)))
    defined = np.abs(1 - hat) > 1e-8
    np.testing.assert_allclose(ds.adj_resid.values[defined], want_z[defined], rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(ds.expected.sum("target").values, x.sum(1), rtol=1e-11)
    np.testing.assert_allclose(ds.expected.sum("given").values, x.sum(0), rtol=1e-11)
    (k, m), s = x.shape, zeros.sum()
    assert ds.attrs["df"] == (k - 1) * (m - 1) - s
    assert ds.attrs["n_structural_zeros"] == s


@settings(max_examples=50, deadline=None)
@given(tables())
def test_hat_matrix_form_equals_closed_form_without_zeros(x):
    assume((x.sum(0) > 0).all() and (x.sum(1) > 0).all())
    ds = table_statistics(x)
    n = x.sum()
    h = hat_leverages(ds.expected.values, np.ones(x.shape, dtype=bool))
    closed = 1 - (1 - x.sum(1)[:, None] / n) * (1 - x.sum(0)[None, :] / n)
    np.testing.assert_allclose(h, closed, atol=1e-9)


def test_diagonal_structural_zeros_and_errors():
    seqs = Sequences.from_sequences({"code": [list("abcacbabcbacab")]})
    ds = lag_table(seqs, "code", "code", structural_zeros="diagonal")
    assert ds.attrs["df"] == 4 - 3
    assert (ds.expected.values.diagonal() == 0).all()
    assert np.isnan(ds.adj_resid.values.diagonal()).all()
    pairs = lag_table(seqs, "code", "code", structural_zeros=[("a", "a"), ("b", "b"),
                                                              ("c", "c")])
    xr.testing.assert_allclose(ds, pairs)
    repeats = Sequences.from_sequences({"code": [list("aab")]})
    with pytest.raises(LagnestDataError, match="structural zeros"):
        lag_table(repeats, "code", "code", structural_zeros="diagonal")
    with pytest.raises(LagnestDataError, match="unknown code"):
        lag_table(seqs, "code", "code", structural_zeros=[("a", "z")])


# --------------------------------------------------------------------------- Sequences level


@st.composite
def nested_corpora(draw):
    n_sessions = draw(st.integers(1, 4))
    sessions, breaks = [], []
    for _ in range(n_sessions):
        length = draw(st.integers(1, 15))
        sessions.append(draw(st.lists(st.sampled_from(["a", "b", "c", None]),
                                      min_size=length, max_size=length)))
        breaks.append(sorted(set(draw(st.lists(st.integers(1, max(length - 1, 1)),
                                               max_size=2)))) if length > 1 else [])
    return sessions, breaks


def _naive_n(sessions, breaks, lag):
    n = 0
    for codes, cuts in zip(sessions, breaks, strict=True):
        bounds = [0, *cuts, len(codes)]
        for start, end in itertools.pairwise(bounds):
            block = codes[start:end]
            n += sum(1 for t in range(len(block) - lag)
                     if block[t] is not None and block[t + lag] is not None)
    return n


@settings(max_examples=60, deadline=None)
@given(nested_corpora(), st.integers(0, 3))
def test_pooled_n_over_nested_corpora(corpus, lag):
    sessions, breaks = corpus
    assume(any(c is not None for s in sessions for c in s))
    seqs = Sequences.from_sequences({"code": sessions}, breaks=breaks,
                                    codes={"code": ["a", "b", "c"]})
    counts = count_table(seqs, "code", "code", lag=lag)
    assert int(counts.sum()) == _naive_n(sessions, breaks, lag)
    coded = [[c or "a" for c in s] for s in sessions]
    full = Sequences.from_sequences({"code": coded}, breaks=breaks,
                                    codes={"code": ["a", "b", "c"]})
    blocks = np.diff(full.encoded.block_offsets)
    assert int(count_table(full, "code", "code", lag=lag).sum()) == np.maximum(blocks - lag,
                                                                               0).sum()
    by_session = count_table(seqs, "code", "code", lag=lag, by="session")
    np.testing.assert_array_equal(by_session.sum("unit").values, counts.values)


def _two_dyads():
    return Sequences.from_sequences(
        {"code": [list("abcabcaabb"), list("aabbccabca"), list("cbacbacbaa")],
         "flag": [[0, 1, 1, 0, 0, 1, 0, 1, 0, 0], [1, 1, 0, 0, 1, 0, 1, 0, None, 0],
                  [0, 0, 0, 1, 1, 1, 0, 0, 1, 0]],
         "mark": [[1, 0, 0, 0, 1, 1, 0, 1, 0, 1], [0, 1, 0, 1, 1, 0, 0, 0, 1, 0],
                  [1, 1, 0, 0, 0, 1, 1, 0, 0, 1]]},
        dyads=["d1", "d1", "d2"],
    )


def test_by_session_has_units_and_pooled_entry():
    seqs = _two_dyads()
    ds = lag_table(seqs, "code", "code", by="session")
    assert list(ds.unit.values) == ["s1", "s2", "s3", "pooled"]
    assert list(ds.is_pooled.values) == [False, False, False, True]
    pooled = lag_table(seqs, "code", "code")
    np.testing.assert_array_equal(ds.counts.sel(unit="pooled").values, pooled.counts.values)
    np.testing.assert_allclose(ds.adj_resid.sel(unit="pooled").values, pooled.adj_resid.values)
    for name in ("N", "X2", "G2", "df"):
        assert ds.attrs[name] == pytest.approx(pooled.attrs[name])
    units = ds.drop_sel(unit="pooled")
    np.testing.assert_array_equal(units.counts.sum("unit").values, pooled.counts.values)
    one = lag_table(Sequences.from_sequences({"code": [list("aabbccabca")]}), "code", "code")
    np.testing.assert_allclose(ds.adj_resid.sel(unit="s2").values, one.adj_resid.values)
    dyads = lag_table(seqs, "code", "code", by="dyad")
    assert list(dyads.unit.values) == ["d1", "d2", "pooled"]
    assert ds.to_dataframe().shape[0] == 4 * 9


def test_lags_zero_negative_and_window():
    seqs = _two_dyads()
    forward = count_table(seqs, "code", "code", lag=2)
    backward = count_table(seqs, "code", "code", lag=-2)
    np.testing.assert_array_equal(backward.values, forward.values.T)
    same = count_table(seqs, "code", "code", lag=0)
    np.testing.assert_array_equal(same.values, np.diag(np.diag(same.values)))
    window = count_table(seqs, "code", "code", window=2)
    assert window.attrs["window"] == 2
    with pytest.raises(LagnestDataError, match="either lag or window"):
        count_table(seqs, "code", "code", lag=2, window=2)


def test_indicator_given_and_indicator_sets():
    seqs = _two_dyads()
    single = lag_table(seqs, "flag", "code")
    assert list(single.given.values) == ["not flag", "flag"]
    both = lag_table(seqs, ["flag", "mark"], "code", by="session")
    assert both.counts.dims == ("unit", "indicator", "given", "target")
    assert list(both.given.values) == ["absent", "present"]
    for name in ("flag", "mark"):
        alone = lag_table(seqs, name, "code", by="session")
        np.testing.assert_array_equal(both.counts.sel(indicator=name).values,
                                      alone.counts.values)
        np.testing.assert_allclose(both.G2.sel(indicator=name).values, alone.G2.values)
    as_target = count_table(seqs, "code", ["flag", "mark"], lag=1)
    assert as_target.dims == ("indicator", "given", "target")
    np.testing.assert_array_equal(as_target.sel(indicator="mark").values,
                                  count_table(seqs, "code", "mark").values)
    with pytest.raises(LagnestDataError, match="only one"):
        count_table(seqs, ["flag", "mark"], ["flag", "mark"])


def test_input_types_agree():
    x = np.array(BQ_COUNTS)
    labels = list("12345")
    a = table_statistics(x)
    b = table_statistics(pd.DataFrame(x, index=labels, columns=labels))
    c = table_statistics(xr.DataArray(x, dims=("row", "col"),
                                      coords={"row": labels, "col": labels}))
    for ds in (b, c):
        np.testing.assert_allclose(ds.adj_resid.values, a.adj_resid.values)
        assert list(ds.given.values) == labels
    assert b.attrs["G2"] == pytest.approx(30.954869, abs=1e-6)
    with pytest.raises(LagnestDataError):
        table_statistics(np.array([1, 2, 3]))
    with pytest.raises(LagnestDataError):
        table_statistics(np.array([[1, -2], [3, 4]]))


def test_per_unit_indices_and_homogeneity():
    seqs = _two_dyads()
    frame = per_unit_indices(seqs, "code", "code", by="session", correction=True)
    assert {"unit", "given", "target", "yules_q", "log_odds", "log_odds_se", "adj_resid",
            "counts", "N"} <= set(frame.columns)
    assert len(frame) == 3 * 9 and "pooled" not in set(frame.unit)
    assert frame.log_odds.notna().all()  # +0.5 correction defines every log odds

    res = homogeneity_test(seqs, "code", "code", by="session")
    x = count_table(seqs, "code", "code", by="session").values.astype(float)
    pooled = x.sum(0)
    g2 = 0.0
    for u in range(x.shape[0]):
        for i in range(3):
            for j in range(3):
                if x[u, i, j] > 0:
                    g2 += 2 * x[u, i, j] * np.log((x[u, i, j] / x[u, i].sum())
                                                  / (pooled[i, j] / pooled[i].sum()))
    assert res.attrs["G2"] == pytest.approx(g2)
    assert res.attrs["df"] == 3 * 2 * 2  # K (M - 1) (U - 1), nothing empty
    assert res.attrs["p"] == pytest.approx(stats.chi2.sf(g2, 12))
    same = Sequences.from_sequences({"code": [list("abcabcab")] * 3})
    assert homogeneity_test(same, "code", "code", by="session").attrs["G2"] == pytest.approx(0)


def test_text_rendering_and_accessor():
    seqs = Sequences.from_sequences({"act": [BQ_2011]})
    ds = lag_table(seqs, "act", "act")
    text = format_lag_table(ds)
    assert "G2 = 30.95" in text and "N = 74" in text
    assert "5 (2.90)*" in text  # B&Q 5 -> 2, significant
    assert ds.lagnest.text() == text
    units = format_lag_table(lag_table(_two_dyads(), "code", "code", by="dyad"))
    assert "unit = d1" in units and "unit = pooled" in units


def test_ipf_without_interior_solution_warns():
    # quasi-independence MLE lies on the boundary (m11 -> 0): IPF cannot meet the tolerance
    zeros = np.array([[False, False], [False, True]])
    with pytest.warns(RuntimeWarning, match="did not reach"):
        ds = table_statistics(np.array([[0, 3], [3, 0]]), structural_zeros=zeros)
    assert ds.attrs["ipf_iterations"] == 10_000


@settings(max_examples=40, deadline=None)
@given(corpus_frames(), st.integers(-2, 2))
def test_lag_pairs_aggregate_to_session_counts(frame, lag):
    from lagnest.classical.lagtable import count_table, lag_pairs

    seqs = Sequences.from_frame(frame)
    pairs = lag_pairs(seqs, "code", "flag", lag=lag)
    counts = count_table(seqs, "code", "flag", lag=lag, by="session")
    got = np.zeros(counts.shape, dtype=np.int64)
    np.add.at(got, (pairs[:, 0], pairs[:, 1], pairs[:, 2]), 1)
    np.testing.assert_array_equal(got, counts.values)


def test_a_lag_beyond_int64_is_refused_before_the_kernels():
    seqs = _two_dyads()
    for bad in (2**70, -(2**70)):
        with pytest.raises(LagnestDataError, match="lag must lie within"):
            count_table(seqs, "code", "code", lag=bad)
    with pytest.raises(LagnestDataError, match="window must be at most"):
        count_table(seqs, "code", "code", window=2**63)
    # a lag longer than every session is legal: no pairs, N = 0
    assert int(count_table(seqs, "code", "code", lag=10**6).values.sum()) == 0
