"""Wire format 2: one frame per change per room; phones follow their own line; one publish."""

from __future__ import annotations

import time

import pytest
import redis

from satupintu import current
from tests.apihelpers import actor, join, received

WAIT = 5.0


@pytest.fixture
def app(socket_app):
    return socket_app


def ahead_from_moves(place, ahead, frames):
    """What ticket.js does: add the deltas of the moves with a smaller place than ours."""
    for frame in frames:
        for event in frame["events"]:
            if event["event"] == "line_changed":
                ahead += sum(d for p, k, d in event["moves"] if [p, k] < place)
    return ahead


def test_a_phone_follows_its_position_from_its_line_room_alone(app, socket_client, kiosk, clerk):
    clerk.open("1")
    first, second = kiosk.take_ticket("ktp"), kiosk.take_ticket("ktp")
    mine = kiosk.take_ticket("ktp")
    status = kiosk.ticket(mine["id"])
    assert status["people_ahead"] == 2 and status["place"] == [1, mine["place"][1]]
    phone = socket_client(f"ticket:{mine['id']}")
    line = socket_client("line:ktp")
    other_line = socket_client("line:kk")

    clerk.call_next("1")  # first leaves the line
    clerk.act("1", "complete")
    kiosk.take_ticket("ktp", priority="lansia")  # a priority ticket joins ahead of mine
    kiosk.take_ticket("ktp")  # behind mine: no change
    kiosk.take_ticket("kk")  # another line
    frames: list = []
    events = received(line, wait=WAIT, count=3, frames=frames)
    assert [e["event"] for e in events] == ["line_changed"] * 3
    assert ahead_from_moves(status["place"], 2, frames) == 2  # -1 (called) +1 (priority)
    assert kiosk.ticket(mine["id"])["people_ahead"] == 2  # the server agrees
    assert all(f["room"] == "line:ktp" and not f["all"] for f in frames)
    assert all(e["service"] == "ktp" and "waiting" in e for e in events)
    # nobody's ticket id travels to the line: only places (priority flag, sort key)
    assert first["id"] not in str(frames) and second["id"] not in str(frames)
    # the kk line heard only its own ticket; my phone's room heard nothing of others
    assert [e["event"] for e in received(other_line, wait=WAIT)] == ["line_changed"]
    assert received(phone, wait=0.3) == []

    clerk.call_next("1")  # second; then mine is behind the priority ticket only
    clerk.act("1", "complete")
    clerk.call_next("1")  # the priority ticket
    more: list = []
    received(line, wait=WAIT, count=2, frames=more)
    assert ahead_from_moves(status["place"], 2, frames + more) == 0
    assert kiosk.ticket(mine["id"])["people_ahead"] == 0
    clerk.act("1", "complete")
    clerk.call_next("1")  # mine: the phone's own room hears its call, one frame
    got: list = []
    called = received(phone, wait=WAIT, frames=got)
    assert [e["event"] for e in called] == ["ticket_called"] and len(got) == 1


def test_line_room_join_rules(app, socket_client):
    sc = socket_client()
    assert join(sc, "line:ktp")["ok"]
    assert join(sc, "line:nope")["error"] == "no_such_service"
    assert join(sc, "line:")["error"] == "bad_request"


@pytest.mark.redis
@pytest.mark.parametrize("api_backend", ["redis"])  # the message queue is Redis's
def test_one_redis_publish_per_operation(make_app, redis_server):
    """Three events to six rooms go out as one PUBLISH; before, one per room per event."""
    app = make_app()
    assert current.store.get(app).name == "redis"

    kiosk, clerk = actor(app, "kiosk1", "kiosk"), actor(app, "clerk1", "clerk")
    clerk.open("1")
    kiosk.take_ticket("ktp")
    stats = redis.Redis.from_url(redis_server.url)
    stats.config_resetstat()
    clerk.call_next("1")  # ticket_called, counter_updated, queue_updated
    time.sleep(0.2)
    calls = stats.info("commandstats").get("cmdstat_publish", {}).get("calls", 0)
    stats.close()
    assert calls == 1


def test_the_display_hears_a_called_ticket_end_but_not_its_other_updates(
    app, socket_client, kiosk, clerk
):
    clerk.open("1")
    clerk.open("2")
    first, second = kiosk.take_ticket("ktp"), kiosk.take_ticket("ktp")
    clerk.call_next("1")
    clerk.call_next("2")
    display = socket_client("display")
    clerk.act("1", "start")  # serving: the display has nothing to change
    clerk.post(f"/tickets/{second['id']}/cancel", 200)  # the current call is gone
    frames: list = []
    events = received(display, "ticket_updated", wait=WAIT, frames=frames)
    assert [(e["ticket"]["id"], e["ticket"]["status"]) for e in events] == [
        (second["id"], "cancelled")
    ]
    # control: the start of the first ticket reached the room's frames, without its update
    shown = [(e["event"], e.get("ticket", {}).get("id")) for f in frames for e in f["events"]]
    assert ("ticket_updated", first["id"]) not in shown
    assert len(frames) == 2 and frames[0]["all"]  # the start's frame came, carrying no update
