"""Units of measure: the contract's table of known units, and decimal-exact scaling of numbers.

A header may give its column's unit (``فروش (میلیارد ریال)``); the contract's ``[units]`` table
says what each spelling measures and how big it is. Values are converted to the column's unit in
decimal, on their text, before the one float parse: ``19.581`` billion rials is exactly ``19581``
million, and ``3.89%`` exactly the float of ``0.0389``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation, localcontext
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scoring.buffers import text_buffers
from scoring.errors import ContractError
from scoring.text import fold_text

__all__ = [
    "NUMBER_PATTERN",
    "OWN_UNIT",
    "Conversion",
    "Unit",
    "UnitTable",
    "decimal_exponent",
    "scale_text",
    "unit_table_from_dict",
]

#: A column ``unit`` saying the file sets the unit (capacity and output): its columns must agree.
OWN_UNIT = "own"
#: The kind of fractions and percentages; a percent is the unit of this kind of size 1/100.
RATIO_KIND = "ratio"
PERCENT = Decimal("0.01")
_PERCENT_PLACES = -2
#: What Arrow reads as a number, less inf and nan (which are unreadable anyway).
NUMBER_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_NUMBER = re.compile(NUMBER_PATTERN.removesuffix("$") + r"\Z")
# Words a unit may follow inside the brackets: "(بر حسب میلیون ریال)", "(in million rials)".
_UNIT_PREFIXES = tuple(
    fold_text(w) for w in ("بر حسب", "برحسب", "به", "in", "واحد:", "واحد", "unit:", "unit")
)
_EXACT = Context(prec=1000, Emax=MAX_EMAX, Emin=MIN_EMIN)


@dataclass(frozen=True)
class Unit:
    """A unit spelling of the contract: what it measures and its size in the kind's base unit."""

    spelling: str
    kind: str
    size: Decimal

    @property
    def is_percent(self) -> bool:
        return self.kind == RATIO_KIND and self.size == PERCENT


@dataclass(frozen=True)
class Conversion:
    """The unit a header gave its column, and the factor that brings values to the column's unit."""

    unit: str
    kind: str
    factor: Decimal


@dataclass(frozen=True)
class UnitTable:
    """The contract's ``[units]``: every known spelling (folded) and the kinds ``own`` may take."""

    units: Mapping[str, Unit] = field(default_factory=dict)
    own_kinds: tuple[str, ...] = ()

    def find(self, text: str) -> Unit | None:
        """The unit a header's bracket names (``"بر حسب میلیون ریال"`` too), or None."""
        folded = fold_text(text)
        unit = self.units.get(folded)
        for prefix in _UNIT_PREFIXES:
            if unit is None and folded.startswith(prefix + " "):
                unit = self.units.get(folded[len(prefix) :].strip())
        return unit

    def kinds_for(self, column_unit: str) -> tuple[str, ...]:
        """The kinds a column of ``unit = column_unit`` may be given in."""
        if column_unit == OWN_UNIT:
            return self.own_kinds
        unit = self.units.get(fold_text(column_unit))
        return (unit.kind,) if unit is not None else ()

    def spellings(self, kinds: Collection[str]) -> list[str]:
        """The spellings of the units of ``kinds``, as the contract writes them."""
        return [u.spelling for u in self.units.values() if u.kind in kinds]

    @property
    def percent_words(self) -> frozenset[str]:
        """The folded spellings of a percent (``%``, ``درصد`` ...)."""
        return frozenset(key for key, unit in self.units.items() if unit.is_percent)

    def check_column(self, name: str, unit: str, kind: str, origin: str) -> None:
        """Refuse a column ``unit`` that the table does not know, or on a column without units."""
        if kind not in ("int", "number", "rate"):
            raise ContractError(f"{origin}: column '{name}' of type '{kind}' cannot have a unit")
        if unit != OWN_UNIT and fold_text(unit) not in self.units:
            raise ContractError(
                f"{origin}: column '{name}' has unit '{unit}', which [units] does not list; "
                f"use '{OWN_UNIT}' or one of {', '.join(u.spelling for u in self.units.values())}"
            )


def unit_table_from_dict(raw: Mapping[str, Any], origin: str) -> UnitTable:
    """Build a :class:`UnitTable` from the ``[units]`` table of a contract document.

    ``[units.KIND]`` tables map spellings to their size in the kind's base unit (a number, or a
    string such as ``"1e-6"``); ``own`` lists the kinds a column of ``unit = "own"`` may take.

    Raises
    ------
    ContractError
        A size is not a positive number, a spelling is listed twice, or ``own`` names a kind
        that has no table.
    """
    if not isinstance(raw, Mapping):
        raise ContractError(f"{origin}: [units] must be a table, got {raw!r}")
    units: dict[str, Unit] = {}
    for kind, spellings in raw.items():
        if kind == OWN_UNIT:
            continue
        if not isinstance(spellings, Mapping):
            raise ContractError(
                f"{origin}: [units.{kind}] must map unit spellings to sizes, got {spellings!r}"
            )
        for spelling, size in spellings.items():
            key = fold_text(str(spelling))
            if not key:
                raise ContractError(f"{origin}: [units.{kind}] has an empty unit spelling")
            if key in units:
                raise ContractError(
                    f"{origin}: unit '{spelling}' is listed twice "
                    f"([units.{units[key].kind}] and [units.{kind}])"
                )
            units[key] = Unit(str(spelling), str(kind), _size(size, f"{origin}: [units.{kind}]"))
    own = raw.get(OWN_UNIT, [])
    kinds = {u.kind for u in units.values()}
    if not isinstance(own, list) or not set(own) <= kinds:
        raise ContractError(
            f"{origin}: [units] own must list unit kinds among {sorted(kinds)}, got {own!r}"
        )
    return UnitTable(units, tuple(own))


def decimal_exponent(factor: Decimal) -> int | None:
    """``k`` when ``factor`` is exactly ``10**k``, else None."""
    sign, digits, exponent = factor.normalize(_EXACT).as_tuple()
    return int(exponent) if sign == 0 and digits == (1,) else None


def scale_text(text: pa.Array, factor: Decimal, percent: np.ndarray | None = None) -> pa.Array:
    """Number texts times ``factor`` (cells marked ``percent``: over 100 instead), exactly.

    The result is text again, for one correctly rounded parse, so that a scaled value is the
    float of the exact decimal product. A power of ten moves the decimal point (it appends or
    moves the exponent, changing no digit) on the whole column at once; another factor
    multiplies in decimal once per distinct value. Texts that are not numbers stay unreadable.
    """
    places = decimal_exponent(factor)
    marked = percent is not None and bool(percent.any())
    if places is None:
        every, no_place = np.ones(len(text), dtype=bool), np.zeros(len(text), dtype=np.int64)
        scaled = _rewrite(text, every, no_place, lambda number, _: number * factor)
        if not marked:
            return scaled
        return pc.if_else(pa.array(percent), _shift(text, _PERCENT_PLACES), scaled)
    return _shift(text, np.where(percent, _PERCENT_PLACES, places) if marked else places)


def _shift(text: pa.Array, places: int | np.ndarray) -> pa.Array:
    """Number texts times ``10**places`` (one power per cell, or one for all): a new exponent."""
    if isinstance(places, int | np.integer):
        if places == 0:
            return text
        suffix: pa.Scalar | pa.Array = pa.scalar(f"e{int(places)}")
    else:
        suffix = pc.binary_join_element_wise("e", pc.cast(pa.array(places), pa.string()), "")
    shifted = pc.binary_join_element_wise(text, suffix, "")
    _, data = text_buffers(text)
    if not ((data | 0x20) == ord("e")).any():
        return shifted
    # A cell with an exponent already ('1.5e3') gets its exponent moved, in decimal.
    has_exponent = pc.fill_null(pc.match_substring(text, "e", ignore_case=True), False)
    per_cell = np.broadcast_to(np.asarray(places, dtype=np.int64), (len(text),))
    moved = _rewrite(text, np.asarray(has_exponent), per_cell, lambda number, k: number.scaleb(k))
    return pc.if_else(has_exponent, moved, shifted)


def _rewrite(text: pa.Array, mask: np.ndarray, places: np.ndarray, op: Any) -> pa.Array:
    """``op(Decimal(cell), place)`` as text for the masked cells, once per distinct cell."""
    at = np.flatnonzero(mask)
    out = np.empty(len(at), dtype=object)
    cells = text.take(pa.array(at))
    for place in np.unique(places[at]):
        chosen = np.flatnonzero(places[at] == place)
        encoded = pc.dictionary_encode(cells.take(pa.array(chosen)))
        codes = pc.fill_null(encoded.indices, -1).to_numpy()
        exact = [_exact(word, op, int(place)) for word in encoded.dictionary.to_pylist()]
        out[chosen] = np.array([*exact, None], dtype=object)[codes]
    return pc.replace_with_mask(text, pa.array(mask), pa.array(out, pa.string()))


def _exact(word: str, op: Any, place: int) -> str:
    """The exact decimal result as text; a cell that is not a number as it was (unreadable)."""
    if not _NUMBER.match(word):
        return word
    with localcontext(_EXACT):
        return str(op(Decimal(word), place))


def _size(value: Any, where: str) -> Decimal:
    """A unit's size as an exact decimal (a TOML float by its shortest text: 1e-6 is 10**-6)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ContractError(f"{where}: a unit size must be a positive number, got {value!r}")
    try:
        size = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        size = Decimal("nan")
    if not size.is_finite() or size <= 0:
        raise ContractError(f"{where}: a unit size must be a positive number, got {value!r}")
    return size
