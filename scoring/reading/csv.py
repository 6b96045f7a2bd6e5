"""Reading delimited text (CSV, TSV, Excel's "Unicode text") as Arrow batches of text cells.

The encoding comes from a byte-order mark, ``encoding``, or the whole first 64 KiB; the file is
streamed to Arrow as UTF-8, and a row that cannot be taken is rejected alone, never the file.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from scoring.errors import InputFileError
from scoring.reading.encoding import (
    UNDECODED,
    Utf8Stream,
    decode_sample,
    keeping_errors,
    refuse_binary,
    sample_lines,
    text_encoding,
)
from scoring.reading.source import (
    HEADER_SEARCH_ROWS,
    BadRow,
    HeaderScore,
    TableSource,
    choose_header,
    first_line,
    is_blank,
    name_headers,
    read_ahead,
)

__all__ = ["CSV_SUFFIXES", "open_csv"]

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_SNIFF_BYTES = 1 << 16
_MAX_SNIFF_BYTES = 1 << 23  # read to find a header row forced far down
# Arrow's CSV reader reads up to 32 blocks ahead in the background, so the block size bounds the
# memory that reading needs (16 MB here) whatever the size of the file.
_BLOCK_BYTES = 1 << 19
# A row longer than a block is read again with blocks four times larger, up to this size.
_MAX_BLOCK_BYTES = 1 << 25
_MAX_CELL_LINES = 100  # a quoted cell running over more lines is an unclosed quote
_DELIMITERS = (",", ";", "\t", "|")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def open_csv(
    path: Path, encoding: str | None, header_row: int | None, header_score: HeaderScore | None
) -> TableSource:
    """Open a delimited text file: encoding, delimiter, header row and headers (see open_table)."""
    need = max(HEADER_SEARCH_ROWS, header_row or 0) + 2
    size, chosen = _SNIFF_BYTES, None
    while True:
        with path.open("rb") as handle:
            head = handle.read(size)
            at_end = not handle.read(1)
        if chosen is None:  # from the first 64 KiB, however far the header is looked for
            chosen = text_encoding(head, encoding, at_end)
        lines = sample_lines(decode_sample(head[chosen.bom :], chosen.name), at_end)
        if at_end or len(lines) >= need or size >= _MAX_SNIFF_BYTES:
            break
        size *= 4
    if not lines:
        raise InputFileError(f"the first line of {path} is longer than {size >> 20} MiB")
    refuse_binary(lines, path)
    delimiter = _delimiter(lines)
    records = _records(lines, delimiter)
    if not at_end:
        records = records[:-1]  # it may go on past what was read
    at = choose_header(
        [cells for _, cells in records], score=header_score, forced=header_row, where=str(path)
    )
    start, end = records[at - 1][0] if at else 0, records[at][0]
    if UNDECODED.search("".join(lines[start:end])):
        raise InputFileError(
            f"the header row (row {at + 1}) of {path} is not valid {chosen.name} text "
            f"(encodings tried: {chosen.tried}); re-save the file as UTF-8, "
            "or name its encoding",
            parameter="encoding",
        )
    headers = name_headers(records[at][1], str(path))
    if len(headers) < 2 and delimiter == ",":
        shown = "".join(lines[start:end]).strip()[:40]
        raise InputFileError(f"{path} does not look like a CSV table (one column: '{shown}')")
    if at_end and all(is_blank(cells) for _, cells in records[at + 1 :]):
        raise InputFileError(f"file {path} has a header but no data rows (0 rows)")
    prefix = "".join(lines[:end]).encode(chosen.name, errors=keeping_errors(chosen.name))
    offset = chosen.bom + len(prefix)
    line_break = b"\r" if lines[0].endswith("\r") else b"\n"
    return TableSource(
        path,
        "csv",
        headers,
        encoding=chosen.name,
        delimiter=delimiter,
        header_row=at + 1,
        _batches=functools.partial(_csv_batches, offset=offset, line_break=line_break),
    )


# --- the delimiter and the records of the first lines -------------------------------------


def _records(lines: Sequence[str], delimiter: str) -> list[tuple[int, list[str]]]:
    """``(line after its last, cells)`` of each record: a row, whose quoted cells may hold lines."""
    reader = csv.reader(iter(lines), delimiter=delimiter)
    records = []
    try:
        for cells in reader:
            records.append((reader.line_num, cells))
    except csv.Error:  # a cell beyond the csv module's limit: the header is above it
        pass
    return records


def _delimiter(lines: Sequence[str]) -> str:
    """The delimiter that splits most of the first rows into one same number of cells (>= 2)."""
    first = next((line for line in lines if line.strip()), "")

    def rank(delimiter: str) -> tuple[int, int, int]:
        records = _records(lines[:50], delimiter)
        counts = Counter(len(cells) for _, cells in records if not is_blank(cells))
        width, rows = counts.most_common(1)[0] if counts else (1, 0)
        return (rows if width >= 2 else 0, width, first.count(delimiter))

    return max(_DELIMITERS, key=rank)


# --- streaming the rows ---------------------------------------------------------------------


def _csv_batches(
    source: TableSource,
    chunk_size: int,
    numbers: Sequence[str],
    *,
    offset: int,
    line_break: bytes,
) -> Iterator[pa.RecordBatch]:
    source.skip_recorded()  # a new pass over the file finds the same rows again
    return read_ahead(_passes(source, offset, line_break))


def _passes(source: TableSource, offset: int, line_break: bytes) -> Iterator[pa.RecordBatch]:
    """The rows, read again with larger blocks (past the rows given) if a row outgrows one."""
    given, block = 0, _BLOCK_BYTES
    while True:
        try:
            for batch in _one_pass(source, offset, line_break, block, skip=given):
                given += batch.num_rows
                yield batch
            return
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):
                raise InputFileError(
                    f"cannot read {source.path.name} as CSV: {first_line(exc)}"
                ) from None
            if block >= _MAX_BLOCK_BYTES:
                raise InputFileError(
                    f"a row of {source.path.name} after its first {given:,} rows is longer than "
                    f'{_MAX_BLOCK_BYTES >> 20} MiB; is a quote (") left open?'
                ) from None
            block *= 4


def _one_pass(
    source: TableSource, offset: int, line_break: bytes, block: int, *, skip: int
) -> Iterator[pa.RecordBatch]:
    stream = Utf8Stream(source.path, offset, source.encoding or "utf-8", line_break)
    invalid = _InvalidRows(source)
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                block_size=block, use_threads=False, column_names=source.headers
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=source.delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,  # a blank line is a spreadsheet row: count it
                invalid_row_handler=invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in source.headers},
                null_values=[""],
                strings_can_be_null=True,
                check_utf8=False,  # the stream is valid UTF-8 already
            ),
        )
        position = source.header_row + 1
        for batch in reader:
            invalid.raise_runaway()
            batch = _clean(source, stream, batch, position)
            position += batch.num_rows
            if skip:  # given out before the pass that failed
                dropped = min(skip, batch.num_rows)
                batch, skip = batch.slice(dropped), skip - dropped
            if batch.num_rows:
                yield batch
        invalid.raise_runaway()
    finally:
        stream.close()


class _InvalidRows:
    """Arrow's handler of rows with the wrong number of fields: blank lines, ragged rows."""

    def __init__(self, source: TableSource) -> None:
        self.source = source
        self.runaway: InputFileError | None = None

    def __call__(self, row: pacsv.InvalidRow) -> str:
        source = self.source
        number = source.header_row + row.number if (row.number or -1) >= 0 else -1
        text = row.text
        if not text.strip(' \t\r\n"' + source.delimiter):
            source.record_blank(number)
        elif self.runaway is None and (lines := _swallowed_lines(text, source)):
            self.runaway = _runaway(source, number, lines)
        else:
            source.record_bad(
                BadRow(
                    number,
                    text,
                    f"row has {row.actual_columns} fields, the header has {row.expected_columns}",
                )
            )
        return "skip"

    def raise_runaway(self) -> None:
        if self.runaway is not None:
            raise self.runaway


def _cell_lines(cell: str) -> list[str]:
    lines = _LINE_BREAK.split(cell)
    return lines[:-1] if len(lines) > 1 and not lines[-1] else lines  # a cell ending a line


def _swallows(lines: list[str], delimiter: str, width: int) -> bool:
    """True when a cell's lines after its first look like rows: its quote was never closed."""
    if len(lines) > _MAX_CELL_LINES:
        return True
    return width >= 2 and any(line.count(delimiter) + 1 >= width for line in lines[1:])


def _swallowed_lines(text: str, source: TableSource) -> int:
    """How many lines a cell of a ragged row's ``text`` swallowed (0: none; a cell's own lines)."""
    if "\n" not in text and "\r" not in text:
        return 0
    # The csv module refuses a field over 128 KiB: a quote left open that long is just what
    # this looks for, so let the field be as long as the text.
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(max(limit, len(text) + 1))
        cells = next(csv.reader([text], delimiter=source.delimiter), [])
    except csv.Error:
        return 0
    finally:
        csv.field_size_limit(limit)
    for cell in cells:
        lines = _cell_lines(cell)
        if len(lines) > 1 and _swallows(lines, source.delimiter, len(source.headers)):
            return len(lines) - 1
    return 0


def _runaway(
    source: TableSource, row: int, lines: int, header: str | None = None
) -> InputFileError:
    where = f" in column '{header}'" if header else ""
    return InputFileError(
        f'row {row} of {source.path.name} opens a quote ("){where} that is not closed for '
        f"{lines} lines, so what look like rows {row + 1} to {row + lines} were read into one "
        f"cell; close the quote on row {row} or remove it"
    )


def _clean(
    source: TableSource, stream: Utf8Stream, batch: pa.RecordBatch, position: int
) -> pa.RecordBatch:
    """The batch without its blank rows and the rows that cannot be taken (recorded)."""
    n = batch.num_rows
    if not n:
        return batch
    blank = _blank_rows(batch)
    problems: dict[int, str] = {}
    runaway = None
    if not (stream.nul or stream.replaced or stream.quoted):  # nothing to look for
        return source.drop_rows(batch, position, problems, blank)
    for header, column in zip(batch.schema.names, batch.columns, strict=True):
        data = column.buffers()[2]
        if data is None or not data.size:
            continue
        raw = data.to_pybytes()  # a copy, searched at memchr speed
        if stream.nul and b"\x00" in raw:
            error = f"column '{header}' holds a NUL byte (binary data, not text)"
            problems.update((i, error) for i in _holding(column, "\x00") if i not in problems)
        if stream.replaced and "\ufffd".encode() in raw:
            error = f"column '{header}' is not valid {source.encoding} text"
            problems.update((i, error) for i in _holding(column, "\ufffd") if i not in problems)
        if runaway is None and stream.quoted and stream.line_break in raw:
            runaway = _runaway_cell(column, header, source)
    if runaway is not None:
        at, header, lines = runaway
        raise _runaway(source, int(source.row_numbers(position + at, 1)[0]), lines, header)
    return source.drop_rows(batch, position, problems, blank)


def _blank_rows(batch: pa.RecordBatch) -> np.ndarray | None:
    """Rows whose every cell is empty (a blank spreadsheet row), or None when there are none."""
    columns = batch.columns
    if not columns or any(column.null_count == 0 for column in columns):  # the id, usually
        return None
    blank = columns[0].is_null()
    for column in columns[1:]:
        blank = pc.and_(blank, column.is_null())
    mask = blank.to_numpy(zero_copy_only=False)
    return mask if mask.any() else None


def _holding(column: pa.Array, text: str) -> list[int]:
    hits = pc.fill_null(pc.match_substring(column, text), False)
    return np.flatnonzero(hits.to_numpy(zero_copy_only=False)).tolist()


def _runaway_cell(
    column: pa.Array, header: str, source: TableSource
) -> tuple[int, str, int] | None:
    hits = pc.fill_null(pc.match_substring_regex(column, r"[\r\n]"), False)
    for i in np.flatnonzero(hits.to_numpy(zero_copy_only=False)):
        lines = _cell_lines(column[int(i)].as_py())
        if _swallows(lines, source.delimiter, len(source.headers)):
            return int(i), header, len(lines) - 1
    return None
