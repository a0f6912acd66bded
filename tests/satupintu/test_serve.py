"""`satupintu serve` as a real process: HTTP with requests, Socket.IO over websocket."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.serverproc import Api, Listener, ServerProcess


def office(tmp_path: Path, async_mode: str | None = None) -> ServerProcess:
    server = ServerProcess(tmp_path / "office", async_mode=async_mode)
    server.add_user("kiosk1", "kiosk")
    server.add_user("clerk1", "clerk")
    return server


def issue_call_and_hear(server: ServerProcess) -> None:
    """A kiosk issues, a clerk calls next over HTTP; the hall display hears the call."""
    kiosk, clerk = Api(server, "kiosk1"), Api(server, "clerk1")
    display = Listener(server.url, "display")
    try:
        ticket = kiosk.issue("ktp")
        assert ticket["number"].startswith("A") and ticket["status"] == "waiting"
        clerk.open("1")
        called = clerk.call_next("1")
        assert called is not None and called["id"] == ticket["id"]

        event = display.wait_for("ticket_called", lambda p: p["ticket"]["id"] == ticket["id"])
        assert event["ticket"]["number"] == ticket["number"]
        assert event["ticket"]["counter"] == "1"
        assert event["seq"] > display.seq
        assert event["announcement"]["id"]  # the text the display speaks

        followed = requests.get(f"{server.url}/api/v1/tickets/{ticket['id']}", timeout=10)
        assert followed.json()["status"] == "called"
    finally:
        display.close()
        kiosk.close()
        clerk.close()


@pytest.mark.slow
def test_serve_answers_the_api_and_prints_the_pages(tmp_path):
    server = ServerProcess(tmp_path / "office").start()
    try:
        services = requests.get(server.url + "/api/v1/services", timeout=10)
        assert services.status_code == 200
        assert "ktp" in services.text and "Kartu Keluarga" in services.text
        spec = requests.get(server.url + "/api/v1/openapi.json", timeout=10)
        assert "/api/v1/tickets" in spec.json()["paths"]
        log = server.log()
        for path in ("/kiosk", "/display", "/counter", "/manager", "/t/<id>", "/api/v1/docs"):
            assert f"{server.url}{path}" in log
        assert "Using worker: gevent" in log  # gunicorn, not Werkzeug's dev server
        # no manager yet: the banner says how to make one, and no default login works
        assert "satupintu users add admin --role manager" in log
        for password in ("admin", "password", "satupintu"):
            r = requests.post(
                server.url + "/api/v1/auth/token",
                json={"username": "admin", "password": password},
                timeout=10,
            )
            assert r.status_code == 401
    finally:
        server.stop()

    server.add_user("admin", "manager")
    server.start()
    try:
        assert server.token("admin")
        assert "users add admin" not in server.log().rsplit("===== start", 1)[1]
    finally:
        server.stop()


def test_sigterm_stops_the_whole_process_group(tmp_path):
    server = ServerProcess(tmp_path / "office").start()
    proc = server.proc
    assert proc is not None
    server.kill(15)  # SIGTERM to the group: gunicorn's graceful stop
    assert proc.returncode == 0
    assert "Shutting down: Master" in server.log()


def test_display_hears_a_call_made_over_http(tmp_path):
    server = office(tmp_path).start()
    try:
        issue_call_and_hear(server)
    finally:
        server.stop()


@pytest.mark.slow
def test_threading_mode_serves_and_delivers_events(tmp_path):
    server = office(tmp_path, async_mode="threading").start()
    try:
        assert "Using worker: gthread" in server.log()
        issue_call_and_hear(server)
    finally:
        server.stop()
