"""Page details a new user tripped over: clocks, small screens, disabled buttons, roles,
claims the kiosk makes, the phone after the call, the icon, weights under fifo."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_online
from tests.serverproc import Api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_kiosk_clock_shows_the_offices_time_not_the_pcs(browser, server):
    context = browser.new_context(
        viewport={"width": 1080, "height": 1920},
        locale="id-ID",
        base_url=server.url,
        timezone_id="America/New_York",
    )
    try:
        from tests.browser.conftest import login

        login(context, server.url, "kiosk1")
        kiosk = context.new_page()
        kiosk.goto("/kiosk")
        wait_online(kiosk)
        shown = kiosk.locator("#clock").inner_text()
        now = datetime.now(ZoneInfo("Asia/Jakarta"))
        allowed = {
            f"{t:%H.%M}" for t in (now - timedelta(minutes=1), now, now + timedelta(minutes=1))
        }
        assert shown in allowed, (shown, allowed)  # New York would be 12 hours off
    finally:
        context.close()


def test_the_counter_fits_a_1366x768_screen_with_a_ticket_at_it(devices, server):
    kiosk = Api(server, "kiosk1")
    try:
        kiosk.issue("ktp")  # the longest requirements checklist of the demo office
    finally:
        kiosk.close()
    desk = devices.open("/counter?counter=1", viewport="laptop", user="clerk1")
    wait_online(desk)
    desk.click("#open-button")
    complete = desk.locator("[data-action=complete]")
    expect(complete).to_be_disabled()  # nobody at the counter yet
    idle = complete.evaluate("b => getComputedStyle(b).backgroundColor")
    desk.keyboard.press("n")
    expect(desk.locator("#current-number")).to_have_text("A001")
    expect(complete).to_be_enabled()
    active = complete.evaluate("b => getComputedStyle(b).backgroundColor")
    assert idle != active  # the disabled "Selesai" does not look like the enabled one
    assert idle in ("rgb(238, 238, 238)",), idle  # grey, not a faded green
    for action in ("complete", "no-show", "park", "transfer", "recall", "start"):
        box = desk.locator(f"[data-action={action}]").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 768, (action, box)


def test_a_clerk_opening_the_manager_page_is_told_it_is_for_managers(devices, server):
    page = devices.open("/manager", viewport="desk", user="clerk1")
    message = page.locator(".wrong-role h1")
    expect(message).to_have_text(
        "Halaman ini hanya untuk manajer. Anda masuk sebagai clerk1 (petugas loket)."
    )
    assert page.url.endswith("/manager")  # not bounced to the login page
    expect(page.locator(".wrong-role a")).to_have_attribute("href", "/counter")
    boss = devices.open("/manager", viewport="desk", user="boss")  # control: a manager
    wait_online(boss)
    expect(boss.locator(".wrong-role")).to_have_count(0)


def test_a_clerk_who_opens_a_second_counter_is_told(devices, server):
    first = devices.open("/counter?counter=1", viewport="desk", user="clerk1")
    wait_online(first)
    first.click("#open-button")
    expect(first.locator("#counter-state")).to_have_text("Buka")
    expect(first.locator("#flash")).to_be_hidden()  # control: one counter is fine
    second = devices.open("/counter?counter=2", viewport="desk", user="clerk1")
    wait_online(second)
    second.click("#open-button")
    expect(second.locator("#counter-state")).to_have_text("Buka")
    expect(second.locator("#flash")).to_contain_text("Anda juga memegang Loket 1")


def test_the_kiosk_says_all_counters_serve_all_services_only_while_true(devices, server):
    kiosk = devices.open("/kiosk", viewport="kiosk", user="kiosk1")
    wait_online(kiosk)
    hint = kiosk.locator("#all-counters-hint")
    expect(hint).to_be_visible()  # the demo office: every counter takes every service
    boss = Api(server, "boss")
    try:
        for counter in "123456":
            services = [{"id": s, "weight": 1} for s in ("ktp", "kk", "akta", "pbg", "nib", "pbb")]
            r = boss.request("PUT", f"/counters/{counter}/services", json={"services": services})
            assert r.status_code == 200, r.text
    finally:
        boss.close()
    kiosk.reload()
    wait_online(kiosk)
    expect(hint).to_be_hidden()
    expect(kiosk.locator("[data-service=info] .service-status")).to_contain_text(
        "Belum ada loket untuk layanan ini"
    )
    expect(kiosk.locator("[data-service=ktp] .service-status")).not_to_contain_text(
        "Belum ada loket"
    )


def test_the_phone_stops_offering_to_notify_once_called(devices, server):
    kiosk, clerk = Api(server, "kiosk1"), Api(server, "clerk1")
    try:
        ticket = kiosk.issue("ktp")
        phone = devices.open(f"/t/{ticket['id']}", viewport="phone")
        wait_online(phone)
        expect(phone.locator("#notify-button")).to_be_visible()
        clerk.open("1")
        clerk.call_next("1")
        expect(phone.locator("#call-box")).to_be_visible()
        expect(phone.locator("#notify-button")).to_be_hidden()
    finally:
        kiosk.close()
        clerk.close()


def test_every_page_has_an_icon_and_no_404(devices, server):
    missing: list[str] = []
    for path, user in (
        ("/", None),
        ("/kiosk", "kiosk1"),
        ("/display", None),
        ("/counter?counter=1", "clerk1"),
        ("/manager", "boss"),
        ("/login", None),
    ):
        page = devices.open("about:blank", viewport="desk", user=user)
        page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        page.goto(path)
        page.wait_for_load_state("networkidle")
        icon = page.locator("link[rel=icon]")
        expect(icon).to_have_count(1)
        assert page.request.get(icon.get_attribute("href")).ok
    assert page.request.get("/favicon.ico").ok
    assert missing == []


def test_weights_are_shown_only_under_the_weighted_policy(devices, make_server):
    fifo = make_server()
    board = devices.open("/manager", viewport="desk", user="boss", base_url=fifo.url)
    wait_online(board)
    expect(board.locator("#c-1-svc-ktp")).to_be_visible()
    expect(board.locator("#c-1-svc-ktp-weight")).to_be_hidden()
    weighted = make_server(
        lambda text: re.sub(r'^policy = "fifo"', 'policy = "weighted"', text, flags=re.MULTILINE)
    )
    board = devices.open("/manager", viewport="desk", user="boss", base_url=weighted.url)
    wait_online(board)
    expect(board.locator("#c-1-svc-ktp-weight")).to_be_visible()
