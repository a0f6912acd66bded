"""Users, tokens and sessions: who may log in, and when a credential stops working."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from satupintu import auth as auth_module
from satupintu import current, users
from satupintu.api.login_guard import account_limiter
from satupintu.auth import issue_token
from satupintu.config import AuthConfig
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


@pytest.mark.parametrize(
    "username,role,password,field",
    [
        ("A", "clerk", "12345678", "username"),
        ("Budi", "clerk", "12345678", "username"),  # capitals
        ("budi santoso", "clerk", "12345678", "username"),
        ("b" * 33, "clerk", "12345678", "username"),
        ("budi", "admin", "12345678", "role"),
        ("budi", "clerk", "1234567", "password"),
        ("budi", "clerk", "x" * 129, "password"),
        ("budi", "clerk", " " * 8, "password"),  # blank
        ("budi", "clerk", " \t" * 6, "password"),
        ("budi", "clerk", "  kunci1  ", "password"),  # 6 characters and padding
        ("budi", "clerk", "12345678", "password"),  # a run
        ("budi", "clerk", "HGFEDCBA", "password"),
        ("budi", "clerk", "aaaaaaaaaaaa", "password"),  # too few different characters
        ("budi", "clerk", "12121212", "password"),
        ("budi", "clerk", "Password123", "password"),  # a common one
        ("budi", "clerk", "budi-budi-budi", "password"),  # the name
    ],
)
def test_add_user_validates(tmp_path, username, role, password, field):
    """Every refusal names its field (the CLI and POST /users use this same check)."""
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
    users.remove_user(current.store.get(app), "kiosk1")
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
    store = current.store.get(app)
    store.put_user(User("budi", "clerk", "scrypt:other-hash", time.time()))
    actor.post("/counters/1/open", 401)


def test_expired_and_forged_tokens(app, anon):
    user = put_user(app, "kiosk1", "kiosk")
    ttl = current.config.get(app).auth.token_ttl_hours * 3600
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


def test_failed_logins_are_limited_per_account(app, anon):
    put_user(app, "kiosk1", "kiosk")
    for _ in range(10):
        login(anon, "kiosk1", "tebak-tebakan", expect=401)
    # Cut off even with the right password from a device the account does not know.
    refused = login(anon, "kiosk1", PASSWORD, expect=429)
    assert refused.get_json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    put_user(app, "kiosk2", "kiosk")
    login(anon, "kiosk2")  # other names are unaffected
    limiter = account_limiter.get(app)
    limiter.clock = lambda: time.time() + 61
    login(anon, "kiosk1")


def from_address(app, address: str) -> Actor:
    """A client whose connection comes from `address` (a fresh device: no cookies)."""
    actor = Actor(app)
    actor.client.environ_base["REMOTE_ADDR"] = address
    return actor


def test_150_parallel_wrong_passwords_get_at_most_the_limit(make_app):
    """Check and count are one atomic step: racing guesses cannot slip past the limit."""
    app = make_app()
    put_user(app, "boss", "manager")

    def guess(i: int) -> int:
        actor = from_address(app, f"10.9.{i // 250}.{i % 250 + 1}")  # 150 addresses
        return login(actor, "boss", f"tebakan-{i:04d}", expect=None).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = Counter(pool.map(guess, range(150)))
    assert set(statuses) <= {401, 429}, statuses
    assert 1 <= statuses[401] <= 10, statuses
    assert statuses[429] == 150 - statuses[401]


def test_spraying_many_accounts_from_one_address_is_limited(app):
    for i in range(60):
        put_user(app, f"clerk{i:02d}", "clerk")
    sprayer = from_address(app, "10.0.0.66")
    statuses = [
        login(sprayer, f"clerk{i:02d}", "Jakarta2025!", expect=None).status_code for i in range(60)
    ]
    assert statuses[:30] == [401] * 30  # [auth] logins_per_address_per_minute
    assert statuses[30:] == [429] * 30
    # Another address is not held up (the positive control), nor are the accounts.
    assert login(from_address(app, "10.0.0.7"), "clerk59", "Jakarta2025!", expect=401)
    login(from_address(app, "10.0.0.7"), "clerk59")


def test_a_stranger_cannot_lock_the_real_user_out_of_a_known_device(app):
    put_user(app, "boss", "manager")
    desk = from_address(app, "10.0.0.10")
    login(desk, "boss")  # the manager's own PC: now a known device for "boss"
    assert desk.client.get_cookie("satupintu_device", path="/api/v1/auth").http_only
    attacker = from_address(app, "10.0.0.66")
    for _ in range(10):
        login(attacker, "boss", "tebak-tebakan", expect=401)
    login(attacker, "boss", PASSWORD, expect=429)  # the account is held for strangers ...
    login(from_address(app, "10.0.0.11"), "boss", expect=429)  # ... and unknown devices
    login(desk, "boss")  # ... but not for the device it logged in from
    # The known device has its own limit: it cannot be used to guess on forever.
    for _ in range(10):
        login(desk, "boss", "tebak-tebakan", expect=401)
    login(desk, "boss", PASSWORD, expect=429)


def test_a_forged_device_cookie_counts_for_nothing(app):
    put_user(app, "boss", "manager")
    attacker = from_address(app, "10.0.0.66")
    attacker.client.set_cookie("satupintu_device", '{"d": "x", "u": ["boss"]}', path="/api/v1/auth")
    for _ in range(10):
        login(attacker, "boss", "tebak-tebakan", expect=401)
    login(attacker, "boss", PASSWORD, expect=429)


def test_forwarded_for_counts_only_from_a_trusted_proxy(make_app):
    # [server] trusted_proxies defaults to 127.0.0.1 and ::1
    app = make_app(auth=AuthConfig(logins_per_address_per_minute=4))
    for i in range(6):
        put_user(app, f"clerk{i:02d}", "clerk")

    def attempts(remote: str) -> list[int]:
        statuses = []
        for i in range(6):
            actor = from_address(app, remote)
            headers = {"X-Forwarded-For": f"203.0.113.{i + 1}"}
            statuses.append(
                actor.post(
                    "/auth/token",
                    None,
                    headers=headers,
                    json={"username": f"clerk{i:02d}", "password": "Jakarta2025!"},
                ).status_code
            )
        return statuses

    # nginx on this machine: each citizen's address counts on its own.
    assert attempts("127.0.0.1") == [401] * 6
    # Anyone else sending the header: it is ignored, their own address is limited.
    assert attempts("10.0.0.66") == [401] * 4 + [429] * 2


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


def test_logout_ends_the_session_server_side(app, anon):
    """A copy of the cookie taken before logging out no longer works after it."""
    put_user(app, "siti", "clerk")
    anon.post("/auth/session", json={"username": "siti", "password": PASSWORD})
    stolen = anon.client.get_cookie("session").value
    thief = Actor(app)
    thief.client.set_cookie("session", stolen)
    assert thief.get("/auth/me").get_json()["username"] == "siti"  # the copy works ...
    anon.post("/auth/logout", 204)
    thief.get("/auth/me", 401)  # ... until its owner logs out
    thief.post("/counters/1/open", 401)
    # Logging in again is a new login, which works (the positive control).
    anon.post("/auth/session", json={"username": "siti", "password": PASSWORD})
    assert anon.get("/auth/me").get_json()["username"] == "siti"


def test_logout_with_a_bearer_token_ends_that_token(app):
    user = put_user(app, "kiosk1", "kiosk")
    first, second = Actor(app, token_for(app, user)), Actor(app, token_for(app, user))
    first.post("/auth/logout", 204)
    first.get("/auth/me", 401)
    assert second.get("/auth/me").get_json()["username"] == "kiosk1"  # only that token


def test_a_token_living_longer_than_the_configured_ttl_is_refused(app, anon):
    """Whoever holds the secret (or an older, longer TTL) cannot make a 3-year token."""
    user = put_user(app, "boss", "manager")
    with app.app_context():
        token, _ = issue_token(user)
        claims = auth_module._serializer().loads(token)
        forged = []
        for change in (
            {"exp": claims["exp"] + 3 * 365 * 86400},  # a long life
            {
                "iat": claims["iat"] + 3 * 365 * 86400,  # a long life, issued later
                "exp": claims["exp"] + 3 * 365 * 86400,
            },
            {"iat": None},
            {"sid": None},
        ):
            forged.append(auth_module._serializer().dumps({**claims, **change}))
    for bad in forged:
        anon.get("/auth/me", 401, headers={"Authorization": f"Bearer {bad}"})
    anon.get("/auth/me", headers={"Authorization": f"Bearer {token}"})  # the real one works


def test_session_refused_after_user_removed(app, anon):
    put_user(app, "siti", "clerk")
    anon.post("/auth/session", json={"username": "siti", "password": PASSWORD})
    users.remove_user(current.store.get(app), "siti")
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


@pytest.mark.parametrize(
    "api_backend", [pytest.param("redis", marks=pytest.mark.redis)], indirect=True
)
def test_processes_sharing_redis_accept_each_others_tokens(make_app):
    first, second = make_app(), make_app()  # like two server processes of one office
    user = put_user(first, "kiosk1", "kiosk")
    token = token_for(first, user)
    assert Actor(second, token).take_ticket("ktp")["number"] == "A001"
    users.remove_user(current.store.get(second), "kiosk1")
    # The first process learns it over Redis pub/sub (its users cache): milliseconds.
    deadline = time.monotonic() + 2
    while Actor(first, token).post("/tickets", None, json={"service": "ktp"}).status_code != 401:
        assert time.monotonic() < deadline, "the removed user's token still works"
        time.sleep(0.01)


# -- behind HTTPS ---------------------------------------------------------------------


def session_cookie_flags(app, remote: str, headers: dict[str, str], **kw) -> tuple[bool, bool]:
    """(session cookie Secure?, known-device cookie Secure?) after a page login."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    response = client.post(
        "/api/v1/auth/session",
        headers=headers,
        **kw,
        json={"username": "siti", "password": PASSWORD},
    )
    assert response.status_code == 200, response.get_json()
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    return ("; Secure" in cookies["session"], "; Secure" in cookies["satupintu_device"])


def test_cookies_are_secure_when_the_page_came_over_https(app):
    put_user(app, "siti", "clerk")
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.5"}
    # nginx (a trusted proxy) says the browser used HTTPS: Secure cookies.
    assert session_cookie_flags(app, "127.0.0.1", https) == (True, True)
    # Served over HTTPS directly.
    assert session_cookie_flags(app, "10.0.0.5", {}, base_url="https://localhost") == (True, True)
    # Plain HTTP on the office LAN: a Secure cookie would never come back (the control).
    assert session_cookie_flags(app, "10.0.0.5", {}) == (False, False)
    # Anyone else claiming HTTPS in a header is not believed.
    assert session_cookie_flags(app, "10.0.0.66", https) == (False, False)


def test_secure_cookies_always_and_never(make_app, config):
    for mode, expected in (("always", (True, True)), ("never", (False, False))):
        app = make_app(server=dataclasses.replace(config.server, secure_cookies=mode))
        put_user(app, "siti", "clerk")
        https = {"X-Forwarded-Proto": "https"}
        assert session_cookie_flags(app, "127.0.0.1", https if mode == "never" else {}) == expected
