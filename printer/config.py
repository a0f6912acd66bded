"""Printer settings, checked against the printing libraries; printers named on a command line.

The settings themselves are plain values of the core (satupintu/printer_settings.py,
checked when config.toml is read). What needs python-escpos or a driver package
is checked here: the profile must be one python-escpos knows (with the code page
the layout prints in), and a usb, serial or cups printer needs its package on
this machine. `check_kiosk_printers` runs at start-up (create_app) and in
`satupintu check-config`; its errors name the file and the key.

The agent names its printer on the command line as `network:HOST[:PORT]`,
`usb:VENDOR:PRODUCT`, `serial:DEVICE[:BAUD]`, `file:PATH` or `cups:NAME`
(`parse_spec`).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from satupintu.config import Config, ConfigError
from satupintu.printer_settings import (
    PrinterConfigError,
    PrinterSettings,
    printer_settings,
    spec_int,
)

# python-escpos needs these packages for some transports (imported by module name).
DRIVERS = {"usb": ("usb", "pyusb"), "serial": ("serial", "pyserial"), "cups": ("cups", "pycups")}


def check_transport(settings: PrinterSettings) -> PrinterSettings:
    """Check what the printing libraries decide; raise PrinterConfigError naming the option."""
    _profile(settings.profile)
    if settings.type in DRIVERS:
        module, package = DRIVERS[settings.type]
        if importlib.util.find_spec(module) is None:
            raise PrinterConfigError(
                "type",
                f"a {settings.type} printer needs the {package} "
                f"package on this machine: pip install {package}",
            )
    return settings


def check_printer(ptype: str, options: dict[str, Any]) -> PrinterSettings:
    """A printer table checked whole (values, profile, driver); raises PrinterConfigError."""
    return check_transport(printer_settings(ptype, options))


def check_kiosk_printers(config: Config) -> None:
    """Check every kiosk's printer against the printing libraries; ConfigError names the key."""
    for i, kiosk in enumerate(config.kiosks):
        try:
            check_transport(kiosk.printer)
        except PrinterConfigError as exc:
            raise ConfigError(
                f"{config.path}: kiosks[{i}].printer.{exc.key}: {exc.message}"
            ) from None


def parse_spec(
    spec: str, paper: str = "80", profile: str = "", timeout: float = 3.0
) -> PrinterSettings:
    """A printer named on the command line: network:HOST[:PORT], file:PATH, usb:VID:PID,
    serial:DEVICE[:BAUD] or cups:NAME. Raises PrinterConfigError.
    """
    kind, _, rest = spec.partition(":")
    options: dict[str, Any] = {"paper": paper, "timeout": timeout}
    if profile:
        options["profile"] = profile
    if kind == "network":
        host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
        options["host"] = host
        if port:
            options["port"] = spec_int(port, "port")
    elif kind == "usb":
        parts = rest.split(":")
        if len(parts) != 2:
            raise PrinterConfigError(
                "printer", "usb printers are usb:VENDOR:PRODUCT, e.g. usb:04b8:0e15"
            )
        options["vendor"], options["product"] = (spec_int(p, "usb id", 16) for p in parts)
    elif kind == "serial":
        device, _, baud = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
        options["device"] = device
        if baud:
            options["baudrate"] = spec_int(baud, "baudrate")
    elif kind == "file":
        options["path"] = rest
    elif kind == "cups":
        options["name"] = rest
    else:
        raise PrinterConfigError(
            "printer",
            "must be network:HOST[:PORT], file:PATH, "
            "usb:VENDOR:PRODUCT, serial:DEVICE[:BAUD] or "
            f"cups:NAME, got {spec!r}",
        )
    return check_printer(kind, options)


def _profile(name: str) -> str:
    from .layout import Paper  # python-escpos loads its printer database on import

    try:
        Paper.for_profile(name)
    except ValueError as exc:
        raise PrinterConfigError(
            "profile", f"{exc} (python-escpos profiles, e.g. TM-T20II, TM-T88V, POS-5890)"
        ) from None
    return name
