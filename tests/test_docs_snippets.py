"""Every code snippet and command in README.md and docs/**/*.md runs as written.

For each page, the fenced blocks tagged ``python`` and ``bash`` run in document order in
one fresh, empty temporary working directory:

* ``python`` blocks are executed in one namespace per page, so a later block can use the
  names an earlier block defined (as a reader typing them in one session would);
* ``bash`` blocks run line by line (``\\`` continues a line; comments and blank lines are
  skipped) with ``bash -c`` and the installed entry point first on ``PATH``, so
  ``lagnest ...`` is this environment's ``lagnest`` command. A command must exit 0 within
  :data:`COMMAND_TIMEOUT` seconds and print no Python warning.

The directory starts empty: a page whose examples read files (``codes.csv``) writes them
in a visible set-up block of its own, so that a reader can run the page too.

Markers, written as an HTML comment on the line(s) right before the opening fence
(invisible in the rendered page):

* ``<!-- no-test -->``: the block is not run. Only for commands that must not run inside
  the test suite (``make demo``, ``make test``); a ``make`` line in a block without it
  fails this test.
* ``<!-- slow -->``: the block fits models or does other slow work; its page runs only in
  the slow set (``pytest -m slow``; ``make test`` runs both sets).

Every page runs with ``LAGNEST_QUICK=1`` (the quick mode of
:mod:`lagnest.models._fit`): the fits written at full size run with short chains and
without convergence warnings, so the pages stay readable as the analyses to run while the
suite checks that their code works.

A block whose fence has no language but that holds Python (``import``, ``>>>``) or a
``lagnest`` command fails the scan: tag it ``python`` or ``bash`` so that it runs (or
``text``/``console`` for output and error messages).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
#: Seconds a single documented command may take (a default fit on two busy cores).
COMMAND_TIMEOUT = 900
RUNNABLE = ("python", "bash")
MARKERS = ("no-test", "slow")
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^<!--\s*(?P<names>[a-z\- ,]+?)\s*-->$")
_PYTHON_WARNING = re.compile(r"\b\w*Warning: |^warning: ", re.MULTILINE)  # the CLI's form too


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: Path
    line: int  # line number of the first line of the block's body (1-based)
    language: str
    source: str
    markers: frozenset[str]

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def pages() -> list[Path]:
    """README.md and every Markdown page of docs/ (not the build output)."""
    found = [p for p in sorted(DOCS.rglob("*.md")) if "_build" not in p.relative_to(DOCS).parts]
    return [REPO / "README.md", *found]


def blocks(page: Path) -> list[Block]:
    """Fenced blocks of ``page`` with their language and the markers before them."""
    lines = page.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m["fence"], m["info"].strip()
        language = info.split()[0].strip("{}").lower() if info else ""
        markers: set[str] = set()
        j = i - 1
        while j >= 0 and (lines[j].strip() == "" or _MARKER.match(lines[j].strip())):
            marker = _MARKER.match(lines[j].strip())
            if marker:
                names = {n for n in re.split(r"[\s,]+", marker["names"]) if n}
                unknown = names - set(MARKERS)
                if unknown:
                    raise AssertionError(
                        f"{page.relative_to(REPO)}:{j + 1}: unknown marker(s) {sorted(unknown)}; "
                        f"known: {list(MARKERS)}"
                    )
                markers |= names
            j -= 1
        body: list[str] = []
        k = i + 1
        while k < len(lines):
            close = _FENCE.match(lines[k])
            if close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence) \
                    and not close["info"].strip():
                break
            body.append(lines[k])
            k += 1
        out.append(Block(page, i + 2, language, "\n".join(body) + "\n", frozenset(markers)))
        i = k + 1
    return out


def _runnable(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.language in RUNNABLE and "no-test" not in b.markers]


#: ``make test`` runs files on two workers (pytest-xdist, ``--dist loadfile``); the pages
#: run from three files (this one and ``test_docs_snippets_shard{1,2}.py``) so that no
#: worker holds every page. The heaviest pages (seconds on a 2-core machine) are placed by
#: hand; the others take turns.
N_SHARDS = 3
HEAVY_PAGES = {
    "docs/model_comparison.md": 1, "docs/calibration.md": 2, "README.md": 0,
    "docs/specs.md": 1, "docs/session_impact_model.md": 2, "docs/report.md": 0,
    "docs/arviz.md": 1, "docs/hidden_markov_model.md": 2, "docs/checks.md": 0,
}


def _page_params(shard: int = 0) -> list:
    """The runnable pages of one shard (0, 1 or 2) as pytest params."""
    params = []
    light = 0
    for page in pages():
        run = _runnable(page)
        if not run:
            continue
        name = str(page.relative_to(REPO))
        if name in HEAVY_PAGES:
            where = HEAVY_PAGES[name]
        else:
            where, light = light % N_SHARDS, light + 1
        if where != shard:
            continue
        marks = [pytest.mark.slow] if any("slow" in b.markers for b in run) else []
        params.append(pytest.param(page, marks=marks, id=name))
    return params


def commands(block: Block) -> list[tuple[int, str]]:
    """The command lines of a bash block with their line numbers (continuations joined)."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for offset, raw in enumerate(block.source.splitlines()):
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not pending:
            start = block.line + offset
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    if pending:
        out.append((start, pending))
    return out


def _environment() -> dict[str, str]:
    """The test's environment with this interpreter's scripts first on PATH."""
    scripts = Path(sys.executable).parent
    env = dict(os.environ)
    env["PATH"] = f"{scripts}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run_bash(block: Block, cwd: Path) -> None:
    env = _environment()
    lagnest = shutil.which("lagnest", path=env["PATH"])
    assert lagnest and Path(lagnest).parent == Path(sys.executable).parent, (
        f"the lagnest entry point is not installed beside {sys.executable}"
    )
    for line_no, command in commands(block):
        where = f"{block.page.relative_to(REPO)}:{line_no}"
        try:
            done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, text=True,
                                  capture_output=True, timeout=COMMAND_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{where}: `{command}` took more than {COMMAND_TIMEOUT} s")
        report = f"{where}: `{command}`\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        assert done.returncode == 0, f"exit {done.returncode}: {report}"
        assert not _PYTHON_WARNING.search(done.stderr), f"printed a warning: {report}"


def _run_python(block: Block, namespace: dict) -> None:
    code = compile(block.source, block.where, "exec")
    exec(code, namespace)


# ---------------------------------------------------------------------- the scan itself


def test_pages_are_found_and_markers_parse():
    found = {p.relative_to(REPO).as_posix() for p in pages()}
    assert {"README.md", "docs/quickstart.md", "docs/formats.md"} <= found
    assert not any(p.startswith("docs/_build") for p in found)
    for page in pages():
        for block in blocks(page):
            if block.language == "bash" and "no-test" not in block.markers:
                made = [c for _, c in commands(block) if c.split()[0] == "make"]
                assert not made, (
                    f"{block.where}: {made} would run inside the test suite; put "
                    "<!-- no-test --> before the block"
                )
            if block.language == "":
                first = next((s.strip() for s in block.source.splitlines() if s.strip()), "")
                assert not re.match(r"(import |from \w+ import |>>> |lagnest |\$ )", first), (
                    f"{block.where}: an untagged block holds code ({first!r}); tag it "
                    "```python or ```bash so that it runs, or ```text for output"
                )


def test_block_parser_on_a_sample(tmp_path):
    page = tmp_path / "sample.md"
    page.write_text(
        "text\n\n<!-- no-test -->\n```bash\nmake demo\n```\n\n<!-- slow -->\n\n"
        "```python\nx = 1\n```\n\n````markdown\n```python\nnot a block\n```\n````\n"
        "```bash\nlagnest table a.csv \\\n  --lag 1   # comment\n# only a comment\n```\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(b.language, sorted(b.markers)) for b in found] == [
        ("bash", ["no-test"]), ("python", ["slow"]), ("markdown", []), ("bash", [])]
    assert found[1].source == "x = 1\n" and found[1].line == 11
    assert found[2].source.startswith("```python")
    assert [c for _, c in commands(found[3])] == ["lagnest table a.csv    --lag 1   # comment"]


def test_every_page_is_in_the_navigation():
    """`make docs` fails on a page outside every toctree; say so here, in `make test`."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    listed = {line.strip() for b in blocks(DOCS / "index.md") if b.language == "toctree"
              for line in b.source.splitlines() if line.strip() and ":" not in line}
    for page in pages()[1:]:
        name = page.relative_to(DOCS).with_suffix("").as_posix()
        assert name == "index" or name in listed, (
            f"docs/{name}.md is in no toctree of docs/index.md: add the line `{name}` to the "
            "toctree of its section"
        )
    assert "```{include} ../README.md" in index


def test_every_runnable_page_is_in_one_shard():
    everywhere = [p.values[0] for shard in range(N_SHARDS) for p in _page_params(shard)]
    runnable = [page for page in pages() if _runnable(page)]
    assert sorted(everywhere) == sorted(runnable)  # each page once, none left out
    assert set(HEAVY_PAGES) <= {str(p.relative_to(REPO)) for p in runnable}


@pytest.mark.parametrize("page", _page_params(0))
def test_page_snippets_run(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch)


def run_page(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every runnable block of ``page`` in order, in ``tmp_path``, at reduced sizes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The pages show full-size fits; here they run as code checks at reduced sizes (the
    # quick mode, lagnest.models._fit.QUICK_ENV). What the fits conclude is tested by the
    # model tests and the benchmarks, not by the pages.
    monkeypatch.setenv("LAGNEST_QUICK", "1")
    # ArviZ's own Pareto-k warning on such short chains (lagnest's is off in quick mode)
    warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto", UserWarning)
    namespace: dict = {"__name__": "__main__"}
    try:
        for block in _runnable(page):
            if block.language == "python":
                _run_python(block, namespace)
            else:
                _run_bash(block, tmp_path)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
