"""Support programmes: the programmes file (what each costs, changes and is open to), and
applying a programme's effects to validated rows, re-validated against the contract.

A programme (``[[program]]`` in a TOML file, see ``examples/programs.toml``) has an ``id``, a
``name`` (and optional ``name_fa``), a ``cost`` per cooperative, a number of ``slots``, an
``[program.effect]`` table and an optional ``eligible`` condition (grammar in
:mod:`scoring.planning.conditions`).

Effects
-------
``column = true`` / ``false`` (or ``"yes"`` / ``"no"``)
    yes/no columns only: set to 1.0 / 0.0.
``column = 12`` (a number)
    set; the number must obey the column's range (and be whole for an ``int`` column).
``column = "+N"`` / ``"-N"``
    add N (whole for an ``int`` column). For ``+N`` a missing value counts as 0 ("none
    reported"), so ``export_markets = "+1"`` gives a cooperative with no reported markets one
    market; ``-N`` leaves a missing value missing, and so does ``+N`` on a ``year`` column.
``column = "*F"``
    multiply by F >= 0. A missing value stays missing (there is nothing to scale).

Only numeric (``int``, ``number``, ``rate``, ``year``) and ``yesno`` columns can be changed: not
the id, text, category (``sector``, ``province``) or label columns. After the effects, each
changed row is re-validated: ``int`` and ``year`` columns are rounded, every value is clamped to
its column's range (a rate within 0..1, a count >= 0), and a column with a ``cap`` in the contract
is capped at that column (``actual_output`` <= ``installed_capacity``; a value that was already
above its cap in the input is never raised, and the cap never lowers it below its input value).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring.contract import Column, Contract
from scoring.errors import PlanError
from scoring.planning.conditions import Condition, column_numbers, parse_condition
from scoring.text import fold_text

__all__ = [
    "Effect",
    "Program",
    "apply_effects",
    "apply_program",
    "load_programs",
    "programs_from_dict",
]

_EDITABLE_TYPES = ("int", "number", "rate", "year", "yesno")
_WHOLE_TYPES = ("int", "year")
#: More places than any programme could have: a bound that keeps the solver's numbers exact.
MAX_SLOTS = 1_000_000_000
_PROGRAM_KEYS = {"id", "name", "name_fa", "cost", "slots", "effect", "eligible"}
_REQUIRED_KEYS = ("id", "name", "cost", "slots", "effect")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_AMOUNT = re.compile(r"^([+*-])\s*((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$")


@dataclass(frozen=True)
class Effect:
    """One programme effect: ``kind`` is ``set``, ``add`` or ``multiply``."""

    column: str
    kind: str
    value: float


@dataclass(frozen=True, kw_only=True)
class Program:
    """A support programme: what it costs, how many places it has, what it changes, for whom.

    ``eligible`` is the condition text (or None: everyone); it is parsed when the programme is
    built, and checked against a contract by :func:`load_programs`. Build one with keywords, or
    read a file with :func:`load_programs` (which checks everything against the contract).
    """

    id: str
    name: str
    name_fa: str = ""
    cost: float
    slots: int
    effects: tuple[Effect, ...]
    eligible: str | None = None
    condition: Condition | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.eligible is not None and self.condition is None:
            object.__setattr__(self, "condition", parse_condition(self.eligible))

    def eligible_mask(self, frame: pd.DataFrame, contract: Contract) -> np.ndarray:
        """Which rows the programme is open to."""
        if self.condition is None:
            return np.ones(len(frame), dtype=bool)
        return self.condition.mask(frame, contract)


def load_programs(path: str | Path, contract: Contract) -> list[Program]:
    """Read and check a programmes TOML file (format in the module docstring).

    Raises
    ------
    PlanError
        The file is missing or not TOML; a programme lacks a field, has a negative cost or slot
        count, repeats an id, changes an unknown or non-editable column, gives an effect value of
        the wrong type, or has an invalid ``eligible`` condition.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"programmes file {path} does not exist") from None
    except IsADirectoryError:
        raise PlanError(f"programmes file {path} is a folder, not a TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read programmes file {path}: {exc}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"programmes file {path.name} is not valid TOML: {exc}") from None
    return programs_from_dict(document, contract, origin=path.name)


def programs_from_dict(
    document: Mapping[str, Any], contract: Contract, *, origin: str = "programmes"
) -> list[Program]:
    """Build programmes from a parsed TOML document (``{"program": [...]}``)."""
    unknown = set(document) - {"program"}
    if unknown:
        raise PlanError(
            f"{origin}: unknown top-level keys {sorted(unknown)}; define each programme "
            "as a [[program]] table"
        )
    raws = document.get("program")
    if not isinstance(raws, list) or not raws:
        raise PlanError(f"{origin} defines no programme: add at least one [[program]] table")
    programs = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(raws, start=1):
        program = _parse_program(raw, contract, f"{origin}: programme {number}")
        if program.id in seen:
            raise PlanError(
                f"{origin}: programme id '{program.id}' is used by programmes {seen[program.id]} "
                f"and {number}; ids must be unique"
            )
        seen[program.id] = number
        programs.append(program)
    return programs


def _parse_program(raw: Any, contract: Contract, where: str) -> Program:
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where} must be a table, got {raw!r}")
    missing = [k for k in _REQUIRED_KEYS if k not in raw]
    if missing:
        raise PlanError(f"{where} lacks {', '.join(repr(k) for k in missing)}")
    unknown = set(raw) - _PROGRAM_KEYS
    if unknown:
        raise PlanError(
            f"{where} has unknown keys {sorted(unknown)} "
            f"(allowed: {', '.join(sorted(_PROGRAM_KEYS))})"
        )
    pid = raw["id"]
    if not isinstance(pid, str) or not _ID.match(pid):
        raise PlanError(
            f"{where}: id {pid!r} is invalid: use letters, digits, '_', '.' or '-' (max 64)"
        )
    where = f"{where.rsplit(':', 1)[0]}: programme '{pid}'"
    for key in ("name", "name_fa"):
        if key in raw and not isinstance(raw[key], str):
            raise PlanError(f"{where}: {key} must be text, got {raw[key]!r}")
    cost = raw["cost"]
    if not _is_number(cost) or not math.isfinite(cost) or cost < 0:
        raise PlanError(f"{where}: cost must be a number >= 0, got {cost!r}")
    slots = raw["slots"]
    if (
        not _is_number(slots)
        or not math.isfinite(slots)
        or not float(slots).is_integer()
        or slots < 0
    ):
        raise PlanError(f"{where}: slots must be a whole number >= 0, got {slots!r}")
    if slots > MAX_SLOTS:
        raise PlanError(f"{where}: slots must be between 0 and {MAX_SLOTS:,}, got {slots!r}")
    effect = raw["effect"]
    if not isinstance(effect, Mapping) or not effect:
        raise PlanError(
            f"{where}: [program.effect] must be a table with at least one change, "
            "e.g. iso9001 = true"
        )
    effects = tuple(_parse_effect(col, value, contract, where) for col, value in effect.items())
    eligible = raw.get("eligible")
    if eligible is not None and not isinstance(eligible, str):
        raise PlanError(f"{where}: eligible must be a condition text, got {eligible!r}")
    try:
        condition = parse_condition(eligible) if eligible is not None else None
        if condition is not None:
            condition.check(contract)
    except PlanError as exc:
        raise PlanError(f"{where}: {exc}") from None
    return Program(
        id=pid,
        name=raw["name"],
        name_fa=raw.get("name_fa", ""),
        cost=float(cost),
        slots=int(slots),
        effects=effects,
        eligible=eligible,
        condition=condition,
    )


def _parse_effect(name: str, raw: Any, contract: Contract, where: str) -> Effect:
    if name not in contract.names:
        raise PlanError(
            f"{where}: effect on unknown column '{name}' "
            f"(columns: {', '.join(c.name for c in contract.input_columns())})"
        )
    column = contract.column(name)
    if column.type not in _EDITABLE_TYPES or column.training_only:
        raise PlanError(
            f"{where}: effect on '{name}', a {column.type} column; programmes can change only "
            "numeric and yes/no columns"
        )
    what = f"{where}: effect {name} = {raw!r}"
    if column.type == "yesno":
        if isinstance(raw, bool):
            return Effect(name, "set", float(raw))
        if isinstance(raw, str) and fold_text(raw) in contract.yes | contract.no:
            return Effect(name, "set", 1.0 if fold_text(raw) in contract.yes else 0.0)
        raise PlanError(f"{what}: a yes/no column takes true or false")
    whole = column.type in _WHOLE_TYPES
    if isinstance(raw, bool):
        raise PlanError(f"{what}: a {column.type} column takes a number, '+N' or '*F'")
    if _is_number(raw):
        value = float(raw)
        if not math.isfinite(value):
            raise PlanError(f"{what}: the value must be a finite number")
        if whole and not value.is_integer():
            raise PlanError(f"{what}: {name} takes whole numbers")
        broken = _range_problem(value, column)
        if broken:
            raise PlanError(f"{what}: {broken}")
        return Effect(name, "set", value)
    if isinstance(raw, str):
        match = _AMOUNT.match(raw.strip())
        if match is None:
            raise PlanError(f"{what}: write a number to set, '+N' or '-N' to add, '*F' to multiply")
        sign, number = match.group(1), float(match.group(2))
        if not math.isfinite(number):
            raise PlanError(f"{what}: the amount must be finite")
        if sign == "*":
            return Effect(name, "multiply", number)
        if whole and not number.is_integer():
            raise PlanError(f"{what}: {name} takes whole numbers, so add a whole number")
        return Effect(name, "add", number if sign == "+" else -number)
    raise PlanError(f"{what}: write a number to set, '+N' or '-N' to add, '*F' to multiply")


def _range_problem(value: float, column: Column) -> str:
    """What an effect's value breaks, in the words of an effect: '' when it is within range."""
    broken = column.range_violation(value)
    if broken.startswith("is "):  # "is below the minimum 1" -> "below the minimum 1 of members"
        return f"{broken.removeprefix('is ')} of {column.name}"
    if broken:  # "must be greater than 0" -> "installed_capacity must be greater than 0"
        return f"{column.name} {broken}"
    if column.type == "rate" and not 0 <= value <= 1:
        return f"{column.name} is a rate between 0 and 1"
    return ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------
# Applying a programme


def apply_program(
    frame: pd.DataFrame, program: Program, contract: Contract
) -> tuple[pd.DataFrame, np.ndarray]:
    """Apply a programme's effects to the rows it is open to, and re-validate them.

    Parameters
    ----------
    frame
        Validated rows in canonical form (as :func:`scoring.pipeline.iter_validated` gives).
    program
        The programme.
    contract
        The contract whose ranges and caps re-validate the changed values.

    Returns
    -------
    new_frame : pandas.DataFrame
        A copy of ``frame`` with the effects applied (``frame`` itself is never changed).
    changed : numpy.ndarray
        Boolean mask of the rows that are eligible and whose values actually changed.
    """
    eligible = program.eligible_mask(frame, contract)
    new = frame.copy(deep=False)  # copy-on-write: assigning a column never touches ``frame``
    after, changed = apply_effects(eligible, program, contract, lambda n: column_numbers(frame, n))
    for name, values in after.items():
        new[name] = values
    return new, changed


def apply_effects(
    eligible: np.ndarray,
    program: Program,
    contract: Contract,
    numbers: Callable[[str], np.ndarray],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`apply_program` on arrays: the new values of the columns it changes, and the mask
    of eligible rows whose values changed.

    Parameters
    ----------
    eligible
        Boolean mask of the rows the programme is open to.
    program, contract
        As for :func:`apply_program`.
    numbers
        A column's current values as floats (NaN missing), by name; never written to.

    Raises
    ------
    PlanError
        An effect gives a value too large to be a number.
    """
    before: dict[str, np.ndarray] = {}
    after: dict[str, np.ndarray] = {}
    for effect in program.effects:
        if effect.column not in after:
            before[effect.column] = numbers(effect.column)
            after[effect.column] = before[effect.column].copy()
        values = after[effect.column]
        column = contract.column(effect.column)
        if effect.kind == "set":
            values[eligible] = effect.value
        elif effect.kind == "add":
            base = values[eligible]
            if effect.value > 0 and column.type != "year":  # a missing count: none reported
                base = np.nan_to_num(base, nan=0.0)
            with np.errstate(over="ignore"):
                values[eligible] = base + effect.value
        else:
            with np.errstate(over="ignore"):  # an overflow is refused just below, in words
                values[eligible] = values[eligible] * effect.value
    for name, values in after.items():
        if not np.isfinite(values[eligible][~np.isnan(before[name][eligible])]).all():
            effect = next(e for e in program.effects if e.column == name)
            raise PlanError(
                f"programme '{program.id}': its effect on {name} ({effect.kind} "
                f"{effect.value:g}) gives a value too large to be a number for some "
                "cooperatives; use a smaller amount"
            )
        _revalidate(values, contract.column(name), eligible)
    for column in contract.columns:  # in contract order: a cap may itself have been capped
        if column.cap is None or (column.name not in after and column.cap not in after):
            continue
        if column.name not in after:
            before[column.name] = numbers(column.name)
            after[column.name] = before[column.name].copy()
        cap = after[column.cap] if column.cap in after else numbers(column.cap)
        _cap(after[column.name], before[column.name], cap, numbers(column.cap), column)
    changed = np.zeros(len(eligible), dtype=bool)
    for name, values in after.items():
        old = before[name]
        changed |= ~((values == old) | (np.isnan(values) & np.isnan(old)))
    return after, changed & eligible


def _revalidate(values: np.ndarray, column: Column, rows: np.ndarray) -> None:
    """Round and clamp the changed rows of one column to its rules, in place."""
    part = values[rows]
    if column.type in _WHOLE_TYPES:
        part = np.floor(part + 0.5)  # half up: 3 members * 1.5 -> 5
    low = column.min if column.min is not None else -np.inf
    high = column.max if column.max is not None else np.inf
    if column.type == "rate":
        low, high = max(low, 0.0), min(high, 1.0)
    if column.min_exclusive is not None:
        low = max(low, _just_above(column.min_exclusive, column))
    if column.max_exclusive is not None:
        high = min(high, _just_below(column.max_exclusive, column))
    values[rows] = np.clip(part, low, high)


def _cap(
    values: np.ndarray,
    original: np.ndarray,
    cap: np.ndarray,
    original_cap: np.ndarray,
    column: Column,
) -> None:
    """``values`` <= ``cap`` where both are known; a value above its cap in the input keeps it."""
    with np.errstate(invalid="ignore"):
        limit = np.where(original > original_cap, np.fmax(cap, original), cap)
        over = values > limit  # False where the cap is missing
    if column.type in _WHOLE_TYPES:
        values[over] = np.floor(limit[over])
    else:
        values[over] = limit[over]


def _just_above(bound: float, column: Column) -> float:
    return math.floor(bound) + 1.0 if column.type in _WHOLE_TYPES else np.nextafter(bound, np.inf)


def _just_below(bound: float, column: Column) -> float:
    return math.ceil(bound) - 1.0 if column.type in _WHOLE_TYPES else np.nextafter(bound, -np.inf)
