"""Row-level validation: every row is either valid or rejected with all of its problems.

A row is rejected when a required cell is empty, a filled cell cannot be read, a value breaks a
rule of the contract, or its id repeats an earlier row's (across chunks too). Nothing is dropped
silently: ``rows_read == rows_valid + rows_rejected`` for every chunk and every file.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import sliding_window_view

from scoring.buffers import text_buffers
from scoring.contract import Column, Contract
from scoring.normalize import NormalizedChunk
from scoring.text import fold_matches

__all__ = [
    "REJECT_COLUMNS",
    "ChunkResult",
    "ValidationReport",
    "Validator",
    "empty_rejects",
    "reject_table",
]

REJECT_COLUMNS = ["row", "coop_id", "error"]
_MAX_QUOTE = 40
_TOTALS = "totals row"
_PACKED_BYTES = 32  # ids up to this long are hashed in numpy
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1, _MIX_2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
#: ``_LOW_BYTES[k]``: the word whose first ``k`` bytes in memory are 0xFF, the rest zero.
_LOW_BYTES = np.where(np.arange(8) < np.arange(9)[:, None], 0xFF, 0).astype(np.uint8)
_LOW_BYTES = _LOW_BYTES.view(np.uint64)[:, 0]


@dataclass
class ChunkResult:
    """One validated chunk: the valid rows (canonical columns plus ``row``) and the rejects.

    ``rows`` holds the spreadsheet row of every row read in the chunk and ``ids`` their ids
    as normalised (the Dask driver checks repeated ids with them); ``passthrough`` the kept
    input columns of the valid rows.
    """

    valid: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int
    unknown_categories: dict[str, Counter] = field(default_factory=dict)
    passthrough: pd.DataFrame | None = None
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    ids: pd.Series | None = None


@dataclass
class ValidationReport:
    """Counts and the most common problems of a whole file."""

    rows_read: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    problems: Counter = field(default_factory=Counter)
    unknown_categories: dict[str, Counter] = field(default_factory=dict)
    header_row: int = 1  # the spreadsheet row the headers were found on
    #: The file's headers mapped to the contract (a HeaderMap: coverage, units, unmatched).
    headers: Any = None

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

    def __init__(
        self, contract: Contract, *, labelled: bool = False, check_duplicates: bool = True
    ) -> None:
        self.contract = contract
        self.labelled = labelled
        # The Dask engine validates chunks apart and checks repeated ids on the driver.
        self.check_duplicates = check_duplicates
        # The ids met so far: runs of (hashes, sorted; the row where each was first met).
        self._seen = _SeenIds()

    def validate(self, chunk: NormalizedChunk, rows: np.ndarray) -> ChunkResult:
        """Split a normalised chunk into valid rows and rejects.

        ``rows`` holds each row's spreadsheet row number.
        """
        frame = chunk.frame
        n = len(frame)
        messages: list[tuple[np.ndarray, dict[int, str]]] = []
        for column in self.contract.input_columns(labelled=self.labelled):
            problems = self._column_problems(column, chunk)
            if problems is not None:
                messages.append(problems)
        ids = frame[self.contract.id_column.name]
        id_totals = fold_matches(ids, self.contract.totals)
        totals = self._totals_rows(chunk, id_totals)
        if totals is not None:  # its other cells are sums or blank: say only what the row is
            messages = [(mask & ~totals, lines) for mask, lines in messages]
            messages.insert(0, (totals, dict.fromkeys(np.flatnonzero(totals).tolist(), _TOTALS)))
        duplicate = self._duplicates(ids, rows, id_totals) if self.check_duplicates else None
        if duplicate is not None:
            messages.append(duplicate)
        bad = np.zeros(n, dtype=bool)
        for mask, _ in messages:
            bad |= mask
        rejects = _rejects(rows, ids, bad, messages)
        # Copy-on-write: a filtered or shallow-copied frame never changes the chunk's.
        valid = frame.loc[~bad] if bad.any() else frame.copy(deep=False)
        valid.insert(0, "row", rows[~bad])
        valid = valid.reset_index(drop=True)
        return ChunkResult(valid, rejects, n, chunk.unknown_categories, rows=rows)

    def _totals_rows(self, chunk: NormalizedChunk, id_totals: np.ndarray) -> np.ndarray | None:
        """Rows whose id or name is a whole ``[totals]`` word (``جمع کل``), or None if none is."""
        totals = id_totals.copy()
        for column in self.contract.totals_columns:
            if column.type != "id" and column.name in chunk.originals:  # read, not absent
                totals |= fold_matches(chunk.frame[column.name], self.contract.totals)
        return totals if totals.any() else None

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
            checks.extend(column.range_violations(numbers))
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
        return mask, _by_position(index, lines)

    def repeated_ids(
        self, ids: pd.Series, rows: np.ndarray
    ) -> tuple[np.ndarray, dict[int, str]] | None:
        """Rows whose id an earlier row (of this or an earlier chunk) had, with their messages.

        Remembers the chunk's ids: call it once per chunk, in file order.
        """
        return self._duplicates(ids, rows)

    def _duplicates(
        self, ids: pd.Series, rows: np.ndarray, id_totals: np.ndarray | None = None
    ) -> tuple[np.ndarray, dict[int, str]] | None:
        n = len(ids)
        texts = _id_texts(ids)
        if id_totals is None:
            id_totals = fold_matches(ids, self.contract.totals)
        if id_totals.any():  # a totals word (several subtotal rows) is no id: never a repeat
            texts = pc.if_else(pa.array(~id_totals), texts, pa.scalar(None, texts.type))
        if texts.null_count == n:
            return None
        present = np.arange(n)
        if texts.null_count:
            valid = pc.is_valid(texts)
            present = np.flatnonzero(valid.to_numpy(zero_copy_only=False))
            texts = texts.filter(valid)
        hashes = _hash_texts(texts)
        # Sorted by hash (stably, so the first of equal ids is the earliest row), a chunk's ids
        # fall into runs of one id; a run's first cell is new unless an earlier chunk had it.
        order = _argsort_stable(hashes)
        sorted_hashes = hashes[order]
        sorted_rows = rows[present[order]]
        starts = np.ones(len(order), dtype=bool)
        np.not_equal(sorted_hashes[1:], sorted_hashes[:-1], out=starts[1:])
        run = np.cumsum(starts) - 1
        run_hashes, run_rows = sorted_hashes[starts], sorted_rows[starts]
        seen_before, run_rows = self._seen.look_up(run_hashes, run_rows)
        repeated = ~starts | seen_before[run]
        new = ~seen_before
        self._seen.add(run_hashes[new], run_rows[new])
        if not repeated.any():
            return None
        mask = np.zeros(n, dtype=bool)
        first_row = np.zeros(n, dtype=np.int64)
        positions = present[order[repeated]]
        mask[positions] = True
        first_row[positions] = run_rows[run[repeated]]
        index = np.flatnonzero(mask)
        shown = _id_texts(ids).take(pa.array(index)).to_pylist()
        name = self.contract.id_column.name
        lines = [
            f"{name}: '{_shorten(str(text))}' repeats row {first_row[i]}"
            for i, text in zip(index, shown, strict=True)
        ]
        return mask, _by_position(index, lines)


def _id_texts(ids: pd.Series) -> pa.Array:
    """The ids as one Arrow text array (no copy when they are Arrow-backed already)."""
    values = ids.array
    if isinstance(values, pd.arrays.ArrowStringArray):
        texts = pa.array(values)
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
    else:
        texts = pa.array(ids.map(str, na_action="ignore"), pa.string(), from_pandas=True)
    return texts


def _hash_texts(texts: pa.Array) -> np.ndarray:
    """64-bit hashes of text cells (none missing): equal texts, equal hashes.

    Cells of up to 32 bytes are hashed in numpy from their bytes, eight at a time (a length
    seed, then per word of the cell: xor, murmur3's finaliser); longer ones by pandas. The hash
    depends on the cell alone, so an id hashes the same in every chunk.
    """
    offsets, data = text_buffers(texts)
    lengths = np.diff(offsets)
    hashes = lengths.astype(np.uint64) * _GOLDEN
    starts = offsets[:-1]
    # Every run of 8 bytes of the column (zeros past its end), each readable as one word.
    windows = sliding_window_view(np.concatenate([data, np.zeros(8, np.uint8)]), 8)
    for first in range(0, min(int(lengths.max(initial=0)), _PACKED_BYTES), 8):
        at = np.minimum(starts + first, len(data))
        word = windows[at].view(np.uint64)[:, 0]  # the cell's bytes first..first+7, and after
        word &= _LOW_BYTES[np.clip(lengths - first, 0, 8)]  # the cell's alone: zeros after
        mixed = hashes ^ word
        for multiplier in (_MIX_1, _MIX_2):
            mixed ^= mixed >> np.uint64(33)
            mixed *= multiplier
        mixed ^= mixed >> np.uint64(33)
        # Only cells that reach this word: a cell's hash must not depend on its neighbours.
        hashes = np.where(lengths > first, mixed, hashes)
    long = lengths > _PACKED_BYTES
    if long.any():
        cells = texts.filter(pa.array(long)).to_numpy(zero_copy_only=False)
        hashes[long] = pd.util.hash_array(cells, categorize=False)
    return hashes


def _argsort_stable(hashes: np.ndarray) -> np.ndarray:
    """``np.argsort(hashes, kind="stable")`` for uint64, as four 16-bit radix passes (faster)."""
    order = np.argsort(hashes.astype(np.uint16), kind="stable")
    for shift in (16, 32, 48):
        digit = (hashes[order] >> np.uint64(shift)).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
    return order


class _SeenIds:
    """Hashes of the ids met so far and the row where each was first met, as sorted runs.

    Runs are merged as the digits of a binary counter (a new run absorbs the runs not larger
    than itself): each id is copied about log2(chunks) times in all, not once per later chunk,
    and at most that many runs are searched. Each hash is in one run only. A byte per slot
    (``2**_SLOT_BITS`` of them), marked for every hash added (by its top bits), says which may have
    been met: only those are searched for, so a file of new ids costs no binary searches (a
    search into a million ids misses the cache at every step). A slot shared by two hashes
    makes a needless search, never a missed id.
    """

    _SLOT_BITS = 23  # 8 MiB of slots: at 1M ids met, about one new id in nine is searched for

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # largest first
        self._slots: np.ndarray | None = None  # made at the first add

    def _slot(self, hashes: np.ndarray) -> np.ndarray:
        return (hashes >> np.uint64(64 - self._SLOT_BITS)).astype(np.intp)

    def look_up(self, hashes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which sorted ``hashes`` were met before, and each one's first row (else ``rows``)."""
        seen = np.zeros(len(hashes), dtype=bool)
        if self._slots is None or not len(hashes):
            return seen, rows
        maybe = np.flatnonzero(self._slots.take(self._slot(hashes)))
        if not len(maybe):
            return seen, rows
        wanted, first_rows = hashes[maybe], rows[maybe]
        found_any = np.zeros(len(maybe), dtype=bool)
        for run_hashes, run_rows in self._runs:
            at = np.minimum(np.searchsorted(run_hashes, wanted), len(run_hashes) - 1)
            found = run_hashes[at] == wanted
            if found.any():
                found_any |= found
                first_rows = np.where(found, run_rows[at], first_rows)
        if found_any.any():
            seen[maybe] = found_any
            rows = rows.copy()
            rows[maybe] = first_rows
        return seen, rows

    def add(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """Remember new sorted ``hashes`` (none met before) and their rows."""
        if self._slots is None:
            self._slots = np.zeros(1 << self._SLOT_BITS, dtype=bool)
        self._slots[self._slot(hashes)] = True
        while self._runs and len(self._runs[-1][0]) <= len(hashes):
            old_hashes, old_rows = self._runs.pop()
            at = np.searchsorted(old_hashes, hashes)
            # One array after the other, so that only one old array is alive beside its merge.
            hashes = _insert_sorted(old_hashes, hashes, at)
            del old_hashes
            rows = _insert_sorted(old_rows, rows, at)
        if len(hashes):
            self._runs.append((hashes, rows))


def _insert_sorted(into: np.ndarray, new: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``into`` with ``new[j]`` inserted before ``into[at[j]]`` (``at`` sorted).

    A linear merge: no re-sort of every id seen so far.
    """
    if not len(at):
        return into
    merged = np.empty(len(into) + len(at), dtype=into.dtype)
    destination = at + np.arange(len(at))
    merged[destination] = new
    old = np.ones(len(merged), dtype=bool)
    old[destination] = False
    merged[old] = into
    return merged


def reject_table(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejects as written to a file: ``row`` (int), ``coop_id`` and ``error`` (text)."""
    return pd.DataFrame(
        {
            "row": rejects["row"].to_numpy(dtype=np.int64),
            "coop_id": rejects["coop_id"].astype(str).to_numpy(),
            "error": rejects["error"].astype(str).to_numpy(),
        }
    )


def empty_rejects() -> pd.DataFrame:
    """A rejects table with no rows (``row``, ``coop_id``, ``error``): a copy of one made once
    (most chunks reject nothing, and a frame built anew costs seven times a copy)."""
    return _empty_rejects().copy()


@functools.cache
def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype=np.int64), "coop_id": [], "error": []})


def _rejects(
    rows: np.ndarray,
    ids: pd.Series,
    bad: np.ndarray,
    messages: list[tuple[np.ndarray, dict[int, str]]],
) -> pd.DataFrame:
    index = np.flatnonzero(bad)
    if not len(index):
        return empty_rejects()
    errors = []
    for i in index:
        parts = [lines[i] for mask, lines in messages if mask[i]]
        errors.append("; ".join(parts))
    coop_ids = ["" if pd.isna(v) else str(v) for v in ids.iloc[index]]
    return pd.DataFrame({"row": rows[index].astype(np.int64), "coop_id": coop_ids, "error": errors})


def _by_position(index: np.ndarray, lines: list[str]) -> dict[int, str]:
    """``{row position: message}`` for the rows in ``index``."""
    return {int(i): line for i, line in zip(index, lines, strict=True)}


def _missing(values: object) -> np.ndarray:
    """``isna`` of a normalised column, read straight from its floats or category codes
    where it has them (a third of the cost of pandas' ``isna`` on a chunk's piece)."""
    if isinstance(values, pd.Series):
        array = values.array
        if isinstance(array, pd.Categorical):
            return array.codes == -1
        if values.dtype == np.float64:
            return np.isnan(values.to_numpy())
        return values.isna().to_numpy()
    return pd.isna(np.asarray(values))


def _quote(original: pa.Array | None, index: np.ndarray) -> list[str]:
    if original is None or not len(index):
        return [""] * len(index)
    taken = original.take(pa.array(index)).to_pylist()
    return [_shorten("" if v is None else str(v)) for v in taken]


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_QUOTE else text[: _MAX_QUOTE - 1] + "…"


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
