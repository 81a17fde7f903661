"""The notebooks in notebooks/ execute (at reduced sizes) and are stored without outputs.

Each notebook has one cell tagged ``parameters`` (draws, chains, simulation counts). The
test sets it to small sizes, runs every cell in a fresh kernel in lagnest's quick mode
(``LAGNEST_QUICK=1``, as for the documentation pages) and fails on the first error, so the
notebooks never rot. A notebook with its own quick mode (a ``QUICK = False``
line, as in 03_calibration, whose shipped run takes about an hour) runs with ``QUICK =
True``; the others get the small values below appended to their parameters cell.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
SMALL = {
    "DRAWS": 60, "TUNE": 60, "CHAINS": 2, "N_PERM": 200, "N_DRAWS_CHECK": 30,
    "HMM_FIT": {"draws": 60, "tune": 60, "chains": 2},
}
QUICK_OFF = re.compile(r"^QUICK = False\b.*$", re.MULTILINE)


def _parameter_cell(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    return tagged[0]


def _small(source: str) -> str:
    """The parameters cell in its own quick mode, or with every known name set small."""
    if QUICK_OFF.search(source):
        return QUICK_OFF.sub("QUICK = True  # set by tests/test_notebooks.py", source, count=1)
    lines = [source, "# reduced by tests/test_notebooks.py"]
    lines += [f"{name} = {value}" for name, value in SMALL.items() if name in source]
    return "\n".join(lines)


def _run_parameters(source: str) -> tuple[dict, str]:
    """The names a parameters cell defines (it only assigns and prints) and what it prints."""
    names: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(source, "parameters", "exec"), names)
    return names, printed.getvalue()


def _calibration_fits(p: dict) -> int:
    """Fits of 03_calibration: SBC, the truth's fit, recovery, and N_SIM per design."""
    return p["N_SBC"] + 1 + p["N_SIM"] + p["N_SIM"] * len(p["DYADS"]) * len(p["SESSIONS"])


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {
        "01_quickstart.ipynb", "02_thesis_analyses.ipynb", "03_calibration.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name}: strip outputs before committing (jupyter nbconvert "
                "--clear-output --inplace)")


def test_notebook_03_states_its_cost_and_has_a_quick_mode():
    nb = nbformat.read(NOTEBOOKS[0].parent / "03_calibration.ipynb", as_version=4)
    i = _parameter_cell(nb)
    source = nb.cells[i].source
    assert QUICK_OFF.search(source) and "\nif QUICK:\n" in source
    # the count below covers every fit the notebook starts
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for call, n in {"calibration.sbc(": 1, "calibration.recovery(": 1,
                    "calibration.design_analysis(": 1, ".fit(": 1}.items():
        assert code.count(call) == n, call
    shipped, _ = _run_parameters(source)
    cost = "\n".join(c.source for c in nb.cells[:i] if c.cell_type == "markdown")
    assert f"**{_calibration_fits(shipped)} fits**" in cost
    for words in ("hour", "2 cores", "path=", "WORKDIR", "QUICK = True", "not results to read"):
        assert words in cost, words
    quick, printed = _run_parameters(_small(source))
    assert quick["QUICK"] and _calibration_fits(quick) <= 12
    assert max(quick["DRAWS"], quick["TUNE"]) <= 100
    assert "not for reading" in printed


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[_parameter_cell(nb)]
    cell.source = _small(cell.source)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits the environment
    # the quick mode, as for the documentation pages: every fit capped at 2 chains x 50
    # draws and sampled in the kernel's process (starting chain processes cost more than
    # such chains: 100 -> 68 s for the three notebooks); these runs check the code, the
    # model tests and the benchmarks check what the fits conclude
    monkeypatch.setenv("LAGNEST_QUICK", "1")
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    # what a reader sees is made for a reader: no raw xarray or empty-DataFrame reprs
    shown = [o.get("text", "") or o.get("data", {}).get("text/plain", "")
             for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    raw = [t for t in shown for mark in ("<xarray.", "Size: ", "Empty DataFrame")
           if mark in t]
    assert not raw, f"{path.name} prints a programmer's repr: {raw[0][:300]}"
