"""The Sequences container: construction, encoding invariants, views, immutability."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lagnest as ln
from lagnest.data.sequences import StreamData

from .strategies import corpus_frames


def small():
    return ln.Sequences.from_sequences(
        {"code": [["a", "b", "a", None, "b"], ["b", "b", "c"]]},
        dyads=["d1", "d2"],
        breaks=[[3], []],
    )


def test_from_sequences_shapes_and_labels():
    seqs = small()
    assert (seqs.n_segments, seqs.n_sessions, seqs.n_dyads) == (8, 2, 2)
    codes, labels = seqs.categorical("code")
    assert labels == ("a", "b", "c")
    assert codes.tolist() == [0, 1, 0, -1, 1, 1, 1, 2]
    assert seqs.session_labels == ("s1", "s2")
    assert seqs.dyad_labels == ("d1", "d2")


def test_encoded_blocks_follow_breaks_and_sessions():
    enc = small().encoded
    assert enc.session_offsets.tolist() == [0, 5, 8]
    assert enc.block_offsets.tolist() == [0, 3, 5, 8]
    assert enc.block_session.tolist() == [0, 0, 1]
    assert enc.session_dyad.tolist() == [0, 1]
    for arr in (enc.session_offsets, enc.block_offsets, enc.block_session, enc.session_dyad):
        assert arr.dtype == np.int64 and arr.flags.c_contiguous


def test_gap_in_segment_numbers_breaks_lag_pairs():
    frame = pd.DataFrame(
        {"dyad": ["d"] * 4, "session": ["s"] * 4, "segment": [1, 2, 4, 5], "code": list("abab")}
    )
    seqs = ln.Sequences.from_frame(frame)
    assert seqs.encoded.block_offsets.tolist() == [0, 2, 4]


def test_indicator_and_code_views():
    seqs = ln.Sequences.from_sequences(
        {"MIA4": [[1, 0, None, 1]], "rupture": [["none", "withdrawal", "none", None]]},
        dyads=["d"],
    )
    values, labels = seqs.categorical("MIA4")
    assert labels == ("not MIA4", "MIA4") and values.tolist() == [1, 0, -1, 1]
    values, labels = seqs.categorical("withdrawal")
    assert labels == ("not withdrawal", "withdrawal") and values.tolist() == [0, 1, 0, -1]
    matrix, names = seqs.indicator_matrix(["MIA4", "withdrawal"])
    assert names == ("MIA4", "withdrawal")
    assert matrix.tolist() == [[1, 0], [0, 1], [-1, 0], [1, -1]]
    assert seqs.is_indicator_set(["MIA4"]) and not seqs.is_indicator_set("rupture")


def test_unknown_spec_names_streams():
    with pytest.raises(ln.LagnestDataError, match=r"unknown stream or code 'zzz'.*code"):
        small().categorical("zzz")


def test_immutable_arrays_and_frames():
    seqs = small()
    codes, _ = seqs.categorical("code")
    with pytest.raises(ValueError, match="read-only"):
        codes[0] = 2
    with pytest.raises(ValueError, match="read-only"):
        seqs.encoded.block_offsets[0] = 1
    frame = seqs.sessions
    frame["dyad"] = "other"
    assert seqs.sessions["dyad"].tolist() == ["d1", "d2"]


def test_input_not_mutated():
    frame = pd.DataFrame(
        {"dyad": ["d", "d"], "session": ["s", "s"], "segment": [2, 1], "code": ["a", "b"]}
    )
    before = frame.copy()
    ln.Sequences.from_frame(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_subset_keeps_selected_sessions():
    seqs = small()
    sub = seqs.subset(dyads=["d2"])
    assert sub.session_labels == ("s2",)
    assert sub.categorical("code")[0].tolist() == [1, 1, 2]
    assert sub.encoded.session_offsets.tolist() == [0, 3]
    with pytest.raises(ln.LagnestDataError, match="unknown dyads"):
        seqs.subset(dyads=["nope"])


def test_summary_and_frequencies():
    seqs = small()
    freq = seqs.code_frequencies().set_index("code")
    assert freq.loc["b", "count"] == 4 and freq.loc["b", "coded"] == 7
    text = seqs.summary()
    assert "2 dyads, 2 sessions, 8 segments" in text and "b 4 (57%)" in text


def test_from_arrays_validates_codes():
    with pytest.raises(ln.LagnestDataError, match="out of range"):
        ln.Sequences.from_arrays(
            sessions=["s"],
            dyads=["d"],
            lengths=[2],
            streams={"code": StreamData("categorical", ("a",), np.array([0, 3]))},
        )


def test_shared_code_labels_are_qualified_by_stream():
    seqs = ln.Sequences.from_sequences({"x": [["a", "b", "a"]], "y": [["a", "c", "c"]]})
    with pytest.raises(ln.LagnestDataError, match=r"code 'a' is in several streams.*'x:a', 'y:a'"):
        seqs.categorical("a")
    values, labels = seqs.categorical("y:a")
    assert values.tolist() == [1, 0, 0] and labels == ("not y:a", "y:a")
    # a unique code keeps its short label, bare or qualified
    assert seqs.categorical("x:b")[1] == ("not b", "b") == seqs.categorical("b")[1]
    ref = seqs.resolve_code("x:a")
    assert (ref.stream, ref.code, ref.kind, ref.qualified) == ("x", "a", "categorical", "x:a")
    assert seqs.resolve_code("x").code is None
    matrix, names = seqs.indicator_matrix(["x:a", "y:a", "c"])
    assert names == ("x:a", "y:a", "c")
    assert matrix.tolist() == [[1, 1, 0], [0, 0, 1], [1, 0, 1]]
    with pytest.raises(ln.LagnestDataError, match="unknown stream or code 'z:a'"):
        seqs.resolve_code("z:a")


def test_derived_rupture_from_markers():
    cols = {f"W{i}": [0, 1, 0, 1, None] for i in range(1, 8)}
    cols.update({f"C{i}": [0, 0, 1, 1, None] for i in range(1, 8)})
    frame = pd.DataFrame({"dyad": "d", "session": "s", "segment": range(1, 6), **cols})
    seqs = ln.Sequences.from_frame(frame, codebook="3rs_2015")
    codes, labels = seqs.categorical("rupture")
    assert labels == ("none", "withdrawal", "confrontation", "both")
    assert codes.tolist() == [0, 1, 2, 3, -1]


def test_derived_resolution_mapping_is_overridable():
    cols = {f"R{i}": [0, 0, 0] for i in range(0, 11)}
    cols["R9"] = [1, 0, 0]
    cols["R1"] = [0, 1, 0]
    frame = pd.DataFrame({"dyad": "d", "session": "s", "segment": [1, 2, 3], **cols})
    default = ln.Sequences.from_frame(frame, codebook="3rs_2015")
    # R9 belongs to no family by default: a segment with only R9 is not a strategy family
    assert default.categorical("resolution")[0].tolist() == [0, 1, 0]
    groups = {
        "immediate": ["R1", "R2", "R3", "R10"],
        "exploratory": ["R4", "R5", "R6", "R7", "R8", "R9"],
    }
    custom = ln.Sequences.from_frame(frame, codebook="3rs_2015", derive={"resolution": groups})
    assert custom.categorical("resolution")[0].tolist() == [2, 1, 0]


@settings(max_examples=60, deadline=None)
@given(corpus_frames())
def test_encoding_invariants(frame):
    seqs = ln.Sequences.from_frame(frame)
    enc = seqs.encoded
    lengths = np.diff(enc.session_offsets)
    # offsets partition the segments
    assert enc.session_offsets[0] == 0 and enc.session_offsets[-1] == seqs.n_segments
    assert (lengths > 0).all()
    assert set(enc.block_offsets) >= set(enc.session_offsets)
    assert (np.diff(enc.block_offsets) > 0).all()
    # every session maps to exactly one dyad, and the frame agrees
    per_session = frame.groupby("session")["dyad"].nunique()
    assert (per_session == 1).all()
    for s, d in zip(seqs.session_labels, enc.session_dyad, strict=True):
        assert seqs.dyad_labels[d] == frame.loc[frame["session"] == s, "dyad"].iloc[0]
    # codes decode back to labels, row by row
    codes, labels = seqs.categorical("code")
    decoded = [labels[c] if c >= 0 else None for c in codes]
    out = seqs.to_frame()
    assert decoded == [None if pd.isna(v) else v for v in out["code"]]


@settings(max_examples=60, deadline=None)
@given(corpus_frames())
def test_frame_round_trip_is_exact(frame):
    seqs = ln.Sequences.from_frame(frame)
    pd.testing.assert_frame_equal(seqs.to_frame(), frame, check_dtype=False)


@settings(max_examples=30, deadline=None)
@given(corpus_frames(), st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_corpus(frame, rnd):
    order = list(range(len(frame)))
    rnd.shuffle(order)
    shuffled = frame.iloc[order].reset_index(drop=True)
    a = ln.Sequences.from_frame(frame)
    b = ln.Sequences.from_frame(shuffled)
    for name in ("code", "flag"):
        assert np.array_equal(
            a.categorical(name)[0][np.argsort(_key(a))], b.categorical(name)[0][np.argsort(_key(b))]
        )


def _key(seqs):
    f = seqs.to_frame()
    return (f["session"] + ":" + f["segment"].astype(str).str.zfill(4)).to_numpy()
