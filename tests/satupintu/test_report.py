"""Today's figures for the manager: the pure computation (satupintu/report.py)."""

from __future__ import annotations

from satupintu.engine import Engine
from satupintu.report import day_report, today_report


def test_figures_per_service_from_a_scripted_morning(engine: Engine, clock):
    engine.open_counter("1", clerk="ani")
    first = engine.issue("ktp").ticket
    engine.issue("ktp")
    engine.issue("kk")
    clock.advance(300)  # A001 waited 5 min
    assert engine.call_next("1").ticket.id == first.id
    engine.start("1")
    clock.advance(600)  # served for 10 min
    engine.complete("1")
    clock.advance(60)
    report = day_report(
        engine.store.day_tickets(engine.branch, engine.today()),
        list(engine.config.services),
        clock(),
        engine.tz,
        engine.today(),
    )
    ktp = next(f for f in report["services"] if f["id"] == "ktp")
    assert ktp["issued"] == 2 and ktp["waiting"] == 1 and ktp["served"] == 1
    assert ktp["mean_wait_s"] == 300
    assert ktp["mean_service_s"] == 600
    assert ktp["longest_wait_s"] == 960  # A002, issued at the start
    assert ktp["over_target"] is False  # target 20 min
    assert report["totals"] == {
        "issued": 3,
        "waiting": 2,
        "served": 1,
        "no_show": 0,
        "expired": 0,
        "mean_wait_s": 300,
    }
    assert report["hourly"]["hours"] == ["09:00"]
    assert report["hourly"]["issued"]["ktp"] == [2]
    assert report["hourly"]["issued"]["kk"] == [1]
    assert report["alerts"] == []


def test_a_wait_past_its_target_raises_an_alert(engine: Engine, clock):
    engine.issue("info")  # target 10 min
    clock.advance(11 * 60)
    report = day_report(
        engine.store.day_tickets(engine.branch, engine.today()),
        list(engine.config.services),
        clock(),
        engine.tz,
        engine.today(),
    )
    assert report["alerts"] == [{"service": "info", "longest_wait_s": 660, "target_wait_s": 600}]
    info = next(f for f in report["services"] if f["id"] == "info")
    assert info["over_target"] is True
    assert info["oldest_waiting_at"] == "2025-12-02T09:00:00+07:00"


def test_hours_run_from_the_first_ticket_to_now(engine: Engine, clock):
    engine.issue("kk")
    clock.advance(2 * 3600 + 60)  # 11:01
    engine.issue("kk")
    report = day_report(
        engine.store.day_tickets(engine.branch, engine.today()),
        list(engine.config.services),
        clock(),
        engine.tz,
        engine.today(),
    )
    assert report["hourly"]["hours"] == ["09:00", "10:00", "11:00"]
    assert report["hourly"]["issued"]["kk"] == [1, 0, 1]


def test_transferred_ticket_counts_where_it_was_issued_and_waits_where_it_is(engine, clock):
    engine.open_counter("1")
    engine.issue("info")
    engine.call_next("1")
    engine.transfer("1", "pbb")
    report = day_report(
        engine.store.day_tickets(engine.branch, engine.today()),
        list(engine.config.services),
        clock(),
        engine.tz,
        engine.today(),
    )
    figures = {f["id"]: f for f in report["services"]}
    assert figures["info"]["issued"] == 1 and figures["info"]["waiting"] == 0
    assert figures["pbb"]["issued"] == 0 and figures["pbb"]["waiting"] == 1


def test_mean_waits_per_hour_per_service_from_a_scripted_day(engine: Engine, clock):
    engine.open_counter("1")
    a1 = engine.issue("ktp").ticket  # 09:00
    clock.advance(600)
    engine.issue("ktp")  # 09:10
    clock.advance(600)
    engine.issue("kk")  # 09:20
    clock.advance(600)  # 09:30
    assert engine.call_next("1").ticket.id == a1.id  # waited 30 min, called in the 09 hour
    engine.complete("1")
    clock.advance(35 * 60)  # 10:05
    assert engine.call_next("1").ticket.number == "A002"  # waited 55 min
    engine.complete("1")
    clock.advance(10 * 60)  # 10:15
    assert engine.call_next("1").ticket.number == "B001"  # waited 55 min
    engine.complete("1")
    clock.advance(60 * 60)  # 11:15: nobody called this hour
    engine.issue("ktp")
    report = day_report(
        engine.store.day_tickets(engine.branch, engine.today()),
        list(engine.services()),
        clock(),
        engine.tz,
        engine.today(),
    )
    hourly = report["hourly"]
    assert hourly["hours"] == ["09:00", "10:00", "11:00"]
    assert hourly["issued"]["ktp"] == [2, 0, 1]
    assert hourly["mean_wait_s"]["ktp"] == [1800, 3300, None]
    assert hourly["mean_wait_s"]["kk"] == [None, 3300, None]
    assert hourly["mean_wait_s"]["info"] == [None, None, None]
    assert hourly["mean_wait_all_s"] == [1800, 3300, None]
    today = {f["id"]: f["mean_wait_s"] for f in report["services"]}
    assert (today["ktp"], today["kk"], today["info"]) == (2550, 3300, None)
    assert report["totals"]["mean_wait_s"] == round((1800 + 3300 + 3300) / 3)


def test_the_report_follows_the_managers_catalogue(engine: Engine):
    engine.add_service({"id": "paspor", "prefix": "Q", "name": "Paspor", "target_wait_min": 5})
    engine.issue("paspor")
    report = day_report(
        engine.store.day_tickets(engine.branch, engine.today()),
        list(engine.services()),
        engine.clock(),
        engine.tz,
        engine.today(),
    )
    paspor = next(f for f in report["services"] if f["id"] == "paspor")
    assert paspor["issued"] == 1 and paspor["target_wait_s"] == 300
    assert report["hourly"]["issued"]["paspor"] == [1]


def test_today_report_is_the_day_report_of_the_engines_day(engine: Engine, clock):
    engine.issue("kk")
    clock.advance(90)
    report = today_report(engine)
    assert report.pop("store_problem") is None
    assert report == day_report(
        engine.store.day_tickets(engine.branch, engine.today()),
        list(engine.services()),
        clock(),
        engine.tz,
        engine.today(),
    )
    assert report["day"] == engine.today() and report["totals"]["issued"] == 1
