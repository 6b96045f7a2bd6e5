"""The officers' and managers' workbench: server-rendered Persian-first pages on the service
(``/``), with their packaged assets under ``/static``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from starlette.staticfiles import StaticFiles

__all__ = ["STATIC", "mount"]

#: The packaged assets: the stylesheet, the script and the Vazirmatn font (OFL).
STATIC = Path(__file__).resolve().parent / "static"


def mount(app: FastAPI) -> None:
    """Add the workbench's pages and ``/static`` to the service's application."""
    from scoring.web import models, pages, plan, profile
    from scoring.web.common import PageDenied, denied_response

    for module in (pages, profile, plan, models):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(PageDenied)
    async def denied(request: Request, exc: PageDenied):
        return denied_response(request, exc)
