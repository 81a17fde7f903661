"""Files as researchers have them: locale exports, missing-value words, Unicode, layouts."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest

import lagnest as ln
from lagnest.cli import main
from lagnest.io.table import read_table, sniff_text

SPANISH = "díada;sesión;segmento;código;intensidad\nD1;S1;1;sí;2,5\nD1;S1;2;año;\nD1;S1;3;NA;3,75\n"


def spanish_csv(tmp_path):
    path = tmp_path / "exportado.csv"
    path.write_bytes(SPANISH.encode("cp1252"))
    return path


def test_spanish_excel_export_is_sniffed(tmp_path):
    path = spanish_csv(tmp_path)
    opts = sniff_text(path, "csv")
    assert (opts.sep, opts.decimal, opts.encoding) == (";", ",", "cp1252")
    seqs = read_table(path, dyad="díada", session="sesión", segment="segmento")
    codes, labels = seqs.categorical("código")
    assert labels == ("año", "sí") and codes.tolist() == [1, 0, -1]
    np.testing.assert_array_equal(seqs.rating("intensidad"), [2.5, np.nan, 3.75])


def test_explicit_options_override_sniffing(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("dyad|session|segment|code|r\nd|s|1|a|1.5\nd|s|2|b|2\n", encoding="latin-1")
    seqs = read_table(path, format="csv", sep="|", decimal=".", encoding="latin-1")
    np.testing.assert_array_equal(seqs.rating("r"), [1.5, 2.0])


def test_undeclared_encoding_falls_back_to_cp1252_past_the_sniffed_bytes(tmp_path):
    path = tmp_path / "late.csv"
    filler = "".join(f"d,s,{t},a\n" for t in range(1, 20_000))
    path.write_bytes(("dyad,session,segment,code\n" + filler + "d,s,20000,ñ\n").encode("cp1252"))
    seqs = read_table(path)
    assert seqs.streams["code"].codes == ("a", "ñ")


def test_wrong_declared_encoding_is_a_located_error(tmp_path):
    path = spanish_csv(tmp_path)
    with pytest.raises(ln.LagnestDataError, match=r"cannot be decoded as utf-8.*encoding="):
        read_table(path, encoding="utf-8")


@pytest.mark.parametrize("word", ["NA", "N/A", "NaN", "NULL", "", " "])
def test_missing_value_words_are_uncoded_in_every_format(tmp_path, word):
    frame = pd.DataFrame(
        {
            "dyad": "d",
            "session": "s",
            "segment": [1, 2, 3],
            "code": ["a", word, "b"],
            "flag": ["1", word, "0"],
        }
    )
    results = [ln.Sequences.from_frame(frame)]
    frame.to_csv(tmp_path / "x.csv", index=False)
    results.append(read_table(tmp_path / "x.csv"))
    frame.to_excel(tmp_path / "x.xlsx", index=False)
    results.append(read_table(tmp_path / "x.xlsx"))
    frame.to_parquet(tmp_path / "x.parquet", index=False)
    results.append(read_table(tmp_path / "x.parquet"))
    for seqs in results:
        assert seqs.categorical("code")[1] == ("a", "b")
        assert seqs.categorical("code")[0].tolist() == [0, -1, 1]
        assert seqs.categorical("flag")[0].tolist() == [1, -1, 0]


def test_a_declared_code_that_looks_missing_stays_a_code():
    frame = pd.DataFrame({"dyad": "d", "session": "s", "segment": [1, 2], "code": ["NA", "x"]})
    seqs = ln.Sequences.from_frame(frame, codes={"code": ["NA", "x"]})
    assert seqs.categorical("code")[0].tolist() == [0, 1]


def test_one_visible_label_is_one_code():
    composed = unicodedata.normalize("NFC", "canción")
    decomposed = unicodedata.normalize("NFD", "canción")
    assert composed != decomposed
    frame = pd.DataFrame(
        {"dyad": "d", "session": "s", "segment": [1, 2, 3], "code": [composed, decomposed, "x "]}
    )
    seqs = ln.Sequences.from_frame(frame)
    assert seqs.streams["code"].codes == (composed, "x")
    assert seqs.categorical("code")[0].tolist() == [0, 0, 1]


def test_sessions_sheet_under_its_spanish_name(tmp_path):
    path = tmp_path / "estudio.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame(
            {"dyad": "d", "session": ["s1", "s1", "s2"], "segment": [1, 2, 1], "code": list("aba")}
        ).to_excel(xl, sheet_name="segmentos", index=False)
        pd.DataFrame({"session": ["s1", "s2"], "fase": ["inicio", "final"]}).to_excel(
            xl, sheet_name="Sesiones", index=False
        )
    seqs = read_table(path)
    assert seqs.sessions["fase"].tolist() == ["inicio", "final"]
    assert read_table(path, sheet="segmentos") == seqs
    assert read_table(path, sheet=0) == seqs
    with pytest.raises(ln.LagnestDataError, match="no such sheet"):
        read_table(path, sheet="hoja3")


def test_session_numbers_restarting_within_dyads(tmp_path):
    segs = tmp_path / "segs.csv"
    segs.write_text("dyad,session,segment,code\nA,1,1,a\nA,1,2,b\nA,2,1,a\nB,1,1,b\nB,1,2,b\n")
    sess = tmp_path / "sess.csv"
    sess.write_text("dyad,session,phase\nA,1,early\nA,2,late\nB,1,early\n")
    with pytest.raises(ln.LagnestDataError, match=r"split across dyads.*nested_sessions=True"):
        read_table(segs)
    seqs = read_table(segs, sessions=sess, nested_sessions=True)
    assert seqs.session_labels == ("A-1", "A-2", "B-1")
    assert seqs.sessions["phase"].tolist() == ["early", "late", "early"]
    assert seqs.dyad_labels == ("A", "B")
    out = tmp_path / "out.parquet"
    ln.write_table(seqs, out)
    assert read_table(out) == seqs  # the metadata remembers nested sessions
    ln.write_table(seqs, tmp_path / "o.csv", sessions=tmp_path / "o_s.csv")
    assert (tmp_path / "o.csv").read_text() == segs.read_text()
    assert (
        read_table(tmp_path / "o.csv", sessions=tmp_path / "o_s.csv", nested_sessions=True) == seqs
    )


def test_wide_layout_one_row_per_session(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("dyad,session,t1,t2,t3,t4\nd1,s1,a,b,,a\nd1,s2,b,b,,\nd2,s3,a,,,\n")
    seqs = read_table(path, layout="wide", stream="act")
    assert seqs.encoded.session_offsets.tolist() == [0, 4, 6, 7]
    codes, labels = seqs.categorical("act")
    assert labels == ("a", "b")
    assert codes.tolist() == [0, 1, -1, 0, 1, 1, 0]
    assert seqs.to_frame()["segment"].tolist() == [1, 2, 3, 4, 1, 2, 1]


def test_wide_layout_errors_name_the_wide_cell(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("dyad,session,1,2,3\nd1,s1,a,b,a\nd1,s2,b,a+b,a\n")
    with pytest.raises(ln.LagnestDataError) as info:
        read_table(path, layout="wide")
    assert f"file {path}, row 2, column '2': two codes in one segment" in str(info.value)


def test_numeric_columns_without_codebook_are_ratings_not_codes():
    frame = pd.DataFrame(
        {
            "dyad": "d",
            "session": "s",
            "segment": [1, 2, 3],
            "score": ["1", "4", "5"],
            "present": [0, 1, 1],
            "label": ["01", "02", "01"],
        }
    )
    seqs = ln.Sequences.from_frame(frame)
    assert seqs.rating_names == ("score",)
    assert seqs.streams["present"].kind == "indicator"
    assert seqs.streams["label"].codes == ("01", "02")  # leading zeros: labels, not numbers


def test_qualified_columns_group_indicator_streams():
    frame = pd.DataFrame(
        {
            "dyad": "d",
            "session": "s",
            "segment": [1, 2],
            "p:silent": [1, 0],
            "p:verbal": [0, 1],
            "t:silent": [0, 0],
        }
    )
    seqs = ln.Sequences.from_frame(frame)
    assert {n: (s.kind, s.codes) for n, s in seqs.streams.items()} == {
        "p": ("indicator", ("silent", "verbal")),
        "t": ("indicator", ("silent",)),
    }
    assert list(seqs.to_frame().columns) == list(frame.columns)


def test_cli_reading_options(tmp_path, capsys):
    path = spanish_csv(tmp_path)
    args = ["summary", str(path), "--sep", ";", "--decimal", ",", "--encoding", "cp1252"]
    # key names of this file are Spanish: the CLI names them too
    args += ["--dyad", "díada", "--session", "sesión", "--segment", "segmento"]
    assert main(args) == 0
    assert "1 dyads, 1 sessions, 3 segments" in capsys.readouterr().out
    xl = tmp_path / "x.xlsx"
    with pd.ExcelWriter(xl) as w:
        pd.DataFrame({"a": [1]}).to_excel(w, sheet_name="notes", index=False)
        pd.DataFrame({"dyad": "d", "session": "s", "segment": [1, 2], "code": ["a", "b"]}).to_excel(
            w, sheet_name="data", index=False
        )
    assert main(["table", str(xl), "--sheet", "data", "--given", "code", "--target", "code"]) == 0
    assert "N = 1" in capsys.readouterr().out


def test_cli_convert_reads_the_session_table(tmp_path, capsys):
    segs = tmp_path / "segs.csv"
    segs.write_text("dyad,session,segment,code\nd,s1,1,a\nd,s1,2,b\nd,s2,1,a\n")
    sess = tmp_path / "sess.csv"
    sess.write_text("session,phase\ns1,early\ns2,late\n")
    out = tmp_path / "out.parquet"
    assert main(["convert", str(segs), str(out), "--sessions", str(sess)]) == 0
    assert read_table(out).sessions["phase"].tolist() == ["early", "late"]
    sds = tmp_path / "out.sds"
    assert main(["convert", str(segs), str(sds), "--sessions", str(sess)]) == 0
    assert "(d early) /" in sds.read_text()


def test_codebook_indicator_columns_read_alike_as_numbers_or_text(tmp_path):
    head = "dyad,session,segment," + ",".join(f"MIA{i}" for i in range(1, 9)) + "\n"
    clean = tmp_path / "clean.csv"
    clean.write_text(head + "d,s,1,1,0,0,0,0,0,0,1\nd,s,2,0,0,0,0,0,0,0,\n")
    messy = tmp_path / "messy.csv"  # R's NA and a spreadsheet's 1.0: parsed as text
    messy.write_text(head + "d,s,1,1.0,0,0,0,0,0,0,1\nd,s,2,0,0,0,0,0,0,0,NA\n")
    a, b = read_table(clean, codebook="mia"), read_table(messy, codebook="mia")
    assert a == b
    assert a.indicator_matrix("mia")[0].tolist() == [
        [1, 0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0, -1],
    ]


def test_cli_table_with_qualified_codes(tmp_path, capsys):
    path = tmp_path / "couples.csv"
    path.write_text(
        "dyad,session,segment,p,t\n"
        + "".join(f"d,s,{i},{'silent' if i % 2 else 'verbal'},{'verbal' if i % 3 else 'silent'}\n"
                  for i in range(1, 13))
    )
    assert main(["table", str(path), "--given", "p:silent", "--target", "t:silent"]) == 0
    out = capsys.readouterr().out
    assert "given p:silent -> target t:silent" in out
    assert main(["table", str(path), "--given", "silent", "--target", "t"]) == 2
    assert "'p:silent', 't:silent'" in capsys.readouterr().err
