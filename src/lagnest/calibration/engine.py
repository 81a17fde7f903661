"""The one execution engine of the many-fit loops: local processes or dask.distributed.

:func:`run_tasks` runs a task function over task keys and returns the JSON-ready result of
each, in key order. It is the only place where calibration, recovery and design analysis
meet parallelism:

* **Local processes by default.** ``n_jobs=1`` runs the tasks in this process, one after
  the other (the default in the quick mode, ``LAGNEST_QUICK``); ``n_jobs > 1`` (default:
  the number of CPUs, at most the number of tasks) uses
  a :class:`concurrent.futures.ProcessPoolExecutor` on the ``"forkserver"`` start method.
  Never ``fork``: once numba's threading layer (or PyTensor) has started threads in the
  parent, a forked child may deadlock (Python 3.12 warns about it).
* **dask.distributed when the user passes** ``client=`` (a
  :class:`distributed.Client`): the payload is scattered once to every worker, the tasks
  are submitted with ``client.submit`` and collected with ``as_completed``. dask is the
  scheduler; there is no home-made one. Importing this module does not import dask.
* **Seeds from the key.** Task ``key`` gets ``numpy.random.SeedSequence([seed, *key])``
  (built in the worker from plain integers), so a result depends on the run seed and the
  task's key only, never on scheduling, worker count or order of completion.
* **Streamed to disk, resumable.** With ``path=``, the parent writes one small JSON file
  per finished task (``task-<key>.json``, through :func:`lagnest._files.atomic_write`, so a
  killed run never leaves a half-written file) holding the run id, the key and the
  result. A rerun with the same ``path`` loads the files whose run id matches and computes
  only the missing keys; a folder holding another run's files is refused
  (:class:`RunMismatchError`) rather than mixed or overwritten. No pickle on disk.

**Compile caches and many workers (the decision).** Two on-disk caches matter: numba's
cache of lagnest's own kernels (``cache=True``) and PyTensor's compiled graphs (its
compile directory, guarded by a file lock, plus numba's cache of the generated code).
Both are written through temporary files and renames, so concurrent *readers* are safe,
but many workers starting cold at once would all compile the same functions, contend for
PyTensor's lock and race to write identical cache entries. So before any worker starts,
the caller's ``warm`` callable runs **once in the parent** (the calibration functions pass
a short prior draw and a short fit of the same model, which JIT-compiles and caches every
function the tasks use); local workers and the workers of a ``LocalCluster`` on this
machine then only read warm caches. The warm-up is skipped when every task is already on
disk or when running in-process. On a remote cluster each machine keeps its own caches:
its workers compile on their first task (give each worker its own ``NUMBA_CACHE_DIR`` if
they share a network home directory). Each worker process also keeps the models it rebuilt
(:func:`worker_model`, keyed by config id), so a worker compiles a design once, not once
per task.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from lagnest._files import atomic_write
from lagnest._warnings import warn_user

__all__ = ["RunMismatchError", "TaskFn", "run_id", "run_tasks", "task_file_name", "task_seed",
           "worker_model"]

#: Signature of a task: ``task(payload, key, seed_sequence) -> JSON-ready dict``.
TaskFn = Callable[[Any, tuple[int, ...], np.random.SeedSequence], dict[str, Any]]

#: Start method of local worker processes (never "fork", see the module docstring).
START_METHOD = "forkserver"

_WORKER_PAYLOAD: Any = None
_WORKER_MODELS: dict[str, Any] = {}


class RunMismatchError(ValueError):
    """A results folder holds files of another run (other model, settings or seed)."""


def run_id(config: Mapping[str, Any]) -> str:
    """Hash of everything that shapes a run's task results (JSON-ready ``config``)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def task_seed(seed: int, key: Sequence[int]) -> np.random.SeedSequence:
    """The seed sequence of task ``key`` in a run seeded with ``seed``."""
    return np.random.SeedSequence([int(seed), *(int(k) for k in key)])


def worker_model(config: Mapping[str, Any], fit_data: Any) -> Any:
    """The model of ``config`` rebuilt on ``fit_data``, once per process (cached by id).

    Parameters
    ----------
    config : mapping
        A model's ``config`` (with its ``id``).
    fit_data : xarray.Dataset
        The model's ``fit_data()``.

    Returns
    -------
    BayesianModel
        The same object on every call with the same config id in this process, so its
        compiled graph is reused by every task the process runs.
    """
    from lagnest.models.base import BayesianModel

    key = str(config["id"])
    if key not in _WORKER_MODELS:
        _WORKER_MODELS[key] = BayesianModel.from_design(config, fit_data)
    return _WORKER_MODELS[key]


# =========================================================================== files


def task_file_name(key: Sequence[int]) -> str:
    """The name of the file a run folder holds for task ``key`` (``task-00001-00000.json``)."""
    return "task-" + "-".join(f"{int(k):05d}" for k in key) + ".json"


def _read_done(path: Path, rid: str, keys: Sequence[tuple[int, ...]]) -> dict[tuple, dict]:
    """Results already on disk for this run; raise if the folder holds another run."""
    done: dict[tuple, dict] = {}
    manifest = path / "run.json"
    if manifest.exists():
        other = json.loads(manifest.read_text())
        if other.get("run_id") != rid:
            raise RunMismatchError(
                f"{path} holds results of another run (run id {other.get('run_id')!r}, this "
                f"run {rid!r}: a different model, data, settings or seed); use another path "
                "or delete the folder"
            )
    for key in keys:
        file = path / task_file_name(key)
        if not file.exists():
            continue
        record = json.loads(file.read_text())
        if record.get("run_id") != rid or tuple(record.get("key", ())) != tuple(key):
            raise RunMismatchError(
                f"{file} belongs to another run (run id {record.get('run_id')!r}, key "
                f"{record.get('key')}); this run is {rid!r}: use another path"
            )
        done[tuple(key)] = record["result"]
    return done


def _write_json(file: Path, data: Mapping[str, Any]) -> None:
    """Write one run file; the run folder (``path`` of :func:`run_tasks`) is created."""
    text = json.dumps(data, allow_nan=True)
    atomic_write(file, lambda tmp: tmp.write_text(text), parents=True)


# =========================================================================== workers


def _init_worker(blob: bytes, driver: int) -> None:
    """Process-pool initializer: unpickle the payload once per worker; end with the run."""
    global _WORKER_PAYLOAD
    _WORKER_PAYLOAD = pickle.loads(blob)
    _exit_with_driver(driver)


#: Seconds between a worker's checks that the process that runs the study is still there.
DRIVER_CHECK_SECONDS = 2.0


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and, where ``/proc`` says, is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:  # no /proc (or the process just ended: the next check says so)
        return True


def _exit_with_driver(driver: int, interval: float = DRIVER_CHECK_SECONDS) -> None:
    """End this worker process when the driver (the process running the study) is gone.

    A driver killed outright (``kill -9``, a closed terminal) runs no cleanup, and the
    fork server its workers come from outlives it: they would fit on for nobody, to the
    end of their tasks and beyond. A daemon thread checks every ``interval`` seconds.
    """
    import threading
    import time

    def watch() -> None:
        while _running(driver):
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="lagnest-driver-watch", daemon=True).start()


def _pool_task(task: TaskFn, key: tuple[int, ...], seed: int) -> tuple[tuple, dict]:
    return key, task(_WORKER_PAYLOAD, key, task_seed(seed, key))


def _dask_task(task: TaskFn, payload: Any, key: tuple[int, ...], seed: int) -> tuple[tuple, dict]:
    return key, task(payload, key, task_seed(seed, key))


def _dumps(payload: Any) -> bytes:
    """Pickle the payload with cloudpickle (lambdas and local model factories survive)."""
    import cloudpickle

    try:
        return cloudpickle.dumps(payload)
    except Exception as err:
        raise TypeError(
            f"the task payload cannot be sent to worker processes ({err}); pass picklable "
            "arguments or run with n_jobs=1"
        ) from err


def _progress(total: int, enabled: bool, desc: str) -> Any:
    """A tqdm bar when enabled and tqdm is installed (it is optional), else None."""
    if not enabled or total == 0:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return tqdm(total=total, desc=desc, unit="fit")


def _in_process(task: TaskFn, payload: Any, keys: Iterable[tuple], seed: int) -> Iterator:
    for key in keys:
        yield key, task(payload, key, task_seed(seed, key))


def _local(task: TaskFn, payload: Any, keys: list[tuple], seed: int, n_jobs: int) -> Iterator:
    from lagnest.models._fit import preload_forkserver

    preload_forkserver()  # the fork server (shared with parallel chains) imports PyMC once
    ctx = multiprocessing.get_context(START_METHOD)
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(_dumps(payload), os.getpid())) as pool:
        futures = [pool.submit(_pool_task, task, key, seed) for key in keys]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def _dask(task: TaskFn, payload: Any, keys: list[tuple], seed: int, client: Any,
          rid: str) -> Iterator:
    from distributed import as_completed as dask_completed

    shared = client.scatter(payload, broadcast=True)
    futures = [
        client.submit(_dask_task, task, shared, key, seed, pure=False,
                      key=f"lagnest-{rid}-{'-'.join(map(str, key))}")
        for key in keys
    ]
    try:
        for fut in dask_completed(futures):
            yield fut.result()
    finally:
        client.cancel(futures)


def _unguarded_fallback(n_workers: int, n_tasks: int) -> tuple[int, str]:
    """Workers and backend: in this process, with a warning, under an unguarded script.

    Worker processes import the main module again; a script without an ``if __name__ ==
    "__main__":`` guard would rerun its top level (this very call included) in each of
    them and the pool would break.
    """
    from lagnest.models._fit import unguarded_main_script

    script = unguarded_main_script()
    if script is None:
        return n_workers, "processes"
    warn_user(
        f"running the {n_tasks} fits in this process, one after the other (n_jobs=1): "
        f"the script {Path(script).name} has no 'if __name__ == \"__main__\":' guard, so "
        f"each of the {n_workers} worker processes would run it again; put the script's "
        "code under that guard for parallel workers"
    )
    return 1, "in-process"


def run_tasks(
    task: TaskFn,
    payload: Any,
    keys: Sequence[Sequence[int]],
    *,
    seed: int,
    config: Mapping[str, Any],
    path: str | os.PathLike | None = None,
    client: Any = None,
    n_jobs: int | None = None,
    progress: bool = True,
    desc: str = "fits",
    warm: Callable[[], None] | None = None,
) -> tuple[dict[tuple, dict], dict[str, Any]]:
    """Run ``task`` for every key; stream results to ``path``; skip keys already there.

    Parameters
    ----------
    task : callable
        A module-level function ``task(payload, key, seed_sequence) -> dict`` (JSON-ready).
    payload : object
        What every task needs (sent once to each worker; pickled with cloudpickle).
    keys : sequence of tuples of int
        Task keys (e.g. ``(i,)``, or ``(dyads, sessions, segments, replicate)``).
    seed : int
        Run seed; task ``key`` gets ``SeedSequence([seed, *key])``.
    config : mapping
        JSON-ready description of everything that shapes the results (hashed into the
        run id that the files on disk must match).
    path : path-like, optional
        Folder for the per-task files (created); None keeps results in memory only.
    client : distributed.Client, optional
        Run on this dask cluster instead of local processes.
    n_jobs : int, optional
        Local worker processes (default: CPUs, at most the number of tasks; 1 in the quick
        mode, ``LAGNEST_QUICK``, whose short fits cost less than starting workers); 1 runs
        in this process. Ignored with ``client``. Under a main script without an ``if
        __name__ == "__main__":`` guard (which every worker would run again) the tasks run
        in this process, with a warning saying so.
    progress : bool, default True
        Show a tqdm progress bar (when tqdm is installed).
    desc : str
        Label of the progress bar.
    warm : callable, optional
        Called once in this process before workers start (see the module docstring).

    Returns
    -------
    results : dict
        Key to the task's result, for every key.
    info : dict
        ``run_id``, ``computed`` (keys computed now), ``resumed`` (keys read from disk),
        ``backend``, ``n_workers``.
    """
    keys = [tuple(int(k) for k in key) for key in keys]
    if len(set(keys)) != len(keys):
        raise ValueError("task keys must be distinct")
    rid = run_id(config)
    folder = Path(path) if path is not None else None
    done: dict[tuple, dict] = {}
    if folder is not None:
        done = _read_done(folder, rid, keys)
        _write_json(folder / "run.json", {"run_id": rid, "config": dict(config)})
    todo = [key for key in keys if key not in done]
    if client is not None:
        backend = "dask"
        n_workers = len(client.scheduler_info().get("workers", {}))
    else:
        from lagnest.models._fit import quick_mode

        cpus = os.cpu_count() or 1
        if n_jobs is None and quick_mode():  # a smoke run: its fits in turn, as its chains
            n_jobs = 1
        n_workers = max(1, min(int(n_jobs) if n_jobs is not None else cpus, len(todo) or 1))
        backend = "in-process" if n_workers == 1 else "processes"
        if backend == "processes" and todo:
            n_workers, backend = _unguarded_fallback(n_workers, len(todo))
    info = {"run_id": rid, "computed": todo, "resumed": sorted(done), "backend": backend,
            "n_workers": n_workers}
    if not todo:
        return done, info
    if warm is not None and backend != "in-process":
        warm()
    if backend == "dask":
        stream = _dask(task, payload, todo, seed, client, rid)
    elif backend == "processes":
        stream = _local(task, payload, todo, seed, n_workers)
    else:
        stream = _in_process(task, payload, todo, seed)
    bar = _progress(len(todo), progress, desc)
    try:
        for key, result in stream:
            done[key] = result
            if folder is not None:
                _write_json(folder / task_file_name(key),
                            {"run_id": rid, "key": list(key), "result": result})
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return done, info
