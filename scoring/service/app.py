"""The ASGI application: :func:`create_app` wires the model holder, the store, the tokens, the
coalescing scorer and the routers, and guards every request (size limits, timing, logging).

Everything a request needs is on ``app.state.service`` (a :class:`Service`); the routers reach
it through :func:`service`, a FastAPI dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi

from scoring.errors import ReadinessError
from scoring.service.auth import TokenCache
from scoring.service.batching import MicroBatcher
from scoring.service.hotswap import ModelHolder
from scoring.service.logging import configure, log_event, log_request
from scoring.service.metrics import Metrics
from scoring.service.problems import Problem, install_handlers, problem_response
from scoring.service.schemas import record_schemas
from scoring.service.settings import Settings
from scoring.store import Store, StoreError

__all__ = [
    "API",
    "MODEL_HEADER",
    "Service",
    "ServiceError",
    "create_app",
    "run_in_store",
    "service",
]

#: The prefix of every API route.
API = "/api/v1"
#: The response header naming the model version.
MODEL_HEADER = "x-readiness-model"
_UPLOAD_PATH = f"{API}/batches"
#: Paths whose POST body is an uploaded file (the API's and the workbench's upload form).
_UPLOAD_PATHS = (_UPLOAD_PATH, "/upload")
# FastAPI's own OpenTelemetry wrapper (newer releases): the service counts and logs every
# request itself (/metrics, JSON lines), so the wrapper would only add cost to each request.
_NO_TELEMETRY = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)


class ServiceError(ReadinessError):
    """The service cannot start (no model, no tokens on a public address)."""


class Service:
    """What every request shares: settings, the served model, store, tokens, metrics."""

    def __init__(self, settings: Settings, *, store: Store | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.holder = ModelHolder(settings, self.metrics)
        self.holder.start()
        self.store = store if store is not None else Store(settings.db)
        self.store_error = ""
        self.store_up = self.check_store()
        self.tokens = TokenCache(
            self.store, refresh=settings.token_refresh, loopback=settings.loopback
        )
        self.tokens.load()
        if not settings.loopback and not self.tokens.tokens():
            why = f" ({self.tokens.error})" if self.tokens.error else ""
            raise ServiceError(
                f"refusing to serve on {settings.host} without tokens{why}: create one with "
                "`readiness tokens add NAME --role ROLE`, or serve on 127.0.0.1"
            )
        self.batcher = MicroBatcher(
            self.holder,
            max_records=settings.max_batch,
            window=settings.batch_window,
        )
        self.upload_dir = Path(tempfile.mkdtemp(prefix="readiness-uploads-"))

    def check_store(self) -> bool:
        """Whether the store answers now (migrating it first if it could not be before)."""
        up, self.store_error = self.store.reachable()
        self.store_up = up
        return up

    @property
    def open(self) -> bool:
        return self.tokens.open


async def service(request: Request) -> Service:
    """FastAPI dependency: the shared :class:`Service` (async: a plain function would be run
    in a worker thread, a thread hop per request)."""
    return request.app.state.service


def create_app(settings: Settings, *, store: Store | None = None) -> FastAPI:
    """The ``readiness serve`` application.

    Parameters
    ----------
    settings
        What to serve and the limits.
    store
        An open store (default: one on ``settings.db``).

    Raises
    ------
    ReadinessError
        The model cannot be loaded or verified, or tokens are missing on a public address.
    """
    from scoring.service.routes import batches, cooperatives, health, models, score

    configure(settings.log_level)
    shared = Service(settings, store=store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        shared.batcher.start()
        # What is loaded now (model, libraries) lives as long as the process: kept out of the
        # collector's full passes, which would otherwise walk it every few seconds under load.
        gc.collect()
        gc.freeze()
        tasks = []
        if settings.reload_interval > 0:
            tasks.append(asyncio.create_task(_reload_every(shared, settings.reload_interval)))
        loop = asyncio.get_running_loop()
        hup = _listen_for_hup(loop, shared)
        log_event(
            logging.INFO,
            "started",
            model=shared.holder.reference,
            store=shared.store.display_url(),
            store_up=shared.store_up,
            open=shared.open,
        )
        try:
            yield
        finally:
            if hup:
                loop.remove_signal_handler(signal.SIGHUP)
            for task in tasks:
                task.cancel()
            await shared.batcher.stop()
            gc.unfreeze()  # several apps in one process (tests): their garbage is collectable
            with contextlib.suppress(OSError):
                for leftover in shared.upload_dir.iterdir():
                    leftover.unlink()
                shared.upload_dir.rmdir()

    app = FastAPI(
        title="Export-readiness scoring service",
        version="1",
        description=(
            "Real-time export-readiness scoring of production cooperatives, and the store of "
            "every scored batch. — سرویس امتیازدهی آمادگی صادراتی تعاونی‌های تولیدی. "
            "Errors are RFC 9457 problem details; every response names the model version "
            f"(body `model`, header `{MODEL_HEADER}`)."
        ),
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
        **_NO_TELEMETRY,
    )
    app.state.service = shared
    install_handlers(app, lambda request: shared.holder.reference)
    for module in (score, batches, cooperatives, models):
        app.include_router(module.router, prefix=API)
    app.include_router(health.router)
    app.include_router(health.router, prefix=API, include_in_schema=False)
    from scoring.web import mount

    mount(app)  # the workbench at / and its packaged assets at /static
    app.openapi = lambda: _openapi(app, shared)  # type: ignore[method-assign]
    app.add_middleware(_Guard, shared=shared)
    return app


def _openapi(app: FastAPI, shared: Service) -> dict[str, Any]:
    """The OpenAPI document, with the record schemas of the served model's contract."""
    reference = shared.holder.reference
    cached = getattr(app.state, "openapi", None)
    if cached is not None and cached[0] == reference:
        return cached[1]
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(record_schemas(shared.holder.current.model.contract))
    app.state.openapi = (reference, document)
    return document


async def _reload_every(shared: Service, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        await asyncio.to_thread(shared.holder.check)


def _listen_for_hup(loop: asyncio.AbstractEventLoop, shared: Service) -> bool:
    """On SIGHUP, reload the champion at once (only the main thread can listen)."""

    def reload() -> None:
        loop.create_task(asyncio.to_thread(shared.holder.check, force=True))

    try:
        loop.add_signal_handler(signal.SIGHUP, reload)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True


class _Guard:
    """Around every request: size limits, the model header, metrics and the log line.

    A body larger than its limit (JSON requests, uploads) is refused with 413 from its
    ``Content-Length``, or as soon as the streamed bytes pass the limit; a body that stops
    arriving for ``request_timeout`` seconds is refused with 408.
    """

    def __init__(self, app: Any, shared: Service) -> None:
        self.app = app
        self.shared = shared

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        settings = self.shared.settings
        upload = scope["path"] in _UPLOAD_PATHS and scope["method"] == "POST"
        limit = settings.upload_limit if upload else settings.body_limit
        timeout = settings.upload_timeout if upload else settings.request_timeout
        scope.setdefault("state", {})
        status = [500]
        reference = self.shared.holder.reference

        async def send_with_model(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((MODEL_HEADER.encode(), reference.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                raise _too_large(declared, limit, upload)
            received = [0]

            async def limited_receive() -> dict:
                try:
                    async with asyncio.timeout(timeout):  # no task per message, as wait_for
                        message = await receive()
                except TimeoutError:
                    raise Problem(
                        408, f"the request body stopped arriving for {timeout:g} s"
                    ) from None
                if message["type"] == "http.request":
                    received[0] += len(message.get("body", b""))
                    if received[0] > limit:
                        raise _too_large(received[0], limit, upload)
                return message

            await self.app(scope, limited_receive, send_with_model)
        except Problem as problem:
            response = problem_response(problem, instance=scope["path"], model=reference)
            await response(scope, receive, send_with_model)
        finally:
            seconds = time.perf_counter() - started
            template = _template(scope)
            state = scope["state"]
            self.shared.metrics.observe(scope["method"], template, status[0], seconds)
            caller = state.get("caller")
            log_request(
                method=scope["method"],
                path=scope["path"],
                status=status[0],
                ms=seconds * 1000,
                model=reference,
                records=int(state.get("records", 0)),
                caller=caller.name if caller is not None else "",
            )


def _template(scope: dict) -> str:
    """The route's template (``/api/v1/batches/{batch_id}``): a bounded metrics label."""
    if scope.get("endpoint") is None:
        return "unmatched"
    values = {str(v): k for k, v in scope.get("path_params", {}).items()}
    return "/".join(f"{{{values[s]}}}" if s in values else s for s in scope["path"].split("/"))


def _content_length(scope: dict) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise Problem(400, "Content-Length is not a number") from None
    return None


def _too_large(size: int, limit: int, upload: bool) -> Problem:
    what = "upload" if upload else "request body"
    return Problem(
        413,
        f"the {what} is larger than the limit of {limit:,} bytes"
        + (" (--upload-limit)" if upload else "; send fewer records per request"),
        limit=limit,
    )


def run_in_store(shared: Service, work: Any) -> Any:
    """``work(connection)`` on a reading connection; a store failure becomes a 503 problem."""
    store = shared.store
    try:
        with store.connect() as conn:
            return work(conn)
    except StoreError as exc:
        shared.store_up, shared.store_error = False, str(exc)
        raise Problem(503, f"the store is unreachable: {exc}", title="Store unavailable") from None
