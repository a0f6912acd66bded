"""`satupintu install-service`: systemd units that systemd-analyze accepts, run as a real user."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from satupintu.service import ServiceOptions, units
from tests.serverproc import ROOT, cli

SATUPINTU = str(Path(sys.executable).parent / "satupintu")


def verify(directory: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """systemd-analyze verify (Debian's systemd package) on unit files in `directory`."""
    binary = shutil.which("systemd-analyze")
    assert binary, "systemd-analyze missing: apt-get install systemd (make test does)"
    return subprocess.run(
        [binary, "verify", *names], cwd=directory, capture_output=True, text=True, timeout=60
    )


def settings(text: str) -> dict[str, str]:
    """Key=value lines of a unit (the last value wins; continuation lines joined)."""
    joined = text.replace("\\\n", " ")
    return dict(
        line.split("=", 1)
        for line in joined.splitlines()
        if "=" in line and not line.startswith("#")
    )


def test_installed_units_pass_systemd_analyze_and_name_a_real_command_and_user(tmp_path):
    done = cli(
        "install-service", "--output", str(tmp_path), "--user", "daemon", "--exec", SATUPINTU
    )
    assert done.returncode == 0, done.stderr
    assert "systemctl enable --now satupintu.service satupintu-backup.timer" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(units(ServiceOptions()))
    # A template is verified through one of its instances (the port).
    shutil.copy(tmp_path / "satupintu@.service", tmp_path / "satupintu@8081.service")
    checked = verify(
        tmp_path,
        "satupintu.service",
        "satupintu@8081.service",
        "satupintu-backup.service",
        "satupintu-backup.timer",
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout + checked.stderr == ""  # not even an ignored unknown key

    for name in ("satupintu.service", "satupintu@8081.service", "satupintu-backup.service"):
        unit = settings((tmp_path / name).read_text())
        account = pwd.getpwnam(unit["User"])  # an existing account ...
        assert account.pw_uid != 0  # ... and not root
        command = unit["ExecStart"].split()
        assert command[0] == SATUPINTU and os.access(command[0], os.X_OK)
        assert (
            subprocess.run(
                [command[0], command[1], "--help"], capture_output=True, timeout=60
            ).returncode
            == 0
        )  # `serve` / `backup` exist
        assert unit["StateDirectory"] == "satupintu" and unit["StateDirectoryMode"] == "0700"
    serve = settings((tmp_path / "satupintu.service").read_text())
    assert serve["Restart"] == "on-failure"
    assert serve["ExecStart"].split()[1] == "serve"
    assert "--port %i" in settings((tmp_path / "satupintu@.service").read_text())["ExecStart"]


def test_systemd_analyze_does_catch_a_unit_with_a_missing_command(tmp_path):
    """Positive control: the check above would fail for a unit naming no real program."""
    options = ServiceOptions(exec_path=str(tmp_path / "no-such-satupintu"), user="daemon")
    (tmp_path / "satupintu.service").write_text(units(options)["satupintu.service"])
    checked = verify(tmp_path, "satupintu.service")
    assert checked.returncode != 0
    assert "is not executable" in checked.stderr


def test_the_deploy_folder_holds_the_default_units():
    for name, text in units(ServiceOptions()).items():
        assert (ROOT / "deploy" / name).read_text() == text, f"deploy/{name} is stale"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "root"], "unprivileged user"),
        (["--config", "config.toml"], "must be an absolute path"),
        (["--exec", "/nonexistent/satupintu"], "not an executable"),
    ],
)
def test_install_service_refuses_unsafe_or_unusable_settings(tmp_path, args, message):
    done = cli(
        "install-service", "--output", str(tmp_path), "--user", "daemon", "--exec", SATUPINTU, *args
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert list(tmp_path.iterdir()) == []


KIOSK_SETUP = ROOT / "deploy" / "kiosk-setup.sh"


def test_kiosk_setup_writes_a_session_with_every_kiosk_flag_and_no_blanking(tmp_path):
    url = "http://10.0.0.5:8080/display?counters=1,2&services=ktp"
    done = subprocess.run(
        ["bash", str(KIOSK_SETUP), "--files-only", str(tmp_path), url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    xinitrc = (tmp_path / ".xinitrc").read_text()
    assert subprocess.run(["sh", "-n", str(tmp_path / ".xinitrc")]).returncode == 0
    assert os.access(tmp_path / ".xinitrc", os.X_OK)
    for line in ("xset s off", "xset s noblank", "xset -dpms"):  # the screen never blanks
        assert line in xinitrc.splitlines()
    [launch] = [line for line in xinitrc.splitlines() if "satupintu-start.html#" in line]
    flags = [
        f
        for f in (ROOT / "deploy" / "chromium-kiosk.flags").read_text().splitlines()
        if f and not f.startswith("#")
    ]
    assert "--autoplay-policy=no-user-gesture-required" in flags
    for flag in flags:
        assert f" {flag} " in launch, flag
    assert launch.rstrip().endswith(f'satupintu-start.html#{url}"')
    assert '"exited_cleanly":true' in xinitrc  # no restore bubble after a power cut
    assert "while true" in xinitrc  # Chromium comes back if it exits
    assert "startx" in (tmp_path / ".bash_profile").read_text()
    assert (tmp_path / "satupintu-start.html").read_bytes() == (
        ROOT / "deploy" / "kiosk-start.html"
    ).read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        ['http://x/"; rm -rf /tmp/nothing; "'],  # nothing that breaks out of the quotes
        ["ftp://10.0.0.5/display"],
        ["--rotate", "sideways", "http://10.0.0.5:8080/display"],
    ],
)
def test_kiosk_setup_refuses_a_bad_url_or_rotation(tmp_path, args):
    done = subprocess.run(
        ["bash", str(KIOSK_SETUP), "--files-only", str(tmp_path / "s"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "usage:" in done.stderr
    assert not (tmp_path / "s").exists()
