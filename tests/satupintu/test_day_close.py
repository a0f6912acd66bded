"""Closing the day: what is still open at the office's local midnight ends as `expired`."""

from __future__ import annotations

from datetime import datetime

import pytest

from satupintu import events as ev
from satupintu.engine import Engine
from satupintu.errors import TicketExpired
from satupintu.model import TicketStatus
from satupintu.report import day_report
from tests.apihelpers import actor
from tests.conftest import Clock

HOUR = 3600.0
TO_MIDNIGHT = 15 * HOUR  # the test clock starts at 09:00 in Jakarta


def status(engine: Engine, ticket_id: str) -> TicketStatus:
    return engine.store.ticket(engine.branch, ticket_id).status


def test_tickets_open_at_midnight_expire_and_free_their_counter(engine, clock):
    heard: list[ev.Event] = []
    engine.listeners.append(heard.extend)
    engine.open_counter("1", "budi")
    engine.open_counter("2", "sari")
    parked = engine.issue("ktp").ticket
    at_counter = engine.issue("ktp").ticket
    done = engine.issue("ktp").ticket
    waiting = engine.issue("ktp").ticket
    elder = engine.issue("kk", priority="lansia").ticket
    assert engine.call("1", parked.id).ticket.id == parked.id
    engine.park("1")
    assert engine.call("1", at_counter.id).ticket.id == at_counter.id
    assert engine.call("2", done.id).ticket.id == done.id
    engine.complete("2")

    clock.advance(TO_MIDNIGHT - 1)  # 23:59:59: still the same day, nothing ends
    snapshot = engine.snapshot()
    assert status(engine, waiting.id) is TicketStatus.WAITING
    assert [c["number"] for c in snapshot["recent_calls"]][:1] == [done.number]

    clock.advance(1)  # midnight in Jakarta: the first operation of the day closes the last
    heard.clear()
    today = engine.issue("ktp").ticket
    assert today.number == "A001" and today.day == "2025-12-03"
    for t in (parked, at_counter, waiting, elder):
        ended = engine.store.ticket(engine.branch, t.id)
        assert ended.status is TicketStatus.EXPIRED, t
        assert ended.finished_at == clock.now  # ended at the day's end, not later
    assert status(engine, done.id) is TicketStatus.DONE  # served tickets stay served
    assert engine.counter("1").current == ""  # the counter is free for today's line
    expired = {
        e.ticket
        for e in heard
        if e.name == ev.TICKET_UPDATED and e.data["ticket"]["status"] == "expired"
    }
    assert expired == {parked.id, at_counter.id, waiting.id, elder.id}  # phones are told
    assert any(e.name == ev.COUNTER_UPDATED and e.counter == "1" for e in heard)
    seqs = [e.seq for e in heard]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    # Nothing of yesterday can be called, unparked, cancelled or served any more.
    for action in (
        lambda: engine.call("1", parked.id),
        lambda: engine.unpark(parked.id),
        lambda: engine.cancel(waiting.id),
        lambda: engine.call("1", elder.id),
    ):
        with pytest.raises(TicketExpired, match="expired ticket"):
            action()
    assert engine.call_next("1").ticket.id == today.id  # positive control: today's line works
    # Displays show only today's calls.
    assert [c["number"] for c in engine.snapshot()["recent_calls"]] == ["A001"]
    assert engine.snapshot()["recent_calls"][0]["ticket"] == today.id


def test_several_processes_expire_each_ticket_once(engine, config, store, clock):
    left = [engine.issue("ktp").ticket for _ in range(3)]
    clock.advance(TO_MIDNIGHT)
    other = Engine(config, store, clock=clock)  # another server process on the same store
    versions = {t.id: engine.store.ticket(engine.branch, t.id).version for t in left}
    assert all(status(engine, t.id) is TicketStatus.EXPIRED for t in left)
    assert engine.day_closer.close_days(engine.today()) == 0  # nothing left to end
    assert other.day_closer.close_days(other.today()) == 0
    assert {t.id: engine.store.ticket(engine.branch, t.id).version for t in left} == versions


def test_a_restart_days_later_closes_every_earlier_day_on_start(config, store, clock):
    first = Engine(config, store, clock=clock)
    monday = [first.issue("ktp").ticket for _ in range(2)]
    clock.advance(24 * HOUR)
    tuesday = first.issue("kk").ticket
    assert status(first, monday[0].id) is TicketStatus.EXPIRED
    clock.advance(3 * 24 * HOUR)  # the office was shut; nobody touched the server
    assert status(first, tuesday.id) is TicketStatus.WAITING  # lazily: nothing ran yet
    Engine(config, store, clock=clock)  # a restart: the start closes the days before
    assert status(first, tuesday.id) is TicketStatus.EXPIRED


def test_the_day_report_counts_expired_tickets(engine, clock):
    engine.open_counter("1", "budi")
    served = engine.issue("ktp").ticket
    left = engine.issue("ktp").ticket
    engine.call("1", served.id)
    engine.complete("1")
    day = engine.today()
    clock.advance(TO_MIDNIGHT)
    engine.snapshot()
    report = day_report(
        engine.store.day_tickets(engine.branch, day),
        list(engine.services()),
        clock.now,
        engine.tz,
        day,
    )
    ktp = next(f for f in report["services"] if f["id"] == "ktp")
    assert (ktp["served"], ktp["expired"], ktp["waiting"]) == (1, 1, 0)
    assert report["totals"]["expired"] == 1
    assert status(engine, left.id) is TicketStatus.EXPIRED


def test_over_http_yesterdays_ticket_is_expired_refused_and_off_the_display(make_app):
    clock = Clock()
    app = make_app(overrides={"SATUPINTU_CLOCK": clock})
    kiosk, clerk = actor(app, "kiosk1", "kiosk"), actor(app, "clerk1", "clerk")
    anon = actor(app, "", "kiosk")
    anon.token = None
    clerk.open("1")
    parked = kiosk.take_ticket("ktp")
    waiting = kiosk.take_ticket("ktp")
    clerk.call("1", parked["id"])
    clerk.act("1", "park")
    assert anon.ticket(waiting["id"])["status"] == "waiting"
    clock.advance(TO_MIDNIGHT)

    # The citizen's phone: expired, in Indonesian and English.
    assert anon.ticket(waiting["id"])["status"] == "expired"
    assert anon.ticket(waiting["id"])["people_ahead"] == 0
    page = anon.client.get(f"/t/{waiting['id']}")
    assert page.status_code == 200
    assert "hari layanan tiket ini sudah berakhir" in page.get_data(as_text=True)
    english = anon.client.get(f"/t/{waiting['id']}?lang=en").get_data(as_text=True)
    assert "service day ended before you were served" in english
    # Clerks are told why, clearly.
    for path, body in (
        (f"/tickets/{parked['id']}/unpark", None),
        ("/counters/1/call", {"ticket": parked["id"]}),
    ):
        refused = clerk.post(path, 409, json=body).get_json()
        assert refused["error"] == "ticket_expired"
        assert "expired ticket" in refused["message"]
    # The display shows today's calls only.
    assert anon.snapshot()["recent_calls"] == []
    today = kiosk.take_ticket("ktp")
    assert clerk.call_next("1")["ticket"]["id"] == today["id"]
    assert [c["number"] for c in anon.snapshot()["recent_calls"]] == [today["number"]]


def test_the_clock_in_these_tests_starts_at_nine_in_jakarta(config):
    start = datetime.fromtimestamp(Clock().now, config.office.tz)
    assert (start.hour, start.minute) == (9, 0)
