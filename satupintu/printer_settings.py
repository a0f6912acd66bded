"""A kiosk's printer settings: plain typed values, checked when the config is read.

`[[kiosks]] printer = { type = ..., ... }` in config.toml:

    none                                       no printer (the kiosk shows the ticket on screen)
    network  host, port = 9100, status = true  a LAN printer, printed to by the server
    usb      vendor, product, status = true    e.g. vendor = 0x04b8, product = 0x0e15
    serial   device, baudrate = 9600, status   e.g. device = "/dev/ttyS0"
    file     path                              e.g. path = "/dev/usb/lp0"
    cups     name                              a CUPS queue of the server machine
    agent                                      the kiosk PC runs `satupintu printer agent`

and for every type: paper = "80" | "58" (default "80"), profile = a python-escpos
printer profile (default TM-T20II for 80 mm, POS-5890 for 58 mm), timeout =
seconds for connecting, writing and status answers (default 3), job_ttl =
seconds a print job waits for an agent before it is dropped (default 120).

Only what needs no printing library is checked here (names, types, ranges).
Whether python-escpos knows the profile and whether a transport's driver
package is installed is the printer package's to check
(printer/config.py `check_kiosk_printers`), at start-up and by check-config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

TYPES: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "network": frozenset({"host", "port", "status"}),
    "usb": frozenset({"vendor", "product", "status"}),
    "serial": frozenset({"device", "baudrate", "status"}),
    "file": frozenset({"path"}),
    "cups": frozenset({"name"}),
    "agent": frozenset(),
}
COMMON = frozenset({"paper", "profile", "timeout", "job_ttl"})
PAPERS = {"80": "TM-T20II", "58": "POS-5890"}  # the default python-escpos profile per paper
HOST_RE = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[?[0-9A-Fa-f:]+\]?$")
SERVER_SIDE = ("network", "usb", "serial", "file", "cups")
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


class PrinterConfigError(ValueError):
    """A wrong printer option; `key` is the option's name under `printer`."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class PrinterSettings:
    """One printer, typed and checked."""

    type: str = "none"
    paper: str = "80"
    profile: str = PAPERS["80"]
    timeout: float = 3.0
    job_ttl: float = 120.0
    host: str = ""
    port: int = 9100
    status: bool = True  # ask for the printer's status (DLE EOT) before each ticket
    vendor: int = 0
    product: int = 0
    device: str = ""
    baudrate: int = 9600
    path: str = ""
    name: str = ""

    @property
    def server_side(self) -> bool:
        """True if the server itself sends the tickets to this printer."""
        return self.type in SERVER_SIDE

    def describe(self) -> str:
        """A short human name of the printer, for logs and the manager page."""
        return {
            "none": "tanpa printer",
            "network": f"network {self.host}:{self.port}",
            "usb": f"usb {self.vendor:04x}:{self.product:04x}",
            "serial": f"serial {self.device}",
            "file": f"file {self.path}",
            "cups": f"cups {self.name}",
            "agent": "print agent",
        }[self.type]


def printer_settings(ptype: str, options: dict[str, Any]) -> PrinterSettings:
    """Check a kiosk's printer table; raise PrinterConfigError naming the option."""
    if ptype not in TYPES:
        raise PrinterConfigError("type", f"must be one of {', '.join(TYPES)}, got {ptype!r}")
    allowed = TYPES[ptype] | COMMON
    for name in options:
        if name not in allowed:
            raise PrinterConfigError(
                name,
                f"unknown option for a {ptype} printer (allowed: "
                f"{', '.join(sorted(allowed | {'type'}))})",
            )
    values: dict[str, Any] = {"type": ptype, "status": _get(options, "status", bool, True)}
    paper = _get(options, "paper", str, "80")
    if paper not in PAPERS:
        raise PrinterConfigError("paper", f'must be "80" or "58", got {paper!r}')
    values["paper"] = paper
    values["profile"] = _get(options, "profile", str, PAPERS[paper])
    values["timeout"] = _number(options, "timeout", 3.0, 0.1, 60)
    values["job_ttl"] = _number(options, "job_ttl", 120.0, 5, 86_400)
    if ptype == "network":
        host = _get(options, "host", str, None)
        if not HOST_RE.match(host):
            raise PrinterConfigError("host", f"must be a host name or IP address, got {host!r}")
        values["host"] = host.strip("[]")
        values["port"] = _port(_get(options, "port", int, 9100))
    elif ptype == "usb":
        values["vendor"] = _usb_id(options, "vendor")
        values["product"] = _usb_id(options, "product")
    elif ptype == "serial":
        values["device"] = _nonempty(options, "device")
        values["baudrate"] = _get(options, "baudrate", int, 9600)
        if values["baudrate"] not in BAUDRATES:
            raise PrinterConfigError(
                "baudrate",
                f"must be a standard rate such as 9600 or 115200, got {values['baudrate']}",
            )
    elif ptype == "file":
        values["path"] = _nonempty(options, "path")
    elif ptype == "cups":
        values["name"] = _nonempty(options, "name")
    return PrinterSettings(**values)


# -- helpers --------------------------------------------------------------------


def _get(options: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    if name not in options:
        if default is None:
            raise PrinterConfigError(name, "is required")
        return default
    value = options[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PrinterConfigError(name, f"must be {kind.__name__}, got {value!r}")
    return value


def _nonempty(options: dict[str, Any], name: str) -> str:
    value = _get(options, name, str, None)
    if not value.strip():
        raise PrinterConfigError(name, "must not be empty")
    return value


def _number(options: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PrinterConfigError(name, f"must be a number of seconds, got {value!r}")
    if not low <= value <= high:
        raise PrinterConfigError(name, f"must be between {low:g} and {high:g} seconds")
    return float(value)


def _port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise PrinterConfigError("port", f"must be between 1 and 65535, got {port}")
    return port


def _usb_id(options: dict[str, Any], name: str) -> int:
    value = options.get(name)
    if isinstance(value, str):
        value = spec_int(value.removeprefix("0x"), name, 16)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PrinterConfigError(name, f"is required: the USB {name} id, e.g. 0x04b8")
    if not 0 < value <= 0xFFFF:
        raise PrinterConfigError(name, f"must be between 0x0001 and 0xffff, got {value!r}")
    return value


def spec_int(text: str, what: str, base: int = 10) -> int:
    """`text` as an integer, or PrinterConfigError naming `what`."""
    try:
        return int(text, base)
    except ValueError:
        raise PrinterConfigError(what, f"must be a number, got {text!r}") from None
