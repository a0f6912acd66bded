"""Who may try a password now: limits per client address and per account, and known devices.

Every attempt is counted before the password is checked (atomically, in the
store), so parallel guesses cannot slip past the limit. Two limits apply to a
device the account has not logged in from: attempts per client address (any
names: spraying one password over many accounts) and failures per account
(any address: guessing one account's password). A successful login leaves a
signed "known device" cookie naming the account; from such a device the
account's own limit is replaced by one per device and account, so a stranger
who spends the account's failures cannot lock its real user out.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response, after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from .. import current
from ..current import Part
from ..errors import InvalidCredentials, RateLimited
from ..proxy import cookie_secure
from ..ratelimit import Limiter
from ..store.base import User
from ..users import authenticate

DEVICE_COOKIE = "satupintu_device"
DEVICE_SALT = "satupintu.known-device"
DEVICE_MAX_AGE = 180 * 24 * 3600
DEVICE_NAMES = 8  # accounts remembered per device (a shared desk PC)
WINDOW = 60.0


# The app's limiters (tests may move their clocks).
account_limiter: Part[Limiter] = Part("login_limiter")
address_limiter: Part[Limiter] = Part("address_limiter")
device_limiter: Part[Limiter] = Part("device_limiter")
issue_limiter: Part[Limiter] = Part("issue_limiter")


def init_login_guard(app: Flask) -> None:
    """The app's login and issuing limiters, over its store."""
    cfg = current.config.get(app).auth
    store = current.store.get(app)
    account_limiter.set(app, Limiter(store, "login-account", cfg.failed_logins_per_minute, WINDOW))
    address_limiter.set(
        app, Limiter(store, "login-address", cfg.logins_per_address_per_minute, WINDOW)
    )
    device_limiter.set(app, Limiter(store, "login-device", cfg.failed_logins_per_minute, WINDOW))
    issue_limiter.set(app, Limiter(store, "issue", cfg.issue_per_minute, WINDOW))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT)


def _device() -> dict[str, Any] | None:
    """The signed known-device cookie of this request: {"d": id, "u": [names]}, or None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 2048:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    ok = (
        isinstance(data, dict)
        and isinstance(data.get("d"), str)
        and isinstance(data.get("u"), list)
    )
    return data if ok else None


def _refuse(wait: float, message: str) -> RateLimited:
    return RateLimited(message, retry_after=int(wait) + 1)


def check_login(username: str, password: str) -> User:
    """The user for these credentials; 401 if wrong, 429 while this attempt is over a limit."""
    device = _device()
    known = device is not None and username in device["u"]
    if known:
        assert device is not None
        own_key, own = f"{device['d']}:{username}", device_limiter()
        wait = own.hit(own_key)
        if wait:
            raise _refuse(wait, "too many failed logins on this device; wait a minute")
    else:
        wait = address_limiter().hit(request.remote_addr or "")
        if wait:
            raise _refuse(wait, "too many login attempts from this address; wait a minute")
        own_key, own = username, account_limiter()
        wait = own.hit(own_key)
        if wait:
            raise _refuse(
                wait,
                "too many failed logins for this account; wait a minute "
                "(a device that logged in to it before is not held up)",
            )
    user = authenticate(current.store(), username, password)
    if user is None:
        raise InvalidCredentials("wrong username or password")
    # Only failures count against the account or the device: its user is back.
    own.reset(own_key)
    account_limiter().reset(username)
    after_this_request(lambda response: remember_device(response, user.username))
    return user


def remember_device(response: Response, username: str) -> Response:
    """Set the known-device cookie so this account's limit no longer holds this device up."""
    device = _device() or {"d": secrets.token_urlsafe(12), "u": []}
    names = [n for n in device["u"] if n != username and isinstance(n, str)]
    device["u"] = [username, *names][:DEVICE_NAMES]
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(device),
        max_age=DEVICE_MAX_AGE,
        path="/api/v1/auth",
        httponly=True,
        samesite="Lax",
        secure=cookie_secure(),
    )
    return response
