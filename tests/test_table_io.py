"""Long tables: CSV/Parquet/Excel write -> read is exact; writes are atomic."""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import lagnest as ln
from lagnest.io import read_table, write_table

from .strategies import corpus_frames

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(frame=corpus_frames())
def test_csv_round_trip(tmp_path, frame):
    seqs = ln.Sequences.from_frame(frame)
    path = tmp_path / "out.csv"
    write_table(seqs, path)
    back = read_table(path)
    assert back == seqs
    pd.testing.assert_frame_equal(back.to_frame(), seqs.to_frame(), check_dtype=False)


@SETTINGS
@given(frame=corpus_frames())
def test_parquet_round_trip(tmp_path, frame):
    seqs = ln.Sequences.from_frame(frame)
    path = tmp_path / "out.parquet"
    write_table(seqs, path)
    back = read_table(path)
    assert back == seqs
    pd.testing.assert_frame_equal(back.to_frame(), seqs.to_frame(), check_dtype=False)


def test_excel_round_trip_with_sessions(tmp_path):
    frame = pd.DataFrame(
        {"dyad": "d", "session": ["s1", "s1", "s2"], "segment": [1, 2, 1], "code": ["a", "b", None]}
    )
    sessions = pd.DataFrame({"session": ["s1", "s2"], "covar": [0.5, 1.25]})
    seqs = ln.Sequences.from_frame(frame, sessions=sessions)
    path = tmp_path / "out.xlsx"
    write_table(seqs, path)
    back = read_table(path)
    assert back == seqs
    assert back.sessions["covar"].tolist() == [0.5, 1.25]


def test_questionnaires_scored_and_round_trip(tmp_path):
    items = {f"tms_{i}": [1, 3] for i in range(1, 14)}
    sessions = pd.DataFrame({"session": ["s1", "s2"], **items})
    frame = pd.DataFrame(
        {
            "dyad": "d",
            "session": ["s1", "s2"],
            "segment": [1, 1],
            **{f"MIA{i}": [0, 1] for i in range(1, 9)},
        }
    )
    seqs = ln.Sequences.from_frame(frame, sessions=sessions, codebook="mia+tms")
    assert seqs.sessions["tms_curiosity"].tolist() == [6.0, 18.0]
    assert seqs.sessions["tms_decentering"].tolist() == [7.0, 21.0]
    write_table(seqs, tmp_path / "seg.csv", sessions=tmp_path / "ses.csv")
    back = read_table(tmp_path / "seg.csv", sessions=tmp_path / "ses.csv", codebook="mia+tms")
    assert back == seqs


def test_inconsistent_subscale_is_an_error(tmp_path):
    items = {f"tms_{i}": [1] for i in range(1, 14)}
    sessions = pd.DataFrame({"session": ["s1"], **items, "tms_curiosity": [99]})
    frame = pd.DataFrame(
        {"dyad": "d", "session": ["s1"], "segment": [1], **{f"MIA{i}": [0] for i in range(1, 9)}}
    )
    with pytest.raises(ln.LagnestDataError, match=r"tms_curiosity.*differs"):
        ln.Sequences.from_frame(frame, sessions=sessions, codebook="mia+tms")


def test_configurable_column_names(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("pair,meeting,t,code\nA,m1,1,x\nA,m1,2,y\n")
    seqs = read_table(path, dyad="pair", session="meeting", segment="t")
    assert seqs.dyad_labels == ("A",) and seqs.session_labels == ("m1",)
    write_table(seqs, tmp_path / "y.csv")
    assert (tmp_path / "y.csv").read_text() == path.read_text()


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    seqs = ln.Sequences.from_sequences({"code": [["a", "b"]]})
    path = tmp_path / "out.csv"
    path.write_text("previous content\n")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        write_table(seqs, path)
    assert path.read_text() == "previous content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(ln.LagnestDataError, match="suffix"):
        read_table(tmp_path / "x.json")
    with pytest.raises(FileNotFoundError) as err:
        read_table(tmp_path / "x.csv")
    assert err.value.filename == str(tmp_path / "x.csv")
