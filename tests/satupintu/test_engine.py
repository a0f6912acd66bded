"""The engine on every store: numbering, estimates, every operation, routing, events."""

from __future__ import annotations

from collections import Counter as Tally
from dataclasses import replace

import pytest

from satupintu import events as ev
from satupintu.config import Config
from satupintu.engine import Engine
from satupintu.errors import (
    BadRequest,
    CounterBusy,
    CounterNotOpen,
    InvalidTransition,
    NoCurrentTicket,
    NoSuchCounter,
    NoSuchService,
    NoSuchTicket,
    QuotaFull,
    ServiceClosed,
    TicketExpired,
)
from satupintu.model import CounterState, TicketStatus
from satupintu.operation import Outcome
from satupintu.store.base import Store

HOUR = 3600.0


def variant(engine: Engine, **routing) -> Engine:
    """The same store and clock under another routing config."""
    cfg = replace(engine.config, routing=replace(engine.config.routing, **routing))
    return Engine(cfg, engine.store, clock=engine.clock)


def with_quota(engine: Engine, service_id: str, quota: int) -> Engine:
    services = tuple(
        replace(s, daily_quota=quota) if s.id == service_id else s for s in engine.config.services
    )
    return Engine(replace(engine.config, services=services), engine.store, clock=engine.clock)


def issue(engine: Engine, service: str, n: int = 1, priority: str = "") -> list[str]:
    return [engine.issue(service, priority).ticket.number for _ in range(n)]


def drain(engine: Engine, counter: str) -> list[str]:
    """Call and complete at one counter until nobody waits; the numbers in call order."""
    called = []
    while (ticket := engine.call_next(counter).ticket) is not None:
        called.append(ticket.number)
        engine.complete(counter)
    return called


def state(engine: Engine) -> tuple:
    """Everything stored for today, to prove a refusal wrote nothing."""
    store = engine.store
    return (
        store.seq(engine.branch),
        store.day_tickets(engine.branch, engine.today()),
        store.counters(engine.branch),
        store.recent_calls(engine.branch, 50),
        store.waiting_counts(engine.branch, engine.today()),
    )


# -- numbering and estimates ---------------------------------------------------


def test_numbers_count_per_prefix(engine: Engine) -> None:
    assert issue(engine, "ktp", 3) == ["A001", "A002", "A003"]
    assert issue(engine, "kk", 2) == ["B001", "B002"]
    assert issue(engine, "ktp") == ["A004"]
    assert issue(engine, "info") == ["G001"]


def test_numbers_restart_at_local_midnight(engine: Engine, clock) -> None:
    assert issue(engine, "ktp", 2) == ["A001", "A002"]
    clock.advance(15 * HOUR - 1)  # 23:59:59 in Jakarta, still 16:59:59 UTC of the same date
    assert issue(engine, "ktp") == ["A003"]
    clock.advance(1)  # 00:00 in Jakarta; the UTC date has not changed yet
    first = engine.issue("ktp").ticket
    assert (first.number, first.day) == ("A001", "2025-12-03")
    assert engine.ticket("A001").id == first.id  # a number means today's ticket
    engine.open_counter("1")
    assert engine.call_next("1").ticket.id == first.id  # yesterday's line is not today's


def test_people_ahead_and_estimated_wait(engine: Engine, clock) -> None:
    # No counter open yet: the 6 counters assigned to KTP share the line (15 min each).
    waits = [engine.issue("ktp") for _ in range(3)]
    assert [o.people_ahead for o in waits] == [0, 1, 2]
    assert [o.estimated_wait_s for o in waits] == [0, 150, 300]
    vip = engine.issue("ktp", priority="lansia")
    assert (vip.people_ahead, vip.estimated_wait_s) == (0, 0)  # priority goes first
    third = engine.ticket(waits[2].ticket.id)
    assert engine.position(third) == (3, 450)  # the priority ticket is now ahead of it too

    engine.open_counter("1")
    engine.open_counter("2")
    assert engine.position(third) == (3, 3 * 900 // 2)  # only open counters count now
    engine.set_services("2", [("kk", 1)])
    assert engine.position(third) == (3, 3 * 900)  # counter 2 no longer takes KTP

    # Measured service times replace the configured 15 minutes.
    assert engine.call_next("1").ticket.number == "A004"
    clock.advance(600)
    engine.complete("1")  # straight from called: 600 s
    engine.call_next("1")
    clock.advance(100)
    engine.start("1")
    clock.advance(300)
    engine.complete("1")  # 300 s after start
    fresh = Engine(engine.config, engine.store, clock=clock)  # no cached mean
    assert fresh.position(fresh.ticket("A003")) == (1, 450)
    assert fresh.position(fresh.ticket("A001")) == (0, None)  # not waiting: no estimate


def test_no_estimate_when_no_counter_takes_the_service(engine: Engine) -> None:
    for counter in engine.config.counters:
        engine.set_services(counter.id, [("ktp", 1)])
    outcome = engine.issue("kk")
    assert (outcome.people_ahead, outcome.estimated_wait_s) == (0, None)


def test_quota_full_writes_nothing(engine: Engine, clock) -> None:
    small = with_quota(engine, "ktp", 2)
    assert issue(small, "ktp", 2) == ["A001", "A002"]
    before = state(small)
    with pytest.raises(QuotaFull) as err:
        small.issue("ktp")
    assert (err.value.status, err.value.code) == (429, "quota_full")
    assert err.value.to_dict()["error"] == "quota_full"
    assert state(small) == before
    assert issue(small, "kk") == ["B001"]  # other services are not affected
    assert issue(with_quota(engine, "ktp", 3), "ktp") == ["A003"]  # no number was used up
    clock.advance(16 * HOUR)  # the next local day: a fresh quota
    assert issue(small, "ktp", 2) == ["A001", "A002"]


def test_disabled_service_takes_no_tickets(engine: Engine) -> None:
    services = tuple(replace(s, enabled=s.id != "pbg") for s in engine.config.services)
    closed = Engine(replace(engine.config, services=services), engine.store, clock=engine.clock)
    before = state(closed)
    with pytest.raises(ServiceClosed) as err:
        closed.issue("pbg")
    assert (err.value.status, err.value.details["service"]) == (409, "pbg")
    assert state(closed) == before


def test_bad_service_or_priority_writes_nothing(engine: Engine) -> None:
    before = state(engine)
    with pytest.raises(NoSuchService) as err:
        engine.issue("paspor")
    assert err.value.status == 404
    with pytest.raises(BadRequest) as bad:
        engine.issue("ktp", priority="vip")
    assert (bad.value.status, bad.value.details["field"]) == (400, "priority")
    assert state(engine) == before
    assert issue(engine, "ktp", priority="ibu_hamil") == ["A001"]


# -- operations ----------------------------------------------------------------


def test_call_next_then_by_id_and_by_number(engine: Engine, clock) -> None:
    a1, a2, a3 = (engine.issue("ktp").ticket for _ in range(3))
    engine.open_counter("1")
    engine.open_counter("2")
    clock.advance(60)
    out = engine.call_next("1")
    assert (out.ticket.id, out.ticket.status, out.ticket.counter) == (a1.id, "called", "1")
    assert out.ticket.called_at == clock.now
    assert out.counter.current == a1.id
    assert engine.call("2", "a003").ticket.id == a3.id  # by number, any case
    engine.complete("2")
    engine.unpark(engine.park("1").ticket.id)
    assert engine.call("2", "A1").ticket.id == a1.id  # typed without the leading zeros
    engine.complete("2")
    assert engine.call("2", a2.id).ticket.number == "A002"  # by id
    engine.complete("2")
    with pytest.raises(NoSuchTicket):
        engine.call("2", "A099")


def test_recall_counts_and_announces_again(engine: Engine) -> None:
    seen: list[ev.Event] = []
    engine.listeners.append(seen.extend)
    engine.issue("ktp")
    engine.open_counter("3")
    engine.call_next("3")
    seen.clear()
    assert engine.recall("3").ticket.recalls == 1
    out = engine.recall("3")
    assert out.ticket.recalls == 2 and out.ticket.status is TicketStatus.CALLED
    assert [e.name for e in seen] == [ev.TICKET_CALLED, ev.TICKET_CALLED]
    assert all(e.data["recall"] is True for e in seen)
    assert seen[-1].data["ticket"]["recalls"] == 2
    calls = engine.store.recent_calls(engine.branch, 10)
    assert [c.recall for c in calls] == [True, True, False]  # newest first


def test_start_complete_and_complete_straight_from_called(engine: Engine, clock) -> None:
    issue(engine, "ktp", 2)
    engine.open_counter("1")
    engine.call_next("1")
    clock.advance(30)
    started = engine.start("1").ticket
    assert (started.status, started.started_at) == (TicketStatus.SERVING, clock.now)
    clock.advance(30)
    done = engine.complete("1")
    assert (done.ticket.status, done.ticket.finished_at) == (TicketStatus.DONE, clock.now)
    assert done.counter.current == ""
    engine.call_next("1")
    assert engine.complete("1").ticket.status is TicketStatus.DONE
    with pytest.raises(NoCurrentTicket):
        engine.complete("1")


def test_no_show_frees_the_counter_and_can_be_called_back(engine: Engine) -> None:
    issue(engine, "ktp", 2)
    engine.open_counter("1")
    engine.call_next("1")
    out = engine.no_show("1")
    assert out.ticket.status is TicketStatus.NO_SHOW and out.counter.current == ""
    assert engine.call_next("1").ticket.number == "A002"  # a no-show is out of the line
    engine.complete("1")
    assert engine.call("1", "A001").ticket.status is TicketStatus.CALLED  # came back late


def test_park_and_unpark_back_to_the_original_place(engine: Engine) -> None:
    issue(engine, "ktp", 3)
    engine.open_counter("1")
    engine.call_next("1")
    parked = engine.park("1")
    assert parked.ticket.status is TicketStatus.PARKED and parked.counter.current == ""
    assert engine.call_next("1").ticket.number == "A002"
    engine.complete("1")
    back = engine.unpark("A001").ticket
    assert back.status is TicketStatus.WAITING and back.counter == ""
    assert engine.position(back)[0] == 0  # ahead of A003 again
    assert drain(engine, "1") == ["A001", "A003"]


def test_transfer_keeps_place_and_number(engine: Engine) -> None:
    issue(engine, "kk")  # B001
    a1 = engine.issue("ktp").ticket
    issue(engine, "kk")  # B002
    engine.open_counter("1")
    engine.call("1", "A001")
    engine.start("1")
    out = engine.transfer("1", "kk")
    moved = out.ticket
    assert (moved.number, moved.status, moved.service) == ("A001", "waiting", "kk")
    assert (moved.origin_service, moved.transfers, moved.counter) == ("ktp", 1, "")
    assert moved.sort_key == a1.sort_key and out.counter.current == ""
    assert engine.position(moved)[0] == 1  # behind B001, ahead of B002
    assert issue(engine, "ktp") == ["A002"]  # no number was issued for the transfer
    engine.set_services("1", [("kk", 1)])
    assert drain(engine, "1") == ["B001", "A001", "B002"]


def test_transfer_to_the_back_of_the_line_or_same_service(engine: Engine) -> None:
    issue(engine, "ktp")
    issue(engine, "kk", 2)
    engine.open_counter("1")
    engine.call("1", "A001")
    with pytest.raises(BadRequest):
        engine.transfer("1", "ktp")
    with pytest.raises(NoSuchService):
        engine.transfer("1", "paspor")
    engine.transfer("1", "kk", keep_place=False)
    assert drain(engine, "1") == ["B001", "B002", "A001"]


def test_cancel_frees_the_counter(engine: Engine) -> None:
    issue(engine, "ktp", 3)
    engine.open_counter("1")
    engine.call_next("1")
    out = engine.cancel("A001")
    assert out.ticket.status is TicketStatus.CANCELLED and out.ticket.finished_at > 0
    assert engine.counter("1").current == ""
    engine.cancel("A002")  # a waiting ticket leaves the line
    assert drain(engine, "1") == ["A003"]


def test_wrong_transitions_change_nothing(engine: Engine) -> None:
    issue(engine, "ktp", 4)
    for cid in ("1", "2", "3"):
        engine.open_counter(cid)
    engine.call("1", "A001")
    engine.start("1")  # A001 serving at 1
    engine.call("2", "A002")
    engine.complete("2")  # A002 done
    engine.call("2", "A003")  # A003 called at 2
    wrong = [
        lambda: engine.start("1"),
        lambda: engine.recall("1"),
        lambda: engine.no_show("1"),
        lambda: engine.cancel("A001"),
        lambda: engine.unpark("A004"),
        lambda: engine.cancel("A002"),
        lambda: engine.call("3", "A002"),  # done
        lambda: engine.call("3", "A003"),  # already called at counter 2
        lambda: engine.call("3", "A001"),  # being served at counter 1
    ]
    for attempt in wrong:
        before = state(engine)
        with pytest.raises(InvalidTransition) as err:
            attempt()
        assert err.value.status == 409 and err.value.code == "invalid_transition"
        assert state(engine) == before


# -- counters ------------------------------------------------------------------


def test_counter_states(engine: Engine) -> None:
    issue(engine, "ktp", 3)
    with pytest.raises(CounterNotOpen):
        engine.call_next("1")  # counters start closed
    assert engine.open_counter("1", clerk="budi").counter.clerk == "budi"
    engine.call_next("1")
    with pytest.raises(CounterBusy):
        engine.call_next("1")
    with pytest.raises(CounterBusy):
        engine.call("1", "A002")
    with pytest.raises(CounterBusy):
        engine.close_counter("1")
    assert engine.pause_counter("1").counter.state is CounterState.PAUSED
    assert engine.complete("1").ticket.status is TicketStatus.DONE  # finish while paused
    before = state(engine)
    with pytest.raises(CounterNotOpen) as err:
        engine.call_next("1")
    assert err.value.status == 409 and state(engine) == before
    engine.open_counter("1")
    assert engine.call_next("1").ticket.number == "A002"
    engine.complete("1")
    closed = engine.close_counter("1").counter
    assert (closed.state, closed.clerk) == (CounterState.CLOSED, "")
    with pytest.raises(CounterNotOpen):
        engine.call("1", "A003")
    with pytest.raises(NoSuchCounter):
        engine.open_counter("99")


# -- routing -------------------------------------------------------------------


def test_priority_first_with_anti_starvation_cap(engine: Engine) -> None:
    issue(engine, "ktp", 2)  # A001, A002 wait longest
    issue(engine, "kk", 5, priority="lansia")  # B001..B005
    engine.open_counter("1")
    assert engine.config.routing.max_consecutive_priority == 3
    assert drain(engine, "1") == ["B001", "B002", "B003", "A001", "B004", "B005", "A002"]


def test_priority_cap_is_configurable_and_yields_when_only_priority_waits(
    engine: Engine,
) -> None:
    strict = variant(engine, max_consecutive_priority=1)
    issue(strict, "ktp", 2)
    issue(strict, "ktp", 4, priority="disabilitas")
    strict.open_counter("1")
    assert drain(strict, "1") == ["A003", "A001", "A004", "A002", "A005", "A006"]


def test_fifo_longest_waiting_across_the_counters_services(engine: Engine, clock) -> None:
    issue(engine, "kk")
    clock.advance(60)
    issue(engine, "ktp")
    clock.advance(60)
    issue(engine, "akta")
    for cid in ("1", "2"):
        engine.open_counter(cid)
    engine.set_services("2", [("ktp", 1), ("akta", 1)])
    assert engine.call_next("2").ticket.number == "A001"  # B001 is older but not its service
    assert engine.call_next("1").ticket.number == "B001"
    engine.complete("1")
    assert engine.call_next("1").ticket.number == "C001"


def test_sla_takes_the_largest_wait_over_target(engine: Engine, clock) -> None:
    sla = variant(engine, policy="sla")
    issue(sla, "ktp")  # target 20 min
    clock.advance(10 * 60)
    issue(sla, "info")  # target 10 min
    clock.advance(15 * 60)  # ktp 25/20 = 1.25, info 15/10 = 1.5
    sla.open_counter("1")
    assert sla.call_next("1").ticket.number == "G001"
    sla.complete("1")
    assert sla.call_next("1").ticket.number == "A001"
    fifo_engine = variant(engine, policy="fifo")
    issue(fifo_engine, "ktp")
    clock.advance(60)
    issue(fifo_engine, "info")
    fifo_engine.complete("1")
    assert fifo_engine.call_next("1").ticket.number == "A002"  # fifo ignores targets


def test_weighted_two_to_one(engine: Engine) -> None:
    weighted = variant(engine, policy="weighted")
    issue(weighted, "kk", 4)
    issue(weighted, "ktp", 8)
    weighted.open_counter("1")
    weighted.set_services("1", [("ktp", 2), ("kk", 1)])
    order = drain(weighted, "1")
    prefixes = [n[0] for n in order]
    for block in range(4):
        assert Tally(prefixes[3 * block : 3 * block + 3]) == {"A": 2, "B": 1}
    assert sorted(order) == [f"A{i:03d}" for i in range(1, 9)] + [f"B{i:03d}" for i in range(1, 5)]


def test_set_services_applies_to_the_next_call(engine: Engine) -> None:
    issue(engine, "ktp")
    issue(engine, "kk")
    engine.open_counter("1")
    out = engine.set_services("1", [("kk", 3)])
    assert out.counter.services == (("kk", 3),)
    assert engine.call_next("1").ticket.number == "B001"
    engine.complete("1")
    assert engine.call_next("1").ticket is None  # A001 waits, but not for this counter
    engine.set_services("1", [("ktp", 1), ("kk", 1)])
    assert engine.call_next("1").ticket.number == "A001"


@pytest.mark.parametrize(
    "services, error",
    [
        ([("ktp", 1), ("paspor", 1)], NoSuchService),
        ([("ktp", 1), ("ktp", 2)], BadRequest),
        ([("ktp", 0)], BadRequest),
        ([("ktp", 101)], BadRequest),
        ([], BadRequest),
    ],
)
def test_set_services_rejects_bad_input_and_changes_nothing(
    engine: Engine, services, error
) -> None:
    before = state(engine)
    with pytest.raises(error) as err:
        engine.set_services("1", services)
    assert 400 <= err.value.status < 500 and err.value.details.get("field")
    assert state(engine) == before


# -- events and snapshot -------------------------------------------------------


def test_events_are_named_and_numbered_without_gaps(engine: Engine, store: Store) -> None:
    seen: list[ev.Event] = []
    engine.listeners.append(seen.extend)

    def names(outcome) -> list[str]:
        assert outcome.events == seen[-len(outcome.events) :]  # listeners get the same list
        return [e.name for e in outcome.events]

    assert names(engine.issue("ktp")) == [ev.TICKET_ISSUED, ev.QUEUE_UPDATED]
    issue(engine, "ktp", 11)
    assert names(engine.open_counter("3")) == [ev.COUNTER_UPDATED, ev.QUEUE_UPDATED]
    called = engine.call("3", "A012")
    assert names(called) == [ev.TICKET_CALLED, ev.COUNTER_UPDATED, ev.QUEUE_UPDATED]
    text = "Nomor antrean A dua belas, silakan menuju Loket tiga"
    assert called.events[0].data["announcement"]["id"] == text
    assert called.events[0].data["recall"] is False
    assert called.events[0].data["ticket"]["counter_name"] == "Loket 3"
    assert names(engine.recall("3")) == [ev.TICKET_CALLED]
    assert seen[-1].data["announcement"]["id"] == text
    assert names(engine.start("3")) == [ev.TICKET_UPDATED, ev.QUEUE_UPDATED]
    assert names(engine.complete("3")) == [ev.TICKET_UPDATED, ev.COUNTER_UPDATED, ev.QUEUE_UPDATED]
    assert names(engine.set_services("3", [("kk", 1)])) == [ev.COUNTER_UPDATED, ev.QUEUE_UPDATED]
    assert engine.call_next("3").events == []  # nobody waits for kk: nothing happened
    assert names(engine.cancel("A001")) == [ev.TICKET_UPDATED, ev.QUEUE_UPDATED]
    seqs = [e.seq for e in seen]
    assert seqs == list(range(1, len(seen) + 1))  # a display never sees a false gap
    assert store.seq(engine.branch) == len(seen)
    assert all(e.branch == engine.branch for e in seen)
    assert seen[0].ticket and seen[0].data["ticket"]["number"] == "A001"


def test_snapshot(engine: Engine, clock) -> None:
    issue(engine, "ktp", 3)
    issue(engine, "kk")
    engine.open_counter("2", clerk="sari")
    engine.call_next("2")
    snap = engine.snapshot()
    assert snap["seq"] == engine.store.seq(engine.branch)
    assert (snap["branch"], snap["day"]) == ("main", "2025-12-02")
    assert [c["id"] for c in snap["counters"]] == ["1", "2", "3", "4", "5", "6"]
    loket2 = snap["counters"][1]
    assert loket2["state"] == "open" and loket2["current"]["number"] == "A001"
    assert "clerk" not in loket2 and engine.snapshot(staff=True)["counters"][1]["clerk"] == "sari"
    waiting = {s["id"]: s["waiting"] for s in snap["services"]}
    assert waiting == {"ktp": 2, "kk": 1, "akta": 0, "pbg": 0, "nib": 0, "pbb": 0, "info": 0}
    assert [c["number"] for c in snap["recent_calls"]] == ["A001"]
    assert snap["recent_calls"][0]["counter_name"] == "Loket 2"


def test_engine_over_config_with_fewer_counters(engine: Engine, config: Config) -> None:
    small = Engine(replace(config, counters=config.counters[:2]), engine.store, clock=engine.clock)
    assert [c.id for c in small.counters()] == ["1", "2"]  # extra stored counters are ignored
    with pytest.raises(NoSuchCounter):
        small.open_counter("3")


def test_a_ticket_from_an_earlier_day_cannot_be_called(engine, clock):
    """Yesterday's leftover ticket is not called today, even by its id."""
    old = engine.issue("ktp").ticket
    clock.advance(24 * 3600)
    engine.open_counter("1", "budi")
    with pytest.raises(TicketExpired) as err:
        engine.call("1", old.id)
    assert err.value.code == "ticket_expired" and err.value.details == {"day": old.day}
    assert engine.call_next("1").ticket is None  # yesterday's line is not today's
    # The day closed at midnight: the leftover ended (test_day_close.py has the rest).
    assert engine.store.ticket(engine.branch, old.id).status is TicketStatus.EXPIRED


def test_outcomes_carry_the_counter_and_its_ticket_as_stored(engine: Engine) -> None:
    """Callers show an operation's counter from its Outcome: it must match the store."""
    first = engine.issue("ktp").ticket
    engine.issue("ktp")
    engine.issue("ktp")

    def check(outcome: Outcome) -> None:
        assert outcome.counter == engine.store.counter(engine.branch, "1")
        at_counter = outcome.counter.current if outcome.counter else ""
        stored = engine.store.ticket(engine.branch, at_counter) if at_counter else None
        assert outcome.current == stored
        if outcome.ticket is not None:
            assert outcome.ticket == engine.store.ticket(engine.branch, outcome.ticket.id)

    check(engine.open_counter("1", "budi"))
    for step in (
        engine.call_next,
        engine.recall,
        engine.pause_counter,
        engine.open_counter,
        engine.start,
        engine.park,
        engine.call_next,
        engine.no_show,
        engine.call_next,
        engine.complete,
    ):
        outcome = step("1")
        check(outcome)
    assert outcome.current is None and outcome.counter is not None  # complete freed it
    called = engine.call("1", first.id)
    check(called)
    assert called.current == called.ticket  # positive control: a busy counter's ticket
    check(engine.transfer("1", "kk"))
    engine.call("1", first.id)
    cancelled = engine.cancel(first.id)
    check(cancelled)
    assert cancelled.current is None


def test_an_edited_service_time_reaches_the_next_estimate_at_once(engine: Engine) -> None:
    engine.open_counter("1")
    engine.issue("kk")
    assert engine.issue("kk").estimated_wait_s == 15 * 60  # config.toml: 15 min
    engine.update_service("kk", {"service_time_min": 30})
    assert engine.issue("kk").estimated_wait_s == 2 * 30 * 60  # not the cached 15 min
