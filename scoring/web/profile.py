"""A cooperative's page: its latest score and tier, sub-scores against its sector's peers in
the same batch, the reasons and next step in words, its history across batches, and the
what-if panel.

What-if runs the served scorer's ``what_if`` exactly as ``POST /api/v1/what-if`` does, on the
row's figures kept at upload; the page's script calls it as JSON (the session cookie and a
CSRF header), and without a script the form posts and the page is rendered with the result.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from typing import Any

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.responses import Response

from scoring.errors import ReadinessError
from scoring.model import tiers_of
from scoring.normalize import parse_id, parse_yesno
from scoring.service.app import run_in_store
from scoring.service.auth import role_allows
from scoring.service.routes.score import json_response
from scoring.store import queries as q
from scoring.store.tables import scores
from scoring.text import fold_text, to_ascii_digits
from scoring.web import inputs
from scoring.web.charts import history_line
from scoring.web.common import (
    PageDenied,
    authorize,
    check_csrf,
    lang_of,
    place_names,
    plain_number,
    plain_when,
    render,
)
from scoring.web.words import word

__all__ = ["DIMENSIONS", "profile", "router", "what_if"]

router = APIRouter(include_in_schema=False)
#: The four sub-scores, in the order the page shows them.
DIMENSIONS = ("capacity_score", "quality_score", "output_score", "market_score")
#: The what-if controls: (column, kind); rates are shown in percent.
CONTROLS = (
    ("actual_output", "number"),
    ("export_markets", "number"),
    ("defect_rate", "percent"),
    ("iso9001", "yesno"),
    ("commercial_card", "yesno"),
)


@router.get("/cooperatives/{coop_id}")
async def profile(request: Request, coop_id: str) -> Response:
    """The cooperative's page."""
    caller = authorize(request, "viewer")
    return await _render(request, coop_id, role_allows(caller.role, "manager"))


@router.post("/cooperatives/{coop_id}/what-if")
async def what_if(request: Request, coop_id: str) -> Response:
    """Rescore the kept row with changes: JSON for the script, else the page with the result."""
    authorize(request, "manager")
    scripted = request.headers.get("content-type", "").startswith("application/json")
    if scripted:
        check_csrf(request, request.headers.get("x-csrf-token"))
        body = json.loads(await request.body() or b"{}")
        changes = body.get("changes") if isinstance(body, dict) else None
    else:
        form = await request.form(max_files=0, max_fields=20)
        check_csrf(request, str(form.get("csrf") or ""))
        changes = _changes_from_form(form)
    shared = request.app.state.service
    history = await _history(shared, coop_id)
    record = inputs.find(shared, history[0]["batch_id"], history[0]["row"])
    if record is None or not isinstance(changes, dict) or not changes:
        if scripted:
            return json_response({"detail": "no kept figures or no changes"}, status_code=422)
        return await _render(request, coop_id, True)
    serving = shared.holder.current
    lang = lang_of(request)
    try:
        [prepared] = serving.scorer.prepare([record])
        answer = await asyncio.to_thread(
            functools.partial(serving.scorer.what_if, programs=False), prepared, changes, lang
        )
    except ReadinessError as exc:
        if scripted:
            return json_response({"detail": str(exc)}, status_code=422)
        return await _render(request, coop_id, True, error=str(exc))
    answer = {"model": serving.reference, **answer}
    if scripted:
        return json_response(answer)
    return await _render(request, coop_id, True, result=answer, changes=changes)


async def _history(shared: Any, coop_id: str) -> list[dict[str, Any]]:
    if len(coop_id) > 200:
        raise PageDenied(404)
    [normalized] = parse_id(pa.array([coop_id], pa.string())).values.tolist()
    if not normalized or normalized != normalized:
        raise PageDenied(404)
    rows = await asyncio.to_thread(
        run_in_store, shared, lambda conn: q.cooperative_history(conn, str(normalized))
    )
    if not rows:
        raise PageDenied(404)
    return rows


async def _render(request: Request, coop_id: str, may_what_if: bool, **extra: Any) -> Response:
    shared = request.app.state.service
    lang = lang_of(request)
    history = await _history(shared, coop_id)
    latest = history[0]
    peers = await asyncio.to_thread(
        run_in_store, shared, lambda conn: _peers(conn, latest["batch_id"], latest["sector"])
    )
    serving = shared.holder.current
    contract = serving.model.contract
    texts = {r.code: r.text(lang) for sides in contract.reasons.values() for r in sides.values()}
    step = next((p for p in serving.programs if p.id == latest.get("next_step")), None)
    record = inputs.find(shared, latest["batch_id"], latest["row"])
    reached = latest.get("next_step_score")
    step_tier = (
        tiers_of(np.array([reached / 100.0]), serving.model.tiers)[0]
        if step is not None and reached is not None and reached == reached
        else None
    )
    points = [
        (plain_when(h["created"], lang, with_time=False), h["readiness_score"])
        for h in reversed(history)
    ]
    return render(
        request,
        "profile.html",
        coop=latest,
        history=history,
        chart=history_line(
            points,
            lambda v: plain_number(v, lang, 1),
            single=word("one_batch", lang),
            rtl=lang == "fa",
        ),
        peers=peers,
        dimensions=DIMENSIONS,
        reasons=[texts.get(latest[f"reason_{i}"], latest[f"reason_{i}"]) for i in (1, 2, 3)],
        tier_name=contract.tier_label(latest["readiness_tier"], lang),
        tier_label=lambda tier: contract.tier_label(tier, lang),
        step=step,
        step_tier=step_tier,
        step_name=(step.name_fa or step.name) if step and lang == "fa" else (step and step.name),
        place=place_names(contract, lang),
        may_what_if=may_what_if,
        record=record,
        controls=[
            (c, kind, _shown(_current(record, contract, c), kind, lang, contract))
            for c, kind in CONTROLS
            if c in contract.names
        ],
        **extra,
    )


def _peers(conn: Any, batch_id: str, sector: str | None) -> dict[str, float | None]:
    """The mean of each sub-score over the batch's cooperatives of the same sector."""
    query = select(*(func.avg(getattr(scores.c, d)) for d in DIMENSIONS)).where(
        scores.c.batch_id == batch_id, scores.c.sector == sector
    )
    values = conn.execute(query).one()
    return {
        d: (float(v) if v is not None else None) for d, v in zip(DIMENSIONS, values, strict=True)
    }


def _current(record: dict[str, Any] | None, contract: Any, column: str) -> str:
    """The row's cell for ``column`` as the file wrote it (matched as a header is)."""
    if not record:
        return ""
    lookup = contract.header_lookup()
    for header, value in record.items():
        base = re.sub(r"\(.*\)|\s[-–].*$", "", header).strip().rstrip("؟?").strip()
        if column in (header, lookup.get(fold_text(header)), lookup.get(fold_text(base))):
            return str(value)
    return ""


def _shown(current: str, kind: str, lang: str, contract: Any) -> str:
    """The row's cell as its control asks for it, in the page's language: a number in the
    page's digits, a rate (a fraction) in percent, yes/no in words; as written when unread."""
    if not current:
        return current
    if kind == "yesno":
        [value] = parse_yesno(pa.array([current]), contract).values.tolist()
        return current if value != value else word("yes" if value else "no", lang)
    try:
        value = float(to_ascii_digits(current).replace(",", "").replace("٬", "").replace("٫", "."))
    except ValueError:
        return current
    if kind == "percent":
        value *= 100
    return plain_number(round(value, 2), lang, 0 if value == int(value) else 1)


def _changes_from_form(form: Any) -> dict[str, Any]:
    """The form's changed values in the programme-effect syntax (set a value)."""
    changes: dict[str, Any] = {}
    for column, kind in CONTROLS:
        raw = form.get(column)
        if kind == "yesno":
            if raw in ("yes", "no"):
                changes[column] = raw == "yes"
        elif isinstance(raw, str) and raw.strip():
            try:
                value = float(to_ascii_digits(raw.strip()).replace(",", ""))
            except ValueError:
                continue
            changes[column] = value / 100 if kind == "percent" else value
    return changes
