"""Staff accounts: kiosk devices, clerks and managers (no default user exists)."""

from __future__ import annotations

import re
import time

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import BadRequest, NoSuchUser, SelfLockout, UserExists
from .store.base import Store, User

ROLES = ("kiosk", "clerk", "manager")
USERNAME_RE = re.compile(r"^[a-z0-9_.-]{2,32}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 128
# The refusals' texts, shared with the API's input schemas (satupintu/api/schemas.py).
USERNAME_RULE = "username must be 2-32 characters of a-z, 0-9, '_', '.' or '-'"
ROLE_RULE = f"role must be one of {', '.join(ROLES)}"
PASSWORD_RULE = f"password must have {MIN_PASSWORD}-{MAX_PASSWORD} characters"

# Compared against when the user does not exist, so a wrong name costs as much
# time as a wrong password and names cannot be probed by timing.
_DUMMY_HASH = generate_password_hash("satupintu-no-such-user")


def check_username(username: str) -> str:
    """Return `username` if it is valid, else raise BadRequest naming the field."""
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise BadRequest(USERNAME_RULE, field="username")
    return username


def check_role(role: str) -> str:
    """Return `role` if it is one of ROLES, else raise BadRequest."""
    if role not in ROLES:
        raise BadRequest(ROLE_RULE, field="role")
    return role


def check_password(password: str) -> str:
    """Return `password` if it is long enough (and not absurdly long)."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadRequest(PASSWORD_RULE, field="password")
    return password


def add_user(store: Store, username: str, role: str, password: str, *,
             replace: bool = False) -> User:
    """Create a user (or, with replace=True, reset its role and password)."""
    check_username(username)
    check_role(role)
    check_password(password)
    if not replace and store.user(username) is not None:
        raise UserExists(f"user {username!r} already exists", field="username")
    user = User(username, role, generate_password_hash(password), time.time())
    store.put_user(user)
    return user


def list_users(store: Store) -> list[User]:
    """All users, ordered by name."""
    return store.users()


def reset_user(store: Store, username: str, role: str, password: str, *,
               by: str | None = None) -> User:
    """Set an existing user's role and password (its sessions end); `by` is the manager asking."""
    if store.user(username) is None:
        raise NoSuchUser(f"no user {username!r}", field="username")
    if role != "manager":
        _not_yourself(username, by)
    return add_user(store, username, role, password, replace=True)


def remove_user(store: Store, username: str, *, by: str | None = None) -> None:
    """Delete a user; its tokens and sessions stop working at once."""
    _not_yourself(username, by)
    if not store.delete_user(username):
        raise NoSuchUser(f"no user {username!r}", field="username")


def _not_yourself(username: str, by: str | None) -> None:
    """A manager may not lock themself out (another manager, or the CLI with by=None, can)."""
    if by == username:
        raise SelfLockout("you cannot remove your own manager access; ask another "
                                "manager or use `satupintu users`", field="username")


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user if the password matches, else None (same cost either way)."""
    user = store.user(username) if USERNAME_RE.match(username or "") else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    return user
