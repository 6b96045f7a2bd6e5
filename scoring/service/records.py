"""JSON records scored through the batch path: header matching, normalising, validation, then
:func:`scoring.batch.score_chunk` and the next-step hook, exactly as ``readiness score`` runs.

A record's keys are matched like a file's headers and its values are read like a file's cells
(Persian digits, بله/خیر, Jalali years): each value becomes the text a spreadsheet cell would
show, so a record and the same row of a file give the same output, field for field. Many
records (of many requests) are scored in one call (:meth:`RecordScorer.score_groups`): the
batch path's fixed cost is paid once per call, not once per record.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from scoring.batch import SCORE_COLUMNS, score_chunk
from scoring.contract import Contract
from scoring.errors import ContractError, PlanError
from scoring.headers import HeaderMap, map_headers
from scoring.model import ScoringModel
from scoring.normalize import normalize_chunk
from scoring.planning import (
    Program,
    apply_program,
    candidate_uplifts,
    next_step_columns,
    programs_from_dict,
)
from scoring.service.plain import PlainReader, PlainScorer, python_values
from scoring.text import fold_text
from scoring.validation import ChunkResult, Validator, empty_rejects

__all__ = [
    "RECORD_FIELDS",
    "Prepared",
    "RecordError",
    "RecordScorer",
    "cell_text",
]

#: The fields of a scored record that are the columns of ``readiness score --next-step``.
RECORD_FIELDS = (*SCORE_COLUMNS, "next_step", "next_step_score")
_HEADER_CACHE = 512  # distinct key sets remembered (bounded: clients choose the keys)
#: Input columns a scored record reports (canonical province and sector; the name for storing).
_CONTEXT = ("name", "province", "sector")


class RecordError(ValueError):
    """A request value that is no cell at all (an object or a list): the request is refused."""

    def __init__(self, message: str, *, index: int, key: str) -> None:
        super().__init__(message)
        self.index = index
        self.key = key


@dataclass
class Prepared:
    """One record made ready: its cells (as text, by key), matched headers, ignored keys,
    and its values when the fast lane can read it (:mod:`scoring.service.plain`)."""

    cells: dict[str, str | None]
    headers: HeaderMap = field(default_factory=lambda: HeaderMap({}))
    ignored: list[str] = field(default_factory=list)
    problem: str = ""
    plain: dict[str, Any] | None = None


def cell_text(value: Any) -> str | None:
    """A JSON value as the text of a spreadsheet cell (what the file reader would give).

    ``None`` is an empty cell; ``true``/``false`` read as yes/no (as an Excel boolean cell);
    whole numbers have no ``.0``; other numbers are written so that they read back exactly.

    Raises
    ------
    TypeError
        ``value`` is an object or a list (or a number that is not finite).
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError("is not a finite number")
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    raise TypeError(f"is a JSON {'object' if isinstance(value, dict) else 'list'}, not a value")


class RecordScorer:
    """Scores JSON records with one model (and its programmes), through the batch path.

    Parameters
    ----------
    model
        The verified model.
    programs
        The support programmes: the next step and the what-if uplifts (none: no next step).
    """

    def __init__(self, model: ScoringModel, programs: Sequence[Program] = ()) -> None:
        self.model = model
        self.contract: Contract = model.contract
        self.programs = list(programs)
        self.reference = model.reference
        self._programs = {p.id: p for p in self.programs}
        self._next_step = next_step_columns(model, self.programs) if self.programs else None
        # Header matching as for a file, but a record may leave out any key: an absent
        # required value is then an empty required cell, rejected with the rejects message.
        optional = tuple(dataclasses.replace(c, required=False) for c in self.contract.columns)
        self._matching = dataclasses.replace(self.contract, columns=optional)
        self._headers: OrderedDict[tuple[str, ...], tuple[HeaderMap, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._texts = _reason_texts(model)
        self._categories = {
            c.name: self.contract.vocabularies[c.vocabulary]
            for c in self.contract.input_columns()
            if c.type == "category"
        }
        # Plain records skip the batch path's tables (same output: tests/test_service_plain.py).
        self._reader = PlainReader(self.contract)
        plain = PlainScorer(model, self.programs)
        self._plain = plain if plain.usable() else None

    # ----------------------------------------------------------------------------------------
    # Preparing records (at request time: a refusal is the request's, not a record's)

    def prepare(self, records: Sequence[Any]) -> list[Prepared]:
        """Each record's cells and matched headers.

        Raises
        ------
        RecordError
            A record is not a JSON object, or one of its values is an object or a list.
        """
        prepared = []
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise RecordError(
                    f"record {index} is a JSON {type(record).__name__}, not an object of "
                    "column: value pairs",
                    index=index,
                    key="",
                )
            cells: dict[str, str | None] = {}
            for key, value in record.items():
                try:
                    cells[str(key)] = cell_text(value)
                except TypeError as exc:
                    raise RecordError(
                        f"record {index}: '{_short(str(key))}' {exc}", index=index, key=str(key)
                    ) from None
            headers, problem = self._match(tuple(cells))
            matched = set(headers.columns.values())
            ignored = [k for k in cells if k not in matched] if not problem else []
            lane = not problem and self._plain is not None
            plain = self._reader.read(cells, headers) if lane else None
            prepared.append(Prepared(cells, headers, ignored, problem, plain))
        return prepared

    def _match(self, keys: tuple[str, ...]) -> tuple[HeaderMap, str]:
        with self._lock:  # the what-if and the coalesced calls may run in two threads
            cached = self._headers.get(keys)
            if cached is not None:
                self._headers.move_to_end(keys)
                return cached
        try:
            found = map_headers(list(keys), self._matching, source="the record"), ""
        except ContractError as exc:
            found = HeaderMap({}), str(exc)
        with self._lock:
            self._headers[keys] = found
            if len(self._headers) > _HEADER_CACHE:
                self._headers.popitem(last=False)
        return found

    # ----------------------------------------------------------------------------------------
    # Scoring

    def score_groups(
        self, groups: Sequence[Sequence[Prepared]], lang: str | Sequence[str] = "en"
    ) -> list[list[dict[str, Any]]]:
        """Score the records of several requests in one pass; a result list per request.

        ``lang`` is one language for all, or one per request. Repeated ids are looked for
        within each request only (two requests may well score the same cooperative).
        """
        langs = [lang] * len(groups) if isinstance(lang, str) else list(lang)
        flat = [p for group in groups for p in group]
        checked = self._validate([p if p.plain is None else None for p in flat])
        valid, scored = self._score(checked.valid)
        self._score_plain(flat, checked, scored)
        results: list[list[dict[str, Any]]] = []
        start = 0
        for group, group_lang in zip(groups, langs, strict=True):
            positions = range(start, start + len(group))
            start += len(group)
            found = [
                self._result(k, flat[k], checked, valid, scored, group_lang) for k in positions
            ]
            for i, result in enumerate(found):
                result["index"] = i
            self._reject_repeats(found, [checked.ids[k] for k in positions])
            results.append(found)
        return results

    def what_if(
        self,
        record: Prepared,
        changes: Mapping[str, Any],
        lang: str = "en",
        *,
        programs: bool = True,
    ) -> dict[str, Any]:
        """A record before and after ``changes`` (programme-effect syntax), and each
        programme's uplift for it (an empty list with ``programs=False``: the workbench's
        panel, which recomputes on every keystroke, shows none and saves their cost).

        Raises
        ------
        PlanError
            A change names an unknown or unchangeable column or has a malformed value.
        """
        program = _changes_program(changes, self.contract)
        checked = self._validate([record])
        valid, scored = self._score(checked.valid)
        before = self._result(0, record, checked, valid, scored, lang)
        if not before["ok"]:
            return {"before": before, "after": None, "uplift": None, "programs": []}
        changed_frame, _ = apply_program(checked.valid, program, self.contract)
        after = self._result(0, record, checked, *self._score(changed_frame), lang)
        uplift = {
            "export_probability": after["export_probability"] - before["export_probability"],
            "readiness_score": round(after["readiness_score"] - before["readiness_score"], 1),
            "tier_changed": after["readiness_tier"] != before["readiness_tier"],
        }
        return {
            "before": before,
            "after": after,
            "uplift": uplift,
            "programs": self.program_uplifts(checked.valid) if programs else [],
        }

    def program_uplifts(self, valid: pd.DataFrame) -> list[dict[str, Any]]:
        """Every programme for one validated row: whether it changes it, and its uplift."""
        candidates = candidate_uplifts(valid, self.model, self.programs)
        found = {row["program"]: row for row in candidates.to_dict("records")}
        out = []
        for program in self.programs:
            row = found.get(program.id)
            out.append(
                {
                    "program": program.id,
                    "name": program.name,
                    "name_fa": program.name_fa,
                    "cost": program.cost,
                    "applies": row is not None,
                    "probability_after": None if row is None else float(row["probability_after"]),
                    "uplift": 0.0 if row is None else float(row["uplift"]),
                }
            )
        return out

    def _score_plain(
        self, flat: Sequence[Prepared], checked: _Checked, scored: dict[str, list[Any]]
    ) -> None:
        """Score the plain records on arrays; their rows follow the batch path's in ``scored``."""
        positions = [k for k, p in enumerate(flat) if p.plain is not None]
        if not positions or self._plain is None:
            return
        found = self._plain.score([flat[k].plain for k in positions])
        before, n = len(checked.row_of), len(positions)
        for name in {*scored, *found}:
            scored[name] = scored.get(name, [None] * before) + found.get(name, [None] * n)
        id_name = self.contract.id_column.name
        for i, k in enumerate(positions):
            checked.row_of[k] = before + i
            checked.ids[k] = flat[k].plain[id_name]

    def _validate(self, prepared: Sequence[Prepared | None]) -> _Checked:
        """Normalise and validate records, one table per set of matched headers (None: a
        record scored elsewhere)."""
        checked = _Checked(ids=[None] * len(prepared))
        frames = []
        id_name = self.contract.id_column.name
        for headers, positions in self._header_groups(prepared):
            table = pa.table(
                {
                    key: pa.array([prepared[k].cells.get(key) for k in positions], pa.string())
                    for key in headers.values()
                }
                or {"": pa.array([None] * len(positions), pa.string())}
            )
            rows = np.asarray(positions, dtype=np.int64)
            normalized = normalize_chunk(table, headers, self.contract)
            result = Validator(self.contract, check_duplicates=False).validate(normalized, rows)
            ids = normalized.frame[id_name].tolist()
            for k, value in zip(positions, ids, strict=True):
                checked.ids[k] = None if pd.isna(value) else str(value)
            for row, error in zip(
                result.rejects["row"].tolist(), result.rejects["error"].tolist(), strict=True
            ):
                checked.errors[int(row)] = str(error).split("; ")
            frames.append(result.valid)
        if frames:
            checked.valid = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            checked.row_of = {int(r): k for k, r in enumerate(checked.valid["row"].tolist())}
        return checked

    def _header_groups(
        self, prepared: Sequence[Prepared | None]
    ) -> list[tuple[HeaderMap, list[int]]]:
        """Records that can share one table, each group with the header map of its keys.

        A record without a column's key has an empty cell there, as it would in a file, so
        records leaving out different optional values score in one table. A record joins a
        group only if the group's keys and its own mean the same columns in the same units.
        """
        groups: list[tuple[HeaderMap, list[int]]] = []
        for position, p in enumerate(prepared):
            if p is None or p.problem:
                continue
            for g, (headers, positions) in enumerate(groups):
                joined = self._join(headers, p.headers)
                if joined is not None:
                    groups[g] = (joined, [*positions, position])
                    break
            else:
                groups.append((p.headers, [position]))
        return groups

    def _join(self, group: HeaderMap, record: HeaderMap) -> HeaderMap | None:
        """The header map of a group's keys and a record's, or None if they disagree."""
        if any(group.get(name, key) != key for name, key in record.items()):
            return None
        if all(name in group for name in record):
            same = all(group.units.get(n) == record.units.get(n) for n in record)
            return group if same else None
        union, problem = self._match(tuple(sorted({*group.values(), *record.values()})))
        if problem or not isinstance(union, HeaderMap):
            return None
        for part in (group, record):
            if any(
                union.get(n) != k or union.units.get(n) != part.units.get(n)
                for n, k in part.items()
            ):
                return None
        return union

    def _score(self, valid: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[Any]]]:
        """The batch path on validated rows: scores, reasons, sub-scores, next step."""
        if not len(valid):
            return valid, {}
        chunk = ChunkResult(valid, empty_rejects(), len(valid))
        scored, X = score_chunk(chunk, self.model, None, ())
        if self._next_step is not None:
            scored = self._next_step(valid, scored, X)
        values = {name: python_values(scored[name].to_numpy()) for name in scored.columns}
        for name in _CONTEXT:  # read once per call, not per record
            if name in valid:
                values[f"input:{name}"] = python_values(valid[name].astype(object).to_numpy())
        return valid, values

    def _result(
        self,
        position: int,
        prepared: Prepared,
        checked: _Checked,
        valid: pd.DataFrame,
        scored: dict[str, list[Any]],
        lang: str,
    ) -> dict[str, Any]:
        """The answer for the record at ``position``: its scores, or its errors."""
        if prepared.problem:
            return _rejected(position, None, [prepared.problem], prepared.ignored)
        if position in checked.errors:
            errors = checked.errors[position]
            return _rejected(position, checked.ids[position], errors, prepared.ignored)
        k = checked.row_of[position]
        record: dict[str, Any] = {"index": position, "ok": True}
        for name in RECORD_FIELDS:
            record[name] = scored[name][k] if name in scored else None
        record["tier_name"] = self.contract.tier_label(record["readiness_tier"], lang)
        record["reasons"] = [
            {"code": code, "text": self._texts.get(code, {}).get(lang, code)}
            for code in (record["reason_1"], record["reason_2"], record["reason_3"])
            if code
        ]
        step = self._programs.get(record["next_step"] or "")
        record["next_step_cost"] = step.cost if step is not None else None
        record["next_step_name"] = _program_name(step, lang) if step is not None else None
        for name in _CONTEXT:
            record[name] = scored.get(f"input:{name}", [None] * (k + 1))[k]
        record["ignored_fields"] = prepared.ignored
        record["warnings"] = self._warnings(scored, k, prepared)
        return record

    @property
    def next_step(self) -> Any:
        """The ``score_file(extra=...)`` hook adding the next step (None without programmes)."""
        return self._next_step

    def _warnings(self, scored: dict[str, list[Any]], k: int, prepared: Prepared) -> list[str]:
        """Category values the vocabulary does not know (scored as its unknown bucket)."""
        warnings = []
        for name, vocabulary in self._categories.items():
            key = prepared.headers.get(name)
            text = prepared.cells.get(key) if key is not None else None
            if (
                text is None
                or scored.get(f"input:{name}", [None] * (k + 1))[k] != vocabulary.unknown
            ):
                continue
            if fold_text(text) != fold_text(vocabulary.unknown):
                warnings.append(
                    f"{name}: '{_short(text)}' is not in the vocabulary, scored as "
                    f"'{vocabulary.unknown}'"
                )
        return warnings

    def _reject_repeats(self, results: list[dict[str, Any]], ids: list[str | None]) -> None:
        """Reject, as a file's later row is, a record repeating an earlier record's id."""
        if len(results) < 2:
            return
        rows = np.arange(1, len(results) + 1, dtype=np.int64)
        found = Validator(self.contract).repeated_ids(pd.Series(ids, dtype=object), rows)
        if found is None:
            return
        mask, messages = found
        for position in np.flatnonzero(mask):
            result = results[position]
            errors = [*result.get("errors", []), messages[int(position)]]
            results[position] = _rejected(
                result["index"], ids[position], errors, result.get("ignored_fields", [])
            )


@dataclass
class _Checked:
    """Validated records: the valid rows (``row`` = position), errors and ids by position."""

    ids: list[str | None]
    errors: dict[int, list[str]] = field(default_factory=dict)
    valid: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Each valid record's position -> its row in ``valid``.
    row_of: dict[int, int] = field(default_factory=dict)


def _rejected(index: int, coop: Any, errors: list[str], ignored: list[str]) -> dict[str, Any]:
    return {
        "index": index,
        "ok": False,
        "coop_id": coop,
        "errors": errors,
        "error": "; ".join(errors),
        "ignored_fields": ignored,
    }


def _changes_program(changes: Mapping[str, Any], contract: Contract) -> Program:
    """``changes`` as a one-off programme, parsed and checked as a programmes file is."""
    if not isinstance(changes, Mapping) or not changes:
        raise PlanError('changes must be an object of column: effect, e.g. {"iso9001": true}')
    document = {
        "program": [
            {"id": "what_if", "name": "what-if", "cost": 0, "slots": 1, "effect": dict(changes)}
        ]
    }
    try:
        return programs_from_dict(document, contract, origin="changes")[0]
    except PlanError as exc:
        raise PlanError(str(exc).replace("changes: programme 'what_if': ", "changes: ")) from None


def _program_name(program: Program, lang: str) -> str:
    return (program.name_fa or program.name) if lang == "fa" else program.name


def _reason_texts(model: ScoringModel) -> dict[str, dict[str, str]]:
    """Each reason code's texts by language, from the model's explainer (as batch scoring)."""
    texts: dict[str, dict[str, str]] = {}
    for sides in model.explainer.data.get("reasons", {}).values():
        for reason in sides.values():
            texts[reason["code"]] = {
                "en": reason.get("en", reason["code"]),
                "fa": reason.get("fa", reason["code"]),
            }
    return texts


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
