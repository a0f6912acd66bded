"""GET /api/v1/reports/today: the manager's figures over HTTP."""

from __future__ import annotations


def test_report_endpoint_is_for_managers_only(anon, clerk, manager, kiosk):
    assert anon.get("/reports/today", expect=401).get_json()["error"] == "unauthorized"
    assert clerk.get("/reports/today", expect=403).get_json()["error"] == "forbidden"
    kiosk.take_ticket("ktp")
    body = manager.get("/reports/today").get_json()
    assert body["totals"]["issued"] == 1
    assert [f["id"] for f in body["services"]][:2] == ["ktp", "kk"]


def test_report_endpoint_has_the_waits_and_the_edited_catalogue(app, manager, kiosk, clerk):
    manager.request(
        "POST", "/services", 201, json={"id": "paspor", "prefix": "Q", "name": {"id": "Paspor"}}
    )
    kiosk.take_ticket("paspor")
    manager.put("/counters/1/services", json={"services": [{"id": "paspor"}]})
    clerk.open("1")
    clerk.call_next("1")
    body = manager.get("/reports/today").get_json()
    assert [f["id"] for f in body["services"]][-1] == "paspor"
    waits = body["hourly"]["mean_wait_s"]["paspor"]
    assert len(waits) == len(body["hourly"]["hours"]) and waits[-1] is not None
    assert len(body["hourly"]["mean_wait_all_s"]) == len(body["hourly"]["hours"])
