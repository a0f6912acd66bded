"""/healthz, /readyz, /metrics (parsed with prometheus_client's parser) and the logs."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from satupintu import current, logs
from satupintu.app import create_app
from satupintu.config import LogConfig, MetricsConfig
from satupintu.metrics_dir import default_dir
from satupintu.store import migrations
from tests.apihelpers import API
from tests.redis_server import RedisServer
from tests.serverproc import Api, ServerProcess


@pytest.fixture
def app(socket_app):
    """Without the Redis message queue: the Socket.IO test client refuses one."""
    return socket_app


def scrape(client: Any, **environ: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics as {(name, sorted labels): value}, parsed by Prometheus' parser."""
    r = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1", **environ})
    assert r.status_code == 200, r.data
    assert r.content_type.startswith("text/plain")
    return parse(r.data.decode())


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_and_readyz_say_up_and_ready(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["store"]["ok"] is True
    assert body["checks"]["schema"] == {
        "ok": True,
        "version": migrations.CURRENT,
        "expected": migrations.CURRENT,
    }
    assert body["checks"]["printers"] == {"known": 0, "ready": 0, "not_ready": []}


def test_readyz_is_503_when_the_schema_is_not_current(tmp_path, config):
    app = create_app(config, tmp_path)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200  # positive control
    db = sqlite3.connect(tmp_path / "satupintu.db")
    db.execute(f"PRAGMA user_version = {migrations.CURRENT + 1}")
    db.close()
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["checks"]["schema"]["ok"] is False
    assert client.get("/healthz").status_code == 200  # the process is still up
    current.store.get(app).close()


@pytest.mark.redis
def test_readyz_follows_redis_going_away_and_coming_back(tmp_path, config):
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis").start()
    try:
        cfg = dataclasses.replace(
            config, store=dataclasses.replace(config.store, backend="redis", url=server.url)
        )
        app = create_app(cfg, tmp_path / "var", overrides={"SATUPINTU_MESSAGE_QUEUE": None})
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        assert value(scrape(client), "satupintu_store_up") == 1
        server.stop()
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.get_json()["checks"]["store"]["ok"] is False
        assert client.get("/healthz").status_code == 200
        down = scrape(client)  # still a scrape: the process's own figures, store_up 0
        assert value(down, "satupintu_store_up") == 0
        assert (
            value(
                down,
                "satupintu_http_request_duration_seconds_count",
                method="GET",
                route="/readyz",
                status="503",
            )
            >= 1
        )
        server.start()  # same port, same data directory: the store comes back
        assert client.get("/readyz").status_code == 200
        current.store.get(app).close()
    finally:
        server.stop()


def test_metrics_count_tickets_per_service_and_time_requests_per_route(
    app, client, kiosk, clerk, socket_client
):
    before = scrape(client)
    issued = [kiosk.take_ticket("ktp"), kiosk.take_ticket("ktp"), kiosk.take_ticket("kk")]
    clerk.open("1")
    called = clerk.call_next("1")
    clerk.act("1", "recall")
    clerk.act("1", "complete")
    socket_client("display")
    socket_client("display")
    socket_client(f"ticket:{issued[2]['id']}")
    client.get(f"{API}/tickets/{issued[2]['id']}")
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("satupintu_tickets_issued_total", service="ktp") == 2
    assert delta("satupintu_tickets_issued_total", service="kk") == 1
    assert delta("satupintu_tickets_called_total", service=called["ticket"]["service"]) == 1
    assert delta("satupintu_tickets_completed_total", service="ktp") == 1
    assert value(after, "satupintu_tickets_waiting", service="ktp") == 1
    assert value(after, "satupintu_tickets_waiting", service="kk") == 1
    assert value(after, "satupintu_tickets_waiting", service="akta") == 0
    assert value(after, "satupintu_sockets_connected", room="display") == 2
    assert value(after, "satupintu_sockets_connected", room="ticket") == 1
    # latency per route template: the ticket page's URL carries an id, its label does not
    assert (
        delta(
            "satupintu_http_request_duration_seconds_count",
            method="POST",
            route="/api/v1/tickets",
            status="201",
        )
        == 3
    )
    assert (
        delta(
            "satupintu_http_request_duration_seconds_count",
            method="GET",
            route="/api/v1/tickets/<ticket_id>",
            status="200",
        )
        >= 1
    )
    text = client.get("/metrics").data.decode()
    for t in issued:
        assert t["id"] not in text


def test_metrics_are_refused_from_outside_and_through_the_proxy(make_app):
    app = make_app()
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    r = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    r = client.get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": "192.0.2.7"},
    )
    assert r.status_code == 403
    lan = make_app(metrics=MetricsConfig(allow="10.0.0.0/8"))
    assert (
        lan.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code
        == 200
    )


def test_metrics_token_and_turning_metrics_off(make_app):
    app = make_app(metrics=MetricsConfig(token="s3cret-scraper"))
    client = app.test_client()
    outside = {"REMOTE_ADDR": "192.0.2.7"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    assert (
        client.get(
            "/metrics", environ_base=outside, headers={"Authorization": "Bearer wrong"}
        ).status_code
        == 403
    )
    assert (
        client.get(
            "/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret-scraper"}
        ).status_code
        == 200
    )
    off = make_app(metrics=MetricsConfig(enabled=False))
    assert off.test_client().get("/metrics").status_code == 404


def test_access_and_change_logs_name_routes_never_ticket_ids(app, client, kiosk, clerk, caplog):
    caplog.set_level(logging.INFO, logger="satupintu")
    ticket = kiosk.take_ticket("ktp")
    client.get(f"{API}/tickets/{ticket['id']}")
    client.get(f"/t/{ticket['id']}")
    clerk.open("1")
    clerk.call_next("1")
    access = [r for r in caplog.records if r.name == "satupintu.access"]
    lines = [r.getMessage() for r in access]
    assert any(line.startswith("POST /api/v1/tickets 201 ") for line in lines), lines
    assert any(line.startswith("GET /api/v1/tickets/<ticket_id> 200 ") for line in lines)
    assert all(r.ms >= 0 and r.status >= 200 for r in access)  # type: ignore[attr-defined]
    changes = [r.getMessage() for r in caplog.records if r.name == "satupintu.events"]
    assert any(m.startswith("ticket_issued") and ticket["number"] in m for m in changes)
    assert any(m.startswith("ticket_called") and "counter=1" in m for m in changes)
    assert any(m.startswith("counter_updated") and "state=open" in m for m in changes)
    assert ticket["id"] not in caplog.text


def test_the_access_log_can_be_turned_off(make_app, caplog):
    app = make_app(log=LogConfig(access=False))
    caplog.set_level(logging.INFO, logger="satupintu")
    app.test_client().get(f"{API}/services")
    assert not [r for r in caplog.records if r.name == "satupintu.access"]
    on = make_app()  # positive control: the default logs the same request
    on.test_client().get(f"{API}/services")
    assert [r for r in caplog.records if r.name == "satupintu.access"]


def test_json_log_lines_carry_the_fields():
    record = logging.LogRecord(
        "satupintu.access",
        logging.INFO,
        __file__,
        1,
        "%s %s %d %.1f ms",
        ("GET", "/healthz", 200, 1.25),
        None,
    )
    for name, v in {"method": "GET", "route": "/healthz", "status": 200, "ms": 1.2}.items():
        setattr(record, name, v)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["level"] == "info" and line["logger"] == "satupintu.access"
    assert line["message"] == "GET /healthz 200 1.2 ms"
    assert (line["route"], line["status"], line["ms"]) == ("/healthz", 200, 1.2)


@pytest.mark.slow
@pytest.mark.redis
def test_two_serve_processes_on_redis_report_one_sum(tmp_path, redis_server):
    import redis as redis_lib

    redis_lib.Redis.from_url(redis_server.url).flushdb()
    shared = tmp_path / "var"  # one data folder (and metrics folder) on this machine
    servers = [
        ServerProcess(tmp_path / f"s{i}", redis_url=redis_server.url, data_dir=shared)
        for i in range(2)
    ]
    servers[0].add_user("kiosk1", "kiosk")
    shutil.rmtree(default_dir(str(shared)), ignore_errors=True)  # a reused --basetemp
    try:
        for s in servers:
            s.start()
        for n, s in enumerate(servers):
            api = Api(s, "kiosk1")
            for _ in range(n + 2):  # 2 tickets on the first, 3 on the second
                api.issue("akta")
        for s in servers:
            text = requests.get(s.url + "/metrics", timeout=10).text
            samples = parse(text)
            assert value(samples, "satupintu_tickets_issued_total", service="akta") == 5
            assert value(samples, "satupintu_tickets_waiting", service="akta") == 5
        out = default_dir(str(shared))  # in RAM, named after the data folder: shared
        assert list(out.glob("counter_*.db"))  # the multiprocess files are where config says
        assert not (shared / "metrics").exists()  # never on the data disk (SIGBUS when full)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(default_dir(str(shared)), ignore_errors=True)  # RAM: leave nothing


@pytest.mark.slow
def test_serve_writes_json_access_and_change_lines_at_the_configured_level(tmp_path):
    from tests.serverproc import write_config

    config = write_config(tmp_path / "config.toml")
    text = config.read_text(encoding="utf-8")
    assert 'format = "text"' in text
    config.write_text(text.replace('format = "text"', 'format = "json"', 1), encoding="utf-8")
    server = ServerProcess(tmp_path, config_path=config)
    server.add_user("k1", "kiosk")
    server.start()
    try:
        kiosk = Api(server, "k1")
        ticket = kiosk.issue("ktp")
        assert requests.get(f"{server.url}/api/v1/tickets/{ticket['id']}", timeout=10).ok
        assert requests.get(f"{server.url}/t/{ticket['id']}", timeout=10).ok
    finally:
        server.stop()
    lines = []
    for raw in server.log().splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue  # gunicorn's own lines and the banner are text
    access = [x for x in lines if x.get("logger") == "satupintu.access"]
    routes = {(x["method"], x["route"], x["status"]) for x in access}
    assert ("POST", "/api/v1/tickets", 201) in routes
    assert ("GET", "/api/v1/tickets/<ticket_id>", 200) in routes
    assert all(isinstance(x["ms"], float | int) for x in access)
    changes = [x for x in lines if x.get("logger") == "satupintu.events"]
    assert any(x["event"] == "ticket_issued" and x["number"] == ticket["number"] for x in changes)
    assert not [x for x in lines if x["level"] == "debug"]  # level info from the config
    assert ticket["id"] not in server.log()


def test_serve_start_drops_the_metrics_files_of_processes_that_are_gone(
    tmp_path, config, monkeypatch
):
    from satupintu.metrics_dir import use_metrics_dir

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "restored-by-monkeypatch")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    folder = tmp_path / "metrics"
    folder.mkdir()
    for kind in ("counter", "histogram", "gauge_livesum"):
        (folder / f"{kind}_{gone}.db").write_bytes(b"x")  # a process that has exited
        (folder / f"{kind}_{os.getpid()}.db").write_bytes(b"x")  # one still serving
    config = dataclasses.replace(config, metrics=MetricsConfig(dir=str(folder)))
    assert use_metrics_dir(config, str(tmp_path)) == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{kind}_{os.getpid()}.db" for kind in ("counter", "histogram", "gauge_livesum")
    )
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(folder)


def test_each_log_line_is_written_once_although_escpos_configures_logging_on_import():
    """python-escpos calls logging.basicConfig() on import; serve's lines must not double."""
    script = (
        "import logging, escpos.printer\n"
        "print(len(logging.getLogger().handlers))\n"  # control: escpos did add a handler
        "from satupintu import logs\n"
        "logs.configure('info', 'text')\n"
        "logs.access('GET', '/api/v1/services', 200, 1.0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "1"
    lines = [line for line in done.stderr.splitlines() if "GET /api/v1/services 200" in line]
    assert len(lines) == 1, done.stderr
    assert "INFO satupintu.access:" in lines[0]
