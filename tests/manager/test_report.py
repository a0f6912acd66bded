"""Today's figures for the manager: the pure computation and GET /api/v1/reports/today."""

from __future__ import annotations

from manager.report import day_report
from satupintu.engine import Engine


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
    report = day_report(engine.store.day_tickets(engine.branch, engine.today()),
                        list(engine.config.services), clock(), engine.tz, engine.today())
    ktp = next(f for f in report["services"] if f["id"] == "ktp")
    assert ktp["issued"] == 2 and ktp["waiting"] == 1 and ktp["served"] == 1
    assert ktp["mean_wait_s"] == 300
    assert ktp["mean_service_s"] == 600
    assert ktp["longest_wait_s"] == 960  # A002, issued at the start
    assert ktp["over_target"] is False  # target 20 min
    assert report["totals"] == {"issued": 3, "waiting": 2, "served": 1, "no_show": 0,
                                "mean_wait_s": 300}
    assert report["hourly"]["hours"] == ["09:00"]
    assert report["hourly"]["issued"]["ktp"] == [2]
    assert report["hourly"]["issued"]["kk"] == [1]
    assert report["alerts"] == []


def test_a_wait_past_its_target_raises_an_alert(engine: Engine, clock):
    engine.issue("info")  # target 10 min
    clock.advance(11 * 60)
    report = day_report(engine.store.day_tickets(engine.branch, engine.today()),
                        list(engine.config.services), clock(), engine.tz, engine.today())
    assert report["alerts"] == [{"service": "info", "longest_wait_s": 660,
                                 "target_wait_s": 600}]
    info = next(f for f in report["services"] if f["id"] == "info")
    assert info["over_target"] is True
    assert info["oldest_waiting_at"] == "2025-12-02T09:00:00+07:00"


def test_hours_run_from_the_first_ticket_to_now(engine: Engine, clock):
    engine.issue("kk")
    clock.advance(2 * 3600 + 60)  # 11:01
    engine.issue("kk")
    report = day_report(engine.store.day_tickets(engine.branch, engine.today()),
                        list(engine.config.services), clock(), engine.tz, engine.today())
    assert report["hourly"]["hours"] == ["09:00", "10:00", "11:00"]
    assert report["hourly"]["issued"]["kk"] == [1, 0, 1]


def test_transferred_ticket_counts_where_it_was_issued_and_waits_where_it_is(engine, clock):
    engine.open_counter("1")
    engine.issue("info")
    engine.call_next("1")
    engine.transfer("1", "pbb")
    report = day_report(engine.store.day_tickets(engine.branch, engine.today()),
                        list(engine.config.services), clock(), engine.tz, engine.today())
    figures = {f["id"]: f for f in report["services"]}
    assert figures["info"]["issued"] == 1 and figures["info"]["waiting"] == 0
    assert figures["pbb"]["issued"] == 0 and figures["pbb"]["waiting"] == 1


def test_report_endpoint_is_for_managers_only(anon, clerk, manager, kiosk):
    assert anon.get("/reports/today", expect=401).get_json()["error"] == "unauthorized"
    assert clerk.get("/reports/today", expect=403).get_json()["error"] == "forbidden"
    kiosk.take_ticket("ktp")
    body = manager.get("/reports/today").get_json()
    assert body["totals"]["issued"] == 1
    assert [f["id"] for f in body["services"]][:2] == ["ktp", "kk"]
