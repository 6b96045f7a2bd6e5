"""Excel sheets written cell by cell: text as text (never a formula or a link), numbers as
numbers, and text over Excel's limit of 32,767 characters a cell cut with a note."""

from __future__ import annotations

import io
import math
import numbers
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

__all__ = ["EXCEL_MAX_TEXT", "write_excel"]

EXCEL_MAX_TEXT = 32_767  # UTF-16 units in one cell
# Belt and braces: the cells are written with write_string anyway.
_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
_HEADER_FORMAT = {"bold": True, "border": 1, "align": "center", "valign": "top"}  # as pandas'


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
    notes, buffer = [], io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="readiness-xlsx-") as parts:
        book = xlsxwriter.Workbook(buffer, {**_OPTIONS, "tmpdir": parts})
        worksheet = book.add_worksheet(sheet)
        header = book.add_format(_HEADER_FORMAT)
        dates = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for col, name in enumerate(frame.columns):
            worksheet.write_string(0, col, str(name), header)
            cut = _write_column(worksheet, col, frame.iloc[:, col], dates)
            if cut:
                notes.append(
                    f"Excel holds at most {EXCEL_MAX_TEXT:,} characters in a cell: {cut:,} "
                    f"row{'s' if cut > 1 else ''} of column '{name}' were cut to fit (ending in "
                    f"'…'); write .csv or .parquet to keep the whole text"
                )
        try:
            book.close()
        except FileCreateError as error:  # xlsxwriter's wrapper of the OSError
            cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else None
            raise cause or OSError(str(error)) from None
    path.write_bytes(buffer.getbuffer())
    return notes


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
            fitted = _fit(text)
            cut += fitted is not text
            worksheet.write_string(row, col, fitted)
    return cut


def _fit(text: str) -> str:
    """``text``, or its start and an ellipsis when longer than a cell holds (in UTF-16 units)."""
    if len(text) <= EXCEL_MAX_TEXT // 2 or len(text.encode("utf-16-le")) // 2 <= EXCEL_MAX_TEXT:
        return text
    # Whole characters only: an emoji is two UTF-16 units, and "ignore" drops a lone half.
    kept = text.encode("utf-16-le")[: 2 * (EXCEL_MAX_TEXT - 1)]
    return kept.decode("utf-16-le", errors="ignore") + "…"


def _write_number(worksheet: Any, row: int, col: int, value: float) -> None:
    if math.isnan(value):
        return  # a missing number is an empty cell
    if math.isinf(value):  # Excel has no infinity: written as pandas did
        worksheet.write_string(row, col, "inf" if value > 0 else "-inf")
        return
    worksheet.write_number(row, col, value)
