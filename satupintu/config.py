"""Load config.toml once into typed, checked objects.

A wrong key, a wrong type, a duplicate prefix, an unknown service in a
counter or a bad time zone raises ConfigError naming the file and the key.
(What only the printing libraries can tell, a kiosk printer's python-escpos
profile and driver package, the printer package checks the same way at
start-up and in check-config: printer/config.py.)
Environment variables SATUPINTU_<SECTION>_<KEY> override scalar keys of the
single-table sections (e.g. SATUPINTU_STORE_BACKEND=redis).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .printer_settings import PrinterConfigError, PrinterSettings, printer_settings

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
PREFIX_RE = re.compile(r"^[A-Z]$")
# A service's numbers: (default, lowest, highest); the API's schemas state the same ranges.
SERVICE_NUMBERS = {
    "target_wait_min": (15, 1, 100_000),
    "service_time_min": (10, 1, 100_000),
    "daily_quota": (0, 0, 100_000),
}
POLICIES = ("fifo", "sla", "weighted")
ASYNC_MODES = ("gevent", "threading", "eventlet")
BACKENDS = ("sqlite", "redis")
LOG_LEVELS = ("debug", "info", "warning", "error")
SECURE_COOKIES = ("auto", "always", "never")


# Texts that may span lines (the printed ticket and the citizen's page keep the breaks).
MULTILINE = frozenset({"office.address", "office.hours", "office.ticket_footer"})
# Characters that reorder or hide text: a service named "\u202eKTP" shows reversed on
# the manager's page, a NUL cuts it short in C code, controls garble the printer.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# What bad_character refuses on one line, as a regular expression for the API's schemas
# (the OpenAPI document states it; \uXXXX reads the same in Python and JSON Schema).
UNSAFE_CHARACTERS = r"\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029"
SAFE_LINE_RE = re.compile(f"^[^{UNSAFE_CHARACTERS}]*$")


def bad_character(text: str, multiline: bool = False) -> str:
    """Why `text` is refused (a control or text-direction character), or "" if it is fine.

    Refused: NUL and every other C0 control (except a newline where lines are
    meant), DEL, the C1 controls, the bidi embeddings, overrides and isolates
    (U+202A-202E, U+2066-2069) and the line and paragraph separators.
    """
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch == "\n" and multiline:
            continue
        if code < 0x20 or 0x7F <= code <= 0x9F or ch in BIDI_CONTROLS or ch in "\u2028\u2029":
            kind = "text-direction" if ch in BIDI_CONTROLS else "control"
            return f"must not contain {kind} characters (found U+{code:04X} at position {i + 1})"
    return ""


class ConfigError(ValueError):
    """The configuration is wrong; the message names the file and the key."""


@dataclass(frozen=True)
class Text:
    """A user-facing text in Indonesian with an optional English version."""

    id: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.id

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "en": self.en}


@dataclass(frozen=True)
class Standard:
    """The six published service-standard items (Permenpan RB 15/2014)."""

    requirements: tuple[str, ...] = ()
    procedure: tuple[str, ...] = ()
    processing_time: str = ""
    fee: str = "Gratis"
    fee_basis: str = ""
    product: str = ""
    complaint: str = ""

    @property
    def is_free(self) -> bool:
        return self.fee.strip().lower() in ("gratis", "free", "rp0", "rp 0", "0")

    def to_dict(self) -> dict[str, Any]:
        return {
            "requirements": list(self.requirements),
            "procedure": list(self.procedure),
            "processing_time": self.processing_time,
            "fee": self.fee,
            "fee_basis": self.fee_basis,
            "free": self.is_free,
            "product": self.product,
            "complaint": self.complaint,
        }


@dataclass(frozen=True)
class Service:
    id: str
    prefix: str
    name: Text
    colour: str = "#455A64"
    target_wait_min: int = 15
    service_time_min: int = 10
    daily_quota: int = 0  # 0 = no quota
    enabled: bool = True
    standard: Standard = field(default_factory=Standard)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prefix": self.prefix,
            "name": self.name.to_dict(),
            "colour": self.colour,
            "target_wait_min": self.target_wait_min,
            "service_time_min": self.service_time_min,
            "daily_quota": self.daily_quota,
            "enabled": self.enabled,
            "standard": self.standard.to_dict(),
        }


@dataclass(frozen=True)
class CounterConfig:
    id: str
    name: str
    services: tuple[tuple[str, int], ...]  # (service id, weight); empty = all


@dataclass(frozen=True)
class KioskConfig:
    id: str
    name: str
    printer: PrinterSettings = field(default_factory=PrinterSettings)


@dataclass(frozen=True)
class Office:
    branch: str = "main"
    name: str = "Kantor Pelayanan"
    address: str = ""
    timezone: str = "Asia/Jakarta"
    language: str = "id"
    hours: str = ""
    running_text: str = ""
    ticket_footer: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class StoreConfig:
    backend: str = "sqlite"
    path: str = "satupintu.db"
    url: str = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class ServerConfig:
    async_mode: str = "gevent"
    threads: int = 200
    max_sockets: int = 10_000  # open websockets per process; more are refused
    max_sockets_per_address: int = 200  # per client address (NAT: an office Wi-Fi is one)
    secret_key: str = ""
    # Proxies whose X-Forwarded-For/-Proto are believed (addresses or networks);
    # gunicorn's own default, so nginx on the same machine works as documented.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    secure_cookies: str = "auto"  # auto: Secure when the request came over HTTPS


@dataclass(frozen=True)
class RoutingConfig:
    policy: str = "fifo"
    max_consecutive_priority: int = 3


@dataclass(frozen=True)
class AuthConfig:
    token_ttl_hours: int = 12
    kiosk_login_days: int = 90  # a kiosk user's page login: survives reboots, then log in again
    issue_per_minute: int = 30
    failed_logins_per_minute: int = 10  # per account, from devices it does not know
    logins_per_address_per_minute: int = 30  # attempts from one client address, any names


@dataclass(frozen=True)
class LogConfig:
    level: str = "info"
    format: str = "text"  # or "json": one JSON object per line
    access: bool = True  # one line per request (route template, status, ms)


@dataclass(frozen=True)
class MetricsConfig:
    enabled: bool = True
    # Who may read /metrics without the token: client addresses (networks), comma-separated.
    # Requests that came through a proxy (X-Forwarded-For) never count as internal.
    allow: str = "127.0.0.0/8, ::1"
    token: str = ""  # if set, /metrics needs Authorization: Bearer <token> (from anywhere)
    dir: str = ""  # multiprocess files of this machine's serve processes; "" = in /dev/shm

    def networks(self) -> list[Any]:
        """The `allow` list as ip_network objects."""
        from ipaddress import ip_network

        return [
            ip_network(part.strip(), strict=False) for part in self.allow.split(",") if part.strip()
        ]


@dataclass(frozen=True)
class Config:
    office: Office
    store: StoreConfig
    server: ServerConfig
    routing: RoutingConfig
    auth: AuthConfig
    services: tuple[Service, ...]
    counters: tuple[CounterConfig, ...]
    kiosks: tuple[KioskConfig, ...]
    path: str = "config.toml"
    log: LogConfig = field(default_factory=LogConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def counter(self, counter_id: str) -> CounterConfig | None:
        return next((c for c in self.counters if c.id == counter_id), None)

    def counter_name(self, counter_id: str) -> str:
        """The counter's name as tickets and calls show it ("" for none or an unknown id)."""
        counter = self.counter(counter_id) if counter_id else None
        return counter.name if counter else ""

    @property
    def service_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.services)


# --- loading -----------------------------------------------------------------

SCALAR_SECTIONS = {
    "office": Office,
    "store": StoreConfig,
    "server": ServerConfig,
    "routing": RoutingConfig,
    "auth": AuthConfig,
    "log": LogConfig,
    "metrics": MetricsConfig,
}
TOP_KEYS = set(SCALAR_SECTIONS) | {"services", "counters", "kiosks"}


class _Checker:
    """Reads tables, naming the file and dotted key in every error."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {message}")

    def table(self, data: Any, key: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "must be a table")
        return data

    def keys(self, data: dict[str, Any], allowed: set[str], key: str) -> None:
        for name in data:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                raise self.fail(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def value(self, data: dict[str, Any], name: str, kind: type, key: str, default: Any) -> Any:
        if name not in data:
            if default is _REQUIRED:
                raise self.fail(f"{key}.{name}", "is required")
            return default
        value = data[name]
        if kind is tuple:  # a list of strings in TOML
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(f"{key}.{name}", f"must be a list of strings, got {value!r}")
            for i, item in enumerate(value):
                self.text(item, f"{key}.{name}[{i}]")
            return tuple(value)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise self.fail(f"{key}.{name}", f"must be {kind.__name__}, got {value!r}")
        if kind is str:
            self.text(value, f"{key}.{name}")
        return value

    def text(self, value: str, key: str) -> str:
        """`value` unless it holds a character that hides or reorders text (see bad_character)."""
        problem = bad_character(value, multiline=key in MULTILINE)
        if problem:
            raise self.fail(key, problem)
        return value


_REQUIRED = object()


def _section(chk: _Checker, raw: dict[str, Any], name: str, cls: type[Any]) -> Any:
    data = chk.table(raw.get(name, {}), name)
    defaults = cls()
    allowed = set(cls.__dataclass_fields__)
    chk.keys(data, allowed, name)
    values = {}
    for fname in allowed:
        default = getattr(defaults, fname)
        value = chk.value(data, fname, type(default), name, default)
        env = os.environ.get(f"SATUPINTU_{name.upper()}_{fname.upper()}")
        if env is not None:
            value = _from_env(chk, env, type(default), f"{name}.{fname}")
        values[fname] = value
    return cls(**values)


def _from_env(chk: _Checker, text: str, kind: type, key: str) -> Any:
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise chk.fail(key, f"environment override must be true or false, got {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise chk.fail(key, f"environment override must be an integer, got {text!r}") from None
    if kind is tuple:  # comma-separated
        return tuple(chk.text(part.strip(), key) for part in text.split(",") if part.strip())
    return chk.text(text, key)


def _text(chk: _Checker, value: Any, key: str) -> Text:
    if isinstance(value, str) and value.strip():
        return Text(chk.text(value, key), "")
    if isinstance(value, dict):
        chk.keys(value, {"id", "en"}, key)
        ind, en = value.get("id"), value.get("en", "")
        if isinstance(ind, str) and ind.strip() and isinstance(en, str):
            return Text(chk.text(ind, f"{key}.id"), chk.text(en, f"{key}.en"))
    raise chk.fail(key, 'must be a non-empty string or { id = "...", en = "..." }')


def _strings(chk: _Checker, data: dict[str, Any], name: str, key: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise chk.fail(f"{key}.{name}", "must be a list of strings")
    for i, item in enumerate(value):
        chk.text(item, f"{key}.{name}[{i}]")
    return tuple(value)


def _standard(chk: _Checker, data: Any, key: str) -> Standard:
    data = chk.table(data, key)
    allowed = set(Standard.__dataclass_fields__)
    chk.keys(data, allowed, key)
    scalars = {
        n: chk.value(data, n, str, key, getattr(Standard(), n))
        for n in ("processing_time", "fee", "fee_basis", "product", "complaint")
    }
    return Standard(
        requirements=_strings(chk, data, "requirements", key),
        procedure=_strings(chk, data, "procedure", key),
        **scalars,
    )


def _service(chk: _Checker, data: Any, key: str) -> Service:
    data = chk.table(data, key)
    chk.keys(data, set(Service.__dataclass_fields__), key)
    sid = chk.value(data, "id", str, key, _REQUIRED)
    if not ID_RE.fullmatch(sid):
        raise chk.fail(f"{key}.id", f"must match {ID_RE.pattern}, got {sid!r}")
    prefix = chk.value(data, "prefix", str, key, _REQUIRED)
    if not PREFIX_RE.fullmatch(prefix):
        raise chk.fail(f"{key}.prefix", f"must be one capital letter A-Z, got {prefix!r}")
    colour = chk.value(data, "colour", str, key, "#455A64")
    if not COLOUR_RE.fullmatch(colour):
        raise chk.fail(f"{key}.colour", f"must be #RRGGBB, got {colour!r}")
    numbers = {}
    for name, (default, low, high) in SERVICE_NUMBERS.items():
        numbers[name] = chk.value(data, name, int, key, default)
        if not low <= numbers[name] <= high:
            raise chk.fail(f"{key}.{name}", f"must be between {low} and {high}")
    return Service(
        id=sid,
        prefix=prefix,
        name=_text(chk, data.get("name"), f"{key}.name"),
        colour=colour,
        enabled=chk.value(data, "enabled", bool, key, True),
        standard=_standard(chk, data.get("standard", {}), f"{key}.standard"),
        **numbers,
    )


def _counter(chk: _Checker, data: Any, key: str, services: dict[str, Service]) -> CounterConfig:
    data = chk.table(data, key)
    chk.keys(data, {"id", "name", "services"}, key)
    cid = chk.value(data, "id", str, key, _REQUIRED)
    if not ID_RE.fullmatch(cid):
        raise chk.fail(f"{key}.id", f"must match {ID_RE.pattern}, got {cid!r}")
    name = chk.value(data, "name", str, key, f"Loket {cid}")
    raw = data.get("services", [])
    if not isinstance(raw, list):
        raise chk.fail(f"{key}.services", "must be a list")
    assignment = []
    for i, item in enumerate(raw):
        where = f"{key}.services[{i}]"
        if isinstance(item, str):
            item = {"id": item}
        item = chk.table(item, where)
        chk.keys(item, {"id", "weight"}, where)
        sid = chk.value(item, "id", str, where, _REQUIRED)
        if sid not in services:
            raise chk.fail(f"{where}.id", f"unknown service {sid!r}")
        weight = chk.value(item, "weight", int, where, 1)
        if not 1 <= weight <= 100:
            raise chk.fail(f"{where}.weight", "must be between 1 and 100")
        assignment.append((sid, weight))
    return CounterConfig(cid, name, tuple(assignment))


def _kiosk(chk: _Checker, data: Any, key: str) -> KioskConfig:
    data = chk.table(data, key)
    chk.keys(data, {"id", "name", "printer"}, key)
    kid = chk.value(data, "id", str, key, _REQUIRED)
    printer = chk.table(data.get("printer", {"type": "none"}), f"{key}.printer")
    ptype = chk.value(printer, "type", str, f"{key}.printer", "none")
    options = {k: v for k, v in printer.items() if k != "type"}
    try:
        settings = printer_settings(ptype, options)
    except PrinterConfigError as exc:
        raise chk.fail(f"{key}.printer.{exc.key}", exc.message) from None
    return KioskConfig(kid, chk.value(data, "name", str, key, kid), settings)


def _unique(chk: _Checker, items: list[Any], attr: str, section: str) -> None:
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if value in seen:
            also = f"{section}[{seen[value]}]"
            raise chk.fail(f"{section}[{i}].{attr}", f"duplicate {attr} {value!r} (also {also})")
        seen[value] = i


def parse_config(raw: dict[str, Any], path: str = "config.toml") -> Config:
    """Check a parsed TOML document and build the Config."""
    chk = _Checker(path)
    chk.keys(raw, TOP_KEYS, "")
    sections = {name: _section(chk, raw, name, cls) for name, cls in SCALAR_SECTIONS.items()}
    office: Office = sections["office"]
    try:
        ZoneInfo(office.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise chk.fail("office.timezone", f"unknown time zone {office.timezone!r}") from None
    if not ID_RE.fullmatch(office.branch):
        raise chk.fail("office.branch", f"must match {ID_RE.pattern}")
    if office.language not in ("id", "en"):
        raise chk.fail("office.language", "must be 'id' or 'en'")
    _check_choice(chk, sections["store"].backend, BACKENDS, "store.backend")
    _check_choice(chk, sections["server"].async_mode, ASYNC_MODES, "server.async_mode")
    _check_choice(chk, sections["routing"].policy, POLICIES, "routing.policy")
    if not 1 <= sections["routing"].max_consecutive_priority <= 100:
        raise chk.fail("routing.max_consecutive_priority", "must be between 1 and 100")
    _check_choice(chk, sections["log"].level, LOG_LEVELS, "log.level")
    _check_choice(chk, sections["log"].format, ("text", "json"), "log.format")
    try:
        sections["metrics"].networks()
    except ValueError as exc:
        raise chk.fail(
            "metrics.allow", f"must be comma-separated addresses or networks: {exc}"
        ) from None
    if not 1 <= sections["server"].threads <= 10_000:
        raise chk.fail("server.threads", "must be between 1 and 10000")
    if not 1 <= sections["server"].max_sockets <= 100_000:
        raise chk.fail("server.max_sockets", "must be between 1 and 100000")
    if not 1 <= sections["server"].max_sockets_per_address <= 100_000:
        raise chk.fail("server.max_sockets_per_address", "must be between 1 and 100000")
    _check_choice(chk, sections["server"].secure_cookies, SECURE_COOKIES, "server.secure_cookies")
    for i, proxy in enumerate(sections["server"].trusted_proxies):
        try:
            ip_network(proxy, strict=False)
        except ValueError:
            raise chk.fail(
                f"server.trusted_proxies[{i}]", f"not an IP address or network: {proxy!r}"
            ) from None
    auth = sections["auth"]
    for name in (
        "token_ttl_hours",
        "issue_per_minute",
        "failed_logins_per_minute",
        "logins_per_address_per_minute",
    ):
        if not 1 <= getattr(auth, name) <= 100_000:
            raise chk.fail(f"auth.{name}", "must be between 1 and 100000")
    if not 1 <= auth.kiosk_login_days <= 3650:
        raise chk.fail("auth.kiosk_login_days", "must be between 1 and 3650")

    raw_services = raw.get("services", [])
    if not isinstance(raw_services, list) or not raw_services:
        raise chk.fail("services", "at least one [[services]] table is required")
    services = [_service(chk, s, f"services[{i}]") for i, s in enumerate(raw_services)]
    _unique(chk, services, "id", "services")
    _unique(chk, services, "prefix", "services")
    by_id = {s.id: s for s in services}

    raw_counters = raw.get("counters", [])
    if not isinstance(raw_counters, list) or not raw_counters:
        raise chk.fail("counters", "at least one [[counters]] table is required")
    counters = [_counter(chk, c, f"counters[{i}]", by_id) for i, c in enumerate(raw_counters)]
    _unique(chk, counters, "id", "counters")

    raw_kiosks = raw.get("kiosks", [])
    if not isinstance(raw_kiosks, list):
        raise chk.fail("kiosks", "must be an array of tables [[kiosks]]")
    kiosks = [_kiosk(chk, k, f"kiosks[{i}]") for i, k in enumerate(raw_kiosks)]
    _unique(chk, kiosks, "id", "kiosks")
    return Config(
        services=tuple(services),
        counters=tuple(counters),
        kiosks=tuple(kiosks),
        path=path,
        **sections,
    )


def _check_choice(chk: _Checker, value: str, choices: tuple[str, ...], key: str) -> None:
    if value not in choices:
        raise chk.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")


def load_config(path: str | os.PathLike[str] = "config.toml") -> Config:
    """Read and check a config file."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{p}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return parse_config(raw, str(p))
