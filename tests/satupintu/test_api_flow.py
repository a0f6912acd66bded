"""The main path through the API: log in, issue, call, serve, follow, snapshot."""

from __future__ import annotations

from tests.apihelpers import PASSWORD, put_user


def test_token_login_then_issue_and_call(app, anon):
    put_user(app, "kiosk-lobi", "kiosk")
    put_user(app, "siti", "clerk")
    login = anon.post("/auth/token", json={"username": "kiosk-lobi", "password": PASSWORD})
    body = login.get_json()
    assert body["role"] == "kiosk" and body["username"] == "kiosk-lobi"
    assert body["expires_at"].startswith("20")
    kiosk_headers = {"Authorization": f"Bearer {body['token']}"}

    issued = anon.post("/tickets", 201, json={"service": "ktp"}, headers=kiosk_headers).get_json()
    assert issued["number"] == "A001"
    assert issued["status"] == "waiting" and issued["service"] == "ktp"
    assert issued["people_ahead"] == 0 and issued["priority"] is None
    assert issued["url"] == f"http://localhost/t/{issued['id']}"
    assert isinstance(issued["estimated_wait_s"], int)

    clerk_token = anon.post(
        "/auth/token", json={"username": "siti", "password": PASSWORD}
    ).get_json()["token"]
    clerk_headers = {"Authorization": f"Bearer {clerk_token}"}
    opened = anon.post("/counters/2/open", headers=clerk_headers).get_json()
    assert opened["counter"]["state"] == "open" and opened["counter"]["clerk"] == "siti"
    called = anon.post("/counters/2/call-next", headers=clerk_headers).get_json()
    assert called["ticket"]["number"] == "A001"
    assert called["ticket"]["counter"] == "2" and called["ticket"]["counter_name"] == "Loket 2"
    assert called["counter"]["current"]["id"] == issued["id"]

    public = anon.ticket(issued["id"])
    assert public["status"] == "called" and public["counter_name"] == "Loket 2"
    assert "kiosk" not in public and "clerk" not in public

    snap = anon.snapshot()
    assert snap["seq"] > 0
    assert snap["recent_calls"][0]["number"] == "A001"
    counter2 = next(c for c in snap["counters"] if c["id"] == "2")
    assert counter2["current"]["number"] == "A001"
    assert "clerk" not in counter2  # public view


def test_full_service_cycle(kiosk, clerk, anon):
    first = kiosk.take_ticket("ktp")
    second = kiosk.take_ticket("kk", priority="lansia")
    assert second["number"] == "B001" and second["priority"] == "lansia"
    clerk.open("1")
    assert clerk.call_next("1")["ticket"]["id"] == second["id"]  # priority first
    assert clerk.act("1", "recall")["ticket"]["recalls"] == 1
    assert clerk.act("1", "start")["ticket"]["status"] == "serving"
    done = clerk.act("1", "complete")
    assert done["ticket"]["status"] == "done" and done["counter"]["current"] is None
    assert clerk.call_next("1")["ticket"]["id"] == first["id"]
    assert clerk.act("1", "no-show")["ticket"]["status"] == "no_show"
    assert clerk.call_next("1", expect=204) is None
    assert anon.ticket(first["id"])["status"] == "no_show"
