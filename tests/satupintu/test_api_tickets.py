"""Tickets over HTTP: issue, quota, rate limit, follow, cancel, unpark."""

from __future__ import annotations

import dataclasses

from satupintu import current
from satupintu.api.login_guard import issue_limiter
from satupintu.app import create_app
from satupintu.config import AuthConfig
from tests.apihelpers import Actor, actor, put_user, token_for


def test_issue_numbers_per_service_and_counts_people_ahead(kiosk, anon):
    a1 = kiosk.take_ticket("ktp")
    a2 = kiosk.take_ticket("ktp")
    b1 = kiosk.take_ticket("kk")
    assert [a1["number"], a2["number"], b1["number"]] == ["A001", "A002", "B001"]
    assert a2["people_ahead"] == 1 and b1["people_ahead"] == 0
    assert a2["estimated_wait_s"] > a1["estimated_wait_s"] == 0
    assert a1["issued_at"].endswith("+07:00")  # office time zone
    follow = anon.ticket(a2["id"])
    assert follow["people_ahead"] == 1 and follow["status"] == "waiting"
    services = {s["id"]: s for s in anon.get("/services").get_json()["services"]}
    assert services["ktp"]["waiting"] == 2 and services["kk"]["waiting"] == 1
    assert services["ktp"]["name"]["id"] == "KTP-el"
    assert services["ktp"]["standard"]["fee"] == "Gratis"


def test_issue_priority(kiosk, clerk):
    kiosk.take_ticket("ktp")
    elder = kiosk.take_ticket("ktp", priority="lansia")
    assert elder["priority"] == "lansia" and elder["people_ahead"] == 0
    body = kiosk.post("/tickets", 400, json={"service": "ktp", "priority": "vip"}).get_json()
    assert body["error"] == "bad_request" and body["field"] == "priority"


def test_issue_unknown_service_is_404_naming_the_field(kiosk, anon):
    body = kiosk.post("/tickets", 404, json={"service": "paspor"}).get_json()
    assert body == {
        "error": "no_such_service",
        "message": "unknown service 'paspor'",
        "field": "service",
    }
    assert anon.snapshot()["seq"] == 0


def test_quota_full_is_429_and_numbers_stay_unique(make_app, config):
    services = tuple(
        dataclasses.replace(s, daily_quota=2) if s.id == "pbg" else s for s in config.services
    )
    app = make_app(services=services)
    kiosk = actor(app, "kiosk1", "kiosk")
    assert [kiosk.take_ticket("pbg")["number"] for _ in range(2)] == ["D001", "D002"]
    refused = kiosk.post("/tickets", 429, json={"service": "pbg"})
    assert refused.get_json()["error"] == "quota_full"
    assert 1 <= int(refused.headers["Retry-After"]) <= 86_400  # until local midnight
    assert kiosk.take_ticket("ktp")["number"] == "A001"  # other services unaffected
    waiting = {s["id"]: s["waiting"] for s in kiosk.get("/services").get_json()["services"]}
    assert waiting["pbg"] == 2


def test_rate_limit_per_kiosk_user(make_app, config):
    app = make_app(auth=AuthConfig(token_ttl_hours=12, issue_per_minute=3))
    now = [1000.0]
    issue_limiter.get(app).clock = lambda: now[0]
    lobby = actor(app, "kiosk-lobi", "kiosk")
    upstairs = actor(app, "kiosk-lt2", "kiosk")
    for _ in range(3):
        lobby.take_ticket("info")
    refused = lobby.post("/tickets", 429, json={"service": "info"})
    assert refused.get_json()["error"] == "rate_limited"
    assert refused.headers["Retry-After"] == "61"
    upstairs.take_ticket("info")  # the limit is per kiosk user
    assert lobby.get("/services").get_json()["services"][-1]["waiting"] == 4
    now[0] += 30
    lobby.post("/tickets", 429, json={"service": "info"})
    now[0] += 31  # the first hits slid out of the window
    assert lobby.take_ticket("info")["number"] == "G005"


def test_issuing_limit_is_shared_by_every_server_process(make_app, config, api_backend):
    """Two apps on one store (two `serve` processes on Redis): one limit between them."""
    limits = AuthConfig(token_ttl_hours=12, issue_per_minute=4)
    first = make_app(auth=limits)
    if api_backend == "sqlite":  # a second process on the same data folder
        second = create_app(
            dataclasses.replace(config, auth=limits), data_dir=first.config["SATUPINTU_DATA_DIR"]
        )
    else:
        second = make_app(auth=limits)  # make_app shares one Redis database in a test
    put_user(first, "kiosk-lobi", "kiosk")
    on_first, on_second = (
        Actor(a, token_for(a, current.store.get(first).user("kiosk-lobi")), "kiosk-lobi")
        for a in (first, second)
    )
    statuses = [
        (on_first if i % 2 else on_second)
        .post("/tickets", None, json={"service": "info"})
        .status_code
        for i in range(8)
    ]
    assert statuses == [201] * 4 + [429] * 4
    if api_backend == "sqlite":
        current.store.get(second).close()


def test_closed_service_is_409(make_app, config):
    services = tuple(
        dataclasses.replace(s, enabled=False) if s.id == "nib" else s for s in config.services
    )
    kiosk = actor(make_app(services=services), "kiosk1", "kiosk")
    assert (
        kiosk.post("/tickets", 409, json={"service": "nib"}).get_json()["error"] == "service_closed"
    )


def test_cancel_waiting_and_called_tickets(kiosk, clerk, anon):
    waiting = kiosk.take_ticket("ktp")
    called = kiosk.take_ticket("kk")
    result = clerk.post(f"/tickets/{waiting['id']}/cancel").get_json()
    assert result["ticket"]["status"] == "cancelled" and result["counter"] is None
    assert anon.ticket(waiting["id"])["status"] == "cancelled"
    clerk.open("1")
    clerk.call_next("1")
    result = clerk.post(f"/tickets/{called['number']}/cancel").get_json()  # by number
    assert result["ticket"]["status"] == "cancelled"
    assert result["counter"]["current"] is None  # the counter is free again
    again = clerk.post(f"/tickets/{called['id']}/cancel", 409).get_json()
    assert again["error"] == "invalid_transition"


def test_park_and_unpark_keeps_place(kiosk, clerk, anon):
    first = kiosk.take_ticket("ktp")
    second = kiosk.take_ticket("ktp")
    clerk.open("1")
    clerk.call_next("1")
    parked = clerk.act("1", "park")
    assert parked["ticket"]["status"] == "parked" and parked["counter"]["current"] is None
    assert anon.ticket(second["id"])["people_ahead"] == 0
    back = clerk.post(f"/tickets/{first['id']}/unpark").get_json()
    assert back["ticket"]["status"] == "waiting"
    assert anon.ticket(first["id"])["people_ahead"] == 0  # its original place
    assert anon.ticket(second["id"])["people_ahead"] == 1
    assert (
        clerk.post(f"/tickets/{first['id']}/unpark", 409).get_json()["error"]
        == "invalid_transition"
    )


def test_unknown_ticket_is_404(clerk, anon):
    for path in ("/tickets/nosuchticket", "/tickets/Z999"):
        assert anon.get(path, 404).get_json()["error"] == "no_such_ticket"
    assert clerk.post("/tickets/nosuchticket/cancel", 404).get_json()["error"] == "no_such_ticket"
    assert clerk.post("/tickets/A001/unpark", 404).get_json()["error"] == "no_such_ticket"


def test_url_follows_request_host(kiosk):
    body = kiosk.post(
        "/tickets", 201, json={"service": "ktp"}, base_url="https://antrean.kebonjeruk.example"
    ).get_json()
    assert body["url"] == f"https://antrean.kebonjeruk.example/t/{body['id']}"


def test_kiosk_user_is_not_shown_publicly(kiosk, anon, manager):
    ticket = kiosk.take_ticket("ktp")
    for view in (anon.ticket(ticket["id"]), manager.ticket(ticket["id"]), ticket):
        assert "kiosk1" not in str(view)
