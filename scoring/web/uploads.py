"""Lists scored and stored as the workbench's uploads: one from the upload form, or the files
``readiness serve --load`` opens the workbench on (the demo's Persian export, today's list).

Either way the library scores the file with the served model, the store records it whole, and
its figures are kept for the profile's what-if and the Plan page (:mod:`scoring.web.inputs`).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scoring.errors import ReadinessError
from scoring.service.auth import Caller
from scoring.service.logging import log_event
from scoring.service.routes import batches as api_batches
from scoring.store import StoreError
from scoring.store import queries as q
from scoring.web import inputs

__all__ = ["OPERATOR", "load_files", "store_upload"]

#: Who the files given to ``readiness serve --load`` are recorded as uploaded by.
OPERATOR = Caller(name="operator (serve --load)", role="analyst")


def store_upload(shared: Any, path: Path, name: str, digest: str, caller: Caller) -> dict:
    """Score ``path`` with the served model, store it, keep its figures; the upload's facts.

    ``path`` must be in the service's upload folder: the scores are written beside it.
    """
    result = api_batches.score_and_store(shared, path, name, digest, caller)
    if result["stored"]:
        contract = shared.holder.current.model.contract
        inputs.keep(shared, path, result["batch_id"], contract)
    return result


def load_files(shared: Any, paths: Sequence[Path]) -> list[str]:
    """Score, store and keep each file as an upload by the operator; their batch ids.

    A file the store already holds for the served model (same sha256) is not stored twice: its
    batch gets its figures kept again (they live as long as the service's upload folder).

    Raises
    ------
    ReadinessError
        A file cannot be read or scored (the message names it), or the store refuses it.
    """
    ids = []
    for path in paths:
        copy = shared.upload_dir / (uuid.uuid4().hex + path.suffix.lower())
        digest = hashlib.sha256()
        with path.open("rb") as source, copy.open("wb") as target:
            while block := source.read(1 << 20):
                digest.update(block)
                target.write(block)
        try:
            ids.append(_load_one(shared, path, copy, digest.hexdigest()))
        except ReadinessError as exc:  # told of the file the user named, not of its copy
            exc.args = (str(exc).replace(str(copy), str(path)), *exc.args[1:])
            raise
        finally:
            for leftover in copy.parent.glob(f"{copy.stem}*"):
                leftover.unlink(missing_ok=True)
    return ids


def _load_one(shared: Any, path: Path, copy: Path, digest: str) -> str:
    model = shared.holder.current
    with shared.store.connect() as conn:
        known = q.find_batch(conn, sha256=digest, model=model.reference)
    if known is not None:
        inputs.keep(shared, copy, known, model.model.contract)
        log_event(logging.INFO, "loaded", file=path.name, batch=known, stored=False)
        return known
    result = store_upload(shared, copy, path.name, digest, OPERATOR)
    if not result["stored"]:
        raise StoreError(f"{path.name} was scored but not stored: {result.get('store_error')}")
    log_event(logging.INFO, "loaded", file=path.name, batch=result["batch_id"], stored=True)
    return str(result["batch_id"])
