"""Relabel a calibration run folder with the run id the current code computes.

Used once (2026-11-30) after a change of `Sequences.fingerprint` (session and dyad tables
hashed as `==` compares them) changed every model's config id, and so the run id of the
calibration benchmarks, without changing any model. Before relabelling, the caller must
recompute task 0 with the current code and compare it with the stored task (truth,
posterior summaries and ranks identical): see `--check-dir`.

Usage: ``python benchmarks/relabel_run.py OLD_FOLDER --check-dir NEW_FOLDER_WITH_TASK_0``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COMPARED = ("truth", "mean", "sd", "quantiles", "ranks")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("--check-dir", type=Path, required=True)
    args = parser.parse_args()
    new_run = json.loads((args.check_dir / "run.json").read_text())
    old_task = json.loads((args.old / "task-00000.json").read_text())["result"]
    new_task = json.loads((args.check_dir / "task-00000.json").read_text())["result"]
    if set(new_task) != set(old_task):
        print("different task fields", file=sys.stderr)
        return 1
    differing = [k for k in new_task if k in COMPARED and new_task[k] != old_task[k]]
    if differing:
        print(f"task 0 differs in {differing}: not relabelled", file=sys.stderr)
        return 1
    old_run = json.loads((args.old / "run.json").read_text())
    changed = {k for k in new_run["config"] if new_run["config"][k] != old_run["config"].get(k)}
    if changed - {"model_id"}:
        print(f"run configs differ beyond the model id: {sorted(changed)}", file=sys.stderr)
        return 1
    files = sorted(args.old.glob("task-*.json"))
    for file in files:
        record = json.loads(file.read_text())
        record["run_id"] = new_run["run_id"]
        file.write_text(json.dumps(record, allow_nan=True))
    (args.old / "run.json").write_text(json.dumps(new_run, allow_nan=True))
    print(f"relabelled {len(files)} task files of {args.old} as run {new_run['run_id']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
