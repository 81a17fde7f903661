"""Options shared by the subcommands: --version, --json, colour, --debug, one-line errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import lagnest as ln
from lagnest.cli import build_parser, main
from lagnest.cli._common import _use_colour
from tests.cli_helpers import fails, run


def test_version(capsys):
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"lagnest {ln.__version__}"


def test_every_subcommand_has_help(capsys):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"demo", "summary", "table", "timed", "dominance", "stationarity", "agreement",
            "convert", "fit", "simulate", "ppc", "sbc", "design", "report"} <= set(sub.choices)
    for name in sub.choices:
        assert run([name, "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: lagnest {name}")


def test_summary_json_matches_the_corpus(capsys):
    assert main(["summary", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    seqs = ln.datasets.load_example()
    assert (data["n_dyads"], data["n_sessions"], data["n_segments"]) == (6, 53, 530)
    assert data["fingerprint"] == seqs.fingerprint
    freq = seqs.code_frequencies()
    assert [r["count"] for r in data["code_frequencies"]] == freq["count"].tolist()
    withdrawal = next(r for r in data["code_frequencies"] if r["code"] == "withdrawal")
    assert withdrawal["count"] == 177  # as the text summary says: withdrawal 177 (33%)


def test_table_json_holds_the_lag_table(capsys):
    assert main(["table", "--given", "rupture", "--target", "resolution", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    table = ln.lag_table(ln.datasets.load_example(), "rupture", "resolution")
    assert data["coords"]["given"] == [str(v) for v in table["given"].values]
    assert np.array_equal(np.array(data["variables"]["counts"]["values"]),
                          table["counts"].values)
    assert data["variables"]["adj_resid"]["dims"] == ["given", "target"]
    assert data["attrs"]["lag"] == 1 and data["attrs"]["N"] == 477


def _significant_cells(table, alpha=0.05):
    """(count, z) text of every significant cell, and whether z > 0 (from the table alone)."""
    out = []
    for i in range(table.sizes["given"]):
        for j in range(table.sizes["target"]):
            cell = table.isel(given=i, target=j)
            if float(cell["p_adj_resid"]) < alpha:
                z = float(cell["adj_resid"])
                out.append((f"{float(cell['counts']):g} ({z:.2f})*", z > 0))
    return out


def test_table_colours_significant_cells(capsys):
    assert main(["table", "--given", "rupture", "--target", "resolution", "--color",
                 "always"]) == 0
    out = capsys.readouterr().out
    expected = _significant_cells(ln.lag_table(ln.datasets.load_example(), "rupture",
                                               "resolution"))
    assert expected
    red = re.findall(r"\x1b\[1;31m(.*?)\x1b\[0m", out)
    blue = re.findall(r"\x1b\[1;34m(.*?)\x1b\[0m", out)
    assert sorted(red) == sorted(text for text, up in expected if up)
    assert sorted(blue) == sorted(text for text, up in expected if not up)
    assert main(["table", "--given", "rupture", "--target", "resolution", "--color",
                 "never"]) == 0
    plain = capsys.readouterr().out
    assert "\x1b" not in plain and re.sub(r"\x1b\[[0-9;]*m", "", out) == plain


def test_colour_only_on_a_terminal_without_no_color(monkeypatch, capsys):
    class Terminal:
        def isatty(self):
            return True

    class Pipe:
        def isatty(self):
            return False

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert _use_colour("auto", Terminal()) and not _use_colour("auto", Pipe())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not _use_colour("auto", Terminal()) and _use_colour("always", Pipe())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not _use_colour("auto", Terminal())
    # captured output is not a terminal: no colour by default
    assert main(["table", "--given", "rupture", "--target", "resolution"]) == 0
    assert "\x1b" not in capsys.readouterr().out


def test_debug_shows_the_traceback():
    with pytest.raises(ln.LagnestDataError, match="MIA9"):
        main(["--debug", "table", "--given", "MIA9", "--target", "rupture"])


def test_many_problems_on_one_line(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("dyad,session,segment,code\n" + "".join(f"d,s,x{k},a\n" for k in range(5)))
    line = fails(capsys, ["summary", str(path)], "5 problems: ")
    assert line.count("bad segment number") == 3 and "and 2 more (--debug shows all)" in line


def test_bad_input_of_the_corpus_subcommands(tmp_path, capsys):
    missing = str(tmp_path / "none.csv")
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    cases = [
        (["summary", missing], "none.csv: No such file or directory"),
        (["summary", "--json", missing], "none.csv: No such file or directory"),
        (["table", missing, "--given", "a", "--target", "b"],
         "none.csv: No such file or directory"),
        (["table", "--given", "MIA9", "--target", "rupture"], "unknown stream or code 'MIA9'"),
        (["table", "--given", "MIA4", "--target", "rupture", "--lag", "x"],
         "expected an integer, got 'x'"),
        (["table", "--given", "MIA4", "--target", "rupture", "--color", "red"],
         "invalid choice"),
        (["convert", missing, str(tmp_path / "out.sds")], "none.csv: No such file or directory"),
        (["simulate", str(a_file / "out.csv"), "--seed", "1"], "a_file"),
        (["simulate", str(tmp_path / "out.csv"), "--preset", "thesis"],
         "required: --seed"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ]
    for argv, fragment in cases:
        fails(capsys, argv, fragment)
