"""Scoring records: ``POST /score`` (one or many records) and ``POST /what-if`` (a record, some
changes in the programme-effect syntax, and every programme's uplift).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from scoring.service.app import Service, service
from scoring.service.auth import SECURITY, Caller, authorize, require
from scoring.service.problems import Problem
from scoring.service.records import RecordError
from scoring.service.schemas import ScoreResponse, WhatIfResponse
from scoring.store import BatchRecorder

__all__ = ["json_response", "read_json", "request_lang", "router", "score", "what_if"]

router = APIRouter(tags=["scoring"])
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {"application/problem+json": {}}}
    for code, text in (
        (400, "Not JSON, or nested too deeply"),
        (401, "No token, or an unknown or revoked one"),
        (403, "The token's role may not do this"),
        (413, "Body over the size limit, or more records than the record limit"),
        (415, "Not a JSON body"),
        (422, "Not records (a value that is an object or a list, an empty list)"),
    )
}


def _body(schema: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


async def read_json(request: Request) -> Any:
    """The request's JSON body; a 4xx problem for anything else."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind and not (kind == "application/json" or kind.endswith("+json")):
        raise Problem(415, f"send application/json, not {kind}")
    body = await request.body()
    if not body.strip():
        raise Problem(400, "the request body is empty; send JSON records")
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise Problem(400, "the JSON is nested too deeply to be records") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        raise Problem(400, f"the body is not valid JSON: {_first_line(exc)}") from None


def request_lang(request: Request) -> str:
    """``fa`` when the query's ``lang`` or the first of ``Accept-Language`` is Persian."""
    chosen = request.query_params.get("lang")
    if chosen is None:
        first = request.headers.get("accept-language", "en").split(",")[0]
        chosen = first.split(";")[0].strip()
    return "fa" if chosen.lower().startswith("fa") else "en"


def json_response(content: Any, status_code: int = 200) -> Response:
    """UTF-8 JSON (Persian left readable), written without a validation pass."""
    return Response(
        json.dumps(content, ensure_ascii=False, allow_nan=False).encode("utf-8"),
        status_code=status_code,
        media_type="application/json",
    )


@router.post(
    "/score",
    response_model=ScoreResponse,
    responses=_PROBLEMS,
    openapi_extra={**_body("ScoreRequest"), **SECURITY},
    summary="Score cooperative records",
)
async def score(request: Request) -> Response:
    """Score one record (an object), many (a list), or ``{"records": [...], "store": true}``.

    Each record gets its probability, score, tier, reasons (codes and texts in the
    ``Accept-Language`` language, or ``?lang=fa``), sub-scores, sector percentile and next step;
    a record breaking the contract gets its own errors (the rejects file's messages) while the
    others are scored. — امتیازدهی یک یا چند تعاونی.
    """
    # No FastAPI dependencies on this route: resolving them cost more than scoring a record.
    caller = authorize(request, "officer")
    shared: Service = request.app.state.service
    body = await read_json(request)
    records, keep = _records_of(body)
    limit = shared.settings.max_records
    if len(records) > limit:
        raise Problem(
            413, f"{len(records):,} records in one request; the limit is {limit:,}", limit=limit
        )
    request.state.records = len(records)
    lang = request_lang(request)
    prepared = _prepare(shared, records)
    try:
        reference, results = await asyncio.wait_for(
            shared.batcher.submit(prepared, lang), shared.settings.request_timeout
        )
    except TimeoutError:
        raise Problem(504, "scoring took longer than the request timeout; retry") from None
    scored = sum(1 for r in results if r["ok"])
    shared.metrics.count_records(scored, len(results) - scored)
    unknown = sorted({k for r in results for k in r.get("ignored_fields", ())})
    answer: dict[str, Any] = {
        "model": reference,
        "lang": lang,
        "records": len(results),
        "scored": scored,
        "rejected": len(results) - scored,
        "unknown_fields": unknown,
        "stored": False,
        "batch_id": None,
    }
    if keep:
        digest = hashlib.sha256(await request.body()).hexdigest()
        outcome = await asyncio.to_thread(_store, shared, results, reference, caller, digest)
        answer.update(stored=outcome.stored, batch_id=outcome.batch_id)
        if not outcome.stored:
            answer["store_error"] = outcome.error
    answer["results"] = results
    return json_response(answer)


@router.post(
    "/what-if",
    response_model=WhatIfResponse,
    responses=_PROBLEMS,
    openapi_extra=_body("WhatIfRequest"),
    summary="A record before and after changes, and every programme's uplift",
)
async def what_if(
    request: Request, caller: Caller = require("manager"), shared: Service = Depends(service)
) -> Response:
    """``{"record": {...}, "changes": {"iso9001": true, "actual_output": "*1.2"}}``: before,
    after and uplift, and each programme's uplift for the record. — «اگر چه؟» برای یک تعاونی.
    """
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("record"), dict):
        raise Problem(422, 'send {"record": {...}, "changes": {...}}')
    changes = body.get("changes")
    if not isinstance(changes, dict):
        raise Problem(422, 'changes must be an object, e.g. {"iso9001": true}')
    request.state.records = 1
    serving = shared.holder.current
    [prepared] = _prepare(shared, [body["record"]])
    lang = request_lang(request)
    answer = await asyncio.to_thread(serving.scorer.what_if, prepared, changes, lang)
    return json_response({"model": serving.reference, **answer})


def _records_of(body: Any) -> tuple[list[Any], bool]:
    """The records of a body (an envelope, a list, or one record) and whether to store them."""
    keep = False
    if isinstance(body, dict) and "records" in body:
        unknown = sorted(set(body) - {"records", "store"})
        if unknown:
            raise Problem(422, f"unknown request keys {unknown}; send records and store only")
        records, keep = body["records"], body.get("store", False)
        if not isinstance(keep, bool):
            raise Problem(422, "store must be true or false")
    elif isinstance(body, dict):
        records = [body]
    else:
        records = body
    if not isinstance(records, list):
        raise Problem(422, "records must be a list of objects")
    if not records:
        raise Problem(422, "no records to score: send at least one")
    return records, keep


def _prepare(shared: Service, records: list[Any]) -> list[Any]:
    try:
        return shared.holder.current.scorer.prepare(records)
    except RecordError as exc:
        raise Problem(422, str(exc), record=exc.index, field=exc.key) from None


def _store(
    shared: Service, results: list[dict[str, Any]], reference: str, caller: Caller, digest: str
) -> Any:
    """Scored records as one ``api`` batch: stored whole, or not at all."""
    scored = [{**r, "row": r["index"] + 1} for r in results if r["ok"]]
    rejected = [
        {"row": r["index"] + 1, "coop_id": r.get("coop_id") or "", "error": r["error"]}
        for r in results
        if not r["ok"]
    ]
    recorder = BatchRecorder(
        shared.store,
        source="api",
        file_name="POST /api/v1/score",
        sha256=digest,
        model=reference,
        uploaded_by=caller.name,
    )
    with recorder:
        recorder.add_rows(scored, rejected)
        tiers = Counter(r["readiness_tier"] for r in scored)
        outcome = recorder.finish(
            {
                "model": reference,
                "source": "api",
                "rows_read": len(results),
                "rows_scored": len(scored),
                "rows_rejected": len(rejected),
                "tiers": {t: tiers.get(t, 0) for t in "ABCD"},
            }
        )
    if recorder.error:
        shared.store_up, shared.store_error = False, recorder.error
        return recorder.result()
    return outcome


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
