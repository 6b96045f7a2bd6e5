"""What every workbench page shares: the language, the signed-in caller, the CSRF check and
rendering a template with the words, number formatting and bidi helpers.

The session cookie holds the caller's token (HttpOnly, SameSite=Strict), checked on every
request against the service's token cache, so revoking a token ends its sessions at once and
any worker process can serve any page. Forms carry a double-submit CSRF token: a random
cookie that the form must repeat.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from scoring.service.auth import Caller, role_allows
from scoring.service.problems import Problem
from scoring.text import to_persian_digits
from scoring.web.words import LANGS, word

__all__ = [
    "CSRF_COOKIE",
    "LANG_COOKIE",
    "SESSION_COOKIE",
    "PageDenied",
    "authorize",
    "check_csrf",
    "csrf_token",
    "denied_response",
    "lang_of",
    "number",
    "place_names",
    "plain_number",
    "plain_when",
    "render",
    "when",
]

SESSION_COOKIE = "rdy_session"
CSRF_COOKIE = "rdy_csrf"
LANG_COOKIE = "rdy_lang"
_HERE = Path(__file__).resolve().parent
_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class PageDenied(Exception):
    """A page the caller may not see: sign in first (``status`` 303), or a 403/404 page."""

    def __init__(self, status: int, message: str = "", location: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.location = location


def lang_of(request: Request) -> str:
    """``?lang=`` first, then the language cookie, else Persian."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or LANGS[0]
    return chosen if chosen in LANGS else LANGS[0]


def authorize(request: Request, role: str) -> Caller:
    """The signed-in caller, who must hold ``role``; otherwise :class:`PageDenied`."""
    tokens = request.app.state.service.tokens
    token = request.cookies.get(SESSION_COOKIE)
    if not token and not tokens.open:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise PageDenied(303, location=f"/signin?next={_quote(target)}")
    try:
        caller = tokens.authenticate(token)
    except Problem:
        raise PageDenied(303, location="/signin") from None
    if not role_allows(caller.role, role):
        raise PageDenied(403, role)
    request.state.caller = caller
    return caller


def csrf_token(request: Request) -> str:
    """The CSRF token forms must carry: the cookie's, or a new one set by :func:`render`."""
    found = request.cookies.get(CSRF_COOKIE)
    if found and len(found) >= 32:
        return found
    made = getattr(request.state, "new_csrf", None)
    if made is None:
        made = request.state.new_csrf = secrets.token_urlsafe(32)
    return made


def check_csrf(request: Request, sent: str | None) -> None:
    """Refuse (403) a form or script call whose token is not the cookie's."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise PageDenied(403, "csrf")


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A page in the request's language, with the cookies it needs set."""
    lang = lang_of(request)
    caller = getattr(request.state, "caller", None)
    shared = request.app.state.service
    values = {
        "lang": lang,
        "dir": "rtl" if lang == "fa" else "ltr",
        "t": lambda key: word(key, lang),
        "num": lambda value, digits=0: number(value, lang, digits),
        "when": lambda stamp, with_time=True: when(stamp, lang, with_time=with_time),
        "may": lambda role: caller is not None and role_allows(caller.role, role),
        "caller": caller,
        "open": shared.open,
        "csrf": csrf_token(request),
        "path": request.url.path,
        "switch": _switch_link(request, lang),
        "serving": shared.holder.reference,
        **context,
    }
    response = HTMLResponse(_ENV.get_template(template).render(values), status_code=status)
    new = getattr(request.state, "new_csrf", None)
    if new is not None:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", path="/")
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", path="/", max_age=31536000)
    response.headers["cache-control"] = "no-store"
    return response


def plain_number(value: Any, lang: str, digits: int = 0) -> str:
    """A number as text (Persian digits and separators in Persian), an em dash for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:,.{digits}f}" if isinstance(value, int | float) else str(value)
    return to_persian_digits(text) if lang == "fa" else text


def number(value: Any, lang: str, digits: int = 0) -> Markup:
    """:func:`plain_number` wrapped in ``<bdi>``, so it keeps its order in either direction."""
    text = plain_number(value, lang, digits)
    if text == "—":
        return Markup(text)
    return Markup(f'<bdi class="num">{escape(text)}</bdi>')


def when(stamp: str | None, lang: str, *, with_time: bool = True) -> Markup:
    """A stored time (ISO 8601, UTC when it names no zone) in the service's local time: the
    Jalali date in Persian digits on Persian pages, ``2026-12-02 09:30`` on English ones, by
    the reports' own :func:`~scoring.report.rendering.generated_date`; in ``<bdi>``."""
    text = plain_when(stamp, lang, with_time=with_time)
    if text == "—":
        return Markup(text)
    direction = "rtl" if lang == "fa" else "ltr"
    return Markup(f'<bdi dir="{direction}" class="date">{escape(text)}</bdi>')


def plain_when(stamp: str | None, lang: str, *, with_time: bool = True) -> str:
    """:func:`when` as plain text (for a chart's axis), an em dash for none."""
    from scoring.report.rendering import generated_date

    try:
        moment = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    # generated_date isolates a Persian date itself; the page's <bdi> does that here.
    text = generated_date(lang, moment.astimezone()).strip("\u2067\u2069")
    return text if with_time else text.split(" ")[0]


def place_names(contract: Any, lang: str) -> Callable[[str, str | None], str]:
    """``(column, key) -> name``: a province or sector key as the reports write it
    (``Khorasan Razavi``, ``خراسان رضوی``); empty for none."""
    from scoring.report.words import Wording

    wording = Wording(lang, contract)
    return lambda column, key: wording.category(column, key) if key else ""


def denied_response(request: Request, denied: PageDenied) -> Response:
    """The answer to :class:`PageDenied`: a redirect to sign-in, or an error page."""
    if denied.status == 303:
        return RedirectResponse(denied.location, status_code=303)
    key = "csrf" if denied.message == "csrf" else ("not_found" if denied.status == 404 else "")
    return render(
        request, "error.html", status=denied.status, key=key or "forbidden", role=denied.message
    )


def _switch_link(request: Request, lang: str) -> str:
    other = "en" if lang == "fa" else "fa"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", other))
    return request.url.path + "?" + "&".join(f"{_quote(k)}={_quote(v)}" for k, v in params)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")
