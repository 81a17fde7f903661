"""benchmarks/run_all.py: the registry covers every script; RESULTS.md assembly; failures."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("run_all", BENCH / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("run_all", None)


def test_registry_scripts_exist_and_every_benchmark_is_registered(run_all):
    scripts = [b.script for b in run_all.REGISTRY]
    assert len(set(scripts)) == len(scripts)
    assert len({b.name for b in run_all.REGISTRY}) == len(scripts)
    for script in scripts:
        assert (BENCH / script).is_file(), script
    on_disk = {p.name for p in BENCH.glob("*.py")} - set(run_all.HELPERS)
    assert on_disk == set(scripts), "register new benchmark scripts in run_all.REGISTRY"


def test_every_committed_result_belongs_to_a_registered_benchmark(run_all):
    stems = [s for b in run_all.REGISTRY for s in b.stems]
    assert len(set(stems)) == len(stems)
    on_disk = {p.stem for p in (BENCH / "results").glob("*.md")}
    assert on_disk <= set(stems), on_disk - set(stems)
    assert {p.stem for p in (BENCH / "notes").glob("*.md")} <= set(stems)


def test_quick_arguments_must_write_to_the_temporary_folder(run_all):
    assert all(b.quick is not None or b.long for b in run_all.REGISTRY)
    with pytest.raises(ValueError, match="do not write to"):
        run_all.Benchmark("x", "x.py", "X", ("x",), "y", quick=(("--quick",),))
    with pytest.raises(ValueError, match="must be long"):
        run_all.Benchmark("x", "x.py", "X", ("x",), "y")


def test_nest_shifts_headings_outside_code_fences(run_all):
    text = "# A\n\ntext # not a heading\n\n```\n# code\n```\n\n## B\n"
    assert run_all.nest(text, 3) == "### A\n\ntext # not a heading\n\n```\n# code\n```\n\n#### B"
    assert run_all.nest("## only\n", 3) == "### only"
    assert run_all.nest("no heading\n", 3) == "no heading"


def test_assemble_only_includes_every_results_table_notes_and_figures(run_all, tmp_path):
    results, notes = tmp_path / "results", tmp_path / "notes"
    shutil.copytree(BENCH / "results", results)
    shutil.copytree(BENCH / "notes", notes)
    output = tmp_path / "RESULTS.md"
    code = run_all.main(["--assemble-only", "--results-dir", str(results), "--notes-dir",
                         str(notes), "--output", str(output)])
    assert code == 0
    text = output.read_text()
    assert "do not edit by hand" in text[:600]
    for bench in run_all.REGISTRY:
        assert f"\n## {bench.title}\n" in text
        assert f"](#{run_all.anchor(bench.title)})" in text
    for md in results.glob("*.md"):
        lines = md.read_text().splitlines()
        tables = [line for line in lines if line.startswith("|")]
        body = [line for line in lines if line and not line.startswith("#")]
        assert (tables or body)[0] in text, md.name  # recovery.md has no table
        assert body[-1] in text, md.name
    for note in notes.glob("*.md"):
        for line in note.read_text().splitlines():
            if line and not line.startswith("#"):
                assert line in text, (note.name, line)
    for png in results.glob("*.png"):
        assert f"](results/{png.name})" in text
    assert "not rerun (--assemble-only)" in text


def test_a_failing_script_is_reported_and_the_others_still_run(run_all, tmp_path, capsys):
    scripts = tmp_path / "bench"
    scripts.mkdir()
    (scripts / "fails.py").write_text("import sys\nprint('boom')\nsys.exit(1)\n")
    (scripts / "works.py").write_text(
        "import sys, pathlib\n"
        "out = pathlib.Path(sys.argv[sys.argv.index('--out') + 1])\n"
        "(out / 'works.md').write_text('# Works\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |\\n')\n")
    registry = (
        run_all.Benchmark("fails", "fails.py", "Fails", ("fails",), "nothing",
                          quick=(("--out", "{out}"),)),
        run_all.Benchmark("works", "works.py", "Works", ("works",), "nothing",
                          quick=(("--out", "{out}"),)),
        run_all.Benchmark("slow", "slow.py", "Slow", ("slow",), "nothing", long=True),
    )
    results = tmp_path / "results"
    results.mkdir()
    output = tmp_path / "RESULTS.md"
    code = run_all.main(["--results-dir", str(results), "--notes-dir", str(tmp_path / "notes"),
                         "--output", str(output), "--work-dir", str(tmp_path / "work")],
                        registry=registry, bench_dir=scripts)
    assert code == 1
    printed = capsys.readouterr().out
    assert "fails: quick" in printed and "FAILED (exit 1)" in printed and "| boom" in printed
    text = output.read_text()
    assert "quick check FAILED (exit 1)" in text and "\nboom\n" in text  # the log's tail
    assert "`python benchmarks/works.py --out <tmp>/works`" in text
    assert "quick check ok" in text and "| 1 | 2 |" in text  # the later script ran
    assert "not rerun (full mode only)" in text  # long entry skipped in quick mode
    assert not (results / run_all.MANIFEST).exists()  # quick runs leave results/ alone
