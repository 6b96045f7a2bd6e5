"""CSV rows of an Arrow table, byte for byte as Arrow's CSV writer makes them, with less work.

Arrow's writer turns every float into its shortest text, about 150 ns a cell. Scores,
sub-scores and percentiles hold at most 1,001 distinct values (0 to 100 in tenths), whose texts
are made once, by the same cast, and gathered; every other column is cast as the writer casts
it, text is quoted as the writer quotes it (``"``, inner quotes doubled, a missing cell empty),
and the cells are joined into rows at once. :func:`csv_rows` gives ``None`` for a table holding
a type it does not know; the caller then lets Arrow's writer write it.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scoring.buffers import text_buffers

__all__ = ["csv_rows"]

#: Values in tenths from 0 to this many tenths are gathered from texts made once.
_TENTHS = 1000
_QUOTE = '"'


def csv_rows(table: pa.Table, delimiter: str = ",") -> pa.Buffer | None:
    """The rows of ``table`` as Arrow's CSV writer writes them (no header), or None.

    None when a column's type is not text, a number or a boolean, or the table has no rows or
    no columns: write it with :func:`pyarrow.csv.write_csv` instead.
    """
    if not table.num_rows or not table.num_columns:
        return None
    # Cells and the text between them (delimiters, the quotes around text), joined at once.
    pieces: list[pa.Array | str] = []
    between = ""
    for column in table.columns:
        values = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        if _is_text(values.type) and not values.null_count:
            pieces += [between + _QUOTE, _doubled_quotes(values.cast(pa.string()))]
            between = _QUOTE
        else:
            cells = _cells(values)
            if cells is None:
                return None
            pieces += [between, cells]
            between = ""
        between += delimiter
    pieces.append(between[: -len(delimiter)] + "\n")
    rows = pc.binary_join_element_wise(*[p for p in pieces if not isinstance(p, str) or p], "")
    return _data(rows)


def _data(texts: pa.Array) -> pa.Buffer:
    """The bytes of all the texts, end to end (no copy)."""
    return pa.py_buffer(text_buffers(texts)[1])


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _cells(values: pa.Array) -> pa.Array | None:
    """Each value's text in the file, no cell missing (a missing value is an empty cell)."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        dictionary = _cells(values.dictionary)
        if dictionary is None:
            return None
        return pc.fill_null(dictionary.take(values.indices), "")
    if _is_text(kind):
        text = _doubled_quotes(values.cast(pa.string()))
        return pc.fill_null(pc.binary_join_element_wise(_QUOTE, text, _QUOTE, ""), "")
    if pa.types.is_floating(kind):
        text = _tenths(values) if pa.types.is_float64(kind) else None
        return text if text is not None else pc.fill_null(pc.cast(values, pa.string()), "")
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return pc.fill_null(pc.cast(values, pa.string()), "")
    if pa.types.is_null(kind):
        return pa.array([""] * len(values), pa.string())
    return None


def _doubled_quotes(values: pa.Array) -> pa.Array:
    """Text with each ``"`` doubled, as inside a quoted cell (no copy when there is none)."""
    data = values.buffers()[2]
    if data is not None and data.to_pybytes().find(b'"') >= 0:
        return pc.replace_substring(values, _QUOTE, _QUOTE * 2)
    return values


def _tenths(values: pa.Array) -> pa.Array | None:
    """The texts of doubles that are all tenths from 0 to 100 (or missing), else None.

    A NaN that is not missing (the writer spells it ``nan``) or a ``-0.0`` (``-0``) is left to
    the cast, with every other value that is not exactly ``k / 10``.
    """
    numbers = values.to_numpy(zero_copy_only=False)  # missing values read as NaN
    with np.errstate(invalid="ignore", over="ignore"):  # infinities and huge values: not tenths
        tenths = np.rint(numbers * 10.0)
        exact = (tenths / 10.0 == numbers) & (tenths >= 0) & (tenths <= _TENTHS)
    exact &= ~np.signbit(numbers)
    if values.null_count:
        exact |= np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if not exact.all():
        return None
    codes = np.where(np.isnan(numbers), _TENTHS + 1, tenths).astype(np.int16)
    return _tenth_texts().take(pa.array(codes))


@functools.cache
def _tenth_texts() -> pa.Array:
    """The writer's text of every tenth from 0 to 100 (cast as it casts), then an empty cell."""
    tenths = pc.cast(pa.array(np.arange(_TENTHS + 1) / 10.0), pa.string())
    return pa.concat_arrays([tenths, pa.array([""], pa.string())])
