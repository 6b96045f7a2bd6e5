"""Atomic files: built under a temporary name beside the target and renamed into place whole.

A crash, Ctrl-C or kill never leaves a half-written output, and an existing output stays untouched
until the new one is whole; the temporary files a killed run leaves are removed by the next write
of the same target. Also the JSON and text outputs, written so.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scoring.errors import OutputFileError

__all__ = [
    "STALE_SECONDS",
    "atomic_path",
    "json_default",
    "output_errors",
    "remove_stale_temporaries",
    "write_json",
    "write_text",
]

STALE_SECONDS = 3600  # a temporary file unchanged this long belongs to no running write
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def remove_stale_temporaries(
    *paths: str | Path | None, max_age: float = STALE_SECONDS
) -> list[str]:
    """Remove the temporary files that interrupted earlier writes of ``paths`` left beside them.

    A temporary file of a target (``.NAME.PID.XXXXXXXX.tmp``) is stale when the process that
    wrote it no longer runs, or when it has not changed for ``max_age`` seconds. Files of other
    targets are left alone; None paths are skipped. Returns one note per target that had any,
    to show the user.
    """
    notes = []
    for path in paths:
        removed = _remove_stale(Path(path), max_age) if path is not None else []
        if removed:
            shown = ", ".join(removed[:3]) + (", ..." if len(removed) > 3 else "")
            files = f"{len(removed)} temporary file{'s' if len(removed) > 1 else ''}"
            notes.append(
                f"removed {files} left beside {Path(path).name} by an interrupted earlier run "
                f"({shown})"
            )
    return notes


def _remove_stale(path: Path, max_age: float) -> list[str]:
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:(\d+)\.)?[0-9a-f]{{8}}\.tmp")
    now, removed = time.time(), []
    try:
        entries = list(os.scandir(path.parent if str(path.parent) else "."))
    except OSError:
        return []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        try:
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime >= max_age
            if old or (match[1] is not None and not _running(int(match[1]))):
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:  # gone meanwhile, or not ours to remove: never fail a write for it
            continue
    return removed


def _running(pid: int) -> bool:
    """Whether a process of that id runs (on this machine)."""
    if pid == os.getpid() or os.name == "nt":  # Windows' os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


@contextlib.contextmanager
def output_errors(path: Path) -> Iterator[None]:
    """Turn a file-system failure while writing ``path`` into one :class:`OutputFileError` line."""
    try:
        yield
    except OSError as error:
        reason = " ".join((error.strerror or str(error) or type(error).__name__).split())
        if error.errno in _DISK_FULL:
            raise OutputFileError(
                f"cannot write {path}: the disk is full ({reason}); nothing was written: free "
                "some space or write elsewhere"
            ) from error
        raise OutputFileError(f"cannot write {path}: {reason}") from error


@contextlib.contextmanager
def atomic_path(path: str | Path, notes: list[str] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only on success.

    The file gets the permissions of any new file (0o666 less the umask), not the owner-only
    0o600 of :func:`tempfile.mkstemp`. Stale temporary files of ``path`` are removed first
    (:func:`remove_stale_temporaries`), with a note appended to ``notes``.
    """
    path = Path(path)
    stale = remove_stale_temporaries(path)
    if notes is not None:
        notes.extend(stale)
    with output_errors(path):
        temporary = _create_temporary(path)
    try:
        yield temporary
        with output_errors(path):
            os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _create_temporary(path: Path) -> Path:
    """Create an empty, new file beside ``path`` (named with this process's id, so that a later
    run can tell it is stale), with the mode the umask gives new files."""
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"cannot create a temporary file beside {path}")


def write_json(data: Any, path: str | Path) -> None:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    write_text(json.dumps(data, indent=2, ensure_ascii=False, default=json_default) + "\n", path)


def write_text(text: str, path: str | Path) -> None:
    """Write ``text`` as UTF-8, atomically; a failing disk is one :class:`OutputFileError` line."""
    with atomic_path(path) as temporary, output_errors(Path(path)):
        temporary.write_text(text, encoding="utf-8")


def json_default(value: Any) -> Any:
    """JSON for numpy scalars and arrays and paths (``json.dumps(..., default=json_default)``)."""
    if hasattr(value, "tolist"):  # before .item(): an array of many values has both
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
