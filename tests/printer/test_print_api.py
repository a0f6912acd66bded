"""The server prints issued tickets in the background; every failure leaves the ticket issued
and shows the fallback: the API and events say the print failed and the preview PNG is served.
"""

from __future__ import annotations

import io
import time

import pytest
import zxingcpp
from PIL import Image

from printer.service import printing as printing_part
from satupintu import current
from satupintu.config import KioskConfig
from satupintu.printer_settings import printer_settings
from tests.apihelpers import Actor, actor, received
from tests.printer.escpos_reader import read
from tests.printer.fake_printer import FakePrinter


@pytest.fixture
def fake():
    printer = FakePrinter(delay=1.5).start()
    yield printer
    printer.stop()


@pytest.fixture
def app(make_app, fake):
    kiosks = (
        KioskConfig(
            "K1",
            "Kiosk lobi",
            printer_settings("network", {"host": "127.0.0.1", "port": fake.port, "timeout": 0.5}),
        ),
        KioskConfig("K3", "Kiosk tanpa printer", printer_settings("none", {"paper": "58"})),
    )
    return make_app(overrides={"SATUPINTU_MESSAGE_QUEUE": None}, kiosks=kiosks)


@pytest.fixture
def k1(app):
    return actor(app, "k1", "kiosk")


def by_name(events):
    grouped = {}
    for event in events:
        grouped.setdefault(event["event"], []).append(event)
    return grouped


def printing(app):
    return printing_part.get(app)


def test_issued_ticket_is_printed_in_the_background(app, k1, fake, anon, manager):
    ticket = k1.take_ticket("ktp")
    assert ticket["print"]["state"] == "queued" and ticket["print"]["kiosk"] == "K1"
    printing(app).wait_idle()
    [job] = fake.wait_for_jobs(1)
    paper = read(job)
    assert paper.line(ticket["number"]).size == max(line.size for line in paper.lines)
    assert paper.qr == [f"http://localhost/t/{ticket['id']}"]
    assert paper.cuts == ["full"]
    assert anon.get(f"/tickets/{ticket['id']}/print").get_json()["state"] == "printed"
    [status] = manager.get("/printers").get_json()["printers"]
    assert (status["kiosk"], status["state"], status["alert"]) == ("K1", "ok", False)
    assert status["printer"] == f"network 127.0.0.1:{fake.port}"


def test_printing_an_issued_ticket_reads_no_ticket_back(app, k1, fake, clerk, monkeypatch):
    """The issuing route hands the ticket it has to the printer; nobody reads it again."""
    store = current.store.get(app)
    reads: list[str] = []
    real = store.ticket

    def counted(branch: str, ticket_id: str):
        reads.append(ticket_id)
        return real(branch, ticket_id)

    monkeypatch.setattr(store, "ticket", counted)
    ticket = k1.take_ticket("ktp")
    printing(app).wait_idle()
    assert read(fake.wait_for_jobs(1)[0]).line(ticket["number"])
    assert reads == []  # issued, rendered, stored, printed: no ticket read
    clerk.post(f"/tickets/{ticket['id']}/reprint", 202)  # control: a reprint looks it up
    assert reads == [ticket["id"]]


@pytest.mark.parametrize(
    "mode, state",
    [
        ("offline", "offline"),
        ("paper_out", "paper_out"),
        ("cover_open", "cover_open"),
        ("slow", "error"),
    ],
)
def test_printer_failure_keeps_the_ticket_and_shows_the_fallback(
    app, k1, fake, anon, manager, socket_client, mode, state
):
    fake.set_mode(mode)
    managers = socket_client("manager", manager.token)
    ticket = k1.take_ticket("kk")
    printing(app).wait_idle()

    assert anon.ticket(ticket["id"])["status"] == "waiting"  # the ticket exists
    info = anon.get(f"/tickets/{ticket['id']}/print").get_json()
    assert info["state"] == "failed" and info["printer"] == state
    assert "Tiket tidak dapat dicetak" in info["message"]
    png = anon.get(info["preview"].removeprefix("/api/v1"))
    assert png.mimetype == "image/png"
    image = Image.open(io.BytesIO(png.data))
    assert [r.text for r in zxingcpp.read_barcodes(image.convert("L"))] == [
        f"http://localhost/t/{ticket['id']}"
    ]

    events = by_name(received(managers, wait=2, count=2))
    [failed] = events["print_failed"]
    assert failed["ticket"] == ticket["id"] and failed["printer"] == state
    [alert] = events["printer_status"]
    assert alert["kiosk"] == "K1" and alert["state"] == state and alert["alert"] is True
    assert alert["detail"]
    [status] = manager.get("/printers").get_json()["printers"]
    assert status["state"] == state and status["alert"] is True
    assert fake.printed() == []


def test_issuing_does_not_wait_for_a_slow_printer(make_app, fake):
    fake.delay = 5.0
    fake.set_mode("slow")
    app = make_app(
        overrides={"SATUPINTU_MESSAGE_QUEUE": None},
        kiosks=(
            KioskConfig(
                "K1",
                "Kiosk lobi",
                printer_settings("network", {"host": "127.0.0.1", "port": fake.port, "timeout": 3}),
            ),
        ),
    )
    started = time.monotonic()
    ticket = actor(app, "k1", "kiosk").take_ticket("ktp")
    anon = Actor(app)
    assert time.monotonic() - started < 2.5  # the printer takes 3 s to fail
    assert ticket["print"]["state"] == "queued"
    assert anon.get(f"/tickets/{ticket['id']}/print").get_json()["state"] == "queued"
    printing(app).wait_idle()
    assert anon.get(f"/tickets/{ticket['id']}/print").get_json()["state"] == "failed"


def test_kiosk_hears_print_failed_on_the_ticket_room(app, k1, fake, socket_client):
    fake.set_mode("slow")  # slow enough for the kiosk to join the ticket's room first
    ticket = k1.take_ticket("ktp")
    kiosk_screen = socket_client(f"ticket:{ticket['id']}")
    printing(app).wait_idle()
    [failed] = received(kiosk_screen, "print_failed", wait=2)
    assert failed["state"] == "failed" and failed["preview"].endswith("preview.png?paper=80")


def test_paper_near_end_prints_and_warns(app, k1, fake, manager):
    fake.set_mode("paper_near_end")
    k1.take_ticket("ktp")
    printing(app).wait_idle()
    assert len(fake.wait_for_jobs(1)) == 1
    [status] = manager.get("/printers").get_json()["printers"]
    assert status["state"] == "paper_near_end"
    assert status["warning"] is True and status["alert"] is False
    assert status["message"] == "Kertas hampir habis"


def test_recovery_clears_the_alert_and_keeps_the_last_error(app, k1, fake, manager, anon):
    fake.set_mode("paper_out")
    k1.take_ticket("ktp")
    printing(app).wait_idle()
    fake.set_mode("ok")
    ticket = k1.take_ticket("ktp")
    printing(app).wait_idle()
    assert anon.get(f"/tickets/{ticket['id']}/print").get_json()["state"] == "printed"
    [status] = manager.get("/printers").get_json()["printers"]
    assert status["state"] == "ok" and status["alert"] is False
    assert "paper out" in status["detail"]  # the last error, for the manager


def test_reprint_from_the_counter(app, k1, fake, clerk):
    ticket = k1.take_ticket("ktp")
    printing(app).wait_idle()
    done = clerk.post(f"/tickets/{ticket['number']}/reprint", 202).get_json()
    assert done["print"]["state"] == "queued"
    printing(app).wait_idle()
    first, second = fake.wait_for_jobs(2)
    assert "(cetak ulang)" not in read(first).text
    assert read(second).line("(cetak ulang)") and read(second).line(ticket["number"])


def test_reprint_refusals(app, k1, clerk, manager):
    ticket = k1.take_ticket("ktp")
    k1.post(f"/tickets/{ticket['id']}/reprint", 403)
    body = clerk.post(f"/tickets/{ticket['id']}/reprint", 409, json={"kiosk": "K3"}).get_json()
    assert body["error"] == "no_printer" and body["field"] == "kiosk"
    body = clerk.post(f"/tickets/{ticket['id']}/reprint", 404, json={"kiosk": "K9"}).get_json()
    assert body["error"] == "no_such_kiosk"
    assert body["field"] == "kiosk" and "K1" in body["message"]
    body = clerk.post(f"/tickets/{ticket['id']}/reprint", 400, json={"kiosk": 7}).get_json()
    assert body["field"] == "kiosk"
    clerk.post("/tickets/nosuchticket/reprint", 404)
    # a ticket a manager issued (no kiosk) needs the kiosk named
    own = manager.take_ticket("ktp")
    assert own["print"] is None  # no kiosk printer involved
    body = clerk.post(f"/tickets/{own['id']}/reprint", 409).get_json()
    assert body["error"] == "kiosk_required" and body["field"] == "kiosk"
    clerk.post(f"/tickets/{own['id']}/reprint", 202, json={"kiosk": "k1"})


def test_kiosk_without_printer_says_none_and_serves_its_preview(app, anon):
    k3 = actor(app, "k3", "kiosk")
    ticket = k3.take_ticket("ktp")
    assert ticket["print"]["state"] == "none"
    assert "Tiket tidak dapat dicetak" in ticket["print"]["message"]
    png = anon.get(f"/tickets/{ticket['id']}/preview.png")
    assert Image.open(io.BytesIO(png.data)).width == 384  # K3's paper is 58 mm
    wide = anon.get(f"/tickets/{ticket['id']}/preview.png?paper=80")
    assert Image.open(io.BytesIO(wide.data)).width == 576
    body = anon.get(f"/tickets/{ticket['id']}/preview.png?paper=76", 400).get_json()
    assert body["field"] == "paper"
    assert (
        anon.get("/tickets/nosuchticket/preview.png", 404).get_json()["error"] == "no_such_ticket"
    )


def test_printers_need_staff(app, anon, k1):
    anon.get("/printers", 401)
    k1.get("/printers", 403)


def test_printer_state_is_read_between_tickets_for_managers(app, fake, manager, socket_client):
    fake.set_mode("cover_open")
    managers = socket_client("manager", manager.token)
    manager.get("/printers")  # no status yet: the printer is asked in the background
    printing(app).wait_idle()
    [status] = manager.get("/printers").get_json()["printers"]
    assert status["state"] == "cover_open" and status["alert"] is True
    [event] = received(managers, "printer_status", wait=2)
    assert event["state"] == "cover_open" and event["message"] == "Tutup printer terbuka"
    assert fake.printed() == [] and fake.queries[:2] == [b"\x10\x04\x01", b"\x10\x04\x02"]
    manager.get("/printers")  # fresh: not asked again
    printing(app).wait_idle()
    assert fake.connections == 1


def test_issuing_response_documents_the_print_field(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    field = schemas["IssuedOut"]["properties"]["print"]
    assert field["anyOf"] == [{"$ref": "#/components/schemas/PrintOut"}, {"type": "null"}]
    assert {"ticket", "kiosk", "state", "preview", "printer", "message"} <= set(
        schemas["PrintOut"]["properties"]
    )


def test_a_kiosk_user_bound_to_a_kiosk_prints_there_whatever_its_name(app, fake, manager, anon):
    """The README's quick start names the kiosk user kiosk1; --kiosk K1 binds it."""
    added = manager.post(
        "/users",
        201,
        json={"username": "kiosk1", "role": "kiosk", "password": "sandi-kios-lobi", "kiosk": "K1"},
    )
    assert added.get_json()["kiosk"] == "K1"
    token = anon.post(
        "/auth/token", json={"username": "kiosk1", "password": "sandi-kios-lobi"}
    ).get_json()["token"]
    ticket = Actor(app, token, "kiosk1").take_ticket("ktp")
    assert ticket["print"]["state"] == "queued" and ticket["print"]["kiosk"] == "K1"
    printing(app).wait_idle()
    [job] = fake.wait_for_jobs(1)
    assert read(job).line(ticket["number"])
    # The control: an unbound kiosk user with another name prints nowhere, as before.
    other = actor(app, "kiosk2", "kiosk").take_ticket("ktp")
    assert other["print"] is None


def test_binding_names_a_configured_kiosk_and_only_for_kiosk_users(app, manager):
    body = manager.post(
        "/users",
        400,
        json={"username": "kiosk9", "role": "kiosk", "password": "sandi-kios-lobi", "kiosk": "K9"},
    )
    assert body.get_json()["field"] == "kiosk"
    assert "K1, K3" in body.get_json()["message"]
    body = manager.post(
        "/users",
        400,
        json={"username": "loket9", "role": "clerk", "password": "sandi-kios-lobi", "kiosk": "K1"},
    )
    assert body.get_json()["field"] == "kiosk"
    assert [u["username"] for u in manager.get("/users").get_json()["users"]] == ["manager1"]
