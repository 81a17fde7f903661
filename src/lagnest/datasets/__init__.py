"""The embedded example corpus: simulated sessions shipped as CSV files, with their truth.

Two examples, both drawn by :mod:`lagnest.simulate` with a documented seed (see
``data/README.md``, the data card):

- ``"thesis"``: :func:`lagnest.simulate.thesis_like` (6 dyads, 6-10 sessions, ten
  5-minute segments per session);
- ``"turns"``: :func:`lagnest.simulate.turns` cut to 3 dyads x 3 sessions (~300 speaking
  turns per session) so that the files stay small.

The files are also the reference example of lagnest's input format: a long segment table
(one row per segment, one 0/1 column per indicator code), a session table (questionnaire
items, subscales, 3RS globals) and a dyad table. Rebuild them byte-identically with
``python -m lagnest.datasets``.

Examples
--------
>>> from lagnest import datasets
>>> seqs = datasets.load_example()
>>> seqs.n_dyads
6
>>> truth = datasets.load_truth()
>>> truth.seed == datasets.EXAMPLES["thesis"].seed
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from lagnest.data.sequences import Sequences
from lagnest.io.table import read_table, write_table
from lagnest.simulate import CODEBOOK, PRESETS, Truth, simulate

__all__ = [
    "CODEBOOK",
    "EXAMPLES",
    "Example",
    "example_files",
    "example_paths",
    "load_example",
    "load_truth",
    "simulate_example",
    "write_example_files",
]


@dataclass(frozen=True)
class Example:
    """How a shipped example is drawn: a preset, a seed and parameter overrides.

    Parameters
    ----------
    preset : str
        Key of :data:`lagnest.simulate.PRESETS`.
    seed : int
        Seed given to :func:`lagnest.simulate.simulate`.
    overrides : dict
        Parameter overrides (see :meth:`lagnest.simulate.SimulationParams.replace`).
    """

    preset: str
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)


EXAMPLES: dict[str, Example] = {
    "thesis": Example("thesis", 2025),
    "turns": Example("turns", 2025, {"n_dyads": 3, "sessions_per_dyad": (3, 3)}),
}

_FILES = ("segments", "sessions", "dyads", "truth")


def _kind(kind: str) -> Example:
    """The :class:`Example` of ``kind`` (a clear error for unknown kinds)."""
    if kind not in EXAMPLES:
        raise ValueError(f"unknown example {kind!r}: expected one of {sorted(EXAMPLES)}")
    return EXAMPLES[kind]


def _file_names(kind: str) -> dict[str, str]:
    """File names of the example ``kind``: ``<kind>_segments.csv`` etc."""
    _kind(kind)
    return {name: f"{kind}_{name}.{'json' if name == 'truth' else 'csv'}" for name in _FILES}


def example_files(kind: str = "thesis") -> dict[str, Path]:
    """Paths of the shipped files of example ``kind``.

    Parameters
    ----------
    kind : {"thesis", "turns"}

    Returns
    -------
    dict of str to Path
        Keys ``segments``, ``sessions``, ``dyads`` (CSV) and ``truth`` (JSON).
    """
    folder = Path(str(resources.files("lagnest") / "datasets" / "data"))
    return {name: folder / file for name, file in _file_names(kind).items()}


def example_paths(kind: str = "thesis") -> tuple[Path, Path]:
    """Paths of the segment table and the session table of example ``kind``.

    Parameters
    ----------
    kind : {"thesis", "turns"}

    Returns
    -------
    segments_csv, sessions_csv : Path

    Examples
    --------
    >>> from lagnest.datasets import example_paths
    >>> from lagnest.io import read_table
    >>> segs, sess = example_paths()
    >>> seqs = read_table(segs, sessions=sess, codebook="3rs_2015+mia+tms+seq")
    >>> seqs.n_dyads
    6
    """
    files = example_files(kind)
    return files["segments"], files["sessions"]


def load_example(kind: str = "thesis") -> Sequences:
    """Read the shipped example corpus ``kind`` through :func:`lagnest.read_table`.

    Parameters
    ----------
    kind : {"thesis", "turns"}

    Returns
    -------
    Sequences
        Equal to the simulation it was written from (:func:`simulate_example`).
    """
    files = example_files(kind)
    return read_table(
        files["segments"], codebook=CODEBOOK, sessions=files["sessions"], dyads=files["dyads"]
    )


def load_truth(kind: str = "thesis") -> Truth:
    """The :class:`~lagnest.simulate.Truth` behind example ``kind``.

    Parameters
    ----------
    kind : {"thesis", "turns"}

    Returns
    -------
    Truth
    """
    return Truth.from_json(example_files(kind)["truth"])


def simulate_example(kind: str = "thesis") -> tuple[Sequences, Truth]:
    """Draw example ``kind`` afresh with its documented preset, seed and overrides.

    Parameters
    ----------
    kind : {"thesis", "turns"}

    Returns
    -------
    seqs : Sequences
    truth : Truth
    """
    ex = _kind(kind)
    return simulate(PRESETS[ex.preset](**ex.overrides), seed=ex.seed)


def write_example_files(
    folder: str | os.PathLike | None = None, kinds: tuple[str, ...] = tuple(EXAMPLES)
) -> list[Path]:
    """(Re)write the example files: simulate, then write tables and truth.

    Parameters
    ----------
    folder : str or path, optional
        Where to write; default the package's ``datasets/data`` folder.
    kinds : tuple of str
        Which examples.

    Returns
    -------
    list of Path
        The files written. The same lagnest version writes the same bytes.
    """
    out = []
    for kind in kinds:
        names = _file_names(kind)
        target = Path(folder) if folder is not None else example_files(kind)["segments"].parent
        paths = {name: target / file for name, file in names.items()}
        seqs, truth = simulate_example(kind)
        write_table(seqs, paths["segments"], sessions=paths["sessions"])
        seqs.dyads.drop(columns=["n_sessions", "n_segments"]).to_csv(
            paths["dyads"], lineterminator="\n"
        )
        truth.to_json(paths["truth"])
        for name in _FILES:
            paths[name].chmod(0o644)  # write_table's temporary files are created 0600
            out.append(paths[name])
    return out
