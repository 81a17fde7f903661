"""An opt-in pytest plugin that records every model fit and every test's start and end.

Run the suite with it to find fits that repeat (the same graph on the same data, compiled
again) and to see how the two workers share the time::

    LAGNEST_AUDIT=/tmp/audit .venv/bin/python -m pytest -p tests._audit -n 2 \\
        --dist loadfile --no-loadscope-reorder
    .venv/bin/python -m tests._audit /tmp/audit

Each worker writes ``fits-<worker>.jsonl`` (one line per call of
:func:`lagnest.models._fit.sample`: the test, a key of the graph and its data, the sampler
settings, and whether the PyMC model object was new to the worker, so that its functions
were compiled, or reused with what an earlier fit compiled on it) and
``tests-<worker>.jsonl`` (one line per test: start and end times). The report lists graphs
compiled more than once (apart: on two workers, which cannot share a compiled function)
and each worker's busy and idle time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import weakref
from collections import defaultdict
from pathlib import Path

import numpy as np

_CURRENT = {"test": None}
#: PyMC model objects sampled before in this worker (their functions are compiled).
_SAMPLED: weakref.WeakSet = weakref.WeakSet()


def _out() -> Path | None:
    folder = os.environ.get("LAGNEST_AUDIT")
    return Path(folder) if folder else None


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _write(kind: str, row: dict) -> None:
    folder = _out()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{kind}-{_worker()}.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


def graph_key(model) -> str:
    """A digest of a PyMC model's variables, their shapes and every data value it holds."""
    h = hashlib.sha1()
    for name, value in sorted(model.initial_point().items()):
        h.update(f"{name}{np.shape(value)}".encode())
    for var in model.observed_RVs + list(model.potentials):
        h.update(var.name.encode())
    for name, var in sorted(model.named_vars.items()):
        get = getattr(var, "get_value", None)
        if get is not None:
            h.update(name.encode())
            h.update(np.ascontiguousarray(get()).tobytes())
    for var in model.observed_RVs:
        data = model.rvs_to_values.get(var)
        h.update(repr(getattr(data, "data", "")).encode()[:10_000])
    h.update(str(model.logp()).encode())
    return h.hexdigest()[:16]


def pytest_configure(config):
    if _out() is None:
        return
    from lagnest.models import _fit

    original = _fit.sample

    def recording(model, **kwargs):
        settings = {k: kwargs.get(k) for k in ("draws", "tune", "chains", "seed", "sampler",
                                               "target_accept")}
        compiled = model not in _SAMPLED
        _SAMPLED.add(model)
        start = time.time()
        out = original(model, **kwargs)
        _write("fits", {"test": _CURRENT["test"], "graph": graph_key(model),
                        "settings": settings, "seconds": time.time() - start,
                        "compiled": compiled, "worker": _worker()})
        return out

    _fit.sample = recording


def pytest_runtest_logstart(nodeid, location):
    _CURRENT["test"] = nodeid
    _write("tests", {"test": nodeid, "event": "start", "time": time.time()})


def pytest_runtest_logfinish(nodeid, location):
    _write("tests", {"test": nodeid, "event": "end", "time": time.time()})


def report(folder: Path) -> str:
    """Repeated graphs and the workers' busy time, from the files of one run."""
    lines = []
    fits = [json.loads(line) for p in sorted(folder.glob("fits-*.jsonl"))
            for line in p.read_text().splitlines()]
    by_graph = defaultdict(list)
    for row in fits:
        by_graph[row["graph"]].append(row)
    # runs recorded before the compiled flag count every fit as a compilation
    compiles = {g: [r for r in rows if r.get("compiled", True)] for g, rows in by_graph.items()}
    repeated = {g: rows for g, rows in compiles.items() if len(rows) > 1}
    in_one = {g: rows for g, rows in repeated.items()
              if len({r.get("worker") for r in rows}) < len(rows)}
    reused = sum(1 for row in fits if not row.get("compiled", True))
    lines.append(f"{len(fits)} fits of {len(by_graph)} graphs, {len(fits) - reused} "
                 f"compilations ({reused} fits reused a compiled model); "
                 f"{len(repeated)} graphs compiled more than once, {len(in_one)} of them "
                 "more than once in one worker")
    for rows in sorted(repeated.values(), key=lambda r: -sum(x["seconds"] for x in r)):
        same = len({json.dumps(r["settings"], sort_keys=True) for r in rows}) < len(rows)
        lines.append(f"  {len(rows)} compilations, {sum(r['seconds'] for r in rows):.1f} s"
                     f"{' (identical settings)' if same else ''}:")
        lines += [f"    [{r.get('worker', '?')}] {r['test']} {r['settings']} "
                  f"{r['seconds']:.1f} s" for r in rows]
    for path in sorted(folder.glob("tests-*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        times = [r["time"] for r in rows]
        starts = {r["test"]: r["time"] for r in rows if r["event"] == "start"}
        busy = sum(r["time"] - starts[r["test"]] for r in rows if r["event"] == "end")
        lines.append(f"{path.stem}: first start {min(times):.0f}, last end {max(times):.0f}, "
                     f"span {max(times) - min(times):.0f} s, in tests {busy:.0f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(Path(sys.argv[1])))
