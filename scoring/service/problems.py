"""Errors as RFC 9457 problem details (``application/problem+json``), never a bare 500.

Every refusal the service makes is a :class:`Problem`; FastAPI's own errors (validation, not
found, method not allowed) and the domain's (:class:`~scoring.errors.ReadinessError`) are turned
into one here, so a client parses one error format.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from scoring.errors import InputFileError, ModelError, PlanError, ReadinessError

__all__ = ["PROBLEM_TYPE", "Problem", "domain_problem", "install_handlers", "problem_response"]

#: Media type of a problem body.
PROBLEM_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    413: "Too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal error",
    503: "Unavailable",
    504: "Timeout",
}
_log = logging.getLogger("readiness.service")


class Problem(Exception):
    """A refusal: HTTP ``status``, a one-line ``detail``, and any extension members.

    Parameters
    ----------
    status
        The HTTP status code.
    detail
        What went wrong and how to fix it, in one line.
    title
        A short summary of the kind of problem (default: from the status).
    extra
        Extension members (``errors``, ``limit``, ...), JSON-serialisable.
    """

    def __init__(self, status: int, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.extra = extra


def problem_response(
    problem: Problem, *, instance: str = "", model: str = "", headers: dict[str, str] | None = None
) -> Response:
    """The problem as a response; ``model`` is the version that would have scored."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    if model:
        body["model"] = model
    body.update(problem.extra)
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status_code=problem.status,
        media_type=PROBLEM_TYPE,
        headers=headers,
    )


def domain_problem(exc: ReadinessError) -> Problem:
    """The problem for a domain error: bad input is 422, an unusable model 503."""
    if isinstance(exc, ModelError):
        return Problem(503, str(exc), title="Model unavailable")
    if isinstance(exc, InputFileError | PlanError):
        return Problem(422, str(exc))
    return Problem(422, str(exc), **({"column": exc.column} if exc.column else {}))


def install_handlers(app: FastAPI, model_of: Any) -> None:
    """Register the handlers that turn every error into a problem response.

    ``model_of(request)`` names the model version for the body.
    """

    def respond(request: Request, problem: Problem, headers: dict[str, str] | None = None):
        return problem_response(
            problem, instance=request.url.path, model=model_of(request), headers=headers
        )

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return respond(request, exc, headers)

    @app.exception_handler(ReadinessError)
    async def on_domain(request: Request, exc: ReadinessError) -> Response:
        return respond(request, domain_problem(exc))

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()[:20]
        ]
        first = errors[0] if errors else {"where": "request", "problem": "is invalid"}
        detail = f"{first['where']}: {first['problem']}"
        return respond(request, Problem(422, detail, errors=errors))

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path} (see /docs)"
        return respond(request, Problem(exc.status_code, detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        problem = Problem(500, "the service failed on this request; it is logged")
        return respond(request, problem)
