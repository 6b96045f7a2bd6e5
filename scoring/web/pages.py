"""The workbench's list pages: sign-in, the batches and the upload form, one batch (counts,
tiers, the table with filter, sort, search and paging, rejects), and its rejects as CSV.

An upload goes through exactly what ``POST /api/v1/batches`` runs (its receiving and its
scoring-and-storing functions); the page adds the CSRF check and keeps the rows' figures for
the profile's what-if panel.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from scoring.contract import TIERS
from scoring.errors import ReadinessError
from scoring.localize import RejectTranslator, output_headers
from scoring.service.app import run_in_store
from scoring.service.problems import Problem
from scoring.service.routes import batches as api_batches
from scoring.store import queries as q
from scoring.web.charts import tier_bars
from scoring.web.common import (
    SESSION_COOKIE,
    PageDenied,
    authorize,
    check_csrf,
    lang_of,
    place_names,
    plain_number,
    render,
)
from scoring.web.notes import coverage_notes, drift_sentences, shifted_features
from scoring.web.uploads import store_upload
from scoring.web.words import word

__all__ = [
    "batch_page",
    "home",
    "page_int",
    "rejects_csv",
    "router",
    "scores_file",
    "sign_in",
    "sign_in_form",
    "sign_out",
    "upload",
]

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
_SORTS = ("position", "-readiness_score", "readiness_score", "coop_id", "province", "sector")


@router.get("/signin")
async def sign_in_form(request: Request) -> Response:
    """The sign-in form (with tokens), or straight on when the service is open."""
    if request.app.state.service.open:
        return RedirectResponse("/", status_code=303)
    return render(request, "signin.html", next=_safe_next(request.query_params.get("next")))


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    """Check the token; on success set the session cookie and go where the caller was going."""
    form = await request.form(max_files=0, max_fields=5)
    check_csrf(request, _text(form.get("csrf")))
    token = _text(form.get("token")).strip()
    target = _safe_next(_text(form.get("next")))
    try:
        request.app.state.service.tokens.authenticate(token or None)
    except Problem:
        return render(request, "signin.html", status=401, next=target, error=True)
    response = RedirectResponse(target, status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/"
    )
    return response


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    check_csrf(request, _text(form.get("csrf")))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def home(request: Request, page: int = 1) -> Response:
    """The stored batches, newest first, and the upload form."""
    caller = authorize(request, "viewer")
    shared = request.app.state.service
    page = max(page, 1)

    def work(conn: Any) -> tuple[int, list[dict[str, Any]]]:
        rows = q.list_batches(conn, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
        return q.count_batches(conn), rows

    total, rows = await asyncio.to_thread(run_in_store, shared, work)
    return render(
        request,
        "home.html",
        batches=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        can_upload=caller.role != "viewer",
    )


@router.post("/upload")
async def upload(request: Request) -> Response:
    """Score and store an uploaded list, then open its page (or show why it was refused)."""
    caller = authorize(request, "officer")
    shared = request.app.state.service
    form = await request.form(max_files=1, max_fields=5)
    check_csrf(request, _text(form.get("csrf")))
    try:
        path, name, digest = await api_batches.receive_upload(request, shared, None)
    except Problem as problem:
        return await _upload_refused(request, problem.detail, problem.status)
    try:
        result = await asyncio.to_thread(store_upload, shared, path, name, digest, caller)
    except ReadinessError as exc:
        return await _upload_refused(request, str(exc).replace(str(path), name), 422)
    finally:
        for leftover in path.parent.glob(f"{path.stem}*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
    if not result["stored"]:
        return await _upload_refused(request, result.get("store_error", ""), 503)
    return RedirectResponse(f"/batches/{result['batch_id']}", status_code=303)


@router.get("/batches/{batch_id}")
async def batch_page(request: Request, batch_id: str) -> Response:
    """One batch: counts, tiers, coverage and drift in words, the table, the rejects."""
    authorize(request, "viewer")
    shared = request.app.state.service
    lang = lang_of(request)
    contract = shared.holder.current.model.contract
    filters = _filters(request, contract)
    page = max(page_int(request.query_params.get("page"), 1), 1)

    def work(conn: Any) -> dict[str, Any]:
        batch = q.get_batch(conn, batch_id) if api_batches._BATCH_ID.match(batch_id) else None
        if batch is None:
            raise PageDenied(404)
        total, rows = q.page_scores(
            conn, batch_id, **filters, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
        n_rejects, rejects = q.list_rejects(conn, batch_id, limit=200)
        return {
            "batch": batch,
            "total": total,
            "rows": rows,
            "n_rejects": n_rejects,
            "rejects": rejects,
        }

    found = await asyncio.to_thread(run_in_store, shared, work)
    summary = found["batch"]["summary"] or {}
    translate = RejectTranslator(contract, lang, summary.get("columns_found"))
    rejects = [{**r, "error": translate.message(r["error"])} for r in found["rejects"]]
    tiers = {t: int((summary.get("tiers") or {}).get(t, 0)) for t in TIERS}
    labels = {t: contract.tier_label(t, lang) for t in TIERS}
    params = {k: v for k, v in filters.items() if v and k != "sort"}
    return render(
        request,
        "batch.html",
        batch=found["batch"],
        summary=summary,
        chart=tier_bars(tiers, labels, lambda v: plain_number(v, lang), rtl=lang == "fa"),
        tiers=tiers,
        tier_labels=labels,
        rows=found["rows"],
        total=found["total"],
        page=page,
        pages=max(1, -(-found["total"] // PER_PAGE)),
        filters=filters,
        query=lambda **more: "?" + urlencode({**params, "sort": filters["sort"], **more}),
        sorts=_SORTS,
        provinces=_choices(contract, "province", lang),
        sectors=_choices(contract, "sector", lang),
        place=place_names(contract, lang),
        rejects=rejects,
        n_rejects=found["n_rejects"],
        coverage=coverage_notes(summary, contract, lang),
        drift=drift_sentences(summary, contract, lang),
        shifted=shifted_features(summary),
    )


@router.get("/batches/{batch_id}/scores.{kind}")
async def scores_file(request: Request, batch_id: str, kind: str) -> Response:
    """All scores as xlsx or csv: the API's export, behind the session instead of a bearer."""
    authorize(request, "viewer")
    if kind not in ("xlsx", "csv"):
        raise PageDenied(404)
    try:
        return await api_batches._export(request.app.state.service, batch_id, f".{kind}")
    except Problem as problem:
        raise PageDenied(problem.status if problem.status == 404 else 503) from None


@router.get("/batches/{batch_id}/rejects.csv")
async def rejects_csv(request: Request, batch_id: str) -> Response:
    """A batch's rejects in the page's language (UTF-8 with BOM, for Excel)."""
    authorize(request, "viewer")
    shared = request.app.state.service
    lang = lang_of(request)
    contract = shared.holder.current.model.contract

    def work(conn: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        batch = q.get_batch(conn, batch_id) if api_batches._BATCH_ID.match(batch_id) else None
        if batch is None:
            raise PageDenied(404)
        return batch, q.list_rejects(conn, batch_id, limit=1_000_000)[1]

    batch, rows = await asyncio.to_thread(run_in_store, shared, work)
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["row", "coop_id", "error"])
    translate = RejectTranslator(contract, lang, (batch["summary"] or {}).get("columns_found"))
    buffer = io.StringIO()
    headers = output_headers(contract, lang, frame.columns)
    translate.table(frame).rename(columns=headers).to_csv(buffer, index=False)
    return Response(
        ("\ufeff" if lang == "fa" else "") + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="rejects-{batch_id}.csv"'},
    )


async def _upload_refused(request: Request, detail: str, status: int) -> Response:
    lang = lang_of(request)
    message = RejectTranslator(request.app.state.service.holder.current.model.contract, lang)
    text = message.message(detail) if detail else word("error", lang)
    return render(
        request,
        "home.html",
        status=status,
        batches=[],
        total=0,
        page=1,
        pages=1,
        can_upload=True,
        upload_error=text,
    )


def _filters(request: Request, contract: Any) -> dict[str, Any]:
    """The table's filters from the query, each checked (an unknown value is ignored)."""
    params = request.query_params
    tier = params.get("tier") if params.get("tier") in TIERS else None
    province = params.get("province")
    sector = params.get("sector")
    sort = params.get("sort", "position")
    return {
        "tier": tier,
        "province": province if province in contract.vocabularies["province"].categories else None,
        "sector": sector if sector in contract.vocabularies["sector"].categories else None,
        "q": (params.get("q") or "").strip()[:200] or None,
        "sort": sort if api_batches._SORT.match(sort) else "position",
    }


def _choices(contract: Any, kind: str, lang: str) -> list[tuple[str, str]]:
    name = place_names(contract, lang)
    pairs = [(key, name(kind, key)) for key in contract.vocabularies[kind].categories]
    return sorted(pairs, key=lambda pair: pair[1])


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never another host) to go to after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def page_int(value: str | None, default: int) -> int:
    """A whole number from the query (``?page=``), or ``default`` when absent or not one."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
