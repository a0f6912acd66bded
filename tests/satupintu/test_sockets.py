"""Socket.IO: rooms get the right events with seq; joining is checked by role."""

from __future__ import annotations

import pytest

from tests.apihelpers import join, received

WAIT = 5.0  # the Redis message queue delivers asynchronously


def names(events):
    return [e["event"] for e in events]


def test_display_gets_one_frame_per_change_covering_every_seq(app, socket_client, kiosk, clerk):
    start = kiosk.snapshot()["seq"]
    display = socket_client("display")
    clerk.open("1")
    ticket = kiosk.take_ticket("ktp")
    clerk.call_next("1")
    frames: list = []
    events = received(display, wait=WAIT, count=4, frames=frames)
    # one frame per operation (open, issue, call), their seq ranges back to back: no gap
    assert len(frames) == 3
    assert all(f["v"] == 2 and f["room"] == "display" and f["all"] for f in frames)
    assert [f["first"] for f in frames] == [start + 1] + [f["seq"] + 1 for f in frames[:-1]]
    assert frames[-1]["seq"] == kiosk.snapshot()["seq"]
    # only what a display shows: calls and queue counts, never the clerk's counter view
    assert {e["event"] for e in events} == {"ticket_called", "queue_updated"}
    called = [e for e in events if e["event"] == "ticket_called"]
    assert len(called) == 1 and called[0]["seq"] == frames[-1]["first"]
    assert called[0]["ticket"]["id"] == ticket["id"]
    assert called[0]["announcement"]["id"].startswith("Nomor antrean A satu")
    assert called[0]["announcement"]["en"].startswith("Ticket number A one")
    call_frame = frames[-1]["events"]
    assert [e["event"] for e in call_frame] == ["ticket_called", "queue_updated"]


def test_manager_room_gets_staff_payload(app, socket_client, manager, clerk):
    board = socket_client("manager", token=manager.token)
    clerk.open("3")
    events = received(board, "counter_updated", wait=WAIT)
    assert events[0]["counter"]["clerk"] == "clerk1"


def test_counter_and_ticket_rooms_get_only_their_events(app, socket_client, kiosk, clerk):
    clerk.open("1")
    clerk.open("2")
    mine = kiosk.take_ticket("ktp")
    other = kiosk.take_ticket("ktp")
    phone = socket_client(f"ticket:{mine['id']}")
    desk2 = socket_client("counter:2", token=clerk.token)
    clerk.call_next("1")  # calls `mine` to counter 1
    clerk.call_next("2")  # calls `other` to counter 2
    got = received(phone, wait=WAIT)
    assert names(got) == ["ticket_called"]
    assert got[0]["ticket"]["id"] == mine["id"] and got[0]["ticket"]["counter_name"] == "Loket 1"
    desk = received(desk2, wait=WAIT, count=2)
    assert sorted(names(desk)) == ["counter_updated", "ticket_called"]
    assert all(e.get("ticket", {}).get("id", other["id"]) == other["id"] for e in desk)
    assert desk[-1]["seq"] > got[0]["seq"]


def test_join_rules(app, socket_client, kiosk, clerk, manager):
    sc = socket_client()
    assert join(sc, "display")["ok"]
    assert join(sc, "manager") == {
        "ok": False,
        "error": "unauthorized",
        "message": "log in to join manager",
    }
    assert join(sc, "manager", clerk.token)["error"] == "forbidden"
    assert join(sc, "manager", "forged.token")["error"] == "unauthorized"
    assert join(sc, "counter:1")["error"] == "unauthorized"
    assert join(sc, "counter:1", kiosk.token)["error"] == "forbidden"
    assert join(sc, "counter:99", clerk.token)["error"] == "no_such_counter"
    assert join(sc, "ticket:nope")["error"] == "no_such_ticket"
    assert join(sc, "lobby")["error"] == "bad_request"
    assert join(sc, "x" * 500)["error"] == "bad_request"
    assert sc.emit("join", ["not", "a", "dict"], callback=True)["error"] == "bad_request"
    ack = join(sc, "counter:1", clerk.token)
    assert ack["ok"] and ack["seq"] == kiosk.snapshot()["seq"]
    assert join(sc, "manager", manager.token)["ok"]


@pytest.mark.parametrize("role,allowed", [("clerk", False), ("manager", True)])
def test_session_cookie_counts_for_join(app, socket_client, anon, role, allowed):
    from tests.apihelpers import PASSWORD, put_user

    put_user(app, f"user-{role}", role)
    anon.post("/auth/session", json={"username": f"user-{role}", "password": PASSWORD})
    sc = socket_client(flask_client=anon.client)
    assert join(sc, "manager")["ok"] is allowed
    assert join(sc, "counter:1")["ok"]


def test_clerk_cannot_hear_manager_events(app, socket_client, clerk, kiosk, manager):
    sc = socket_client()
    assert join(sc, "manager", clerk.token)["error"] == "forbidden"
    board = socket_client("manager", token=manager.token)
    first = kiosk.take_ticket("ktp")
    # Control: the manager room did get the event, so the clerk would have by now.
    heard = received(board, "ticket_issued", wait=WAIT)
    assert [e["ticket"]["id"] for e in heard] == [first["id"]]
    assert received(sc, wait=0.5) == []
    # Control: this very socket hears events once it is in a room it may join.
    assert join(sc, "display")["ok"]
    kiosk.take_ticket("ktp")
    issued = received(sc, "queue_updated", wait=WAIT)  # what the display room shows
    assert [e["services"]["ktp"]["waiting"] for e in issued] == [2]


@pytest.fixture
def app(socket_app):
    return socket_app


def test_a_failing_publish_does_not_fail_the_committed_action(
    app, kiosk, clerk, monkeypatch, caplog
):
    from satupintu.app import socketio

    def broken(*args, **kwargs):
        raise ConnectionError("message queue down")

    monkeypatch.setattr(socketio.server, "emit", broken)
    ticket = kiosk.take_ticket("ktp")  # 201 even though nobody could be told
    assert kiosk.ticket(ticket["id"])["status"] == "waiting"
    assert "could not publish ticket_issued" in caplog.text


def test_api_docs_describe_the_socket_protocol(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "GET /api/v1/snapshot" in spec["info"]["description"]
    assert "join" in spec["info"]["description"]
