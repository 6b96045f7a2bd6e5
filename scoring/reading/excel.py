"""Reading a spreadsheet sheet (xlsx, xls, xlsb, ods) as text cells, rows numbered as shown.

A sheet is read whole (it holds at most 1,048,576 rows); title rows above the header, a table
that starts below or right of A1, and blank rows inside it keep every row's sheet number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from scoring.errors import InputFileError
from scoring.reading.source import (
    HEADER_SEARCH_ROWS,
    HeaderScore,
    TableSource,
    choose_header,
    first_line,
    is_blank,
    name_headers,
)

__all__ = ["EXCEL_SUFFIXES", "cell_text", "open_excel"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


def open_excel(
    path: Path, sheet: str | int | None, header_row: int | None, header_score: HeaderScore | None
) -> TableSource:
    """Open one sheet: find its header row and read the cells below it as text."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        target = _sheet_name(path, workbook.sheet_names, sheet)
        data = workbook.get_sheet_by_name(target)
        # The used area only: calamine drops the empty rows and columns before it, whose
        # count ``start`` gives, so that rows keep their sheet numbers.
        rows = data.to_python(skip_empty_area=True)
        top, left = data.start or (0, 0)
    except InputFileError:
        raise
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise InputFileError(f"cannot read {path} as a spreadsheet: {first_line(exc)}") from None
    where = f"sheet '{target}' of {path}"
    if not any(not is_blank(r) for r in rows):
        raise InputFileError(f"{where} is empty")
    look = max(HEADER_SEARCH_ROWS, header_row or 0) - top
    candidates = [[cell_text(v) for v in r] for r in rows[: max(look, 1)]]
    at = choose_header(
        candidates,
        score=header_score,
        forced=header_row,
        where=where,
        first_row=top + 1,
    )
    cells = [cell_text(v) for v in rows[at]]
    while cells and not cells[-1].strip():
        cells.pop()
    headers = name_headers(cells, str(path), first_column=left)
    body, blank_rows = [], []
    for i in range(at + 1, len(rows)):
        row = rows[i][: len(headers)]
        if is_blank(row):
            blank_rows.append(top + i + 1)
        else:
            body.append(row)
    if not body:
        raise InputFileError(f"{where} has a header but no data rows (0 rows)")
    columns = {
        header: pa.array([cell_text(r[j]) if j < len(r) else "" for r in body], pa.string())
        for j, header in enumerate(headers)
    }
    table = pa.table(columns)
    return TableSource(
        path,
        "excel",
        headers,
        sheet=target,
        header_row=top + at + 1,
        blank_rows=blank_rows,
        _batches=lambda source, chunk_size, numbers: iter(table.to_batches(chunk_size)),
    )


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person sees (whole numbers without '.0', dates ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _sheet_name(path: Path, names: Sequence[str], sheet: str | int | None) -> str:
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
    return target
