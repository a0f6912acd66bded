"""Ticket printing: render time and send time per ticket, to a loopback TCP printer.

For each paper (80 mm TM-T20II with the printer's own QR code, 58 mm POS-5890
with the QR sent as a raster image) it renders N tickets of the demo office
(layout -> ESC/POS bytes) and sends each to tests/printer/fake_printer.py on
127.0.0.1 the way the server does (connect, DLE EOT 1 + 4 status check,
bytes, close), and times the PNG preview too. Loopback leaves out the real
printer's network and print speed: a TM printer prints ~250 mm/s, so paper
time (about 0.5 s for a ticket) dominates anything measured here.

    .venv/bin/python bench/bench_print.py            # 300 tickets per paper, writes the doc
    .venv/bin/python bench/bench_print.py --quick    # smoke run, prints only
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import benchlib

from printer.config import check_printer
from printer.layout import PrintedTicket, render
from printer.preview import png_bytes
from printer.transports import send
from tests.printer.fake_printer import FakePrinter

PAPERS = (("80 mm", "TM-T20II", "native (GS ( k)"), ("58 mm", "POS-5890", "raster image"))


ISSUED = datetime(2026, 11, 27, 9, 15, tzinfo=ZoneInfo("Asia/Jakarta"))


def ticket(i: int) -> PrintedTicket:
    ticket_id = f"bench{i:07d}"
    return PrintedTicket(
        id=ticket_id,
        number=f"A{i % 1000:03d}",
        priority="lansia" if i % 7 == 0 else "",
        people_ahead=i % 40,
        estimated_wait_s=(i % 40) * 450,
        issued_at=ISSUED,
        url=f"https://antrean.kebonjeruk.example/t/{ticket_id}",
    )


def run(n: int) -> list[list[str]]:
    config = benchlib.bench_config()
    service = config.service("ktp")
    rows = []
    printer = FakePrinter().start()
    try:
        settings = check_printer(
            "network", {"host": "127.0.0.1", "port": printer.port, "timeout": 3}
        )
        for paper, profile, qr in PAPERS:
            renders, sends, totals, previews, sizes = [], [], [], [], []
            before = len(printer.jobs)
            for i in range(n):
                t0 = time.perf_counter()
                data = render(ticket(i), service, config.office, profile)
                t1 = time.perf_counter()
                send(settings, data)
                t2 = time.perf_counter()
                renders.append(t1 - t0)
                sends.append(t2 - t1)
                totals.append(t2 - t0)
                sizes.append(len(data))
            for i in range(max(1, n // 10)):
                t0 = time.perf_counter()
                png_bytes(ticket(i), service, config.office, profile)
                previews.append(time.perf_counter() - t0)
            printer.wait_for_jobs(before + n)
            r, s, t, p = (benchlib.summary(x) for x in (renders, sends, totals, previews))
            rows.append(
                [
                    paper,
                    profile,
                    qr,
                    f"{sum(sizes) // len(sizes):,}",
                    f"{benchlib.ms(r['p50'])} / {benchlib.ms(r['p99'])}",
                    f"{benchlib.ms(s['p50'])} / {benchlib.ms(s['p99'])}",
                    f"{benchlib.ms(t['p50'])} / {benchlib.ms(t['p99'])}",
                    f"{1 / t['mean']:.0f}",
                    benchlib.ms(p["p50"]),
                ]
            )
    finally:
        printer.stop()
    return rows


def main() -> None:
    args = benchlib.parser(__doc__.splitlines()[0]).parse_args()
    n = 10 if args.quick else 300
    rows = run(n)
    lines = [
        "## Ticket printing (render + send)",
        "",
        f"{n} tickets per paper, rendered to ESC/POS and sent one connection each to a "
        "loopback TCP printer (tests/printer/fake_printer.py) with the status check the "
        "server does; times in ms (p50 / p99). A real printer adds its network and about "
        "0.5 s of paper per ticket; issuing never waits for any of it (background worker).",
        "",
        *benchlib.table(
            [
                "paper",
                "profile",
                "QR code",
                "bytes",
                "render ms",
                "send ms (connect+status+bytes)",
                "render+send ms",
                "tickets/s (one printer)",
                "PNG preview ms (p50)",
            ],
            rows,
        ),
        "",
        *benchlib.environment(("python-escpos", "pillow", "qrcode")),
    ]
    print("\n".join(lines))
    if not (args.quick or args.no_doc):
        benchlib.write_section("print", lines)


if __name__ == "__main__":
    main()
