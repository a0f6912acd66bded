"""config.toml: the real file loads; each kind of mistake names the file and the key."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from satupintu.config import ConfigError, load_config, parse_config
from satupintu.engine import Engine
from satupintu.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "config.toml"


@pytest.fixture(autouse=True)
def no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's shell must not change what these tests load."""
    for name in list(os.environ):
        if name.startswith("SATUPINTU_"):
            monkeypatch.delenv(name)


def variant(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the real config.toml with one exact piece of text replaced."""
    text = REAL.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"config.toml no longer contains {old!r}"
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_real_config(tmp_path: Path) -> None:
    cfg = load_config(REAL)
    assert cfg.path == str(REAL)
    assert cfg.service_ids == ("ktp", "kk", "akta", "pbg", "nib", "pbb", "info")
    assert [s.prefix for s in cfg.services] == list("ABCDEFG")
    assert [c.id for c in cfg.counters] == ["1", "2", "3", "4", "5", "6"]
    assert all(c.services == () for c in cfg.counters)  # empty means every service
    assert (cfg.office.branch, cfg.office.timezone) == ("main", "Asia/Jakarta")
    assert (cfg.store.backend, cfg.routing.policy) == ("sqlite", "fifo")
    assert cfg.routing.max_consecutive_priority == 3
    ktp = cfg.service("ktp")
    assert ktp is not None and ktp.name.get("en").startswith("Electronic")
    assert (ktp.daily_quota, ktp.target_wait_min, ktp.standard.is_free) == (200, 20, True)
    pbg = cfg.service("pbg")
    assert pbg is not None and not pbg.standard.is_free
    assert [k.id for k in cfg.kiosks] == ["K1"]
    engine = Engine(cfg, SQLiteStore(tmp_path / "t.db"))
    assert all(c.service_ids == cfg.service_ids for c in engine.counters())


@pytest.mark.parametrize(
    "old, new, key",
    [
        # a wrong key
        ('policy = "fifo"', 'polcy = "fifo"', "routing.polcy"),
        ('colour = "#2E7D32"', 'color = "#2E7D32"', "services[1].color"),
        ("[auth]", "[authentication]", "authentication"),
        # a duplicate prefix
        ('id = "kk"\nprefix = "B"', 'id = "kk"\nprefix = "A"', "services[1].prefix"),
        ('id = "kk"\nprefix = "B"', 'id = "ktp"\nprefix = "B"', "services[1].id"),
        # an unknown service in a counter
        (
            'name = "Loket 2"',
            'name = "Loket 2"\nservices = ["ktp", "paspor"]',
            "counters[1].services[1].id",
        ),
        # a bad time zone
        ('timezone = "Asia/Jakarta"', 'timezone = "Asia/Jakarte"', "office.timezone"),
        # a wrong type
        ("daily_quota = 150", 'daily_quota = "150"', "services[1].daily_quota"),
        (
            "max_consecutive_priority = 3",
            "max_consecutive_priority = true",
            "routing.max_consecutive_priority",
        ),
        ('name = "Loket 1"', "name = 1", "counters[0].name"),
        (
            'requirements = ["Tidak ada persyaratan"]',
            'requirements = "Tidak ada"',
            "services[6].standard.requirements",
        ),
        # a wrong value
        ('policy = "fifo"', 'policy = "random"', "routing.policy"),
        ('prefix = "G"', 'prefix = "GG"', "services[6].prefix"),
        (
            'name = "Loket 3"',
            'name = "Loket 3"\nservices = [{ id = "kk", weight = 0 }]',
            "counters[2].services[0].weight",
        ),
        ('id = "6"', 'id = "5"', "counters[5].id"),
        ('backend = "sqlite"', 'backend = "mongodb"', "store.backend"),
        ("kiosk_login_days = 90", "kiosk_login_days = 0", "auth.kiosk_login_days"),
        ("kiosk_login_days = 90", "kiosk_login_days = 3651", "auth.kiosk_login_days"),
        ("kiosk_login_days = 90", 'kiosk_login_days = "90"', "auth.kiosk_login_days"),
    ],
)
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = variant(tmp_path, old, new)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {key}:"), message


def test_kiosk_login_days_is_read(tmp_path: Path) -> None:
    assert load_config(REAL).auth.kiosk_login_days == 90
    assert (
        load_config(
            variant(tmp_path, "kiosk_login_days = 90", "kiosk_login_days = 7")
        ).auth.kiosk_login_days
        == 7
    )


def test_missing_sections_and_files(tmp_path: Path) -> None:
    raw = tomllib.loads(REAL.read_text(encoding="utf-8"))
    with pytest.raises(ConfigError, match=r"^office.toml: services: "):
        parse_config({**raw, "services": []}, "office.toml")
    with pytest.raises(ConfigError, match=r"^office.toml: counters: "):
        parse_config({k: v for k, v in raw.items() if k != "counters"}, "office.toml")
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[office\nname = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{bad}: not valid TOML"):
        load_config(bad)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATUPINTU_STORE_BACKEND", "redis")
    monkeypatch.setenv("SATUPINTU_STORE_URL", "redis://10.0.0.5:6380/2")
    monkeypatch.setenv("SATUPINTU_ROUTING_MAX_CONSECUTIVE_PRIORITY", "5")
    cfg = load_config(REAL)
    assert (cfg.store.backend, cfg.store.url) == ("redis", "redis://10.0.0.5:6380/2")
    assert cfg.routing.max_consecutive_priority == 5
    assert cfg.store.path == "satupintu.db"  # keys not overridden keep the file's value


@pytest.mark.parametrize(
    "name, value, key",
    [
        ("SATUPINTU_STORE_BACKEND", "mongodb", "store.backend"),
        ("SATUPINTU_ROUTING_MAX_CONSECUTIVE_PRIORITY", "lots", "routing.max_consecutive_priority"),
        ("SATUPINTU_ROUTING_MAX_CONSECUTIVE_PRIORITY", "0", "routing.max_consecutive_priority"),
        ("SATUPINTU_OFFICE_TIMEZONE", "Mars/Olympus", "office.timezone"),
    ],
)
def test_bad_environment_overrides(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, key: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_config(REAL)
    assert str(err.value).startswith(f"{REAL}: {key}:")


def test_counter_name_is_looked_up_in_one_place(config):
    assert config.counter_name("3") == "Loket 3"
    assert config.counter_name("") == "" and config.counter_name("99") == ""


def test_the_safe_line_pattern_is_bad_characters_rule():
    """The API's schemas publish bad_character's rule as SAFE_LINE_RE; they agree on every
    character of the Basic Multilingual Plane."""
    from satupintu.config import SAFE_LINE_RE, bad_character

    refused = [c for c in map(chr, range(0x10000)) if SAFE_LINE_RE.fullmatch(c) is None]
    assert refused == [c for c in map(chr, range(0x10000)) if bad_character(c)]
    assert "\u202e" in refused and "\x00" in refused and "a" not in refused  # both ways
