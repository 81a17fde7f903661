"""The hostile-input battery: cases, what each expects, running one case, judging it.

A :class:`Case` builds its input files in a fresh folder and returns the call to make: a
Python call (:class:`PyCall`, run in a forked child of a zygote process that has imported
lagnest once) or a command line (:class:`CliCall`, ``python -m lagnest.cli ...`` executed
in that child). The child runs under a memory cap and a timeout (see ``zygote.py``); what
happened is written as JSON and judged in the test process by :func:`judge` against the
case's :class:`Expect`: a typed error (a :class:`~lagnest.errors.LagnestDataError`
subclass, or an ``OSError`` naming the user's path), or a documented acceptance.
"""

from __future__ import annotations

import re
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Every case must finish in this many seconds (wall, building its files included).
TIMEOUT_SECONDS = 10.0
#: Peak resident memory allowed per case (the interpreter with lagnest imported included).
MAX_RSS_MB = 500.0
#: Bounds on an error message: total characters and characters per line.
MAX_MESSAGE_CHARS = 30_000
MAX_LINE_CHARS = 1_000
#: Warning categories a call may emit (everything else is a stray warning).
LAGNEST_WARNINGS = ("LagnestDataWarning", "ConvergenceWarning")


class Skip(Exception):
    """Raised by a builder when the case cannot be set up here (e.g. running as root)."""


@dataclass(frozen=True)
class PyCall:
    """A Python call: ``func(*args, **kwargs)``; ``file`` is the user path it names."""

    func: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    file: str | None = None


@dataclass(frozen=True)
class CliCall:
    """A command line: ``python -m lagnest.cli *args`` run in the case folder."""

    args: tuple[str, ...]


@dataclass(frozen=True)
class Expect:
    """What a case must end in.

    ``kind``: ``"error"`` (a `LagnestDataError` whose MRO holds ``error``), ``"oserror"``
    (an ``OSError`` of class ``error`` naming the user's path), ``"accept"`` (a return
    value passing ``check``, with a `LagnestDataWarning` matching ``warn`` when given) or
    ``"cli"`` (exit code ``exit`` and one line on stderr, no traceback).
    """

    kind: str
    error: str = "LagnestDataError"
    match: str | None = None
    names_file: bool = True
    warn: str | None = None
    check: Callable[[Any], Any] | None = None
    exit: int = 2


def error(cls: str = "LagnestDataError", match: str | None = None, names_file: bool = True):
    """Expect a typed `LagnestDataError` (subclass ``cls``) whose message matches ``match``."""
    return Expect("error", error=cls, match=match, names_file=names_file)


def oserror(cls: str = "OSError", match: str | None = None):
    """Expect an ``OSError`` (subclass ``cls``) naming the user's path."""
    return Expect("oserror", error=cls, match=match)


def accept(check: Callable[[Any], Any] | None = None, warn: str | None = None):
    """Expect a return value (``check(value)`` must not fail); ``warn``: a warning regex."""
    return Expect("accept", check=check, warn=warn)


def cli(exit: int = 2, match: str | None = None):
    """Expect the command to exit with ``exit`` and print one line on stderr."""
    return Expect("cli", exit=exit, match=match)


@dataclass(frozen=True)
class Case:
    """One hostile input: ``build(folder)`` writes files and returns the call."""

    id: str
    build: Callable[[Path], PyCall | CliCall]
    expect: Expect

    @property
    def entry(self) -> str:
        """The entry point family (the id up to the first ``/``)."""
        return self.id.split("/", 1)[0]


class Registry:
    """Cases in definition order; ``@registry.case(id, expect)`` registers a builder."""

    def __init__(self) -> None:
        self.cases: list[Case] = []

    def case(self, id: str, expect: Expect) -> Callable:
        def register(build: Callable[[Path], PyCall | CliCall]) -> Callable:
            if any(c.id == id for c in self.cases):
                raise ValueError(f"duplicate case id {id!r}")
            self.cases.append(Case(id, build, expect))
            return build

        return register


# ---------------------------------------------------------------------------- the child side
def _class_names(err: BaseException) -> list[str]:
    return [c.__name__ for c in type(err).__mro__]


def run_python(case: Case, call: PyCall) -> dict[str, Any]:
    """Make the call, recording the outcome, the warnings and the time it took."""
    out: dict[str, Any] = {"file": call.file}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            value = call.func(*call.args, **call.kwargs)
        except BaseException as err:  # the battery records whatever escapes
            out["seconds"] = time.perf_counter() - start
            out.update(
                status="raised",
                type=type(err).__name__,
                mro=_class_names(err),
                message=str(err),
                filename=getattr(err, "filename", None),
                traceback=traceback.format_exc()[-3000:],
            )
        else:
            out["seconds"] = time.perf_counter() - start
            out.update(status="returned", repr=repr(value)[:300])
            if case.expect.check is not None:
                try:
                    ok = case.expect.check(value)
                except Exception as err:  # a failed check is a failure of the case
                    out.update(status="check-failed", message=f"{type(err).__name__}: {err}")
                else:
                    if ok is False:
                        out.update(status="check-failed", message="check returned False")
    out["warnings"] = [
        {
            "category": w.category.__name__,
            "message": str(w.message)[:500],
            "filename": w.filename,
        }
        for w in caught
    ]
    return out


# ---------------------------------------------------------------------------- judging
def _message_problems(message: str) -> list[str]:
    bad = []
    if len(message) > MAX_MESSAGE_CHARS:
        bad.append(f"message of {len(message)} characters (bound {MAX_MESSAGE_CHARS})")
    longest = max((len(line) for line in message.splitlines()), default=0)
    if longest > MAX_LINE_CHARS:
        bad.append(f"message line of {longest} characters (bound {MAX_LINE_CHARS})")
    return bad


def judge(case: Case, result: dict[str, Any]) -> list[str]:
    """Why a case failed (empty: it passed)."""
    expect = case.expect
    if result.get("skipped"):
        return []
    if result.get("timeout"):
        return [f"timed out after {TIMEOUT_SECONDS:g} s"]
    failures = []
    if result.get("maxrss_mb", 0) > MAX_RSS_MB:
        failures.append(f"peak memory {result['maxrss_mb']:.0f} MB > {MAX_RSS_MB:g} MB")
    if result.get("wall", 0) > TIMEOUT_SECONDS:
        failures.append(f"took {result['wall']:.1f} s")
    if expect.kind == "cli":
        return failures + _judge_cli(expect, result)
    out = result.get("outcome")
    if out is None:
        died = f"the child died (signal {result.get('signal')}): {result.get('stderr')}"
        return [*failures, died]
    stray = [w for w in out["warnings"] if w["category"] not in LAGNEST_WARNINGS]
    failures += [f"stray {w['category']}: {w['message'][:200]}" for w in stray]
    status = out["status"]
    if expect.kind == "accept":
        if status != "returned":
            what = f"{out.get('type', '')}: {out.get('message', '')}"[:600]
            failures.append(f"expected acceptance, got {status} {what}")
        if expect.warn is not None:
            ours = [w for w in out["warnings"] if w["category"] == "LagnestDataWarning"]
            if not any(re.search(expect.warn, w["message"]) for w in ours):
                failures.append(f"expected a LagnestDataWarning matching {expect.warn!r}")
        return failures
    if status != "raised":
        return [*failures, f"expected {expect.error}, but the call {status}: {out.get('repr')}"]
    message = out["message"]
    if expect.kind == "oserror":
        if "OSError" not in out["mro"] or expect.error not in out["mro"]:
            failures.append(f"expected {expect.error}, got {out['type']}: {message[:300]}")
        elif out["file"] and out["file"] not in message and out.get("filename") != out["file"]:
            failures.append(f"the OSError does not name the path {out['file']!r}: {message}")
    else:
        if "LagnestDataError" not in out["mro"]:
            failures.append(f"untyped {out['type']}: {message[:300]}\n{out['traceback']}")
        elif expect.error not in out["mro"]:
            failures.append(f"expected {expect.error}, got {out['type']}: {message[:300]}")
        if expect.names_file and out["file"] and Path(out["file"]).name not in message:
            failures.append(f"the message does not name the file: {message[:300]}")
    failures += _message_problems(message)
    if expect.match and not re.search(expect.match, message):
        failures.append(f"message does not match {expect.match!r}: {message[:500]}")
    return failures


def _judge_cli(expect: Expect, result: dict[str, Any]) -> list[str]:
    failures = []
    stderr = result.get("stderr", "")
    if result.get("exit") != expect.exit:
        failures.append(f"exit code {result.get('exit')} (expected {expect.exit})")
    if "Traceback" in stderr:
        failures.append("traceback on stderr")
    lines = stderr.strip().splitlines()
    if expect.exit != 0 and len(lines) != 1:
        failures.append(f"{len(lines)} lines on stderr (expected one)")
    if stderr:
        failures += _message_problems(stderr)
    if expect.match and not re.search(expect.match, stderr):
        failures.append(f"stderr does not match {expect.match!r}")
    if failures:
        failures.append(f"stderr: {stderr[-800:]}")
    return failures


# ---------------------------------------------------------------------------- builders' helpers
def write(path: Path, data: str | bytes, encoding: str = "utf-8") -> str:
    """Write ``data`` to ``path``; return the path as text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_bytes(data.encode(encoding))
    else:
        path.write_bytes(data)
    return str(path)


def lines(*rows: Sequence[Any] | str, sep: str = ",") -> str:
    """CSV text from rows (strings are taken as whole lines)."""
    return "".join((r if isinstance(r, str) else sep.join(map(str, r))) + "\n" for r in rows)


#: The one registry every case module adds to.
REGISTRY = Registry()
case = REGISTRY.case
