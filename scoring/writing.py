"""Writing tables atomically, by file extension (CSV, Excel, Parquet), and the checks on outputs.

Every writer builds its file under a temporary name beside the target and renames it into place
only when complete, so a crash, Ctrl-C or kill never leaves a half-written output and an existing
output stays untouched until the new one is whole. Text is written as text: never a formula or a
link in Excel, and neutralised in CSV (docs/outputs.md).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from scoring.errors import InputFileError, OutputFileError
from scoring.reading import CSV_SUFFIXES, PARQUET_SUFFIXES
from scoring.workbook import write_excel

__all__ = [
    "EXCEL_MAX_ROWS",
    "HTML_SUFFIXES",
    "JSON_SUFFIXES",
    "STALE_SECONDS",
    "TABLE_SUFFIXES",
    "TableWriter",
    "atomic_path",
    "check_distinct_paths",
    "check_kept_columns",
    "check_output_path",
    "check_outputs",
    "json_default",
    "remove_stale_temporaries",
    "write_json",
    "write_table",
    "write_text",
]

EXCEL_MAX_ROWS = 1_048_576 - 1  # one row is the header
TABLE_SUFFIXES = (*CSV_SUFFIXES, ".xlsx", *PARQUET_SUFFIXES)
JSON_SUFFIXES = (".json",)
HTML_SUFFIXES = (".html",)
STALE_SECONDS = 3600  # a temporary file unchanged this long belongs to no running write
# A spreadsheet reads a CSV cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_START = r"^([=+\-@\t\r])"
#: A signed plain number (``-3``, ``+0.5``, ``-1e-3``): a spreadsheet reads it as a number, never
#: a formula, so it keeps its text (a data file's ``-3`` stays ``-3``).
_SIGNED_NUMBER = r"^[+-]([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_BYTES = pa.array([c.encode() for c in _FORMULA_CHARS], pa.binary())
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def check_output_path(
    path: str | Path | None, suffixes: Sequence[str] | None = None
) -> Path | None:
    """Fail early, before any work, when ``path`` cannot be written by extension or folder.

    ``suffixes`` are the extensions accepted for this output (e.g. :data:`TABLE_SUFFIXES`);
    None accepts any file this package writes. A ``path`` of None (an option left out) passes.
    """
    if path is None:
        return None
    path = Path(path)
    accepted = (*TABLE_SUFFIXES, *JSON_SUFFIXES, *HTML_SUFFIXES) if suffixes is None else suffixes
    suffix = path.suffix.lower()
    if suffix not in accepted:
        raise InputFileError(
            f"cannot write '{suffix or path.name}' files here; use {_listing(accepted)} ({path})"
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputFileError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputFileError(f"cannot write {path}: folder {folder} is not writable")
    if path.is_dir():
        raise InputFileError(f"cannot write {path}: it is a folder")
    return path


def _listing(suffixes: Sequence[str]) -> str:
    """'.csv, .xlsx or .parquet (or .txt, .tsv, .pq)': the usual ones first."""
    usual = [s for s in (".csv", ".xlsx", ".parquet") if s in suffixes] or list(suffixes[:1])
    others = [s for s in suffixes if s not in usual]
    text = usual[0] if len(usual) == 1 else f"{', '.join(usual[:-1])} or {usual[-1]}"
    return f"{text} (or {', '.join(others)})" if others else text


_Paths = Mapping[str, str | Path | None] | Sequence[str | Path | None]


def check_distinct_paths(inputs: _Paths, outputs: _Paths) -> None:
    """Refuse, before any work, an output that is the same file as an input or another output.

    Links are followed (a symbolic or hard link to the input is the input). Either argument is
    a list of paths or a mapping of option name (``"--out"``) to path, for the message; None
    entries (options left out) are skipped. Inputs may repeat each other.

    Raises
    ------
    OutputFileError
        One line naming both paths (and their options).
    """
    earlier = [item for item in _labelled(inputs, "input") if item[1] is not None]
    for label, path in _labelled(outputs, "output"):
        if path is None:
            continue
        for other_label, other in earlier:
            if _same_file(Path(path), Path(other)):
                raise OutputFileError(
                    f"{label} {path} is the same file as {other_label} {other}: give each output "
                    "its own file, apart from the inputs"
                )
        earlier.append((label, path))


def check_outputs(
    inputs: _Paths,
    tables: Mapping[str, str | Path | None],
    summaries: Mapping[str, str | Path | None] | None = None,
) -> list[str]:
    """Every check on a command's paths before any work, then the clean-up of stale temporaries.

    ``inputs`` and the outputs (``tables``, and JSON ``summaries``) map option names to paths:
    :func:`check_distinct_paths`, then :func:`check_output_path` with the suffixes of each kind,
    then :func:`remove_stale_temporaries` of every output. Returns the notes to show the user.
    """
    summaries = summaries or {}
    check_distinct_paths(inputs, {**tables, **summaries})
    for path in tables.values():
        check_output_path(path, TABLE_SUFFIXES)
    for path in summaries.values():
        check_output_path(path, JSON_SUFFIXES)
    return remove_stale_temporaries(*tables.values(), *summaries.values())


def _labelled(paths: _Paths, kind: str) -> list[tuple[str, str | Path | None]]:
    if isinstance(paths, Mapping):
        return list(paths.items())
    return [(kind, path) for path in paths]


def _same_file(first: Path, second: Path) -> bool:
    if first.exists() and second.exists():
        with contextlib.suppress(OSError):
            return os.path.samefile(first, second)  # hard links, case-insensitive systems
    return os.path.normcase(os.path.realpath(first)) == os.path.normcase(os.path.realpath(second))


def check_kept_columns(kept: Sequence[str], output_columns: Sequence[str]) -> None:
    """Refuse kept (passed-through) columns named like an output column, which they would replace.

    Names are compared ignoring case, as a person reading the output would.

    Raises
    ------
    OutputFileError
        One line naming the colliding columns.
    """
    taken = {name.strip().casefold() for name in output_columns}
    clashes = [name for name in kept if name.strip().casefold() in taken]
    if clashes:
        names = ", ".join(f"'{name}'" for name in clashes)
        raise OutputFileError(
            f"cannot keep column{'s' if len(clashes) > 1 else ''} {names}: a kept column may not "
            "take the name of an output column (it would replace the computed values); rename "
            "it in the input or do not keep it",
            column=clashes[0],
            rule="kept columns may not take an output column's name",
            parameter="keep_columns",
        )


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
def _writing(path: Path) -> Iterator[None]:
    """Turn a file-system failure while writing ``path`` into one line."""
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
    with _writing(path):
        temporary = _create_temporary(path)
    try:
        yield temporary
        with _writing(path):
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
    with atomic_path(path) as temporary, _writing(Path(path)):
        temporary.write_text(text, encoding="utf-8")


def write_table(frame: pd.DataFrame, path: str | Path, *, sheet: str = "data") -> list[str]:
    """Write a whole frame by extension, atomically; returns the notes to show the user."""
    with TableWriter(path, sheet=sheet, columns=list(frame.columns)) as writer:
        writer.write(frame)
    return writer.warnings


class TableWriter:
    """Streams frames into one output file, atomically.

    CSV and Parquet are written as frames arrive; Excel is assembled at the end (a sheet holds at
    most 1,048,576 rows: a larger result is refused). Use as a context manager: the file appears
    only when the block ends without an exception. ``warnings`` collects what the user should be
    told (stale temporary files removed, Excel cells cut to fit), one line each.
    """

    def __init__(
        self, path: str | Path, *, sheet: str = "data", columns: list[str] | None = None
    ) -> None:
        self.path = check_output_path(path, TABLE_SUFFIXES)
        self.columns = columns
        self.suffix = self.path.suffix.lower()
        self.sheet = sheet
        self.rows = 0
        self.warnings: list[str] = []
        self._context: contextlib.AbstractContextManager[Path] | None = None
        self._temporary: Path | None = None
        self._writer: Any = None
        self._schema: pa.Schema | None = None  # pyarrow's CSVWriter does not expose its schema
        self._excel_parts: list[pd.DataFrame] = []

    def __enter__(self) -> TableWriter:
        self._context = atomic_path(self.path, self.warnings)
        self._temporary = self._context.__enter__()
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append rows (all frames must have the same columns)."""
        self.rows += len(frame)
        if self.suffix == ".xlsx":
            if self.rows > EXCEL_MAX_ROWS:
                raise InputFileError(
                    f"the result has more than {EXCEL_MAX_ROWS:,} rows, the most an Excel sheet "
                    f"holds; write .csv or .parquet instead of {self.path.name}"
                )
            self._excel_parts.append(frame)
            with contextlib.suppress(OSError):
                os.utime(self._temporary)  # still being written: not stale
            return
        with _writing(self.path), self._captured_warnings():
            self._write_arrow(frame)

    def _write_arrow(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            # A column with no value in the first frame (no rows, or all missing) has Arrow's
            # null type, to which a later frame's text cannot be cast: write it as text.
            fields = [
                f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
            ]
            self._schema = pa.schema(fields, metadata=table.schema.metadata)
            table = table.cast(self._schema)
            if self.suffix in PARQUET_SUFFIXES:
                self._writer = pq.ParquetWriter(self._temporary, self._schema)
            else:
                self._writer = pacsv.CSVWriter(
                    self._temporary, _csv_schema(self._schema), write_options=self._csv_options()
                )
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        if self.suffix not in PARQUET_SUFFIXES:
            table = _neutralise(table).rename_columns(_csv_schema(self._schema).names)
        self._writer.write_table(table)

    def _csv_options(self) -> pacsv.WriteOptions:
        return pacsv.WriteOptions(delimiter="\t" if self.suffix == ".tsv" else ",")

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._context is not None and self._temporary is not None
        try:
            if exc_type is None:
                with _writing(self.path), self._captured_warnings():
                    self._finish()
        except BaseException as error:
            self._close_quietly()
            self._context.__exit__(type(error), error, error.__traceback__)
            raise
        if exc_type is not None:
            self._close_quietly()
        self._context.__exit__(exc_type, exc, tb)

    def _finish(self) -> None:
        if self.suffix == ".xlsx":
            frame = (
                pd.concat(self._excel_parts, ignore_index=True)
                if self._excel_parts
                else pd.DataFrame(columns=self.columns or [])
            )
            self.warnings.extend(write_excel(frame, self._temporary, self.sheet))
            return
        if self._writer is None:
            # No rows: still write a file with no data so that downstream tools find it.
            empty = pa.table({c: pa.array([], pa.string()) for c in self.columns or []})
            if self.suffix in PARQUET_SUFFIXES:
                pq.write_table(empty, self._temporary)
            else:
                empty = empty.rename_columns(_csv_schema(empty.schema).names)
                pacsv.write_csv(empty, self._temporary, write_options=self._csv_options())
            return
        self._writer.close()

    def _close_quietly(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()

    @contextlib.contextmanager
    def _captured_warnings(self) -> Iterator[None]:
        """Library warnings (numpy, pyarrow, xlsxwriter) become notes, never raw stderr text."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")  # each distinct warning once
            yield
        for item in caught:
            text = " ".join(str(item.message).split())
            if text not in self.warnings:
                self.warnings.append(text)


# --- CSV: text cells that a spreadsheet would run -------------------------------------------


def _neutral_name(name: str) -> str:
    return "'" + name if name.startswith(_FORMULA_CHARS) else name


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    """The schema with headers neutralised like cells (a header is a cell too)."""
    return pa.schema([f.with_name(_neutral_name(f.name)) for f in schema])


def _neutralise(table: pa.Table) -> pa.Table:
    """Prefix ``'`` to text cells starting with = + - @ tab or CR (vectorised); numbers stay."""
    for i, column in enumerate(table.columns):
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            continue
        if pa.types.is_dictionary(column.type):  # neutralise the distinct values only
            chunks = [
                pa.DictionaryArray.from_arrays(c.indices, _neutral_text(c.dictionary))
                for c in column.chunks
            ]
            column = pa.chunked_array(chunks, column.type)
        else:
            column = _neutral_text(column)
        table = table.set_column(i, table.field(i), column)
    return table


def _neutral_text(values: Any) -> Any:
    # The first byte of each cell, compared as bytes: four times faster than the regex alone.
    binary = values.cast(
        pa.large_binary() if pa.types.is_large_string(values.type) else pa.binary()
    )
    first = pc.binary_slice(binary, 0, 1)
    risky = pc.is_in(first, value_set=_FORMULA_BYTES)
    if not pc.any(risky).as_py():
        return values  # the usual case: no copy
    risky = pc.and_(risky, pc.invert(pc.match_substring_regex(values, _SIGNED_NUMBER)))
    if not pc.any(risky).as_py():
        return values
    prefixed = pc.replace_substring_regex(
        values, pattern=_FORMULA_START, replacement="'\\1", max_replacements=1
    )
    return pc.if_else(risky, prefixed, values)


def json_default(value: Any) -> Any:
    """JSON for numpy scalars and arrays and paths (``json.dumps(..., default=json_default)``)."""
    if hasattr(value, "tolist"):  # before .item(): an array of many values has both
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
