"""A citizen's whole visit through the real pages: kiosk -> counter -> display -> phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from satupintu import events
from tests.browser.conftest import wait_online
from tests.serverproc import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_ticket_from_kiosk_is_called_at_counter_shown_on_display_and_phone(devices):
    display = devices.open("/display", viewport="display")
    wait_online(display)
    assert display.evaluate("SP.events") == list(events.ALL)  # what the page listens for
    expect(display.locator("#current-number")).to_have_text("–")

    # The kiosk device logs in once through the login page it is sent to.
    kiosk = devices.open("/kiosk", viewport="kiosk")
    expect(kiosk).to_have_url(re.compile(r"/login\?next=%2Fkiosk$"))
    kiosk.fill("#username", "kiosk1")
    kiosk.fill("#password", PASSWORD)
    kiosk.click("button[type=submit]")
    expect(kiosk).to_have_url(re.compile(r"/kiosk$"))
    wait_online(kiosk)

    # Service button -> the published standard (KTP-el is free) -> take a number.
    ktp = kiosk.locator("[data-service=ktp]")
    expect(ktp).to_contain_text("KTP-el")
    expect(ktp).to_contain_text("Menunggu: 0")
    ktp.click()
    expect(kiosk.locator("#standard-title")).to_have_text("KTP-el")
    expect(kiosk.locator("#standard-fee")).to_have_text("GRATIS")
    expect(kiosk.locator("#standard-requirements li").first).to_contain_text("fotokopi KK")
    kiosk.click("#take-button")
    expect(kiosk.locator("#ticket-number")).to_have_text("A001")
    expect(kiosk.locator("#ticket-ahead")).to_have_text("Tidak ada antrean di depan Anda")
    qr = kiosk.locator("#ticket-qr svg")
    expect(qr).to_be_visible()
    url = kiosk.locator("#ticket-qr").get_attribute("data-url")
    assert url and re.fullmatch(re.escape(devices.base_url) + r"/t/[a-z0-9]{12}", url), url

    # The citizen follows the ticket on a phone from the QR code.
    phone = devices.open(url, viewport="phone")
    wait_online(phone)
    expect(phone.locator("#ticket-number")).to_have_text("A001")
    expect(phone.locator("#status")).to_have_text("Menunggu giliran")
    expect(phone.locator("#people-ahead")).to_have_text("0")

    # The display's waiting count went up live.
    expect(display.locator("[data-service=ktp] .w-count")).to_have_text("1")

    # The clerk opens Loket 3 and calls the next ticket with the keyboard.
    desk = devices.open("/counter?counter=3", viewport="desk", user="clerk1")
    wait_online(desk)
    expect(desk.locator("#counter-name")).to_have_text("Loket 3")
    desk.click("#open-button")
    expect(desk.locator("#counter-state")).to_have_text("Buka")
    expect(desk.locator("#waiting-list li")).to_have_count(1)
    reloads: list[str] = []  # the display fetching the state again instead of being told
    display.on(
        "request",
        lambda r: (r.is_navigation_request() or "/snapshot" in r.url) and reloads.append(r.url),
    )
    synced = display.locator("body").get_attribute("data-synced")
    with desk.expect_response(lambda r: r.url.endswith("/counters/3/call-next")) as called:
        desk.keyboard.press("n")
    assert called.value.status == 200

    # The display shows the call as it is pushed: the ticket_called event, not a reload
    # or a fresh snapshot (which it fetches only on connect or a gap).
    expect(display.locator("#current-number")).to_have_text("A001")
    expect(display.locator("#current-counter")).to_have_text("Loket 3")
    expect(display.locator("#current")).to_have_class(re.compile("new-call"))
    assert reloads == []
    assert display.locator("body").get_attribute("data-synced") == synced
    # Control: a reload is seen as one, and the snapshot it loads shows the same call.
    display.reload()
    wait_online(display)
    assert any("/snapshot" in url for url in reloads) and reloads[0] == display.url
    expect(display.locator("#current-number")).to_have_text("A001")

    # The phone says where to go; the desk shows the ticket and its requirements.
    expect(phone.locator("#call-text")).to_have_text("Silakan menuju Loket 3")
    expect(desk.locator("#current-number")).to_have_text("A001")
    expect(desk.locator("#checklist li")).to_have_count(3)

    # Serve and complete with the keyboard; the phone follows.
    # The desk's buttons are the counter's `actions` from the server.
    expect(desk.locator("[data-action=start]")).to_be_enabled()
    expect(desk.locator("[data-action=call-next]")).to_be_disabled()
    desk.keyboard.press("s")
    expect(desk.locator("#current-status")).to_have_text("Sedang dilayani")
    expect(desk.locator("[data-action=start]")).to_be_disabled()
    expect(desk.locator("[data-action=recall]")).to_be_disabled()
    expect(desk.locator("[data-action=complete]")).to_be_enabled()
    expect(desk.locator("[data-action=close]")).to_be_disabled()  # a ticket is at the counter
    expect(phone.locator("#call-text")).to_have_text("Anda sedang dilayani di Loket 3")
    desk.keyboard.press("c")
    expect(desk.locator("#current-number")).to_have_text("–")
    expect(phone.locator("#status")).to_have_text("Selesai. Terima kasih.")

    # With nobody waiting, call-next says so instead of failing silently.
    desk.keyboard.press("n")
    expect(desk.locator("#flash")).to_have_text("Tidak ada yang menunggu untuk layanan loket ini.")


def test_counter_shows_the_apis_refusal(devices):
    desk = devices.open("/counter?counter=2", viewport="desk", user="clerk2")
    wait_online(desk)
    # Closed counter: call-next is disabled; a number typed in is refused by the API.
    expect(desk.locator("[data-action=call-next]")).to_be_disabled()
    desk.fill("#call-number-input", "A001")
    desk.click("#call-number button[type=submit]")
    expect(desk.locator("#flash")).to_have_text("Loket belum dibuka. Buka loket terlebih dahulu.")
