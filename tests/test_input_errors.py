"""Every class of bad input is a LagnestDataError naming file, row, column and value."""

import re

import pandas as pd
import pytest

import lagnest as ln
from lagnest.io import read_table

CODEBOOK = """
name = "speakers"
[streams.speaker]
kind = "categorical"
codes = ["T", "P"]
[ratings.intensity]
min = 1
max = 3
integer = true
"""


def write(tmp_path, text, name="codes.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def read_error(path, **kw):
    with pytest.raises(ln.LagnestDataError) as info:
        read_table(path, **kw)
    return info.value


def assert_names(err, path, row, column, value=None):
    text = str(err)
    assert str(path) in text
    assert re.search(rf"row {row}, column '{re.escape(column)}'", text), text
    if value is not None:
        assert repr(value) in text, text


@pytest.fixture
def book(tmp_path):
    p = tmp_path / "speakers.toml"
    p.write_text(CODEBOOK)
    return str(p)


def test_unknown_code(tmp_path, book):
    path = write(tmp_path, "dyad,session,segment,speaker\nd,s,1,T\nd,s,2,X\n")
    err = read_error(path, codebook=book)
    assert_names(err, path, 2, "speaker", "X")
    assert "one of ['T', 'P']" in str(err)


def test_missing_key_value(tmp_path):
    path = write(tmp_path, "dyad,session,segment,code\nd,s,1,a\nd,,2,b\n")
    assert_names(read_error(path), path, 2, "session")


def test_missing_key_column(tmp_path):
    path = write(tmp_path, "dyad,segment,code\nd,1,a\n")
    err = read_error(path)
    assert "missing key column 'session'" in str(err) and str(path) in str(err)


def test_duplicate_key(tmp_path):
    path = write(tmp_path, "dyad,session,segment,code\nd,s,1,a\nd,s,2,b\nd,s,2,a\n")
    err = read_error(path)
    assert_names(err, path, 3, "segment", 2)
    assert "rows [2, 3]" in str(err)


@pytest.mark.parametrize("bad", ["1.5", "x", "-2"])
def test_bad_segment_number(tmp_path, bad):
    path = write(tmp_path, f"dyad,session,segment,code\nd,s,1,a\nd,s,{bad},b\n")
    err = read_error(path)
    assert_names(err, path, 2, "segment", bad)
    assert "non-negative integer" in str(err)


def test_session_split_across_dyads(tmp_path):
    path = write(tmp_path, "dyad,session,segment,code\nd1,s,1,a\nd2,s,2,b\n")
    err = read_error(path)
    assert_names(err, path, 2, "dyad", "d2")
    assert "split across dyads" in str(err)


def test_empty_session_in_session_table(tmp_path):
    path = write(tmp_path, "dyad,session,segment,code\nd,s1,1,a\n")
    sessions = write(tmp_path, "session,x\ns1,1\ns2,2\n", "sessions.csv")
    err = read_error(path, sessions=sessions)
    assert_names(err, sessions, 2, "session", "s2")
    assert "no segments" in str(err)


def test_out_of_range_rating(tmp_path, book):
    path = write(tmp_path, "dyad,session,segment,speaker,intensity\nd,s,1,T,2\nd,s,2,P,4\n")
    err = read_error(path, codebook=book)
    assert_names(err, path, 2, "intensity", 4.0)
    assert "1..3" in str(err)


def test_out_of_range_questionnaire_item(tmp_path):
    path = write(
        tmp_path,
        "dyad,session,segment,MIA1,MIA2,MIA3,MIA4,MIA5,MIA6,MIA7,MIA8\nd,s,1,0,0,0,0,0,0,0,0\n",
    )
    items = ",".join(f"tms_{i}" for i in range(1, 14))
    values = ",".join(["2"] * 12 + ["5"])
    sessions = write(tmp_path, f"session,{items}\ns,{values}\n", "sessions.csv")
    err = read_error(path, sessions=sessions, codebook="mia+tms")
    assert_names(err, sessions, 1, "tms_13", 5)
    assert "got 5" in str(err) and "0..4" in str(err)


def test_two_codes_in_categorical_segment(tmp_path, book):
    path = write(tmp_path, "dyad,session,segment,speaker\nd,s,1,T+P\nd,s,2,P\n")
    err = read_error(path, codebook=book)
    assert_names(err, path, 1, "speaker", "T+P")
    assert "two codes in one segment" in str(err)


def test_mixed_types(tmp_path):
    frame = pd.DataFrame({"dyad": "d", "session": "s", "segment": [1, 2, 3], "code": ["a", 2, "b"]})
    with pytest.raises(ln.LagnestDataError) as info:
        ln.Sequences.from_frame(frame, source="frame.csv")
    assert_names(info.value, "frame.csv", 1, "code")
    assert "mixed types" in str(info.value)


def test_bad_indicator_value(tmp_path):
    path = write(
        tmp_path,
        "dyad,session,segment,MIA1,MIA2,MIA3,MIA4,MIA5,MIA6,MIA7,MIA8\n"
        "d,s,1,0,0,0,0,0,0,0,0\nd,s,2,0,0,0,2,0,0,0,0\n",
    )
    assert_names(read_error(path, codebook="mia"), path, 2, "MIA4", "2")


def test_all_problems_reported_together(tmp_path, book):
    path = write(
        tmp_path, "dyad,session,segment,speaker,intensity\nd,s,1,X,2\nd,s,2,P,9\nd,s,x,T,1\n"
    )
    err = read_error(path, codebook=book)
    assert len(err.problems) == 3
    assert "3 problems" in str(err)


def test_unknown_column_with_codebook(tmp_path, book):
    path = write(tmp_path, "dyad,session,segment,speaker,notes\nd,s,1,T,hello\n")
    err = read_error(path, codebook=book)
    assert "column 'notes'" in str(err) and "ignore=" in str(err)
    seqs = read_table(path, codebook=book, ignore=["notes"])
    assert seqs.n_segments == 1


def test_error_is_a_value_error():
    assert issubclass(ln.LagnestDataError, ValueError)
