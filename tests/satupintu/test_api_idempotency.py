"""Idempotency-Key on POST /tickets: a kiosk's retry never makes a second (ghost) ticket."""

from __future__ import annotations

import pytest

from satupintu import current
from tests.apihelpers import actor

SCHEMA_BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.redis)]


def issue(kiosk, key: str | None, expect: int = 201, **body):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return kiosk.post("/tickets", expect, json={"service": "ktp", **body}, headers=headers)


def test_the_same_key_returns_the_same_ticket_and_issues_nothing_new(kiosk, manager, anon):
    first = issue(kiosk, "press-1")
    seq = anon.snapshot()["seq"]
    again = issue(kiosk, "press-1")
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert anon.snapshot()["seq"] == seq  # no event: nothing happened
    # Positive control: another key is another ticket, numbered after it.
    other = issue(kiosk, "press-2").get_json()
    assert (first.get_json()["number"], other["number"]) == ("A001", "A002")
    issued = manager.get("/reports/today").get_json()["totals"]["issued"]
    assert issued == 2


def test_a_different_body_with_the_same_key_is_refused(kiosk, manager):
    issue(kiosk, "press-1")
    body = issue(kiosk, "press-1", 422, service="kk").get_json()
    assert body["error"] == "idempotency_key_reused"
    assert body["field"] == "Idempotency-Key"
    body = issue(kiosk, "press-1", 422, priority="lansia").get_json()
    assert body["error"] == "idempotency_key_reused"
    assert manager.get("/reports/today").get_json()["totals"]["issued"] == 1


def test_keys_belong_to_their_kiosk_user(app, kiosk):
    other = actor(app, "kiosk2", "kiosk")
    mine = issue(kiosk, "press-1").get_json()
    theirs = issue(other, "press-1").get_json()
    assert mine["id"] != theirs["id"] and theirs["number"] == "A002"


def test_a_replay_comes_before_the_quota(make_app, config):
    import dataclasses

    services = tuple(
        dataclasses.replace(s, daily_quota=1) if s.id == "ktp" else s for s in config.services
    )
    app = make_app(services=services)
    kiosk = actor(app, "kiosk1", "kiosk")
    first = issue(kiosk, "last-one").get_json()
    assert issue(kiosk, "last-one").get_json()["id"] == first["id"]
    assert issue(kiosk, "another", 429).get_json()["error"] == "quota_full"


def test_a_bad_key_is_a_400_naming_the_header(kiosk):
    body = issue(kiosk, "x" * 129, 400).get_json()
    assert body["error"] == "bad_request" and body["field"] == "Idempotency-Key"
    body = issue(kiosk, "two words", 400).get_json()
    assert body["field"] == "Idempotency-Key"
    issue(kiosk, None)  # no key at all is fine


def test_the_key_survives_a_restart(make_app, api_backend, tmp_path, config):
    """A second app on the same data (a restart; on Redis another process)."""
    from satupintu.app import create_app

    first_app = make_app()
    kiosk = actor(first_app, "kiosk1", "kiosk")
    first = issue(kiosk, "before-restart").get_json()
    if api_backend == "sqlite":
        current.store.get(first_app).close()
        again_app = create_app(current.config.get(first_app), data_dir=tmp_path / "app0")
    else:
        again_app = make_app()
    again = actor(again_app, "kiosk1", "kiosk")
    replay = issue(again, "before-restart")
    assert replay.get_json()["id"] == first["id"]
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_the_header_is_in_the_openapi_document(anon):
    spec = anon.get("/openapi.json").get_json()
    op = spec["paths"]["/api/v1/tickets"]["post"]
    names = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
    assert "Idempotency-Key" in names
    assert "422" in op["responses"]
    assert "Idempotent-Replayed" in op["responses"]["201"].get("headers", {})


@pytest.mark.parametrize("backend", SCHEMA_BACKENDS)
def test_an_office_upgraded_from_schema_1_takes_keys(tmp_path, request, backend):
    """Schema step 2 (the idempotency table) on the committed v1 data of an office."""
    from satupintu.app import create_app
    from satupintu.config import load_config
    from tests.satupintu.test_schema import office
    from tests.serverproc import cli

    config_path, data = office(tmp_path, backend, request)
    done = cli("migrate", "--config", str(config_path), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert "1 -> 2" in done.stdout + done.stderr
    app = create_app(load_config(config_path), data_dir=data)
    try:
        kiosk = actor(app, "kiosk-upgraded", "kiosk")
        first = issue(kiosk, "after-upgrade").get_json()
        assert issue(kiosk, "after-upgrade").get_json()["id"] == first["id"]
        assert issue(kiosk, "after-upgrade-2").get_json()["id"] != first["id"]
    finally:
        current.store.get(app).close()
