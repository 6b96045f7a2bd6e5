"""Reading registry files (CSV and text, Excel, Parquet) as raw Arrow chunks of a fixed size.

CSV and Parquet stream, so memory stays flat however large the file; Excel sheets are read
whole (a sheet holds at most 1,048,576 rows). Cells are kept as written: CSV columns are read as
text so that Persian digits and the original spelling survive until :mod:`scoring.normalize`.
Every row keeps the number the spreadsheet shows it under, title and blank rows counted.
"""

from __future__ import annotations

from pathlib import Path

from scoring.errors import InputFileError
from scoring.reading.csv import CSV_SUFFIXES, open_csv
from scoring.reading.excel import EXCEL_SUFFIXES, open_excel
from scoring.reading.parquet import PARQUET_SUFFIXES, open_parquet
from scoring.reading.source import HEADER_SEARCH_ROWS, BadRow, HeaderScore, TableSource

__all__ = [
    "CSV_SUFFIXES",
    "EXCEL_SUFFIXES",
    "HEADER_SEARCH_ROWS",
    "PARQUET_SUFFIXES",
    "BadRow",
    "HeaderScore",
    "TableSource",
    "open_table",
]


def open_table(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    header_score: HeaderScore | None = None,
) -> TableSource:
    """Open a registry file by its extension, find its header row and read its headers.

    Parameters
    ----------
    path
        ``.csv``, ``.tsv`` or ``.txt`` (delimited text), ``.xlsx`` (and other spreadsheet
        formats), ``.parquet``.
    encoding
        Text encoding; when None, a byte-order mark (UTF-8, UTF-16, UTF-32) decides, else the
        first 64 KiB: UTF-8 when most of it decodes as UTF-8, else Windows-1256.
    sheet
        Excel sheet name or 0-based index; the first sheet when None.
    header_row
        The spreadsheet row (1 = the first) holding the headers; when None, found by
        ``header_score`` among the first :data:`HEADER_SEARCH_ROWS` rows.
    header_score
        Scores a candidate row's cells as ``(every required column matched, columns
        matched)``: the first complete row is the header, else the one matching most. Without
        it, the first row that is not blank.

    Raises
    ------
    InputFileError
        The path does not exist, the type is unsupported, the file is empty, binary garbage,
        or has a header but no rows; ``header_row`` is blank or past the rows.
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
        return open_csv(path, encoding, header_row, header_score)
    if suffix in EXCEL_SUFFIXES:
        return open_excel(path, sheet, header_row, header_score)
    if suffix in PARQUET_SUFFIXES:
        if header_row not in (None, 1):
            raise InputFileError(
                f"{path} is Parquet: its column names are its headers, there is no header row "
                f"{header_row} to choose",
                parameter="header_row",
            )
        return open_parquet(path)
    raise InputFileError(
        f"cannot read '{suffix or path.name}' files; use .csv, .xlsx or .parquet (file: {path})"
    )
