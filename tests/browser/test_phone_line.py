"""The citizen's phone follows its place in line from its line room: no polling, no office noise."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_online
from tests.serverproc import Api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_phone_counts_down_people_ahead_without_asking_the_server(devices, server):
    kiosk, clerk = Api(server, "kiosk1"), Api(server, "clerk1")
    try:
        kiosk.issue("ktp")
        kiosk.issue("ktp")
        mine = kiosk.issue("ktp")
        phone = devices.open(f"/t/{mine['id']}", viewport="phone")
        asked: list[str] = []
        heard: list[str] = []
        phone.on("request", lambda r: asked.append(r.url) if "/api/v1/tickets/" in r.url else None)
        phone.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived", lambda f: heard.append(f if isinstance(f, str) else "")
            ),
        )
        phone.reload()  # the socket opens again, now with the listeners attached
        wait_online(phone)
        expect(phone.locator("#people-ahead")).to_have_text("2")
        phone.wait_for_timeout(1500)  # the first GET (and its throttle) are done
        asked.clear()
        heard.clear()

        kiosk.issue("kk")  # another line: the phone hears nothing of it
        clerk.open("1")  # a counter opens: nothing for the phone either
        clerk.call_next("1")
        expect(phone.locator("#people-ahead")).to_have_text("1")
        clerk.complete("1")
        kiosk.issue("ktp")  # behind me
        clerk.call_next("1")
        expect(phone.locator("#people-ahead")).to_have_text("0")
        assert asked == []  # counted from the line's moves alone
        frames = [f for f in heard if f.startswith("42")]  # Socket.IO events
        assert frames and all('"line_changed"' in f for f in frames), frames
        assert not any("kk" in f.split('"service":')[1][:6] for f in frames)

        clerk.complete("1")
        clerk.call_next("1")  # mine
        expect(phone.locator("#status")).to_have_text("Dipanggil")
    finally:
        kiosk.close()
        clerk.close()
