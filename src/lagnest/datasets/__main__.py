"""Rebuild the example files: ``python -m lagnest.datasets [--out DIR] [--check]``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from lagnest.datasets import example_files, write_example_files


def main(argv: list[str] | None = None) -> int:
    """Write the example files, or with ``--check`` compare fresh ones with the shipped.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; 1 when ``--check`` finds a difference.
    """
    parser = argparse.ArgumentParser(prog="python -m lagnest.datasets", description=__doc__)
    parser.add_argument("--out", help="folder to write to (default: the package data folder)")
    parser.add_argument(
        "--check", action="store_true", help="only check that the shipped files are up to date"
    )
    args = parser.parse_args(argv)
    if not args.check:
        for path in write_example_files(args.out):
            print(path)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        stale = [
            p.name
            for p in write_example_files(tmp)
            if not _shipped(p.name).exists() or p.read_bytes() != _shipped(p.name).read_bytes()
        ]
    for name in stale:
        print(f"differs from a fresh draw: {name}")
    return 1 if stale else 0


def _shipped(name: str) -> Path:
    """Shipped file called ``name``."""
    return example_files()["segments"].parent / name


if __name__ == "__main__":
    sys.exit(main())
