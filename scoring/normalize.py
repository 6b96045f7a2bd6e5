"""Normalising raw cells into typed values, vectorised over whole columns.

Every parser takes a raw Arrow column (text as written, or already typed when the file format
has types) and returns the typed values with a mask of the cells that could not be read. Rules
(ranges, required, unique) are checked later, by :mod:`scoring.validation`.

Persian and Arabic-Indic digits are translated on the bytes of the Arrow buffer, not per cell in
Python: ``pd.to_numeric`` would otherwise turn ``'۱۲'`` into NaN without a word.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.buffers import text_buffers
from scoring.contract import Column, Contract
from scoring.dates import read_date_years
from scoring.errors import ContractError
from scoring.headers import HeaderMap
from scoring.text import ASCII_DIGITS, fold_values
from scoring.units import NUMBER_PATTERN, Conversion, scale_text

__all__ = [
    "NormalizedChunk",
    "ParsedColumn",
    "normalize_chunk",
    "parse_category",
    "parse_id",
    "parse_label",
    "parse_number",
    "parse_text",
    "parse_year",
    "parse_yesno",
    "translate_digits",
]

# UTF-8 two-byte sequences, as (lead << 8 | trail), -> one ASCII byte; 0xFF where no match.
# Lead bytes 0xD8-0xDB never occur as continuation bytes, so a match is always the start of a
# character. 0xFE marks the first two bytes of the three-byte minus sign (E2 88 92).
_NO_MATCH, _MAYBE_MINUS = 0xFF, 0xFE
_PAIRS = np.full(1 << 16, _NO_MATCH, dtype=np.uint8)
for _i in range(10):
    _PAIRS[0xDBB0 + _i] = ord("0") + _i  # Persian digits U+06F0-U+06F9
    _PAIRS[0xD9A0 + _i] = ord("0") + _i  # Arabic-Indic digits U+0660-U+0669
_PAIRS[0xD9AB] = ord(".")  # ٫ U+066B decimal separator
_PAIRS[0xD9AC] = ord(",")  # ٬ U+066C thousands separator
_PAIRS[0xD9AA] = ord("%")  # ٪ U+066A percent sign
_PAIRS[0xD88C] = ord(",")  # ، U+060C Arabic comma
_PAIRS[0xE288] = _MAYBE_MINUS  # − U+2212 is E2 88 92

# The characters utf8_trim_whitespace removes (those of Python's str.isspace) by the UTF-8 bytes
# that can start or end them: ASCII 09-0D and 1C-20; C2 85, C2 A0; E1 9A 80; E2 80 80-8A,
# E2 80 A8/A9/AF, E2 81 9F; E3 80 80. A cell whose first and last bytes are in neither set
# has nothing to trim.
_ASCII_SPACES = [*range(0x09, 0x0E), *range(0x1C, 0x21)]
_MAY_START_SPACE = np.zeros(256, dtype=bool)
_MAY_START_SPACE[[*_ASCII_SPACES, 0xC2, 0xE1, 0xE2, 0xE3]] = True
_MAY_END_SPACE = np.zeros(256, dtype=bool)
_MAY_END_SPACE[[*_ASCII_SPACES, *range(0x80, 0x8B), 0x9F, 0xA0, 0xA8, 0xA9, 0xAF]] = True

# ي U+064A and ى U+0649 -> ی U+06CC, ك U+0643 -> ک U+06A9: two UTF-8 bytes each way.
_ID_LETTERS = {0x8A: (0xDB, 0x8C), 0x89: (0xDB, 0x8C), 0x83: (0xDA, 0xA9)}  # trail after D9
# RE2's \s and \d (what pc.match_substring_regex used): ASCII only, without \v.
_NEGATIVE = re.compile(r"[\t\n\f\r ]*-[\t\n\f\r ]*[0-9]")
_DIGIT, _COMMA, _DOT, _PERCENT, _PLUS, _MINUS = (ord(c) for c in "0,.%+-")
_FLOAT = NUMBER_PATTERN
_ONE = Decimal(1)
_EXACT_FLOAT_INTEGERS = 2.0**53  # every integer up to here is a float


@dataclass
class ParsedColumn:
    """Typed values of one column and the cells that could not be read."""

    values: np.ndarray | pd.Categorical | pd.api.extensions.ExtensionArray
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


def translate_digits(array: pa.Array) -> pa.Array:
    """Persian/Arabic-Indic digits and marks to ASCII, on the UTF-8 bytes of a string array."""
    array = _as_string(array)
    offsets, data = text_buffers(array)
    if len(data) < 2 or not (data >= 0xD8).any():  # no byte that can start a match
        return array
    code = _PAIRS.take((data[:-1].astype(np.uint16) << 8) | data[1:])
    hit = code < _MAYBE_MINUS
    maybe = np.flatnonzero(code == _MAYBE_MINUS)
    if len(maybe):
        maybe = maybe[data[np.minimum(maybe + 2, len(data) - 1)] == 0x92]
    if not len(maybe) and not hit.any():
        return array
    keep = np.empty(len(data), dtype=bool)
    keep[0] = True
    np.logical_not(hit, out=keep[1:])  # the second byte of a two-byte match goes
    translated = np.empty_like(data)
    # A match's first byte (0xD8 and up) is above its ASCII replacement; elsewhere code is 0xFF.
    np.minimum(data[:-1], code, out=translated[:-1])
    translated[-1] = data[-1]
    if len(maybe):
        translated[maybe] = ord("-")
        keep[maybe + 1] = keep[maybe + 2] = False
    return _kept_bytes(array, offsets, translated, keep)


def parse_number(raw: pa.Array, column: Column, *, factor: Decimal = _ONE) -> ParsedColumn:
    """Numbers with any digits, ``,``/``٬`` grouping, ``٫`` decimals, ``%`` for rates.

    ``factor`` (from a header's unit) scales every value, and a rate's ``%`` scales its cell,
    in decimal: a value is the float of the exact product (``3.89%`` that of ``0.0389``).
    """
    if pa.types.is_boolean(raw.type):
        values = _to_float(pc.cast(raw, pa.int8())) * float(factor)
        return ParsedColumn(values, np.zeros(len(raw), dtype=bool))
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        values = _to_float(raw)
        if factor != 1:  # scaled by the shortest text of each float, as a cell would be
            finite = np.isfinite(values)
            text = pc.cast(pa.array(values, mask=~finite), pa.string())
            values = np.where(finite, _parse_floats(scale_text(text, factor)), values)
        unreadable = np.isinf(values)
        return _whole(ParsedColumn(values, unreadable, "is not a finite number"), column)
    text = _clean(translate_digits(raw))
    present = _present(text)
    unreadable = np.zeros(len(text), dtype=bool)
    percent = None
    badly_grouped = _badly_grouped(text, present)
    if badly_grouped is not None:
        unreadable |= badly_grouped
        text = _without_commas(text)
    if column.type == "rate" and _any_ends_with(text, ord("%")):
        percent = pc.fill_null(pc.ends_with(text, "%"), False)
        number = pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(text, 0, -1))  # '4.5 %'
        text = pc.if_else(percent, number, text)
    if percent is not None or factor != 1:
        text = scale_text(text, factor, None if percent is None else _np(percent))
    values = _parse_floats(text)
    unreadable |= present & ~np.isfinite(values)
    problem = "is not a number"
    values = np.where(unreadable, np.nan, values)
    return _whole(ParsedColumn(values, unreadable, problem), column)


def parse_year(raw: pa.Array, column: Column) -> ParsedColumn:
    """A year; Jalali years (``jalali_min``..``jalali_max``) become Gregorian (+621).

    A full date (Jalali or Gregorian, year first, or a date cell) is its day's Gregorian year,
    by the calendar (:mod:`scoring.dates`); a date that does not exist is unreadable.
    """
    if pa.types.is_date(raw.type) or pa.types.is_timestamp(raw.type):
        return ParsedColumn(_to_float(pc.year(raw)), np.zeros(len(raw), dtype=bool))
    span = None
    if column.jalali_min is not None and column.jalali_max is not None:
        span = (column.jalali_min, column.jalali_max)
    dates = None
    if _is_string(raw):
        raw = _clean(translate_digits(raw))
        dates = read_date_years(raw, span)
        if dates is not None:  # the number parser sees the other cells only
            raw = pc.if_else(pa.array(dates.dated), pa.scalar(None, pa.string()), raw)
    parsed = parse_number(raw, column)
    if span is not None:
        values = parsed.values
        jalali = (values >= span[0]) & (values <= span[1])
        parsed.values = np.where(jalali, values + 621.0, values)
    if dates is not None:
        not_numbers = parsed.unreadable
        if parsed.fractional is not None:
            not_numbers = not_numbers & ~parsed.fractional
        parsed.values = np.where(dates.dated, dates.years, parsed.values)
        if dates.invalid.any():
            parsed.unreadable = parsed.unreadable | dates.invalid
            parsed.problem = "is not a year or a date" if not_numbers.any() else "is not a date"
    return parsed


def parse_yesno(raw: pa.Array, contract: Contract, column: Column | None = None) -> ParsedColumn:
    """yes/no words in English or Persian (and 1/0, true/false) as 1.0/0.0; a column with its
    own ``values`` in the contract (``good``/``bad``) reads those words instead."""
    yes, no = contract.yesno_words(column) if column is not None else (contract.yes, contract.no)
    if pa.types.is_boolean(raw.type) or pa.types.is_integer(raw.type) or _is_float(raw):
        values = _to_float(pc.cast(raw, pa.float64()))
        bad = ~np.isnan(values) & ~np.isin(values, (0.0, 1.0))  # NaN (Parquet) is missing
        values[bad] = np.nan
        return ParsedColumn(values, bad, "is not yes/no")
    codes, uniques, folded = fold_values(_as_string(raw))
    # Folding reads '-' as a space, which would turn '-1' into the word '1'.
    negative = [_NEGATIVE.match(u.translate(ASCII_DIGITS)) is not None for u in uniques]
    words = [
        np.nan if minus else 1.0 if w in yes else 0.0 if w in no else np.nan
        for w, minus in zip(folded, negative, strict=True)
    ]
    mapped = np.array([*words, np.nan], dtype=np.float64)  # codes of -1 (missing) pick the NaN
    unreadable = [
        minus or (w != "" and np.isnan(v))
        for w, v, minus in zip(folded, words, negative, strict=True)
    ]
    unreadable_word = np.array([*unreadable, False])
    return ParsedColumn(mapped[codes], unreadable_word[codes], "is not yes/no")


def parse_label(raw: pa.Array, contract: Contract, column: Column | None = None) -> ParsedColumn:
    """A 0/1 outcome (yes/no words accepted, or the column's own ``values``)."""
    parsed = parse_yesno(raw, contract, column)
    parsed.problem = "is not 0/1"
    return parsed


def parse_category(raw: pa.Array, contract: Contract, column: Column) -> ParsedColumn:
    """A vocabulary key or any accepted spelling; anything else becomes the unknown bucket."""
    vocabulary = contract.vocabularies[column.vocabulary]
    categories = vocabulary.categories
    position = {key: i for i, key in enumerate(categories)}
    codes, _, folded = fold_values(_as_string(raw))
    unknown_code = position[vocabulary.unknown]
    known = [
        -1 if w == "" else position[vocabulary.lookup[w]] if w in vocabulary.lookup else -2
        for w in folded
    ]
    mapped = np.array([*known, -1], dtype=np.int32)  # codes of -1 (missing) pick the -1
    category_codes = mapped[codes]
    unknown = Counter()
    if -2 in known:
        # Counted like value_counts of the folded words: most first, ties by first appearance.
        cells = np.bincount(codes[category_codes == -2], minlength=len(folded))
        counts: dict[str, int] = {}
        for j in np.flatnonzero(cells):
            counts[folded[j]] = counts.get(folded[j], 0) + int(cells[j])
        unknown = Counter(dict(sorted(counts.items(), key=lambda item: -item[1])))
        mapped[:-1][mapped[:-1] == -2] = unknown_code
        category_codes = mapped[codes]
    values = pd.Categorical.from_codes(
        category_codes, dtype=_category_dtype(categories), validate=False
    )  # codes are -1 (missing) or a category's position, by construction
    return ParsedColumn(values, np.zeros(len(raw), dtype=bool), "", unknown)


@functools.lru_cache(maxsize=64)
def _category_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """One dtype per vocabulary, made once: checking and indexing the categories anew for
    every chunk's column cost 20 times the codes' own conversion."""
    return pd.CategoricalDtype(list(categories))


def parse_id(raw: pa.Array) -> ParsedColumn:
    """An identifier: digits in ASCII, Persian letters for ي/ك, surrounding spaces removed.

    A float id (Parquet) is its integer's text (``12.0`` is ``12``); NaN is an empty id, and a
    fraction, an infinity or a number beyond 2**53 (where floats skip integers, so digits may
    be lost) is unreadable.
    """
    if _is_float(raw):
        return _float_ids(raw)
    text = _persian_letters(_clean(translate_digits(_as_string(raw))))
    return ParsedColumn(_text_values(text), np.zeros(len(raw), dtype=bool), "")


def _float_ids(raw: pa.Array) -> ParsedColumn:
    values = _to_float(raw)
    exact = np.abs(values) <= _EXACT_FLOAT_INTEGERS
    whole = exact & (values == np.floor(values))
    present = ~np.isnan(values)
    whole_mask = pa.array(whole)
    integers = pc.cast(pc.if_else(whole_mask, raw, pa.scalar(0.0, raw.type)), pa.int64())
    texts = pc.if_else(whole_mask, pc.cast(integers, pa.string()), pc.cast(raw, pa.string()))
    texts = pc.if_else(pa.array(present), texts, pa.scalar(None, pa.string()))
    fractional = exact & ~whole & present
    unreadable = present & ~whole
    problem = "is too large to be an exact id (store ids as text)"
    if not (unreadable & ~fractional).any():
        problem = "is not a whole number"
    parsed = ParsedColumn(_text_values(texts), unreadable, problem)
    parsed.fractional = fractional if fractional.any() else None
    return parsed


def parse_text(raw: pa.Array) -> ParsedColumn:
    """Free text (a name): surrounding spaces removed, an empty cell missing."""
    text = _clean(_as_string(raw))
    return ParsedColumn(_text_values(text), np.zeros(len(raw), dtype=bool), "")


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
        ``{column name: header as written}``: the :class:`~scoring.headers.HeaderMap` of
        :func:`scoring.headers.map_headers`, whose units convert their columns.
    labelled
        Read the label column too (training and evaluation).
    """
    n = table.num_rows
    frame: dict[str, object] = {}
    unreadable: dict[str, tuple[np.ndarray, str]] = {}
    originals: dict[str, pa.Array] = {}
    unknown: dict[str, Counter] = {}
    fractional: dict[str, np.ndarray] = {}
    units = headers.units if isinstance(headers, HeaderMap) else {}
    for column in contract.input_columns(labelled=labelled):
        header = headers.get(column.name)
        if header is None:
            frame[column.name] = _absent(column, contract, n)
            continue
        raw = _combine(table.column(header))
        originals[column.name] = raw
        parsed = _parse(raw, column, contract, units.get(column.name))
        frame[column.name] = parsed.values
        if parsed.unreadable.any():
            unreadable[column.name] = (parsed.unreadable, parsed.problem)
        if parsed.unknown:
            unknown[column.name] = parsed.unknown
        if parsed.fractional is not None and (parsed.unreadable & ~parsed.fractional).any():
            fractional[column.name] = parsed.fractional
    return NormalizedChunk(pd.DataFrame(frame), unreadable, originals, unknown, fractional)


def _parse(
    raw: pa.Array, column: Column, contract: Contract, unit: Conversion | None = None
) -> ParsedColumn:
    if column.type == "id":
        return parse_id(raw)
    if column.type == "text":
        return parse_text(raw)
    if column.type == "category":
        return parse_category(raw, contract, column)
    if column.type == "yesno":
        return parse_yesno(raw, contract, column)
    if column.type == "label":
        return parse_label(raw, contract, column)
    if column.type == "year":
        return parse_year(raw, column)
    if column.is_numeric:
        return parse_number(raw, column, factor=unit.factor if unit is not None else _ONE)
    raise ContractError(f"column '{column.name}' has unsupported type '{column.type}'")


def _absent(column: Column, contract: Contract, n: int) -> object:
    if column.type == "category":
        categories = contract.vocabularies[column.vocabulary].categories
        return pd.Categorical.from_codes(
            np.full(n, -1), dtype=_category_dtype(categories), validate=False
        )
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


def _is_float(array: pa.Array) -> bool:
    return pa.types.is_floating(array.type)


def _is_string(array: pa.Array) -> bool:
    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def _as_string(array: pa.Array) -> pa.Array:
    return array if pa.types.is_string(array.type) else pc.cast(array, pa.string())


def _clean(text: pa.Array) -> pa.Array:
    """Trim surrounding spaces; an empty cell is missing."""
    text = _as_string(text)
    offsets, data = text_buffers(text)
    if len(data) and _may_have_outer_space(offsets, data):
        text = pc.utf8_trim_whitespace(text)
        offsets, data = text_buffers(text)
    empty = offsets[1:] == offsets[:-1]
    if not empty.any():
        return text
    present = _present(text)
    if not (empty & present).any():
        return text
    present &= ~empty
    validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    missing = len(text) - int(np.count_nonzero(present))
    return pa.StringArray.from_buffers(
        len(text), pa.py_buffer(offsets), pa.py_buffer(data), validity, missing
    )


def _may_have_outer_space(offsets: np.ndarray, data: np.ndarray) -> bool:
    """Whether some cell may start or end with a space, from its first and last bytes alone."""
    # Empty cells read a neighbour's byte (or, clipped, the first or last byte): at worst a
    # needless trim.
    first = data.take(offsets[:-1], mode="clip")
    last = data.take(offsets[1:] - 1, mode="clip")
    return bool((_MAY_START_SPACE.take(first) | _MAY_END_SPACE.take(last)).any())


def _persian_letters(text: pa.Array) -> pa.Array:
    """ي and ى as ی, ك as ک (same byte length, so the offsets stay)."""
    offsets, data = text_buffers(text)
    lead = np.flatnonzero(data[:-1] == 0xD9)
    if not len(lead):
        return text
    trail = data[lead + 1]
    letter = np.isin(trail, list(_ID_LETTERS))
    if not letter.any():
        return text
    lead, trail = lead[letter], trail[letter]
    data = data.copy()
    for arabic, (first, second) in _ID_LETTERS.items():
        at = lead[trail == arabic]
        data[at], data[at + 1] = first, second
    return _string_array(text, offsets, data)


def _kept_bytes(
    like: pa.Array, offsets: np.ndarray, data: np.ndarray, keep: np.ndarray
) -> pa.StringArray:
    """The cells of ``like`` made of the bytes of ``data`` that ``keep`` marks (each cell's
    offsets recounted), missing where ``like`` is."""
    kept_before = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum(keep, dtype=np.int32, out=kept_before[1:])
    # Boolean indexing is fast where few bytes go (commas) and slow where many go in no
    # pattern a branch predicts (the second byte of every Persian digit): np.compress keeps
    # the same bytes at a steady ~0.7 ns a byte, a third of indexing's time there.
    dropped = len(data) - int(kept_before[-1])
    kept = np.compress(keep, data) if dropped * 16 > len(data) else data[keep]
    return _string_array(like, kept_before[offsets], kept)


def _string_array(like: pa.Array, offsets: np.ndarray, data: np.ndarray) -> pa.StringArray:
    """A string array of new offsets and bytes with the cells missing in ``like``."""
    validity = None
    if like.null_count:
        validity = like.buffers()[0] if like.offset == 0 else pc.is_valid(like).buffers()[1]
    return pa.StringArray.from_buffers(
        len(like), pa.py_buffer(offsets), pa.py_buffer(data), validity, like.null_count
    )


def _badly_grouped(text: pa.Array, present: np.ndarray) -> np.ndarray | None:
    """Cells whose commas are not thousands grouping; None when no cell has a comma.

    Grouping is ``^[+-]?\\d{1,3}(,\\d{3})+(\\.\\d*)?%?$``, checked around each comma rather
    than by a regex over every cell: a comma follows a digit and is followed by three digits
    and then a comma, ``.``, ``%`` or the end of the cell; the first comma of a cell has one to
    three digits (after an optional sign) before it; no exponent. That is the regex for every
    cell that reads as a number once its commas are gone (the others are unreadable anyway).
    """
    offsets, data = text_buffers(text)
    commas = np.flatnonzero(data == _COMMA)
    if not len(commas):
        return None
    size = len(data)
    starts = np.zeros(size + 1, dtype=bool)  # a cell (or the end of the data) starts here
    starts[offsets] = True
    # The bytes from four before each comma to four after it (row 4 is the comma), and
    # where cells start among them. Positions past either end are clipped: position 0 starts
    # a cell, and a comma within 3 bytes of the end is not grouping.
    window = np.arange(-4, 5)[:, None] + commas
    byte = data.take(window, mode="clip")
    begins = starts.take(window, mode="clip")
    digit = (byte - np.uint8(_DIGIT)) < 10
    sign = (byte == _PLUS) | (byte == _MINUS)
    grouped = ~begins[4] & digit[3] & (commas + 3 < size)
    grouped &= digit[5] & digit[6] & digit[7] & ~begins[5:8].any(axis=0)
    after = byte[8]
    grouped &= begins[8] | (after == _COMMA) | (after == _DOT) | (after == _PERCENT)
    # A comma four bytes back in the same cell means this is not the cell's first comma.
    follows = (commas >= 4) & (byte[0] == _COMMA) & ~begins[1:5].any(axis=0)
    # The first comma's cell starts 1 to 4 bytes before it: 'd', 'dd', '+d', 'ddd', '+dd', '+ddd'.
    head = begins[3] | (begins[2] & (digit[2] | sign[2]))
    head |= ~begins[2] & begins[1] & digit[2] & (digit[1] | sign[1])
    head |= ~begins[2] & ~begins[1] & begins[0] & digit[2] & digit[1] & sign[0]
    grouped &= follows | head
    bad = np.zeros(len(text), dtype=bool)
    bad[np.searchsorted(offsets, commas[~grouped], side="right") - 1] = True
    exponent = np.flatnonzero((data | 0x20) == ord("e"))
    if len(exponent):
        cells = np.searchsorted(offsets, exponent, side="right") - 1
        first_comma = np.searchsorted(commas, offsets[cells])
        has_comma = first_comma < len(commas)
        has_comma[has_comma] &= commas[first_comma[has_comma]] < offsets[cells + 1][has_comma]
        bad[cells[has_comma]] = True
    return bad & present


def _without_commas(text: pa.Array) -> pa.Array:
    """The cells with every ``,`` taken out (``pc.replace_substring(text, ",", "")``), on the
    bytes of the whole column at once."""
    offsets, data = text_buffers(text)
    return _kept_bytes(text, offsets, data, data != _COMMA)


def _parse_floats(text: pa.Array) -> np.ndarray:
    """Cells as floats, NaN where missing or not a number; Arrow reads every number."""
    try:
        return _to_float(pc.cast(text, pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Some cell is not a number: hide it from the cast, so that the others are read exactly as
    # in a clean column (pd.to_numeric reads long decimals less exactly). The pattern is what
    # Arrow reads, less inf and nan, which would be unreadable anyway.
    number = pc.fill_null(pc.match_substring_regex(text, _FLOAT), False)
    return _to_float(pc.cast(pc.if_else(number, text, pa.scalar(None, pa.string())), pa.float64()))


def _any_ends_with(text: pa.Array, byte: int) -> bool:
    offsets, data = text_buffers(text)
    ends = offsets[1:][offsets[1:] > offsets[:-1]] - 1
    return bool((data[ends] == byte).any())


def _text_values(text: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Arrow text as pandas' ``str`` values, without a round trip through Python objects."""
    return pd.array(text, dtype="str")


def _present(text: pa.Array) -> np.ndarray:
    return _np(pc.is_valid(text))


def _np(array: pa.Array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def _to_float(array: pa.Array) -> np.ndarray:
    values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    return np.array(values, dtype=np.float64)
