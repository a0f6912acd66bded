"""Staff accounts from the manager's page: list, add, reset, remove (manager role).

    GET    /api/v1/users                     every user (no password hashes)
    POST   /api/v1/users  {username, role, password}        201; 409 if it exists
    PUT    /api/v1/users/<name>  {role, password}           reset role and password
    DELETE /api/v1/users/<name>                              204; not yourself

The same rules as `satupintu users ...` (satupintu/users.py); removing a user
or changing its password ends its sessions and tokens at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, request

from satupintu.auth import current_principal, require
from satupintu.errors import BadRequest, InvalidTransition, NoSuchUser
from satupintu.store.base import Store, User
from satupintu.users import add_user, list_users, remove_user

from . import bp


def _store() -> Store:
    return current_app.extensions["satupintu.store"]


def user_view(user: User) -> dict[str, Any]:
    tz = current_app.extensions["satupintu.config"].office.tz
    return {"username": user.username, "role": user.role,
            "created_at": datetime.fromtimestamp(user.created_at, tz).isoformat(
                timespec="seconds")}


def _body(*fields: str) -> dict[str, str]:
    """The JSON object's string fields, or 400 naming the first missing or wrong one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("send a JSON object", field="body")
    for name in fields:
        if not isinstance(data.get(name), str):
            raise BadRequest(f"{name} is required (a string)", field=name)
    return {name: data[name] for name in fields}


@bp.get("/api/v1/users")
@require("manager")
def users() -> dict[str, Any]:
    """Every staff and kiosk account."""
    return {"users": [user_view(u) for u in list_users(_store())]}


@bp.post("/api/v1/users")
@require("manager")
def create_user() -> tuple[dict[str, Any], int]:
    """Add an account."""
    body = _body("username", "role", "password")
    user = add_user(_store(), body["username"], body["role"], body["password"])
    return user_view(user), 201


@bp.put("/api/v1/users/<username>")
@require("manager")
def reset_user(username: str) -> dict[str, Any]:
    """Set a user's role and password (its old sessions end)."""
    body = _body("role", "password")
    if _store().user(username) is None:
        raise NoSuchUser(f"no user {username!r}", field="username")
    _not_yourself(username, body["role"] != "manager")
    return user_view(add_user(_store(), username, body["role"], body["password"], replace=True))


@bp.delete("/api/v1/users/<username>")
@require("manager")
def delete_user(username: str) -> Response:
    """Remove an account."""
    _not_yourself(username, True)
    remove_user(_store(), username)
    return Response(status=204)


def _not_yourself(username: str, losing_manager: bool) -> None:
    """A manager may not lock themself out (another manager, or the CLI, can)."""
    principal = current_principal()
    if losing_manager and principal is not None and principal.username == username:
        raise InvalidTransition("you cannot remove your own manager access; ask another "
                                "manager or use `satupintu users`", field="username")
