"""convert(): reader and writer chosen by suffix, between every supported format."""

from __future__ import annotations

from pathlib import Path

import pytest

from lagnest import LagnestDataError
from lagnest.io.boris import read_boris
from lagnest.io.convert import convert, input_format, output_format
from lagnest.io.sdis import read_sdis
from lagnest.io.table import read_table

DATA = Path(__file__).parent / "data"


def test_formats_from_suffix_and_header():
    assert input_format(DATA / "event.sds") == "sdis"
    assert input_format(DATA / "boris_aggregated.tsv") == "boris"
    assert input_format(DATA / "boris_tabular.csv") == "boris"
    assert input_format(DATA / "behav_strings.txt") == "boris"
    assert input_format(DATA / "event_table.csv") == "table"
    assert output_format("x.sds") == "sdis" and output_format("x.parquet") == "table"
    with pytest.raises(LagnestDataError, match="suffix"):
        output_format("x.doc")


def test_sdis_to_table_and_back(tmp_path):
    original = read_sdis(DATA / "event.sds")
    sessions = tmp_path / "sessions.csv"
    convert(DATA / "event.sds", tmp_path / "event.csv", write_options={"sessions": sessions})
    table = read_table(tmp_path / "event.csv", sessions=sessions)
    assert table.to_frame()["act"].tolist() == original.to_frame()["act"].tolist()
    convert(tmp_path / "event.csv", tmp_path / "again.sds", read_options={"sessions": sessions})
    again = read_sdis(tmp_path / "again.sds")
    assert again.encoded.block_offsets.tolist() == original.encoded.block_offsets.tolist()
    assert again.sessions["group"].tolist() == ["control", "control", "treatment"]


def test_sdis_to_sdis_keeps_the_data(tmp_path):
    for name in ("multievent.sds", "interval.sds"):
        seqs = convert(DATA / name, tmp_path / name)
        assert read_sdis(tmp_path / name) == seqs
    seqs = convert(DATA / "interval.sds", tmp_path / "i2.sds", data_type="Interval")
    assert "3*a b," in (tmp_path / "i2.sds").read_text()
    assert read_sdis(tmp_path / "i2.sds") == seqs


def test_boris_to_sdis_and_parquet(tmp_path):
    seqs = convert(
        DATA / "boris_aggregated.tsv",
        tmp_path / "boris.sds",
        segment_seconds=5,
        read_options={"sdis_names": True},
    )
    assert read_sdis(tmp_path / "boris.sds") == seqs
    assert read_boris(DATA / "boris_aggregated.tsv", segment_seconds=5) == seqs
    convert(DATA / "boris_tabular.csv", tmp_path / "boris.parquet", segment_seconds=5)
    assert read_table(tmp_path / "boris.parquet").n_segments == 20
    convert(DATA / "behav_strings.txt", tmp_path / "strings.xlsx")
    assert read_table(tmp_path / "strings.xlsx").n_segments == 6


def test_timed_sdis_needs_segments_for_tables_only_when_asked(tmp_path):
    convert(DATA / "timed_boris.sds", tmp_path / "t.tsv", segment_seconds=10)
    assert read_table(tmp_path / "t.tsv").n_segments == 3 + 7
    with pytest.raises(LagnestDataError, match="timed input"):
        convert(DATA / "event_table.csv", tmp_path / "x.sds", segment_seconds=5)
    with pytest.raises(LagnestDataError, match="unknown input format"):
        convert(DATA / "event.sds", tmp_path / "x.csv", from_format="gseq")
