"""Staff accounts from the manager's page: list, add, reset, remove (manager role).

The rules are satupintu/users.py's, the same as `satupintu users ...`;
removing a user or changing its password ends its sessions and tokens at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response

from .. import current
from ..auth import current_principal, require
from ..store.base import Store, User
from ..users import add_user, list_users, remove_user, reset_user
from . import api_doc, bp, config
from .schemas import UserIn, UserOut, UserResetIn, UsersOut

TAG = "Users"


def _store() -> Store:
    return current.store()


def _asking() -> str | None:
    principal = current_principal()
    return principal.username if principal else None


def user_view(user: User) -> dict[str, Any]:
    created = datetime.fromtimestamp(user.created_at, config().office.tz)
    return {
        "username": user.username,
        "role": user.role,
        "kiosk": user.kiosk or None,
        "created_at": created.isoformat(timespec="seconds"),
    }


def _kiosks() -> tuple[str, ...]:
    return tuple(k.id for k in config().kiosks)


@bp.get("/users")
@require("manager")
@bp.output(UsersOut)
@api_doc("List accounts", tag=TAG, auth=True)
def users() -> dict[str, Any]:
    """Every staff and kiosk account (never a password hash)."""
    return {"users": [user_view(u) for u in list_users(_store())]}


@bp.post("/users")
@require("manager")
@bp.input(UserIn, arg_name="body")
@bp.output(UserOut, status_code=201)
@api_doc("Add an account", (400, 409), tag=TAG, auth=True)
def create_user(body: dict[str, Any]) -> dict[str, Any]:
    """Add a kiosk, clerk or manager account; 409 `user_exists` if the name is taken."""
    return user_view(
        add_user(
            _store(),
            body["username"],
            body["role"],
            body["password"],
            kiosk=body["kiosk"],
            kiosks=_kiosks(),
        )
    )


@bp.put("/users/<username>")
@require("manager")
@bp.input(UserResetIn, arg_name="body")
@bp.output(UserOut)
@api_doc("Reset an account's role and password", (400, 404, 409), tag=TAG, auth=True)
def update_user(username: str, body: dict[str, Any]) -> dict[str, Any]:
    """Set a user's role and password (its sessions end); 409 for your own manager role."""
    user = reset_user(
        _store(),
        username,
        body["role"],
        body["password"],
        by=_asking(),
        kiosk=body["kiosk"],
        kiosks=_kiosks(),
    )
    return user_view(user)


@bp.delete("/users/<username>")
@require("manager")
@bp.output({}, status_code=204)
@api_doc("Remove an account", (404, 409), tag=TAG, auth=True)
def delete_user(username: str) -> Response:
    """Remove an account (not your own)."""
    remove_user(_store(), username, by=_asking())
    return Response(status=204)
