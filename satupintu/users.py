"""Staff accounts: kiosk devices, clerks and managers (no default user exists)."""

from __future__ import annotations

import re
import time

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import BadRequest, NoSuchUser, SelfLockout, UserExists
from .store.base import Store, User

ROLES = ("kiosk", "clerk", "manager")
USERNAME_RE = re.compile(r"^[a-z0-9_.-]{2,32}\Z")  # \Z: "$" would let "admin\\n" through
MIN_PASSWORD = 8
MAX_PASSWORD = 128
# The refusals' texts, shared with the API's input schemas (satupintu/api/schemas.py).
USERNAME_RULE = "username must be 2-32 characters of a-z, 0-9, '_', '.' or '-'"
ROLE_RULE = f"role must be one of {', '.join(ROLES)}"
PASSWORD_RULE = f"password must have {MIN_PASSWORD}-{MAX_PASSWORD} characters"
MIN_DISTINCT = 4  # "aaaaaaaa", "abababab", "12121212" are refused
# The passwords guessed first, here and everywhere (lower case; compared folded).
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "iloveyou",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "superman",
        "welcome1",
        "letmein1",
        "trustno1",
        "qwertyuiop",
        "qwerty123",
        "1qaz2wsx",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "zaq12wsx",
        "asdf1234",
        "abcd1234",
        "qwer1234",
        "admin123",
        "administrator",
        "changeme",
        "default1",
        "12341234",
        "11223344",
        "123123123",
        "1234qwer",
        "987654321",
        "rahasia123",
        "katasandi",
        "sandi123",
        "indonesia",
        "indonesia1",
        "jakarta123",
        "bismillah",
        "satupintu",
        "satupintu1",
        "kiosk123",
        "manager1",
        "manajer1",
        "loket123",
        "pelayanan",
        "kantor123",
    }
)

# Compared against when the user does not exist, so a wrong name costs as much
# time as a wrong password and names cannot be probed by timing.
_DUMMY_HASH = generate_password_hash("satupintu-no-such-user")


def check_username(username: str) -> str:
    """Return `username` if it is valid, else raise BadRequest naming the field."""
    if not isinstance(username, str) or not USERNAME_RE.fullmatch(username):
        raise BadRequest(USERNAME_RULE, field="username")
    return username


def check_role(role: str) -> str:
    """Return `role` if it is one of ROLES, else raise BadRequest."""
    if role not in ROLES:
        raise BadRequest(ROLE_RULE, field="role")
    return role


def check_password(password: str, username: str = "") -> str:
    """Return `password` unless it is too short, too long, blank or trivially guessable."""
    if (
        not isinstance(password, str)
        or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD
        or len(password.strip()) < MIN_PASSWORD
    ):
        raise BadRequest(PASSWORD_RULE + " (not counting spaces at either end)", field="password")
    folded = password.strip().lower()
    if (
        len(set(folded)) < MIN_DISTINCT
        or folded in COMMON_PASSWORDS
        or (username and username.lower() in folded)
        or _is_run(folded)
    ):
        raise BadRequest(
            "password is too easy to guess (a common password, a run like "
            "12345678 or abcdefgh, the user name, or only a few different "
            "characters); choose a longer, less obvious one",
            field="password",
        )
    return password


def _is_run(text: str) -> bool:
    """True for a run of consecutive characters, up or down (12345678, hgfedcba)."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1})


def check_kiosk(kiosk: str, role: str, kiosks: tuple[str, ...] | None) -> str:
    """Return `kiosk` if it may be bound: only to kiosk users, only a [[kiosks]] id."""
    if not kiosk:
        return ""
    if role != "kiosk":
        raise BadRequest("only a kiosk user is bound to a kiosk (leave kiosk out)", field="kiosk")
    if kiosks is not None and kiosk not in kiosks:
        known = ", ".join(kiosks) or "none: add a [[kiosks]] table to config.toml"
        raise BadRequest(f"unknown kiosk {kiosk!r} (kiosks in config.toml: {known})", field="kiosk")
    return kiosk


def add_user(
    store: Store,
    username: str,
    role: str,
    password: str,
    *,
    replace: bool = False,
    kiosk: str = "",
    kiosks: tuple[str, ...] | None = None,
) -> User:
    """Create a user (or, with replace=True, reset it); a kiosk user may name its kiosk.

    `kiosks`: the [[kiosks]] ids `kiosk` must be one of (None: not checked).
    """
    check_username(username)
    check_role(role)
    check_kiosk(kiosk, role, kiosks)
    check_password(password, username)
    if not replace and store.user(username) is not None:
        raise UserExists(f"user {username!r} already exists", field="username")
    user = User(username, role, generate_password_hash(password), time.time(), kiosk)
    store.put_user(user)
    return user


def list_users(store: Store) -> list[User]:
    """All users, ordered by name."""
    return store.users()


def reset_user(
    store: Store,
    username: str,
    role: str,
    password: str,
    *,
    by: str | None = None,
    kiosk: str = "",
    kiosks: tuple[str, ...] | None = None,
) -> User:
    """Set an existing user's role and password (its sessions end); `by` is the manager asking."""
    if store.user(username) is None:
        raise NoSuchUser(f"no user {username!r}", field="username")
    if role != "manager":
        _not_yourself(username, by)
    return add_user(store, username, role, password, replace=True, kiosk=kiosk, kiosks=kiosks)


def remove_user(store: Store, username: str, *, by: str | None = None) -> None:
    """Delete a user; its tokens and sessions stop working at once."""
    _not_yourself(username, by)
    if not store.delete_user(username):
        raise NoSuchUser(f"no user {username!r}", field="username")


def _not_yourself(username: str, by: str | None) -> None:
    """A manager may not lock themself out (another manager, or the CLI with by=None, can)."""
    if by == username:
        raise SelfLockout(
            "you cannot remove your own manager access; ask another "
            "manager or use `satupintu users`",
            field="username",
        )


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user if the password matches, else None (same cost either way)."""
    user = store.user(username) if USERNAME_RE.fullmatch(username or "") else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    return user
