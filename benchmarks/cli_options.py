"""Shared by benchmark scripts: the options a run changed from its parser's defaults.

A run with other settings names them in its result's command line, its results' stem or
its resumable run folder, so that runs with different settings never share a file.
"""

from __future__ import annotations

import argparse
from typing import Any


def changed_options(parser: argparse.ArgumentParser, args: argparse.Namespace,
                    names: tuple[str, ...]) -> list[tuple[str, Any]]:
    """``(name, value)`` of each option in ``names`` whose value is not the parser's default."""
    return [(name, getattr(args, name)) for name in names
            if getattr(args, name) != parser.get_default(name)]


def as_flags(changed: list[tuple[str, Any]]) -> str:
    """The command-line flags of ``changed`` options, e.g. ``--draws 500 --target-accept 0.9``."""
    return " ".join(f"--{name.replace('_', '-')} {value}" for name, value in changed)


def name_parts(changed: list[tuple[str, Any]]) -> list[str]:
    """A name part per changed option: a word stands for itself, a number gets its name.

    ``[("start", "mhmmbayes"), ("tune", 2000)]`` gives ``["mhmmbayes", "tune2000"]``.
    """
    return [value if isinstance(value, str) else f"{name.replace('_', '')}{value}"
            for name, value in changed]
