"""Support-programme planning: counterfactual uplift per programme and a budgeted allocation.

A programme (``[[program]]`` in a TOML file, see ``examples/programs.toml``) has an ``id``, a
``name`` (and optional ``name_fa``), a ``cost`` per cooperative, a number of ``slots``, an
``[program.effect]`` table and an optional ``eligible`` condition.

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

Eligibility
-----------
``eligible = "..."`` is parsed here by a small recursive-descent parser; nothing is evaluated as
Python. The grammar::

    condition   := conjunction ( "or" conjunction )*
    conjunction := term ( "and" term )*
    term        := "(" condition ")" | comparison
    comparison  := COLUMN OP operand
    OP          := "<" | "<=" | ">" | ">=" | "==" | "!="
    operand     := NUMBER [ "*" COLUMN ] | COLUMN | WORD | 'quoted text' | "quoted text"

- ``COLUMN`` is a column of the contract (not the label). Keywords are case-insensitive.
- numeric columns compare with a number, another numeric column, or a number times a column
  (``actual_output < 0.7 * installed_capacity``);
- yes/no columns with ``yes``/``no`` (any yes/no word of the contract, ``true``/``false``) or 1/0;
- category columns with a vocabulary key or any accepted spelling (quote names with spaces:
  ``sector == 'صنایع غذایی'``), ``==`` and ``!=`` only; id and text columns with quoted text.
- A missing value never satisfies a comparison, ``!=`` included.

Allocation
----------
:func:`allocate` maximises the sum of probability uplifts (expected additional exporters) within
the budget, each programme's slots and one programme per cooperative: a 0/1 programme with one
variable per candidate and a sparse constraint matrix (one budget row, a row per programme whose
slots can bind, a row per cooperative with two or more candidates).

1. The LP relaxation (HiGHS, interior point with crossover) gives duals, hence a Lagrangian upper
   bound that holds whatever the solver's tolerances, and each candidate's reduced cost.
2. The greedy: funds candidates in order of uplift per cost, or the LP solution first, keeps the
   better, then applies improving exchanges (add, swap, move a cooperative to another
   programme). It is the incumbent.
3. Exact (``milp``): every candidate whose reduced cost exceeds bound - incumbent is fixed at its
   LP side (no better plan can differ there), and ``scipy.optimize.milp`` (HiGHS) solves the
   rest, typically a few percent of the candidates.

Above :data:`MILP_MAX_CANDIDATES` candidates (``method="auto"``), or when HiGHS hits its time
limit without a better plan, the greedy plan is used, with the Lagrangian bound and the relative
gap reported.
"""

from __future__ import annotations

import math
import operator
import re
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from scoring.batch import ScoringModel, tiers_of
from scoring.contract import Column, Contract
from scoring.errors import PlanError
from scoring.reading import open_table
from scoring.text import fold_text
from scoring.validation import REJECT_COLUMNS, iter_validated, reject_table
from scoring.writing import TableWriter, check_output_path, write_json

__all__ = [
    "CANDIDATE_COLUMNS",
    "MILP_MAX_CANDIDATES",
    "PLAN_COLUMNS",
    "POLICIES",
    "Allocation",
    "Condition",
    "Effect",
    "Program",
    "allocate",
    "apply_program",
    "candidate_uplifts",
    "load_programs",
    "next_step_columns",
    "parse_condition",
    "plan_file",
    "policy_allocation",
    "policy_baselines",
    "programs_from_dict",
    "uplifts",
]

PLAN_COLUMNS = ["coop_id", "program", "cost", "probability_before", "probability_after", "uplift"]
CANDIDATE_COLUMNS = ["position", *PLAN_COLUMNS]
POLICIES = ("lowest_score_first", "highest_score_first", "random")
#: Above this many candidates ``allocate(method="auto")`` uses the greedy with the LP bound.
#: Measured on the sample data with examples/programs.toml, 2 shared cores (benchmarks/README.md):
#: when HiGHS has to branch, exact allocation took 0.7 s for 43k candidates, 4-5 s for 215k,
#: 10-20 s for 430k, 35-73 s for 1.07M (time limit hit) and 110-150 s for 2.1M; the greedy
#: took 0.7 / 3 / 8-13 / 22 / 55-77 s and was within 1e-6 of the bound from 50k cooperatives up.
#: Past 500k the proof of optimality costs more than it can gain.
MILP_MAX_CANDIDATES = 500_000
#: HiGHS stops at this relative gap between its solution and its bound.
MIP_REL_GAP = 1e-6

_EDITABLE_TYPES = ("int", "number", "rate", "year", "yesno")
_WHOLE_TYPES = ("int", "year")
_PROGRAM_KEYS = {"id", "name", "name_fa", "cost", "slots", "effect", "eligible"}
_REQUIRED_KEYS = ("id", "name", "cost", "slots", "effect")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_AMOUNT = re.compile(r"^([+*-])\s*((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$")
_TIER_RANK = {"D": 0, "C": 1, "B": 2, "A": 3}


# --------------------------------------------------------------------------------------------
# Eligibility conditions


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.])
    | (?P<op><=|>=|==|!=|<|>)
    | (?P<paren>[()])
    | (?P<star>\*)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<word>[^\W\d]\w*)
    )""",
    re.VERBOSE,
)
_MAX_CONDITION = 2000
_MAX_DEPTH = 20


@dataclass(frozen=True)
class _Compare:
    column: str
    op: str
    kind: str  # "number", "word", "string", "column"
    value: Any  # float, str, or (factor, column)


@dataclass(frozen=True)
class _Junction:
    op: str  # "and" | "or"
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Condition:
    """A parsed ``eligible`` condition. Build it with :func:`parse_condition`."""

    text: str
    tree: Any = field(repr=False, compare=False)

    def columns(self) -> set[str]:
        """Every column the condition reads."""
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, _Junction):
                for part in node.parts:
                    walk(part)
            else:
                found.add(node.column)
                if node.kind == "column":
                    found.add(node.value[1])

        walk(self.tree)
        return found

    def check(self, contract: Contract) -> None:
        """Raise :class:`PlanError` when a column or value does not fit the contract."""
        _bind(self.tree, contract, self.text)

    def mask(self, frame: pd.DataFrame, contract: Contract) -> np.ndarray:
        """Which rows of a validated frame satisfy the condition."""
        return _evaluate(_bind(self.tree, contract, self.text), frame)


def parse_condition(text: str) -> Condition:
    """Parse an ``eligible`` condition (grammar in the module docstring); never evaluates code.

    Raises
    ------
    PlanError
        The text does not follow the grammar.
    """
    if not isinstance(text, str) or not text.strip():
        raise PlanError(f"eligible must be a non-empty condition text, got {text!r}")
    if len(text) > _MAX_CONDITION:
        raise PlanError(f"eligible is {len(text)} characters long; at most {_MAX_CONDITION}")
    tokens = _tokenize(text)
    parser = _Parser(tokens, text)
    tree = parser.condition(0)
    if parser.position < len(tokens):
        _, value, at = tokens[parser.position]
        raise PlanError(f"eligible {text!r}: unexpected {value!r} at character {at + 1}")
    return Condition(text, tree)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens = []
    position = 0
    end = len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            at = position + len(text[position:]) - len(text[position:].lstrip())
            raise PlanError(
                f"eligible {text!r}: cannot read {text[at : at + 12]!r} at character {at + 1}; "
                "write comparisons like `members >= 20 and iso9001 == no`"
            )
        kind = match.lastgroup or ""
        value = match.group(kind)
        tokens.append((kind, value, match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.position = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def fail(self, expected: str) -> PlanError:
        token = self.peek()
        if token is None:
            return PlanError(f"eligible {self.text!r}: expected {expected} at the end")
        return PlanError(
            f"eligible {self.text!r}: expected {expected}, found {token[1]!r} "
            f"at character {token[2] + 1}"
        )

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self.position += 1
            return True
        return False

    def condition(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise PlanError(f"eligible {self.text!r}: parentheses nest deeper than {_MAX_DEPTH}")
        parts = [self.conjunction(depth)]
        while self.keyword("or"):
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else _Junction("or", tuple(parts))

    def conjunction(self, depth: int) -> Any:
        parts = [self.term(depth)]
        while self.keyword("and"):
            parts.append(self.term(depth))
        return parts[0] if len(parts) == 1 else _Junction("and", tuple(parts))

    def term(self, depth: int) -> Any:
        token = self.peek()
        if token is not None and token[0] == "paren" and token[1] == "(":
            self.position += 1
            inner = self.condition(depth + 1)
            closing = self.peek()
            if closing is None or closing[1] != ")":
                raise self.fail("')'")
            self.position += 1
            return inner
        return self.comparison()

    def comparison(self) -> _Compare:
        token = self.peek()
        if token is None or token[0] != "word" or token[1].lower() in ("and", "or"):
            raise self.fail("a column name")
        column = token[1]
        self.position += 1
        op = self.peek()
        if op is None or op[0] != "op":
            raise self.fail(f"a comparison (< <= > >= == !=) after '{column}'")
        self.position += 1
        operand = self.peek()
        if operand is None or operand[0] not in ("number", "word", "string"):
            raise self.fail(f"a value after '{column} {op[1]}'")
        self.position += 1
        kind, value = operand[0], operand[1]
        if kind == "number":
            number = float(value)
            star = self.peek()
            if star is not None and star[0] == "star":
                self.position += 1
                other = self.peek()
                if other is None or other[0] != "word":
                    raise self.fail(f"a column name after '{value} *'")
                self.position += 1
                return _Compare(column, op[1], "column", (number, other[1]))
            return _Compare(column, op[1], "number", number)
        if kind == "string":
            return _Compare(column, op[1], "string", value[1:-1])
        if value.lower() in ("and", "or"):
            raise PlanError(f"eligible {self.text!r}: expected a value after '{column} {op[1]}'")
        return _Compare(column, op[1], "word", value)


@dataclass(frozen=True)
class _Bound:
    """A comparison checked against the contract: what to compare, ready to evaluate."""

    column: str
    op: str
    mode: str  # "numeric" or "text"
    value: Any  # float, str, or (factor, column)
    against_column: bool


def _bind(node: Any, contract: Contract, text: str) -> Any:
    if isinstance(node, _Junction):
        return _Junction(node.op, tuple(_bind(p, contract, text) for p in node.parts))
    column = _condition_column(node.column, contract, text)
    where = f"eligible {text!r}: {column.name} {node.op}"
    if column.is_numeric or column.type == "yesno":
        if node.kind == "number":
            return _Bound(column.name, node.op, "numeric", float(node.value), False)
        if node.kind == "column" or (node.kind == "word" and node.value in contract.names):
            factor, other_name = node.value if node.kind == "column" else (1.0, node.value)
            other = _condition_column(other_name, contract, text)
            if not (other.is_numeric or other.type == "yesno"):
                raise PlanError(f"{where}: '{other.name}' is not a numeric column")
            return _Bound(column.name, node.op, "numeric", (factor, other.name), True)
        if column.type == "yesno":
            word = fold_text(str(node.value))
            if word in contract.yes:
                return _Bound(column.name, node.op, "numeric", 1.0, False)
            if word in contract.no:
                return _Bound(column.name, node.op, "numeric", 0.0, False)
            raise PlanError(f"{where}: '{node.value}' is not yes or no")
        raise PlanError(f"{where}: '{node.value}' is not a number (the column is {column.type})")
    if node.op not in ("==", "!="):
        raise PlanError(f"{where}: {column.type} columns compare only with == or !=")
    if node.kind == "column":
        raise PlanError(f"{where}: a {column.type} column cannot be compared with a product")
    value = str(node.value) if node.kind != "number" else _plain_number(node.value)
    if column.type == "category":
        vocabulary = contract.vocabularies[column.vocabulary]
        key = vocabulary.lookup.get(fold_text(value))
        if key is None:
            raise PlanError(
                f"{where}: '{value}' is not a {column.name} (one of {', '.join(vocabulary.keys)})"
            )
        return _Bound(column.name, node.op, "text", key, False)
    if node.kind == "word":
        raise PlanError(f"{where}: quote the text, e.g. {column.name} {node.op} '{value}'")
    return _Bound(column.name, node.op, "text", value, False)


def _condition_column(name: str, contract: Contract, text: str) -> Column:
    if name not in contract.names:
        raise PlanError(
            f"eligible {text!r}: unknown column '{name}' "
            f"(columns: {', '.join(c.name for c in contract.input_columns())})"
        )
    column = contract.column(name)
    if column.training_only or column.type == "label":
        raise PlanError(f"eligible {text!r}: '{name}' is the training label, not an input")
    return column


def _evaluate(node: Any, frame: pd.DataFrame) -> np.ndarray:
    if isinstance(node, _Junction):
        masks = [_evaluate(p, frame) for p in node.parts]
        combine = np.logical_and if node.op == "and" else np.logical_or
        return combine.reduce(masks)
    compare = _OPERATORS[node.op]
    if node.mode == "numeric":
        left = _numbers(frame, node.column)
        if node.against_column:
            factor, other = node.value
            right = factor * _numbers(frame, other)
            present = ~np.isnan(left) & ~np.isnan(right)
        else:
            right = node.value
            present = ~np.isnan(left)
        with np.errstate(invalid="ignore"):
            return present & compare(left, right)
    values = frame[node.column] if node.column in frame else pd.Series([None] * len(frame))
    missing = values.isna().to_numpy()
    texts = values.to_numpy(dtype=object, na_value=None)
    return ~missing & compare(texts, node.value).astype(bool)


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --------------------------------------------------------------------------------------------
# Programmes


@dataclass(frozen=True)
class Effect:
    """One programme effect: ``kind`` is ``set``, ``add`` or ``multiply``."""

    column: str
    kind: str
    value: float

    def describe(self) -> str:
        sign = {"set": "=", "add": "+", "multiply": "*"}[self.kind]
        return f"{self.column} {sign} {_plain_number(self.value)}"


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
    if not _is_number(slots) or not float(slots).is_integer() or slots < 0:
        raise PlanError(f"{where}: slots must be a whole number >= 0, got {slots!r}")
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
    if column.min is not None and value < column.min:
        return f"below the minimum {_plain_number(column.min)} of {column.name}"
    if column.max is not None and value > column.max:
        return f"above the maximum {_plain_number(column.max)} of {column.name}"
    if column.min_exclusive is not None and value <= column.min_exclusive:
        return f"{column.name} must be greater than {_plain_number(column.min_exclusive)}"
    if column.max_exclusive is not None and value >= column.max_exclusive:
        return f"{column.name} must be less than {_plain_number(column.max_exclusive)}"
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
        Validated rows in canonical form (as :func:`scoring.validation.iter_validated` gives).
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
    n = len(frame)
    before: dict[str, np.ndarray] = {}
    after: dict[str, np.ndarray] = {}
    for effect in program.effects:
        if effect.column not in after:
            before[effect.column] = _numbers(frame, effect.column)
            after[effect.column] = before[effect.column].copy()
        values = after[effect.column]
        column = contract.column(effect.column)
        if effect.kind == "set":
            values[eligible] = effect.value
        elif effect.kind == "add":
            base = values[eligible]
            if effect.value > 0 and column.type != "year":  # a missing count: none reported
                base = np.nan_to_num(base, nan=0.0)
            values[eligible] = base + effect.value
        else:
            values[eligible] = values[eligible] * effect.value
    for name, values in after.items():
        _revalidate(values, contract.column(name), eligible)
    for column in contract.columns:
        if column.cap is None or (column.name not in after and column.cap not in after):
            continue
        if column.name not in after:
            before[column.name] = _numbers(frame, column.name)
            after[column.name] = before[column.name].copy()
        _cap(
            after[column.name],
            before[column.name],
            _values(after, frame, column.cap),
            _numbers(frame, column.cap),
            column,
        )
    changed = np.zeros(n, dtype=bool)
    for name, values in after.items():
        old = before[name]
        differs = ~((values == old) | (np.isnan(values) & np.isnan(old)))
        changed |= differs
        new[name] = values
    return new, changed & eligible


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


def _values(changed: dict[str, np.ndarray], frame: pd.DataFrame, name: str) -> np.ndarray:
    return changed[name] if name in changed else _numbers(frame, name)


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as float64, NaN where missing (all NaN when the column is absent)."""
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, copy=True)


# --------------------------------------------------------------------------------------------
# Counterfactual uplift


def candidate_uplifts(
    frame: pd.DataFrame, model: ScoringModel, programs: Sequence[Program]
) -> pd.DataFrame:
    """Probability before and after every programme, for every cooperative it changes.

    One feature build and one scorer call per programme, over the rows it changes.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CANDIDATE_COLUMNS`: ``position`` (row of ``frame``), ``coop_id``,
        ``program`` (id), ``cost``, ``probability_before``, ``probability_after``, ``uplift``.
        Ordered by programme, then position. ``uplift`` may be <= 0 (a non-monotone feature).
    """
    return uplifts(
        frame,
        programs,
        model.contract,
        lambda rows: model.scorer.probability(model.features(rows)),
    )


def uplifts(
    frame: pd.DataFrame,
    programs: Sequence[Program],
    contract: Contract,
    probability: Callable[[pd.DataFrame], np.ndarray],
) -> pd.DataFrame:
    """:func:`candidate_uplifts` with any probability of a frame (e.g. the sample's truth)."""
    before = probability(frame) if len(frame) else np.empty(0)
    ids = frame[contract.id_column.name].to_numpy(dtype=object) if len(frame) else np.empty(0)
    parts = []
    for program in programs:
        if not len(frame):
            break
        new, changed = apply_program(frame, program, contract)
        rows = np.flatnonzero(changed)
        if not len(rows):
            continue
        after = probability(new.iloc[rows])
        parts.append(
            pd.DataFrame(
                {
                    "position": rows.astype(np.int64),
                    "coop_id": ids[rows],
                    "program": program.id,
                    "cost": program.cost,
                    "probability_before": before[rows],
                    "probability_after": after,
                    "uplift": after - before[rows],
                }
            )
        )
    if not parts:
        return _empty_candidates()
    return pd.concat(parts, ignore_index=True)


def _empty_candidates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "position": pd.Series(dtype=np.int64),
            "coop_id": pd.Series(dtype=object),
            "program": pd.Series(dtype=object),
            **{c: pd.Series(dtype=np.float64) for c in PLAN_COLUMNS[2:]},
        }
    )


# --------------------------------------------------------------------------------------------
# Allocation


@dataclass
class Allocation:
    """A budgeted allocation: the funded candidates and how good the solution is known to be.

    ``method`` is ``milp`` or ``greedy``; ``status`` says whether it is proven ``optimal``
    (within ``MIP_REL_GAP``), stopped at the ``time limit``, or a ``heuristic``. ``bound`` is an
    upper bound on the best achievable objective (HiGHS's dual bound, or the LP relaxation for
    the greedy) and ``gap`` = (bound - objective) / bound.
    """

    chosen: pd.DataFrame
    method: str
    status: str
    objective: float
    bound: float
    gap: float
    budget: float
    candidates: int
    seconds: float = 0.0

    @property
    def total_cost(self) -> float:
        return float(self.chosen["cost"].sum())

    def per_program(self) -> dict[str, dict[str, float]]:
        """Count, cost and expected additional exporters per programme id."""
        return _per_program(self.chosen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "status": self.status,
            "budget": self.budget,
            "candidates": self.candidates,
            "funded": len(self.chosen),
            "total_cost": self.total_cost,
            "expected_additional_exporters": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "per_program": self.per_program(),
            "seconds": round(self.seconds, 3),
        }


def allocate(
    candidates: pd.DataFrame,
    programs: Sequence[Program],
    budget: float,
    *,
    method: str = "auto",
    time_limit: float = 30.0,
) -> Allocation:
    """Fund the candidates that maximise the total uplift within budget, slots, one per coop.

    Parameters
    ----------
    candidates
        From :func:`candidate_uplifts`; only rows with ``uplift > 0`` and ``cost <= budget`` of a
        programme with slots are considered.
    programs
        The programmes (for their slots).
    budget
        Total money available (> 0), in the programmes' cost currency.
    method
        ``"milp"`` (exact, HiGHS), ``"greedy"``, or ``"auto"``: MILP up to
        :data:`MILP_MAX_CANDIDATES` candidates, else greedy.
    time_limit
        Seconds HiGHS may take; at the limit the better of its incumbent and the greedy is kept.

    Raises
    ------
    PlanError
        The budget is not a positive number, or the method is unknown.
    """
    started = time.perf_counter()
    budget = _check_budget(budget)
    if method not in ("auto", "milp", "greedy"):
        raise PlanError(f"method '{method}' is unknown; use auto, milp or greedy")
    pool, coops, progs, slots = _pool(candidates, programs, budget)
    n = len(pool)
    use_milp = method == "milp" or (method == "auto" and n <= MILP_MAX_CANDIDATES)
    if n == 0:
        chosen, name, status, bound = np.zeros(0, dtype=bool), "milp", "optimal", 0.0
    elif use_milp:
        problem = _problem(pool, coops, progs, slots, budget)
        chosen, name, status, bound = _solve_milp(problem, time_limit)
    else:
        problem = _problem(pool, coops, progs, slots, budget)
        chosen, name, status, bound = _solve_greedy(problem)
    picked = pool.loc[chosen].sort_values("uplift", ascending=False, kind="stable")
    picked = picked.reset_index(drop=True)
    objective = float(picked["uplift"].sum())
    bound = max(bound, objective)
    gap = (bound - objective) / bound if bound > 0 else 0.0
    return Allocation(
        chosen=picked,
        method=name,
        status=status,
        objective=objective,
        bound=float(bound),
        gap=float(gap),
        budget=budget,
        candidates=n,
        seconds=time.perf_counter() - started,
    )


def _check_budget(budget: Any) -> float:
    if not _is_number(budget) or not math.isfinite(budget) or budget <= 0:
        raise PlanError(f"budget must be a positive number, got {budget!r}")
    return float(budget)


def _pool(
    candidates: pd.DataFrame, programs: Sequence[Program], budget: float
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The candidates worth considering, their coop and programme codes, and the slots."""
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates]
    if missing:
        raise PlanError(f"candidates lack columns {missing}; build them with candidate_uplifts")
    slots_of = {p.id: p.slots for p in programs}
    unknown = set(candidates["program"].unique()) - set(slots_of)
    if unknown:
        raise PlanError(f"candidates name programmes not given: {sorted(map(str, unknown))}")
    program_ids = list(slots_of)
    slots = np.array([slots_of[p] for p in program_ids], dtype=np.int64)
    progs = pd.Categorical(candidates["program"], categories=program_ids).codes.astype(np.int64)
    keep = (
        (candidates["uplift"].to_numpy(dtype=float) > 0)
        & (candidates["cost"].to_numpy(dtype=float) <= budget)
        & (slots[progs] > 0)
    )
    pool = candidates.loc[keep].reset_index(drop=True)
    coops = pd.factorize(pool["position"])[0].astype(np.int64)
    return pool, coops, progs[keep], slots


def _constraints(
    costs: np.ndarray, coops: np.ndarray, progs: np.ndarray, slots: np.ndarray, budget: float
) -> tuple[sparse.csr_array, np.ndarray]:
    """Budget, binding slots, and one-per-cooperative rows (only where they can bind)."""
    n = len(costs)
    rows = [np.zeros(n, dtype=np.int64)]
    cols = [np.arange(n)]
    data = [costs]
    upper = [budget]
    count = np.bincount(progs, minlength=len(slots))
    next_row = 1
    for j in np.flatnonzero(count > slots):
        members = np.flatnonzero(progs == j)
        rows.append(np.full(len(members), next_row))
        cols.append(members)
        data.append(np.ones(len(members)))
        upper.append(float(slots[j]))
        next_row += 1
    per_coop = np.bincount(coops)
    shared = np.flatnonzero(per_coop > 1)
    if len(shared):
        row_of = np.full(len(per_coop), -1, dtype=np.int64)
        row_of[shared] = next_row + np.arange(len(shared))
        members = np.flatnonzero(row_of[coops] >= 0)
        rows.append(row_of[coops[members]])
        cols.append(members)
        data.append(np.ones(len(members)))
        upper.extend([1.0] * len(shared))
        next_row += len(shared)
    matrix = sparse.csr_array(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(next_row, n)
    )
    return matrix, np.asarray(upper, dtype=np.float64)


@dataclass
class _Problem:
    """The allocation as arrays: what each candidate gains, costs, and which rows it is in."""

    uplift: np.ndarray
    costs: np.ndarray
    coops: np.ndarray
    progs: np.ndarray
    slots: np.ndarray
    budget: float
    matrix: sparse.csr_array
    upper: np.ndarray


def _problem(
    pool: pd.DataFrame, coops: np.ndarray, progs: np.ndarray, slots: np.ndarray, budget: float
) -> _Problem:
    uplift = pool["uplift"].to_numpy(dtype=np.float64)
    costs = pool["cost"].to_numpy(dtype=np.float64)
    matrix, upper = _constraints(costs, coops, progs, slots, budget)
    return _Problem(uplift, costs, coops, progs, slots, budget, matrix, upper)


def _relaxation(problem: _Problem) -> tuple[np.ndarray, float, np.ndarray]:
    """The LP relaxation: its solution, a rigorous upper bound, and each variable's reduced cost.

    The bound is the Lagrangian one built from HiGHS's duals (clipped to their valid sign), so it
    holds whatever the solver's tolerances: for every feasible 0/1 plan ``x``,
    ``uplift @ x <= bound - sum(|reduced[k]|, over k where x[k] differs from its LP side)``.
    """
    relaxed = linprog(
        -problem.uplift,
        A_ub=problem.matrix,
        b_ub=problem.upper,
        bounds=(0, 1),
        method="highs-ipm",  # with crossover: a vertex, so only a handful of fractional values
    )
    if relaxed.status != 0 or relaxed.x is None:  # pragma: no cover - these LPs always solve
        n = len(problem.uplift)
        return np.zeros(n), float(np.clip(problem.uplift, 0, None).sum()), np.zeros(n)
    duals = np.minimum(np.asarray(relaxed.ineqlin.marginals, dtype=np.float64), 0.0)
    # Maximisation view: price of each candidate = uplift - (its share of the constraints' duals).
    reduced = problem.uplift + problem.matrix.T @ duals
    bound = float(-duals @ problem.upper + np.clip(reduced, 0, None).sum())
    return np.asarray(relaxed.x, dtype=np.float64), bound, reduced


def _solve_milp(problem: _Problem, time_limit: float) -> tuple[np.ndarray, str, str, float]:
    """Exact: reduced-cost fixing from the LP relaxation, then HiGHS on the variables left.

    With the greedy's plan as incumbent, a candidate whose reduced cost exceeds the gap between
    the LP bound and the incumbent cannot change in any better plan, so it is fixed at its LP
    side. On the sample data this leaves a few percent of the variables to branch on.
    """
    x_lp, bound, reduced = _relaxation(problem)
    incumbent = _greedy_plan(problem, x_lp)
    best_value = float(problem.uplift[incumbent].sum())
    slack = bound - best_value
    if slack <= MIP_REL_GAP * abs(bound):  # the bound already proves it, as HiGHS would
        return incumbent, "milp", "optimal", bound
    side = reduced > 0  # the LP-side value of each candidate in the Lagrangian relaxation
    fixed = np.abs(reduced) > slack + 1e-9 * max(1.0, bound)
    ones = fixed & side
    free = np.flatnonzero(~fixed)
    # HiGHS sees only the free candidates; the ones fixed at 1 use up budget, slots and coops.
    upper = problem.upper - problem.matrix @ ones.astype(np.float64)
    if np.any(upper < -1e-9 * max(1.0, problem.budget)):
        return incumbent, "milp", "optimal", best_value  # the fixed plan is infeasible
    plan = ones.copy()
    status = "optimal"
    if len(free):
        matrix = problem.matrix[:, free]
        rows = np.flatnonzero(np.diff(matrix.tocsr().indptr) > 0)
        result = milp(
            -problem.uplift[free],
            constraints=LinearConstraint(matrix[rows], -np.inf, np.maximum(upper[rows], 0.0)),
            integrality=np.ones(len(free)),
            bounds=Bounds(0, 1),
            options={"time_limit": float(time_limit), "mip_rel_gap": MIP_REL_GAP},
        )
        if result.status == 2:  # infeasible: nothing beats the incumbent
            return incumbent, "milp", "optimal", best_value
        status = "optimal" if result.status == 0 else "time limit"
        if result.x is None:
            return incumbent, "greedy", status, bound
        plan[free] = result.x > 0.5
        if result.status == 0 and result.mip_dual_bound is not None:
            fixed_value = float(problem.uplift[ones].sum())
            sub_bound = fixed_value - float(result.mip_dual_bound)
            bound = min(bound, max(best_value, sub_bound))
    if _feasible(plan, problem) and problem.uplift[plan].sum() > best_value:
        return plan, "milp", status, bound
    return incumbent, ("milp" if status == "optimal" else "greedy"), status, bound


def _feasible(chosen: np.ndarray, problem: _Problem) -> bool:
    return bool(
        problem.costs[chosen].sum() <= problem.budget * (1 + 1e-9)
        and np.all(
            np.bincount(problem.progs[chosen], minlength=len(problem.slots)) <= problem.slots
        )
        and np.all(np.bincount(problem.coops[chosen]) <= 1)
    )


def _solve_greedy(problem: _Problem) -> tuple[np.ndarray, str, str, float]:
    """The greedy plan, with the LP relaxation's optimum as the stated bound."""
    x_lp, bound, _ = _relaxation(problem)
    return _greedy_plan(problem, x_lp), "greedy", "heuristic", bound


def _greedy_plan(problem: _Problem, x_lp: np.ndarray) -> np.ndarray:
    """The better of two greedy passes under the constraints.

    Orders: uplift per cost (the classic knapsack greedy), and the LP relaxation's solution
    first (values at 1, then by fractional value, then by uplift per cost). The LP solution is a
    vertex with only a handful of fractional values, because few constraints couple the
    cooperatives, so the second pass is usually within a hair of the optimum.
    """
    uplift, costs = problem.uplift, problem.costs
    with np.errstate(divide="ignore"):
        ratio = np.where(costs > 0, uplift / np.where(costs > 0, costs, 1.0), np.inf)
    best = None
    for order in (np.lexsort((-uplift, -ratio)), np.lexsort((-ratio, -np.round(x_lp, 9)))):
        plan = _take_in_order(
            order, problem.coops, problem.progs, costs, problem.slots, problem.budget
        )
        if best is None or uplift[plan].sum() > uplift[best].sum():
            best = plan
    return _improve(best, problem)


def _improve(plan: np.ndarray, problem: _Problem, max_moves: int = 1000) -> np.ndarray:
    """Exchange local search: apply the best improving move until none is left.

    Moves: add a candidate; swap a funded candidate for an unfunded one of another cooperative;
    move a cooperative to another of its programmes. Candidates of one programme and cost are
    interchangeable for the constraints, so only the weakest funded and the strongest unfunded
    of each such class are compared. This recovers what the greedy leaves at the budget's edge
    (typically: drop a 200 programme, fund a 300 one with the 100 left over).
    """
    plan = plan.copy()
    uplift, costs, coops, progs = problem.uplift, problem.costs, problem.coops, problem.progs
    classes, first, inverse = np.unique(
        np.column_stack([progs, costs]), axis=0, return_index=True, return_inverse=True
    )
    if len(classes) > 64:  # costs vary per candidate: the class shortcut does not apply
        return plan
    class_cost, class_prog = costs[first], progs[first]
    members = [np.flatnonzero(inverse.ravel() == c) for c in range(len(classes))]
    tolerance = 1e-9 * max(problem.budget, 1.0)
    for _ in range(max_moves):
        left_budget = problem.budget - costs[plan].sum()
        left_slots = problem.slots - np.bincount(progs[plan], minlength=len(problem.slots))
        used = np.zeros(int(coops.max()) + 1, dtype=bool)
        used[coops[plan]] = True
        best_gain, best_move = 1e-12, None
        strongest, weakest = [], []
        for items in members:
            free = items[~plan[items] & ~used[coops[items]]]
            strongest.append(free[np.argmax(uplift[free])] if len(free) else -1)
            funded = items[plan[items]]
            weakest.append(funded[np.argmin(uplift[funded])] if len(funded) else -1)
        for d, incoming in enumerate(strongest):
            if incoming < 0:
                continue
            has_slot = left_slots[class_prog[d]] > 0
            fits = has_slot and class_cost[d] <= left_budget + tolerance
            if fits and uplift[incoming] > best_gain:  # add
                best_gain, best_move = uplift[incoming], (incoming,)
            for c, outgoing in enumerate(weakest):  # swap
                if outgoing < 0 or not (has_slot or class_prog[c] == class_prog[d]):
                    continue
                if class_cost[d] - class_cost[c] > left_budget + tolerance:
                    continue
                gain = uplift[incoming] - uplift[outgoing]
                if gain > best_gain:
                    best_gain, best_move = gain, (incoming, outgoing)
        # Move a funded cooperative to another of its programmes.
        holder = np.full(len(used), -1, dtype=np.int64)
        holder[coops[plan]] = np.flatnonzero(plan)
        others = np.flatnonzero(~plan & used[coops])
        if len(others):
            current = holder[coops[others]]
            fits = (costs[others] - costs[current] <= left_budget + tolerance) & (
                (progs[others] == progs[current]) | (left_slots[progs[others]] > 0)
            )
            gain = np.where(fits, uplift[others] - uplift[current], -np.inf)
            k = int(np.argmax(gain))
            if gain[k] > best_gain:
                best_gain, best_move = gain[k], (others[k], current[k])
        if best_move is None:
            break
        plan[best_move[0]] = True
        if len(best_move) == 2:
            plan[best_move[1]] = False
    return plan


def _take_in_order(
    order: np.ndarray,
    coops: np.ndarray,
    progs: np.ndarray,
    costs: np.ndarray,
    slots: np.ndarray,
    budget: float,
) -> np.ndarray:
    """Walk the candidates in ``order``; fund each whose coop is free, with a slot, that fits."""
    chosen = np.zeros(len(order), dtype=bool)
    used = np.zeros(int(coops.max()) + 1 if len(coops) else 0, dtype=bool)
    left = slots.astype(np.int64).copy()
    remaining = float(budget)
    cheapest = float(costs.min()) if len(costs) else 0.0
    tolerance = 1e-9 * max(budget, 1.0)
    coop_list, prog_list, cost_list = coops.tolist(), progs.tolist(), costs.tolist()
    used_list, left_list = used.tolist(), left.tolist()
    for k in order.tolist():
        if remaining + tolerance < cheapest:
            break
        coop, prog, cost = coop_list[k], prog_list[k], cost_list[k]
        if used_list[coop] or left_list[prog] <= 0 or cost > remaining + tolerance:
            continue
        chosen[k] = True
        used_list[coop] = True
        left_list[prog] -= 1
        remaining -= cost
    return chosen


# --------------------------------------------------------------------------------------------
# Rules of thumb


def policy_allocation(
    candidates: pd.DataFrame,
    programs: Sequence[Program],
    budget: float,
    policy: str,
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """The candidates a rule of thumb funds, under the plan's constraints.

    The policy takes cooperatives in its order (``lowest_score_first``: lowest probability
    first; ``highest_score_first``; ``random``, seeded) and gives each its highest-uplift
    programme (uplift > 0) that still has a slot and fits the remaining budget.
    """
    budget = _check_budget(budget)
    if policy not in POLICIES:
        raise PlanError(f"policy '{policy}' is unknown; use one of {', '.join(POLICIES)}")
    pool, coops, progs, slots = _pool(candidates, programs, budget)
    if not len(pool):
        return pool
    before = pool["probability_before"].to_numpy(dtype=np.float64)
    uplift = pool["uplift"].to_numpy(dtype=np.float64)
    position = pool["position"].to_numpy(dtype=np.int64)
    if policy == "random":
        rank = np.random.default_rng(seed).permutation(int(coops.max()) + 1)[coops]
        order = np.lexsort((-uplift, rank))
    else:
        key = before if policy == "lowest_score_first" else -before
        order = np.lexsort((-uplift, position, key))
    chosen = _take_in_order(order, coops, progs, pool["cost"].to_numpy(float), slots, budget)
    return pool.iloc[order[chosen[order]]].reset_index(drop=True)  # in the order funded


def policy_baselines(
    candidates: pd.DataFrame, programs: Sequence[Program], budget: float, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Cost, expected additional exporters and count of each rule of thumb in :data:`POLICIES`."""
    out = {}
    for policy in POLICIES:
        chosen = policy_allocation(candidates, programs, budget, policy, seed=seed)
        out[policy] = {
            "total_cost": float(chosen["cost"].sum()),
            "expected_additional_exporters": float(chosen["uplift"].sum()),
            "funded": len(chosen),
            "per_program": _per_program(chosen),
        }
    return out


def _per_program(chosen: pd.DataFrame) -> dict[str, dict[str, float]]:
    grouped = chosen.groupby("program", sort=True, observed=True)
    return {
        str(pid): {
            "funded": len(rows),
            "total_cost": float(rows["cost"].sum()),
            "expected_additional_exporters": float(rows["uplift"].sum()),
        }
        for pid, rows in grouped
    }


# --------------------------------------------------------------------------------------------
# Files


def plan_file(
    path: str | Path,
    model: ScoringModel,
    programs: Sequence[Program],
    budget: float,
    out: str | Path,
    *,
    rejects: str | Path | None = None,
    summary: str | Path | None = None,
    chunk_size: int = 100_000,
    encoding: str | None = None,
    sheet: str | int | None = None,
    seed: int = 0,
    method: str = "auto",
) -> dict[str, Any]:
    """Plan a whole file: validate it as ``score`` does, allocate, write the plan.

    Writes ``out`` (columns :data:`PLAN_COLUMNS`, one row per funded cooperative, by uplift,
    header only when nothing is funded), ``rejects`` and ``summary`` (JSON), each atomically;
    nothing is written when an error is raised.

    Returns
    -------
    dict
        The summary: rows, budget, funded count, total cost, expected additional exporters, per
        programme figures, method, bound, gap, the policies' figures, and ``empty``/``message``
        when no cooperative can be funded.
    """
    started = time.perf_counter()
    budget = _check_budget(budget)
    if not programs:
        raise PlanError("no programme given: the programmes file must define at least one")
    for program in programs:  # programmes built for another contract than the model's
        unknown = [e.column for e in program.effects if e.column not in model.contract.names]
        if unknown:
            raise PlanError(
                f"programme '{program.id}' changes {unknown}, not columns of the model's contract"
            )
        if program.condition is not None:
            program.condition.check(model.contract)
    for target in (out, rejects, summary):
        if target is not None:
            check_output_path(target)
    source = open_table(path, encoding=encoding, sheet=sheet)
    valid_parts, reject_parts = [], []
    rows_read = 0
    for chunk in iter_validated(source, model.contract, chunk_size=chunk_size):
        rows_read += chunk.rows_read
        if len(chunk.valid):
            valid_parts.append(chunk.valid)
        if len(chunk.rejects):
            reject_parts.append(chunk.rejects)
    frame = (
        pd.concat(valid_parts, ignore_index=True)
        if valid_parts
        else pd.DataFrame({c.name: pd.Series(dtype=object) for c in model.contract.columns})
    )
    rejected = pd.concat(reject_parts, ignore_index=True) if reject_parts else None
    candidates = candidate_uplifts(frame, model, programs)
    allocation = allocate(candidates, programs, budget, method=method)
    baselines = policy_baselines(candidates, programs, budget, seed=seed)
    plan = allocation.chosen[PLAN_COLUMNS].copy()
    plan["coop_id"] = plan["coop_id"].astype(str)
    plan["program"] = plan["program"].astype(str)
    with TableWriter(out, columns=PLAN_COLUMNS) as writer:
        if len(plan):
            writer.write(plan)
    if rejects is not None:
        with TableWriter(rejects, columns=REJECT_COLUMNS) as writer:
            if rejected is not None:
                writer.write(reject_table(rejected))
    result = {
        "model": model.loaded.reference,
        "source": str(path),
        "rows_read": rows_read,
        "rows_valid": len(frame),
        "rows_rejected": rows_read - len(frame),
        "programs": [
            {"id": p.id, "name": p.name, "name_fa": p.name_fa, "cost": p.cost, "slots": p.slots}
            for p in programs
        ],
        "eligible_cooperatives": int(
            candidates.loc[candidates["uplift"] > 0, "position"].nunique()
        ),
        **allocation.to_dict(),
        "policies": baselines,
        "gain_over_best_policy": allocation.objective
        - max((b["expected_additional_exporters"] for b in baselines.values()), default=0.0),
        "empty": len(plan) == 0,
        "message": _message(allocation, candidates),
        "seconds": round(time.perf_counter() - started, 3),
    }
    if summary is not None:
        write_json(result, summary)
    return result


def _message(allocation: Allocation, candidates: pd.DataFrame) -> str:
    funded = len(allocation.chosen)
    if funded:
        return (
            f"{funded} cooperatives funded for {allocation.total_cost:,.0f}: "
            f"{allocation.objective:.2f} expected additional exporters ({allocation.method})"
        )
    if not len(candidates):
        return "no cooperative is eligible for any programme: the plan is empty"
    if not (candidates["uplift"] > 0).any():
        return "no programme raises any cooperative's probability: the plan is empty"
    return "no programme fits the budget and slots: the plan is empty"


# --------------------------------------------------------------------------------------------
# Next step


def next_step_columns(
    model: ScoringModel, programs: Sequence[Program]
) -> Callable[[pd.DataFrame, pd.DataFrame, np.ndarray], pd.DataFrame]:
    """A ``score_file(extra=...)`` hook adding ``next_step`` and ``next_step_score``.

    ``next_step`` is the id of the cheapest programme after which the cooperative's tier is
    higher (ties: the higher resulting score, then file order of the programmes), or ``''``;
    ``next_step_score`` is the ``readiness_score`` after it (NaN when there is none).
    """
    ranked = sorted(enumerate(programs), key=lambda item: (item[1].cost, item[0]))

    def add(valid: pd.DataFrame, scored: pd.DataFrame, X: np.ndarray) -> pd.DataFrame:
        n = len(valid)
        before = scored["export_probability"].to_numpy(dtype=np.float64)
        rank = _tier_rank(tiers_of(before, model.tiers))
        best_step = np.full(n, "", dtype=object)
        best_score = np.full(n, np.nan)
        best_cost = np.full(n, np.inf)
        for _, program in ranked:
            open_rows = rank < _TIER_RANK["A"]
            if not open_rows.any():
                break
            new, changed = apply_program(valid, program, model.contract)
            rows = np.flatnonzero(changed & open_rows & (program.cost <= best_cost))
            if not len(rows):
                continue
            after = model.scorer.probability(model.features(new.iloc[rows]))
            higher = _tier_rank(tiers_of(after, model.tiers)) > rank[rows]
            score = np.round(100.0 * after, 1)
            better = higher & (
                (program.cost < best_cost[rows])
                | (score > np.nan_to_num(best_score[rows], nan=-1.0))
            )
            take = rows[better]
            best_step[take] = program.id
            best_score[take] = score[better]
            best_cost[take] = program.cost
        out = scored.copy()
        out["next_step"] = best_step
        out["next_step_score"] = best_score
        return out

    return add


def _tier_rank(tiers: np.ndarray) -> np.ndarray:
    return np.array([_TIER_RANK[t] for t in tiers], dtype=np.int64)
