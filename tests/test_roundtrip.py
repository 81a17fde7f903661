"""One corpus through every format (CSV, Parquet, Excel, SDIS) and back: equal Sequences.

Ratings, session covariates, dyad attributes, segment numbers with gaps and breaks on a
session's first segment included. Parquet, Excel and SDIS read back with no argument; CSV
with the documented ones (the session file and the codebook).
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lagnest as ln
from lagnest.data.codebook import Codebook, RatingInfo, StreamInfo
from lagnest.data.sequences import StreamData
from lagnest.io.sdis import read_sdis
from lagnest.io.sdis_write import write_sdis
from lagnest.io.table import read_table, write_table

ACTS = ("Chat", "Write", "Read", "Ask")
MIA = ("M1", "M2", "M3")

BOOK = Codebook(
    name="roundtrip-test",
    streams=MappingProxyType(
        {
            "act": StreamInfo("act", "categorical", ACTS),
            "mia": StreamInfo("mia", "indicator", MIA),
        }
    ),
    ratings=MappingProxyType({"intensity": RatingInfo("intensity", 1, 5, integer=False)}),
)


@st.composite
def corpora(draw) -> ln.Sequences:
    """Two dyads or fewer, 1-3 sessions each; codes that never occur; gaps; ratings; tables."""
    n_dyads = draw(st.integers(1, 2))
    sessions, dyads, lengths, numbers = [], [], [], []
    for d in range(n_dyads):
        for s in range(draw(st.integers(1, 3))):
            n = draw(st.integers(1, 9))
            gaps = draw(st.booleans())
            pool = range(0, 3 * n) if gaps else range(1, n + 1)
            numbers.append(sorted(draw(st.sets(st.sampled_from(pool), min_size=n, max_size=n))))
            sessions.append(f"D{d}-S{s + 1}")
            dyads.append(f"D{d}")
            lengths.append(n)
    total = sum(lengths)
    blank = np.array(draw(st.lists(st.booleans(), min_size=total, max_size=total)))
    blank &= np.array(draw(st.lists(st.booleans(), min_size=total, max_size=total)))
    act = np.array(draw(st.lists(st.integers(-1, 2), min_size=total, max_size=total)))
    act[blank] = -1  # ACTS[3] never occurs: the code list must survive anyway
    bits = draw(st.lists(st.integers(0, 1), min_size=total * 3, max_size=total * 3))
    mia = np.array(bits, dtype=np.int8).reshape(total, 3)
    mia[blank] = -1
    intensity = np.array(
        draw(st.lists(st.sampled_from([1.0, 2.5, 4.75, np.nan]), min_size=total, max_size=total))
    )
    breaks = np.array(draw(st.lists(st.booleans(), min_size=total, max_size=total)))
    phases = [draw(st.sampled_from(["early", "late"])) for _ in sessions]
    scores = [draw(st.sampled_from([0.5, 1.25, 3.0, -2.0])) for _ in sessions]
    covariates = pd.DataFrame({"phase": phases, "score": scores}, index=sessions)
    sites = pd.DataFrame(
        {"site": [f"site{d % 2}" for d in range(n_dyads)]}, index=[f"D{d}" for d in range(n_dyads)]
    )
    return ln.Sequences.from_arrays(
        sessions=sessions,
        dyads=dyads,
        lengths=lengths,
        segment_numbers=np.concatenate(numbers),
        breaks=breaks,
        streams={
            "act": StreamData("categorical", ACTS, act),
            "mia": StreamData("indicator", MIA, mia),
        },
        ratings={"intensity": intensity},
        session_covariates=covariates,
        dyad_attributes=sites,
        codebook=BOOK,
    )


def assert_same(back: ln.Sequences, seqs: ln.Sequences) -> None:
    assert back == seqs
    assert back.streams == seqs.streams
    np.testing.assert_array_equal(back.rating("intensity"), seqs.rating("intensity"))
    pd.testing.assert_frame_equal(back.dyads, seqs.dyads, check_dtype=False)


SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(seqs=corpora())
def test_every_format_and_back(tmp_path, seqs):
    csv, ses = tmp_path / "c.csv", tmp_path / "c_sessions.csv"
    write_table(seqs, csv, sessions=ses)
    from_csv = read_table(csv, sessions=ses, codebook=BOOK, dyads=_dyads(seqs, tmp_path))
    assert_same(from_csv, seqs)
    write_table(from_csv, tmp_path / "c.parquet")
    from_parquet = read_table(tmp_path / "c.parquet")
    assert_same(from_parquet, seqs)
    write_table(from_parquet, tmp_path / "c.xlsx")
    from_excel = read_table(tmp_path / "c.xlsx")
    assert_same(from_excel, seqs)
    write_sdis(from_excel, tmp_path / "c.sds")
    from_sdis = read_sdis(tmp_path / "c.sds")
    assert_same(from_sdis, seqs)
    write_table(from_sdis, tmp_path / "again.parquet")
    assert_same(read_table(tmp_path / "again.parquet"), seqs)


def _dyads(seqs: ln.Sequences, folder) -> pd.DataFrame:
    """The dyad table, as a user keeps it beside a CSV corpus."""
    return seqs.dyads.drop(columns=["n_sessions", "n_segments"]).reset_index()


def test_named_codebook_travels_with_parquet_excel_and_sdis(tmp_path):
    seqs, _ = ln.simulate.thesis_like(seed=3, n_dyads=2)
    for name in ("t.parquet", "t.xlsx"):
        write_table(seqs, tmp_path / name)
        back = read_table(tmp_path / name)
        assert back == seqs and back.codebook.name == seqs.codebook.name
        assert back.derived_streams == seqs.derived_streams
    write_sdis(seqs, tmp_path / "t.sds")
    back = read_sdis(tmp_path / "t.sds")
    assert back == seqs and back.codebook.name == seqs.codebook.name
    assert "% lagnest: codebook" in (tmp_path / "t.sds").read_text()


def test_corpus_without_codebook_through_parquet_and_excel(tmp_path):
    seqs = ln.Sequences.from_sequences(
        {"speaker": [["T", "P", "T"], ["P", "P"]], "flag": [[1, 0, None], [0, 1]]},
        dyads=["d", "d"],
        codes={"speaker": ["T", "P", "X"]},
    )
    for name in ("t.parquet", "t.xlsx"):
        write_table(seqs, tmp_path / name)
        back = read_table(tmp_path / name)
        assert back == seqs and back.streams["speaker"].codes == ("T", "P", "X")
        assert back.codebook is None


def test_write_sdis_keeps_ratings(tmp_path):
    seqs = ln.Sequences.from_arrays(
        sessions=["s1"],
        dyads=["d"],
        lengths=[3],
        streams={"code": StreamData("categorical", ("a", "b"), np.array([0, 1, 0]))},
        ratings={"r": np.array([1.5, np.nan, 1e-7])},
    )
    write_sdis(seqs, tmp_path / "r.sds")
    text = (tmp_path / "r.sds").read_text()
    assert "% lagnest: rating r 1.5 NA 1e-07" in text
    back = read_sdis(tmp_path / "r.sds")
    assert back == seqs


def test_bad_rating_line_names_its_line(tmp_path):
    text = "% lagnest: ratings r\nEvent a b;\n<s1>\n% lagnest: rating r 1 2\na b a /\n"
    (tmp_path / "x.sds").write_text(text)
    with pytest.raises(ln.LagnestDataError, match=r"line 4: .*lists 2 values.*3 \(one per"):
        read_sdis(tmp_path / "x.sds")


def test_shared_code_labels_cannot_go_to_sdis(tmp_path):
    seqs = ln.Sequences.from_sequences({"p": [["silent", "verbal"]], "t": [["verbal", "silent"]]})
    with pytest.raises(ln.LagnestDataError, match=r"code 'silent' is in streams \['p', 't'\]"):
        write_sdis(seqs, tmp_path / "x.sds")


def test_excel_refuses_more_rows_than_a_sheet_holds(tmp_path, monkeypatch):
    monkeypatch.setattr("lagnest.io.table.EXCEL_MAX_ROWS", 3)
    seqs = ln.Sequences.from_sequences({"code": [["a", "b", "a"]]})
    with pytest.raises(ln.LagnestDataError, match="Excel sheet holds at most 2 rows"):
        write_table(seqs, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_csv_round_trip_carries_dyad_covariates_in_their_own_file(tmp_path):
    seqs, _ = ln.simulate.thesis_like(seed=0, n_dyads=3)
    assert "therapist_trait_mindfulness" in seqs.dyads.columns
    files = {"sessions": tmp_path / "ses.csv", "dyads": tmp_path / "dy.csv"}
    write_table(seqs, tmp_path / "seg.csv", **files)
    back = read_table(tmp_path / "seg.csv", codebook=seqs.codebook.name, **files)
    assert back == seqs
    assert back.dyads["therapist_trait_mindfulness"].tolist() == pytest.approx(
        seqs.dyads["therapist_trait_mindfulness"].tolist())
    # without the dyad file the covariate is missing, and the corpora differ
    partial = read_table(tmp_path / "seg.csv", codebook=seqs.codebook.name,
                         sessions=files["sessions"])
    assert "therapist_trait_mindfulness" not in partial.dyads.columns and partial != seqs
