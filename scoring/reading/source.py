"""An opened table (:class:`TableSource`): its headers, its rows in chunks, and their row numbers.

Shared by the CSV, Excel and Parquet readers: choosing the header row and numbering rows as the
spreadsheet shows them, blank and unreadable rows included.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue

import numpy as np
import pyarrow as pa

from scoring.errors import InputFileError

__all__ = [
    "HEADER_SEARCH_ROWS",
    "BadRow",
    "HeaderScore",
    "TableSource",
    "choose_header",
    "first_line",
    "is_blank",
    "name_headers",
    "read_ahead",
]

#: How far down a sheet the header row is looked for (title and report-date rows above it).
HEADER_SEARCH_ROWS = 20
#: ``(all required columns matched, number of contract columns matched)`` of a candidate row.
HeaderScore = Callable[[Sequence[str]], tuple[bool, int]]
#: ``(source, chunk_size, number headers)`` -> the table's rows as record batches, in file order.
Batches = Callable[["TableSource", int, Sequence[str]], Iterator[pa.RecordBatch]]
_READ_AHEAD = 2  # parsed batches waiting for the caller


@dataclass(frozen=True)
class BadRow:
    """A row the reader could not take: its spreadsheet row, its text and why."""

    row: int
    text: str
    error: str


@dataclass
class TableSource:
    """An opened table: its headers, and its rows in chunks.

    Build it with :func:`scoring.reading.open_table`. ``header_row`` is the spreadsheet row the
    headers were found on (1 = the first). ``bad_rows`` fills as chunks are read: rows the reader
    could not take (a wrong number of fields, bytes that are not text, a number too large to
    hold exactly), each with its spreadsheet row, rejected by the caller. ``blank_rows`` are the
    rows below the header with nothing in them: skipped, neither read nor rejected.
    """

    path: Path
    kind: str
    headers: list[str]
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | int | None = None
    header_row: int = 1
    bad_rows: list[BadRow] = field(default_factory=list)
    blank_rows: list[int] = field(default_factory=list)
    schema: pa.Schema | None = None
    _batches: Batches | None = field(default=None, repr=False)
    # The CSV reading thread records rows while the caller numbers the rows it was given.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def chunks(
        self, chunk_size: int = 100_000, *, numbers: Sequence[str] = ()
    ) -> Iterator[tuple[int, pa.Table]]:
        """Yield ``(first_row, table)``: chunks of up to ``chunk_size`` rows, in file order.

        ``first_row`` is the parsed position of the chunk's first row (the first row below the
        header is ``header_row + 1``). Rows skipped (``bad_rows``, ``blank_rows``) are not in
        the chunks, so a chunk's spreadsheet rows are given by :meth:`row_numbers`.
        ``numbers`` names the headers of number columns, whose integers must be exact as floats.
        """
        if chunk_size < 1:
            raise InputFileError(f"chunk size must be at least 1, got {chunk_size}")
        if self._batches is None:
            raise InputFileError(f"{self.path.name} was not opened with open_table")
        batches = self._batches(self, chunk_size, numbers)
        yield from _rebatch(batches, chunk_size, self.header_row + 1)

    def row_numbers(self, first_row: int, n: int) -> np.ndarray:
        """Spreadsheet rows of ``n`` parsed rows starting at parsed position ``first_row``.

        Skipped rows (``bad_rows`` and ``blank_rows``) shift the numbers of the rows after them.
        """
        rows = np.arange(first_row, first_row + n, dtype=np.int64)
        with self._lock:
            skipped = [b.row for b in self.bad_rows] + self.blank_rows
        if not skipped:
            return rows
        # The k-th skipped row (sorted, from 0) comes after the rows numbered below it - k.
        skipped = np.sort(np.array(skipped, dtype=np.int64))
        return rows + np.searchsorted(skipped - np.arange(len(skipped)), rows, side="right")

    def read_all(self) -> pa.Table:
        """The whole table at once (for training sets and small files)."""
        pieces = [table for _, table in self.chunks(1 << 20)]
        if not pieces:
            return pa.table({h: pa.array([], pa.string()) for h in self.headers})
        return pa.concat_tables(pieces, promote_options="permissive")

    def check_types(self, headers: Sequence[str]) -> None:
        """Refuse columns among ``headers`` whose stored type holds no text or number.

        Raises
        ------
        InputFileError
            A Parquet column of list, struct, map or binary type.
        """
        if self.schema is None:
            return
        for header in headers:
            dtype = self.schema.field(header).type
            if pa.types.is_nested(dtype) or _is_binary(dtype):
                raise InputFileError(
                    f"column '{header}' of {self.path.name} holds Parquet values of type {dtype};"
                    " it must hold text or numbers (write it as a plain column)",
                    column=header,
                )

    def record_blank(self, row: int) -> None:
        """Note a blank spreadsheet row (once, however often the file is read)."""
        with self._lock:
            at = bisect.bisect_left(self.blank_rows, row)
            if at == len(self.blank_rows) or self.blank_rows[at] != row:
                self.blank_rows.insert(at, row)

    def record_bad(self, bad: BadRow) -> None:
        """Note a row the reader could not take, keeping ``bad_rows`` in row order, once each."""
        with self._lock:
            at = bisect.bisect_left(self.bad_rows, bad.row, key=lambda b: b.row)
            if at == len(self.bad_rows) or self.bad_rows[at].row != bad.row:
                self.bad_rows.insert(at, bad)

    def drop_rows(
        self,
        batch: pa.RecordBatch,
        position: int,
        problems: dict[int, str],
        blank: np.ndarray | None = None,
    ) -> pa.RecordBatch:
        """``batch`` (first parsed position ``position``) without the rows it cannot take.

        ``problems`` maps a row's index in the batch to why it is rejected; ``blank`` marks its
        blank rows. Both are recorded with their spreadsheet rows, so later rows keep theirs.
        """
        if not problems and blank is None:
            return batch
        rows = self.row_numbers(position, batch.num_rows)
        keep = np.ones(batch.num_rows, dtype=bool)
        if blank is not None:
            for i in np.flatnonzero(blank):
                self.record_blank(int(rows[i]))
            keep &= ~blank
        for i, error in problems.items():
            if keep[i]:
                cells = batch.slice(i, 1).to_pylist()[0].values()
                text = self.delimiter.join(
                    "" if c is None else str(c).replace("\x00", "") for c in cells
                )
                self.record_bad(BadRow(int(rows[i]), text, error))
                keep[i] = False
        return batch.filter(pa.array(keep))

    def skip_recorded(self) -> None:
        """Forget the rows recorded so far: a new pass over the file finds them again."""
        with self._lock:
            self.bad_rows.clear()
            self.blank_rows.clear()


def choose_header(
    rows: Sequence[Sequence[str]],
    *,
    score: HeaderScore | None,
    forced: int | None,
    where: str,
    first_row: int = 1,
) -> int:
    """Index in ``rows`` of the header row; ``rows[i]`` is spreadsheet row ``first_row + i``.

    ``forced`` (a spreadsheet row) wins. Otherwise, among the first :data:`HEADER_SEARCH_ROWS`
    rows that are not blank: the first whose headers hold every required column, else the one
    matching most contract columns, else (nothing matches, or no ``score``) the first.
    """
    if forced is not None:
        at = forced - first_row
        if at >= len(rows):
            raise InputFileError(
                f"there is no row {forced} in {where} to take the headers from "
                f"(rows {first_row} to {first_row + len(rows) - 1} hold cells)",
                parameter="header_row",
            )
        if at < 0 or is_blank(rows[at]):  # rows above the first cell are blank
            raise InputFileError(
                f"row {forced} of {where} is blank; it cannot hold the headers",
                parameter="header_row",
            )
        return at
    filled = [i for i, cells in enumerate(rows) if not is_blank(cells)]
    if not filled:
        raise InputFileError(f"{where} has no header row (every row is blank)")
    candidates = [i for i in filled if first_row + i <= HEADER_SEARCH_ROWS] or filled[:1]
    if score is None:
        return candidates[0]
    best, best_matched = candidates[0], 0
    for i in candidates:
        complete, matched = score(rows[i])
        if complete:
            return i
        if matched > best_matched:
            best, best_matched = i, matched
    return best


def is_blank(cells: Sequence[object]) -> bool:
    """True when a row holds nothing but empty or space-only cells."""
    return all(cell is None or not str(cell).strip() for cell in cells)


def name_headers(cells: Sequence[str], where: str, first_column: int = 0) -> list[str]:
    """Headers as written, an empty one named by its column (``column_3``); refuse repeats."""
    headers = [h if h.strip() else f"column_{first_column + j + 1}" for j, h in enumerate(cells)]
    if len(set(headers)) != len(headers):
        repeated = sorted({h for h in headers if headers.count(h) > 1})
        raise InputFileError(f"{where} repeats the header(s) {repeated}; headers must be unique")
    return headers


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (Arrow and calamine write several)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _is_binary(dtype: pa.DataType) -> bool:
    return (
        pa.types.is_binary(dtype)
        or pa.types.is_large_binary(dtype)
        or pa.types.is_fixed_size_binary(dtype)
        or pa.types.is_binary_view(dtype)
    )


def _rebatch(
    batches: Iterator[pa.RecordBatch], chunk_size: int, position: int
) -> Iterator[tuple[int, pa.Table]]:
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
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


def read_ahead(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
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
        finally:
            close = getattr(batches, "close", None)
            if close is not None:  # a generator holding the file open
                close()

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
