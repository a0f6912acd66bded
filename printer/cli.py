"""`satupintu printer ...`: the kiosk's print agent, and a test print for installers.

satupintu/cli.py registers these commands and runs `check_config` wherever it
loads the config. Only the standard library and satupintu.command are imported
at module level (like satupintu/cli.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from satupintu.command import Failure, load_config_or_fail


def register(subparsers: Any) -> None:
    """Add the `printer` command and its sub-commands to the satupintu parser."""
    printer = subparsers.add_parser("printer", help="ticket printers: print agent, test print")
    sub = printer.add_subparsers(dest="printer_command", metavar="ACTION", required=True)

    def printer_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--printer",
            required=True,
            metavar="SPEC",
            help="network:HOST[:PORT] | usb:VENDOR:PRODUCT | "
            "serial:DEVICE[:BAUD] | file:PATH | cups:NAME",
        )
        parser.add_argument("--paper", choices=("80", "58"), default="80")
        parser.add_argument(
            "--profile", default="", help="python-escpos printer profile (default by paper)"
        )
        parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")

    agent = sub.add_parser("agent", help="print this kiosk's tickets on a local printer")
    agent.add_argument(
        "--server",
        required=True,
        metavar="URL",
        help="the satupintu server, e.g. http://192.168.1.10:8080",
    )
    agent.add_argument("--kiosk", required=True, help="the kiosk id in [[kiosks]]")
    agent.add_argument(
        "--username", default="", help="kiosk user (named after the kiosk) or a manager"
    )
    agent.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    agent.add_argument(
        "--token",
        default=os.environ.get("SATUPINTU_AGENT_TOKEN", ""),
        help="a bearer token instead of a password (default: $SATUPINTU_AGENT_TOKEN)",
    )
    printer_options(agent)
    agent.add_argument(
        "--state-file",
        default="",
        metavar="PATH",
        help="where printed job ids are kept (default: ~/.satupintu/printed-<kiosk>.jsonl)",
    )
    agent.add_argument(
        "--heartbeat", type=float, default=10.0, help="seconds between status reports (default 10)"
    )
    agent.add_argument("--verbose", "-v", action="store_true")
    agent.set_defaults(func=cmd_agent)

    test = sub.add_parser("test", help="print a sample ticket and show the printer's state")
    printer_options(test)
    test.add_argument("--config", default="config.toml", help="for the office's name and text")
    test.set_defaults(func=cmd_test)


def check_config(config: Any) -> None:
    """The printer package's checks of a loaded config: profiles and driver packages."""
    from .config import check_kiosk_printers

    check_kiosk_printers(config)


def _settings(args: argparse.Namespace) -> Any:
    from .config import PrinterConfigError, parse_spec

    try:
        return parse_spec(args.printer, args.paper, args.profile, args.timeout)
    except PrinterConfigError as exc:
        raise Failure(f"--printer: {exc}", 2) from None


def cmd_agent(args: argparse.Namespace) -> int:
    """Run the print agent until interrupted."""
    try:
        from .agent import AgentError, PrintAgent
    except ImportError as exc:  # the client libraries are an extra
        raise Failure(
            f"the print agent needs {exc.name}: pip install 'satupintu[agent]'", 2
        ) from None

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    logging.getLogger("satupintu.printer.agent").setLevel(logging.INFO)
    settings = _settings(args)
    password = ""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise Failure("--password-stdin: no password on stdin", 2)
    if not args.token and not (args.username and password):
        raise Failure("give --username with --password-stdin, or --token", 2)
    state_file = (
        Path(args.state_file)
        if args.state_file
        else (Path.home() / ".satupintu" / f"printed-{args.kiosk}.jsonl")
    )
    agent = PrintAgent(
        args.server,
        args.kiosk,
        settings,
        state_file,
        token=args.token,
        username=args.username,
        password=password,
        heartbeat=args.heartbeat,
    )
    print(
        f"print agent: kiosk {args.kiosk} -> {settings.describe()}, server {args.server}",
        flush=True,
    )
    try:
        agent.run()
    except AgentError as exc:
        raise Failure(str(exc), 2) from None
    except (ConnectionError, OSError) as exc:
        raise Failure(f"server {args.server} unreachable: {exc}", 1) from None
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    """Print a sample ticket (the first service of the config) and report the state."""
    from datetime import datetime

    from satupintu.printjobs import MESSAGES

    from . import transports
    from .layout import PrintedTicket, render
    from .status import PrintFailed

    settings = _settings(args)
    config = load_config_or_fail(args.config, [check_config])
    service = config.services[0]
    ticket = PrintedTicket(
        id="contohtiket1",
        number=f"{service.prefix}000",
        issued_at=datetime.now(config.office.tz),
        people_ahead=2,
        estimated_wait_s=900,
        url="/t/contohtiket1",
    )
    data = render(
        ticket, service, config.office, settings.profile, base_url="http://contoh.invalid"
    )
    try:
        state = transports.send(settings, data)
    except PrintFailed as failed:
        raise Failure(f"{MESSAGES[failed.state][0]} ({failed.detail})", 1) from None
    print(f"{settings.describe()}: {MESSAGES[state][0]} ({state.value}); {len(data)} bytes sent")
    return 0
