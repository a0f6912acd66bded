"""The hall display: never misses a call, even across a network cut; zones by URL."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_online
from tests.netcut import NetCut
from tests.serverproc import Api

pytestmark = [pytest.mark.browser, pytest.mark.slow]
JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def netcut(server):
    cable = NetCut(server.port)
    yield cable
    cable.close()


def test_display_cut_off_shows_offline_badge_then_the_calls_it_missed(devices, server, netcut):
    clerk = Api(server, "clerk1")
    kiosk = Api(server, "kiosk1")
    try:
        display = devices.open("/display", viewport="display", base_url=netcut.url)
        wait_online(display)
        badge = display.locator("#offline-badge")
        expect(badge).to_be_hidden()

        for _ in range(3):
            kiosk.issue("ktp")
        clerk.open("1")
        clerk.call_next("1")
        expect(display.locator("#current-number")).to_have_text("A001")

        netcut.cut()
        expect(badge).to_be_visible(timeout=5000)
        expect(badge).to_contain_text("TIDAK TERHUBUNG")
        expect(display.locator("body")).to_have_class("display is-offline")

        # Calls made while the display is cut off.
        clerk.complete("1")
        assert clerk.call_next("1")["number"] == "A002"
        clerk.open("2")
        assert clerk.call_next("2")["number"] == "A003"
        display.wait_for_timeout(1500)
        expect(display.locator("#current-number")).to_have_text("A001")  # it cannot know yet

        netcut.restore()
        expect(badge).to_be_hidden(timeout=10_000)
        expect(display.locator("#current-number")).to_have_text("A003")
        expect(display.locator("#current-counter")).to_have_text("Loket 2")
        history = display.locator("#history li")
        expect(history.first).to_contain_text("A002")
        expect(history.first).to_contain_text("Loket 1")
        expect(history.first.locator(".h-missed")).to_be_visible()
        expect(history.nth(1)).to_contain_text("A001")

        # And it is live again: the next call arrives as an event.
        clerk.request("POST", "/counters/2/complete")
        kiosk.issue("kk")
        clerk.call_next("2")
        expect(display.locator("#current-number")).to_have_text("B001")
    finally:
        clerk.close()
        kiosk.close()


def test_display_zone_shows_only_its_counters_and_services(devices, server):
    clerk = Api(server, "clerk1")
    kiosk = Api(server, "kiosk1")
    try:
        zone = devices.open("/display?counters=2&services=ktp,kk", viewport="display_portrait")
        wait_online(zone)
        expect(zone.locator("#waiting li")).to_have_count(2)
        kiosk.issue("ktp")
        kiosk.issue("ktp")
        clerk.open("1")
        clerk.open("2")
        clerk.call_next("1")  # A001 at Loket 1: not this zone
        clerk.call_next("2")  # A002 at Loket 2
        expect(zone.locator("#current-number")).to_have_text("A002")
        expect(zone.locator("#history li")).to_have_count(0)
    finally:
        clerk.close()
        kiosk.close()


def test_display_asks_once_for_a_tap_because_the_browser_blocks_sound(devices):
    # Chromium (like TV browsers) keeps audio suspended until the first gesture on the page.
    page = devices.open("/display", viewport="display")
    overlay = page.locator("#sound-overlay")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("Ketuk untuk mengaktifkan suara")
    assert page.evaluate("() => SPSound.blocked()")
    page.click("#sound-button")
    expect(overlay).to_be_hidden()
    assert not page.evaluate("() => SPSound.blocked()")


FAKE_VOICE = """
  // Headless Chromium has no voices. This stand-in for the system's id-ID voice records
  // what is spoken and takes 400 ms per sentence, so overlaps would show.
  window.__spoken = [];
  window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
  let busyUntil = 0;
  Object.defineProperty(window, 'speechSynthesis', { value: {
    getVoices: () => [{ lang: 'id-ID', name: 'uji' }],
    speak(u) {
      if (!u.text.trim()) return;
      const start = performance.now();
      window.__spoken.push({ text: u.text, lang: u.lang, start, overlapped: start < busyUntil });
      busyUntil = start + 400;
      setTimeout(() => u.onend && u.onend(), 400);
    },
    cancel() { window.__spoken.push({ cancelled: true }); },
  }});
"""


def test_display_speaks_each_call_in_turn_and_recalls_again(browser, server):
    clerk = Api(server, "clerk1")
    kiosk = Api(server, "kiosk1")
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=server.url)
    try:
        page = context.new_page()
        page.add_init_script(FAKE_VOICE)
        page.goto("/display")
        wait_online(page)
        page.click("#sound-button")  # the one-time tap that lets the display make sound
        kiosk.issue("ktp")
        kiosk.issue("kk")
        clerk.open("1")
        clerk.open("3")
        clerk.call_next("1")  # A001 -> Loket 1
        clerk.call_next("3")  # B001 -> Loket 3, while A001 is still being announced
        clerk.request("POST", "/counters/1/recall")
        page.wait_for_function("() => window.__spoken.length >= 3", timeout=15_000)
        spoken = page.evaluate("() => window.__spoken")
        assert [s["text"] for s in spoken] == [
            "Nomor antrean A satu, silakan menuju Loket satu",
            "Nomor antrean B satu, silakan menuju Loket tiga",
            "Nomor antrean A satu, silakan menuju Loket satu",
        ]
        assert all(s["lang"] == "id-ID" and not s["overlapped"] for s in spoken)
        # Each announcement waits for the chime (about 1.5 s) and for the one before it.
        starts = [s["start"] for s in spoken]
        assert all(b - a >= 1500 for a, b in zip(starts, starts[1:], strict=False)), starts
    finally:
        context.close()
        clerk.close()
        kiosk.close()


def test_a_cancelled_call_leaves_the_display(devices, server):
    """The citizen called at Loket 2 left and the clerk cancelled the ticket: the big
    number goes back to the call before it, live and after a reload."""
    clerk = Api(server, "clerk1")
    kiosk = Api(server, "kiosk1")
    try:
        display = devices.open("/display", viewport="display")
        wait_online(display)
        kiosk.issue("ktp")
        left = kiosk.issue("ktp")
        clerk.open("1")
        clerk.open("2")
        clerk.call_next("1")
        clerk.call_next("2")
        expect(display.locator("#current-number")).to_have_text(left["number"])
        r = clerk.request("POST", f"/tickets/{left['id']}/cancel")
        assert r.status_code == 200, r.text
        expect(display.locator("#current-number")).to_have_text("A001")
        expect(display.locator(f"#history [data-ticket='{left['id']}']")).to_have_count(0)
        display.reload()
        wait_online(display)
        expect(display.locator("#current-number")).to_have_text("A001")
    finally:
        clerk.close()
        kiosk.close()


def test_at_midnight_an_open_display_drops_the_days_calls(devices, server):
    """Numbers start again at the office's midnight: yesterday's A001 must not sit beside
    today's A001, so a display left on overnight clears its calls when the day turns."""
    clerk = Api(server, "clerk1")
    kiosk = Api(server, "kiosk1")
    try:
        display = devices.open("/display", viewport="display")
        wait_online(display)
        kiosk.issue("ktp")
        clerk.open("1")
        clerk.call_next("1")
        expect(display.locator("#current-number")).to_have_text("A001")
        # The display's clock jumps to 00:00:30 of the next day in Jakarta.
        tomorrow = datetime.now(JAKARTA).date() + timedelta(days=1)
        display.clock.install(time=datetime.combine(tomorrow, time(0, 0, 30), JAKARTA))
        expect(display.locator("#current-number")).to_have_text("–", timeout=15_000)
        expect(display.locator("#date")).to_contain_text(str(tomorrow.day))
    finally:
        clerk.close()
        kiosk.close()
