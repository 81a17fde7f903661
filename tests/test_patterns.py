"""Pattern tables: counts per (session, lagged predictor pattern, target code)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from lagnest import kernels
from lagnest.classical.lagtable import count_table
from lagnest.classical.patterns import PatternTable, pattern_counts
from lagnest.data.sequences import Sequences
from lagnest.errors import LagnestDataError
from lagnest.kernels import patterns as kernel_patterns

from .strategies import corpus_frames

#: Specs of the strategy's corpus: a categorical stream, an indicator, a code of the stream.
SPECS = ["code", "flag", "a"]
LAG_SETS = st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True)


# --------------------------------------------------------------------------- naive reference


def _frame_codes(frame: pd.DataFrame, spec: str, labels: tuple[str, ...]) -> list[int]:
    """Codes of ``spec`` read from the raw frame (-1 = uncoded), without the Sequences."""
    if spec == "code":
        return [-1 if pd.isna(v) else labels.index(v) for v in frame["code"]]
    if spec == "flag":
        return [-1 if pd.isna(v) else int(v) for v in frame["flag"]]
    return [-1 if pd.isna(v) else int(v == spec) for v in frame["code"]]


def _linked(frame: pd.DataFrame, i: int, lag: int) -> bool:
    """Whether row ``i - lag`` reaches row ``i`` in one session with no gap and no break."""
    if i - lag < 0:
        return False
    for k in range(i - lag + 1, i + 1):
        same = frame["session"].iat[k] == frame["session"].iat[k - 1]
        step = frame["segment"].iat[k] == frame["segment"].iat[k - 1] + 1
        if not same or not step or frame["break"].iat[k] == 1:
            return False
    return True


def naive_pattern_counts(frame, seqs, target, predictors, lags):
    """Pure-Python loop over the frame's rows: the reference for :func:`pattern_counts`."""
    target_labels = seqs.categorical(target)[1]
    h = _frame_codes(frame, target, target_labels)
    preds = [_frame_codes(frame, p, seqs.categorical(p)[1]) for p in predictors]
    session_index = {label: s for s, label in enumerate(seqs.session_labels)}
    cells: dict[tuple, list[int]] = {}
    where: dict[int, tuple] = {}
    for u in range(len(frame)):
        if h[u] < 0:
            continue
        pattern = []
        for lag in lags:
            if not _linked(frame, u, lag):
                break
            codes = tuple(p[u - lag] for p in preds)
            if any(c < 0 for c in codes):
                break
            pattern.append(codes)
        else:
            key = (session_index[frame["session"].iat[u]], tuple(pattern))
            cells.setdefault(key, [0] * len(target_labels))[h[u]] += 1
            where[u] = key
    order = sorted(cells)
    row_of = {key: r for r, key in enumerate(order)}
    counts = np.array([cells[k] for k in order], dtype=np.int64).reshape(-1, len(target_labels))
    patterns = np.array([k[1] for k in order], dtype=np.int64).reshape(
        len(order), len(lags), len(predictors))
    segment_row = np.array([row_of[where[u]] if u in where else -1 for u in range(len(frame))])
    row_session = np.array([k[0] for k in order], dtype=np.int64)
    return counts, patterns, row_session, segment_row


def _same_order(frame: pd.DataFrame, seqs: Sequences) -> None:
    """The frame's rows are the Sequences' segments, in order (so the reference aligns)."""
    labels = np.asarray(seqs.session_labels)[seqs.encoded.segment_session]
    assert labels.tolist() == frame["session"].tolist()


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(corpus_frames(), st.sampled_from(SPECS),
       st.lists(st.sampled_from(SPECS), max_size=3, unique=True), LAG_SETS)
def test_matches_naive_reference(frame, target, predictors, lags):
    seqs = Sequences.from_frame(frame)
    _same_order(frame, seqs)
    tab = pattern_counts(seqs, target, predictors, lags=lags)
    counts, patterns, row_session, segment_row = naive_pattern_counts(
        frame, seqs, target, predictors, lags)
    np.testing.assert_array_equal(tab.counts, counts)
    np.testing.assert_array_equal(tab.patterns, patterns)
    np.testing.assert_array_equal(tab.row_session, row_session)
    np.testing.assert_array_equal(tab.segment_row, segment_row)
    assert tab.lags == tuple(lags) and tab.predictors == tuple(predictors)


@settings(max_examples=40, deadline=None)
@given(corpus_frames(), st.sampled_from(SPECS),
       st.lists(st.sampled_from(SPECS), max_size=3, unique=True), LAG_SETS)
def test_counts_and_segment_map_agree(frame, target, predictors, lags):
    seqs = Sequences.from_frame(frame)
    tab = pattern_counts(seqs, target, predictors, lags=lags)
    h = seqs.categorical(target)[0]
    used = tab.segment_row >= 0
    # N = number of valid target segments, and the map rebuilds the counts exactly
    assert tab.n_valid == int(used.sum())
    rebuilt = np.zeros_like(tab.counts)
    np.add.at(rebuilt, (tab.segment_row[used], h[used]), 1)
    np.testing.assert_array_equal(rebuilt, tab.counts)
    # every mapped segment sees its row's pattern at u - lag, in its row's session
    u = np.flatnonzero(used)
    for j, lag in enumerate(lags):
        for f, spec in enumerate(predictors):
            codes = seqs.categorical(spec)[0]
            np.testing.assert_array_equal(codes[u - lag], tab.patterns[tab.segment_row[u], j, f])
    np.testing.assert_array_equal(seqs.encoded.segment_session[u],
                                  tab.row_session[tab.segment_row[u]])
    # rows are distinct and sorted by session, then pattern
    dims = tab.radices * len(lags)
    keys = np.array([np.ravel_multi_index(tuple(p.ravel()), dims) if dims else 0
                     for p in tab.patterns.astype(np.int64)], dtype=np.int64)
    order = np.lexsort((keys, tab.row_session))
    np.testing.assert_array_equal(order, np.arange(tab.n_rows))
    assert len(set(zip(tab.row_session.tolist(), keys.tolist(), strict=True))) == tab.n_rows
    assert (tab.counts.sum(axis=1) > 0).all()


@settings(max_examples=40, deadline=None)
@given(corpus_frames(), st.sampled_from(SPECS), st.sampled_from(SPECS), st.sampled_from([0, 1]))
def test_one_predictor_equals_the_lag_table(frame, target, predictor, lag):
    # lag 1: the lag-table kernels are the oracle; lag 0: the co-occurrence table
    seqs = Sequences.from_frame(frame)
    tab = pattern_counts(seqs, target, [predictor], lags=(lag,))
    oracle = count_table(seqs, predictor, target, lag=lag, by="session")
    got = np.zeros(oracle.shape, dtype=np.int64)
    np.add.at(got, (tab.row_session, tab.patterns[:, 0, 0]), tab.counts)
    np.testing.assert_array_equal(got, oracle.values)


@settings(max_examples=40, deadline=None)
@given(corpus_frames(), st.sampled_from(SPECS))
def test_no_predictors_gives_one_row_per_session(frame, target):
    seqs = Sequences.from_frame(frame)
    tab = pattern_counts(seqs, target, [], lags=(1,))
    assert tab.patterns.shape == (tab.n_rows, 1, 0)
    assert len(set(tab.row_session.tolist())) == tab.n_rows
    # a target segment counts when it has a lag-1 predecessor in its block
    h = seqs.categorical(target)[0]
    starts = kernels.lag_pair_starts(seqs.encoded.block_offsets, 1) + 1
    starts = starts[h[starts] >= 0]
    expected = np.zeros((seqs.n_sessions, len(tab.target_labels)), dtype=np.int64)
    np.add.at(expected, (seqs.encoded.segment_session[starts], h[starts]), 1)
    np.testing.assert_array_equal(tab.counts, expected[expected.sum(axis=1) > 0])


@settings(max_examples=30, deadline=None)
@given(corpus_frames())
def test_lags_one_and_two_drop_the_first_two_segments_of_each_block(frame):
    frame = frame.assign(code=frame["code"].fillna("b"), flag=frame["flag"].fillna(0))
    seqs = Sequences.from_frame(frame)
    tab = pattern_counts(seqs, "code", ["flag", "code"], lags=(1, 2))
    offsets = seqs.encoded.block_offsets
    position = np.arange(seqs.n_segments) - np.repeat(offsets[:-1], np.diff(offsets))
    np.testing.assert_array_equal(tab.segment_row >= 0, position >= 2)


# --------------------------------------------------------------------------- examples


def _handmade() -> Sequences:
    return Sequences.from_sequences(
        {"code": [[*"abbab", None, "a", "b"], list("ba")],
         "flag": [[1, 0, 1, None, 0, 1, 1, 0], [0, 1]]},
        dyads=["d1", "d1"],
        breaks=[[4], []],
    )


def test_handmade_corpus():
    tab = pattern_counts(_handmade(), "code", ["flag"], lags=(1,))
    # session 1: block 0..3 gives (1->b), (0->b), (1->a); a break before 4; target 5 is
    # uncoded; then (1->a), (1->b). Session 2: (0->a).
    assert tab.segment_row.tolist() == [-1, 1, 0, 1, -1, -1, 1, 1, -1, 2]
    assert tab.counts.tolist() == [[0, 1], [2, 2], [1, 0]]
    assert tab.patterns[:, 0, 0].tolist() == [0, 1, 0]
    assert tab.row_session.tolist() == [0, 0, 1]
    assert tab.target_labels == ("a", "b")
    assert tab.predictor_labels == (("not flag", "flag"),)
    assert tab.session_dyad.tolist() == [0, 0] and tab.dyad_labels == ("d1",)
    assert tab.row_dyad.tolist() == [0, 0, 0]


def test_uncoded_anywhere_in_the_window_drops_the_row():
    seqs = Sequences.from_sequences(
        {"code": [list("abababab")], "flag": [[1, 1, None, 1, 1, 1, 1, 1]]})
    tab = pattern_counts(seqs, "code", ["code", "flag"], lags=(1, 2))
    # flag uncoded at 2: targets 3 (lag 1 -> 2) and 4 (lag 2 -> 2) drop, and 0, 1 lack lag 2
    assert (tab.segment_row >= 0).tolist() == [False, False, True, False, False, True, True,
                                               True]
    # the same window without the flag keeps 3 and 4
    tab = pattern_counts(seqs, "code", ["code"], lags=(1, 2))
    assert (tab.segment_row >= 0).tolist() == [False, False, True, True, True, True, True, True]


def test_lag_zero_uses_the_target_segment():
    seqs = Sequences.from_sequences({"code": [list("aab")], "flag": [[1, None, 0]]})
    tab = pattern_counts(seqs, "code", ["flag"], lags=[0])
    assert tab.segment_row.tolist() == [1, -1, 0]
    assert tab.counts.tolist() == [[0, 1], [1, 0]]


def test_no_valid_rows_gives_empty_tables(tmp_path):
    seqs = Sequences.from_sequences({"code": [["a", None, None], ["b"]]})
    tab = pattern_counts(seqs, "code", ["code"], lags=(1,))
    assert tab.counts.shape == (0, 2) and tab.patterns.shape == (0, 1, 1)
    assert tab.row_session.shape == (0,) and tab.n_valid == 0
    assert (tab.segment_row == -1).all()
    _assert_round_trip(tab, tmp_path / "empty.nc")


def test_single_segment():
    seqs = Sequences.from_sequences({"code": [["a"]]})
    assert pattern_counts(seqs, "code", ["code"], lags=(1,)).n_rows == 0
    tab = pattern_counts(seqs, "code", ["code"], lags=(0,))
    assert tab.counts.tolist() == [[1]] and tab.patterns.tolist() == [[[0]]]


def test_no_predictors_and_lag_zero_counts_targets_per_session():
    seqs = Sequences.from_sequences({"code": [list("aab"), [None, "b"]]})
    tab = pattern_counts(seqs, "code", [], lags=0)
    assert tab.counts.tolist() == [[2, 1], [0, 1]] and tab.row_session.tolist() == [0, 1]


@pytest.mark.parametrize("lags", [(-1,), (1, -2), (), (1, 1), (True,), (1.0,), "1", None])
def test_bad_lags_are_refused(lags):
    with pytest.raises(LagnestDataError, match="lag"):
        pattern_counts(_handmade(), "code", ["flag"], lags=lags)


def test_bad_specs_are_refused():
    seqs = _handmade()
    with pytest.raises(LagnestDataError, match="distinct"):
        pattern_counts(seqs, "code", ["flag", "flag"])
    with pytest.raises(LagnestDataError, match="unknown"):
        pattern_counts(seqs, "code", ["nope"])
    with pytest.raises(LagnestDataError, match="unknown"):
        pattern_counts(seqs, "nope", ["flag"])


def test_too_many_patterns_are_refused_before_counting():
    # 2 ** 64 possible keys do not fit in int64
    with pytest.raises(LagnestDataError, match="64-bit"):
        pattern_counts(_handmade(), "code", ["flag"], lags=range(64))
    assert pattern_counts(_handmade(), "code", ["flag"], lags=range(62)).n_rows == 0


def test_single_predictor_string_is_one_predictor():
    a = pattern_counts(_handmade(), "code", "flag")
    b = pattern_counts(_handmade(), "code", ["flag"])
    np.testing.assert_array_equal(a.counts, b.counts)
    assert a.predictors == ("flag",)


def test_arrays_are_read_only():
    tab = pattern_counts(_handmade(), "code", ["flag"])
    for arr in (tab.counts, tab.patterns, tab.row_session, tab.segment_row, tab.session_dyad):
        assert not arr.flags.writeable


# --------------------------------------------------------------------------- dataset


def _assert_round_trip(tab: PatternTable, path) -> None:
    ds = tab.to_dataset()
    assert not any(v.dtype == object for v in ds.variables.values())
    ds.to_netcdf(path, engine="h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as stored:
        back = PatternTable.from_dataset(stored.load())
    for name in ("counts", "patterns", "row_session", "segment_row", "session_dyad"):
        np.testing.assert_array_equal(getattr(back, name), getattr(tab, name))
        assert getattr(back, name).dtype == getattr(tab, name).dtype
    for name in ("target", "target_labels", "predictors", "predictor_labels", "lags",
                 "session_labels", "dyad_labels"):
        assert getattr(back, name) == getattr(tab, name)


def test_dataset_is_labelled_and_round_trips(tmp_path):
    seqs = Sequences.from_sequences(
        {"code": [list("abcabc"), list("cba")], "flag": [[1, 0, 1, 1, 0, 0], [0, 1, 1]]},
        dyads=["d1", "d2"])
    tab = pattern_counts(seqs, "code", ["flag", "code", "b"], lags=(2, 1))
    ds = tab.to_dataset()
    assert ds["counts"].dims == ("row", "target")
    assert ds["patterns"].dims == ("row", "lag", "predictor")
    assert ds["target"].values.tolist() == ["a", "b", "c"]
    assert ds["lag"].values.tolist() == [2, 1]
    assert ds["predictor"].values.tolist() == ["flag", "code", "b"]
    assert ds["predictor_levels"].sel(predictor="code").values.tolist() == ["a", "b", "c"]
    assert ds["predictor_levels"].sel(predictor="b").values.tolist() == ["not b", "b", ""]
    assert int(ds["counts"].sum()) == tab.n_valid == 5
    _assert_round_trip(tab, tmp_path / "table.nc")
    _assert_round_trip(pattern_counts(seqs, "code", [], lags=(1,)), tmp_path / "none.nc")


def test_from_dataset_refuses_other_datasets():
    with pytest.raises(LagnestDataError, match="not a pattern table"):
        PatternTable.from_dataset(xr.Dataset({"counts": ("row", [1])}))


# --------------------------------------------------------------------------- kernels


def test_keys_match_numpy_ravel_multi_index():
    rng = np.random.default_rng(3)
    radices = np.array([2, 3, 4])
    codes = np.stack([rng.integers(0, r, 50) for r in radices], axis=1).astype(np.int8)
    target = np.zeros(50, dtype=np.int64)
    keys = kernels.pattern_keys(codes, radices, target, np.array([0, 50]), [0, 2])
    u = np.arange(2, 50)
    digits = np.concatenate([codes[u], codes[u - 2]], axis=1).astype(np.int64)
    expected = np.ravel_multi_index(tuple(digits.T), (2, 3, 4, 2, 3, 4))
    np.testing.assert_array_equal(keys[2:], expected)
    assert keys[:2].tolist() == [-1, -1]
    decoded = kernels.decode_pattern_keys(keys[2:], radices, 2)
    np.testing.assert_array_equal(decoded.reshape(48, 6), digits)


def test_kernels_refuse_out_of_range_codes():
    offsets = np.array([0, 3])
    with pytest.raises(ValueError, match="predictor"):
        kernels.pattern_keys(np.array([[0], [2], [1]]), np.array([2]), np.zeros(3, np.int64),
                             offsets, [1])
    with pytest.raises(ValueError, match="target"):
        kernels.pattern_rows(np.array([0, 0, 1]), np.array([0, 3, 1]), offsets, 2)
    with pytest.raises(ValueError, match="session_offsets"):
        kernels.pattern_rows(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([0, 2]), 2)
    with pytest.raises(ValueError, match="radices"):
        kernels.pattern_keys(np.array([[0], [1], [1]]), np.array([2, 2]),
                             np.zeros(3, np.int64), offsets, [1])
    with pytest.raises(LagnestDataError, match="64-bit"):
        kernels.pattern_keys(np.zeros((3, 2), np.int8), np.array([2**40, 2**40]),
                             np.zeros(3, np.int64), offsets, [1])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 40), st.integers(-1, 2)), max_size=60),
       st.lists(st.integers(0, 60), max_size=6), st.booleans())
def test_pattern_rows_matches_reference_on_both_paths(cells, cuts, ranked):
    keys = np.array([k for k, _ in cells], dtype=np.int64)
    target = np.array([t for _, t in cells], dtype=np.int64)
    n = keys.size
    offsets = np.array(sorted({0, n, *(c for c in cuts if c <= n)}), dtype=np.int64)
    # reference: a dict per session, rows in (session, key) order
    found: dict[tuple[int, int], list[int]] = {}
    for s in range(offsets.size - 1):
        for u in range(offsets[s], offsets[s + 1]):
            if keys[u] >= 0 and target[u] >= 0:
                found.setdefault((s, int(keys[u])), [0, 0, 0])[target[u]] += 1
    order = sorted(found)
    old = kernel_patterns._DENSE_KEYS_MAX
    kernel_patterns._DENSE_KEYS_MAX = 0 if ranked else old  # 0: every key space counts as large
    try:
        row_session, row_key, counts, segment_row = kernels.pattern_rows(keys, target,
                                                                         offsets, 3)
    finally:
        kernel_patterns._DENSE_KEYS_MAX = old
    assert row_session.tolist() == [s for s, _ in order]
    assert row_key.tolist() == [k for _, k in order]
    assert counts.reshape(-1, 3).tolist() == [found[c] for c in order]
    session = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    expected = [order.index((int(session[u]), int(keys[u])))
                if keys[u] >= 0 and target[u] >= 0 else -1 for u in range(n)]
    assert segment_row.tolist() == expected
