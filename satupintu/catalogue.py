"""The service catalogue: config.toml's services with the managers' edits.

config.toml is the base. What managers change on their page is kept in the
store (`Store.catalogue_edits`) as overrides by service id: for a config.toml
service only the fields that differ from it, for a service added on the page
the whole entry. Every server process reads them (cached at most
CACHE_SECONDS, dropped at once on this process's own writes), so an edit
applies to the next ticket everywhere and survives restarts; resetting a
service removes its override. Edits are checked with the rules config.toml
is checked with (`config._service`), the error naming the field:
"services.ktp.prefix: duplicate prefix 'B' (also services.kk)".

A stored edit that no longer fits (config.toml changed under it, e.g. took
its prefix) is ignored with a warning in the log; the service is then served
as config.toml says.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import events as ev
from .config import Config, ConfigError, Service, _Checker, _service
from .errors import BadRequest, CatalogueChanged, Duplicate, NoConfigVersion, NoSuchService
from .operation import attempt
from .store.base import Store

log = logging.getLogger(__name__)

CACHE_SECONDS = 1.0
NESTED = ("name", "standard")  # tables merged key by key
Overrides = dict[str, dict[str, Any]]


class CatalogueError(ConfigError):
    """A catalogue entry breaks a config rule; `key` is the dotted key to blame."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.text = message


class Clash(CatalogueError):
    """The entry is fine alone but takes an id or prefix another service has."""


class _EditChecker(_Checker):
    """config.toml's checker, failing with the key instead of a file name."""

    def __init__(self) -> None:
        super().__init__("catalogue")

    def fail(self, key: str, message: str) -> ConfigError:
        return CatalogueError(key, message)


@dataclass(frozen=True)
class Listing:
    """The catalogue at one version: services in order, and where each comes from."""

    version: int
    services: tuple[Service, ...]
    sources: dict[str, str]  # service id -> "config", "edited" or "added"
    problems: tuple[str, ...] = ()  # stored edits ignored because they break a rule

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)


@dataclass(frozen=True)
class Edited:
    """What a catalogue edit did: the service after it, the new version, its events."""

    service: Service
    version: int
    events: list[ev.Event] = field(default_factory=list)


# -- records ------------------------------------------------------------------


def service_record(s: Service) -> dict[str, Any]:
    """A service in config.toml's shape (overrides are merged into it)."""
    record = s.to_dict()
    record["standard"] = {k: v for k, v in record["standard"].items() if k != "free"}
    return record


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`base` with `override`'s fields on top (name and standard key by key)."""
    out = dict(base)
    for key, value in override.items():
        if key in NESTED and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def difference(base: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The fields of `record` that differ from `base` (name and standard key by key)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        old = base.get(key)
        if key in NESTED and isinstance(value, dict) and isinstance(old, dict):
            changed = {k: v for k, v in value.items() if old.get(k) != v}
            if changed:
                out[key] = changed
        elif key == "colour" and str(value).lower() == str(old).lower():
            continue  # a colour picker writes #1565c0 for config's #1565C0
        elif value != old:
            out[key] = value
    return out


def check(record: Any, service_id: str) -> Service:
    """The Service a catalogue entry describes, by config.toml's rules."""
    return _service(_EditChecker(), record, f"services.{service_id}")


def _refusal(exc: CatalogueError, service_id: str) -> BadRequest | Duplicate:
    """A rule broken by an edit of `service_id` naming the field of its body: 400, or 409
    when it clashes with another service."""
    field_name = exc.key.removeprefix(f"services.{service_id}").lstrip(".") or "service"
    if isinstance(exc, Clash):
        return Duplicate(str(exc), field=field_name)
    return BadRequest(str(exc), field=field_name)


# -- building the catalogue ---------------------------------------------------


def build(
    base: tuple[Service, ...], overrides: Overrides, strict: str | None = None
) -> tuple[dict[str, Service], dict[str, str], list[str]]:
    """Apply `overrides` to the config.toml services: (services, sources, problems).

    An override that breaks a rule is left out and reported in `problems`,
    except the one of service `strict` (the one being edited), which raises
    BadRequest naming the field.
    """
    by_id = {s.id: s for s in base}
    services = dict(by_id)
    sources = dict.fromkeys(services, "config")
    records = {s.id: service_record(s) for s in base}
    problems: list[str] = []

    def drop(exc: CatalogueError, service_id: str) -> None:
        if service_id == strict:
            raise _refusal(exc, service_id) from None
        problems.append(str(exc))
        if service_id in by_id:
            services[service_id], sources[service_id] = by_id[service_id], "config"
        else:
            services.pop(service_id, None)
            sources.pop(service_id, None)

    for service_id, override in overrides.items():
        try:
            if not isinstance(override, dict):
                raise CatalogueError(f"services.{service_id}", "must be a table")
            if service_id in records:
                services[service_id] = check(merged(records[service_id], override), service_id)
                sources[service_id] = "edited"
            else:
                if override.get("id") != service_id:
                    raise CatalogueError(f"services.{service_id}.id", "must be the entry's id")
                services[service_id] = check(override, service_id)
                sources[service_id] = "added"
        except CatalogueError as exc:
            drop(exc, service_id)

    # One prefix per service. On a clash the edit gives way (the one being
    # edited is refused; of two stored ones, the later edit is ignored).
    while clash := _prefix_clash(list(services.values())):
        first, second = clash
        if strict in (first.id, second.id):
            loser, other = (first, second) if first.id == strict else (second, first)
        else:
            loser, other = (second, first) if sources[second.id] != "config" else (first, second)
        drop(
            Clash(
                f"services.{loser.id}.prefix",
                f"duplicate prefix {loser.prefix!r} (also services.{other.id})",
            ),
            loser.id,
        )
    return services, sources, problems


def _prefix_clash(services: list[Service]) -> tuple[Service, Service] | None:
    seen: dict[str, Service] = {}
    for s in services:
        if s.prefix in seen:
            return seen[s.prefix], s
        seen[s.prefix] = s
    return None


# -- edits: each returns the new overrides, or raises naming the field ----------


def edited(
    base: tuple[Service, ...], overrides: Overrides, service_id: str, fields: dict[str, Any]
) -> Overrides:
    """The overrides after changing some fields of one service."""
    if "id" in fields and fields["id"] != service_id:
        raise BadRequest("a service's id cannot change (tickets refer to it)", field="id")
    records = {s.id: service_record(s) for s in base}
    if service_id in records:
        record = merged(merged(records[service_id], overrides.get(service_id) or {}), fields)
    elif isinstance(overrides.get(service_id), dict):
        record = merged(overrides[service_id], fields)
    else:
        raise NoSuchService(f"unknown service {service_id!r}", field="service")
    try:
        service = check(record, service_id)
    except CatalogueError as exc:
        raise _refusal(exc, service_id) from None
    new = dict(overrides)
    if service_id in records:
        change = difference(records[service_id], service_record(service))
        if change:
            new[service_id] = change
        else:
            new.pop(service_id, None)  # back to what config.toml says
    else:
        new[service_id] = service_record(service)
    build(base, new, strict=service_id)
    return new


def added(base: tuple[Service, ...], overrides: Overrides, fields: dict[str, Any]) -> Overrides:
    """The overrides with a new service (on no counter until a manager assigns it)."""
    service_id = fields.get("id")
    if not isinstance(service_id, str) or not service_id:
        raise BadRequest("id is required (a string)", field="id")
    if service_id in {s.id for s in base} or service_id in overrides:
        raise Duplicate(f"services.{service_id}.id: duplicate id {service_id!r}", field="id")
    try:
        service = check(fields, service_id)
    except CatalogueError as exc:
        raise _refusal(exc, service_id) from None
    new = {**overrides, service_id: service_record(service)}
    build(base, new, strict=service_id)
    return new


def reset(base: tuple[Service, ...], overrides: Overrides, service_id: str) -> Overrides:
    """The overrides without one config.toml service's edits."""
    if service_id not in {s.id for s in base}:
        if service_id in overrides:
            raise NoConfigVersion(
                f"{service_id} was added on the manager page and has no config.toml version; "
                "disable it instead",
                field="service",
            )
        raise NoSuchService(f"unknown service {service_id!r}", field="service")
    new = {k: v for k, v in overrides.items() if k != service_id}
    build(base, new, strict=service_id)  # config's prefix may be taken by an edit meanwhile
    return new


# -- the catalogue of one branch ----------------------------------------------------


class Catalogue:
    """The branch's services as this process sees them (re-read at most every second),
    and the managers' edits of them."""

    def __init__(self, config: Config, store: Store, events: ev.EventBuilder):
        self.base = config.services
        self.store = store
        self.branch = config.office.branch
        self.events = events
        self._cached: tuple[float, Listing] | None = None
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    def current(self) -> Listing:
        """The catalogue, at most CACHE_SECONDS old (or fresh after this process's edit)."""
        cached = self._cached
        now = time.monotonic()  # before the read: the listing is at least this fresh
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        version, overrides = self.store.catalogue_edits(self.branch)
        if cached is not None and cached[1].version == version:
            listing = cached[1]
        else:
            services, sources, problems = build(self.base, overrides)
            listing = Listing(version, tuple(services.values()), sources, tuple(problems))
            self._warn(problems)
        self._cached = (now, listing)
        return listing

    def invalidate(self) -> None:
        """Forget the cached listing (after a write)."""
        self._cached = None

    # -- the managers' edits (each one version-guarded write, see operation.py) ---------

    def update(self, service_id: str, fields: dict[str, Any], version: int | None = None) -> Edited:
        """Change some fields of a service (a manager's edit); the next ticket uses them."""
        return self._edit(service_id, version, lambda o: edited(self.base, o, service_id, fields))

    def add(self, fields: dict[str, Any], version: int | None = None) -> Edited:
        """Add a service; it is on no counter until a manager assigns it."""
        return self._edit(str(fields.get("id", "")), version, lambda o: added(self.base, o, fields))

    def reset(self, service_id: str, version: int | None = None) -> Edited:
        """Drop the managers' edits of a service: back to what config.toml says."""
        return self._edit(service_id, version, lambda o: reset(self.base, o, service_id))

    def _edit(
        self, service_id: str, version: int | None, change: Callable[[Overrides], Overrides]
    ) -> Edited:
        new_version, seqs = attempt(self.store, lambda: self._write(change, version))
        service = self.current().service(service_id)
        if service is None:
            raise NoSuchService(f"unknown service {service_id!r}", field="service")
        events = [self.events.catalogue(seq, service_id, new_version) for seq in seqs]
        return Edited(service, new_version, events)

    def _write(
        self, change: Callable[[Overrides], Overrides], version: int | None
    ) -> tuple[int, list[int]]:
        """Apply `change` to the stored overrides: (new version, seqs); no-op if unchanged.

        One attempt. `version`: the version the editor saw, CatalogueChanged
        if it moved since.
        """
        current, overrides = self.store.catalogue_edits(self.branch)
        if version is not None and version != current:
            raise CatalogueChanged(
                "the service catalogue was changed by someone else meanwhile; reload it and "
                "edit again",
                version=current,
            )
        new = change(overrides)
        if new == overrides:
            return current, []
        seqs = self.store.put_catalogue_edits(self.branch, new, current, seq_count=1)
        self.invalidate()
        return current + 1, seqs

    def _warn(self, problems: list[str]) -> None:
        with self._lock:
            fresh = [p for p in problems if p not in self._warned]
            self._warned.update(fresh)
        for problem in fresh:
            log.warning("ignoring a manager's edit of the service catalogue: %s", problem)
