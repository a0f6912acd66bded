"""Bad input of every kind is a 4xx JSON error naming the field, and changes nothing."""

from __future__ import annotations

import dataclasses
import json

import pytest

from satupintu import current
from satupintu.app import create_app
from satupintu.config import StoreConfig
from tests.apihelpers import api_routes, put_user, token_for
from tests.redis_server import RedisServer

BIG = "x" * 10_000


def everything(app) -> tuple:
    """The whole stored state of the branch."""
    engine = current.engine.get(app)
    store = engine.store
    return (
        store.seq(engine.branch),
        [t.to_record() for t in store.day_tickets(engine.branch, engine.today())],
        [c.to_record() for c in store.counters(engine.branch)],
        [(u.username, u.role, u.password_hash) for u in store.users()],
    )


@pytest.fixture
def busy(app, kiosk, clerk):
    """A hall with a called ticket at counter 1, one waiting, counter 2 open and free."""
    kiosk.take_ticket("ktp")
    kiosk.take_ticket("kk")
    clerk.open("1")
    clerk.call_next("1")
    clerk.open("2")
    return app


def assert_error(response, status, code=None, field=None):
    assert response.status_code == status, response.get_data()
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
    assert set(body) <= {"error", "message", "field"}
    if code:
        assert body["error"] == code, body
    if field:
        assert body.get("field") == field, body
    return body


BAD_BODIES = [
    # (actor, method, path, raw body or json, status, field)
    ("kiosk", "POST", "/tickets", {"service": 7}, 400, "service"),
    ("kiosk", "POST", "/tickets", {"service": None}, 400, "service"),
    ("kiosk", "POST", "/tickets", {"service": ["ktp"]}, 400, "service"),
    ("kiosk", "POST", "/tickets", {"service": ""}, 400, "service"),
    ("kiosk", "POST", "/tickets", {"service": BIG}, 400, "service"),
    ("kiosk", "POST", "/tickets", {"service": "ktp", "priority": BIG}, 400, "priority"),
    ("kiosk", "POST", "/tickets", {"service": "ktp", "priority": True}, 400, "priority"),
    ("kiosk", "POST", "/tickets", {"service": "ktp", "kiosk": "K9"}, 400, "kiosk"),
    ("kiosk", "POST", "/tickets", {}, 400, "service"),
    ("kiosk", "POST", "/tickets", [], 400, None),
    ("kiosk", "POST", "/tickets", "ktp", 400, None),
    ("clerk", "POST", "/counters/1/call", {"ticket": BIG}, 400, "ticket"),
    ("clerk", "POST", "/counters/1/call", {"ticket": 1}, 400, "ticket"),
    ("clerk", "POST", "/counters/1/transfer", {"service": BIG}, 400, "service"),
    (
        "clerk",
        "POST",
        "/counters/1/transfer",
        {"service": "kk", "keep_place": None},
        400,
        "keep_place",
    ),
    ("manager", "PUT", "/counters/1/services", {"services": [{"id": BIG}]}, 400, "services[0].id"),
    ("manager", "PUT", "/counters/1/services", {"services": [{"id": "kk"}] * 101}, 400, "services"),
    ("anon", "POST", "/auth/token", {"username": BIG, "password": "x"}, 400, "username"),
    ("anon", "POST", "/auth/token", {"username": "a", "password": "p" * 129}, 400, "password"),
    ("anon", "POST", "/auth/token", {"username": "a"}, 400, "password"),
    ("anon", "POST", "/auth/session", {"username": 1, "password": "x"}, 400, "username"),
]


@pytest.mark.parametrize("who,method,path,body,status,field", BAD_BODIES)
def test_bad_json_bodies(busy, request, who, method, path, body, status, field):
    actor = request.getfixturevalue(who)
    before = everything(busy)
    body = assert_error(actor.request(method, path, json=body), status, "bad_request", field)
    if field:
        assert body["message"].startswith(field)
    assert everything(busy) == before


def test_a_wrong_priority_lists_the_groups_and_no_empty_choice(busy, kiosk):
    body = assert_error(
        kiosk.post("/tickets", None, json={"service": "ktp", "priority": "vip"}),
        400,
        "bad_request",
        "priority",
    )
    assert body["message"] == (
        "priority: must be one of lansia, disabilitas, ibu_hamil, anak, "
        'or left out (or "") for an ordinary ticket'
    )
    kiosk.take_ticket("ktp", priority="lansia")  # the control: a listed group is taken


@pytest.mark.parametrize(
    "raw",
    [
        "{bad json",
        '{"service": "ktp"',
        "\xff\xfe",
        '{"service": "ktp"}}',
        "[" * 30_000 + "]" * 30_000,
        "null",
        "1",
        '"ktp"',
    ],
)
def test_malformed_json_is_400(busy, kiosk, raw):
    before = everything(busy)
    response = kiosk.request("POST", "/tickets", data=raw, content_type="application/json")
    assert_error(response, 400, "bad_request")
    assert everything(busy) == before


HUGE_INT = "1" * 4301  # one digit past Python's int-string limit (sys.get_int_max_str_digits)


@pytest.mark.parametrize(
    ("who", "method", "path", "raw"),
    [
        ("anon", "POST", "/auth/token", '{"username": "kiosk1", "password": N}'),
        ("anon", "POST", "/auth/session", '{"username": N, "password": "x"}'),
        ("kiosk", "POST", "/tickets", '{"service": "ktp", "priority": N}'),
        ("manager", "PATCH", "/services/ktp", '{"daily_quota": N}'),
        ("manager", "PUT", "/counters/1/services", '{"services": [{"id": "kk", "weight": N}]}'),
    ],
)
def test_huge_json_integers_are_400(busy, request, who, method, path, raw):
    actor = request.getfixturevalue(who)
    before = everything(busy)
    raw = raw.replace("N", HUGE_INT)
    body = assert_error(
        actor.request(method, path, data=raw, content_type="application/json"), 400, "bad_request"
    )
    assert "digits" in body["message"]
    assert everything(busy) == before


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_body_that_is_not_json_is_415(busy, kiosk, content_type):
    before = everything(busy)
    response = kiosk.request(
        "POST", "/tickets", data='{"service": "ktp"}', content_type=content_type
    )
    assert_error(response, 415, "unsupported_media_type")
    assert everything(busy) == before


def test_body_too_large_is_413(busy, kiosk, manager):
    before = everything(busy)
    huge = json.dumps({"service": "ktp", "pad": "x" * 70_000})
    assert_error(
        kiosk.request("POST", "/tickets", data=huge, content_type="application/json"),
        413,
        "too_large",
    )
    many = {"services": [{"id": "kk", "weight": 1}] * 5000}
    assert_error(manager.request("PUT", "/counters/1/services", json=many), 413, "too_large")
    assert everything(busy) == before


def test_unknown_route_and_wrong_method(busy, anon, clerk):
    assert_error(anon.get("/nothing-here", None), 404, "not_found")
    assert_error(anon.get("/tickets", None), 405, "method_not_allowed")
    response = clerk.request("DELETE", "/counters/1")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    assert_error(anon.request("GET", "/counters/1/open"), 405)
    assert_error(anon.client.get("/api/v2/tickets"), 404, "not_found")


def test_unknown_and_huge_ids_are_404(busy, anon, clerk):
    before = everything(busy)
    assert_error(anon.get("/tickets/" + "z" * 5000, None), 404, "not_found")
    assert_error(clerk.post("/counters/" + "1" * 5000 + "/open", None), 404, "not_found")
    assert_error(clerk.post("/tickets/%00%ff/cancel", None), 404, "no_such_ticket")
    assert_error(clerk.post("/counters/../open", None), 404)
    assert_error(
        clerk.post("/counters/2/call", None, json={"ticket": "' OR 1=1 --"}), 404, "no_such_ticket"
    )
    assert everything(busy) == before


def test_state_errors_are_409_and_change_nothing(busy, clerk, kiosk):
    before = everything(busy)
    assert_error(clerk.post("/counters/1/call-next", None), 409, "counter_busy")
    assert_error(clerk.post("/counters/1/close", None), 409, "counter_busy")
    assert_error(clerk.post("/counters/3/call-next", None), 409, "counter_not_open")
    assert_error(clerk.post("/counters/2/complete", None), 409, "no_current_ticket")
    assert everything(busy) == before


def test_catch_all_500_is_json_without_internals(make_app):
    app = make_app()

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/v1/_boom")
    body = assert_error(response, 500, "internal_error")
    assert "secret" not in body["message"]


def test_errors_outside_api_are_pages_not_json(app):
    response = app.test_client().get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_openapi_lists_every_route_with_summary_and_errors(app):
    """Derived from the URL map: a route missing from the document fails here."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    served = api_routes(app)
    assert len(served) > 30  # the URL map was read (a positive control for the loop below)
    documented = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    assert served - documented == set(), "routes missing from /api/v1/openapi.json"
    assert documented - served == set(), "documented routes nobody serves"
    for method, path in served:
        op = paths[path][method.lower()]
        assert op["summary"] and op["tags"], (method, path)
        assert {"200", "201", "202", "204"} & set(op["responses"]), (method, path)
    issue = paths["/api/v1/tickets"]["post"]
    assert {"201", "400", "401", "403", "429"} <= set(issue["responses"])
    assert issue["security"] == [{"BearerAuth": []}, {"SessionCookie": []}]
    assert "204" in paths["/api/v1/counters/{counter_id}/call-next"]["post"]["responses"]
    error = spec["components"]["schemas"]["HTTPError"]
    assert error["required"] == ["error", "message"]
    assert set(spec["components"]["securitySchemes"]) == {"BearerAuth", "SessionCookie"}


@pytest.mark.redis
def test_a_dead_redis_is_503_and_the_ticket_is_there_after_it_returns(config, tmp_path):
    """Redis down: the kiosk gets a clear 503 with Retry-After, never a 500; after
    Redis comes back (same AOF directory) the office carries on where it was."""
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis").start()
    try:
        cfg = dataclasses.replace(config, store=StoreConfig(backend="redis", url=server.url))
        app = create_app(
            cfg, data_dir=tmp_path / "var", overrides={"SATUPINTU_MESSAGE_QUEUE": None}
        )
        kiosk_client = app.test_client()
        user = put_user(app, "k1", "kiosk")
        headers = {"Authorization": f"Bearer {token_for(app, user)}"}
        first = kiosk_client.post("/api/v1/tickets", json={"service": "ktp"}, headers=headers)
        assert first.status_code == 201
        server.stop(kill=True)
        down = kiosk_client.post("/api/v1/tickets", json={"service": "ktp"}, headers=headers)
        assert down.status_code == 503
        assert down.get_json()["error"] == "store_unavailable"
        assert down.headers["Retry-After"] == "2"
        assert kiosk_client.get("/api/v1/snapshot").status_code == 503
        server.start()
        again = kiosk_client.post("/api/v1/tickets", json={"service": "ktp"}, headers=headers)
        assert again.status_code == 201
        assert again.get_json()["number"] == "A002"
        assert kiosk_client.get(f"/api/v1/tickets/{first.get_json()['id']}").status_code == 200
    finally:
        server.stop()


def test_openapi_states_what_schemathesis_once_found_missing(app):
    """Fast checks of the document's fixes; the slow schemathesis test checks it all."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    # mandatory bodies are required; an optional one (reprint's {kiosk?}) is not
    assert paths["/api/v1/tickets"]["post"]["requestBody"]["required"] is True
    assert paths["/api/v1/users"]["post"]["requestBody"]["required"] is True
    assert "required" not in paths["/api/v1/tickets/{ticket_id}/reprint"]["post"]["requestBody"]
    # the printers' 200 and the preview's PNG
    assert "PrintersOut" in str(paths["/api/v1/printers"]["get"]["responses"]["200"])
    png = paths["/api/v1/tickets/{ticket_id}/preview.png"]["get"]["responses"]["200"]
    assert list(png["content"]) == ["image/png"]
    # config.toml's ranges and patterns
    edit = schemas["ServiceEditIn"]["properties"]
    assert (edit["daily_quota"]["minimum"], edit["daily_quota"]["maximum"]) == (0, 100_000)
    assert edit["target_wait_min"]["minimum"] == 1 and edit["prefix"]["pattern"] == "^[A-Z]$"
    assert schemas["AssignmentIn"]["properties"]["weight"]["maximum"] == 100
    # every route may answer 401 (a bad token is refused even where none is needed)
    assert all("401" in op["responses"] for ops in paths.values() for op in ops.values())
