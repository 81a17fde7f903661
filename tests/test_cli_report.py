"""`lagnest report` and `lagnest demo`: reports written, one line for every bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

import lagnest as ln
from lagnest.demo import DEMO_FIT
from lagnest.viz.report import SECTIONS
from tests.cli_helpers import TINY_SPEC, edited, fails, run


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_SPEC)
    return path


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    seqs = ln.datasets.load_example()
    result = ln.TransitionModel(seqs, "MIA4", "rupture").fit(
        draws=20, tune=20, chains=2, cores=1, seed=3, warn=False)
    path = tmp_path_factory.mktemp("saved") / "mia4.nc"
    result.save(path)
    return result, path


def _sections(path):
    text = path.read_text(encoding="utf-8")
    return [key for key in SECTIONS if f'<h2 id="{key}">' in text], text


@pytest.mark.parametrize("command", ["report", "demo"])
def test_help_documents_every_option(command, capsys):
    assert run([command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "report" in out
    from lagnest.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for action in sub.choices[command]._actions:
        assert action.help, action.dest


def test_demo_help_says_what_the_fits_use(capsys):
    run(["demo", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Each fit uses its spec's own [fit] settings" in out
    assert "each spec's own [fit] settings" in out  # the default of --draws/--tune/--chains
    shipped = {name: ln.load_spec(name).fit for name in ln.models.standard_specs()}
    # what the help says of the settings is what the specs hold
    assert {(f["chains"], f["draws"]) for f in shipped.values()} == {(4, 1000), (4, 3000)}
    assert shipped["rupture_episodes"]["draws"] == 3000 and DEMO_FIT["draws"] == 1000


@pytest.mark.slow
def test_report_fits_a_spec_and_shows_tables(spec, tmp_path, capsys):
    out = tmp_path / "rep" / "report.html"
    argv = ["report", "--spec", str(spec), "--table", "rupture:rupture", "--table",
            "MIA4:rupture:2", "--out", str(out), "--ppc-draws", "10", "--draws", "15"]
    assert run(argv) == 0
    printed = capsys.readouterr().out
    assert printed.rstrip().endswith(f"report: {out.resolve()}")
    assert "fitting: 2 chains x 15 draws (tune 20)" in printed
    sections, text = _sections(out)
    assert sections == list(SECTIONS)
    assert "rupture → rupture, lag 1" in text and "MIA4 → rupture, lag 2" in text
    assert "TransitionModel posterior" in text and 'given = &quot;MIA4&quot;' in text
    figures = {p.stem for p in (out.parent / "figures").glob("*.png")}
    assert {"heatmap_rupture_rupture_lag_1", "forest_tiny", "ppc_tiny"} <= figures


@pytest.mark.slow
def test_report_of_a_saved_fit(saved, tmp_path, capsys):
    result, path = saved
    out = tmp_path / "report.html"
    assert run(["report", "--result", str(path), "--out", str(out), "--ppc-draws", "0"]) == 0
    assert "report:" in capsys.readouterr().out
    sections, text = _sections(out)
    assert sections == list(SECTIONS)
    assert result.summary().title in text and "mia4" in text
    assert "No predictive checks given." in text
    # without --table: the demo's tables that the corpus has codes for
    assert "rupture → resolution, lag 1" in text


def test_report_bad_input_prints_one_line(spec, saved, tmp_path, capsys):
    result, _ = saved
    out = str(tmp_path / "r.html")
    broken = tmp_path / "broken.toml"
    broken.write_text(TINY_SPEC.replace("[fit]", "[fit"))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(TINY_SPEC.replace('"MIA4"', '"MIA9"'))
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    cases = [
        (["report", "--data", str(tmp_path / "none.csv"), "--spec", str(spec), "--out", out],
         "none.csv: No such file or directory"),
        (["report", "--spec", str(unknown), "--out", out], "MIA9"),
        (["report", "--spec", str(spec), "--table", "MIA9:rupture", "--out", out], "MIA9"),
        (["report", "--spec", str(spec), "--table", "MIA4", "--out", out], "malformed"),
        (["report", "--spec", str(broken), "--out", out], "invalid TOML"),
        (["report", "--spec", "mia_to_ruptur", "--out", out], "no standard spec"),
        (["report", "--result", str(edited(result, tmp_path / "f.nc", model="FutureModel")),
          "--out", out], "which this version of lagnest does not know"),
        (["report", "--result", str(edited(result, tmp_path / "n.nc", versions={
            **result.config["versions"], "lagnest": "1.0"})), "--out", out],
         "newer than this lagnest"),
        (["report", "--result", str(edited(result, tmp_path / "o.nc",
                                           data_fingerprint="0" * 64)), "--out", out],
         "fitted to another corpus"),
        (["report", "--spec", str(spec), "--out", str(tmp_path / "r.txt")], "ending in .html"),
        (["report", "--spec", str(spec), "--out", str(a_file / "r.html")], "not a folder"),
        (["report", "--spec", str(spec), "--sessions", "s.csv", "--out", out], "give --data"),
        (["report", "--spec", str(spec), "--draws", "0", "--out", out], "integer >= 1"),
        (["report", "--spec", str(spec)], "required: --out"),
    ]
    for argv, fragment in cases:
        fails(capsys, argv, fragment)
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "figures").exists()


def test_demo_without_fits_writes_the_classical_report(tmp_path, capsys):
    out = tmp_path / "demo" / "report.html"
    assert run(["demo", "--no-fit", "--out", str(out), "--permutations", "50"]) == 0
    printed = capsys.readouterr().out
    assert "within-session permutation test (50 shuffles, seed 1)" in printed
    assert printed.rstrip().endswith(f"report: {out.resolve()}")
    sections, text = _sections(out)
    assert sections == list(SECTIONS)
    assert "Classical part only" in text and "MIA4 → rupture, lag 1" in text


def test_demo_bad_input_prints_one_line(tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    fails(capsys, ["demo", "--out", str(tmp_path / "x.txt")], "ending in .html")
    fails(capsys, ["demo", "--out", str(a_file / "r.html")], "not a folder")
    fails(capsys, ["demo", "--out", str(tmp_path)], "ending in .html")
    fails(capsys, ["demo", "--draws", "0"], "expected an integer >= 1")
    fails(capsys, ["demo", "--chains", "x"], "expected an integer")
    assert list(tmp_path.iterdir()) == [a_file]


@pytest.mark.slow
def test_demo_runs_the_standard_specs_and_writes_the_report(tmp_path, capsys, monkeypatch):
    # quick mode: the short chains one after another in the process (chain processes are
    # tested in tests/models/test_edge_cases.py); what the fits conclude is not read here
    monkeypatch.setenv("LAGNEST_QUICK", "1")
    out = tmp_path / "report.html"
    argv = ["demo", "--out", str(out), "--draws", "20", "--tune", "20", "--chains", "2",
            "--ppc-draws", "5", "--permutations", "20"]
    assert run(argv) == 0
    printed = capsys.readouterr().out
    specs = ln.models.standard_specs()
    assert "Demo fits: 2 chains x 20 draws (tune 20)" in printed
    assert "shorter than the specs' own" in printed
    assert "[1/" in printed and "mia_to_rupture: LaggedRegression" in printed
    assert "rupture_to_resolution: LaggedRegression" in printed
    assert "rupture_episodes: HiddenMarkovModel" in printed
    assert printed.count("Diagnostics: ") >= 2
    _, text = _sections(out)
    for name in specs:
        assert f'id="analysis-{name}"' in text
    assert text.count("checked values flagged") >= 2
    for figure in ("emission profiles", "decoded", "log odds ratios of each predictor"):
        assert "rupture_episodes: " in text and figure in text, figure
