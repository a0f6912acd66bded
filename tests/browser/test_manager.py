"""The manager's board: live counters, and a reassignment that changes who gets the next call."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_online
from tests.serverproc import Api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_toggling_a_service_off_a_counter_changes_who_gets_the_next_call(devices, server):
    clerk = Api(server, "clerk1")
    kiosk = Api(server, "kiosk1")
    try:
        board = devices.open("/manager", viewport="desk", user="boss")
        wait_online(board)
        loket1 = board.locator(".counter-card[data-counter='1']")
        expect(loket1.locator(".state-pill")).to_have_text("Tutup")

        clerk.open("1")
        clerk.open("2")
        expect(loket1.locator(".state-pill")).to_have_text("Buka")  # live from the manager room
        expect(loket1.locator(".clerk strong")).to_have_text("clerk1")
        ktp_ticket = kiosk.issue("ktp")  # A001: first in line, fifo would give it to Loket 1
        kk_ticket = kiosk.issue("kk")  # B001
        expect(board.locator("#service-rows tr[data-service=ktp] .waiting")).to_have_text("1")

        # The manager takes KTP-el away from Loket 1 on the board.
        ktp_toggle = board.locator("#c-1-svc-ktp")
        expect(ktp_toggle).to_be_checked()
        with board.expect_response(lambda r: r.url.endswith("/counters/1/services")) as put:
            ktp_toggle.uncheck()
        assert put.value.status == 200
        expect(board.locator("#flash")).to_have_text("Penugasan Loket 1 disimpan.")
        expect(board.locator("#c-1-svc-ktp")).not_to_be_checked()
        expect(board.locator("#c-1-svc-ktp-weight")).to_be_disabled()
        services = clerk.request("GET", "/counters/1").json()["services"]
        assert "ktp" not in [s["id"] for s in services]

        # Loket 1 now gets the KK ticket although the KTP one waited longer ...
        desk = devices.open("/counter?counter=1", viewport="desk", user="clerk1")
        wait_online(desk)
        desk.keyboard.press("n")
        expect(desk.locator("#current-number")).to_have_text(kk_ticket["number"])
        # ... and Loket 2, which still takes KTP-el, gets the KTP ticket.
        called = clerk.call_next("2")
        assert called is not None and called["number"] == ktp_ticket["number"]

        expect(loket1.locator(".current .number")).to_have_text("B001")
        loket2 = board.locator(".counter-card[data-counter='2']")
        expect(loket2.locator(".current .number")).to_have_text("A001")
    finally:
        clerk.close()
        kiosk.close()


def test_board_shows_todays_figures_and_alerts_when_a_wait_passes_its_target(devices, server):
    kiosk = Api(server, "kiosk1")
    clerk = Api(server, "clerk1")
    try:
        kiosk.issue("info")
        kiosk.issue("info")
        clerk.open("4")
        clerk.call_next("4")
        clerk.complete("4")
        board = devices.open("/manager", viewport="desk", user="boss")
        wait_online(board)
        row = board.locator("#service-rows tr[data-service=info]")
        expect(row.locator(".waiting")).to_have_text("1")
        expect(row.locator(".served")).to_have_text("1")
        expect(board.locator("#alerts .calm")).to_be_visible()
        # The chart has today's hour with the two tickets.
        issued = board.evaluate(
            "() => Chart.getChart('hourly-chart').data.datasets"
            ".map(d => d.data.reduce((a, b) => a + b, 0)).reduce((a, b) => a + b, 0)"
        )
        assert issued == 2

        # The browser's clock moves 11 minutes on (target for info: 10 min): the board alerts.
        board.clock.install()
        board.clock.fast_forward("11:00")
        expect(row).to_have_class("over")
        expect(board.locator("#alerts .alert")).to_contain_text("Informasi & Pengaduan")
    finally:
        kiosk.close()
        clerk.close()


def test_manager_adds_a_clerk_who_can_then_log_in(devices):
    board = devices.open("/manager", viewport="desk", user="boss")
    wait_online(board)
    expect(board.locator("#user-rows tr")).to_have_count(4)
    form = board.locator("#user-form")
    form.get_by_label("Nama pengguna").fill("loket7")
    form.get_by_label("Peran").select_option("clerk")
    form.get_by_label("Kata sandi").fill("kata-sandi-loket-7")
    form.get_by_role("button", name="Simpan").click()
    expect(board.locator("#flash")).to_have_text("Pengguna loket7 disimpan.")
    expect(board.locator("#user-rows tr[data-user=loket7]")).to_contain_text("Petugas loket")

    desk = devices.open("/counter", viewport="desk")
    desk.fill("#username", "loket7")
    desk.fill("#password", "kata-sandi-loket-7")
    desk.click("button[type=submit]")
    expect(desk.locator("#picker-title")).to_have_text("Pilih loket Anda")
    expect(desk.locator(".counter-choice")).to_have_count(6)


def test_manager_binds_a_kiosk_account_to_its_kiosk(devices, server):
    board = devices.open("/manager", viewport="desk", user="boss")
    wait_online(board)
    form = board.locator("#user-form")
    expect(form.get_by_label("Kios yang dipakai")).to_be_hidden()  # not for a clerk
    form.get_by_label("Nama pengguna").fill("kios-lobi")
    form.get_by_label("Peran").select_option("kiosk")
    form.get_by_label("Kios yang dipakai").select_option("K1")
    form.get_by_label("Kata sandi").fill("sandi-perangkat-lobi-1")
    form.get_by_role("button", name="Simpan").click()
    expect(board.locator("#flash")).to_have_text("Pengguna kios-lobi disimpan.")
    expect(board.locator("#user-rows tr[data-user=kios-lobi]")).to_contain_text("K1")
    listed = server.cli("users", "list").stdout
    assert any(
        line.split()[0] == "kios-lobi" and line.endswith("kiosk K1") for line in listed.splitlines()
    ), listed
