"""The service's settings, in one place: what to serve, where the store is, and the limits.

Built by the ``readiness serve`` command from its options and environment (the CLI is the only
layer that reads the environment); everything else receives a :class:`Settings`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Settings", "is_loopback"]


@dataclass(frozen=True)
class Settings:
    """What ``readiness serve`` serves, and its limits.

    Parameters
    ----------
    registry
        The model registry folder.
    model
        ``NAME`` (its champion, followed across promotions) or ``NAME@VERSION`` (pinned).
    db
        The store's SQLAlchemy URL.
    programs
        Programmes file (TOML) for the next step and the what-if uplifts; None for none.
    host, port, workers
        Where uvicorn listens, and how many worker processes it runs.
    signing_key
        The HMAC key model signatures are checked with (None: unsigned models are accepted).
    max_records
        Records per ``POST /score`` request; more is refused (413).
    body_limit
        Bytes of a JSON request body; more is refused (413).
    upload_limit
        Bytes of an uploaded file; more is refused (413).
    request_timeout
        Seconds a JSON request may take (reading its body and scoring it).
    upload_timeout
        Seconds an upload may take to arrive and be scored.
    reload_interval
        Seconds between checks for a newly promoted champion (0: only on SIGHUP).
    token_refresh
        Seconds the tokens read from the store are trusted before they are read again.
    max_batch
        Records scored together at most when requests are coalesced.
    batch_window
        Seconds a coalesced call waits for more requests before it starts.
    log_level
        ``debug``, ``info``, ``warning`` or ``error``.
    """

    registry: Path
    model: str = "export-readiness"
    db: str = ""
    programs: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    signing_key: bytes | None = None
    max_records: int = 1000
    body_limit: int = 2 * 1024 * 1024
    upload_limit: int = 100 * 1024 * 1024
    request_timeout: float = 30.0
    upload_timeout: float = 600.0
    reload_interval: float = 5.0
    token_refresh: float = 2.0
    max_batch: int = 512
    batch_window: float = 0.003
    log_level: str = "info"

    @property
    def loopback(self) -> bool:
        """Whether the service listens on the loopback interface only."""
        return is_loopback(self.host)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        """The settings as JSON, for worker processes (the signing key stays out)."""
        data = dataclasses.asdict(self)
        data.pop("signing_key")
        data["registry"] = str(self.registry)
        data["programs"] = str(self.programs) if self.programs else None
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str, *, signing_key: bytes | None = None) -> Settings:
        data = json.loads(text)
        data["registry"] = Path(data["registry"])
        data["programs"] = Path(data["programs"]) if data.get("programs") else None
        return cls(**data, signing_key=signing_key)


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` and ``localhost`` are loopback; anything else is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
