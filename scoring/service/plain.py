"""The fast lane of record scoring: plain records read cell by cell in Python and scored on
numpy arrays, with the batch path's scorer, explainer, programme effects and rules.

A record is *plain* when every cell is read the same way by a one-line rule: numbers in ASCII or
Persian digits (no grouping, percent, exponent or unit), whole years (Jalali ones +621), known
yes/no words and category spellings, printable-ASCII ids, names without surrounding spaces, and
no rule broken. Anything else (a date, ``4.5%``, ``25,000``, an unknown sector, an empty
required cell, a value out of range, a totals row) returns None and is left to the batch path,
which words its errors and warnings: the lane only answers what the batch path would answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scoring.batch import score_frame
from scoring.contract import TIERS, Column, Contract
from scoring.model import ScoringModel, tiers_of
from scoring.planning import Program, apply_effects
from scoring.text import ASCII_DIGITS, fold_text

__all__ = ["PlainReader", "PlainScorer", "python_values"]

_NUMBER = re.compile(r"(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")
_YEAR = re.compile(r"[1-9][0-9]{3}")
_ID = re.compile(r"[!-~]+")  # printable ASCII without spaces: what parse_id leaves unchanged
_NUMERIC = ("int", "number", "rate", "year", "yesno")
_MISSING = object()  # a cell the lane cannot read: the record goes to the batch path
Values = dict[str, Any]


class PlainReader:
    """Reads a plain record's cells into canonical values, or gives None (batch path).

    Parameters
    ----------
    contract
        The served model's contract.
    """

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.columns = contract.input_columns()
        self._cells: dict[str, Callable[[str], Any]] = {}
        for column in self.columns:
            reader = self._reader(column)
            if reader is not None:
                self._cells[column.name] = reader

    def read(self, cells: Mapping[str, str | None], headers: Any) -> Values | None:
        """The record's values by column (NaN or None where empty), or None if not plain."""
        if headers.units or headers.notes:
            return None
        matched = headers.columns  # a plain dict: Mapping.get of a HeaderMap is slow
        values: Values = {}
        for column in self.columns:
            key = matched.get(column.name)
            text = cells.get(key) if key is not None else None
            if text is None or text == "":
                if column.required:
                    return None  # its message is the batch path's
                values[column.name] = np.nan if column.type in _NUMERIC else None
                continue
            reader = self._cells.get(column.name)
            if reader is None or text.strip() != text:
                return None
            value = reader(text)
            if value is _MISSING:
                return None
            values[column.name] = value
        for column in self.contract.totals_columns:  # a totals row is the batch path's to say
            value = values.get(column.name)
            if value is not None and fold_text(value) in self.contract.totals:
                return None
        return values

    def _reader(self, column: Column) -> Callable[[str], Any] | None:
        if column.type == "id":
            return lambda text: text if _ID.fullmatch(text) else _MISSING
        if column.type == "text":
            return lambda text: text
        if column.type == "category":
            lookup = self.contract.vocabularies[column.vocabulary].lookup
            return _remembered(lambda text: lookup.get(fold_text(text), _MISSING))
        if column.type == "yesno":
            return _remembered(_yesno_reader(self.contract, column))
        if column.type in ("int", "number", "rate", "year"):
            return _number_reader(column)
        return None


def _remembered(read: Callable[[str], Any], size: int = 4096) -> Callable[[str], Any]:
    """``read`` remembering its answers for the words it knows (a bounded set: what clients
    send is theirs to choose): folding is the costly part of reading a word."""
    known: dict[str, Any] = {}

    def remembered(text: str) -> Any:
        value = known.get(text, _MISSING)
        if value is _MISSING:
            value = read(text)
            if value is not _MISSING and len(known) < size:
                known[text] = value
        return value

    return remembered


def _yesno_reader(contract: Contract, column: Column) -> Callable[[str], Any]:
    """Words that are yes (or no) for the contract and for the column alike."""
    own_yes, own_no = contract.yesno_words(column)
    words = {w: 1.0 for w in contract.yes & own_yes} | {w: 0.0 for w in contract.no & own_no}

    def read(text: str) -> Any:
        return _MISSING if "-" in text else words.get(fold_text(text), _MISSING)

    return read


def _number_reader(column: Column) -> Callable[[str], Any]:
    """A plain decimal (a 4-digit year for a year column) within the column's range."""
    pattern = _YEAR if column.type == "year" else _NUMBER
    whole = column.type in ("int", "year")
    span = (column.jalali_min, column.jalali_max) if column.type == "year" else (None, None)
    jalali = span[0] is not None and span[1] is not None
    low, low_open = column.min, column.min_exclusive
    high, high_open = column.max, column.max_exclusive

    def read(text: str) -> Any:
        ascii_text = text if text.isascii() else text.translate(ASCII_DIGITS)
        if not pattern.fullmatch(ascii_text):
            return _MISSING
        value = float(ascii_text)
        if whole and not value.is_integer():
            return _MISSING
        if jalali and span[0] <= value <= span[1]:
            value += 621.0
        if (
            (low is not None and value < low)
            or (low_open is not None and value <= low_open)
            or (high is not None and value > high)
            or (high_open is not None and value >= high_open)
        ):
            return _MISSING
        return value

    return read


class PlainScorer:
    """Scores read records on arrays, as :func:`scoring.batch.score_chunk` and the next-step
    hook of ``readiness score --next-step`` do: features built once, each programme's effects
    applied to the arrays and only the columns they change rebuilt.

    Parameters
    ----------
    model
        The verified model.
    programs
        The support programmes (none: no next step).
    """

    def __init__(self, model: ScoringModel, programs: Sequence[Program] = ()) -> None:
        self.model = model
        self.contract = model.contract
        columns = model.contract.input_columns()
        self._numeric = [c.name for c in columns if c.type in _NUMERIC]
        self._other = [c.name for c in columns if c.type not in _NUMERIC]
        matrix = model.matrix
        self._features = matrix.features
        self._categories = {
            name: {key: float(k) for k, key in enumerate(keys)}
            for name, keys in matrix.categories.items()
        }
        self._reference_year = float(matrix.reference_year)
        expressions = getattr(matrix, "expressions", None) or {}
        inputs = {c.name for c in columns} | {"row"}
        # An input column of a derived feature's name wins, as in FeatureMatrix.transform.
        self._expressions = {n: e for n, e in expressions.items() if n not in inputs}
        self._ranked = [p for _, p in sorted(enumerate(programs), key=lambda i: (i[1].cost, i[0]))]
        self._touched = {p.id: _touched_columns(p, model.contract) for p in self._ranked}
        self._id = model.contract.id_column.name
        self._numeric_conditions = all(
            p.condition is None or _condition_columns(p.condition.tree) <= set(self._numeric)
            for p in self._ranked
        )
        # The features each programme can change: only those are binned again after it.
        self._affected = {
            p.id: [j for j, name in enumerate(self._features) if self._reads(name) & set(touched)]
            for p, touched in ((p, self._touched[p.id]) for p in self._ranked)
        }

        self._needed = {
            p.id: set().union(*(self._reads(self._features[j]) for j in affected))
            for p, affected in ((p, self._affected[p.id]) for p in self._ranked)
        }

    def _reads(self, feature: str) -> set[str]:
        expression = self._expressions.get(feature)
        return set(expression.columns) if expression is not None else {feature}

    def usable(self) -> bool:
        """Whether every feature is a numeric or category input or a derived one of numerics."""
        numeric = set(self._numeric)
        for name in self._features:
            expression = self._expressions.get(name)
            if expression is not None:
                if not set(expression.columns) <= numeric:
                    return False
            elif name not in numeric and name not in self._categories:
                return False
        return True

    def score(self, rows: Sequence[Values]) -> dict[str, list[Any]]:
        """The score-output columns (and next step) of read records, as JSON-ready lists."""
        numbers = {
            name: np.fromiter((r[name] for r in rows), np.float64, len(rows))
            for name in self._numeric
        }
        others = {name: np.array([r[name] for r in rows], dtype=object) for name in self._other}
        # One float block when the programmes' conditions read numbers only: a frame of
        # mixed columns costs ten times more to build and to read.
        if self._numeric_conditions:
            frame = pd.DataFrame(np.column_stack(list(numbers.values())), columns=self._numeric)
            frame[self._id] = others[self._id]
        else:
            frame = pd.DataFrame({**others, **numbers})
        codes = {
            name: np.array([index.get(r[name], np.nan) for r in rows], dtype=np.float64)
            for name, index in self._categories.items()
        }
        columns = {**numbers, **codes}
        X = self.features(columns, len(rows))
        scored = score_frame(frame, self.model, X=X)
        values = {name: python_values(scored[name].to_numpy()) for name in scored.columns}
        if self._ranked:
            probability = scored["export_probability"].to_numpy(np.float64)
            step, step_score = self.next_steps(frame, columns, X, probability)
            values["next_step"] = step
            values["next_step_score"] = step_score
        for name in ("name", "province", "sector"):
            if name in others:
                values[f"input:{name}"] = [r[name] for r in rows]
        return values

    def features(
        self, columns: Mapping[str, np.ndarray], n: int, only: Sequence[int] | None = None
    ) -> np.ndarray:
        """The model's feature matrix from columns (category columns as their codes); with
        ``only``, just those features, in that order."""
        wanted = range(len(self._features)) if only is None else only
        X = np.empty((n, len(wanted)), dtype=np.float64)
        for out, j in enumerate(wanted):
            name = self._features[j]
            expression = self._expressions.get(name)
            if expression is None:
                X[:, out] = columns[name]
            else:
                X[:, out] = expression.evaluate(columns.__getitem__, self._reference_year, n)
        return X

    def next_steps(
        self,
        frame: pd.DataFrame,
        columns: Mapping[str, np.ndarray],
        X: np.ndarray,
        probability: np.ndarray,
    ) -> tuple[list[str], list[float | None]]:
        """Each record's next step: the cheapest programme that raises its tier (ties: the
        higher score after it, then programme order), and its readiness score after it."""
        scorer = self.model.scorer
        index = scorer.indices(X)
        rank = _tier_ranks(tiers_of(probability, self.model.tiers))
        n = len(rank)
        chosen: list[tuple[float, float, str] | None] = [None] * n  # (cost, -score, id)
        still_open = rank < len(TIERS) - 1
        for program in self._ranked:
            rows = [k for k in np.flatnonzero(still_open) if _may_take(chosen[k], program.cost)]
            if not rows:
                continue
            changed_columns, changed = self.apply_effects(frame, columns, program)
            rows = [k for k in rows if changed[k]]
            if not rows:
                continue
            affected = self._affected[program.id]
            after_columns = {
                name: changed_columns.get(name, columns[name])[rows]
                for name in self._needed[program.id]
            }
            after_index = index[rows]
            after_index[:, affected] = scorer.indices_of(
                self.features(after_columns, len(rows), affected), affected
            )
            after = scorer.probability_at(after_index)
            higher = _tier_ranks(tiers_of(after, self.model.tiers)) > rank[rows]
            scores = np.round(100.0 * after, 1)
            for k, raised, score in zip(rows, higher.tolist(), scores.tolist(), strict=True):
                candidate = (program.cost, -score, program.id)
                if raised and (chosen[k] is None or candidate[:2] < chosen[k][:2]):
                    chosen[k] = candidate
        steps = [c[2] if c is not None else "" for c in chosen]
        step_scores = [-c[1] if c is not None else None for c in chosen]
        return steps, step_scores

    def apply_effects(
        self, frame: pd.DataFrame, columns: Mapping[str, np.ndarray], program: Program
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """:func:`apply_program` on the arrays: the columns it changes, and the changed rows."""
        eligible = program.eligible_mask(frame, self.contract)
        return apply_effects(eligible, program, self.contract, columns.__getitem__)


def _may_take(chosen: tuple[float, float, str] | None, cost: float) -> bool:
    """Whether a programme of ``cost`` may still replace the step chosen so far."""
    return chosen is None or cost <= chosen[0]


def _condition_columns(node: Any) -> set[str]:
    """The columns a condition's tree compares (a column compared with a column, both)."""
    parts = getattr(node, "parts", None)
    if parts is not None:
        return set().union(*(_condition_columns(p) for p in parts))
    found = {getattr(node, "column", "?")}
    if getattr(node, "kind", "") == "column":
        found.add(node.value[1])
    return found


def _touched_columns(program: Program, contract: Contract) -> list[str]:
    """The columns :func:`apply_program` writes: the effects', then (in contract order) each
    column capped by one of them or capped itself."""
    touched = {e.column for e in program.effects}
    for column in contract.columns:
        if column.cap is not None and (column.name in touched or column.cap in touched):
            touched.add(column.name)
    return sorted(touched)


def _tier_ranks(tiers: np.ndarray) -> np.ndarray:
    """Each tier's rank, the lowest tier 0 (``TIERS`` lists the best first)."""
    position = {tier: len(TIERS) - 1 - k for k, tier in enumerate(TIERS)}
    return np.array([position[t] for t in tiers], dtype=np.int64)


def python_values(values: np.ndarray) -> list[Any]:
    """An array as JSON-ready Python values: NaN and NA as None."""
    items = values.tolist()
    if values.dtype.kind == "f":
        return [None if v != v else v for v in items]
    return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in items]
