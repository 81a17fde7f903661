"""File helpers shared by every reader and writer: path checks, TOML parsing, atomic writes.

A path problem (missing, a folder, no permission) is the ``OSError`` Python raises, naming
the path as the user gave it, never a temporary file. Writers go through
:func:`atomic_write`: a temporary file beside the target, renamed over it when complete,
so that a crash (even ``SIGKILL``) never leaves a half-written file; the temporary files a
killed writer leaves behind are removed by the next successful write of the same target.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import socket
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lagnest.errors import DataProblem, LagnestDataError

#: Marks lagnest's temporary files: ``.{name}.~lagnest-{host}-{pid}-{random}{suffix}``.
_TEMP_TAG = ".~lagnest-"


def check_readable(path: str | os.PathLike) -> Path:
    """The path of an existing, readable file; else the ``OSError`` naming ``path``.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        With ``filename`` the path as given.
    """
    with open(path, "rb"):
        pass  # open() raises the right OSError, naming the path as given
    return Path(path)


def _path_error(code: int, path: Path, detail: str | None = None) -> OSError:
    """An ``OSError`` of the class ``errno`` ``code`` maps to, naming ``path``."""
    message = os.strerror(code) + (f" ({detail})" if detail else "")
    return OSError(code, message, str(path))


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _temp_prefix(path: Path) -> str:
    return f".{path.name}{_TEMP_TAG}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files of ``path`` left by writers that died (e.g. killed).

    Only files written on this host by a process that no longer exists are removed: a
    writer still running keeps its file.

    Parameters
    ----------
    path : str or path
        The target file.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    path = Path(path)
    prefix = _temp_prefix(path)
    host = _host_tag()
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        parts = entry.name[len(prefix) :].split("-")
        if len(parts) < 3 or parts[0] != host or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _check_target(path: Path, parents: bool) -> None:
    """Raise the ``OSError`` a write to ``path`` would meet, naming ``path``."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    parent = path.parent
    if parent.is_dir():
        return
    if parent.exists() or any(p.exists() and not p.is_dir() for p in parent.parents):
        raise NotADirectoryError(
            errno.ENOTDIR, os.strerror(errno.ENOTDIR) + " (a parent is a file)", str(path)
        )
    if not parents:
        raise FileNotFoundError(
            errno.ENOENT,
            f"{os.strerror(errno.ENOENT)} (the folder {str(parent)!r} does not exist; "
            "pass parents=True to create it)",
            str(path),
        )
    parent.mkdir(parents=True, exist_ok=True)


def atomic_write(
    path: str | os.PathLike, write: Callable[[Path], None], *, parents: bool = False
) -> None:
    """Write through a temporary file in the same folder, then rename it over ``path``.

    A reader never sees a half-written file, and a failed write (an exception, or the
    process being killed) leaves any previous file untouched. The file is flushed to disk
    before the rename. ``write`` receives the temporary path. The file gets the usual mode
    (``0o666`` less the umask), not ``mkstemp``'s ``0o600``. After a successful write,
    temporary files of ``path`` left by killed writers are removed.

    Parameters
    ----------
    path : str or path
        The target file.
    write : callable
        Writes the content to the path it is given.
    parents : bool, default False
        Create missing parent folders (else a missing folder is a ``FileNotFoundError``).

    Raises
    ------
    OSError
        Naming ``path`` (never the temporary file): a missing folder, a target that is a
        folder, no permission, a full disk...
    """
    path = Path(path)
    _check_target(path, parents)
    prefix = f"{_temp_prefix(path)}{_host_tag()}-{os.getpid()}-"
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent)
    except OSError as err:
        raise _path_error(err.errno or errno.EIO, path, "cannot create a file there") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if (err.filename is not None and str(err.filename) == tmp_name) or tmp_name in str(err):
            detail = str(err.strerror or err).replace(tmp_name, str(path))
            raise _path_error(err.errno or errno.EIO, path, detail) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    remove_stale_temporaries(path)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- TOML
# Codebooks and model specs are TOML files, read into data with located errors.

_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def syntax_problem(err: tomllib.TOMLDecodeError, file: str) -> DataProblem:
    """A TOML syntax error as a problem with its line (and the column in the message)."""
    text = str(err)
    match = _POSITION.search(text)
    if match is None:
        return DataProblem(f"invalid TOML: {text}", file=file)
    return DataProblem(
        f"invalid TOML at column {match.group(2)}: {text[: match.start()]}",
        file=file,
        line=int(match.group(1)),
    )


def parse_toml(data: bytes, file: str, error: type[LagnestDataError]) -> dict[str, Any]:
    """Decode and parse a TOML document; every failure is an ``error`` naming ``file``.

    Parameters
    ----------
    data : bytes
        The file's content.
    file : str
        Its name, for messages.
    error : subclass of LagnestDataError
        The error raised (``CodebookError``, ``SpecError``).

    Returns
    -------
    dict
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(
            DataProblem(
                f"not UTF-8 text: {err.reason} (byte {err.start})",
                file=file,
                line=data[: err.start].count(b"\n") + 1,
                expected="a TOML file saved as UTF-8",
            )
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(syntax_problem(err, file)) from None
    except RecursionError:
        raise error(DataProblem("invalid TOML: nested too deeply", file=file)) from None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        raise error(DataProblem(f"invalid TOML: {err}", file=file)) from None
