"""The `satupintu` command, run as a real child process (`python -m satupintu`)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.serverproc import ROOT, cli, write_config


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_check_config_ok_prints_a_summary():
    done = cli("check-config", str(ROOT / "config.toml"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: ")
    assert "PTSP Kecamatan Kebon Jeruk" in done.stdout
    assert "services (7): A=ktp, B=kk" in done.stdout
    assert "counters (6)" in done.stdout


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("threads = 200", "threads = 0", "server.threads"),
        ('policy = "fifo"', 'policy = "random"', "routing.policy"),
        ("[store]\n", "[store]\nbakend = 1\n", "store.bakend"),
        (
            'id = "1"\nname = "Loket 1"',
            'id = "1"\nname = "Loket 1"\nservices = ["sim"]',
            "counters[0].services[0].id",
        ),
        ('prefix = "B"', 'prefix = "A"', "services[1].prefix"),
        # Control and text-direction characters, in every kind of text (TOML escapes them).
        (
            'name = { id = "Kartu Keluarga"',
            'name = { id = "\\u202EKartu Keluarga"',
            "services[1].name.id",
        ),
        (
            'name = { id = "Kartu Keluarga"',
            'name = { id = "Kartu\\u0000Keluarga"',
            "services[1].name.id",
        ),
        ('running_text = "Pelayanan', 'running_text = "\\u2067Pelayanan', "office.running_text"),
        ('hours = "Senin-Kamis', 'hours = "\\tSenin-Kamis', "office.hours"),
        ('id = "1"\nname = "Loket 1"', 'id = "1"\nname = "Loket\\u00851"', "counters[0].name"),
    ],
)
def test_broken_config_names_the_key_and_exits_2(tmp_path, old, new, key):
    done = cli("check-config", str(broken(tmp_path, old, new)))
    assert done.returncode == 2
    assert key in done.stderr
    assert "broken.toml" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_multiline_address_is_fine_but_not_a_multiline_name(tmp_path):
    """Newlines stay where lines are meant (address, hours, ticket footer): the control."""
    fine = cli(
        "check-config",
        str(
            broken(
                tmp_path,
                'hours = "Senin-Kamis 07.30-16.00, ',
                'hours = "Senin-Kamis 07.30-16.00\\n',
            )
        ),
    )
    assert fine.returncode == 0, fine.stderr
    refused = cli(
        "check-config",
        str(broken(tmp_path, 'name = { id = "Kartu Keluarga"', 'name = { id = "Kartu\\nKeluarga"')),
    )
    assert refused.returncode == 2 and "services[1].name.id" in refused.stderr
    assert "U+000A" in refused.stderr


def test_missing_config_file_exits_2(tmp_path):
    done = cli("check-config", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert "file not found" in done.stderr


def test_serve_refuses_a_broken_config_before_listening(tmp_path):
    path = broken(tmp_path, "threads = 200", "threads = -1")
    done = cli("serve", "--config", str(path), "--data-dir", str(tmp_path / "var"), "--port", "1")
    assert done.returncode == 2
    assert "server.threads" in done.stderr
    assert "Starting gunicorn" not in done.stdout + done.stderr


def users(tmp_path: Path, *args: str, stdin: str | None = None, config: Path | None = None):
    where = ["--config", str(config or ROOT / "config.toml"), "--data-dir", str(tmp_path / "var")]
    return cli("users", *args, *where, stdin=stdin)


def test_users_add_list_remove(tmp_path):
    added = users(
        tmp_path,
        "add",
        "admin",
        "--role",
        "manager",
        "--password-stdin",
        stdin="kata-sandi-panjang\n",
    )
    assert added.returncode == 0, added.stderr
    assert (
        users(
            tmp_path,
            "add",
            "loket1",
            "--role",
            "clerk",
            "--password-stdin",
            stdin="kata-sandi-loket\n",
        ).returncode
        == 0
    )
    assert (tmp_path / "var" / "satupintu.db").exists()  # users live in the store

    listed = users(tmp_path, "list")
    assert listed.returncode == 0
    rows = [line.split()[:2] for line in listed.stdout.splitlines()]
    assert rows == [["admin", "manager"], ["loket1", "clerk"]]

    again = users(
        tmp_path, "add", "admin", "--role", "clerk", "--password-stdin", stdin="kata-sandi-lain-1\n"
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    replaced = users(
        tmp_path,
        "add",
        "admin",
        "--role",
        "clerk",
        "--replace",
        "--password-stdin",
        stdin="kata-sandi-lain-1\n",
    )
    assert replaced.returncode == 0, replaced.stderr
    rows = [line.split()[:2] for line in users(tmp_path, "list").stdout.splitlines()]
    assert ["admin", "clerk"] in rows

    removed = users(tmp_path, "remove", "admin")
    assert removed.returncode == 0, removed.stderr
    assert [ln.split()[0] for ln in users(tmp_path, "list").stdout.splitlines()] == ["loket1"]
    gone = users(tmp_path, "remove", "admin")
    assert gone.returncode == 2 and "admin" in gone.stderr


def test_short_password_is_refused_and_nothing_is_stored(tmp_path):
    done = users(
        tmp_path, "add", "admin", "--role", "manager", "--password-stdin", stdin="pendek\n"
    )
    assert done.returncode == 2
    assert "password" in done.stderr and "8" in done.stderr
    assert "admin" not in users(tmp_path, "list").stdout


@pytest.mark.parametrize("password", [" " * 8, "12345678", "qwerty123"])
def test_blank_or_trivial_password_is_refused(tmp_path, password):
    done = users(
        tmp_path, "add", "admin", "--role", "manager", "--password-stdin", stdin=password + "\n"
    )
    assert done.returncode == 2
    assert "password" in done.stderr
    assert "admin" not in users(tmp_path, "list").stdout


def test_bad_role_and_bad_name_are_refused(tmp_path):
    role = users(
        tmp_path, "add", "admin", "--role", "root", "--password-stdin", stdin="kata-sandi-panjang\n"
    )
    assert role.returncode == 2 and "--role" in role.stderr
    name = users(
        tmp_path,
        "add",
        "Admin Kantor",
        "--role",
        "clerk",
        "--password-stdin",
        stdin="kata-sandi-panjang\n",
    )
    assert name.returncode == 2 and "username" in name.stderr
    for hidden in ("ad\u202emin", "admin\n"):  # reordering or hiding characters (argv has no NUL)
        name = users(
            tmp_path,
            "add",
            hidden,
            "--role",
            "clerk",
            "--password-stdin",
            stdin="kata-sandi-panjang\n",
        )
        assert name.returncode == 2 and "username" in name.stderr
    assert users(tmp_path, "list").stdout.strip() == "No users yet."


@pytest.mark.redis
def test_users_live_in_redis_when_the_store_is_redis(tmp_path, redis_server):
    import redis

    redis.Redis.from_url(redis_server.url).flushdb()
    config = write_config(tmp_path / "config.toml", redis_server.url)
    added = users(
        tmp_path,
        "add",
        "kiosk1",
        "--role",
        "kiosk",
        "--password-stdin",
        stdin="kata-sandi-kiosk\n",
        config=config,
    )
    assert added.returncode == 0, added.stderr
    assert not (tmp_path / "var" / "satupintu.db").exists()
    listed = users(tmp_path, "list", config=config)
    assert listed.stdout.split()[:2] == ["kiosk1", "kiosk"]
    redis.Redis.from_url(redis_server.url).flushdb()
    assert "kiosk1" not in users(tmp_path, "list", config=config).stdout


def test_help_lists_the_commands():
    done = cli("--help")
    assert done.returncode == 0
    for command in ("serve", "check-config", "users"):
        assert command in done.stdout


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_data_files_are_the_service_users_only(tmp_path):
    """The SQLite file holds the password hashes and the signing secret."""
    added = users(
        tmp_path,
        "add",
        "admin",
        "--role",
        "manager",
        "--password-stdin",
        stdin="kata-sandi-panjang\n",
    )
    assert added.returncode == 0, added.stderr
    var = tmp_path / "var"
    assert mode(var) == 0o700
    files = [p for p in var.iterdir() if p.name.startswith("satupintu.db")]
    assert any(p.name == "satupintu.db" for p in files)
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_an_old_open_data_folder_is_tightened(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    (var / "satupintu.db").touch(mode=0o644)
    var.chmod(0o755)
    (var / "satupintu.db").chmod(0o644)  # as 66d367a left them
    listed = users(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    assert (mode(var), mode(var / "satupintu.db")) == (0o700, 0o600)


# -- the command's manners (issue 10, item 15) -------------------------------------------


def test_version():
    done = cli("--version")
    assert done.returncode == 0
    assert re.fullmatch(r"satupintu \d+\.\d+\S*\n", done.stdout), done.stdout


def without_terminal(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    """The CLI with no controlling terminal: getpass then prompts on stderr, reads stdin."""
    return subprocess.run(
        [sys.executable, "-m", "satupintu", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        start_new_session=True,
    )


def test_the_password_rules_are_checked_before_asking_again(tmp_path):
    where = ["--config", str(ROOT / "config.toml"), "--data-dir", str(tmp_path / "var")]
    short = without_terminal(
        "users", "add", "admin", "--role", "manager", *where, stdin="pendek\npendek\n"
    )
    assert short.returncode == 2
    assert "Password:" in short.stderr and "8-128 characters" in short.stderr
    assert "Repeat" not in short.stderr  # refused before the second prompt
    good = without_terminal(
        "users",
        "add",
        "admin",
        "--role",
        "manager",
        *where,
        stdin="kata-sandi-panjang\nkata-sandi-panjang\n",
    )
    assert good.returncode == 0, good.stderr
    assert "Repeat the password:" in good.stderr  # the positive control: asked twice


def test_an_existing_user_points_to_replace(tmp_path):
    first = users(
        tmp_path,
        "add",
        "admin",
        "--role",
        "manager",
        "--password-stdin",
        stdin="kata-sandi-panjang\n",
    )
    assert first.returncode == 0, first.stderr
    again = users(
        tmp_path,
        "add",
        "admin",
        "--role",
        "manager",
        "--password-stdin",
        stdin="kata-sandi-panjang\n",
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr and "--replace" in again.stderr


def test_serve_on_a_busy_port_says_so_before_printing_any_address(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = cli(
            "serve",
            "--config",
            str(ROOT / "config.toml"),
            "--data-dir",
            str(tmp_path / "var"),
            "--port",
            str(port),
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in done.stderr
    assert "/kiosk" not in done.stdout  # no page addresses as if it had started
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 10  # no gunicorn retries


MISSING_GEVENT = (
    "import sys; sys.modules['gevent'] = None  # as if it were not installed\n"
    "from satupintu.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.parametrize("command", ["serve", "check-config"])
def test_a_missing_async_library_is_a_clear_message(tmp_path, command):
    config = (
        broken(tmp_path, "[server]\n", '[server]\nasync_mode = "gevent"\n')
        if "async_mode" not in (ROOT / "config.toml").read_text()
        else ROOT / "config.toml"
    )
    args = (
        ["serve", "--config", str(config), "--data-dir", str(tmp_path / "var"), "--port", "1"]
        if command == "serve"
        else ["check-config", str(config)]
    )
    env = {**os.environ, "SATUPINTU_SERVER_ASYNC_MODE": "gevent"}
    done = subprocess.run(
        [sys.executable, "-c", MISSING_GEVENT, *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "async_mode = 'gevent' needs the gevent package" in done.stderr
    assert "Traceback" not in done.stderr and "OK:" not in done.stdout
    # With gevent there (the control), check-config passes.
    ok = subprocess.run(
        [sys.executable, "-m", "satupintu", "check-config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr


def test_a_kiosk_user_is_bound_to_a_configured_kiosk(tmp_path):
    added = users(
        tmp_path,
        "add",
        "kiosk1",
        "--role",
        "kiosk",
        "--kiosk",
        "K1",
        "--password-stdin",
        stdin="sandi-kios-lobi\n",
    )
    assert added.returncode == 0, added.stderr
    assert "kiosk K1" in added.stdout
    assert users(tmp_path, "list").stdout.split()[:2] + users(tmp_path, "list").stdout.split()[
        -2:
    ] == ["kiosk1", "kiosk", "kiosk", "K1"]
    unknown = users(
        tmp_path,
        "add",
        "kiosk9",
        "--role",
        "kiosk",
        "--kiosk",
        "K9",
        "--password-stdin",
        stdin="sandi-kios-lobi\n",
    )
    assert unknown.returncode == 2
    assert "kiosk: unknown kiosk 'K9' (kiosks in config.toml: K1)" in unknown.stderr
    clerk = users(
        tmp_path,
        "add",
        "loket9",
        "--role",
        "clerk",
        "--kiosk",
        "K1",
        "--password-stdin",
        stdin="sandi-kios-lobi\n",
    )
    assert clerk.returncode == 2 and "only a kiosk user" in clerk.stderr
