"""The notebooks in notebooks/ execute (at reduced sizes) and are stored without outputs.

Each notebook has one cell tagged ``parameters`` (draws, chains, simulation counts). The
test replaces it with the small values below, runs every cell in a fresh kernel and fails
on the first error, so the notebooks never rot.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
SMALL = {
    "DRAWS": 60, "TUNE": 60, "CHAINS": 2, "N_PERM": 200, "N_SIM": 4, "N_SBC": 4,
    "N_DRAWS_CHECK": 30, "DYADS": [3, 5], "SESSIONS": [3],
    "HMM_FIT": {"draws": 60, "tune": 60, "chains": 2},
}


def _parameter_cell(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    return tagged[0]


def _small(source: str) -> str:
    """The parameters cell with every known name set to its small value."""
    lines = [source, "# reduced by tests/test_notebooks.py"]
    lines += [f"{name} = {value}" for name, value in SMALL.items() if name in source]
    return "\n".join(lines)


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


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[_parameter_cell(nb)]
    cell.source = _small(cell.source)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits the environment
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
