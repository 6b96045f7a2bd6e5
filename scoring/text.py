"""Persian-aware text folding: one spelling for the many ways a header or word is written.

Persian files mix Arabic and Persian letter variants (ي/ی, ك/ک), Persian (۰-۹) and Arabic-Indic
(٠-٩) digits, zero-width non-joiners between the parts of a word, and invisible direction marks.
Folding maps all of them to one form so that headers, categories and yes/no words match.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ASCII_DIGITS", "fold_text", "fold_values", "to_ascii_digits", "to_persian_digits"]

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


def to_ascii_digits(text: str) -> str:
    """Return ``text`` with Persian/Arabic-Indic digits and number marks in ASCII."""
    return text.translate(ASCII_DIGITS)


def to_persian_digits(text: str) -> str:
    """Return ``text`` with ASCII digits as Persian digits, ``.`` as ``٫`` and ``,`` as ``٬``."""
    return text.translate(
        str.maketrans({**{str(i): p for i, p in enumerate(_PERSIAN_DIGITS)}, ".": "٫", ",": "٬"})
    )


def fold_text(text: str) -> str:
    """Fold a header or vocabulary word to its matching key.

    Case, surrounding and repeated spaces, ``_``/``-``, zero-width non-joiners, Arabic letter
    variants, short-vowel marks and Persian or Arabic-Indic digits do not matter.
    Folding is idempotent: ``fold_text(fold_text(s)) == fold_text(s)``.
    """
    folded = text.translate(ASCII_DIGITS).translate(_FOLD).casefold()
    return _SPACES.sub(" ", folded).strip()


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
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        cells = pd.Series(values, dtype=object).map(str, na_action="ignore")
        return pa.array(cells, pa.string(), from_pandas=True)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
