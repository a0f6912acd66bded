"""What a changed config.toml does to stored counters and tickets, applied on start."""

from __future__ import annotations

import dataclasses

from satupintu import current
from satupintu.app import create_app
from satupintu.config import Config, CounterConfig
from satupintu.engine import Engine
from satupintu.model import TicketStatus
from tests.apihelpers import actor


def without(config: Config, service_id: str) -> Config:
    """config.toml with one service removed."""
    return dataclasses.replace(
        config, services=tuple(s for s in config.services if s.id != service_id)
    )


def test_a_service_added_to_config_reaches_the_counters_that_take_all(config, store, clock):
    first = Engine(without(config, "info"), store, clock=clock)  # the office as installed
    assert "info" not in first.counter("1").service_ids
    first.set_services("1", [(s, 1) for s in first.counter("1").service_ids if s != "kk"])
    # Counter 6 gets an explicit list in the new config.toml: it keeps what it holds.
    counters = tuple(
        dataclasses.replace(c, services=(("ktp", 1),)) if c.id == "6" else c
        for c in config.counters
    )
    restarted = Engine(dataclasses.replace(config, counters=counters), store, clock=clock)
    assert "info" in restarted.counter("1").service_ids  # the new service reached it
    assert "kk" not in restarted.counter("1").service_ids  # the manager's choice is kept
    assert "info" in restarted.counter("2").service_ids
    assert "info" not in restarted.counter("6").service_ids
    assert any(
        "Loket 1 takes all services, so it now also takes info" in line
        for line in restarted.config_applied
    )
    # Applied once: the next start changes nothing (nor does the manager's choice return).
    again = Engine(dataclasses.replace(config, counters=counters), store, clock=clock)
    assert again.config_applied == []
    assert "kk" not in again.counter("1").service_ids
    # Positive control: info tickets are called at counter 2 now.
    again.open_counter("2", "sari")
    ticket = again.issue("info").ticket
    assert again.call_next("2").ticket.id == ticket.id


def test_removing_a_service_ends_its_open_tickets_and_takes_it_off_counters(config, store, clock):
    before = Engine(config, store, clock=clock)
    before.open_counter("1", "budi")
    at_counter = before.issue("info").ticket
    waiting = before.issue("info").ticket
    other = before.issue("ktp").ticket
    assert before.call("1", at_counter.id).ticket.id == at_counter.id
    after = Engine(without(config, "info"), store, clock=clock)
    for t in (at_counter, waiting):
        assert store.ticket(after.branch, t.id).status is TicketStatus.EXPIRED
    assert store.ticket(after.branch, other.id).status is TicketStatus.WAITING  # control
    assert after.counter("1").current == ""  # freed for the next citizen
    assert all("info" not in c.service_ids for c in after.counters())
    assert any("2 open tickets of today for info" in line for line in after.config_applied)
    assert after.call_next("1").ticket.id == other.id


def test_a_ticket_of_a_removed_service_has_an_indonesian_page(
    make_app, config, api_backend, tmp_path
):
    first = make_app()
    kiosk = actor(first, "kiosk1", "kiosk")
    ticket = kiosk.take_ticket("info")
    # A restart on the same data with a config.toml that no longer has the service.
    if api_backend == "sqlite":
        current.store.get(first).close()
        again = create_app(without(config, "info"), data_dir=tmp_path / "app0")
    else:
        again = make_app(services=without(config, "info").services)
    anon = actor(again, "", "kiosk")
    anon.token = None
    assert anon.ticket(ticket["id"])["status"] == "expired"
    page = anon.client.get(f"/t/{ticket['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "layanan ini tidak tersedia lagi di kantor ini" in html
    assert ticket["number"] in html
    english = anon.client.get(f"/t/{ticket['id']}?lang=en").get_data(as_text=True)
    assert "no longer offered at this office" in english


def test_the_counter_config_keeps_an_explicit_list_alone(config, store, clock):
    counters = tuple(
        CounterConfig(c.id, c.name, (("ktp", 2),)) if c.id == "3" else c for c in config.counters
    )
    engine = Engine(dataclasses.replace(config, counters=counters), store, clock=clock)
    assert engine.counter("3").services == (("ktp", 2),)
    assert engine.config_applied == []
