"""The data contract: columns, rules, vocabularies, tiers, reasons, as loaded from a TOML file.

The default contract ships as ``scoring/data/contract.toml``; an analyst can copy it, add a column
or change a range, and pass the copy (``--contract FILE``). Nothing here knows a column by name:
every rule comes from the file.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from scoring.errors import ContractError
from scoring.text import fold_text

__all__ = [
    "COLUMN_TYPES",
    "Column",
    "Contract",
    "ModelSpec",
    "Reason",
    "Vocabulary",
    "contract_from_dict",
    "default_contract_path",
    "load_contract",
]

COLUMN_TYPES = ("id", "text", "int", "number", "rate", "yesno", "category", "year", "label")
_NUMERIC_TYPES = ("int", "number", "rate", "year")
_COLUMN_KEYS = {
    "name", "fa", "aliases", "type", "required", "unique", "min", "max", "min_exclusive",
    "max_exclusive", "vocabulary", "jalali_min", "jalali_max", "cap", "training_only",
}  # fmt: skip
TIERS = ("A", "B", "C", "D")


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

    @property
    def is_numeric(self) -> bool:
        return self.type in _NUMERIC_TYPES


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
class Reason:
    """A stable reason code with its English and Persian texts."""

    code: str
    en: str
    fa: str

    def text(self, lang: str = "en") -> str:
        return self.fa if lang == "fa" else self.en


@dataclass(frozen=True)
class ModelSpec:
    """What the model takes in and what the domain is sure of."""

    features: tuple[str, ...]
    categorical: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    monotonic: Mapping[str, int]
    label: str


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

    def tier_label(self, tier: str, lang: str = "en") -> str:
        return self.tier_labels.get(tier, {}).get(lang, tier)

    def to_dict(self) -> dict[str, Any]:
        """The contract as the TOML document it came from (stored with a trained model)."""
        return copy.deepcopy(dict(self.source))


def default_contract_path() -> Path:
    """The packaged default contract."""
    return Path(str(resources.files("scoring") / "data" / "contract.toml"))


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
    yesno = document.get("yesno", {})
    yes = frozenset(fold_text(str(w)) for w in _words(yesno.get("yes", [])))
    no = frozenset(fold_text(str(w)) for w in _words(yesno.get("no", [])))
    if yes & no:
        raise ContractError(f"{origin}: words are both yes and no: {sorted(yes & no)}")
    tiers_raw = dict(document.get("tiers", {}))
    tier_labels = tiers_raw.pop("label", {})
    tiers = {t: tiers_raw.get(t, d) for t, d in zip("ABC", (0.5, 0.3, 0.15), strict=True)}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in tiers.values()):
        raise ContractError(f"{origin}: tier cut-offs A, B, C must be numbers, got {tiers}")
    tiers = {t: float(v) for t, v in tiers.items()}
    if not 1 >= tiers["A"] > tiers["B"] > tiers["C"] > 0:
        raise ContractError(f"{origin}: tier cut-offs must satisfy 1 >= A > B > C > 0, got {tiers}")
    model = _parse_model(document.get("model", {}), names, origin)
    dimensions = {k: tuple(v) for k, v in document.get("dimensions", {}).items()}
    reasons = {
        feature: {
            side: Reason(code=r["code"], en=r.get("en", r["code"]), fa=r.get("fa", r["code"]))
            for side, r in sides.items()
        }
        for feature, sides in document.get("reason", {}).items()
    }
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
    return Column(**values)


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


def _parse_model(raw: Mapping[str, Any], columns: list[str], origin: str) -> ModelSpec:
    features = tuple(raw.get("features", ()))
    categorical = tuple(raw.get("categorical", ()))
    pairs = tuple(tuple(p) for p in raw.get("pairs", ()))
    for pair in pairs:
        if len(pair) != 2 or not set(pair) <= set(features):
            raise ContractError(f"{origin}: model pair {list(pair)} must name two model features")
    monotonic = {str(k): int(v) for k, v in raw.get("monotonic", {}).items()}
    bad = {k: v for k, v in monotonic.items() if v not in (-1, 1) or k not in features}
    if bad:
        raise ContractError(f"{origin}: model.monotonic must map model features to 1 or -1: {bad}")
    label = str(raw.get("label", "exported_next_year"))
    if label not in columns:
        raise ContractError(f"{origin}: model label '{label}' is not a column")
    return ModelSpec(features, categorical, pairs, monotonic, label)


def _words(value: Any) -> list[Any]:
    """A list of words; a lone string is one word, not its characters."""
    return [value] if isinstance(value, str) else list(value)


def _repeated(names: list[str]) -> set[str]:
    return {n for n in names if names.count(n) > 1}
