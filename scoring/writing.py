"""Writing tables atomically, by file extension (CSV, Excel, Parquet).

Every writer builds its file under a temporary name beside the target and renames it into place
only when complete, so a crash, Ctrl-C or kill never leaves a half-written output and an existing
output stays untouched until the new one is whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from scoring.errors import InputFileError
from scoring.reading import CSV_SUFFIXES, PARQUET_SUFFIXES

__all__ = [
    "EXCEL_MAX_ROWS",
    "TableWriter",
    "atomic_path",
    "check_output_path",
    "json_default",
    "write_json",
    "write_table",
]

EXCEL_MAX_ROWS = 1_048_576 - 1  # one row is the header
_WRITE_SUFFIXES = (*CSV_SUFFIXES, ".xlsx", *PARQUET_SUFFIXES)


def check_output_path(path: str | Path) -> Path:
    """Fail early, before any work, when ``path`` cannot be written by extension or folder."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*_WRITE_SUFFIXES, ".json", ".html"):
        raise InputFileError(
            f"cannot write '{suffix or path.name}' files; use .csv, .xlsx or .parquet ({path})"
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputFileError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputFileError(f"cannot write {path}: folder {folder} is not writable")
    if path.is_dir():
        raise InputFileError(f"cannot write {path}: it is a folder")
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only on success.

    The file gets the permissions of any new file (0o666 less the umask), not the owner-only
    0o600 of :func:`tempfile.mkstemp`.
    """
    path = Path(path)
    temporary = _create_temporary(path)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def _create_temporary(path: Path) -> Path:
    """Create an empty, new file beside ``path``, with the mode the umask gives new files."""
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"cannot create a temporary file beside {path}")


def write_json(data: Any, path: str | Path) -> None:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(
            json.dumps(data, indent=2, ensure_ascii=False, default=json_default) + "\n",
            encoding="utf-8",
        )


def write_table(frame: pd.DataFrame, path: str | Path, *, sheet: str = "data") -> None:
    """Write a whole frame by extension, atomically."""
    with TableWriter(path, sheet=sheet, columns=list(frame.columns)) as writer:
        writer.write(frame)


class TableWriter:
    """Streams frames into one output file, atomically.

    CSV and Parquet are written as frames arrive; Excel is assembled at the end (a sheet holds at
    most 1,048,576 rows: a larger result is refused). Use as a context manager: the file appears
    only when the block ends without an exception.
    """

    def __init__(
        self, path: str | Path, *, sheet: str = "data", columns: list[str] | None = None
    ) -> None:
        self.path = check_output_path(path)
        self.columns = columns
        self.suffix = self.path.suffix.lower()
        self.sheet = sheet
        self.rows = 0
        self._context: contextlib.AbstractContextManager[Path] | None = None
        self._temporary: Path | None = None
        self._writer: Any = None
        self._schema: pa.Schema | None = None  # pyarrow's CSVWriter does not expose its schema
        self._excel_parts: list[pd.DataFrame] = []

    def __enter__(self) -> TableWriter:
        self._context = atomic_path(self.path)
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
            return
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
                delimiter = "\t" if self.suffix == ".tsv" else ","
                self._writer = pacsv.CSVWriter(
                    self._temporary, self._schema,
                    write_options=pacsv.WriteOptions(delimiter=delimiter),
                )  # fmt: skip
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        self._writer.write_table(table)

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._context is not None and self._temporary is not None
        try:
            if exc_type is None:
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
            with pd.ExcelWriter(self._temporary, engine="xlsxwriter") as excel:
                frame.to_excel(excel, sheet_name=self.sheet, index=False)
            return
        if self._writer is None:
            # No rows: still write a file with no data so that downstream tools find it.
            empty = pa.table({c: pa.array([], pa.string()) for c in self.columns or []})
            if self.suffix in PARQUET_SUFFIXES:
                pq.write_table(empty, self._temporary)
            else:
                pacsv.write_csv(empty, self._temporary)
            return
        self._writer.close()

    def _close_quietly(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()


def json_default(value: Any) -> Any:
    """JSON for numpy scalars and arrays and paths (``json.dumps(..., default=json_default)``)."""
    if hasattr(value, "tolist"):  # before .item(): an array of many values has both
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
