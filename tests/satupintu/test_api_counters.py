"""Counters over HTTP: the clerk's actions, the waiting list, transfers, assignments."""

from __future__ import annotations


def test_open_pause_close(clerk, anon):
    opened = clerk.open("4")
    assert opened["ticket"] is None
    assert opened["counter"]["state"] == "open" and opened["counter"]["clerk"] == "clerk1"
    assert clerk.act("4", "pause")["counter"]["state"] == "paused"
    assert clerk.act("4", "call-next", 409)["error"] == "counter_not_open"
    clerk.open("4")
    closed = clerk.act("4", "close")["counter"]
    assert closed["state"] == "closed" and closed["clerk"] is None
    assert anon.get("/counters/4").get_json()["state"] == "closed"


def test_the_counter_view_says_what_may_be_done(kiosk, clerk, anon):
    assert anon.get("/counters/1").get_json()["actions"] == ["open"]
    assert clerk.open("1")["counter"]["actions"] == ["pause", "close", "call-next", "call"]
    kiosk.take_ticket("ktp")
    called = clerk.call_next("1")["counter"]["actions"]
    assert "close" not in called and {"recall", "start", "no-show", "reprint"} <= set(called)
    served = clerk.act("1", "start")["counter"]["actions"]
    assert "start" not in served and "complete" in served
    listed = {c["id"]: c for c in anon.get("/counters").get_json()["counters"]}
    assert listed["1"]["actions"] == served


def test_cannot_close_with_a_ticket_at_the_counter(kiosk, clerk):
    kiosk.take_ticket("ktp")
    clerk.open("1")
    clerk.call_next("1")
    assert clerk.act("1", "close", 409)["error"] == "counter_busy"
    assert clerk.call_next("1", 409)["error"] == "counter_busy"


def test_call_next_204_when_nobody_waits(clerk):
    clerk.open("1")
    response = clerk.post("/counters/1/call-next", 204)
    assert response.get_data() == b""


def test_actions_without_a_current_ticket_are_409(clerk):
    clerk.open("1")
    for action in ("recall", "start", "complete", "no-show", "park"):
        assert clerk.act("1", action, 409)["error"] == "no_current_ticket"
    body = clerk.act("1", "transfer", 409, json={"service": "kk"})
    assert body["error"] == "no_current_ticket"


def test_wrong_state_is_409_invalid_transition(kiosk, clerk):
    kiosk.take_ticket("ktp")
    clerk.open("1")
    clerk.call_next("1")
    clerk.act("1", "start")
    body = clerk.act("1", "no-show", 409)
    assert body["error"] == "invalid_transition" and "serving" in body["message"]


def test_call_specific_ticket_by_number_or_id(kiosk, clerk):
    first = kiosk.take_ticket("ktp")
    second = kiosk.take_ticket("ktp")
    clerk.open("1")
    clerk.open("2")
    assert clerk.call("1", "a002")["ticket"]["id"] == second["id"]
    assert clerk.call("2", first["id"])["ticket"]["number"] == "A001"
    clerk.act("2", "no-show")
    clerk.act("1", "complete")
    # A late citizen whose number was marked no-show can be called back.
    assert clerk.call("1", "A001")["ticket"]["status"] == "called"
    clerk.act("1", "complete")
    assert clerk.call("1", "A002", expect=409)["error"] == "invalid_transition"
    assert clerk.call("1", "Z123", expect=404)["error"] == "no_such_ticket"


def test_waiting_list_follows_the_counters_services(kiosk, clerk, manager):
    a1 = kiosk.take_ticket("ktp")
    b1 = kiosk.take_ticket("kk")
    elder = kiosk.take_ticket("info", priority="lansia")
    waiting = clerk.get("/counters/1/waiting").get_json()["tickets"]
    assert [t["id"] for t in waiting] == [elder["id"], a1["id"], b1["id"]]
    manager.put("/counters/1/services", json={"services": [{"id": "kk"}, {"id": "info"}]})
    waiting = clerk.get("/counters/1/waiting").get_json()["tickets"]
    assert [t["number"] for t in waiting] == ["G001", "B001"]
    assert clerk.get("/counters/99/waiting", 404).get_json()["error"] == "no_such_counter"


def test_set_services_changes_what_call_next_picks(kiosk, clerk, manager, anon):
    kiosk.take_ticket("ktp")
    permit = kiosk.take_ticket("nib")
    result = manager.put(
        "/counters/5/services", json={"services": [{"id": "nib", "weight": 3}, {"id": "pbg"}]}
    )
    assert result.get_json()["counter"]["services"] == [
        {"id": "nib", "weight": 3},
        {"id": "pbg", "weight": 1},
    ]
    assert anon.get("/counters/5").get_json()["services"][0] == {"id": "nib", "weight": 3}
    clerk.open("5")
    assert clerk.call_next("5")["ticket"]["id"] == permit["id"]
    clerk.act("5", "complete")
    clerk.call_next("5", expect=204)  # the KTP ticket is not for this counter now


def test_set_services_bad_input(manager, anon):
    before = anon.get("/counters/1").get_json()
    cases = [
        ({"services": []}, 400, "services"),
        ({"services": [{"id": "paspor"}]}, 404, "services[0].id"),
        ({"services": [{"id": "kk"}, {"id": "kk"}]}, 400, "services[1]"),
        ({"services": [{"id": "kk", "weight": 0}]}, 400, "services[0].weight"),
        ({"services": [{"id": "kk", "weight": "2"}]}, 400, "services[0].weight"),
        ({"services": [{"id": "kk", "weight": 2.5}]}, 400, "services[0].weight"),
        ({"services": [{"id": "kk", "extra": 1}]}, 400, "services[0].extra"),
        ({"services": ["kk"]}, 400, "services[0]"),
        ({"services": "kk"}, 400, "services"),
        ({}, 400, "services"),
    ]
    for body, status, field in cases:
        error = manager.put("/counters/1/services", status, json=body).get_json()
        assert error["field"] == field, (body, error)
        assert error["message"]
    assert (
        manager.put("/counters/99/services", 404, json={"services": [{"id": "kk"}]}).get_json()[
            "error"
        ]
        == "no_such_counter"
    )
    assert anon.get("/counters/1").get_json() == before


def test_transfer_keeps_place_or_goes_to_the_back(kiosk, clerk, anon):
    kk_early = kiosk.take_ticket("kk")
    moved = kiosk.take_ticket("ktp")
    kk_late = kiosk.take_ticket("kk")
    clerk.open("1")
    clerk.call("1", moved["id"])
    result = clerk.act("1", "transfer", json={"service": "kk"})
    assert result["ticket"]["service"] == "kk" and result["ticket"]["status"] == "waiting"
    assert result["ticket"]["number"] == "A001"  # no new number
    assert result["counter"]["current"] is None
    assert anon.ticket(moved["id"])["people_ahead"] == 1  # only kk_early was there before it
    clerk.call("1", moved["id"])
    clerk.act("1", "transfer", json={"service": "info"})
    clerk.call("1", moved["id"])
    clerk.act("1", "transfer", json={"service": "kk", "keep_place": False})
    assert anon.ticket(moved["id"])["people_ahead"] == 2  # behind both kk tickets
    assert anon.ticket(kk_late["id"])["people_ahead"] == 1
    assert anon.ticket(kk_early["id"])["people_ahead"] == 0


def test_transfer_bad_input(kiosk, clerk, anon):
    kiosk.take_ticket("ktp")
    clerk.open("1")
    clerk.call_next("1")
    before = clerk.get("/counters/1").get_json()
    for body, status, field in [
        ({"service": "ktp"}, 400, "service"),  # already there
        ({"service": "paspor"}, 404, "service"),
        ({"service": "kk", "keep_place": "yes"}, 400, "keep_place"),
        ({"service": "kk", "keep_place": 1}, 400, "keep_place"),
        ({}, 400, "service"),
    ]:
        assert clerk.act("1", "transfer", status, json=body)["field"] == field, body
    assert clerk.get("/counters/1").get_json() == before


def test_unknown_counter_is_404(clerk, anon):
    assert anon.get("/counters/99", 404).get_json()["error"] == "no_such_counter"
    for action in (
        "open",
        "pause",
        "close",
        "call-next",
        "recall",
        "start",
        "complete",
        "no-show",
        "park",
    ):
        assert clerk.act("99", action, 404)["error"] == "no_such_counter"
    assert clerk.call("99", "A001", expect=404)["error"] == "no_such_counter"


def test_counters_list_has_every_configured_counter(anon):
    counters = anon.get("/counters").get_json()["counters"]
    assert [c["id"] for c in counters] == ["1", "2", "3", "4", "5", "6"]
    assert all(c["state"] == "closed" and c["current"] is None for c in counters)
    assert len(counters[0]["services"]) == 7  # every service by default
