"""The English switch: one tap turns a page to English and the choice sticks on the device."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_online

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_english_switch_on_the_kiosk_carries_to_the_ticket_page(devices):
    kiosk = devices.open("/kiosk", viewport="kiosk_landscape", user="kiosk1")
    wait_online(kiosk)
    expect(kiosk.locator("#services-title")).to_have_text("Pilih layanan")
    expect(kiosk.locator("[data-service=ktp] .service-title")).to_have_text("KTP-el")

    kiosk.get_by_role("link", name="English").click()
    expect(kiosk).to_have_url(re.compile(r"/kiosk\?lang=en$"))
    wait_online(kiosk)
    expect(kiosk.locator("html")).to_have_attribute("lang", "en")
    expect(kiosk.locator("#services-title")).to_have_text("Choose a service")
    ktp = kiosk.locator("[data-service=ktp]")
    expect(ktp.locator(".service-title")).to_have_text("Electronic ID card (KTP-el)")
    expect(ktp.locator(".service-status")).to_contain_text("Waiting: 0")

    ktp.click()
    expect(kiosk.locator("#standard-fee")).to_have_text("FREE")
    expect(kiosk.get_by_role("button", name="Take a number")).to_be_visible()
    kiosk.get_by_role("radio", name="Elderly").check()
    kiosk.get_by_role("button", name="Take a number").click()
    expect(kiosk.locator("#ticket-title")).to_have_text("Your ticket number")
    expect(kiosk.locator("#ticket-ahead")).to_have_text("Nobody is ahead of you")
    expect(kiosk.locator("#ticket-countdown")).to_contain_text("Back to the start in")
    url = kiosk.locator("#ticket-qr").get_attribute("data-url")

    # Same device, another page, no ?lang: the cookie keeps English.
    page = kiosk.context.new_page()
    page.goto(url)
    wait_online(page)
    expect(page.locator("#status")).to_have_text("Waiting for your turn")
    expect(page.locator("#standard-title")).to_have_text("What to bring")
    expect(page.locator(".free")).to_have_text("FREE")

    # And back to Indonesian.
    page.get_by_role("link", name="Bahasa Indonesia").click()
    expect(page.locator("#status")).to_have_text("Menunggu giliran")


def test_kiosk_returns_to_indonesian_for_the_next_citizen(devices):
    kiosk = devices.open("/kiosk?lang=en", viewport="kiosk", user="kiosk1")
    wait_online(kiosk)
    kiosk.locator("[data-service=info]").click()
    kiosk.get_by_role("button", name="Take a number").click()
    expect(kiosk.locator("#ticket-title")).to_have_text("Your ticket number")
    kiosk.get_by_role("button", name="Done").click()
    expect(kiosk.locator("#services-title")).to_have_text("Pilih layanan")
    expect(kiosk.locator("html")).to_have_attribute("lang", "id")


def test_display_in_english(devices):
    display = devices.open("/display?lang=en", viewport="display")
    wait_online(display)
    expect(display.locator("#history-title")).to_have_text("Previous calls")
    expect(display.locator("#current-service")).to_have_text("No calls yet")
    expect(display.locator("[data-service=kk] .w-name")).to_have_text("Family card (KK)")
    date = display.locator("#date").inner_text()
    assert re.search(r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)", date), date
