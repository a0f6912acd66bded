"""A hall display and a kiosk ride through a server restart with nobody touching them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, wait_online
from tests.serverproc import Api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_display_and_kiosk_show_server_unreachable_and_recover_after_a_restart(server, devices):
    display = devices.open("/display", viewport="display")
    kiosk = devices.open("/kiosk", viewport="kiosk", user="kiosk1")
    for page in (display, kiosk):
        wait_online(page)
        page.evaluate("window.__notReloaded = true")  # gone if anything reloads the page
    expect(display.locator("#server-unreachable")).to_have_count(0)  # none while up

    port = server.port
    server.stop()  # SIGTERM, as `systemctl restart` sends
    for page in (display, kiosk):
        notice = page.locator("#server-unreachable")
        expect(notice).to_be_visible(timeout=20_000)
        expect(notice).to_contain_text("Server tidak dapat dihubungi")
        expect(notice).to_contain_text("Server unreachable")

    server.start(port=port)  # same address, as after a restart or a power cut
    for page in (display, kiosk):
        expect(page.locator("#server-unreachable")).to_be_hidden(timeout=30_000)
        wait_online(page, timeout=30_000)
        assert page.evaluate("window.__notReloaded") is True

    # Both work again: a ticket from the kiosk page, called at a counter, on the display.
    kiosk.locator("[data-service=ktp]").click()
    kiosk.click("#take-button")
    expect(kiosk.locator("#ticket-number")).to_have_text(re.compile(r"^A\d{3}$"))
    number = kiosk.locator("#ticket-number").inner_text()
    clerk = Api(server, "clerk1")
    clerk.open("2")
    called = clerk.call_next("2")
    assert called is not None and called["number"] == number
    expect(display.locator("#current-number")).to_have_text(number)
    expect(display.locator("#current-counter")).to_have_text("Loket 2")


FLAGS = ROOT / "deploy" / "chromium-kiosk.flags"
START_PAGE = ROOT / "deploy" / "kiosk-start.html"


def kiosk_flags() -> list[str]:
    """The flags deploy/kiosk-setup.sh starts Chromium with."""
    return [line for line in FLAGS.read_text().splitlines() if line and not line.startswith("#")]


def test_the_boot_page_waits_for_the_server_and_the_kiosk_flags_let_sound_play(
    server, devices, browser
):
    # Control: a browser with default flags holds sound back until someone taps the TV.
    plain = devices.open("/display?sound=1", viewport="display")
    wait_online(plain)
    expect(plain.locator("#sound-overlay")).to_be_visible()

    port, url = server.port, server.url
    server.stop()  # the TV boots before the server (a power cut of the whole office)
    # A second Chromium, started the way kiosk-setup.sh starts it.
    tv_browser = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + kiosk_flags()
    )
    try:
        tv = tv_browser.new_page(viewport={"width": 1920, "height": 1080})
        tv.goto(f"{START_PAGE.as_uri()}#{url}/display")
        expect(tv.locator("body")).to_have_attribute("data-state", "unreachable", timeout=15_000)
        expect(tv.locator("#title")).to_have_text("Server tidak dapat dihubungi")
        expect(tv.locator("#title-en")).to_have_text("Server unreachable")

        server.start(port=port)
        expect(tv).to_have_url(f"{url}/display", timeout=30_000)  # by itself
        wait_online(tv, timeout=30_000)
        expect(tv.locator("#sound-overlay")).to_be_hidden()  # sound plays untouched
        assert tv.evaluate("SPSound.blocked()") is False
    finally:
        tv_browser.close()
