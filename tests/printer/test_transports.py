"""Sending tickets to a real (loopback) TCP printer and to a file; reading its status."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from printer.config import check_printer
from printer.layout import PrintedTicket, render
from printer.status import PrintFailed
from printer.transports import probe, send
from satupintu.printjobs import PrinterState
from tests.printer.escpos_reader import read
from tests.printer.fake_printer import FakePrinter

TICKET = PrintedTicket(
    id="abcdefghijkm",
    number="B007",
    people_ahead=1,
    estimated_wait_s=600,
    issued_at=datetime(2026, 11, 27, 9, 15, tzinfo=ZoneInfo("Asia/Jakarta")),
    url="http://127.0.0.1/t/abcdefghijkm",
)


@pytest.fixture
def fake():
    printer = FakePrinter(delay=1.5).start()
    yield printer
    printer.stop()


def network(fake: FakePrinter, **options):
    return check_printer(
        "network", {"host": "127.0.0.1", "port": fake.port, "timeout": 0.5, **options}
    )


@pytest.fixture
def ticket_bytes(config):
    return render(TICKET, config.service("kk"), config.office, "TM-T20II")


def test_network_printer_gets_the_ticket_after_a_status_check(fake, ticket_bytes):
    assert send(network(fake), ticket_bytes) is PrinterState.OK
    [job] = fake.wait_for_jobs(1)
    printed = read(job)
    assert printed.line("B007").size > 2 and printed.cuts == ["full"]
    # it asked DLE EOT 1 (online) and DLE EOT 4 (paper) before printing
    assert printed.status_queries == [b"\x10\x04\x01", b"\x10\x04\x04"]
    assert job.startswith(b"\x10\x04\x01\x10\x04\x04\x1b@")


def test_paper_near_end_prints_with_a_warning(fake, ticket_bytes):
    fake.set_mode("paper_near_end")
    assert send(network(fake), ticket_bytes) is PrinterState.PAPER_NEAR_END
    assert read(fake.wait_for_jobs(1)[0]).line("B007")


@pytest.mark.parametrize("mode", ["paper_out", "cover_open"])
def test_paper_out_and_cover_open_print_nothing(fake, ticket_bytes, mode):
    fake.set_mode(mode)
    with pytest.raises(PrintFailed) as failed:
        send(network(fake), ticket_bytes)
    assert failed.value.state is PrinterState(mode)
    fake.wait_closed(1)  # the connection is over: everything it sent is recorded
    assert fake.printed() == []  # only the status queries reached it
    assert fake.connections == 1
    fake.set_mode("ok")  # control: the same send prints once the printer can
    assert send(network(fake), ticket_bytes) is PrinterState.OK
    assert len(fake.wait_for_jobs(1)) == 1 and fake.connections == 2


def test_unreachable_printer_fails_fast(fake, ticket_bytes):
    fake.set_mode("offline")
    started = time.monotonic()
    with pytest.raises(PrintFailed) as failed:
        send(network(fake), ticket_bytes)
    assert failed.value.state is PrinterState.OFFLINE
    assert f"127.0.0.1:{fake.port}" in failed.value.detail
    assert time.monotonic() - started < 0.5
    fake.set_mode("ok")  # back on the same port
    assert send(network(fake), ticket_bytes) is PrinterState.OK


def test_slow_printer_times_out(fake, ticket_bytes):
    fake.set_mode("slow")
    started = time.monotonic()
    with pytest.raises(PrintFailed) as failed:
        send(network(fake), ticket_bytes)
    took = time.monotonic() - started
    assert failed.value.state is PrinterState.ERROR
    assert "no answer within 0.5 s" in failed.value.detail
    assert 0.4 < took < 1.4


def test_status_check_can_be_turned_off(fake, ticket_bytes):
    fake.set_mode("paper_out")  # a printer that does not answer DLE EOT gets status = false
    assert send(network(fake, status=False), ticket_bytes) is PrinterState.OK
    job = fake.wait_for_jobs(1)[0]
    assert read(job).status_queries == [] and job.startswith(b"\x1b@")


def test_probe_reads_the_state_without_printing(fake):
    for mode in ("ok", "paper_near_end", "paper_out", "cover_open"):
        fake.set_mode(mode)
        assert probe(network(fake))[0] is PrinterState(mode)
    fake.set_mode("offline")
    state, detail = probe(network(fake))
    assert state is PrinterState.OFFLINE and detail
    assert fake.printed() == []


def test_file_printer(tmp_path, ticket_bytes):
    path = tmp_path / "lp0"
    settings = check_printer("file", {"path": str(path)})
    assert send(settings, ticket_bytes) is PrinterState.OK
    assert path.read_bytes() == ticket_bytes
    missing = check_printer("file", {"path": str(tmp_path / "no" / "lp0")})
    with pytest.raises(PrintFailed) as failed:
        send(missing, ticket_bytes)
    assert failed.value.state is PrinterState.OFFLINE
