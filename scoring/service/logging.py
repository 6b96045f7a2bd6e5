"""The service's logs: one JSON line per request, per audited action and per model event, on
stderr.

Request lines carry ``method``, ``path``, ``status``, ``ms``, ``model`` and ``records``; audit
lines (``"event": "upload"`` or ``"promote"``) say who did what; model lines say which version
serves and which was refused, and why.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

__all__ = ["LOGGER", "JsonFormatter", "audit", "configure", "log_event", "log_request"]

#: The name of the service's logger.
LOGGER = "readiness.service"
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_log = logging.getLogger(LOGGER)


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, then the fields passed in ``extra["fields"]``
    (or the message)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str = "info") -> logging.Logger:
    """Send the service's logger to stderr as JSON lines, at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    _log.handlers[:] = [handler]
    _log.setLevel(_LEVELS.get(level, logging.INFO))
    _log.propagate = False
    return _log


def log_event(level: int, event: str, **fields: Any) -> None:
    """One JSON line: ``event`` and its fields."""
    _log.log(level, event, extra={"fields": {"event": event, **fields}})


def log_request(
    *, method: str, path: str, status: int, ms: float, model: str, records: int, caller: str
) -> None:
    """The line of one finished request."""
    if not _log.isEnabledFor(logging.INFO):  # the hot path: no fields built for nothing
        return
    log_event(
        logging.INFO,
        "request",
        method=method,
        path=path,
        status=status,
        ms=round(ms, 2),
        model=model,
        records=records,
        caller=caller,
    )


def audit(action: str, **fields: Any) -> None:
    """An audit line (``upload``, ``promote``): who did what, with what result."""
    log_event(
        logging.WARNING if fields.get("outcome") == "refused" else logging.INFO,
        action,
        audit=True,
        **fields,
    )
