"""Rough edges of issue 22: each fixed behaviour, one test (or a few) each."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lagnest as ln
from lagnest import calibration
from lagnest.calibration import engine
from lagnest.cli import build_parser, main
from lagnest.errors import LagnestDataError, LimitError
from lagnest.io.convert import input_format
from lagnest.models import ConvergenceWarning
from lagnest.models.spec import standard_specs
from tests.cli_helpers import TINY_SPEC, fails, run
from tests.test_docs_snippets import REPO, blocks

LAGNEST = Path(sys.executable).parent / "lagnest"


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "MPLBACKEND": "Agg", **extra}
    env.pop("LAGNEST_DEBUG", None)
    return env


# ---------------------------------------------------------------- 1. warnings at the CLI


@pytest.fixture
def foreign_digits(tmp_path):
    """A table whose segment numbers are written in Arabic-Indic digits (a warning)."""
    path = tmp_path / "w.csv"
    path.write_text("dyad,session,segment,code\nD1,S1,١,a\nD1,S1,٢,b\nD1,S1,٣,a\n",
                    encoding="utf-8")
    return path


@pytest.mark.filterwarnings("default")
def test_cli_prints_a_data_warning_as_one_line(foreign_digits, capsys):
    shown = warnings.showwarning
    assert main(["summary", str(foreign_digits)]) == 0
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("warning: ") and "digits of another script" in lines[0]
    assert "LagnestDataWarning" not in err and ".py:" not in err and "sys.exit" not in err
    assert warnings.showwarning is shown  # restored for the rest of the process


@pytest.mark.filterwarnings("default")
def test_cli_prints_any_warning_on_one_line(monkeypatch, capsys):
    def noisy(args):
        warnings.warn("fit failed sampler diagnostics: R-hat 1.2 > 1.01\n  for beta",
                      ConvergenceWarning, stacklevel=1)
        warnings.warn("second", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr("lagnest.cli.classical._cmd_summary", noisy)
    assert main(["summary"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "warning: fit failed sampler diagnostics: R-hat 1.2 > 1.01 for beta",
        "warning: second",
    ]
    # --debug leaves warnings to Python (file and line) for whoever debugs
    with pytest.warns(UserWarning):  # the ConvergenceWarning and the other
        assert main(["--debug", "summary"]) == 0
    assert capsys.readouterr().err == ""


def test_lagnest_command_prints_no_python_internals_for_a_warning(foreign_digits):
    done = subprocess.run([str(LAGNEST), "summary", str(foreign_digits)], capture_output=True,
                          text=True, env=_env(), timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "sys.exit(main())" not in done.stderr and "LagnestDataWarning" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("warning: ")]


# ---------------------------------------------------------------- 2. lagnest fit --sampler


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_SPEC)
    return path


def test_fit_sampler_choices_are_checked_by_the_parser(spec, tmp_path, capsys):
    line = fails(capsys, ["fit", str(spec), "--out", str(tmp_path / "r.nc"), "--sampler",
                          "stan"], "--sampler")
    assert "invalid choice" in line and "nutpie" in line
    fit = next(a for a in build_parser()._actions if a.dest == "command").choices["fit"]
    sampler = next(a for a in fit._actions if a.dest == "sampler")
    assert list(sampler.choices) == ["pymc", "nutpie", "numpyro"] and sampler.help


def test_fit_sampler_overrides_the_spec(spec, tmp_path, monkeypatch):
    spec.write_text(TINY_SPEC.replace("[fit]\n", '[fit]\nsampler = "numpyro"\n'))
    seen = {}

    class Stop(Exception):
        pass

    def fake_fit(self, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(ln.TransitionModel, "fit", fake_fit)
    with pytest.raises(Stop):
        main(["fit", str(spec), "--out", str(tmp_path / "r.nc"), "--sampler", "pymc"])
    assert seen["sampler"] == "pymc" and seen["draws"] == 20  # the rest from the spec


def test_fit_sampler_the_model_cannot_run_is_one_line(tmp_path, capsys):
    # LaggedRegression's numba likelihood has no JAX form; without numpyro installed the
    # message says to install it: either way one line, before any sampling
    fails(capsys, ["fit", "mia_to_rupture", "--out", str(tmp_path / "r.nc"), "--sampler",
                   "numpyro"], "numpyro")


def test_spec_with_an_unknown_sampler_is_refused(spec, tmp_path, capsys):
    spec.write_text(TINY_SPEC.replace("[fit]\n", '[fit]\nsampler = "stan"\n'))
    fails(capsys, ["fit", str(spec), "--out", str(tmp_path / "r.nc")], "fit.sampler")


# ---------------------------------------------------------------- 4. a class is refused


def test_calibration_refuses_a_model_class():
    with pytest.raises(TypeError, match=r"calibration\.sbc\(TransitionModel\(seqs, \.\.\.\)\)"):
        calibration.sbc(ln.TransitionModel, n=2)
    with pytest.raises(TypeError, match=r"pass a model instance.*not the class"):
        calibration.recovery(ln.LaggedRegression, {}, n=2)
    with pytest.raises(TypeError, match=r"lambda seqs: LaggedRegression\(seqs, \.\.\.\)"):
        calibration.design_analysis(model=ln.LaggedRegression, dyads=[4], sessions=[4])


# ---------------------------------------------------------------- 5. columns named by options


@pytest.fixture
def tables(tmp_path):
    seg = pd.DataFrame({"dyad": ["D1"] * 4, "session": ["S1", "S1", "S2", "S2"],
                        "segment": [1, 2, 1, 2], "code": list("abab"),
                        "therapist": ["T"] * 4})
    seg.to_csv(tmp_path / "seg.csv", index=False)
    pd.DataFrame({"sess": ["S1", "S2"], "x": [1, 2]}).to_csv(tmp_path / "ses.csv", index=False)
    pd.DataFrame({"dy": ["D1"], "age": [3]}).to_csv(tmp_path / "dy.csv", index=False)
    pd.DataFrame({"dyad": ["D1", "D1"], "session": ["S1", "S2"], "t1": ["a", "b"],
                  "t2": ["b", "a"], "cov": [1, 2]}).to_csv(tmp_path / "wide.csv", index=False)
    return tmp_path


OPTIONS = [  # (file, read_table options, the option named, the missing column)
    ("seg.csv", {"session_columns": ["nope"]}, "session_columns", "nope"),
    ("seg.csv", {"ignore": ["nope"]}, "ignore", "nope"),
    ("seg.csv", {"ratings": ["nope"]}, "ratings", "nope"),
    ("seg.csv", {"codes": {"nope": ["a", "b"]}}, "codes", "nope"),
    ("seg.csv", {"indicators": {"mia": ["M1", "M2"]}}, "indicators", "mia:M1"),
    ("seg.csv", {"break_column": "nope"}, "break_column", "nope"),
    ("seg.csv", {"dyad": "nope"}, "dyad", "nope"),
    ("seg.csv", {"session": "nope"}, "session", "nope"),
    ("seg.csv", {"segment": "nope"}, "segment", "nope"),
    ("wide.csv", {"layout": "wide", "session_columns": ["nope"], "ignore": ["cov"]},
     "session_columns", "nope"),
    ("wide.csv", {"layout": "wide", "ignore": ["nope", "cov"]}, "ignore", "nope"),
    ("wide.csv", {"layout": "wide", "dyad": "nope", "ignore": ["cov"]}, "dyad", "nope"),
    ("wide.csv", {"layout": "wide", "session": "nope", "ignore": ["cov"]}, "session", "nope"),
    ("seg.csv", {"sessions": "ses.csv"}, "session", "session"),
    ("seg.csv", {"dyads": "dy.csv"}, "dyad", "dyad"),
]


@pytest.mark.parametrize(("name", "options", "option", "column"), OPTIONS,
                         ids=[f"{o[0]}-{o[2]}" for o in OPTIONS])
def test_an_option_naming_an_absent_column_is_a_located_error(tables, name, options, option,
                                                              column):
    options = {k: str(tables / v) if k in ("sessions", "dyads") else v
               for k, v in options.items()}
    with pytest.raises(LagnestDataError) as caught:
        ln.read_table(tables / name, **options)
    message = str(caught.value)
    side = options.get("sessions") or options.get("dyads")
    assert str(side or tables / name) in message  # the file
    assert f"the option {option} names it" in message or f"option {option} names" in message
    assert repr(column) in message  # the missing column
    assert ("'session'" if side is None else "'x'" if "ses" in side else "'age'") in message


def test_from_frame_session_columns_is_no_key_error():
    frame = pd.DataFrame({"dyad": ["D1"], "session": ["S1"], "segment": [1], "code": ["a"]})
    with pytest.raises(LagnestDataError, match="option session_columns names a column"):
        ln.Sequences.from_frame(frame, session_columns=["nope"], source="f.csv")


CLI_COLUMNS = [
    (["summary", "{d}/seg.csv", "--session", "sess"], "missing key column 'sess'"),
    (["summary", "{d}/seg.csv", "--dyad", "dX"], "missing key column 'dX'"),
    (["summary", "{d}/seg.csv", "--segment", "sX"], "missing key column 'sX'"),
    (["summary", "{d}/seg.csv", "--sessions", "{d}/ses.csv"], "option session names it"),
    (["summary", "{d}/wide.csv", "--layout", "wide", "--dyad", "dX"], "option dyad"),
    (["table", "{d}/seg.csv", "--given", "code", "--target", "code", "--session", "sess"],
     "'sess'"),
    (["convert", "{d}/seg.csv", "{d}/out.csv", "--session", "sess"], "'sess'"),
]


@pytest.mark.parametrize(("argv", "fragment"), CLI_COLUMNS, ids=[" ".join(c[0][:1] + c[0][2:])
                                                                 for c in CLI_COLUMNS])
def test_cli_column_options_fail_on_one_line(tables, capsys, argv, fragment):
    line = fails(capsys, [a.format(d=tables) for a in argv], fragment)
    assert "seg.csv" in line or "ses.csv" in line or "wide.csv" in line


def test_spec_data_session_columns_fail_before_the_fit(tables, spec, capsys):
    spec.write_text(TINY_SPEC + '\n[data]\nsession_columns = ["nope"]\n')
    line = fails(capsys, ["fit", str(spec), "--data", str(tables / "seg.csv"), "--out",
                          str(tables / "r.nc")], "session_columns")
    assert "'nope'" in line and "seg.csv" in line


# ---------------------------------------------------------------- 6. compressed workbooks

_RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
         'package/2006/relationships">{}</Relationships>')
_REL = '<Relationship Id="{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/' \
       'relationships/{}" Target="{}"/>'
_SHEET_HEAD = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><sheetData>')
_SMALL_ROWS = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>dyad</t></is></c></row>'
               b"</sheetData></worksheet>")
#: Bytes of repeated characters in a bomb part: 200 MB, about 200 KB deflated.
_BOMB_MB = 200


def _write_bomb(archive: zipfile.ZipFile, name: str, head: bytes, tail: bytes) -> None:
    block = b" " * (1 << 20)
    with archive.open(name, "w", force_zip64=True) as fh:
        fh.write(head)
        for _ in range(_BOMB_MB):
            fh.write(block)
        fh.write(tail)


def _workbook(path: Path, sheets: dict[str, str], bomb: str,
              shared_strings: bool = False) -> Path:
    """A workbook whose sheets point at parts under xl/; part ``bomb`` is huge."""
    types = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
             '2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
             'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
             'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
             'main+xml"/>')
    if shared_strings:
        types += ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                  'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
    types += "</Types>"
    book = ('<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets>'
            + "".join(f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                      for i, n in enumerate(sheets))
            + "</sheets></workbook>")
    rels = "".join(_REL.format(f"rId{i + 1}", "worksheet", target)
                   for i, target in enumerate(sheets.values()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", _RELS.format(_REL.format("rId1", "officeDocument",
                                                           "xl/workbook.xml")))
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", _RELS.format(rels))
        for target in dict.fromkeys(sheets.values()):
            if target != bomb:
                z.writestr(f"xl/{target}", _SHEET_HEAD + _SMALL_ROWS)
        head = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                b'spreadsheetml/2006/main">' if bomb == "sharedStrings.xml" else _SHEET_HEAD)
        tail = b"</sst>" if bomb == "sharedStrings.xml" else b"</sheetData></worksheet>"
        _write_bomb(z, f"xl/{bomb}", head, tail)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    _workbook(path, {"segments": "worksheets/sheet1.xml"}, "worksheets/sheet1.xml")
    assert path.stat().st_size < _BOMB_MB * 2 << 10  # about 1 KB per MB
    return path


def _refused_fast(call, path: Path) -> str:
    start = time.perf_counter()
    with pytest.raises(LimitError) as caught:
        call()
    seconds = time.perf_counter() - start
    message = str(caught.value)
    assert seconds < 1, f"refused after {seconds:.1f} s"
    assert str(path) in message and "max_workbook_bytes=100,000,000" in message
    assert f"{_BOMB_MB << 20:,}"[:3] in message and f"{path.stat().st_size:,} bytes" in message
    return message


def test_workbook_bomb_is_refused_from_the_zip_directory(bomb):
    _refused_fast(lambda: ln.read_table(bomb), bomb)
    _refused_fast(lambda: ln.read_boris(bomb), bomb)


def test_convert_sniffs_a_workbook_bomb_without_parsing_it(bomb, tmp_path, capsys):
    start = time.perf_counter()
    assert input_format(bomb) == "table"  # the reader decides, with its own limit
    assert time.perf_counter() - start < 1
    _refused_fast(lambda: ln.convert(bomb, tmp_path / "out.csv"), bomb)
    start = time.perf_counter()
    assert run(["convert", str(bomb), str(tmp_path / "out.csv")]) == 2
    assert time.perf_counter() - start < 1
    assert "max_workbook_bytes" in capsys.readouterr().err


def test_a_highly_compressed_parquet_file_is_refused_from_its_footer(tmp_path, capsys):
    """The sibling of the workbook bomb: Parquet's footer declares the decompressed size."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 2_000_000  # 16 MB of int64 zeros per column, a few kB compressed
    table = pa.table({name: pa.array(np.zeros(n, dtype=np.int64))
                      for name in ("dyad", "session", "segment")})
    path = tmp_path / "bomb.parquet"
    pq.write_table(table, path, compression="zstd")
    assert path.stat().st_size < 1_000_000
    start = time.perf_counter()
    with pytest.raises(LimitError) as caught:
        ln.read_table(path, max_parquet_bytes=10_000_000)
    assert time.perf_counter() - start < 1
    message = str(caught.value)
    assert str(path) in message and "max_parquet_bytes=10,000,000" in message
    assert "2,000,000 rows x 3 columns" in message and "48,000,000 bytes" in message
    assert f"{path.stat().st_size:,} bytes" in message
    with pytest.raises(LagnestDataError, match="max_parquet_bytes"):
        ln.read_table(path, max_parquet_bytes=0)
    # long strings: few cells, each far more than 8 bytes once read
    strings = tmp_path / "strings.parquet"
    pq.write_table(pa.table({"dyad": ["d"] * 2000, "session": ["s"] * 2000,
                             "segment": np.arange(2000), "note": ["x" * 10_000] * 2000}),
                   strings, compression="zstd")
    assert strings.stat().st_size < 100_000
    with pytest.raises(LimitError, match=r"columns take more than [\d,]+ bytes once read"):
        ln.read_table(strings, max_parquet_bytes=1_000_000)


@pytest.mark.parametrize("layout", ["shared sheet part", "sheet part is shared strings"])
def test_a_part_an_unread_sheet_shares_still_counts(tmp_path, layout):
    if layout == "shared sheet part":  # the sheet read is the one the unread sheet names
        path = _workbook(tmp_path / "x.xlsx", {"segments": "worksheets/sheet1.xml",
                                               "other": "worksheets/sheet1.xml"},
                         "worksheets/sheet1.xml")
    else:  # openpyxl finds shared strings by their content type, whatever names them
        path = _workbook(tmp_path / "x.xlsx", {"segments": "worksheets/sheet1.xml",
                                               "other": "sharedStrings.xml"},
                         "sharedStrings.xml", shared_strings=True)
    _refused_fast(lambda: ln.read_table(path, sheet="segments"), path)


# ---------------------------------------------------------------- 7. unguarded scripts


def _square(payload, key, seed):
    return {"value": payload * key[0]}


def test_run_tasks_runs_in_process_under_an_unguarded_script(monkeypatch):
    monkeypatch.setattr("lagnest.models._fit.unguarded_main_script", lambda: "/x/study.py")
    with pytest.warns(UserWarning, match=r"study\.py has no 'if __name__ == \"__main__\":'"):
        results, info = engine.run_tasks(_square, 3, [(1,), (2,)], seed=0, config={"t": 1},
                                         n_jobs=2, progress=False)
    assert info["backend"] == "in-process" and info["n_workers"] == 1
    assert results == {(1,): {"value": 3}, (2,): {"value": 6}}


@pytest.mark.slow
def test_sbc_from_an_unguarded_script_finishes_with_a_warning(tmp_path):
    script = tmp_path / "study.py"
    script.write_text(textwrap.dedent("""\
        import lagnest as ln
        from lagnest import calibration

        seqs = ln.datasets.load_example()
        seqs = seqs.subset(dyads=seqs.dyad_labels[:2])
        model = ln.TransitionModel(seqs, given="MIA4", target="rupture")
        res = calibration.sbc(model, n=2, draws=20, tune=20, chains=1, n_rank_draws=10,
                              n_jobs=2, progress=False)
        print("simulations", res.data.sizes["simulation"])
        """))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, env=_env(LAGNEST_QUICK="1"), timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "simulations 2" in done.stdout
    assert "BrokenProcessPool" not in done.stderr
    assert "has no 'if __name__ == \"__main__\":' guard" in done.stderr


# ---------------------------------------------------------------- 8. README blocks alone


def test_every_readme_python_block_runs_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("LAGNEST_QUICK", "1")
    found = [b for b in blocks(REPO / "README.md") if b.language == "python"]
    assert found
    for block in found:
        if "slow" in block.markers or "no-test" in block.markers:
            continue
        exec(compile(block.source, block.where, "exec"), {"__name__": "__main__"})


def test_the_readme_command_line_block_runs_alone(tmp_path):
    """The README's bash block in an empty folder: it makes the files it reads.

    Its first line, ``lagnest demo``, is left to the demo's own tests (a minute of fits).
    """
    from dataclasses import replace

    from tests.test_docs_snippets import _run_bash

    (block,) = [b for b in blocks(REPO / "README.md")
                if b.language == "bash" and "no-test" not in b.markers]
    lines = block.source.splitlines()
    assert lines[0].startswith("lagnest demo")
    _run_bash(replace(block, source="\n".join(lines[1:]), line=block.line + 1), tmp_path)
    assert {"codes.csv", "sessions.csv", "study.sds", "study.csv"} <= {
        p.name for p in tmp_path.iterdir()}


# ---------------------------------------------------------------- 9. the demo's text


def test_demo_names_the_specs_as_shipped(monkeypatch, tmp_path):
    from lagnest import demo
    from lagnest.viz import report

    monkeypatch.setattr(demo, "run_analyses", lambda *a, **k: demo.Analyses())
    monkeypatch.setattr(report, "write_report", lambda out, *a, **k: Path(out))
    lines: list[str] = []
    demo.run_demo(fit=True, n_perm=10, echo=lambda *a: lines.append(" ".join(map(str, a))),
                  out=tmp_path / "r.html", ppc_draws=0)
    text = "\n".join(lines)
    assert "models/" not in text
    assert 'lagnest.load_spec("<name>")' in text and "lagnest fit <name>" in text
    names = list(standard_specs())
    assert len(names) == 4 and all(name in text for name in names)
    assert "Demo fits: each spec's own sampler settings" in text  # no override given
    for name in names:  # the names the text gives are what the command and the API take
        assert ln.load_spec(name).name == name
        assert build_parser().parse_args(["fit", name, "--out", "r.nc"]).spec == name
