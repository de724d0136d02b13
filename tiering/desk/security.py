"""Who may see and do what: sessions, CSRF tokens, roles on every route, and the headers every answer carries.

Sessions live in a signed cookie (Starlette's SessionMiddleware, itsdangerous underneath): HttpOnly, SameSite=Strict,
expiring after ``SESSION_MAX_AGE`` (the signature carries its time, so an old cookie is refused by the server too).
A session names the account and the account's stamp; changing the password or role, or removing the account,
ends it. Every route but the sign-in page goes through :func:`guard`: no page, download or write without a
signed-in account; every write needs a role and the session's CSRF token.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiering.desk.users import User, Users

SESSION_COOKIE = "tiering_desk"
SESSION_MAX_AGE = 8 * 3600
"""A working day: after that the desk asks to sign in again."""

MAX_FORM_BYTES = 12 * 1024 * 1024
"""Largest request body accepted by a write (an evidence file of at most 10 MiB plus the form)."""

Endpoint = Callable[[Request], Awaitable[Response]]

HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
"""No scripts at all, no framing, nothing cached: pages hold names and figures that are not public."""


def secret_key(store: Path) -> str:
    """The key that signs session cookies, kept (readable by the owner only) beside the store; made on first use."""
    path = store.parent / f"{store.stem}.desk-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="ascii")
    return path.read_text(encoding="ascii").strip()


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made when first needed); every form carries it as the ``csrf`` field."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def signed_in(request: Request, users: Users) -> User | None:
    """The account of the session, if it still exists with the stamp the session was opened with."""
    name, stamp = request.session.get("user"), request.session.get("stamp")
    if not name:
        return None
    user = users.get(name)
    return user if user is not None and secrets.compare_digest(user.stamp, str(stamp)) else None


def guard(endpoint: Endpoint, users: Users, role: str = "viewer", write: bool = False) -> Endpoint:
    """``endpoint`` for signed-in accounts only; for a write, also the role and a valid CSRF token.

    Anonymous GETs are sent to the sign-in page; anything else anonymous gets 401. A write's form is parsed here
    (size-limited) and left on ``request.state.form``.
    """
    async def guarded(request: Request) -> Response:
        user = signed_in(request, users)
        if user is None:
            request.session.pop("user", None)
            if request.method == "GET":
                return RedirectResponse("/login", status_code=303)
            return PlainTextResponse("请先登录 sign in first", status_code=401)
        request.state.user = user
        if write:
            form = await read_form(request)
            if form is None or not valid_csrf(request, form):
                return PlainTextResponse("表单已失效，请刷新页面后重试 (missing or invalid CSRF token)",
                                         status_code=403)
            if not user.may(role):
                return PlainTextResponse(f"权限不足：需要 {role} 角色 (role {role} needed)", status_code=403)
            request.state.form = form
        return await endpoint(request)
    guarded.__name__ = endpoint.__name__
    guarded.__doc__ = endpoint.__doc__
    return guarded


async def read_form(request: Request) -> FormData | None:
    """The request's form, or None when the body is larger than ``MAX_FORM_BYTES`` or not a form."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        return None
    try:
        return await request.form(max_files=1, max_fields=40, max_part_size=MAX_FORM_BYTES)
    except (HTTPException, MultiPartException, ValueError, KeyError):  # a malformed body: refused like no token
        return None


def valid_csrf(request: Request, form: FormData) -> bool:
    expected = request.session.get("csrf")
    given = form.get("csrf")
    return bool(expected) and isinstance(given, str) and secrets.compare_digest(given, expected)


class SecurityHeaders:
    """Adds :data:`HEADERS` to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def form_text(form: Any, key: str, limit: int = 2000) -> str:
    """A text field of a form, stripped and cut to ``limit`` characters ('' when absent or a file)."""
    value = form.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""
