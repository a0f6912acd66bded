"""Log in for a bearer token (devices, scripts) or a session cookie (pages)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, request

from ..auth import (
    Principal,
    current_principal,
    end_login,
    end_session,
    issue_token,
    start_session,
)
from ..errors import Unauthorized
from ..store.base import User
from . import api_doc, bp, config
from .login_guard import check_login
from .schemas import LoginIn, MeOut, TokenOut


def _check_login(body: dict[str, Any]) -> User:
    """The user for these credentials, or 401; 429 past the login limits (login_guard.py)."""
    return check_login(body["username"], body["password"])


def _expires(principal: Principal) -> str:
    return datetime.fromtimestamp(principal.expires_at, config().office.tz).isoformat()


def _me(principal: Principal) -> dict[str, Any]:
    return {
        "username": principal.username,
        "role": principal.role,
        "expires_at": _expires(principal),
    }


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
    """End this login server-side: the session cookie's, and the bearer token's if one is sent.

    A copy of the cookie or token is refused from now on.
    """
    if request.headers.get("Authorization"):
        principal = current_principal()  # 401 for a bad token, as everywhere
        if principal is not None:
            end_login(principal)
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
