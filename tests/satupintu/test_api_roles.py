"""Every role rule: kiosk only issues, clerk only acts on counters, manager does all,
the public only reads; 401 without credentials, 403 for the wrong role, and a
refused request changes nothing."""

from __future__ import annotations

import pytest

from tests.apihelpers import Actor

ISSUE = [("POST", "/tickets", {"service": "ktp"})]
CLERK = [
    ("POST", "/tickets/{ticket}/cancel", None),
    ("POST", "/tickets/{ticket}/unpark", None),
    ("GET", "/counters/1/waiting", None),
    *[("POST", f"/counters/1/{a}", None) for a in (
        "open", "pause", "close", "call-next", "recall", "start", "complete", "no-show",
        "park")],
    ("POST", "/counters/1/call", {"ticket": "A001"}),
    ("POST", "/counters/1/transfer", {"service": "kk"}),
]
MANAGER = [("PUT", "/counters/1/services", {"services": [{"id": "kk"}]})]
PUBLIC = [
    ("GET", "/services", None),
    ("GET", "/snapshot", None),
    ("GET", "/counters", None),
    ("GET", "/counters/1", None),
    ("GET", "/tickets/{ticket}", None),
]
ALLOWED = {
    "anon": PUBLIC,
    "kiosk": PUBLIC + ISSUE,
    "clerk": PUBLIC + CLERK,
    "manager": PUBLIC + ISSUE + CLERK + MANAGER,
}
ALL = PUBLIC + ISSUE + CLERK + MANAGER


@pytest.fixture
def actors(app, kiosk, clerk, manager, anon) -> dict[str, Actor]:
    return {"anon": anon, "kiosk": kiosk, "clerk": clerk, "manager": manager}


@pytest.fixture
def ticket(kiosk) -> dict:
    return kiosk.take_ticket("ktp")


def state(manager: Actor, ticket_id: str) -> tuple:
    snap = manager.snapshot()
    return snap, manager.ticket(ticket_id), manager.get("/counters/1/waiting").get_json()


@pytest.mark.parametrize("role", ["anon", "kiosk", "clerk"])
def test_refused_routes_are_401_or_403_and_change_nothing(actors, ticket, role):
    manager = actors["manager"]
    before = state(manager, ticket["id"])
    refused = [r for r in ALL if r not in ALLOWED[role]]
    assert refused
    for method, path, body in refused:
        response = actors[role].request(method, path.format(ticket=ticket["id"]), json=body)
        expected = 401 if role == "anon" else 403
        assert response.status_code == expected, (role, method, path, response.get_data())
        error = response.get_json()
        assert error["error"] == ("unauthorized" if role == "anon" else "forbidden")
        assert error["message"]
    assert state(manager, ticket["id"]) == before


@pytest.mark.parametrize("role", ["anon", "kiosk", "clerk", "manager"])
def test_allowed_routes_pass_the_role_check(actors, ticket, role):
    for method, path, body in ALLOWED[role]:
        response = actors[role].request(method, path.format(ticket=ticket["id"]), json=body)
        # State errors (409) are fine here; the point is that the role was let through.
        assert response.status_code not in (401, 403, 500), (role, method, path,
                                                            response.get_data())


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


def test_public_reads_tickets_only_by_id(kiosk, clerk, anon):
    ticket = kiosk.take_ticket("ktp")
    assert anon.get(f"/tickets/{ticket['id']}").get_json()["number"] == "A001"
    # Numbers are guessable: only staff may look a ticket up by number.
    assert anon.get("/tickets/A001", 404).get_json()["error"] == "no_such_ticket"
    assert clerk.get("/tickets/a001").get_json()["id"] == ticket["id"]
