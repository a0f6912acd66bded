"""Log in for a bearer token (devices, scripts) or a session cookie (pages)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, request

from ..auth import (
    Principal,
    current_principal,
    end_session,
    issue_token,
    start_session,
)
from ..errors import InvalidCredentials, RateLimited, Unauthorized
from ..ratelimit import SlidingWindow
from ..store.base import User
from ..users import authenticate
from . import api_doc, bp, config
from .schemas import LoginIn, MeOut, TokenOut


def _login_limiter() -> SlidingWindow:
    return current_app.extensions["satupintu.login_limiter"]


def _check_login(body: dict[str, Any]) -> User:
    """The user for these credentials, or 401; repeated failures per name are slowed to 429."""
    username = body["username"]
    limiter = _login_limiter()
    key = f"{username}|{request.remote_addr}"
    # Checked before the password, so a guesser who is cut off learns nothing more.
    wait = limiter.wait(key)
    if wait:
        raise RateLimited("too many failed logins; wait a minute", retry_after=int(wait) + 1)
    user = authenticate(current_app.extensions["satupintu.store"], username, body["password"])
    if user is None:
        limiter.hit(key)
        raise InvalidCredentials("wrong username or password")
    return user


def _expires(principal: Principal) -> str:
    return datetime.fromtimestamp(principal.expires_at, config().office.tz).isoformat()


def _me(principal: Principal) -> dict[str, Any]:
    return {"username": principal.username, "role": principal.role,
            "expires_at": _expires(principal)}


@bp.post("/auth/token")
@bp.input(LoginIn, arg_name="body")
@bp.output(TokenOut)
@api_doc("Get a bearer token", (400, 401, 429), tag="Auth")
def get_token(body: dict[str, Any]) -> dict[str, Any]:
    """Exchange username and password for a signed token (send it as `Authorization: Bearer`)."""
    token, principal = issue_token(_check_login(body))
    return {"token": token, **_me(principal)}


@bp.post("/auth/session")
@bp.input(LoginIn, arg_name="body")
@bp.output(MeOut)
@api_doc("Log in on the session cookie", (400, 401, 429), tag="Auth")
def login_session(body: dict[str, Any]) -> dict[str, Any]:
    """Log a page in: sets Flask's signed session cookie (same checks as tokens)."""
    return _me(start_session(_check_login(body)))


@bp.post("/auth/logout")
@bp.output({}, status_code=204)
@api_doc("Log out of the session", tag="Auth")
def logout() -> Response:
    """Forget the session cookie's login (tokens simply expire)."""
    end_session()
    return Response(status=204)


@bp.get("/auth/me")
@bp.output(MeOut)
@api_doc("Who am I", (401,), tag="Auth", auth=True)
def me() -> dict[str, Any]:
    """The user of this token or session."""
    principal = current_principal()
    if principal is None:
        raise Unauthorized("not logged in")
    return _me(principal)
