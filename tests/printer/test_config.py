"""Printer settings: a bad printer config is refused at start-up, naming the key."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from dataclasses import replace

import pytest

from printer.config import check_kiosk_printers, check_printer, parse_spec
from printer.service import printing
from satupintu import current
from satupintu.config import ConfigError, KioskConfig, parse_config
from satupintu.printer_settings import PrinterConfigError, printer_settings
from tests.conftest import ROOT


def with_printer(printer: str) -> dict:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = re.sub(
        r'(\[\[kiosks\]\]\nid = "K1"\nname = "Kiosk lobi")', rf"\1\nprinter = {printer}", text
    )
    return tomllib.loads(text)


@pytest.mark.parametrize(
    "printer, key, says",
    [
        ('{ type = "network", host = "10.0.0.5", port = 99999 }', "port", "between 1 and 65535"),
        ('{ type = "network", port = 9100 }', "host", "is required"),
        ('{ type = "network", host = "a b" }', "host", "host name or IP"),
        ('{ type = "network", host = "p", port = "9100" }', "port", "must be int"),
        ('{ type = "netwrok", host = "p" }', "type", "must be one of none, network"),
        ('{ type = "network", host = "p", papre = "58" }', "papre", "unknown option"),
        ('{ type = "file" }', "path", "is required"),
        ('{ type = "network", host = "p", paper = "76" }', "paper", '"80" or "58"'),
        ('{ type = "network", host = "p", profile = "TM-NOPE" }', "profile", "unknown printer"),
        ('{ type = "network", host = "p", timeout = 0 }', "timeout", "between 0.1 and 60"),
        ('{ type = "serial", device = "/dev/ttyS0", baudrate = 9601 }', "baudrate", "standard"),
        ('{ type = "usb", vendor = 0x04b8 }', "product", "USB product id"),
        ('{ type = "agent", host = "p" }', "host", "unknown option for a agent printer"),
    ],
)
def test_bad_printer_config_names_the_key(printer, key, says):
    with pytest.raises(ConfigError) as refused:
        # the core checks the values; the printer package what python-escpos decides
        check_kiosk_printers(parse_config(with_printer(printer)))
    message = str(refused.value)
    assert message.startswith(f"config.toml: kiosks[0].printer.{key}: "), message
    assert says in message


def test_missing_driver_package_is_refused():
    config = parse_config(with_printer('{ type = "cups", name = "kasir" }'))
    with pytest.raises(
        ConfigError,
        match=r"kiosks\[0\]\.printer\.type: a cups printer needs "
        r"the pycups package",
    ):
        check_kiosk_printers(config)


def test_good_printer_configs_load():
    for printer in (
        '{ type = "network", host = "192.168.1.50" }',
        '{ type = "network", host = "printer-lobi.local", port = 9100, '
        'paper = "58", timeout = 2.5 }',
        '{ type = "file", path = "/dev/usb/lp0", profile = "TM-T88V" }',
        '{ type = "agent", paper = "58" }',
        '{ type = "none" }',
    ):
        config = parse_config(with_printer(printer))
        check_kiosk_printers(config)
        assert config.kiosks[0].printer.type in ("network", "file", "agent", "none")


def test_settings_are_typed():
    s = check_printer("network", {"host": "10.1.2.3", "paper": "58"})
    assert (s.host, s.port, s.profile, s.timeout, s.status) == (
        "10.1.2.3",
        9100,
        "POS-5890",
        3.0,
        True,
    )
    assert s.server_side and s.describe() == "network 10.1.2.3:9100"
    assert not check_printer("agent", {}).server_side


def test_agent_printer_specs():
    assert parse_spec("network:10.0.0.9").port == 9100
    assert parse_spec("network:10.0.0.9:9101").port == 9101
    assert parse_spec("file:/dev/usb/lp0").path == "/dev/usb/lp0"
    assert parse_spec("file:/tmp/x", paper="58").profile == "POS-5890"
    with pytest.raises(PrinterConfigError, match="usb:VENDOR:PRODUCT"):
        parse_spec("usb:04b8")
    with pytest.raises(PrinterConfigError, match="must be network:HOST"):
        parse_spec("lpt1")


def test_check_config_command_refuses_a_bad_printer(tmp_path):
    text = (
        (ROOT / "config.toml")
        .read_text(encoding="utf-8")
        .replace(
            'name = "Kiosk lobi"',
            'name = "Kiosk lobi"\nprinter = { type = "network", host = "x", port = 0 }',
        )
    )
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "satupintu", "check-config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{path}: kiosks[0].printer.port: must be between 1 and 65535" in done.stderr


def test_check_config_command_refuses_a_profile_python_escpos_does_not_know(tmp_path):
    text = (
        (ROOT / "config.toml")
        .read_text(encoding="utf-8")
        .replace(
            'name = "Kiosk lobi"',
            'name = "Kiosk lobi"\nprinter = { type = "network", host = "x", profile = "TM-NOPE" }',
        )
    )
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "satupintu", "check-config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout
    assert f"{path}: kiosks[0].printer.profile: unknown printer profile 'TM-NOPE'" in done.stderr
    good = subprocess.run(
        [sys.executable, "-m", "satupintu", "check-config", str(ROOT / "config.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert good.returncode == 0 and good.stdout.startswith("OK: ")  # control


def test_start_up_refuses_a_profile_python_escpos_does_not_know(config, tmp_path):
    from satupintu.app import create_app

    bad = replace(
        config,
        kiosks=(
            KioskConfig(
                "K1",
                "Kiosk lobi",
                printer_settings("network", {"host": "10.0.0.5", "profile": "TM-NOPE"}),
            ),
        ),
    )
    with pytest.raises(ConfigError) as refused:
        create_app(bad, data_dir=tmp_path / "bad")
    assert str(refused.value).startswith(
        f"{config.path}: kiosks[0].printer.profile: unknown printer profile 'TM-NOPE'"
    )
    good = replace(
        config,
        kiosks=(
            KioskConfig(
                "K1",
                "Kiosk lobi",
                printer_settings("network", {"host": "10.0.0.5", "profile": "TM-T88V"}),
            ),
        ),
    )
    app = create_app(good, data_dir=tmp_path / "good")  # control: a known profile starts
    assert printing.get(app).kiosks["K1"].printer.profile == "TM-T88V"
    current.store.get(app).close()
