"""Excel workbooks: text as text (never a formula or a link), numbers as numbers, and text over
Excel's limit of 32,767 characters a cell cut with a note.

:func:`write_excel` writes one frame as one plain sheet through xlsxwriter's cell API.
:class:`StreamedBook` is the workbook officers open (scores, summary, rejects): xlsxwriter lays
it out in ``constant_memory`` mode (styles, frozen and filtered header, fitted widths, reading
direction, the small sheets), and the rows of its tables, which may be a million, are turned
into sheet XML a column at a time with Arrow and streamed to a temporary file chunk by chunk;
saving joins them into xlsxwriter's sheets. (xlsxwriter's own cell loop costs about 8 µs a cell:
a minute for a million scored rows.)
"""

from __future__ import annotations

import io
import math
import numbers
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.sheetxml import (
    EXCEL_MAX_TEXT,
    cell_texts,
    column_cells,
    fit_text,
    row_numbers,
    rows_xml,
)
from scoring.tiers import TIER_COLORS, TIER_TEXT_COLORS

__all__ = [
    "EXCEL_MAX_TEXT",
    "ONE_DECIMAL",
    "PERCENT",
    "Cell",
    "SheetLayout",
    "StreamedBook",
    "StreamedTable",
    "SummarySheet",
    "write_excel",
]

PERCENT = "0.0%"
ONE_DECIMAL = "0.0"
# Belt and braces: the cells are written as text anyway.
_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
_HEADER_FORMAT = {"bold": True, "border": 1, "align": "center", "valign": "top"}  # as pandas'
_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
_SLICE_ROWS = 20_000  # rows turned into XML at once: bounds the memory of one step
_WIDTH_SAMPLE = 1_000  # rows the column widths are fitted to
_WIDTH_LIMITS = (6, 60)  # characters


@dataclass(frozen=True)
class SheetLayout:
    """How a table sheet looks, by column name: number formats and tier colours.

    Every table sheet of a :class:`StreamedBook` has a frozen header with a filter and widths
    fitted to its first rows. ``tier_column`` holds the tier letters that colour the cells of
    ``tier_colored``; ``right_to_left`` turns the sheet for Persian.
    """

    number_formats: Mapping[str, str] = field(default_factory=dict)
    tier_column: str | None = None
    tier_colored: tuple[str, ...] = ()
    right_to_left: bool = False

    def renamed(self, headers: Mapping[str, str]) -> SheetLayout:
        """The same layout for columns written under ``headers`` (``{name: header}``)."""
        named = lambda name: headers.get(name, name)  # noqa: E731
        return replace(
            self,
            number_formats={named(k): v for k, v in self.number_formats.items()},
            tier_column=None if self.tier_column is None else named(self.tier_column),
            tier_colored=tuple(named(c) for c in self.tier_colored),
        )


@dataclass(frozen=True)
class Cell:
    """A number with its Excel number format, in a summary sheet."""

    value: float
    number_format: str


# --- one plain sheet, cell by cell ------------------------------------------------------------


def write_excel(frame: pd.DataFrame, path: Path, sheet: str) -> list[str]:
    """Write ``frame`` as the one sheet of a workbook at ``path``.

    Each column is written by its type: a numeric column as numbers, anything else cell by cell
    (text always as text). The workbook is zipped in memory (its parts in a private folder,
    always removed) and written to ``path`` in one go, so a full disk fails in that one write
    (an ``OSError``) and leaves nothing elsewhere.

    Returns
    -------
    list of str
        One note per column whose text was cut to Excel's limit (how many rows).
    """
    cuts, buffer = Counter(), io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="readiness-xlsx-") as parts:
        book = _xlsxwriter().Workbook(buffer, {**_OPTIONS, "tmpdir": parts})
        worksheet = book.add_worksheet(sheet)
        header = book.add_format(_HEADER_FORMAT)
        dates = book.add_format({"num_format": _DATE_FORMAT})
        for col, name in enumerate(frame.columns):
            worksheet.write_string(0, col, str(name), header)
            cuts[str(name)] += _write_column(worksheet, col, frame.iloc[:, col], dates)
        _close(book)
    path.write_bytes(buffer.getbuffer())
    return _cut_notes(cuts)


def _write_column(worksheet: Any, col: int, values: pd.Series, dates: Any) -> int:
    """Write one column from row 1; returns how many text cells were cut to fit."""
    kind = values.dtype
    if pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind):
        floats = values.to_numpy(dtype=np.float64, na_value=np.nan).tolist()
        for row, value in enumerate(floats, start=1):
            _write_number(worksheet, row, col, value)  # numbers stay numbers
        return 0
    cut = 0
    for row, value in enumerate(values.tolist(), start=1):
        if value is None or value is pd.NA or value is pd.NaT:
            continue
        if isinstance(value, bool | np.bool_):
            worksheet.write_boolean(row, col, bool(value))
        elif isinstance(value, numbers.Real):
            _write_number(worksheet, row, col, float(value))
        elif isinstance(value, date):
            worksheet.write_datetime(row, col, value, dates)
        elif text := str(value):  # an empty text is an empty cell, as in CSV
            fitted = fit_text(text)
            cut += fitted is not text
            worksheet.write_string(row, col, fitted)
    return cut


def _write_number(worksheet: Any, row: int, col: int, value: float, style: Any = None) -> None:
    if math.isnan(value):
        return  # a missing number is an empty cell
    if math.isinf(value):  # Excel has no infinity: written as pandas did
        worksheet.write_string(row, col, "inf" if value > 0 else "-inf")
        return
    worksheet.write_number(row, col, value, style)


def _xlsxwriter() -> Any:
    """xlsxwriter, imported when a workbook is made: CSV and Parquet outputs never load it."""
    import xlsxwriter

    return xlsxwriter


def _close(book: Any) -> None:
    """Close an xlsxwriter workbook; a failure to write is the ``OSError`` underneath."""
    from xlsxwriter.exceptions import FileCreateError

    try:
        book.close()
    except FileCreateError as error:  # xlsxwriter's wrapper of the OSError
        cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else None
        raise cause or OSError(str(error)) from None


def _cut_notes(cuts: Mapping[str, int]) -> list[str]:
    return [
        f"Excel holds at most {EXCEL_MAX_TEXT:,} characters in a cell: {cut:,} "
        f"row{'s' if cut > 1 else ''} of column '{name}' were cut to fit (ending in '…'); "
        "write .csv or .parquet to keep the whole text"
        for name, cut in cuts.items()
        if cut
    ]


# --- the workbook officers open, streamed -----------------------------------------------------


class StreamedBook:
    """A workbook of streamed table sheets and small summary sheets, in the order added.

    Rows go to temporary files in a private folder (removed by :meth:`close`, which
    :meth:`save` calls); nothing is kept in memory but the step being written.
    """

    def __init__(self) -> None:
        # Ignoring errors: xlsxwriter may still hold its parts open after a failure.
        self._parts = tempfile.TemporaryDirectory(
            prefix="readiness-xlsx-", ignore_cleanup_errors=True
        )
        self.folder = Path(self._parts.name)
        options = {**_OPTIONS, "constant_memory": True, "tmpdir": str(self.folder)}
        self.book = _xlsxwriter().Workbook(str(self.folder / "book.xlsx"), options)
        self.header = self.book.add_format(_HEADER_FORMAT)
        self._formats: dict[tuple[str | None, str | None], Any] = {}
        self._tables: dict[str, StreamedTable] = {}  # by the sheet's part in the zip
        self._sheets = 0

    def add_table(
        self, name: str, columns: Sequence[str] | None, layout: SheetLayout
    ) -> StreamedTable:
        """A table sheet; ``columns`` heads it when it gets no rows (else the frames' columns)."""
        worksheet = self._add_sheet(name, layout.right_to_left)
        table = StreamedTable(self, worksheet, columns, layout, self._sheets)
        self._tables[f"xl/worksheets/sheet{self._sheets}.xml"] = table
        return table

    def add_summary(self, name: str, *, right_to_left: bool = False) -> SummarySheet:
        """A sheet of labelled blocks (counts, coverage ...), written once."""
        return SummarySheet(self, self._add_sheet(name, right_to_left))

    def cell_format(self, number_format: str | None = None, tier: str | None = None) -> Any:
        """The (shared) format of a number format and a tier's colours."""
        key = (number_format, tier)
        if key not in self._formats:
            properties: dict[str, Any] = {}
            if number_format:
                properties["num_format"] = number_format
            if tier in TIER_COLORS:
                properties.update(bg_color=TIER_COLORS[tier], font_color=TIER_TEXT_COLORS[tier])
            self._formats[key] = self.book.add_format(properties)
        return self._formats[key]

    def save(self, path: Path) -> list[str]:
        """Write the workbook to ``path``; returns a note per column whose text was cut."""
        try:
            for table in self._tables.values():
                table.finish()
            _close(self.book)
            notes = _cut_notes(sum((t.cuts for t in self._tables.values()), Counter()))
            # Level 1: a quarter of the default level's time, for a file about 40% larger.
            with (
                zipfile.ZipFile(self.folder / "book.xlsx") as laid_out,
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
            ):
                for name in laid_out.namelist():
                    table = self._tables.get(name)
                    if table is None:
                        target.writestr(name, laid_out.read(name))
                        continue
                    with target.open(name, "w", force_zip64=True) as sheet:
                        table.join(laid_out.read(name), sheet)
            return notes
        finally:
            self.close()

    def close(self) -> None:
        """Remove the temporary rows and parts (again: nothing)."""
        for table in self._tables.values():
            table.close()
        self._parts.cleanup()

    def _add_sheet(self, name: str, right_to_left: bool) -> Any:
        worksheet = self.book.add_worksheet(name)
        if right_to_left:
            worksheet.right_to_left()
        self._sheets += 1
        return worksheet


class StreamedTable:
    """One table sheet of a :class:`StreamedBook`: frames appended as rows, in order."""

    def __init__(
        self,
        book: StreamedBook,
        worksheet: Any,
        columns: Sequence[str] | None,
        layout: SheetLayout,
        number: int,
    ) -> None:
        self.book = book
        self.worksheet = worksheet
        self.columns = None if columns is None else [str(c) for c in columns]
        self.layout = layout
        self.rows = 0
        self.cuts: Counter = Counter()
        self._path = book.folder / f"rows-{number}.xml"
        self._file = self._path.open("wb")
        self._started = False
        self._finished = False

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (the same columns every time)."""
        if not self._started:
            self._start([str(c) for c in frame.columns], frame.iloc[:_WIDTH_SAMPLE])
        for start in range(0, len(frame), _SLICE_ROWS):
            part = frame.iloc[start : start + _SLICE_ROWS]
            self._file.write(self._rows_xml(part, first=self.rows + 1))
            self.rows += len(part)

    def finish(self) -> None:
        """Header (for a table with no rows too), frozen pane, filter; the rows are complete."""
        if self._finished:
            return
        if not self._started:
            self._start(self.columns or [], None)
        self._finished = True
        self._file.close()
        if self.columns:
            self.worksheet.freeze_panes(1, 0)
            self.worksheet.autofilter(0, 0, self.rows, len(self.columns) - 1)

    def join(self, laid_out: bytes, sheet: Any) -> None:
        """Write the sheet's XML as xlsxwriter laid it out, with the rows inside, to ``sheet``."""
        laid_out = laid_out.replace(b"<sheetData/>", b"<sheetData></sheetData>")
        end = laid_out.rindex(b"</sheetData>")
        from xlsxwriter.utility import xl_col_to_name

        last = f"{xl_col_to_name(max(len(self.columns or []), 1) - 1)}{self.rows + 1}"
        head = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>'.encode(),
                      laid_out[:end], count=1)  # fmt: skip
        sheet.write(head)
        with self._path.open("rb") as rows:
            shutil.copyfileobj(rows, sheet, 1 << 20)
        sheet.write(laid_out[end:])

    def close(self) -> None:
        self._file.close()

    def _start(self, columns: list[str], sample: pd.DataFrame | None) -> None:
        """The header row, and widths fitted to it and to ``sample``'s rows."""
        self._started = True
        self.columns = columns
        for col, name in enumerate(columns):
            self.worksheet.write_string(0, col, name, self.book.header)
            shown = 0 if sample is None else _shown_width(sample.iloc[:, col], self._format(name))
            width = max(len(name) + 3, shown + 1)  # + 3: the filter's button
            self.worksheet.set_column(col, col, min(max(width, _WIDTH_LIMITS[0]), _WIDTH_LIMITS[1]))

    def _format(self, name: str) -> str | None:
        return self.layout.number_formats.get(name)

    def _rows_xml(self, frame: pd.DataFrame, first: int) -> memoryview:
        """The ``<row>`` elements of ``frame``, whose first row is sheet row ``first`` (0-based)."""
        rows = row_numbers(first, len(frame))
        tiers = None
        if self.layout.tier_column in frame:
            tiers = frame[self.layout.tier_column].astype(object).to_numpy()
        dates = f' s="{self.book.cell_format(_DATE_FORMAT)._get_xf_index()}"'
        cells = []
        for col, name in enumerate(self.columns or []):
            style = self._styles(name, tiers)
            column, cut = column_cells(frame.iloc[:, col], col, rows, style, dates)
            self.cuts[name] += cut
            cells.append(column)
        return rows_xml(rows, cells)

    def _styles(self, name: str, tiers: np.ndarray | None) -> str | pa.Array:
        """The ``s`` attribute of the column's cells: one for all, or one per row's tier."""
        number_format = self._format(name)
        if tiers is None or name not in self.layout.tier_colored:
            style = self.book.cell_format(number_format) if number_format else None
            return "" if style is None else f' s="{style._get_xf_index()}"'
        by_tier = {t: f' s="{self.book.cell_format(number_format, t)._get_xf_index()}"'
                   for t in TIER_COLORS}  # fmt: skip
        return pa.array(pd.Series(tiers).map(by_tier).fillna("").to_numpy(), pa.string())


class SummarySheet:
    """A sheet of blocks, each a bold heading row and rows of cells, a blank row between."""

    def __init__(self, book: StreamedBook, worksheet: Any) -> None:
        self.book = book
        self.worksheet = worksheet

    def write(self, blocks: Sequence[tuple[Sequence[str], Sequence[Sequence[Any]]]]) -> None:
        """Write ``blocks`` of ``(heading cells, rows)``; a row's cells are text, numbers or
        :class:`Cell`; numbers stay numbers, text is written as text."""
        widths: Counter = Counter()
        row = 0
        for heading, rows in blocks:
            if not any(heading):
                row -= 1  # no heading row: the first cells take its place
            for col, text in enumerate(heading):
                if text:
                    self.worksheet.write_string(row, col, str(text), self.book.header)
            for cells in rows:
                row += 1
                for col, value in enumerate(cells):
                    widths[col] = max(widths[col], len(str(value)))
                    self._write(row, col, value)
            row += 2
        for col, width in widths.items():
            self.worksheet.set_column(col, col, min(max(width + 2, 12), _WIDTH_LIMITS[1]))

    def _write(self, row: int, col: int, value: Any) -> None:
        if isinstance(value, Cell):
            style = self.book.cell_format(value.number_format)
            _write_number(self.worksheet, row, col, float(value.value), style)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            _write_number(self.worksheet, row, col, float(value))
        elif value is not None and str(value):
            self.worksheet.write_string(row, col, fit_text(str(value)))


def _shown_width(values: pd.Series, number_format: str | None) -> int:
    """The widest cell of ``values`` as shown (numbers in their format), in characters."""
    kind = values.dtype
    if pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind):
        numbers_ = values.to_numpy(np.float64, na_value=np.nan)
        numbers_ = numbers_[np.isfinite(numbers_)]
        if not len(numbers_):
            return 0
        if number_format == PERCENT:
            return max(len(f"{100 * v:.1f}%") for v in (numbers_.min(), numbers_.max()))
        if number_format == ONE_DECIMAL:
            return max(len(f"{v:.1f}") for v in (numbers_.min(), numbers_.max()))
        return min(max(len(str(v)) for v in numbers_[:100].tolist()), 12)
    lengths = pc.utf8_length(cell_texts(values))
    return int(pc.max(lengths).as_py() or 0)
