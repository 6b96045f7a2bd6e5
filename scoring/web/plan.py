"""The Plan page (managers): a batch's cooperatives, a programmes file (the service's or an
upload) and a budget in, the library's plan out: by programme and by province, against the rules
of thumb, the funded list (paged), and the plan as csv or xlsx.

The plan is :func:`scoring.planning.plan_file`'s, run on the batch's kept rows (the figures
the upload kept for what-if, see :mod:`scoring.web.inputs`); its splits are
:func:`scoring.report.plan.plan_report_data`'s, its headline :func:`scoring.planning.plan_headline`.
Nothing is recomputed here. A plan is kept in the service's upload folder while it runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, RedirectResponse, Response

from scoring.errors import ReadinessError
from scoring.planning import (
    DETAIL_COLUMNS,
    PLAN_COLUMNS,
    POLICIES,
    load_programs,
    plan_file,
    plan_headers,
    plan_headline,
    policy_name,
)
from scoring.report.plan import plan_report_data
from scoring.service.app import run_in_store
from scoring.store import queries as q
from scoring.text import parse_option_number
from scoring.web import inputs
from scoring.web.common import PageDenied, authorize, check_csrf, lang_of, place_names, render
from scoring.web.pages import page_int
from scoring.web.words import word
from scoring.writing import TableWriter

__all__ = ["example_programs", "plan_download", "plan_form", "plan_page", "router", "run_plan"]

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
_PLAN_ID = re.compile(r"^[0-9a-f]{32}$")
_BATCH_ID = re.compile(r"^[0-9a-f]{32}$")
#: The packaged example programmes (``examples/programs.toml`` in a checkout links to it), for a
#: service started without ``--programs``.
_EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "programs.toml"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def example_programs(shared: Any) -> Path | None:
    """The programmes offered without an upload: ``--programs``, else the packaged example."""
    chosen = shared.settings.programs
    if chosen is not None and Path(chosen).is_file():
        return Path(chosen)
    return _EXAMPLE if _EXAMPLE.is_file() else None


@router.get("/plan")
async def plan_form(request: Request) -> Response:
    """The form: a batch whose figures were kept, the programmes, the budget."""
    authorize(request, "manager")
    return await _form(request, chosen=request.query_params.get("batch"))


@router.post("/plan")
async def run_plan(request: Request) -> Response:
    """Make the plan and open it; the form again, saying why, when it cannot be made."""
    authorize(request, "manager")
    shared = request.app.state.service
    lang = lang_of(request)
    form = await request.form(max_files=1, max_fields=8)
    check_csrf(request, str(form.get("csrf") or ""))
    batch_id = str(form.get("batch") or "")
    budget_text = str(form.get("budget") or "")
    again = {"chosen": batch_id, "budget": budget_text}
    if not _BATCH_ID.match(batch_id) or not inputs.kept(shared, batch_id):
        return await _form(request, status=422, error=word("plan_no_batch", lang), **again)
    try:
        budget = parse_option_number(budget_text)
    except ValueError:
        budget = float("nan")
    if not 0 < budget < float("inf"):
        return await _form(request, status=422, error=word("bad_budget", lang), **again)
    programs_path, cleanup = await _programs_path(shared, form)
    if programs_path is None:
        return await _form(request, status=422, error=word("programs_none", lang), **again)
    caller = request.state.caller
    try:
        plan_id = await asyncio.to_thread(
            _make_plan, shared, batch_id, programs_path, budget, caller.name
        )
    except ReadinessError as exc:
        message = str(exc).replace(str(programs_path), "programs.toml")
        return await _form(request, status=422, error=message, **again)
    finally:
        if cleanup:
            programs_path.unlink(missing_ok=True)
    return RedirectResponse(f"/plan/{plan_id}", status_code=303)


@router.get("/plan/{plan_id}")
async def plan_page(request: Request, plan_id: str) -> Response:
    """A plan: the headline, the splits, the rules of thumb, the funded list (paged)."""
    authorize(request, "manager")
    shared = request.app.state.service
    lang = lang_of(request)
    contract = shared.holder.current.model.contract
    summary, frame = await asyncio.to_thread(_load, shared, plan_id)
    data = plan_report_data(frame, summary=summary, contract=contract, top=0)
    names = {p["id"]: _program_name(p, lang) for p in summary["programs"]}
    place = place_names(contract, lang)
    page = max(page_int(request.query_params.get("page"), 1), 1)
    rows = frame.iloc[(page - 1) * PER_PAGE : page * PER_PAGE].astype(object)
    names_of = {p: policy_name(p, lang) for p in POLICIES}
    names_of["plan"] = word("this_plan", lang)
    # A table row starts a sentence: "The weakest cooperatives first".
    policies = [
        {**p, "name": names_of[p["policy"]][:1].upper() + names_of[p["policy"]][1:]}
        for p in data["policies"]
    ]
    return render(
        request,
        "plan_result.html",
        plan_id=plan_id,
        summary=summary,
        headline=plan_headline(summary, summary["policies"], lang) if len(frame) else "",
        by_program=[{**r, "label": names.get(r["group"], r["group"])} for r in data["programs"]],
        by_province=[{**r, "label": place("province", r["group"])} for r in data["provinces"]],
        policies=policies,
        rows=rows.where(rows.notna(), None).to_dict("records"),
        program_names=names,
        place=place,
        page=page,
        pages=max(1, -(-len(frame) // PER_PAGE)),
    )


@router.get("/plan/{plan_id}/plan.{kind}")
async def plan_download(request: Request, plan_id: str, kind: str) -> Response:
    """The plan as csv or xlsx in the page's language, by the library's table writer (which
    writes text as text: no formula is ever made from a cooperative's name)."""
    authorize(request, "manager")
    if kind not in ("csv", "xlsx"):
        raise PageDenied(404)
    shared = request.app.state.service
    lang = lang_of(request)
    contract = shared.holder.current.model.contract
    summary, frame = await asyncio.to_thread(_load, shared, plan_id)
    path = shared.upload_dir / f"download-{uuid.uuid4().hex}.{kind}"
    await asyncio.to_thread(_write, frame, summary, contract, lang, path)
    return FileResponse(
        path,
        media_type="text/csv; charset=utf-8" if kind == "csv" else _XLSX,
        filename=f"plan-{plan_id}.{kind}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


async def _form(request: Request, status: int = 200, **context: Any) -> Response:
    shared = request.app.state.service

    def work(conn: Any) -> list[dict[str, Any]]:
        return q.list_batches(conn, limit=200)

    listed = await asyncio.to_thread(run_in_store, shared, work)
    batches = [b for b in listed if inputs.kept(shared, b["id"])]
    example = example_programs(shared)
    return render(
        request,
        "plan.html",
        status=status,
        batches=batches,
        example=example.name if example else "",
        **{"chosen": None, "budget": "", "error": "", **context},
    )


async def _programs_path(shared: Any, form: Any) -> tuple[Path | None, bool]:
    """The programmes file to plan with, and whether it is a temporary copy of an upload."""
    sent = form.get("programs_file")
    if form.get("programs") == "upload" and sent is not None and not isinstance(sent, str):
        path = shared.upload_dir / f"programs-{uuid.uuid4().hex}.toml"
        path.write_bytes(await sent.read())
        await form.close()
        return path, True
    return example_programs(shared), False


def _make_plan(shared: Any, batch_id: str, programs_path: Path, budget: float, by: str) -> str:
    """Plan the batch's kept rows; the new plan's id."""
    serving = shared.holder.current
    contract = serving.model.contract
    plan_id = uuid.uuid4().hex
    rows = inputs.load(shared, batch_id) or {}
    source = shared.upload_dir / f"plan-{plan_id}-input.csv"
    # The kept cells are the file's own text, under its own headers: read again as they were.
    pd.DataFrame(list(rows.values()), dtype=object).to_csv(source, index=False)
    try:
        programs = load_programs(programs_path, contract)
        summary = plan_file(
            source, serving.model, programs, budget, _plan_file(shared, plan_id), details=True
        )
    finally:
        source.unlink(missing_ok=True)
    batch = run_in_store(shared, lambda conn: q.get_batch(conn, batch_id)) or {}
    facts = {
        **summary.to_dict(),
        "batch_id": batch_id,
        "file_name": batch.get("file_name", ""),
        "programs_file": programs_path.name,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "made_by": by,
    }
    _summary_file(shared, plan_id).write_text(json.dumps(facts, ensure_ascii=False), "utf-8")
    return plan_id


def _plan_file(shared: Any, plan_id: str) -> Path:
    return shared.upload_dir / f"plan-{plan_id}.parquet"


def _summary_file(shared: Any, plan_id: str) -> Path:
    return shared.upload_dir / f"plan-{plan_id}.json"


def _load(shared: Any, plan_id: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """A kept plan's summary and funded rows (by uplift), or 404."""
    if not _PLAN_ID.match(plan_id) or not _summary_file(shared, plan_id).is_file():
        raise PageDenied(404)
    summary = json.loads(_summary_file(shared, plan_id).read_text("utf-8"))
    try:
        frame = pd.read_parquet(_plan_file(shared, plan_id))
    except (OSError, ValueError):  # nobody funded: the plan may be a bare header
        frame = pd.DataFrame(columns=[*PLAN_COLUMNS, *DETAIL_COLUMNS])
    return summary, frame


def _write(
    frame: pd.DataFrame, summary: dict[str, Any], contract: Any, lang: str, path: Path
) -> None:
    """The plan in ``lang`` (Persian names and headers in Persian) to a csv or xlsx file."""
    plan = frame.copy()
    if lang == "fa":
        for column in ("province", "sector"):
            if column in plan:
                vocabulary = contract.vocabularies[column]
                plan[column] = plan[column].map(lambda key, v=vocabulary: v.label(str(key), "fa"))
        names = {p["id"]: _program_name(p, "fa") for p in summary["programs"]}
        if "program_name" in plan:
            plan["program_name"] = plan["program"].map(names).fillna(plan["program_name"])
    headers = plan_headers(list(plan.columns), contract, lang)
    with TableWriter(path, sheet="plan", columns=headers, byte_order_mark=lang == "fa") as out:
        if len(plan):
            out.write(plan.set_axis(headers, axis=1))


def _program_name(program: dict[str, Any], lang: str) -> str:
    return (program.get("name_fa") or program["name"]) if lang == "fa" else program["name"]
