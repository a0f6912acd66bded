"""Who may call what, derived from the URL map: every /api/v1 route has one rule in RULES,
and every (route, role) pair is called for real. Allowed callers get the route's success
status (the state is set up so the call can succeed); the others get 401 (nobody logged
in) or 403 (the wrong role), and a refused call changes nothing.

A new route without a rule here fails `test_every_api_route_has_a_role_rule`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from printer.service import printing
from satupintu import current
from satupintu.config import KioskConfig
from satupintu.engine import Engine
from satupintu.printer_settings import printer_settings
from tests.apihelpers import PASSWORD, Actor, actor, api_routes, put_user

ROLES = ("anon", "kiosk", "clerk", "manager")
PUBLIC = frozenset(ROLES)
LOGGED_IN = frozenset({"kiosk", "clerk", "manager"})
KIOSK = frozenset({"kiosk", "manager"})
CLERK = frozenset({"clerk", "manager"})
MANAGER = frozenset({"manager"})


@dataclasses.dataclass
class World:
    """One office for one call: an app, its actors, a waiting ticket issued at a kiosk."""

    app: Any
    actors: dict[str, Actor]
    ticket: str  # its id
    paper: Any  # kiosk K1's printer: a file

    @property
    def engine(self) -> Engine:
        return current.engine.get(self.app)


def opened(w: World) -> None:
    w.engine.open_counter("1", clerk="clerk1")


def called(w: World) -> None:
    opened(w)
    assert w.engine.call_next("1").ticket.id == w.ticket


def parked(w: World) -> None:
    called(w)
    w.engine.park("1")


def edited(w: World) -> None:
    w.engine.update_service("ktp", {"daily_quota": 5})


Body = dict[str, Any] | Callable[[World], dict[str, Any]] | None


@dataclasses.dataclass(frozen=True)
class Rule:
    allow: frozenset[str]  # the roles let through; "anon" is nobody logged in
    ok: int = 200  # what an allowed caller gets
    body: Body = None
    setup: Callable[[World], None] | None = None  # so that an allowed call succeeds
    writes: bool = False  # an allowed call changes the office's state


LOGIN = {"username": "someone", "password": PASSWORD}
NEW_USER = {"username": "loket7", "role": "clerk", "password": "kata-sandi-panjang-7"}
A = "/api/v1"
C = f"{A}/counters/{{counter_id}}"
T = f"{A}/tickets/{{ticket_id}}"

RULES: dict[tuple[str, str], Rule] = {
    ("POST", f"{A}/auth/token"): Rule(PUBLIC, body=LOGIN),
    ("POST", f"{A}/auth/session"): Rule(PUBLIC, body=LOGIN),
    ("POST", f"{A}/auth/logout"): Rule(PUBLIC, 204),
    ("GET", f"{A}/auth/me"): Rule(LOGGED_IN),
    ("GET", f"{A}/services"): Rule(PUBLIC),
    ("GET", f"{A}/snapshot"): Rule(PUBLIC),
    ("POST", f"{A}/services"): Rule(
        MANAGER, 201, writes=True, body={"id": "paspor", "prefix": "Q", "name": {"id": "Paspor"}}
    ),
    ("PATCH", f"{A}/services/{{service_id}}"): Rule(MANAGER, body={"daily_quota": 9}, writes=True),
    ("DELETE", f"{A}/services/{{service_id}}/override"): Rule(MANAGER, setup=edited, writes=True),
    ("GET", f"{A}/counters"): Rule(PUBLIC),
    ("GET", C): Rule(PUBLIC),
    ("GET", f"{C}/waiting"): Rule(CLERK),
    ("POST", f"{C}/open"): Rule(CLERK, writes=True),
    ("POST", f"{C}/pause"): Rule(CLERK, setup=opened, writes=True),
    ("POST", f"{C}/close"): Rule(CLERK, setup=opened, writes=True),
    ("POST", f"{C}/call-next"): Rule(CLERK, setup=opened, writes=True),
    ("POST", f"{C}/call"): Rule(
        CLERK, setup=opened, writes=True, body=lambda w: {"ticket": w.ticket}
    ),
    ("POST", f"{C}/recall"): Rule(CLERK, setup=called, writes=True),
    ("POST", f"{C}/start"): Rule(CLERK, setup=called, writes=True),
    ("POST", f"{C}/complete"): Rule(CLERK, setup=called, writes=True),
    ("POST", f"{C}/no-show"): Rule(CLERK, setup=called, writes=True),
    ("POST", f"{C}/park"): Rule(CLERK, setup=called, writes=True),
    ("POST", f"{C}/transfer"): Rule(CLERK, setup=called, writes=True, body={"service": "kk"}),
    ("PUT", f"{C}/services"): Rule(MANAGER, writes=True, body={"services": [{"id": "kk"}]}),
    ("POST", f"{A}/tickets"): Rule(KIOSK, 201, writes=True, body={"service": "ktp"}),
    ("GET", T): Rule(PUBLIC),
    ("POST", f"{T}/cancel"): Rule(CLERK, writes=True),
    ("POST", f"{T}/unpark"): Rule(CLERK, setup=parked, writes=True),
    ("GET", f"{T}/print"): Rule(PUBLIC),
    ("GET", f"{T}/preview.png"): Rule(PUBLIC),
    ("POST", f"{T}/reprint"): Rule(CLERK, 202, writes=True, body={"kiosk": "K1"}),
    ("GET", f"{A}/printers"): Rule(CLERK),
    ("GET", f"{A}/reports/today"): Rule(MANAGER),
    ("GET", f"{A}/users"): Rule(MANAGER),
    ("POST", f"{A}/users"): Rule(MANAGER, 201, body=NEW_USER, writes=True),
    ("PUT", f"{A}/users/{{username}}"): Rule(
        MANAGER, writes=True, body={"role": "kiosk", "password": "sandi-baru-yang-panjang"}
    ),
    ("DELETE", f"{A}/users/{{username}}"): Rule(MANAGER, 204, writes=True),
}


@pytest.fixture
def api_backend() -> str:
    """SQLite only: roles are checked before the store is touched, and ~160 apps are built."""
    return "sqlite"


@pytest.fixture
def world(make_app, tmp_path) -> World:
    kiosks = (
        KioskConfig(
            "K1", "Kiosk lobi", printer_settings("file", {"path": str(tmp_path / "k1.prn")})
        ),
    )
    app = make_app(overrides={"SATUPINTU_MESSAGE_QUEUE": None}, kiosks=kiosks)
    actors = {role: actor(app, f"{role}1", role) for role in ROLES if role != "anon"}
    actors["anon"] = Actor(app)
    put_user(app, "someone", "clerk")  # who logs in
    put_user(app, "victim", "clerk")  # whose account is reset or removed
    ticket = actors["kiosk"].take_ticket("ktp")["id"]
    return World(app, actors, ticket, tmp_path / "k1.prn")


def fingerprint(w: World) -> tuple[Any, ...]:
    """Everything a call could change: tickets, counters, users, catalogue, prints, seq."""
    eng = w.engine
    store = eng.store
    printing.get(w.app).wait_idle()  # prints are sent in the background
    prints = w.actors["manager"].get(f"/tickets/{w.ticket}/print").get_json()
    paper = w.paper.read_bytes() if w.paper.exists() else b""
    return (
        store.seq(eng.branch),
        store.day_tickets(eng.branch, eng.today()),
        eng.counters(),
        [(u.username, u.role, u.password_hash) for u in store.users()],
        store.catalogue_edits(eng.branch),
        prints,
        paper,
    )


def call(w: World, method: str, path: str, rule: Rule, role: str) -> Any:
    url = (
        path.removeprefix(A)
        .replace("{counter_id}", "1")
        .replace("{ticket_id}", w.ticket)
        .replace("{service_id}", "ktp")
        .replace("{username}", "victim")
    )
    body = rule.body(w) if callable(rule.body) else rule.body
    return w.actors[role].request(method, url, json=body)


def test_every_api_route_has_a_role_rule(app):
    served = api_routes(app)
    assert len(served) > 30  # the URL map was read
    assert served - set(RULES) == set(), "routes without a rule in RULES"
    assert set(RULES) - served == set(), "rules for routes nobody serves"


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        pytest.param(method, path, role, id=f"{method} {path.removeprefix(A)} {role}")
        for method, path in RULES
        for role in ROLES
    ],
)
def test_role_rule(world, method, path, role):
    rule = RULES[(method, path)]
    if rule.setup:
        rule.setup(world)
    before = fingerprint(world)
    response = call(world, method, path, rule, role)
    if role in rule.allow:
        assert response.status_code == rule.ok, response.get_data(as_text=True)
        if rule.writes:  # the positive control: this fingerprint does see changes
            assert fingerprint(world) != before
    else:
        expected = (401, "unauthorized") if role == "anon" else (403, "forbidden")
        assert (response.status_code, response.get_json()["error"]) == expected, response.get_data(
            as_text=True
        )
        assert response.get_json()["message"]
        assert fingerprint(world) == before


def test_kiosk_cannot_call_and_clerk_cannot_issue_or_assign(kiosk, clerk, manager):
    clerk.open("1")
    assert kiosk.post("/counters/1/call-next", 403).get_json()["error"] == "forbidden"
    assert clerk.post("/tickets", 403, json={"service": "ktp"}).get_json()["error"] == "forbidden"
    clerk.put("/counters/1/services", 403, json={"services": [{"id": "kk"}]})
    manager.take_ticket("ktp")  # a manager may do everything
    assert manager.call_next("1")["ticket"]["number"] == "A001"


def test_staff_see_clerk_names_public_does_not(clerk, anon, kiosk):
    clerk.open("2")
    assert anon.get("/counters/2").get_json().get("clerk") is None
    assert "clerk" not in anon.get("/counters/2").get_json()
    assert clerk.get("/counters/2").get_json()["clerk"] == "clerk1"
    assert all("clerk" not in c for c in kiosk.get("/counters").get_json()["counters"])
    staff = {c["id"]: c for c in clerk.get("/counters").get_json()["counters"]}
    assert staff["2"]["clerk"] == "clerk1" and staff["1"]["clerk"] is None
    assert all("clerk" not in c for c in anon.snapshot()["counters"])
    assert next(c for c in clerk.snapshot()["counters"] if c["id"] == "2")["clerk"] == "clerk1"
