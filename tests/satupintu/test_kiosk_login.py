"""A kiosk's page login survives browser restarts for `auth.kiosk_login_days`; staff's do not."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from satupintu import auth as auth_module
from satupintu import current, users
from satupintu.auth import SESSION_KEY
from satupintu.config import AuthConfig
from satupintu.store.base import User
from tests.apihelpers import PASSWORD, Actor, put_user, token_for

DAYS = 30  # not the default (90): the configured value is the one used
TTL_HOURS = 12


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app(auth=AuthConfig(token_ttl_hours=TTL_HOURS, kiosk_login_days=DAYS))


def log_in(app: Any, username: str) -> Actor:
    """A browser-like client logged in on the session cookie."""
    actor = Actor(app)
    actor.post("/auth/session", json={"username": username, "password": PASSWORD})
    return actor


def aged_session(app: Any, user: User, age_s: float, **change: Any) -> Actor:
    """A client holding a page login of `user` issued `age_s` seconds ago (the clock moved)."""
    with app.test_request_context():
        claims = {**auth_module._claims(user, now=time.time() - age_s, page=True), **change}
    actor = Actor(app)
    with actor.client.session_transaction() as sess:
        sess[SESSION_KEY] = claims
        sess.permanent = user.role == "kiosk"
    return actor


def expires_in(actor: Actor) -> float | None:
    """Seconds until the session cookie expires; None for a browser-session cookie."""
    cookie = actor.client.get_cookie("session")
    assert cookie is not None
    return None if cookie.expires is None else cookie.expires.timestamp() - time.time()


def me_expires_in(actor: Actor) -> float:
    at = actor.get("/auth/me").get_json()["expires_at"]
    return datetime.fromisoformat(at).astimezone(UTC).timestamp() - time.time()


def test_a_kiosk_login_cookie_is_persistent_for_the_configured_days_and_a_clerks_is_not(app):
    put_user(app, "k1", "kiosk")
    put_user(app, "siti", "clerk")
    kiosk = log_in(app, "k1")
    left = expires_in(kiosk)
    assert left is not None and abs(left - DAYS * 86400) < 120  # Expires: a reboot keeps it
    assert abs(me_expires_in(kiosk) - DAYS * 86400) < 120
    cookie = kiosk.client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"  # the same cookie rules as before
    # The cookie's life follows the login, it does not slide with each request.
    kiosk.get("/auth/me")
    assert abs(expires_in(kiosk) - left) < 5
    kiosk.take_ticket()

    # The positive control: a clerk's login dies with the browser and lasts token_ttl_hours.
    clerk = log_in(app, "siti")
    assert expires_in(clerk) is None
    assert 0 < me_expires_in(clerk) <= TTL_HOURS * 3600
    # A clerk logging in on a browser that held a kiosk's login does not inherit its life.
    kiosk.post("/auth/session", json={"username": "siti", "password": PASSWORD})
    assert expires_in(kiosk) is None


def test_a_kiosk_login_is_refused_after_its_days_but_not_after_token_ttl_hours(app):
    k1 = put_user(app, "k1", "kiosk")
    siti = put_user(app, "siti", "clerk")
    a_night = (TTL_HOURS + 1) * 3600
    # Over a night (past token_ttl_hours): the kiosk is still in, the clerk must log in again.
    aged_session(app, k1, a_night).take_ticket()
    aged_session(app, siti, a_night).get("/auth/me", 401)
    aged_session(app, siti, TTL_HOURS * 3600 - 60).get("/auth/me")  # control: a fresh one works
    # Past the kiosk's days: refused.
    aged_session(app, k1, DAYS * 86400 - 60).get("/auth/me")
    aged_session(app, k1, DAYS * 86400 + 1).get("/auth/me", 401)
    aged_session(app, k1, DAYS * 86400 + 1).take_ticket(expect=401)
    # The cap: a kiosk login claiming a longer life than the configured days is refused,
    # and a clerk's claiming the kiosk's life too (it is the kiosk role's only).
    with app.test_request_context():
        fresh = auth_module._claims(k1, page=True)
        clerk_fresh = auth_module._claims(siti, page=True)
    aged_session(app, k1, 0, exp=fresh["exp"] + 86400).get("/auth/me", 401)
    aged_session(app, siti, 0, exp=clerk_fresh["exp"] + 86400).get("/auth/me", 401)
    # A kiosk's bearer token keeps token_ttl_hours: only the page cookie lives longer.
    with app.app_context():
        old_token, _ = auth_module.issue_token(k1, now=time.time() - a_night)
    Actor(app, old_token).get("/auth/me", 401)
    Actor(app, token_for(app, k1)).get("/auth/me")  # control


def test_logout_password_reset_role_change_and_removal_still_end_a_kiosk_login(app):
    put_user(app, "k1", "kiosk")
    kiosk = log_in(app, "k1")
    copy = Actor(app)
    copy.client.set_cookie("session", kiosk.client.get_cookie("session").value)
    assert copy.get("/auth/me").get_json()["username"] == "k1"  # the copy works ...
    kiosk.post("/auth/logout", 204)
    kiosk.get("/auth/me", 401)
    copy.get("/auth/me", 401)  # ... until the kiosk logs out
    copy.take_ticket(expect=401)

    store = current.store.get(app)
    kiosk = log_in(app, "k1")
    kiosk.take_ticket()  # a new login works (the control)
    store.put_user(User("k1", "kiosk", "scrypt:another-hash", time.time()))  # password reset
    kiosk.get("/auth/me", 401)

    put_user(app, "k1", "kiosk")
    kiosk = log_in(app, "k1")
    kiosk.get("/auth/me")
    put_user(app, "k1", "clerk")  # role change
    kiosk.get("/auth/me", 401)

    put_user(app, "k1", "kiosk")
    kiosk = log_in(app, "k1")
    kiosk.get("/auth/me")
    users.remove_user(store, "k1")
    kiosk.get("/auth/me", 401)
