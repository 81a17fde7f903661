"""Run battery cases on a few zygote processes in parallel (see ``zygote.py``)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Environment of the zygotes: one thread per library (CI has two cores, two zygotes).
ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def default_jobs() -> int:
    """Zygotes to run: the cores available, at most 2 (what CI has)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


def _start(log: Path) -> subprocess.Popen:
    env = {**os.environ, **ENV}
    env.pop("PYTHONWARNINGS", None)
    with log.open("w") as err:  # the child holds its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.zygote"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            bufsize=1,
        )
    ready = proc.stdout.readline()
    if not ready:
        proc.stdin.close()
        proc.stdout.close()
        proc.wait(timeout=30)
        raise RuntimeError(f"the battery's zygote did not start: {log.read_text()[-3000:]}")
    return proc


def run(ids: Iterable[str], base: Path, jobs: int | None = None) -> dict[str, dict]:
    """Run the cases ``ids`` in folders under ``base``; their results by id."""
    ids = list(ids)
    base.mkdir(parents=True, exist_ok=True)
    todo: queue.Queue[str] = queue.Queue()
    for i in ids:
        todo.put(i)
    results: dict[str, dict] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()
    jobs = min(jobs or default_jobs(), max(1, len(ids)))

    def serve(k: int) -> None:
        try:
            proc = _start(base / f"zygote{k}.log")
        except BaseException as err:  # reported below
            errors.append(err)
            return
        try:
            while True:
                try:
                    case_id = todo.get_nowait()
                except queue.Empty:
                    break
                folder = base / case_id.replace("/", "__")
                proc.stdin.write(json.dumps({"id": case_id, "dir": str(folder)}) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"zygote {k} died on {case_id}")
                with lock:
                    results[case_id] = json.loads(line)
        except BaseException as err:  # reported below
            errors.append(err)
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)
            proc.stdout.close()

    threads = [threading.Thread(target=serve, args=(k,)) for k in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
