"""A cooperative across batches: ``GET /cooperatives/{coop_id}``, its latest score and history."""

from __future__ import annotations

import asyncio
from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Depends
from starlette.responses import Response

from scoring.normalize import parse_id
from scoring.service.app import Service, run_in_store, service
from scoring.service.auth import Caller, require
from scoring.service.problems import Problem
from scoring.service.routes.score import json_response
from scoring.store import queries as q
from scoring.store.tables import SCORE_FIELDS

__all__ = ["cooperative", "router"]

router = APIRouter(tags=["cooperatives"])
_HISTORY = (
    "batch_id",
    "created",
    "model",
    "source",
    "file_name",
    *SCORE_FIELDS[1:],  # every score-output field but the id
    "province",
    "sector",
    "name",
)


@router.get("/cooperatives/{coop_id}", summary="A cooperative's latest score and its history")
async def cooperative(
    coop_id: str, caller: Caller = require("viewer"), shared: Service = Depends(service)
) -> Response:
    """The id is read as a file's id is (Persian digits, ي/ك). — سابقه امتیاز یک تعاونی."""
    if len(coop_id) > 200:
        raise Problem(422, "coop_id is longer than 200 characters")
    [normalized] = parse_id(pa.array([coop_id], pa.string())).values.tolist()
    if normalized is None or normalized != normalized:
        raise Problem(422, "coop_id is empty")
    rows = await asyncio.to_thread(
        run_in_store, shared, lambda conn: q.cooperative_history(conn, str(normalized))
    )
    if not rows:
        raise Problem(404, f"no stored score for cooperative '{str(normalized)[:60]}'")
    history = [_entry(row) for row in rows]
    answer: dict[str, Any] = {
        "model": shared.holder.reference,
        "coop_id": str(normalized),
        "latest": history[0],
        "history": history,
    }
    return json_response(answer)


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(row[k], float) and row[k] != row[k] else row[k]) for k in _HISTORY
    }
