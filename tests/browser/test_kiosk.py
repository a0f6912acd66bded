"""Kiosk behaviour beyond the happy path: printer failure, full quota, idle reset."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_online
from tests.redis_server import free_port
from tests.serverproc import Api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def take(kiosk, service: str) -> None:
    kiosk.locator(f"[data-service={service}]").click()
    kiosk.click("#take-button")


def test_printer_failure_keeps_ticket_and_qr_on_screen_longer(devices, make_server):
    # Kiosk K1 prints to a LAN printer that is switched off (nothing listens on the port).
    dead = free_port()

    def dead_printer(text: str) -> str:
        return re.sub(
            r'(\[\[kiosks\]\]\nid = "K1"\nname = "Kiosk lobi")',
            rf'\1\nprinter = {{ type = "network", host = "127.0.0.1", port = {dead}, '
            r"timeout = 1 }",
            text,
        )

    srv = make_server(dead_printer, users={"k1": "kiosk"})  # the kiosk user names its kiosk
    kiosk = devices.open("/kiosk", viewport="kiosk", user="k1", base_url=srv.url)
    wait_online(kiosk)
    take(kiosk, "kk")
    expect(kiosk.locator("#ticket-number")).to_have_text("B001")
    failed = kiosk.locator("#print-failed")
    expect(failed).to_be_visible(timeout=10_000)
    expect(failed).to_contain_text("Tiket tidak dapat dicetak")
    expect(kiosk.locator("#ticket-qr svg")).to_be_visible()
    seconds = int(re.search(r"\d+", kiosk.locator("#ticket-countdown").inner_text()).group())
    assert seconds > 40  # a minute to note the number down, instead of 15 s


def test_full_quota_is_said_and_the_button_greys_out(devices, make_server):
    srv = make_server(lambda text: text.replace("daily_quota = 120", "daily_quota = 1"))  # akta
    kiosk = devices.open("/kiosk", viewport="kiosk_landscape", user="kiosk1", base_url=srv.url)
    wait_online(kiosk)
    take(kiosk, "akta")
    expect(kiosk.locator("#ticket-number")).to_have_text("C001")
    expect(kiosk.locator("#no-printer")).to_be_visible()  # K1 has no printer: the screen is it
    kiosk.click("#done-button")
    take(kiosk, "akta")
    expect(kiosk.locator("#flash")).to_have_text(
        "Kuota layanan ini untuk hari ini sudah habis. Silakan datang kembali besok."
    )
    kiosk.click("#back-button")
    button = kiosk.locator("[data-service=akta]")
    expect(button).to_be_disabled()
    expect(button).to_contain_text("Kuota hari ini habis")


def test_kiosk_goes_back_to_the_start_when_left_alone(devices):
    kiosk = devices.open("/kiosk", viewport="kiosk", user="kiosk1")
    kiosk.clock.install()
    wait_online(kiosk)
    kiosk.locator("[data-service=nib]").click()
    expect(kiosk.locator("#screen-standard")).to_be_visible()
    kiosk.clock.fast_forward("00:30")
    expect(kiosk.locator("#screen-standard")).to_be_visible()  # still reading
    kiosk.clock.fast_forward("00:20")
    expect(kiosk.locator("#screen-services")).to_be_visible()
    expect(kiosk.locator("#screen-standard")).to_be_hidden()


def test_kiosk_works_with_the_keyboard_alone(devices):
    kiosk = devices.open("/kiosk", viewport="kiosk", user="kiosk1")
    wait_online(kiosk)
    first = kiosk.locator("#service-grid button").first
    expect(first).to_be_focused()
    kiosk.keyboard.press("Tab")
    expect(kiosk.locator("[data-service=kk]")).to_be_focused()
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#take-button")).to_be_focused()
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#ticket-number")).to_have_text("B001")
    expect(kiosk.locator("#done-button")).to_be_focused()
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#screen-services")).to_be_visible()


def test_a_lost_answer_is_retried_with_the_same_key_and_shows_that_ticket(devices, server):
    """The server issues the ticket but the answer never reaches the kiosk (the connection
    drops, then a 503): the kiosk retries with the press's Idempotency-Key and shows the
    ticket that was made, not a second one."""
    kiosk = devices.open("/kiosk", viewport="kiosk", user="kiosk1")
    wait_online(kiosk)
    keys: list[str | None] = []

    def lose_first_two_answers(route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server issues A001 ...
            route.abort("connectionreset")  # ... and the kiosk never hears of it
        elif len(keys) == 2:
            route.fulfill(
                status=503,
                content_type="application/json",
                headers={"Retry-After": "2"},
                body='{"error": "store_unavailable", "message": "x"}',
            )
        else:
            route.continue_()

    kiosk.route("**/api/v1/tickets", lose_first_two_answers)
    take(kiosk, "ktp")
    expect(kiosk.locator("#ticket-number")).to_have_text("A001", timeout=15_000)
    assert len(keys) == 3 and keys[0] and len(set(keys)) == 1, keys
    boss = Api(server, "boss")
    try:
        assert boss.request("GET", "/reports/today").json()["totals"]["issued"] == 1
    finally:
        boss.close()
    # Positive control: the next citizen's press is a new key and a new ticket.
    kiosk.unroute("**/api/v1/tickets")
    kiosk.click("#done-button")
    take(kiosk, "ktp")
    expect(kiosk.locator("#ticket-number")).to_have_text("A002")
