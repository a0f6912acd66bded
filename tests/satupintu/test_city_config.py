"""The city configuration: a city file, one file per office, and config.toml as a city of one."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from satupintu.city import City, city_of_one, is_city, load_city, office_config
from satupintu.config import ConfigError, load_config
from tests.cityfiles import DEMO, copy_demo, generate_city, office_text
from tests.serverproc import ROOT, cli


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refused(folder: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_city(folder)
    return str(caught.value)


# --- the demo city -------------------------------------------------------------------


def test_demo_city_loads_with_one_office_of_each_level():
    city = load_city(DEMO)
    assert isinstance(city, City)
    assert city.name == "DKI Jakarta (demo)"
    assert city.levels == {"province": 1, "city": 1, "kecamatan": 1, "kelurahan": 1}
    assert [s.id for s in city.services] == ["ktp", "kk", "akta", "pbg", "nib", "pbb", "info"]
    kel = city.office("kel-kedoya-utara")
    assert kel is not None and kel.level == "kelurahan"
    assert -6.3 < kel.latitude < -6.0 and 106.6 < kel.longitude < 107.0  # type: ignore[operator]
    assert kel.serves("ktp") == "offered" and kel.serves("pbg") == "taken_in"
    # Population documents are decided at kelurahan and kecamatan, building permits higher up.
    assert set(city.service("ktp").competent) == {"kel-kedoya-utara", "kec-kebon-jeruk"}
    assert set(city.service("pbg").competent) == {"jakbar", "dki-mpp"}
    # Every office serves every service: decides it or takes it in (the citizen never leaves).
    for office in city.offices:
        for service in city.services:
            assert office.serves(service.id), (office.id, service.id)


def test_demo_city_keeps_the_sourced_standards():
    city = load_city(DEMO)
    ktp = city.service("ktp").service.standard
    assert ktp.is_free and ktp.fee_basis == "UU 24/2013 Pasal 79A"
    assert ktp.complaint == "Halo Dukcapil 1500537"
    pbg = city.service("pbg").service.standard
    assert "Perda DKI 1/2024" in pbg.fee and not pbg.is_free
    assert city.service("pbb").service.standard.complaint == "Call Center Bapenda 1500-177"


def test_opening_hours_per_weekday_in_the_office_time_zone():
    mpp = load_city(DEMO).office("dki-mpp")
    # 2026-12-05 is a Saturday: the MPP opens 07:30-12:00 Jakarta time (UTC+7).
    assert mpp.open_at(datetime(2026, 12, 5, 1, 0, tzinfo=UTC)) is True  # 08:00 WIB
    assert mpp.open_at(datetime(2026, 12, 5, 5, 30, tzinfo=UTC)) is False  # 12:30 WIB
    kel = load_city(DEMO).office("kel-kedoya-utara")
    assert kel.open_at(datetime(2026, 12, 5, 1, 0, tzinfo=UTC)) is False  # closed on Saturday
    assert kel.open_at(datetime(2026, 12, 4, 9, 15, tzinfo=UTC)) is True  # Fri 16:15 WIB
    assert kel.open_at(datetime(2026, 12, 3, 9, 15, tzinfo=UTC)) is False  # Thu 16:15 WIB


def test_an_office_without_hours_states_none_rather_than_closed(tmp_path):
    folder = copy_demo(tmp_path / "city")
    path = folder / KEDOYA
    text = path.read_text()
    path.write_text(text[: text.index("[hours]")] + text[text.index("[[counters]]") :])
    office = load_city(folder).office("kel-kedoya-utara")
    assert office.hours is None and office.open_at(datetime.now(UTC)) is None
    # The control: with [hours] the same office answers True or False.
    assert load_city(DEMO).office("kel-kedoya-utara").open_at(datetime.now(UTC)) in (True, False)


def test_a_city_file_path_loads_the_same_as_its_folder():
    assert load_city(DEMO / "city.toml") == load_city(DEMO)
    assert is_city(DEMO) and is_city(DEMO / "city.toml")
    assert not is_city(ROOT / "config.toml")  # the control


# --- config.toml is a city of one office --------------------------------------------


def test_config_toml_loads_as_a_city_of_one_office():
    config = load_config(ROOT / "config.toml")
    city = load_city(ROOT / "config.toml")
    assert isinstance(city, City)
    assert len(city.offices) == 1
    (office,) = city.offices
    assert office.id == config.office.branch and office.name == config.office.name
    assert office.offers == config.service_ids and office.takes_in == ()
    assert office.counters == config.counters and office.kiosks == config.kiosks
    assert [s.service for s in city.services] == list(config.services)
    assert all(s.competent == (office.id,) for s in city.services)
    assert office.open_at(datetime.now(UTC)) is None  # hours only as free text there


def test_each_office_gives_the_one_office_config_the_engine_runs():
    base = load_config(ROOT / "config.toml")
    # A city of one gives back exactly its config.toml.
    assert office_config(base, city_of_one(base), base.office.branch) == base
    city = load_city(DEMO)
    kel = office_config(base, city, "kel-kedoya-utara")
    assert kel.office.branch == "kel-kedoya-utara"
    assert kel.office.name == "PTSP Kelurahan Kedoya Utara"
    assert kel.service_ids == ("ktp", "kk", "akta", "pbg", "nib", "pbb", "info")
    assert [c.id for c in kel.counters] == ["1", "2"]
    assert kel.store == base.store and kel.path.endswith(KEDOYA)
    with pytest.raises(KeyError):
        office_config(base, city, "no-such-office")


def test_a_broken_config_toml_is_refused_as_before(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text((ROOT / "config.toml").read_text().replace("threads = 200", "threads = 0"))
    assert "config.toml: server.threads:" in refused(path)


# --- refusals: every one names the file and the key ---------------------------------


KEDOYA = "offices/kel-kedoya-utara.toml"
KEBON = "offices/kec-kebon-jeruk.toml"
REFUSALS = [
    # (file edited, old, new, file named, key named, words in the message)
    (
        KEDOYA,
        'id = "kel-kedoya-utara"',
        'id = "jakbar"',
        KEDOYA,
        "office.id",
        "duplicate office id 'jakbar'",
    ),
    (
        "city.toml",
        '[[services]]\nid = "info"',
        '[[services]]\nid = "skck"\nprefix = "H"\nname = "SKCK"\ncompetent = []\n\n'
        '[[services]]\nid = "info"',
        "city.toml",
        "services[6].id",
        "offered by no office",
    ),
    (
        "city.toml",
        'competent = ["level:city", "level:province"]  # Sudin',
        'competent = ["level:city", "dinas-ckt"]  # Sudin',
        "city.toml",
        "services[3].competent[1]",
        "unknown office 'dinas-ckt'",
    ),
    (
        "city.toml",
        'competent = ["level:city", "level:province"]  # Sudin',
        'competent = ["level:city", "level:rt"]  # Sudin',
        "city.toml",
        "services[3].competent[1]",
        "unknown level 'rt'",
    ),
    (
        KEDOYA,
        'services = ["ktp", "kk", "akta"]',
        'services = ["ktp", "kk", "sim"]',
        KEDOYA,
        "counters[0].services[2].id",
        "unknown service 'sim'",
    ),
    (KEBON, 'services = ["ktp", "kk"]', 'services = ["ktp", "kk", "nib"]', None, None, None),
    ("offices/dki-mpp.toml", 'services = ["pbg"]', 'services = ["pbg", "ktp"]', None, None, None),
    (
        KEDOYA,
        'takes_in = ["pbg", "nib", "pbb"]',
        'takes_in = ["pbg", "pbb"]',
        KEDOYA,
        "counters[1].services[2].id",
        "neither offers nor takes in",
    ),
    (
        KEDOYA,
        "latitude = -6.1735",
        "latitude = -96.1735",
        KEDOYA,
        "office.latitude",
        "between -90 and 90",
    ),
    (
        KEDOYA,
        "longitude = 106.7612",
        'longitude = "106.7612"',
        KEDOYA,
        "office.longitude",
        "must be a number",
    ),
    (KEDOYA, "latitude = -6.1735\n", "", KEDOYA, "office.latitude", "is required"),
    (
        KEDOYA,
        'fri = "07:30-16:30"',
        'fri = "16:30-07:30"',
        KEDOYA,
        "hours.fri",
        "closes before it opens",
    ),
    (KEDOYA, 'mon = "07:30-16:00"', 'mon = "7.30-16.00"', KEDOYA, "hours.mon", "HH:MM-HH:MM"),
    (
        KEDOYA,
        'mon = "07:30-16:00"',
        'mon = "07:30-24:30"',
        KEDOYA,
        "hours.mon",
        "must close by 24:00",
    ),
    (KEDOYA, "[office]", "[kantor]", KEDOYA, "kantor", "unknown key"),
    (
        KEDOYA,
        'mon = "07:30-16:00"',
        'mon = ["13:00-16:00", "07:30-12:00"]',
        KEDOYA,
        "hours.mon",
        "overlaps or precedes",
    ),
    (KEDOYA, 'mon = "07:30-16:00"', 'senin = "07:30-16:00"', KEDOYA, "hours.senin", "unknown key"),
    (KEDOYA, 'level = "kelurahan"', 'level = "rw"', KEDOYA, "office.level", "must be one of"),
    (
        KEDOYA,
        'offers = ["ktp", "kk", "akta", "info"]\ntakes_in = ["pbg", ',
        'offers = ["ktp", "kk", "akta", "info", "pbg"]\ntakes_in = [',
        KEDOYA,
        "office.offers[4]",
        "not competent for it",
    ),
    (
        "offices/dki-mpp.toml",
        'offers = ["pbg", "nib", "pbb", "info"]\ntakes_in = [',
        'offers = ["pbg", "pbb", "info"]\ntakes_in = ["nib", ',
        "city.toml",
        "services[4].competent",
        "office 'dki-mpp'",
    ),
    (
        KEDOYA,
        'takes_in = ["pbg", "nib", "pbb"]',
        'takes_in = ["pbg", "nib", "pbb", "ktp"]',
        KEDOYA,
        "office.takes_in[3]",
        "already in office.offers",
    ),
    (
        KEDOYA,
        'takes_in = ["pbg", "nib", "pbb"]',
        'takes_in = ["pbg", "nib", "pbb", "sim"]',
        KEDOYA,
        "office.takes_in[3]",
        "unknown service 'sim'",
    ),
    (
        KEDOYA,
        'id = "K1"',
        'id = "K1"\n[[kiosks]]\nid = "K1"',
        KEDOYA,
        "kiosks[1].id",
        "duplicate id 'K1'",
    ),
    (
        KEDOYA,
        'level = "kelurahan"',
        'level = "kelurahan"\ntimezone = "Asia/Batavia"',
        KEDOYA,
        "office.timezone",
        "unknown time zone",
    ),
    (
        "city.toml",
        'prefix = "B"',
        'prefix = "A"',
        "city.toml",
        "services[1].prefix",
        "duplicate prefix",
    ),
    (
        "city.toml",
        '\ncompetent = ["level:kelurahan", "level:kecamatan"]\n',
        "\n",
        "city.toml",
        "services[1].competent",
        "is required",
    ),
    (
        "city.toml",
        'offices = "offices"',
        'offices = "kantor"',
        "city.toml",
        "city.offices",
        "no such folder",
    ),
    (KEDOYA, "[office]", "[office]\nfax = 1", KEDOYA, "office.fax", "unknown key"),
]


@pytest.mark.parametrize(
    ("edited", "old", "new", "file", "key", "words"),
    [r for r in REFUSALS if r[3] is not None],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_bad_city_is_refused_naming_file_and_key(tmp_path, edited, old, new, file, key, words):
    folder = copy_demo(tmp_path / "city")
    edit(folder / edited, old, new)
    message = refused(folder)
    assert message.startswith(f"{folder / file}: {key}: "), message
    assert words in message, message


def test_a_counter_may_take_a_service_the_office_takes_in(tmp_path):
    """The controls of the refusal above: the office takes in nib / offers ktp elsewhere."""
    for edited, old, new, file, _key, _words in REFUSALS:
        if file is None:
            folder = copy_demo(tmp_path / f"city{len(list(tmp_path.iterdir()))}")
            edit(folder / edited, old, new)
            assert isinstance(load_city(folder), City)


def test_the_unedited_copy_loads(tmp_path):
    """The positive control of every refusal: the copy the refusals start from is fine."""
    assert load_city(copy_demo(tmp_path / "city")) == _relocated(load_city(DEMO), tmp_path)


def _relocated(city: City, tmp_path: Path) -> City:
    from dataclasses import replace

    moved = str(tmp_path / "city")
    return replace(
        city,
        path=city.path.replace(str(DEMO), moved),
        offices=tuple(replace(o, path=o.path.replace(str(DEMO), moved)) for o in city.offices),
    )


def test_a_folder_without_offices_is_refused(tmp_path):
    folder = copy_demo(tmp_path / "city")
    for path in (folder / "offices").iterdir():
        path.unlink()
    assert refused(folder).startswith(f"{folder / 'city.toml'}: city.offices: no office files")


def test_an_office_file_that_is_not_toml_names_its_file(tmp_path):
    folder = copy_demo(tmp_path / "city")
    (folder / "offices" / "zz.toml").write_text("[office\n")
    assert refused(folder).startswith(f"{folder / 'offices' / 'zz.toml'}: not valid TOML")
    (folder / "offices" / "zz.toml").write_text('[hours]\nmon = "07:30-16:00"\n')
    assert refused(folder).startswith(f"{folder / 'offices' / 'zz.toml'}: office: an [office]")


# --- check-config ----------------------------------------------------------------------


def test_check_config_summarises_a_city_folder():
    done = cli("check-config", str(DEMO))
    assert done.returncode == 0, done.stderr
    assert "offices (4): 1 province, 1 city, 1 kecamatan, 1 kelurahan" in done.stdout
    assert "kel-kedoya-utara: PTSP Kelurahan Kedoya Utara [kelurahan]" in done.stdout
    assert "D=pbg: decided by 2 office(s), taken in by 2" in done.stdout
    same = cli("check-config", str(DEMO / "city.toml"))
    assert same.returncode == 0 and same.stdout == done.stdout


def test_check_config_names_file_and_key_of_a_bad_city(tmp_path):
    folder = copy_demo(tmp_path / "city")
    edit(folder / KEDOYA, "latitude = -6.1735", "latitude = 200")
    done = cli("check-config", str(folder))
    assert done.returncode == 2
    assert f"{folder / KEDOYA}: office.latitude:" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_config_of_config_toml_is_unchanged():
    """The control: a one-office file still gets today's summary."""
    done = cli("check-config", str(ROOT / "config.toml"))
    assert done.returncode == 0 and "office: PTSP Kecamatan Kebon Jeruk" in done.stdout


# --- a city the size of Jakarta -----------------------------------------------------------


def test_a_generated_city_of_318_offices_loads(tmp_path):
    folder = generate_city(tmp_path / "jakarta")
    started = time.perf_counter()
    city = load_city(folder)
    took = time.perf_counter() - started
    print(f"\n318 offices loaded in {took * 1000:.0f} ms")
    assert len(city.offices) == 318
    assert city.levels == {"province": 1, "city": 6, "kecamatan": 44, "kelurahan": 267}
    assert len(city.service("ktp").competent) == 44 + 267
    assert len({o.id for o in city.offices}) == 318
    assert took < 10  # generous on a shared machine; the bench records the real figure
    # One bad office among 318 is still named (the refusal scales with the city).
    (folder / "offices" / "kelu-200.toml").write_text(
        office_text("kelu-200", "kelurahan", 1).replace("latitude = -", "latitude = -9")
    )
    assert refused(folder).startswith(f"{folder / 'offices' / 'kelu-200.toml'}: office.latitude")
