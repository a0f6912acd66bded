"""Getting rendered ticket bytes to a printer with python-escpos, and reading its status.

Every print opens the connection, asks for the status where the connection
can answer (network, USB, serial: DLE EOT 1/4, and 2 when offline), sends the
bytes only if the printer can print, and closes. Every step is bounded by the
printer's `timeout`. Failures raise PrintFailed with the printer's state.
"""

from __future__ import annotations

import logging
import socket

from escpos.constants import RT_STATUS, RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Network

from satupintu.printer_settings import PrinterSettings
from satupintu.printjobs import PrinterState

from .status import PrintFailed, state_from_status

log = logging.getLogger(__name__)

RT_STATUS_OFFLINE_CAUSE = RT_STATUS + b"\x02"  # DLE EOT 2
READS_STATUS = ("network", "usb", "serial")  # connections that carry the printer's answers


def make_printer(settings: PrinterSettings) -> Escpos:
    """The python-escpos printer object for `settings` (not yet connected)."""
    kind = settings.type
    profile = settings.profile
    if kind == "network":
        return _Network(settings.host, settings.port, timeout=settings.timeout, profile=profile)
    if kind == "file":
        from escpos.printer import File

        return File(devfile=settings.path, profile=profile)
    if kind == "usb":
        from escpos.printer import Usb

        return Usb(
            settings.vendor, settings.product, timeout=int(settings.timeout * 1000), profile=profile
        )
    if kind == "serial":
        from escpos.printer import Serial

        return Serial(
            devfile=settings.device,
            baudrate=settings.baudrate,
            timeout=settings.timeout,
            profile=profile,
        )
    if kind == "cups":
        from escpos.printer import CupsPrinter

        return CupsPrinter(printer_name=settings.name, profile=profile)
    raise ValueError(f"the server cannot print to a {kind!r} printer")


class _Network(Network):
    """python-escpos's Network printer, closing its socket when connecting fails."""

    def open(self, raise_not_found: bool = True) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:  # refused, no route, or no answer to connect: unreachable
            reason = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or exc
            raise DeviceNotFoundError(f"cannot connect: {reason}") from exc
        self.device = sock


def _answer(printer: Escpos, query: bytes) -> int:
    reply = printer.query_status(query)
    if not reply:
        raise PrintFailed(PrinterState.OFFLINE, "printer closed the connection")
    return reply[0]


def read_state(printer: Escpos) -> PrinterState:
    """Ask an open printer for its state (DLE EOT 1 and 4; 2 when it is offline)."""
    online = _answer(printer, RT_STATUS_ONLINE)
    cause = _answer(printer, RT_STATUS_OFFLINE_CAUSE) if online & 0x08 else None
    paper = _answer(printer, RT_STATUS_PAPER)
    return state_from_status(online, cause, paper)


def _failure(exc: Exception, settings: PrinterSettings) -> PrintFailed:
    where = settings.describe()
    if isinstance(exc, PrintFailed):
        return exc
    if isinstance(exc, TimeoutError | socket.timeout):
        return PrintFailed(
            PrinterState.ERROR, f"{where}: no answer within {settings.timeout:g} s (slow or busy)"
        )
    if isinstance(exc, DeviceNotFoundError | ConnectionError):
        return PrintFailed(PrinterState.OFFLINE, f"{where}: {_first_line(exc)}")
    if isinstance(exc, OSError):
        return PrintFailed(PrinterState.OFFLINE, f"{where}: {exc.strerror or exc}")
    return PrintFailed(PrinterState.ERROR, f"{where}: {type(exc).__name__}: {exc}")


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def _check(printer: Escpos, settings: PrinterSettings) -> PrinterState:
    if settings.type in READS_STATUS and settings.status:
        state = read_state(printer)
        if not state.prints:
            raise PrintFailed(state, f"{settings.describe()}: {state.value.replace('_', ' ')}")
        return state
    return PrinterState.OK


def send(settings: PrinterSettings, data: bytes) -> PrinterState:
    """Print `data` (rendered ESC/POS); the printer's state, or PrintFailed."""
    printer = make_printer(settings)
    try:
        printer.open()
        state = _check(printer, settings)
        printer._raw(data)
        if settings.type == "cups":
            printer.send()  # type: ignore[attr-defined]
        return state
    except Exception as exc:  # noqa: BLE001 - every failure becomes a printer state
        raise _failure(exc, settings) from exc
    finally:
        try:
            printer.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail too
            log.debug("closing %s failed", settings.describe(), exc_info=True)


def probe(settings: PrinterSettings) -> tuple[PrinterState, str]:
    """The printer's state without printing (state, detail); for status checks."""
    printer = make_printer(settings)
    try:
        printer.open()
        return _check(printer, settings), ""
    except Exception as exc:  # noqa: BLE001
        failure = _failure(exc, settings)
        return failure.state, failure.detail
    finally:
        try:
            printer.close()
        except Exception:  # noqa: BLE001
            pass
