"""Matching a file's headers to contract columns, with their units and notes, and the coverage.

Headers match as people write them: ``فروش (میلیارد ریال)``, ``Revenue - million IRR``,
``کارت بازرگانی دارد؟``, ``درصد ضایعات``, ``گواهی ISO 9001``. A unit in a header converts its
column (:mod:`scoring.units`); a unit that cannot be read is refused, never ignored. The result,
a :class:`HeaderMap`, also says which headers matched nothing and which columns the model uses
are absent, so that a renamed column never silently becomes missing for every row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from scoring.contract import Column, Contract
from scoring.errors import ContractError
from scoring.features import derived_expressions
from scoring.text import fold_text
from scoring.units import OWN_UNIT, Conversion, Unit, UnitTable

__all__ = [
    "HeaderMap",
    "HeaderParts",
    "coverage_warning",
    "header_columns",
    "map_headers",
    "model_columns",
    "require_model_columns",
    "split_header",
]

#: Headers of a row counter (ignored, and told as such).
ROW_COUNTERS = frozenset(
    fold_text(w) for w in ("ردیف", "شماره ردیف", "row", "row no", "row number", "#", "no.", "no")
)
# Words around a yes/no question: "آیا ... دارد؟", "has ...", "دارای ...".
_LEADING_FILLERS = tuple(fold_text(w) for w in ("آیا", "دارای", "has", "have", "holds", "is"))
_TRAILING_FILLERS = tuple(
    fold_text(w) for w in ("دارد یا خیر", "دارد یا ندارد", "دارد", "دارند", "است", "هست", "has")
)
# Folding reads '-' as a space, so a spaced hyphen becomes an en dash first: "Revenue - IRR".
_SPACED_HYPHEN = re.compile(r"(?<=\S)\s+-\s+(?=\S)")
_DASH_TAIL = re.compile(r"\s[\u2013\u2014]\s((?:(?!\s[\u2013\u2014]\s).)*)\Z")
_CLOSING = {")": "(", "]": "[", "}": "{"}
_QUESTION = ("?", "\u061f")
# Types whose values are measured: a header's bracket on them must be a unit (years are not).
_MEASURED = ("int", "number", "rate")


@dataclass(frozen=True)
class HeaderParts:
    """A header folded, split into its name and what followed it in brackets or after a dash."""

    name: str
    qualifiers: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class HeaderMap(Mapping[str, str]):
    """How a file's headers feed the contract: ``{column: header as written}``, and the rest.

    It reads as the mapping ``columns``; ``units`` holds the unit each header gave (converted
    to the column's unit), ``notes`` the other bracketed notes (``شمسی``), ``unmatched`` the
    headers that fed no column, ``row_counters`` the row-counter headers, and ``absent`` the
    optional columns the model uses that the file lacks.
    """

    columns: Mapping[str, str]
    units: Mapping[str, Conversion] = field(default_factory=dict)
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unmatched: tuple[str, ...] = ()
    row_counters: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> str:
        return self.columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


@dataclass(frozen=True)
class _Spelling:
    """A column one folded spelling names; ``percent``: the spelling says so (``درصد ضایعات``)."""

    column: Column
    percent: bool


def split_header(header: str) -> HeaderParts:
    """Fold a header and take off, from its end, ``?``/``؟`` and brackets or a dash's tail.

    ``split_header("فروش (میلیارد ریال)")`` is ``HeaderParts("فروش", ("میلیارد ریال",))``.
    Splitting is idempotent: the name of a split splits into itself and nothing else.
    """
    text = fold_text(_SPACED_HYPHEN.sub(" \u2013 ", str(header)))
    qualifiers: list[str] = []
    while True:
        text = text.rstrip()
        if text.endswith(_QUESTION):
            text = text[:-1]
            continue
        start = _opening(text)
        if start > 0:
            qualifiers.insert(0, text[start + 1 : -1].strip())
            text = text[:start]
            continue
        tail = _DASH_TAIL.search(text)
        if tail is not None and tail.start() > 0:
            qualifiers.insert(0, tail.group(1).strip())
            text = text[: tail.start()]
            continue
        return HeaderParts(text.strip(), tuple(q for q in qualifiers if q))


def header_columns(headers: Sequence[str], contract: Contract) -> list[str | None]:
    """The contract column each header names, None where none (or two); never raises.

    For telling a header row from the title rows above it: no unit is checked.
    """
    try:
        lookup = _lookup(contract)
    except ContractError:
        return [None] * len(headers)
    found = [_candidates(split_header(h), lookup, contract.units) for h in headers]
    return [next(iter(f)) if len(f) == 1 else None for f in found]


def map_headers(
    headers: Sequence[str],
    contract: Contract,
    *,
    source: str = "the file",
    labelled: bool = False,
) -> HeaderMap:
    """Match a file's headers to contract columns, with their units, notes and coverage.

    Parameters
    ----------
    headers
        The file's headers as written.
    contract
        The contract to match against.
    source
        How errors name the file.
    labelled
        Require the label column too.

    Returns
    -------
    HeaderMap
        Every contract column present with its header, the units the headers gave, and what
        matched nothing.

    Raises
    ------
    ContractError
        A required column (or, when ``labelled``, the label) is missing; two headers mean the
        same column; one header could mean two columns; a header's unit is not known for its
        column, or the columns of ``unit = "own"`` are given in units that do not convert.
    """
    lookup = _lookup(contract)
    columns: dict[str, str] = {}
    qualifiers: dict[str, tuple[str, ...]] = {}
    unmatched, counters = [], []
    for header in headers:
        parts = split_header(header)
        if parts.name in ROW_COUNTERS:
            counters.append(header)
            continue
        found = _candidates(parts, lookup, contract.units)
        if len(found) > 1:
            names = " and ".join(f"'{name}'" for name in found)
            raise ContractError(
                f"header '{header}' in {source} could mean column {names}; rename it to one "
                "of their names"
            )
        if not found:
            if parts.name:
                unmatched.append(header)
            continue
        [(name, (_, header_qualifiers))] = found.items()
        if name in columns:
            raise ContractError(
                f"headers '{columns[name]}' and '{header}' in {source} both mean column '{name}'; "
                "keep one of them"
            )
        columns[name], qualifiers[name] = header, header_qualifiers
    _require(columns, headers, contract, source, labelled)
    given: dict[str, tuple[str, Unit]] = {}
    notes: dict[str, tuple[str, ...]] = {}
    for column in contract.columns:  # in contract order: the first "own" column sets the unit
        if column.name in columns:
            header = columns[column.name]
            header_unit, column_notes = _read_qualifiers(
                f"header '{header}' in {source}", column, qualifiers[column.name], contract.units
            )
            if header_unit is not None:
                given[column.name] = header_unit
            if column_notes:
                notes[column.name] = column_notes
    units = _conversions(given, columns, contract, source)
    absent = tuple(c for c in model_columns(contract) if c not in columns)
    return HeaderMap(columns, units, notes, tuple(unmatched), tuple(counters), absent)


def model_columns(contract: Contract) -> tuple[str, ...]:
    """The optional input columns the model's features read, in contract order."""
    # The contract's own [model.derived] (an analyst's ratio reads its own columns); an input
    # column of the same name wins, as it does when features are built.
    expressions = derived_expressions(contract.model.derived)
    read: set[str] = set()
    for feature in contract.model.features:
        derived = feature in expressions and feature not in contract.names
        read.update(expressions[feature].columns if derived else (feature,))
    optional = (c for c in contract.columns if not c.required and not c.training_only)
    return tuple(c.name for c in optional if c.name in read)


def coverage_warning(
    contract: Contract,
    source: str,
    *,
    absent: Sequence[str],
    unmatched: Sequence[str] = (),
    row_counters: Sequence[str] = (),
) -> str | None:
    """One line naming the model's absent columns (English and Persian) and unmatched headers.

    None when every column the model uses is present and every header fed a column; row
    counters, which are no problem, are named only beside something that is.
    """
    parts = []
    if absent:
        parts.append(
            f"{source} lacks {_names(absent, contract)}, which the model uses: every row is "
            "scored without them"
        )
    if unmatched:
        shown = ", ".join(f"'{h}'" for h in unmatched)
        parts.append(f"headers matching no column (ignored): {shown}")
    if row_counters and parts:
        parts.append(f"row counter ignored: {', '.join(repr(h) for h in row_counters)}")
    return "; ".join(parts) or None


def require_model_columns(header_map: HeaderMap, contract: Contract, source: str) -> None:
    """Refuse a file that lacks a column the model uses (strict coverage).

    Raises
    ------
    ContractError
        Naming every absent column in English and Persian.
    """
    if header_map.absent:
        one = len(header_map.absent) == 1
        raise ContractError(
            f"{'column' if one else 'columns'} {_names(header_map.absent, contract)} "
            f"{'is' if one else 'are'} used by the model but absent from {source} (strict "
            "coverage); add the column, or score without strict coverage",
            column=header_map.absent[0],
            parameter="strict",
        )


def _names(columns: Sequence[str], contract: Contract) -> str:
    return ", ".join(
        f"{name} ({contract.column(name).fa})" if contract.column(name).fa else name
        for name in columns
    )


def _opening(text: str) -> int:
    """Where the bracket closing ``text`` opens, or -1 (no closing bracket, or unbalanced)."""
    if not text or text[-1] not in _CLOSING:
        return -1
    closing, depth = text[-1], 0
    for at in range(len(text) - 1, -1, -1):
        if text[at] == closing:
            depth += 1
        elif text[at] == _CLOSING[closing]:
            depth -= 1
            if depth == 0:
                return at
    return -1


def _lookup(contract: Contract) -> dict[str, list[_Spelling]]:
    """Every folded spelling of every column; a rate column's percent spellings without it."""
    percent_words = contract.units.percent_words
    lookup: dict[str, list[_Spelling]] = {}
    for column in contract.columns:
        for spelling in dict.fromkeys((column.name, column.fa, *column.aliases)):
            if not spelling:
                continue
            parts = split_header(spelling)
            if parts.qualifiers:
                raise ContractError(
                    f"the contract spells column '{column.name}' as '{spelling}', with a unit or "
                    "note; a column's name and aliases must be plain (units go in [units])"
                )
            key, percent = parts.name, False
            bare = _without_percent(key, percent_words)
            if column.type == "rate" and bare is not None:
                key, percent = bare[0], True
            entries = lookup.setdefault(key, [])
            if _Spelling(column, percent) not in entries:
                entries.append(_Spelling(column, percent))
    return lookup


def _candidates(
    parts: HeaderParts, lookup: Mapping[str, list[_Spelling]], units: UnitTable
) -> dict[str, tuple[Column, tuple[str, ...]]]:
    """``{column: (column, the header's unit texts)}`` for each column the header may mean."""
    says_percent = any(u is not None and u.is_percent for u in map(units.find, parts.qualifiers))
    found: dict[str, tuple[Column, tuple[str, ...]]] = {}
    for entry in lookup.get(parts.name, ()):
        if not entry.percent or says_percent:
            found.setdefault(entry.column.name, (entry.column, parts.qualifiers))
    # "درصد ضایعات", "defect rate %": a percent word before or after a rate column's name.
    bare = _without_percent(parts.name, units.percent_words)
    if bare is not None:
        rest, word = bare
        for entry in lookup.get(rest, ()):
            if entry.column.type == "rate":
                found.setdefault(entry.column.name, (entry.column, (word, *parts.qualifiers)))
    if not found:  # "کارت بازرگانی دارد؟", "has commercial card": fillers of a yes/no question
        rest = _without_fillers(parts.name)
        for entry in lookup.get(rest, ()) if rest != parts.name else ():
            if entry.column.type == "yesno" and not entry.percent:
                found.setdefault(entry.column.name, (entry.column, parts.qualifiers))
    return found


def _without_percent(name: str, words: frozenset[str]) -> tuple[str, str] | None:
    """``(name without it, the word)`` when a percent word starts or ends ``name``."""
    for word in sorted(words, key=len, reverse=True):
        if name.startswith(word + " "):
            return name[len(word) + 1 :].strip(), word
        if name.endswith(" " + word):
            return name[: -len(word) - 1].strip(), word
        if word == "%" and name.endswith("%") and len(name) > 1:
            return name[:-1].strip(), word
    return None


def _without_fillers(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for word in _LEADING_FILLERS:
            if name.startswith(word + " "):
                name, changed = name[len(word) + 1 :], True
        for word in _TRAILING_FILLERS:
            if name.endswith(" " + word):
                name, changed = name[: -len(word) - 1], True
    return name


def _read_qualifiers(
    where: str, column: Column, qualifiers: tuple[str, ...], table: UnitTable
) -> tuple[tuple[str, Unit] | None, tuple[str, ...]]:
    """``(text, unit)`` of a header's unit, and its other notes; refuse what cannot be read."""
    found = [(q, table.find(q)) for q in qualifiers]
    units = [(q, u) for q, u in found if u is not None]
    notes = tuple(q for q, u in found if u is None)
    if column.type not in _MEASURED:
        if units:
            raise ContractError(
                f"{where} gives the unit '{units[0][0]}', but column '{column.name}' "
                f"({column.type}) takes no unit; take the unit out of the header",
                column=column.name,
            )
        return None, notes
    kinds = table.kinds_for(column.unit) if column.unit is not None else ()
    known = ", ".join(table.spellings(kinds)) or "none"
    if notes:
        raise ContractError(
            f"{where}: '{notes[0]}' is not a unit known for column '{column.name}' "
            f"({_measured_in(column)}); known units: {known}",
            column=column.name,
            value=notes[0],
        )
    if not units:
        return None, ()
    if len({(u.kind, u.size) for _, u in units}) > 1:
        raise ContractError(
            f"{where} gives two different units, '{units[0][0]}' and '{units[1][0]}'",
            column=column.name,
        )
    text, unit = units[0]
    if column.unit is None:
        raise ContractError(
            f"{where} gives the unit '{text}', but column '{column.name}' declares no unit in "
            "the contract, so it cannot be converted; take the unit out of the header or "
            "declare the column's unit",
            column=column.name,
        )
    if unit.kind not in kinds:
        raise ContractError(
            f"{where} gives '{text}' ({unit.kind}), but column '{column.name}' is "
            f"{_measured_in(column)}; known units: {known}",
            column=column.name,
            value=text,
        )
    return (text, unit), ()


def _measured_in(column: Column) -> str:
    if column.unit == OWN_UNIT:
        return "in a physical unit the file sets"
    return f"in {column.unit}" if column.unit else "without a unit"


def _conversions(
    given: Mapping[str, tuple[str, Unit]],
    columns: Mapping[str, str],
    contract: Contract,
    source: str,
) -> dict[str, Conversion]:
    """Each given unit as a factor to its column's unit; ``own`` columns to the first one's."""
    conversions: dict[str, Conversion] = {}
    reference: tuple[str, Unit] | None = None
    for name, (text, unit) in given.items():
        column = contract.column(name)
        if column.unit == OWN_UNIT:
            if reference is None:
                reference = (name, unit)
            first, base = reference
            if unit.kind != base.kind:
                raise ContractError(
                    f"columns '{first}' and '{name}' of {source} must be in one unit, but "
                    f"'{columns[first]}' is in {base.kind} and '{columns[name]}' in {unit.kind}, "
                    "which do not convert; give both in one unit",
                    column=name,
                )
            target = base
        else:
            target = contract.units.find(column.unit or "")
        conversions[name] = Conversion(text, unit.kind, _ratio(unit, target))
    return conversions


def _ratio(unit: Unit, target: Unit | None) -> Decimal:
    if target is None:  # pragma: no cover - contract loading checks every column's unit
        raise ContractError(f"unit '{unit.spelling}' has no column unit to convert to")
    with localcontext(prec=50):
        return unit.size / target.size


def _require(
    columns: Mapping[str, str],
    headers: Sequence[str],
    contract: Contract,
    source: str,
    labelled: bool,
) -> None:
    required = [c.name for c in contract.columns if c.required and not c.training_only]
    if labelled:
        required.append(contract.model.label)
    missing = [name for name in required if name not in columns]
    if missing:
        shown = ", ".join(f"'{h}'" for h in headers[:12]) + (" ..." if len(headers) > 12 else "")
        what = "column" if len(missing) == 1 else "columns"
        verb = "is" if len(missing) == 1 else "are"
        raise ContractError(
            f"{what} {', '.join(repr(m) for m in missing)} {verb} required but missing from "
            f"{source} (found: {shown or 'no headers'})"
        )
