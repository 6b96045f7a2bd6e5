"""Normalising raw cells into typed values, vectorised over whole columns.

Every parser takes a raw Arrow column (text as written, or already typed when the file format
has types) and returns the typed values with a mask of the cells that could not be read. Rules
(ranges, required, unique) are checked later, by :mod:`scoring.validation`.

Persian and Arabic-Indic digits are translated on the bytes of the Arrow buffer, not per cell in
Python: ``pd.to_numeric`` would otherwise turn ``'۱۲'`` into NaN without a word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.contract import Column, Contract
from scoring.errors import ContractError
from scoring.text import fold_text, fold_values

__all__ = [
    "NormalizedChunk",
    "ParsedColumn",
    "map_headers",
    "normalize_chunk",
    "parse_category",
    "parse_id",
    "parse_label",
    "parse_number",
    "parse_year",
    "parse_yesno",
    "translate_digits",
]

# UTF-8 two-byte sequences (lead, trail) -> one ASCII byte. Lead bytes 0xD8-0xDB never occur
# as continuation bytes, so a match is always the start of a character.
_LUT = np.zeros((256, 256), dtype=np.uint8)
for _i in range(10):
    _LUT[0xDB, 0xB0 + _i] = ord("0") + _i  # Persian digits U+06F0-U+06F9
    _LUT[0xD9, 0xA0 + _i] = ord("0") + _i  # Arabic-Indic digits U+0660-U+0669
_LUT[0xD9, 0xAB] = ord(".")  # ٫ U+066B decimal separator
_LUT[0xD9, 0xAC] = ord(",")  # ٬ U+066C thousands separator
_LUT[0xD9, 0xAA] = ord("%")  # ٪ U+066A percent sign
_LUT[0xD8, 0x8C] = ord(",")  # ، U+060C Arabic comma
_MINUS = np.frombuffer("\u2212".encode(), dtype=np.uint8)  # − U+2212, three bytes

_ID_LETTERS = (("\u064a", "\u06cc"), ("\u0649", "\u06cc"), ("\u0643", "\u06a9"))  # ي ى ك
_NEGATIVE = r"^\s*-\s*\d"
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?%?$"


@dataclass
class ParsedColumn:
    """Typed values of one column and the cells that could not be read."""

    values: np.ndarray | pd.Categorical
    unreadable: np.ndarray
    problem: str = "is not a number"
    unknown: Counter = field(default_factory=Counter)
    fractional: np.ndarray | None = None  # cells of a whole-number column with a fraction


@dataclass
class NormalizedChunk:
    """A chunk in canonical columns, with what could not be read and the original cells."""

    frame: pd.DataFrame
    unreadable: dict[str, tuple[np.ndarray, str]]
    originals: dict[str, pa.Array]
    unknown_categories: dict[str, Counter]
    #: Per column, the unreadable cells that are numbers with a fraction, when the column also
    #: holds cells that are not numbers at all (so that each gets its own message).
    fractional: dict[str, np.ndarray] = field(default_factory=dict)


def map_headers(
    headers: list[str], contract: Contract, *, source: str = "the file", labelled: bool = False
) -> dict[str, str]:
    """Match a file's headers to contract columns.

    Returns ``{column name: header as written}`` for every contract column present. Unknown
    headers are ignored.

    Raises
    ------
    ContractError
        A required column (or, when ``labelled``, the label) is missing, or two headers mean the
        same column.
    """
    lookup = contract.header_lookup()
    found: dict[str, str] = {}
    for header in headers:
        name = lookup.get(fold_text(str(header)))
        if name is None:
            continue
        if name in found:
            raise ContractError(
                f"headers '{found[name]}' and '{header}' in {source} both mean column '{name}'; "
                "keep one of them"
            )
        found[name] = header
    required = [c.name for c in contract.columns if c.required and not c.training_only]
    if labelled:
        required.append(contract.model.label)
    missing = [name for name in required if name not in found]
    if missing:
        shown = ", ".join(f"'{h}'" for h in headers[:12]) + (" ..." if len(headers) > 12 else "")
        what = "column" if len(missing) == 1 else "columns"
        raise ContractError(
            f"{what} {', '.join(repr(m) for m in missing)} required but missing from {source} "
            f"(found: {shown or 'no headers'})"
        )
    return found


def translate_digits(array: pa.Array) -> pa.Array:
    """Persian/Arabic-Indic digits and marks to ASCII, on the UTF-8 bytes of a string array."""
    array = _as_string(array)
    if len(array) == 0:
        return array
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[
        array.offset : array.offset + len(array) + 1
    ]
    start, stop = int(offsets[0]), int(offsets[-1])
    data_buffer = array.buffers()[2]
    if data_buffer is None or stop == start:
        return array
    data = np.frombuffer(data_buffer, dtype=np.uint8)[start:stop]
    lead = (data >= 0xD8) & (data <= 0xDB)
    has_minus = bool(np.any(data == 0xE2))
    if not lead.any() and not has_minus:
        return array
    data = data.copy()
    drop = np.zeros(len(data) + 1, dtype=bool)
    idx = np.flatnonzero(lead[:-1])
    replacement = _LUT[data[idx], data[idx + 1]]
    hit = idx[replacement != 0]
    data[hit] = replacement[replacement != 0]
    drop[hit + 1] = True
    if has_minus:
        e2 = np.flatnonzero(data[:-2] == 0xE2)
        e2 = e2[(data[e2 + 1] == _MINUS[1]) & (data[e2 + 2] == _MINUS[2])]
        data[e2] = ord("-")
        drop[e2 + 1] = True
        drop[e2 + 2] = True
    if not drop.any():
        return array
    dropped_before = np.concatenate(([0], np.cumsum(drop[:-1], dtype=np.int64)))
    relative = offsets - start
    new_offsets = (relative - dropped_before[relative]).astype(np.int32)
    validity = None
    if array.null_count:
        validity = pc.is_valid(array).buffers()[1]
    return pa.StringArray.from_buffers(
        len(array),
        pa.py_buffer(new_offsets.tobytes()),
        pa.py_buffer(data[~drop[:-1]].tobytes()),
        validity,
        array.null_count,
    )


def parse_number(raw: pa.Array, column: Column) -> ParsedColumn:
    """Numbers with any digits, ``,``/``٬`` grouping, ``٫`` decimals, ``%`` for rates."""
    if pa.types.is_boolean(raw.type):
        values = _to_float(pc.cast(raw, pa.int8()))
        return ParsedColumn(values, np.zeros(len(raw), dtype=bool))
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        values = _to_float(raw)
        unreadable = np.isinf(values)
        return _whole(ParsedColumn(values, unreadable, "is not a finite number"), column)
    text = _clean(translate_digits(raw))
    present = _present(text)
    unreadable = np.zeros(len(text), dtype=bool)
    percent = None
    if pc.any(pc.match_substring(text, ",")).as_py():
        grouped = pc.fill_null(pc.match_substring(text, ","), False)
        well_grouped = pc.fill_null(pc.match_substring_regex(text, _THOUSANDS), False)
        unreadable |= _np(grouped) & ~_np(well_grouped)
        text = pc.replace_substring(text, ",", "")
    if column.type == "rate" and pc.any(pc.ends_with(text, "%")).as_py():
        percent = pc.fill_null(pc.ends_with(text, "%"), False)
        text = pc.if_else(percent, pc.utf8_slice_codeunits(text, 0, -1), text)
    try:
        values = _to_float(pc.cast(text, pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = pd.to_numeric(
            pd.Series(text.to_numpy(zero_copy_only=False), dtype=object), errors="coerce"
        ).to_numpy(dtype=np.float64, copy=True)
    if percent is not None:
        values = np.where(_np(percent), values / 100.0, values)
    unreadable |= present & ~np.isfinite(values)
    problem = "is not a number"
    values = np.where(unreadable, np.nan, values)
    return _whole(ParsedColumn(values, unreadable, problem), column)


def parse_year(raw: pa.Array, column: Column) -> ParsedColumn:
    """A year; Jalali years (``jalali_min``..``jalali_max``) become Gregorian (+621)."""
    parsed = parse_number(raw, column)
    if column.jalali_min is not None and column.jalali_max is not None:
        values = parsed.values
        jalali = (values >= column.jalali_min) & (values <= column.jalali_max)
        parsed.values = np.where(jalali, values + 621.0, values)
    return parsed


def parse_yesno(raw: pa.Array, contract: Contract) -> ParsedColumn:
    """yes/no words in English or Persian (and 1/0, true/false) as 1.0/0.0."""
    if pa.types.is_boolean(raw.type) or pa.types.is_integer(raw.type):
        values = _to_float(pc.cast(raw, pa.float64()))
        bad = np.isfinite(values) & ~np.isin(values, (0.0, 1.0))
        values[bad] = np.nan
        return ParsedColumn(values, bad, "is not yes/no")
    if pa.types.is_floating(raw.type):
        raw = pc.cast(raw, pa.string())
    text = _as_string(raw)
    codes, folded = fold_values(text.to_numpy(zero_copy_only=False))
    mapped = np.array(
        [1.0 if w in contract.yes else 0.0 if w in contract.no else np.nan for w in folded]
        + [np.nan],
        dtype=np.float64,
    )
    present_unique = np.array([w != "" for w in folded] + [False])
    values = mapped[codes]
    # Folding reads '-' as a space, which would turn '-1' into the word '1'.
    negative = _np(pc.fill_null(pc.match_substring_regex(translate_digits(text), _NEGATIVE), False))
    values[negative] = np.nan
    unreadable = (present_unique[codes] & np.isnan(values)) | negative
    return ParsedColumn(values, unreadable, "is not yes/no")


def parse_label(raw: pa.Array, contract: Contract) -> ParsedColumn:
    """A 0/1 outcome (yes/no words accepted)."""
    parsed = parse_yesno(raw, contract)
    parsed.problem = "is not 0/1"
    return parsed


def parse_category(raw: pa.Array, contract: Contract, column: Column) -> ParsedColumn:
    """A vocabulary key or any accepted spelling; anything else becomes the unknown bucket."""
    vocabulary = contract.vocabularies[column.vocabulary]
    categories = vocabulary.categories
    position = {key: i for i, key in enumerate(categories)}
    original = _as_string(pc.cast(raw, pa.string()) if not _is_string(raw) else raw)
    codes, folded = fold_values(original.to_numpy(zero_copy_only=False))
    unknown_code = position[vocabulary.unknown]
    mapped = np.array(
        [position[vocabulary.lookup[w]] if w in vocabulary.lookup else -2 for w in folded] + [-1],
        dtype=np.int32,
    )
    mapped[:-1][np.array([w == "" for w in folded], dtype=bool)] = -1
    category_codes = mapped[codes]
    unknown_mask = category_codes == -2
    unknown = Counter()
    if unknown_mask.any():
        unknown_words = pd.Series(folded[codes[unknown_mask]]).value_counts()
        unknown = Counter({str(k): int(v) for k, v in unknown_words.items()})
        category_codes = np.where(unknown_mask, unknown_code, category_codes)
    values = pd.Categorical.from_codes(category_codes, categories=list(categories))
    return ParsedColumn(values, np.zeros(len(raw), dtype=bool), "", unknown)


def parse_id(raw: pa.Array) -> ParsedColumn:
    """An identifier: digits in ASCII, Persian letters for ي/ك, surrounding spaces removed."""
    if not _is_string(raw):
        if pa.types.is_floating(raw.type):
            whole = pc.fill_null(pc.equal(pc.floor(raw), raw), True)
            raw = pc.if_else(whole, pc.cast(pc.cast(raw, pa.int64(), safe=False), pa.string()),
                             pc.cast(raw, pa.string()))  # fmt: skip
        else:
            raw = pc.cast(raw, pa.string())
    text = _clean(translate_digits(raw))
    for arabic, persian in _ID_LETTERS:  # the contract promises ي/ی and ك/ک make one id
        text = pc.replace_substring(text, arabic, persian)
    values = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    return ParsedColumn(values, np.zeros(len(raw), dtype=bool), "")


def parse_text(raw: pa.Array) -> ParsedColumn:
    text = _clean(_as_string(raw if _is_string(raw) else pc.cast(raw, pa.string())))
    values = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    return ParsedColumn(values, np.zeros(len(raw), dtype=bool), "")


def normalize_chunk(
    table: pa.Table,
    headers: Mapping[str, str],
    contract: Contract,
    *,
    labelled: bool = False,
) -> NormalizedChunk:
    """Turn a raw chunk into canonical, typed columns.

    Parameters
    ----------
    table
        The raw chunk as read (text, or typed values from Excel/Parquet).
    headers
        ``{column name: header as written}`` from :func:`map_headers`.
    labelled
        Read the label column too (training and evaluation).
    """
    n = table.num_rows
    frame: dict[str, object] = {}
    unreadable: dict[str, tuple[np.ndarray, str]] = {}
    originals: dict[str, pa.Array] = {}
    unknown: dict[str, Counter] = {}
    fractional: dict[str, np.ndarray] = {}
    for column in contract.input_columns(labelled=labelled):
        header = headers.get(column.name)
        if header is None:
            frame[column.name] = _absent(column, contract, n)
            continue
        raw = _combine(table.column(header))
        originals[column.name] = raw
        parsed = _parse(raw, column, contract)
        frame[column.name] = parsed.values
        if parsed.unreadable.any():
            unreadable[column.name] = (parsed.unreadable, parsed.problem)
        if parsed.unknown:
            unknown[column.name] = parsed.unknown
        if parsed.fractional is not None and (parsed.unreadable & ~parsed.fractional).any():
            fractional[column.name] = parsed.fractional
    return NormalizedChunk(pd.DataFrame(frame), unreadable, originals, unknown, fractional)


def _parse(raw: pa.Array, column: Column, contract: Contract) -> ParsedColumn:
    if column.type == "id":
        return parse_id(raw)
    if column.type == "text":
        return parse_text(raw)
    if column.type == "category":
        return parse_category(raw, contract, column)
    if column.type == "yesno":
        return parse_yesno(raw, contract)
    if column.type == "label":
        return parse_label(raw, contract)
    if column.type == "year":
        return parse_year(raw, column)
    if column.is_numeric:
        return parse_number(raw, column)
    raise ContractError(f"column '{column.name}' has unsupported type '{column.type}'")


def _absent(column: Column, contract: Contract, n: int) -> object:
    if column.type == "category":
        categories = list(contract.vocabularies[column.vocabulary].categories)
        return pd.Categorical.from_codes(np.full(n, -1), categories=categories)
    if column.type in ("id", "text"):
        return np.full(n, None, dtype=object)
    return np.full(n, np.nan)


def _whole(parsed: ParsedColumn, column: Column) -> ParsedColumn:
    if column.type in ("int", "year"):
        values = parsed.values
        fractional = np.isfinite(values) & (values != np.floor(values))
        if fractional.any():
            parsed.unreadable = parsed.unreadable | fractional
            parsed.values = np.where(fractional, np.nan, values)
            parsed.fractional = fractional
            if not (parsed.unreadable & ~fractional).any():
                parsed.problem = "is not a whole number"
    return parsed


def _combine(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def _is_string(array: pa.Array) -> bool:
    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def _as_string(array: pa.Array) -> pa.Array:
    if pa.types.is_string(array.type):
        return array
    if pa.types.is_null(array.type) or pa.types.is_large_string(array.type):
        return pc.cast(array, pa.string())
    if pa.types.is_string_view(array.type):
        return pc.cast(array, pa.string())
    return pc.cast(array, pa.string())


def _clean(text: pa.Array) -> pa.Array:
    """Trim surrounding spaces; an empty cell is missing."""
    text = pc.utf8_trim_whitespace(text)
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _present(text: pa.Array) -> np.ndarray:
    return _np(pc.is_valid(text))


def _np(array: pa.Array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def _to_float(array: pa.Array) -> np.ndarray:
    values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    return np.array(values, dtype=np.float64)
