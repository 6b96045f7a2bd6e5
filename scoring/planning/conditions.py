"""Eligibility conditions of programmes: the ``eligible`` grammar, parsed and never evaluated as
Python, bound to a contract and evaluated on a frame of validated rows.

``eligible = "..."`` is parsed here by a small recursive-descent parser. The grammar::

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
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scoring.contract import Column, Contract
from scoring.errors import PlanError
from scoring.text import fold_text, format_number

__all__ = ["Condition", "column_numbers", "parse_condition"]

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
    value = str(node.value) if node.kind != "number" else format_number(node.value)
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
        left = column_numbers(frame, node.column)
        if node.against_column:
            factor, other = node.value
            right = factor * column_numbers(frame, other)
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


def column_numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column of ``frame`` as a new float64 array, NaN where missing (all NaN when absent)."""
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, copy=True)
