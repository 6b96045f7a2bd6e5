"""The figures of the rows uploaded through the workbench, kept so the profile's what-if panel
can rescore a cooperative and the Plan page can plan a batch: ``{header: cell text}`` per
spreadsheet row.

The store keeps scores, not inputs; these files live in the service's upload folder (removed
when it stops), and only for lists up to :data:`MAX_ROWS` rows. One JSON line per row, and an
index of where each row's line starts, so a what-if reads one line, not the whole list.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from scoring.contract import Contract
from scoring.pipeline import open_source

__all__ = ["MAX_ROWS", "find", "keep", "kept", "load"]

MAX_ROWS = 50_000


def _file(shared: Any, batch_id: str) -> Path:
    return shared.upload_dir / f"inputs-{batch_id}.jsonl"


def _index_file(shared: Any, batch_id: str) -> Path:
    return shared.upload_dir / f"inputs-{batch_id}.index.json"


def keep(shared: Any, path: Path, batch_id: str, contract: Contract) -> bool:
    """Keep the rows of an uploaded file (read as it was scored); False when too long."""
    source = open_source(path, contract)
    lines: list[bytes] = []
    offsets: dict[str, int] = {}
    at = 0
    for first, table in source.chunks(10_000):
        numbers = source.row_numbers(first, table.num_rows)
        for number, values in zip(numbers.tolist(), table.to_pylist(), strict=True):
            cells = {k: v for k, v in values.items() if v not in (None, "")}
            line = json.dumps(cells, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
            offsets[str(number)] = at
            at += len(line)
            lines.append(line)
        if len(lines) > MAX_ROWS:
            return False
    _file(shared, batch_id).write_bytes(b"".join(lines))
    # The index last: a batch counts as kept only once both files are whole.
    _index_file(shared, batch_id).write_text(json.dumps(offsets), encoding="utf-8")
    return True


def kept(shared: Any, batch_id: str) -> bool:
    """Whether the rows of ``batch_id`` were kept."""
    return _index_file(shared, batch_id).is_file()


def load(shared: Any, batch_id: str) -> dict[str, dict[str, Any]] | None:
    """All kept records of a batch, ``{spreadsheet row: {header: cell}}``, or None."""
    if not kept(shared, batch_id):
        return None
    offsets = _offsets(_index_file(shared, batch_id))
    with _file(shared, batch_id).open("rb") as handle:
        return {row: json.loads(line) for row, line in zip(offsets, handle, strict=True)}


def find(shared: Any, batch_id: str, row: int) -> dict[str, Any] | None:
    """The kept record of a batch's spreadsheet row, or None."""
    if not kept(shared, batch_id):
        return None
    at = _offsets(_index_file(shared, batch_id)).get(str(row))
    if at is None:
        return None
    with _file(shared, batch_id).open("rb") as handle:
        handle.seek(at)
        return json.loads(handle.readline())


def _offsets(index: Path) -> dict[str, int]:
    return _read_offsets(index, index.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_offsets(index: Path, _mtime: int) -> dict[str, int]:
    """A batch's row offsets, read once per version of the file (the mtime is the key)."""
    return json.loads(index.read_text(encoding="utf-8"))
