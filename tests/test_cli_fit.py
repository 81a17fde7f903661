"""`lagnest fit SPEC`, called in-process: results written, bad input on one line."""

from __future__ import annotations

import pytest

import lagnest as ln
from lagnest.cli import build_parser, main
from lagnest.datasets import example_files
from tests.cli_helpers import TINY_SPEC as SPEC


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SPEC)
    return path


def _fit_parser():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices["fit"]


def test_fit_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["fit", "--help"])
    assert stop.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "embedded example corpus" in out and "mia_to_rupture" in out
    for action in _fit_parser()._actions:
        assert action.help, action.dest


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::lagnest.models.ConvergenceWarning")
def test_fit_example_corpus_writes_a_loadable_result(spec, tmp_path, capsys):
    out = tmp_path / "res.nc"
    assert main(["fit", str(spec), "--out", str(out), "--seed", "4"]) == 0
    printed = capsys.readouterr().out
    assert printed.rstrip().endswith(f"wrote {out}")
    assert "MIA4 -> rupture at lag 1" in printed and "Diagnostics" in printed
    res = ln.load(out)
    assert isinstance(res, ln.TransitionResult)
    expected = ln.TransitionModel(ln.datasets.load_example(), given="MIA4", target="rupture")
    assert res.id == expected.id
    assert res.config["seed"] == 4  # the command line overrides the spec's seed
    sampler = res.config["sampler"]
    assert (sampler["draws"], sampler["tune"], sampler["chains"]) == (20, 20, 2)
    assert res.posterior.sizes["draw"] == 20 and res.posterior.sizes["chain"] == 2


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::lagnest.models.ConvergenceWarning")
def test_fit_data_file_with_sessions_and_codebook(spec, tmp_path, capsys):
    files = example_files("thesis")
    out = tmp_path / "res.nc"
    argv = ["fit", str(spec), "--data", str(files["segments"]), "--sessions",
            str(files["sessions"]), "--dyads", str(files["dyads"]), "--codebook",
            "3rs_2015+mia+tms+seq", "--out", str(out), "--draws", "10", "--tune", "15"]
    assert main(argv) == 0
    res = ln.load(out)
    # the same corpus read from its files: the same model as the embedded example's
    expected = ln.TransitionModel(ln.datasets.load_example(), given="MIA4", target="rupture")
    assert res.id == expected.id
    assert res.config["seed"] == 3  # the spec's
    sampler = res.config["sampler"]
    assert (sampler["draws"], sampler["tune"], sampler["chains"]) == (10, 15, 2)
    assert str(out) in capsys.readouterr().out


BAD = [
    ("missing spec", lambda t, s: ["fit", str(t / "absent.toml"), "--out", str(t / "r.nc")],
     "absent.toml: No such file or directory"),
    ("unknown standard name", lambda t, s: ["fit", "mia_to_ruptur", "--out", str(t / "r.nc")],
     "mia_to_rupture"),
    ("misspelt key", lambda t, s: ["fit", str(_edit(s, "given =", "givn =")),
                                   "--out", str(t / "r.nc")],
     "key 'model.givn': unknown key for TransitionModel"),
    ("wrong type", lambda t, s: ["fit", str(_edit(s, "draws = 20", "draws = [20]")),
                                 "--out", str(t / "r.nc")],
     "key 'fit.draws': wrong type (got [20]; expected an integer)"),
    ("toml syntax", lambda t, s: ["fit", str(_edit(s, "[fit]", "[fit")),
                                  "--out", str(t / "r.nc")],
     "line 8: invalid TOML"),
    ("unknown code", lambda t, s: ["fit", str(_edit(s, '"MIA4"', '"MIA9"')),
                                   "--out", str(t / "r.nc")],
     "MIA9"),
    ("bad override", lambda t, s: ["fit", str(s), "--draws", "0", "--out", str(t / "r.nc")],
     "key 'fit.draws': out of range"),
    ("missing data file", lambda t, s: ["fit", str(s), "--data", str(t / "none.csv"),
                                        "--out", str(t / "r.nc")],
     "none.csv: No such file or directory"),
    ("sessions without data", lambda t, s: ["fit", str(s), "--sessions", "x.csv",
                                            "--out", str(t / "r.nc")],
     "give --data"),
    ("missing output folder", lambda t, s: ["fit", str(s), "--out", str(t / "no" / "r.nc")],
     "the result's folder does not exist"),
]


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("case", "argv", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_prints_one_line_and_exits_2(spec, tmp_path, capsys, case, argv, fragment):
    assert main(argv(tmp_path, spec)) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("lagnest: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "r.nc").exists()
