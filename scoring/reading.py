"""Reading registry files (CSV, Excel, Parquet) as raw Arrow chunks of a fixed number of rows.

CSV and Parquet stream, so memory stays flat however large the file; Excel sheets are read
whole (a sheet holds at most 1,048,576 rows). Cells are kept as written: CSV columns are read as
text so that Persian digits and the original spelling survive until :mod:`scoring.normalize`.
"""

from __future__ import annotations

import codecs
import csv
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from scoring.errors import InputFileError

__all__ = ["CSV_SUFFIXES", "EXCEL_SUFFIXES", "BadRow", "TableSource", "open_table"]

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
PARQUET_SUFFIXES = (".parquet", ".pq")
_SNIFF_BYTES = 1 << 16
# Arrow's CSV reader reads up to 32 blocks ahead in the background, so the block size bounds the
# memory that reading needs (16 MB here) whatever the size of the file.
_BLOCK_BYTES = 1 << 19
_READ_AHEAD = 2  # parsed batches waiting for the caller


@dataclass(frozen=True)
class BadRow:
    """A row the reader could not split into the header's columns."""

    row: int
    text: str
    error: str


@dataclass
class TableSource:
    """An opened table: its headers, and its rows in chunks.

    Build it with :func:`open_table`. ``bad_rows`` fills as chunks are read: rows of a CSV file
    with the wrong number of fields, each with its spreadsheet row number.
    """

    path: Path
    kind: str
    headers: list[str]
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | int | None = None
    bad_rows: list[BadRow] = field(default_factory=list)
    _excel: pa.Table | None = field(default=None, repr=False)

    def chunks(self, chunk_size: int = 100_000) -> Iterator[tuple[int, pa.Table]]:
        """Yield ``(first_row, table)``: chunks of up to ``chunk_size`` rows, in file order.

        ``first_row`` is the spreadsheet row of the chunk's first row (the header is row 1).
        Rows the reader had to skip are in ``bad_rows`` and are not counted in the chunks, so
        a chunk's rows are numbered by :meth:`row_numbers`.
        """
        if chunk_size < 1:
            raise InputFileError(f"chunk size must be at least 1, got {chunk_size}")
        if self.kind == "excel":
            yield from _slices(self._excel_table(), chunk_size)
        elif self.kind == "parquet":
            yield from _rebatch(self._parquet_batches(chunk_size), chunk_size)
        else:
            yield from _rebatch(self._csv_batches(), chunk_size)

    def row_numbers(self, first_row: int, n: int) -> np.ndarray:
        """Spreadsheet rows of ``n`` parsed rows starting at parsed position ``first_row``.

        Skipped rows (``bad_rows``) shift the numbers of the rows after them.
        """
        rows = np.arange(first_row, first_row + n, dtype=np.int64)
        if not self.bad_rows:
            return rows
        # The k-th skipped row (sorted, from 0) comes after the rows numbered below it - k.
        skipped = np.sort(np.array([b.row for b in self.bad_rows], dtype=np.int64))
        return rows + np.searchsorted(skipped - np.arange(len(skipped)), rows, side="right")

    def read_all(self) -> pa.Table:
        """The whole table at once (for training sets and small files)."""
        pieces = [table for _, table in self.chunks(1 << 20)]
        if not pieces:
            return pa.table({h: pa.array([], pa.string()) for h in self.headers})
        return pa.concat_tables(pieces, promote_options="permissive")

    def _csv_batches(self) -> Iterator[pa.RecordBatch]:
        self.bad_rows.clear()  # a new pass over the file finds the same bad rows again

        def on_bad_row(row: pacsv.InvalidRow) -> str:
            number = int(row.number) if row.number is not None else -1
            self.bad_rows.append(
                BadRow(
                    number,
                    row.text,
                    f"row has {row.actual_columns} fields, the header has {row.expected_columns}",
                )
            )
            return "skip"

        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(
                    block_size=_BLOCK_BYTES, encoding=self.encoding or "utf8", use_threads=False
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter,
                    newlines_in_values=True,
                    invalid_row_handler=on_bad_row,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in self.headers},
                    null_values=[""],
                    strings_can_be_null=True,
                ),
            )
            yield from _read_ahead(reader)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise InputFileError(
                f"cannot read {self.path.name} as CSV: {_first_line(exc)}"
            ) from None

    def _parquet_batches(self, chunk_size: int) -> Iterator[pa.RecordBatch]:
        try:
            parquet = pq.ParquetFile(self.path)
            yield from parquet.iter_batches(batch_size=chunk_size)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputFileError(
                f"cannot read {self.path.name} as Parquet: {_first_line(exc)}"
            ) from None

    def _excel_table(self) -> pa.Table:
        if self._excel is None:
            raise InputFileError(f"{self.path.name} was not opened as Excel")
        return self._excel


def open_table(
    path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None
) -> TableSource:
    """Open a registry file by its extension and read its headers.

    Parameters
    ----------
    path
        ``.csv`` (or ``.txt``/``.tsv``), ``.xlsx`` (and other spreadsheet formats), ``.parquet``.
    encoding
        CSV text encoding; detected when None (UTF-8 with or without BOM, else Windows-1256).
    sheet
        Excel sheet name or 0-based index; the first sheet when None.

    Raises
    ------
    InputFileError
        The path does not exist, the type is unsupported, the file is empty, binary garbage,
        or has a header but no rows.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"file {path} does not exist")
    if path.is_dir():
        raise InputFileError(f"{path} is a folder, not a file")
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputFileError(f"file {path} is empty")
    if suffix in CSV_SUFFIXES:
        return _open_csv(path, encoding)
    if suffix in EXCEL_SUFFIXES:
        return _open_excel(path, sheet)
    if suffix in PARQUET_SUFFIXES:
        return _open_parquet(path)
    raise InputFileError(
        f"cannot read '{suffix or path.name}' files; use .csv, .xlsx or .parquet (file: {path})"
    )


def _open_csv(path: Path, encoding: str | None) -> TableSource:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if b"\x00" in head:
        raise InputFileError(f"{path} is not a text CSV file (it holds binary data)")
    if encoding is None:
        encoding = _detect_encoding(head)
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputFileError(f"unknown encoding '{encoding}' (try utf-8 or cp1256)") from None
    try:
        text = head.decode(encoding, errors="strict" if len(head) < _SNIFF_BYTES else "ignore")
    except UnicodeDecodeError:
        raise InputFileError(f"{path} is not valid {encoding} text; pass --encoding") from None
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputFileError(f"file {path} has no header line")
    delimiter = _sniff_delimiter(lines[0])
    headers = next(csv.reader(io.StringIO(lines[0]), delimiter=delimiter))
    if len(headers) < 2 and delimiter == ",":
        raise InputFileError(
            f"{path} does not look like a CSV table (one column: '{lines[0][:40]}')"
        )
    if not any(line.strip() for line in lines[1:]) and len(head) < _SNIFF_BYTES:
        raise InputFileError(f"file {path} has a header but no data rows (0 rows)")
    if len(set(headers)) != len(headers):
        repeated = sorted({h for h in headers if headers.count(h) > 1})
        raise InputFileError(f"{path} repeats the header(s) {repeated}; headers must be unique")
    return TableSource(path, "csv", headers, encoding=encoding, delimiter=delimiter)


def _open_excel(path: Path, sheet: str | int | None) -> TableSource:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
        if sheet is None:
            target: str | int = 0
        elif isinstance(sheet, str) and sheet.isdigit():
            target = int(sheet)
        else:
            target = sheet
        if isinstance(target, int):
            if target >= len(names):
                raise InputFileError(f"{path} has {len(names)} sheet(s); no sheet {target}")
            target = names[target]
        if target not in names:
            raise InputFileError(f"{path} has no sheet '{target}' (sheets: {', '.join(names)})")
        rows = workbook.get_sheet_by_name(target).to_python(skip_empty_area=True)
    except InputFileError:
        raise
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise InputFileError(f"cannot read {path} as a spreadsheet: {_first_line(exc)}") from None
    rows = [r for r in rows if any(v not in ("", None) for v in r)]
    if not rows:
        raise InputFileError(f"sheet '{target}' of {path} is empty")
    headers = [_cell_text(h) for h in rows[0]]
    if len(rows) == 1:
        raise InputFileError(f"sheet '{target}' of {path} has a header but no data rows (0 rows)")
    while headers and headers[-1] == "":
        headers.pop()
    named = [h for h in headers if h]
    if len(set(named)) != len(named):
        repeated = sorted({h for h in named if named.count(h) > 1})
        raise InputFileError(f"{path} repeats the header(s) {repeated}; headers must be unique")
    width = len(headers)
    columns = {}
    for j, header in enumerate(headers):
        cells = [_cell_text(r[j]) if j < len(r) else "" for r in rows[1:]]
        columns[header or f"column_{j + 1}"] = pa.array(cells, pa.string())
    headers = list(columns)
    del width
    return TableSource(path, "excel", headers, sheet=target, _excel=pa.table(columns))


def _open_parquet(path: Path) -> TableSource:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(f"cannot read {path} as Parquet: {_first_line(exc)}") from None
    if parquet.metadata.num_rows == 0:
        raise InputFileError(f"file {path} has columns but no data rows (0 rows)")
    return TableSource(path, "parquet", list(parquet.schema_arrow.names))


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person sees (whole numbers without '.0')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def _detect_encoding(head: bytes) -> str:
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sniffed block
            return "utf-8"
    try:
        head.decode("cp1256")
    except UnicodeDecodeError:
        return "utf-8"
    return "cp1256"


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _rebatch(batches: Iterator[pa.RecordBatch], chunk_size: int) -> Iterator[tuple[int, pa.Table]]:
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    position = 2
    for batch in batches:
        pending.append(batch)
        pending_rows += batch.num_rows
        while pending_rows >= chunk_size:
            table = pa.Table.from_batches(pending)
            rest = table.slice(chunk_size)
            pending = rest.to_batches()
            pending_rows = rest.num_rows
            # One contiguous array per column: the blocks' batches are freed now, not copied
            # again (and kept) column by column downstream.
            chunk = table.slice(0, chunk_size).combine_chunks()
            del table, rest
            yield position, chunk
            del chunk  # before the next one is built
            position += chunk_size
    if pending_rows:
        yield position, pa.Table.from_batches(pending).combine_chunks()


def _read_ahead(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The same batches, parsed by a thread a couple of batches ahead of the caller.

    Arrow parses without the GIL, so the next block is parsed while Python works on this one.
    (Arrow's own threads would parse in parallel but cannot number the rows they skip.) The
    thread stops when the caller stops iterating; an error reading the file is raised here.
    """
    done = object()
    queue: Queue = Queue(maxsize=_READ_AHEAD)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.05)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    return
            offer(done)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            offer(exc)

    thread = threading.Thread(target=produce, name="readiness-csv-reader", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _slices(table: pa.Table, chunk_size: int) -> Iterator[tuple[int, pa.Table]]:
    for start in range(0, table.num_rows, chunk_size):
        yield start + 2, table.slice(start, chunk_size)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
