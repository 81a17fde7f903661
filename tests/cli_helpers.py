"""Helpers of the command-line tests: run ``main`` and check one-line failures."""

from __future__ import annotations

import dataclasses

from lagnest.cli import main
from lagnest.models.result import config_id

TINY_SPEC = """\
description = "MIA4 at t -> rupture at t+1 (a tiny fit for tests)"

[model]
type = "TransitionModel"
given = "MIA4"
target = "rupture"

[fit]
draws = 20
tune = 20
chains = 2
cores = 1
seed = 3
"""


def run(argv):
    """``main(argv)``'s exit code, argparse's exits included."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def fails(capsys, argv, fragment):
    """``argv`` exits 2 with one line on stderr naming the problem, no traceback."""
    code = run(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, (code, captured.err)
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("lagnest") and fragment in lines[0], lines[0]
    assert "Traceback" not in captured.err
    return lines[0]


def edited(result, path, **changes):
    """Save ``result`` with its config changed (the config id recomputed)."""
    config = {**result.config, **changes}
    config["id"] = config_id(config)
    dataclasses.replace(result, config=config).save(path)
    return path
