"""``readiness serve``: the real-time scoring service (FastAPI on uvicorn) over the score store.

:func:`create_app` builds the ASGI application from :class:`Settings`; the ``serve`` and
``tokens`` commands live in :mod:`scoring.cli.serve`. Both names are imported on first
use, so the command line (which registers the commands) never loads FastAPI to start.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from scoring.service.app import create_app

        return create_app
    if name == "Settings":
        from scoring.service.settings import Settings

        return Settings
    raise AttributeError(f"module 'scoring.service' has no attribute {name!r}")
