"""Derived-feature expressions of the contract (``[model.derived]``): parsed by a small
recursive-descent parser and evaluated with numpy, never as Python.

The grammar (the arithmetic sibling of the ``eligible`` conditions of programmes)::

    expression := term ( ("+" | "-") term )*
    term       := factor ( ("*" | "/") factor )*
    factor     := "-" factor | NUMBER | NAME | FUNCTION "(" expression ( "," expression )* ")"
                | "(" expression ")"

- ``NAME`` is a numeric or yes/no column of the contract, or ``reference_year`` (the year ages
  are counted to: the latest data year of the training rows).
- ``a / b`` is missing where ``b`` is 0 or missing (a ratio of nothing is not a number).
- ``min(...)``, ``max(...)``: element-wise, missing where an argument is; ``sum(...)``: missing
  arguments count as 0, and the sum is missing only when all are; ``log(x)``: natural log,
  missing where ``x <= 0``; ``abs(x)``.
- A missing value stays missing through ``+ - *``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["REFERENCE_YEAR", "Expression", "ExpressionError", "parse_expression"]

#: The name an expression uses for the year ages are counted to.
REFERENCE_YEAR = "reference_year"
_MAX_LENGTH = 500
_MAX_DEPTH = 20
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.])
    | (?P<op>[-+*/])
    | (?P<paren>[(),])
    | (?P<name>[^\W\d]\w*)
    )""",
    re.VERBOSE,
)


def _sum(*parts: np.ndarray) -> np.ndarray:
    stacked = np.column_stack(parts)
    total = np.nansum(stacked, axis=1)
    total[np.isnan(stacked).all(axis=1)] = np.nan
    return total


def _log(x: np.ndarray) -> np.ndarray:
    out = np.full_like(x, np.nan)
    positive = x > 0
    out[positive] = np.log(x[positive])
    return out


#: Functions: name -> (how many arguments, at least; at most or None, implementation).
_FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., np.ndarray]]] = {
    "min": (2, None, lambda *a: np.minimum.reduce(a)),
    "max": (2, None, lambda *a: np.maximum.reduce(a)),
    "sum": (1, None, _sum),
    "log": (1, 1, _log),
    "abs": (1, 1, np.abs),
}


class ExpressionError(ValueError):
    """A derived-feature expression that does not follow the grammar."""


@dataclass(frozen=True)
class Expression:
    """A parsed expression. Build it with :func:`parse_expression`."""

    text: str
    tree: Any

    @property
    def names(self) -> tuple[str, ...]:
        """The names the expression reads (columns and ``reference_year``), first use first."""
        found: dict[str, None] = {}
        _walk_names(self.tree, found)
        return tuple(found)

    @property
    def columns(self) -> tuple[str, ...]:
        """The input columns it needs."""
        return tuple(n for n in self.names if n != REFERENCE_YEAR)

    def evaluate(
        self, column: Callable[[str], np.ndarray], reference_year: float, rows: int
    ) -> np.ndarray:
        """The values of ``rows`` rows; ``column(name)`` gives a column (float64, NaN missing)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            value = _evaluate(self.tree, column, float(reference_year))
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (rows,)).copy()


def parse_expression(text: str) -> Expression:
    """Parse a derived-feature expression (grammar in the module docstring).

    Raises
    ------
    ExpressionError
        The text does not follow the grammar; the message says where.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"a derived feature needs an expression text, got {text!r}")
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; at most {_MAX_LENGTH}")
    parser = _Parser(_tokenize(text), text)
    tree = parser.expression(0)
    if parser.position < len(parser.tokens):
        _, value, at = parser.tokens[parser.position]
        raise ExpressionError(f"expression {text!r}: unexpected {value!r} at character {at + 1}")
    return Expression(text, tree)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, position, end = [], 0, len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            at = position + len(text[position:]) - len(text[position:].lstrip())
            raise ExpressionError(
                f"expression {text!r}: cannot read {text[at : at + 12]!r} at character {at + 1}; "
                "write arithmetic of columns like `actual_output / installed_capacity`"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], text: str) -> None:
        self.tokens, self.text, self.position = tokens, text, 0

    def peek(self, value: str | None = None) -> bool:
        if self.position >= len(self.tokens):
            return False
        return value is None or self.tokens[self.position][1] == value

    def fail(self, expected: str) -> ExpressionError:
        if self.position >= len(self.tokens):
            return ExpressionError(f"expression {self.text!r}: expected {expected} at the end")
        _, value, at = self.tokens[self.position]
        return ExpressionError(
            f"expression {self.text!r}: expected {expected}, found {value!r} at character {at + 1}"
        )

    def take(self, value: str) -> None:
        if not self.peek(value):
            raise self.fail(f"'{value}'")
        self.position += 1

    def expression(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ExpressionError(f"expression {self.text!r}: nests deeper than {_MAX_DEPTH}")
        tree = self.term(depth)
        while self.peek("+") or self.peek("-"):
            op = self.tokens[self.position][1]
            self.position += 1
            tree = (op, tree, self.term(depth))
        return tree

    def term(self, depth: int) -> Any:
        tree = self.factor(depth)
        while self.peek("*") or self.peek("/"):
            op = self.tokens[self.position][1]
            self.position += 1
            tree = (op, tree, self.factor(depth))
        return tree

    def factor(self, depth: int) -> Any:
        if not self.peek():
            raise self.fail("a number, a column or '('")
        kind, value, _ = self.tokens[self.position]
        if value == "-":
            self.position += 1
            return ("neg", self.factor(depth + 1))
        if value == "(":
            self.position += 1
            inner = self.expression(depth + 1)
            self.take(")")
            return inner
        if kind == "number":
            self.position += 1
            return ("number", float(value))
        if kind != "name":
            raise self.fail("a number, a column or '('")
        self.position += 1
        if not self.peek("("):
            return ("name", value)
        return self.call(value, depth)

    def call(self, function: str, depth: int) -> Any:
        if function not in _FUNCTIONS:
            raise ExpressionError(
                f"expression {self.text!r}: unknown function '{function}' "
                f"(functions: {', '.join(_FUNCTIONS)})"
            )
        self.take("(")
        arguments = [self.expression(depth + 1)]
        while self.peek(","):
            self.position += 1
            arguments.append(self.expression(depth + 1))
        self.take(")")
        low, high, _ = _FUNCTIONS[function]
        if len(arguments) < low or (high is not None and len(arguments) > high):
            wanted = f"{low}" if high == low else f"at least {low}"
            raise ExpressionError(
                f"expression {self.text!r}: {function}() takes {wanted} argument(s), "
                f"got {len(arguments)}"
            )
        return ("call", function, tuple(arguments))


def _walk_names(node: Any, found: dict[str, None]) -> None:
    kind = node[0]
    if kind == "name":
        found.setdefault(node[1], None)
    elif kind == "call":
        for argument in node[2]:
            _walk_names(argument, found)
    elif kind == "neg":
        _walk_names(node[1], found)
    elif kind in "+-*/":
        _walk_names(node[1], found)
        _walk_names(node[2], found)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 or missing."""
    numerator, denominator = np.broadcast_arrays(
        np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    )
    out = np.full(numerator.shape, np.nan, dtype=np.float64)
    ok = np.isfinite(denominator) & (denominator != 0)
    out[ok] = numerator[ok] / denominator[ok]
    return out


_BINARY: Mapping[str, Callable[[Any, Any], Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": _ratio,
}


def _evaluate(node: Any, column: Callable[[str], np.ndarray], reference_year: float) -> Any:
    kind = node[0]
    if kind == "number":
        return node[1]
    if kind == "name":
        return reference_year if node[1] == REFERENCE_YEAR else column(node[1])
    if kind == "neg":
        return np.negative(_evaluate(node[1], column, reference_year))
    if kind == "call":
        arguments = [np.asarray(_evaluate(a, column, reference_year), np.float64) for a in node[2]]
        return _FUNCTIONS[node[1]][2](*np.broadcast_arrays(*arguments))
    return _BINARY[kind](
        _evaluate(node[1], column, reference_year), _evaluate(node[2], column, reference_year)
    )
