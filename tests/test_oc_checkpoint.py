"""benchmarks/operating_characteristics.py: a kept stage's fits packed between sessions."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from lagnest.calibration.engine import task_file_name

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture()
def oc_bench(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("oc_bench_under_test",
                                                  BENCH / "operating_characteristics.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(module, "KEPT", tmp_path / "kept")
    monkeypatch.setattr(module, "HERE", tmp_path)
    yield module
    sys.modules.pop(spec.name, None)


def _fake_run(folder: Path, methods: int, scenarios: int, studies: dict[int, int]) -> None:
    """A run folder as the engine writes it: method m has studies[m] studies done."""
    folder.mkdir(parents=True)
    config = {"methods": [f"m{m}" for m in range(methods)],
              "scenarios": {f"s{s}": "[]" for s in range(scenarios)}}
    (folder / "run.json").write_text(json.dumps({"run_id": "abc", "config": config}))
    for m in range(methods):
        for s in range(scenarios):
            for r in range(studies[m]):
                key = [m, s, 0, r]
                (folder / task_file_name(key)).write_text(json.dumps({"run_id": "abc", "key": key,
                                                       "result": {"ok": True, "r": r}}))


def test_checkpoint_round_trip_keeps_every_fit_and_never_overwrites(oc_bench):
    folder = oc_bench.RUNS / "oc-slowpriors-6x8x10"
    _fake_run(folder, methods=2, scenarios=2, studies={0: 3, 1: 2})
    before = {f.name: f.read_bytes() for f in folder.iterdir()}
    oc_bench.checkpoint("slowpriors", "6x8x10")
    packed = oc_bench.checkpoint_file("slowpriors", "6x8x10")
    assert packed.exists() and packed.parent == oc_bench.KEPT / "partial"
    # a fresh clone: no run folder; the run's next start restores every file as it was
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    oc_bench.restore_checkpoint("slowpriors", "6x8x10")
    assert {f.name: f.read_bytes() for f in folder.iterdir()} == before
    # a fit computed since the checkpoint is kept, not replaced by the packed one
    newer = folder / task_file_name((0, 0, 0, 0))
    newer.write_text("newer")
    oc_bench.restore_checkpoint("slowpriors", "6x8x10")
    assert newer.read_text() == "newer"


def test_finished_studies_counts_the_first_studies_every_method_has(oc_bench):
    folder = oc_bench.RUNS / "run"
    _fake_run(folder, methods=2, scenarios=3, studies={0: 4, 1: 2})
    assert oc_bench.finished_studies(folder) == (["m0", "m1"], 2)
    (folder / task_file_name((1, 2, 0, 1))).unlink()  # one scenario behind
    assert oc_bench.finished_studies(folder) == (["m0", "m1"], 1)


def test_checkpoint_refuses_a_stage_that_keeps_no_records_or_has_no_fits(oc_bench):
    with pytest.raises(SystemExit, match="does not keep"):
        oc_bench.checkpoint("priors", "6x8x10")
    with pytest.raises(SystemExit, match="no finished fits"):
        oc_bench.checkpoint("slowpriors", "6x8x10")
