"""The figures of the rows uploaded through the workbench, kept so the profile's what-if panel
can rescore a cooperative: ``{spreadsheet row: {header: cell text}}`` per batch.

The store keeps scores, not inputs; these files live in the service's upload folder (removed
when it stops), and only for lists up to :data:`MAX_ROWS` rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scoring.contract import Contract
from scoring.pipeline import open_source

__all__ = ["MAX_ROWS", "find", "keep"]

MAX_ROWS = 50_000


def _file(shared: Any, batch_id: str) -> Path:
    return shared.upload_dir / f"inputs-{batch_id}.json"


def keep(shared: Any, path: Path, batch_id: str, contract: Contract) -> bool:
    """Keep the rows of an uploaded file (read as it was scored); False when too long."""
    source = open_source(path, contract)
    rows: dict[str, dict[str, str]] = {}
    for first, table in source.chunks(10_000):
        numbers = source.row_numbers(first, table.num_rows)
        for number, values in zip(numbers.tolist(), table.to_pylist(), strict=True):
            rows[str(number)] = {k: v for k, v in values.items() if v not in (None, "")}
        if len(rows) > MAX_ROWS:
            return False
    _file(shared, batch_id).write_text(
        json.dumps(rows, ensure_ascii=False, default=str), encoding="utf-8"
    )
    return True


def find(shared: Any, batch_id: str, row: int) -> dict[str, Any] | None:
    """The kept record of a batch's spreadsheet row, or None."""
    target = _file(shared, batch_id)
    if not target.is_file():
        return None
    return json.loads(target.read_text(encoding="utf-8")).get(str(row))
