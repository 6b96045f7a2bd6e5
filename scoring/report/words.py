"""The reports' words and numbers in one language: :class:`Wording`, over ``words.toml``.

Titles, labels and notes come from ``words.toml`` beside this module; column, category, tier,
reason and feature names from the data contract. Numbers are written in the report's digits.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from scoring.contract import Contract, Reason, Vocabulary
from scoring.text import fold_text, to_persian_digits

__all__ = [
    "LANGUAGES",
    "Wording",
    "column_vocabulary",
    "font_stack",
    "localize_number",
    "read_reason",
    "reason_lookup",
]

LANGUAGES = ("en", "fa")


@cache
def _document() -> dict[str, Any]:
    """``words.toml``, read once and checked: every word in every language."""
    text = (resources.files("scoring.report") / "words.toml").read_text(encoding="utf-8")
    document = tomllib.loads(text)
    entries = [("fonts", document["fonts"]), *document["words"].items()]
    for key, texts in entries:
        absent = [lang for lang in LANGUAGES if not isinstance(texts.get(lang), str)]
        if absent:  # a packaging mistake, caught by the first report of any test
            raise ValueError(f"words.toml: '{key}' has no text for {', '.join(absent)}")
    return document


def font_stack(lang: str) -> str:
    """The CSS font family of a language (one that renders Persian first in Persian)."""
    return _document()["fonts"][lang]


def localize_number(text: str, lang: str) -> str:
    """A formatted number in the report's language.

    In Persian: Persian digits and marks (``٫`` ``٬`` ``٪``), isolated as a left-to-right run
    (U+2066 ... U+2069), without which a sign or percent sign lands on the wrong side of the
    number in right-to-left text (in the browser and in matplotlib alike).
    """
    if lang != "fa" or not re.search(r"\d", text):
        return text
    return "\u2066" + to_persian_digits(text).replace("%", "٪") + "\u2069"


def column_vocabulary(contract: Contract, column: str) -> Vocabulary | None:
    """The vocabulary of a category column, or None (not a column, or not a category)."""
    if column not in contract.names:
        return None
    name = contract.column(column).vocabulary
    return contract.vocabularies.get(name) if name else None


def reason_lookup(contract: Contract) -> dict[str, Reason]:
    """Every spelling of every reason (code, English, Persian), folded, to its reason."""
    lookup: dict[str, Reason] = {}
    for sides in contract.reasons.values():
        for reason in sides.values():
            for spelling in (reason.code, reason.en, reason.fa):
                lookup.setdefault(fold_text(spelling), reason)
    return lookup


def read_reason(value: Any, lookup: Mapping[str, Reason]) -> tuple[str, Reason | None]:
    """A reason cell (a code, or a text in either language) as ``(code, reason)``.

    An empty cell is ``("", None)``; a cell the contract does not know is its own code, with
    no reason.
    """
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    if not text.strip():
        return "", None
    reason = lookup.get(fold_text(text))
    return (text, None) if reason is None else (reason.code, reason)


def _shown(value: Any) -> bool:
    """Whether a number can be written: not None, not NaN or infinite."""
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


class Wording:
    """The words and numbers of one report in one language, with the contract's names.

    Parameters
    ----------
    lang
        ``"en"`` or ``"fa"``.
    contract
        Where column, category, tier, reason and feature names come from.

    Raises
    ------
    ValueError
        ``lang`` is not one of :data:`LANGUAGES`.
    """

    def __init__(self, lang: str, contract: Contract) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"language '{lang}' is not supported; use one of {LANGUAGES}")
        self.lang = lang
        self.fa = lang == "fa"
        self.contract = contract
        self._reasons = reason_lookup(contract)

    def phrase(self, key: str, **values: Any) -> str:
        """The report's word or sentence ``key``; ``values`` fill its ``{placeholders}``.

        A key ``words.toml`` does not have is shown as itself.
        """
        texts = _document()["words"].get(key)
        text = key if texts is None else texts[self.lang]
        return text.format(**values) if values else text

    def has_phrase(self, key: str) -> bool:
        return key in _document()["words"]

    def feature(self, name: str) -> str:
        """A model feature's or column's name as people read it (from the contract)."""
        return self.contract.feature_label(name, self.lang)

    def category(self, column: str, key: Any) -> str:
        """A category key of ``column`` as people read it."""
        vocabulary = column_vocabulary(self.contract, column)
        text = str(key)
        if vocabulary is None:
            return text
        if text == vocabulary.unknown:
            return self.phrase("other") if self.fa else text.capitalize()
        if self.fa:
            return vocabulary.label(text, self.lang)
        words = text.replace("_", " ")
        return words.title() if column == "province" else words[:1].upper() + words[1:]

    def tier(self, tier: str) -> str:
        return self.contract.tier_label(tier, self.lang)

    def reason(self, value: Any) -> tuple[str, str]:
        """``(code, text)`` of a reason cell written as a code or as an English/Persian text."""
        code, reason = read_reason(value, self._reasons)
        return code, (code if reason is None else reason.text(self.lang))

    def digits(self, text: str) -> str:
        """ASCII digits as Persian ones in Persian, the number isolated left-to-right so that a
        sign or percent sign stays where it belongs in right-to-left text."""
        return localize_number(text, self.lang)

    def number(self, value: Any, places: int = 3) -> str:
        """A number with thousands separators and ``places`` decimals; '–' when there is none."""
        if not _shown(value):
            return "–"
        return self.digits(f"{float(value):,.{places}f}")

    def percent(self, value: Any, places: int = 1) -> str:
        """A share (0-1) as a percentage; '–' when there is none."""
        if not _shown(value):
            return "–"
        return self.digits(f"{100 * float(value):.{places}f}%")

    def count(self, value: Any) -> str:
        """A whole number with thousands separators; '–' when there is none."""
        if value is None:
            return "–"
        return self.digits(f"{int(value):,}")

    def interval(self, pair: Sequence[float] | None, places: int = 3) -> str:
        """``low – high``; '–' when there is none."""
        if not pair:
            return "–"
        return f"{self.number(pair[0], places)} – {self.number(pair[1], places)}"

    def joined(self, items: Sequence[str], separator: str = "list_separator") -> str:
        """Items joined with the language's list (or group) separator."""
        return self.phrase(separator).join(items)
