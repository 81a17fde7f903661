"""SDIS reading and writing: hand-written files, errors with line/column, properties."""

from __future__ import annotations

import itertools
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lagnest import LagnestDataError, Sequences, StreamData
from lagnest.data._streams import MISSING_WORDS
from lagnest.io.sdis import parse_sdis, read_sdis
from lagnest.io.sdis_grammar import parse_time
from lagnest.io.sdis_write import format_sdis, write_sdis
from lagnest.io.table import read_table

DATA = Path(__file__).parent / "data"


def lag1_counts(seqs: Sequences, spec: str) -> np.ndarray:
    """Lag-1 counts within blocks, computed here with numpy (independent of the kernels)."""
    codes, labels = seqs.categorical(spec)
    out = np.zeros((len(labels), len(labels)), dtype=np.int64)
    b = seqs.encoded.block_offsets
    for start, stop in itertools.pairwise(b):
        x = codes[start:stop]
        a, c = x[:-1], x[1:]
        ok = (a >= 0) & (c >= 0)
        np.add.at(out, (a[ok], c[ok]), 1)
    return out


def column(seqs: Sequences, name: str) -> list:
    return [None if pd.isna(v) else v for v in seqs.to_frame()[name]]


# ---------------------------------------------------------------------------- hand-written files
def test_event_file_with_breaks_factors_and_comments():
    seqs = read_sdis(DATA / "event.sds")
    assert seqs.session_labels == ("d1-s1", "d1-s2", "d2-s1")
    assert seqs.dyad_labels == ("d1", "d2")
    assert seqs.streams["act"].codes == ("Chat", "Write", "Read", "Ask", "Attentive")
    assert column(seqs, "act") == [
        "Write", "Chat", "Ask", "Read", "Read", "Ask", "Read", "Ask",
        "Chat", "Chat", "Attentive",
        "Read", "Write", "Write", "Ask",
    ]  # fmt: skip
    # breaks: before the 6th event of d1-s1 and the 3rd of d2-s1 (';' ';' is one break)
    assert seqs.encoded.block_offsets.tolist() == [0, 5, 8, 11, 13, 15]
    assert seqs.sessions["group"].tolist() == ["control", "control", "treatment"]
    assert seqs.n_segments == 15


def test_bakeman_quera_event_sequence_counts():
    seqs = read_sdis(DATA / "bq2011.sds")
    assert seqs.n_segments == 75
    expected = [[1, 3, 4, 6, 2], [6, 2, 4, 0, 2], [4, 1, 9, 4, 1], [5, 2, 2, 3, 3], [0, 5, 1, 2, 2]]
    assert lag1_counts(seqs, "act").tolist() == expected


def test_multievent_file_sets_and_breaks():
    seqs = read_sdis(DATA / "multievent.sds")
    assert seqs.streams["t"].kind == "indicator"  # pragma: indicator set
    assert seqs.streams["p"].kind == "categorical"  # declared set: mutually exclusive
    matrix, names = seqs.indicator_matrix("t")
    assert names == ("tQ", "tR", "tI")
    assert matrix.tolist() == [
        [1, 0, 0], [0, 1, 1], [0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1],
        [0, 1, 0], [0, 1, 0],
    ]  # fmt: skip
    assert column(seqs, "p") == ["pW", None, "pC", None, None, "pW", None, "pC"]
    assert seqs.encoded.block_offsets.tolist() == [0, 5, 6, 8]


def test_interval_file_repetitions_and_empty_intervals():
    seqs = read_sdis(DATA / "interval.sds")
    matrix, names = seqs.indicator_matrix("code")
    assert names == ("a", "b", "c")
    assert matrix.tolist() == [
        [1, 1, 0], [1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0], [1, 0, 1],
        [0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1],
        [1, 0, 0], [0, 1, 1], [0, 1, 1], [1, 0, 0],
    ]  # fmt: skip
    assert seqs.encoded.session_offsets.tolist() == [0, 10, 14]
    assert seqs.encoded.block_offsets.tolist() == [0, 6, 10, 14]


def test_boris_timed_file_event_level_and_segments():
    events = read_sdis(DATA / "timed_boris.sds")
    assert column(events, "code") == [
        "therapist_talk", "patient_talk", "patient_nod", "therapist_talk",
        "patient_talk", "therapist_talk",
    ]  # fmt: skip
    seqs = read_sdis(DATA / "timed_boris.sds", segment_seconds=5)
    matrix, names = seqs.indicator_matrix("code")
    assert names == ("patient_nod", "patient_talk", "therapist_talk")
    # obs1 ends at 29 s -> 6 segments; obs2 (1:00-1:09) ends at 69 s -> 14 segments
    assert seqs.encoded.session_offsets.tolist() == [0, 6, 20]
    assert matrix[:6].tolist() == [
        [0, 0, 1], [0, 0, 1], [1, 1, 1], [0, 1, 0], [0, 0, 1], [0, 0, 1],
    ]  # fmt: skip
    assert matrix[6 + 12].tolist() == [0, 1, 0] and matrix[6 + 13].tolist() == [0, 0, 1]
    assert matrix[6:18].sum() == 0


def test_timed_min_overlap_and_onset_rule():
    text = "Timed;\n<s> a,0-5.5 b,9.8-20 c,12 /\n"
    default = parse_sdis(text, segment_seconds=5).indicator_matrix("code")[0]
    assert default.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 1, 0]]
    strict = parse_sdis(text, segment_seconds=5, min_overlap=1).indicator_matrix("code")[0]
    assert strict.tolist() == [[1, 0, 0], [0, 0, 0], [0, 1, 1], [0, 1, 0]]
    onset = parse_sdis(text, segment_seconds=5, rule="onset").indicator_matrix("code")[0]
    assert onset.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]]


def test_timed_sets_end_time_and_segments():
    seqs = read_sdis(DATA / "timed_sets.sds")
    assert column(seqs, "speaker") == ["T", None, "P", None, "T"]
    assert column(seqs, "affect") == [None, "pos", None, "neg", None]
    cut = read_sdis(DATA / "timed_sets.sds", segment_seconds=10)
    assert cut.streams["speaker"].kind == "indicator"
    assert cut.indicator_matrix("speaker")[0].tolist() == [[1, 0], [0, 1], [1, 1]]
    assert cut.indicator_matrix("affect")[0].tolist() == [[1, 0], [1, 0], [0, 1]]
    # the session end time ,60 adds empty segments
    longer = parse_sdis("Timed;\n<s> a,0-5 ,30 /", segment_seconds=10)
    assert longer.indicator_matrix("code")[0].tolist() == [[1], [0], [0]]


def test_state_file_runs_one_clock_per_set():
    seqs = read_sdis(DATA / "state.sds")
    assert column(seqs, "speaker") == ["T", None, "P", None, "T", None]
    assert column(seqs, "affect") == [None, "pos", None, "neg", None, "pos"]
    cut = read_sdis(DATA / "state.sds", segment_seconds=10)
    # speaker T 0-10, P 10-15, T 15-30; affect pos 0-15, neg 15-20, pos 20-30
    assert cut.indicator_matrix("speaker")[0].tolist() == [[1, 0], [1, 1], [1, 0]]
    assert cut.indicator_matrix("affect")[0].tolist() == [[1, 0], [1, 1], [1, 0]]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("12", 12.0), ("12.5", 12.5), ("1:05", 65.0), ("01:05.25", 65.25), ("1:00:01.5", 3601.5)],
)
def test_time_formats(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


def test_lince_style_timed_and_interval_suffix_repetition():
    seqs = parse_sdis("Timed\n($x = a b)\n($y = c);\n<r> a+c,0:00-0:05 b,0:05-0:09/")
    assert column(seqs, "x") == ["a", None, "b"]
    assert column(seqs, "y") == [None, "c", None]
    inter = parse_sdis("Interval a b;\n<r> a b*3,\nb/")
    assert inter.indicator_matrix("code")[0].tolist() == [[1, 1]] * 3 + [[0, 1]]


def test_factors_map_to_dyads_covariates_and_dyad_attributes():
    text = (
        "Event a b * dyad sex(f m) phase;\n"
        "<s1> a b (D1 f early)/ <s2> b a (D1 f late)/ <s3> a (D2 m early)/"
    )
    seqs = parse_sdis(text, dyad_factors=["sex"])
    assert seqs.dyad_labels == ("D1", "D2")
    assert seqs.sessions["phase"].tolist() == ["early", "late", "early"]
    assert seqs.dyads["sex"].tolist() == ["f", "m"]
    assert "sex" not in seqs.sessions.columns


def test_uncoded_marker_roundtrip():
    seqs = Sequences.from_sequences({"code": [["a", None, "b"]]}, sessions=["s"])
    text = format_sdis(seqs)
    assert "UNCODED" in text
    assert parse_sdis(text) == seqs


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ("Event a b;\n<s> a b\n", 2, 1, "unterminated session"),
        ("Timed;\n<s> a,10-5 /", 2, 10, "offset before onset"),
        ("Timed ($s = a b);\n<s> a,0-10\n  b,5-12 /", 3, 3, "overlapping states"),
        ("Event a b;\n<s> a c /", 2, 7, "unknown code"),
        ("Timed;\n<s> a,1:75-2:00 /", 2, 7, "bad time"),
        ("Timed;\n<s> a,ten /", 2, 7, "bad time"),
        ("Event a b\n<s> a /", 2, 7, "unexpected"),
        ("Interval a;\n<s> 0*a, /", 2, 5, "repetition"),
        ("Multievent ($s = a b);\n<x> a b. /", 2, 7, "two codes of the exclusive set"),
        ("Event a * f(x y);\n<s> a (z)/", 2, 8, "unknown level"),
        ("Event;\n<s> a / <s> a /", 2, 9, "duplicate session label"),
        ("Event;\n<s a /", 2, 1, "unterminated label"),
        ("Fish;", 1, 1, "data type"),
        ("Event;\n<s> /", 2, 1, "no events"),
    ],
)
def test_errors_give_line_and_column(text, line, col, message):
    with pytest.raises(LagnestDataError, match=message) as info:
        parse_sdis(text, source="bad.sds")
    problem = info.value.problems[0]
    assert (problem.line, problem.column) == (line, col)
    assert "bad.sds" in str(info.value)


def test_read_errors_bad_encoding_and_missing_file(tmp_path):
    path = tmp_path / "x.sds"
    path.write_bytes(b"Event;\n<s> \xff\xfe /")
    with pytest.raises(LagnestDataError, match="decoded"):
        read_sdis(path)
    with pytest.raises(FileNotFoundError) as err:
        read_sdis(tmp_path / "missing.sds")
    assert err.value.filename == str(tmp_path / "missing.sds")


def test_write_rejects_what_sdis_cannot_hold(tmp_path):
    spaced = Sequences.from_sequences({"code": [["a b", "c"]]})
    with pytest.raises(LagnestDataError, match="cannot be written"):
        write_sdis(spaced, tmp_path / "x.sds")
    assert not (tmp_path / "x.sds").exists()
    uncoded = Sequences.from_sequences({"code": [["a", None]]})
    with pytest.raises(LagnestDataError, match="uncoded"):
        format_sdis(uncoded, uncoded=None)
    two = Sequences.from_sequences({"x": [["a", "b"]], "y": [["c", "d"]]})
    with pytest.raises(LagnestDataError, match="Event data hold one code"):
        format_sdis(two, data_type="Event")


def test_write_is_atomic_and_readable(tmp_path):
    seqs = read_sdis(DATA / "event.sds")
    out = tmp_path / "sub" / "event.sds"
    with pytest.raises(FileNotFoundError, match="parents=True"):
        write_sdis(seqs, out)  # a missing folder is not created unless asked
    assert not out.parent.exists()
    write_sdis(seqs, out, parents=True)
    assert out.read_text().startswith("% SDIS Event data written by lagnest")
    assert read_sdis(out) == seqs
    assert [p.name for p in out.parent.iterdir()] == ["event.sds"]


# ---------------------------------------------------------------------------- lag tables
def test_lag_tables_from_sdis_equal_those_from_csv():
    from_sdis = read_sdis(DATA / "event.sds")
    frame = pd.read_csv(DATA / "event_table.csv", dtype=str)
    from_csv = Sequences.from_frame(frame, codes={"act": from_sdis.streams["act"].codes})
    assert read_table(DATA / "event_table.csv").n_segments == from_sdis.n_segments
    assert lag1_counts(from_sdis, "act").tolist() == lag1_counts(from_csv, "act").tolist()
    # by hand, blocks Write Chat Ask Read Read | Ask Read Ask | Chat Chat Attentive | Read Write
    # | Write Ask; rows/cols Chat Write Read Ask Attentive
    expected = [[1, 0, 0, 1, 1], [1, 0, 0, 1, 0], [0, 1, 1, 1, 0], [0, 0, 2, 0, 0], [0] * 5]
    assert lag1_counts(from_sdis, "act").tolist() == expected
    from lagnest.classical.lagtable import lag_table
    a = lag_table(from_sdis, given="act", target="act", lag=1)
    b = lag_table(from_csv, given="act", target="act", lag=1)
    assert a["counts"].values.tolist() == b["counts"].values.tolist()
    assert a.attrs["G2"] == pytest.approx(b.attrs["G2"])


# ---------------------------------------------------------------------------- properties
NAME = st.text(
    alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=6
).filter(lambda s: s not in MISSING_WORDS)  # "NA", "nan", ... are missing values


@st.composite
def random_sequences(draw) -> tuple[Sequences, str]:
    """Random data that SDIS can hold, and a data type that can hold it."""
    n_sessions = draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(1, 12), min_size=n_sessions, max_size=n_sessions))
    n = sum(lengths)
    names = draw(st.lists(NAME, min_size=2, max_size=12, unique=True))
    n_cat = draw(st.integers(0, 2))
    n_ind = draw(st.integers(0 if n_cat else 1, 2))
    streams, pos = {}, 0
    for s in range(n_cat + n_ind):
        size = draw(st.integers(1, 3))
        codes = names[pos : pos + size]
        pos += size
        if not codes:
            break
        if s < n_cat:
            values = np.array(
                draw(st.lists(st.integers(-1, len(codes) - 1), min_size=n, max_size=n))
            )
            streams[f"S{s}"] = StreamData("categorical", tuple(codes), values)
        else:
            bits = draw(
                st.lists(st.integers(0, 1), min_size=n * len(codes), max_size=n * len(codes))
            )
            streams[f"S{s}"] = StreamData(
                "indicator", tuple(codes), np.array(bits).reshape(n, len(codes))
            )
    blank = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    for sd in streams.values():
        if sd.kind == "indicator":
            sd.values[blank] = -1
    for sd in streams.values():
        if sd.kind == "categorical" and any(x.kind == "indicator" for x in streams.values()):
            sd.values[blank] = -1
    starts = set(np.cumsum([0, *lengths[:-1]]).tolist())
    breaks = np.array([draw(st.booleans()) and i not in starts for i in range(n)])
    labels = [f"s{i}-{draw(NAME)}" for i in range(n_sessions)]
    dyads = [draw(st.sampled_from(["d1", "d2", labels[i]])) for i in range(n_sessions)]
    covariates = None
    if draw(st.booleans()):
        covariates = pd.DataFrame({"phase": [draw(NAME) for _ in labels]}, index=labels)
    seqs = Sequences.from_arrays(
        sessions=labels,
        dyads=dyads,
        lengths=lengths,
        streams=streams,
        breaks=breaks,
        session_covariates=covariates,
    )
    cat_only = all(sd.kind == "categorical" for sd in streams.values())
    one_code = cat_only and all(
        sum(int(sd.values[t] >= 0) for sd in streams.values()) <= 1 for t in range(n)
    )
    types = (["Event"] if one_code else []) + ["Multievent", "Interval"]
    return seqs, draw(st.sampled_from(types))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_sequences())
def test_roundtrip_is_exact(case):
    seqs, data_type = case
    text = format_sdis(seqs, data_type=data_type)
    back = parse_sdis(text)
    assert back == seqs
    assert back.streams == seqs.streams
    assert back.session_labels == seqs.session_labels
    assert back.encoded.block_offsets.tolist() == seqs.encoded.block_offsets.tolist()


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([None, 1.0, 7.5]))
def test_random_bytes_raise_only_data_errors(data, seconds):
    try:
        parse_sdis(data.decode("latin-1"), segment_seconds=seconds)
    except LagnestDataError:
        pass


VALID = [
    (DATA / name).read_text()
    for name in (
        "event.sds",
        "multievent.sds",
        "interval.sds",
        "timed_boris.sds",
        "timed_sets.sds",
        "state.sds",
    )
]
PIECES = [*",;/()=*.<>%$+-:", "\n", " ", "a", "1", "0:00", "9", "<x>", "Event"]


@st.composite
def mutated(draw) -> str:
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(PIECES))
        j = min(len(text), i + draw(st.integers(1, 5)))
        if op == "insert":
            text = text[:i] + piece + text[i:]
        elif op == "delete":
            text = text[:i] + text[j:]
        else:
            text = text[:i] + piece + text[j:]
    return text


@settings(max_examples=1000, deadline=None)
@given(mutated(), st.sampled_from([None, 5.0]))
def test_mutated_files_raise_only_data_errors(text, seconds):
    try:
        parse_sdis(text, segment_seconds=seconds)
    except LagnestDataError:
        pass
