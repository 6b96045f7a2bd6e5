"""Who may do what: bearer tokens with roles, checked against hashes kept in the store.

Roles are ordered; each may do what the ones before it may: ``viewer`` reads, ``officer`` also
scores and uploads, ``manager`` also plans (what-if), ``analyst`` also promotes models. A token
is 32 random bytes, shown once when made; the store keeps only its sha256 (a random 256-bit
secret needs no slow hash). With no token at all the service runs open, and only on loopback.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from scoring.service.problems import Problem
from scoring.store import Store, StoreError
from scoring.store.queries import active_tokens

__all__ = [
    "OPEN",
    "ROLES",
    "SECURITY",
    "Caller",
    "TokenCache",
    "authorize",
    "hash_token",
    "new_token",
    "require",
    "role_allows",
]

#: The roles, least allowed first.
ROLES = ("viewer", "officer", "manager", "analyst")
#: The caller of a service running open (no token exists): it may do everything.
OPEN = "open"
_PREFIX = "rdy_"
_bearer = HTTPBearer(auto_error=False, description="A token from `readiness tokens add`.")


@dataclass(frozen=True)
class Caller:
    """Who is calling: a token's name (or ``open``) and its role."""

    name: str
    role: str


def new_token() -> str:
    """A new random token (``rdy_`` and 43 URL-safe characters: 32 random bytes)."""
    return _PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The sha256 (hex) the store keeps of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


class TokenCache:
    """The active tokens, read from the store, trusted for ``refresh`` seconds.

    When the store cannot be read the last tokens read stay in force, so a store outage never
    opens the service nor locks out its callers.
    """

    def __init__(self, store: Store, *, refresh: float, loopback: bool) -> None:
        self.store = store
        self.refresh = refresh
        self.loopback = loopback
        self.error = ""
        self._tokens: dict[str, tuple[str, str]] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def load(self) -> dict[str, tuple[str, str]]:
        """Read the tokens now; keep the old ones (and say why) if the store fails."""
        try:
            with self.store.connect() as conn:
                tokens = active_tokens(conn)
        except StoreError as exc:
            self.error = str(exc)
        else:
            self.error = ""
            with self._lock:
                self._tokens = tokens
        self._read_at = time.monotonic()
        return self._tokens

    def tokens(self) -> dict[str, tuple[str, str]]:
        if time.monotonic() - self._read_at >= self.refresh:
            self.load()
        return self._tokens

    @property
    def open(self) -> bool:
        """Whether requests need no token: no token exists, and the service is on loopback."""
        return self.loopback and not self.tokens()

    def authenticate(self, token: str | None) -> Caller:
        """The caller a bearer token stands for.

        Raises
        ------
        Problem
            401: no token where one is needed, or a token that is unknown or revoked.
        """
        tokens = self.tokens()
        if not tokens and self.loopback:
            return Caller(OPEN, ROLES[-1])
        if not token:
            raise Problem(401, "this service needs a token: send 'Authorization: Bearer TOKEN'")
        found = tokens.get(hash_token(token))
        if found is None:
            raise Problem(401, "the token is unknown or revoked; ask for a new one")
        return Caller(*found)


def require(role: str) -> Any:
    """A FastAPI dependency: the caller, who must hold ``role`` or a later one."""
    if role not in ROLES:  # pragma: no cover - a programming error
        raise ValueError(f"unknown role {role!r}")

    async def caller(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Caller:
        token = credentials.credentials if credentials is not None else None
        return _allow(request, token, role)

    return Depends(caller)


#: What :func:`authorize` adds to a route's OpenAPI operation: the bearer scheme of
#: :func:`require` (declared by the routes that use it).
SECURITY = {"security": [{"HTTPBearer": []}]}


def authorize(request: Request, role: str) -> Caller:
    """:func:`require` without FastAPI's dependency machinery, for the hot scoring route.

    Raises
    ------
    Problem
        401 or 403, as :func:`require`.
    """
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    bearer = token if scheme.lower() == "bearer" and token else None  # as HTTPBearer reads it
    return _allow(request, bearer, role)


def _allow(request: Request, token: str | None, role: str) -> Caller:
    found = request.app.state.service.tokens.authenticate(token)
    if not role_allows(found.role, role):
        raise Problem(
            403, f"a {found.role} token may not do this; it needs the {role} role or above"
        )
    request.state.caller = found
    return found
