"""The lagnest command, called in-process."""

import pandas as pd

import lagnest as ln
from lagnest.cli import main


def test_summary_of_example(capsys):
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "6 dyads, 53 sessions, 530 segments" in out


def test_table_prints_lag_table(capsys):
    assert main(["table", "--given", "rupture", "--target", "resolution"]) == 0
    out = capsys.readouterr().out
    assert "given rupture -> target resolution, lag 1" in out and "N = 477" in out


def test_bad_input_exits_2_with_location(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("dyad,session,segment,code\nd,s,1,a\nd,s,1,b\n")
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "row 2, column 'segment'" in err


def test_convert_table_to_sdis_and_back(tmp_path, capsys):
    seqs = ln.Sequences.from_sequences({"code": [["a", "b", "a"], ["b", "c"]]}, dyads=["d", "d"])
    ln.write_table(seqs, tmp_path / "in.csv")
    assert main(["convert", str(tmp_path / "in.csv"), str(tmp_path / "out.sds")]) == 0
    assert main(["convert", str(tmp_path / "out.sds"), str(tmp_path / "back.csv")]) == 0
    back = pd.read_csv(tmp_path / "back.csv")
    assert back["code"].tolist() == ["a", "b", "a", "b", "c"]
    assert capsys.readouterr().out.count("wrote") == 2


def test_simulate_writes_reproducible_files(tmp_path):
    for name in ("a", "b"):
        assert main(["simulate", str(tmp_path / f"{name}.csv"), "--preset", "null", "--seed", "3",
                     "--sessions-out", str(tmp_path / f"{name}_s.csv")]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert ln.read_table(tmp_path / "a.csv", codebook="3rs_2015+mia").n_segments > 0


def test_demo_without_fit(capsys, tmp_path):
    assert main(["demo", "--no-fit", "--out", str(tmp_path / "report.html")]) == 0
    out = capsys.readouterr().out
    assert "Lag table: given MIA4 -> target rupture, lag 1" in out
    assert "within-session permutation test" in out and "homogeneity across dyads" in out
