"""Who is asking: signed bearer tokens for devices and scripts, the session cookie for pages.

A token or session carries the username, the role, a fingerprint of the
password hash, a random login id and its issue time, signed with the app
secret, and expires after `auth.token_ttl_hours`; a kiosk user's page login
lasts `auth.kiosk_login_days` instead, in a cookie that survives browser
restarts, so a kiosk PC boots straight into service. Each use re-reads the user,
so removing a user, changing its role or resetting its password ends its
tokens and sessions at once; logging out records the login id in the store
(`Store.end_session`), so a copied cookie or token stops working too. A token
whose life is longer than the configured TTL (one minted with a stolen secret,
or under an older, longer TTL) is refused: the kiosk's lifetime counts only
for a kiosk-role session cookie, never for a bearer token or another role.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, g, request, session
from itsdangerous import BadSignature, URLSafeSerializer

from . import current
from .errors import Forbidden, Unauthorized
from .store.base import User

F = TypeVar("F", bound=Callable[..., Any])
TOKEN_SALT = "satupintu.api-token"
SESSION_KEY = "satupintu_auth"
STAFF_ROLES = ("clerk", "manager")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CLOCK_SKEW_S = 60  # a token issued by another server whose clock is a little ahead


@dataclass(frozen=True)
class Principal:
    """An authenticated user as seen by one request."""

    username: str
    role: str
    expires_at: float
    login_id: str = ""  # the token's or session's id, for logging out
    kiosk: str = ""  # a kiosk user's [[kiosks]] id, if it is bound to one

    @property
    def kiosk_id(self) -> str:
        """The kiosk this user issues at: its bound kiosk, else its own name (the old rule)."""
        return self.kiosk or self.username

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def may(self, *roles: str) -> bool:
        """True if this role is one of `roles` (a manager may do everything)."""
        return self.role == "manager" or self.role in roles


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _ttl_seconds(role: str = "", page: bool = False) -> int:
    """A login's longest life: a kiosk's page login gets the device lifetime, all else the TTL."""
    cfg = current.config().auth
    if page and role == "kiosk":
        return cfg.kiosk_login_days * 86400
    return cfg.token_ttl_hours * 3600


def _claims(user: User, now: float | None = None, page: bool = False) -> dict[str, Any]:
    now = time.time() if now is None else now
    ttl = _ttl_seconds(user.role, page)
    return {
        "u": user.username,
        "r": user.role,
        "h": _fingerprint(user),
        "sid": secrets.token_urlsafe(12),
        "iat": int(now),
        "exp": int(now) + ttl,
    }


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(user: User, now: float | None = None) -> tuple[str, Principal]:
    """A signed bearer token for `user` and the principal it stands for."""
    claims = _claims(user, now)
    principal = Principal(user.username, user.role, claims["exp"], claims["sid"], user.kiosk)
    return _serializer().dumps(claims), principal


def _check_claims(claims: Any, page: bool = False) -> Principal | None:
    """The principal if the claims are well-formed, unexpired and match the stored user.

    `page`: they come from the session cookie (where a kiosk's login lives longer).
    """
    if not isinstance(claims, dict):
        return None
    username, role, fp, sid, iat, exp = (
        claims.get(k) for k in ("u", "r", "h", "sid", "iat", "exp")
    )
    if not (
        isinstance(username, str)
        and isinstance(role, str)
        and isinstance(sid, str)
        and type(iat) is int
        and type(exp) is int
    ):
        return None
    now = time.time()
    ttl = _ttl_seconds(role, page)  # the claimed role must then match the stored user's
    # Never longer than the configured TTL, whatever the token says about itself.
    if not (now < exp <= iat + ttl and iat <= now + CLOCK_SKEW_S):
        return None
    user = current.users().get(username)  # cached until any process changes a user
    if user is None or user.role != role or _fingerprint(user) != fp:
        return None
    if current.users().session_ended(sid, now):
        return None
    return Principal(user.username, user.role, exp, sid, user.kiosk)


def verify_token(token: str) -> Principal | None:
    """The principal of a bearer token, or None if it is forged, expired or stale."""
    if not isinstance(token, str) or not token or len(token) > 1024:
        return None
    try:
        claims = _serializer().loads(token)
    except BadSignature:
        return None
    return _check_claims(claims)


def start_session(user: User) -> Principal:
    """Log `user` in on the session cookie (pages); a kiosk's cookie outlives the browser."""
    claims = _claims(user, page=True)
    session[SESSION_KEY] = claims  # replaces any earlier login; other keys (language) stay
    # A kiosk PC must come back in service after a reboot with nobody at a keyboard;
    # a staff login still dies with the browser (and after token_ttl_hours).
    session.permanent = user.role == "kiosk"
    return Principal(user.username, user.role, claims["exp"], claims["sid"], user.kiosk)


def end_login(principal: Principal) -> None:
    """End one login (token or session) in the store: copies of it stop working."""
    if principal.login_id:
        current.store().end_session(principal.login_id, principal.expires_at)


def end_session() -> None:
    """Log the page out: the session's login ends server-side and the cookie forgets it."""
    principal = session_principal()
    if principal is not None:
        end_login(principal)
    session.pop(SESSION_KEY, None)
    session.permanent = False


def session_principal() -> Principal | None:
    """The principal of the session cookie, or None."""
    return _check_claims(session.get(SESSION_KEY), page=True)


def session_expiry(data: Any) -> datetime | None:
    """When a persistent (kiosk) session cookie should expire: with its login; else None."""
    claims = data.get(SESSION_KEY) if getattr(data, "permanent", False) else None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return datetime.fromtimestamp(exp, UTC) if type(exp) is int else None


def _same_origin() -> bool:
    """False if the browser says the request comes from another site (CSRF guard)."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin:
        return True  # not a browser, or one that sends neither: SameSite=Lax still applies
    return urlsplit(origin).netloc == request.host


def current_principal() -> Principal | None:
    """Who sent this request: bearer token first, else the session; None if anonymous.

    A present but bad Authorization header is refused (401) rather than
    silently treated as anonymous, so clients notice expired tokens.
    """
    if "satupintu_principal" in g:
        return g.satupintu_principal
    header = request.headers.get("Authorization", "")
    principal: Principal | None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use the header 'Authorization: Bearer <token>'")
        principal = verify_token(token.strip())
        if principal is None:
            raise Unauthorized("the token is invalid or expired; get a new one")
    else:
        principal = session_principal()
        if principal is not None and request.method not in SAFE_METHODS and not _same_origin():
            raise Forbidden("cross-site request refused")
    g.satupintu_principal = principal
    return principal


def is_staff() -> bool:
    """True if this request comes from a clerk or a manager."""
    principal = current_principal()
    return principal is not None and principal.is_staff


def require(*roles: str) -> Callable[[F], F]:
    """Refuse the view with 401 without credentials, 403 for a role not in `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise Unauthorized("log in first (bearer token or session)")
            if not principal.may(*roles):
                allowed = ", ".join(dict.fromkeys((*roles, "manager")))
                raise Forbidden(f"the {principal.role} role may not do this (allowed: {allowed})")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
