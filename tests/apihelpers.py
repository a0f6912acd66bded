"""API test fixtures and action helpers (like flaskr's AuthActions).

Loaded for every test through `pytest_plugins` in tests/conftest.py:

- `make_app(**config_changes)` builds an app on the parametrized backend
  (sqlite and redis), `app` is the default one, `client` its test client;
- `kiosk`, `clerk`, `manager`: `Actor`s holding a bearer token of a user with
  that role, with helpers: `kiosk.take_ticket("ktp")`, `clerk.open("1")`,
  `clerk.call_next("1")`, `clerk.act("1", "complete")` ...;
- `anon`: an Actor without credentials;
- `socket_client(room=None, token=None)`: a Flask-SocketIO test client, joined
  (tests using it take `app` from `socket_app`: the test client refuses a
  message queue, so Redis fan-out is tested with real processes elsewhere).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from werkzeug.security import generate_password_hash

from satupintu import current
from satupintu.app import create_app, socketio
from satupintu.auth import issue_token
from satupintu.config import Config, StoreConfig
from satupintu.store.base import User

PASSWORD = "rahasia-kantor-1"
API = "/api/v1"
_HASH: list[str] = []


def password_hash() -> str:
    """One scrypt hash for every test user (hashing is slow on purpose)."""
    if not _HASH:
        _HASH.append(generate_password_hash(PASSWORD))
    return _HASH[0]


def put_user(app: Any, username: str, role: str) -> User:
    user = User(username, role, password_hash(), time.time())
    current.store.get(app).put_user(user)
    return user


def token_for(app: Any, user: User) -> str:
    with app.app_context():
        return issue_token(user)[0]


class Actor:
    """A test client that sends one user's bearer token with every request."""

    def __init__(self, app: Any, token: str | None = None, username: str = ""):
        self.app = app
        self.client = app.test_client()
        self.token = token
        self.username = username

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> Any:
        """Send a request to /api/v1 + path; check the status if `expect` is given."""
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        response = self.client.open(API + path, method=method, headers=headers, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.get_data())
        return response

    def get(self, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return self.request("GET", path, expect, **kw)

    def post(self, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return self.request("POST", path, expect, **kw)

    def put(self, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return self.request("PUT", path, expect, **kw)

    # -- kiosk --------------------------------------------------------------

    def take_ticket(
        self, service: str = "ktp", priority: str = "", expect: int = 201
    ) -> dict[str, Any]:
        """Issue a ticket; returns the JSON body."""
        body: dict[str, Any] = {"service": service}
        if priority:
            body["priority"] = priority
        return self.post("/tickets", expect, json=body).get_json()

    # -- counter ------------------------------------------------------------

    def act(self, counter: str, action: str, expect: int = 200, **kw: Any) -> Any:
        """POST /counters/<counter>/<action>; the JSON body (None for 204)."""
        response = self.post(f"/counters/{counter}/{action}", expect, **kw)
        return response.get_json() if response.status_code != 204 else None

    def open(self, counter: str = "1") -> Any:
        return self.act(counter, "open")

    def call_next(self, counter: str = "1", expect: int = 200) -> Any:
        return self.act(counter, "call-next", expect)

    def call(self, counter: str, ticket: str, expect: int = 200) -> Any:
        return self.act(counter, "call", expect, json={"ticket": ticket})

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        return self.get(f"/tickets/{ticket_id}").get_json()

    def snapshot(self) -> dict[str, Any]:
        return self.get("/snapshot").get_json()


def api_routes(app: Any) -> set[tuple[str, str]]:
    """Every (METHOD, /api/v1 path as OpenAPI writes it) the app serves, from its URL map.

    APIFlask's own routes (the OpenAPI document and its docs page) are left out.
    """
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/") or rule.endpoint.startswith("openapi."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=BACKENDS)
def api_backend(request: pytest.FixtureRequest) -> str:
    """The store backend the API tests run on (both)."""
    return request.param


@pytest.fixture
def make_app(
    api_backend: str, request: pytest.FixtureRequest, tmp_path: Path, config: Config
) -> Iterator[Callable[..., Any]]:
    """Build an app on the current backend; keyword args replace Config fields.

    On Redis every app of one test shares one (wiped) database, like several
    server processes of one office would.
    """
    apps: list[Any] = []

    def build(overrides: dict[str, Any] | None = None, **changes: Any) -> Any:
        cfg = dataclasses.replace(config, **changes)
        if api_backend == "redis":
            server = request.getfixturevalue("redis_server")
            if not apps:  # a second app in the same test shares the first one's data
                client = redis.Redis.from_url(server.url)
                client.flushdb()
                client.close()
            cfg = dataclasses.replace(cfg, store=StoreConfig(backend="redis", url=server.url))
        app = create_app(cfg, data_dir=tmp_path / f"app{len(apps)}", overrides=overrides)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        printing = current.printing.find(app)
        if printing is not None:  # a print the test's last request queued writes to the store
            printing.wait_idle()
        current.store.get(app).close()


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def actor(app: Any, username: str, role: str) -> Actor:
    """A user with `role` and a client carrying its token."""
    user = put_user(app, username, role)
    return Actor(app, token_for(app, user), username)


@pytest.fixture
def kiosk(app: Any) -> Actor:
    return actor(app, "kiosk1", "kiosk")


@pytest.fixture
def clerk(app: Any) -> Actor:
    return actor(app, "clerk1", "clerk")


@pytest.fixture
def manager(app: Any) -> Actor:
    return actor(app, "manager1", "manager")


@pytest.fixture
def anon(app: Any) -> Actor:
    return Actor(app)


@pytest.fixture
def socket_app(make_app: Callable[..., Any]) -> Any:
    """An app without the Redis message queue: Flask-SocketIO's test client refuses one."""
    return make_app(overrides={"SATUPINTU_MESSAGE_QUEUE": None})


@pytest.fixture
def socket_client(app: Any) -> Iterator[Callable[..., Any]]:
    """Factory: a connected Socket.IO test client, joined to `room` if given."""
    clients: list[Any] = []

    def connect(room: str | None = None, token: str | None = None, flask_client: Any = None) -> Any:
        sc = socketio.test_client(app, flask_test_client=flask_client)
        assert sc.is_connected()
        clients.append(sc)
        if room is not None:
            ack = join(sc, room, token)
            assert ack["ok"], ack
        return sc

    yield connect
    for sc in clients:
        if sc.is_connected():
            sc.disconnect()


def join(sc: Any, room: str, token: str | None = None) -> dict[str, Any]:
    """Emit `join` and return the ack."""
    data: dict[str, Any] = {"room": room}
    if token is not None:
        data["token"] = token
    return sc.emit("join", data, callback=True)


def received(
    sc: Any,
    name: str | None = None,
    wait: float = 0.0,
    count: int = 1,
    frames: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Events received so far (of event `name`), waiting up to `wait` s for `count` of them.

    The events inside `changes` frames are unpacked ({"event": name, **payload});
    the frames themselves are appended to `frames` if given.
    """
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait
    while True:
        for packet in sc.get_received():
            payload = packet["args"][0] if packet["args"] else {}
            if packet["name"] == "changes":
                if frames is not None:
                    frames.append(payload)
                got.extend(e for e in payload["events"] if name is None or e["event"] == name)
            elif name is None or packet["name"] == name:
                got.append({"event": packet["name"], **payload})
        if len(got) >= count or time.monotonic() >= deadline:
            return got
        time.sleep(0.02)
