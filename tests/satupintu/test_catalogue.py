"""Managers edit the service catalogue live: the engine on every store (catalogue.py)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from satupintu import catalogue as catalogue_module
from satupintu import events as ev
from satupintu.config import Config
from satupintu.engine import Engine
from satupintu.errors import (
    BadRequest,
    CatalogueChanged,
    Duplicate,
    NoConfigVersion,
    NoSuchService,
    QuotaFull,
    ServiceClosed,
)

PASPOR = {
    "id": "paspor",
    "prefix": "Q",
    "name": {"id": "Paspor", "en": "Passport"},
    "colour": "#6A1B9A",
    "standard": {"fee": "Rp 350.000", "requirements": ["KTP-el"]},
}


def heard(engine: Engine) -> list[ev.Event]:
    """Every event the engine hands its listeners from now on."""
    got: list[ev.Event] = []
    engine.listeners.append(got.extend)
    return got


def stored(engine: Engine) -> tuple:
    """The stored edits and the branch sequence: what a refused edit must leave alone."""
    return engine.store.catalogue_edits(engine.branch), engine.store.seq(engine.branch)


# -- an edit applies to the next ticket ----------------------------------------


def test_a_quota_edit_applies_to_the_next_ticket_and_is_announced(engine: Engine):
    events = heard(engine)
    engine.issue("ktp")
    engine.issue("ktp")
    done = engine.update_service("ktp", {"daily_quota": 3})
    assert done.service.daily_quota == 3 and done.version == 1
    assert [(e.name, e.seq, e.data) for e in done.events] == [
        (ev.CATALOGUE_UPDATED, engine.store.seq(engine.branch), {"service": "ktp", "version": 1})
    ]
    assert events[-1] == done.events[0]
    engine.issue("ktp")
    with pytest.raises(QuotaFull):
        engine.issue("ktp")
    engine.update_service("ktp", {"daily_quota": 0})  # no quota any more
    assert engine.issue("ktp").ticket.number == "A004"


def test_a_new_prefix_gives_new_numbers_and_old_tickets_keep_theirs(engine: Engine):
    first = engine.issue("ktp").ticket
    engine.update_service("ktp", {"prefix": "Z"})
    assert engine.issue("ktp").ticket.number == "Z001"
    assert engine.ticket("A001").id == first.id and engine.ticket(first.id).number == "A001"
    engine.update_service("ktp", {"prefix": "A"})
    assert engine.issue("ktp").ticket.number == "A002"  # a number is never handed out twice
    assert engine.store.catalogue_edits(engine.branch)[1] == {}  # back to config.toml: no override


def test_a_disabled_service_refuses_tickets_until_enabled_again(engine: Engine):
    engine.update_service("pbg", {"enabled": False})
    with pytest.raises(ServiceClosed):
        engine.issue("pbg")
    assert next(s for s in engine.snapshot()["services"] if s["id"] == "pbg")["enabled"] is False
    engine.update_service("pbg", {"enabled": True})
    assert engine.issue("pbg").ticket.number.startswith("D")


def test_standard_items_and_times_show_in_the_catalogue_and_estimates(engine: Engine):
    engine.open_counter("1")
    engine.update_service(
        "kk",
        {
            "name": {"en": "Family card"},
            "service_time_min": 30,
            "standard": {"fee": "Rp 5.000", "requirements": ["KK lama", "KTP-el"]},
        },
    )
    kk = next(s for s in engine.services_with_waits() if s["id"] == "kk")
    assert kk["name"] == {"id": "Kartu Keluarga", "en": "Family card"}
    assert kk["standard"]["fee"] == "Rp 5.000" and kk["standard"]["free"] is False
    assert kk["standard"]["requirements"] == ["KK lama", "KTP-el"]
    assert kk["standard"]["product"] == "Kartu Keluarga"  # untouched items stay
    engine.issue("kk")
    assert engine.issue("kk").estimated_wait_s == 30 * 60  # one ahead, 30 min, one counter
    assert engine.store.catalogue_edits(engine.branch)[1] == {
        "kk": {
            "name": {"en": "Family card"},
            "service_time_min": 30,
            "standard": {"requirements": ["KK lama", "KTP-el"], "fee": "Rp 5.000"},
        }
    }


def test_routing_targets_follow_the_edit(engine: Engine, clock):
    sla = Engine(
        replace(engine.config, routing=replace(engine.config.routing, policy="sla")),
        engine.store,
        clock=clock,
    )
    sla.open_counter("1")
    sla.issue("ktp")  # target 20 min
    sla.issue("info")  # target 10 min
    clock.advance(600)
    sla.update_service("ktp", {"target_wait_min": 5})  # KTP-el is now the more overdue
    assert sla.call_next("1").ticket.service == "ktp"


# -- refusals name the field and change nothing -----------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"prefix": "ab"}, "prefix", "services.ktp.prefix: must be one capital letter A-Z"),
        ({"prefix": "B"}, "prefix", "services.ktp.prefix: duplicate prefix 'B' (also services.kk)"),
        ({"daily_quota": -1}, "daily_quota", "services.ktp.daily_quota: must be between 0 and"),
        (
            {"target_wait_min": 0},
            "target_wait_min",
            "services.ktp.target_wait_min: must be between",
        ),
        ({"daily_quota": True}, "daily_quota", "services.ktp.daily_quota: must be int"),
        ({"colour": "blue"}, "colour", "services.ktp.colour: must be #RRGGBB"),
        ({"name": {"id": ""}}, "name", "services.ktp.name: must be a non-empty string"),
        (
            {"standard": {"requirements": "KK"}},
            "standard.requirements",
            "services.ktp.standard.requirements: must be a list of strings",
        ),
        ({"standard": {"fee": 0}}, "standard.fee", "services.ktp.standard.fee: must be str"),
        ({"colour": "#FFFFFF", "shape": "round"}, "shape", "services.ktp.shape: unknown key"),
        ({"id": "ktp2"}, "id", "a service's id cannot change"),
    ],
)
def test_a_bad_edit_is_refused_naming_the_field(engine: Engine, fields, field, message):
    engine.update_service("kk", {"daily_quota": 7})
    before = stored(engine)
    with pytest.raises((BadRequest, Duplicate)) as refused:
        engine.update_service("ktp", fields)
    # a prefix another service has is a conflict (409), the other rules are bad input (400)
    assert type(refused.value) is (Duplicate if "duplicate" in message else BadRequest)
    assert refused.value.details["field"] == field
    assert refused.value.message.startswith(message), refused.value.message
    assert stored(engine) == before
    assert engine.service("ktp") == engine.config.service("ktp")


def test_unknown_services_and_stale_versions_are_refused(engine: Engine):
    with pytest.raises(NoSuchService):
        engine.update_service("paspor", {"daily_quota": 1})
    with pytest.raises(NoSuchService):
        engine.reset_service("paspor")
    engine.update_service("kk", {"daily_quota": 7}, version=0)
    before = stored(engine)
    with pytest.raises(CatalogueChanged) as stale:  # edited from a page loaded before that
        engine.update_service("ktp", {"daily_quota": 9}, version=0)
    assert stale.value.status == 409 and stale.value.details["version"] == 1
    assert stored(engine) == before
    assert engine.update_service("ktp", {"daily_quota": 9}, version=1).version == 2


def test_an_edit_equal_to_what_is_there_writes_nothing(engine: Engine):
    events = heard(engine)
    ktp = engine.config.service("ktp")
    done = engine.update_service(
        "ktp",
        {"prefix": ktp.prefix, "colour": ktp.colour.lower(), "standard": {"fee": ktp.standard.fee}},
    )
    assert done.events == [] and events == [] and done.version == 0
    assert stored(engine) == ((0, {}), 0)


# -- adding and resetting ---------------------------------------------------------


def test_an_added_service_takes_tickets_but_no_counter_calls_it_until_assigned(engine: Engine):
    engine.open_counter("1")
    done = engine.add_service(PASPOR)
    assert done.service.id == "paspor" and done.service.daily_quota == 0  # config's defaults
    assert [s.id for s in engine.services()][-1] == "paspor"
    ticket = engine.issue("paspor").ticket
    assert ticket.number == "Q001"
    assert all("paspor" not in c.service_ids for c in engine.counters())
    assert engine.call_next("1").ticket is None
    engine.set_services("1", [("paspor", 1)])
    assert engine.call_next("1").ticket.id == ticket.id
    with pytest.raises(NoConfigVersion):  # nothing in config.toml to go back to
        engine.reset_service("paspor")
    engine.update_service("paspor", {"enabled": False})
    with pytest.raises(ServiceClosed):
        engine.issue("paspor")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({**PASPOR, "id": "ktp"}, "id", "services.ktp.id: duplicate id 'ktp'"),
        ({**PASPOR, "id": "Pas Por"}, "id", "services.Pas Por.id: must match"),
        (
            {**PASPOR, "prefix": "A"},
            "prefix",
            "services.paspor.prefix: duplicate prefix 'A' (also services.ktp)",
        ),
        (
            {k: v for k, v in PASPOR.items() if k != "prefix"},
            "prefix",
            "services.paspor.prefix: is required",
        ),
        ({k: v for k, v in PASPOR.items() if k != "name"}, "name", "services.paspor.name: must be"),
    ],
)
def test_a_bad_new_service_is_refused_naming_the_field(engine: Engine, fields, field, message):
    before = stored(engine)
    with pytest.raises((BadRequest, Duplicate)) as refused:
        engine.add_service(fields)
    assert type(refused.value) is (Duplicate if "duplicate" in message else BadRequest)
    assert refused.value.details["field"] == field
    assert refused.value.message.startswith(message), refused.value.message
    assert stored(engine) == before


def test_reset_goes_back_to_config_toml(engine: Engine):
    engine.update_service("ktp", {"prefix": "Z", "daily_quota": 1, "standard": {"fee": "Rp 1"}})
    engine.add_service(PASPOR)
    done = engine.reset_service("ktp")
    assert done.service == engine.config.service("ktp") and len(done.events) == 1
    assert list(engine.store.catalogue_edits(engine.branch)[1]) == ["paspor"]
    assert engine.reset_service("ktp").events == []  # nothing left to reset


def test_reset_is_refused_while_an_edit_holds_the_config_prefix(engine: Engine):
    engine.update_service("ktp", {"prefix": "Z"})
    engine.add_service({**PASPOR, "prefix": "A"})  # A is free now
    before = stored(engine)
    with pytest.raises(Duplicate) as refused:
        engine.reset_service("ktp")
    assert refused.value.message == (
        "services.ktp.prefix: duplicate prefix 'A' (also services.paspor)"
    )
    assert stored(engine) == before


# -- every process, every restart -------------------------------------------------


def test_another_engine_on_the_store_sees_the_edit_within_a_second(engine: Engine, config, clock):
    other = Engine(config, engine.store, clock=clock)  # another server process
    assert other.service("ktp").daily_quota == 200
    engine.update_service("ktp", {"daily_quota": 1, "standard": {"fee": "Rp 2.000"}})
    assert engine.service("ktp").daily_quota == 1  # its own write: at once
    start = time.monotonic()
    while other.service("ktp").daily_quota != 1:
        assert time.monotonic() - start < catalogue_module.CACHE_SECONDS + 0.5
        time.sleep(0.02)
    other.issue("ktp")
    with pytest.raises(QuotaFull):
        other.issue("ktp")
    restarted = Engine(config, engine.store, clock=clock)
    assert restarted.service("ktp").standard.fee == "Rp 2.000"


def test_a_stored_edit_that_no_longer_fits_config_toml_is_ignored(
    engine: Engine, config: Config, clock, caplog
):
    engine.update_service("ktp", {"prefix": "Z", "daily_quota": 3})
    engine.update_service("kk", {"daily_quota": 4})
    # config.toml changes under the edit: another service now uses Z.
    services = tuple(replace(s, prefix="Z") if s.id == "info" else s for s in config.services)
    changed = Engine(replace(config, services=services), engine.store, clock=clock)
    with caplog.at_level("WARNING"):
        assert changed.service("ktp") == config.service("ktp")  # as config.toml says
    assert "services.ktp.prefix: duplicate prefix 'Z' (also services.info)" in caplog.text
    assert changed.service("kk").daily_quota == 4  # other edits still apply
    assert changed.issue("ktp").ticket.number == "A001"
