"""The one chunk pipeline: open a file, map its headers once, then normalise and validate chunks.

Every command that reads cooperatives goes through :class:`ChunkPipeline`: ``validate``,
``train`` and ``plan`` collect its chunks, the local engine scores them as they come, and the
Dask engine ships :func:`validate_raw_chunk` (the same function) to its workers while the driver
keeps the bookkeeping that needs file order: repeated ids and rows the reader could not split.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import SimpleQueue
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from scoring.contract import Contract
from scoring.errors import ContractError
from scoring.headers import header_columns, map_headers, require_model_columns
from scoring.normalize import normalize_chunk
from scoring.reading import BadRow, HeaderScore, TableSource, open_table
from scoring.validation import ChunkResult, ValidationReport, Validator, empty_rejects

__all__ = [
    "VALIDATE_AHEAD",
    "ChunkPipeline",
    "Collected",
    "RawChunk",
    "collect_file",
    "header_score",
    "iter_validated",
    "open_source",
    "validate_file",
    "validate_raw_chunk",
]


#: Validate the next chunk on a second thread while the caller scores this one
#: (:meth:`ChunkPipeline.chunks`); False computes every chunk in the caller's thread.
VALIDATE_AHEAD = True
_T = TypeVar("_T")
_DONE = object()


@dataclass(frozen=True)
class RawChunk:
    """Cells of one chunk as read (text), with each row's spreadsheet row number."""

    table: pa.Table
    rows: np.ndarray


def validate_raw_chunk(
    raw: RawChunk,
    headers: dict[str, str],
    validator: Validator,
    keep: Mapping[str, str] | None = None,
    *,
    labelled: bool = False,
) -> ChunkResult:
    """Normalise and validate one raw chunk; pass ``keep`` input columns through (as text).

    ``keep`` maps each kept column's output name to the header it is read from.

    A pure function of its arguments but for ``validator``'s memory of ids (none when it does
    not check repeated ids), so a Dask worker runs exactly what the local engine runs.
    """
    normalized = normalize_chunk(raw.table, headers, validator.contract, labelled=labelled)
    result = validator.validate(normalized, raw.rows)
    if keep:
        valid = ~np.isin(raw.rows, result.rejects["row"].to_numpy(dtype=np.int64))
        result.passthrough = _passthrough(raw.table, keep, valid)
    result.ids = normalized.frame[validator.contract.id_column.name]
    return result


class ChunkPipeline:
    """A file opened against a contract: headers mapped once, chunks validated in file order.

    Parameters
    ----------
    source
        The opened table (:func:`scoring.reading.open_table`).
    contract
        The contract to validate against (a model's stored contract when scoring).
    labelled
        Require and check the label column.
    keep
        Input headers to pass through with the valid rows (as written in the file, or the
        contract name of a mapped column).

    Raises
    ------
    ContractError
        A required column is missing, or a ``keep`` name is not in the file.
    InputFileError
        A contract column's stored type holds no text or number (a Parquet list or struct).
    """

    def __init__(
        self,
        source: TableSource,
        contract: Contract,
        *,
        labelled: bool = False,
        keep: Sequence[str] = (),
        strict: bool = False,
    ) -> None:
        self.source = source
        self.contract = contract
        self.labelled = labelled
        # A HeaderMap: it reads as {column: header}, and carries the units and the coverage.
        self.headers = map_headers(
            source.headers, contract, source=source.path.name, labelled=labelled
        )
        if strict:  # a model column the file lacks is an error, before any row is read
            require_model_columns(self.headers, contract, source.path.name)
        #: Kept columns: the name asked for -> the header it is read from.
        self.keep = {name: self._kept_header(name) for name in keep}
        missing = [name for name, header in self.keep.items() if header is None]
        if missing:
            raise ContractError(
                f"kept column(s) {missing} are not in {source.path.name} "
                f"(found: {', '.join(source.headers[:12])})",
                column=missing[0],
                parameter="keep_columns",
            )
        source.check_types(list(self.headers.values()))
        # Integers in these stay exact as floats or their rows are rejected (Parquet).
        self._numbers = [
            header
            for name, header in self.headers.items()
            if name in contract.names and contract.column(name).is_numeric
        ]
        id_header = self.headers.get(contract.id_column.name)
        self._id_position = source.headers.index(id_header) if id_header in source.headers else None
        self._reported_bad = 0

    def _kept_header(self, name: str) -> str | None:
        """A kept name as written in the file, a contract column's name, or any header the
        contract accepts for that column (``نام`` for ``name``)."""
        if name in self.source.headers:
            return name
        column = name if name in self.headers else header_columns([name], self.contract)[0]
        return self.headers.get(column) if column is not None else None

    def raw_chunks(self, chunk_size: int = 100_000) -> Iterator[RawChunk]:
        """The file's chunks as read, each with its rows' spreadsheet numbers."""
        self._reported_bad = 0
        for first_row, table in self.source.chunks(chunk_size, numbers=self._numbers):
            yield RawChunk(table, self.source.row_numbers(first_row, table.num_rows))

    def validator(self, *, check_duplicates: bool = True) -> Validator:
        """A validator for this file (it remembers ids across chunks when it checks them)."""
        return Validator(self.contract, labelled=self.labelled, check_duplicates=check_duplicates)

    def chunks(
        self, chunk_size: int = 100_000, *, ahead: bool | None = None
    ) -> Iterator[ChunkResult]:
        """Validated chunks in file order, unsplittable rows among the rejects where met.

        With ``ahead`` (default :data:`VALIDATE_AHEAD`) a thread reads, normalises and
        validates the next chunk while the caller works on this one, then waits: two chunks
        alive at most. Arrow and numpy work without the GIL, so the two overlap on two cores.
        The order and the check of repeated ids are those of one thread: a single validator
        sees the chunks in file order. An error reading or validating a chunk is raised here,
        where that chunk would have come. Closing the iterator, or Ctrl-C while it waits,
        stops the thread once the chunk it is computing is done.
        """
        in_order = self._in_order(chunk_size)
        return _one_ahead(in_order) if (VALIDATE_AHEAD if ahead is None else ahead) else in_order

    def chunks_holding(self, rows: int = 100_000) -> Iterator[ChunkResult]:
        """:meth:`chunks` with at most about ``rows`` rows in memory at once.

        With the validating thread two chunks are alive at a time (the caller's and the next),
        so each holds half of ``rows``: memory then stays that of one ``rows`` chunk however
        long the file, and a file of ``rows`` rows is overlapped too.
        """
        ahead = VALIDATE_AHEAD
        return self.chunks(max(1, rows // 2) if ahead else rows, ahead=ahead)

    def _in_order(self, chunk_size: int) -> Generator[ChunkResult, None, None]:
        """:meth:`chunks` computed in the calling thread."""
        validator = self.validator()
        for raw in self.raw_chunks(chunk_size):
            result = validate_raw_chunk(
                raw, self.headers, validator, self.keep, labelled=self.labelled
            )
            # Let this chunk's cells go before the next is read: two chunks alive at once
            # would make memory grow with the file.
            del raw
            yield self.with_bad_rows(result)
            del result  # nor this chunk's results while the next is computed
        tail = self.remaining_bad_rows(validator)
        if tail is not None:
            yield tail

    def with_bad_rows(self, result: ChunkResult, last_row: int | None = None) -> ChunkResult:
        """Add the unsplittable rows met up to ``last_row`` (default: the chunk's last row)."""
        if last_row is None:
            rows = result.rows
            last_row = int(rows[-1]) if len(rows) else 0
        bad = self.source.bad_rows[self._reported_bad :]
        new = [b for b in bad if b.row <= last_row]
        self._reported_bad += len(new)
        return self._attach(result, new) if new else result

    def remaining_bad_rows(self, validator: Validator) -> ChunkResult | None:
        """After the last chunk: a chunk of no valid rows holding the bad rows not yet told."""
        rest = self.source.bad_rows[self._reported_bad :]
        if not rest:
            return None
        self._reported_bad += len(rest)
        # Validate no rows, so that the valid frame has the columns and types of the others.
        no_rows = RawChunk(
            pa.table({h: pa.array([], pa.string()) for h in self.source.headers}),
            np.empty(0, dtype=np.int64),
        )
        empty = validate_raw_chunk(no_rows, self.headers, validator, labelled=self.labelled)
        return self._attach(empty, rest)

    def _attach(self, result: ChunkResult, bad: list[BadRow]) -> ChunkResult:
        extra = [
            {"row": item.row, "coop_id": self._bad_row_id(item), "error": item.error}
            for item in bad
        ]
        rejects = pd.concat([result.rejects, pd.DataFrame(extra)], ignore_index=True)
        result.rejects = rejects.sort_values("row", kind="stable").reset_index(drop=True)
        result.rows_read += len(bad)
        return result

    def _bad_row_id(self, item: BadRow) -> str:
        if self._id_position is None:
            return ""
        fields = item.text.split(self.source.delimiter)
        return fields[self._id_position].strip() if self._id_position < len(fields) else ""


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def _one_ahead(items: Generator[_T, None, None]) -> Iterator[_T]:
    """``items`` in order, each computed by a thread while the caller works on the one before."""
    handed: SimpleQueue = SimpleQueue()
    # The thread may compute one item beyond the caller's, then waits for the caller to take it.
    permit = threading.Semaphore(1)
    stop = threading.Event()

    def produce() -> None:
        try:
            while permit.acquire() and not stop.is_set():
                item = next(items, _DONE)
                handed.put(item)
                if item is _DONE:
                    return
                del item  # held by the caller alone: freed as soon as it is done with it
        except BaseException as exc:  # raised in the caller's thread, in place of the item
            handed.put(_Failed(exc))
        finally:
            items.close()  # in the thread that runs it (it may hold a file and a reader thread)

    # A daemon: a caller interrupted and never closed must not keep the interpreter alive.
    thread = threading.Thread(target=produce, name="readiness-validate-ahead", daemon=True)
    thread.start()
    try:
        while (item := handed.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            permit.release()  # compute the next item while the caller works on this one
            yield item
            del item  # not kept alive while waiting for the next one
    finally:
        stop.set()
        permit.release()  # wake a thread waiting for its permit, so that it sees the stop
        thread.join()


def header_score(contract: Contract, *, labelled: bool = False) -> HeaderScore:
    """How :func:`~scoring.reading.open_table` tells the header row from title rows above it.

    A candidate row scores ``(it names every required column, how many columns it names)``.
    """
    required = {c.name for c in contract.columns if c.required and not c.training_only}
    if labelled:
        required.add(contract.model.label)

    def score(cells: Sequence[str]) -> tuple[bool, int]:
        named = {name for name in header_columns(cells, contract) if name is not None}
        return required <= named, len(named)

    return score


def open_source(
    path: str | Path,
    contract: Contract,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    labelled: bool = False,
) -> TableSource:
    """Open a file for ``contract``: its header row found (or ``header_row``, 1-based, forced)."""
    return open_table(
        path,
        encoding=encoding,
        sheet=sheet,
        header_row=header_row,
        header_score=header_score(contract, labelled=labelled),
    )


def iter_validated(
    source: TableSource,
    contract: Contract,
    *,
    chunk_size: int = 100_000,
    labelled: bool = False,
    keep: Sequence[str] | None = None,
) -> Iterator[ChunkResult]:
    """Read, normalise and validate a file chunk by chunk, in file order.

    Raises
    ------
    ContractError
        A required column is missing (before any row is read).
    """
    pipeline = ChunkPipeline(source, contract, labelled=labelled, keep=keep or ())
    yield from pipeline.chunks(chunk_size)


@dataclass
class Collected:
    """A whole file validated: its valid rows, its rejects and the report."""

    valid: pd.DataFrame
    rejects: pd.DataFrame
    report: ValidationReport


def collect_file(
    path: str | Path,
    contract: Contract,
    *,
    chunk_size: int = 100_000,
    labelled: bool = False,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    keep_valid: bool = True,
    strict: bool = False,
) -> Collected:
    """Validate a whole file and gather the valid rows (unless ``keep_valid`` is False).

    ``strict`` refuses a file that lacks a column the model uses; the report carries the
    file's header map either way (which header fed which column, what matched nothing).
    """
    source = open_source(
        path, contract, encoding=encoding, sheet=sheet, header_row=header_row, labelled=labelled
    )
    pipeline = ChunkPipeline(source, contract, labelled=labelled, strict=strict)
    report = ValidationReport(header_row=source.header_row, headers=pipeline.headers)
    valid, rejects = [], []
    for result in pipeline.chunks(chunk_size):
        report.add(result)
        if keep_valid:
            valid.append(result.valid)
        if len(result.rejects):
            rejects.append(result.rejects)
    return Collected(
        valid=pd.concat(valid, ignore_index=True) if valid else pd.DataFrame(),
        rejects=pd.concat(rejects, ignore_index=True) if rejects else empty_rejects(),
        report=report,
    )


def validate_file(
    path: str | Path,
    contract: Contract,
    *,
    chunk_size: int = 100_000,
    labelled: bool = False,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    strict: bool = False,
) -> tuple[ValidationReport, pd.DataFrame]:
    """Validate a whole file: the report and every rejected row (row, coop_id, error)."""
    collected = collect_file(
        path,
        contract,
        chunk_size=chunk_size,
        labelled=labelled,
        encoding=encoding,
        sheet=sheet,
        header_row=header_row,
        keep_valid=False,
        strict=strict,
    )
    return collected.report, collected.rejects


def _passthrough(table: pa.Table, keep: Mapping[str, str], valid: np.ndarray) -> pd.DataFrame:
    columns = {}
    for name, header in keep.items():
        values = table.column(header).to_numpy(zero_copy_only=False)
        columns[name] = np.asarray(values, dtype=object)[valid]
    return pd.DataFrame(columns)
