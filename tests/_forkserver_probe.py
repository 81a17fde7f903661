"""Imported by fork-server workers in tests: imports nothing heavy itself."""

import sys


def loaded(name: str) -> bool:
    """Whether module ``name`` was already imported in this process."""
    return name in sys.modules
