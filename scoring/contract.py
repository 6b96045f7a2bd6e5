"""The data contract: columns, rules, vocabularies, tiers, reasons, as loaded from a TOML file.

The default contract ships as ``scoring/data/contract.toml``; an analyst can copy it, add a column
or change a range, and pass the copy (``--contract FILE``). Nothing here knows a column by name:
every rule comes from the file.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from scoring.errors import ContractError
from scoring.model_spec import ModelSpec, Reason, TrainingSpec, parse_model, parse_reasons
from scoring.packaged import default_contract_path, packaged_document
from scoring.text import fold_text, format_number
from scoring.units import UnitTable, unit_table_from_dict

__all__ = [
    "COLUMN_TYPES",
    "Column",
    "Contract",
    "ModelSpec",
    "Reason",
    "TrainingSpec",
    "Vocabulary",
    "contract_from_dict",
    "default_contract_path",
    "load_contract",
    "this_year",
]

COLUMN_TYPES = ("id", "text", "int", "number", "rate", "yesno", "category", "year", "label")
_NUMERIC_TYPES = ("int", "number", "rate", "year")
_COLUMN_KEYS = {
    "name", "fa", "aliases", "type", "required", "unique", "min", "max", "min_exclusive",
    "max_exclusive", "vocabulary", "jalali_min", "jalali_max", "cap", "training_only", "unit",
    "values",
}  # fmt: skip
#: Tier letters, best first; every tier but the last has a lower cut-off on the probability.
TIERS = ("A", "B", "C", "D")
_DEFAULT_CUTOFFS = (0.5, 0.3, 0.15)
_LABEL_LANGUAGES = ("en", "fa")


@dataclass(frozen=True)
class Column:
    """One input column and its rules."""

    name: str
    type: str
    fa: str = ""
    aliases: tuple[str, ...] = ()
    required: bool = False
    unique: bool = False
    min: float | None = None
    max: float | None = None
    min_exclusive: float | None = None
    max_exclusive: float | None = None
    vocabulary: str | None = None
    jalali_min: float | None = None
    jalali_max: float | None = None
    cap: str | None = None
    training_only: bool = False
    #: The unit values are in: a spelling of ``[units]``, or ``"own"`` (set by the file).
    unit: str | None = None
    #: A yes/no or label column's own words (``values = { yes = [...], no = [...] }``, matched
    #: folded), read instead of the global ``[yesno]`` words: ``good``/``bad`` for one label
    #: without making "good" a yes everywhere. Empty: the global words.
    values: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def is_numeric(self) -> bool:
        return self.type in _NUMERIC_TYPES

    def range_violations(self, numbers: np.ndarray) -> list[tuple[np.ndarray, str]]:
        """The range rules some of ``numbers`` break, as ``(mask, rule)`` pairs.

        Parameters
        ----------
        numbers
            The column's values as floats; NaN (missing) breaks no rule.

        Returns
        -------
        list of (numpy.ndarray, str)
            For each rule broken by at least one value, in the order minimum, exclusive minimum,
            maximum, exclusive maximum: the mask of the values breaking it and what the rule
            says (``"is below the minimum 1"``, ``"must be greater than 0"``, ...).
        """
        rules = (
            (self.min, np.less, "is below the minimum"),
            (self.min_exclusive, np.less_equal, "must be greater than"),
            (self.max, np.greater, "is above the maximum"),
            (self.max_exclusive, np.greater_equal, "must be less than"),
        )
        broken = []
        with np.errstate(invalid="ignore"):
            for bound, breaks, rule in rules:
                if bound is not None:
                    mask = breaks(numbers, bound)
                    if mask.any():
                        broken.append((mask, f"{rule} {format_number(bound)}"))
        return broken

    def range_violation(self, value: float) -> str:
        """The first range rule ``value`` breaks, worded as :meth:`range_violations` does, or ''."""
        broken = self.range_violations(np.array([value], dtype=np.float64))
        return broken[0][1] if broken else ""


@dataclass(frozen=True)
class Vocabulary:
    """A category's keys, their Persian names, and the lookup from any accepted spelling."""

    name: str
    keys: tuple[str, ...]
    unknown: str
    persian: Mapping[str, str]
    lookup: Mapping[str, str]

    @property
    def categories(self) -> tuple[str, ...]:
        """Every value a normalised cell can take: the keys, then the unknown bucket."""
        return (*self.keys, self.unknown)

    def label(self, key: str, lang: str = "en") -> str:
        return self.persian.get(key, key) if lang == "fa" else key


@dataclass(frozen=True)
class Contract:
    """The whole input contract. Build it with :func:`load_contract`."""

    columns: tuple[Column, ...]
    yes: frozenset[str]
    no: frozenset[str]
    vocabularies: Mapping[str, Vocabulary]
    tiers: Mapping[str, float]
    tier_labels: Mapping[str, Mapping[str, str]]
    model: ModelSpec
    dimensions: Mapping[str, tuple[str, ...]]
    reasons: Mapping[str, Mapping[str, Reason]]
    source: Mapping[str, Any] = field(repr=False, compare=False)
    #: Names of features and columns as people read them, per language (``[feature_labels]``);
    #: contracts stored with older models have none.
    feature_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: Folded words that mark a totals or subtotals row when they fill a whole id or name cell
    #: (``[totals]``; the packaged list for contracts stored without one).
    totals: frozenset[str] = frozenset()
    #: Known units (``[units]``; the packaged table for contracts stored without one).
    units: UnitTable = field(default_factory=UnitTable)
    #: Headers of the output columns per language (``[output_labels]``; the packaged ones for
    #: contracts stored without them).
    output_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise ContractError(f"column '{name}' is not in the contract")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def id_column(self) -> Column:
        return next(c for c in self.columns if c.type == "id")

    @property
    def totals_columns(self) -> tuple[Column, ...]:
        """The columns whose cell marks a totals row: the id and the free-text (name) columns."""
        return tuple(c for c in self.columns if c.type in ("id", "text"))

    @property
    def label_column(self) -> Column:
        return self.column(self.model.label)

    def input_columns(self, *, labelled: bool = False) -> tuple[Column, ...]:
        """The columns read from a file: the label only when ``labelled``."""
        return tuple(c for c in self.columns if labelled or not c.training_only)

    def header_lookup(self) -> dict[str, str]:
        """Map each folded accepted header (name, Persian name, aliases) to its column name."""
        lookup: dict[str, str] = {}
        for column in self.columns:
            for spelling in (column.name, column.fa, *column.aliases):
                if spelling:
                    lookup.setdefault(fold_text(spelling), column.name)
        return lookup

    def yesno_words(self, column: Column) -> tuple[frozenset[str], frozenset[str]]:
        """The folded ``(yes, no)`` words a yes/no or label column reads: its own ``values``,
        else the contract's ``[yesno]`` words."""
        if column.values:
            return column.values["yes"], column.values["no"]
        return self.yes, self.no

    def tier_label(self, tier: str, lang: str = "en") -> str:
        return self.tier_labels.get(tier, {}).get(lang, tier)

    def output_label(self, name: str, lang: str = "en") -> str:
        """The header of output column ``name`` (``readiness_tier``, ``error`` ...) in ``lang``.

        Its ``[output_labels]`` entry, else the name itself (always so in English).
        """
        return self.output_labels.get(name, {}).get(lang) or name

    def feature_label(self, name: str, lang: str = "en") -> str:
        """How people read a model feature's or a column's name, in ``lang`` (``en``/``fa``).

        Its ``[feature_labels]`` entry; else, in Persian, its column's Persian header; else the
        name with spaces for underscores.
        """
        label = self.feature_labels.get(name, {}).get(lang)
        if label:
            return label
        if lang == "fa" and name in self.names and self.column(name).fa:
            return self.column(name).fa
        return name.replace("_", " ")

    def to_dict(self) -> dict[str, Any]:
        """The contract as the TOML document it came from (stored with a trained model)."""
        return copy.deepcopy(dict(self.source))


def load_contract(path: str | Path | None = None) -> Contract:
    """Load and check a contract TOML file (the packaged default when ``path`` is None).

    Raises
    ------
    ContractError
        The file is missing, is not TOML, or breaks the contract's own rules.
    """
    source = Path(path) if path is not None else default_contract_path()
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"contract file {source} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ContractError(f"contract file {source} is not valid TOML: {exc}") from None
    return contract_from_dict(document, origin=str(source))


def contract_from_dict(document: Mapping[str, Any], *, origin: str = "contract") -> Contract:
    """Build a :class:`Contract` from its TOML document (as stored in a model manifest)."""
    columns = tuple(_parse_column(raw, origin) for raw in document.get("column", []))
    if not columns:
        raise ContractError(f"{origin} defines no [[column]]")
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ContractError(f"{origin} defines a column twice: {sorted(_repeated(names))}")
    if sum(c.type == "id" for c in columns) != 1:
        raise ContractError(f"{origin} must define exactly one column of type 'id'")
    vocabularies = {
        name: _parse_vocabulary(name, raw) for name, raw in document.get("vocabulary", {}).items()
    }
    for column in columns:
        if column.type == "category" and column.vocabulary not in vocabularies:
            raise ContractError(
                f"{origin}: column '{column.name}' names vocabulary '{column.vocabulary}', "
                f"which is not defined (defined: {', '.join(vocabularies) or 'none'})"
            )
        if column.cap is not None and column.cap not in names:
            raise ContractError(f"{origin}: column '{column.name}' caps at unknown '{column.cap}'")
    columns, units = _with_units(columns, document.get("units"), origin)
    yesno = document.get("yesno", {})
    yes = frozenset(fold_text(str(w)) for w in _words(yesno.get("yes", [])))
    no = frozenset(fold_text(str(w)) for w in _words(yesno.get("no", [])))
    if yes & no:
        raise ContractError(f"{origin}: words are both yes and no: {sorted(yes & no)}")
    tiers_raw = dict(document.get("tiers", {}))
    tier_labels = tiers_raw.pop("label", {})
    tiers = {t: tiers_raw.get(t, d) for t, d in zip(TIERS[:-1], _DEFAULT_CUTOFFS, strict=True)}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in tiers.values()):
        raise ContractError(f"{origin}: tier cut-offs A, B, C must be numbers, got {tiers}")
    tiers = {t: float(v) for t, v in tiers.items()}
    if not 1 >= tiers["A"] > tiers["B"] > tiers["C"] > 0:
        raise ContractError(f"{origin}: tier cut-offs must satisfy 1 >= A > B > C > 0, got {tiers}")
    model = parse_model(document.get("model", {}), columns, origin)
    dimensions = {k: tuple(v) for k, v in document.get("dimensions", {}).items()}
    reasons = parse_reasons(document.get("reason", {}), origin)
    return Contract(
        columns=columns,
        yes=yes,
        no=no,
        vocabularies=vocabularies,
        tiers=tiers,
        tier_labels=tier_labels,
        model=model,
        dimensions=dimensions,
        reasons=reasons,
        source=dict(document),
        feature_labels=_parse_labels(document, "feature_labels", origin),
        output_labels=_parse_labels(document, "output_labels", origin),
        totals=_parse_totals(document.get("totals"), origin),
        units=units,
    )


def this_year() -> int:
    return dt.date.today().year


def _parse_column(raw: Mapping[str, Any], origin: str) -> Column:
    if not isinstance(raw, Mapping):
        raise ContractError(f"{origin}: every [[column]] must be a table, got {raw!r}")
    name = raw.get("name")
    if not name:
        raise ContractError(f"{origin}: a [[column]] has no name")
    unknown = set(raw) - _COLUMN_KEYS
    if unknown:
        raise ContractError(f"{origin}: column '{name}' has unknown keys {sorted(unknown)}")
    kind = raw.get("type")
    if kind not in COLUMN_TYPES:
        raise ContractError(
            f"{origin}: column '{name}' has type {kind!r}; "
            f"it must be one of {', '.join(COLUMN_TYPES)}"
        )
    values = dict(raw)
    if values.get("max") == "this_year":
        values["max"] = float(this_year())
    for key in ("min", "max", "min_exclusive", "max_exclusive", "jalali_min", "jalali_max"):
        if key in values and (
            not isinstance(values[key], int | float) or isinstance(values[key], bool)
        ):
            raise ContractError(f"{origin}: column '{name}' {key} must be a number")
    values["aliases"] = tuple(str(a) for a in _words(values.get("aliases", ())))
    values["values"] = _parse_values(name, kind, values.get("values", {}), origin)
    if "unit" in values and not isinstance(values["unit"], str):
        raise ContractError(f"{origin}: column '{name}' unit must be a text")
    return Column(**values)


def _parse_values(name: str, kind: str, raw: Any, origin: str) -> dict[str, frozenset[str]]:
    """A yes/no or label column's own ``values = { yes = [...], no = [...] }``, folded."""
    if not raw:
        return {}
    if kind not in ("yesno", "label") or not isinstance(raw, Mapping) or set(raw) != {"yes", "no"}:
        raise ContractError(
            f"{origin}: column '{name}' values must be {{ yes = [...], no = [...] }} on a yes/no "
            f"or label column, got {raw!r}"
        )
    words = {side: frozenset(fold_text(str(w)) for w in _words(raw[side])) for side in raw}
    both = sorted(words["yes"] & words["no"])
    if both:
        raise ContractError(f"{origin}: column '{name}' words are both yes and no: {both}")
    return words


def _with_units(
    columns: tuple[Column, ...], raw: Any, origin: str
) -> tuple[tuple[Column, ...], UnitTable]:
    """The ``[units]`` table, and every column's unit checked against it.

    A contract stored without ``[units]`` (by an older version) reads units as the packaged
    contract does: its table, and the packaged unit of each column of the same name and type.
    """
    if raw is None:
        table, packaged = _packaged_units()
        columns = tuple(
            replace(c, unit=packaged.get((c.name, c.type))) if c.unit is None else c
            for c in columns
        )
    else:
        table = unit_table_from_dict(raw, origin)
    for column in columns:
        if column.unit is not None:
            table.check_column(column.name, column.unit, column.type, origin)
    return columns, table


@functools.cache
def _packaged_units() -> tuple[UnitTable, dict[tuple[str, str], str]]:
    document = tomllib.loads(default_contract_path().read_text(encoding="utf-8"))
    table = unit_table_from_dict(document["units"], str(default_contract_path()))
    units = {(c["name"], c["type"]): c["unit"] for c in document["column"] if "unit" in c}
    return table, units


def _parse_vocabulary(name: str, raw: Mapping[str, Any]) -> Vocabulary:
    entries = {k: v for k, v in raw.items() if k != "unknown"}
    unknown = str(raw.get("unknown", "other"))
    lookup: dict[str, str] = {}
    persian: dict[str, str] = {}
    for key, spellings in entries.items():
        spellings = [spellings] if isinstance(spellings, str) else list(spellings)
        if spellings:
            persian[key] = spellings[0]
        for spelling in (key, *spellings):
            lookup.setdefault(fold_text(str(spelling)), key)
    lookup.setdefault(fold_text(unknown), unknown)
    return Vocabulary(name, tuple(entries), unknown, persian, lookup)


def _parse_labels(
    document: Mapping[str, Any], section: str, origin: str
) -> dict[str, dict[str, str]]:
    """``[feature_labels]`` or ``[output_labels]``: each name to a table of texts keyed by
    language (``en``, ``fa``); the packaged contract's when the section is absent (older models)."""
    raw = document.get(section)
    if raw is None:
        document, origin = packaged_document(), "packaged contract"
        raw = document[section]
    labels: dict[str, dict[str, str]] = {}
    for name, texts in dict(raw).items():
        if not isinstance(texts, Mapping) or not all(
            lang in _LABEL_LANGUAGES and isinstance(text, str) for lang, text in texts.items()
        ):
            raise ContractError(
                f"{origin}: {section}.{name} must be a table of texts keyed by "
                f"{' or '.join(_LABEL_LANGUAGES)}, got {texts!r}"
            )
        labels[str(name)] = dict(texts)
    return labels


def _parse_totals(raw: Any, origin: str) -> frozenset[str]:
    """``[totals] words``, folded; the packaged contract's words when there is no ``[totals]``."""
    if raw is None:
        return _packaged_totals()
    words = raw.get("words") if isinstance(raw, Mapping) else None
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        raise ContractError(f"{origin}: [totals] words must be a list of words, got {raw!r}")
    return frozenset(fold_text(w) for w in words)


def _packaged_totals() -> frozenset[str]:
    return _parse_totals(packaged_document()["totals"], str(default_contract_path()))


def _words(value: Any) -> list[Any]:
    """A list of words; a lone string is one word, not its characters."""
    return [value] if isinstance(value, str) else list(value)


def _repeated(names: list[str]) -> set[str]:
    return {n for n in names if names.count(n) > 1}
