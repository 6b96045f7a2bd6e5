"""Writing tables atomically, by file extension (CSV, Excel, Parquet), and the checks on outputs.

Every writer builds its file under a temporary name beside the target and renames it into place
only when complete (:mod:`scoring.atomic`, whose names are also here), so a crash, Ctrl-C or kill
never leaves a half-written output and an existing output stays untouched until the new one is
whole. Text is written as text: never a formula or a link in Excel, and neutralised in CSV
(docs/outputs.md).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from scoring.atomic import (
    STALE_SECONDS,
    atomic_path,
    json_default,
    output_errors,
    remove_stale_temporaries,
    write_json,
    write_text,
)
from scoring.buffers import text_buffers
from scoring.csv_text import csv_rows
from scoring.errors import InputFileError, OutputFileError
from scoring.reading import CSV_SUFFIXES, PARQUET_SUFFIXES
from scoring.workbook import SheetLayout, StreamedBook, StreamedTable, SummarySheet, write_excel

__all__ = [
    "BYTE_ORDER_MARK",
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
BYTE_ORDER_MARK = b"\xef\xbb\xbf"  # UTF-8's: Excel on Windows reads the CSV as UTF-8 then
TABLE_SUFFIXES = (*CSV_SUFFIXES, ".xlsx", *PARQUET_SUFFIXES)
JSON_SUFFIXES = (".json",)
HTML_SUFFIXES = (".html",)
# A spreadsheet reads a CSV cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_START = r"^([=+\-@\t\r])"
#: A signed plain number (``-3``, ``+0.5``, ``-1e-3``): a spreadsheet reads it as a number, never
#: a formula, so it keeps its text (a data file's ``-3`` stays ``-3``).
_SIGNED_NUMBER = r"^[+-]([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")


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


def write_table(frame: pd.DataFrame, path: str | Path, *, sheet: str = "data") -> list[str]:
    """Write a whole frame by extension, atomically; returns the notes to show the user."""
    with TableWriter(path, sheet=sheet, columns=list(frame.columns)) as writer:
        writer.write(frame)
    return writer.warnings


class TableWriter:
    """Streams frames into one output file, atomically.

    CSV and Parquet are written as frames arrive. Excel (a sheet holds at most 1,048,576 rows: a
    larger result is refused) is streamed too when a ``layout`` is given (a
    :class:`~scoring.workbook.StreamedBook`: frozen and filtered header, fitted widths, number
    formats, tier colours; more sheets with :meth:`add_sheet` and :meth:`add_summary`), else
    assembled at the end as one plain sheet. ``headers`` (``{column: header}``) renames the
    columns as written; ``byte_order_mark`` starts a CSV with UTF-8's. Use as a context manager:
    the file appears only when the block ends without an exception. ``warnings`` collects what
    the user should be told (stale temporary files removed, Excel cells cut to fit), one line
    each.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        sheet: str = "data",
        columns: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
        layout: SheetLayout | None = None,
        byte_order_mark: bool = False,
    ) -> None:
        self.path = check_output_path(path, TABLE_SUFFIXES)
        self.headers = dict(headers or {})
        self.columns = None if columns is None else [self.headers.get(c, c) for c in columns]
        self.suffix = self.path.suffix.lower()
        self.sheet = sheet
        self.layout = layout
        self.byte_order_mark = byte_order_mark and self.suffix in CSV_SUFFIXES
        self.rows = 0
        self.warnings: list[str] = []
        self._context: contextlib.AbstractContextManager[Path] | None = None
        self._temporary: Path | None = None
        self._writer: Any = None
        self._sink: Any = None  # the open CSV file (after a byte order mark, if asked)
        self._schema: pa.Schema | None = None  # pyarrow's CSVWriter does not expose its schema
        self._excel_parts: list[pd.DataFrame] = []
        self._book: StreamedBook | None = None
        self._table: StreamedTable | None = None

    def __enter__(self) -> TableWriter:
        self._context = atomic_path(self.path, self.warnings)
        self._temporary = self._context.__enter__()
        if self.suffix == ".xlsx" and self.layout is not None:
            self._book = StreamedBook()
            layout = self.layout.renamed(self.headers)
            self._table = self._book.add_table(self.sheet, self.columns, layout)
        return self

    @property
    def streams_sheets(self) -> bool:
        """Whether this writer makes a workbook that takes more sheets."""
        return self._book is not None

    def add_sheet(
        self,
        name: str,
        columns: list[str] | None,
        layout: SheetLayout,
        headers: Mapping[str, str] | None = None,
    ) -> _Sheet:
        """Another table sheet of this workbook (:attr:`streams_sheets`), filled with ``write``."""
        assert self._book is not None, "only a streamed workbook takes more sheets"
        headers = dict(headers or {})
        named = None if columns is None else [headers.get(c, c) for c in columns]
        table = self._book.add_table(name, named, layout.renamed(headers))
        return _Sheet(self, table, headers)

    def add_summary(self, name: str, *, right_to_left: bool = False) -> SummarySheet:
        """A summary sheet of this workbook (:attr:`streams_sheets`), written once."""
        assert self._book is not None, "only a streamed workbook takes more sheets"
        return self._book.add_summary(name, right_to_left=right_to_left)

    def write(self, frame: pd.DataFrame) -> None:
        """Append rows (all frames must have the same columns)."""
        self.rows += len(frame)
        if self.suffix in CSV_SUFFIXES:
            with output_errors(self.path), self._captured_warnings():
                self._write_arrow(_arrow_table(frame, self.headers))
            return
        frame = frame.rename(columns=self.headers) if self.headers else frame
        if self.suffix == ".xlsx":
            self._check_excel_rows(self.rows)
            if self._table is not None:
                with output_errors(self.path), self._captured_warnings():
                    self._table.write(frame)
            else:
                self._excel_parts.append(frame)
            with contextlib.suppress(OSError):
                os.utime(self._temporary)  # still being written: not stale
            return
        with output_errors(self.path), self._captured_warnings():  # Parquet: pandas' metadata too
            self._write_arrow(pa.Table.from_pandas(frame, preserve_index=False))

    def _check_excel_rows(self, rows: int) -> None:
        if rows > EXCEL_MAX_ROWS:
            raise InputFileError(
                f"the result has more than {EXCEL_MAX_ROWS:,} rows, the most an Excel sheet "
                f"holds; write .csv or .parquet instead of {self.path.name}"
            )

    def _write_arrow(self, table: pa.Table) -> None:
        if self._writer is None:
            # A column with no value in the first frame (no rows, or all missing) has Arrow's
            # null type, to which a later frame's text cannot be cast: write it as text.
            fields = [
                f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
            ]
            self._schema = pa.schema(fields, metadata=table.schema.metadata)
            table = table.cast(self._schema)
            if self.suffix in PARQUET_SUFFIXES:
                import pyarrow.parquet as pq  # here: only a Parquet output needs it

                self._writer = pq.ParquetWriter(self._temporary, self._schema)
            else:
                self._writer = _CsvStream(
                    self._csv_sink(), _csv_schema(self._schema), self._csv_options()
                )
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        if self.suffix not in PARQUET_SUFFIXES:
            table = _neutralise(table).rename_columns(_csv_schema(self._schema).names)
        self._writer.write_table(table)

    def _csv_options(self) -> pacsv.WriteOptions:
        return pacsv.WriteOptions(delimiter="\t" if self.suffix == ".tsv" else ",")

    def _csv_sink(self) -> Any:
        """Where the CSV goes: the temporary file, opened, starting with the mark if asked."""
        self._sink = pa.OSFile(str(self._temporary), "wb")
        if self.byte_order_mark:
            self._sink.write(BYTE_ORDER_MARK)
        return self._sink

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._context is not None and self._temporary is not None
        try:
            if exc_type is None:
                with output_errors(self.path), self._captured_warnings():
                    self._finish()
        except BaseException as error:
            self._close_quietly()
            self._context.__exit__(type(error), error, error.__traceback__)
            raise
        if exc_type is not None:
            self._close_quietly()
        self._context.__exit__(exc_type, exc, tb)

    def _finish(self) -> None:
        if self._book is not None:
            self.warnings.extend(self._book.save(self._temporary))
            return
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
                import pyarrow.parquet as pq

                pq.write_table(empty, self._temporary)
            else:
                empty = empty.rename_columns(_csv_schema(empty.schema).names)
                pacsv.write_csv(empty, self._csv_sink(), write_options=self._csv_options())
                self._close_sink()
            return
        self._writer.close()
        self._close_sink()

    def _close_sink(self) -> None:
        if self._sink is not None:
            self._sink.close()

    def _close_quietly(self) -> None:
        for part in (self._writer, self._sink):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.close()
        if self._book is not None:
            self._book.close()

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


class _Sheet:
    """Another table sheet of a :class:`TableWriter`'s workbook, under the same row limit."""

    def __init__(self, owner: TableWriter, table: StreamedTable, headers: dict[str, str]) -> None:
        self._owner, self._table, self._headers = owner, table, headers

    def write(self, frame: pd.DataFrame) -> None:
        """Append rows (all frames must have the same columns)."""
        self._owner._check_excel_rows(self._table.rows + len(frame))
        with output_errors(self._owner.path), self._owner._captured_warnings():
            self._table.write(frame.rename(columns=self._headers) if self._headers else frame)


class _CsvStream:
    """What :class:`pyarrow.csv.CSVWriter` writes (the header, then each table's rows), with
    the rows made by :func:`~scoring.csv_text.csv_rows` where it can make them."""

    def __init__(self, sink: pa.NativeFile, schema: pa.Schema, options: pacsv.WriteOptions):
        self._sink = sink
        self._rows = pacsv.WriteOptions(include_header=False, delimiter=options.delimiter)
        pacsv.write_csv(schema.empty_table(), sink, write_options=options)  # the header line

    def write_table(self, table: pa.Table) -> None:
        rows = csv_rows(table, self._rows.delimiter)
        if rows is None:
            pacsv.write_csv(table, self._sink, write_options=self._rows)
        else:
            self._sink.write(rows)

    def close(self) -> None:
        """The sink is the writer's to close."""


# --- CSV: text cells that a spreadsheet would run -------------------------------------------


def _neutral_name(name: str) -> str:
    return "'" + name if name.startswith(_FORMULA_CHARS) else name


def _arrow_table(frame: pd.DataFrame, headers: Mapping[str, str]) -> pa.Table:
    """``pa.Table.from_pandas(frame.rename(columns=headers), preserve_index=False)`` without
    pandas' metadata (a CSV has no use for it), converted column by column: a tenth of the
    fixed cost per call, which a chunk of a long file pays for every column. Frames whose
    columns this cannot convert alike go through ``from_pandas``."""
    names = [headers.get(name, name) for name in frame.columns]
    if frame.columns.is_unique:
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            arrays = []
            for name in frame.columns:
                values = frame[name].array
                if isinstance(values, pd.arrays.NumpyExtensionArray):
                    values = values.to_numpy()
                arrays.append(pa.array(values, from_pandas=True))
            return pa.Table.from_arrays(arrays, names=names)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.rename_columns(names).replace_schema_metadata(None)


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
    # The first byte of each cell, looked up in a table of the risky ones, on the column's
    # buffers: one pass over the cells, not over their text.
    risky = _risky_first_bytes(values)
    if not risky.any():
        return values  # the usual case: no copy
    risky = pa.array(risky) if isinstance(values, pa.Array) else pa.chunked_array([risky])
    risky = pc.and_(risky, pc.invert(pc.match_substring_regex(values, _SIGNED_NUMBER)))
    if not pc.any(risky).as_py():
        return values
    prefixed = pc.replace_substring_regex(
        values, pattern=_FORMULA_START, replacement="'\\1", max_replacements=1
    )
    return pc.if_else(risky, prefixed, values)


_RISKY_BYTE = np.zeros(256, dtype=bool)
_RISKY_BYTE[[ord(c) for c in _FORMULA_CHARS]] = True


def _risky_first_bytes(values: Any) -> np.ndarray:
    """Which cells start with a byte a spreadsheet reads as a formula (missing cells: none)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    parts = []
    for chunk in chunks:
        offsets, data = text_buffers(chunk)
        starts, lengths = offsets[:-1], np.diff(offsets)
        first = data.take(starts, mode="clip") if len(data) else np.zeros(len(starts), np.uint8)
        risky = _RISKY_BYTE.take(first) & (lengths > 0)
        if chunk.null_count:
            risky &= np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        parts.append(risky)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
