"""The registry as the service sees it: ``GET /models`` and ``POST /models/promote``."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from scoring.registry import list_models, promote_model
from scoring.service.app import Service, service
from scoring.service.auth import Caller, require
from scoring.service.logging import audit
from scoring.service.problems import Problem
from scoring.service.routes.score import json_response, read_json
from scoring.service.schemas import ModelsOut

__all__ = ["models", "promote", "router"]

router = APIRouter(tags=["models"])


@router.get("/models", response_model=ModelsOut, summary="The registry and what is served")
async def models(
    caller: Caller = require("viewer"), shared: Service = Depends(service)
) -> Response:
    """Every version (champion marked) and the served one. — مدل‌های ثبت‌شده."""
    rows = await asyncio.to_thread(list_models, shared.settings.registry)
    return json_response(
        {"model": shared.holder.reference, "serving": _serving(shared), "models": rows}
    )


@router.post("/models/promote", summary="Make a version the champion, and serve it")
async def promote(
    request: Request, caller: Caller = require("analyst"), shared: Service = Depends(service)
) -> Response:
    """``{"reference": "NAME@VERSION"}``: verified, promoted, then served (if this service
    follows NAME). — انتخاب نسخه قهرمان."""
    body = await read_json(request)
    wanted = body.get("reference") if isinstance(body, dict) else None
    if not isinstance(wanted, str):
        raise Problem(422, 'send {"reference": "NAME@VERSION"}')
    rows = await asyncio.to_thread(list_models, shared.settings.registry)
    # Only a version the registry lists is promoted: the request's text never names a path.
    match = next((r for r in rows if f"{r['name']}@{r['version']}" == wanted), None)
    if match is None:
        audit(
            "promote",
            caller=caller.name,
            model=wanted[:200],
            outcome="refused",
            error="not in the registry",
        )
        raise Problem(404, f"no model version '{wanted[:120]}' in the registry")
    reference = f"{match['name']}@{match['version']}"
    try:
        await asyncio.to_thread(promote_model, shared.settings.registry, reference)
    except Exception as exc:
        audit("promote", caller=caller.name, model=reference, outcome="refused", error=str(exc))
        raise
    outcome = await asyncio.to_thread(shared.holder.check)
    audit(
        "promote",
        caller=caller.name,
        model=reference,
        outcome="promoted",
        serving=shared.holder.reference,
    )
    return json_response(
        {
            "model": shared.holder.reference,
            "champion": reference,
            "reload": outcome,
            "serving": _serving(shared),
        }
    )


def _serving(shared: Service) -> dict[str, Any]:
    current = shared.holder.current
    return {
        "reference": current.reference,
        "follows": shared.settings.model,
        "loaded_at": current.loaded_at,
        "programs": [p.id for p in current.programs],
        "last_reload_error": shared.holder.last_error or None,
    }
