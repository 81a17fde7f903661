"""BORIS exports: aggregated and tabular events, behavioural strings, errors, fuzzing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lagnest import LagnestDataError
from lagnest.io.boris import parse_behavioral_strings, read_boris
from lagnest.io.sdis import read_sdis

DATA = Path(__file__).parent / "data"
AGGREGATED = DATA / "boris_aggregated.tsv"
TABULAR = DATA / "boris_tabular.csv"
STRINGS = DATA / "behav_strings.txt"


def column(seqs, name):
    return [None if pd.isna(v) else v for v in seqs.to_frame()[name]]


def test_aggregated_events_at_event_level():
    seqs = read_boris(AGGREGATED)
    assert seqs.session_labels == ("sess1", "sess2")
    assert seqs.dyad_labels == ("D1",)
    assert seqs.sessions["therapist_sex"].tolist() == ["f", "f"]
    assert list(seqs.streams) == ["therapist", "patient"]
    assert seqs.streams["patient"].codes == ("patient_nod", "patient_talk")
    assert column(seqs, "therapist") == [
        "therapist_talk", None, None, "therapist_talk", None, "therapist_talk",
    ]  # fmt: skip
    assert column(seqs, "patient") == [
        None,
        "patient_talk",
        "patient_nod",
        None,
        "patient_talk",
        None,
    ]


def test_aggregated_events_cut_into_segments():
    seqs = read_boris(AGGREGATED, segment_seconds=5)
    assert seqs.encoded.session_offsets.tolist() == [0, 6, 20]
    therapist = seqs.indicator_matrix("therapist")[0][:, 0].tolist()
    patient, names = seqs.indicator_matrix("patient")
    assert names == ("patient_nod", "patient_talk")
    # sess1: therapist 0-12.5 and 21-29, patient talk 10-20, nod at 14
    assert therapist[:6] == [1, 1, 1, 0, 1, 1]
    assert patient[:6].tolist() == [[0, 0], [0, 0], [1, 1], [0, 1], [0, 0], [0, 0]]
    # sess2: patient 60-64.5 (segment 12), therapist 65-69 (segment 13)
    assert therapist[6:] == [0] * 13 + [1]
    assert patient[6:, 1].tolist() == [0] * 12 + [1, 0]
    onset = read_boris(AGGREGATED, segment_seconds=5, rule="onset")
    assert onset.indicator_matrix("therapist")[0][:6, 0].tolist() == [1, 0, 0, 0, 1, 0]
    strict = read_boris(AGGREGATED, segment_seconds=5, min_overlap=3)
    assert strict.indicator_matrix("therapist")[0][:6, 0].tolist() == [1, 1, 0, 0, 1, 1]


def test_tabular_events_pair_into_the_same_sequences():
    assert read_boris(TABULAR) == read_boris(AGGREGATED)
    assert read_boris(TABULAR, segment_seconds=5) == read_boris(AGGREGATED, segment_seconds=5)


def test_xlsx_export(tmp_path):
    path = tmp_path / "aggregated.xlsx"
    pd.read_csv(AGGREGATED, sep="\t", dtype=str, keep_default_na=False).to_excel(path, index=False)
    assert read_boris(path, segment_seconds=5) == read_boris(AGGREGATED, segment_seconds=5)


def test_options_streams_modifiers_dyad_variables():
    seqs = read_boris(AGGREGATED, streams="none", modifiers=True)
    assert seqs.streams["code"].codes == ("patient_nod&strong", "patient_talk", "therapist_talk")
    by_category = read_boris(AGGREGATED, streams="category")
    assert list(by_category.streams) == ["verbal", "nonverbal"]
    attrs = read_boris(AGGREGATED, dyad_variables=["therapist_sex"])
    assert attrs.dyads["therapist_sex"].tolist() == ["f"]
    assert "therapist_sex" not in attrs.sessions.columns


def test_same_data_as_borises_own_sdis_export():
    boris = read_boris(AGGREGATED, streams="none", segment_seconds=5)
    sdis = read_sdis(DATA / "timed_boris.sds", segment_seconds=5)
    assert boris.indicator_matrix("code")[0].tolist() == sdis.indicator_matrix("code")[0].tolist()


def test_behavioral_strings():
    seqs = read_boris(STRINGS)
    assert seqs.session_labels == ("sess1", "sess2")
    assert seqs.sessions["therapist_sex"].tolist() == ["f", "f"]
    assert seqs.dyad_labels == ("D1",)
    matrix, names = seqs.indicator_matrix("code")
    assert names == ("patient_nod", "patient_talk", "therapist_talk")
    assert matrix.tolist() == [[0, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]
    separated = parse_behavioral_strings(
        "# observation id: o1\n# therapist:\ntalk|nod\n# patient:\ntalk\n"
    )
    assert separated.session_labels == ("o1/therapist", "o1/patient")
    assert column(separated, "code") == ["talk", "nod", "talk"]


@pytest.mark.parametrize(
    ("rows", "message", "row"),
    [
        ([("o", "s", "b", "STATE", "10", "5")], "stop before start", 1),
        ([("o", "s", "b", "STATE", "x", "5")], "bad time", 1),
        ([("o", "s", "b", "EVENT", "1", "5")], "bad behavior type", 1),
        (
            [("o", "s", "a", "STATE", "0", "5"), ("o", "s", "b", "STATE", "3", "8")],
            "overlapping",
            2,
        ),
    ],
)
def test_table_errors_name_the_row(tmp_path, rows, message, row):
    header = "Observation id\tSubject\tBehavior\tBehavior type\tStart (s)\tStop (s)\n"
    path = tmp_path / "agg.tsv"
    path.write_text(header + "".join("\t".join(r) + "\n" for r in rows))
    with pytest.raises(LagnestDataError, match=message) as info:
        read_boris(path, exclusive=True)
    assert info.value.problems[0].row == row


def test_unpaired_tabular_events(tmp_path):
    header = "Observation id,Subject,Behavior,Behavior type,Time\n"
    path = tmp_path / "tab.csv"
    path.write_text(header + "o,s,b,START,1\no,s,c,STOP,2\n")
    with pytest.raises(LagnestDataError, match="without a") as info:
        read_boris(path)
    assert {p.row for p in info.value.problems} == {1, 2}


def test_string_errors_give_line_and_column():
    with pytest.raises(LagnestDataError, match="empty behavior") as info:
        parse_behavioral_strings("# c\na|b||c\n")
    assert (info.value.problems[0].line, info.value.problems[0].column) == (2, 5)


@settings(max_examples=600, deadline=None)
@given(st.binary(max_size=200))
def test_random_strings_raise_only_data_errors(data):
    try:
        parse_behavioral_strings(data.decode("latin-1"))
    except LagnestDataError:
        pass


TABLE = AGGREGATED.read_text()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_mutated_tables_raise_only_data_errors(tmp_path, data):
    text = TABLE
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text)))
        piece = data.draw(st.sampled_from(["\t", "\n", "", "x", "-1", "NA", "STATE", "POINT", '"']))
        text = text[:i] + piece + text[i + data.draw(st.integers(0, 4)) :]
    path = tmp_path / "m.tsv"
    path.write_text(text)
    try:
        read_boris(path, segment_seconds=data.draw(st.sampled_from([None, 5.0])))
    except LagnestDataError:
        pass
