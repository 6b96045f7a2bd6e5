"""Persian-aware text folding: one spelling for the many ways a header or word is written.

Persian files mix Arabic and Persian letter variants (ي/ی, ك/ک), Persian (۰-۹) and Arabic-Indic
(٠-٩) digits, zero-width non-joiners between the parts of a word, and invisible direction marks.
Folding maps all of them to one form so that headers, categories and yes/no words match.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.buffers import text_buffers

__all__ = [
    "ASCII_DIGITS",
    "fold_matches",
    "fold_text",
    "fold_values",
    "format_number",
    "parse_option_number",
    "to_ascii_digits",
    "to_persian_digits",
]

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"

#: Persian and Arabic-Indic digits, the Arabic decimal and thousands marks and percent sign, the
#: Arabic comma and the minus sign, mapped to their ASCII counterparts.
ASCII_DIGITS = str.maketrans(
    {
        **{p: str(i) for i, p in enumerate(_PERSIAN_DIGITS)},
        **{a: str(i) for i, a in enumerate(_ARABIC_DIGITS)},
        "\u066b": ".",  # ٫ Arabic decimal separator
        "\u066c": ",",  # ٬ Arabic thousands separator
        "\u066a": "%",  # ٪ Arabic percent sign
        "\u060c": ",",  # ، Arabic comma
        "\u2212": "-",  # − minus sign
    }
)

_FOLD = str.maketrans(
    {
        "\u064a": "ی",  # Arabic yeh
        "\u0649": "ی",  # alef maksura
        "\u0643": "ک",  # Arabic kaf
        "\u0629": "ه",  # teh marbuta
        "\u0623": "ا",  # alef with hamza above
        "\u0625": "ا",  # alef with hamza below
        "\u0622": "ا",  # alef with madda
        "\u0640": None,  # tatweel
        "\u200c": " ",  # zero-width non-joiner: writers use it or a space between word parts
        "\u200d": None,  # zero-width joiner
        "\u200e": None,  # left-to-right mark
        "\u200f": None,  # right-to-left mark
        "\u061c": None,  # Arabic letter mark
        "\ufeff": None,  # byte-order mark left in a first header
        "\u00a0": " ",  # no-break space
        "_": " ",
        "-": " ",
        **{chr(c): None for c in range(0x064B, 0x0653)},  # short-vowel marks
    }
)
_SPACES = re.compile(r"\s+")
# A number as typed in an option, once its digits are ASCII: what Arrow reads in a data cell
# (no nan, inf or '_'), and ',' only as thousands grouping, as in data cells.
_OPTION_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_GROUPED_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?")


def to_ascii_digits(text: str) -> str:
    """Return ``text`` with Persian/Arabic-Indic digits and number marks in ASCII."""
    return text.translate(ASCII_DIGITS)


def to_persian_digits(text: str) -> str:
    """Return ``text`` with ASCII digits as Persian digits, ``.`` as ``٫`` and ``,`` as ``٬``."""
    return text.translate(
        str.maketrans({**{str(i): p for i, p in enumerate(_PERSIAN_DIGITS)}, ".": "٫", ",": "٬"})
    )


def format_number(value: float) -> str:
    """A number as messages show it: ``5`` for a whole value, else as Python writes it (``0.5``)."""
    return str(int(value)) if float(value).is_integer() else str(value)


def fold_text(text: str) -> str:
    """Fold a header or vocabulary word to its matching key.

    Case, surrounding and repeated spaces, ``_``/``-``, zero-width non-joiners, Arabic letter
    variants, short-vowel marks and Persian or Arabic-Indic digits do not matter.
    Folding is idempotent: ``fold_text(fold_text(s)) == fold_text(s)``.
    """
    folded = text.translate(ASCII_DIGITS).translate(_FOLD).casefold()
    return _SPACES.sub(" ", folded).strip()


def parse_option_number(text: str) -> float:
    """A number typed in a command-line option, read as data cells are.

    Persian (``۶۰۰۰۰``) or Arabic-Indic (``٦٠٠٠٠``) digits, ``,``/``٬`` thousands grouping
    (``60,000``, ``۶۰٬۰۰۰``), ``.``/``٫`` decimals and an exponent (``6e4``) are accepted.

    Raises
    ------
    ValueError
        ``text`` is not a finite number so written (``nan``, ``inf``, ``1,5``, ``6O000``).
    """
    number = to_ascii_digits(str(text)).strip()
    if "," in number:
        if not _GROUPED_NUMBER.fullmatch(number):
            raise ValueError(f"'{text}' is not a number (',' must group thousands)")
        number = number.replace(",", "")
    if not _OPTION_NUMBER.fullmatch(number):
        raise ValueError(f"'{text}' is not a number")
    return float(number)


def fold_matches(
    values: pa.Array | pa.ChunkedArray | pd.Series | np.ndarray, words: frozenset[str]
) -> np.ndarray:
    """Which cells fold (:func:`fold_text`) to one of ``words`` (folded already), as a mask.

    Only cells whose first and last characters can begin and end a word once folded are
    folded (:func:`_edge_candidates`), so that a column of ids or names costs a few numpy
    passes over its first and last bytes, not a Python call a cell.
    """
    text = _as_text(values.array if isinstance(values, pd.Series) else values)
    matched = np.zeros(len(text), dtype=bool)
    if not words or not len(text):
        return matched
    candidates = _edge_candidates(text, words)
    if not len(candidates):
        return matched
    codes, _, folded = fold_values(text.take(pa.array(candidates)))
    hit = np.array([word in words for word in folded] + [False])  # code -1 (missing) picks False
    matched[candidates] = hit[codes]
    return matched


def _edge_candidates(text: pa.Array, words: frozenset[str]) -> np.ndarray:
    """Positions of the cells whose first and last characters may begin and end a word.

    The first and last bytes of every cell are looked up in numpy first: an ASCII byte there
    is the whole character, so most cells (ids, names in Latin letters) are ruled out without
    an Arrow pass; the cells left, which start or end beyond ASCII, are checked by character.
    """
    first_bytes, last_bytes = _edge_bytes(words)
    offsets, data = text_buffers(text)
    present = offsets[1:] > offsets[:-1]  # an empty cell folds to no word
    if text.null_count:
        present &= text.is_valid().to_numpy(zero_copy_only=False)
    if not len(data):
        return np.flatnonzero(present)
    maybe = present & first_bytes.take(data.take(offsets[:-1], mode="clip"))
    maybe &= last_bytes.take(data.take(offsets[1:] - 1, mode="clip"))
    candidates = np.flatnonzero(maybe)
    if not len(candidates):
        return candidates
    subset = text.take(pa.array(candidates))
    first, last = _edge_characters(words)
    exact = pc.and_(
        pc.is_in(pc.utf8_slice_codeunits(subset, 0, 1), value_set=first),
        pc.is_in(pc.utf8_slice_codeunits(subset, -1), value_set=last),
    )
    return candidates[pc.fill_null(exact, False).to_numpy(zero_copy_only=False)]


@functools.lru_cache(maxsize=8)
def _edge_bytes(words: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per byte value: whether a cell starting (ending) with that byte may start (end) a word
    once folded. Bytes of 0x80 and up begin or end a longer character: always maybe.

    Made from the 128 ASCII characters alone, as :func:`_edge_characters` judges each: the
    whole plane's folding (some 50 ms) is made only if a cell is left to check by character.
    """
    starts, ends = np.ones(256, dtype=bool), np.ones(256, dtype=bool)
    letters = _word_edges(words)
    for byte in range(0x80):
        starts[byte], ends[byte] = _may_edge(fold_text(chr(byte)), *letters)
    return starts, ends


@functools.lru_cache(maxsize=8)
def _edge_characters(words: frozenset[str]) -> tuple[pa.Array, pa.Array]:
    """The characters a cell folding to one of ``words`` may start with, and may end with.

    Folding maps each character apart (spaces collapse and are trimmed), so a cell's first
    character folds to nothing or to text starting as a word does; likewise its last. Only the
    Basic Multilingual Plane is looked at: folding maps no other character to a letter.
    """
    letters = _word_edges(words)
    first, last = [], []
    for character, folded in zip(_bmp(), _folded_bmp(), strict=True):
        may_start, may_end = _may_edge(folded, *letters)
        if may_start:
            first.append(character)
        if may_end:
            last.append(character)
    return pa.array(first, pa.string()), pa.array(last, pa.string())


def _word_edges(words: frozenset[str]) -> tuple[set[str], set[str]]:
    """The letters the words begin with, and those they end with."""
    return {w[0] for w in words if w}, {w[-1] for w in words if w}


def _may_edge(folded: str, first_letters: set[str], last_letters: set[str]) -> tuple[bool, bool]:
    """Whether a character folding to ``folded`` may begin a cell that folds to a word, and
    whether it may end one: it folds to nothing, or to text that begins (ends) as one does."""
    return (
        not folded or folded[0] in first_letters,
        not folded or folded[-1] in last_letters,
    )


_SEPARATOR = "\x00"  # NUL folds to itself and is no space: it keeps the others apart


@functools.cache
def _bmp() -> list[str]:
    """Every character of the Basic Multilingual Plane (built on first use, not at import)."""
    return [chr(code) for code in range(0x10000)]


@functools.cache
def _folded_bmp() -> list[str]:
    """``fold_text`` of every character of the Basic Multilingual Plane, in one pass.

    Folding maps each character apart, so the characters joined by a separator and folded
    together fold as each would alone (a single character's spaces need only trimming); one
    translate over 64 K characters instead of 64 K calls.
    """
    bmp = _bmp()
    joined = _SEPARATOR.join(bmp[1:]).translate(ASCII_DIGITS).translate(_FOLD).casefold()
    return [fold_text(bmp[0]), *(part.strip() for part in joined.split(_SEPARATOR))]


def fold_values(
    values: pa.Array | pa.ChunkedArray | pd.Series | np.ndarray,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Fold many cells at the cost of their distinct values.

    Returns ``(codes, uniques, folded)``: ``uniques`` are the distinct cells as written, in order
    of first appearance, ``folded[j]`` is ``fold_text(uniques[j])`` and ``codes[i]`` is cell
    ``i``'s position in both; ``codes`` is -1 where the cell is missing. Arrow text is encoded
    in Arrow, so only the distinct values become Python strings.
    """
    encoded = pc.dictionary_encode(_as_text(values))
    uniques = encoded.dictionary.to_pylist()
    codes = encoded.indices
    if codes.null_count:
        codes = pc.fill_null(codes, -1)
    return codes.to_numpy(), uniques, [fold_text(u) for u in uniques]


def _as_text(values: pa.Array | pa.ChunkedArray | pd.Series | np.ndarray) -> pa.Array:
    """Cells as one Arrow text array; other Python values by their ``str``, NaN/None missing."""
    arrow_text = isinstance(values, pd.api.extensions.ExtensionArray) and hasattr(
        values, "__arrow_array__"
    )
    if arrow_text and pd.api.types.is_string_dtype(values.dtype):
        values = values.__arrow_array__()  # pandas' Arrow text: no Python string per cell
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        cells = pd.Series(values, dtype=object).map(str, na_action="ignore")
        return pa.array(cells, pa.string(), from_pandas=True)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
