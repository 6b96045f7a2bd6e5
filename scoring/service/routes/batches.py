"""Uploaded lists: ``POST /batches`` (a CSV, Excel or Parquet file, streamed to a temporary
file, scored with :func:`scoring.batch.score_file`, stored), and reading them back.

The temporary file's name is the service's own (a random id and one of the readable
extensions): no request value ever becomes part of a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Literal

import pyarrow.parquet as pq
from fastapi import APIRouter, Depends, Query, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from scoring.batch import score_file
from scoring.contract import TIERS
from scoring.errors import ReadinessError
from scoring.service.app import Service, run_in_store, service
from scoring.service.auth import Caller, require
from scoring.service.logging import audit
from scoring.service.problems import Problem
from scoring.service.routes.score import json_response
from scoring.service.schemas import BatchList, BatchOut, ScoresPage
from scoring.store import BatchRecorder
from scoring.store import queries as q

__all__ = [
    "batch_rejects",
    "batch_scores",
    "batch_scores_file",
    "get_batch",
    "list_batches",
    "receive_upload",
    "router",
    "score_and_store",
    "upload",
]

router = APIRouter(tags=["batches"])
#: Readable upload extensions, by what the client may call them (lower case).
_SUFFIXES = {s: s for s in (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods", ".parquet")}
_TYPES = {
    "text/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "text/plain": ".txt",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.apache.parquet": ".parquet",
    "application/x-parquet": ".parquet",
}
_BATCH_ID = re.compile(r"^[0-9a-f]{32}$")
_SORT = re.compile(r"^-?(" + "|".join(q.SORTABLE) + r")$")


@router.post("/batches", summary="Upload a list: scored, stored, and its summary returned")
async def upload(
    request: Request,
    filename: str | None = Query(None, description="The file's name, for a raw-body upload."),
    caller: Caller = require("officer"),
    shared: Service = Depends(service),
) -> Response:
    """Send the file as ``multipart/form-data`` (field ``file``) or as the raw body (its type in
    ``Content-Type`` or its name in ``?filename=``). The answer has the batch id, or says why
    the batch was not stored (the store unreachable): the scores are in it all the same.
    — بارگذاری فهرست تعاونی‌ها.
    """
    path, name, digest = await receive_upload(request, shared, filename)
    try:
        result = await asyncio.wait_for(
            asyncio.to_thread(score_and_store, shared, path, name, digest, caller),
            shared.settings.upload_timeout,
        )
    except TimeoutError:
        raise Problem(504, "scoring the upload took longer than the upload timeout") from None
    except ReadinessError as exc:
        # The user's file name, never the service's temporary path, in what the client reads.
        detail = str(exc).replace(str(path), name)
        audit(
            "upload", caller=caller.name, file=name, sha256=digest, outcome="refused", error=detail
        )
        raise Problem(422, detail) from None
    finally:
        for leftover in path.parent.glob(f"{path.stem}*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
    request.state.records = result["summary"]["rows_read"]
    return json_response(result, status_code=201 if result["stored"] else 200)


@router.get("/batches", response_model=BatchList, summary="Stored batches, newest first")
async def list_batches(
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=500),
    caller: Caller = require("viewer"),
    shared: Service = Depends(service),
) -> Response:
    """— فهرست دسته‌های ذخیره‌شده."""

    def work(conn: Any) -> dict[str, Any]:
        rows = q.list_batches(conn, limit=per_page, offset=(page - 1) * per_page)
        return {"model": shared.holder.reference, "total": q.count_batches(conn), "batches": rows}

    return json_response(await asyncio.to_thread(run_in_store, shared, work))


@router.get(
    "/batches/{batch_id}", response_model=BatchOut, summary="One batch: summary, coverage, drift"
)
async def get_batch(
    batch_id: str, caller: Caller = require("viewer"), shared: Service = Depends(service)
) -> Response:
    """— خلاصه یک دسته."""
    batch = await asyncio.to_thread(run_in_store, shared, lambda c: _batch(c, batch_id))
    return json_response({"model_serving": shared.holder.reference, **batch})


@router.get("/batches/{batch_id}/scores", response_model=ScoresPage, summary="A page of scores")
async def batch_scores(
    batch_id: str,
    tier: str | None = Query(None, description="A, B, C or D."),
    province: str | None = Query(None, description="Province key (e.g. tehran)."),
    sector: str | None = Query(None, description="Sector key (e.g. mining)."),
    q_: str | None = Query(None, alias="q", max_length=200, description="Text in coop_id or name."),
    sort: str = Query("position", description="A column, '-' first for descending."),
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=500),
    caller: Caller = require("viewer"),
    shared: Service = Depends(service),
) -> Response:
    """Filter by tier, province, sector, search ``q``; sort; page. — امتیازهای یک دسته."""
    if tier is not None and tier not in TIERS:
        raise Problem(422, f"tier must be one of {', '.join(TIERS)}, got '{tier[:10]}'")
    if not _SORT.match(sort):
        raise Problem(422, f"sort must be one of {', '.join(q.SORTABLE)} (with '-' to reverse)")

    def work(conn: Any) -> dict[str, Any]:
        _batch(conn, batch_id)
        total, rows = q.page_scores(
            conn,
            batch_id,
            tier=tier,
            province=province,
            sector=sector,
            q=q_,
            sort=sort,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
        return {
            "model": shared.holder.reference,
            "batch_id": batch_id,
            "total": total,
            "page": page,
            "per_page": per_page,
            "scores": [_clean(r) for r in rows],
        }

    return json_response(await asyncio.to_thread(run_in_store, shared, work))


@router.get("/batches/{batch_id}/scores.{extension}", summary="All scores as CSV or Excel")
async def batch_scores_file(
    batch_id: str,
    extension: Literal["csv", "xlsx"],
    caller: Caller = require("viewer"),
    shared: Service = Depends(service),
) -> Response:
    """`scores.csv` or `scores.xlsx` — دریافت امتیازها به صورت CSV یا اکسل."""
    return await _export(shared, batch_id, f".{extension}")


@router.get("/batches/{batch_id}/rejects", summary="A batch's rejected rows")
async def batch_rejects(
    batch_id: str,
    page: int = Query(1, ge=1),
    per_page: int = Query(1000, ge=1, le=10000),
    caller: Caller = require("viewer"),
    shared: Service = Depends(service),
) -> Response:
    """``row`` (as the file numbers it), ``coop_id``, ``error``. — سطرهای ردشده."""

    def work(conn: Any) -> dict[str, Any]:
        _batch(conn, batch_id)
        total, rows = q.list_rejects(conn, batch_id, limit=per_page, offset=(page - 1) * per_page)
        return {
            "model": shared.holder.reference,
            "batch_id": batch_id,
            "total": total,
            "page": page,
            "per_page": per_page,
            "rejects": rows,
        }

    return json_response(await asyncio.to_thread(run_in_store, shared, work))


async def receive_upload(
    request: Request, shared: Service, filename: str | None
) -> tuple[Path, str, str]:
    """Stream the upload to a temporary file: its path, the name the client gave, its sha256."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    digest = hashlib.sha256()
    target = shared.upload_dir / uuid.uuid4().hex
    if kind == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(422, "send the file in the form field 'file'")
        name = _client_name(upload.filename or "upload")
        path = target.with_suffix(_suffix(name, upload.content_type))
        with path.open("wb") as handle:
            while block := await upload.read(1 << 20):
                digest.update(block)
                handle.write(block)
        await form.close()
    else:
        name = _client_name(filename or "upload")
        path = target.with_suffix(_suffix(name, kind))
        with path.open("wb") as handle:
            async for block in request.stream():
                digest.update(block)
                handle.write(block)
    if path.stat().st_size == 0:
        path.unlink()
        raise Problem(422, "the upload is empty")
    return path, name, digest.hexdigest()


def _client_name(name: str) -> str:
    """The file's own name as the client gave it (no folders), for the record only."""
    base = PureWindowsPath(PurePosixPath(name).name).name
    return base[:255] or "upload"


def _suffix(name: str, kind: str | None) -> str:
    """One of the readable extensions (the service's constant), from the name or the type."""
    suffix = _SUFFIXES.get(PurePosixPath(name.lower()).suffix)
    if suffix is None:
        suffix = _TYPES.get((kind or "").split(";")[0].strip().lower())
    if suffix is None:
        raise Problem(
            415, f"cannot tell the file type of '{name[:60]}'; use .csv, .xlsx or .parquet"
        )
    return suffix


def score_and_store(
    shared: Service, path: Path, name: str, digest: str, caller: Caller
) -> dict[str, Any]:
    """Score the file with the served model, storing each chunk in one open transaction."""
    serving = shared.holder.current
    out, rejects = (
        path.with_name(path.stem + "-scores.parquet"),
        path.with_name(path.stem + "-rejects.parquet"),
    )
    recorder = BatchRecorder(
        shared.store,
        source="upload",
        file_name=name,
        sha256=digest,
        model=serving.reference,
        uploaded_by=caller.name,
    )
    with recorder:
        summary = score_file(
            path,
            serving.model,
            out,
            rejects=rejects,
            extra=recorder.extra(serving.scorer.next_step),
        )
        recorder.add_rejects(pq.read_table(rejects).to_pandas())
        outcome = recorder.finish({**summary.to_dict(), "source": name})
    if recorder.error:
        outcome = recorder.result()
        shared.store_up, shared.store_error = False, recorder.error
    facts = {**summary.to_dict(), "source": name}
    audit(
        "upload",
        caller=caller.name,
        file=name,
        sha256=digest,
        batch_id=outcome.batch_id,
        outcome="stored" if outcome.stored else "not stored",
        rows_read=summary.rows_read,
        model=serving.reference,
    )
    answer: dict[str, Any] = {
        "model": serving.reference,
        "stored": outcome.stored,
        "batch_id": outcome.batch_id,
        "file_name": name,
        "sha256": digest,
        "summary": facts,
    }
    if not outcome.stored:
        answer["store_error"] = outcome.error
    return answer


def _batch(conn: Any, batch_id: str) -> dict[str, Any]:
    found = q.get_batch(conn, batch_id) if _BATCH_ID.match(batch_id) else None
    if found is None:
        raise Problem(404, f"no batch '{batch_id[:40]}' in the store")
    return found


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """A stored score row as the API shows it (without the batch id it is listed under)."""
    row.pop("batch_id", None)
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}


async def _export(shared: Service, batch_id: str, suffix: str) -> Response:
    path = shared.upload_dir / f"{uuid.uuid4().hex}{suffix}"

    def work(conn: Any) -> None:
        import pandas as pd

        from scoring.writing import write_table

        _batch(conn, batch_id)
        parts = [pd.DataFrame(rows) for rows in q.iter_scores(conn, batch_id)]
        columns = list(q.EXPORT_FIELDS)
        frame = (
            pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
        )
        write_table(frame, path, sheet="scores")

    await asyncio.to_thread(run_in_store, shared, work)
    media = "text/csv; charset=utf-8" if suffix == ".csv" else _XLSX
    return FileResponse(
        path,
        media_type=media,
        filename=f"batch-{batch_id}{suffix}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
