"""Managers edit the catalogue over HTTP: PATCH/POST /services, DELETE .../override."""

from __future__ import annotations

import pytest

from satupintu import current
from tests.apihelpers import received

WAIT = 5.0
PASPOR = {
    "id": "paspor",
    "prefix": "Q",
    "name": {"id": "Paspor", "en": "Passport"},
    "colour": "#6A1B9A",
    "standard": {"fee": "Rp 350.000", "requirements": ["KTP-el"]},
}


@pytest.fixture
def app(socket_app):
    """Without the Redis message queue, so the Socket.IO test client can listen."""
    return socket_app


def stored(app) -> tuple:
    """The catalogue edits and the branch sequence: what a refusal must leave alone."""
    engine = current.engine.get(app)
    return engine.store.catalogue_edits(engine.branch), engine.store.seq(engine.branch)


def services(actor) -> dict[str, dict]:
    return {s["id"]: s for s in actor.get("/services").get_json()["services"]}


def refused(response, status: int, error: str, field: str | None = None) -> str:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"] == error, body
    assert body.get("field") == field, body
    return body["message"]


# -- roles --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anon", "kiosk", "clerk"])
def test_only_managers_edit_the_catalogue(request, app, who):
    actor = request.getfixturevalue(who)
    status, error = (401, "unauthorized") if who == "anon" else (403, "forbidden")
    before = stored(app)
    for method, path, body in [
        ("PATCH", "/services/ktp", {"daily_quota": 1}),
        ("POST", "/services", PASPOR),
        ("DELETE", "/services/ktp/override", None),
    ]:
        refused(actor.request(method, path, json=body), status, error)
    assert stored(app) == before


# -- edits --------------------------------------------------------------------


def test_an_edit_shows_in_the_catalogue_and_applies_to_the_next_ticket(app, manager, kiosk):
    assert kiosk.get("/services").get_json()["version"] == 0
    kiosk.take_ticket("ktp")
    body = manager.request(
        "PATCH",
        "/services/ktp",
        200,
        json={
            "daily_quota": 2,
            "standard": {"fee": "Rp 10.000", "procedure": ["Datang", "Foto"]},
        },
    ).get_json()
    assert body["version"] == 1
    ktp = body["service"]
    assert (ktp["id"], ktp["source"], ktp["daily_quota"], ktp["waiting"]) == ("ktp", "edited", 2, 1)
    assert ktp["standard"]["fee"] == "Rp 10.000" and ktp["standard"]["free"] is False
    assert ktp["standard"]["procedure"] == ["Datang", "Foto"]
    listed = kiosk.get("/services").get_json()
    assert listed["version"] == 1
    assert {s["id"]: s["source"] for s in listed["services"]}["kk"] == "config"
    assert services(kiosk)["ktp"] == ktp
    assert kiosk.snapshot()["services"][0]["standard"]["fee"] == "Rp 10.000"
    kiosk.take_ticket("ktp")
    assert kiosk.take_ticket("ktp", expect=429)["error"] == "quota_full"


def test_pages_hear_catalogue_updated_with_the_next_seq(app, manager, socket_client):
    display = socket_client("display")
    seq = manager.snapshot()["seq"]
    manager.request("PATCH", "/services/kk", 200, json={"prefix": "K"})
    events = received(display, "catalogue_updated", wait=WAIT)
    assert events == [
        {
            "event": "catalogue_updated",
            "seq": seq + 1,
            "branch": "main",
            "service": "kk",
            "version": 1,
        }
    ]
    assert manager.snapshot()["seq"] == seq + 1


def test_reset_goes_back_to_config_toml(app, manager, kiosk, config):
    manager.request("PATCH", "/services/kk", 200, json={"prefix": "K", "enabled": False})
    assert kiosk.take_ticket("kk", expect=409)["error"] == "service_closed"
    body = manager.request("DELETE", "/services/kk/override", 200).get_json()
    assert body["version"] == 2 and body["service"]["source"] == "config"
    assert body["service"]["prefix"] == "B" and body["service"]["enabled"] is True
    assert kiosk.take_ticket("kk")["number"] == "B001"
    assert stored(app)[0] == (2, {})


def test_an_added_service_is_listed_last_and_on_no_counter(app, manager, kiosk, clerk):
    body = manager.request("POST", "/services", 201, json=PASPOR).get_json()
    assert body["version"] == 1
    paspor = body["service"]
    assert (paspor["source"], paspor["prefix"], paspor["daily_quota"]) == ("added", "Q", 0)
    assert paspor["estimated_wait_s"] is None  # no counter takes it yet
    assert list(services(kiosk))[-1] == "paspor"
    assert kiosk.take_ticket("paspor")["number"] == "Q001"
    clerk.open("1")
    assert clerk.call_next("1", expect=204) is None
    manager.put("/counters/1/services", json={"services": [{"id": "paspor"}]})
    assert clerk.call_next("1")["ticket"]["number"] == "Q001"
    message = refused(
        manager.request("DELETE", "/services/paspor/override"), 409, "no_config_version", "service"
    )
    assert "disable it instead" in message


# -- refusals: 4xx naming the field, nothing changed -----------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error", "field", "message"),
    [
        (
            "PATCH",
            "/services/ktp",
            {"prefix": "AB"},
            400,
            "bad_request",
            "prefix",
            "prefix: must be one capital letter A-Z",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"prefix": "A\n"},
            400,
            "bad_request",
            "prefix",
            "prefix: must be one capital letter A-Z",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"prefix": "B"},
            409,
            "duplicate",
            "prefix",
            "services.ktp.prefix: duplicate prefix 'B' (also services.kk)",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"daily_quota": -5},
            400,
            "bad_request",
            "daily_quota",
            "daily_quota: must be between 0 and 100000",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"service_time_min": 100_001},
            400,
            "bad_request",
            "service_time_min",
            "service_time_min: must be between 1 and 100000",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"daily_quota": "5"},
            400,
            "bad_request",
            "daily_quota",
            "daily_quota: Not a valid integer.",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"daily_quota": True},
            400,
            "bad_request",
            "daily_quota",
            "daily_quota: Not a valid integer.",
        ),
        ("PATCH", "/services/ktp", {"enabled": "no"}, 400, "bad_request", "enabled", "enabled:"),
        (
            "PATCH",
            "/services/ktp",
            {"colour": "#12345"},
            400,
            "bad_request",
            "colour",
            "colour: must be #RRGGBB",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"name": {"id": " "}},
            400,
            "bad_request",
            "name.id",
            "name.id: must not be empty",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"name": {"en": "KTP"}},
            400,
            "bad_request",
            "name.id",
            "name.id: Missing data for required field.",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"name": {"id": "KTP", "ms": "KTP"}},
            400,
            "bad_request",
            "name.ms",
            "name.ms: Unknown field.",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"standard": {"fee": 0}},
            400,
            "bad_request",
            "standard.fee",
            "standard.fee: Not a valid string.",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"standard": {"requirements": ["x" * 501]}},
            400,
            "bad_request",
            "standard.requirements[0]",
            "standard.requirements[0]: Longer than maximum length 500.",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"standard": {"free": True}},
            400,
            "bad_request",
            "standard.free",
            "standard.free: Unknown field.",
        ),
        ("PATCH", "/services/ktp", {"id": "ktp2"}, 400, "bad_request", "id", "id: Unknown field."),
        (
            "PATCH",
            "/services/ktp",
            [1],
            400,
            "bad_request",
            None,
            "the JSON body must be an object",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"daily_quota": 1, "version": 7},
            409,
            "catalogue_changed",
            None,
            "the service catalogue was changed by someone else",
        ),
        (
            "PATCH",
            "/services/paspor",
            {"daily_quota": 1},
            404,
            "no_such_service",
            "service",
            "unknown service 'paspor'",
        ),
        (
            "POST",
            "/services",
            {**PASPOR, "id": "kk"},
            409,
            "duplicate",
            "id",
            "services.kk.id: duplicate id 'kk'",
        ),
        (
            "POST",
            "/services",
            {**PASPOR, "id": "Paspor!"},
            400,
            "bad_request",
            "id",
            "id: must be 1-32 characters of a-z",
        ),
        (
            "POST",
            "/services",
            {**PASPOR, "prefix": "G"},
            409,
            "duplicate",
            "prefix",
            "services.paspor.prefix: duplicate prefix 'G' (also services.info)",
        ),
        (
            "POST",
            "/services",
            {k: v for k, v in PASPOR.items() if k != "name"},
            400,
            "bad_request",
            "name",
            "name: Missing data for required field.",
        ),
        (
            "POST",
            "/services",
            {**PASPOR, "target_wait_min": 0},
            400,
            "bad_request",
            "target_wait_min",
            "target_wait_min: must be between 1 and 100000",
        ),
        # Characters that reorder or hide text (the manager's page showed "PTK" for "\u202eKTP"):
        # the schemas state config.bad_character's rule, so the refusal comes from them.
        (
            "PATCH",
            "/services/ktp",
            {"name": {"id": "\u202eKTP-el"}},
            400,
            "bad_request",
            "name.id",
            "name.id: must not contain text-direction characters (found U+202E at position 1)",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"name": {"id": "KTP", "en": "ID card\u2066"}},
            400,
            "bad_request",
            "name.en",
            "name.en: must not contain text-direction",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"standard": {"fee": "Rp\x0010.000"}},
            400,
            "bad_request",
            "standard.fee",
            "standard.fee: must not contain control characters (found U+0000",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"standard": {"requirements": ["KK", "Akta\nlahir"]}},
            400,
            "bad_request",
            "standard.requirements[1]",
            "standard.requirements[1]: must not contain control characters (found U+000A",
        ),
        (
            "PATCH",
            "/services/ktp",
            {"standard": {"complaint": "Tanya\x85PTSP"}},
            400,
            "bad_request",
            "standard.complaint",
            "standard.complaint: must not contain",
        ),
        (
            "POST",
            "/services",
            {**PASPOR, "name": {"id": "Paspor\u202d"}},
            400,
            "bad_request",
            "name.id",
            "name.id: must not contain text-direction",
        ),
        (
            "DELETE",
            "/services/paspor/override",
            None,
            404,
            "no_such_service",
            "service",
            "unknown service 'paspor'",
        ),
        (
            "DELETE",
            "/services/ktp/override?version=0",
            None,
            409,
            "catalogue_changed",
            None,
            "the service catalogue was changed by someone else",
        ),
        (
            "DELETE",
            "/services/ktp/override?version=x",
            None,
            400,
            "bad_request",
            "version",
            "version: Not a valid integer.",
        ),
    ],
)
def test_a_refused_edit_names_the_field_and_changes_nothing(
    app, manager, kiosk, method, path, body, status, error, field, message
):
    manager.request("PATCH", "/services/ktp", 200, json={"daily_quota": 9})  # version 1
    kiosk.take_ticket("ktp")
    before = (stored(app), services(kiosk))
    response = manager.request(method, path, json=body)
    assert refused(response, status, error, field).startswith(message), response.get_json()
    assert (stored(app), services(kiosk)) == before


def test_a_form_post_is_refused(app, manager):
    response = manager.request(
        "PATCH",
        "/services/ktp",
        data="daily_quota=1",
        content_type="application/x-www-form-urlencoded",
    )
    refused(response, 415, "unsupported_media_type")


def test_the_openapi_document_describes_the_catalogue_routes(app, anon):
    spec = anon.client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]["/api/v1/services/{service_id}"]) == {"patch"}
    assert "post" in spec["paths"]["/api/v1/services"]
    assert "delete" in spec["paths"]["/api/v1/services/{service_id}/override"]
    edit = spec["paths"]["/api/v1/services/{service_id}"]["patch"]
    assert {"400", "401", "403", "404", "409"} <= set(edit["responses"])
