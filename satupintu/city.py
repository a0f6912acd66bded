"""Load a city of offices (a city file plus one file per office) into checked objects.

Layout (see docs/decisions.md "A city of offices"):

    city/city.toml            [city] name, timezone, offices folder; [[services]] with
                              `competent` (office ids or "level:<level>")
    city/offices/<id>.toml    [office] id, name, level, address, latitude, longitude,
                              timezone, email, offers, takes_in; [hours]; [[counters]];
                              [[kiosks]]

A one-office config.toml is a city of one office (its branch), so `load_city`
reads either. Every error is a ConfigError naming the file and the dotted key.
The running app still uses config.Config for its default office.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import (
    _REQUIRED,
    ID_RE,
    Config,
    ConfigError,
    CounterConfig,
    KioskConfig,
    Service,
    _Checker,
    _counter,
    _kiosk,
    _service,
    _unique,
    parse_config,
)

LEVELS = ("province", "city", "kecamatan", "kelurahan")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LEVEL_SELECTOR = "level:"
HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CITY_FILE = "city.toml"

# Opening hours of one weekday: (opens, closes) in minutes after midnight, ascending.
DayHours = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class CityService:
    """A catalogue service and the offices competent to decide it."""

    service: Service
    competent: tuple[str, ...]  # office ids, resolved from ids and level selectors

    @property
    def id(self) -> str:
        return self.service.id


@dataclass(frozen=True)
class CityOffice:
    """One office of the city, as its own file states it.

    A counter with no services listed takes every service the office offers or
    takes in (not the whole catalogue).
    """

    id: str
    name: str
    level: str  # one of LEVELS; "" for a one-office config.toml (not stated)
    address: str
    latitude: float | None
    longitude: float | None
    timezone: str
    offers: tuple[str, ...]  # services it decides itself
    takes_in: tuple[str, ...]  # services it takes in for a competent office elsewhere
    counters: tuple[CounterConfig, ...]
    kiosks: tuple[KioskConfig, ...]
    hours: tuple[DayHours, ...] | None  # Monday first; None = not stated (free text only)
    hours_text: str = ""
    email: str = ""  # where cases go while the office is not on the system
    path: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def serves(self, service_id: str) -> str:
        """'offered', 'taken_in' or '' for a service at this office."""
        if service_id in self.offers:
            return "offered"
        return "taken_in" if service_id in self.takes_in else ""

    def open_at(self, when: datetime) -> bool | None:
        """Whether the office is open at `when` (aware); None if its hours are not stated."""
        if self.hours is None:
            return None
        local = when.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.hours[local.weekday()])


@dataclass(frozen=True)
class City:
    """A city: its catalogue of services and its offices."""

    name: str
    timezone: str
    services: tuple[CityService, ...]
    offices: tuple[CityOffice, ...]
    path: str

    def office(self, office_id: str) -> CityOffice | None:
        return next((o for o in self.offices if o.id == office_id), None)

    def service(self, service_id: str) -> CityService | None:
        return next((s for s in self.services if s.id == service_id), None)

    @property
    def levels(self) -> dict[str, int]:
        """How many offices of each level (in LEVELS order, stated levels only)."""
        return {lv: n for lv in LEVELS if (n := sum(o.level == lv for o in self.offices))}


def office_config(base: Config, city: City, office_id: str) -> Config:
    """The one-office Config of `office_id` (what the engine runs), the rest from `base`.

    Its services are those the office offers or takes in, in catalogue order;
    store, server, routing, auth, log and metrics come from `base`.
    """
    office = city.office(office_id)
    if office is None:
        raise KeyError(office_id)
    head = replace(
        base.office,
        branch=office.id,
        name=office.name,
        address=office.address,
        timezone=office.timezone,
        hours=office.hours_text or base.office.hours,
    )
    services = tuple(s.service for s in city.services if office.serves(s.id))
    return replace(
        base,
        office=head,
        services=services,
        counters=office.counters,
        kiosks=office.kiosks,
        path=office.path,
    )


# --- loading -----------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, expected a file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def is_city(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a city (a folder with city.toml, or a file with a [city] table)."""
    p = Path(path)
    if p.is_dir():
        return True
    try:
        return "city" in _read(p)
    except ConfigError:
        return False


def load_city(path: str | os.PathLike[str]) -> City:
    """Read and check a city folder, a city file, or a one-office config.toml."""
    p = Path(path)
    if p.is_dir():
        p = p / CITY_FILE
    raw = _read(p)
    if "city" not in raw:
        return city_of_one(parse_config(raw, str(p)))
    return _parse_city(raw, p)


def city_of_one(config: Config) -> City:
    """A one-office config.toml as a city: one office (its branch) deciding every service."""
    office = config.office
    only = CityOffice(
        id=office.branch,
        name=office.name,
        level="",
        address=office.address,
        latitude=None,
        longitude=None,
        timezone=office.timezone,
        offers=config.service_ids,
        takes_in=(),
        counters=config.counters,
        kiosks=config.kiosks,
        hours=None,
        hours_text=office.hours,
        path=config.path,
    )
    services = tuple(CityService(s, (office.branch,)) for s in config.services)
    return City(office.name, office.timezone, services, (only,), config.path)


def _timezone(chk: _Checker, value: str, key: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise chk.fail(key, f"unknown time zone {value!r}") from None
    return value


def _parse_city(raw: dict[str, Any], path: Path) -> City:
    chk = _Checker(str(path))
    chk.keys(raw, {"city", "services"}, "")
    head = chk.table(raw["city"], "city")
    chk.keys(head, {"name", "timezone", "offices"}, "city")
    name = chk.value(head, "name", str, "city", _REQUIRED)
    timezone = _timezone(
        chk, chk.value(head, "timezone", str, "city", "Asia/Jakarta"), "city.timezone"
    )
    folder = path.parent / chk.value(head, "offices", str, "city", "offices")
    if not folder.is_dir():
        raise chk.fail("city.offices", f"no such folder {str(folder)!r}")

    raw_services = raw.get("services", [])
    if not isinstance(raw_services, list) or not raw_services:
        raise chk.fail("services", "at least one [[services]] table is required")
    catalogue: list[tuple[Service, list[str]]] = []
    for i, item in enumerate(raw_services):
        key = f"services[{i}]"
        item = dict(chk.table(item, key))
        if "competent" not in item:
            raise chk.fail(f"{key}.competent", 'is required (office ids or "level:<level>")')
        names = list(chk.value(item, "competent", tuple, key, ()))
        del item["competent"]  # ours; the rest of the table is a config.Service
        catalogue.append((_service(chk, item, key), names))
    services = [s for s, _ in catalogue]
    _unique(chk, services, "id", "services")
    _unique(chk, services, "prefix", "services")
    by_id = {s.id: s for s in services}

    files = sorted(folder.glob("*.toml"))
    if not files:
        raise chk.fail("city.offices", f"no office files (*.toml) in {str(folder)!r}")
    offices = [_office(f, by_id, timezone) for f in files]
    seen: dict[str, CityOffice] = {}
    for office in offices:
        if office.id in seen:
            raise ConfigError(
                f"{office.path}: office.id: duplicate office id {office.id!r} "
                f"(also {seen[office.id].path})"
            )
        seen[office.id] = office

    city_services = []
    for i, (service, names) in enumerate(catalogue):
        key = f"services[{i}].competent"
        competent: list[str] = []
        for j, entry in enumerate(names):
            if entry.startswith(LEVEL_SELECTOR):
                level = entry[len(LEVEL_SELECTOR) :]
                if level not in LEVELS:
                    raise chk.fail(
                        f"{key}[{j}]", f"unknown level {level!r} (known: {', '.join(LEVELS)})"
                    )
                chosen = [o.id for o in offices if o.level == level]
            elif entry in seen:
                chosen = [entry]
            else:
                raise chk.fail(f"{key}[{j}]", f"unknown office {entry!r}")
            competent += [o for o in chosen if o not in competent]  # order kept, once each
        offering = [o.id for o in offices if service.id in o.offers]
        offering_set, competent_set = set(offering), set(competent)
        if not offering:
            raise chk.fail(
                f"services[{i}].id",
                f"service {service.id!r} is offered by no "
                "office (no office file lists it under offers)",
            )
        # Deciding and offering are one fact stated twice (city file and office file):
        # they must agree, or a case would travel to an office that will not decide it.
        for office_id in competent:
            if office_id not in offering_set:
                raise chk.fail(
                    key,
                    f"office {office_id!r} ({seen[office_id].path}) is "
                    f"competent for {service.id!r} but its office.offers does not "
                    "list it",
                )
        for office_id in offering:
            if office_id not in competent_set:
                office = seen[office_id]
                raise ConfigError(
                    f"{office.path}: office.offers[{office.offers.index(service.id)}]: "
                    f"offers {service.id!r} but is not competent for it in {path} {key} "
                    "(list it under takes_in instead)"
                )
        city_services.append(CityService(service, tuple(competent)))
    return City(name, timezone, tuple(city_services), tuple(offices), str(path))


OFFICE_KEYS = {
    "id",
    "name",
    "level",
    "address",
    "latitude",
    "longitude",
    "timezone",
    "email",
    "offers",
    "takes_in",
    "hours_text",
}


def _office(path: Path, services: dict[str, Service], city_tz: str) -> CityOffice:
    """One office file, checked against the city's catalogue."""
    raw = _read(path)
    chk = _Checker(str(path))
    chk.keys(raw, {"office", "hours", "counters", "kiosks"}, "")
    if "office" not in raw:
        raise chk.fail("office", "an [office] table is required")
    data = chk.table(raw["office"], "office")
    chk.keys(data, OFFICE_KEYS, "office")
    oid = chk.value(data, "id", str, "office", _REQUIRED)
    if not ID_RE.fullmatch(oid):
        raise chk.fail("office.id", f"must match {ID_RE.pattern}, got {oid!r}")
    level = chk.value(data, "level", str, "office", _REQUIRED)
    if level not in LEVELS:
        raise chk.fail("office.level", f"must be one of {', '.join(LEVELS)}, got {level!r}")
    lat = _coordinate(chk, data, "latitude", 90.0)
    lon = _coordinate(chk, data, "longitude", 180.0)
    email = chk.value(data, "email", str, "office", "")
    if email and not EMAIL_RE.fullmatch(email):
        raise chk.fail("office.email", f"not an e-mail address: {email!r}")
    lists = {}
    for name in ("offers", "takes_in"):
        lists[name] = chk.value(data, name, tuple, "office", ())
        for i, sid in enumerate(lists[name]):
            if sid not in services:
                raise chk.fail(
                    f"office.{name}[{i}]",
                    f"unknown service {sid!r} (not in the city's [[services]])",
                )
            if lists[name].index(sid) != i:
                raise chk.fail(f"office.{name}[{i}]", f"{sid!r} is listed twice")
    for i, sid in enumerate(lists["takes_in"]):
        if sid in lists["offers"]:
            raise chk.fail(
                f"office.takes_in[{i}]",
                f"{sid!r} is already in office.offers "
                "(an office decides a service or takes it in, not both)",
            )
    # A counter calls the office's own services and those it takes in (the citizen queues
    # for both); anything else would be a queue nobody is allowed to serve.
    served = {sid: services[sid] for sid in (*lists["offers"], *lists["takes_in"])}
    if not served:
        raise chk.fail("office.offers", "the office neither offers nor takes in any service")
    raw_counters = raw.get("counters", [])
    if not isinstance(raw_counters, list) or not raw_counters:
        raise chk.fail("counters", "at least one [[counters]] table is required")
    counters = [_counter(chk, c, f"counters[{i}]", services) for i, c in enumerate(raw_counters)]
    for i, counter in enumerate(counters):
        for j, (sid, _) in enumerate(counter.services):
            if sid not in served:
                raise chk.fail(
                    f"counters[{i}].services[{j}].id",
                    f"counter takes {sid!r}, which this office neither offers nor "
                    "takes in (office.offers / office.takes_in)",
                )
    _unique(chk, counters, "id", "counters")
    raw_kiosks = raw.get("kiosks", [])
    if not isinstance(raw_kiosks, list):
        raise chk.fail("kiosks", "must be an array of tables [[kiosks]]")
    kiosks = [_kiosk(chk, k, f"kiosks[{i}]") for i, k in enumerate(raw_kiosks)]
    _unique(chk, kiosks, "id", "kiosks")
    return CityOffice(
        id=oid,
        name=chk.value(data, "name", str, "office", _REQUIRED),
        level=level,
        address=chk.value(data, "address", str, "office", ""),
        latitude=lat,
        longitude=lon,
        timezone=_timezone(
            chk, chk.value(data, "timezone", str, "office", city_tz), "office.timezone"
        ),
        offers=lists["offers"],
        takes_in=lists["takes_in"],
        counters=tuple(counters),
        kiosks=tuple(kiosks),
        hours=_hours(chk, raw["hours"]) if "hours" in raw else None,
        hours_text=chk.value(data, "hours_text", str, "office", ""),
        email=email,
        path=str(path),
    )


def _coordinate(chk: _Checker, data: dict[str, Any], name: str, limit: float) -> float:
    key = f"office.{name}"
    if name not in data:
        raise chk.fail(key, "is required (decimal degrees)")
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise chk.fail(key, f"must be a number (decimal degrees), got {value!r}")
    if not -limit <= value <= limit or value != value:
        raise chk.fail(key, f"must be between {-limit:g} and {limit:g}, got {value!r}")
    return float(value)


def _hours(chk: _Checker, data: Any) -> tuple[DayHours, ...]:
    """[hours] mon..sun = "07:30-16:00" or ["07:30-12:00", "13:00-16:00"]; a missing day is closed.

    A file without [hours] states none (open_at answers None): never "closed all week".
    """
    data = chk.table(data, "hours")
    chk.keys(data, set(WEEKDAYS), "hours")
    week = []
    for day in WEEKDAYS:
        value = data.get(day, [])
        spans = [value] if isinstance(value, str) else value
        if not isinstance(spans, list) or not all(isinstance(s, str) for s in spans):
            raise chk.fail(f"hours.{day}", 'must be "HH:MM-HH:MM" or a list of them')
        parsed: list[tuple[int, int]] = []
        for span in spans:
            if span == "":
                continue  # "" = closed that day
            match = HOURS_RE.fullmatch(span)
            if not match:
                raise chk.fail(f"hours.{day}", f'must be "HH:MM-HH:MM", got {span!r}')
            h1, m1, h2, m2 = map(int, match.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if end > 24 * 60:
                raise chk.fail(f"hours.{day}", f"{span!r} must close by 24:00")
            if start >= end:
                raise chk.fail(f"hours.{day}", f"{span!r} closes before it opens")
            if parsed and start < parsed[-1][1]:
                raise chk.fail(
                    f"hours.{day}",
                    f"{span!r} overlaps or precedes the span before it (list spans in order)",
                )
            parsed.append((start, end))
        week.append(tuple(parsed))
    return tuple(week)
