"""Users, tokens and sessions: who may log in, and when a credential stops working."""

from __future__ import annotations

import time

import pytest

from satupintu import users
from satupintu.auth import issue_token
from satupintu.errors import BadRequest
from satupintu.store.base import User
from tests.apihelpers import PASSWORD, Actor, put_user, token_for

# -- users.py (the CLI's functions) ------------------------------------------------


def test_add_list_authenticate_remove(store):
    assert users.list_users(store) == []  # no default user exists
    assert users.authenticate(store, "admin", "admin") is None
    user = users.add_user(store, "siti.rahma", "clerk", "panjang-sekali")
    assert user.role == "clerk" and user.password_hash != "panjang-sekali"
    assert users.authenticate(store, "siti.rahma", "panjang-sekali") == user
    assert users.authenticate(store, "siti.rahma", "salah-sandi") is None
    assert users.authenticate(store, "nobody", "panjang-sekali") is None
    assert [u.username for u in users.list_users(store)] == ["siti.rahma"]
    with pytest.raises(users.UserExists):
        users.add_user(store, "siti.rahma", "manager", "lain-lagi-123")
    users.add_user(store, "siti.rahma", "manager", "lain-lagi-123", replace=True)
    assert users.authenticate(store, "siti.rahma", "lain-lagi-123").role == "manager"
    users.remove_user(store, "siti.rahma")
    assert users.list_users(store) == []
    with pytest.raises(users.NoSuchUser):
        users.remove_user(store, "siti.rahma")


@pytest.mark.parametrize("username,role,password,field", [
    ("A", "clerk", "12345678", "username"),
    ("Budi", "clerk", "12345678", "username"),  # capitals
    ("budi santoso", "clerk", "12345678", "username"),
    ("b" * 33, "clerk", "12345678", "username"),
    ("budi", "admin", "12345678", "role"),
    ("budi", "clerk", "1234567", "password"),
    ("budi", "clerk", "x" * 129, "password"),
])
def test_add_user_validates(tmp_path, username, role, password, field):
    from satupintu.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "u.db")
    with pytest.raises(BadRequest) as info:
        users.add_user(store, username, role, password)
    assert info.value.details["field"] == field
    assert store.users() == []
    store.close()


# -- tokens ------------------------------------------------------------------------


def login(anon: Actor, username: str, password: str = PASSWORD, expect: int = 200):
    return anon.post("/auth/token", expect, json={"username": username, "password": password})


def test_wrong_password_and_unknown_user_are_the_same_401(app, anon):
    put_user(app, "kiosk1", "kiosk")
    for name, password in (("kiosk1", "not-the-password"), ("ghost", PASSWORD)):
        body = login(anon, name, password, expect=401).get_json()
        assert body == {"error": "invalid_credentials", "message": "wrong username or password"}


def test_token_works_until_user_removed(app, anon):
    put_user(app, "kiosk1", "kiosk")
    token = login(anon, "kiosk1").get_json()["token"]
    me = anon.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["username"] == "kiosk1" and me["role"] == "kiosk"
    users.remove_user(app.extensions["satupintu.store"], "kiosk1")
    refused = anon.get("/auth/me", 401, headers={"Authorization": f"Bearer {token}"})
    assert refused.get_json()["error"] == "unauthorized"


def test_token_refused_after_role_change_or_password_reset(app):
    user = put_user(app, "budi", "clerk")
    actor = Actor(app, token_for(app, user))
    actor.post("/counters/1/open")
    put_user(app, "budi", "manager")  # promoted: the old clerk token must not carry over
    assert actor.post("/counters/1/pause", 401).get_json()["error"] == "unauthorized"

    user = put_user(app, "budi", "clerk")
    actor = Actor(app, token_for(app, user))
    actor.post("/counters/1/pause")
    store = app.extensions["satupintu.store"]
    store.put_user(User("budi", "clerk", "scrypt:other-hash", time.time()))
    actor.post("/counters/1/open", 401)


def test_expired_and_forged_tokens(app, anon):
    user = put_user(app, "kiosk1", "kiosk")
    ttl = app.extensions["satupintu.config"].auth.token_ttl_hours * 3600
    with app.app_context():
        old, principal = issue_token(user, now=time.time() - ttl - 1)
        fresh, _ = issue_token(user)
    assert principal.expires_at < time.time()
    for token in (old, fresh[:-2] + "xx", "garbage", "a" * 5000):
        body = anon.get("/auth/me", 401, headers={"Authorization": f"Bearer {token}"}).get_json()
        assert body["error"] == "unauthorized"
    anon.get("/auth/me", headers={"Authorization": f"Bearer {fresh}"})


def test_token_from_another_app_secret_is_refused(make_app, app):
    user = put_user(app, "kiosk1", "kiosk")
    other = make_app(overrides={"SECRET_KEY": "another-office"})
    put_user(other, "kiosk1", "kiosk")
    Actor(other, token_for(app, user)).get("/auth/me", 401)


@pytest.mark.parametrize("header", ["Basic a2lvc2sxOnNlY3JldA==", "Bearer", "Bearer   ", "Token x"])
def test_bad_authorization_header_is_401_even_on_public_routes(anon, header):
    body = anon.get("/services", 401, headers={"Authorization": header}).get_json()
    assert body["error"] == "unauthorized"


def test_me_without_credentials(anon):
    assert anon.get("/auth/me", 401).get_json()["error"] == "unauthorized"


def test_failed_logins_are_limited_per_name(app, anon):
    put_user(app, "kiosk1", "kiosk")
    for _ in range(10):
        login(anon, "kiosk1", "tebak-tebakan", expect=401)
    # Cut off even with the right password: guessing further tells nothing.
    refused = login(anon, "kiosk1", PASSWORD, expect=429)
    assert refused.get_json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    put_user(app, "kiosk2", "kiosk")
    login(anon, "kiosk2")  # other names are unaffected
    limiter = app.extensions["satupintu.login_limiter"]
    limiter.clock = lambda: time.monotonic() + 61
    login(anon, "kiosk1")


# -- sessions (pages) ---------------------------------------------------------------


def test_session_login_me_logout(app, anon):
    put_user(app, "siti", "clerk")
    body = anon.post("/auth/session", json={"username": "siti", "password": PASSWORD}).get_json()
    assert body["username"] == "siti" and body["role"] == "clerk"
    assert "token" not in body
    cookie = anon.client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert anon.get("/auth/me").get_json()["username"] == "siti"
    opened = anon.post("/counters/1/open").get_json()
    assert opened["counter"]["clerk"] == "siti"
    anon.post("/auth/logout", 204)
    anon.get("/auth/me", 401)
    anon.post("/counters/1/pause", 401)


def test_session_refused_after_user_removed(app, anon):
    put_user(app, "siti", "clerk")
    anon.post("/auth/session", json={"username": "siti", "password": PASSWORD})
    users.remove_user(app.extensions["satupintu.store"], "siti")
    anon.get("/auth/me", 401)
    anon.post("/counters/1/open", 401)


def test_session_wrong_password(app, anon):
    put_user(app, "siti", "clerk")
    anon.post("/auth/session", 401, json={"username": "siti", "password": "bukan-ini-123"})
    assert anon.client.get_cookie("session") is None


def test_session_post_from_another_site_is_refused(app, anon):
    put_user(app, "siti", "clerk")
    anon.post("/auth/session", json={"username": "siti", "password": PASSWORD})
    before = anon.get("/counters/1").get_json()
    for origin in ("http://evil.example", "null"):
        body = anon.post("/counters/1/open", 403, headers={"Origin": origin}).get_json()
        assert body["error"] == "forbidden"
    assert anon.get("/counters/1").get_json() == before
    anon.post("/counters/1/open", headers={"Origin": "http://localhost"})


@pytest.mark.parametrize("api_backend", [pytest.param("redis", marks=pytest.mark.redis)],
                         indirect=True)
def test_processes_sharing_redis_accept_each_others_tokens(make_app):
    first, second = make_app(), make_app()  # like two server processes of one office
    user = put_user(first, "kiosk1", "kiosk")
    token = token_for(first, user)
    assert Actor(second, token).take_ticket("ktp")["number"] == "A001"
    users.remove_user(second.extensions["satupintu.store"], "kiosk1")
    Actor(first, token).post("/tickets", 401, json={"service": "ktp"})
