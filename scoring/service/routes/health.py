"""Liveness, readiness and metrics: ``/healthz``, ``/readyz``, ``/metrics`` (no token needed)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from starlette.responses import PlainTextResponse, Response

from scoring.service.app import Service, service
from scoring.service.routes.score import json_response

__all__ = ["healthz", "metrics", "readyz", "router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz(shared: Service = Depends(service)) -> Response:
    """— سرویس زنده است."""
    return json_response({"status": "ok", "model": shared.holder.reference})


@router.get("/readyz", summary="The model is verified and the store reachable")
async def readyz(shared: Service = Depends(service)) -> Response:
    """503 while the store cannot be reached (scoring still answers). — آمادگی سرویس."""
    store_up = await asyncio.to_thread(shared.check_store)
    checks = {
        "model": {
            "ok": True,
            "reference": shared.holder.reference,
            "last_reload_error": shared.holder.last_error or None,
        },
        "store": {
            "ok": store_up,
            "url": shared.store.display_url(),
            "error": shared.store_error or None,
        },
    }
    ready = store_up
    body = {
        "status": "ready" if ready else "not ready",
        "model": shared.holder.reference,
        "checks": checks,
    }
    return json_response(body, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(shared: Service = Depends(service)) -> Response:
    """Requests, latency histogram, records scored, errors, model swaps."""
    text = shared.metrics.render(model=shared.holder.reference, store_up=shared.store_up)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
