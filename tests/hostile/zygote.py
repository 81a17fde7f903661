"""A fork server for the battery: import lagnest once, run each case in a forked child.

Protocol: one JSON request per line on stdin (``{"id": ..., "dir": ...}``), one JSON result
per line on stdout. Each case runs in a child forked from this single-threaded process,
with its own process group, stdout/stderr redirected to files in the case folder, an
address-space cap (``RLIMIT_AS``) and a CPU-time cap; the parent kills the group after
:data:`~tests.hostile.harness.TIMEOUT_SECONDS` and reads the child's peak resident memory
from ``wait4``. A command-line case runs the command's ``main`` in the child
(:func:`_run_cli`).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
import warnings
from pathlib import Path

#: Address space a case may add to what the interpreter has mapped after the imports.
AS_HEADROOM = 2 << 30
_POLL = 0.005


def _vm_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(case, folder: Path, vm_cap: int) -> None:
    """Runs in the forked child; never returns."""
    from tests.hostile.harness import CliCall, Skip, run_python

    code = 0
    try:
        os.setpgid(0, 0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        out = os.open(folder / "stdout.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(folder / "stderr.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        os.chdir(folder)
        try:
            call = case.build(folder)
        except Skip as why:
            (folder / "result.json").write_text(json.dumps({"skipped": str(why)}))
            os._exit(0)
        resource.setrlimit(resource.RLIMIT_AS, (vm_cap, vm_cap))
        resource.setrlimit(resource.RLIMIT_CPU, (30, 30))
        if isinstance(call, CliCall):
            code = _run_cli(call.args)
            return
        outcome = run_python(case, call)
        (folder / "result.json").write_text(json.dumps({"outcome": outcome}, default=str))
    except BaseException:
        import traceback

        (folder / "harness_error.txt").write_text(traceback.format_exc())
        code = 3
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run_cli(args: tuple[str, ...]) -> int:
    """``lagnest *args`` in this (forked) process, as ``python -m lagnest.cli`` would end.

    The zygote has imported lagnest already, so the child runs the command's ``main``
    instead of starting an interpreter (about 1.5 s per case saved). Its end is the
    interpreter's: the code ``main`` returns or ``SystemExit`` carries (argparse's usage
    errors), and an uncaught exception's traceback on stderr with exit code 1.
    """
    import traceback

    from lagnest.cli import main

    sys.argv = ["lagnest", *args]
    try:
        return int(main(list(args)) or 0)
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return int(stop.code or 0)
        print(stop.code, file=sys.stderr)
        return 1
    except Exception:  # what the interpreter would print
        traceback.print_exc()
        return 1


def run_one(case, folder: Path, vm_cap: int, timeout: float) -> dict:
    """Fork, run ``case`` in ``folder``, wait (killing it after ``timeout``); the result."""
    folder.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(case, folder, vm_cap)
    timed_out = False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > timeout:
            timed_out = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status, usage = os.wait4(pid, 0)
            break
        time.sleep(_POLL)
    wall = time.monotonic() - start
    result: dict = {
        "id": case.id,
        "wall": wall,
        "timeout": timed_out,
        "maxrss_mb": usage.ru_maxrss / 1024,
        "exit": os.waitstatus_to_exitcode(status),
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    }
    stored = folder / "result.json"
    if stored.exists():
        result.update(json.loads(stored.read_text()))
    for name in ("stderr", "stdout"):
        path = folder / f"{name}.txt"
        result[name] = path.read_text(errors="replace")[-20_000:] if path.exists() else ""
    broken = folder / "harness_error.txt"
    if broken.exists():
        result["harness_error"] = broken.read_text()
    return result


def main() -> None:
    """Serve requests until stdin closes."""
    warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
    from tests.hostile.cases import all_cases
    from tests.hostile.harness import TIMEOUT_SECONDS

    cases = {c.id: c for c in all_cases()}
    vm_cap = _vm_bytes() + AS_HEADROOM
    protocol = sys.stdout
    sys.stdout = sys.stderr  # nothing but results on the protocol stream
    protocol.write(json.dumps({"ready": True, "vm_mb": vm_cap / 2**20}) + "\n")
    protocol.flush()
    for line in sys.stdin:
        request = json.loads(line)
        result = run_one(cases[request["id"]], Path(request["dir"]), vm_cap, TIMEOUT_SECONDS)
        protocol.write(json.dumps(result, default=str) + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
