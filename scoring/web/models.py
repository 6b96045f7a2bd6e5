"""The Models page: every registered version (the champion marked), the served one's model
card, and promoting a version (analysts only), through the registry's own functions."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from markdown_it import MarkdownIt
from starlette.responses import RedirectResponse, Response

from scoring.registry import list_models, promote_model
from scoring.service.auth import role_allows
from scoring.service.logging import audit
from scoring.web.common import PageDenied, authorize, check_csrf, render

__all__ = ["card_html", "models_page", "promote", "router"]

router = APIRouter(include_in_schema=False)
_CARD = "model_card.md"
#: CommonMark with tables, raw HTML escaped: a card quotes contract texts an analyst wrote.
_MARKDOWN = MarkdownIt("js-default")


def card_html(markdown: str) -> str:
    """The Markdown model card as HTML (any HTML in it shown as text, never run)."""
    return _MARKDOWN.render(markdown)


@router.get("/models")
async def models_page(request: Request) -> Response:
    """The registry, and the card of the model being served."""
    caller = authorize(request, "viewer")
    shared = request.app.state.service
    rows = await asyncio.to_thread(list_models, shared.settings.registry)
    name, _, version = shared.holder.reference.partition("@")
    card_path = shared.settings.registry / name / version / _CARD
    card = await asyncio.to_thread(card_path.read_text, "utf-8") if card_path.is_file() else ""
    return render(
        request,
        "models.html",
        models=rows,
        card=card_html(card) if card else "",
        may_promote=role_allows(caller.role, "analyst"),
    )


@router.post("/models/promote")
async def promote(request: Request) -> Response:
    """Promote a listed version (never a path from the form), then serve it."""
    caller = authorize(request, "analyst")
    form = await request.form(max_files=0, max_fields=5)
    check_csrf(request, str(form.get("csrf") or ""))
    shared = request.app.state.service
    wanted = str(form.get("reference") or "")
    rows = await asyncio.to_thread(list_models, shared.settings.registry)
    match = next((r for r in rows if f"{r['name']}@{r['version']}" == wanted), None)
    if match is None:
        raise PageDenied(404)
    reference = f"{match['name']}@{match['version']}"
    await asyncio.to_thread(promote_model, shared.settings.registry, reference)
    await asyncio.to_thread(shared.holder.check)
    audit("promote", caller=caller.name, model=reference, outcome="promoted", via="workbench")
    return RedirectResponse("/models", status_code=303)
