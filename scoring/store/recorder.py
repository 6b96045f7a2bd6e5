"""Recording a scored batch: one transaction, filled chunk by chunk as scoring produces them.

A :class:`BatchRecorder` is the ``extra`` hook of :func:`scoring.batch.score_file`: each scored
chunk goes into the open transaction at once (nothing is held in memory), and the batch row gets
its counts and summary when the file is done. The batch appears whole when the transaction
commits, or not at all. A store that cannot be reached never stops scoring: the recorder keeps
the reason, and the caller says the batch was not stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring.store.database import Store, StoreError
from scoring.store.queries import finish_batch, insert_batch, insert_rejects, insert_scores, now
from scoring.store.tables import SCORE_FIELDS

__all__ = ["BatchRecorder", "RecordedBatch", "file_sha256", "reject_rows", "score_rows"]

Extra = Callable[[pd.DataFrame, pd.DataFrame, np.ndarray], pd.DataFrame]
_TEXT_FIELDS = ("name", "province", "sector")


@dataclass(frozen=True)
class RecordedBatch:
    """What became of a batch: its id when stored, else why it was not."""

    batch_id: str | None
    stored: bool
    error: str = ""


class BatchRecorder:
    """Write one batch in one transaction (use as a context manager).

    Parameters
    ----------
    store
        The store, or None to record nothing (every call is then a no-op).
    source
        ``upload``, ``cli`` or ``api``.
    file_name, sha256
        The scored file's name (as the user named it) and the sha256 of its bytes.
    model
        ``NAME@VERSION`` of the scoring model.
    uploaded_by
        Who asked: a token's name, ``open`` (no tokens), or ``cli:USER``.
    """

    def __init__(
        self,
        store: Store | None,
        *,
        source: str,
        file_name: str,
        sha256: str,
        model: str,
        uploaded_by: str,
    ) -> None:
        self.store = store
        self.batch_id = uuid.uuid4().hex
        self.error = "" if store is not None else "no store"
        self._head = {
            "id": self.batch_id,
            "created": now(),
            "source": source,
            "file_name": file_name,
            "sha256": sha256,
            "rows_read": 0,
            "rows_scored": 0,
            "rows_rejected": 0,
            "model": model,
            "uploaded_by": uploaded_by,
            "summary": {},
        }
        self._context: Any = None
        self._conn: Any = None
        self._scored = 0
        self._rejected = 0
        self._done = False

    def __enter__(self) -> BatchRecorder:
        if self.store is None:
            return self
        context = self.store.begin()
        try:
            self._conn = context.__enter__()
        except StoreError as exc:
            self._fail(exc)
            return self
        self._context = context
        self._write(insert_batch, self._head)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._context is None:
            return
        context, self._context = self._context, None
        if exc_type is None and self._done and not self.error:
            try:
                context.__exit__(None, None, None)  # commits
            except StoreError as error:
                self.error = str(error)
            return
        # Scoring failed, or the store did: roll back, never raising over the first error.
        with contextlib.suppress(StoreError, RuntimeError):
            context.__exit__(RuntimeError, RuntimeError("batch abandoned"), None)

    @property
    def active(self) -> bool:
        return self._conn is not None and not self.error

    def extra(self, inner: Extra | None = None) -> Extra:
        """A ``score_file(extra=...)`` hook: ``inner`` first (e.g. the next step), then store."""

        def hook(valid: pd.DataFrame, scored: pd.DataFrame, X: np.ndarray) -> pd.DataFrame:
            if inner is not None:
                scored = inner(valid, scored, X)
            self.add_scored(valid, scored)
            return scored

        return hook

    def add_scored(self, valid: pd.DataFrame, scored: pd.DataFrame) -> None:
        """Add scored rows (``valid`` gives each row's number, name, province and sector)."""
        rows = score_rows(self.batch_id, self._scored, valid, scored)
        self._scored += len(scored)
        self._write(insert_scores, rows)

    def add_rejects(self, rejects: pd.DataFrame) -> None:
        """Add rejected rows (``row``, ``coop_id``, ``error``)."""
        rows = reject_rows(self.batch_id, self._rejected, rejects)
        self._rejected += len(rejects)
        self._write(insert_rejects, rows)

    def add_rows(self, scored: list[Mapping[str, Any]], rejected: list[Mapping[str, Any]]) -> None:
        """Add ready-made rows: score rows (the score fields, ``row``, ``name``, ``province``,
        ``sector``) and reject rows (``row``, ``coop_id``, ``error``)."""
        fields = ("row", *SCORE_FIELDS, *_TEXT_FIELDS)
        rows = [
            {
                "batch_id": self.batch_id,
                "position": self._scored + i,
                **{f: row.get(f) for f in fields},
            }
            for i, row in enumerate(scored)
        ]
        for row in rows:
            for reason in ("reason_1", "reason_2", "reason_3"):
                row[reason] = row[reason] or ""
        self._scored += len(rows)
        self._write(insert_scores, rows)
        self.add_rejects(pd.DataFrame(list(rejected), columns=["row", "coop_id", "error"]))

    def finish(self, summary: Mapping[str, Any]) -> RecordedBatch:
        """Set the counts and summary; the batch commits when the ``with`` block ends."""
        self._done = True
        if self.active:
            values = {
                "rows_read": int(summary["rows_read"]),
                "rows_scored": int(summary["rows_scored"]),
                "rows_rejected": int(summary["rows_rejected"]),
                "summary": _json_safe(summary),
            }
            self._write(lambda conn, v: finish_batch(conn, self.batch_id, v), values)
        return self.result()

    def result(self) -> RecordedBatch:
        if self.error:
            return RecordedBatch(None, False, self.error)
        return RecordedBatch(self.batch_id, True)

    def _write(self, write: Callable[[Any, Any], None], rows: Any) -> None:
        if not self.active:
            return
        try:
            write(self._conn, rows)
        except Exception as exc:  # the driver's own errors: the batch is given up, scoring goes on
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        self.error = f"the batch was not stored: {text}"
        self._conn = None


def score_rows(
    batch_id: str, start: int, valid: pd.DataFrame, scored: pd.DataFrame
) -> list[dict[str, Any]]:
    """Store rows of scored output, positions counted from ``start``."""
    n = len(scored)
    columns: dict[str, list[Any]] = {
        "batch_id": [batch_id] * n,
        "position": list(range(start, start + n)),
        "row": _values(valid["row"]) if "row" in valid else list(range(start, start + n)),
    }
    for name in SCORE_FIELDS:
        columns[name] = _values(scored[name]) if name in scored else [None] * n
    for name in _TEXT_FIELDS:
        columns[name] = _texts(valid[name]) if name in valid else [None] * n
    for name in ("reason_1", "reason_2", "reason_3"):
        columns[name] = ["" if v is None else v for v in columns[name]]
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def reject_rows(batch_id: str, start: int, rejects: pd.DataFrame) -> list[dict[str, Any]]:
    """Store rows of rejects (``row``, ``coop_id``, ``error``), positions from ``start``."""
    n = len(rejects)
    return (
        [
            {
                "batch_id": batch_id,
                "position": start + i,
                "row": int(row),
                "coop_id": str(coop),
                "error": str(error),
            }
            for i, (row, coop, error) in enumerate(
                zip(
                    rejects["row"].tolist(),
                    rejects["coop_id"].tolist(),
                    rejects["error"].tolist(),
                    strict=True,
                )
            )
        ]
        if n
        else []
    )


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _values(series: pd.Series) -> list[Any]:
    """Python values of a column, missing ones (NaN, NA) as None."""
    values = series.to_numpy(dtype=object)
    missing = pd.isna(values)
    out = values.tolist()
    if missing.any():
        for i in np.flatnonzero(missing):
            out[i] = None
    return [v.item() if isinstance(v, np.generic) else v for v in out]


def _texts(series: pd.Series) -> list[Any]:
    return [None if v is None else str(v) for v in _values(series)]


def _json_safe(value: Any) -> Any:
    """Summaries as JSON the database takes: numpy scalars as Python, NaN as None."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
