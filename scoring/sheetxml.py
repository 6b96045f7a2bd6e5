"""Worksheet XML built a column at a time with Arrow: the ``<row>`` and ``<c>`` elements of a
frame's rows, with text as in-line strings (never a formula or a link) escaped as xlsxwriter
escapes it, numbers in their shortest exact form, and text over Excel's 32,767 characters cut."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["EXCEL_MAX_TEXT", "cell_texts", "column_cells", "fit_text", "row_numbers", "rows_xml"]

EXCEL_MAX_TEXT = 32_767  # UTF-16 units in one cell
# Cells that need xlsxwriter's escapes: control characters, and text that looks like one.
_CONTROL = r"[\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_|\x{fffe}|\x{ffff}"
_EXCEL_EPOCH = np.datetime64("1899-12-30")
Style = str | pa.Array  # the cells' ``s`` attribute: one for all, or one per row


def row_numbers(first: int, count: int) -> pa.Array:
    """The sheet rows (1-based, as text) of ``count`` rows from 0-based sheet row ``first``."""
    return pa.array(np.arange(first + 1, first + count + 1)).cast(pa.string())


def rows_xml(rows: pa.Array, cells: list[pa.Array]) -> memoryview:
    """The ``<row>`` elements of ``rows`` (:func:`row_numbers`) holding the columns' ``cells``."""
    xml = pc.binary_join_element_wise('<row r="', rows, '">', *cells, "</row>", "")
    return _concatenated(xml)


def column_cells(
    values: pd.Series, column: int, rows: pa.Array, style: Style, date_style: str
) -> tuple[pa.Array, int]:
    """One column's ``<c>`` elements (an empty text where a cell is empty), by the column's type.

    Parameters
    ----------
    values
        The column's cells in ``rows``: booleans, dates (``date_style`` then), numbers, or
        anything else, written as text (``str()`` of a value that is not).
    column
        The column's position (0 is ``A``).
    rows, style
        The rows' numbers (:func:`row_numbers`) and their ``s`` attribute (``' s="3"'``, or
        ``""`` for none).

    Returns
    -------
    tuple of (pyarrow.Array, int)
        The cells, and how many texts were cut to fit a cell.
    """
    from xlsxwriter.utility import xl_col_to_name  # here: CSV outputs never load xlsxwriter

    start = f'<c r="{xl_col_to_name(column)}'
    kind = values.dtype
    if pd.api.types.is_bool_dtype(kind):
        flags = values.astype("boolean")
        digits = pa.array(np.where(flags.fillna(False).to_numpy(bool), "1", "0"))
        cells = pc.binary_join_element_wise(start, rows, '"', style, ' t="b"><v>', digits,
                                            "</v></c>", "")  # fmt: skip
        return _only(cells, flags.notna().to_numpy()), 0
    if pd.api.types.is_datetime64_any_dtype(kind):
        moments = values.dt.tz_localize(None) if getattr(kind, "tz", None) else values
        days = (moments.to_numpy("datetime64[ns]") - _EXCEL_EPOCH) / np.timedelta64(1, "D")
        return _number_cells(days.astype(np.float64), start, rows, date_style), 0
    if pd.api.types.is_numeric_dtype(kind):
        numbers = values.to_numpy(np.float64, na_value=np.nan)
        return _number_cells(numbers, start, rows, style), 0
    texts, cut = _xml_texts(cell_texts(values))
    return _text_cells(texts, start, rows, style), cut


def fit_text(text: str) -> str:
    """``text``, or its start and an ellipsis when longer than a cell holds (in UTF-16 units)."""
    if len(text) <= EXCEL_MAX_TEXT // 2 or len(text.encode("utf-16-le")) // 2 <= EXCEL_MAX_TEXT:
        return text
    # Whole characters only: an emoji is two UTF-16 units, and "ignore" drops a lone half.
    kept = text.encode("utf-16-le")[: 2 * (EXCEL_MAX_TEXT - 1)]
    return kept.decode("utf-16-le", errors="ignore") + "…"


def _number_cells(values: np.ndarray, start: str, rows: pa.Array, style: Style) -> pa.Array:
    """Numbers as ``<v>`` cells (shortest exact form); infinities as text, as pandas did."""
    digits = pa.array(values).cast(pa.string())
    cells = pc.binary_join_element_wise(start, rows, '"', style, "><v>", digits, "</v></c>", "")
    infinite = np.isinf(values)
    if infinite.any():
        signs = pa.array(np.where(values > 0, "inf", "-inf"))
        cells = pc.if_else(pa.array(infinite), _text_cells(signs, start, rows, style), cells)
    return _only(cells, ~np.isnan(values))


def _text_cells(texts: pa.Array, start: str, rows: pa.Array, style: Style) -> pa.Array:
    """Escaped texts as in-line string cells (never a formula); empty ones as nothing."""
    spaced = pc.fill_null(pc.match_substring_regex(texts, r"^\s|\s$"), False)
    space = pc.if_else(spaced, ' xml:space="preserve"', "") if pc.any(spaced).as_py() else ""
    cells = pc.binary_join_element_wise(start, rows, '"', style, ' t="inlineStr"><is><t', space,
                                        ">", texts, "</t></is></c>", "")  # fmt: skip
    present = pc.fill_null(pc.greater(pc.binary_length(texts), 0), False)
    return _only(cells, present.to_numpy(zero_copy_only=False))


def _only(cells: pa.Array, present: np.ndarray) -> pa.Array:
    """``cells`` where ``present``, else an empty text (no cell)."""
    if present.all():
        return cells
    return pc.if_else(pa.array(present), cells, "")


def cell_texts(values: pd.Series) -> pa.Array:
    """A column's cells as Arrow text, missing ones null; anything not text as ``str()`` does."""
    try:
        texts = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        texts = pa.array([None if _missing(v) else str(v) for v in values.tolist()], pa.string())
    return texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts


def _missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def _xml_texts(texts: pa.Array) -> tuple[pa.Array, int]:
    """Texts cut to a cell's limit and escaped for XML as xlsxwriter does; how many were cut."""
    cut = 0
    long = pc.fill_null(pc.greater(pc.utf8_length(texts), EXCEL_MAX_TEXT // 2), False)
    if pc.any(long).as_py():
        texts, cut = _patched(texts, long, fit_text)
    control = pc.fill_null(pc.match_substring_regex(texts, _CONTROL), False)
    if pc.any(control).as_py():
        texts, _ = _patched(texts, control, _escape_controls)
    if pc.any(pc.fill_null(pc.match_substring_regex(texts, "[&<>]"), False)).as_py():
        for character, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):  # & first
            texts = pc.replace_substring(texts, character, entity)
    return texts, cut


def _patched(texts: pa.Array, where: pa.Array, change: Any) -> tuple[pa.Array, int]:
    """``texts`` with ``change`` applied to the cells ``where`` is true; how many it changed."""
    values = texts.to_pylist()
    changed = 0
    for i in np.flatnonzero(where.to_numpy(zero_copy_only=False)):
        new = change(values[i])
        changed += new is not values[i]
        values[i] = new
    return pa.array(values, pa.string()), changed


def _escape_controls(text: str) -> str:
    """Control characters as Excel's ``_xHHHH_`` escapes, and a literal ``_xHHHH_`` escaped."""
    text = re.sub(r"(_x[0-9a-fA-F]{4}_)", r"_x005F\1", text)
    text = re.sub(r"[\x00-\x08\x0b-\x1f]", lambda m: f"_x{ord(m[0]):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def _concatenated(texts: pa.Array) -> memoryview:
    """The texts of an Arrow array (none null) one after the other, read from its buffers."""
    if not len(texts):
        return memoryview(b"")
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)[texts.offset :]
    return memoryview(texts.buffers()[2])[offsets[0] : offsets[len(texts)]]
