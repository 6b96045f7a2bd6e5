"""Row-level validation: every row is either valid or rejected with all of its problems.

A row is rejected when a required cell is empty, a filled cell cannot be read, a value breaks a
rule of the contract, or its id repeats an earlier row's (across chunks too). Nothing is dropped
silently: ``rows_read == rows_valid + rows_rejected`` for every chunk and every file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from scoring.contract import Column, Contract
from scoring.normalize import NormalizedChunk, map_headers, normalize_chunk
from scoring.reading import TableSource, open_table

__all__ = [
    "REJECT_COLUMNS",
    "ChunkResult",
    "ValidationReport",
    "Validator",
    "iter_validated",
    "validate_file",
]

REJECT_COLUMNS = ["row", "coop_id", "error"]
_MAX_QUOTE = 40


@dataclass
class ChunkResult:
    """One validated chunk: the valid rows (canonical columns plus ``row``) and the rejects."""

    valid: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int
    unknown_categories: dict[str, Counter] = field(default_factory=dict)
    passthrough: pd.DataFrame | None = None


@dataclass
class ValidationReport:
    """Counts and the most common problems of a whole file."""

    rows_read: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    problems: Counter = field(default_factory=Counter)
    unknown_categories: dict[str, Counter] = field(default_factory=dict)

    def add(self, result: ChunkResult) -> None:
        self.rows_read += result.rows_read
        self.rows_valid += len(result.valid)
        self.rows_rejected += len(result.rejects)
        for error in result.rejects["error"]:
            for problem in str(error).split("; "):
                self.problems[_problem_kind(problem)] += 1
        for column, counts in result.unknown_categories.items():
            self.unknown_categories.setdefault(column, Counter()).update(counts)


class Validator:
    """Validates chunks of one file in order, remembering ids across chunks.

    Parameters
    ----------
    contract
        The contract to check against.
    labelled
        Require and check the label column (training and evaluation data).
    """

    def __init__(self, contract: Contract, *, labelled: bool = False) -> None:
        self.contract = contract
        self.labelled = labelled
        self._seen_hashes = np.empty(0, dtype=np.uint64)
        self._seen_rows = np.empty(0, dtype=np.int64)

    def validate(
        self,
        chunk: NormalizedChunk,
        rows: np.ndarray,
        *,
        keep: list[str] | None = None,
    ) -> ChunkResult:
        """Split a normalised chunk into valid rows and rejects.

        ``rows`` holds each row's spreadsheet row number. ``keep`` names raw input columns (as
        written in the header) to pass through with the valid rows.
        """
        frame = chunk.frame
        n = len(frame)
        messages: list[tuple[np.ndarray, dict[int, str]]] = []
        for column in self.contract.input_columns(labelled=self.labelled):
            problems = self._column_problems(column, chunk)
            if problems is not None:
                messages.append(problems)
        duplicate = self._duplicates(frame[self.contract.id_column.name].to_numpy(), rows)
        if duplicate is not None:
            messages.append(duplicate)
        bad = np.zeros(n, dtype=bool)
        for mask, _ in messages:
            bad |= mask
        rejects = _rejects(rows, frame[self.contract.id_column.name].to_numpy(), bad, messages)
        valid = frame.loc[~bad].copy()
        valid.insert(0, "row", rows[~bad])
        valid = valid.reset_index(drop=True)
        return ChunkResult(valid, rejects, n, chunk.unknown_categories)

    def _column_problems(
        self, column: Column, chunk: NormalizedChunk
    ) -> tuple[np.ndarray, dict[int, str]] | None:
        values = chunk.frame[column.name]
        original = chunk.originals.get(column.name)
        n = len(values)
        unreadable, problem = chunk.unreadable.get(column.name, (np.zeros(n, dtype=bool), ""))
        missing = _missing(values) & ~unreadable
        checks: list[tuple[np.ndarray, str]] = []
        if column.name in chunk.fractional:  # first: each cell gets the first message it fits
            checks.append((chunk.fractional[column.name], "is not a whole number"))
        if unreadable.any():
            checks.append((unreadable, problem))
        needed = column.required or (column.training_only and self.labelled)
        if needed and missing.any():
            checks.append((missing, "is empty but required"))
        if column.is_numeric:
            numbers = np.asarray(values, dtype=np.float64)
            checks.extend(_range_checks(numbers, column))
        if not checks:
            return None
        mask = np.zeros(n, dtype=bool)
        for check, _ in checks:
            mask |= check
        index = np.flatnonzero(mask)
        texts = _quote(original, index)
        lines = []
        for position, i in enumerate(index):
            for check, what in checks:
                if check[i]:
                    quoted = "" if what == "is empty but required" else f" '{texts[position]}'"
                    lines.append(f"{column.name}:{quoted} {what}")
                    break
        return mask, _align(index, lines, n)

    def _duplicates(
        self, ids: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, dict[int, str]] | None:
        present = pd.notna(ids)
        hashes = pd.util.hash_array(np.where(present, ids, "").astype(object))
        n = len(ids)
        mask = np.zeros(n, dtype=bool)
        first_row = np.zeros(n, dtype=np.int64)
        if len(self._seen_hashes):
            pos = np.searchsorted(self._seen_hashes, hashes)
            pos_clipped = np.minimum(pos, len(self._seen_hashes) - 1)
            earlier = (self._seen_hashes[pos_clipped] == hashes) & present
            mask |= earlier
            first_row[earlier] = self._seen_rows[pos_clipped[earlier]]
        series = pd.Series(hashes)
        within = series.duplicated(keep="first").to_numpy() & present & ~mask
        if within.any():
            first_index = series[present].drop_duplicates(keep="first")
            lookup = pd.Series(rows[first_index.index.to_numpy()], index=first_index.to_numpy())
            first_row[within] = lookup.loc[hashes[within]].to_numpy()
            mask |= within
        new = present & ~mask
        new_hashes, unique_index = np.unique(hashes[new], return_index=True)
        if len(new_hashes):
            merged = np.concatenate([self._seen_hashes, new_hashes])
            merged_rows = np.concatenate([self._seen_rows, rows[new][unique_index]])
            order = np.argsort(merged, kind="stable")
            self._seen_hashes = merged[order]
            self._seen_rows = merged_rows[order]
        if not mask.any():
            return None
        index = np.flatnonzero(mask)
        name = self.contract.id_column.name
        lines = [f"{name}: '{_shorten(str(ids[i]))}' repeats row {first_row[i]}" for i in index]
        return mask, _align(index, lines, n)


def iter_validated(
    source: TableSource,
    contract: Contract,
    *,
    chunk_size: int = 100_000,
    labelled: bool = False,
    keep: list[str] | None = None,
) -> Iterator[ChunkResult]:
    """Read, normalise and validate a file chunk by chunk, in file order.

    Rows the reader could not split (wrong number of fields) come out as rejects of the chunk
    being read when they were met. ``keep`` names input headers to pass through (as text).

    Raises
    ------
    ContractError
        A required column is missing (before any row is read).
    """
    headers = map_headers(source.headers, contract, source=source.path.name, labelled=labelled)
    missing_keep = [k for k in keep or [] if k not in source.headers and k not in headers]
    if missing_keep:
        from scoring.errors import ContractError

        raise ContractError(
            f"--keep-columns names {missing_keep}, not in {source.path.name} "
            f"(found: {', '.join(source.headers[:12])})"
        )
    validator = Validator(contract, labelled=labelled)
    reported_bad = 0
    for first_row, table in source.chunks(chunk_size):
        rows = source.row_numbers(first_row, table.num_rows)
        normalized = normalize_chunk(table, headers, contract, labelled=labelled)
        result = validator.validate(normalized, rows)
        if keep:
            result.passthrough = _passthrough(table, keep, headers, ~result_bad(result, rows))
        last_row = int(rows[-1]) if len(rows) else 0
        new_bad = [b for b in source.bad_rows[reported_bad:] if b.row <= last_row]
        reported_bad += len(new_bad)
        if new_bad:
            result = _with_bad_rows(result, new_bad, source, contract)
        yield result
    new_bad = source.bad_rows[reported_bad:]
    if new_bad:
        # Validate no rows, so that the valid frame has the columns and types of the others.
        no_rows = pa.table({h: pa.array([], pa.string()) for h in source.headers})
        normalized = normalize_chunk(no_rows, headers, contract, labelled=labelled)
        empty = validator.validate(normalized, np.empty(0, dtype=np.int64))
        yield _with_bad_rows(empty, new_bad, source, contract)


def validate_file(
    path: str | Path,
    contract: Contract,
    *,
    chunk_size: int = 100_000,
    labelled: bool = False,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> tuple[ValidationReport, pd.DataFrame]:
    """Validate a whole file: the report and every rejected row (row, coop_id, error)."""
    source = open_table(path, encoding=encoding, sheet=sheet)
    report = ValidationReport()
    rejects = []
    for result in iter_validated(source, contract, chunk_size=chunk_size, labelled=labelled):
        report.add(result)
        if len(result.rejects):
            rejects.append(result.rejects)
    frame = pd.concat(rejects, ignore_index=True) if rejects else _empty_rejects()
    return report, frame


def result_bad(result: ChunkResult, rows: np.ndarray) -> np.ndarray:
    """Which of a chunk's rows were rejected (by row number)."""
    return np.isin(rows, result.rejects["row"].to_numpy(dtype=np.int64))


def _passthrough(
    table: pa.Table, keep: list[str], headers: dict[str, str], valid: np.ndarray
) -> pd.DataFrame:
    columns = {}
    for name in keep:
        header = headers.get(name, name)
        values = table.column(header).to_numpy(zero_copy_only=False)
        columns[name] = np.asarray(values, dtype=object)[valid]
    return pd.DataFrame(columns)


def _with_bad_rows(result: ChunkResult, bad: list, source: TableSource, contract: Contract):
    id_position = None
    headers = map_headers(source.headers, contract, source=source.path.name)
    id_header = headers.get(contract.id_column.name)
    if id_header in source.headers:
        id_position = source.headers.index(id_header)
    extra = []
    for item in bad:
        fields = item.text.split(source.delimiter)
        coop_id = (
            fields[id_position].strip()
            if id_position is not None and id_position < len(fields)
            else ""
        )
        extra.append({"row": item.row, "coop_id": coop_id, "error": item.error})
    rejects = pd.concat([result.rejects, pd.DataFrame(extra)], ignore_index=True)
    rejects = rejects.sort_values("row", kind="stable").reset_index(drop=True)
    result.rejects = rejects
    result.rows_read += len(bad)
    return result


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype=np.int64), "coop_id": [], "error": []})


def _rejects(
    rows: np.ndarray,
    ids: np.ndarray,
    bad: np.ndarray,
    messages: list[tuple[np.ndarray, dict[int, str]]],
) -> pd.DataFrame:
    index = np.flatnonzero(bad)
    if not len(index):
        return _empty_rejects()
    errors = []
    for i in index:
        parts = [lines[i] for mask, lines in messages if mask[i]]
        errors.append("; ".join(parts))
    coop_ids = ["" if pd.isna(ids[i]) else str(ids[i]) for i in index]
    return pd.DataFrame({"row": rows[index].astype(np.int64), "coop_id": coop_ids, "error": errors})


def _align(index: np.ndarray, lines: list[str], n: int) -> dict[int, str]:
    """``{row position: message}`` for the rows in ``index`` (``n`` rows in the chunk)."""
    return {int(i): line for i, line in zip(index, lines, strict=True)}


def _missing(values: object) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.isna().to_numpy()
    return pd.isna(np.asarray(values))


def _range_checks(numbers: np.ndarray, column: Column) -> list[tuple[np.ndarray, str]]:
    checks = []
    with np.errstate(invalid="ignore"):
        if column.min is not None:
            checks.append((numbers < column.min, f"is below the minimum {_fmt(column.min)}"))
        if column.min_exclusive is not None:
            checks.append(
                (
                    numbers <= column.min_exclusive,
                    f"must be greater than {_fmt(column.min_exclusive)}",
                )
            )
        if column.max is not None:
            checks.append((numbers > column.max, f"is above the maximum {_fmt(column.max)}"))
        if column.max_exclusive is not None:
            checks.append(
                (numbers >= column.max_exclusive, f"must be less than {_fmt(column.max_exclusive)}")
            )
    return [(mask, what) for mask, what in checks if mask.any()]


def _quote(original: pa.Array | None, index: np.ndarray) -> list[str]:
    if original is None or not len(index):
        return [""] * len(index)
    taken = original.take(pa.array(index)).to_pylist()
    return [_shorten("" if v is None else str(v)) for v in taken]


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_QUOTE else text[: _MAX_QUOTE - 1] + "…"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _problem_kind(problem: str) -> str:
    """A message without its quoted cell, to count problems of one kind together."""
    if ":" not in problem:
        return problem
    column, rest = problem.split(":", 1)
    rest = rest.strip()
    if rest.startswith("'"):
        closing = rest.find("' ", 1)
        rest = rest[closing + 2 :] if closing > 0 else rest
    if rest.startswith("repeats row"):
        rest = "repeats an earlier row"
    return f"{column}: {rest}"
